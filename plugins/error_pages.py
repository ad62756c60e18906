"""The site's own error pages: 400/403/404/500 in Chinese (default) or English (`?_lang=en`),
and a JSON body for JSON requests.

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

Before any view runs, an ASGI wrapper (`asgi_wrapper`) answers what no view of this read-only
site should see:

- a method other than GET, HEAD and OPTIONS: 405 with `Allow`, bilingual. Datasette's table
  view answers POST with an AssertionError (500), `/-/messages` and `/-/logout` would set
  cookies. OPTIONS (CORS preflight) is answered here too, 204 with the CORS headers, the same
  for every address.
- Datasette's debug and account pages a visitor has no use for (`HIDDEN`): 404. They show the
  server's threads and tasks (file paths), installed plugins, permission checks, or set
  cookies, and some carry inline styles the site's CSP refuses.
"""

from __future__ import annotations

import logging
import re

from datasette import Response, hookimpl
from datasette.utils import add_cors_headers
from datasette.utils.asgi import Base400, Request
from datasette.views.base import DatasetteError
from markupsafe import Markup

from gongkai import i18n

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


# Datasette's English messages for request mistakes, and what they say in Chinese.
# `{0}`… are the pattern's groups (user input, escaped when rendered).
MESSAGES_ZH = [
    (r"Database not found", "找不到该数据库"),
    (r"Table not found.*", "找不到该数据表"),
    (r"Record not found", "找不到该记录"),
    (r"404", "找不到该页面"),
    (r"Cannot sort table by (.*)", "无法按“{0}”排序：没有这一列，或这一列不能排序"),
    (r"Cannot use _sort and _sort_desc at the same time", "不能同时使用 _sort 和 _sort_desc"),
    (r"_size must be a positive integer", "_size（每页行数）必须是正整数"),
    (r"_size must be <= (\d+)", "_size（每页行数）不能大于 {0}"),
    (r"_col=(.*) - invalid columns", "_col 中有不存在的列：{0}"),
    (r"_nocol=(.*) - invalid columns", "_nocol 中有不存在或不能隐藏的列：{0}"),
    (r"_facet= is not allowed", "本站不允许使用 _facet"),
    (r"_where= is not allowed", "本站不允许使用 _where"),
    (r"_next not allowed for CSV streaming", "导出完整 CSV 时不能使用 _next"),
    (r"_next must be a whole number ≥ 0", "_next（从第几个结果开始）必须是不小于 0 的整数"),  # plugins/search.py
    (r"Invalid _through - could not find corresponding foreign key", "_through 参数无效：找不到对应的外键"),
    (r"You do not have permission to .*", "您没有查看此内容的权限"),
    (r"Method ([A-Z]+) is not allowed here", "此网址不接受 {0} 请求"),
    (r"(?s).*SQL query took too long.*", "查询用时过长，已被中止。请缩小查询范围后重试。"),
    # gongkai/query_pools.py's guards on visitor SQL
    (r"Query result is larger than (\d+) bytes", "查询结果超过 {0} 字节，已被拒绝。请减少返回的行或列后重试。"),
    (r"Query makes a value larger than (\d+) bytes", "查询产生的值超过 {0} 字节，已被拒绝。"),
    (r"Query uses a function or statement this site does not allow", "查询使用了本站不允许的函数或语句。"),
    (r"Query needs more memory than this site allows", "查询所需内存超过本站允许的上限。"),
]
_MESSAGES_ZH = [(re.compile(pattern), zh) for pattern, zh in MESSAGES_ZH]


def translate(message: str) -> str | None:
    for pattern, zh in _MESSAGES_ZH:
        m = pattern.fullmatch(message)
        if m:
            return zh.format(*m.groups())
    return None


def classify(exception: Exception) -> tuple[int, str]:
    """The HTTP status and the English message to show for an exception."""
    if isinstance(exception, Base400):
        return exception.status, str(exception.args[0]) if exception.args else ""
    if isinstance(exception, DatasetteError):
        message = exception.message
        if exception.message_is_html:
            message = Markup(message).striptags()
        # Datasette raises DatasetteError only for problems with the request (unknown sort
        # column, bad _through, invalid SQL); the 500 is only the class's default status.
        status = 400 if exception.status == 500 else exception.status
        return status, str(message)
    return 500, ""


def messages(status: int, message: str) -> tuple[str, str]:
    """(Chinese, English) message; a 500 never shows the exception text (it may hold internals)."""
    title_zh, title_en = title(status, "zh"), title(status, "en")
    if status >= 500 or not message:
        return title_zh, title_en
    return translate(message) or f"{title_zh}：{message}", message


def wants_json(request) -> bool:
    if request.path.split("?")[0].endswith(".json"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def page_context(status: int, message_zh: str, message_en: str, lang: str) -> dict:
    """What error.html needs besides the language tools plugins/i18n.py gives every template."""
    return {
        "status": status,
        "title": title(status, lang),
        "message": message_en if lang == "en" else message_zh,
        "hint": hint(status, lang),
    }


FALLBACK_HTML = (
    '<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{status} {title}</title></head><body><main><h1>{status} {title}</h1>"
    "<p>{message}</p></main></body></html>"
)


async def error_response(datasette, request, status: int, message: str) -> Response:
    message_zh, message_en = messages(status, message)
    headers: dict[str, str] = {}
    if datasette.cors:
        add_cors_headers(headers)
    if wants_json(request):
        title_zh, title_en = title(status, "zh"), title(status, "en")
        body = {
            "ok": False,
            "error": message_en,
            "error_zh": message_zh,
            "status": status,
            "title": title_en,
            "title_zh": title_zh,
        }
        return Response.json(body, status=status, headers=headers)
    lang = i18n.lang_of(request)
    context = page_context(status, message_zh, message_en, lang)
    try:
        # Through render_template, so plugins/i18n.py adds the language tools and base.html's
        # header, footer and language switch work as on every other page.
        html = await datasette.render_template("error.html", context, request=request)
    except Exception:  # a broken template must not turn a 404 into a crash
        log.exception("error.html failed to render")
        esc = {k: Markup.escape(v) for k, v in context.items() if isinstance(v, str)}
        html = FALLBACK_HTML.format(
            lang=i18n.html_lang(lang), status=status, title=esc["title"], message=esc["message"]
        )
    return Response.html(html, status=status, headers=headers)


def _is_datasette_default(result) -> bool:
    return getattr(result, "__module__", None) == "datasette.handle_exception"


@hookimpl(wrapper=True)
def handle_exception(datasette, request, exception):
    others = yield
    status, message = classify(exception)
    if status >= 500:
        # One plain traceback in the server log; no local variables (they hold request data).
        log.error("%s %s", request.method, request.path, exc_info=exception)

    async def ours():
        return await error_response(datasette, request, status, message)

    return [ours] + [r for r in others if not _is_datasette_default(r)]


@hookimpl
def forbidden(datasette, request, message):
    async def inner():
        return await error_response(datasette, request, 403, message)

    return inner


def _request(scope, receive) -> Request:
    # These answers come before Datasette's CSRF middleware, which puts `csrftoken` in the
    # scope for render_template; no page rendered here has a form that needs one.
    return Request(dict(scope, csrftoken=lambda: ""), receive)


async def method_not_allowed(datasette, scope, receive, send):
    request = _request(scope, receive)
    await datasette.invoke_startup()  # idempotent; a first request may arrive before it ran
    method = "".join(c for c in scope.get("method", "") if c.isalpha())[:20]
    response = await error_response(datasette, request, 405, f"Method {method} is not allowed here")
    response.headers["Allow"] = ALLOW
    await response.asgi_send(send)


async def preflight(datasette, send):
    headers = {"Allow": ALLOW}
    if datasette.cors:
        add_cors_headers(headers)
        headers["Access-Control-Allow-Methods"] = ALLOW
        headers["Access-Control-Max-Age"] = "3600"
    await Response("", status=204, headers=headers).asgi_send(send)


async def not_found(datasette, scope, receive, send):
    await datasette.invoke_startup()
    response = await error_response(datasette, _request(scope, receive), 404, "404")
    await response.asgi_send(send)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def asgi(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            method = scope.get("method", "GET")
            if method == "OPTIONS":
                return await preflight(datasette, send)
            if method not in ALLOWED_METHODS:
                return await method_not_allowed(datasette, scope, receive, send)
            if HIDDEN.match(scope.get("path", "")):
                return await not_found(datasette, scope, receive, send)
            return await app(scope, receive, send)

        return asgi

    return wrap
