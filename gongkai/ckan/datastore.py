"""CKAN's DataStore on the site's SQLite tables: `datastore_search` and `datastore_search_sql`.

A resource id (gongkai/ckan/ids.py) names one table of one dataset's database. Both actions
run through the served Datasette database, so the site's query routing applies
(gongkai/query_pools.py): `datastore_search` builds its own bounded SQL from checked column
names and runs it under the time limit; `datastore_search_sql` runs the visitor's SQL on the
guarded visitor-SQL pool (read-only authorizer, time limit, value and result caps), never on a
connection of its own. plugins/visitor_limits.py rate-limits both (gongkai/limits.py).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from datasette.database import QueryInterrupted
from datasette.views.base import DatasetteError

from ..catalogue import ckan_queries as q
from ..catalogue.records import FieldRecord, ResourceRecord
from ..query_pools import VISITOR
from ..search.index import quote, read_indexes
from ..search.tokens import match_expression
from ..sql import identifier
from . import params, withheld
from .errors import VALIDATION, ActionError, invalid, missing, not_found

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000  # CKAN's `ckan.datastore.search.rows_max`, set for this site: a larger limit is clamped
# Table Schema type → the DataStore (PostgreSQL) type name CKAN clients expect
TYPES = {
    "integer": "int",
    "number": "numeric",
    "boolean": "bool",
    "date": "date",
    "datetime": "timestamp",
    "time": "time",
    "year": "int",
    "object": "json",
    "array": "json",
}
RESOURCE_IN_SQL = re.compile(r'"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"')


def _field(f: FieldRecord) -> dict[str, Any]:
    return {
        "id": f.name,
        "type": TYPES.get(f.type, "text"),
        "info": {"label": f.title or "", "notes": f.description or ""},
    }


def _value(v: Any) -> Any:
    return v.hex() if isinstance(v, bytes) else v


async def _resource(p: dict, read, base: str) -> tuple[ResourceRecord, list[FieldRecord]]:
    rid = params.text(p, "resource_id") or params.text(p, "id")
    if rid is None:
        raise missing("resource_id")

    def run(conn):
        r = q.resource(conn, rid)
        return r and (r, q.fields(conn, r.dataset, r.name), withheld.of(conn, r.dataset))

    found = await read(run)
    if not found:
        raise not_found("resource", rid)
    r, fields, w = found
    if w is not None:  # a conditional or closed dataset: its rows are not served
        raise withheld.refusal(w, base)
    return r, fields


def _database(database: Callable[[str], Any], r: ResourceRecord):
    db = database(r.dataset)
    if db is None:
        raise not_found("resource", r.ckan_id)
    return db


def _sort(text: str | None, columns: set[str]) -> str:
    terms = []
    for part in (text or "").split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or words[0] not in columns or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise invalid("sort", "ckan_bad_column", value=part.strip()[:100])
        terms.append(identifier(words[0]) + (" desc" if len(words) == 2 and words[1].lower() == "desc" else ""))
    return ", ".join(terms + ["rowid"])


async def search(p: dict, read, database: Callable[[str], Any], site_base: str) -> dict:
    url = f"{site_base}/api/3/action/datastore_search"
    r, fields = await _resource(p, read, site_base)
    db = _database(database, r)
    columns = {f.name for f in fields}
    wanted = params.string_list(p, "fields", comma=True) or [f.name for f in fields]
    for name in wanted:
        if name not in columns and name != "_id":
            raise invalid("fields", "ckan_bad_column", value=name[:100])
    filters = params.mapping(p, "filters") or {}
    where: list[str] = []
    values: dict[str, Any] = {}
    for i, (name, value) in enumerate(filters.items()):
        if name not in columns:
            raise invalid("filters", "ckan_bad_column", value=str(name)[:100])
        if isinstance(value, list):
            items = [_scalar(v, "filters") for v in value[:1000]]
            keys = [f"f{i}_{j}" for j in range(len(items))]
            values.update(zip(keys, items))
            where.append(f"{identifier(name)} in ({', '.join(':' + k for k in keys) or 'null'})")
        else:
            values[f"f{i}"] = _scalar(value, "filters")
            where.append(f"{identifier(name)} = :f{i}")
    text = params.text(p, "q")
    order = _sort(params.text(p, "sort"), columns)
    limit = min(params.integer(p, "limit", DEFAULT_LIMIT, 0, 10**9), MAX_LIMIT)
    offset = params.integer(p, "offset", 0, 0, 10**9)
    include_total = params.boolean(p, "include_total", True)
    as_lists = params.text(p, "records_format", default="objects") == "lists"
    selected = ", ".join(["rowid as _id"] + [identifier(n) for n in wanted if n != "_id"])
    table = identifier(r.name)

    def run(conn: sqlite3.Connection):
        conds, binds = list(where), dict(values)
        if text:
            tindex = read_indexes(conn).get(r.name)
            expression = match_expression(text)
            if tindex is None:
                raise invalid("q", "ckan_not_searchable")
            if not expression:
                conds.append("0")
            else:
                binds["q"] = expression
                conds.append(f"rowid in (select rowid from {quote(tindex.index)} where {quote(tindex.index)} match :q)")
        clause = " where " + " and ".join(conds) if conds else ""
        cur = conn.execute(
            f"select {selected} from {table}{clause} order by {order} limit :limit offset :offset",
            {**binds, "limit": limit, "offset": offset},
        )
        names = [d[0] for d in cur.description]
        rows = [[_value(v) for v in row] for row in cur.fetchall()]
        total = conn.execute(f"select count(*) from {table}{clause}", binds).fetchone()[0] if include_total else None
        return names, rows, total

    # Under the time limit whatever route brought it here (plugins/visitor_limits.py sets it).
    token = VISITOR.set(VISITOR.get() or "search")
    try:
        names, rows, total = await db.execute_fn(run)
    except sqlite3.OperationalError as e:
        if e.args == ("interrupted",):
            raise ActionError(VALIDATION, "ckan_sql_timeout", field="query") from None
        raise
    finally:
        VISITOR.reset(token)
    by_name = {f.name: f for f in fields}
    out_fields = [{"id": "_id", "type": "int"}] + [_field(by_name[n]) for n in names[1:]]
    base = {k: v for k, v in (("resource_id", r.ckan_id), ("limit", limit)) if v is not None}
    result: dict[str, Any] = {
        "resource_id": r.ckan_id,
        "fields": out_fields,
        "records": rows if as_lists else [dict(zip(names, row)) for row in rows],
        "limit": limit,
        "offset": offset,
        "_links": {
            "start": f"{url}?{urlencode(base)}",
            "next": f"{url}?{urlencode({**base, 'offset': offset + limit})}",
        },
    }
    if total is not None:
        result["total"] = total
    if text:
        result["q"] = text
    if filters:
        result["filters"] = filters
    return result


def _scalar(value: Any, name: str) -> Any:
    if isinstance(value, (str, int, float)) or value is None:
        return value
    raise invalid(name)


async def search_sql(p: dict, read, database: Callable[[str], Any], base: str) -> dict:
    sql = params.text(p, "sql", required=True)
    assert sql is not None
    named = {m.lower() for m in RESOURCE_IN_SQL.findall(sql)}
    if not named:
        raise invalid("sql", "ckan_sql_no_resource")

    def run(conn):
        found = q.resources_by_id(conn, sorted(named))
        return found, [w for w in (withheld.of(conn, d) for d in sorted({r.dataset for r in found})) if w]

    found, refused = await read(run)
    by_id = {r.ckan_id: r for r in found}
    missing = sorted(named - set(by_id))
    if missing:
        raise not_found("resource", missing[0])
    if refused:  # a conditional or closed dataset's table named: its rows are not served
        raise withheld.refusal(refused[0], base)
    if len({r.dataset for r in found}) > 1:
        raise invalid("sql", "ckan_sql_two_datasets")
    db = _database(database, found[0])
    rewritten = RESOURCE_IN_SQL.sub(lambda m: identifier(by_id[m[1].lower()].name), sql)
    fields: dict[str, FieldRecord] = {}
    for r in found:
        for f in await read(lambda conn, r=r: q.fields(conn, r.dataset, r.name)):
            fields.setdefault(f.name, f)
    # Visitor SQL whatever route brought it here: the guarded pool, its limits and caps.
    token = VISITOR.set("sql")
    try:
        results = await db.execute(rewritten, truncate=True)
    except QueryInterrupted:
        raise ActionError(VALIDATION, "ckan_sql_timeout", field="query") from None
    except DatasetteError as e:  # a guard: too large, a function or statement not allowed
        raise ActionError(VALIDATION, "ckan_sql_refused", field="query", value=str(e.message)[:300]) from None
    except sqlite3.Error as e:
        raise ActionError(VALIDATION, "ckan_sql_failed", field="query", value=str(e)[:300]) from None
    finally:
        VISITOR.reset(token)
    names = results.columns
    out: dict[str, Any] = {
        "sql": sql,
        "fields": [_field(fields[n]) if n in fields else {"id": n, "type": "text"} for n in names],
        "records": [dict(zip(names, (_value(v) for v in row))) for row in results.rows],
    }
    if results.truncated:
        out["records_truncated"] = True
    return out
