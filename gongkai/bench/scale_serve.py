"""`scale_serve`: serving N generated datasets, at N = 50, 1,000 and 10,000 in one run (#10).

For each N the bench generates the portal once (`gongkai.bench.portal`, kept in the workdir and
reused by later runs), builds it (a no-op rebuild when already built), starts the real server
(`gongkai.serve.serve`: the supervisor and one uvicorn worker per core, as deployed) and drives
each page type with `CLIENTS` concurrent keep-alive clients, and once with one client
(sequential p50). Every request of a page type has another URL (another dataset, page size,
sort, catalogue page, filter or search word), drawn with a fixed seed over the whole portal, so
at N = 10,000 the requests spread over 10,000 databases and catalogue states.

Before each N the release's databases are read once (`warm_page_cache`), so every N is
measured with the OS page cache a running server has. Per N it reports each page type's requests/s and p50 (sequential and under load), each
worker's RSS and open files after start and after the load, the startup time (process start
until every worker has started; and, apart, what building the site and its startup work cost
in-process, the part that could grow with N), and the catalogue search (`Catalogue.search`, top 20, and a cold
catalogue state with `?q=`) measured in-process. The targets compare N = 10,000 (the largest
N of the run) with N = 50 (the smallest) in the same run: each page type within 1.5x in p50
and requests/s, memory per worker <= 300 MB, open files per worker bounded (no more at the
largest N than at the smallest plus a constant, far below one per dataset), startup <= 5 s,
catalogue search <= 20 ms.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx

from gongkai import release_files

from .portal import _PLACES, _THEMES, _TOPICS, COMMON_EN, COMMON_ZH, dataset_name, publishers_for, write_portal
from .serve import _child_env, drive, free_port, group_cpu_seconds

SIZES = (50, 1_000, 10_000)
QUICK_SIZES = (20, 100, 300)
CLIENTS = 20
SECONDS = 8.0
SEQ_SECONDS = 3.0
QUICK_SECONDS = 2.0
QUICK_SEQ_SECONDS = 1.0
PATHS = 20_000  # request paths per page type (each different where the portal allows)
RATIO_TARGET = 1.5
RSS_TARGET_MB = 300
STARTUP_TARGET_S = 5.0
SEARCH_TARGET_MS = 20.0
REUSE_ENV = "GONGKAI_SCALE_REUSE_BUILD"  # "1": serve an existing build-N as it is (see prepare)
OPEN_FILES_SLACK = 64  # open files a worker may hold at the largest N beyond the smallest N
PAGE_TYPES = ("table", "json", "landing", "catalogue", "catalogue_filtered", "catalogue_search", "home")
_FREQUENCIES = ("annual", "quarterly", "monthly")
_WORDS = [t[0] for t in _TOPICS] + [t[1] for t in _TOPICS] + _PLACES + COMMON_ZH + COMMON_EN


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- what to request ---------------------------------------------------------------------


def page_paths(kind: str, n: int, count: int = PATHS, seed: int = 10) -> list[str]:
    """`count` paths of one page type over a portal of `n` datasets (half of them in English)."""
    rnd = random.Random(f"{seed}-{kind}-{n}")
    pages = max(1, -(-n // 20))
    out = []
    for i in range(count):
        name = dataset_name(rnd.randint(1, n))
        lang = "_lang=en" if i % 2 else ""
        if kind == "table":
            sort = rnd.choice(["", "&_sort=amount", "&_sort_desc=date", "&_sort=" + quote("名称")])
            qs = f"_size={rnd.randint(10, 60)}{sort}"
            path = f"/{name}/records?{qs}" + (f"&{lang}" if lang else "")
        elif kind == "json":
            path = f"/{name}/records.json?_size={rnd.randint(10, 60)}&_shape=array"
        elif kind == "landing":
            path = f"/datasets/{name}" + (f"?{lang}" if lang else "")
        elif kind == "catalogue":
            sort = rnd.choice(["", "title", "size"])
            args = [("page", str(rnd.randint(1, pages)))] + ([("sort", sort)] if sort else [])
            path = "/datasets?" + "&".join(f"{k}={quote(v)}" for k, v in args)
            path += f"&{lang}" if lang else ""
        elif kind == "catalogue_filtered":
            args = [("theme", rnd.choice(_THEMES))]
            if rnd.random() < 0.5:
                args.append(("frequency", rnd.choice(_FREQUENCIES)))
            else:
                args.append(("publisher", f"gen-pub-{rnd.randrange(publishers_for(n)):04d}"))
            args.append(("page", str(rnd.randint(1, max(1, pages // 12)))))
            path = "/datasets?" + "&".join(f"{k}={quote(v)}" for k, v in args) + (f"&{lang}" if lang else "")
        elif kind == "catalogue_search":
            args = [("q", rnd.choice(_WORDS)), ("page", str(rnd.randint(1, max(1, pages // 10))))]
            path = "/datasets?" + "&".join(f"{k}={quote(v)}" for k, v in args) + (f"&{lang}" if lang else "")
        elif kind == "home":
            path = "/" + (f"?{lang}" if lang else "")
        else:
            raise KeyError(kind)
        out.append(path)
    return out


# --- the portal ----------------------------------------------------------------------------


def prepare(workdir: Path, n: int, root: Path) -> Path:
    """The portal of `n` datasets, generated once into `workdir`, built (again); its build folder."""
    from gongkai.build import build_site

    portal = workdir / f"portal-{n}"
    marker = portal / ".generated"
    if not marker.exists():
        log(f"  generating {n} datasets in {portal}")
        write_portal(portal, n, project=root)
        marker.write_text("ok")
    out = workdir / f"build-{n}"
    if os.environ.get(REUSE_ENV) == "1" and (out / "site").exists():
        # The 10,000-dataset build takes ~10 minutes on a loaded 2-core machine; a change to
        # build-side code (even the route table) rebuilds every dataset. Whoever sets this
        # says the build in `out` is what this code's build would write.
        log(f"  reusing the build in {out} ({REUSE_ENV}=1)")
        return out
    start = time.perf_counter()
    result = build_site(portal, out)
    if not result.ok:
        raise RuntimeError(f"the generated portal of {n} datasets did not build: {result.failed}")
    log(f"  built {n} datasets in {time.perf_counter() - start:.1f} s")
    return out


# --- the server's processes ----------------------------------------------------------------


def _group(pgid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            pids.append(int(stat.parent.name))
    return pids


def workers(pgid: int) -> list[int]:
    """The server's worker processes: its group but the supervisor and multiprocessing helpers."""
    out = []
    for pid in _group(pgid):
        if pid == pgid:
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" in cmd or b"semaphore_tracker" in cmd:
            continue
        out.append(pid)
    return sorted(out)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def worker_figures(pgid: int) -> dict:
    pids = workers(pgid)
    rss = [rss_mb(p) for p in pids]
    fds = [open_files(p) for p in pids]
    return {"workers": len(pids), "rss_mb_max": max(rss, default=0), "open_files_max": max(fds, default=0)}


def start_server(site: Path, root: Path, port: int, log_path: Path) -> tuple[subprocess.Popen, float]:
    code = (
        "import sys; from pathlib import Path; from gongkai.serve import serve; "
        "serve(Path(sys.argv[1]), root=Path(sys.argv[2]), port=int(sys.argv[3]), log_level='warning')"
    )
    start = time.perf_counter()
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(site), str(root), str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_child_env(),
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=30).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    else:
        raise RuntimeError(f"server did not start: {log_path.read_text()[-2000:]}")
    # The first answer came from one worker: startup ends when every worker has started (each
    # opens catalog.db in its startup hook, plugins/i18n.py).
    expected = os.cpu_count() or 1
    while time.monotonic() < deadline:
        ready = [p for p in workers(proc.pid) if _has_open(p, "catalog.db")]
        if len(ready) >= expected:
            break
        time.sleep(0.05)
    return proc, time.perf_counter() - start


def _has_open(pid: int, name: str) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}").endswith(name) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def stop_server(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)  # the group holds the supervisor and its workers, all ours
        proc.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# --- the catalogue search, in-process ------------------------------------------------------


def catalogue_search_ms(site: Path, repeats: int = 5) -> dict:
    """p50 of `Catalogue.search` (top 20, what the site search shows of datasets) over the
    bench's words, and of a cold catalogue state with `?q=` (the ranked, filtered selection and
    its facet counts, computed without the memo)."""
    from gongkai.catalogue import Catalogue, listing
    from gongkai.catalogue.store import CatalogueStore

    store = CatalogueStore(site)
    top: list[float] = []
    cold: list[float] = []
    for _ in range(repeats):
        for word in _WORDS:

            def top20(c: Catalogue, w: str = word) -> list:
                return c.search(w, limit=20)

            def state(c: Catalogue, w: str = word) -> listing.Page:
                c.memo = c.memo.cold()  # cold: no state or search kept (the facet index is)
                return c.listing(listing.Query(q=w))

            t0 = time.perf_counter()
            store.read_now(top20)
            top.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            store.read_now(state)
            cold.append((time.perf_counter() - t0) * 1000)
    return {
        "search_top20_p50_ms": round(statistics.median(top), 2),
        "search_state_cold_p50_ms": round(statistics.median(cold), 2),
    }


def inprocess_startup_s(site: Path, root: Path) -> float:
    """What one worker's start costs beyond importing Python: building the Datasette instance
    for the release and running its startup work (gongkai.asgi's lifespan), in this process."""
    import asyncio

    from gongkai.asgi import with_startup
    from gongkai.serve import make_datasette

    start = time.perf_counter()
    ds = make_datasette(site, root=root)

    async def lifespan() -> None:
        app = with_startup(ds, ds.app())
        sent: list[dict] = []
        messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

        async def receive() -> dict:
            return next(messages)

        async def send(message: dict) -> None:
            sent.append(message)

        await app({"type": "lifespan"}, receive, send)
        if sent[0]["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"startup failed: {sent}")

    asyncio.run(lifespan())
    return round(time.perf_counter() - start, 3)


# --- the bench ------------------------------------------------------------------------------


def warm_page_cache(site: Path) -> float:
    """Read every database of the release once, so the OS page cache holds them as it does on
    a server that has been up a while (it is shared by the workers). Without it, at 10,000
    datasets most requests of a run are the first to touch their database since the build:
    measured here, the first query on an uncached database takes ~30 ms of wall time (a disk
    read) against ~0.5 ms once cached, whatever the layout. Returns the seconds it took."""
    start = time.perf_counter()
    for path in release_files.database_files(site):
        with open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    return round(time.perf_counter() - start, 2)


def measure_n(n: int, out: Path, root: Path, *, seconds: float, seq_seconds: float) -> dict:
    site = out / "site"
    warm = warm_page_cache(site)
    log(f"    page cache warmed in {warm} s")
    figures: dict = {
        "page_cache_warm_s": warm,
        "datasets": n,
        **catalogue_search_ms(site),
        "startup_inprocess_s": inprocess_startup_s(site, root),
    }
    port = free_port()
    proc, startup = start_server(site, root, port, out / "serve.log")
    try:
        figures["startup_s"] = round(startup, 2)
        figures["after_start"] = worker_figures(proc.pid)
        base = f"http://127.0.0.1:{port}"
        pages = {}
        for kind in PAGE_TYPES:
            paths = page_paths(kind, n)
            drive(base, paths[-CLIENTS * 3 :], 1.0, CLIENTS)  # warm each worker's templates and caches
            seq = drive(base, paths, seq_seconds, 1)
            cpu = group_cpu_seconds(proc.pid)
            load = drive(base, paths[::-1], seconds, CLIENTS)
            cpu = group_cpu_seconds(proc.pid) - cpu
            answered = load["ok"] + load["non_200"]
            pages[kind] = {
                "p50_ms": seq["p50_ms"],
                "rps": load["rps"],
                # The server's own CPU per request under load: what the rate would be on idle
                # cores, much less moved by what else the shared machine is doing.
                "cpu_ms": round(cpu * 1000 / answered, 2) if answered else None,
                "p50_ms_loaded": load["p50_ms"],
                "p99_ms_loaded": load["p99_ms"],
                "errors": seq["non_200"] + seq["exceptions"] + load["non_200"] + load["exceptions"],
                "statuses": {**seq["statuses"], **load["statuses"]},
            }
            log(
                f"    N={n} {kind}: p50 {seq['p50_ms']} ms, {load['rps']} req/s "
                f"(p50 {load['p50_ms']} ms loaded, {pages[kind]['cpu_ms']} ms CPU per request)"
            )
        figures["pages"] = pages
        figures["after_load"] = worker_figures(proc.pid)
    finally:
        stop_server(proc)
    return figures


def _ratio(a, b):
    return round(a / b, 2) if a and b else None


def run_scale_serve(
    workdir: Path, root: Path, *, quick: bool = False, builds: dict[int, tuple[Path, Path]] | None = None
) -> dict:
    """Serve each N; `builds` ({n: (portal root, build folder)}, from `scale_build` in the same
    run) gives the sizes and their builds, otherwise each portal is generated and built here."""
    sizes = tuple(builds) if builds else QUICK_SIZES if quick else SIZES
    seconds, seq_seconds = (QUICK_SECONDS, QUICK_SEQ_SECONDS) if quick else (SECONDS, SEQ_SECONDS)
    workdir = Path(workdir) / "scale"
    workdir.mkdir(parents=True, exist_ok=True)
    by_n: dict[int, dict] = {}
    loads = []
    for n in sizes:
        log(f"  N = {n}")
        out = builds[n][1] if builds else prepare(workdir, n, root)
        loads.append(round(os.getloadavg()[0], 2))
        by_n[n] = measure_n(n, out, root, seconds=seconds, seq_seconds=seq_seconds)
    small, large = by_n[sizes[0]], by_n[sizes[-1]]
    figures: dict = {"scale_serve_sizes": list(sizes), "scale_serve_clients": CLIENTS, "scale_serve_loadavg": loads}
    targets: dict = {}
    for n, f in by_n.items():
        for kind, page in f["pages"].items():
            figures[f"serve_{kind}_p50_ms_n{n}"] = page["p50_ms"]
            figures[f"serve_{kind}_rps_n{n}"] = page["rps"]
            figures[f"serve_{kind}_p99_ms_loaded_n{n}"] = page["p99_ms_loaded"]
            figures[f"serve_{kind}_cpu_ms_n{n}"] = page["cpu_ms"]
        for when in ("after_start", "after_load"):
            figures[f"serve_rss_mb_{when}_n{n}"] = f[when]["rss_mb_max"]
            figures[f"serve_open_files_{when}_n{n}"] = f[when]["open_files_max"]
        figures[f"serve_workers_n{n}"] = f["after_start"]["workers"]
        figures[f"serve_startup_s_n{n}"] = f["startup_s"]
        figures[f"serve_startup_inprocess_s_n{n}"] = f["startup_inprocess_s"]
        figures[f"serve_page_cache_warm_s_n{n}"] = f["page_cache_warm_s"]
        figures[f"serve_statuses_n{n}"] = {k: p["statuses"] for k, p in f["pages"].items() if p["statuses"]}
        figures[f"catalogue_search_top20_p50_ms_n{n}"] = f["search_top20_p50_ms"]
        figures[f"catalogue_search_state_cold_p50_ms_n{n}"] = f["search_state_cold_p50_ms"]
        figures[f"serve_errors_n{n}"] = sum(p["errors"] for p in f["pages"].values())
    big = sizes[-1]
    for kind in PAGE_TYPES:
        lat = _ratio(large["pages"][kind]["p50_ms"], small["pages"][kind]["p50_ms"])
        rps = _ratio(small["pages"][kind]["rps"], large["pages"][kind]["rps"])
        figures[f"serve_{kind}_p50_ratio"] = lat
        figures[f"serve_{kind}_rps_ratio"] = rps
        figures[f"serve_{kind}_cpu_ratio"] = _ratio(large["pages"][kind]["cpu_ms"], small["pages"][kind]["cpu_ms"])
        targets[f"serve_{kind}_p50_n{big}_vs_n{sizes[0]}"] = {
            "target": f"<= {RATIO_TARGET}x",
            "value": lat,
            "met": lat is not None and lat <= RATIO_TARGET,
        }
        targets[f"serve_{kind}_rps_n{sizes[0]}_vs_n{big}"] = {
            "target": f"<= {RATIO_TARGET}x",
            "value": rps,
            "met": rps is not None and rps <= RATIO_TARGET,
        }
    rss = max(large["after_start"]["rss_mb_max"], large["after_load"]["rss_mb_max"])
    targets[f"serve_rss_mb_per_worker_n{big}"] = {
        "target": f"<= {RSS_TARGET_MB}",
        "value": rss,
        "met": rss <= RSS_TARGET_MB,
    }
    fds = max(large["after_start"]["open_files_max"], large["after_load"]["open_files_max"])
    fds_small = max(small["after_start"]["open_files_max"], small["after_load"]["open_files_max"])
    targets[f"serve_open_files_per_worker_n{big}"] = {
        "target": f"<= {fds_small + OPEN_FILES_SLACK} (N={sizes[0]}: {fds_small}, + {OPEN_FILES_SLACK})",
        "value": fds,
        "met": fds <= fds_small + OPEN_FILES_SLACK,
    }
    targets[f"serve_startup_s_n{big}"] = {
        "target": f"<= {STARTUP_TARGET_S}",
        "value": large["startup_s"],
        "met": large["startup_s"] <= STARTUP_TARGET_S,
    }
    search = large["search_top20_p50_ms"]
    targets[f"catalogue_search_p50_ms_n{big}"] = {
        "target": f"<= {SEARCH_TARGET_MS}",
        "value": search,
        "met": search <= SEARCH_TARGET_MS,
    }
    errors = sum(figures[f"serve_errors_n{n}"] for n in sizes)
    targets["serve_scale_errors"] = {"target": 0, "value": errors, "met": errors == 0}
    figures["targets"] = targets
    figures["notes"] = [
        f"load average (1 min) before each N: {dict(zip(sizes, loads))}; the machine is shared: compare within this run",
        "each N's databases are read once before it is measured (warm_page_cache): what a "
        "server up for a while has cached; a first query on an uncached database costs a disk read",
        "p50_ms is sequential (one client); rps and p50_ms_loaded with "
        f"{CLIENTS} clients; every request of a page type has its own URL over the whole portal",
    ]
    return figures
