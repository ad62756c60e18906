"""Serve a built site directory with Datasette.

`make_datasette(site_dir, root=...)` builds the Datasette instance for a site directory that
`gongkai build` wrote (each dataset's database, found through `release_files`, `catalog.db`, `inspect.json`, `metadata.json`);
`serve(site_dir, root=...)` runs it under uvicorn with one worker process per core.

Why these settings (measured by `gongkai.bench.serve` on a 500,000-row table):

- Every database is opened immutable: the build never changes a file after it swaps a release
  in, and SQLite then skips locking and change detection on every query.
- `inspect.json` gives Datasette each table's row count and each file's hash and size, so an
  unfiltered table page never runs `select count(*)` and startup never counts or hashes.
- `suggest_facets` is off: stock Datasette runs a "could this column be a facet?" query per
  column on every first page of a table (about 0.8 s of SQL per request at 500k rows, the
  bulk of the stock page's cost). Facets the publisher wants are declared in metadata.json.
- Time limits bound what one request can cost a worker; `facet_time_limit_ms` bounds the
  declared facets (each is a GROUP BY over the filtered rows).
- `num_sql_threads` is `Limits.page_threads` (4): queries run off the event loop, so a slow
  query (a facet, a filter on an unindexed column) holds one thread, never every request of its
  worker. Until 2026-11 this was 0 (queries on the event loop, ~2 ms of CPU less per table
  page); under 20 clients one 245 ms facet query then made a 3 ms page wait 13.5 s.
  Visitor SQL has a pool of its own (gongkai/query_pools.py, plugins/visitor_limits.py).
- `max_csv_mb` 0: a streamed CSV of a table is never cut at a size; it streams page by page with
  bounded memory, and one that fails midway is aborted (plugins/complete_downloads.py), so a
  download is complete or visibly broken, never a 200 ending in an error line.
- plugins/fast_pages.py removes per-request work that cannot change on an immutable site.

uvicorn picks up uvloop and httptools when they are installed (`uvicorn[standard]`); they take
~1 ms of HTTP handling off every request.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from datasette.app import Datasette

from . import catalogue, query_pools, release_files
from .limits import Limits

# Environment variables through which `serve` hands the site to each uvicorn worker
# (workers are separate processes that import `gongkai.asgi` and call its factory).
SITE_DIR_ENV = "GONGKAI_SITE_DIR"  # set by each worker (gongkai/worker.py) to its release
ROOT_ENV = "GONGKAI_ROOT"

HEALTHCHECK_TIMEOUT_S = 30  # see serve()

SETTINGS = {
    "suggest_facets": False,
    "sql_time_limit_ms": 3000,
    "facet_time_limit_ms": 500,
    "default_page_size": 50,
    "max_returned_rows": 1000,
    "allow_download": True,
    "num_sql_threads": Limits().page_threads,  # see the module docstring
    "max_csv_mb": 0,  # see the module docstring
}


MMAP_BYTES = 1 << 30
# Databases smaller than this are read with read(2), not through a memory map (see memory_map).
MMAP_MIN_BYTES = 16 << 20


def memory_map(conn, size: int) -> None:
    """Read a served database of `size` bytes through a memory map when it is large enough to
    gain from one (plugins/fast_pages.py calls it for every immutable database). The served
    databases never change, so SQLite may read them through a memory map instead of read(2)
    into its own page cache: no copy per page. Search queries walk long doclists of the
    full-text index, and this takes about a quarter off them. Address space only: the pages
    are the OS page cache's, shared by every worker.

    A small database is not mapped. At 10,000 datasets nearly every page opens a connection to
    its database (the pool keeps 64, gongkai/query_pools.py), and mapping one, faulting its
    pages in and unmapping it at close cost 1.5-4 ms of a 5-10 ms page with the worker's
    threads running (measured in-process over 300 pages at 10,000 small databases: JSON 16.5 ms
    per request mapped against 5.7 ms not; table 17.5 against 10.2 ms); a database of a few
    hundred KB has no doclist long enough to pay that back."""
    if size >= MMAP_MIN_BYTES:
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")


def database_files(site_dir: Path) -> list[Path]:
    """The dataset databases a site directory serves, in a stable order (gongkai/release_files.py
    knows where a release keeps them). `catalog.db` is not one of them: the portal reads it
    through gongkai.catalogue (it is no public database)."""
    return release_files.database_files(Path(site_dir))


def read_json(path: Path) -> dict | None:
    path = Path(path)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


class OpenConnections(set):
    """Datasette's `Database._all_file_connections` (a list it appends every connection it
    opens to, for `close()`), holding only the open ones. A worker's connections are kept in a
    bounded pool of idle ones (gongkai/query_pools.py), which closes the least recently used
    and takes them out of here (`discard`); a list would keep every connection ever opened."""

    def append(self, conn) -> None:
        self.add(conn)


class DatabasesOnDemand(dict):
    """`metadata("databases")` of a site of thousands: metadata.json's own entries, and any other
    database's entry from the `get_metadata` hook when it is looked up (`.get`, `[]`)."""

    def __init__(self, site: Datasette, local: dict):
        super().__init__(local)
        self._site = site

    def _hooked(self, name):
        from datasette.plugins import pm

        for found in pm.hook.get_metadata(datasette=self._site, key=None, database=name, table=None):
            entry = ((found or {}).get("databases") or {}).get(name)
            if entry is not None:
                return {**entry, **dict.get(self, name, {})}  # metadata.json wins, as in Datasette
        return None

    def __bool__(self) -> bool:  # never "empty": Datasette writes `metadata("databases") or {}`
        return True

    def get(self, name, default=None):
        entry = self._hooked(name) if isinstance(name, str) else None
        return entry if entry is not None else dict.get(self, name, default)

    def __getitem__(self, name):
        entry = self.get(name)
        if entry is None:
            raise KeyError(name)
        return entry


class Site(Datasette):
    """Datasette serving one release, with what grows with the number of datasets taken out.

    Datasette 0.65 is written for a handful of databases: `add_database` copies its dict of
    databases on every call (10,000 datasets: 50 million copied entries at start), and
    `get_database(route=...)`, called by every table, row and database page, walks every
    database to find the one the URL names. Here the routes are a dict and databases are added
    in place until the site starts (no request can be iterating the dict before then).
    Nothing is opened here: a database's file is opened by the first query that needs it."""

    def metadata(self, key=None, database=None, table=None, fallback=True):
        """Datasette's table view and `table_metadata` ask `metadata("databases")`, the whole
        site's, and then pick one database from it. The per-database `get_metadata` hook
        (plugins/datasette_pages.py) builds an entry only when asked for that database, so here
        the answer is a mapping that asks the hook for the one database looked up."""
        if key == "databases" and database is None and table is None:
            local = dict(((getattr(self, "_metadata_local", None) or {}).get("databases")) or {})
            return DatabasesOnDemand(self, local)
        return super().metadata(key, database=database, table=table, fallback=fallback)

    def add_database(self, db, name=None, route=None):
        db._all_file_connections = OpenConnections()
        if getattr(self, "_startup_invoked", True):
            found = super().add_database(db, name=name, route=route)
            self._gongkai_routes = {d.route: d for d in self.databases.values()}
            return found
        # Datasette's suggest_name (`Path(path).stem`), without a Path per database (10,000 at start).
        name = name or (os.path.splitext(os.path.basename(db.path))[0] if db.path else db.suggest_name())
        unique, i = name, 2
        while unique in self.databases:
            unique = f"{name}_{i}"
            i += 1
        db.name, db.route = unique, route or unique
        self.databases[unique] = db
        routes = getattr(self, "_gongkai_routes", None)
        if routes is None:
            routes = self._gongkai_routes = {}
        routes[db.route] = db
        return db

    def remove_database(self, name):
        super().remove_database(name)
        self._gongkai_routes = {d.route: d for d in self.databases.values()}

    def get_database(self, name=None, route=None):
        if route is not None:
            try:
                return self._gongkai_routes[route]
            except (AttributeError, KeyError):
                raise KeyError(route) from None
        return super().get_database(name)

    def _connected_databases(self):
        # /-/databases.json lists each database's file path: a visitor needs none of them.
        return [{k: v for k, v in d.items() if k != "path"} for d in super()._connected_databases()]


def make_datasette(
    site_dir: Path, *, root: Path, settings: dict | None = None, limits: Limits | None = None
) -> Datasette:
    """The Datasette instance serving `site_dir` with the plugins and templates under `root`.

    `limits` (default: `Limits.load(root)`, i.e. metadata/site.yaml's `limits:` and the
    GONGKAI_LIMIT_* environment) bound what one visitor can cost (gongkai/limits.py).

    `site_dir` is resolved here once: `build/site` is a symlink the build swaps to a new release
    folder, and a running server must keep reading the release it started with.
    """
    site_dir = Path(site_dir).resolve()
    root = Path(root).resolve()
    files = release_files.database_paths(site_dir)
    inspect_data = read_json(site_dir / "inspect.json")
    if inspect_data is not None:
        # Only trust entries whose file is in this release (inspect.json lists file names).
        names = {os.path.basename(f)[:-3] for f in files}
        inspect_data = {name: info for name, info in inspect_data.items() if name in names}
    plugins_dir = root / "plugins"
    template_dir = root / "templates"
    static_dir = root / "static"  # the site's CSS, served at /static/ by the site itself
    limits = limits or Limits.load(root)
    ds = Site(
        immutables=files,
        inspect_data=inspect_data or None,
        metadata=read_json(site_dir / "metadata.json") or {},
        plugins_dir=str(plugins_dir) if plugins_dir.is_dir() else None,
        template_dir=str(template_dir) if template_dir.is_dir() else None,
        static_mounts=[("static", str(static_dir))] if static_dir.is_dir() else None,
        settings={**SETTINGS, "num_sql_threads": limits.page_threads, **(settings or {})},
        cors=True,
    )
    ds._gongkai_limits = limits  # read by plugins/visitor_limits.py
    query_pools.install(ds, limits)
    catalogue.attach(ds, site_dir)
    return ds


def uvicorn_options(limits: Limits) -> dict:
    """uvicorn's keyword arguments that bound what a client's connections can hold."""
    options = {
        # gongkai/http_timeouts.py: uvicorn has no timeout for a request whose headers never end.
        "http": "gongkai.http_timeouts:HeaderTimeoutProtocol",
        "timeout_keep_alive": limits.keep_alive_s,
        "limit_concurrency": limits.limit_concurrency,
        "backlog": limits.backlog,
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default: anyone on the host could
        # then pick the address the rate limits see. Only configured proxies are trusted.
        "proxy_headers": bool(limits.trusted_proxies),
    }
    if limits.trusted_proxies:
        options["forwarded_allow_ips"] = limits.trusted_proxies
    return options


def serve(
    site_dir: Path,
    *,
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8001,
    workers: int | None = None,
    log_level: str = "info",
    registry: Path | None = None,
) -> None:
    """Run the site under uvicorn until interrupted (SIGHUP: move to the newest build).

    `datasette serve` runs one process, so one core does all the Python work (routing,
    templates, JSON) while the other idles. uvicorn's supervisor instead starts one worker
    process per core, each importing `gongkai.asgi` and building its own Datasette; they share
    nothing but the immutable database files, which the OS page cache shares for free.

    The supervisor is ours (gongkai/supervisor.py): it holds the release it serves so no build
    deletes it, restarts crashed workers on that same release, and on SIGHUP replaces the
    workers one at a time with workers on the release `site_dir` points to by then.
    `registry` (default: `servers/` beside `site_dir` when that is the build's symlink) is
    where it registers for `gongkai reload`.
    """
    import uvicorn

    from . import gc_policy
    from .supervisor import Supervisor
    from .worker import preload

    site_dir = Path(site_dir).absolute()  # the link itself: a reload re-resolves it
    if registry is None and site_dir.is_symlink():
        registry = site_dir.parent / "servers"
    os.environ[ROOT_ENV] = str(Path(root).resolve())
    config = uvicorn.Config(
        "gongkai.worker:create_app",  # gongkai.asgi's app, on the release the worker was given
        factory=True,
        host=host,
        port=port,
        workers=workers or os.cpu_count() or 1,
        # Lifespan "on": gongkai.asgi runs Datasette's startup hooks at worker start.
        lifespan="on",
        log_level=log_level,
        access_log=False,
        **uvicorn_options(Limits.load(Path(root))),
        # The supervisor kills a worker as hung when it misses a health ping for this long
        # (uvicorn's default, 5 s, also kills workers that are merely busy: one slow request
        # holding the GIL, or a worker still importing on a loaded 2-core machine), and
        # every connection the worker held goes with it.
        timeout_worker_healthcheck=HEALTHCHECK_TIMEOUT_S,
    )
    preload(Path(root))  # the workers are forked with everything imported (gongkai/worker.py)
    gc_policy.freeze()  # the imports are never collected: the workers' collections skip them
    supervisor = Supervisor(config, [], site=site_dir, registry=registry)
    supervisor.sockets = [config.bind_socket()]  # bound once the release is held; shared by all workers
    supervisor.run()
