"""schema.org JSON-LD in the pages' `<head>`: a `Dataset` on each landing page with the
properties Google's Dataset documentation requires (`name`, `description`) and recommends, in
the page's language; a `DataCatalog` on the home page; the alternate links to the dataset's
RDF, JSON and data package; hostile text kept inside its `<script>` element."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import hostile_site
import pytest
from conftest import REPO
from opendata_sites import datasette_for

from gongkai.opendata import schema_org
from gongkai.serve import make_datasette

REQUIRED = ("name", "description")
# Google's "Recommended properties" for Dataset that the catalogue can fill
RECOMMENDED = (
    "url",
    "identifier",
    "keywords",
    "license",
    "creator",
    "publisher",
    "temporalCoverage",
    "isAccessibleForFree",
    "includedInDataCatalog",
    "distribution",
    "variableMeasured",
)


class Head(HTMLParser):
    """The JSON-LD scripts (raw text, as a browser reads it) and the alternate links of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self.alternates: list[dict] = []
        self._in = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("type") == "application/ld+json":
            self._in = True
            self.scripts.append("")
        if tag == "link" and a.get("rel") == "alternate" and "hreflang" not in a:
            self.alternates.append(a)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in = False

    def handle_data(self, data):
        if self._in:
            self.scripts[-1] += data


def head(html: str) -> Head:
    h = Head()
    h.feed(html)
    return h


@pytest.fixture(autouse=True)
def _no_base_override(monkeypatch):
    monkeypatch.delenv("GONGKAI_BASE_URL", raising=False)


@pytest.mark.parametrize(
    "lang,name,variables",
    [("zh", "测试行政区划", ["代码", "名称", "代码", "名称", "省代码"]), ("en", "Test divisions", None)],
)
async def test_landing_page_dataset(opendata_fixture_site, lang, name, variables):
    ds = await datasette_for(opendata_fixture_site)
    page = (await ds.client.get("/datasets/towns" + ("?_lang=en" if lang == "en" else ""))).text
    (script,) = head(page).scripts
    data = json.loads(script)
    assert data["@context"] == "https://schema.org/" and data["@type"] == "Dataset"
    for key in REQUIRED + RECOMMENDED:
        assert data.get(key) not in (None, "", []), key
    assert data["name"] == name
    assert data["url"] == "http://127.0.0.1:8001/datasets/towns"
    assert data["temporalCoverage"] == "2023-01-01/2023-12-31"
    assert data["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert data["publisher"]["@type"] == "Organization" and data["publisher"]["name"]
    assert data["includedInDataCatalog"]["@type"] == "DataCatalog"
    assert lang != "en" or data["keywords"] == ["divisions"]
    downloads = data["distribution"]
    assert all(d["@type"] == "DataDownload" and d["contentUrl"] and d["encodingFormat"] for d in downloads)
    assert any(d["contentUrl"].endswith("/downloads/towns/data/provinces.csv") for d in downloads)
    if variables:
        assert [v["name"] for v in data["variableMeasured"]] == variables
    assert all(v["@type"] == "PropertyValue" and v["propertyID"] for v in data["variableMeasured"])


async def test_spatial_coverage_and_units(tmp_path, monkeypatch):
    import shutil

    from conftest import FIXTURES

    from gongkai.build import build_site

    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "site", root)
    path = root / "datasets" / "towns" / "datapackage.json"
    d = json.loads(path.read_text(encoding="utf-8"))
    d["gov:spatial"] = {"code": ["110000", "310000"], "name": "北京市、上海市"}
    d["resources"][0]["schema"]["fields"][1].update({"gov:unit": "个", "description": "省级行政区名称"})
    path.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    assert build_site(root, tmp_path / "build").ok
    ds = await datasette_for(tmp_path / "build" / "site")
    data = json.loads(head((await ds.client.get("/datasets/towns")).text).scripts[0])
    assert data["spatialCoverage"] == {"@type": "Place", "name": "北京市、上海市", "identifier": "110000, 310000"}
    unit = data["variableMeasured"][1]
    assert unit["unitText"] == "个" and unit["description"] == "省级行政区名称"


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_home_page_data_catalog(opendata_fixture_site, lang):
    ds = await datasette_for(opendata_fixture_site)
    page = (await ds.client.get("/" + ("?_lang=en" if lang == "en" else ""))).text
    (script,) = head(page).scripts
    data = json.loads(script)
    assert data["@type"] == "DataCatalog"
    assert data["name"] == {"zh": "测试开放数据", "en": "Test Open Data"}[lang]
    assert data["url"] == "http://127.0.0.1:8001/" and data["description"]


async def test_alternate_links_reach_the_documents(opendata_fixture_site):
    ds = await datasette_for(opendata_fixture_site)
    links = head((await ds.client.get("/datasets/towns")).text).alternates
    types = {a["type"] for a in links}
    assert {"text/turtle", "application/ld+json", "application/rdf+xml", "application/json"} <= types
    assert any(a["href"].endswith("/datapackage.json") for a in links)
    for a in links:
        r = await ds.client.get(a["href"])
        assert r.status_code == 200, a
        assert r.headers["content-type"].split(";")[0] == a["type"], a
    home = head((await ds.client.get("/")).text).alternates
    assert {"/catalog.ttl", "/data.json", "/data-v3.json"} <= {a["href"] for a in home}


@pytest.mark.parametrize(
    "text",
    ["</script><script>alert(1)</script>", "<!--<script>", "a & b > c", "\u2028\u2029", "</SCRIPT >", "]]>"],
)
def test_script_json_cannot_leave_its_element(text):
    out = str(schema_org.script_json({"name": text}))
    assert "<" not in out and ">" not in out and "&" not in out
    assert json.loads(out) == {"name": text}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return hostile_site.build(tmp_path_factory.mktemp("hostile-jsonld"))


@pytest.mark.parametrize("path", ["/datasets/xss", "/datasets/xss?_lang=en", "/", "/?_lang=en"])
async def test_hostile_text_stays_data(hostile, monkeypatch, path):
    monkeypatch.delenv("GONGKAI_BASE_URL", raising=False)
    ds = make_datasette(hostile, root=REPO)
    await ds.invoke_startup()
    page = (await ds.client.get(path)).text
    scripts = head(page).scripts
    assert len(scripts) == 1 and len(re.findall(r"<script\b", page, re.I)) == 1
    assert "<" not in scripts[0]
    data = json.loads(scripts[0])
    if path.startswith("/datasets"):
        assert hostile_site.P in data["name"]  # the payload, as text, unchanged
        # URLs validation would refuse (planted in catalog.db) are left out, never passed on
        assert "license" not in data
        text = json.dumps(data)
        assert "javascript:" not in text.lower().replace("javascript:window", "")
