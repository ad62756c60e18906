"""gongkai.release_files: one resolver for both release layouts (objects + symlinks, and flat)."""

from __future__ import annotations

import os

from gongkai import release_files


def test_the_object_layout_resolves_through_the_dataset_symlink(tmp_path):
    obj = tmp_path / "objects" / "towns" / "abc"
    (obj / "reports").mkdir(parents=True)
    (obj / "downloads").mkdir()
    (obj / "towns.db").write_bytes(b"db")
    (obj / "reports" / "towns.json").write_text("{}")
    withheld = tmp_path / "objects" / "permits" / "def"
    (withheld / "reports").mkdir(parents=True)
    release = tmp_path / "releases" / "r1"
    (release / "datasets").mkdir(parents=True)
    (release / "catalog.db").write_bytes(b"")
    os.symlink("../../../objects/towns/abc", release / "datasets" / "towns")
    os.symlink("../../../objects/permits/def", release / "datasets" / "permits")
    assert release_files.names(release) == ["permits", "towns"]
    assert release_files.database_files(release) == [release / "datasets" / "towns" / "towns.db"]
    assert release_files.database(release, "towns").read_bytes() == b"db"
    assert release_files.report(release, "towns").read_text() == "{}"
    assert release_files.downloads(release, "towns").resolve() == (obj / "downloads").resolve()
    assert release_files.relative(release, release_files.database(release, "towns")) == "datasets/towns/towns.db"


def test_a_flat_site_folder_answers_the_same_questions(tmp_path):
    site = tmp_path / "site"
    (site / "reports").mkdir(parents=True)
    (site / "downloads" / "towns").mkdir(parents=True)
    (site / "towns.db").write_bytes(b"db")
    (site / "catalog.db").write_bytes(b"")
    assert release_files.names(site) == ["towns"]
    assert release_files.database_files(site) == [site / "towns.db"]
    assert release_files.report(site, "towns", "md") == site / "reports" / "towns.md"
    assert release_files.downloads(site, "towns") == site / "downloads" / "towns"


def test_a_name_is_one_folder_only():
    assert release_files.is_name("gen-00001")
    assert not any(release_files.is_name(n) for n in ("", "..", ".hidden", "a/b", "a\0b"))
