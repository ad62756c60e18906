"""The `exports` bench end to end on a tiny table: every format gongkai publishes and its baseline
timed in child processes, each file read back with its own reader. Checks the figures are there
and the round trip's row counts, never the timings (a shared machine decides those)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gongkai.bench.exports import FORMATS, run_exports_bench

pytest.importorskip("pandas", reason="the bench's baselines need the `bench` extra (make bench installs it)")

ROWS, LARGE = 2000, 3000


@pytest.fixture(scope="module")
def figures(tmp_path_factory) -> dict:
    root = Path(__file__).resolve().parents[1]
    work = tmp_path_factory.mktemp("exports-bench")
    return run_exports_bench(
        work, root, rows=ROWS, large_rows=LARGE, repeats=1, large_baselines=False, say=lambda m: None
    )


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_is_timed_beside_its_baseline(figures, fmt):
    for key in ("s", "cpu_s", "peak_mb", "bytes", "baseline_s", "baseline_peak_mb", "baseline_bytes", "ratio"):
        assert figures[f"exports_{fmt}_{key}"] > 0, key
    assert figures[f"exports_{fmt}_ratio"] == pytest.approx(
        figures[f"exports_{fmt}_s"] / figures[f"exports_{fmt}_baseline_s"], rel=0.01, abs=1e-4
    )
    # the large size runs the gongkai side only here
    assert figures[f"exports_3k_{fmt}_s"] > 0 and figures[f"exports_3k_{fmt}_peak_mb"] > 0
    assert f"exports_3k_{fmt}_baseline_s" not in figures


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_file_reads_back_with_the_tables_rows(figures, fmt):
    expected = 8 if fmt == "dictionary" else ROWS  # the dictionary: one row per field
    assert figures[f"exports_{fmt}_rows"] == expected
    assert figures[f"exports_3k_{fmt}_rows"] == (8 if fmt == "dictionary" else LARGE)
    assert figures[f"exports_{fmt}_rows_match"] is True


def test_build_and_targets(figures):
    assert figures["dataset_build_s"] > 0 and figures["dataset_build_sqlite3_import_s"] > 0
    assert figures["dataset_build_ratio_vs_sqlite3_import"] > 0
    assert not any(k.startswith("dataset_build_3k") for k in figures)  # the large size only loads
    assert figures["exports_rows_match"] is True and figures["exports_3k_rows_match"] is True
    assert set(figures["targets"]) == {
        "exports_slowest_ratio_vs_baseline",
        "exports_xlsx_speedup_vs_pandas_openpyxl",
        "exports_peak_mb_2k",
        "exports_peak_mb_3k",
        "exports_round_trip_rows_2k",
        "exports_round_trip_rows_3k",
    }
    assert all(t["met"] in (True, False) for t in figures["targets"].values())
    assert figures["targets"]["exports_round_trip_rows_2k"]["met"] is True
