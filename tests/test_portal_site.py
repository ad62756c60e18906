"""The portal's pages on the repository's own datasets, built once and served through Datasette's
client: every page in both languages, the catalogue's filters/sorting/pagination/search, the
landing page's parts, downloads, the data dictionary CSV, 404s."""

import csv
import io
import json
import re
from datetime import date

import pytest
from conftest import REPO

from gongkai.build import build_site
from gongkai.serve import make_datasette

DATASETS = [
    "cn-admin-divisions",
    "cn-guangan-service-items",
    "core-gdp",
    "core-population",
    "uk-organisations",
    "us-dotgov-domains",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("portal")
    result = build_site(REPO, out)
    assert result.ok
    return out / "site"


@pytest.fixture
async def ds(built):
    instance = make_datasette(built, root=REPO)
    await instance.invoke_startup()
    return instance


def listed(html: str) -> list[str]:
    return re.findall(r'class="dataset-card-title"><a href="/datasets/([a-z0-9-]+)', html)


PAGES = [
    "/",
    "/datasets",
    "/datasets/core-gdp",
    "/datasets/cn-admin-divisions",
    "/datasets/us-dotgov-domains",
    "/datasets/uk-organisations",
    "/datasets/core-population",
    "/datasets/core-gdp/report",
    "/publishers/world-bank",
    "/themes/administrative-divisions",
    "/about",
    "/api",
    "/licence",
    "/privacy",
]


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_in_both_languages(ds, path):
    for lang, html_lang in (("zh", "zh-CN"), ("en", "en")):
        url = path + ("?_lang=en" if lang == "en" else "")
        response = await ds.client.get(url)
        assert response.status_code == 200, url
        html = response.text
        assert f'<html lang="{html_lang}">' in html
        assert f'<link rel="alternate" hreflang="zh" href="{path}">' in html
        assert f'<link rel="alternate" hreflang="en" href="{path}?_lang=en">' in html
        assert html.count("<h1") == 1, url
        assert '<main id="main"' in html
        assert "set-cookie" not in response.headers
        # No request to another host: no external stylesheet, script, image or frame.
        assert not re.search(r'<(link|script|img|iframe)[^>]+(href|src)="(https?:)?//', html), url
        if lang == "en":  # every internal link keeps the language
            for href in re.findall(r'<a [^>]*href="(/[^"]*)"', html):
                if (
                    href.startswith(("/downloads/", "/static/"))
                    or re.search(r"\.(csv|json|db|md)(\?|$)", href)
                    or href == path
                ):
                    continue
                assert "_lang=en" in href, (url, href)


async def test_home_totals_themes_publishers_recent(ds):
    html = (await ds.client.get("/")).text
    assert "<strong>6</strong> 个数据集" in html and "<strong>100,791</strong> 行数据" in html
    assert 'href="/themes/government-organisations">政府机构</a> <span class="count">2 个数据集' in html
    assert 'href="/publishers/world-bank">世界银行</a> <span class="count">2 个数据集' in html
    assert sorted(listed(html)) == DATASETS
    en = (await ds.client.get("/?_lang=en")).text
    assert 'href="/themes/government-organisations?_lang=en">Government organisations</a>' in en
    assert '<input type="hidden" name="_lang" value="en">' in en


async def test_catalogue_filters(ds):
    async def names(query):
        response = await ds.client.get("/datasets?" + query)
        assert response.status_code == 200
        return sorted(listed(response.text))

    assert await names("") == DATASETS
    assert await names("theme=government-organisations") == ["uk-organisations", "us-dotgov-domains"]
    assert await names("publisher=world-bank") == ["core-gdp", "core-population"]
    assert await names("licence=CC0-1.0") == ["us-dotgov-domains"]
    assert await names("format=csv") == DATASETS and await names("format=xlsx") == []
    assert await names("frequency=daily") == ["us-dotgov-domains"]
    assert await names("frequency=annual&publisher=nbs") == ["cn-admin-divisions"]
    assert await names("openness=unconditional") == DATASETS and await names("openness=conditional") == []
    assert await names("keyword=行政区划") == ["cn-admin-divisions"]
    assert await names("keyword=provinces") == ["cn-admin-divisions"]  # the translated keywords too


async def test_catalogue_facet_counts_and_links(ds):
    html = (await ds.client.get("/datasets?theme=government-organisations&_lang=en")).text
    # The publisher facet counts within the active theme; the theme facet ignores its own filter.
    assert re.search(
        r'href="/datasets\?theme=government-organisations&amp;publisher=cisa&amp;_lang=en">CISA[^<]*</a>\s*<span class="count">\(1\)',
        html,
    ) or re.search(r'publisher=cisa&amp;_lang=en">[^<]+</a>\s*<span class="count">\(1\)', html)
    assert re.search(r'theme=economy&amp;_lang=en">Economy</a>\s*<span class="count">\(1\)', html)
    # The selected value links to the page without it.
    assert re.search(r'<a href="/datasets\?_lang=en" aria-current="true" class="selected">', html)


async def test_catalogue_search_is_chinese_aware(ds):
    assert listed((await ds.client.get("/datasets?q=人口")).text)[0] == "core-population"
    # the Guang'an items mention their 行政区划代码 (division code) too, ranked after
    assert listed((await ds.client.get("/datasets?q=行政区划")).text) == [
        "cn-admin-divisions",
        "cn-guangan-service-items",
    ]
    assert "core-gdp" in listed((await ds.client.get("/datasets?q=GDP&_lang=en")).text)
    html = (await ds.client.get("/datasets?q=zzzzqqq")).text
    assert listed(html) == [] and "没有符合条件的数据集" in html
    # search + filter
    assert listed((await ds.client.get("/datasets?q=人口&publisher=nbs")).text) in ([], ["cn-admin-divisions"])


async def test_catalogue_sorting(ds):
    by_size = listed((await ds.client.get("/datasets?sort=size")).text)
    assert by_size == [
        "cn-admin-divisions",
        "us-dotgov-domains",
        "uk-organisations",
        "core-gdp",
        "core-population",
        "cn-guangan-service-items",
    ]
    assert listed((await ds.client.get("/datasets?sort=title&_lang=en")).text) == [
        "us-dotgov-domains",
        "cn-admin-divisions",
        "core-gdp",
        "cn-guangan-service-items",
        "core-population",
        "uk-organisations",
    ]
    assert listed((await ds.client.get("/datasets?sort=title")).text) == [
        "us-dotgov-domains",
        "cn-admin-divisions",
        "core-population",
        "core-gdp",
        "cn-guangan-service-items",
        "uk-organisations",
    ]
    html = (await ds.client.get("/datasets?sort=modified")).text
    assert sorted(listed(html)) == DATASETS and '<option value="modified" selected>' in html


async def test_catalogue_pagination(ds):
    seen = []
    for page in (1, 2, 3):
        html = (await ds.client.get(f"/datasets?sort=size&per_page=2&page={page}&_lang=en")).text
        seen += listed(html)
        assert f'aria-current="page">{page}</a>' in html
    assert seen == [
        "cn-admin-divisions",
        "us-dotgov-domains",
        "uk-organisations",
        "core-gdp",
        "core-population",
        "cn-guangan-service-items",
    ]
    html = (await ds.client.get("/datasets?sort=size&per_page=2&page=2&_lang=en")).text
    assert 'href="/datasets?sort=size&amp;per_page=2&amp;_lang=en" rel="prev"' in html
    assert 'href="/datasets?sort=size&amp;per_page=2&amp;page=3&amp;_lang=en" rel="next"' in html
    assert "Datasets 3–4 of 6" in html
    assert listed((await ds.client.get("/datasets?per_page=2&page=9")).text) == []


async def test_landing_page(ds, built):
    html = (await ds.client.get("/datasets/cn-admin-divisions")).text
    assert "<h1>中华人民共和国行政区划" in html
    assert (
        '<a href="https://github.com/modood/Administrative-divisions-of-China" rel="noopener noreferrer nofollow">'
        in html
    )
    assert "<strong>注意事项</strong>" in html  # Markdown rendered
    assert "国家统计局" in html and "data@gongkai.example" in html and "WTFPL" in html
    assert '<time datetime="2026-11-26">' in html  # issued, from `created`
    modified = json.loads((built / "build-state.json").read_text())  # noqa: F841 (the build wrote it)
    assert "2023-01-01" in html and "中华人民共和国" in html  # temporal and spatial coverage
    # Resources: rows, dictionary (with constraints in words), preview, table link, downloads
    assert "41,352 行" in html
    assert "须完整匹配正则表达式 [0-9]{9}" in html and "必填" in html
    assert "<td>110000000</td>" not in html  # no invented values
    assert "<td>11</td><td>北京市</td>" in html  # preview of provinces
    assert 'href="/cn-admin-divisions/streets"' in html
    assert 'href="/downloads/cn-admin-divisions/dist/streets.csv?v=' in html  # by its content (#12)
    assert 'href="/cn-admin-divisions/streets.csv?_stream=on&amp;_size=max"' in html
    assert 'href="/datasets/cn-admin-divisions/streets/dictionary.csv"' in html
    assert 'href="/downloads/cn-admin-divisions/datapackage.json"' in html
    assert 'href="/datasets/cn-admin-divisions/report">校验报告</a>' in html
    assert 'href="mailto:data@gongkai.example?subject=' in html  # 纠错
    assert "通过校验" in html and "数据质量评分" in html
    # The bar chart: provinces labelled by name, with its data table
    assert '<svg viewBox="0 0 640' in html and "广东省" in html and "图表数据" in html
    en = (await ds.client.get("/datasets/cn-admin-divisions?_lang=en")).text
    assert "<h1>Administrative divisions of the People&#39;s Republic of China" in en
    assert "matches the regular expression [0-9]{9} in full" in en and "Province code" in en
    assert "Report a problem" in en


async def test_api_examples_use_the_configured_base_url(ds):
    # The site's base_url (metadata/site.yaml), not the Host header a client sent.
    html = (await ds.client.get("/datasets/core-gdp", headers={"host": "data.example.org"})).text
    assert "data.example.org" not in html
    assert "curl &#39;http://127.0.0.1:8001/core-gdp/gdp.json?_shape=array&amp;_size=5&#39;" in html
    assert "urlopen(&#39;http://127.0.0.1:8001/core-gdp/gdp.json?_shape=array&amp;_size=5&#39;)" in html
    assert "await fetch(&#39;http://127.0.0.1:8001/core-gdp.json?sql=select%20%2A%20from%20%22gdp%22" in html
    # ...and the URLs work on this site
    rows = (await ds.client.get("/core-gdp/gdp.json?_shape=array&_size=5")).json()
    assert len(rows) == 5 and set(rows[0]) == {"Country Name", "Country Code", "Year", "Value"}
    rows = (await ds.client.get("/core-gdp.json?sql=select%20%2A%20from%20%22gdp%22%20limit%205&_shape=array")).json()
    assert len(rows) == 5


async def test_line_chart_and_timeliness_today(ds):
    html = (await ds.client.get("/datasets/core-gdp?_lang=en")).text
    assert "<polyline" in html and "World" in html and "current US$" in html
    # Judged against today's date, not the build's
    assert f"(as of {date.today().isoformat()})" in html
    daily = (await ds.client.get("/datasets/us-dotgov-domains?_lang=en")).text
    assert "timeliness-on_time" in daily or "timeliness-late" in daily
    irregular = (await ds.client.get("/datasets/uk-organisations?_lang=en")).text
    assert "No update schedule" in irregular


async def test_quality_score_is_shown_with_its_parts(ds):
    html = (await ds.client.get("/datasets/core-population?_lang=en")).text
    score = int(re.search(r'<p class="quality-score"><strong>(\d+)</strong>', html).group(1))
    assert 0 <= score <= 100
    for label in (
        "Licence",
        "Description",
        "Timeliness",
        "Coverage metadata",
        "Open format",
        "Data dictionary completeness",
        "Validation",
    ):
        assert f'<th scope="row">{label}</th>' in html


async def test_dictionary_csv(ds):
    response = await ds.client.get("/datasets/core-gdp/gdp/dictionary.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [r["name"] for r in rows] == ["Country Name", "Country Code", "Year", "Value"]
    value = rows[3]
    assert value["unit"] == "current US$" and value["type"] == "number" and value["title_zh"]
    assert (await ds.client.get("/datasets/core-gdp/nope/dictionary.csv")).status_code == 404


async def test_downloads(ds, built):
    response = await ds.client.get("/downloads/cn-admin-divisions/dist/provinces.csv")
    assert response.status_code == 200
    assert response.content == (REPO / "datasets/cn-admin-divisions/dist/provinces.csv").read_bytes()
    assert response.headers["content-type"].startswith("text/csv")
    package = (await ds.client.get("/downloads/core-gdp/datapackage.json")).json()
    assert package["name"] == "core-gdp"
    for bad in (
        "/downloads/core-gdp/../catalog.db",
        "/downloads/core-gdp/%2e%2e/catalog.db",
        "/downloads/core-gdp/data/nope.csv",
        "/downloads/nope/datapackage.json",
    ):
        assert (await ds.client.get(bad, follow_redirects=True)).status_code == 404, bad


async def test_report_page_and_files(ds):
    html = (await ds.client.get("/datasets/core-gdp/report?_lang=en")).text
    assert "This dataset passed every check." in html
    report = (await ds.client.get("/datasets/core-gdp/report.json")).json()
    assert report["valid"] is True
    assert (await ds.client.get("/datasets/core-gdp/report.md")).status_code == 200


async def test_publisher_theme_and_static_pages(ds):
    html = (await ds.client.get("/publishers/cisa?_lang=en")).text
    assert "help@get.gov" in html and listed(html) == ["us-dotgov-domains"]
    assert 'href="/publishers/us-dhs?_lang=en"' in html  # the parent organisation
    html = (await ds.client.get("/themes/government-organisations")).text
    assert sorted(listed(html)) == ["uk-organisations", "us-dotgov-domains"] and "政府部门" in html
    html = (await ds.client.get("/themes/finance")).text
    assert "暂时还没有数据集" in html
    privacy = (await ds.client.get("/privacy?_lang=en")).text
    assert "Security contact email" in privacy and "DOTGOV Act" in privacy
    assert "6 U.S.C. 665" in (await ds.client.get("/privacy")).text
    # the landing page lists its declared columns too, with their kind and masking
    landing = (await ds.client.get("/datasets/us-dotgov-domains?_lang=en")).text
    declared = landing[landing.index('class="personal-data"') :]
    assert "Security contact email" in declared and "Organisational contact" in declared
    api = (await ds.client.get("/api", headers={"host": "h.example"})).text
    assert "http://127.0.0.1:8001/-/search.json?q=" in api and "Access-Control-Allow-Origin" in api
    assert "h.example" not in api
    licence = (await ds.client.get("/licence?_lang=en")).text
    assert 'href="/datasets?licence=WTFPL&amp;_lang=en"' in licence


@pytest.mark.parametrize(
    "path", ["/datasets/nope", "/publishers/nope", "/themes/nope", "/datasets/nope/report", "/datasets/Bad_Name"]
)
async def test_unknown_is_404(ds, path):
    for suffix in ("", "?_lang=en"):
        response = await ds.client.get(path + suffix)
        assert response.status_code == 404, path


async def test_the_repositorys_datasets_pass_the_catalogue_checks(ds):
    """The real datasets (sources, spatial codes, long descriptions) through the official checks
    of the machine-readable catalogue (tests/test_opendata_*.py has the details)."""
    import opendata_schemas as schemas

    v11 = (await ds.client.get("/data.json")).json()
    assert schemas.errors(schemas.dcat_us_11(), v11) == [] and len(v11["dataset"]) == len(DATASETS)
    v30 = (await ds.client.get("/data-v3.json")).json()
    assert schemas.errors(schemas.dcat_us_30(), v30) == []
    conforms, report = schemas.shacl((await ds.client.get("/catalog.ttl")).content)
    assert conforms, report[:2000]


async def test_scorecard_on_landing_publisher_report_and_catalogue(ds, built):
    import sqlite3

    conn = sqlite3.connect(built / "catalog.db")
    card = json.loads(conn.execute("select scorecard from datasets where name = 'core-gdp'").fetchone()[0])
    publisher = json.loads(conn.execute("select scorecard from publishers where id = 'world-bank'").fetchone()[0])
    conn.close()
    assert card["mqa"]["max"] == 405 and 0 <= card["mqa"]["points"] <= 405 and 0 <= card["stars"]["level"] <= 5
    assert publisher["datasets"] >= 1 and publisher["mqa"]["max"] == 405
    for lang, words in (
        ("zh", ("评分卡", "欧盟元数据质量评估")),
        ("en", ("Scorecard", "EU Metadata Quality Assessment")),
    ):
        suffix = "?_lang=en" if lang == "en" else ""
        html = (await ds.client.get("/datasets/core-gdp" + suffix)).text
        assert all(w in html for w in words)
        assert f"{card['mqa']['points']} / 405" in html
        assert f'src="/datasets/core-gdp/badge.svg{suffix}"' in html
        alt = re.search(r'<img src="/datasets/core-gdp/badge\.svg[^"]*" alt="([^"]+)"', html).group(1)
        assert f"MQA {card['mqa']['points']}/405" in alt and ("校验通过" if lang == "zh" else "valid") in alt
        pub = (await ds.client.get("/publishers/world-bank" + suffix)).text
        assert words[0] in pub and f"{publisher['mqa']['points']} / 405" in pub
    report = (await ds.client.get("/datasets/core-gdp/report.json")).json()
    assert report["valid"] is True and report["scorecard"] == card


async def test_badge_svg(ds):
    import xml.etree.ElementTree as ET

    response = await ds.client.get("/datasets/core-gdp/badge.svg")
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    assert "public" in response.headers["cache-control"] and response.headers.get("etag")
    root = ET.fromstring(response.text)  # well-formed XML
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg" and root.get("role") == "img"
    title = root.find(f"{ns}title").text
    assert "校验通过" in title and "valid" in title and "MQA" in title
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert texts[0] == "校验通过" and texts[1].startswith("MQA ")
    en = ET.fromstring((await ds.client.get("/datasets/core-gdp/badge.svg?_lang=en")).text)
    assert [t.text for t in en.iter(f"{ns}text")][0] == "valid"
    again = await ds.client.get("/datasets/core-gdp/badge.svg", headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304
    assert (await ds.client.get("/datasets/nope/badge.svg")).status_code == 404
