"""How a server reads `catalog.db`: its own read-only connections, off the event loop.

The catalogue is not one of Datasette's databases: it would be served at `/catalog` (pages,
JSON, SQL and the file itself), a route the site needs for its own catalogue documents, and its
data is the portal's to show. `attach` gives a Datasette instance the release's store once
(`gongkai.serve.make_datasette` does it); `of(datasette)` finds it again; `await
store.read(fn)` runs `fn(Catalogue)` on a small thread pool (one per process) with one
connection per thread and release.
The file is immutable once a release is swapped in, so connections open it `immutable=1`:
SQLite then skips locking and change checks.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..thread_pools import lazy_pool
from .listing import Memo
from .reader import Catalogue, DatasetTitles

# The catalogue's file name in a release, as the writer names it (`writer.FILE`; not imported
# from there: the writer is build-side code a server never needs, tests/test_catalogue_facets.py
# checks they agree).
FILE = "catalog.db"

T = TypeVar("T")
THREADS = 2  # catalogue questions are small indexed reads; two keep one slow one from queueing others
OPEN_PER_THREAD = 4  # connections a thread keeps, one per release (a server has one; tests many)
# Datasets whose titles a worker keeps (Datasette's own pages ask for them several times per
# request, synchronously, from templates and metadata lookups). Bounded: 10,000 datasets' titles
# and columns read at startup took seconds and ~100 MB per worker; one indexed read is ~0.1 ms.
TITLES_CACHED = 512
# Catalogue answers a worker keeps (each catalogue state's ordered datasets and facet counts, at
# most ~80 KB at 10,000 datasets; the registries; the totals): see gongkai/catalogue/listing.py.
MEMO_SIZE = 128
_ATTR = "_gongkai_catalogue"
# One pool per process, shared by every store (gongkai/thread_pools.py).
_local = threading.local()
_executor = lazy_pool("catalogue", THREADS)


class CatalogueMissing(Exception):
    """The release has no catalog.db (a build always writes one; a hand-made folder may not)."""


class CatalogueStore:
    def __init__(self, release: Path):
        self.release = Path(release).resolve()
        self.path = self.release / FILE
        self._titles: OrderedDict[str, DatasetTitles | None] = OrderedDict()
        self._titles_lock = threading.Lock()
        self.memo = Memo(MEMO_SIZE)

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    def _connection(self) -> sqlite3.Connection:
        conns: OrderedDict[Path, sqlite3.Connection] = getattr(_local, "conns", None) or OrderedDict()
        _local.conns = conns
        conn = conns.get(self.path)
        if conn is None:
            if not self.exists:
                raise CatalogueMissing(str(self.path.name))
            conn = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            conns[self.path] = conn
            while len(conns) > OPEN_PER_THREAD:
                conns.popitem(last=False)[1].close()
        conns.move_to_end(self.path)
        return conn

    def read_now(self, fn: Callable[[Catalogue], T]) -> T:
        """`fn(Catalogue)` in this thread (for startup work and tests)."""
        return fn(Catalogue(self._connection(), self.memo))

    async def read(self, fn: Callable[[Catalogue], T]) -> T:
        """`fn(Catalogue)` on the catalogue's threads, so no page waits on the event loop."""
        return await asyncio.get_running_loop().run_in_executor(_executor(), self.read_now, fn)

    def titles(self, name: str) -> DatasetTitles | None:
        """One dataset's titles (`Catalogue.titles`), from the `TITLES_CACHED` most recently
        asked for, else one indexed read in this thread (Datasette asks from sync code). None
        for a name that is no dataset, or when the release has no catalogue."""
        with self._titles_lock:
            if name in self._titles:
                self._titles.move_to_end(name)
                return self._titles[name]
        try:
            found = self.read_now(lambda c: c.titles(name))
        except CatalogueMissing:
            found = None
        with self._titles_lock:
            self._titles[name] = found
            while len(self._titles) > TITLES_CACHED:
                self._titles.popitem(last=False)
        return found


def attach(datasette, release: Path) -> CatalogueStore:
    store = CatalogueStore(release)
    setattr(datasette, _ATTR, store)
    return store


def of(datasette) -> CatalogueStore:
    store = getattr(datasette, _ATTR, None)
    if store is None:
        raise CatalogueMissing("no catalogue attached to this Datasette (gongkai.serve.make_datasette attaches it)")
    return store
