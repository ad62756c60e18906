"""Search for the whole site (gongkai.search does the work; this file connects it to Datasette).

- `?_search=` on every table the build indexed: a `filters_from_request` hook adds (for up to
  1,000 matches, the matching rowids themselves: the page runs its clause twice, count and rows)
  `rowid in (select rowid from _search_<table> where … match :param)` with the query compiled by
  `gongkai.search.match_expression` (Chinese substrings, Latin words and prefixes, AND, quoted
  phrases), so the table keeps its sort order, facets and pagination. Datasette's own search
  never sees our index: it is contentless, which Datasette's FTS detection does not pick up.
- `/-/search?q=` (HTML, Chinese by default, English with `_lang=en`: gongkai.i18n) and `/-/search.json?q=`:
  the catalogue search over catalog.db, then the datasets whose rows match, best first, ten per
  page (`_next=` continues; links carry the language). The ranking and the site-wide counts come
  from the release's search shards (gongkai.search.site_index: no dataset is opened to rank);
  only the datasets on the page are opened, for their exact counts and best rows
  (gongkai.search.query.search_tables), each group linking into the filtered table.

Reads only what the build wrote: the databases (their `_search_*` tables), the search shards
and catalog.db.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

from datasette import Response, hookimpl
from datasette.filters import FilterArguments
from datasette.utils import path_from_row_pks
from datasette.utils.asgi import BadRequest
from markupsafe import Markup

from gongkai import catalogue, i18n
from gongkai.search import match_expression, parse, read_indexes, site_index
from gongkai.search.query import PARAM, few_matches, filter_clause, rowid_list_clause

ROWS_PER_TABLE = 3  # hits shown per table; the table page has the rest
PAGE_DATASETS = 10  # datasets per page of results, whatever N
VERIFY_MAX = 40  # candidates checked per page at most when estimates turn out empty
STATE = "_gongkai_search_state"
SHARDS = "_gongkai_search_shards"


def language(request) -> str:
    return i18n.lang_of(request)


async def table_indexes(datasette, database: str) -> dict:
    """{table: TableIndex} of one database, read the first time it is asked for (never every
    database at once: a site holds thousands)."""
    state = getattr(datasette, STATE, None)
    if state is None:
        state = {}
        setattr(datasette, STATE, state)
    found = state.get(database)
    if found is None:
        try:
            found = await datasette.get_database(database).execute_fn(read_indexes)
        except Exception:  # a database without sqlite_master access is simply not searchable
            found = {}
        state[database] = found
        while len(state) > TABLES_CACHED:  # bounded whatever the number of datasets
            state.pop(next(iter(state)))
    return found


TABLES_CACHED = 512  # databases whose index descriptions a worker keeps for `?_search=`


def shard_store(datasette) -> site_index.ShardStore | None:
    """The release's site-wide index (gongkai.search.site_index), found beside its catalogue."""
    store = getattr(datasette, SHARDS, None)
    if store is None:
        try:
            release = catalogue.of(datasette).release
        except catalogue.CatalogueMissing:
            return None
        store = site_index.ShardStore(release)
        setattr(datasette, SHARDS, store)
    return store


# ---------------------------------------------------------------------------------------------
# ?_search= on a table


@hookimpl(trylast=True)
def filters_from_request(request, database, table, datasette):
    async def inner():
        tindex = (await table_indexes(datasette, database)).get(table)
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


def _start(request) -> int:
    raw = request.args.get("_next") or "0"
    if not raw.isdigit() or len(raw) > 9:
        raise BadRequest("_next must be a whole number ≥ 0")
    return int(raw)


def _page_url(datasette, query: str, start: int, lang: str, *, as_json: bool = False) -> str:
    path = datasette.urls.path("/-/search.json" if as_json else "/-/search")
    args = {"q": query, **({"_next": str(start)} if start else {})}
    return i18n.lang_url(path + "?" + urlencode(args), lang)


def _group(datasette, hit: site_index.DatasetHit, results: list[dict], query: str, lang: str) -> dict:
    """A dataset's group as the page shows it, from what its own index said (exact counts)."""
    tables = []
    for result in results:
        table = result["table"]
        columns = next(t.tindex.columns for t in hit.tables if t.tindex.table == table)
        rows = []
        for found in result["rows"]:
            row = found["row"]
            path = path_from_row_pks({**row, "rowid": found["rowid"]}, result["pks"], not result["pks"])
            rows.append(
                {
                    "url": i18n.lang_url(datasette.urls.row(hit.dataset, table, path), lang),
                    "pk": path,
                    "score": found["score"],
                    "values": {c: row.get(c) for c in columns},
                    "highlights": found["highlights"],
                    "labels": found.get("labels", {}),
                }
            )
        search = urlencode({"_search": query})
        tables.append(
            {
                "table": table,
                "count": result["count"],
                "url": i18n.lang_url(datasette.urls.table(hit.dataset, table) + "?" + search, lang),
                "json_url": datasette.urls.table(hit.dataset, table, format="json") + "?" + search,
                "best_score": min((r["score"] for r in rows), default=0.0),
                "rows": rows,
            }
        )
    return {
        "dataset": hit.dataset,
        "url": i18n.lang_url(datasette.urls.path(f"/datasets/{hit.dataset}"), lang),
        "count": sum(t["count"] for t in tables),
        "score": round(hit.score, 4),
        "tables": tables,
    }


async def _no_catalogue_hits() -> list:
    return []


async def run_search(datasette, query: str, lang: str, start: int = 0) -> dict:
    """One page of the site search: the catalogue's hits, then datasets with matching rows,
    best first (gongkai.search.site_index ranks them from the shards without opening any
    dataset), from the `start`-th candidate; each shown dataset's counts and rows come from
    its own index, so they are exact. The ranking and the shown datasets are one call off the
    event loop (`site_index.search_page`), beside the catalogue's."""
    store = shard_store(datasette)
    # the catalogue's hits (its own ranked list, twenty at most) head the first page only
    hits, page = await asyncio.gather(
        _catalogue(datasette, lambda c: c.search(query), []) if not start else _no_catalogue_hits(),
        store.read(
            lambda shards: site_index.search_page(
                shards, query, start, size=PAGE_DATASETS, verify_max=VERIFY_MAX, rows=ROWS_PER_TABLE
            )
        )
        if store is not None
        else _no_page(),
    )
    catalog = [hit.as_dict() for hit in hits]
    for hit in catalog:
        hit["url"] = i18n.lang_url(datasette.urls.path(f"/datasets/{hit['name']}"), lang)
    groups = [_group(datasette, hit, results, query, lang) for hit, results in page.shown]
    named = await _catalogue(datasette, lambda c: c.datasets_named([g["dataset"] for g in groups]), {})
    for group in groups:
        record = named.get(group["dataset"])
        group["title"], group["title_en"] = (record.title, record.title_en) if record else (None, None)
    ranked = page.ranked
    return {
        "ok": True,
        "q": query,
        "terms": [t.text for t in parse(query)],
        "datasets": catalog,
        "groups": groups,
        # over the whole site; exact unless `total_exact` is false (then an upper bound: see
        # gongkai.search.site_index)
        "total": ranked.total,
        "total_exact": ranked.exact,
        "datasets_matched": ranked.matched,
        "start": start,
        "next": page.next,
        "next_url": _page_url(datasette, query, page.next, lang) if page.next is not None else None,
        "first_url": _page_url(datasette, query, 0, lang) if start else None,
    }


async def _no_page() -> site_index.Page:
    return site_index.Page(site_index.Ranked([], 0, True, 0), [], None)


def _empty(query: str) -> dict:
    return {
        "ok": True,
        "q": query,
        "terms": [],
        "datasets": [],
        "groups": [],
        "total": 0,
        "total_exact": True,
        "datasets_matched": 0,
        "start": 0,
        "next": None,
        "next_url": None,
        "first_url": None,
    }


async def search_view(datasette, request):
    query = (request.args.get("q") or "").strip()
    lang = language(request)
    start = _start(request)
    wants_json = request.url_vars.get("format") == ".json"
    result = await run_search(datasette, query, lang, start) if match_expression(query) else _empty(query)
    if wants_json:
        if result["next"] is not None:
            result["next_url"] = _page_url(datasette, query, result["next"], lang, as_json=True)
        return Response.json(result, headers={"Access-Control-Allow-Origin": "*"} if datasette.cors else None)
    args = {"q": query, **({"_next": str(start)} if start else {})}
    html = await datasette.render_template(
        "gongkai_search.html",
        {
            "q": query,
            "result": result,
            "mark": Markup,
            "json_url": datasette.urls.path("/-/search.json") + "?" + urlencode(args),
        },
        request=request,
    )
    return Response.html(html)


@hookimpl
def register_routes():
    return [(r"^/-/search(?P<format>\.json)?$", search_view)]
