"""Visitor SQL, rate limited per client and run apart from the pages.

Every request `gongkai.limits.classify` calls visitor SQL (`?sql=`, canned queries, `_where=`,
scanning filters, search, `?_stream=on`) passes three gates before Datasette sees it:

- the client's token bucket for its kind (`<kind>_per_minute`, `<kind>_burst`; 0 = no limit),
- the client's requests of any such kind still running (`client_in_flight`),
- for "sql" and "search", the worker's visitor-SQL requests running or queued
  (`sql_max_in_flight`; "csv" streams are long and draw only on the per-client gates),

and is answered 429 (the client's own limits) or 503 (the worker is full), with Retry-After,
in Chinese and English, JSON for JSON URLs. Then `query_pools.VISITOR` marks the request so
its queries run on the visitor-SQL pool with the guards (gongkai/query_pools.py).

The client is the connection's remote address (uvicorn sets it; behind a proxy it is the
X-Forwarded-For address only for proxies listed in `trusted_proxies`). State is per worker
process: with N workers a client gets at most N times each limit.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict

from datasette import Response, hookimpl
from datasette.utils import add_cors_headers
from datasette.utils.asgi import Request

from gongkai import i18n
from gongkai.ckan import http as ckan_http
from gongkai.limits import Limits, classify
from gongkai.portal import routes
from gongkai.query_pools import VISITOR

MAX_CLIENTS = 10_000  # clients remembered per bucket; the least recent are forgotten


class Buckets:
    """Token buckets per client, at most MAX_CLIENTS of them (least recently seen dropped)."""

    def __init__(self, per_second: float, size: int):
        self.per_second, self.size = per_second, max(1, size)
        self.state: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str, now: float) -> float:
        """0 if the client may go now (a token is taken), else seconds until it may."""
        if self.per_second <= 0:
            return 0.0
        tokens, last = self.state.pop(client, (float(self.size), now))
        tokens = min(float(self.size), tokens + (now - last) * self.per_second)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.per_second
        self.state[client] = (tokens, now)
        if len(self.state) > MAX_CLIENTS:
            self.state.popitem(last=False)
        return wait


class Gate:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.buckets = {kind: Buckets(*limits.rate(kind)) for kind in ("sql", "search", "csv")}
        self.client_running: dict[str, int] = {}
        self.client_sql: dict[str, int] = {}  # of those, visitor SQL (client_sql_in_flight)
        self.pool_running = 0

    def admit(self, client: str, kind: str) -> tuple[int, int] | None:
        """None if admitted (then `release` later), else (status, Retry-After seconds)."""
        if self.client_running.get(client, 0) >= self.limits.client_in_flight:
            return 429, 1
        if kind == "sql" and self.client_sql.get(client, 0) >= self.limits.client_sql_in_flight:
            return 429, 1
        uses_pool = kind == "sql"  # the queue bound is visitor SQL's (search runs with the pages)
        if uses_pool and self.pool_running >= self.limits.sql_max_in_flight:
            return 503, 2
        wait = self.buckets[kind].take(client, time.monotonic())
        if wait:
            return 429, max(1, math.ceil(wait))
        self.client_running[client] = self.client_running.get(client, 0) + 1
        if kind == "sql":
            self.client_sql[client] = self.client_sql.get(client, 0) + 1
        self.pool_running += uses_pool
        return None

    def release(self, client: str, kind: str) -> None:
        left = self.client_running.get(client, 1) - 1
        if left:
            self.client_running[client] = left
        else:
            self.client_running.pop(client, None)
        if kind == "sql":
            left_sql = self.client_sql.get(client, 1) - 1
            if left_sql:
                self.client_sql[client] = left_sql
            else:
                self.client_sql.pop(client, None)
        self.pool_running -= kind == "sql"


def limits_of(datasette) -> Limits:
    return getattr(datasette, "_gongkai_limits", None) or Limits()


class CannedPaths:
    """`"/<db>/<query>" in paths`: whether a path is a canned query, looked up in that one
    database's metadata when first asked (a release never changes: kept). Listing every
    database's queries up front cost a worker's first request 52-57 ms at 10,000 datasets."""

    def __init__(self, datasette):
        self.datasette = datasette
        self.by_database: dict[str, frozenset] = {}

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        database, _, query = path.lstrip("/").partition("/")
        if not query or "/" in query or database not in self.datasette.databases:
            return False
        queries = self.by_database.get(database)
        if queries is None:  # at most one entry per database the release serves
            queries = frozenset(self.datasette.metadata("queries", database=database) or {})
            self.by_database[database] = queries
        return query in queries


def wants_json(request) -> bool:
    if request.path.endswith(".json") or routes.is_ckan_api(request.path):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


async def refusal(datasette, request, status: int, retry_after: int) -> Response:
    key = "limit_too_many" if status == 429 else "limit_busy"
    text = {
        lang: (i18n.t(f"{key}_title", lang), i18n.t(f"{key}_message", lang, seconds=retry_after)) for lang in i18n.LANGS
    }
    headers = {"Retry-After": str(retry_after), "Cache-Control": "no-store"}
    if datasette.cors:
        add_cors_headers(headers)
    if wants_json(request):
        body = {
            "ok": False,
            "status": status,
            "error": text["en"][1],
            "error_zh": text["zh"][1],
            "title": text["en"][0],
            "title_zh": text["zh"][0],
            "retry_after": retry_after,
        }
        return Response.json(body, status=status, headers=headers)
    lang = i18n.lang_of(request)
    context = {"status": status, "title": text[lang][0], "message": text[lang][1], "hint": i18n.t(f"{key}_hint", lang)}
    html = await datasette.render_template("error.html", context, request=request)
    return Response.html(html, status=status, headers=headers)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        gate = None
        canned = None

        async def asgi(scope, receive, send):
            nonlocal gate, canned
            if scope["type"] != "http":
                return await app(scope, receive, send)
            if canned is None:
                canned = CannedPaths(datasette)
            posted = False
            if scope.get("method") == "POST" and routes.is_ckan_action(scope["path"], "package_search"):
                # its `q` may be in the body: read once, bounded, for the view too
                scope, receive = await ckan_http.read_once(scope, receive)
                body = scope.get(ckan_http.BODY_SCOPE_KEY)
                content_type = Request(scope, receive).headers.get("content-type", "")
                posted = body is not None and ckan_http.posted_text_search(body, content_type)
            kind = classify(scope["path"], scope.get("query_string", b""), canned, posted)
            if kind is None:
                return await app(scope, receive, send)
            if gate is None:
                gate = Gate(limits_of(datasette))
            client = (scope.get("client") or ("-", 0))[0]
            refused = gate.admit(client, kind)
            if refused is not None:
                # Outside Datasette's CSRF middleware: a page with no form needs no token.
                request = Request(dict(scope, csrftoken=lambda: ""), receive)
                response = await refusal(datasette, request, *refused)
                return await response.asgi_send(send)
            token = VISITOR.set(kind)
            try:
                return await app(scope, receive, send)
            finally:
                VISITOR.reset(token)
                gate.release(client, kind)

        return asgi

    return wrap
