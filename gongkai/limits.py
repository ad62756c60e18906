"""What one visitor may cost the site: the limits, their defaults, and where they are set.

Defaults are below; `metadata/site.yaml` may override them in a `limits:` mapping, and an
environment variable `GONGKAI_LIMIT_<NAME>` (e.g. `GONGKAI_LIMIT_SQL_PER_MINUTE=60`) overrides
both. They are read once when a server process starts (`Limits.load(root)`), never per request.
An unknown name is an error at start, so a typo never silently leaves a default in place.

`classify` says which requests are *visitor SQL* — SQL whose cost the visitor controls — and
which budget they draw on: such requests run on their own small thread pool, on guarded
connections (gongkai/query_pools.py), and are rate limited per client (plugins/visitor_limits.py).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Container
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import parse_qsl

import yaml

ENV_PREFIX = "GONGKAI_LIMIT_"


@dataclass(frozen=True)
class Limits:
    # Threads per worker process: page queries, and the separate pool for visitor SQL.
    page_threads: int = 4
    # Two, so that one client's slow query (it may hold at most `client_sql_in_flight` of them)
    # never queues everybody else's SQL behind it.
    sql_threads: int = 2
    # The visitor-SQL threads run at this nice value (Linux: per thread), so a core busy with
    # visitor SQL still gives page threads the CPU as soon as they want it.
    sql_nice: int = 10
    # Visitor-SQL requests one worker runs or queues at once; beyond that: 503 + Retry-After.
    sql_max_in_flight: int = 32
    # Largest string or blob a visitor query may make or read (SQLITE_LIMIT_LENGTH). It also
    # bounds the worst single function call: quadratic ones (instr, replace) on two values of
    # this size take ~1.3 s on the project's machine at 500 kB.
    sql_value_bytes: int = 500_000
    # Largest result of one visitor query (sum of its values' sizes): beyond it, 413.
    sql_result_bytes: int = 10_000_000
    # SQLite's process-wide heap limit (hard_heap_limit; soft_heap_limit is a quarter of it).
    sql_heap_bytes: int = 512 * 1024 * 1024
    # Per-client rate limits (token buckets, per worker process): sustained per minute, burst.
    sql_per_minute: int = 30
    sql_burst: int = 10
    search_per_minute: int = 120
    search_burst: int = 30
    csv_per_minute: int = 6
    csv_burst: int = 3
    # Expensive requests one client may have running at once (per worker process), and of those
    # the visitor-SQL ones: fewer than `sql_threads`, so no one client can hold every SQL thread.
    client_in_flight: int = 2
    client_sql_in_flight: int = 1
    # HTTP: seconds a request's headers may take from its first byte (or from the connection
    # opening), their largest size, keep-alive idle seconds, connections + requests per worker
    # before uvicorn answers 503, and the listen backlog.
    header_timeout_s: float = 10.0
    max_header_bytes: int = 65_536
    keep_alive_s: int = 5
    limit_concurrency: int = 1000
    backlog: int = 2048
    # Comma-separated proxy addresses whose X-Forwarded-For is trusted (uvicorn's
    # forwarded_allow_ips). Empty: the client is the connection's remote address.
    trusted_proxies: str = ""
    # A table page with more rows than this points at the dataset's prebuilt file.
    large_table_rows: int = 100_000

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def load(cls, root: Path | None = None, environ=None) -> Limits:
        environ = os.environ if environ is None else environ
        values: dict = {}
        if root is not None:
            site = Path(root) / "metadata" / "site.yaml"
            if site.exists():
                values.update((yaml.safe_load(site.read_text(encoding="utf-8")) or {}).get("limits") or {})
        for key, value in environ.items():
            if key.startswith(ENV_PREFIX):
                values[key[len(ENV_PREFIX) :].lower()] = value
        return cls.of(values)

    @classmethod
    def of(cls, values: dict) -> Limits:
        types = {f.name: str(f.type) for f in fields(cls)}  # "int" etc.: annotations are postponed
        unknown = sorted(set(values) - set(types))
        if unknown:
            raise ValueError(f"unknown limits: {', '.join(unknown)} (known: {', '.join(types)})")
        cast = {"int": int, "float": float, "str": str}
        return cls(**{k: cast[types[k]](v) for k, v in values.items()})

    def replace(self, **changes) -> Limits:
        return dataclasses.replace(self, **changes)

    def rate(self, kind: str) -> tuple[float, int]:
        """(tokens per second, bucket size) of a kind of visitor SQL."""
        return getattr(self, f"{kind}_per_minute") / 60.0, getattr(self, f"{kind}_burst")


# Column filters that scan (LIKE / GLOB cannot use the indexes): Datasette builds them from
# `?<column>__<op>=`, and their cost grows with the table, not with the page.
SCANNING_FILTERS = ("__contains", "__notcontains", "__endswith", "__startswith", "__like", "__notlike", "__glob")


# CKAN API actions (gongkai/ckan/) that run visitor-controlled work on the datasets' databases.
CKAN_KINDS = {"datastore_search_sql": "sql", "datastore_search": "search"}


def classify(
    path: str, query_string: bytes | str, canned: Container[str] = frozenset(), posted_search: bool = False
) -> str | None:
    """The kind of visitor SQL a request runs — "sql", "search" or "csv" — or None for a page.

    - "csv": `?_stream=on` (every row of a table or query; many queries in a row);
    - "sql": `?sql=` (database page, .json, .csv), a canned query (`canned` holds their
      "/<db>/<name>" paths), `_where=` (SQL text in a table URL), scanning column filters;
    - "search": `/-/search`, `?_search=`;
    - the CKAN API (its action is in the path, its parameters may be in a POST body):
      `datastore_search_sql` is "sql", `datastore_search` and `package_search?q=` "search",
      and so is a POSTed package_search whose body asks a `q` (`posted_search`, which the caller
      reads from the body: gongkai.ckan.http.posted_text_search).
    """
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    keys = {k for k, _ in parse_qsl(query_string, keep_blank_values=True)}
    if keys & {"_stream"}:
        return "csv"
    if keys & {"sql", "_where"} or any(k.endswith(SCANNING_FILTERS) for k in keys):
        return "sql"
    if path.rsplit(".", 1)[0] in canned:
        return "sql"
    if path.startswith("/api/"):
        action = path.rsplit("/", 1)[-1]
        if action in CKAN_KINDS:
            return CKAN_KINDS[action]
        if action == "package_search" and (
            posted_search or any(k == "q" and v.strip() for k, v in parse_qsl(query_string))
        ):
            return "search"
    if path.startswith("/-/search") or any(k.startswith("_search") for k in keys):
        return "search"
    return None
