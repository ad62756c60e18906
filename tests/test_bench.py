"""Smoke test of `python -m gongkai.bench` on a tiny dataset; the real bench is `make bench`."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gongkai.bench import data
from gongkai.bench.__main__ import merge
from gongkai.bench.load import compare_errors, frictionless_errors

ROWS = 2000
HEADLINE = [
    "rows",
    "gongkai_s",
    "naive_s",
    "frictionless_validate_s",
    "sqlite_utils_insert_s",
    "sqlite3_import_s",
    "speedup_vs_naive",
    "ratio_vs_sqlite3_import",
    "gongkai_peak_mb",
    "naive_peak_mb",
    "sqlite3_peak_mb",
    "errors_match_frictionless",
]


def _gongkai_api_present() -> bool:
    try:
        return hasattr(importlib.import_module("gongkai.build"), "load_dataset") and hasattr(
            importlib.import_module("gongkai.descriptors"), "read_dataset"
        )
    except ImportError:
        return False


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> tuple[dict, Path]:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "bench.json"
    out.write_text(json.dumps({"search_qps": 123, "benches": {"search": {"status": "ok", "keys": ["search_qps"]}}}))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gongkai.bench",
            "--rows",
            str(ROWS),
            "--quick",
            "--bench",
            "load",
            "--out",
            str(out),
            "--workdir",
            str(tmp / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "sqlite3 .import" in proc.stderr  # progress goes to stderr
    return json.loads(out.read_text(encoding="utf-8")), tmp / "work"


def test_bench_json_has_the_headline_figures(bench):
    doc, _ = bench
    for key in HEADLINE:
        assert key in doc, key
    assert doc["rows"] == ROWS
    assert doc["sqlite3_rows_loaded"] == ROWS and doc["naive_rows_loaded"] == ROWS
    for key in ("naive_s", "frictionless_validate_s", "sqlite_utils_insert_s", "sqlite3_import_s"):
        assert doc[key] > 0, key
    assert 0 < doc["naive_cpu_s"] and doc["sqlite3_import_cpu_s"] >= 0
    assert doc["naive_s"] == pytest.approx(doc["frictionless_validate_s"] + doc["sqlite_utils_insert_s"], abs=0.002)
    # Peak memory is each child's own: a Python CLI needs well over what the sqlite3 shell does.
    assert doc["naive_peak_mb"] > doc["sqlite3_peak_mb"] > 0
    assert doc["machine"]["cpu_count"] >= 1 and doc["machine"]["python"].startswith("3.")
    assert set(doc["targets"]) == {"speedup_vs_naive", "ratio_vs_sqlite3_import", "personal_data_guard_overhead"}
    assert doc["targets"]["personal_data_guard_overhead"]["target"] == 0.25
    assert doc["personal_data_guard_s"] > 0 and doc["personal_data_unguarded_s"] > 0
    assert doc["targets"]["speedup_vs_naive"]["target"] == 15
    assert doc["targets"]["ratio_vs_sqlite3_import"]["target"] == 2.0
    assert doc["benches"]["load"]["status"] == "ok"
    # Merged into what was there: another bench's figures survive.
    assert doc["search_qps"] == 123 and "search" in doc["benches"]


def test_frictionless_reports_exactly_the_injected_errors(bench):
    doc, _ = bench
    assert doc["expected_error_count"] == doc["frictionless_error_count"] > 10
    assert doc["frictionless_errors_match_expected"] is True


def test_error_check_catches_a_different_report(bench):
    _, work = bench
    theirs = frictionless_errors(work / "invalid")
    assert compare_errors(list(reversed(theirs)), theirs)["match"] is True
    missing = compare_errors(theirs[1:], theirs)
    assert missing["match"] is False and missing["only_theirs"] == [theirs[0]] and missing["only_ours"] == []
    wrong_row = [(t, r + 1, f) for t, r, f in theirs[:1]] + theirs[1:]
    assert compare_errors(wrong_row, theirs)["match"] is False
    wrong_field = [(theirs[0][0], theirs[0][1], "编号")] + theirs[1:]
    assert compare_errors(wrong_field, theirs)["match"] is False


@pytest.mark.skipif(
    not _gongkai_api_present(), reason="gongkai.descriptors.read_dataset / gongkai.build.load_dataset not written yet"
)
def test_gongkai_loads_the_data_and_reports_frictionless_errors(bench):
    doc, _ = bench
    assert doc["notes"]["load"] == [], doc["notes"]["load"]
    assert doc["gongkai_rows_loaded"] == ROWS and doc["gongkai_valid"] is True
    assert doc["errors_match_frictionless"] is True, doc.get("errors_diff")
    assert doc["gongkai_error_count"] == doc["frictionless_error_count"]
    assert doc["speedup_vs_naive"] > 0 and doc["ratio_vs_sqlite3_import"] > 0 and doc["gongkai_peak_mb"] > 0
    assert doc["speedup_vs_naive_cpu"] > 0 and doc["gongkai_process_cpu_s"] > 0


def test_data_is_deterministic(tmp_path):
    a = data.write_dataset(tmp_path / "a", 300)
    b = data.write_dataset(tmp_path / "b", 300)
    assert (a / "data.csv").read_bytes() == (b / "data.csv").read_bytes()
    assert len((a / "data.csv").read_text(encoding="utf-8").splitlines()) == 301
    assert (a / "data.csv").read_bytes() != (data.write_dataset(tmp_path / "c", 301) / "data.csv").read_bytes()


def test_merge_drops_figures_a_rerun_bench_no_longer_produces():
    old = {
        "gongkai_s": 1.0,
        "naive_s": 40.0,
        "qps": 9,
        "benches": {"load": {"keys": ["gongkai_s", "naive_s"]}, "serving": {"keys": ["qps"]}},
    }
    new = {"naive_s": 41.0, "benches": {"load": {"keys": ["naive_s"]}}}
    merged = merge(old, new)
    assert "gongkai_s" not in merged
    assert merged["naive_s"] == 41.0 and merged["qps"] == 9
    assert set(merged["benches"]) == {"load", "serving"}


def test_rows_bench_measures_every_size(tmp_path):
    """The rows bench end to end on tiny tables: builds, the index, the chart, pages, targets."""
    from gongkai.bench.rows import run_rows_bench

    root = Path(__file__).resolve().parents[1]
    doc = run_rows_bench(tmp_path, root, quick=True, repeats=1, sizes=(2000, 3000, 4000), say=lambda m: None)
    for size in ("2k", "3k", "4k"):
        assert doc[f"rows_{size}_build_s"] > 0 and doc[f"rows_{size}_sqlite3_import_s"] > 0
        assert 0 < doc[f"rows_{size}_build_downloads_s"] < doc[f"rows_{size}_build_s"]
        assert doc[f"rows_{size}_build_without_downloads_s"] > 0
        assert doc[f"rows_{size}_search_index_us_per_row"] > 0
        assert doc[f"rows_{size}_chart_kind"] == "line"
    assert "rows_2k_table_page_ms" not in doc  # pages only at the two largest sizes
    for size in ("3k", "4k"):
        assert doc[f"rows_{size}_facet_matching_rows"] > 0
        assert doc[f"rows_{size}_search_common_ms"] > 0 and doc[f"rows_{size}_search_rare_ms"] > 0
    assert set(doc["targets"]) == {
        "rows_dataset_build_ratio_vs_sqlite3_import",
        "rows_dataset_build_without_downloads_ratio_vs_sqlite3_import",
        "rows_search_index_us_per_row",
        "rows_search_index_linearity",
        "rows_build_peak_kb_per_extra_row",
        "rows_facet_never_delays_other_requests",
    }
    assert all(t["met"] in (True, False) for t in doc["targets"].values())


def test_scale_build_measures_full_noop_and_one_change(tmp_path):
    from gongkai.bench.scale_build import run_scale_build

    doc = run_scale_build(tmp_path, sizes=(2, 4), rows=3)
    for n in (2, 4):
        for kind in ("full", "noop", "one_change"):
            assert doc[f"scale_build_{kind}_s_{n}"] > 0 and doc[f"scale_build_{kind}_peak_mb_{n}"] > 0
        assert doc[f"scale_build_rows_{n}"] == 3 * n and doc[f"scale_build_per_dataset_ms_{n}"] > 0
        # the no-op keeps the served release; the full build had none, the change makes one
        assert doc[f"scale_build_noop_release_kept_{n}"] is True
        assert doc[f"scale_build_full_release_kept_{n}"] is False
        assert doc[f"scale_build_one_change_release_kept_{n}"] is False
        assert doc[f"scale_build_full_then_sync_s_{n}"] >= 0
    assert set(doc["targets"]) == {
        "scale_build_noop_s_4",
        "scale_build_one_change_s_4",
        "scale_build_full_memory_ratio",
    }
    # the changed dataset was put back: the generated portal is still what git holds
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=tmp_path / "portal-4-3", capture_output=True, text=True
    )
    assert status.stdout == ""


def test_scale_summary_puts_each_n_beside_the_target():
    from gongkai.bench.scale import rows_summary, summary

    parts = {
        "build": {"scale_build_noop_s_5": 0.4, "scale_build_noop_s_50": 1.5},
        "serve": {"serve_table_p50_ms_n5": 3.0, "serve_table_p50_ms_n50": 4.0},
    }
    targets = {
        "scale_build_noop_s_50": {"value": 1.5, "met": True},
        "serve_table_p50_n50_vs_n5": {"value": 1.33, "met": True},
    }
    rows = {r["measure"]: r for r in summary((5, 50), parts, targets)}
    assert rows["no-op rebuild, s"] == {
        "measure": "no-op rebuild, s",
        "n5": 0.4,
        "n50": 1.5,
        "target": "<= 2 s",
        "value": 1.5,
        "met": True,
    }
    assert rows["table p50 ms (1 client)"]["value"] == 1.33
    # a figure the run did not produce is None, never a guess
    assert rows["startup, s"]["n50"] is None and rows["startup, s"]["met"] is None
    by = {r["measure"]: r for r in rows_summary({"rows_sizes": [100_000, 2_000_000], "rows_2m_noop_rebuild_s": 0.8})}
    assert by["no-op rebuild, s"]["2m"] == 0.8 and by["no-op rebuild, s"]["100k"] is None


def test_make_bench_runs_scale_once_not_its_parts():
    from gongkai.bench.__main__ import BENCHES, DEFAULT_BENCHES

    assert "scale" in DEFAULT_BENCHES
    assert not {"rows", "scale_build", "scale_serve", "scale_search"} & set(DEFAULT_BENCHES)
    assert set(DEFAULT_BENCHES) < set(BENCHES)
