"""What the release's catalogue files cost at 1,000 and 10,000 datasets (gongkai/catalogue_files.py).

`python -m gongkai.bench.catalogue_files [--datasets 1000 10000] [--out build/bench-catalogue-files.json]`

A generated portal of a few datasets is built once; its catalogue is then grown to N datasets
(each row of `datasets`, `resources` and `fields` copied under new names, each copy's
manifest and database linked beside it, so the writer reads as many manifests as a real
portal's build and the server streams as it would).
Per N, in a fresh process: seconds (wall and CPU) and peak RSS of writing every catalogue file
(catalog.csv/.excel.csv/.json/.xlsx, data.json, data-v3.json); then `/data.json` answered from
the file and streamed from the catalogue, in the same run (and checked to be the same bytes);
and what a no-op rebuild does with them (check the key, link seven files).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = 5  # datasets really built; the catalogue is grown from their rows


def _grow(release: Path, n: int) -> None:
    """Copy catalog.db's per-dataset rows until it holds `n` datasets."""
    conn = sqlite3.connect(release / "catalog.db")
    seeds = [r[0] for r in conn.execute("select name from datasets order by name")]
    tables = {"datasets": "name", "resources": "dataset", "fields": "dataset", "charts": "dataset"}
    columns = {t: [r[1] for r in conn.execute(f"pragma table_info([{t}])")] for t in tables}
    conn.execute("BEGIN")
    for i in range(n - len(seeds)):
        seed = seeds[i % len(seeds)]
        new = f"{seed}-copy{i:05d}"
        for table, key in tables.items():
            cols = columns[table]
            select = ", ".join("?" if c == key else f"[{c}]" for c in cols)
            conn.execute(
                f"insert into [{table}] ({', '.join(f'[{c}]' for c in cols)}) "
                f"select {select} from [{table}] where [{key}] = ?",
                [new, seed],
            )
            if table == "datasets":
                conn.execute("update datasets set ckan_id = ? where name = ?", [f"copy-{i}", new])
        seed_link = release / "datasets" / seed
        if seed_link.is_symlink():  # the build's layout: the copy refers to the seed's object
            os.symlink(os.readlink(seed_link), release / "datasets" / new)
        elif seed_link.is_dir():  # the build's layout copied (the object in place): refer to it
            os.symlink(seed, release / "datasets" / new)
        else:
            folder = release / "downloads" / new
            folder.mkdir(parents=True)
            os.link(release / "downloads" / seed / "files.json", folder / "files.json")
            os.link(release / f"{seed}.db", release / f"{new}.db")  # served, as every open dataset is
    conn.execute("COMMIT")
    conn.close()


def _high_water_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def _keys(release: Path, changed: str | None = None) -> dict[str, str]:
    """A key per dataset (the build's are digests): the same for all, another for `changed`."""
    conn = sqlite3.connect(release / "catalog.db")
    names = [n for (n,) in conn.execute("select name from datasets")]
    conn.close()
    return {n: "changed" if n == changed else "kept" for n in names}


def _one_changed(release: Path, following: Path) -> float:
    """Seconds of writing the files of the next release where one dataset's key moved: its
    fragments rendered, every other one's copied from `release`."""
    from gongkai import catalogue_files, release_files

    following.mkdir()
    os.link(release / "catalog.db", following / "catalog.db")
    for layout in (release_files.BUCKETS, release_files.DATASETS):  # the datasets' entries, either layout
        if (release / layout).is_dir():
            os.symlink(release.resolve() / layout, following / layout)
    keys = _keys(release)
    keys = _keys(release, sorted(keys)[len(keys) // 2])
    t0 = time.perf_counter()
    catalogue_files.write(following, release, False, keys)
    seconds = time.perf_counter() - t0
    shutil.rmtree(following)
    return round(seconds, 4)


def _child(release: str) -> None:
    """Run in a fresh process: write every catalogue file, print seconds and RSS growth."""
    from gongkai import catalogue_files

    hwm_before = _high_water_mb()
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    files = catalogue_files.write(Path(release), None, False, _keys(Path(release)))  # what the build calls
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    sizes = {f: (Path(release) / f).stat().st_size for f in files}
    # the process's peak RSS (VmHWM: ru_maxrss would carry the parent's over the fork) before
    # writing (imports done) and after: the growth is what writing 1,000 or 10,000 datasets held
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_s": cpu,
                "rss_before_mb": hwm_before,
                "peak_rss_mb": _high_water_mb(),
                "bytes": sizes,
            }
        )
    )


async def _serve(release: Path, copy: Path) -> dict:
    from gongkai.serve import make_datasette

    out = {}
    bodies = {}
    for label, folder in (("file", release), ("stream", copy)):
        ds = make_datasette(folder, root=REPO_ROOT)
        await ds.invoke_startup()
        await ds.client.get("/data.json", headers={"accept-encoding": "identity"})  # warm
        best = None
        for _ in range(3):
            t0 = time.perf_counter()
            r = await ds.client.get("/data.json", headers={"accept-encoding": "identity"})
            took = time.perf_counter() - t0
            best = took if best is None else min(best, took)
        bodies[label] = r.content
        out[f"data_json_{label}_s"] = round(best or 0, 4)
    out["same_bytes"] = bodies["file"] == bodies["stream"]
    out["stream_over_file"] = round(out["data_json_stream_s"] / max(out["data_json_file_s"], 1e-9), 1)
    return out


def _relink(release: Path, following: Path) -> float:
    """Seconds of what a no-op rebuild does with the catalogue files: check and link them."""
    from gongkai import catalogue_files

    following.mkdir()
    os.link(release / "catalog.db", following / "catalog.db")
    t0 = time.perf_counter()
    catalogue_files.write(following, release, catalogue_unchanged=True)
    seconds = time.perf_counter() - t0
    record = catalogue_files.read_record(following)
    assert all((following / f).stat().st_ino == (release / f).stat().st_ino for f in record["files"])
    shutil.rmtree(following)
    return round(seconds, 4)


def run(sizes: list[int], serve: bool = True) -> dict:
    from gongkai import catalogue_files
    from gongkai.bench.portal import write_portal
    from gongkai.build import build_site

    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="gongkai-catfiles-") as tmp:
        root = write_portal(Path(tmp) / "repo", SEED, rows=5, project=REPO_ROOT)
        assert build_site(root, Path(tmp) / "build").ok
        built = (Path(tmp) / "build" / "site").resolve()
        for n in sizes:
            release = Path(tmp) / f"n{n}"
            shutil.copytree(built, release, ignore=shutil.ignore_patterns(".serving.lock"))
            _grow(release, n)
            child = subprocess.run(
                [sys.executable, "-c", f"from gongkai.bench.catalogue_files import _child; _child({str(release)!r})"],
                capture_output=True,
                text=True,
                check=True,
                cwd=REPO_ROOT,
            )
            written = json.loads(child.stdout.strip().splitlines()[-1])
            served: dict = {}
            copy = Path(tmp) / f"n{n}-stream"
            if serve:
                shutil.copytree(release, copy)
                (copy / catalogue_files.RECORD).unlink()
                served = asyncio.run(_serve(release, copy))
                shutil.rmtree(copy)
            relinked = _relink(release, Path(tmp) / f"n{n}-next")
            one = _one_changed(release, Path(tmp) / f"n{n}-one")
            figures[str(n)] = {
                "write_s": round(written["seconds"], 2),
                "write_cpu_s": round(written["cpu_s"], 2),
                "rss_before_write_mb": round(written["rss_before_mb"], 1),
                "peak_rss_mb": round(written["peak_rss_mb"], 1),
                "write_growth_mb": round(written["peak_rss_mb"] - written["rss_before_mb"], 1),
                "bytes": written["bytes"],
                **served,
                "noop_link_s": relinked,
                "one_changed_s": one,
            }
            shutil.rmtree(release)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--no-serve", action="store_true", help="only write (and relink) the files")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "bench-catalogue-files.json")
    args = parser.parse_args()
    figures = run(args.datasets, serve=not args.no_serve)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
