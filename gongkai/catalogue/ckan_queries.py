"""The CKAN Action API's questions to `catalog.db` (gongkai/ckan/ turns the answers into CKAN's
dicts). Apart from reader.py so the API's queries live in one place.

Every question is one page's worth of work whatever the catalogue's size: a page of datasets
is an indexed `order by … limit … offset` (the `ckan_id`, `name` and `modified` indexes), and
its resources, publishers, themes and licences are fetched for that page only, by key.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, TypeVar

from .records import DatasetRecord, FieldRecord, Licence, Publisher, Record, ResourceRecord, Theme

R = TypeVar("R", bound=Record)

# What a clause may filter on: column → how (a plain column, a JSON list column, a date).
PLAIN = frozenset({"publisher", "theme", "name", "ckan_id", "license"})
LISTS = frozenset({"keywords", "formats"})
DATES = frozenset({"modified", "issued"})
SORTABLE = frozenset({"ckan_id", "name", "modified", "issued", "title"})


@dataclass(frozen=True)
class Clause:
    """One filter: `column` is one of `values` (a list column: holds one of them), or for a
    date column lies in [low, high] (either end open when None); `negate` inverts it."""

    column: str
    values: tuple[str, ...] = ()
    low: str | None = None
    high: str | None = None
    negate: bool = False


@dataclass(frozen=True)
class Search:
    clauses: tuple[Clause, ...] = ()
    ranked: tuple[str, ...] | None = None  # names matching the free text, best first; None: no text
    order: tuple[tuple[str, bool], ...] = (("ckan_id", False),)  # (column or "score", descending)
    rows: int = 10
    start: int = 0


@dataclass
class PackageBundle:
    """A page of datasets with everything their CKAN dicts show."""

    datasets: list[DatasetRecord]
    resources: dict[str, list[ResourceRecord]]
    publishers: dict[str, Publisher]
    themes: dict[str, Theme]
    licences: dict[str, Licence]


def _rows(conn: sqlite3.Connection, cls: type[R], sql: str, params: Any = ()) -> list[R]:
    cur = conn.execute(sql, params)
    names = [c[0] for c in cur.description]
    return [cls.from_row(dict(zip(names, row))) for row in cur.fetchall()]


def _json(values) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def _where(search: Search, params: dict) -> str:
    parts = []
    for i, c in enumerate(search.clauses):
        key = f"c{i}"
        if c.column in PLAIN:
            params[key] = _json(c.values)
            sql = f"d.[{c.column}] in (select value from json_each(:{key}))"
        elif c.column in LISTS:
            params[key] = _json(c.values)
            sql = (
                f"exists (select 1 from json_each(d.[{c.column}]) v"
                f" where lower(v.value) in (select lower(value) from json_each(:{key})))"
            )
        elif c.column in DATES:
            # stored as git's ISO 8601 with an offset; datetime() compares them in UTC
            ends = []
            if c.low is not None:
                params[key + "lo"] = c.low
                ends.append(f"datetime(d.[{c.column}]) >= datetime(:{key}lo)")
            if c.high is not None:
                params[key + "hi"] = c.high
                ends.append(f"datetime(d.[{c.column}]) <= datetime(:{key}hi)")
            sql = " and ".join(ends) or f"d.[{c.column}] is not null"
        else:
            raise ValueError(f"not a searchable column: {c.column}")
        parts.append(f"not coalesce(({sql}), 0)" if c.negate else f"({sql})")
    if search.ranked is not None:
        params["ranked"] = _json(search.ranked)
        parts.append("d.name in (select value from json_each(:ranked))")
    return " and ".join(parts) or "1"


def _order(search: Search) -> tuple[str, str]:
    """(join, order by): "score" is the rank of the free-text match (no text: no order)."""
    join, terms = "", []
    for column, desc in search.order:
        direction = " desc" if desc else ""
        if column == "score":
            if search.ranked is not None:
                join = "join json_each(:ranked) r on r.value = d.name"
                terms.append("r.key" + (" " if desc else " desc"))  # best first is key 0
        elif column in SORTABLE:
            terms.append(f"d.[{column}]{direction}")
        else:
            raise ValueError(f"not a sortable column: {column}")
    # A total order, so pages never repeat or skip a dataset (two descriptors could share an
    # `id`, so the unique name ends it); the (ckan_id, name) index serves `id asc` whole.
    if search.order[-1:] != (("ckan_id", False),):
        terms.append("d.ckan_id")
    terms.append("d.name")
    return join, ", ".join(terms)


def search(conn: sqlite3.Connection, query: Search) -> tuple[int, list[DatasetRecord]]:
    """(how many datasets match, the page of them)."""
    params: dict[str, Any] = {}
    where = _where(query, params)
    join, order = _order(query)
    total = conn.execute(f"select count(*) from datasets d where {where}", params).fetchone()[0]
    # The page's rowids first: with no filter the offset walks only the sort column's index
    # (a covering one), never the rows it skips; then the page's rows themselves, by rowid.
    rowids = [
        r[0]
        for r in conn.execute(
            f"select d.rowid from datasets d {join} where {where} order by {order} limit :rows offset :start",
            {**params, "rows": int(query.rows), "start": int(query.start)},
        )
    ]
    cur = conn.execute("select rowid, * from datasets where rowid in (select value from json_each(?))", [_json(rowids)])
    names = [c[0] for c in cur.description]
    by_rowid = {row[0]: DatasetRecord.from_row(dict(zip(names[1:], row[1:]))) for row in cur.fetchall()}
    return total, [by_rowid[r] for r in rowids]


FACETS = {"publisher": "d.publisher", "theme": "d.theme", "license": "d.license"}


def facet(conn: sqlite3.Connection, query: Search, column: str, limit: int) -> list[tuple[str, int]]:
    """(value, datasets) for the matching datasets, most first."""
    params: dict[str, Any] = {}
    where = _where(query, params)
    if column in FACETS:
        sql = f"select {FACETS[column]} as v, count(*) as n from datasets d where {where} and {FACETS[column]} is not null group by v"
    elif column in LISTS:
        sql = f"select j.value as v, count(*) as n from datasets d, json_each(d.[{column}]) j where {where} group by v"
    else:
        raise ValueError(f"not a facet: {column}")
    rows = conn.execute(f"{sql} order by n desc, v limit :limit", {**params, "limit": int(limit)}).fetchall()
    return [(str(v), int(n)) for v, n in rows]


def names(conn: sqlite3.Connection, limit: int | None, offset: int) -> list[str]:
    """Dataset names in name order (the primary key's index)."""
    sql = "select name from datasets order by name limit :limit offset :offset"
    return [r[0] for r in conn.execute(sql, {"limit": -1 if limit is None else int(limit), "offset": int(offset)})]


def dataset(conn: sqlite3.Connection, ident: str) -> DatasetRecord | None:
    """A dataset by CKAN id or name."""
    found = _rows(conn, DatasetRecord, "select * from datasets where ckan_id = ? or name = ? limit 1", [ident, ident])
    return found[0] if found else None


def bundle(conn: sqlite3.Connection, datasets: list[DatasetRecord]) -> PackageBundle:
    """The page's resources and the registry entries it refers to, fetched by key."""
    names_json = _json(d.name for d in datasets)
    resources: dict[str, list[ResourceRecord]] = {d.name: [] for d in datasets}
    for r in _rows(
        conn,
        ResourceRecord,
        "select * from resources where dataset in (select value from json_each(?)) order by dataset, position",
        [names_json],
    ):
        resources[r.dataset].append(r)

    return PackageBundle(
        datasets=datasets,
        resources=resources,
        publishers=by_id(conn, Publisher, (d.publisher for d in datasets)),
        themes=by_id(conn, Theme, (d.theme for d in datasets)),
        licences=by_id(conn, Licence, (d.license for d in datasets)),
    )


def by_id(conn: sqlite3.Connection, cls: type[R], idents) -> dict[str, R]:
    """Registry entries (publishers, themes, licences) by id, only those asked for."""
    wanted = _json({i for i in idents if i})
    sql = f"select * from [{cls.TABLE}] where id in (select value from json_each(?))"
    return {r["id"]: r for r in _rows(conn, cls, sql, [wanted])}


def resource(conn: sqlite3.Connection, ident: str) -> ResourceRecord | None:
    found = _rows(conn, ResourceRecord, "select * from resources where ckan_id = ? limit 1", [ident])
    return found[0] if found else None


def resources_by_id(conn: sqlite3.Connection, idents: list[str]) -> list[ResourceRecord]:
    sql = "select * from resources where ckan_id in (select value from json_each(?))"
    return _rows(conn, ResourceRecord, sql, [_json(idents)])


def fields(conn: sqlite3.Connection, dataset_name: str, resource_name: str) -> list[FieldRecord]:
    sql = "select * from fields where dataset = ? and resource = ? order by position"
    return _rows(conn, FieldRecord, sql, [dataset_name, resource_name])


def publishers(conn: sqlite3.Connection) -> list[tuple[Publisher, int]]:
    """Every publisher with its number of datasets (the registry is small: one per ~20 datasets)."""
    counts = dict(conn.execute("select publisher, count(*) from datasets group by publisher").fetchall())
    return [(p, counts.get(p.id, 0)) for p in _rows(conn, Publisher, "select * from publishers order by id")]


def themes(conn: sqlite3.Connection) -> list[tuple[Theme, int]]:
    counts = dict(conn.execute("select theme, count(*) from datasets group by theme").fetchall())
    return [(t, counts.get(t.id, 0)) for t in _rows(conn, Theme, "select * from themes order by id")]
