"""DCAT-US `/data.json` (1.1) and `/data-v3.json` (3.0) through Datasette's client, checked with
the official JSON Schemas (tests/opendata_schemas.py), on the fixture site and on a generated
portal of a few hundred datasets (streamed in slices)."""

from __future__ import annotations

import copy
import hashlib
import json
from urllib.parse import urlsplit

import opendata_schemas as schemas
import pytest
from opendata_sites import GENERATED, datasette_for

from gongkai.opendata import stream


@pytest.fixture(autouse=True)
def _no_base_override(monkeypatch):
    monkeypatch.delenv("GONGKAI_BASE_URL", raising=False)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def test_data_json_is_valid_dcat_us_11(opendata_fixture_site):
    ds = await datasette_for(opendata_fixture_site)
    r = await ds.client.get("/data.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["access-control-allow-origin"] == "*"
    doc = r.json()
    assert schemas.errors(schemas.dcat_us_11(), doc) == []
    assert doc["conformsTo"] == "https://project-open-data.cio.gov/v1.1/schema"
    assert doc["@id"] == "http://127.0.0.1:8001/data.json"  # site.yaml's base_url
    by_title = {d["title"]: d for d in doc["dataset"]}
    towns = by_title["测试行政区划"]
    assert towns["keyword"] == ["行政区划"]
    assert towns["contactPoint"] == {
        "@type": "vcard:Contact",
        "fn": "数据科",
        "hasEmail": "mailto:stats@example.gov.cn",
    }
    assert towns["accessLevel"] == "public"
    assert towns["accrualPeriodicity"] == "R/P1Y"
    assert towns["temporal"] == "2023-01-01/2023-12-31"
    assert towns["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert towns["describedBy"].endswith("/downloads/towns/datapackage.json")
    # every distribution has a media type and its download answers
    for dist in towns["distribution"]:
        assert dist["mediaType"] and dist["downloadURL"].startswith("http://127.0.0.1:8001/")
        got = await ds.client.get(_path(dist["downloadURL"]))
        assert got.status_code == 200, dist["downloadURL"]


async def test_the_check_fails_a_broken_document(opendata_fixture_site):
    ds = await datasette_for(opendata_fixture_site)
    doc = (await ds.client.get("/data.json")).json()
    broken = copy.deepcopy(doc)
    del broken["dataset"][0]["keyword"]
    broken["dataset"][1]["distribution"][0].pop("mediaType")
    found = schemas.errors(schemas.dcat_us_11(), broken)
    assert any("keyword" in e for e in found) and len(found) >= 2
    v3 = (await ds.client.get("/data-v3.json")).json()
    del v3["dataset"][0]["title"]
    assert schemas.errors(schemas.dcat_us_30(), v3)


async def test_data_v3_json_is_valid_dcat_us_30_in_both_languages(opendata_fixture_site):
    ds = await datasette_for(opendata_fixture_site)
    r = await ds.client.get("/data-v3.json")
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    doc = r.json()
    assert schemas.errors(schemas.dcat_us_30(), doc) == []
    assert doc["@type"] == "Catalog" and doc["titleMap"] == {"zh": "测试开放数据", "en": "Test Open Data"}
    towns = next(d for d in doc["dataset"] if d["@id"].endswith("/datasets/towns#dataset"))
    assert towns["titleMap"] == {"zh": "测试行政区划", "en": "Test divisions"}
    assert towns["keywordMap"] == {"zh": "行政区划", "en": "divisions"}
    assert towns["temporal"] == [{"@type": "PeriodOfTime", "startDate": "2023-01-01", "endDate": "2023-12-31"}]
    originals = [d for d in towns["distribution"] if "#original-" in d["@id"]]
    assert len(originals) == 2
    for dist in originals:
        body = (await ds.client.get(_path(dist["downloadURL"]))).content
        assert dist["byteSize"] == str(len(body))
        assert dist["checksum"]["checksumValue"] == hashlib.sha256(body).hexdigest()
    # every stored file, not only the originals: the exports, the zip, the descriptor, the database
    stored = [d for d in towns["distribution"] if not d.get("accessService")]
    assert len(stored) == 2 + 2 * 7 + 3
    for dist in stored:
        body = (await ds.client.get(_path(dist["downloadURL"]))).content
        assert dist["byteSize"] == str(len(body)), dist["@id"]
        assert dist["checksum"]["checksumValue"] == hashlib.sha256(body).hexdigest(), dist["@id"]
    api = [d for d in towns["distribution"] if d.get("accessService")]
    assert api and all(d["accessService"] == [doc["service"][0]["@id"]] for d in api)


async def test_base_url_from_the_environment(opendata_fixture_site, monkeypatch):
    monkeypatch.setenv("GONGKAI_BASE_URL", "https://data.example.gov.cn/open/")
    ds = await datasette_for(opendata_fixture_site)
    doc = (await ds.client.get("/data.json")).json()
    assert doc["@id"] == "https://data.example.gov.cn/open/data.json"
    assert all(d["landingPage"].startswith("https://data.example.gov.cn/open/datasets/") for d in doc["dataset"])


@pytest.mark.parametrize("path,validator", [("/data.json", "dcat_us_11"), ("/data-v3.json", "dcat_us_30")])
async def test_a_large_catalogue_streams_every_dataset_once(opendata_generated_site, path, validator):
    assert GENERATED > stream.SLICE  # more than one slice is joined
    ds = await datasette_for(opendata_generated_site)
    r = await ds.client.get(path)
    assert r.status_code == 200
    assert "content-length" not in r.headers  # streamed
    doc = r.json()
    assert schemas.errors(getattr(schemas, validator)(), doc) == []
    pages = [d["landingPage"] for d in doc["dataset"]]
    assert len(pages) == len(set(pages)) == GENERATED
    assert pages == sorted(pages)


async def test_json_document_joins_slices_into_one_valid_document():
    async def slices():
        yield [{"a": 1}, {"b": "</script>"}]
        yield []
        yield [{"c": [1, 2]}]

    text = "".join([chunk async for chunk in stream.json_document({"x": "头"}, "items", slices())])
    assert json.loads(text) == {"x": "头", "items": [{"a": 1}, {"b": "</script>"}, {"c": [1, 2]}]}

    async def none():
        return
        yield

    empty = "".join([chunk async for chunk in stream.json_document({}, "items", none())])
    assert json.loads(empty) == {"items": []}
