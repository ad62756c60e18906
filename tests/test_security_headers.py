"""What the site's HTTP responses expose, through a real Datasette (`datasette.client`):
security headers on every kind of response, redirects that stay on the site, every method on
every route (no 500; 405 with Allow; CORS preflight works), absolute URLs from the configured
base URL and never from a forged Host header, and no server path in any response."""

from __future__ import annotations

import os
import sys
from urllib.parse import quote

import pytest
from conftest import REPO

from gongkai.build import build_site
from gongkai.portal import http_policy
from gongkai.serve import make_datasette

EVERY_KIND = [
    "/",
    "/datasets",
    "/datasets/core-gdp",
    "/datasets/core-gdp/report",
    "/datasets/core-gdp/report.json",
    "/datasets/core-gdp/gdp/dictionary.csv",
    "/downloads/core-gdp/datapackage.json",
    "/publishers/world-bank",
    "/themes/economy",
    "/about",
    "/api",
    "/licence",
    "/privacy",
    "/-/search?q=" + quote("北京"),
    "/-/search.json?q=x",
    "/core-gdp",
    "/core-gdp/gdp",
    "/core-gdp/gdp.json",
    "/core-gdp/gdp.csv",
    "/core-gdp/gdp.csv?_stream=on",
    "/core-gdp.csv?sql=select+1",
    "/cn-admin-divisions/provinces/11",
    "/core-gdp.db",
    "/static/gongkai.css",
    "/-/static/app.css",
    "/-/versions.json",
    "/-/metadata",
    "/no-such-page",
    "/core-gdp/gdp?_sort=nope",
    "/favicon.ico",
]
ROUTES = [
    "/",
    "/datasets",
    "/datasets/core-gdp",
    "/datasets/core-gdp/report",
    "/datasets/core-gdp/report.md",
    "/datasets/core-gdp/gdp/dictionary.csv",
    "/downloads/core-gdp/datapackage.json",
    "/publishers/world-bank",
    "/themes/economy",
    "/about",
    "/api",
    "/licence",
    "/privacy",
    "/-/search",
    "/-/search.json",
    "/core-gdp",
    "/core-gdp.json",
    "/core-gdp/gdp",
    "/core-gdp/gdp.json",
    "/core-gdp/gdp.csv",
    "/cn-admin-divisions/provinces/11",
    "/cn-admin-divisions/provinces/11.json",
    "/core-gdp.db",
    "/static/gongkai.css",
    "/-/static/app.css",
    "/favicon.ico",
    "/-/metadata",
    "/-/metadata.json",
    "/-/versions",
    "/-/versions.json",
    "/-/settings.json",
    "/-/plugins.json",
    "/-/threads",
    "/-/actor.json",
    "/-/messages",
    "/-/logout",
    "/-/permissions",
    "/-/allow-debug",
    "/-/patterns",
    "/-/auth-token",
    "/-/config",
    "/catalog",
    "/catalog/datasets",
    "/no-such-page",
    "/:memory:",
]
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("surface")
    assert build_site(REPO, out).ok
    return out / "site"


@pytest.fixture
async def ds(built, monkeypatch):
    monkeypatch.delenv("GONGKAI_BASE_URL", raising=False)
    instance = make_datasette(built, root=REPO)
    await instance.invoke_startup()
    return instance


@pytest.mark.parametrize("path", EVERY_KIND)
async def test_security_headers_on_every_kind_of_response(ds, path):
    r = await ds.client.get(path)
    assert r.status_code < 500, path
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "default-src 'none'" in csp and "object-src 'none'" in csp and "base-uri 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in r.headers["permissions-policy"]
    assert "strict-transport-security" not in r.headers  # plain HTTP


async def test_hsts_only_over_https_or_a_trusted_forwarded_proto(built, monkeypatch):
    ds = make_datasette(built, root=REPO)
    await ds.invoke_startup()
    forwarded = {"x-forwarded-proto": "https"}
    assert "strict-transport-security" not in (await ds.client.get("/", headers=forwarded)).headers
    monkeypatch.setenv(http_policy.TRUST_PROTO_ENV, "1")
    trusting = make_datasette(built, root=REPO)
    await trusting.invoke_startup()
    assert (await trusting.client.get("/", headers=forwarded)).headers["strict-transport-security"] == http_policy.HSTS
    assert "strict-transport-security" not in (await trusting.client.get("/")).headers
    assert http_policy.is_https({"scheme": "https", "headers": []})


async def test_the_error_page_inline_stylesheet_is_allowed_by_hash(ds):
    r = await ds.client.get("/no-such-page")
    assert r.status_code == 404
    css = r.text.split("<style>", 1)[1].split("</style>", 1)[0]
    from gongkai.portal.inline_css import csp_hash

    assert csp_hash(css) in r.headers["content-security-policy"]
    assert "<script" not in r.text


REDIRECT_PROBES = [
    "/\\example.com",
    "//example.com",
    "/%5Cexample.com",
    "/\\/example.com",
    "/\\example.com/",
    "//example.com/",
    "///example.com/",
    "/\\\\example.com/",
    "/%2F%2Fexample.com/",
    "/%5C%5Cexample.com/",
    "/\t/example.com/",
    "/datasets/",
    "/core-gdp/",
    "/core-gdp/gdp/",
    "/:memory:",
    "/-/config",
    "/-/config.json",
    "/https://example.com/",
    "/%09/example.com/",
]


@pytest.mark.parametrize("path", REDIRECT_PROBES)
async def test_every_redirect_stays_on_the_site(ds, path):
    r = await ds.client.get(path.replace("\t", "%09"))
    location = r.headers.get("location")
    if location is None:
        assert r.status_code < 500
        return
    assert location.startswith("/") and not location.startswith(("//", "/\\")), (path, location)
    assert "\\" not in location[:2] and "\t" not in location


def test_same_origin_location_unit():
    for raw in ["/\\example.com", "//example.com", "/\t/example.com", "https://evil.example/x", "\\\\evil", " //evil"]:
        loc = http_policy.same_origin_location(raw)
        assert loc.startswith("/") and loc[1:2] not in ("/", "\\"), (raw, loc)
    assert http_policy.same_origin_location("/datasets?x=1") == "/datasets?x=1"


@pytest.mark.parametrize("method", METHODS)
async def test_every_route_with_every_method(ds, method):
    for path in ROUTES:
        r = await ds.client.request(method, path)
        assert r.status_code < 500, (method, path, r.status_code)
        if method in ("POST", "PUT", "DELETE", "PATCH"):
            assert r.status_code == 405, (method, path)
            assert r.headers["allow"] == "GET, HEAD, OPTIONS"
        if method == "OPTIONS":
            assert r.status_code == 204 and r.headers["access-control-allow-origin"] == "*", path
            assert "GET" in r.headers["access-control-allow-methods"]


async def test_405_is_bilingual_and_json_for_json(ds):
    zh = await ds.client.post("/core-gdp/gdp")
    assert zh.status_code == 405 and "不支持该请求方法" in zh.text and "<h1>" in zh.text
    en = await ds.client.post("/core-gdp/gdp?_lang=en")
    assert "Method not allowed" in en.text and 'lang="en"' in en.text
    js = await ds.client.post("/-/messages.json")
    assert js.status_code == 405 and js.json()["error_zh"] and js.json()["status"] == 405
    assert "set-cookie" not in (await ds.client.post("/-/messages", data={"message": "x"})).headers


async def test_absolute_urls_come_from_the_configured_base_url_not_the_host(ds, monkeypatch):
    forged = {"host": "evil.example"}
    for path in ("/datasets/core-gdp", "/datasets/core-gdp?_lang=en", "/api", "/api?_lang=en"):
        html = (await ds.client.get(path, headers=forged)).text
        assert "evil.example" not in html, path
        assert "http://127.0.0.1:8001/" in html, path  # metadata/site.yaml base_url
    monkeypatch.setenv("GONGKAI_BASE_URL", "https://data.example.gov.cn/")
    html = (await ds.client.get("/datasets/core-gdp", headers=forged)).text
    assert "evil.example" not in html and html.count("https://data.example.gov.cn/") >= 12
    assert "https%3A%2F%2Fdata.example.gov.cn%2Fdatasets%2Fcore-gdp" in html  # the report-a-problem body


def test_configured_base_url_unit():
    from gongkai.portal.api_examples import configured_base_url

    assert configured_base_url("http://a.example/", {}) == "http://a.example"
    assert (
        configured_base_url("http://a.example", {"GONGKAI_BASE_URL": "https://b.example/x/"}) == "https://b.example/x"
    )
    assert configured_base_url("javascript:alert(1)", {}) == ""
    assert configured_base_url(None, {"GONGKAI_BASE_URL": "//evil"}) == ""


def leak_markers(built):
    markers = {str(REPO), str(built), str(built.resolve()), sys.prefix, os.path.expanduser("~"), "site-packages"}
    return {m for m in markers if m and m != "/"}


async def test_no_server_path_in_any_response(ds, built):
    # /-/databases(.json) is excluded: its `path` field is another change's (the SQL layer).
    markers = leak_markers(built)
    probes = (
        ROUTES
        + EVERY_KIND
        + [
            "/core-gdp?sql=select+*+from+nope",
            "/core-gdp.json?sql=select+*+from+nope",
            "/core-gdp/nope",
            "/downloads/core-gdp/../../etc/passwd",
            "/downloads/core-gdp/nope.csv",
            "/datasets/nope/report.json",
            "/core-gdp/gdp?_size=nope",
            "/core-gdp/gdp.json?_sort=nope",
            "/-/threads.json",
            "/-/plugins.json",
            "/catalog/site",
            "/catalog/datasets.json",
            "/catalog/resources.json",
        ]
    )
    for path in probes:
        for method in ("GET", "POST"):
            r = await ds.client.request(method, path)
            body = r.text
            found = [m for m in markers if m in body]
            assert not found, (method, path, found)


async def test_debug_pages_are_not_exposed(ds):
    for path in (
        "/-/threads",
        "/-/threads.json",
        "/-/plugins",
        "/-/plugins.json",
        "/-/patterns",
        "/-/messages",
        "/-/permissions",
        "/-/allow-debug",
        "/-/actor.json",
        "/-/logout",
        "/-/auth-token",
    ):
        r = await ds.client.get(path)
        assert r.status_code == 404, path
