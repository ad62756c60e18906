"""The build: typed tables, keys, reports, atomic swap, incremental rebuilds."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from gongkai import release_files
from gongkai.build import build_site, current_release, load_dataset
from gongkai.descriptors import read_dataset


def build(root, out):
    messages = []
    result = build_site(root, out, progress=messages.append)
    return result, messages


def test_build_writes_typed_tables_with_keys(site_root, tmp_path):
    out = tmp_path / "out"
    result, messages = build(site_root, out)
    assert result.ok, messages
    site = out / "site"
    assert site.is_symlink()
    conn = sqlite3.connect(release_files.database(site, "towns"))
    cols = {r[1]: (r[2], r[5]) for r in conn.execute("pragma table_info(cities)")}
    assert cols == {"code": ("TEXT", 1), "name": ("TEXT", 0), "provinceCode": ("TEXT", 0)}
    fks = conn.execute("pragma foreign_key_list(cities)").fetchall()
    assert [(f[2], f[3], f[4]) for f in fks] == [("provinces", "provinceCode", "code")]
    indexes = [r[1] for r in conn.execute("pragma index_list(cities)")]
    assert any("provinceCode" in name for name in indexes)
    assert conn.execute("select name from provinces where code='11'").fetchone() == ("北京市",)
    budget = sqlite3.connect(release_files.database(site, "budget"))
    assert {r[1]: r[2] for r in budget.execute("pragma table_info(budget)")} == {
        "项目": "TEXT",
        "年度": "INTEGER",
        "金额": "REAL",
        "日期": "TEXT",
        "公开": "INTEGER",
    }
    assert budget.execute("select * from budget order by 金额").fetchall() == [
        ("卫生", 2023, 800.0, "2023-12-31", 0),
        ("教育", 2023, 1200.5, "2023-12-31", 1),
    ]


def test_build_writes_catalog_metadata_inspect_and_reports(site_root, tmp_path):
    out = tmp_path / "out"
    assert build(site_root, out)[0].ok
    site = out / "site"
    catalog = sqlite3.connect(site / "catalog.db")
    assert catalog.execute("select name, publisher, theme, rows, resources from datasets order by name").fetchall() == [
        ("budget", "city-finance", "finance", 2, 1),
        ("towns", "city-stats", "administrative-divisions", 4, 2),
    ]
    assert catalog.execute("select unit from fields where name='金额'").fetchone() == ("万元",)
    meta = json.loads((site / "metadata.json").read_text())
    assert "databases" not in meta  # each database's metadata is served from the catalogue
    from pathlib import Path

    from gongkai.serve import make_datasette

    ds = make_datasette(site, root=Path(__file__).resolve().parents[1])
    assert ds.metadata("columns", database="budget", table="budget")["金额"] == "金额 (单位 unit: 万元)"
    assert ds.metadata("license", database="towns") == "CC BY 4.0"
    inspect = json.loads((site / "inspect.json").read_text())
    assert inspect["towns"]["tables"]["provinces"]["count"] == 2
    report = json.loads((out / "reports" / "towns.json").read_text())
    assert report["valid"] is True and [t["name"] for t in report["tasks"]] == ["provinces", "cities"]
    assert "校验通过" in (out / "reports" / "towns.md").read_text()
    assert release_files.report(site, "towns").exists()


def test_invalid_dataset_fails_and_leaves_previous_site(site_root, tmp_path):
    out = tmp_path / "out"
    assert build(site_root, out)[0].ok
    before = current_release(out)
    snapshot = {p.name: p.read_bytes() for p in before.iterdir() if p.is_file()}
    csv = site_root / "datasets/budget/budget.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + "交通,2023,abc,2023-12-31,true\n", encoding="utf-8")
    result, messages = build(site_root, out)
    assert not result.ok and result.failed == ["budget"]
    assert any("budget" in m and "Build failed" in m for m in messages)
    assert current_release(out) == before
    assert {p.name: p.read_bytes() for p in before.iterdir() if p.is_file()} == snapshot
    assert len(list((out / "releases").iterdir())) == 1
    report = json.loads((out / "reports" / "budget.json").read_text())
    errors = report["tasks"][0]["errors"]
    assert {(e["type"], e["rowNumber"], e["fieldName"]) for e in errors} == {
        ("constraint-error", 4, "项目"),
        ("type-error", 4, "金额"),
    }
    assert all(e["message_zh"] and e["message"] for e in errors)


def test_a_failed_catalogue_files_step_fails_the_build_and_leaves_the_site(site_root, tmp_path, monkeypatch):
    """The catalogue files are written in a thread beside the build's last steps: its error
    is the build's, raised after the other steps stop, and nothing of the release is left."""
    from gongkai import catalogue_files, release_buckets

    out = tmp_path / "out"
    assert build(site_root, out)[0].ok
    before = current_release(out)
    buckets_before = sorted(os.listdir(out / release_buckets.STORE))
    csv = site_root / "datasets/budget/budget.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + "教育,2024,5,2024-12-31,true\n", encoding="utf-8")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(catalogue_files, "write", broken)
    try:
        result, messages = build(site_root, out)
    except OSError as exc:
        assert exc.errno == 28
    else:
        raise AssertionError(f"the build ended without its catalogue files: {result.ok} {messages}")
    assert current_release(out) == before
    assert [p.name for p in (out / "releases").iterdir()] == [before.name]
    assert sorted(os.listdir(out / release_buckets.STORE)) == buckets_before  # the new bucket folders went
    monkeypatch.undo()
    result, _ = build(site_root, out)
    assert result.ok and current_release(out) != before


def test_noop_rebuild_reuses_databases(site_root, tmp_path):
    out = tmp_path / "out"
    first, _ = build(site_root, out)
    second, messages = build(site_root, out)
    assert second.ok and sorted(second.reused) == ["budget", "towns"]
    assert (
        os.path.samefile(
            release_files.database(current_release(out), "towns"),
            release_files.database(out / "releases" / first.site_dir.resolve().name, "towns"),
        )
        if (out / "releases" / first.site_dir.resolve().name).exists()
        else True
    )
    csv = site_root / "datasets/budget/budget.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("800", "801"), encoding="utf-8")
    third, _ = build(site_root, out)
    assert third.ok and third.reused == ["towns"]
    assert sqlite3.connect(release_files.database(out / "site", "budget")).execute(
        "select sum(金额) from budget"
    ).fetchone() == (2001.5,)
    assert len(list((out / "releases").iterdir())) == 2  # the served release and the one before


def test_killed_build_leaves_previous_site(site_root, tmp_path):
    out = tmp_path / "out"
    assert build(site_root, out)[0].ok
    before = current_release(out)
    # A big resource makes the build slow enough to kill while it loads.
    rows = "".join(f"项目{i},2023,{i},2023-12-31,true\n" for i in range(300_000))
    d = json.loads((site_root / "datasets/budget/datapackage.json").read_text())
    d["resources"][0]["schema"]["fields"][0].pop("constraints")
    (site_root / "datasets/budget/datapackage.json").write_text(json.dumps(d, ensure_ascii=False))
    (site_root / "datasets/budget/budget.csv").write_text("项目,年度,金额,日期,公开\n" + rows, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gongkai", "build", "--root", str(site_root), "--out", str(out)],
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stderr:
        if "Building" in line:
            break
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert current_release(out) == before
    assert sqlite3.connect(release_files.database(out / "site", "budget")).execute(
        "select count(*) from budget"
    ).fetchone() == (2,)
    # The next build cleans up what the killed one left and succeeds.
    result, _ = build(site_root, out)
    assert result.ok
    # no object is left that no release refers to (the killed build's staging folder among them)
    on_disk = {(n, k) for n in os.listdir(out / "objects") for k in os.listdir(out / "objects" / n)}
    referred = {
        (n, release_files.link_target(r, n)) for r in (out / "releases").iterdir() for n in release_files.names(r)
    }
    assert on_disk == referred
    assert sqlite3.connect(release_files.database(out / "site", "budget")).execute(
        "select count(*) from budget"
    ).fetchone() == (300_000,)


def test_site_metadata_error_fails_build(site_root, tmp_path):
    (site_root / "metadata/themes.yaml").write_text("- id: Finance!\n")
    result, messages = build(site_root, tmp_path / "out")
    assert not result.ok
    assert current_release(tmp_path / "out") is None


def test_downloads_are_published_copies(site_root, tmp_path):
    out = tmp_path / "out"
    assert build(site_root, out)[0].ok
    downloads = release_files.downloads(out / "site", "towns")
    assert (downloads / "datapackage.json").is_file()
    original = site_root / "datasets/towns/data/provinces.csv"
    published = downloads / "data" / "provinces.csv"
    assert published.read_bytes() == original.read_bytes()
    assert not os.path.samefile(published, original)  # an edit in place can't reach the site
    assert build(site_root, out)[0].ok  # unchanged: linked from the previous release
    again = release_files.downloads(out / "site", "towns") / "data" / "provinces.csv"
    assert again.read_bytes() == original.read_bytes() and os.path.samefile(again, published)


def test_issued_and_modified_come_from_git(site_root, tmp_path):
    def git(*args):
        subprocess.run(
            ["git", *args],
            cwd=site_root,
            check=True,
            capture_output=True,
            env={
                **os.environ,
                "GIT_AUTHOR_DATE": DATE,
                "GIT_COMMITTER_DATE": DATE,
                "GIT_AUTHOR_NAME": "t",
                "GIT_AUTHOR_EMAIL": "t@example.org",
                "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@example.org",
            },
        )

    DATE = "2020-01-02T03:04:05+00:00"
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "first")
    DATE = "2024-05-06T07:08:09+00:00"
    csv = site_root / "datasets/budget/budget.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("800", "801"), encoding="utf-8")
    git("commit", "-qam", "second")
    out = tmp_path / "out"
    assert build(site_root, out)[0].ok
    rows = dict(
        (
            (n, (i, m))
            for n, i, m in sqlite3.connect(out / "site" / "catalog.db").execute(
                "select name, issued, modified from datasets"
            )
        )
    )
    assert rows["budget"] == ("2020-01-02T03:04:05+00:00", "2024-05-06T07:08:09+00:00")
    assert rows["towns"] == ("2020-01-02T03:04:05+00:00", "2020-01-02T03:04:05+00:00")


def test_issued_without_git_is_the_first_build(site_root, tmp_path):
    out = tmp_path / "out"
    assert build(site_root, out)[0].ok
    first = (
        sqlite3.connect(out / "site" / "catalog.db")
        .execute("select issued from datasets where name='towns'")
        .fetchone()[0]
    )
    csv = site_root / "datasets/towns/data/provinces.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + '13,"河北省"\n', encoding="utf-8")
    assert build(site_root, out)[0].ok
    again = (
        sqlite3.connect(out / "site" / "catalog.db")
        .execute("select issued from datasets where name='towns'")
        .fetchone()[0]
    )
    assert first and again == first  # a change of content is not a new issue date


def test_unchanged_database_keeps_its_inspect_entry(site_root, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert build(site_root, out)[0].ok
    first = json.loads((out / "site" / "inspect.json").read_text())
    hashed = []
    import gongkai.datasette_files as sitemeta

    real = sitemeta.sha256_file
    monkeypatch.setattr(sitemeta, "sha256_file", lambda p: hashed.append(p.name) or real(p))
    csv = site_root / "datasets/budget/budget.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("800", "801"), encoding="utf-8")
    assert build(site_root, out)[0].ok
    second = json.loads((out / "site" / "inspect.json").read_text())
    assert "towns.db" not in hashed and "budget.db" in hashed  # only what changed is hashed again
    assert second["towns"] == first["towns"] and second["budget"]["hash"] != first["budget"]["hash"]


def test_an_inspect_entry_kept_from_an_older_release_gains_its_search_indexes(site_root, tmp_path):
    # releases before the entries recorded their search indexes: the next build adds them to
    # the entries it keeps (once), without hashing or counting those databases again
    out = tmp_path / "out"
    assert build(site_root, out)[0].ok
    path = (out / "site").resolve() / "inspect.json"
    first = json.loads(path.read_text())
    older = {name: {k: v for k, v in entry.items() if k != "search"} for name, entry in first.items()}
    path.write_text(json.dumps(older))
    csv = site_root / "datasets/budget/budget.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("800", "801"), encoding="utf-8")
    assert build(site_root, out)[0].ok
    second = json.loads((out / "site" / "inspect.json").read_text())
    assert second["towns"]["search"] == first["towns"]["search"] and second["towns"]["hash"] == first["towns"]["hash"]


def test_an_integer_sqlite_cannot_store_is_an_error_not_a_crash(tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "t.csv").write_text("id,big\n1,5\n2,99999999999999999999\n", encoding="utf-8")
    (folder / "datapackage.json").write_text(
        json.dumps(
            {
                "name": "big",
                "resources": [
                    {
                        "name": "t",
                        "path": "t.csv",
                        "schema": {"fields": [{"name": "id", "type": "integer"}, {"name": "big", "type": "integer"}]},
                    }
                ],
            }
        )
    )
    result = load_dataset(read_dataset(folder), tmp_path / "big.db")
    assert not result.valid
    assert [(e.type, e.row_number, e.field_name) for t in result.tasks for e in t.errors] == [
        ("integer-range", 3, "big")
    ]


def test_planner_statistics_cover_whole_indexes(tmp_path):
    # An enum whose first 2,500 rows share one value: sampled statistics would call that value
    # rare and sort every matching row for a date-ordered page instead of walking the date index.
    folder = tmp_path / "stats"
    folder.mkdir()
    rows = "".join(f"{i},{'a' if i <= 2500 else 'b'},2024-01-{i % 28 + 1:02d}\n" for i in range(1, 3001))
    (folder / "t.csv").write_text("id,cat,d\n" + rows, encoding="utf-8")
    (folder / "datapackage.json").write_text(
        json.dumps(
            {
                "name": "stats",
                "resources": [
                    {
                        "name": "t",
                        "path": "t.csv",
                        "schema": {
                            "primaryKey": ["id"],
                            "fields": [
                                {"name": "id", "type": "integer"},
                                {"name": "cat", "type": "string", "constraints": {"enum": ["a", "b"]}},
                                {"name": "d", "type": "date"},
                            ],
                        },
                    }
                ],
            }
        )
    )
    assert load_dataset(read_dataset(folder), tmp_path / "stats.db", search=False).valid
    conn = sqlite3.connect(tmp_path / "stats.db")
    assert conn.execute("select stat from sqlite_stat1 where idx = 'idx_t_cat'").fetchone() == ("3000 1500",)
    plan = conn.execute("explain query plan select * from t where cat = 'a' order by d limit 10").fetchall()
    assert "idx_t_d" in plan[0][3] and "TEMP B-TREE" not in str(plan)
