"""Search for the whole site (gongkai.search does the work; this file connects it to Datasette).

- `?_search=` on every table the build indexed: a `filters_from_request` hook adds (for up to
  1,000 matches, the matching rowids themselves: the page runs its clause twice, count and rows)
  `rowid in (select rowid from _search_<table> where … match :param)` with the query compiled by
  `gongkai.search.match_expression` (Chinese substrings, Latin words and prefixes, AND, quoted
  phrases), so the table keeps its sort order, facets and pagination. Datasette's own search
  never sees our index: it is contentless, which Datasette's FTS detection does not pick up.
- `/-/search?q=` (HTML, Chinese by default, English with `_lang=en`: gongkai.i18n) and `/-/search.json?q=`:
  the catalogue search over catalog.db plus one ranked query per indexed table of every
  dataset (fanned out in parallel; SQLite could attach only 10 databases at once), grouped by
  dataset with counts and highlighted matches, each group linking into the filtered table.

Reads only what the build wrote: the databases (their `_search_*` tables) and catalog.db.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

from datasette import Response, hookimpl
from datasette.filters import FilterArguments
from datasette.utils import path_from_row_pks
from markupsafe import Markup

from gongkai import catalogue, i18n
from gongkai.search import match_expression, parse, read_indexes, search_table
from gongkai.search.query import PARAM, few_matches, filter_clause, rowid_list_clause

ROWS_PER_TABLE = 5
STATE = "_gongkai_search_state"


def language(request) -> str:
    return i18n.lang_of(request)


async def site_indexes(datasette) -> dict:
    """{(database, table): TableIndex}, read once from the immutable databases."""
    state = getattr(datasette, STATE, None)
    if state is None:
        state = {}
        for name, db in datasette.databases.items():
            if name == "_internal":
                continue
            try:
                found = await db.execute_fn(read_indexes)
            except Exception:  # a database without sqlite_master access is simply not searchable
                continue
            for table, tindex in found.items():
                state[(name, table)] = tindex
        setattr(datasette, STATE, state)
    return state


TABLE_STATE = "_gongkai_search_table_indexes"
TABLES_CACHED = 512  # databases whose index descriptions a worker keeps for `?_search=`


async def database_indexes(datasette, database: str) -> dict:
    """{table: TableIndex} of one database, for a table page: read when first asked and kept
    for the most recent `TABLES_CACHED` databases. (Reading every database's indexes, as the
    site-wide search does, made a worker's first table page take 14 s at 10,000 datasets, and
    opened all 10,000 files.)"""
    cache: dict | None = getattr(datasette, TABLE_STATE, None)
    if cache is None:
        cache = {}
        setattr(datasette, TABLE_STATE, cache)
    if database in cache:
        found = cache.pop(database)
        cache[database] = found  # most recent last
        return found
    site = getattr(datasette, STATE, None)
    if site is not None:
        found = {t: i for (d, t), i in site.items() if d == database}
    else:
        db = datasette.databases.get(database)
        try:
            found = await db.execute_fn(read_indexes) if db is not None else {}
        except Exception:  # a database without sqlite_master access is simply not searchable
            found = {}
    cache[database] = found
    while len(cache) > TABLES_CACHED:
        cache.pop(next(iter(cache)))
    return found


# ---------------------------------------------------------------------------------------------
# ?_search= on a table


@hookimpl(trylast=True)
def filters_from_request(request, database, table, datasette):
    async def inner():
        tindex = (await database_indexes(datasette, database)).get(table)
        if tindex is None:
            return None
        query = (request.args.get("_search") or "").strip()
        lang = language(request)
        box = {
            "query": query,
            "columns": list(tindex.columns),
            "lang": lang,
            **_box_text(lang),
            "hidden": [(k, v) for k in request.args for v in request.args.getlist(k) if k not in ("_search", "_next")],
        }
        extra = {"gongkai_search": box}
        expression = match_expression(query)
        if not expression:
            return FilterArguments([], extra_context=extra)
        found = await datasette.get_database(database).execute_fn(lambda conn: few_matches(conn, tindex, query))
        if found is not None:
            clause, param = rowid_list_clause(), json.dumps(found)
        else:
            clause, param = filter_clause(tindex.index), expression
        return FilterArguments(
            [clause],
            params={PARAM: param},
            # Datasette's `human_description_en` (the table JSON's): English, from the locale
            human_descriptions=[i18n.t("desc_search", "en", v=query)],
            extra_context=extra,
        )

    return inner


def _box_text(lang: str) -> dict:
    return {
        key: i18n.t(f"search_{name}", lang)
        for key, name in (("label", "table_label"), ("button", "button"), ("hint", "hint"))
    }


# ---------------------------------------------------------------------------------------------
# /-/search


async def _catalogue(datasette, fn, default):
    try:
        return await catalogue.of(datasette).read(fn)
    except catalogue.CatalogueMissing:
        return default


async def run_search(datasette, query: str, lang: str) -> dict:
    indexes = await site_indexes(datasette)
    catalog = [hit.as_dict() for hit in await _catalogue(datasette, lambda c: c.search(query), [])]
    for hit in catalog:
        hit["url"] = i18n.lang_url(datasette.urls.path(f"/datasets/{hit['name']}"), lang)
    data = list(indexes)

    async def one(db_name, table):
        tindex = indexes[(db_name, table)]
        db = datasette.databases[db_name]
        result = await db.execute_fn(lambda conn: search_table(conn, tindex, query, limit=ROWS_PER_TABLE, labels=True))
        if not result["count"]:
            return None
        pks = await db.primary_keys(table)
        rows = []
        for hit in result["rows"]:
            row = hit["row"]
            path = path_from_row_pks({**row, "rowid": hit["rowid"]}, pks, not pks)
            rows.append(
                {
                    "url": i18n.lang_url(datasette.urls.row(db_name, table, path), lang),
                    "pk": path,
                    "score": hit["score"],
                    "values": {c: row.get(c) for c in tindex.columns},
                    "highlights": hit["highlights"],
                    "labels": hit.get("labels", {}),
                }
            )
        return {
            "table": table,
            "count": result["count"],
            "url": i18n.lang_url(datasette.urls.table(db_name, table) + "?" + urlencode({"_search": query}), lang),
            "json_url": datasette.urls.table(db_name, table, format="json") + "?" + urlencode({"_search": query}),
            "best_score": min((r["score"] for r in rows), default=0.0),
            "rows": rows,
        }

    results = await asyncio.gather(*(one(db, t) for db, t in data)) if data else []
    named = await _catalogue(datasette, lambda c: c.datasets_named([db for db, _ in data]), {})
    titles = {name: (d.title, d.title_en) for name, d in named.items()}
    groups: dict[str, dict] = {}
    for (db_name, _), result in zip(data, results):
        if not result:
            continue
        title, title_en = titles.get(db_name, (None, None))
        group = groups.setdefault(
            db_name,
            {
                "dataset": db_name,
                "title": title,
                "title_en": title_en,
                "url": i18n.lang_url(datasette.urls.path(f"/datasets/{db_name}"), lang),
                "count": 0,
                "tables": [],
            },
        )
        group["count"] += result["count"]
        group["tables"].append(result)
    for group in groups.values():
        group["tables"].sort(key=lambda t: t["best_score"])
        group["best_score"] = group["tables"][0]["best_score"]
    ordered = sorted(groups.values(), key=lambda g: g["best_score"])
    return {
        "ok": True,
        "q": query,
        "terms": [t.text for t in parse(query)],
        "datasets": catalog,
        "groups": ordered,
        "total": sum(g["count"] for g in ordered),
    }


async def search_view(datasette, request):
    query = (request.args.get("q") or "").strip()
    lang = language(request)
    wants_json = request.url_vars.get("format") == ".json"
    result = (
        await run_search(datasette, query, lang)
        if match_expression(query)
        else {
            "ok": True,
            "q": query,
            "terms": [],
            "datasets": [],
            "groups": [],
            "total": 0,
        }
    )
    if wants_json:
        return Response.json(result, headers={"Access-Control-Allow-Origin": "*"} if datasette.cors else None)
    html = await datasette.render_template(
        "gongkai_search.html",
        {
            "q": query,
            "result": result,
            "mark": Markup,
            "json_url": datasette.urls.path("/-/search.json") + "?" + urlencode({"q": query}),
        },
        request=request,
    )
    return Response.html(html)


@hookimpl
def register_routes():
    return [(r"^/-/search(?P<format>\.json)?$", search_view)]
