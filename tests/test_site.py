"""The repository's own datasets, built and served through a real Datasette (its test client)."""

import json
import sqlite3

import pytest
from conftest import REPO

from gongkai import release_files
from gongkai.build import build_site
from gongkai.serve import make_datasette


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    result = build_site(REPO, out)
    assert result.ok, [d.report for d in result.datasets if not d.valid]
    return out / "site"


@pytest.fixture
def ds(built):
    return make_datasette(built, root=REPO)


DATASETS = [
    "cn-admin-divisions",
    "cn-guangan-service-items",
    "core-gdp",
    "core-population",
    "us-dotgov-domains",
    "uk-organisations",
]


def test_every_dataset_built_and_valid(built):
    catalog = sqlite3.connect(built / "catalog.db")
    assert [r[0] for r in catalog.execute("select name from datasets where valid order by name")] == sorted(DATASETS)
    for name in DATASETS:
        report = json.loads(release_files.report(built, name).read_text())
        assert report["valid"], name


async def test_tables_are_typed_and_foreign_keys_link(ds):
    response = await ds.client.get("/cn-admin-divisions/streets.json?_labels=on&_size=1&_shape=objects")
    assert response.status_code == 200
    row = response.json()["rows"][0]
    assert row["areaCode"] == {"value": "110101", "label": "东城区"}
    html = (await ds.client.get("/cn-admin-divisions/cities?_size=5")).text
    assert 'href="/cn-admin-divisions/provinces/11"' in html
    gdp = (await ds.client.get("/core-gdp/gdp.json?_shape=array&_size=1&Country+Code=CHN&Year=2020")).json()
    assert isinstance(gdp[0]["Year"], int) and isinstance(gdp[0]["Value"], float)


async def test_every_table_page_renders(ds):
    inspect = json.loads((ds.inspect_data and json.dumps(ds.inspect_data)) or "{}")
    for db, info in inspect.items():
        for table in info["tables"]:
            if table.startswith("sqlite_"):
                continue
            response = await ds.client.get(f"/{db}/{table}")
            assert response.status_code == 200, (db, table)


async def test_metadata_reaches_datasette(ds):
    page = (await ds.client.get("/core-gdp/gdp")).text
    assert "current US$" in page  # the unit, inside the column description
    assert "Public Domain Dedication and License" in page and "datasets/gdp" in page  # licence and source


async def test_cors_and_settings(ds):
    response = await ds.client.get("/core-gdp/gdp.json?_size=1")
    assert response.headers["access-control-allow-origin"] == "*"
    settings = (await ds.client.get("/-/settings.json")).json()
    assert settings["suggest_facets"] is False and settings["sql_time_limit_ms"] > 0
