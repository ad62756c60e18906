"""Render-time defence against a hostile publisher, through a real Datasette: on every page
type, in both languages, every `href`/`src`/`action` the site renders is a site path or an
http/https/mailto URL (no `javascript:`, `data:`, `vbscript:`, scheme-relative `//host`), no
payload becomes an element or an attribute, and no template expression is evaluated."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import hostile_site
import pytest
from conftest import REPO

from gongkai.serve import make_datasette

URL_ATTRS = {"href", "src", "action", "formaction", "srcset", "data", "xlink:href", "poster", "background"}
BAD_TAGS = {"script", "iframe", "object", "embed", "frame", "base", "meta-refresh"}


class Elements(HTMLParser):
    """Every element and attribute of a page, parsed as a browser would tokenise it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))

    handle_startendtag = handle_starttag


# The one script element a page may hold: schema.org JSON-LD (plugins/opendata.py), a data
# block no browser runs. Its text must be JSON with no `<` at all (gongkai.opendata.schema_org
# escapes it), so no payload can close the element or open another.
JSON_LD = re.compile(r'<script type="application/ld\+json">([^<]*)</script>')


def problems(page: str) -> list[str]:
    bad = []
    for body in JSON_LD.findall(page):
        try:
            json.loads(body)
        except ValueError:
            bad.append("<script type=application/ld+json> that is not JSON")
    page = JSON_LD.sub("", page)
    parser = Elements()
    parser.feed(page)
    for tag, attrs in parser.found:
        if tag in BAD_TAGS:
            bad.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                bad.append(f"<{tag} {name}=…>")
            if name in URL_ATTRS and value is not None:
                cleaned = re.sub(r"[\x00-\x20]", "", value).lower()
                if cleaned.startswith(("http://", "https://", "mailto:", "#", "?")):
                    continue
                if cleaned.startswith("/") and not cleaned.startswith(("//", "/\\")):
                    continue
                bad.append(f"<{tag} {name}={value!r}>")
    return bad


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return hostile_site.build(tmp_path_factory.mktemp("hostile"))


@pytest.fixture
async def ds(site, monkeypatch):
    monkeypatch.delenv("GONGKAI_BASE_URL", raising=False)
    instance = make_datasette(site, root=REPO)
    await instance.invoke_startup()
    return instance


@pytest.mark.parametrize("page_id,path", hostile_site.page_paths(), ids=[i for i, _ in hostile_site.page_paths()])
async def test_no_script_reaches_the_page(ds, page_id, path):
    for suffix in ("", ("&" if "?" in path else "?") + "_lang=en"):
        r = await ds.client.get(path + suffix)
        assert r.status_code < 500, (path, r.status_code)
        page = r.text
        found = problems(page)
        assert not found, (path + suffix, found[:5])
        assert hostile_site.EVALUATED not in page, path + suffix


async def test_the_payloads_are_shown_as_text(ds):
    page = (await ds.client.get("/datasets/xss")).text
    assert "&lt;img src=x onerror=" in page and "{{7*191}}" in page
    assert "source 1 " in page  # a source with a refused URL is still listed, as text
    pub = (await ds.client.get("/publishers/xss-pub")).text
    assert "script:window.__xss" in pub  # the refused homepage is shown as text, not a link
