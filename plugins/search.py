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

Each worker keeps the last `RESULTS_KEPT` pages of results it computed (query, language, page),
and as many response bodies by URL (the rendered HTML, the JSON): a release never changes, and
a page is a function of its URL (its ETag is too: gongkai.portal.http_cache), so nothing kept is
ever stale. Requests for a page being computed wait for that computation rather than start
their own (a burst of one popular word costs one search).

Reads only what the build wrote: the databases (their `_search_*` tables), the search shards
and catalog.db.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import OrderedDict
from urllib.parse import urlencode

from datasette import Response, hookimpl
from datasette.filters import FilterArguments
from datasette.utils import path_from_row_pks
from datasette.utils.asgi import BadRequest
from markupsafe import Markup

from gongkai import catalogue, i18n
from gongkai.datasette_files import SEARCH_KEY
from gongkai.portal import search_results
from gongkai.search import match_expression, parse, read_indexes, site_index
from gongkai.search.index import indexes_described
from gongkai.search.query import PARAM, few_matches, filter_clause, rowid_list_clause

ROWS_PER_TABLE = 3  # hits shown per table; the table page has the rest
PAGE_DATASETS = 10  # datasets per page of results, whatever N
VERIFY_MAX = 40  # candidates checked per page at most when estimates turn out empty
STATE = "_gongkai_search_state"
SHARDS = "_gongkai_search_shards"
RESULTS = "_gongkai_search_results"
BODIES = "_gongkai_search_bodies"
# pages of results a worker keeps (about 20-40 kB each); GONGKAI_SEARCH_RESULTS_KEPT=0 keeps none
# (the bench's cold figures)
RESULTS_KEPT = int(os.environ.get("GONGKAI_SEARCH_RESULTS_KEPT", "256"))


def language(request) -> str:
    return i18n.lang_of(request)


async def table_indexes(datasette, database: str) -> dict:
    """{table: TableIndex} of one database: from the release's inspect.json where the build
    recorded it, else read from the database the first time it is asked for (never every
    database at once: a site holds thousands)."""
    state = getattr(datasette, STATE, None)
    if state is None:
        state = {}
        setattr(datasette, STATE, state)
    found = state.get(database)
    if found is None:
        # The build records them in inspect.json (gongkai/datasette_files.py): a worker's first
        # page of a dataset then needs no query for them (at 10,000 datasets, nearly every page).
        entry = (datasette.inspect_data or {}).get(database)
        found = indexes_described(entry.get(SEARCH_KEY)) if isinstance(entry, dict) else None
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


def _in_lang(url, lang: str) -> str:
    """`i18n.lang_url` of a URL Datasette made: as a plain `str` first (Datasette's
    `PrefixedUrlString` wraps every string method, which made URL building most of a page's
    time), and a URL without arguments in Chinese as it is."""
    url = str(url)
    if lang == i18n.DEFAULT_LANG and "?" not in url and "#" not in url:
        return url
    return i18n.lang_url(url, lang)


def _with_lang(url: str, lang: str) -> str:
    """`i18n.lang_url` of a URL this module built itself (no `_lang` in it, no fragment): the
    argument appended for English, the URL as it is in Chinese. `lang_url` parses and
    re-encodes the query of every link; a page has about forty of them."""
    if lang == i18n.DEFAULT_LANG:
        return url
    return i18n.lang_url(url, lang) if "#" in url else url + ("&" if "?" in url else "?") + f"{i18n.PARAM}={lang}"


def _group(datasette, hit: site_index.DatasetHit, results: list[dict], query: str, lang: str) -> dict:
    """A dataset's group as the page shows it, from what its own index said (exact counts).
    Each table's URL is built by Datasette once (base URL, tilde-encoded names) and a row's is
    that URL and the row's path, as `urls.row` builds it."""
    tables = []
    search = urlencode({"_search": query})
    for result in results:
        table = result["table"]
        columns = next(t.tindex.columns for t in hit.tables if t.tindex.table == table)
        table_url = str(datasette.urls.table(hit.dataset, table))
        rows = []
        for found in result["rows"]:
            row = found["row"]
            path = path_from_row_pks({**row, "rowid": found["rowid"]}, result["pks"], not result["pks"])
            rows.append(
                {
                    "url": _with_lang(f"{table_url}/{path}", lang),
                    "pk": path,
                    "score": found["score"],
                    "values": {c: row.get(c) for c in columns},
                    "highlights": found["highlights"],
                    "labels": found.get("labels", {}),
                }
            )
        tables.append(
            {
                "table": table,
                "count": result["count"],
                "url": _with_lang(f"{table_url}?{search}", lang),
                "json_url": str(datasette.urls.table(hit.dataset, table, format="json")) + "?" + search,
                "best_score": min((r["score"] for r in rows), default=0.0),
                "rows": rows,
            }
        )
    return {
        "dataset": hit.dataset,
        "url": _in_lang(datasette.urls.path(f"/datasets/{hit.dataset}"), lang),
        "count": sum(t["count"] for t in tables),
        "score": round(hit.score, 4),
        "tables": tables,
    }


async def _no_catalogue_hits() -> list:
    return []


async def kept_search(datasette, query: str, lang: str, start: int = 0) -> dict:
    """`run_search`, from the worker's kept pages when it has this one (see the module); the
    caller must not change the dict it gets (it is shared)."""
    if RESULTS_KEPT <= 0:
        return await run_search(datasette, query, lang, start)
    kept: OrderedDict[tuple, asyncio.Task] | None = getattr(datasette, RESULTS, None)
    if kept is None:
        kept = OrderedDict()
        setattr(datasette, RESULTS, kept)
    key = (query, lang, start)
    task = kept.get(key)
    if task is None:
        task = kept[key] = asyncio.ensure_future(run_search(datasette, query, lang, start))
        while len(kept) > RESULTS_KEPT:
            kept.popitem(last=False)
    else:
        kept.move_to_end(key)
    try:
        # shielded: a client that goes away cancels its wait, not the search others wait for
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        raise
    except Exception:
        if kept.get(key) is task:  # a failed search (a time limit) is not kept
            del kept[key]
        raise


async def run_search(datasette, query: str, lang: str, start: int = 0) -> dict:
    """One page of the site search: the catalogue's hits, then datasets with matching rows,
    best first (gongkai.search.site_index ranks them from the shards without opening any
    dataset), from the `start`-th candidate; each shown dataset's counts and rows come from
    its own index, so they are exact. The ranking and the shown datasets are one call off the
    event loop (`site_index.search_page`), beside the catalogue's."""
    store = shard_store(datasette)
    try:
        titles = catalogue.of(datasette).titles
    except catalogue.CatalogueMissing:
        titles = _no_titles

    def page_and_titles(shards: site_index.Shards) -> tuple[site_index.Page, dict]:
        page = site_index.search_page(
            shards, query, start, size=PAGE_DATASETS, verify_max=VERIFY_MAX, rows=ROWS_PER_TABLE
        )
        # read here, off the event loop, and kept by the store for the page's own lookups
        # (its tables' and columns' titles: plugins/site_context.py)
        return page, {hit.dataset: titles(hit.dataset) for hit, _ in page.shown}

    # the catalogue's hits (its own ranked list, twenty at most) head the first page only
    hits, (page, named) = await asyncio.gather(
        _catalogue(datasette, lambda c: c.search(query), []) if not start else _no_catalogue_hits(),
        store.read(page_and_titles) if store is not None else _no_page(),
    )
    catalog = [hit.as_dict() for hit in hits]
    for hit in catalog:
        hit["url"] = _in_lang(datasette.urls.path(f"/datasets/{hit['name']}"), lang)
    groups = [_group(datasette, hit, results, query, lang) for hit, results in page.shown]
    for group in groups:
        found = named.get(group["dataset"])
        record = found.dataset if found else None
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


async def _no_page() -> tuple[site_index.Page, dict]:
    return site_index.Page(site_index.Ranked([], 0, True, 0), [], None), {}


def _no_titles(name: str) -> None:
    return None


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


def _kept(datasette, name: str) -> OrderedDict:
    kept = getattr(datasette, name, None)
    if kept is None:
        kept = OrderedDict()
        setattr(datasette, name, kept)
    return kept


def _keep(kept: OrderedDict, key, value) -> None:
    kept[key] = value
    while len(kept) > RESULTS_KEPT:
        kept.popitem(last=False)


async def search_view(datasette, request):
    query = (request.args.get("q") or "").strip()
    lang = language(request)
    start = _start(request)
    wants_json = request.url_vars.get("format") == ".json"
    bodies = _kept(datasette, BODIES)
    key = (wants_json, request.full_path)
    body = bodies.get(key) if RESULTS_KEPT > 0 else None
    if body is not None:
        bodies.move_to_end(key)
        return _response(datasette, body, wants_json)
    body = await _render(datasette, request, query, lang, start, wants_json)
    if RESULTS_KEPT > 0:
        _keep(bodies, key, body)
    return _response(datasette, body, wants_json)


def _response(datasette, body: str, wants_json: bool) -> Response:
    if wants_json:
        headers = {"Access-Control-Allow-Origin": "*"} if datasette.cors else None
        return Response(body, content_type="application/json; charset=utf-8", headers=headers)
    return Response.html(body)


async def _render(datasette, request, query: str, lang: str, start: int, wants_json: bool) -> str:
    """The page's body: the JSON (as `Response.json` writes it) or the HTML."""
    result = await kept_search(datasette, query, lang, start) if match_expression(query) else _empty(query)
    if wants_json:
        result = dict(result)  # the kept page stays as it was
        if result["next"] is not None:
            result["next_url"] = _page_url(datasette, query, result["next"], lang, as_json=True)
        return json.dumps(result)
    args = {"q": query, **({"_next": str(start)} if start else {})}
    html = await datasette.render_template(
        "gongkai_search.html",
        {
            "q": query,
            "result": result,
            "mark": Markup,
            "search_groups": search_results.groups,
            "json_url": datasette.urls.path("/-/search.json") + "?" + urlencode(args),
        },
        request=request,
    )
    return html


# What the first search page of a worker would otherwise compile or open: its templates
# (Jinja compiles a template on first use: ~100 ms for these) and the shards in both search
# threads. Done at worker start, before it takes requests (gongkai.asgi runs the startup hooks
# during lifespan startup).
SEARCH_TEMPLATES = ("gongkai_search.html", "base.html", "_crumbs.html", "_footer.html")


@hookimpl
def startup(datasette):
    async def inner():
        for name in SEARCH_TEMPLATES:
            try:
                datasette.jinja_env.get_template(name)
            except Exception:  # a site without one of them (a test's own templates) compiles on use
                pass
        store = shard_store(datasette)
        if store is not None:
            await store.warm()

    return inner


@hookimpl
def register_routes():
    return [(r"^/-/search(?P<format>\.json)?$", search_view)]
