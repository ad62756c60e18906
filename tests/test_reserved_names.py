"""Every route of the site reserves its first path segment as a dataset name: a dataset named
`about` (or `licence`, `privacy`, `favicon-ico`…) would build, and its database page would be
unreachable behind the route. The names come from the route tables (gongkai.portal.routes);
this enumerates the routes of a real Datasette instance (Datasette's own, every plugin's) and
checks each one is covered."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from conftest import REPO

from gongkai import descriptors
from gongkai.build import build_site
from gongkai.portal import routes
from gongkai.serve import make_datasette

SLUG_START = re.compile(r"[a-z0-9]")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("reserved")
    from conftest import FIXTURES

    root = out / "repo"
    shutil.copytree(FIXTURES / "site", root)
    assert build_site(root, out / "build").ok
    return out / "build" / "site"


def test_every_registered_route_reserves_its_first_segment(site):
    ds = make_datasette(site, root=REPO)
    checked = 0
    for regex, _view in ds._routes():
        pattern = regex.pattern
        try:
            segments = routes.first_segments(pattern)
        except routes.VariableSegment as e:
            if "(?P<database>" in pattern and not e.prefix:
                continue  # Datasette's /<database>…: the dataset names themselves
            assert not SLUG_START.match(e.prefix) or pattern in routes.PREFIX_ROUTES, (
                f"route {pattern!r} starts with {e.prefix!r} and a variable part: list it in PREFIX_ROUTES"
            )
            continue
        for segment in segments:
            checked += 1
            if descriptors.SLUG.fullmatch(segment):
                assert segment in descriptors.RESERVED_NAMES, (
                    f"route {pattern!r}: dataset name {segment!r} is not reserved"
                )
    assert checked > 10  # the portal's and Datasette's routes were really seen


@pytest.mark.parametrize(
    "name",
    [
        "about",
        "licence",
        "privacy",
        "api",
        "datasets",
        "downloads",
        "publishers",
        "themes",
        "static",
        "catalog",
        "favicon-ico",
    ],
)
def test_a_dataset_named_like_a_route_is_refused(site_root, name):
    folder = site_root / "datasets" / name
    shutil.copytree(site_root / "datasets" / "budget", folder)
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["name"] = name
    (folder / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
    errors = descriptors.check_slug(name, "dataset_name")
    assert errors and "reserved" in errors[0].note
    result = build_site(site_root, site_root / "out")
    assert not result.ok


def test_an_ordinary_name_is_not_reserved():
    for name in ("budget", "about-us", "favicon", "api-usage", "licences"):
        assert name not in descriptors.RESERVED_NAMES, name
