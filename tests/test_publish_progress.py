"""Validation progress: a bar (rows, rate) per resource in a terminal, plain lines otherwise,
nothing with --quiet; the verdict is the same with or without it."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from publish_helpers import empty_repo, fill_in, gongkai, gongkai_process

from gongkai.build import check
from gongkai.publish.describe import describe
from gongkai.publish.progress import TICK_ROWS, Progress


def big_dataset(tmp_path: Path, rows: int) -> tuple[Path, Path]:
    root = empty_repo(tmp_path)
    assert gongkai("new", "big", "--publisher", "nbs", "--root", root).returncode == 0
    folder = root / "datasets" / "big"
    data = folder / "data" / "big.csv"
    data.write_text("编号,数值\n" + "".join(f"{i},{i * 3}\n" for i in range(rows)), encoding="utf-8")
    describe(data, output=folder / "datapackage.yaml")
    fill_in(folder / "datapackage.yaml")
    return root, folder


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_in_a_terminal(tmp_path):
    root, folder = big_dataset(tmp_path, 5 * TICK_ROWS)
    screen = Terminal()
    progress = Progress(screen, redraw_every=0)
    assert progress.tty
    [result] = check([folder], root, sink=progress)
    assert result.valid
    out = screen.getvalue()
    frames = [f for f in out.split("\r\x1b[2K") if f]
    bars = [f for f in frames if f.startswith("[")]
    assert len(bars) >= 4, out
    # the share grows to the end, rows and rate on every frame
    shares = [int(re.search(r"(\d+)%", b).group(1)) for b in bars]
    assert shares == sorted(shares) and shares[-1] >= 80
    assert all("rows/s" in b and "行/秒" in b and "big/big" in b for b in bars)
    assert frames[-1].strip().endswith("rows/s") and f"{5 * TICK_ROWS:,} valid rows" in frames[-1]


def test_plain_lines_otherwise(tmp_path):
    root, folder = big_dataset(tmp_path, 3 * TICK_ROWS)
    log = io.StringIO()
    [result] = check([folder], root, sink=Progress(log, line_every=0))
    assert result.valid
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and "\x1b" not in log.getvalue()
    assert lines[0].startswith("校验 big/big") and "validating big/big" in lines[0]
    assert len(lines) == 1 + 3 + 1  # start, one line per 4096 rows, done
    assert f"{3 * TICK_ROWS:,} valid rows in" in lines[-1]


def test_cli_validate_progress_and_quiet(tmp_path):
    root, folder = big_dataset(tmp_path, 100)
    loud = gongkai("validate", folder, "--root", root)
    assert loud.returncode == 0 and "validating big/big" in loud.stderr and "100 valid rows" in loud.stderr
    quiet = gongkai("validate", folder, "--root", root, "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == loud.stdout
    (folder / "data" / "big.csv").write_text("编号,数值\n1,x\n", encoding="utf-8")
    bad = gongkai("validate", folder, "--root", root)
    assert bad.returncode == 1 and "0 valid rows" in bad.stderr


def test_a_real_process_without_a_terminal_prints_lines(tmp_path):
    root, folder = big_dataset(tmp_path, 50)
    proc = gongkai_process("validate", folder, "--root", root)
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr and "validating big/big" in proc.stderr and "Traceback" not in proc.stderr
    assert "--quiet" in gongkai("validate", "--help").stdout


def test_build_shows_progress_per_resource_and_quiet_hides_it(tmp_path):
    root, folder = big_dataset(tmp_path, 3 * TICK_ROWS)
    out = tmp_path / "build"
    loud = gongkai("build", "--root", root, "--out", out)
    assert loud.returncode == 0, loud.stderr
    assert "validating big/big" in loud.stderr and f"{3 * TICK_ROWS:,} valid rows in" in loud.stderr
    assert "✓ big" in loud.stderr  # the build's own line per dataset stays
    (folder / "data" / "big.csv").write_text("编号,数值\n1,2\n", encoding="utf-8")
    quiet = gongkai("build", "--root", root, "--out", out, "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_build_progress_counts_the_rows_a_second_process_loaded(tmp_path, monkeypatch):
    """A big table's second half is validated and written by a child (validate/split.py): the
    last line still gives every row loaded, not just those the parent passed on."""
    from gongkai.build import load_dataset
    from gongkai.descriptors import read_dataset, read_site
    from gongkai.validate import split

    monkeypatch.setenv(split.MIN_BYTES_ENV, "1")
    root, folder = big_dataset(tmp_path, 40_000)
    if (os.cpu_count() or 1) < 2:
        pytest.skip("the split needs two cores")
    log = io.StringIO()
    progress = Progress(log)
    result = load_dataset(read_dataset(folder, read_site(root)), tmp_path / "big.db", watch=progress)
    assert result.valid
    assert 0 < progress._count < 40_000  # the parent passed on only its part: the split happened
    assert log.getvalue().splitlines()[-1].count("40,000 valid rows") == 1
