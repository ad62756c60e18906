import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def site_root(tmp_path) -> Path:
    """A small site (metadata/ + two datasets) copied to a temp folder the test may change."""
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "site", root)
    return root


# The open-data tests' built sites (session-wide: several test modules share them).
from opendata_sites import opendata_fixture_site, opendata_generated_site  # noqa: E402, F401
