"""The site search's kept pages (plugins/search.py): a worker answers a page it computed from
what it kept, bounded, and a burst of one query computes it once."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from conftest import REPO
from datasette.plugins import pm
from test_search_site import built  # noqa: F401  (the fixture: a small built site)

from gongkai import release_files
from gongkai.limits import Limits
from gongkai.serve import make_datasette


@pytest.fixture
def ds(built):  # noqa: F811
    return make_datasette(built, root=REPO)


@pytest.fixture
def plugin(ds):
    """plugins/search.py as Datasette loaded it (by file name, once per process)."""
    return pm.get_plugin("search.py")


async def test_a_kept_page_is_the_page_computed(ds, plugin):
    first = await ds.client.get("/-/search.json", params={"q": "维修"})
    kept = getattr(ds, plugin.RESULTS)
    assert list(kept) == [("维修", "zh", 0)]
    again = await ds.client.get("/-/search.json", params={"q": "维修"})
    assert again.json() == first.json() and first.json()["groups"]
    html = await ds.client.get("/-/search", params={"q": "维修", "_lang": "en"})
    assert html.status_code == 200 and '<html lang="en">' in html.text
    assert ("维修", "en", 0) in kept  # a page per language: its links carry the language
    assert (await ds.client.get("/-/search", params={"q": "维修", "_lang": "en"})).text == html.text


async def test_a_burst_of_one_query_computes_it_once(ds, plugin, monkeypatch):
    computed = []
    real = plugin.run_search

    async def counted(*args):  # the real search, counted
        computed.append(args[1:])
        return await real(*args)

    monkeypatch.setattr(plugin, "run_search", counted)
    before = getattr(ds, plugin.RESULTS, {})
    assert ("采购", "zh", 0) not in before
    # as many at once as one client may have running (more are answered 429: plugins/visitor_limits.py)
    burst = (getattr(ds, "_gongkai_limits", None) or Limits()).client_in_flight
    bodies = await asyncio.gather(*(ds.client.get("/-/search.json", params={"q": "采购"}) for _ in range(burst)))
    assert [r.status_code for r in bodies] == [200] * burst and len({r.text for r in bodies}) == 1
    assert computed == [("采购", "zh", 0)]
    await ds.client.get("/-/search", params={"q": "采购"})  # the HTML of a kept page: no new search
    assert computed == [("采购", "zh", 0)]


async def test_kept_pages_are_bounded(ds, plugin, monkeypatch):
    monkeypatch.setattr(plugin, "RESULTS_KEPT", 3)
    for word in ["维修", "采购", "合同", "budget", "road"]:
        assert (await ds.client.get("/-/search", params={"q": word})).status_code == 200
    assert [k[0] for k in getattr(ds, plugin.RESULTS)] == ["合同", "budget", "road"]
    assert len(getattr(ds, plugin.BODIES)) == 3


async def test_nothing_is_kept_when_turned_off(ds, plugin, monkeypatch):
    monkeypatch.setattr(plugin, "RESULTS_KEPT", 0)
    r = await ds.client.get("/-/search.json", params={"q": "维修"})
    assert r.status_code == 200 and r.json()["groups"]
    assert not getattr(ds, plugin.RESULTS, None) and not getattr(ds, plugin.BODIES, {})


def test_dataset_connections_are_shared_between_threads_and_bounded(built, monkeypatch):  # noqa: F811
    from concurrent.futures import ThreadPoolExecutor

    from gongkai.search import site_index

    monkeypatch.setattr(site_index, "DATABASES_KEPT", 2)
    pool = site_index.DatabasePool(built)
    names = [p.stem for p in release_files.database_files(built)][:3]
    assert len(names) == 3
    with pool.opened(names[0]) as first:
        assert first.execute("select count(*) from sqlite_master").fetchone()[0] > 0

    def in_other_thread() -> int:
        with pool.opened(names[0]) as conn:
            return id(conn)

    with ThreadPoolExecutor(1) as other:
        assert other.submit(in_other_thread).result() == id(first)  # the same connection, reused
    with pool.opened(names[0]) as a, pool.opened(names[0]) as b:
        assert a is not b  # one per running search
    for name in names:
        with pool.opened(name):
            pass
    assert sum(len(c) for c in pool._idle.values()) == 2 and list(pool._idle) == names[1:]
    pool.close()
    with pool.opened(names[0]) as late:  # a search running when the release is let go closes its own
        pass
    with pytest.raises(sqlite3.ProgrammingError):  # closed
        late.execute("select 1")
