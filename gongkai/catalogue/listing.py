"""The catalogue list (`/datasets`): filters, sorting, pagination and facet counts over
catalog.db, as plain functions over a sqlite3 connection (`reader.Catalogue.listing` runs them
after the text search has ranked the matching names).

Every state is a URL: `q`, one value per filter (`theme`, `publisher`, `licence`, `format`,
`frequency`, `openness`, `keyword`), `sort` and `page` are GET parameters; `params()` writes
them back in a fixed order, leaving out defaults, so equal states have equal URLs.

What a state selects (`Selection`: the matching datasets' rowids in order, their facet counts)
does not depend on the page, and a served release never changes: `run` computes it once per
state and keeps it in the store's `Memo`, so paging through 10,000 datasets (or the same
filter asked again) counts nothing again; a page is then a slice of the rowids and one indexed
read of its 20 rows. Facet counts are exact (every filter's values counted over the whole
selection); each facet lists its `FACET_VALUES` largest values, and says how many there are.
"""

from __future__ import annotations

import json
import math
import sqlite3
from array import array
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


# ---------------------------------------------------------------------------------------------
# SQL


def _clause(key: str, value: str) -> tuple[str, dict]:
    p = f"f_{key}"
    if key in _REGISTRY:
        return f"d.{_REGISTRY[key][0]} = :{p}", {p: value}
    if key in _COLUMN:
        return f"d.{_COLUMN[key]} = :{p}", {p: value}
    if key == "format":
        return f"exists (select 1 from {SLIM_FORMATS} r where r.id = d.rowid and r.format = lower(:{p}))", {p: value}
    if key == "keyword":
        return f"d.rowid in (select id from {SLIM_KEYWORDS} where keyword = :{p})", {p: value}
    raise KeyError(key)


class Memo:
    """A bounded map of computed answers, least recently used dropped first (thread-safe).
    Only for answers that cannot change while a release is served."""

    def __init__(self, size: int):
        import threading
        from collections import OrderedDict

        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

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


# What the catalogue's selections and facets read of each dataset, copied once per connection
# into its own (temporary, in-memory) tables: a dataset's row in `datasets` holds its
# descriptor and rendered description, several KB, so filtering and counting over the real
# table read every one of those rows (a cold filtered state took ~360 ms at 10,000 datasets).
SLIM = "temp.gk_slim"
SLIM_FORMATS = "temp.gk_slim_formats"
SLIM_KEYWORDS = "temp.gk_slim_keywords"
_SLIM_COLUMNS = (
    "name, theme, publisher, license, frequency, openness, language, keywords, keywords_translated, "
    "title, title_en, title_zh, modified, bytes, rows"
)


def _ensure_slim(conn: sqlite3.Connection) -> None:
    if conn.execute("select 1 from temp.sqlite_master where name = 'gk_slim'").fetchone():
        return
    conn.execute("pragma temp_store = memory")
    # The copy's rowid is the dataset's own (the search index refers to datasets by rowid).
    conn.execute(f"create temp table gk_slim (rowid integer primary key, {_SLIM_COLUMNS})")
    conn.execute(f"insert into temp.gk_slim (rowid, {_SLIM_COLUMNS}) select rowid, {_SLIM_COLUMNS} from datasets")
    for column in ("theme", "publisher", "license", "frequency", "openness", "modified"):
        conn.execute(f"create index temp.gk_slim_{column} on gk_slim ({column})")
    conn.execute(
        "create temp table gk_slim_formats as select distinct d.rowid as id, lower(r.format) as format "
        "from datasets d join resources r on r.dataset = d.name where r.format is not null"
    )
    conn.execute("create index temp.gk_slim_formats_id on gk_slim_formats (id, format)")
    # A keyword filter matches the original keywords or their translation.
    conn.execute(
        "create temp table gk_slim_keywords as select distinct d.rowid as id, k.value as keyword "
        "from datasets d, json_each(d.keywords) k union select d.rowid, k.value from datasets d, "
        "json_each(coalesce(d.keywords_translated, '[]')) k"
    )
    conn.execute("create index temp.gk_slim_keywords_keyword on gk_slim_keywords (keyword, id)")


def _ranked(conn: sqlite3.Connection, search: Search) -> list[int]:
    """Every dataset matching the search, best first: those matching every term in their title
    first, then by bm25 (the weights favour title > keywords > publisher > columns > text)."""
    idx = search.index
    sql = f"""
        with hits as (select rowid, bm25({idx}, {search.weights}) as score from {idx} where {idx} match :q),
             in_title as (select rowid from {idx} where {idx} match :title)
        select hits.rowid from hits join {SLIM} d on d.rowid = hits.rowid
        order by hits.rowid in (select rowid from in_title) desc, hits.score, d.name
    """
    return [r[0] for r in conn.execute(sql, {"q": search.match, "title": search.title_match})]


def _where(query: Query, hits: list[int] | None, skip: str | None = None) -> tuple[str, dict]:
    clauses, values = [], {}
    for key, value in query.filters:
        if key == skip:
            continue
        sql, p = _clause(key, value)
        clauses.append(sql)
        values.update(p)
    if hits is not None:
        clauses.append("d.rowid in (select value from json_each(:hits))")
        values["hits"] = json.dumps(hits)
    return (" where " + " and ".join(clauses)) if clauses else "", values


def _title_expr(lang: str) -> str:
    return "coalesce(nullif(d.title_en, ''), d.title)" if lang == "en" else "coalesce(nullif(d.title_zh, ''), d.title)"


def _order(sort: str, lang: str) -> str:
    if sort == "title":
        return f"order by {_title_expr(lang)} collate nocase, d.name"
    if sort == "size":
        return "order by d.bytes desc, d.rows desc, d.name"
    return "order by d.modified desc, d.name"


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

    rowids: array  # the matching datasets in the state's order
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


def select(conn: sqlite3.Connection, query: Query, lang: str = "zh", search: Search | None = None) -> Selection:
    """The state's matching datasets in order, and its facet counts (no page: see the docstring)."""
    _ensure_slim(conn)
    hits = _ranked(conn, search) if search is not None else None
    where, values = _where(query, hits)
    sort = query.effective_sort
    if hits is not None and sort == "relevance":
        matching = {r[0] for r in conn.execute(f"select d.rowid from {SLIM} d{where}", values)}
        rowids = array("q", (r for r in hits if r in matching))
    else:
        rowids = array(
            "q", (r[0] for r in conn.execute(f"select d.rowid from {SLIM} d{where} {_order(sort, lang)}", values))
        )
    counted = facets(conn, query, hits, lang)
    return Selection(
        rowids,
        {k: _shown(v, query.active.get(k)) for k, v in counted.items()},
        {k: len(v) for k, v in counted.items()},
    )


def _shown(values: list[dict], selected: str | None) -> list[dict]:
    shown = values[:FACET_VALUES]
    if selected and not any(v["selected"] for v in shown):
        shown = [next(v for v in values if v["selected"]), *shown[: FACET_VALUES - 1]]
    return shown


def run(
    conn: sqlite3.Connection,
    query: Query,
    lang: str = "zh",
    search: Search | None = None,
    memo: Memo | None = None,
) -> Page:
    """One page of the catalogue for `query`, with facet counts for every filter; `search` is
    the text search (None: none). `memo` keeps each state's selection (see the docstring)."""
    key = (search, query.filters, query.effective_sort, lang)
    compute = lambda: select(conn, query, lang, search)  # noqa: E731
    selection = memo.get(key, compute) if memo is not None else compute()
    total = len(selection.rowids)
    pages = max(1, math.ceil(total / query.per_page))
    offset = (query.page - 1) * query.per_page
    wanted = list(selection.rowids[offset : offset + query.per_page])
    found = {
        r["rowid"]: r
        for r in _rows(
            conn,
            f"select d.rowid as rowid, {', '.join('d.' + c.strip() for c in LIST_COLUMNS.split(','))} "
            "from datasets d where d.rowid in (select value from json_each(:ids))",
            {"ids": json.dumps(wanted)},
        )
    }
    records = [
        DatasetRecord.from_row({k: v for k, v in found[r].items() if k != "rowid"}) for r in wanted if r in found
    ]
    return Page(query, records, total, pages, selection.facets, selection.facet_sizes)


def facets(conn: sqlite3.Connection, query: Query, hits: list[int] | None, lang: str = "zh") -> dict[str, list[dict]]:
    """For each filter: its values with the number of datasets each would give, counted with
    every *other* active filter (and the search) applied, like data.gov.uk's facets. Each value
    is {value, count, label_zh, label_en, selected}; all of them, largest first."""
    out: dict[str, list[dict]] = {}
    for key in FILTERS:
        where, values = _where(query, hits, skip=key)
        if key in _REGISTRY:
            column, table = _REGISTRY[key]
            name = "title" if table == "licenses" else "name"
            # Counted on the index first, then joined to the (few) values' registry entries.
            sql = (
                f"select c.value as value, c.count as count, reg.{name} as label_zh, reg.{name}_en as label_en "
                f"from (select d.{column} as value, count(*) as count from {SLIM} d{where} group by d.{column}) c "
                f"left join {table} reg on reg.id = c.value order by c.count desc, c.value"
            )
        elif key in _COLUMN:
            sql = (
                f"select d.{_COLUMN[key]} as value, count(*) as count, null as label_zh, null as label_en "
                f"from {SLIM} d{where} group by value order by count desc, value"
            )
        elif key == "format":
            sql = (
                f"select r.format as value, count(distinct d.rowid) as count, null as label_zh, null as label_en "
                f"from {SLIM} d join {SLIM_FORMATS} r on r.id = d.rowid{where} group by value order by count desc, value"
            )
        else:  # keyword: in the page's language where a translation exists
            kw = (
                "case when d.language = :lang or coalesce(d.keywords_translated, '[]') = '[]' "
                "then d.keywords else d.keywords_translated end"
            )
            sql = (
                f"select k.value as value, count(distinct d.rowid) as count, null as label_zh, null as label_en "
                f"from {SLIM} d, json_each({kw}) k{where} group by k.value order by count desc, value"
            )
            values = {**values, "lang": lang}
        selected = query.active.get(key)
        found = [{**r, "selected": r["value"] == selected} for r in _rows(conn, sql, values) if r["value"] is not None]
        if selected and not any(r["selected"] for r in found):
            found.insert(0, {"value": selected, "count": 0, "label_zh": None, "label_en": None, "selected": True})
        out[key] = found
    return out
