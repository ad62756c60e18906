"""The site's own error pages: 400/403/404/500 in Chinese (default) or English (`?_lang=en`),
and a JSON body for JSON requests (`error`, `error_zh`, `status`, `title`, `title_zh`, and
`detail`: the original message, where one is shown).

Why not Datasette's: its `handle_exception` (datasette/handle_exception.py, 0.65) prints every
error, 404s included, with `rich` and all local variables (request headers, cookies) to stdout
when `rich` is importable, and frictionless installs it; it answers request mistakes such as
`?_sort=<unknown column>` with 500 (DatasetteError defaults to status 500); and its page is
English only.

How ours wins: Datasette calls *every* `handle_exception` implementation, awaits every result
in turn (app.py `handle_exception`), then sends the first. So a plain hook returning first is
not enough: the default's coroutine would still run (and print). Ours is a hook *wrapper*: it
sees the other implementations' results before Datasette awaits any of them, puts our response
first and drops the default's, so the default never runs. `forbidden` goes through its own hook,
whose first result is the only one awaited; ours is registered after the default (which is
`trylast`), so it comes first.

What the visitor reads comes from gongkai/portal/error_messages.py: Datasette's and SQLite's
English matched to a sentence in each language that says what to do (gongkai/locales/errors.yaml),
the database's own words kept beside it. The query view does not raise for a database error: it
renders `error` itself, so query.html asks `gk_explain_sql(error)` and the JSON renderer is
wrapped (`render_json`) to add the same fields every other JSON error has.

Before any view runs, an ASGI wrapper (`asgi_wrapper`) answers what no view of this read-only
site should see:

- a method other than GET, HEAD and OPTIONS: 405 with `Allow`, bilingual. The one exception is
  POST on the CKAN API's addresses (gongkai.portal.routes.is_ckan_api; ckanapi posts JSON):
  its body is read here, up to gongkai.ckan.http.MAX_BODY (beyond: 413 in CKAN's envelope,
  before more is read), and handed on to plugins/ckan_api.py (and, in the scope, to
  plugins/visitor_limits.py, or taken from it: gongkai.ckan.http.read_once). Datasette's table
  view answers POST with an AssertionError (500), `/-/messages` and `/-/logout` would set
  cookies. OPTIONS (CORS preflight) is answered here too, 204 with the CORS headers, the same
  for every address.
- Datasette's debug and account pages a visitor has no use for (`HIDDEN`): 404. They show the
  server's threads and tasks (file paths), installed plugins, permission checks, or set
  cookies, and some carry inline styles the site's CSP refuses.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from urllib.parse import parse_qs

from datasette import Response, hookimpl
from datasette.renderer import json_renderer
from datasette.utils import InvalidSql, add_cors_headers, tilde_decode
from datasette.utils.asgi import Base400, Request
from datasette.views.base import DatasetteError
from markupsafe import Markup

from gongkai import i18n
from gongkai.ckan import http as ckan_http
from gongkai.portal import error_messages, next_token, routes

log = logging.getLogger("gongkai.errors")

STATUSES = (400, 403, 404, 405, 500)
ALLOWED_METHODS = ("GET", "HEAD", "OPTIONS")
ALLOW = ", ".join(ALLOWED_METHODS)
# Datasette's top-level pages (app.py `_routes`) that are not for visitors, with or without `.json`.
HIDDEN = re.compile(
    r"^/-/(threads|plugins|patterns|allow-debug|permissions|messages|actor|auth-token|logout|config)(\.json)?/?$"
)


def _known(status: int) -> int:
    return status if status in STATUSES else (500 if status >= 500 else 400)


def title(status: int, lang: str) -> str:
    return i18n.t(f"error_title_{_known(status)}", lang)


def hint(status: int, lang: str) -> str:
    return i18n.t(f"error_hint_{_known(status)}", lang)


def _kind(exception: Exception, request) -> error_messages.Kind:
    """Whose words a DatasetteError carries: Datasette's about the address, or the database's
    about SQL the visitor wrote (`?sql=`, `_where=`) or the site built from the address."""
    if not isinstance(exception.__context__, (sqlite3.Error, InvalidSql)):
        return "request"
    url_vars = request.url_vars if request is not None else {}
    visitor_sql = request is not None and ("sql" in request.args or "_where" in request.args)
    return "sql" if visitor_sql or "table" not in url_vars else "page"


def _json_argument(exception: json.JSONDecodeError, request) -> str | None:
    """The request argument whose value Datasette tried to read as JSON (`col__in=[…`,
    `_through=`), if the failed text is one: a visitor's mistake, not the site's."""
    if request is None:
        return None
    for name in request.args.keys():
        if exception.doc in request.args.getlist(name):
            return name
    return None


# What a message of Datasette's that no pattern knows says, by status.
FALLBACKS = {403: "err_forbidden", 404: "err_page_not_found"}


def classify(exception: Exception, request=None) -> tuple[int, error_messages.Explained | None]:
    """The HTTP status for an exception and what to tell the visitor (None: a 500, whose text
    may hold internals, so the visitor reads only the status's title)."""
    if isinstance(exception, Base400):
        message = str(exception.args[0]) if exception.args else ""
        fallback = FALLBACKS.get(exception.status, "err_unknown_request")
        return exception.status, error_messages.explain(message, fallback=fallback) if message else None
    if isinstance(exception, DatasetteError):
        message = exception.message
        if exception.message_is_html:
            message = Markup(message).striptags()
        # Datasette raises DatasetteError only for problems with the request (unknown sort
        # column, bad _through, invalid SQL); the 500 is only the class's default status.
        status = 400 if exception.status == 500 else exception.status
        args = frozenset(request.args) if request is not None else frozenset()
        return status, error_messages.explain(str(message), _kind(exception, request), args)
    if isinstance(exception, json.JSONDecodeError):
        name = _json_argument(exception, request)
        if name is not None:
            return 400, error_messages.say("err_bad_json_argument", name=name)
    if isinstance(exception, sqlite3.ProgrammingError) and request is not None and "pks" in request.url_vars:
        # Datasette's row view binds one value per primary-key column; an address with fewer
        # leaves a parameter unbound (`/db/table/abc` for a two-column key).
        if "did not supply a value for binding parameter" in str(exception):
            return 404, error_messages.say("err_row_key_incomplete")
    return 500, None


def messages(status: int, explained: error_messages.Explained | None) -> tuple[str, str]:
    """(Chinese, English) message; a 500 never shows the exception text (it may hold internals)."""
    if status >= 500 or explained is None:
        return title(status, "zh"), title(status, "en")
    return explained.zh, explained.en


def json_fields(status: int, explained: error_messages.Explained | None) -> dict:
    """What every JSON error of the site carries: the sentence in each language, the status's
    title in each, and the original message (`detail`) where one is shown."""
    message_zh, message_en = messages(status, explained)
    body = {
        "error": message_en,
        "error_zh": message_zh,
        "status": status,
        "title": title(status, "en"),
        "title_zh": title(status, "zh"),
    }
    if explained is not None and explained.detail and status < 500:
        body["detail"] = explained.detail
    return body


def wants_json(request) -> bool:
    path = request.path.split("?")[0]
    # Datasette tilde-encodes a row key it cannot route, dot included (`…~2Ejson`): a client
    # that asked for `.json` still gets JSON (found by schemathesis, tests/test_openapi.py).
    if path.endswith((".json", "~2Ejson")) or routes.is_ckan_api(path):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def page_context(status: int, explained: error_messages.Explained | None, lang: str) -> dict:
    """What error.html needs besides the tools plugins/site_context.py gives every template."""
    message_zh, message_en = messages(status, explained)
    about_sql = explained is not None and explained.about_sql
    return {
        "status": status,
        "title": title(status, lang),
        "message": message_en if lang == "en" else message_zh,
        "detail": explained.detail if explained is not None and status < 500 else None,
        "detail_label": i18n.t(explained.detail_label, lang) if explained is not None else "",
        "hint": i18n.t("error_hint_sql", lang) if about_sql else hint(status, lang),
    }


FALLBACK_HTML = (
    '<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{status} {title}</title></head><body><main><h1>{status} {title}</h1>"
    "<p>{message}</p></main></body></html>"
)


async def error_response(datasette, request, status: int, explained: error_messages.Explained | None) -> Response:
    headers: dict[str, str] = {}
    if datasette.cors:
        add_cors_headers(headers)
    if wants_json(request):
        return Response.json({"ok": False, **json_fields(status, explained)}, status=status, headers=headers)
    lang = i18n.lang_of(request)
    context = page_context(status, explained, lang)
    try:
        # Through render_template, so plugins/site_context.py adds the language tools and
        # base.html's header, footer and language switch work as on every other page.
        html = await datasette.render_template("error.html", context, request=request)
    except Exception:  # a broken template must not turn a 404 into a crash
        log.exception("error.html failed to render")
        esc = {k: Markup.escape(v) for k, v in context.items() if isinstance(v, str)}
        html = FALLBACK_HTML.format(
            lang=i18n.html_lang(lang), status=status, title=esc["title"], message=esc["message"]
        )
    return Response.html(html, status=status, headers=headers)


def render_json(args, data, view_name):
    """Datasette's JSON renderer, with the site's bilingual error fields on its error bodies.

    The query view does not raise for a database error: it answers 400 with `error` holding
    SQLite's English (`no such column: nope`) and renders that as JSON itself, so the error
    hooks never see it. Registered for the `json` extension, this replaces the built-in renderer
    (Datasette lets a plugin's renderer win) and calls it; a body without an error is untouched."""
    if isinstance(data, dict) and isinstance(data.get("error"), str) and "error_zh" not in data:
        data = {**data, **json_fields(400, error_messages.explain(data["error"], "sql"))}
    response = json_renderer(args, data, view_name)
    body = response.body
    # The renderer's own mistakes (`_shape=bad`, `_shape=object` off a table) are a small dict
    # it writes as `{"ok": false, "error": ...}`; an ordinary page never starts that way.
    if isinstance(body, str) and body.startswith(JSON_RENDERER_ERROR):
        found = json.loads(body)
        status = response.status if response.status >= 400 else 400
        found.update(json_fields(status, error_messages.explain(str(found.get("error") or ""))))
        response = Response.json(found, status=status, headers=response.headers)
    return response


JSON_RENDERER_ERROR = '{"ok": false, "error": '


@hookimpl
def register_output_renderer(datasette):
    return {"extension": "json", "render": render_json, "can_render": lambda: True}


@hookimpl
def prepare_jinja2_environment(env):
    # query.html: the database's message about the visitor's SQL, as a sentence in each language
    env.globals["gk_explain_sql"] = lambda message: error_messages.explain(str(message), "sql")


def _is_datasette_default(result) -> bool:
    return getattr(result, "__module__", None) == "datasette.handle_exception"


@hookimpl(wrapper=True)
def handle_exception(datasette, request, exception):
    others = yield
    status, explained = classify(exception, request)
    if status >= 500:
        # One plain traceback in the server log; no local variables (they hold request data).
        log.error("%s %s", request.method, request.path, exc_info=exception)

    async def ours():
        return await error_response(datasette, request, status, explained)

    return [ours] + [r for r in others if not _is_datasette_default(r)]


@hookimpl
def forbidden(datasette, request, message):
    async def inner():
        explained = error_messages.explain(message, fallback="err_forbidden") if message else None
        return await error_response(datasette, request, 403, explained)

    return inner


def _request(scope, receive) -> Request:
    # These answers come before Datasette's CSRF middleware, which puts `csrftoken` in the
    # scope for render_template; no page rendered here has a form that needs one.
    return Request(dict(scope, csrftoken=lambda: ""), receive)


async def method_not_allowed(datasette, scope, receive, send):
    request = _request(scope, receive)
    await datasette.invoke_startup()  # idempotent; a first request may arrive before it ran
    method = "".join(c for c in scope.get("method", "") if c.isalpha())[:20]
    response = await error_response(
        datasette, request, 405, error_messages.say("err_method_not_allowed", method=method)
    )
    response.headers["Allow"] = ALLOW
    await response.asgi_send(send)


CKAN_ALLOW = ALLOW + ", POST"


async def preflight(datasette, send, path: str = ""):
    allow = CKAN_ALLOW if routes.is_ckan_api(path) else ALLOW
    headers = {"Allow": allow}
    if datasette.cors:
        add_cors_headers(headers)
        headers["Access-Control-Allow-Methods"] = allow
        headers["Access-Control-Max-Age"] = "3600"
        if allow is CKAN_ALLOW:  # a JSON POST from a page is preflighted for its Content-Type
            headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, X-CKAN-API-Key"
        elif path.startswith("/downloads/"):  # an in-browser reader's ranges and revalidations
            headers["Access-Control-Allow-Headers"] = "Authorization, Range, If-Range, If-None-Match"
    await Response("", status=204, headers=headers).asgi_send(send)


async def not_found(datasette, scope, receive, send):
    await datasette.invoke_startup()
    response = await error_response(datasette, _request(scope, receive), 404, error_messages.say("err_page_not_found"))
    await response.asgi_send(send)


async def ckan_post(datasette, app, scope, receive, send):
    """A CKAN API POST: the body read whole but bounded, then given to the view."""
    scope, receive = await ckan_http.read_once(scope, receive)
    if scope.get(ckan_http.TOO_LARGE_SCOPE_KEY):
        headers: dict[str, str] = {"Connection": "close"}
        if datasette.cors:
            add_cors_headers(headers)
        error = ckan_http.too_large()
        response = Response.json(ckan_http.envelope("", error=error), status=error.status, headers=headers)
        return await response.asgi_send(send)
    return await app(scope, receive, send)


async def _key_shape(datasette, db, table: str) -> tuple[bool, list[str], frozenset[str]] | None:
    """(a view?, its primary keys, those declared INTEGER) of a table, None if there is no such
    table or view; read once per worker and table (a release's schemas never change), for at
    most 1,024 tables."""
    kept = datasette.__dict__.setdefault("_gongkai_key_shapes", {})
    key = (db.name, table)
    if key not in kept:
        view = table in await db.view_names()
        if not view and not await db.table_exists(table):
            return None
        pks = [] if view else await db.primary_keys(table)
        columns = [] if view else await db.table_column_details(table)
        if len(kept) >= 1024:
            kept.clear()
        kept[key] = (view, pks, frozenset(c.name for c in columns if "INT" in (c.type or "").upper()))
    return kept[key]


async def bad_next(datasette, scope) -> bool:
    """A table or view page (`/<db>/<table>`, `.json`, `.csv`) with a `_next` it cannot page
    from (gongkai/portal/next_token.py)."""
    args = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    tokens = args.get("_next")
    parts = scope.get("path", "").strip("/").split("/")
    if not tokens or len(parts) != 2:
        return False
    table = parts[1]
    for ext in (".json", ".csv"):
        if table.endswith(ext):
            table = table[: -len(ext)]
    try:
        db = datasette.get_database(tilde_decode(parts[0]))
    except KeyError:
        return False  # not a database: Datasette's 404
    table = tilde_decode(table)
    shape = await _key_shape(datasette, db, table)
    if shape is None:
        return False
    view, pks, integer = shape
    sorted_by = bool(args.get("_sort") or args.get("_sort_desc"))
    return not next_token.next_ok(tokens[-1], view=view, pks=pks, integer_pks=integer, sorted_by=sorted_by)


async def bad_parameter(datasette, scope, receive, send, key: str):
    await datasette.invoke_startup()  # idempotent; a first request may arrive before it ran
    response = await error_response(datasette, _request(scope, receive), 400, error_messages.say(key))
    await response.asgi_send(send)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def asgi(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            method = scope.get("method", "GET")
            if method == "OPTIONS":
                return await preflight(datasette, send, scope.get("path", ""))
            if method == "POST" and routes.is_ckan_api(scope.get("path", "")):
                return await ckan_post(datasette, app, scope, receive, send)
            if method not in ALLOWED_METHODS:
                return await method_not_allowed(datasette, scope, receive, send)
            if HIDDEN.match(scope.get("path", "")):
                return await not_found(datasette, scope, receive, send)
            if b"_next=" in scope.get("query_string", b"") and await bad_next(datasette, scope):
                return await bad_parameter(datasette, scope, receive, send, "err_page_bad_next")
            return await app(scope, receive, send)

        return asgi

    return wrap
