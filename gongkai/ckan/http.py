"""The CKAN API over HTTP: reading an action's parameters from a request, CKAN's envelope,
and the bounded POST body.

CKAN takes parameters from the query string (GET) or from a JSON object body (POST, what
ckanapi sends by default, `Content-Type: application/json`, no cookie, no CSRF token); a
form-encoded body is read too. A POST body larger than `MAX_BODY` is refused with 413 before
it is read further, so no request can make the server hold more than that.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from .errors import BAD_REQUEST, TOO_LARGE, ActionError

MAX_BODY = 64 * 1024  # the largest legitimate body is a datastore_search_sql query or filters
# Where the first ASGI wrapper to read a CKAN POST's body leaves it in the request's scope,
# for the others and the view (plugins/error_pages.py reads every CKAN POST's,
# plugins/visitor_limits.py a package_search's, to classify it by its `q`; Datasette loads a
# plugins folder in directory order, so either may run first). A body past MAX_BODY leaves
# TOO_LARGE_SCOPE_KEY instead, and error_pages.py answers 413.
BODY_SCOPE_KEY = "gongkai.ckan_body"
TOO_LARGE_SCOPE_KEY = "gongkai.ckan_body_too_large"


async def read_once(scope: dict, receive) -> tuple[dict, Any]:
    """(scope, receive) for the next app: the body read (bounded) and left in the scope,
    unless a wrapper before did so."""
    if BODY_SCOPE_KEY in scope or TOO_LARGE_SCOPE_KEY in scope:
        return scope, receive
    try:
        body = await read_body(scope, receive)
    except BodyTooLarge:
        return {**scope, TOO_LARGE_SCOPE_KEY: True}, receive
    return {**scope, BODY_SCOPE_KEY: body}, replay(body)


class BodyTooLarge(Exception):
    pass


async def read_body(scope: dict, receive, limit: int = MAX_BODY) -> bytes:
    """The whole request body, or BodyTooLarge as soon as it (or its Content-Length) passes
    `limit`."""
    for key, value in scope.get("headers") or []:
        if key == b"content-length":
            try:
                if int(value) > limit:
                    raise BodyTooLarge
            except ValueError:
                raise BodyTooLarge from None
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def replay(body: bytes):
    """An ASGI `receive` that gives `body` once, then waits like a connection that stays open."""
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def too_large() -> ActionError:
    return ActionError(TOO_LARGE, "ckan_body_too_large", limit=MAX_BODY)


def posted_text_search(body: bytes, content_type: str) -> bool:
    """Whether a POSTed package_search body asks a free-text `q` (a bad body asks nothing: the
    action answers it 400)."""
    try:
        q = parameters([], body, content_type).get("q")
    except ActionError:
        return False
    return isinstance(q, str) and bool(q.strip())


def parameters(query_pairs: list[tuple[str, str]], body: bytes, content_type: str) -> dict[str, Any]:
    """The action's data dict: query string values, then the body's (which win, as in CKAN)."""
    out: dict[str, Any] = {}
    for key, value in query_pairs:
        out.setdefault(key, value)
    if not body.strip():
        return out
    if "application/x-www-form-urlencoded" in content_type:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise ActionError(BAD_REQUEST, "ckan_bad_json") from None
        out.update(dict(pairs))
        return out
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ActionError(BAD_REQUEST, "ckan_bad_json") from None
    if not isinstance(data, dict):
        raise ActionError(BAD_REQUEST, "ckan_bad_json")
    out.update(data)
    return out


def envelope(help_url: str, result: Any = None, error: ActionError | None = None) -> dict[str, Any]:
    if error is not None:
        return {"help": help_url, "success": False, "error": error.error()}
    return {"help": help_url, "success": True, "result": result}
