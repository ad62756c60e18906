"""Running searches: the table filter, ranked search of one table, and highlighting. Plain
functions over a sqlite3 connection, so the plugin runs them in Datasette's SQL threads and the
tests and bench run them directly."""

from __future__ import annotations

import functools
import json
import sqlite3
from html import escape

from .index import TableIndex, quote
from .labels import Shape, label_shape, row_labels
from .normalize import normalize, normalize_with_offsets
from .tokens import (
    _CLASSES,
    CJK,
    WORD,
    Phrase,
    index_tokens,
    match_expression,
    match_phrases,
    phrase_expression,
    phrase_found,
    query_segments,
)

PARAM = "_gongkai_search"


ROWID_LIST_MAX = 1000  # up to this many matches, a table page filters by the rowids themselves


def filter_clause(index: str, param: str = PARAM) -> str:
    """A WHERE clause keeping the rows of the indexed table that match `:param`."""
    return f"rowid in (select rowid from {quote(index)} where {quote(index)} match :{param})"


def rowid_list_clause(param: str = PARAM) -> str:
    """A WHERE clause keeping the rows whose rowids are in the JSON array `:param`."""
    return f"rowid in (select value from json_each(:{param}))"


CANDIDATES_MAX = 1000  # rows checked in Python at most (~3 us each), else FTS5 does it all


def few_matches(
    conn: sqlite3.Connection, tindex: TableIndex, query: str, limit: int = ROWID_LIST_MAX
) -> list[int] | None:
    """The rowids matching the query, in rowid order, when there are at most `limit` of
    them, else None.

    A table page runs its WHERE clause twice (the count and the rows): with a handful of
    matches, evaluating the full-text query once and filtering by the rowids halves the cost;
    with many, the index subquery is cheaper than a long list, and the probe stops at limit+1.
    """
    phrases = match_phrases(query)
    if not phrases:
        return []
    narrowed = _narrowed(conn, tindex, phrases)
    if narrowed is not None:
        return narrowed if len(narrowed) <= limit else None
    expression = " AND ".join(phrase_expression(p) for p in phrases)
    idx = quote(tindex.index)
    rows = conn.execute(f"select rowid from {idx} where {idx} match ? limit ?", [expression, limit + 1]).fetchall()
    return None if len(rows) > limit else [r[0] for r in rows]


def _narrowed(conn: sqlite3.Connection, tindex: TableIndex, phrases: list[Phrase]) -> list[int] | None:
    """The matching rowids, found from the rarest token of each phrase and checked against the
    rows' own tokens; None when that is no cheaper than FTS5 evaluating the whole query.

    FTS5 evaluates an AND of phrases by stepping every token of every phrase together: for
    terms like 市生态环境局 that each match a tenth of the rows, that is thousands of steps of
    five iterators each even when a hundred rows match. One token per phrase finds the same
    candidates in a fraction of the steps; the phrases are then checked on the candidates'
    tokens (`tokens.index_tokens`, the very function that wrote the index), exactly as FTS5
    would find them: consecutive tokens in one column, the last a prefix if marked.
    """
    if tindex.terms is None or all(len(p) == 1 for p in phrases):
        return None
    exact = sorted({t for p in phrases for t, prefix in p if not prefix})
    docs = dict(
        conn.execute(
            f"select term, docs from {quote(tindex.terms)} where term in (select value from json_each(?))",
            [json.dumps(exact, ensure_ascii=False)],
        ).fetchall()
    )
    if len(docs) < len(exact):  # a token no row holds: its phrase, and so the query, finds nothing
        return []
    leads = []
    for phrase in phrases:
        exact_tokens = [t for t, prefix in phrase if not prefix]
        lead = (
            phrase_expression([(min(exact_tokens, key=docs.__getitem__), False)])
            if exact_tokens
            else phrase_expression(phrase)
        )
        if lead not in leads:
            leads.append(lead)
    idx = quote(tindex.index)
    candidates = conn.execute(
        f"select rowid from {idx} where {idx} match ? limit ?", [" AND ".join(leads), CANDIDATES_MAX + 1]
    ).fetchall()
    if len(candidates) > CANDIDATES_MAX:
        return None
    if not candidates:
        return []
    columns = ", ".join(quote(c) for c in tindex.columns)
    rows = conn.execute(
        f"select rowid, {columns} from {quote(tindex.table)} where rowid in (select value from json_each(?))",
        [json.dumps([r[0] for r in candidates])],
    ).fetchall()
    # every token of a phrase (two adjacent characters, one character, a word or the start of
    # one) is a substring of the normalised text of a cell the phrase occurs in: a test in C
    # that turns most candidates away before they are tokenised
    pieces = [[t for t, _ in p] for p in phrases]
    found = []
    for rowid, *cells in rows:
        cells = [cell for cell in cells if cell is not None and cell != ""]
        texts = [normalize(str(cell)) for cell in cells]
        if not all(any(all(piece in text for piece in ps) for text in texts) for ps in pieces):
            continue
        token_lists = [index_tokens(cell).split(" ") for cell in cells]
        if all(any(phrase_found(p, tokens) for tokens in token_lists) for p in phrases):
            found.append(rowid)
    found.sort()
    return found


def matching_rowids(conn: sqlite3.Connection, index: str, expression: str) -> set[int]:
    sql = f"select rowid from {quote(index)} where {quote(index)} match ?"
    return {r[0] for r in conn.execute(sql, [expression])}


def count(conn: sqlite3.Connection, index: str, expression: str) -> int:
    return conn.execute(f"select count(*) from {quote(index)} where {quote(index)} match ?", [expression]).fetchone()[0]


def search_table(
    conn: sqlite3.Connection,
    tindex: TableIndex,
    query: str,
    *,
    limit: int = 5,
    labels: bool = False,
    known_count: int | None = None,
    shape: Shape | None = None,
) -> dict:
    """Count and best `limit` rows (bm25) of one table for a query, with highlighted text; with
    `labels`, each row's label columns too (`labels.row_labels`: what tells one hit from another).
    `known_count`: the exact count when the caller has it (the site index's, for one token),
    which saves counting every match again; `shape`: the table's `labels.label_shape`, kept.

    {"count": n, "rows": [{"rowid", "score", "row": {column: value}, "highlights": {column: html}, "labels"}]}
    """
    expression = match_expression(query)
    if not expression:
        return {"count": 0, "rows": []}
    idx = quote(tindex.index)
    total = count(conn, tindex.index, expression) if known_count is None else known_count
    if not total:
        return {"count": 0, "rows": []}
    ranked = conn.execute(
        f"select rowid, bm25({idx}) as score from {idx} where {idx} match ? order by score limit ?",
        [expression, limit],
    ).fetchall()
    rowids = [r[0] for r in ranked]
    cursor = conn.execute(
        f"select rowid as __rowid, * from {quote(tindex.table)} where rowid in ({', '.join('?' * len(rowids))})", rowids
    )
    names = [d[0] for d in cursor.description]
    by_rowid = {r[0]: dict(zip(names[1:], r[1:])) for r in cursor.fetchall()}
    rows = []
    for rowid, score in ranked:
        row = by_rowid.get(rowid)
        if row is None:
            continue
        marks = {c: highlight(row.get(c), query) for c in tindex.columns}
        rows.append(
            {
                "rowid": rowid,
                "score": round(score, 4),
                "row": row,
                "highlights": {c: h for c, h in marks.items() if h and "<mark>" in h},
            }
        )
    if labels and rows:
        for hit, found in zip(
            rows, row_labels(conn, tindex.table, [h["row"] for h in rows], set(tindex.columns), shape)
        ):
            hit["labels"] = found
    return {"count": total, "rows": rows}


def primary_keys(conn: sqlite3.Connection, table: str) -> list[str]:
    """The table's primary key columns in key order ([] for a rowid table), as Datasette
    builds row URLs from them."""
    info = conn.execute(f"pragma table_info({quote(table)})").fetchall()
    return [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]


def search_tables(
    conn: sqlite3.Connection,
    tindexes: list[TableIndex],
    query: str,
    *,
    limit: int = 5,
    counts: list[int | None] | None = None,
    shapes: dict[str, tuple[list[str], Shape]] | None = None,
) -> list[dict]:
    """`search_table` (with labels) of several tables of one database, each with its primary
    keys: what the site search shows of one dataset, in one visit to its database. `counts`:
    each table's exact count where known (see `search_table`); `shapes`: {table: (primary keys,
    label shape)} that the caller keeps for this database, filled here for tables it lacks."""
    out = []
    for tindex, known in zip(tindexes, counts or [None] * len(tindexes)):
        kept = shapes.get(tindex.table) if shapes is not None else None
        if kept is None:
            kept = (primary_keys(conn, tindex.table), label_shape(conn, tindex.table))
            if shapes is not None:
                shapes[tindex.table] = kept
        result = search_table(conn, tindex, query, limit=limit, labels=True, known_count=known, shape=kept[1])
        result["table"] = tindex.table
        result["pks"] = kept[0] if result["count"] else []
        out.append(result)
    return out


# ---------------------------------------------------------------------------------------------
# Highlighting


@functools.lru_cache(maxsize=256)
def _segments(query: str) -> tuple[tuple[str, str, bool], ...]:
    # a page highlights every shown cell for the same query: parse it once
    return tuple(query_segments(query))


def match_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Merged (start, end) spans of the original text where a piece of the query matches."""
    if not text:
        return []
    segments = _segments(query)
    plain = normalize(text)  # one C call: most texts hold no piece of the query at all
    if not any(seg in plain for _, seg, _ in segments):
        return []
    norm, origin = normalize_with_offsets(text)
    classes = norm.translate(_CLASSES)
    spans = []
    for kind, seg, prefix in segments:
        start = norm.find(seg)
        while start != -1:
            end = start + len(seg)
            ok = True
            if kind == WORD:
                ok = start == 0 or classes[start - 1] != WORD
                if prefix:
                    while end < len(norm) and classes[end] == WORD:
                        end += 1
                elif end < len(norm) and classes[end] == WORD:
                    ok = False
            if ok:
                spans.append((origin[start], origin[end - 1] + 1))
            start = norm.find(seg, start + 1)
        del kind  # CJK pieces match anywhere: substring semantics
    spans.sort()
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def highlight(text, query: str, *, width: int | None = None) -> str | None:
    """HTML of `text` (escaped) with matches in <mark>; with `width`, a window around the first
    match of about that many characters."""
    if text is None:
        return None
    text = str(text)
    if width and len(text) > width:
        return _window(text, query, width)
    return _marked(text, match_spans(text, query), 0, len(text))


WINDOW_MARGIN = 64  # characters past a window that a match in it is checked against


def _window(text: str, query: str, width: int) -> str:
    """`highlight` of a window: the spans are found in a prefix of the text long enough to hold
    the window and `WINDOW_MARGIN` characters after it (normalisation is per character, so a
    prefix normalises as the start of the whole text), not in the whole of a long description:
    the catalogue search highlights twenty of them per query, and normalising every character
    of each was most of its time."""
    limit = 4 * width + WINDOW_MARGIN
    while True:
        whole = limit >= len(text)
        part = text if whole else text[:limit]
        spans = match_spans(part, query)
        if whole or (spans and spans[0][0] + width + WINDOW_MARGIN < limit):
            break
        limit *= 4
    if not whole:  # a match running to the cut may go on past it: never one the window shows
        spans = [(s, e) for s, e in spans if e < limit]
    first = spans[0][0] if spans else 0
    lo = max(0, first - width // 3)
    return _marked(text, spans, lo, min(len(text), lo + width))


def _marked(text: str, spans: list[tuple[int, int]], lo: int, hi: int) -> str:
    parts, pos = [], lo
    for s, e in spans:
        if e <= lo or s >= hi:
            continue
        s, e = max(s, lo), min(e, hi)
        parts.append(escape(text[pos:s]))
        parts.append("<mark>" + escape(text[s:e]) + "</mark>")
        pos = e
    parts.append(escape(text[pos:hi]))
    return ("…" if lo > 0 else "") + "".join(parts) + ("…" if hi < len(text) else "")


__all__ = [
    "CJK",
    "PARAM",
    "count",
    "few_matches",
    "filter_clause",
    "highlight",
    "match_spans",
    "matching_rowids",
    "primary_keys",
    "search_table",
    "search_tables",
]
