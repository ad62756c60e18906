"""The catalogue list (`/datasets`): filters, sorting, pagination and facet counts over
catalog.db, as plain functions over a sqlite3 connection (`reader.Catalogue.listing` runs them
after the text search has ranked the matching names).

Every state is a URL: `q`, one value per filter (`theme`, `publisher`, `licence`, `format`,
`frequency`, `openness`, `keyword`), `sort` and `page` are GET parameters; `params()` writes
them back in a fixed order, leaving out defaults, so equal states have equal URLs.

What a state selects (`Selection`: the matching datasets' rowids in order, their facet counts)
does not depend on the page. It is computed per request from the in-memory facet index
(`facet_index.py`, loaded once per worker and kept in the store's `Memo`: a served release
never changes), in microseconds whatever the number of datasets or the state; a search's
ranked matches are kept per search. A page is a slice of the rowids and one indexed read of
its 20 rows. Facet counts are exact (every filter's values counted over the whole selection);
each facet lists its `FACET_VALUES` largest values, and says how many there are.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .records import DatasetRecord

FILTERS = ("theme", "publisher", "licence", "format", "frequency", "openness", "keyword")
SORTS = ("relevance", "title", "modified", "size")
PER_PAGE = 20
MAX_PER_PAGE = 100
FACET_VALUES = 20  # values a facet lists (the selected one always among them), largest first

# Registry-backed filters: (catalog column, registry table)
_REGISTRY = {"theme": ("theme", "themes"), "publisher": ("publisher", "publishers"), "licence": ("license", "licenses")}
_COLUMN = {"frequency": "frequency", "openness": "openness"}


@dataclass(frozen=True)
class Query:
    q: str = ""
    filters: tuple[tuple[str, str], ...] = ()
    sort: str = ""  # "" = the default: relevance with a search, else last modified
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def active(self) -> dict[str, str]:
        return dict(self.filters)

    @property
    def effective_sort(self) -> str:
        if self.sort in SORTS and (self.sort != "relevance" or self.q):
            return self.sort
        return "relevance" if self.q else "modified"


def _int(value, default: int, lo: int, hi: int) -> int:
    try:
        return max(lo, min(hi, int(value)))
    except (TypeError, ValueError):
        return default


def parse(args: Mapping) -> Query:
    """A Query from request arguments (anything with `.get`); unknown values are ignored."""
    filters = tuple((k, str(args.get(k)).strip()) for k in FILTERS if (args.get(k) or "").strip())
    sort = args.get("sort") or ""
    return Query(
        q=(args.get("q") or "").strip(),
        filters=filters,
        sort=sort if sort in SORTS else "",
        page=_int(args.get("page"), 1, 1, 10_000),
        per_page=_int(args.get("per_page"), PER_PAGE, 1, MAX_PER_PAGE),
    )


def params(query: Query, **changes) -> list[tuple[str, str]]:
    """URL parameters of `query` with `changes` (a filter set to None is removed; any change
    other than `page` goes back to page 1)."""
    active = dict(query.filters)
    q, sort, page, per_page = query.q, query.sort, query.page, query.per_page
    for key, value in changes.items():
        if key in FILTERS:
            if value in (None, ""):
                active.pop(key, None)
            else:
                active[key] = value
        elif key == "q":
            q = value or ""
        elif key == "sort":
            sort = value or ""
        elif key == "per_page":
            per_page = value
    if "page" in changes:
        page = changes["page"] or 1
    elif changes:
        page = 1
    out: list[tuple[str, str]] = [("q", q)] if q else []
    out += [(k, active[k]) for k in FILTERS if k in active]
    if sort:
        out.append(("sort", sort))
    if per_page != PER_PAGE:
        out.append(("per_page", str(per_page)))
    if page and page != 1:
        out.append(("page", str(page)))
    return out


class Memo:
    """A bounded map of computed answers, least recently used dropped first (thread-safe).
    Only for answers that cannot change while a release is served."""

    def __init__(self, size: int):
        import threading
        from collections import OrderedDict

        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._kept: dict = {}
        self._keep_lock = threading.Lock()

    def keep(self, key, compute: Callable[[], Any]):
        """Like `get`, but never dropped, and computed once even when asked by two threads at
        once (the facet index: ~0.1 s at 10,000 datasets)."""
        with self._keep_lock:
            if key not in self._kept:
                self._kept[key] = compute()
            return self._kept[key]

    def cold(self) -> Memo:
        """A memo of no answers that shares this one's kept values (the bench's cold states)."""
        other = Memo(0)
        other._kept, other._keep_lock = self._kept, self._keep_lock
        return other

    def get(self, key, compute: Callable[[], Any]):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        if self.size > 0:
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return value


@dataclass(frozen=True)
class Search:
    """A text search's FTS5 queries: over the whole document, and over the title only."""

    index: str
    match: str
    title_match: str
    weights: str


def _ranked(conn: sqlite3.Connection, search: Search, names: list[str], position: dict[int, int]) -> list[int]:
    """Every dataset matching the search, best first: those matching every term in their title
    first, then by bm25 (the weights favour title > keywords > publisher > columns > text), then
    by name. Only the index is read (no dataset row): the ties are broken on the names the
    facet index holds."""
    idx = search.index
    sql = f"""
        select rowid, bm25({idx}, {search.weights}) as score,
               rowid in (select rowid from {idx} where {idx} match :title) as in_title
        from {idx} where {idx} match :q
    """
    found = [
        (not in_title, score, names[position[rowid]], rowid)
        for rowid, score, in_title in conn.execute(sql, {"q": search.match, "title": search.title_match})
        if rowid in position
    ]
    found.sort()
    return [f[3] for f in found]


def _rows(conn: sqlite3.Connection, sql: str, values: dict) -> list[dict]:
    cur = conn.execute(sql, values)
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


LIST_COLUMNS = (
    "name, title, title_en, title_zh, summary, summary_en, summary_zh, publisher, theme, license, "
    "frequency, openness, modified, issued, created, rows, bytes, resources, formats, keywords, keywords_translated, "
    "language, valid"
)


@dataclass
class Selection:
    """What one state (search, filters, sort, language) selects, whatever the page."""

    rowids: Any  # the matching datasets' rowids in the state's order (a numpy array)
    facets: dict[str, list[dict]]
    facet_sizes: dict[str, int]  # how many values each facet has in all (it lists FACET_VALUES)


@dataclass
class Page:
    query: Query
    datasets: list[DatasetRecord]
    total: int
    pages: int
    facets: dict[str, list[dict]] = field(default_factory=dict)
    facet_sizes: dict[str, int] = field(default_factory=dict)

    @property
    def first(self) -> int:
        return (self.query.page - 1) * self.query.per_page + 1 if self.datasets else 0

    @property
    def last(self) -> int:
        return self.first + len(self.datasets) - 1 if self.datasets else 0


def facet_index_of(conn: sqlite3.Connection, memo: Memo | None):
    # Imported here: numpy is needed by the catalogue list only, not at every worker's start.
    from . import facet_index

    if memo is None:
        return facet_index.load(conn)
    return memo.keep("facet_index", lambda: facet_index.load(conn))


def select(
    conn: sqlite3.Connection,
    query: Query,
    lang: str = "zh",
    search: Search | None = None,
    memo: Memo | None = None,
) -> Selection:
    """The state's matching datasets in order, and its facet counts (no page: see the docstring)."""
    index = facet_index_of(conn, memo)
    hits = None
    if search is not None:
        compute = lambda: index.hits(_ranked(conn, search, index.names, index.position))  # noqa: E731
        hits = memo.get(("hits", search), compute) if memo is not None else compute()
    sort = query.effective_sort
    rowids, counts = index.state(query.filters, hits, sort, lang, FACET_VALUES)
    facets: dict[str, list[dict]] = {}
    sizes: dict[str, int] = {}
    for key in FILTERS:
        chosen = query.active.get(key)
        top, total, chosen_count = counts[key]
        if chosen and all(value != chosen for value, _ in top):
            # the filter's value is always listed, first when it is not among the largest
            # (with no dataset when it matches none: an unknown value is shown, not dropped)
            top = [(chosen, chosen_count), *top[: FACET_VALUES - 1]]
            total += not chosen_count
        facets[key] = [_value(index, key, value, count, value == chosen) for value, count in top]
        sizes[key] = total
    return Selection(rowids, facets, sizes)


def _value(index, key: str, value: str, count: int, selected: bool) -> dict:
    label_zh, label_en = index.label(key, value)
    return {"value": value, "count": count, "label_zh": label_zh, "label_en": label_en, "selected": selected}


def run(
    conn: sqlite3.Connection,
    query: Query,
    lang: str = "zh",
    search: Search | None = None,
    memo: Memo | None = None,
) -> Page:
    """One page of the catalogue for `query`, with facet counts for every filter; `search` is
    the text search (None: none). `memo` keeps the facet index and each search's ranked matches
    (see the docstring)."""
    selection = select(conn, query, lang, search, memo)
    total = len(selection.rowids)
    pages = max(1, math.ceil(total / query.per_page))
    offset = (query.page - 1) * query.per_page
    records = records_of(conn, selection.rowids[offset : offset + query.per_page])
    return Page(query, records, total, pages, selection.facets, selection.facet_sizes)


def records_of(conn: sqlite3.Connection, rowids) -> list[DatasetRecord]:
    """The list columns of the datasets with these rowids, in their order (one indexed read)."""
    wanted = [int(r) for r in rowids]
    found = {
        r["rowid"]: r
        for r in _rows(
            conn,
            f"select d.rowid as rowid, {', '.join('d.' + c.strip() for c in LIST_COLUMNS.split(','))} "
            "from datasets d where d.rowid in (select value from json_each(:ids))",
            {"ids": json.dumps(wanted)},
        )
    }
    return [DatasetRecord.from_row({k: v for k, v in found[r].items() if k != "rowid"}) for r in wanted if r in found]
