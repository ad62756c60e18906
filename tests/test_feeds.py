"""The sitemap, robots.txt and the Atom feeds (plugins/feeds.py), through datasette.client, on the
fixture site and on a generated portal of a few hundred datasets (so the sitemap pages)."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from opendata_sites import GENERATED, datasette_for
from rfc3339_validator import validate_rfc3339

from gongkai import i18n
from gongkai.catalogue import feeds as feed_queries
from gongkai.opendata import atom, sitemap
from gongkai.portal import routes

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
A = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(autouse=True)
def _no_base_override(monkeypatch):
    monkeypatch.delenv("GONGKAI_BASE_URL", raising=False)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def _xml(ds, path: str, content_type: str) -> ET.Element:
    response = await ds.client.get(path)
    assert response.status_code == 200, (path, response.text[:300])
    assert response.headers["content-type"] == content_type, path
    assert response.headers["access-control-allow-origin"] == "*"
    return ET.fromstring(response.content)


def check_atom(feed: ET.Element) -> list[ET.Element]:
    """RFC 4287's MUSTs for a feed and its entries (section 4.1), and RFC 3339 dates."""
    assert feed.tag == f"{A}feed"
    for tag in ("id", "title", "updated"):
        assert len(feed.findall(f"{A}{tag}")) == 1, tag  # exactly one each
    assert validate_rfc3339(feed.findtext(f"{A}updated"))
    selves = [link for link in feed.findall(f"{A}link") if link.get("rel") == "self"]
    assert len(selves) == 1
    feed_author = feed.find(f"{A}author")
    entries = feed.findall(f"{A}entry")
    ids = [e.findtext(f"{A}id") for e in entries]
    assert len(ids) == len(set(ids)), "entry ids are unique"
    for e in entries:
        for tag in ("id", "title", "updated"):
            assert len(e.findall(f"{A}{tag}")) == 1, tag
        assert validate_rfc3339(e.findtext(f"{A}updated"))
        if e.find(f"{A}published") is not None:
            assert validate_rfc3339(e.findtext(f"{A}published"))
        # no content: an alternate link is required (4.1.1), and the author from feed or entry
        assert e.find(f"{A}content") is None
        assert [link for link in e.findall(f"{A}link") if link.get("rel") == "alternate"]
        assert e.find(f"{A}author") is not None or feed_author is not None
        for author in e.findall(f"{A}author"):
            assert author.findtext(f"{A}name")
    updated = [e.findtext(f"{A}updated") for e in entries]
    assert updated == sorted(updated, reverse=True), "newest first"
    return entries


async def test_robots_names_the_sitemap_by_absolute_url(opendata_fixture_site, monkeypatch):
    ds = await datasette_for(opendata_fixture_site)
    response = await ds.client.get("/robots.txt")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert "User-agent: *" in lines and "Disallow: /*?sql=" in lines
    assert any(line.startswith("Sitemap: http") and line.endswith("/sitemap.xml") for line in lines)
    monkeypatch.setenv("GONGKAI_BASE_URL", "https://data.example.gov.cn")
    response = await ds.client.get("/robots.txt")
    assert "Sitemap: https://data.example.gov.cn/sitemap.xml" in response.text.splitlines()


async def test_sitemap_lists_every_page_once_with_lastmod_and_both_languages(opendata_fixture_site):
    ds = await datasette_for(opendata_fixture_site)
    index = await _xml(ds, "/sitemap.xml", sitemap.CONTENT_TYPE)
    assert index.tag == f"{SM}sitemapindex"
    locations = [s.findtext(f"{SM}loc") for s in index.findall(f"{SM}sitemap")]
    assert [_path(u) for u in locations] == ["/sitemaps/pages.xml", "/sitemaps/datasets-1.xml"]
    names, pages = [], []
    for loc in locations:
        urlset = await _xml(ds, _path(loc), sitemap.CONTENT_TYPE)
        assert urlset.tag == f"{SM}urlset"
        for url in urlset.findall(f"{SM}url"):
            loc_url = url.findtext(f"{SM}loc")
            alternates = {a.get("hreflang"): a.get("href") for a in url.findall(f"{XHTML}link")}
            assert set(alternates) == {i18n.html_lang(lang) for lang in i18n.LANGS}
            assert alternates[i18n.html_lang("zh")] == loc_url
            assert alternates[i18n.html_lang("en")] == i18n.lang_url(loc_url, "en")
            if url.findtext(f"{SM}lastmod"):
                assert validate_rfc3339(url.findtext(f"{SM}lastmod"))
            path = _path(loc_url)
            if path.startswith("/datasets/"):
                names.append(path.removeprefix("/datasets/"))
                assert url.findtext(f"{SM}lastmod"), "a dataset page says when it changed"
            pages.append(path)
    assert sorted(names) == ["budget", "towns"]
    assert {"/", "/datasets", "/about", "/publishers/city-stats", "/themes/finance"} <= set(pages)
    for path in pages:  # every URL a search engine is sent to answers, in both languages
        for lang in i18n.LANGS:
            response = await ds.client.get(i18n.lang_url(path, lang))
            assert response.status_code == 200, (path, lang)


async def test_sitemap_pages_through_a_large_catalogue(opendata_generated_site, monkeypatch):
    monkeypatch.setattr(sitemap, "PER_PAGE", 100)
    ds = await datasette_for(opendata_generated_site)
    index = await _xml(ds, "/sitemap.xml", sitemap.CONTENT_TYPE)
    locations = [_path(s.findtext(f"{SM}loc")) for s in index.findall(f"{SM}sitemap")]
    pages = (GENERATED + 99) // 100
    assert locations == ["/sitemaps/pages.xml"] + [f"/sitemaps/datasets-{n}.xml" for n in range(1, pages + 1)]
    seen = []
    for path in locations[1:]:
        urlset = await _xml(ds, path, sitemap.CONTENT_TYPE)
        entries = urlset.findall(f"{SM}url")
        assert len(entries) <= 100
        seen += [_path(u.findtext(f"{SM}loc")).removeprefix("/datasets/") for u in entries]
    assert len(seen) == GENERATED == len(set(seen))
    for bad in (f"/sitemaps/datasets-{pages + 1}.xml", "/sitemaps/datasets-0.xml"):
        response = await ds.client.get(bad)
        assert response.status_code == 404
        assert "站点地图" in response.text and "sitemap page" in response.text


@pytest.mark.parametrize("lang", i18n.LANGS)
async def test_the_site_feed_is_valid_atom_in_each_language(opendata_fixture_site, lang):
    ds = await datasette_for(opendata_fixture_site)
    feed = await _xml(ds, i18n.lang_url("/feeds/datasets.atom", lang), atom.CONTENT_TYPE)
    assert feed.get(XML_LANG) == i18n.html_lang(lang)
    assert feed.findtext(f"{A}title") == i18n.t("feeds.site_title", lang, site=i18n.t("site_name", lang))
    entries = check_atom(feed)
    titles = {e.findtext(f"{A}title") for e in entries}
    assert titles == ({"财政预算", "测试行政区划"} if lang == "zh" else {"财政预算", "Test divisions"})
    for e in entries:  # each entry's page answers, in the feed's language
        href = next(link.get("href") for link in e.findall(f"{A}link") if link.get("rel") == "alternate")
        assert (await ds.client.get(_path(href))).status_code == 200
        assert ("_lang=en" in href) == (lang == "en")
    zh = await _xml(ds, "/feeds/datasets.atom", atom.CONTENT_TYPE)
    assert sorted(e.findtext(f"{A}id") for e in zh.findall(f"{A}entry")) == sorted(
        e.findtext(f"{A}id") for e in entries
    ), "an entry's id does not depend on the language"


async def test_publisher_and_theme_feeds_hold_only_their_datasets(opendata_generated_site):
    ds = await datasette_for(opendata_generated_site)
    site = check_atom(await _xml(ds, "/feeds/datasets.atom", atom.CONTENT_TYPE))
    assert len(site) == atom.LIMIT  # the newest 50 of 230
    catalogue_conn = sqlite3.connect(opendata_generated_site / "catalog.db")
    expected = {d.name for d in feed_queries.recent(catalogue_conn, atom.LIMIT, publisher="gen-pub-0003")}
    feed = await _xml(ds, "/feeds/publishers/gen-pub-0003.atom", atom.CONTENT_TYPE)
    entries = check_atom(feed)
    got = {_path(e.findtext(f"{A}id")).split("#")[0].removeprefix("/datasets/") for e in entries}
    assert got == expected and got
    name = feed_queries.publisher_names(catalogue_conn, ["gen-pub-0003"], "zh")["gen-pub-0003"]
    assert {e.findtext(f"{A}author/{A}name") for e in entries} == {name}
    theme = check_atom(await _xml(ds, "/feeds/themes/transport.atom?_lang=en", atom.CONTENT_TYPE))
    assert theme and all(e.find(f"{A}category").get("term") == "transport" for e in theme)
    for missing in ("/feeds/publishers/nobody.atom", "/feeds/themes/nothing.atom"):
        response = await ds.client.get(missing)
        assert response.status_code == 404
        assert "没有" in response.text and "There is no" in response.text


@pytest.mark.parametrize(
    "page, feeds",
    [
        ("/", ["/feeds/datasets.atom"]),
        ("/datasets", ["/feeds/datasets.atom"]),
        ("/publishers/city-stats", ["/feeds/publishers/city-stats.atom", "/feeds/datasets.atom"]),
        ("/themes/finance", ["/feeds/themes/finance.atom", "/feeds/datasets.atom"]),
    ],
)
@pytest.mark.parametrize("lang", i18n.LANGS)
async def test_pages_link_their_feeds(opendata_fixture_site, page, feeds, lang):
    ds = await datasette_for(opendata_fixture_site)
    html = (await ds.client.get(i18n.lang_url(page, lang))).text
    for feed in feeds:
        href = i18n.lang_url(feed, lang).replace("&", "&amp;")
        assert f'<link rel="alternate" type="application/atom+xml" href="{href}"' in html, (page, feed)
        response = await ds.client.get(i18n.lang_url(feed, lang))
        assert response.status_code == 200 and response.headers["content-type"] == atom.CONTENT_TYPE


def test_feed_and_sitemap_names_are_reserved():
    names = routes.reserved_names()
    assert {"feeds", "sitemap", "sitemaps", "robots"} <= names


def test_atom_dates_are_rfc3339():
    assert atom.rfc3339("2026-11-26T01:08:18+00:00") == "2026-11-26T01:08:18Z"
    assert atom.rfc3339("2026-11-26T09:08:18+08:00") == "2026-11-26T01:08:18Z"
    assert atom.rfc3339("2026-11-26") == "2026-11-26T00:00:00Z"
    assert atom.rfc3339(None) == atom.EPOCH == atom.rfc3339("not a date")
