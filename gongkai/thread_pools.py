"""A process-wide thread pool, made the first time it is needed (catalogue reads, site search).

One per purpose and per process, shared by every store of that kind: a server has one store, a
test run hundreds, and each would otherwise start its own threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


def lazy_pool(name: str, threads: int) -> Callable[[], ThreadPoolExecutor]:
    """A function returning the pool `name` (threads named so), created on its first call."""
    pool: ThreadPoolExecutor | None = None
    lock = threading.Lock()

    def get() -> ThreadPoolExecutor:
        nonlocal pool
        with lock:
            if pool is None:
                pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
            return pool

    return get
