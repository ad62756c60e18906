"""The load benchmark: gongkai's validate + load against the obvious pipeline and the C floor.

On the same deterministic CSV (see `gongkai.bench.data`) it times, each in a fresh child process
so peak memory is that process's own:

- gongkai: `gongkai.descriptors.read_dataset` + `gongkai.build.load_dataset` (validate and insert in
  one pass), timed inside the child (`gongkai_s`) and as a whole process (`gongkai_process_s`);
  the search index is left out here (`search=False`): the search bench builds and times it
  (`search_index_build_s`), so neither figure hides the other;
- the obvious pipeline: `frictionless validate` then `sqlite-utils insert --csv` (CLIs);
- `sqlite3 .import --csv`: no validation, no types, the floor.

Each timing is the best of N runs. Then it checks correctness on an invalid copy: the
`(type, rowNumber, fieldName)` set gongkai reports must equal frictionless's.

Run as a child (`python -m gongkai.bench.load run FOLDER DB`), it loads one dataset and prints
one `BENCH-RESULT {json}` line.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import data

RESULT_PREFIX = "BENCH-RESULT "
TIME = "/usr/bin/time"
BIN = Path(sys.executable).parent  # the venv's CLIs live beside its python

Triple = tuple[str, int | None, str | None]  # (type, rowNumber, fieldName)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- measuring one child process ---------------------------------------------------------------


@dataclass
class Run:
    seconds: float  # wall time of the whole child process
    peak_mb: float  # the child's maximum resident set size
    cpu_s: float  # user + system CPU time: steadier than wall time when the machine is shared
    returncode: int
    stdout: str
    stderr: str


# Used when GNU time is absent: exec the command as our only child and report its rusage.
# RUSAGE_CHILDREN is a max over all children, so this wrapper must be fresh for every measurement.
_RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[2:])\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1], 'w').write(f'{u.ru_maxrss} {u.ru_utime} {u.ru_stime}')\n"
    "sys.exit(rc)\n"
)


def measure(cmd: list[str], *, cwd: Path | None = None) -> Run:
    """Run `cmd` in a fresh process; return its wall time and its own peak memory."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss", delete=False) as f:
        rss_file = f.name
    try:
        if os.access(TIME, os.X_OK):
            wrapped = [TIME, "-f", "%M %U %S", "-o", rss_file, *cmd]
        else:
            wrapped = [sys.executable, "-c", _RSS_WRAPPER, rss_file, *cmd]
        start = time.perf_counter()
        proc = subprocess.run(wrapped, cwd=cwd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        # GNU time may write "Command exited with non-zero status N" before the figures.
        lines = Path(rss_file).read_text().strip().splitlines()
        try:
            peak_kb, user, system = lines[-1].split()
            peak_mb, cpu_s = round(int(peak_kb) / 1024, 1), float(user) + float(system)
        except (IndexError, ValueError):
            peak_mb, cpu_s = 0.0, 0.0
    finally:
        os.unlink(rss_file)
    return Run(seconds, peak_mb, cpu_s, proc.returncode, proc.stdout, proc.stderr)


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.seconds)


def _fresh_db(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def count_rows(db: Path, table: str) -> int | None:
    if not db.exists():
        return None
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute(f'select count(*) from "{table}"').fetchone()[0]
        except sqlite3.OperationalError:
            return None


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# -- the three ways to load ----------------------------------------------------------------------


def time_sqlite3_import(folder: Path, db: Path) -> Run:
    run = measure(["sqlite3", str(_fresh_db(db)), f".import --csv {folder / data.CSV_NAME} data"])
    if run.returncode:
        raise RuntimeError(f"sqlite3 .import failed:\n{_tail(run.stderr)}")
    return run


def time_naive(folder: Path, db: Path) -> tuple[Run, Run]:
    """`frictionless validate` then `sqlite-utils insert --csv`, each measured on its own."""
    validate = measure([str(BIN / "frictionless"), "validate", str(folder / "datapackage.json")])
    if validate.returncode:
        raise RuntimeError(
            f"frictionless validate failed on the valid file:\n{_tail(validate.stdout + validate.stderr)}"
        )
    # The command as a publisher would type it. `--pk` would be fairer to gongkai (which declares
    # the key) but makes sqlite-utils ~1.5x slower, flattering the speedup; leave it out.
    insert = measure(
        [
            str(BIN / "sqlite-utils"),
            "insert",
            str(_fresh_db(db)),
            "data",
            str(folder / data.CSV_NAME),
            "--csv",
            "--silent",
        ]
    )
    if insert.returncode:
        raise RuntimeError(f"sqlite-utils insert failed:\n{_tail(insert.stderr)}")
    return validate, insert


def run_gongkai(folder: Path, db: Path) -> tuple[Run, dict]:
    """Load `folder` with gongkai in a fresh child; return the run and the child's report."""
    run = measure([sys.executable, "-m", "gongkai.bench.load", "run", str(folder), str(_fresh_db(db))])
    for line in reversed(run.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return run, json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError(f"gongkai load failed (exit {run.returncode}):\n{_tail(run.stderr)}")


# -- correctness: the same errors as frictionless -------------------------------------------------


def frictionless_errors(folder: Path) -> list[Triple]:
    """The errors the `frictionless validate --json` CLI reports for a package folder."""
    proc = subprocess.run(
        [str(BIN / "frictionless"), "validate", "--json", str(folder / "datapackage.json")],
        capture_output=True,
        text=True,
    )
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise RuntimeError(f"frictionless validate --json gave no report:\n{_tail(proc.stderr)}") from None
    errors = list(report.get("errors", []))
    for task in report.get("tasks", []):
        errors.extend(task.get("errors", []))
    return [(e["type"], e.get("rowNumber"), e.get("fieldName")) for e in errors]


def _key(t: Triple) -> tuple:
    return (t[1] or 0, t[0], t[2] or "")


def compare_errors(ours: Sequence[Triple], theirs: Sequence[Triple]) -> dict:
    """Compare two error lists as sets of `(type, rowNumber, fieldName)`."""
    a, b = {tuple(t) for t in ours}, {tuple(t) for t in theirs}
    return {
        "match": a == b,
        "only_ours": sorted(a - b, key=_key),
        "only_theirs": sorted(b - a, key=_key),
    }


# -- the bench -----------------------------------------------------------------------------------


def run_load_bench(
    workdir: Path, rows: int, *, repeats: int = 3, naive_repeats: int = 1, say: Callable[[str], None] = log
) -> dict:
    """Generate the data under `workdir`, run every measurement, return the figures."""
    workdir = Path(workdir)
    out: dict = {"rows": rows, "repeats": repeats, "naive_repeats": naive_repeats, "notes": []}
    # The headline figures are always present; None means "not measured in this run" (see notes).
    out |= dict.fromkeys(
        ["gongkai_s", "gongkai_peak_mb", "speedup_vs_naive", "ratio_vs_sqlite3_import", "errors_match_frictionless"]
    )

    say(f"generating {rows:,} rows under {workdir}")
    start = time.perf_counter()
    valid = data.write_dataset(workdir / "valid", rows)
    invalid = workdir / "invalid"
    expected = data.write_invalid_copy(valid, invalid)
    out["generate_s"] = round(time.perf_counter() - start, 3)
    out["csv_mb"] = round((valid / data.CSV_NAME).stat().st_size / 2**20, 1)
    out["columns"] = len(data.FIELDS)
    dbs = workdir / "db"

    # The two are measured in turns (sqlite3, gongkai, sqlite3, ...) so that both see the same
    # moments of a shared machine; each figure is the best of its runs.
    say(f"sqlite3 .import and gongkai read_dataset + load_dataset, in turns, x{repeats}")
    gongkai_db = dbs / "gongkai.db"
    runs: list[Run] = []
    results: list[tuple[Run, dict]] | None = []
    for _ in range(repeats):
        runs.append(time_sqlite3_import(valid, dbs / "sqlite3.db"))
        if results is None:
            continue
        try:
            results.append(run_gongkai(valid, gongkai_db))
        except RuntimeError as exc:
            results = None
            out["notes"].append(f"gongkai load failed: {exc}")
            say(f"  gongkai load failed: {exc}")
    results = results or []
    out["sqlite3_import_s"] = round(best(runs).seconds, 3)
    out["sqlite3_peak_mb"] = max(r.peak_mb for r in runs)
    out["sqlite3_import_cpu_s"] = round(min(r.cpu_s for r in runs), 3)
    out["sqlite3_rows_loaded"] = count_rows(dbs / "sqlite3.db", "data")
    say(f"  sqlite3 .import: {out['sqlite3_import_s']} s, {out['sqlite3_peak_mb']} MB")
    if results and "missing" in results[0][1]:
        out["notes"].append(f"gongkai API not available yet: {results[0][1]['missing']}")
        say(f"  skipped: {results[0][1]['missing']}")
        results = []
    if results:
        reports = [r for _, r in results]
        out["gongkai_s"] = round(min(r["seconds"] for r in reports), 3)
        out["gongkai_process_s"] = round(min(run.seconds for run, _ in results), 3)
        out["gongkai_import_s"] = round(min(r["import_seconds"] for r in reports), 3)
        out["gongkai_peak_mb"] = max(run.peak_mb for run, _ in results)
        out["gongkai_process_cpu_s"] = round(min(run.cpu_s for run, _ in results), 3)
        out["gongkai_valid"] = reports[-1]["valid"]
        out["gongkai_rows_loaded"] = reports[-1]["rows_loaded"]
        out["bench_db"] = str(gongkai_db)
        out["bench_table"] = data.RESOURCE
        if not reports[-1]["valid"]:
            out["notes"].append(f"gongkai reported the valid file invalid: {reports[-1]['errors'][:10]}")
        say(
            f"  gongkai: {out['gongkai_s']} s in process ({out['gongkai_process_s']} s whole process), {out['gongkai_peak_mb']} MB"
        )

    say(f"naive pipeline (frictionless validate, then sqlite-utils insert --csv) x{naive_repeats}")
    pairs = [time_naive(valid, dbs / "naive.db") for _ in range(naive_repeats)]
    validate, insert = min(pairs, key=lambda p: p[0].seconds + p[1].seconds)
    out["frictionless_validate_s"] = round(validate.seconds, 3)
    out["sqlite_utils_insert_s"] = round(insert.seconds, 3)
    out["naive_s"] = round(validate.seconds + insert.seconds, 3)
    out["naive_cpu_s"] = round(validate.cpu_s + insert.cpu_s, 3)
    # The two steps run one after the other, so the pipeline's peak is the larger of the two.
    out["frictionless_peak_mb"] = max(p[0].peak_mb for p in pairs)
    out["sqlite_utils_peak_mb"] = max(p[1].peak_mb for p in pairs)
    out["naive_peak_mb"] = max(out["frictionless_peak_mb"], out["sqlite_utils_peak_mb"])
    out["naive_rows_loaded"] = count_rows(dbs / "naive.db", "data")
    say(
        f"  naive: {out['naive_s']} s (validate {out['frictionless_validate_s']} s + insert {out['sqlite_utils_insert_s']} s), {out['naive_peak_mb']} MB"
    )

    say("errors on the invalid copy: frictionless vs the injected ones" + (" vs gongkai" if results else ""))
    theirs = frictionless_errors(invalid)
    expected_cmp = compare_errors(expected, theirs)
    out["expected_error_count"] = len(expected)
    out["frictionless_error_count"] = len(theirs)
    out["frictionless_errors_match_expected"] = expected_cmp["match"]
    if not expected_cmp["match"]:
        out["notes"].append(f"frictionless did not report exactly the injected errors: {expected_cmp}")
    if results:
        _, report = run_gongkai(invalid, dbs / "gongkai-invalid.db")
        ours = [tuple(t) for t in report["errors"]]
        cmp = compare_errors(ours, theirs)
        out["gongkai_error_count"] = len(ours)
        out["errors_match_frictionless"] = cmp["match"]
        if not cmp["match"]:
            out["errors_diff"] = {"only_gongkai": cmp["only_ours"][:50], "only_frictionless": cmp["only_theirs"][:50]}
    say(
        f"  errors: expected {len(expected)}, frictionless {len(theirs)}, gongkai {out.get('gongkai_error_count')}, match: {out['errors_match_frictionless']}"
    )

    if out["gongkai_s"]:
        out["speedup_vs_naive"] = _ratio(out["naive_s"], out["gongkai_s"])
        out["ratio_vs_sqlite3_import"] = _ratio(out["gongkai_s"], out["sqlite3_import_s"])
        # each turn's own ratio: how much the headline depends on the machine's moments
        out["ratio_vs_sqlite3_import_turns"] = [_ratio(r["seconds"], run.seconds) for (_, r), run in zip(results, runs)]
        # The same ratios in CPU time of whole processes: on a shared machine the wall times
        # of runs minutes apart see different contention; CPU time mostly does not.
        out["speedup_vs_naive_cpu"] = _ratio(out["naive_cpu_s"], out["gongkai_process_cpu_s"])
        out["ratio_vs_sqlite3_import_cpu"] = _ratio(out["gongkai_process_cpu_s"], out["sqlite3_import_cpu_s"])
    if results:
        personal_data_guard(valid, dbs, repeats, out, say)
    out["targets"] = targets(out)
    return out


def personal_data_guard(folder: Path, dbs: Path, repeats: int, out: dict, say: Callable[[str], None]) -> None:
    """The personal-data guard's share of validate + load (gongkai.bench.personal_data)."""
    from .personal_data import guard_overhead

    say(f"personal-data guard: validate + load with and without it, in turns, x{repeats}")
    try:
        out |= guard_overhead(folder, dbs, repeats)
    except RuntimeError as exc:
        out["notes"].append(f"personal-data guard bench failed: {exc}")
        return
    say(
        f"  guard: {out['personal_data_guard_cpu_s']} s CPU with, {out['personal_data_unguarded_cpu_s']} s without: +{out['personal_data_guard_overhead']:.1%}"
    )


def _ratio(a: float, b: float) -> float | None:
    # CPU times have 10 ms resolution: a tiny run can measure 0.
    return round(a / b, 2) if b else None


TARGETS = {
    # name: (target, "min" if the value must be at least the target, "max" if at most)
    "speedup_vs_naive": (15, "min"),
    "ratio_vs_sqlite3_import": (2.0, "max"),
    # what the personal-data guard adds to validate + load (issue #11)
    "personal_data_guard_overhead": (0.25, "max"),
}


def targets(figures: dict) -> dict:
    out = {}
    for name, (target, kind) in TARGETS.items():
        value = figures.get(name)
        met = None if value is None else (value >= target if kind == "min" else value <= target)
        out[name] = {"target": target, "kind": kind, "value": value, "met": met}
    return out


# -- the child -----------------------------------------------------------------------------------


def _child_run(folder: Path, db: Path) -> dict:
    start = time.perf_counter()
    try:
        from gongkai.build import load_dataset
        from gongkai.descriptors import read_dataset
    except ImportError as exc:
        return {"missing": f"{type(exc).__name__}: {exc}"}
    imported = time.perf_counter()
    dataset = read_dataset(folder)
    result = load_dataset(dataset, db, search=False)  # the search bench times the index
    done = time.perf_counter()
    errors = list(result.errors) + [e for task in result.tasks for e in task.errors]
    return {
        "seconds": done - imported,
        "import_seconds": imported - start,
        "valid": result.valid,
        "rows_loaded": count_rows(db, data.RESOURCE),
        "errors": [[e.type, e.row_number, e.field_name] for e in errors],
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "run":
        print("usage: python -m gongkai.bench.load run FOLDER DB", file=sys.stderr)
        return 2
    report = _child_run(Path(argv[1]), Path(argv[2]))
    print(RESULT_PREFIX + json.dumps(report, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
