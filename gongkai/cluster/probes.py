"""What the cache tier does with the replicas' headers, asked of it directly (a few requests
after the throughput phases): visitor SQL is never served from the cache, a revalidation with
the ETag gets 304 from nginx, and the two languages of a page are two cache entries."""

from __future__ import annotations

import urllib.error
import urllib.request
from email.message import Message
from urllib.parse import quote


def _get(base: str, path: str, headers: dict | None = None) -> tuple[int, Message, bytes]:
    # The headers as a Message: names are case-insensitive (uvicorn sends `etag`, lower case).
    request = urllib.request.Request(base + path, headers={"X-Forwarded-For": "127.3.0.1", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as exc:  # 304 arrives here
        return exc.code, exc.headers, b""


def cache_tier(base: str, database: str) -> dict:
    sql = f"/{quote(database)}.json?sql=" + quote("select 1 as one")
    sql_statuses = [_get(base, sql)[1].get("X-Cache-Status") for _ in range(2)]
    status, headers, _ = _get(base, "/datasets")
    revalidated, _, _ = _get(base, "/datasets", {"If-None-Match": headers.get("ETag", "")})
    zh, en = (_get(base, path)[2] for path in ("/datasets", "/datasets?_lang=en"))
    return {
        "sql_cache_status": sql_statuses,
        "sql_never_cached": "HIT" not in sql_statuses,
        "revalidation_status": revalidated,
        "revalidation_304": status == 200 and revalidated == 304,
        "languages_cached_apart": b'lang="zh-CN"' in zh and b'lang="en"' in en,
        "health_not_cached": _get(base, "/-/health")[1].get("X-Cache-Status") in (None, ""),
    }
