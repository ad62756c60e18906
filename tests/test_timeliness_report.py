"""Timeliness in the validation report: a dataset whose last change is older than its
`gov:frequency` allows gets an `overdue` warning (never an error), by the same rule the site
shows (gongkai/portal/timeliness.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from gongkai import report
from gongkai.cli import cli
from gongkai.portal import timeliness

TODAY = date(2026, 12, 1)


def test_a_late_monthly_dataset_is_overdue_in_both_languages():
    [warning] = report.overdue({"gov:frequency": "monthly"}, "2026-09-01T08:00:00+08:00", TODAY)
    zh, en = warning.split(" / ")
    assert "逾期未更新" in zh and "2026-09-01" in zh and "2026-10-09" in zh
    assert en.startswith("overdue: updated monthly") and "2026-10-09" in en and "53 days late" in en


@pytest.mark.parametrize(
    "frequency", ["daily", "weekly", "monthly", "quarterly", "annual", "irregular", "never", None, "hourly"]
)
@pytest.mark.parametrize("age", [0, 3, 9, 40, 120, 400, 800])
def test_the_report_and_the_site_judge_alike(frequency, age):
    modified = (TODAY - timedelta(days=age)).isoformat()
    late = timeliness.judge(frequency, modified, TODAY).status == "late"
    assert bool(report.overdue({"gov:frequency": frequency}, modified, TODAY)) == late


def test_no_date_no_warning():
    assert report.overdue({"gov:frequency": "daily"}, None, TODAY) == []


@pytest.fixture
def repo(tmp_path):
    """The fixture site as a git repository whose one commit is two years old."""
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "site", root)
    descriptor = root / "datasets" / "budget" / "datapackage.json"
    data = json.loads(descriptor.read_text(encoding="utf-8"))
    data["gov:frequency"] = "monthly"
    descriptor.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    old = "2024-01-15T10:00:00+00:00"
    env = dict(
        os.environ,
        GIT_AUTHOR_DATE=old,
        GIT_COMMITTER_DATE=old,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.org",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.org",
    )
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "old data"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    return root


def test_validate_warns_but_passes(repo):
    runner = CliRunner()
    result = runner.invoke(cli, ["validate", "--json", "--root", str(repo), str(repo / "datasets" / "budget")])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["valid"] and found["stats"]["errors"] == 0
    assert found["stats"]["warnings"] == 1 and "2024-01-15" in found["warnings"][0]
    text = runner.invoke(cli, ["validate", "--root", str(repo), str(repo / "datasets" / "budget")])
    assert text.exit_code == 0 and "⚠" in text.output and "overdue" in text.output and "逾期未更新" in text.output
    # the towns dataset (annual, changed in the same commit) is late too; an irregular one is not
    towns = runner.invoke(cli, ["validate", "--json", "--root", str(repo), str(repo / "datasets" / "towns")])
    frequency = json.loads((repo / "datasets" / "towns" / "datapackage.json").read_text(encoding="utf-8"))[
        "gov:frequency"
    ]
    expected = 0 if frequency in ("irregular", "never") else 1
    assert json.loads(towns.stdout)["stats"]["warnings"] == expected
