"""A worker's start prepares its site search (plugins/search.py `startup`): the search page's
templates compiled and the release's shards open in every search thread, so that its first
searches cost what later ones do."""

from __future__ import annotations

import asyncio
import threading

import pytest
from conftest import REPO
from test_search_site import built  # noqa: F401  (the fixture: a small built site)

from gongkai.search import site_index
from gongkai.serve import make_datasette


@pytest.fixture
def ds(built):  # noqa: F811
    return make_datasette(built, root=REPO)


async def _threads_holding(release) -> list[bool]:
    """For each search thread, whether it holds `release`'s shards open (one call per thread:
    each waits for the others)."""
    barrier = threading.Barrier(site_index.THREADS)

    def probe() -> bool:
        held = release in (getattr(site_index._local, "conns", None) or {})
        barrier.wait(timeout=10)
        return held

    loop = asyncio.get_running_loop()
    return list(
        await asyncio.gather(*(loop.run_in_executor(site_index._executor(), probe) for _ in range(site_index.THREADS)))
    )


async def test_a_started_worker_has_its_search_templates_compiled_and_its_shards_open(ds, built):  # noqa: F811
    release = built.resolve()
    assert site_index.shard_path(release, 0).is_file()
    assert await _threads_holding(release) == [False] * site_index.THREADS
    await ds.invoke_startup()
    assert await _threads_holding(release) == [True] * site_index.THREADS
    compiled = {key[1] for key in ds.jinja_env.cache.keys()} if ds.jinja_env.cache is not None else set()
    assert {"gongkai_search.html", "base.html"} <= compiled
    # and the search answers as before
    r = await ds.client.get("/-/search.json", params={"q": "维修"})
    assert r.status_code == 200 and r.json()["groups"]
