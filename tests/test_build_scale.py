"""The build at a portal's size: a few hundred generated datasets, rebuilt incrementally.

A rebuild points every unchanged dataset's symlink at the object the previous release refers
to (the same files, never written again) and writes only what changed; the release-wide files it
updates in place (catalog.db, Datasette's metadata.json and inspect.json) must be what a full
write of the same release gives. Objects no release refers to any more are thrown away.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from gongkai import catalogue, datasette_files, release_files
from gongkai.bench import portal
from gongkai.build import build_site, current_release
from gongkai.catalogue.records import RECORDS
from gongkai.descriptors import dataset_folders, read_dataset, read_site
from gongkai.folder_hash import FolderHasher

N = 200
ROWS = 5


def outputs(release: Path, name: str) -> list[Path]:
    """Every file of one dataset in a release."""
    files = [release_files.database(release, name), release_files.report(release, name)]
    files.append(release_files.report(release, name, "md"))
    return files + sorted(p for p in release_files.downloads(release, name).rglob("*") if p.is_file())


def inodes(release: Path, name: str) -> list[int]:
    return [p.stat().st_ino for p in outputs(release, name)]


def target(release: Path, name: str) -> str:
    """The object a release's dataset entry points to."""
    found = release_files.link_target(release, name)
    assert found is not None, (release, name)
    return found


def every_file(release: Path) -> dict[Path, tuple[int, bytes]]:
    """Each file a release serves, through its symlinks, by inode and bytes."""
    return {
        Path(d, f): (Path(d, f).stat().st_ino, Path(d, f).read_bytes())
        for d, _, names in os.walk(release, followlinks=True)
        for f in names
    }


def objects(out: Path, name: str) -> set[str]:
    return set(os.listdir(out / "objects" / name))


def referred(out: Path, name: str) -> set[str]:
    """The objects of `name` the releases still in out/releases refer to."""
    found = (release_files.link_target(r, name) for r in (out / "releases").iterdir())
    return {key for key in found if key is not None}


@pytest.fixture(scope="module")
def portal_build(tmp_path_factory):
    """A generated portal of N datasets, built once; the tests rebuild it in turn."""
    tmp = tmp_path_factory.mktemp("scale")
    root = portal.write_portal(tmp / "root", N, rows=ROWS)
    out = tmp / "out"
    result = build_site(root, out)
    assert result.ok and len(result.datasets) == N and result.reused == []
    return root, out, {"passed": set()}


def catalogue_rows(path: Path) -> dict[str, list]:
    """Every table of catalog.db as sorted rows (rowids left out: they follow build order)."""
    conn = sqlite3.connect(path)
    try:
        return {cls.TABLE: sorted(map(repr, conn.execute(f"select * from [{cls.TABLE}]"))) for cls in RECORDS}
    finally:
        conn.close()


def search(path: Path, words: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return sorted(hit.name for hit in catalogue.Catalogue(conn).search(words, limit=10 * N))
    finally:
        conn.close()


def assert_same_as_full_write(root: Path, release: Path, tmp: Path, passed: set) -> None:
    """catalog.db, metadata.json and inspect.json of `release` equal a full write of them."""
    reference = tmp / "reference"
    shutil.rmtree(reference, ignore_errors=True)
    reference.mkdir()
    # the same objects (the scorecard's accessibility indicators look at the published files)
    for name in release_files.names(release):  # in the release's layout: inspect.json has the paths
        entry = Path(release_files.in_objects(reference, name))
        entry.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(release_files.folder(release, name).resolve(), entry)
    site = read_site(root)
    datasets = [read_dataset(f, site, passed=passed) for f in dataset_folders(root)]
    state = json.loads((release / "build-state.json").read_text())["datasets"]
    builds = {d.name: _Build(d.name, state[d.name]) for d in datasets}
    catalogue.write(reference, site, datasets, builds)
    datasette_files.write(reference, site, datasets, builds)
    assert catalogue_rows(release / catalogue.FILE) == catalogue_rows(reference / catalogue.FILE)
    for words in ("图书馆", "public toilets", "停车场 海淀", "gen-00201", "zyzzyva"):
        assert search(release / catalogue.FILE, words) == search(reference / catalogue.FILE, words), words
    assert (release / "metadata.json").read_bytes() == (reference / "metadata.json").read_bytes()
    ours, theirs = (json.loads((d / "inspect.json").read_text()) for d in (release, reference))
    # catalog.db is no served database: Datasette gets no entry for it
    assert "catalog" not in ours and "catalog" not in theirs
    assert ours == theirs


class _Build:
    """What catalogue.write reads of a DatasetBuild, from the release's state."""

    def __init__(self, name: str, entry: dict):
        self.name, self.valid, self.hash, self.tables = name, True, entry["hash"], entry["tables"]
        self.issued, self.modified = entry["dates"]


def _fields(build) -> tuple:
    return (
        build.name,
        build.hash,
        build.valid,
        build.tables,
        build.issued,
        build.modified,
        build.first_seen,
        build.first_built,
        build.published,
        build.reused,
    )


def test_noop_rebuild_keeps_the_served_release(portal_build):
    root, out, _ = portal_build
    before, releases_before = current_release(out), sorted(os.listdir(out / "releases"))
    result = build_site(root, out)
    assert result.ok and current_release(out) == before
    assert sorted(os.listdir(out / "releases")) == releases_before  # no release made, none pruned
    assert sorted(result.reused) == [f.name for f in dataset_folders(root)]
    assert result.datasets[0].report["valid"] is True and "校验通过" in result.datasets[0].markdown
    # what it says of each dataset is what a build that makes a new release says
    fresh = build_site(root, out, new_release=True)
    assert fresh.ok and current_release(out) != before
    assert [_fields(b) for b in result.datasets] == [_fields(b) for b in fresh.datasets]


def test_noop_rebuild_links_every_output(portal_build):
    root, out, _ = portal_build
    before = current_release(out)
    result = build_site(root, out, new_release=True)
    after = current_release(out)
    assert result.ok and after != before
    assert sorted(result.reused) == [f.name for f in dataset_folders(root)]
    for name in result.reused:  # one symlink each, to the same object: the very same files
        assert target(after, name) == target(before, name), name
        assert inodes(after, name) == inodes(before, name), name
    for name in ("catalog.db", "metadata.json", "inspect.json"):
        assert os.path.samefile(after / name, before / name), name
    reused = result.datasets[0]
    assert reused.report["valid"] is True and "校验通过" in reused.markdown  # read from its file


def test_one_change_rewrites_only_that_dataset(portal_build, tmp_path):
    root, out, cache = portal_build
    before = current_release(out)
    portal.touch_dataset(root, 7, n=N, rows=ROWS)
    result = build_site(root, out)
    after = current_release(out)
    assert result.ok
    assert [b.name for b in result.datasets if not b.reused] == ["gen-00007"]
    for name in result.reused:
        assert target(after, name) == target(before, name), name
        assert inodes(after, name) == inodes(before, name), name
    assert target(after, "gen-00007") != target(before, "gen-00007")
    assert not set(inodes(after, "gen-00007")) & set(inodes(before, "gen-00007"))
    # the previous release still serves the old object; nothing else is kept
    assert objects(out, "gen-00007") == referred(out, "gen-00007") and len(referred(out, "gen-00007")) == 2
    published = release_files.downloads(after, "gen-00007") / "data.csv"
    assert published.read_bytes() == (root / "datasets" / "gen-00007" / "data.csv").read_bytes()
    old_hash, new_hash = (
        sqlite3.connect(r / "catalog.db").execute("select hash from datasets where name = 'gen-00007'").fetchone()
        for r in (before, after)
    )
    assert old_hash != new_hash
    assert_same_as_full_write(root, after, tmp_path, cache["passed"])


def test_removed_and_added_datasets_leave_and_join_the_catalogue(portal_build, tmp_path):
    root, out, cache = portal_build
    shutil.rmtree(root / "datasets" / "gen-00003")
    portal.touch_dataset(root, N + 1, n=N, rows=ROWS, salt="")  # a new dataset, gen-00201
    result = build_site(root, out)
    release = current_release(out)
    assert result.ok and [b.name for b in result.datasets if not b.reused] == ["gen-00201"]
    assert "gen-00003" not in release_files.names(release)
    assert not release_files.database(release, "gen-00003").exists()
    assert not release_files.downloads(release, "gen-00003").exists()
    # the release before still refers to gen-00003's object, and to gen-00007's old one no more
    assert objects(out, "gen-00003") == referred(out, "gen-00003") != set()
    assert objects(out, "gen-00007") == referred(out, "gen-00007") and len(referred(out, "gen-00007")) == 1
    # Datasette's per-database metadata comes from the catalogue (gongkai/datasette_files.py)
    conn = sqlite3.connect(release / catalogue.FILE)
    names = {n for (n,) in conn.execute("select name from datasets")}
    conn.close()
    assert "gen-00003" not in names and "gen-00201" in names
    assert search(release / catalogue.FILE, "gen-00201") == ["gen-00201"]
    assert search(release / catalogue.FILE, "gen-00003") == []
    assert_same_as_full_write(root, release, tmp_path, cache["passed"])


def test_failed_build_leaves_the_served_release_and_its_files(portal_build):
    root, out, _ = portal_build
    served = current_release(out)
    kept = sorted(os.listdir(out / "releases"))  # the served release and the one before it
    files = every_file(served)
    stored = sorted(os.listdir(out / "objects" / "gen-00010"))
    csv = root / "datasets" / "gen-00010" / "data.csv"
    good = csv.read_bytes()
    csv.write_bytes(good + b"not-a-number,x,y,1,2020-01-01\n")
    result = build_site(root, out)
    assert not result.ok and result.failed == ["gen-00010"]
    assert current_release(out) == served
    assert every_file(served) == files
    assert sorted(os.listdir(out / "releases")) == kept  # the failed build's folder is gone
    assert sorted(os.listdir(out / "objects" / "gen-00010")) == stored  # and what it wrote
    latest = json.loads((out / "reports" / "gen-00010.json").read_text())
    by_name = {b.name: b for b in result.datasets}
    assert latest["valid"] is False and by_name["gen-00010"].report["valid"] is False
    assert by_name["gen-00011"].reused and by_name["gen-00011"].report["valid"] is True
    # Put back: the dataset is the served one again, reused, and its latest report is the served one.
    csv.write_bytes(good)
    again = build_site(root, out)
    assert again.ok and "gen-00010" in again.reused
    assert os.path.samefile(out / "reports" / "gen-00010.json", release_files.report(current_release(out), "gen-00010"))


def test_an_edit_that_keeps_size_and_mtime_is_seen(site_root, tmp_path):
    out = tmp_path / "out"
    assert build_site(site_root, out).ok
    csv = site_root / "datasets" / "budget" / "budget.csv"
    st = csv.stat()
    text = csv.read_text(encoding="utf-8")
    csv.write_text(text.replace("800", "801"), encoding="utf-8")  # same length
    os.utime(csv, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old mtime: only ctime moved
    assert csv.stat().st_size == st.st_size and csv.stat().st_mtime_ns == st.st_mtime_ns
    result = build_site(site_root, out)
    assert result.ok and result.reused == ["towns"]
    row = (
        sqlite3.connect(release_files.database(out / "site", "budget"))
        .execute("select sum(金额) from budget")
        .fetchone()
    )
    assert row == (2001.5,)


def test_folder_hasher_reads_only_what_may_have_changed(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "a.csv").write_text("a\n1\n")
    (folder / "b.csv").write_text("b\n2\n")
    first = FolderHasher()
    digest = first.folder(folder, "d")
    assert first.read == 2
    # just written: within the racy window of the first build, so read again
    second = FolderHasher(first.cache())
    assert second.folder(folder, "d") == digest and second.read == 2
    # older than the window: trusted from the cache, until a file's stat moves
    cache = second.cache()
    cache["started_ns"] += 10_000_000_000
    third = FolderHasher(cache)
    assert third.folder(folder, "d") == digest and third.read == 0
    (folder / "b.csv").write_text("b\n3\n")
    fourth = FolderHasher(cache)
    assert fourth.folder(folder, "d") != digest and fourth.read == 1


def git(root: Path, date: str, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env)


def dates(out: Path) -> dict:
    conn = sqlite3.connect(out / "site" / "catalog.db")
    return {n: (i, m) for n, i, m in conn.execute("select name, issued, modified from datasets")}


def test_git_dates_follow_new_commits_without_rebuilding(site_root, tmp_path):
    out = tmp_path / "out"
    assert build_site(site_root, out).ok  # not a repository yet: the dates are the first build's
    first = dates(out)
    d1, d2 = "2020-01-02T03:04:05+00:00", "2024-05-06T07:08:09+00:00"
    git(site_root, d1, "init", "-q")
    git(site_root, d1, "add", "-A")
    git(site_root, d1, "commit", "-qm", "first")
    result = build_site(site_root, out)
    # committed as they were: nothing is rebuilt, but the catalogue now shows git's dates
    assert result.ok and sorted(result.reused) == ["budget", "towns"]
    assert dates(out) == {"budget": (d1, d1), "towns": (d1, d1)} != first
    csv = site_root / "datasets/budget/budget.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("800", "801"), encoding="utf-8")
    git(site_root, d2, "commit", "-qam", "second")  # read from the cached commit on (first..second)
    result = build_site(site_root, out)
    assert result.ok and result.reused == ["towns"]
    assert dates(out) == {"budget": (d1, d2), "towns": (d1, d1)}
    assert build_site(site_root, out).ok and dates(out) == {"budget": (d1, d2), "towns": (d1, d1)}
