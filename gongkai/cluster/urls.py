"""The mixed URLs every phase of the cluster run asks for: the load test's page types
(gongkai/loadtest/targets.py) worked out from the built release, in a fixed order.

Public pages only: home, catalogue (both languages, sorted), landing pages, reports, table
pages in HTML and JSON, and both searches. Visitor SQL is left out on purpose: it is `no-store`
(gongkai/portal/http_cache.py), so the cache would pass every such request to a replica and
the cached figure would measure the replicas again; downloads are whole files, measured by
`make loadtest`.
"""

from __future__ import annotations

import random
import urllib.error
import urllib.request
from pathlib import Path

from ..loadtest import targets

KINDS = (
    "home",
    "catalogue",
    "landing",
    "report",
    "table_html",
    "table_json",
    "table_array",
    "search_site",
    "search_table",
)


def mixed(release: Path, *, count: int = 400, seed: int = 1) -> list[str]:
    """`count` URLs, each kind in proportion to its load-test weight (gongkai/loadtest/targets.py)."""
    found = targets.from_release(release, seed=seed)
    rng = random.Random(seed)
    weights = [targets.WEIGHTS[k] for k in KINDS]
    return [found.pick(rng)[rng.choices(KINDS, weights)[0]] for _ in range(count)]


def write(urls: list[str], path: Path) -> Path:
    Path(path).write_text("".join(u + "\n" for u in urls))
    return Path(path)


def _get(base: str, url: str, n: int):
    # A visitor of its own per request (a header value, nothing is sent to that address), as in
    # gongkai/cluster/wrk.py: one address asking for every search would be rate limited.
    xff = f"127.1.{(n >> 8) & 255}.{n & 255}"
    return urllib.request.urlopen(urllib.request.Request(base + url, headers={"X-Forwarded-For": xff}), timeout=30)


def check(base: str, urls: list[str]) -> list[tuple[str, int]]:
    """Every distinct URL fetched once: those that did not answer 200 (wrk counts a 4xx/5xx as
    failed, so a run must start from URLs that all work)."""
    bad = []
    for n, url in enumerate(sorted(set(urls))):
        try:
            with _get(base, url, n) as r:
                if r.status != 200:
                    bad.append((url, r.status))
        except urllib.error.HTTPError as exc:
            bad.append((url, exc.code))
    return bad


def cache_status(base: str, urls: list[str]) -> dict[str, int]:
    """How the cache tier answers each distinct URL now (nginx's X-Cache-Status: HIT, MISS ...)."""
    counts: dict[str, int] = {}
    for n, url in enumerate(sorted(set(urls))):
        with _get(base, url, n) as r:
            status = r.headers.get("X-Cache-Status", "NONE")
            counts[status] = counts.get(status, 0) + 1
    return counts


def first_database(release: Path) -> str:
    """A dataset database of the release (for the visitor-SQL probe)."""
    return targets.from_release(release).datasets[0]
