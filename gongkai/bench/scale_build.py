"""`scale_build`: the build of a portal of N generated datasets, at N = 50, 1,000 and 10,000.

For each N, in one run: a full build, a rebuild with nothing changed, and a rebuild after one
dataset's data changed (`gongkai.bench.portal.touch_dataset`, undone afterwards), each in its own
`python` process so its peak memory (`ru_maxrss`) is its own. The generated portal is committed to
a git repository first, as a real portal's datasets are, so the rebuilds take git's dates the way
they do in production. Portals are generated once under the work directory and reused.

Times are `build_site`'s own (the interpreter's start and imports are reported apart, as
`*_process_s`). The machine is shared: the load average before each build is reported beside it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import portal
from .load import log

SIZES = (50, 1_000, 10_000)
QUICK_SIZES = (20, 100, 300)
ROWS = portal.ROWS
NOOP_TARGET_S = 2.0
ONE_CHANGE_TARGET_S = 3.0
MEMORY_RATIO_TARGET = 1.5  # peak RSS of the largest full build over the smallest's: "flat in N"

_CHILD = """
import json, os, resource, sys, time
t0 = time.perf_counter()
from gongkai.build import build_site
def served():
    try:
        return os.readlink(os.path.join(sys.argv[2], "site"))
    except OSError:
        return None
before = served()
t1 = time.perf_counter()
result = build_site(sys.argv[1], sys.argv[2])
t2 = time.perf_counter()
print(json.dumps({
    "ok": result.ok,
    # a no-op rebuild keeps the served release (build._keep_release) instead of making one
    "release_kept": before is not None and served() == before,
    "seconds": t2 - t1,
    "import_s": t1 - t0,
    "datasets": len(result.datasets),
    "reused": len(result.reused),
    "rows": sum(t.get("rows", 0) for b in result.datasets for t in b.tables.values()),
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    # CPU seconds of the whole process (its children's too): on a shared machine the wall
    # time follows the other load, this much less
    "cpu_s": sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for f in ("ru_utime", "ru_stime")),
}))
"""


def _git(root: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.org",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.org",
    }
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env)


def ensure_portal(workdir: Path, n: int, rows: int) -> Path:
    """The generated portal of `n` datasets under workdir, committed to git (made once)."""
    root = workdir / f"portal-{n}-{rows}"
    marker = root / ".generated"
    stamp = f"{portal.GENERATOR_VERSION} {n} {rows}"
    if marker.is_file() and marker.read_text() == stamp:
        return root
    shutil.rmtree(root, ignore_errors=True)
    log(f"  generating {n} datasets of {rows} rows in {root}")
    portal.write_portal(root, n, rows=rows)
    (root / ".gitignore").write_text(".generated\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", f"{n} generated datasets")
    marker.write_text(stamp)
    return root


def _discard(folder: Path) -> None:
    """Delete a finished build folder (tens of thousands of files at 10,000) without waiting."""
    trash = folder.with_name(f".trash-{folder.name}")
    os.replace(folder, trash)
    subprocess.Popen(
        ["rm", "-rf", str(trash)], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _sync() -> float:
    """Write the previous build's dirty pages out before the next build is timed; the seconds
    it took. A full build at 10,000 datasets leaves ~3 GB of its files in the page cache for
    the kernel to write back from 30 s later (`vm.dirty_expire_centisecs`), while the next
    build runs: so that writeback is not charged to the next build, and is reported apart
    (`*_then_sync_s`)."""
    start = time.perf_counter()
    os.sync()
    return round(time.perf_counter() - start, 2)


def run_build(root: Path, out: Path, repo: Path) -> dict:
    """One `build_site` in its own process: its figures (seconds, peak MB, reused, ...)."""
    load = _loadavg()
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root), str(out)],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"build of {root} failed: {proc.stderr[-2000:]}")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    if not figures["ok"]:
        raise RuntimeError(f"build of {root} reported invalid datasets")
    return {**figures, "process_s": wall, "loadavg": load}


def run_scale_build(
    workdir: Path,
    sizes: tuple[int, ...] = SIZES,
    rows: int = ROWS,
    repo: Path | None = None,
    keep: dict[int, tuple[Path, Path]] | None = None,
) -> dict:
    """Full, no-op and one-change builds at each N. With `keep`, each N's portal root and build
    folder are left in place and recorded there (`keep[n] = (root, out)`), so the serving and
    search benches of the same run measure that build instead of building it again."""
    repo = repo or Path(__file__).resolve().parents[2]
    workdir.mkdir(parents=True, exist_ok=True)
    out_figures: dict = {"scale_build_sizes": list(sizes), "scale_build_rows_per_dataset": rows}
    loads = []
    for n in sizes:
        root = ensure_portal(workdir, n, rows)
        tmp = Path(tempfile.mkdtemp(prefix=f"scale-build-{n}-", dir=workdir))
        if keep is not None:  # one build folder per N, replaced by each run
            stale = workdir / f"build-{n}"
            if stale.exists():
                _discard(stale)
            tmp = tmp.rename(stale)
        out = tmp / "out"
        changed = 1 + n // 2
        try:
            log(f"  N = {n}: full build")
            full = run_build(root, out, repo)
            full["sync_s"] = _sync()
            log(
                f"    {full['seconds']:.2f} s, {full['peak_mb']:.0f} MB (then {full['sync_s']} s to sync); no-op rebuild"
            )
            noop = run_build(root, out, repo)
            noop["sync_s"] = _sync()
            log(f"    {noop['seconds']:.2f} s ({noop['reused']}/{noop['datasets']} reused); one dataset changed")
            portal.touch_dataset(root, changed, n=n, rows=rows, salt=f"bench-{time.time_ns()}")
            try:
                one = run_build(root, out, repo)
            finally:
                portal.touch_dataset(root, changed, n=n, rows=rows, salt="")  # back to the committed bytes
            log(f"    {one['seconds']:.2f} s ({one['reused']}/{one['datasets']} reused)")
        finally:
            if keep is None:
                _discard(tmp)
            else:
                keep[n] = (root, out)
        if noop["reused"] != n or one["reused"] != n - 1:
            raise RuntimeError(f"N = {n}: reused {noop['reused']} then {one['reused']}, expected {n} then {n - 1}")
        for kind, f in (("full", full), ("noop", noop), ("one_change", one)):
            out_figures[f"scale_build_{kind}_s_{n}"] = round(f["seconds"], 3)
            out_figures[f"scale_build_{kind}_process_s_{n}"] = round(f["process_s"], 3)
            out_figures[f"scale_build_{kind}_peak_mb_{n}"] = round(f["peak_mb"], 1)
            out_figures[f"scale_build_{kind}_cpu_s_{n}"] = round(f["cpu_s"], 3)
            out_figures[f"scale_build_{kind}_loadavg_{n}"] = f["loadavg"]
            out_figures[f"scale_build_{kind}_release_kept_{n}"] = f.get("release_kept")
            if "sync_s" in f:  # the sync before the next build (_sync), not part of this one's time
                out_figures[f"scale_build_{kind}_then_sync_s_{n}"] = f["sync_s"]
            loads.append(f["loadavg"])
        out_figures[f"scale_build_rows_{n}"] = full["rows"]
        out_figures[f"scale_build_rows_per_s_{n}"] = round(full["rows"] / full["seconds"])
        out_figures[f"scale_build_per_dataset_ms_{n}"] = round(full["seconds"] / n * 1000, 2)
    small, large = sizes[0], sizes[-1]
    noop_s = out_figures[f"scale_build_noop_s_{large}"]
    one_s = out_figures[f"scale_build_one_change_s_{large}"]
    ratio = round(
        out_figures[f"scale_build_full_peak_mb_{large}"] / out_figures[f"scale_build_full_peak_mb_{small}"], 2
    )
    out_figures["scale_build_full_memory_ratio"] = ratio
    out_figures["scale_build_noop_ratio"] = round(noop_s / out_figures[f"scale_build_noop_s_{small}"], 2)
    out_figures["targets"] = {
        f"scale_build_noop_s_{large}": {"target": NOOP_TARGET_S, "value": noop_s, "met": noop_s <= NOOP_TARGET_S},
        f"scale_build_one_change_s_{large}": {
            "target": ONE_CHANGE_TARGET_S,
            "value": one_s,
            "met": one_s <= ONE_CHANGE_TARGET_S,
        },
        "scale_build_full_memory_ratio": {
            "target": MEMORY_RATIO_TARGET,
            "value": ratio,
            "met": ratio <= MEMORY_RATIO_TARGET,
        },
    }
    known = [x for x in loads if x is not None]
    out_figures["notes"] = [
        f"load average (1 min) before the builds: {min(known)}–{max(known)} on {os.cpu_count()} cores"
        if known
        else "load average unknown",
        "times are build_site's own; *_process_s adds the interpreter's start and imports",
    ]
    return out_figures


def bench_scale_build(ctx) -> dict:
    sizes = QUICK_SIZES if ctx.quick else SIZES
    return run_scale_build(ctx.workdir / "scale_build", sizes)
