"""`scale_search`: the site-wide search at N = 50, 1,000 and 10,000 generated datasets, one run.

For each N (20/100/300 with `--quick`) the generated portal (`gongkai.bench.portal`) is written
and built once under the work directory (a later run rebuilds it incrementally: unchanged
datasets are reused), then:

- recall and precision against LIKE: for a common, a rare and a multi-character query, every
  indexed table of every dataset scanned with `LIKE '%…%'` over its searchable columns (plus, for
  a Latin word, the word-boundary check the search promises) gives each dataset's true count;
  the site index's candidates (all of them, not one page) must include every dataset LIKE finds,
  and the exact counts the page shows (each candidate verified in its own index) must equal
  LIKE's, dataset by dataset;
- the ranking and one page's work in process (shards + the page's datasets' own indexes), and
  the old fan-out (one ranked query per table of every dataset, what the site did before) for
  the common word, as a ratio within this run;
- through a real server (`gongkai.serve.serve`): `/-/search?q=<common word>` (HTML) p50/p99
  sequentially and with 20 concurrent clients, the page's size, and the JSON's next pages
  followed (paging works and never repeats a dataset); `warm` with the worker's kept pages (the
  server as deployed: `plugins/search.py` keeps the last pages it computed), `cold` with
  `GONGKAI_SEARCH_RESULTS_KEPT=0`, so every request ranks, opens and renders its page (what a
  query no worker has seen costs);
- the first pages a freshly started server answers (`first_pages_ms`: four common words in
  turn, before any other search; the server is ready when `/-/health` answers), what a worker
  opens or compiles on its first searches;
- a rebuild after changing one dataset: how many shards were rewritten (one) and linked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from gongkai import release_files
from gongkai.search import normalize, read_indexes, site_index
from gongkai.search.query import search_table, search_tables
from gongkai.search.tokens import parse

from . import portal, serve as serving
from .load import log
from .serve import drive, free_port, gongkai_cmd, running

COMMON = "街道"  # in a quarter of the rows of every generated dataset
RARE = "罕见词"  # in one row of every 97th dataset
LONGER = "朝阳街道"  # a phrase of three tokens: counts from the shards are upper bounds
LATIN = "zyzzyva"
QUERIES = (COMMON, RARE, LONGER, LATIN)
SIZES = (50, 1_000, 10_000)
QUICK_SIZES = (20, 100, 300)
CLIENTS = 20
TARGET_P50_MS, TARGET_P99_MS = 50.0, 200.0
STARTUP_WAIT_S = 900.0
_WORD = re.compile(r"[^\W_\u3400-\u9fff]+")


def _portal(workdir: Path, n: int) -> tuple[Path, Path]:
    """The generated project root and its build folder for `n` datasets, written once."""
    base = workdir / "scale-portal" / f"n{n}"
    root, out = base / "root", base / "out"
    marker = base / f"generated-v{portal.GENERATOR_VERSION}"
    if not marker.exists():
        shutil.rmtree(base, ignore_errors=True)
        portal.write_portal(root, n)
        marker.write_text("")
    return root, out


def _build(root: Path, out: Path) -> float:
    from gongkai.build import build_site

    start = time.perf_counter()
    result = build_site(root, out)
    if not result.ok:
        raise RuntimeError(f"the generated portal did not build: {result.failed[:5]}")
    return time.perf_counter() - start


def like_counts(site: Path, query: str) -> dict[str, int]:
    """{dataset: rows} that LIKE finds for a one-term query over each table's searchable columns
    (for a Latin word, only where it starts a word: what the search promises for Latin)."""
    (term,) = parse(query)
    text = normalize(term.text)
    latin = bool(_WORD.fullmatch(text))
    out = {}
    for db in release_files.database_files(site):
        conn = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
        try:
            n = 0
            for table, tindex in read_indexes(conn).items():
                cols = [f'"{c}"' for c in tindex.columns]
                where = " or ".join(f"{c} like ?" for c in cols)
                rows = conn.execute(
                    f'select {", ".join(cols)} from "{table}" where {where}', [f"%{text}%"] * len(cols)
                ).fetchall()
                for row in rows:
                    cells = [normalize(str(c)) for c in row if c is not None]
                    if latin:
                        n += any(any(w.startswith(text) for w in _WORD.findall(c)) for c in cells)
                    else:
                        n += any(text in c for c in cells)
            if n:
                out[db.stem] = n
        finally:
            conn.close()
    return out


def _verified(site: Path, ranked: site_index.Ranked, query: str, conns: dict) -> dict[str, int]:
    """{dataset: exact rows} for every candidate, from its own index (what a page shows)."""
    out = {}
    for hit in ranked.datasets:
        conn = _conn(site, hit.dataset, conns)
        n = sum(r["count"] for r in search_tables(conn, [t.tindex for t in hit.tables], query, limit=0))
        if n:
            out[hit.dataset] = n
    return out


def _conn(site: Path, name: str, conns: dict) -> sqlite3.Connection:
    conn = conns.get(name)
    if conn is None:
        conn = conns[name] = sqlite3.connect(f"file:{release_files.database(site, name)}?mode=ro&immutable=1", uri=True)
    return conn


def _recall(site: Path, shards: list, conns: dict) -> dict:
    found_rows = truth_rows = wrong = missing_datasets = 0
    exact_bounds_ok = True
    per_query = {}
    for query in QUERIES:
        truth = like_counts(site, query)
        ranked = site_index.candidates(shards, query, top=10**9)
        ours = _verified(site, ranked, query, conns)
        bounds = {h.dataset: h.count for h in ranked.datasets}
        missing_datasets += len(set(truth) - set(bounds))
        exact_bounds_ok &= all(bounds.get(d, 0) >= n for d, n in truth.items())
        if ranked.exact:
            exact_bounds_ok &= bounds == truth and ranked.total == sum(truth.values())
        found_rows += sum(min(ours.get(d, 0), n) for d, n in truth.items())
        truth_rows += sum(truth.values())
        wrong += sum(abs(ours.get(d, 0) - truth.get(d, 0)) for d in set(ours) | set(truth))
        per_query[query] = {
            "like_rows": sum(truth.values()),
            "like_datasets": len(truth),
            "candidates": ranked.matched,
            "site_total": ranked.total,
            "site_total_exact": ranked.exact,
        }
    return {
        "recall": round(found_rows / truth_rows, 6) if truth_rows else 1.0,
        "count_mismatches": wrong,
        "missing_datasets": missing_datasets,
        "shard_counts_consistent": exact_bounds_ok,
        "queries": per_query,
    }


def _timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return sorted(out)


def _pct(sorted_ms: list[float], q: float) -> float:
    return round(sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * q))], 2)


def _in_process(site: Path, shards: list, conns: dict, repeats: int, n: int) -> dict:
    served = site_index.Shards(site, list(shards))  # what a server's search thread holds

    def page():  # the server's first page (plugins/search.py), without the catalogue and HTML
        site_index.search_page(served, COMMON, 0, size=10, verify_max=40, rows=3)

    page()  # warm: connections open, pages in the OS cache
    ranking = _timed(lambda: site_index.candidates(served, COMMON, top=40), repeats)
    whole = _timed(page, repeats)

    tables = [
        (name, t)
        for name in (p.stem for p in release_files.database_files(site) if p.stem.startswith("gen-"))
        for t in _tables(site, name, conns)
    ]

    def fanout():
        for name, tindex in tables:
            search_table(_conn(site, name, conns), tindex, COMMON, limit=5)

    fan = _timed(fanout, 1 if n >= 5_000 else 3)
    return {
        "ranking_p50_ms": _pct(ranking, 0.5),
        "page_p50_ms": _pct(whole, 0.5),
        "page_p99_ms": _pct(whole, 0.99),
        "fanout_ms": round(fan[0], 1),
        "fanout_over_page": round(fan[0] / max(0.001, _pct(whole, 0.5)), 1),
    }


def _tables(site: Path, name: str, conns: dict) -> list:
    return list(read_indexes(_conn(site, name, conns)).values())


def _http(site: Path, root: Path, seconds: float, progress) -> dict:
    port = free_port()
    path = "/-/search?" + urlencode({"q": COMMON})
    # every common word of the generator (each in a quarter of all rows), Chinese pages for the
    # Chinese words and English pages for the English ones: no two consecutive requests alike
    paths = [path] + [
        "/-/search?" + urlencode({"q": w, **({"_lang": "en"} if w in portal.COMMON_EN else {})})
        for w in portal.COMMON_ZH[1:] + portal.COMMON_EN
    ]
    # a server that opens every database at start needs minutes for 10,000 of them: wait (and
    # report the time) rather than fail the search figures on it
    waited, serving.STARTUP_TIMEOUT = serving.STARTUP_TIMEOUT, max(serving.STARTUP_TIMEOUT, STARTUP_WAIT_S)
    try:
        return _http_run(site, root, seconds, progress, port, path, paths)
    finally:
        serving.STARTUP_TIMEOUT = waited


def _http_run(site: Path, root: Path, seconds: float, progress, port: int, path: str, paths: list[str]) -> dict:
    warm = _http_server(site, root, seconds, progress, port, path, paths, cold=False)
    cold = _http_server(site, root, seconds, progress, free_port(), path, paths, cold=True)
    return {**warm, **cold}


def _http_server(
    site: Path, root: Path, seconds: float, progress, port: int, path: str, paths: list[str], *, cold: bool
) -> dict:
    # cold: the workers keep no pages (every request searches); warm: as deployed
    was = os.environ.get(KEPT_ENV)
    if cold:
        os.environ[KEPT_ENV] = "0"
    try:
        found = _http_measure(site, root, seconds, progress, port, path, paths)
    finally:
        if was is None:
            os.environ.pop(KEPT_ENV, None)
        else:
            os.environ[KEPT_ENV] = was
    if not cold:
        return found
    return {f"cold_{k}": v for k, v in found.items() if k.startswith(("seq_", "conc_", "first_"))}


KEPT_ENV = "GONGKAI_SEARCH_RESULTS_KEPT"
FIRST_PAGES = 4  # distinct common words asked first of a freshly started server, one at a time


def _http_measure(site: Path, root: Path, seconds: float, progress, port: int, path: str, paths: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="scale-search-") as tmp:
        t0 = time.perf_counter()
        # ready when the health probe answers: no search has run in any worker before the
        # first pages below, which are what a freshly started server's first visitors wait for
        with running(gongkai_cmd(site, root, port), port, "/-/health", Path(tmp) / "server.log") as (base, _):
            startup = time.perf_counter() - t0
            first_ms = []
            for url in paths[:FIRST_PAGES]:
                t1 = time.perf_counter()
                httpx.get(base + url, timeout=60)
                first_ms.append(round((time.perf_counter() - t1) * 1000, 1))
            first = httpx.get(base + path, timeout=60)
            en = httpx.get(base + path + "&_lang=en", timeout=60)
            pages = _follow(base, 3)
            drive(base, paths, 1.0, 2)  # warm both workers
            progress("    sequential")
            seq = drive(base, paths, seconds, 1)
            progress(f"    {CLIENTS} clients")
            conc = drive(base, paths, seconds, CLIENTS)
    return {
        "startup_s": round(startup, 2),
        "first_pages_ms": first_ms,
        "first_pages_max_ms": max(first_ms, default=None),
        "page_bytes": len(first.content),
        "page_bytes_en": len(en.content),
        "page_status": first.status_code,
        "paging": pages,
        "seq_p50_ms": seq["p50_ms"],
        "seq_p99_ms": seq["p99_ms"],
        "seq_rps": seq["rps"],
        "conc_p50_ms": conc["p50_ms"],
        "conc_p99_ms": conc["p99_ms"],
        "conc_rps": conc["rps"],
        "conc_non_200": conc["non_200"] + conc["exceptions"],
    }


def _follow(base: str, pages: int) -> dict:
    """The JSON's first pages through `next_url`: datasets never repeat, scores never rise."""
    url = "/-/search.json?" + urlencode({"q": COMMON})
    seen: list[str] = []
    scores: list[float] = []
    ok = True
    for _ in range(pages):
        body = httpx.get(base + url, timeout=60).json()
        seen += [g["dataset"] for g in body["groups"]]
        scores += [g["score"] for g in body["groups"]]
        ok &= all(g["count"] == sum(t["count"] for t in g["tables"]) for g in body["groups"])
        if not body.get("next_url"):
            break
        url = body["next_url"]
    ok &= len(seen) == len(set(seen)) and scores == sorted(scores, reverse=True)
    return {"pages": pages, "datasets_seen": len(seen), "ok": ok}


def _touch_rebuild(root: Path, out: Path, n: int) -> dict:
    portal.touch_dataset(root, 1, n=n, salt=f"scale-search-{time.time_ns()}")
    seconds = _build(root, out)
    release = (out / "site").resolve()
    linked = sum(1 for s in range(site_index.SHARDS) if site_index.shard_path(release, s).stat().st_nlink > 1)
    return {"rebuild_one_s": round(seconds, 2), "shards_linked": linked, "shards_rewritten": site_index.SHARDS - linked}


def bench_scale_search(ctx, builds: dict[int, tuple[Path, Path]] | None = None) -> dict:
    """Search at each N; `builds` ({n: (portal root, build folder)}, from `scale_build` in the
    same run) gives the sizes and their builds, otherwise each portal is generated and built here."""
    sizes = tuple(builds) if builds else QUICK_SIZES if ctx.quick else SIZES
    seconds = 2.0 if ctx.quick else 8.0
    repeats = 20 if ctx.quick else 60
    figures: dict = {"scale_search_sizes": list(sizes), "scale_search_clients": CLIENTS}
    per_n: dict[int, dict] = {}
    for n in sizes:
        log(f"  N = {n}: portal and build")
        root, out = builds[n] if builds else _portal(ctx.workdir, n)
        build_s = _build(root, out)  # a no-op rebuild when `builds` built it
        site = (out / "site").resolve()
        shards = site_index.open_shards(site)
        conns: dict = {}
        try:
            log(f"  N = {n}: recall against LIKE")
            recall = _recall(site, shards, conns)
            log(f"  N = {n}: in process")
            inproc = _in_process(site, shards, conns, repeats, n)
        finally:
            for conn in [*shards, *conns.values()]:
                conn.close()
        log(f"  N = {n}: through the server")
        try:
            http = _http(site, ctx.root, seconds, log)
        except RuntimeError as exc:  # the server did not start (today's server opens every database)
            log(f"    server failed: {exc}")
            http = {"server_error": str(exc)[-500:], "seq_p50_ms": None, "seq_p99_ms": None, "conc_p99_ms": None}
        log(f"  N = {n}: one dataset changed")
        rebuild = _touch_rebuild(root, out, n)
        shard_bytes = sum(p.stat().st_size for p in (site / site_index.FOLDER).glob("*.db"))
        per_n[n] = {"build_s": round(build_s, 2), "shard_bytes": shard_bytes, **recall, **inproc, **http, **rebuild}
        log(f"    {json.dumps({k: v for k, v in per_n[n].items() if k != 'queries'}, ensure_ascii=False)}")
    for n, fig in per_n.items():
        for key, value in fig.items():
            figures[f"scale_search_n{n}_{key}"] = value
    big, small = sizes[-1], sizes[0]
    b, s = per_n[big], per_n[small]
    if b.get("seq_p50_ms") and s.get("seq_p50_ms"):
        figures["scale_search_page_p50_ratio"] = round(b["seq_p50_ms"] / s["seq_p50_ms"], 2)
        figures["scale_search_page_bytes_ratio"] = round(b["page_bytes"] / max(1, s["page_bytes"]), 2)
    figures["scale_search_inprocess_page_p50_ratio"] = round(b["page_p50_ms"] / max(0.01, s["page_p50_ms"]), 2)
    recall = min(fig["recall"] for fig in per_n.values())
    figures["targets"] = {
        f"scale_search_p50_ms_n{big}": _target(TARGET_P50_MS, b["seq_p50_ms"]),
        f"scale_search_p99_ms_n{big}": _target(TARGET_P99_MS, b["seq_p99_ms"]),
        f"scale_search_p99_ms_{CLIENTS}_clients_n{big}": _target(TARGET_P99_MS, b["conc_p99_ms"]),
        # the same with no page kept by the workers: what a query nobody asked before costs
        f"scale_search_cold_p50_ms_n{big}": _target(TARGET_P50_MS, b.get("cold_seq_p50_ms")),
        f"scale_search_cold_p99_ms_n{big}": _target(TARGET_P99_MS, b.get("cold_seq_p99_ms")),
        f"scale_search_cold_p99_ms_{CLIENTS}_clients_n{big}": _target(TARGET_P99_MS, b.get("cold_conc_p99_ms")),
        "scale_search_recall_vs_like": {"target": 1.0, "value": recall, "met": recall == 1.0},
        "scale_search_counts_exact_on_page": {
            "target": 0,
            "value": sum(fig["count_mismatches"] for fig in per_n.values()),
            "met": all(fig["count_mismatches"] == 0 for fig in per_n.values()),
        },
        "scale_search_changed_dataset_rewrites_one_shard": {
            "target": 1,
            "value": b["shards_rewritten"],
            "met": b["shards_rewritten"] == 1,
        },
    }
    figures["notes"] = [
        "p50/p99 of /-/search?q=<a common word> (HTML, the first page: ten datasets, three rows each; the "
        "eight common words of the generator in turn, English pages for the English words); "
        "sequential = one client, then 20 concurrent clients, on one machine shared with the load generator; "
        "warm = as deployed (each worker keeps its last 256 result pages: plugins/search.py), cold = "
        "GONGKAI_SEARCH_RESULTS_KEPT=0 (every request ranks, opens its datasets and renders)",
        "counts: the site-wide total is exact for one-token queries (街道) and an upper bound for "
        "phrases (朝阳街道); the datasets on a page always carry exact counts (their own index)",
        f"in-process fan-out (the old site search) vs the new page at N={big}: "
        f"{b['fanout_ms']} ms vs {b['page_p50_ms']} ms",
    ]
    return figures


def _target(target: float, value: float | None) -> dict:
    return {"target": target, "value": value, "met": value is not None and value <= target}
