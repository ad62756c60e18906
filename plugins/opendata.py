"""The machine-readable catalogue's routes (gongkai/opendata/ builds the documents).

- `/data.json` (DCAT-US 1.1) and `/data-v3.json` (DCAT-US 3.0): the file the build wrote
  (gongkai/opendata/prebuilt.py; gzip, ranges, its length) when the served base URL and code
  are the build's, else streamed, one catalogue slice at a time, so a catalogue of any size is
  served in bounded memory (the same bytes: tests/test_catalogue_files.py);
- `/catalog.ttl|.jsonld|.rdf` (DCAT-AP 3): one Hydra page (`?page=`, 1 by default);
- `/datasets/<name>.ttl|.jsonld|.rdf`: one dataset's DCAT-AP;
- content negotiation: `/datasets/<name>` and `/catalog` answer RDF to a client that prefers
  it (`Accept: text/turtle`…); every landing page says `Vary: Accept`. `/catalog` sends a
  browser to the catalogue list;
- the landing pages' and the home page's `<head>`: schema.org JSON-LD and the alternate links
  (through `extra_template_vars`; the templates include `_opendata_head.html`).

Every document has `Access-Control-Allow-Origin: *`. No SQL here: the catalogue is read
through `gongkai.catalogue.harvest` on the catalogue's threads.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from pathlib import Path

from datasette import Response, hookimpl

from gongkai import catalogue, catalogue_files, i18n
from gongkai.catalogue import harvest
from gongkai.opendata import dcat_ap, dcat_us, dcat_us3, negotiate, schema_org, stream
from gongkai.opendata.urls import SiteUrls
from gongkai.portal import file_response, routes

CORS = {"Access-Control-Allow-Origin": "*"}
JSON = "application/json; charset=utf-8"
LANDING = re.compile(rf"^/datasets/{routes.NAME}$")
CATALOG = "/catalog"
CACHE = "public, max-age=300"  # a release changes the catalogue; five minutes is fresh enough


def _error(key: str, status: int, **fmt) -> Response:
    """A bilingual plain-text error: a harvester logs it as it is, a person reads either line."""
    body = "\n".join(i18n.t(key, lang, **fmt) for lang in ("zh", "en")) + "\n"
    return Response.text(body, status=status, headers=CORS)


async def _read(datasette, fn):
    """`fn(conn, memo)` on the catalogue's threads (memo: the release's kept answers)."""
    return await catalogue.of(datasette).read(lambda c: fn(c.conn, c.memo))


def _urls(datasette, ctx: harvest.Context) -> SiteUrls:
    return SiteUrls.of(datasette, ctx.site.base_url)


async def _send_stream(send, chunks, content_type: str) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"cache-control", CACHE.encode()),
        *((k.lower().encode(), v.encode()) for k, v in CORS.items()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    async for chunk in chunks:
        await send({"type": "http.response.body", "body": chunk.encode("utf-8"), "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _prebuilt(datasette, store, name: str) -> Path | None:
    """The document the build wrote (gongkai/catalogue_files.py), if it is what this server
    would stream: the same base URL, no Datasette path prefix, the same code."""
    if datasette.urls.path("/") != "/":
        return None
    site = await store.read(lambda c: harvest.site_context(c.conn, c.memo))
    base = _urls(datasette, site).base
    # the first call of a worker hashes the documents' code (tens of ms): off the event loop
    return await asyncio.to_thread(catalogue_files.document, store.release, name, base)


async def _data_json(datasette, request, send, name: str, module) -> None:
    store = catalogue.of(datasette)
    built = await _prebuilt(datasette, store, name)
    if built is not None:
        plan = file_response.plan(
            size=built.stat().st_size,
            content_type=JSON,
            filename=None,
            range_header=request.headers.get("range"),
            accept_encoding=request.headers.get("accept-encoding", ""),
            cors=CORS,
        )
        await file_response.send(send, built, plan, head=request.method == "HEAD")
        return
    ctx = await store.read(lambda c: harvest.context(c.conn, memo=c.memo))
    urls = _urls(datasette, ctx)

    async def read(after, size):
        return await store.read(lambda c: harvest.after(c.conn, after, size))

    async def items():
        async for entries in stream.slices_of(read, key=lambda e: e.dataset.name):
            # ~1 ms of Python per dataset: off the event loop, a slice at a time
            yield await asyncio.to_thread(lambda entries=entries: [module.dataset(e, ctx, urls) for e in entries])

    await _send_stream(send, stream.json_document(module.head(ctx, urls), "dataset", items()), JSON)


async def data_json(datasette, request, send):
    await _data_json(datasette, request, send, "data.json", dcat_us)


async def data_v3_json(datasette, request, send):
    await _data_json(datasette, request, send, "data-v3.json", dcat_us3)


def _page_number(request) -> int | None:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 10**9 else None


# Serialised catalogue pages of the served release: it never changes, so a page is built once
# (about half a second of rdflib for 50 datasets) and then served from here. Bounded: 24 pages
# of 0.3-0.6 MB (Turtle, JSON-LD measured on the generated portal), under 15 MB.
_PAGES: OrderedDict[tuple, bytes] = OrderedDict()
PAGES_KEPT = 24


async def catalog_rdf(datasette, request):
    syntax = request.url_vars["syntax"]
    number = _page_number(request)
    if number is None:
        return _error("opendata.bad_page", 400)
    store = catalogue.of(datasette)
    site = await store.read(lambda c: harvest.site_context(c.conn, c.memo))
    last = max(1, -(-site.total // dcat_ap.PER_PAGE))
    if number > last:
        return _error("opendata.page_not_found", 404, page=number, last=last)
    urls = _urls(datasette, site)
    key = (str(store.path), urls.base, syntax, number)
    body = _PAGES.get(key)
    if body is None:
        ctx, page = await store.read(
            lambda c: (harvest.context(c.conn, memo=c.memo), harvest.page(c.conn, number, dcat_ap.PER_PAGE))
        )
        # rdflib is pure Python: off the event loop, so other requests go on meanwhile
        files = catalogue_files.site_files(store.release)  # the catalogue's own downloads
        body = await asyncio.to_thread(
            lambda: dcat_ap.serialise(dcat_ap.catalog_page(page, ctx, urls, syntax, files), syntax)
        )
        _PAGES[key] = body
        while len(_PAGES) > PAGES_KEPT:
            _PAGES.popitem(last=False)
    _PAGES.move_to_end(key)
    return _rdf(body, syntax)


def _rdf(body: bytes, syntax: str) -> Response:
    _, media = dcat_ap.SYNTAXES[syntax]
    return Response(
        body,
        content_type=f"{media}; charset=utf-8",
        headers={**CORS, "Cache-Control": CACHE, "Vary": "Accept"},
    )


async def dataset_rdf(datasette, request):
    name, syntax = request.url_vars["name"], request.url_vars["syntax"]

    def ask(conn, memo):
        entry = harvest.one(conn, name)
        return (entry, harvest.context(conn, only=entry.dataset, memo=memo)) if entry else (None, None)

    entry, ctx = await _read(datasette, ask)
    if entry is None:
        return _error("opendata.dataset_not_found", 404, name=name)
    urls = _urls(datasette, ctx)
    body = await asyncio.to_thread(lambda: dcat_ap.serialise(dcat_ap.dataset_graph(entry, ctx, urls), syntax))
    return _rdf(body, syntax)


async def catalog_iri(datasette, request):
    """`/catalog` names the catalogue in the RDF; a browser asking for it gets the list."""
    return Response.redirect(datasette.urls.path("/datasets"), status=303)


VIEWS = {
    "data_json": data_json,
    "data_v3_json": data_v3_json,
    "catalog_rdf": catalog_rdf,
    "dataset_rdf": dataset_rdf,
    "catalog_iri": catalog_iri,
}


@hookimpl
def register_routes():
    # The table lives in gongkai.portal.routes, which reserves the names it uses.
    return [(pattern, VIEWS[view]) for pattern, view in routes.OPENDATA_ROUTES]


# ---------------------------------------------------------------------------------------------
# Content negotiation


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def asgi(scope, receive, send):
            if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
                return await app(scope, receive, send)
            path = scope.get("path", "")
            landing = LANDING.match(path)
            if not landing and path != CATALOG:
                return await app(scope, receive, send)
            syntax = negotiate.rdf_syntax(_header(scope, b"accept"))
            if syntax:
                target = f"{path}.{syntax}"
                scope = {**scope, "path": target, "raw_path": target.encode()}
                return await app(scope, receive, send)

            async def vary(message):
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", []))
                    others = [v for k, v in headers if k.lower() == b"vary"]
                    keep = [(k, v) for k, v in headers if k.lower() != b"vary"]
                    message = {**message, "headers": [*keep, (b"vary", b", ".join([b"Accept", *others]))]}
                await send(message)

            return await app(scope, receive, vary)

        return asgi

    return wrap


# ---------------------------------------------------------------------------------------------
# The pages' <head>


@hookimpl
def extra_template_vars(template, request, datasette):
    if template not in ("portal_dataset.html", "portal_home.html") or request is None:
        return {}

    async def inner():
        lang = i18n.lang_of(request)
        if template == "portal_home.html":
            ctx = await _read(datasette, harvest.site_context)
            urls = _urls(datasette, ctx)
            return {
                "opendata_jsonld": schema_org.script_json(schema_org.data_catalog(ctx, urls, lang)),
                "opendata_alternates": [
                    ("text/turtle", datasette.urls.path("/catalog.ttl"), "DCAT-AP (Turtle)"),
                    ("application/ld+json", datasette.urls.path("/catalog.jsonld"), "DCAT-AP (JSON-LD)"),
                    ("application/rdf+xml", datasette.urls.path("/catalog.rdf"), "DCAT-AP (RDF/XML)"),
                    ("application/json", datasette.urls.path("/data.json"), "DCAT-US 1.1 (data.json)"),
                    ("application/json", datasette.urls.path("/data-v3.json"), "DCAT-US 3.0"),
                ],
            }
        name = (request.url_vars or {}).get("name")

        def ask(conn, memo):
            entry = harvest.one(conn, name)
            return (entry, harvest.context(conn, only=entry.dataset, memo=memo)) if entry else (None, None)

        entry, ctx = await _read(datasette, ask) if name else (None, None)
        if entry is None:
            return {}
        urls = _urls(datasette, ctx)
        base = f"/datasets/{name}"
        return {
            "opendata_jsonld": schema_org.script_json(schema_org.dataset(entry, ctx, urls, lang)),
            "opendata_alternates": [
                ("text/turtle", datasette.urls.path(base + ".ttl"), "DCAT-AP (Turtle)"),
                ("application/ld+json", datasette.urls.path(base + ".jsonld"), "DCAT-AP (JSON-LD)"),
                ("application/rdf+xml", datasette.urls.path(base + ".rdf"), "DCAT-AP (RDF/XML)"),
            ]
            # a conditional or closed dataset has no database served (plugins/openness.py)
            + (
                [("application/json", datasette.urls.database(name) + ".json", "Datasette JSON")]
                if name in datasette.databases
                else []
            ),
        }

    return inner
