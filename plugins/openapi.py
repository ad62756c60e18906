"""`/openapi.json`: the OpenAPI 3.1 description of the public JSON API (gongkai/opendata/openapi.py),
and its readable list on `/api` (`openapi_operations`, rendered by `_openapi_list.html`).

The document names this site's datasets and tables as examples; it is built once per release
and language (the release is immutable) from the catalogue, read on the catalogue's threads.
No SQL here.
"""

from __future__ import annotations

import json

from datasette import Response, hookimpl

from gongkai import catalogue, i18n
from gongkai.catalogue import harvest
from gongkai.opendata import openapi
from gongkai.portal import routes
from gongkai.portal.api_examples import configured_base_url

CORS = {"Access-Control-Allow-Origin": "*"}


async def _document(datasette, lang: str) -> dict:
    cache = datasette.__dict__.setdefault("_gongkai_openapi", {})
    if lang not in cache:

        def read(conn):
            site = harvest.site_context(conn).site
            return site, harvest.after(conn, None, openapi.EXAMPLE_LIMIT)

        site, entries = await catalogue.of(datasette).read(lambda c: read(c.conn))
        names = [e.dataset.name for e in entries]
        tables = sorted({r.name for e in entries for r in e.resources})
        # The configured address, else relative ('/'): never the request's Host header.
        base = configured_base_url(site.base_url) + datasette.urls.path("/").rstrip("/")
        cache[lang] = openapi.document(base, names, tables, lang)
    return cache[lang]


async def openapi_json(datasette, request):
    doc = await _document(datasette, i18n.lang_of(request))
    body = json.dumps(doc, ensure_ascii=False, indent=1)
    return Response(body, content_type="application/json; charset=utf-8", headers=CORS)


@hookimpl
def register_routes():
    return [(pattern, openapi_json) for pattern, _view in routes.OPENAPI_ROUTES]


@hookimpl
def extra_template_vars(template, request, datasette):
    if template != "portal_api.html" or request is None:
        return {}

    async def inner():
        lang = i18n.lang_of(request)
        doc = await _document(datasette, lang)
        return {
            "openapi_operations": openapi.operations(doc),
            "openapi_url": datasette.urls.path(i18n.lang_url("/openapi.json", lang)),
        }

    return inner
