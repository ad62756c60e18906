"""The catalogue list (`/datasets`): filters, sorting, pagination and facet counts over
catalog.db, as plain functions over a sqlite3 connection (`reader.Catalogue.listing` runs them
after the text search has ranked the matching names).

Every state is a URL: `q`, one value per filter (`theme`, `publisher`, `licence`, `format`,
`frequency`, `openness`, `keyword`), `sort` and `page` are GET parameters; `params()` writes
them back in a fixed order, leaving out defaults, so equal states have equal URLs.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field

from .records import DatasetRecord

FILTERS = ("theme", "publisher", "licence", "format", "frequency", "openness", "keyword")
SORTS = ("relevance", "title", "modified", "size")
PER_PAGE = 20
MAX_PER_PAGE = 100
SEARCH_LIMIT = 10_000  # every match: the catalogue is small; filters apply after ranking

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


def _keyword_lists() -> str:
    return "(select value from json_each(d.keywords) union select value from json_each(coalesce(d.keywords_translated, '[]')))"


def _clause(key: str, value: str) -> tuple[str, dict]:
    p = f"f_{key}"
    if key in _REGISTRY:
        return f"d.{_REGISTRY[key][0]} = :{p}", {p: value}
    if key in _COLUMN:
        return f"d.{_COLUMN[key]} = :{p}", {p: value}
    if key == "format":
        return f"exists (select 1 from resources r where r.dataset = d.name and lower(r.format) = lower(:{p}))", {
            p: value
        }
    if key == "keyword":
        return f":{p} in {_keyword_lists()}", {p: value}
    raise KeyError(key)


def _where(query: Query, names: list[str] | None, skip: str | None = None) -> tuple[str, dict]:
    clauses, values = [], {}
    for key, value in query.filters:
        if key == skip:
            continue
        sql, p = _clause(key, value)
        clauses.append(sql)
        values.update(p)
    if names is not None:
        clauses.append("d.name in (select value from json_each(:names))")
        values["names"] = json.dumps(names, ensure_ascii=False)
    return (" where " + " and ".join(clauses)) if clauses else "", values


def _title_expr(lang: str) -> str:
    return "coalesce(nullif(d.title_en, ''), d.title)" if lang == "en" else "coalesce(nullif(d.title_zh, ''), d.title)"


def _order(query: Query, lang: str, names: list[str] | None) -> str:
    sort = query.effective_sort
    if sort == "relevance" and names is not None:
        return "order by (select key from json_each(:names) where value = d.name), d.name"
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
class Page:
    query: Query
    datasets: list[DatasetRecord]
    total: int
    pages: int
    facets: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def first(self) -> int:
        return (self.query.page - 1) * self.query.per_page + 1 if self.datasets else 0

    @property
    def last(self) -> int:
        return self.first + len(self.datasets) - 1 if self.datasets else 0


def run(conn: sqlite3.Connection, query: Query, lang: str = "zh", names: list[str] | None = None) -> Page:
    """One page of the catalogue for `query`, with facet counts for every filter; `names` are
    the datasets the text search matched, best first (None: no search)."""
    where, values = _where(query, names)
    (total,) = conn.execute(f"select count(*) from datasets d{where}", values).fetchone()
    pages = max(1, math.ceil(total / query.per_page))
    offset = (query.page - 1) * query.per_page
    rows = _rows(
        conn,
        f"select {', '.join('d.' + c.strip() for c in LIST_COLUMNS.split(','))} from datasets d{where} "
        f"{_order(query, lang, names)} limit :limit offset :offset",
        {**values, "limit": query.per_page, "offset": offset},
    )
    return Page(query, [DatasetRecord.from_row(r) for r in rows], total, pages, facets(conn, query, names, lang))


def facets(conn: sqlite3.Connection, query: Query, names: list[str] | None, lang: str = "zh") -> dict[str, list[dict]]:
    """For each filter: its values with the number of datasets each would give, counted with
    every *other* active filter (and the search) applied, like data.gov.uk's facets. Each value
    is {value, count, label_zh, label_en, selected}."""
    out: dict[str, list[dict]] = {}
    for key in FILTERS:
        where, values = _where(query, names, skip=key)
        if key in _REGISTRY:
            column, table = _REGISTRY[key]
            sql = (
                f"select d.{column} as value, count(*) as count, reg.name as label_zh, reg.name_en as label_en "
                f"from datasets d left join {table} reg on reg.id = d.{column}{where} "
                f"group by d.{column} order by count desc, value"
            )
            if table == "licenses":
                sql = sql.replace(
                    "reg.name as label_zh, reg.name_en as label_en", "reg.title as label_zh, reg.title_en as label_en"
                )
        elif key in _COLUMN:
            sql = (
                f"select d.{_COLUMN[key]} as value, count(*) as count, null as label_zh, null as label_en "
                f"from datasets d{where} group by value order by count desc, value"
            )
        elif key == "format":
            sql = (
                f"select lower(r.format) as value, count(distinct d.name) as count, null as label_zh, null as label_en "
                f"from datasets d join resources r on r.dataset = d.name{where} group by value order by count desc, value"
            )
        else:  # keyword: in the page's language where a translation exists
            kw = (
                "case when d.language = :lang or coalesce(d.keywords_translated, '[]') = '[]' "
                "then d.keywords else d.keywords_translated end"
            )
            sql = (
                f"select k.value as value, count(distinct d.name) as count, null as label_zh, null as label_en "
                f"from datasets d, json_each({kw}) k{where} group by k.value order by count desc, value limit 30"
            )
            values = {**values, "lang": lang}
        selected = query.active.get(key)
        found = [{**r, "selected": r["value"] == selected} for r in _rows(conn, sql, values) if r["value"] is not None]
        if selected and not any(r["selected"] for r in found):
            found.insert(0, {"value": selected, "count": 0, "label_zh": None, "label_en": None, "selected": True})
        out[key] = found
    return out
