"""A portal of a few hundred generated datasets (gongkai.bench.portal), built and served: the
catalogue pages through all of them with exact facet counts and linkable pages in both
languages, the publisher and theme index pages, Datasette's pages from per-dataset metadata
(not metadata.json), and a worker's open files bounded whatever the number of datasets.

The expected values come from the generator's rules (dataset i has theme THEMES[i % 6],
publisher i % publishers, topic TOPICS[i % 10]), not from the code under test."""

import html as htmllib
import json
import math
import os
import re
from collections import Counter

import pytest
from conftest import REPO

from gongkai import catalogue, query_pools
from gongkai.bench import portal as gen
from gongkai.build import build_site
from gongkai.catalogue import listing
from gongkai.serve import make_datasette

N = 240
PUBLISHERS = gen.publishers_for(N)
NAMES = [gen.dataset_name(i) for i in range(1, N + 1)]
LISTED = re.compile(r'<a href="/datasets/(gen-\d{5})[?"]')


def theme_of(i: int) -> str:
    return gen._THEMES[i % len(gen._THEMES)]


def publisher_of(i: int) -> str:
    return f"gen-pub-{i % PUBLISHERS:04d}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = gen.write_portal(tmp_path_factory.mktemp("portal"), N, rows=20, project=REPO)
    out = tmp_path_factory.mktemp("out")
    assert build_site(root, out).ok
    return out / "site"


@pytest.fixture
async def ds(site):
    d = make_datasette(site, root=REPO)
    await d.invoke_startup()
    return d


def listed(html: str) -> list[str]:
    """The datasets a list page links to, in order, once each."""
    return list(dict.fromkeys(LISTED.findall(html)))


async def test_catalogue_pages_through_every_dataset(ds):
    pages = math.ceil(N / listing.PER_PAGE)
    seen: list[str] = []
    for page in range(1, pages + 1):
        r = await ds.client.get(f"/datasets?page={page}&sort=title&_lang=en")
        assert r.status_code == 200
        names = listed(r.text)
        assert len(names) == (listing.PER_PAGE if page < pages else N - listing.PER_PAGE * (pages - 1))
        seen += names
        if page < pages:  # the next page's link keeps the sort and the language
            assert f'href="/datasets?sort=title&amp;page={page + 1}&amp;_lang=en" rel="next"' in r.text
    assert sorted(seen) == NAMES  # every dataset once, none twice
    r = await ds.client.get(f"/datasets?page={pages + 5}")
    assert r.status_code == 200 and listed(r.text) == []


async def test_facet_counts_are_exact(ds, site):
    store = catalogue.CatalogueStore(site)
    page = store.read_now(lambda c: c.listing(listing.Query()))
    assert page.total == N
    themes = {v["value"]: v["count"] for v in page.facets["theme"]}
    assert themes == Counter(theme_of(i) for i in range(1, N + 1))
    assert page.facet_sizes["publisher"] == PUBLISHERS
    # With a filter: every other facet is counted over the filtered datasets; the filter's own
    # facet over the datasets the other filters (none here) leave.
    query = listing.Query(filters=(("theme", "transport"), ("publisher", publisher_of(2))))
    page = store.read_now(lambda c: c.listing(query))
    expected = [i for i in range(1, N + 1) if theme_of(i) == "transport" and publisher_of(i) == publisher_of(2)]
    assert page.total == len(expected) and {d.name for d in page.datasets} == {gen.dataset_name(i) for i in expected}
    by_theme = Counter(theme_of(i) for i in range(1, N + 1) if publisher_of(i) == publisher_of(2))
    assert {v["value"]: v["count"] for v in page.facets["theme"]} == by_theme
    # The page shows the same counts.
    r = await ds.client.get("/datasets?theme=transport")
    assert r.status_code == 200
    assert f"({themes['transport']})" in r.text and len(listed(r.text)) == min(listing.PER_PAGE, themes["transport"])


async def test_catalogue_search_ranks_and_pages(ds):
    expected = {gen.dataset_name(i) for i in range(1, N + 1) if i % len(gen._TOPICS) == 1}  # 停车场 / car parks
    found: list[str] = []
    for page in (1, 2):
        r = await ds.client.get(f"/datasets?q=停车场&page={page}")
        assert r.status_code == 200
        found += listed(r.text)
    assert set(found) == expected and len(found) == len(expected)
    r = await ds.client.get("/datasets?q=car+parks&_lang=en")
    assert set(listed(r.text)) <= expected and len(listed(r.text)) == listing.PER_PAGE
    assert 'href="/datasets?q=car+parks&amp;page=2&amp;_lang=en" rel="next"' in r.text


async def test_publisher_and_theme_index_pages(ds):
    r = await ds.client.get("/publishers")
    assert r.status_code == 200
    counts = re.findall(r'<a href="/publishers/(gen-pub-\d{4})">[^<]+</a> <span class="count">(\d+) 个数据集', r.text)
    assert dict(counts) == {k: str(v) for k, v in Counter(publisher_of(i) for i in range(1, N + 1)).items()}
    en = await ds.client.get("/publishers?sort=name&_lang=en")
    assert en.status_code == 200 and 'lang="en"' in en.text and "District Data Office" in en.text
    assert 'href="/publishers/gen-pub-0000?_lang=en"' in en.text
    r = await ds.client.get("/themes?_lang=en")
    themes = dict(
        re.findall(r'<a href="/themes/([a-z-]+)\?_lang=en">[^<]+</a> <span class="count">(\d+) datasets', r.text)
    )
    assert themes == {k: str(v) for k, v in Counter(theme_of(i) for i in range(1, N + 1)).items()}
    home = await ds.client.get("/")
    assert 'href="/publishers"' in home.text and 'href="/themes"' in home.text  # nav and home
    shown = re.findall(
        r'<a href="/publishers/(gen-pub-\d{4})">', home.text.split('id="publishers-h"')[1].split("</section>")[0]
    )
    assert 0 < len(shown) <= 12  # the home lists the largest publishers, the index lists them all


async def test_theme_page_pages_its_datasets(ds):
    total = sum(1 for i in range(1, N + 1) if theme_of(i) == "health")
    first = listed((await ds.client.get("/themes/health")).text)
    second = listed((await ds.client.get("/themes/health?page=2&_lang=en")).text)
    assert len(first) == listing.PER_PAGE and second and not set(first) & set(second)
    assert len(first) + len(second) == min(total, 2 * listing.PER_PAGE)
    r = await ds.client.get("/themes/health?page=2&_lang=en")
    assert 'href="/themes/health?_lang=en" rel="prev"' in r.text and f"Datasets ({total})" in r.text


async def test_datasette_pages_get_their_metadata_from_the_catalogue(ds, site):
    assert "databases" not in json.loads((site / "metadata.json").read_text(encoding="utf-8"))
    r = await ds.client.get("/gen-00007/records")
    assert r.status_code == 200 and "记录" in r.text
    assert ds.metadata("title", database="gen-00007", table="records") == "记录"
    data = (await ds.client.get("/gen-00007/records.json?_shape=array&_size=5")).json()
    assert len(data) == 5 and set(data[0]) == {"id", "名称", "name_en", "amount", "date"}
    csv = await ds.client.get("/gen-00007/records.csv")
    assert csv.status_code == 200 and csv.text.count("\n") == 21
    q = await ds.client.get("/gen-00007.json?sql=select+count(*)+as+n+from+records&_shape=array")
    assert q.status_code == 200 and q.json() == [{"n": 20}]


async def test_open_files_stay_bounded(site, monkeypatch):
    monkeypatch.setattr(query_pools, "IDLE_CONNECTIONS", 4)
    d = make_datasette(site, root=REPO)
    await d.invoke_startup()
    before = len(os.listdir("/proc/self/fd"))
    for name in NAMES:
        assert (await d.client.get(f"/{name}/records.json?_size=1")).status_code == 200
    opened = len(os.listdir("/proc/self/fd")) - before
    threads = d._gongkai_limits.page_threads
    assert opened <= 4 + threads + 4, opened  # idle ones, one per running query, the catalogue: not one per dataset
    assert sum(len(db._all_file_connections) for db in d.databases.values()) <= 4 + threads
    # Every page still answers, from connections reopened as the LRU turns.
    assert (await d.client.get(f"/{NAMES[0]}/records?_size=3")).status_code == 200
    html = htmllib.unescape((await d.client.get(f"/{NAMES[-1]}/records")).text)
    assert "记录" in html


def test_scale_bench_asks_for_varied_urls_the_client_can_send():
    """gongkai.bench.scale_serve's request paths: ASCII (its client sends them as they are),
    over the whole portal, and answered by the site (a few of each page type, here)."""
    from gongkai.bench.scale_serve import PAGE_TYPES, page_paths

    for kind in PAGE_TYPES:
        paths = page_paths(kind, 10_000, count=2_000)
        assert all(p.isascii() for p in paths), kind
        if kind != "home":
            assert len(set(paths)) > 500, kind  # not a handful of cacheable URLs
    names = {p.split("/")[1] for p in page_paths("table", 10_000, count=2_000)}
    assert len(names) > 1_500  # spread over the datasets, not a few


async def test_scale_bench_paths_are_answered(ds):
    from gongkai.bench.scale_serve import PAGE_TYPES, page_paths

    for kind in PAGE_TYPES:
        for path in page_paths(kind, N, count=6):
            r = await ds.client.get(path)
            assert r.status_code == 200, (kind, path, r.status_code)
