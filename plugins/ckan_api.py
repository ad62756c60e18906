"""The CKAN Action API's routes: `/api/3/action/<name>`, `/api/action/<name>` (ckanapi's
default) and `/api/util/status`, read-only (gongkai/ckan/actions.py has the actions).

GET takes the query string; POST a JSON (or form) body. plugins/error_pages.py lets POST
through only on these addresses, with the body already read and bounded
(gongkai/ckan/http.py); Datasette's CSRF check is skipped for them (`skip_csrf`), as ckanapi
posts without a cookie or token and the API changes nothing. Every answer is CKAN's envelope
with CKAN's status (200, 400, 403, 404, 409, 413) and the CORS headers.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from datasette import Response, hookimpl
from datasette.utils import add_cors_headers

from gongkai import catalogue
from gongkai.ckan import actions, http
from gongkai.ckan.errors import NOT_FOUND, ActionError
from gongkai.portal import api_examples, routes

ALLOW = "GET, HEAD, POST, OPTIONS"


def cors(datasette) -> dict[str, str]:
    headers: dict[str, str] = {}
    if datasette.cors:
        add_cors_headers(headers)
        headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, X-CKAN-API-Key"
        headers["Access-Control-Allow-Methods"] = ALLOW
    return headers


def site_of(datasette) -> actions.Site:
    store = catalogue.of(datasette)
    cached = getattr(datasette, "_gongkai_ckan_site", None)
    if cached is not None and cached[0] == store.release:
        return cached[1]
    info = store.read_now(lambda c: c.site())  # one row, read once per release

    async def read(fn):
        return await store.read(lambda c: fn(c.conn))

    site = actions.Site(
        read=read,
        database=lambda name: datasette.databases.get(name),
        base=api_examples.configured_base_url(info.base_url),
        title=info.title,
        description=info.description,
    )
    datasette._gongkai_ckan_site = (store.release, site)
    return site


def answer(datasette, help_url: str, result=None, error: ActionError | None = None) -> Response:
    status = 200 if error is None else error.status
    return Response.json(http.envelope(help_url, result, error), status=status, headers=cors(datasette))


async def ckan_action(datasette, request):
    name = request.url_vars["action"]
    try:
        site = site_of(datasette)
    except catalogue.CatalogueMissing:
        return answer(datasette, "", error=ActionError(NOT_FOUND, "ckan_not_found_dataset", id="catalog.db"))
    help_url = actions.help_url(site, name)
    try:
        body = await request.post_body() if request.method == "POST" else b""
        query = parse_qsl(request.query_string, keep_blank_values=True)
        data = http.parameters(query, body, request.headers.get("content-type", ""))
        result = await actions.call(name, data, site)
    except ActionError as e:
        return answer(datasette, help_url, error=e)
    return answer(datasette, help_url, result)


async def ckan_status(datasette, request):
    """CKAN's `/api/util/status`: status_show's dict without the envelope (uData reads it)."""
    return Response.json(actions.status(site_of(datasette)), headers=cors(datasette))


@hookimpl
def register_routes():
    views = globals()
    return [(pattern, views[view]) for pattern, view in routes.CKAN_ROUTES]


@hookimpl
def skip_csrf(scope):
    return routes.is_ckan_api(scope.get("path", ""))
