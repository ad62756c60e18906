"""`python -m gongkai.bench [--out build/bench.json] [--rows 500000] [--quick]`: run the benches.

Each bench is a function `(Context) -> dict` registered in `BENCHES`; their dicts are merged
into one JSON document, which is itself merged into the existing `--out` file (a bench that
did not run this time keeps its earlier figures). Progress goes to stderr.

To add a bench (search, say): write `def bench_search(ctx) -> dict` returning flat figures
(plus optional `notes: [...]` and `targets: {name: {target, value, met}}`), and add it to
`BENCHES`.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .load import log, run_load_bench

REPO_ROOT = Path(__file__).resolve().parents[2]
FULL_ROWS = 500_000
QUICK_ROWS = 50_000


@dataclass
class Context:
    root: Path  # the repository: datasets/, templates/, plugins/
    workdir: Path  # generated data and databases
    rows: int
    repeats: int  # best of N for gongkai and sqlite3
    naive_repeats: int  # best of N for the slow frictionless + sqlite-utils pipeline
    quick: bool
    figures: dict = field(default_factory=dict)  # what the benches so far returned, for later ones


def bench_load(ctx: Context) -> dict:
    return run_load_bench(ctx.workdir, ctx.rows, repeats=ctx.repeats, naive_repeats=ctx.naive_repeats)


def bench_serving(ctx: Context) -> dict:
    try:
        from .serve import run_serving_bench
    except ImportError as exc:
        return {"skipped": f"gongkai.bench.serve not available: {exc}"}
    db = ctx.figures.get("bench_db")
    notes = []
    if db:
        table: str = ctx.figures["bench_table"]  # set with bench_db (bench/load.py)
    else:
        # Without gongkai's database, serve the typed one sqlite-utils built from the same CSV.
        db, table = str(ctx.workdir / "db" / "naive.db"), "data"
        notes.append("served the sqlite-utils database: gongkai's load did not run")
    if not Path(db).exists():
        return {"skipped": f"no database to serve ({db})"}
    params = inspect.signature(run_serving_bench).parameters
    options: dict = {"progress": lambda message: log(f"    {message}")} if "progress" in params else {}
    if ctx.quick and "seconds" in params:
        options["seconds"] = 3
    figures = dict(run_serving_bench(Path(db), table, root=ctx.root, **options))
    figures["serving_db"] = db
    figures["notes"] = list(figures.get("notes", [])) + notes
    return figures


def bench_build(ctx: Context) -> dict:
    try:
        from gongkai.build import build_site
    except ImportError as exc:
        return {"skipped": f"gongkai.build.build_site not available: {exc}"}
    datasets = ctx.root / "datasets"
    count = sum(1 for d in datasets.iterdir() if d.is_dir()) if datasets.is_dir() else 0
    # typed as any keyword of build_site: mypy would match the lambda against each of them
    options: dict[str, Any] = (
        {"progress": lambda message: log(f"    {message}")}
        if "progress" in inspect.signature(build_site).parameters
        else {}
    )
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="build-", dir=ctx.workdir))
    try:
        out = tmp / "site"
        log(f"full build of {count} dataset folder(s) in {ctx.root}")
        start = time.perf_counter()
        build_site(ctx.root, out, **options)
        full = time.perf_counter() - start
        log(f"  full build: {full:.2f} s; rebuilding with nothing changed")
        start = time.perf_counter()
        build_site(ctx.root, out, **options)
        noop = time.perf_counter() - start
        log(f"  no-op rebuild: {noop:.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"full_build_s": round(full, 3), "noop_rebuild_s": round(noop, 3), "build_datasets": count}


def bench_search(ctx: Context) -> dict:
    from .search import bench_search as run_search_bench

    return run_search_bench(ctx)


def bench_rows(ctx: Context) -> dict:
    from .rows import run_rows_bench

    return run_rows_bench(ctx.workdir, ctx.root, quick=ctx.quick, repeats=ctx.repeats)


def bench_scale_serve(ctx: Context) -> dict:
    from .scale_serve import run_scale_serve

    return run_scale_serve(ctx.workdir, ctx.root, quick=ctx.quick)


def bench_ckan(ctx: Context) -> dict:
    from .ckan import figures

    return figures()


def bench_scale_search(ctx: Context) -> dict:
    from .scale_search import bench_scale_search as run_scale_search

    return run_scale_search(ctx)


def bench_xlsx(ctx: Context) -> dict:
    from .xlsx import QUICK_ROWS as XLSX_QUICK_ROWS, ROWS as XLSX_ROWS, run_xlsx_bench

    # the size (200k rows), not --rows: that one sizes the CSV table
    return run_xlsx_bench(ctx.workdir, XLSX_QUICK_ROWS if ctx.quick else XLSX_ROWS)


def bench_scale(ctx: Context) -> dict:
    from .scale import run_scale

    return run_scale(ctx)


def bench_scale_build(ctx: Context) -> dict:
    from .scale_build import bench_scale_build as run_scale_build_bench

    return run_scale_build_bench(ctx)


def bench_exports(ctx: Context) -> dict:
    from .exports import LARGE_ROWS, QUICK_LARGE_ROWS, run_exports_bench

    # one turn of the XLSX pair (pandas + openpyxl takes minutes at 500k) and of the whole build
    # (the rows bench times it in turns)
    large = QUICK_LARGE_ROWS if ctx.quick else LARGE_ROWS
    return run_exports_bench(
        ctx.workdir, ctx.root, rows=ctx.rows, large_rows=large, repeats=ctx.repeats, xlsx_repeats=1, build_repeats=1
    )


# Order matters: serving and search use the database the load bench built. Add later benches here.
BENCHES: dict[str, Callable[[Context], dict]] = {
    "load": bench_load,
    "serving": bench_serving,
    "build": bench_build,
    "search": bench_search,
    "rows": bench_rows,
    "scale_serve": bench_scale_serve,
    "ckan": bench_ckan,
    "scale_search": bench_scale_search,
    "xlsx": bench_xlsx,
    "scale_build": bench_scale_build,
    "scale": bench_scale,
    "exports": bench_exports,
}
# `scale` runs rows, scale_build, scale_serve and scale_search itself over one shared set of
# builds; those stay in BENCHES to be run on their own (`--bench rows`) but not by default.
DEFAULT_BENCHES = [n for n in BENCHES if n not in ("rows", "scale_build", "scale_serve", "scale_search")]


def machine() -> dict:
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    from importlib.metadata import PackageNotFoundError, version

    def v(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "frictionless": v("frictionless"),
        "sqlite_utils": v("sqlite-utils"),
        "loadavg_at_start": [round(x, 2) for x in load] if load else None,
    }


def merge(old: dict, new: dict) -> dict:
    """`new` over `old`; dict values (notes, targets, benches, ...) are merged one level deep.

    A bench that ran again owns its figures: what it wrote last time is dropped first, so a
    figure it no longer produces cannot survive from an older run beside the new ones.
    """
    out = dict(old)
    for name in new.get("benches", {}):
        for key in (old.get("benches", {}).get(name) or {}).get("keys", []):
            out.pop(key, None)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def run(ctx: Context, names: list[str]) -> tuple[dict, bool]:
    """Run the named benches; return the merged figures and whether every bench ran cleanly."""
    doc: dict = {}
    notes: dict = {}
    targets: dict = {}
    benches: dict = {}
    info = machine()
    ok = True
    for name in names:
        log(f"== {name} ==")
        start = time.perf_counter()
        try:
            figures = dict(BENCHES[name](ctx))
            status = "skipped" if "skipped" in figures else "ok"
        except Exception as exc:  # one broken bench must not lose the others' figures
            traceback.print_exc()
            figures, status, ok = {"notes": [f"{type(exc).__name__}: {exc}"]}, "failed", False
        bench_notes = list(figures.pop("notes", []))
        if "skipped" in figures:
            bench_notes.append(figures.pop("skipped"))
            log(f"  skipped: {bench_notes[-1]}")
        notes[name] = bench_notes
        targets.update(figures.pop("targets", {}))
        benches[name] = {
            "status": status,
            "seconds": round(time.perf_counter() - start, 1),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "keys": sorted(figures),
        }
        ctx.figures.update(figures)
        doc.update(figures)
    # Figures first, then what they mean and where they were measured.
    doc.update(targets=targets, quick=ctx.quick, machine=info, notes=notes, benches=benches)
    return doc, ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gongkai.bench", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("build/bench.json"))
    p.add_argument(
        "--rows", type=int, default=None, help=f"data rows (default {FULL_ROWS:,}; {QUICK_ROWS:,} with --quick)"
    )
    p.add_argument("--quick", action="store_true", help="one run of each timing and fewer rows")
    p.add_argument("--bench", action="append", choices=list(BENCHES), help="run only this bench (repeatable)")
    p.add_argument(
        "--workdir", type=Path, default=None, help="where data and databases go (default: build/bench beside --out)"
    )
    p.add_argument("--root", type=Path, default=REPO_ROOT, help="the repository whose site is built and served")
    args = p.parse_args(argv)

    rows = args.rows or (QUICK_ROWS if args.quick else FULL_ROWS)
    ctx = Context(
        root=args.root.resolve(),
        workdir=(args.workdir or args.out.parent / "bench").resolve(),
        rows=rows,
        repeats=1 if args.quick else 3,
        naive_repeats=1,
        quick=args.quick,
    )
    doc, ok = run(ctx, args.bench or DEFAULT_BENCHES)

    old = {}
    if args.out.exists():
        try:
            old = json.loads(args.out.read_text(encoding="utf-8"))
        except ValueError:
            log(f"{args.out} was not JSON; replacing it")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(merge(old, doc), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {args.out}")
    for name, t in doc["targets"].items():
        log(
            f"  target {name}: {t.get('value')} (target {t.get('target')}) -> {'met' if t.get('met') else 'NOT met' if t.get('met') is False else 'n/a'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
