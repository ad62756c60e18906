"""What the publisher-tool tests share: a repository with the real site metadata and no dataset,
the CLI run as a publisher runs it, and the descriptor filled in the way a publisher fills it
(editing the empty lines `gongkai new` wrote, comments kept)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from gongkai.cli import cli

REPO = Path(__file__).resolve().parent.parent
PUBLISH_FIXTURES = Path(__file__).parent / "fixtures" / "publish"

# Each empty line `gongkai new` writes for a MUST field, and what a publisher types there.
FILLED = {
    "description:\n": "description: 测试用数据集。\n",
    "keywords: []\n": "keywords: [测试]\n",
    "gov:theme:\n": "gov:theme: finance\n",
    "gov:frequency:\n": "gov:frequency: annual\n",
    "gov:contact:\n  name:\n  email:\n": "gov:contact:\n  name: 数据科\n  email: data@example.gov.cn\n",
    "gov:openness:\n  class:\n  condition:\n": "gov:openness:\n  class: unconditional\n  condition:\n",
}


def empty_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(REPO / "metadata", root / "metadata")
    return root


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def gongkai(*args) -> Ran:
    """The CLI in this process (click's runner: stdout and stderr apart, stderr not a terminal);
    an exception that escapes it (a traceback for the publisher) fails the test."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


def gongkai_process(*args) -> subprocess.CompletedProcess:
    """The real command, for what only a process shows."""
    return subprocess.run([sys.executable, "-m", "gongkai", *map(str, args)], capture_output=True, text=True, cwd=REPO)


def fill_in(descriptor: Path) -> None:
    text = descriptor.read_text(encoding="utf-8")
    text = text.replace("\ntitle:\n", "\ntitle: 测试数据集\n", 1)  # when --title was not given
    for empty, filled in FILLED.items():
        assert empty in text, f"gongkai new no longer writes {empty!r}"
        text = text.replace(empty, filled, 1)
    descriptor.write_text(text, encoding="utf-8")
