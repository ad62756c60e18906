"""How a server reads `catalog.db`: its own read-only connections, off the event loop.

The catalogue is not one of Datasette's databases: it would be served at `/catalog` (pages,
JSON, SQL and the file itself), a route the site needs for its own catalogue documents, and its
data is the portal's to show. `attach` gives a Datasette instance the release's store once
(`gongkai.serve.make_datasette` does it); `of(datasette)` finds it again; `await
store.read(fn)` runs `fn(Catalogue)` on a small thread pool with one connection per thread.
The file is immutable once a release is swapped in, so connections open it `immutable=1`:
SQLite then skips locking and change checks.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, TypeVar

from .reader import Catalogue
from .writer import FILE

T = TypeVar("T")
THREADS = 2  # catalogue questions are small indexed reads; two keep one slow one from queueing others
_ATTR = "_gongkai_catalogue"


class CatalogueMissing(Exception):
    """The release has no catalog.db (a build always writes one; a hand-made folder may not)."""


class CatalogueStore:
    def __init__(self, release: Path):
        self.release = Path(release).resolve()
        self.path = self.release / FILE
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if not self.exists:
                raise CatalogueMissing(str(self.path.name))
            conn = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    def read_now(self, fn: Callable[[Catalogue], T]) -> T:
        """`fn(Catalogue)` in this thread (for startup work and tests)."""
        return fn(Catalogue(self._connection()))

    async def read(self, fn: Callable[[Catalogue], T]) -> T:
        """`fn(Catalogue)` on the catalogue's threads, so no page waits on the event loop."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="catalogue")
        return await asyncio.get_running_loop().run_in_executor(self._pool, self.read_now, fn)


def attach(datasette, release: Path) -> CatalogueStore:
    store = CatalogueStore(release)
    setattr(datasette, _ATTR, store)
    return store


def of(datasette) -> CatalogueStore:
    store = getattr(datasette, _ATTR, None)
    if store is None:
        raise CatalogueMissing("no catalogue attached to this Datasette (gongkai.serve.make_datasette attaches it)")
    return store
