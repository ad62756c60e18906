"""`gongkai check --changed-since`: on a real temporary git repository (the fixture site
committed on `main`, a branch that changes it), which datasets are checked, the report, the
exit codes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from gongkai.check import CheckUsageError, changed_datasets, markdown, run_check
from gongkai.cli import cli


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def repo(site_root: Path) -> Path:
    git(site_root, "init", "-q", "-b", "main")
    git(site_root, "add", "-A")
    git(site_root, "commit", "-qm", "start")
    git(site_root, "checkout", "-q", "-b", "branch")
    return site_root


def commit(root: Path, message: str = "change") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def test_nothing_changed(repo):
    changes = changed_datasets(repo, "main")
    assert changes.datasets == [] and changes.files == []
    result = run_check(repo, "main")
    assert result.ok and "nothing to check" in markdown(result)


def test_a_changed_dataset_only(repo):
    csv = repo / "datasets/towns/data/provinces.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + "99,新省\n", encoding="utf-8")
    commit(repo)
    changes = changed_datasets(repo, "main")
    assert changes.datasets == ["towns"] and changes.files == ["datasets/towns/data/provinces.csv"]
    # uncommitted and untracked files count too: what the publisher is about to push
    (repo / "datasets/budget/notes.txt").write_text("x", encoding="utf-8")
    assert changed_datasets(repo, "main").datasets == ["budget", "towns"]


def test_metadata_affects_every_dataset_and_a_shared_schema_its_users(repo):
    (repo / "metadata/schemas").mkdir(parents=True, exist_ok=True)
    schema = repo / "metadata/schemas/service-items.yaml"
    schema.write_text("fields: []\n", encoding="utf-8")
    commit(repo, "a shared schema no dataset names yet")
    git(repo, "branch", "-f", "main")
    schema.write_text("fields: [{name: a}]\n", encoding="utf-8")
    assert changed_datasets(repo, "main").datasets == []  # no dataset names it
    descriptor = repo / "datasets/towns/datapackage.json"
    text = descriptor.read_text(encoding="utf-8")
    descriptor.write_text(text.replace('"title": "省"', '"title": "省", "x-see": "shared:service-items"'), "utf-8")
    commit(repo, "towns names the shared schema")
    git(repo, "branch", "-f", "main")
    schema.write_text("fields: [{name: b}]\n", encoding="utf-8")
    changes = changed_datasets(repo, "main")
    assert changes.datasets == ["towns"] and changes.why["towns"] == "metadata/schemas/service-items.yaml"
    pubs = repo / "metadata/publishers.yaml"
    pubs.write_text(pubs.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert changed_datasets(repo, "main").datasets == ["budget", "towns"]  # cannot tell: all


def test_a_package_referencing_a_changed_one_is_checked_too(repo):
    descriptor = repo / "datasets/budget/datapackage.json"
    text = descriptor.read_text(encoding="utf-8")
    fk = '"foreignKeys": [{"fields": ["项目"], "reference": {"package": "../towns/datapackage.json", "resource": "provinces", "fields": ["name"]}}], '
    descriptor.write_text(text.replace('"schema": {"fields"', '"schema": {' + fk + '"fields"'), "utf-8")
    commit(repo, "budget refers to towns")
    git(repo, "branch", "-f", "main")
    csv = repo / "datasets/towns/data/provinces.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + "98,新省\n", encoding="utf-8")
    changes = changed_datasets(repo, "main")
    assert changes.datasets == ["budget", "towns"] and changes.why["budget"] == "datasets/towns"


def test_report_of_a_failing_resource_and_exit_codes(repo, tmp_path):
    csv = repo / "datasets/towns/data/provinces.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + "9x,坏省\n", encoding="utf-8")
    commit(repo)
    report = tmp_path / "out/report.md"
    run = CliRunner().invoke(cli, ["check", "--changed-since", "main", "--root", str(repo), "--report", str(report)])
    assert run.exit_code == 1, run.output
    md = report.read_text(encoding="utf-8")
    assert "数据检查" in md and "Data check" in md
    assert "| `towns` | ❌ |" in md and "budget" not in md
    assert "MQA" in md and "/ 405" in md
    assert "### `towns` / `provinces` (`data/provinces.csv`)" in md
    row = next(line for line in md.splitlines() if "| 9x |" in line)
    assert row.startswith("| ") and "| code |" in row and "<br>" in row  # row number, column, value, zh<br>en
    # fixed: exit 0, the default report path
    csv.write_text(csv.read_text(encoding="utf-8").replace("9x,坏省\n", "98,好省\n"), encoding="utf-8")
    run = CliRunner().invoke(cli, ["check", "--changed-since", "main", "--root", str(repo)])
    assert run.exit_code == 0, run.output
    assert "✅" in (repo / "build/check-report.md").read_text(encoding="utf-8")


def test_usage_errors_exit_2(repo, tmp_path):
    run = CliRunner().invoke(cli, ["check", "--changed-since", "no-such-ref", "--root", str(repo)])
    assert run.exit_code == 2 and "no-such-ref" in run.output and "Traceback" not in run.output
    plain = tmp_path / "plain"
    plain.mkdir()
    run = CliRunner().invoke(cli, ["check", "--changed-since", "main", "--root", str(plain)])
    assert run.exit_code == 2 and "Traceback" not in run.output
    with pytest.raises(CheckUsageError):
        changed_datasets(plain, "main")
    assert CliRunner().invoke(cli, ["check", "--root", str(repo)]).exit_code == 2  # --changed-since is required


def test_overdue_is_a_warning_and_a_removed_dataset_is_listed(repo):
    from datetime import date

    csv = repo / "datasets/towns/data/provinces.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + "97,新省\n", encoding="utf-8")
    commit(repo)
    git(repo, "rm", "-rq", "datasets/budget")
    commit(repo, "budget withdrawn")
    result = run_check(repo, "main", today=date(2099, 1, 1))  # towns is annual: long overdue by then
    assert result.ok and result.changes.removed == ["budget"] and result.changes.datasets == ["towns"]
    md = markdown(result)
    assert "⚠️ `towns`" in md and "overdue" in md and "逾期" in md
    assert "budget" in md and "removes datasets" in md
    assert not run_check(repo, "main").datasets[0].warnings  # on time today


def test_the_report_links_a_rejected_rows_file_written_beside_it(repo, tmp_path):
    """A failing resource's rows, as CSV beside the report at the path the report gives."""
    from gongkai.check import write_rejected_rows

    csv_path = repo / "datasets" / "budget" / "budget.csv"
    csv_path.write_text(csv_path.read_text(encoding="utf-8") + "教育,不是年份,1,2023-12-31,true\n", encoding="utf-8")
    result = run_check(repo, "main")
    assert not result.ok
    report = markdown(result)
    written = write_rejected_rows(result, tmp_path / "out")
    assert written, "a failing row gives a rejected-rows file"
    rel = written[0].relative_to(tmp_path / "out").as_posix()
    assert rel in report
    text = written[0].read_text(encoding="utf-8")
    assert text.startswith("\ufeff") and "不是年份" in text
