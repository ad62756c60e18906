"""Where queries run: never on the event loop, and visitor SQL never where pages run.

Datasette runs every query through `Database.execute_fn` (and `execute`, built on it). `install`
replaces both on each served database so that

- page queries run on Datasette's own executor (`num_sql_threads` = `Limits.page_threads`): a
  slow query holds one thread, never the event loop, so other requests keep being answered;
- visitor SQL and CSV streams (the request's kind, set by plugins/visitor_limits.py in
  `VISITOR`; `POOLED`) run on a separate pool of `sql_threads` threads at a lower CPU
  priority, on connections guarded by `guard_connection`: so it can use at most those threads and what the pages leave of the CPU.

Guards on visitor connections, each for a class of abuse:
- SQLITE_LIMIT_LENGTH: no string or blob above `sql_value_bytes` (zeroblob(1e9),
  randomblob(5e8), group_concat of a table), which also bounds any one function call's work;
- printf/format replaced by a checked one: `printf('%.*c', 1e9, 'x')` loops a billion times
  inside one call, where the progress handler never runs;
- an authorizer: only reads, and no function or pragma that leaks server internals
  (fts3_tokenizer's pointer, database_list's file paths) or touches files;
- a time limit on every statement of the request, `execute_fn` calls included;
- the result's size (`sql_result_bytes`), counted while fetching, before it is all in memory;
- SQLite's heap limit (process-wide: SQLite has no per-connection one).
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from datasette.database import QueryInterrupted, Results
from datasette.views.base import DatasetteError

from .limits import Limits

# The kind of visitor SQL the current request runs ("sql", "search", "csv"), or None.
VISITOR: contextvars.ContextVar[str | None] = contextvars.ContextVar("gongkai_visitor_sql", default=None)
# The kinds that run on the visitor pool: SQL a visitor wrote, and whole-table CSV streams.
# Search runs the site's own bounded queries: on the page threads, under the time limit, and
# rate-limited per client like the others (plugins/visitor_limits.py); a slow visitor query
# never queues a search behind it.
POOLED = frozenset({"sql", "csv"})

_local = threading.local()


class GuardError(DatasetteError):
    """A visitor query stopped by a guard: a clean 4xx, never a 500 (plugins/error_pages.py)."""

    def __init__(self, message: str, status: int):
        super().__init__(message, title="Query refused", status=status)


def too_large(limit: int) -> GuardError:
    return GuardError(f"Query result is larger than {limit} bytes", 413)


def value_too_large(limit: int) -> GuardError:
    return GuardError(f"Query makes a value larger than {limit} bytes", 413)


def not_allowed() -> GuardError:
    return GuardError("Query uses a function or statement this site does not allow", 403)


# --- the guards on a visitor connection ----------------------------------------------------

DENIED_FUNCTIONS = frozenset(
    {
        "fts3_tokenizer",
        "load_extension",
        "readfile",
        "writefile",
        "edit",
        "fts5",
        "sqlite_offset",
        "zipfile",
        "fsdir",
    }
)
# Pragmas a visitor (and Datasette, on their connection) may read: schema, nothing about files.
# Those taking a table or index name as their argument, and those only read without one
# (with an argument they would set something).
NAMED_PRAGMAS = frozenset({"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list"})
BARE_PRAGMAS = frozenset(
    {
        "schema_version",
        "data_version",
        "table_list",
        "collation_list",
        "function_list",
        "pragma_list",
        "compile_options",
    }
)
READ_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE})


def authorizer(action, arg1, arg2, db_name, source):
    if action in READ_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if (arg2 or "").lower() in DENIED_FUNCTIONS else sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        allowed = name in NAMED_PRAGMAS or (name in BARE_PRAGMAS and arg2 is None)
        return sqlite3.SQLITE_OK if allowed else sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master":
        # SQLite checks this while it sets up a virtual table (FTS5, pragma functions); the
        # databases are opened read-only (immutable), so nothing is ever written.
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY  # writes, ATTACH, transactions, CREATE ...


# printf's width and precision: a number in the format, or `*` taking the next argument.
_SPEC = re.compile(r"%[-+ 0#,!]*(\*|\d+)?(?:\.(\*|\d+))?")


def checked_printf(limit: int, plain: sqlite3.Connection):
    """SQLite's printf, refusing any width or precision above `limit` before it runs.

    A refusal returns a string one character over the length limit: SQLite then fails the
    statement with its own "string or blob too big", as for any other value over the limit.
    """
    over = "x" * (limit + 1)

    def printf(*args):
        if not args or not isinstance(args[0], str):
            return plain.execute("select printf(" + ",".join("?" * len(args)) + ")", args).fetchone()[0]
        fmt, rest = args[0], list(args[1:])
        for width, precision in _SPEC.findall(fmt):
            for part in (width, precision):
                if part == "*":
                    value = rest.pop(0) if rest else 0
                    if isinstance(value, (int, float)) and abs(value) > limit:
                        return over
                elif part and int(part) > limit:
                    return over
        return plain.execute("select printf(" + ",".join("?" * len(args)) + ")", args).fetchone()[0]

    return printf


def limit_process_heap(limits: Limits) -> None:
    """SQLite's heap limit, which is process-wide: set by each serving worker at start
    (gongkai/worker.py), where one Datasette owns the process. Not in gongkai.asgi, whose app
    the tests also build in-process: a process that builds many Datasette instances (the test
    suite) is not a server and keeps SQLite's default."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"PRAGMA hard_heap_limit = {int(limits.sql_heap_bytes)}")
        conn.execute(f"PRAGMA soft_heap_limit = {int(limits.sql_heap_bytes) // 4}")
    finally:
        conn.close()


def guard_connection(conn: sqlite3.Connection, limits: Limits) -> None:
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limits.sql_value_bytes)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 1000)
    plain = sqlite3.connect(":memory:", check_same_thread=False)
    plain.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limits.sql_value_bytes)
    printf = checked_printf(limits.sql_value_bytes, plain)
    conn.create_function("printf", -1, printf, deterministic=True)
    conn.create_function("format", -1, printf, deterministic=True)
    conn.set_authorizer(authorizer)


def guard_error(e: Exception, limits: Limits) -> Exception | None:
    """The clean error for a guard's SQLite error, or None for an ordinary SQL mistake."""
    text = str(e)
    if e.args == ("interrupted",):
        return None  # Datasette's QueryInterrupted handling
    if "string or blob too big" in text:
        return value_too_large(limits.sql_value_bytes)
    if "not authorized" in text or "prohibited" in text:
        return not_allowed()
    if "out of memory" in text:
        return GuardError("Query needs more memory than this site allows", 413)
    return None


def _value_size(value) -> int:
    return len(value) if isinstance(value, (str, bytes)) else 8


@contextmanager
def deadline(conn: sqlite3.Connection, ms: int):
    """Datasette's `sqlite_timelimit`, checking the clock every 50,000 VM steps (~4 ms) rather
    than every 1,000: each check takes the GIL, and a visitor query taking it 12,000 times a
    second (while the page threads of its worker also want it) slowed pages by 4x under abuse.
    """
    end = time.perf_counter() + ms / 1000

    def handler():
        return 1 if time.perf_counter() >= end else 0

    conn.set_progress_handler(handler, 50_000)
    try:
        yield
    finally:
        conn.set_progress_handler(None, 50_000)


# --- the pools ----------------------------------------------------------------------------


class Pools:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.page_connections = ConnectionPool(guard=None)
        self.visitor_connections = ConnectionPool(guard=limits)
        self.visitor = ThreadPoolExecutor(
            max_workers=limits.sql_threads,
            thread_name_prefix="gongkai-visitor-sql",
            initializer=self._visitor_thread,
        )

    def _visitor_thread(self):
        _local.visitor = True
        try:  # Linux: PRIO_PROCESS with a thread id sets that one thread's nice value
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.limits.sql_nice)
        except (OSError, AttributeError):
            pass


def install(ds, limits: Limits) -> Pools:
    """Route every served database's queries as the module docstring says."""
    pools = Pools(limits)
    assert ds.executor is not None, "num_sql_threads must be > 0: queries must leave the event loop"
    for db in ds.databases.values():
        _install_on(db, ds, pools)
    ds._gongkai_pools = pools
    return pools


# Idle database connections a worker keeps per pool (pages; visitor SQL, whose connections
# carry the guards), least recently used closed first. Datasette keeps one connection per
# thread and database for ever: a worker serving 10,000 datasets ends with 10,000 open files
# per thread (and dies at `ulimit -n 1024`). Here a query takes an idle connection to its
# database from the pool, or opens one (~0.3-0.5 ms of CPU with its first statement), and puts
# it back when done: the queries of one page, whichever threads run them, share a connection,
# and a worker holds at most this many open, plus one per thread running a query.
IDLE_CONNECTIONS = 64


class ConnectionPool:
    """Idle connections by database, shared by the threads of one executor kind."""

    def __init__(self, guard: Limits | None):
        self.guard = guard  # visitor connections get `guard_connection`
        self._idle: OrderedDict[str, list[tuple]] = OrderedDict()
        self._count = 0
        self._lock = threading.Lock()

    def take(self, db, ds) -> sqlite3.Connection:
        with self._lock:
            idle = self._idle.get(db.name)
            while idle:
                owner, conn = idle.pop()
                self._count -= 1
                if owner is db:
                    if not idle:
                        del self._idle[db.name]
                    return conn
                _close(owner, conn)  # a database of the same name from another instance
            self._idle.pop(db.name, None)
        conn = db.connect()
        ds._prepare_connection(conn, db.name)
        if self.guard is not None:
            guard_connection(conn, self.guard)
        return conn

    def give_back(self, db, conn: sqlite3.Connection) -> None:
        closing = []
        with self._lock:
            self._idle.setdefault(db.name, []).append((db, conn))
            self._idle.move_to_end(db.name)
            self._count += 1
            while self._count > IDLE_CONNECTIONS:
                name, idle = next(iter(self._idle.items()))
                closing.append(idle.pop(0))
                self._count -= 1
                if not idle:
                    del self._idle[name]
        for owner, old in closing:  # idle: no statement of theirs is running
            _close(owner, old)


def _close(db, conn: sqlite3.Connection) -> None:
    conn.close()
    opened = getattr(db, "_all_file_connections", None)
    if isinstance(opened, set):  # gongkai.serve.OpenConnections
        opened.discard(conn)


def _install_on(db, ds, pools: Pools) -> None:
    limits = pools.limits
    original_execute = db.execute

    async def execute_fn(fn):
        kind = VISITOR.get()

        def in_thread():
            pool = pools.visitor_connections if getattr(_local, "visitor", False) else pools.page_connections
            conn = pool.take(db, ds)
            try:
                if kind is None:
                    return fn(conn)
                # The time limit holds for every statement of visitor SQL, not only `execute`'s.
                with deadline(conn, ds.sql_time_limit_ms):
                    return fn(conn)
            finally:
                pool.give_back(db, conn)

        executor = pools.visitor if kind in POOLED else ds.executor
        return await asyncio.get_running_loop().run_in_executor(executor, in_thread)

    async def execute(sql, params=None, truncate=False, custom_time_limit=None, page_size=None, log_sql_errors=True):
        kind = VISITOR.get()
        if kind not in POOLED:  # pages, and the site's own search queries (time-limited above)
            return await original_execute(sql, params, truncate, custom_time_limit, page_size, log_sql_errors)
        cap = limits.sql_result_bytes if kind != "csv" else None
        page_size = page_size or ds.page_size

        def run(conn):
            time_limit_ms = ds.sql_time_limit_ms
            if custom_time_limit and custom_time_limit < time_limit_ms:
                time_limit_ms = custom_time_limit
            with deadline(conn, time_limit_ms):
                try:
                    cursor = conn.cursor()
                    cursor.execute(sql, params if params is not None else {})
                    max_rows = ds.max_returned_rows
                    if max_rows == page_size:
                        max_rows += 1
                    wanted = max_rows + 1 if (max_rows and truncate) else None
                    rows, size = [], 0
                    while wanted is None or len(rows) < wanted:
                        chunk = cursor.fetchmany(100 if wanted is None else min(100, wanted - len(rows)))
                        if not chunk:
                            break
                        if cap is not None:
                            size += sum(_value_size(v) for row in chunk for v in row)
                            if size > cap:
                                raise too_large(cap)
                        rows.extend(chunk)
                except (sqlite3.OperationalError, sqlite3.DatabaseError) as e:
                    if e.args == ("interrupted",):
                        raise QueryInterrupted(e, sql, params) from e
                    clean = guard_error(e, limits)
                    if clean is not None:
                        raise clean from None
                    raise
            truncated = bool(wanted) and len(rows) > max_rows
            return Results(rows[:max_rows] if truncated else rows, truncated, cursor.description)

        return await execute_fn(run)

    db.execute_fn = execute_fn
    db.execute = execute
