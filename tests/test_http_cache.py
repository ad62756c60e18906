"""Caching headers through a real Datasette (`datasette.client`): every public GET says how long
it may be cached and carries an ETag and Last-Modified from the release; If-None-Match gets 304
without running the view; visitor SQL, refusals and the health probe are never stored; nothing
(cookie, Vary) stops a shared cache; each language is its own URL."""

from __future__ import annotations

import json
import re
import shutil
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import pytest
from conftest import REPO

from gongkai.build import build_site
from gongkai.portal import http_cache
from gongkai.serve import make_datasette

PUBLIC_GETS = [
    "/",
    "/?_lang=en",
    "/datasets",
    "/datasets?_lang=en",
    "/datasets/core-gdp",
    "/datasets/core-gdp/report",
    "/publishers/world-bank",
    "/themes/economy",
    "/about",
    "/-/search?q=" + quote("北京"),
    "/-/search.json?q=x",
    "/core-gdp",
    "/core-gdp/gdp",
    "/core-gdp/gdp.json",
    "/core-gdp/gdp.json?_shape=array&_size=5",
    "/core-gdp/gdp.csv",
    "/core-gdp/gdp.csv?_stream=on",
    "/cn-admin-divisions/provinces/11",
    "/core-gdp.db",
    "/downloads/core-gdp/datapackage.json",
    "/-/versions.json",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("cache")
    assert build_site(REPO, out).ok
    return out / "site"


@pytest.fixture
async def ds(built):
    instance = make_datasette(built, root=REPO)
    await instance.invoke_startup()
    return instance


def release_marker(built) -> dict:
    return json.loads((built.resolve() / ".complete").read_text())


@pytest.mark.parametrize("path", PUBLIC_GETS)
async def test_every_public_get_is_cacheable_by_a_shared_cache(ds, built, path):
    # A visitor's cookie must not make the answer private (Datasette 0.65 does that by default).
    r = await ds.client.get(path, cookies={"ds_actor": "x", "other": "y"})
    assert r.status_code == 200, path
    assert r.headers["cache-control"] == http_cache.PUBLIC
    if path.startswith("/downloads/"):  # the file's own tag: its SHA-256, one per content coding
        assert re.fullmatch(r'"[0-9a-f]{32}"|W/"[0-9a-f]{32}-(br|gzip)"', r.headers["etag"]), r.headers["etag"]
    else:
        assert r.headers["etag"].startswith('W/"') and len(r.headers["etag"]) == 36
    built_at = parsedate_to_datetime(r.headers["last-modified"])
    assert built_at.isoformat() == release_marker(built)["finished"]
    assert "set-cookie" not in r.headers
    # Only content negotiation varies a response: a landing page answers RDF to `Accept:
    # text/turtle` (plugins/opendata.py), so a shared cache must key it by Accept; never Cookie.
    # and a published text file may be sent gzipped (gongkai/portal/file_response.py).
    negotiated = path.split("?")[0].startswith("/datasets/") and path.count("/") == 2
    compressible = path.startswith("/downloads/") and r.headers["content-type"].startswith(
        ("text/", "application/json")
    )
    expected = "Accept" if negotiated else "Accept-Encoding" if compressible else None
    assert r.headers.get("vary") == expected, path
    assert "private" not in r.headers["cache-control"]


async def test_if_none_match_answers_304_with_the_same_validators(ds):
    first = await ds.client.get("/core-gdp/gdp")
    again = await ds.client.get("/core-gdp/gdp", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    for name in ("etag", "cache-control", "last-modified"):
        assert again.headers[name] == first.headers[name]
    assert again.headers["x-frame-options"] == "DENY"  # security headers wrap the 304 too
    # A list of tags, and the strong form of ours, match as well (weak comparison).
    strong = first.headers["etag"].removeprefix("W/")
    listed = await ds.client.get("/core-gdp/gdp", headers={"if-none-match": f'"nope", {strong}'})
    assert listed.status_code == 304
    stale = await ds.client.get("/core-gdp/gdp", headers={"if-none-match": 'W/"0123"'})
    assert stale.status_code == 200 and stale.headers["etag"] == first.headers["etag"]
    star = await ds.client.get("/core-gdp/gdp", headers={"if-none-match": "*"})
    assert star.status_code == 200


async def test_each_language_and_each_url_is_its_own_cache_entry(ds):
    zh = await ds.client.get("/datasets")
    en = await ds.client.get("/datasets?_lang=en")
    assert zh.headers["etag"] != en.headers["etag"]
    assert 'lang="en"' in en.text and 'lang="zh-CN"' in zh.text
    crossed = await ds.client.get("/datasets?_lang=en", headers={"if-none-match": zh.headers["etag"]})
    assert crossed.status_code == 200 and 'lang="en"' in crossed.text
    other = await ds.client.get("/core-gdp/gdp.json?_size=2", headers={"if-none-match": zh.headers["etag"]})
    assert other.status_code == 200


async def test_static_files_are_cached_longer(ds):
    r = await ds.client.get("/static/gongkai.css")
    assert r.status_code == 200 and r.headers["cache-control"] == http_cache.STATIC and "etag" in r.headers


@pytest.mark.parametrize(
    "path", ["/core-gdp.json?sql=select+1", "/core-gdp?sql=select+random()", "/core-gdp.csv?sql=select+1"]
)
async def test_visitor_sql_is_never_stored(ds, path):
    r = await ds.client.get(path)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert "etag" not in r.headers and "last-modified" not in r.headers
    # Nothing a client sends turns it into a 304.
    r2 = await ds.client.get(path, headers={"if-none-match": "*"})
    assert r2.status_code == 200


async def test_errors_are_cached_briefly_and_vary_on_accept(ds):
    html = await ds.client.get("/no-such-page")
    as_json = await ds.client.get("/no-such-page", headers={"accept": "application/json"})
    assert html.status_code == as_json.status_code == 404
    assert as_json.json()["status"] == 404 and "<html" in html.text.lower()
    for r in (html, as_json):
        assert r.headers["cache-control"] == http_cache.ERROR and r.headers["vary"] == "Accept"
    assert html.headers["etag"] != as_json.headers["etag"]
    again = await ds.client.get("/no-such-page", headers={"if-none-match": html.headers["etag"]})
    assert again.status_code == 304 and again.headers["cache-control"] == http_cache.ERROR
    bad_sort = await ds.client.get("/core-gdp/gdp?_sort=nope")
    assert bad_sort.status_code == 400 and bad_sort.headers["cache-control"] == http_cache.ERROR


async def test_other_methods_and_refusals_are_not_stored(ds):
    r = await ds.client.post("/core-gdp/gdp")
    assert r.status_code == 405 and r.headers["cache-control"] == "no-store" and "etag" not in r.headers
    assert http_cache.policy("GET", "/", "", 429) == http_cache.policy("GET", "/", "", 503) == "no-store"


async def test_health_says_which_release_it_serves_and_is_never_cached(ds, built):
    r = await ds.client.get("/-/health")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store" and "etag" not in r.headers
    body = r.json()
    marker = release_marker(built)
    assert body["status"] == "ok" and body["release"] == marker["release"] == built.resolve().name
    assert body["built"] == marker["finished"] and len(body["code"]) == 16


async def test_another_release_gets_other_tags(built, tmp_path):
    # A folder without a `.complete` marker is a hand-made site: its name is its release id.
    copy = tmp_path / "hand-made-release"
    shutil.copytree(built.resolve(), copy, ignore=shutil.ignore_patterns(".complete", ".serving.lock"))
    one = make_datasette(built, root=REPO)
    two = make_datasette(copy, root=REPO)
    await one.invoke_startup()
    await two.invoke_startup()
    tag = (await one.client.get("/core-gdp/gdp")).headers["etag"]
    r = await two.client.get("/core-gdp/gdp", headers={"if-none-match": tag})
    assert r.status_code == 200 and r.headers["etag"] != tag
    assert (await two.client.get("/-/health")).json()["release"] == "hand-made-release"


def test_code_changes_change_the_tags(tmp_path):
    (tmp_path / "a.py").write_text("x = 1")
    before = http_cache.code_fingerprint((tmp_path,))
    (tmp_path / "a.py").write_text("x = 2")
    http_cache.code_fingerprint.cache_clear()
    assert http_cache.code_fingerprint((tmp_path,)) != before


def test_vary_keeps_what_a_shared_cache_needs_unit():
    assert http_cache.vary(["Cookie, Authorization"], 200) is None
    assert http_cache.vary(["Accept-Encoding", "cookie"], 200) == "Accept-Encoding"
    assert http_cache.vary(["Accept-Encoding"], 404) == "Accept-Encoding, Accept"
    assert http_cache.vary(["accept"], 404) == "accept"
    assert http_cache.vary([], 404) == "Accept"


def test_weak_comparison_unit():
    tag = 'W/"abc"'
    assert http_cache.matches('W/"abc"', tag) and http_cache.matches('"abc"', tag)
    assert http_cache.matches('"x", W/"abc"', tag)
    assert not http_cache.matches('"abcd"', tag) and not http_cache.matches("*", tag)
