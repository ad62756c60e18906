"""`scale`: issue #10's figures in one section of `bench.json`, from one run.

It runs, in this order and sharing their work:

1. `scale_build` at N = 50, 1,000 and 10,000 generated datasets: full build, no-op rebuild,
   rebuild after one change. The build folders are kept (`keep=`), so
2. `scale_serve` serves exactly those builds (pages, memory, open files, startup), and
3. `scale_search` searches them (recall against LIKE, in process, over HTTP), instead of each
   generating and building its own portal: the 10,000-dataset build is the longest step of
   `make bench` and is done once;
4. `rows`: one dataset of 100k, 500k and 2M rows (whole build against `sqlite3 .import`, the
   search index per row, peak memory, the no-op rebuild, the table page, facets and search).

The result is `{"scale": {"sizes", "build", "serve", "search", "rows", "summary"}}`: each part the
flat figures of its section, and `summary` the issue's table — each measure at every N side by
side with its target and whether the largest N meets it. The sections stay runnable on their own
(`--bench scale_build` and so on) for work on one of them; `make bench` runs only this one.
"""

from __future__ import annotations

from pathlib import Path

from .load import log
from .portal import ROWS as ROWS_PER_DATASET

# (label, figure key with {n}, target text, target key in the section's targets or None)
_SUMMARY: tuple[tuple[str, str, str, str | None], ...] = (
    ("full build, s", "build:scale_build_full_s_{n}", "", None),
    ("full build, rows/s", "build:scale_build_rows_per_s_{n}", "", None),
    ("full build, ms per dataset", "build:scale_build_per_dataset_ms_{n}", "", None),
    ("full build peak memory, MB", "build:scale_build_full_peak_mb_{n}", "flat in N", "scale_build_full_memory_ratio"),
    ("no-op rebuild, s", "build:scale_build_noop_s_{n}", "<= 2 s", "scale_build_noop_s_{big}"),
    ("rebuild after one change, s", "build:scale_build_one_change_s_{n}", "<= 3 s", "scale_build_one_change_s_{big}"),
    ("worker memory after load, MB", "serve:serve_rss_mb_after_load_n{n}", "<= 300", "serve_rss_mb_per_worker_n{big}"),
    (
        "open files per worker",
        "serve:serve_open_files_after_load_n{n}",
        "bounded",
        "serve_open_files_per_worker_n{big}",
    ),
    ("startup, s", "serve:serve_startup_s_n{n}", "<= 5 s", "serve_startup_s_n{big}"),
    *(
        (
            f"{page} p50 ms (1 client)",
            f"serve:serve_{page}_p50_ms_n{{n}}",
            "<= 1.5x N=50",
            f"serve_{page}_p50_n{{big}}_vs_n{{small}}",
        )
        for page in ("table", "json", "landing", "catalogue", "catalogue_filtered", "catalogue_search", "home")
    ),
    *(
        (
            f"{page} req/s (20 clients)",
            f"serve:serve_{page}_rps_n{{n}}",
            "<= 1.5x N=50",
            f"serve_{page}_rps_n{{small}}_vs_n{{big}}",
        )
        for page in ("table", "json", "landing", "catalogue", "catalogue_filtered", "catalogue_search", "home")
    ),
    (
        "catalogue search top 20, ms",
        "serve:catalogue_search_top20_p50_ms_n{n}",
        "<= 20 ms",
        "catalogue_search_p50_ms_n{big}",
    ),
    ("site search p50 ms (1 client)", "search:scale_search_n{n}_seq_p50_ms", "<= 50 ms", "scale_search_p50_ms_n{big}"),
    ("site search p99 ms (1 client)", "search:scale_search_n{n}_seq_p99_ms", "<= 200 ms", "scale_search_p99_ms_n{big}"),
    (
        "site search p99 ms (20 clients)",
        "search:scale_search_n{n}_conc_p99_ms",
        "<= 200 ms",
        "scale_search_p99_ms_20_clients_n{big}",
    ),
    ("site search recall vs LIKE", "search:scale_search_n{n}_recall", "1.0", "scale_search_recall_vs_like"),
)


# (label, key in `rows_<size>_<key>`, target text): the one-large-dataset table, a column per row count
_ROWS_SUMMARY: tuple[tuple[str, str, str], ...] = (
    ("whole build, s", "build_s", ""),
    ("sqlite3 .import, s", "sqlite3_import_s", ""),
    ("whole build / .import", "build_ratio_vs_sqlite3_import", "<= 5x"),
    ("… of which the downloads, s", "build_downloads_s", ""),
    ("whole build without the downloads / .import", "build_without_downloads_ratio_vs_sqlite3_import", "<= 5x"),
    ("search index, us per row (wall)", "search_index_us_per_row", "<= 2.5"),
    ("search index, us per row (CPU)", "search_index_cpu_us_per_row", ""),
    ("build peak memory, MB", "build_peak_mb", "flat in rows"),
    ("no-op rebuild, s", "noop_rebuild_s", "<= 1 s at 2M"),
    ("chart step, s", "chart_s", ""),
)


def rows_summary(figures: dict) -> list[dict]:
    from .rows import label

    labels = [label(n) for n in figures.get("rows_sizes", [])]
    out = []
    for name, key, target in _ROWS_SUMMARY:
        row: dict = {"measure": name, **{size: figures.get(f"rows_{size}_{key}") for size in labels}}
        if target:
            row["target"] = target
        out.append(row)
    return out


def summary(sizes: tuple[int, ...], parts: dict[str, dict], targets: dict) -> list[dict]:
    """The issue's table: one row per measure, a column per N, the target and whether it is met."""
    small, big = sizes[0], sizes[-1]
    rows = []
    for label, key, target, target_key in _SUMMARY:
        part, pattern = key.split(":", 1)
        figures = parts.get(part, {})
        row: dict = {"measure": label}
        for n in sizes:
            row[f"n{n}"] = figures.get(pattern.format(n=n, big=big, small=small))
        if target:
            row["target"] = target
        if target_key:
            met = targets.get(target_key.format(n=big, big=big, small=small), {})
            row["value"], row["met"] = met.get("value"), met.get("met")
        rows.append(row)
    return rows


PARTS = ("build", "serve", "search", "rows")
PARTS_ENV = "GONGKAI_SCALE_PARTS"  # e.g. "serve,search": the others are not run


def run_scale(ctx) -> dict:
    """Every part, or those `GONGKAI_SCALE_PARTS` names. Without `build`, serving and search
    measure the builds an earlier run kept (`<workdir>/scale/build-<n>/out`), rebuilt first
    (a no-op, or what the code since then changed). A part that fails is reported in the
    notes and the others still run: one broken part must not lose an hour of figures."""
    import os
    import traceback

    from .rows import run_rows_bench
    from .scale_build import QUICK_SIZES, SIZES, ensure_portal, run_scale_build
    from .scale_search import bench_scale_search
    from .scale_serve import run_scale_serve

    sizes = QUICK_SIZES if ctx.quick else SIZES
    wanted = [p.strip() for p in os.environ.get(PARTS_ENV, ",".join(PARTS)).split(",") if p.strip()]
    workdir = Path(ctx.workdir) / "scale"
    builds: dict[int, tuple[Path, Path]] = {}
    parts: dict[str, dict] = {}
    targets: dict = {}
    notes: list[str] = []

    def take(name: str, run) -> None:
        if name not in wanted:
            return
        log(f"  -- {name}")
        try:
            figures = dict(run())
        except Exception as exc:
            traceback.print_exc()
            notes.append(f"{name}: failed: {type(exc).__name__}: {exc}")
            return
        targets.update(figures.pop("targets", {}))
        notes.extend(f"{name}: {note}" for note in figures.pop("notes", []))
        parts[name] = figures

    take("build", lambda: run_scale_build(workdir, sizes, keep=builds))
    if "build" not in wanted:
        for n in sizes:
            out = workdir / f"build-{n}" / "out"
            if (out / "site").exists():
                builds[n] = (ensure_portal(workdir, n, ROWS_PER_DATASET), out)
        notes.append(f"build: not run; serving and search use the kept builds of N = {sorted(builds)}")
    if builds:
        take("serve", lambda: run_scale_serve(workdir, ctx.root, quick=ctx.quick, builds=builds))
        take("search", lambda: bench_scale_search(ctx, builds=builds))
    take("rows", lambda: run_rows_bench(ctx.workdir, ctx.root, quick=ctx.quick, repeats=ctx.repeats))
    met = [t.get("met") for t in targets.values()]
    return {
        "scale": {
            "sizes": list(sizes),
            **parts,
            "summary": summary(tuple(sorted(builds)) or sizes, parts, targets),
            "rows_summary": rows_summary(parts.get("rows", {})),
            "targets_met": sum(1 for m in met if m is True),
            "targets_not_met": sorted(k for k, t in targets.items() if t.get("met") is False),
        },
        "targets": targets,
        "notes": notes,
    }
