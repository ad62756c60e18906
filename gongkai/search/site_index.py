"""The site-wide search index: shards of every dataset's token counts, written by the build.

A site search used to run one ranked query per indexed table of every dataset: its cost grew with
the number of datasets (734 ms at 1,000, a 1.46 MB page). Here the build copies, for each table
of each dataset, its search index's token document counts (the `_search_<t>_terms` table that
`gongkai.search.index` writes, or FTS5's own vocabulary where there is none) into one of `SHARDS`
shard files, `search/<nn>.db` in the release, chosen by a stable hash of the dataset's name:

    tables(tid, dataset, tbl, idx, columns, terms, rows, hash)   one row per indexed table
    postings(term, tid, docs)                                    rows of table `tid` holding `term`

A query (`candidates`) reads from every shard only the postings of the query's own tokens
(`tokens.match_phrases`: the very tokens the per-dataset indexes hold), so its cost grows with
the number of tables holding those tokens, never with the text. That gives, per table:

- which tables can match: a table lacking an exact token of a phrase, or every term starting with
  a phrase's prefix token, cannot (so nothing a LIKE scan finds is ever left out);
- how many rows match: exact for a query of one token (the common case: 街道, an unquoted word
  that only one term of the table starts with); otherwise an upper bound (the smallest count of
  the phrase's tokens), marked `exact=False`, which the page replaces by the exact count from the
  dataset's own index for every dataset it shows (`verify`);
- a rank: BM25 over tables, each table one document whose term frequency is its matching rows
  and whose length is its row count, so a table where most rows match outranks one where a few do,
  and a big table is not favoured for being big.

Incremental (the layout decision of #10): a shard whose datasets and their content hashes are the
previous release's is hard-linked from it; a shard with a changed, new or removed dataset is the
previous shard copied with only those datasets' rows replaced. Shards are immutable once written.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import shutil
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .index import TableIndex, quote, read_indexes
from .tokens import Phrase, match_phrases

FOLDER = "search"
SHARDS = 16  # fixed, whatever N: a query reads each shard once; a changed dataset rewrites 1/16th
FORMAT = "1"  # the shard schema; a shard of another format is rebuilt, never patched
K1, B = 1.2, 0.75  # BM25's usual constants
# the highest code point: every token starting with a prefix sorts below prefix + this
_TOP = "\U0010ffff"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tables (
    tid INTEGER PRIMARY KEY, dataset TEXT NOT NULL, tbl TEXT NOT NULL, idx TEXT NOT NULL,
    columns TEXT NOT NULL, terms TEXT, rows INTEGER NOT NULL, hash TEXT NOT NULL
);
CREATE TABLE postings (term TEXT NOT NULL, tid INTEGER NOT NULL, docs INTEGER NOT NULL,
    PRIMARY KEY (term, tid)) WITHOUT ROWID;
"""


def shard_of(dataset: str) -> int:
    """The shard of a dataset: stable across builds, machines and Python runs (not `hash()`)."""
    return int.from_bytes(hashlib.sha256(dataset.encode("utf-8")).digest()[:4], "big") % SHARDS


def shard_path(release: Path, shard: int) -> Path:
    return Path(release) / FOLDER / f"{shard:02d}.db"


@dataclass(frozen=True)
class Entry:
    """One valid dataset of the release, as the build knows it."""

    dataset: str
    hash: str  # the build's content hash: unchanged hash, unchanged postings
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows (from the build's stats)


# ---------------------------------------------------------------------------------------------
# Writing (the build)


def write(release: Path, previous: Path | None, entries: Iterable[Entry]) -> dict[str, int]:
    """Write every shard of `release` from its datasets' databases (already in the release).

    Returns how many shards were linked, patched and written afresh."""
    by_shard: dict[int, list[Entry]] = {s: [] for s in range(SHARDS)}
    for entry in entries:
        by_shard[shard_of(entry.dataset)].append(entry)
    (Path(release) / FOLDER).mkdir(exist_ok=True)
    done = {"linked": 0, "patched": 0, "written": 0}
    for shard, members in by_shard.items():
        target = shard_path(release, shard)
        old = shard_path(previous, shard) if previous is not None else None
        old_hashes = _hashes(old) if old is not None and old.is_file() else None
        want = {e.dataset: e.hash for e in members}
        if old is not None and old_hashes == want:
            os.link(old, target)
            done["linked"] += 1
            continue
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        if old is not None and old_hashes is not None:
            shutil.copyfile(old, tmp)
            stale = [d for d, h in old_hashes.items() if want.get(d) != h]
            todo = [e for e in members if old_hashes.get(e.dataset) != e.hash]
            done["patched"] += 1
        else:
            stale, todo = [], members
            done["written"] += 1
        conn = sqlite3.connect(tmp)
        try:
            if old_hashes is None:
                conn.executescript(_SCHEMA)
                conn.execute("INSERT INTO meta VALUES ('format', ?)", [FORMAT])
            with conn:
                _remove(conn, stale)
                for entry in sorted(todo, key=lambda e: e.dataset):
                    _add(conn, Path(release) / f"{entry.dataset}.db", entry)
        finally:
            conn.close()
        os.replace(tmp, target)
    return done


def _hashes(path: Path) -> dict[str, str] | None:
    """{dataset: hash} of a shard, or None when it is not a shard of this format."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if not row or row[0] != FORMAT:
            return None
        return dict(conn.execute("SELECT DISTINCT dataset, hash FROM tables"))
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def _remove(conn: sqlite3.Connection, datasets: list[str]) -> None:
    if not datasets:
        return
    names = json.dumps(datasets, ensure_ascii=False)
    tids = "SELECT tid FROM tables WHERE dataset IN (SELECT value FROM json_each(?))"
    conn.execute(f"DELETE FROM postings WHERE tid IN ({tids})", [names])
    conn.execute("DELETE FROM tables WHERE dataset IN (SELECT value FROM json_each(?))", [names])


def _add(conn: sqlite3.Connection, db_path: Path, entry: Entry) -> None:
    """Copy one dataset's token counts, table by table, from its own search indexes."""
    if not db_path.is_file():
        return
    source = sqlite3.connect(f"file:{db_path}?mode=ro&immutable=1", uri=True)
    try:
        for table, tindex in sorted(read_indexes(source).items()):
            rows = entry.rows.get(table)
            if rows is None:
                rows = source.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0]
            cur = conn.execute(
                "INSERT INTO tables (dataset, tbl, idx, columns, terms, rows, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    entry.dataset,
                    table,
                    tindex.index,
                    json.dumps(list(tindex.columns), ensure_ascii=False),
                    tindex.terms,
                    rows,
                    entry.hash,
                ],
            )
            tid = cur.lastrowid
            conn.executemany(
                "INSERT INTO postings (term, tid, docs) VALUES (?, ?, ?)",
                ((term, tid, docs) for term, docs in _term_counts(source, tindex)),
            )
    finally:
        source.close()


def _term_counts(source: sqlite3.Connection, tindex: TableIndex) -> list[tuple[str, int]]:
    """(token, rows holding it) of one table's index: its terms table, or FTS5's vocabulary
    (the same numbers: the terms table is a copy of it) where the build wrote none."""
    if tindex.terms is not None:
        return source.execute(f"SELECT term, docs FROM {quote(tindex.terms)}").fetchall()
    vocab = quote("_gongkai_site_vocab")
    literal = "'" + tindex.index.replace("'", "''") + "'"
    source.execute(f"CREATE VIRTUAL TABLE temp.{vocab} USING fts5vocab(main, {literal}, 'row')")
    try:
        return source.execute(f"SELECT term, doc FROM temp.{vocab}").fetchall()
    finally:
        source.execute(f"DROP TABLE temp.{vocab}")


# ---------------------------------------------------------------------------------------------
# Reading (the site search)


@dataclass(frozen=True)
class TableHit:
    """A table of a candidate dataset: what its own database needs to search it."""

    dataset: str
    tindex: TableIndex
    rows: int


@dataclass(frozen=True)
class DatasetHit:
    """One dataset in the ranked list."""

    dataset: str
    score: float
    count: int  # matching rows: exact when `exact`, else an upper bound
    exact: bool
    tables: list[TableHit]


@dataclass(frozen=True)
class Ranked:
    datasets: list[DatasetHit]  # the best candidates, best first
    total: int  # matching rows over the whole site: exact when `exact`, else an upper bound
    exact: bool
    matched: int  # candidate datasets over the whole site (those that match, when `exact`)


def open_shards(release: Path) -> list[sqlite3.Connection]:
    """Read-only connections to a release's shards (none when the build wrote none)."""
    out = []
    for shard in range(SHARDS):
        path = shard_path(release, shard)
        if path.is_file():
            out.append(sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False))
    return out


_stats: dict[int, tuple[int, int]] = {}  # id(connection) -> (tables, rows): shards never change


def _shard_stats(conn: sqlite3.Connection) -> tuple[int, int]:
    found = _stats.get(id(conn))
    if found is None:
        found = _stats[id(conn)] = conn.execute("SELECT count(*), coalesce(sum(rows), 0) FROM tables").fetchone()
    return found


T = TypeVar("T")
THREADS = 2
OPEN_PER_THREAD = 4  # releases whose shards a thread keeps open (a server has one; tests many)
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_local = threading.local()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="site-search")
        return _pool


class ShardStore:
    """A server's read-only connections to one release's shards, used off the event loop:
    `await store.read(fn)` runs `fn(shards)` on a small thread pool (one per process), each
    thread with its own connections (shards are immutable: `immutable=1`, no locking)."""

    def __init__(self, release: Path):
        self.release = Path(release).resolve()

    def read_now(self, fn: Callable[[list[sqlite3.Connection]], T]) -> T:
        conns: OrderedDict[Path, list[sqlite3.Connection]] = getattr(_local, "conns", None) or OrderedDict()
        _local.conns = conns
        shards = conns.get(self.release)
        if shards is None:
            shards = conns[self.release] = open_shards(self.release)
            while len(conns) > OPEN_PER_THREAD:
                for old in conns.popitem(last=False)[1]:
                    _stats.pop(id(old), None)
                    old.close()
        conns.move_to_end(self.release)
        return fn(shards)

    async def read(self, fn: Callable[[list[sqlite3.Connection]], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(_executor(), self.read_now, fn)


def candidates(shards: list[sqlite3.Connection], query: str, *, top: int = 50) -> Ranked:
    """The best `top` datasets that may hold rows matching `query`, best first, and how many
    there are with how many rows over the whole site (see the module). Each shard ranks and
    counts its own datasets in SQL and returns only its best `top`: the work in Python does not
    grow with the number of datasets."""
    phrases = match_phrases(query)
    if not phrases or not shards:
        return Ranked([], 0, True, 0)
    tables_total = rows_total = 0
    for conn in shards:
        n_tables, n_rows = _shard_stats(conn)
        tables_total += n_tables
        rows_total += n_rows
    sql, params = _ranking_sql(phrases)
    params.update(avg=rows_total / max(1, tables_total), k1=K1, b=B, top=top)
    best: list[tuple] = []
    matched = total = 0
    exact = True
    for conn in shards:
        found = conn.execute(sql, params).fetchall()
        if found:
            matched += found[0][5]
            total += found[0][6]
            exact = exact and bool(found[0][7])
            best.extend((conn, *r[:5]) for r in found)
    best.sort(key=lambda r: (-r[2], -r[3], r[1]))
    best = best[:top]
    # idf: one value per query (it orders nothing), kept so that scores compare across queries
    idf = math.log(1 + (tables_total - matched + 0.5) / (matched + 0.5))
    hits = []
    for conn, dataset, score, count, one, tids in best:
        tables = _tables(conn, [int(t) for t in str(tids).split(",")])
        hits.append(DatasetHit(dataset, round(idf * score, 6), count, bool(one), tables))
    return Ranked(hits, total, exact, matched)


def _ranking_sql(phrases: list[Phrase]) -> tuple[str, dict]:
    """One query per shard: each table's bound (the smallest count of any of the query's
    tokens in it: every phrase, so every token, must be found in a matching row), BM25 over
    tables, grouped by dataset, best `:top` with the shard's totals beside them."""
    exact_tokens = sorted({t for p in phrases for t, prefix in p if not prefix})
    prefixes = sorted({t for p in phrases for t, prefix in p if prefix})
    params: dict = {}
    ctes, values, joins = [], [], []
    if exact_tokens:
        cols = []
        for i, token in enumerate(exact_tokens):
            params[f"e{i}"] = token
            cols.append(f"max(CASE WHEN term = :e{i} THEN docs END) AS e{i}")
            values.append(f"e.e{i}")
        params["exact"] = json.dumps(exact_tokens, ensure_ascii=False)
        ctes.append(
            f"e AS (SELECT tid, {', '.join(cols)} FROM postings "
            f"WHERE term IN (SELECT value FROM json_each(:exact)) GROUP BY tid HAVING count(*) = {len(exact_tokens)})"
        )
        joins.append("e")
    for i, prefix in enumerate(prefixes):
        params[f"p{i}"], params[f"p{i}_end"] = prefix, prefix + _TOP
        ctes.append(
            f"p{i} AS (SELECT tid, sum(docs) AS s, count(*) AS n FROM postings "
            f"WHERE term >= :p{i} AND term < :p{i}_end GROUP BY tid)"
        )
        values.append(f"p{i}.s")
        joins.append(f"p{i}")
    one_token = len(phrases) == 1 and len(phrases[0]) == 1
    # exact for one token: its count, or for a prefix the count of the one term it starts
    exact = ("p0.n = 1" if prefixes else "1") if one_token else "0"
    bound = values[0] if len(values) == 1 else f"min({', '.join(values)})"
    source = joins[0] + "".join(f" JOIN {j} USING (tid)" for j in joins[1:])
    sql = f"""
        WITH {", ".join(ctes)},
        hits AS (
            SELECT t.dataset, t.tid, {bound} AS bound, {exact} AS exact,
                   {bound} * (:k1 + 1.0) / ({bound} + :k1 * (1 - :b + :b * t.rows / :avg)) AS score
            FROM {source} JOIN tables t USING (tid)
        ),
        datasets AS (
            SELECT dataset, max(score) AS score, sum(bound) AS count, min(exact) AS exact,
                   group_concat(tid) AS tids
            FROM hits GROUP BY dataset
        )
        SELECT dataset, score, count, exact, tids,
               count(*) OVER () AS matched, sum(count) OVER () AS total, min(exact) OVER () AS all_exact
        FROM datasets ORDER BY score DESC, count DESC, dataset LIMIT :top
    """
    return sql, params


def _tables(conn: sqlite3.Connection, tids: list[int]) -> list[TableHit]:
    found = conn.execute(
        "SELECT tid, dataset, tbl, idx, columns, terms, rows FROM tables WHERE tid IN (SELECT value FROM json_each(?))",
        [json.dumps(tids)],
    ).fetchall()
    return [
        TableHit(dataset, TableIndex(table, idx, tuple(json.loads(columns)), terms), rows)
        for _, dataset, table, idx, columns, terms, rows in sorted(found)
    ]


__all__ = [
    "FOLDER",
    "SHARDS",
    "DatasetHit",
    "Entry",
    "Ranked",
    "ShardStore",
    "TableHit",
    "candidates",
    "open_shards",
    "shard_of",
    "shard_path",
    "write",
]
