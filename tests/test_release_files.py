"""gongkai.release_files: one resolver for every release layout (bucket symlinks into shared
bucket folders, one symlink per dataset before them, and flat); gongkai.release_buckets, which
writes the first and collects its folders."""

from __future__ import annotations

import os
from pathlib import Path

from gongkai import release_buckets, release_files


def test_the_per_dataset_symlink_layout_still_resolves(tmp_path):
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


def _object(out: Path, name: str, key: str, database: bool = True) -> Path:
    obj = out / "objects" / name / key
    (obj / "reports").mkdir(parents=True)
    (obj / "downloads").mkdir()
    if database:
        (obj / f"{name}.db").write_bytes(name.encode())
    (obj / "reports" / f"{name}.json").write_text(f'"{name}"')
    return obj


def _release(out: Path, rid: str, objects: dict[str, str]) -> tuple[Path, list[Path]]:
    release = out / "releases" / rid
    release.mkdir(parents=True)
    return release, release_buckets.link(out, release, objects)


def test_the_bucket_layout_resolves_every_dataset(tmp_path):
    out = tmp_path / "out"
    names = [f"gen-{i:05d}" for i in range(300)] + ["预算", "permits"]
    for name in names:
        _object(out, name, "k1", database=name != "permits")  # permits: withheld, no database
    release, written = _release(out, "r1", dict.fromkeys(names, "k1"))
    buckets = os.listdir(release / release_files.BUCKETS)
    assert len(buckets) == len({release_files.bucket(n) for n in names}) <= 256 and len(written) == len(buckets)
    assert release_files.names(release) == sorted(names)
    assert release_files.database_paths(release) == [
        f"{release}/{release_files.BUCKETS}/{release_files.bucket(n)}/{n}/{n}.db"
        for n in sorted(names)
        if n != "permits"
    ]
    for name in ("预算", "gen-00042"):
        assert release_files.database(release, name).read_bytes() == name.encode()
        assert release_files.report(release, name).read_text() == f'"{name}"'
        assert release_files.downloads(release, name).resolve() == (out / "objects" / name / "k1" / "downloads")
        assert release_files.link_target(release, name) == "k1"
    assert release_files.link_target(release, "missing") is None
    rel = release_files.relative(release, release_files.database(release, "预算"))
    assert rel == f"buckets/{release_files.bucket('预算')}/预算/预算.db"


def test_a_release_shares_every_bucket_folder_whose_datasets_did_not_change(tmp_path):
    out = tmp_path / "out"
    names = [f"gen-{i:05d}" for i in range(1000)]
    first, written = _release(out, "r1", dict.fromkeys(names, "k1"))
    assert len(written) == 256
    changed = "gen-00500"
    second, written = _release(out, "r2", {**dict.fromkeys(names, "k1"), changed: "k2"})
    # one bucket folder written: the changed dataset's, holding its neighbours as they were
    assert [p.name for p in written] == [os.readlink(second / "buckets" / release_files.bucket(changed)).split("/")[-1]]
    assert sorted(os.listdir(written[0])) == sorted(
        n for n in names if release_files.bucket(n) == release_files.bucket(changed)
    )
    assert release_files.link_target(first, changed) == "k1" and release_files.link_target(second, changed) == "k2"
    assert all(release_files.link_target(second, n) == "k1" for n in names if n != changed)
    # the first release's folder for that bucket goes once no release refers to it, the shared ones stay
    release_buckets.collect(out)
    assert len(os.listdir(out / release_buckets.STORE)) == 257
    os.rename(first, tmp_path / "gone")
    release_buckets.collect(out)
    store = out / release_buckets.STORE
    assert sorted(os.listdir(store)) == sorted(release_buckets.referred(second)) and len(os.listdir(store)) == 256


def test_a_bucket_folder_is_named_by_its_content_alone():
    entries = [("a", "k1"), ("b", "k2")]
    assert release_buckets.digest(entries) == release_buckets.digest(list(reversed(entries)))
    assert release_buckets.digest(entries) != release_buckets.digest([("a", "k1"), ("b", "k3")])
    assert release_buckets.digest([("a", "k1b")]) != release_buckets.digest([("a\0k", "1b")])
