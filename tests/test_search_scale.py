"""The site-wide search over a few hundred generated datasets (gongkai.bench.portal), built and
served for real: ranking, exact counts against LIKE, paging in both languages, and a rebuild
after one dataset changed rewriting one search shard."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from conftest import REPO

from gongkai import release_files
from gongkai.bench import portal
from gongkai.bench.scale_search import like_counts
from gongkai.build import build_site
from gongkai.search import site_index
from gongkai.serve import make_datasette

N = 240
COMMON, RARE, PHRASE = "街道", "罕见词", "朝阳街道"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    base = tmp_path_factory.mktemp("scale-search")
    root = portal.write_portal(base / "root", N)
    result = build_site(root, base / "out")
    assert result.ok
    return root, base / "out"


@pytest.fixture(scope="module")
def site(generated) -> Path:
    return (generated[1] / "site").resolve()


@pytest.fixture
def ds(site):
    return make_datasette(site, root=REPO)


def truth(site: Path, query: str) -> dict[str, int]:
    return like_counts(site, query)


async def all_pages(ds, query: str, lang: str | None = None) -> list[dict]:
    params = {"q": query, **({"_lang": lang} if lang else {})}
    r = await ds.client.get("/-/search.json", params=params)
    pages = [r.json()]
    while pages[-1]["next_url"]:
        assert len(pages) < N, "paging does not end"
        r = await ds.client.get(pages[-1]["next_url"])
        assert r.status_code == 200
        pages.append(r.json())
    return pages


async def test_common_word_counts_are_exact_and_every_dataset_is_reached_once(ds, site):
    want = truth(site, COMMON)
    assert len(want) == N  # the generator puts the common word in every dataset
    pages = await all_pages(ds, COMMON)
    first = pages[0]
    assert first["total_exact"] and first["total"] == sum(want.values())
    assert first["datasets_matched"] == N
    assert len(first["groups"]) == 10 and len(pages) == N // 10
    seen = [g["dataset"] for p in pages for g in p["groups"]]
    assert len(seen) == len(set(seen)) == N  # every matching dataset, once, over the pages
    got = {g["dataset"]: g["count"] for p in pages for g in p["groups"]}
    assert got == want  # recall and counts against LIKE, dataset by dataset
    for group in first["groups"]:
        assert all(len(t["rows"]) <= 3 for t in group["tables"])
        assert all(
            "<mark>街道</mark>" in html for t in group["tables"] for r in t["rows"] for html in r["highlights"].values()
        )


async def test_best_matches_first(ds, site):
    pages = await all_pages(ds, COMMON)
    scores = [g["score"] for p in pages for g in p["groups"]]
    assert scores == sorted(scores, reverse=True)
    # every table has 200 rows: the ranking is by matching rows, most first
    counts = [g["count"] for p in pages for g in p["groups"]]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]


async def test_rare_word(ds, site):
    want = truth(site, RARE)
    assert set(want) == {portal.dataset_name(i) for i in range(97, N + 1, 97)}
    (page,) = await all_pages(ds, RARE)
    assert {g["dataset"]: g["count"] for g in page["groups"]} == want
    assert page["next_url"] is None


async def test_a_phrase_shows_exact_counts_on_the_page_and_says_the_total_is_a_bound(ds, site):
    want = truth(site, PHRASE)
    pages = await all_pages(ds, PHRASE)
    first = pages[0]
    assert not first["total_exact"] and first["total"] >= sum(want.values())
    got = {g["dataset"]: g["count"] for p in pages for g in p["groups"]}
    assert got == want  # every page's counts come from the datasets' own indexes
    html = (await ds.client.get("/-/search", params={"q": PHRASE})).text
    assert "最多" in html and "本页各数据集的计数是精确的" in html
    en = (await ds.client.get("/-/search", params={"q": PHRASE, "_lang": "en"})).text
    assert "at most" in en and "are exact" in en


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_pages_are_linkable_in_the_page_language(ds, lang):
    params = {"q": COMMON, **({"_lang": "en"} if lang == "en" else {})}
    first = await ds.client.get("/-/search", params=params)
    assert first.status_code == 200 and len(first.content) < 40_000  # small whatever N
    nxt = re.search(r'<a href="([^"]+)" rel="next">([^<]+)</a>', first.text)
    assert nxt and nxt.group(2) == ("Next page" if lang == "en" else "下一页")
    href = nxt.group(1).replace("&amp;", "&")
    assert ("_lang=en" in href) == (lang == "en") and "_next=10" in href
    second = await ds.client.get(href)
    assert second.status_code == 200
    assert ('<html lang="en">' in second.text) == (lang == "en")
    assert 'rel="first"' in second.text
    assert data_groups(second.text) and not set(data_groups(first.text)) & set(data_groups(second.text))


def data_groups(html: str) -> list[str]:
    """The datasets of the page's data section (not the catalogue's hits above it)."""
    return re.findall(r'<h3><a href="/datasets/(gen-\d+)', html.split('aria-labelledby="gk-data"', 1)[1])


async def test_a_bad_page_token_is_a_bilingual_400(ds):
    r = await ds.client.get("/-/search.json", params={"q": COMMON, "_next": "abc"})
    assert r.status_code == 400
    body = r.json()
    assert "_next" in body["error"] and "_next" in body["error_zh"] and "整数" in body["error_zh"]
    html = await ds.client.get("/-/search", params={"q": COMMON, "_next": "-1"})
    assert html.status_code == 400 and "Traceback" not in html.text


def test_a_changed_dataset_rewrites_only_its_shard(generated, site):
    root, out = generated
    before = {s: site_index.shard_path(site, s).stat().st_ino for s in range(site_index.SHARDS)}
    name = portal.dataset_name(5)
    portal.touch_dataset(root, 5, n=N, salt="test")
    result = build_site(root, out)
    assert result.ok
    new = (out / "site").resolve()
    after = {s: site_index.shard_path(new, s).stat().st_ino for s in range(site_index.SHARDS)}
    changed = {s for s in before if before[s] != after[s]}
    assert changed == {site_index.shard_of(name)}
    # the patched shard answers for the new data
    shards = site_index.open_shards(new)
    try:
        ranked = site_index.candidates(shards, COMMON, top=N)
    finally:
        for conn in shards:
            conn.close()
    assert {h.dataset: h.count for h in ranked.datasets} == truth(new, COMMON)
    conn = sqlite3.connect(site_index.shard_path(new, site_index.shard_of(name)))
    assert conn.execute("select count(*) from tables where dataset = ?", [name]).fetchone()[0] == 1
    # the patched token counts are what counting the whole shard afresh gives
    fresh = conn.execute(
        "select p.term, count(distinct t.dataset), sum(p.docs) from postings p join tables t using (tid) group by p.term"
    ).fetchall()
    assert sorted(fresh) == sorted(conn.execute("select term, datasets, docs from term_stats").fetchall())


@pytest.fixture
def small_top(site, tmp_path, monkeypatch):
    """The release's shards written afresh with `top` for tokens of 2 datasets or more (the
    fixture's 240 datasets give each shard ~15: fewer than TOP_MIN), its best 20 datasets."""
    monkeypatch.setattr(site_index, "TOP_MIN", 2)
    monkeypatch.setattr(site_index, "TOP_K", 20)
    release = tmp_path / "release"
    release.mkdir()
    (release / release_files.BUCKETS).symlink_to(site.resolve() / release_files.BUCKETS)  # the same objects
    entries = [site_index.Entry(name, "h") for name in release_files.names(release) if name.startswith("gen-")]
    assert site_index.write(release, None, entries)["written"] == site_index.SHARDS
    shards = site_index.Shards(release, site_index.open_shards(release))
    yield release, shards
    shards.close()


@pytest.mark.parametrize("query", [COMMON, "社区", "road", "roa"])
def test_build_time_ranking_is_the_query_time_ranking(small_top, site, query):
    release, shards = small_top
    conn = sqlite3.connect(site_index.shard_path(release, 0))
    assert conn.execute("select count(*) from top").fetchone()[0] > 0
    # the first pages read `top` (top <= TOP_K); asking for more ranks from the postings
    from_top = site_index.candidates(shards, query, top=15)
    ranked = site_index.candidates(shards, query, top=N)
    assert [(h.dataset, h.score, h.count) for h in from_top.datasets] == [
        (h.dataset, h.score, h.count) for h in ranked.datasets[:15]
    ]
    assert (from_top.total, from_top.matched, from_top.exact) == (ranked.total, ranked.matched, ranked.exact)
    truth_counts = truth(site, query)
    if ranked.exact:
        assert {h.dataset: h.count for h in ranked.datasets} == truth_counts
        for hit in from_top.datasets:  # each table's count, exact, from the build's ranking
            assert sum(t.count or 0 for t in hit.tables) == hit.count == truth_counts[hit.dataset]
    # and the page built from it shows what LIKE finds
    page = site_index.search_page(shards, query, 0, size=10, verify_max=40, rows=3)
    assert {h.dataset: sum(r["count"] for r in found) for h, found in page.shown} == {
        h.dataset: truth_counts[h.dataset] for h, _ in page.shown
    }


def test_top_is_each_common_tokens_best_datasets_in_ranking_order(small_top):
    release, _ = small_top
    conn = sqlite3.connect(site_index.shard_path(release, 3))
    fresh = conn.execute(
        """select term, dataset, max(score), sum(docs) from postings join tables using (tid)
           where term in (select term from term_stats where datasets >= 2) group by term, dataset"""
    ).fetchall()
    want: dict[str, list] = {}
    for term, dataset, score, docs in sorted(fresh, key=lambda r: (r[0], -r[2], -r[3], r[1])):
        if len(want.setdefault(term, [])) < 20:
            want[term].append((dataset, score, docs))
    got: dict[str, list] = {}
    for term, dataset, score, docs in conn.execute("select term, dataset, score, docs from top order by term, rank"):
        got.setdefault(term, []).append((dataset, score, docs))
    assert got == want and len(got) > 10


def _tables(site: Path, name: str) -> dict:
    """{table: {"count": rows}} of one dataset of the release, from its database."""
    conn = sqlite3.connect(f"file:{release_files.database(site, name)}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "select name from sqlite_master where type = 'table' and name not like '%fts%' and name not like 'sqlite%' and name not like '\\_%' escape '\\'"
            )
        ]
        return {t: {"count": conn.execute(f'select count(*) from "{t}"').fetchone()[0]} for t in tables}
    finally:
        conn.close()


def test_patched_top_lists_are_fresh_ones(site, tmp_path, monkeypatch):
    """A shard patched for removed, added and changed datasets ranks again only the tokens
    whose best list can have moved: its `top` equals a fresh write's, for a short list (3)
    so that added datasets both do and do not beat its last entry."""
    monkeypatch.setattr(site_index, "TOP_MIN", 2)
    monkeypatch.setattr(site_index, "TOP_K", 3)
    names = sorted(n for n in release_files.names(site) if n.startswith("gen-"))
    shard = site_index.shard_of(names[0])
    mates = [n for n in names if site_index.shard_of(n) == shard]
    gone = set(mates[:3])

    def release(label: str) -> Path:
        folder = tmp_path / label
        folder.mkdir()
        (folder / release_files.BUCKETS).symlink_to(site / release_files.BUCKETS)
        return folder

    def top(folder: Path) -> list:
        conn = sqlite3.connect(site_index.shard_path(folder, shard))
        try:
            return conn.execute("select term, rank, dataset, score, docs from top order by term, rank").fetchall()
        finally:
            conn.close()

    steps = [
        [site_index.Entry(n, "h") for n in names if n not in gone],  # three removed
        [site_index.Entry(n, "h2" if n in gone else "h") for n in names],  # added back
        [site_index.Entry(n, "h3" if n == mates[0] else ("h2" if n in gone else "h")) for n in names],  # one changed
    ]
    # changed so that their scores move (BM25 weighs a match by its table's rows): one falls
    # behind the lists it was in, one climbs into lists it was not in, both at once
    rows = {n: {t: int(r["count"]) for t, r in _tables(site, n).items()} for n in mates[3:6]}

    def scaled(n: str, k: float) -> site_index.Entry:
        return site_index.Entry(n, f"x{k}", {t: max(1, int(c * k)) for t, c in rows[n].items()})

    last = steps[-1]
    for change in ({mates[3]: 50.0}, {mates[4]: 0.05}, {mates[3]: 0.02, mates[5]: 40.0}):
        last = [scaled(e.dataset, change[e.dataset]) if e.dataset in change else e for e in last]
        steps.append(last)
    previous = release("start")
    site_index.write(previous, None, [site_index.Entry(n, "h") for n in names])
    for i, entries in enumerate(steps):
        patched, fresh = release(f"patched-{i}"), release(f"fresh-{i}")
        assert site_index.write(patched, previous, entries)["patched"] >= 1
        site_index.write(fresh, None, entries)
        assert top(patched) == top(fresh) and top(fresh), i
        if i >= 3:  # the scores moved: so did the lists
            assert top(fresh) != top(previous), i
        previous = patched
