"""The `exports` bench: every download gongkai publishes, beside the obvious tool, in one run.

The bench table (`gongkai.bench.data`, 500k rows; `--quick` 50k) is built with gongkai in a
project holding only that dataset (`build_site`: validate, load, indexes, search index, every
export), timed as `dataset_build_s` in turns with `sqlite3 .import` of the same CSV (the
`rows` bench's `measure_build`). From the built database each format is then written again,
each timing in a fresh child process, gongkai and its baseline in turns (median of the turns):

| format | gongkai | baseline |
|---|---|---|
| csv, excel_csv | `exports.publish.write_export` | pandas `read_sql` + `to_csv` (`utf-8-sig`, CRLF for Excel) |
| json, ndjson | the same | `to_json(orient="records")`, `lines=True` |
| xlsx | the same (XlsxWriter) | `to_excel(engine="openpyxl")` |
| parquet | the same (pyarrow) | `to_parquet` (pyarrow) |
| dictionary | the same | a DataFrame of the same rows, `to_csv` |
| zip | `package_zip.write` (its SHA-256 included) | `zipfile` (ZIP_DEFLATED) of the same files |
| db | the release's link | `shutil.copyfile` |

`exports_<fmt>_s` is the child's own time for the export (imports excluded on both sides, the
baseline's `read_sql` included: it is how pandas gets the rows), `exports_<fmt>_peak_mb` the
child's own peak resident memory
(`VmHWM`; see `peak_mb` for why not `ru_maxrss`), `exports_<fmt>_ratio` gongkai over
baseline. Every gongkai file is read back and its rows counted against the table.

The gongkai side runs again at 2M rows (`--quick`: 100k), `exports_2m_<fmt>_…`, to show that
memory does not grow with the table, from a database made by gongkai's load alone (the whole
build at 2M is the `rows` bench's); the baselines are optional there and never openpyxl, which
takes many minutes and gigabytes at 2M (said in the notes).
"""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from gongkai import release_files

from . import data
from .load import RESULT_PREFIX, log, run_gongkai
from .rows import DATASET, label, measure_build, write_project

ROWS = 500_000
LARGE_ROWS = 2_000_000
QUICK_LARGE_ROWS = 100_000
# figure name → the export kind in gongkai.exports.publish (None: a dataset-level file)
FORMATS: dict[str, str | None] = {
    "csv": "csv",
    "excel_csv": "excel-csv",
    "json": "json",
    "ndjson": "ndjson",
    "xlsx": "xlsx",
    "parquet": "parquet",
    "dictionary": "dictionary",
    "zip": None,
    "db": None,
}
SUFFIX = {
    "csv": ".csv",
    "excel_csv": ".excel.csv",
    "json": ".json",
    "ndjson": ".ndjson",
    "xlsx": ".xlsx",
    "parquet": ".parquet",
    "dictionary": ".dictionary.csv",
    "zip": ".zip",
    "db": ".db",
}
# the targets
PEAK_MB_MAX = 300
XLSX_SPEEDUP_MIN = 3.0
RATIO_MAX = 1.0


def run_exports_bench(
    workdir: Path,
    project: Path,
    *,
    rows: int = ROWS,
    large_rows: int | None = LARGE_ROWS,
    repeats: int = 3,
    xlsx_repeats: int | None = None,
    build_repeats: int | None = None,
    large_baselines: bool = False,
    say=log,
) -> dict:
    """Every figure at `rows` (`repeats` turns; the XLSX pair and the build `xlsx_repeats` and
    `build_repeats`, default `repeats`); the gongkai side again at `large_rows` (one turn), with
    the baselines too if `large_baselines` (never openpyxl there)."""
    base = workdir / "exports"
    out: dict = {"exports_rows": rows, "notes": []}
    turns = {f: repeats for f in FORMATS} | {"xlsx": xlsx_repeats or repeats}
    out |= _size(
        base, project, rows, turns, prefix="exports_", say=say, baselines={*FORMATS}, build=build_repeats or repeats
    )
    if large_rows:
        # openpyxl at 2M rows takes many minutes (and gigabytes) and proves nothing more
        baselines = {f for f in FORMATS if f != "xlsx"} if large_baselines else set()
        prefix = f"exports_{label(large_rows)}_"
        out |= _size(base, project, large_rows, dict.fromkeys(FORMATS, 1), prefix=prefix, say=say, baselines=baselines)
        out["exports_large_rows"] = large_rows
        out["notes"].append(
            f"at {large_rows:,} rows: the gongkai side, one turn, from a database made by gongkai's "
            "load (validate + insert; the whole build at that size is the rows bench's); baselines "
            + ("there except pandas + openpyxl (many minutes)" if large_baselines else "not run there (optional)")
        )
    out["notes"].append(
        "seconds: the child's own time for the export, its imports excluded on both sides (the "
        "baseline's read_sql included); peak_mb: the child's own VmHWM (ru_maxrss would carry the "
        "forking parent's peak through exec); median of the turns, gongkai and baseline alternating "
        f"({repeats} turns, XLSX {turns['xlsx']}, build {build_repeats or repeats})"
    )
    out["targets"] = targets(out, rows, large_rows)
    return out


def _size(
    base: Path,
    project: Path,
    rows: int,
    turns: dict[str, int],
    *,
    prefix: str,
    say,
    baselines: set[str],
    build: int = 0,
) -> dict:
    """The formats at one size. `build`: turns of the whole build beside sqlite3 .import, whose
    release gives the database and downloads; 0: the database from gongkai's load alone."""
    name = label(rows)
    say(f"exports: {rows:,}-row project")
    root = write_project(base / f"project-{name}", rows, project)
    figures: dict = {}
    if build:
        build_out = base / f"out-{name}"
        built = measure_build(root, build_out, build)
        figures |= {
            "dataset_build_s": built["build_s"],
            "dataset_build_peak_mb": built["build_peak_mb"],
            "dataset_build_sqlite3_import_s": built["sqlite3_import_s"],
            "dataset_build_ratio_vs_sqlite3_import": built["build_ratio_vs_sqlite3_import"],
        }
        say(f"  build {figures['dataset_build_s']} s, sqlite3 .import {figures['dataset_build_sqlite3_import_s']} s")
        site = (build_out / "site").resolve()
        db, downloads = release_files.database(site, DATASET), release_files.downloads(site, DATASET)
    else:
        downloads = root / "datasets" / DATASET  # the descriptor and the original CSV
        db = base / f"load-{name}.db"
        run, result = run_gongkai(downloads, db)
        if not result.get("valid") or result.get("rows_loaded") != rows:
            raise RuntimeError(f"gongkai did not load the bench table whole: {json.dumps(result)[:2000]}")
        say(f"  loaded in {run.seconds:.1f} s")
    scratch = base / f"scratch-{name}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        for fmt in FORMATS:
            figures |= _format(fmt, db, downloads, scratch, rows, turns[fmt], fmt in baselines, say)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if not build:
            db.unlink(missing_ok=True)
    figures["rows_match"] = all(figures[f"{fmt}_rows_match"] for fmt in FORMATS)
    return {k if k.startswith("dataset_") else f"{prefix}{k}": v for k, v in figures.items()}


def _format(fmt: str, db: Path, downloads: Path, scratch: Path, rows: int, repeats: int, baseline: bool, say) -> dict:
    mine, theirs = [], []
    for _ in range(repeats):
        mine.append(_child("gongkai", fmt, db, downloads, scratch / f"gongkai{SUFFIX[fmt]}"))
        if baseline:
            theirs.append(_child("baseline", fmt, db, downloads, scratch / f"baseline{SUFFIX[fmt]}"))
    out: dict = {
        f"{fmt}_s": _median(r["seconds"] for r in mine),
        f"{fmt}_cpu_s": _median(r["cpu_s"] for r in mine),
        f"{fmt}_peak_mb": max(r["peak_mb"] for r in mine),
        f"{fmt}_bytes": mine[-1]["bytes"],
    }
    if theirs:
        out[f"{fmt}_baseline_s"] = _median(r["seconds"] for r in theirs)
        out[f"{fmt}_baseline_cpu_s"] = _median(r["cpu_s"] for r in theirs)
        out[f"{fmt}_baseline_peak_mb"] = max(r["peak_mb"] for r in theirs)
        out[f"{fmt}_baseline_bytes"] = theirs[-1]["bytes"]
        out[f"{fmt}_ratio"] = _ratio(out[f"{fmt}_s"], out[f"{fmt}_baseline_s"])
        out[f"{fmt}_ratio_turns"] = [_ratio(a["seconds"], b["seconds"]) for a, b in zip(mine, theirs)]
        out[f"{fmt}_ratio_cpu"] = _ratio(out[f"{fmt}_cpu_s"], out[f"{fmt}_baseline_cpu_s"])
    expected = len(data.FIELDS) if fmt == "dictionary" else rows
    counted = count_rows(fmt, scratch / f"gongkai{SUFFIX[fmt]}")
    out[f"{fmt}_rows"] = counted
    out[f"{fmt}_rows_match"] = counted == expected
    for side in ("gongkai", "baseline"):
        (scratch / f"{side}{SUFFIX[fmt]}").unlink(missing_ok=True)
    say(
        f"  {fmt}: {out[f'{fmt}_s']} s, {out[f'{fmt}_peak_mb']} MB"
        + (f" | baseline {out[f'{fmt}_baseline_s']} s, {out[f'{fmt}_baseline_peak_mb']} MB" if theirs else "")
        + f" | rows {counted}/{expected}"
    )
    return out


def _median(values) -> float:
    return round(statistics.median(list(values)), 6)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _child(side: str, fmt: str, db: Path, downloads: Path, target: Path) -> dict:
    target.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "gongkai.bench.exports", side, fmt, str(db), str(downloads), str(target)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError(f"exports bench child {side} {fmt} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


# -- reading the files back -------------------------------------------------------------------


def count_rows(fmt: str, path: Path) -> int:
    """Data rows in one exported file, read with the format's own reader."""
    if fmt in ("csv", "excel_csv", "dictionary"):
        with open(path, encoding="utf-8-sig", newline="") as f:
            return sum(1 for _ in csv.reader(f)) - 1  # the header
    if fmt == "json":
        with open(path, encoding="utf-8") as f:
            return len(json.load(f))
    if fmt == "ndjson":
        with open(path, encoding="utf-8") as f:
            return sum(1 for line in f if json.loads(line) is not None)
    if fmt == "xlsx":
        from python_calamine import CalamineWorkbook

        from gongkai.exports.xlsx_export import DICTIONARY_SHEET

        book = CalamineWorkbook.from_path(str(path))
        sheets = [n for n in book.sheet_names if n != DICTIONARY_SHEET]
        return sum(sum(1 for _ in book.get_sheet_by_name(n).iter_rows()) - 1 for n in sheets)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(str(path)).metadata.num_rows
    if fmt == "zip":
        with zipfile.ZipFile(path) as z:
            with z.open(data.CSV_NAME) as f:
                return sum(1 for _ in csv.reader(io.TextIOWrapper(f, encoding="utf-8", newline=""))) - 1
    if fmt == "db":
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(conn.execute(f"select count(*) from {data.RESOURCE}").fetchone()[0])
        finally:
            conn.close()
    raise ValueError(fmt)


# -- targets ----------------------------------------------------------------------------------


def targets(figures: dict, rows: int, large_rows: int | None) -> dict:
    ratios = {f: figures[f"exports_{f}_ratio"] for f in FORMATS if figures.get(f"exports_{f}_ratio") is not None}
    slowest = max(ratios, key=lambda f: ratios[f])
    xlsx = figures["exports_xlsx_baseline_s"] / figures["exports_xlsx_s"]
    figures["exports_xlsx_speedup_vs_pandas_openpyxl"] = round(xlsx, 2)
    figures["exports_slowest_vs_baseline"] = slowest
    out = {
        "exports_slowest_ratio_vs_baseline": {
            "target": RATIO_MAX,
            "kind": "max",
            "value": ratios[slowest],
            "met": ratios[slowest] <= RATIO_MAX,
        },
        "exports_xlsx_speedup_vs_pandas_openpyxl": {
            "target": XLSX_SPEEDUP_MIN,
            "kind": "min",
            "value": round(xlsx, 2),
            "met": xlsx >= XLSX_SPEEDUP_MIN,
        },
    }
    for size, prefix in ((rows, "exports_"), (large_rows, f"exports_{label(large_rows)}_" if large_rows else None)):
        if size is None or prefix is None:
            continue
        peak = max(figures[f"{prefix}{f}_peak_mb"] for f in FORMATS)
        out[f"exports_peak_mb_{label(size)}"] = {
            "target": PEAK_MB_MAX,
            "kind": "max",
            "value": peak,
            "met": peak < PEAK_MB_MAX,
        }
        match = bool(figures[f"{prefix}rows_match"])
        out[f"exports_round_trip_rows_{label(size)}"] = {"target": True, "kind": "eq", "value": match, "met": match}
    return out


# -- the child: one export, timed in its own process --------------------------------------------


def _dataset(downloads: Path):
    """The published dataset as plain data, from its own descriptor (the bench's schema is inline)."""
    from gongkai.model import Dataset, Resource

    descriptor = json.loads((downloads / "datapackage.json").read_text(encoding="utf-8"))
    resources = [
        Resource(
            dataset=descriptor["name"],
            name=r["name"],
            path=r["path"],
            fullpath=downloads / r["path"],
            schema=r["schema"],
            format=r.get("format", "csv"),
            encoding=r.get("encoding", "utf-8"),
            descriptor=r,
        )
        for r in descriptor["resources"]
    ]
    return Dataset(name=descriptor["name"], folder=downloads, descriptor=descriptor, resources=resources)


def _gongkai(fmt: str, db: Path, downloads: Path, target: Path) -> tuple[float, float]:
    from gongkai.exports import package_zip, rows
    from gongkai.exports.publish import sha256, write_export

    dataset = _dataset(downloads)
    res = dataset.resources[0]
    if fmt == "parquet":
        import pyarrow as pa

        # pyarrow imports pandas (when installed, as here) at its first array from a list: an
        # import, excluded like the baseline's own `import pandas`
        pa.array([0])
    start = _clock()
    if fmt == "zip":
        checksums = {}
        for r in dataset.resources:
            path = downloads / r.path
            checksums[r.path] = (path.stat().st_size, sha256(path))
        package_zip.write(dataset, downloads, checksums, target)
    elif fmt == "db":
        os.link(db, target)  # what publish does: the release's database is immutable
    else:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            kind = FORMATS[fmt]
            assert kind is not None
            write_export(kind, conn, res.name, rows.columns(conn, res.name), res.fields, target)
        finally:
            conn.close()
    return _elapsed(start)


def _baseline(fmt: str, db: Path, downloads: Path, target: Path) -> tuple[float, float]:
    import pandas as pd

    if fmt == "xlsx":
        import openpyxl  # noqa: F401  (imported before the clock, as pandas is)
    if fmt == "parquet":
        import pyarrow  # noqa: F401

    start = _clock()
    if fmt == "zip":
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for name in ("datapackage.json", data.CSV_NAME):
                z.write(downloads / name, arcname=name)
    elif fmt == "db":
        shutil.copyfile(db, target)
    elif fmt == "dictionary":
        from gongkai.exports.dictionary import HEADER, rows as dictionary_rows

        fields = _dataset(downloads).resources[0].fields
        pd.DataFrame(dictionary_rows(fields), columns=HEADER).to_csv(
            target, index=False, encoding="utf-8-sig", lineterminator="\r\n"
        )
    else:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            df = pd.read_sql_query(f"select * from {data.RESOURCE} order by rowid", conn)
        finally:
            conn.close()
        if fmt == "csv":
            df.to_csv(target, index=False)
        elif fmt == "excel_csv":
            df.to_csv(target, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        elif fmt == "json":
            df.to_json(target, orient="records", force_ascii=False)
        elif fmt == "ndjson":
            df.to_json(target, orient="records", lines=True, force_ascii=False)
        elif fmt == "xlsx":
            df.to_excel(target, index=False, engine="openpyxl")
        elif fmt == "parquet":
            df.to_parquet(target, engine="pyarrow")
        else:
            raise ValueError(fmt)
    return _elapsed(start)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _elapsed(start: tuple[float, float]) -> tuple[float, float]:
    """Wall and CPU seconds since `start` (CPU of every thread: steadier on a shared machine)."""
    return time.perf_counter() - start[0], time.process_time() - start[1]


def peak_mb() -> float:
    """This process's own peak resident memory. Linux carries the forking parent's high-water
    mark through exec into `ru_maxrss` (RUSAGE_SELF), so a child forked from a big bench parent
    would report the parent's size; the new address space's `VmHWM` is the child's alone."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # kB on Linux


def main(argv: list[str]) -> int:
    if len(argv) != 5 or argv[0] not in ("gongkai", "baseline") or argv[1] not in FORMATS:
        print(
            f"usage: python -m gongkai.bench.exports gongkai|baseline {'|'.join(FORMATS)} DB DOWNLOADS OUT",
            file=sys.stderr,
        )
        return 2
    side, fmt, db, downloads, target = argv[0], argv[1], Path(argv[2]), Path(argv[3]), Path(argv[4])
    seconds, cpu = (_gongkai if side == "gongkai" else _baseline)(fmt, db, downloads, target)
    report = {"seconds": seconds, "cpu_s": cpu, "peak_mb": peak_mb(), "bytes": target.stat().st_size}
    print(RESULT_PREFIX + json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
