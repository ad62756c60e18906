"""Caching headers on every response, and 304 for a revalidation (gongkai.portal.http_cache
says which policy and why).

An ASGI wrapper, like plugins/security_headers.py, so views, static files, streamed CSV,
downloads and error pages are all covered in one place. It runs inside security_headers (which
is `trylast`, outermost), so a 304 answered here still carries the security headers.

A request whose `If-None-Match` matches the tag its response would get is answered 304 before
any view runs: on an immutable release the tag is known from the URL alone, so a revalidation
costs no query and no template.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils import add_cors_headers

from gongkai.portal import http_cache

# Response headers this plugin owns: whatever a view set is replaced.
OWNED = frozenset({b"cache-control", b"etag", b"last-modified", b"expires", b"set-cookie", b"vary", b"pragma"})
NO_VARY: list[str] = []


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value.decode("latin-1")
    return None


def _cache_headers(
    validators,
    scope,
    status: int,
    vary_set: list[str] = NO_VARY,
    own_tag: bytes | None = None,
    immutable: bool = False,
) -> list[tuple[bytes, bytes]]:
    method, path = scope.get("method", "GET"), scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    control = http_cache.policy(method, path, query, status)
    if immutable and control == http_cache.PUBLIC:
        control = http_cache.IMMUTABLE
    headers = [(b"cache-control", control.encode("ascii"))]
    vary = http_cache.vary(vary_set, status)
    if vary:
        headers.append((b"vary", vary.encode("latin-1")))
    if control == http_cache.NO_STORE:
        return headers
    tag = own_tag or validators.etag(scope, http_cache.kind_of(status)).encode("ascii")
    headers += [(b"etag", tag), (b"last-modified", validators.release.last_modified.encode("ascii"))]
    return headers


def _own_tags(path: str) -> bool:
    return path.startswith("/downloads/")


@hookimpl
def asgi_wrapper(datasette):
    cors: dict[str, str] = {}
    if datasette.cors:
        add_cors_headers(cors)
    cors_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in cors.items()]

    def wrap(app):
        async def asgi(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            validators = http_cache.validators_of(datasette)
            method, path = scope.get("method", "GET"), scope.get("path", "")
            query = scope.get("query_string", b"").decode("latin-1")
            if_none_match = _header(scope, b"if-none-match")
            if if_none_match and http_cache.revalidatable(method, path, query) and not _own_tags(path):
                for status, kind in ((200, "ok"), (404, "error")):
                    if http_cache.matches(if_none_match, validators.etag(scope, kind)):
                        headers = _cache_headers(validators, scope, status) + cors_headers
                        await send({"type": "http.response.start", "status": 304, "headers": headers})
                        await send({"type": "http.response.body", "body": b""})
                        return

            async def send_with_cache_headers(message):
                if message["type"] == "http.response.start":
                    headers = message.get("headers") or []
                    kept = [(k, v) for k, v in headers if k.lower() not in OWNED]
                    vary_set = [v.decode("latin-1") for k, v in headers if k.lower() == b"vary"]
                    # a download's tag is its file's SHA-256, one per content coding
                    # (gongkai/portal/file_response.py): kept, and its route answers 304 itself
                    own = next((v for k, v in headers if k.lower() == b"etag"), None) if _own_tags(path) else None
                    # ... and a download asked for by its content (`?v=<sha>`, the landing
                    # page's links) may be kept for a year: other bytes get another URL
                    immutable = _own_tags(path) and any(
                        k.lower() == b"cache-control" and v == http_cache.IMMUTABLE.encode() for k, v in headers
                    )
                    ours = _cache_headers(validators, scope, message["status"], vary_set, own, immutable)
                    message = dict(message, headers=kept + ours)
                await send(message)

            return await app(scope, receive, send_with_cache_headers)

        return asgi

    return wrap
