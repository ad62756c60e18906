"""Built sites for the open-data tests (tests/test_opendata_*.py), once per test session:
the fixture site (two small datasets, bilingual) and a generated portal of a few hundred
datasets (gongkai.bench.portal), big enough that every document must page or stream."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gongkai.bench.portal import write_portal
from gongkai.build import build_site
from gongkai.serve import make_datasette

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent
GENERATED = 230  # five DCAT-AP pages of 50 (the last one short), two data.json slices of 200


@pytest.fixture(scope="session")
def opendata_fixture_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("opendata-fixture")
    shutil.copytree(FIXTURES / "site", out / "repo")
    assert build_site(out / "repo", out / "build").ok
    return out / "build" / "site"


@pytest.fixture(scope="session")
def opendata_generated_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("opendata-generated")
    root = write_portal(out / "repo", GENERATED, rows=5, project=REPO)
    assert build_site(root, out / "build").ok
    return out / "build" / "site"


async def datasette_for(site: Path):
    ds = make_datasette(site, root=REPO)
    await ds.invoke_startup()
    return ds
