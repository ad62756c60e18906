"""Serving benchmark: requests/s of a big table's HTML page and JSON, stock Datasette vs ours.

`run_serving_bench(db_path, table, root=...)` starts real server processes on 127.0.0.1 (free
ports, started and stopped here), drives each with `clients` concurrent keep-alive clients for
`seconds`, and returns a dict of figures:

- (i) stock `datasette -i <db>` (facet suggestions on, as `datasette -i` gives): table HTML
  and JSON;
- (ii) stock with `--setting suggest_facets off`: JSON (and HTML, for reference);
- (iii) our site (`gongkai.serve.serve`: our settings, plugins, templates, one uvicorn worker
  per core) serving a site folder made for the database (the database, its inspect.json).

Every request has a different URL (page size, `_next=` key, filter value, sort column and
direction vary per request), so nothing on either side can answer from a cache: each one is a
real query plus a real render. Caching headers play no part; the client never caches.

The load generator shares the machine's cores with the server, so it is kept cheap: one
process, asyncio streams speaking just enough HTTP/1.1 over keep-alive connections, the URL
list computed before the clock starts.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx

from ..sql import identifier

# Page sizes vary per request (and are always explicit, so the two servers' default page sizes
# do not matter); 10..100 rows, 55 on average.
SIZES = list(range(10, 101))
LOW_CARDINALITY = 50  # an indexed column with at most this many values is filtered on
STARTUP_TIMEOUT = 90.0
REQUEST_TIMEOUT = 120.0  # stock Datasette with facet suggestions answers in seconds under load


# --- what to request ---------------------------------------------------------------------


def table_shape(db_path: Path, table: str) -> dict:
    """The table's primary key, indexed columns, filter values and sample keys (for `_next=`)."""
    conn = sqlite3.connect(f"file:{db_path}?immutable=1", uri=True)
    try:
        info = conn.execute(f"pragma table_info({identifier(table)})").fetchall()
        pks = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]]
        indexed = []
        for index in conn.execute(f"pragma index_list({identifier(table)})").fetchall():
            cols = [r[2] for r in conn.execute(f"pragma index_info({identifier(index[1])})")]
            if cols and cols[0] not in indexed and cols[0] not in pks:
                indexed.append(cols[0])
        filters = {}
        sorts = []
        for col in indexed:
            values = [
                r[0]
                for r in conn.execute(
                    f"select distinct {identifier(col)} from {identifier(table)} "
                    f"where {identifier(col)} is not null limit {LOW_CARDINALITY + 1}"
                )
            ]
            if len(values) <= LOW_CARDINALITY:
                filters[col] = values
            sorts.append(col)
        (max_rowid,) = conn.execute(f"select max(rowid) from {identifier(table)}").fetchone()
        rnd = random.Random(7)
        keys = []
        key_cols = pks or ["rowid"]
        if len(key_cols) == 1:
            for _ in range(500):
                row = conn.execute(
                    f"select {identifier(key_cols[0]) if pks else 'rowid'} from {identifier(table)} "
                    "where rowid >= ? order by rowid limit 1",
                    (rnd.randint(1, max_rowid or 1),),
                ).fetchone()
                if row:
                    keys.append(row[0])
        return {"pks": pks, "indexed": indexed, "filters": filters, "sorts": sorts, "keys": keys}
    finally:
        conn.close()


def bench_paths(db_name: str, table: str, shape: dict, count: int, *, json_: bool, seed: int = 1) -> list[str]:
    """`count` request paths, each different, cycling through four kinds of table request:
    a first page, a later page (`_next=`), a filter on an indexed column, a sort on one."""
    rnd = random.Random(seed)
    base = f"/{quote(db_name)}/{quote(table)}" + (".json" if json_ else "")
    shape_arg = "&_shape=array" if json_ else ""
    filter_items = [(col, v) for col, values in shape["filters"].items() for v in values]
    kinds = ["first", "next"] + (["filter"] if filter_items else []) + (["sort"] if shape["sorts"] else [])
    paths = []
    for i in range(count):
        size = SIZES[(i // len(kinds)) % len(SIZES)]
        kind = kinds[i % len(kinds)]
        if kind == "first":
            qs = f"_size={size}"
        elif kind == "next" and shape["keys"]:
            qs = f"_next={quote(str(rnd.choice(shape['keys'])))}&_size={size}"
        elif kind == "filter":
            col, value = rnd.choice(filter_items)
            qs = f"{quote(col)}={quote(str(value))}&_size={size}"
        else:
            col = rnd.choice(shape["sorts"]) if shape["sorts"] else (shape["pks"] or ["rowid"])[0]
            qs = f"{'_sort_desc' if rnd.random() < 0.5 else '_sort'}={quote(col)}&_size={size}"
        paths.append(f"{base}?{qs}{shape_arg}")
    return paths


# --- load ------------------------------------------------------------------------------------


# A visitor's browser keeps a connection for a while, not for ever. With workers sharing one
# listening socket, 20 connections held for the whole run land unevenly on the two workers
# (15/5 say): the figure would measure that lottery, not the server. Reconnecting every few
# requests lets the kernel spread them again; a one-process server is unaffected.
REQUESTS_PER_CONNECTION = 20


class HttpConnection:
    """A minimal keep-alive HTTP/1.1 GET client over asyncio streams.

    The load generator runs on the same two cores as the servers; httpx spends more CPU per
    request than our JSON endpoint does, which would make the client the bottleneck and starve
    the server it measures. This reads exactly what a GET needs: the status line, the headers,
    and a Content-Length or chunked body.
    """

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:  # (the two are set together)
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        reader = self.reader
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode("ascii"))
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                parts.append(await reader.readexactly(size + 2))
            body = b"".join(p[:-2] for p in parts)
        else:
            body = await reader.read()
            await self.close()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body


async def _drive(host: str, port: int, paths: list[str], seconds: float, clients: int) -> dict:
    counter = iter(range(10**9))
    ok = non_200 = exceptions = 0
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    start = time.perf_counter()
    deadline = start + seconds

    async def client():
        nonlocal ok, non_200, exceptions
        conn = HttpConnection(host, port)
        served = 0
        try:
            while time.perf_counter() < deadline:
                if served and served % REQUESTS_PER_CONNECTION == 0:
                    await conn.close()
                served += 1
                path = paths[next(counter) % len(paths)]
                t0 = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(conn.get(path), REQUEST_TIMEOUT)
                except Exception:
                    exceptions += 1
                    await conn.close()
                    continue
                latencies.append(time.perf_counter() - t0)
                if status == 200 and body:
                    ok += 1
                else:
                    non_200 += 1
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            await conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "rps": round(ok / elapsed, 2),
        "ok": ok,
        "non_200": non_200,
        "exceptions": exceptions,
        "statuses": statuses,
        "elapsed_s": round(elapsed, 2),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else None,
    }


def drive(base_url: str, paths: list[str], seconds: float, clients: int) -> dict:
    """Closed loop: `clients` connections, each sending its next request when the last one
    is answered, until `seconds` have passed; requests still running then are waited for and
    counted, and the rate is over the whole time including them."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    return asyncio.run(_drive(host, int(port), paths, seconds, clients))


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The bench is one client measuring speed: the per-client rate limits (docs/security.md), which
# would answer it 429 after a burst, are off; every other limit (pools, sizes, time) stays on.
BENCH_LIMITS = {f"GONGKAI_LIMIT_{kind}_PER_MINUTE": "0" for kind in ("SQL", "SEARCH", "CSV")} | {
    "GONGKAI_LIMIT_CLIENT_IN_FLIGHT": "1000"
}


def _child_env() -> dict:
    # The server children must import gongkai the way this process does.
    env = dict(os.environ, **BENCH_LIMITS)
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in [package_parent, env.get("PYTHONPATH", "")] if p)
    return env


def _wait_ready(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=30).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not start within {STARTUP_TIMEOUT}s: {log.read_text()[-2000:]}")


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) used so far by the processes of one process group (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the command: state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


@contextmanager
def running(cmd: list[str], port: int, ready_path: str, log: Path):
    """Start a server process (its own process group), wait until `ready_path` answers, stop it."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=_child_env(), start_new_session=True)
    try:
        _wait_ready(f"http://127.0.0.1:{port}{ready_path}", proc, log)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        # The group holds the server and, for uvicorn, its worker processes; all were started here.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def stock_cmd(db_path: Path, port: int, *, suggest_facets: bool) -> list[str]:
    cmd = [sys.executable, "-m", "datasette", "serve", "-i", str(db_path), "-h", "127.0.0.1", "-p", str(port)]
    if not suggest_facets:
        cmd += ["--setting", "suggest_facets", "off"]
    return cmd


def gongkai_cmd(site_dir: Path, root: Path, port: int) -> list[str]:
    code = (
        "import sys; from pathlib import Path; from gongkai.serve import serve; "
        "serve(Path(sys.argv[1]), root=Path(sys.argv[2]), port=int(sys.argv[3]), log_level='warning')"
    )
    return [sys.executable, "-c", code, str(site_dir), str(root), str(port)]


def make_site(db_path: Path, site_dir: Path) -> Path:
    """A site folder for one database, as `gongkai build` lays it out: the database and its
    inspect.json (Datasette's own inspect format), an empty metadata.json."""
    from datasette.cli import inspect_

    site_dir.mkdir(parents=True, exist_ok=True)
    link = site_dir / db_path.name
    if not link.exists():
        link.symlink_to(db_path.resolve())
    inspect_data = asyncio.run(inspect_([str(link)], None))
    (site_dir / "inspect.json").write_text(json.dumps(inspect_data, ensure_ascii=False, indent=2))
    (site_dir / "metadata.json").write_text("{}")
    return site_dir


# --- the bench -------------------------------------------------------------------------------


def measure(cmd: list[str], port: int, db_name: str, table: str, runs: dict, *, seconds, clients, log) -> dict:
    """Start one server and measure each of `runs` ({label: paths}) against it."""
    ready = f"/{quote(db_name)}/{quote(table)}.json?_size=1&_shape=array"
    out = {}
    with running(cmd, port, ready, log) as (base_url, pgid):
        for label, paths in runs.items():
            drive(base_url, paths[: clients * 2], 1.0, clients)  # warm up each worker's caches
            cpu = group_cpu_seconds(pgid)
            out[label] = drive(base_url, paths, seconds, clients)
            # The server's own CPU per answered request: what the rate would be on idle cores,
            # whatever else the shared machine was doing during the run.
            cpu = group_cpu_seconds(pgid) - cpu
            answered = out[label]["ok"] + out[label]["non_200"]
            out[label]["server_cpu_ms_per_request"] = round(cpu * 1000 / answered, 2) if answered else None
    return out


def run_serving_bench(
    db_path: Path, table: str, *, root: Path, seconds: float = 10, clients: int = 20, progress=None
) -> dict:
    """Measure the three servers on `table` of `db_path`; `root` holds our plugins/ and templates/.

    Rates are answered-200 requests per second. `serve_errors` counts our server's non-200
    answers and failed requests (must be 0); `all_errors` counts them over all three servers.
    `*_cpu_ms_*` is the server processes' CPU per request: on a shared machine the rates move
    with the neighbours' load, the CPU cost much less.
    """
    db_path = Path(db_path).resolve()
    root = Path(root).resolve()
    db_name = db_path.stem
    say = progress or (lambda msg: None)
    shape = table_shape(db_path, table)
    count = 200_000
    html = bench_paths(db_name, table, shape, count, json_=False)
    jsn = bench_paths(db_name, table, shape, count, json_=True)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="gongkai-bench-serve-") as tmp_name:
        tmp = Path(tmp_name)
        site = make_site(db_path, tmp / "site")
        common = dict(seconds=seconds, clients=clients)

        say("stock datasette -i (facet suggestions on)")
        port = free_port()
        results["stock"] = measure(
            stock_cmd(db_path, port, suggest_facets=True),
            port,
            db_name,
            table,
            {"html": html, "json": jsn},
            log=tmp / "stock.log",
            **common,
        )
        say("stock datasette -i --setting suggest_facets off")
        port = free_port()
        results["stock_nofacets"] = measure(
            stock_cmd(db_path, port, suggest_facets=False),
            port,
            db_name,
            table,
            {"html": html, "json": jsn},
            log=tmp / "stock_nofacets.log",
            **common,
        )
        say("gongkai serve")
        port = free_port()
        results["gongkai"] = measure(
            gongkai_cmd(site, root, port),
            port,
            db_name,
            table,
            {"html": html, "json": jsn},
            log=tmp / "gongkai.log",
            **common,
        )

    def rps(server, kind):
        return results[server][kind]["rps"]

    def ratio(a, b):
        return round(a / b, 2) if b else None

    errors = sum(r["non_200"] + r["exceptions"] for server in results.values() for r in server.values())
    gongkai_errors = sum(r["non_200"] + r["exceptions"] for r in results["gongkai"].values())
    return {
        "rows": _row_count(db_path, table),
        "clients": clients,
        "seconds": seconds,
        "table_page_rps_stock": rps("stock", "html"),
        "table_page_rps_stock_nofacets": rps("stock_nofacets", "html"),
        "table_page_rps_gongkai": rps("gongkai", "html"),
        "table_page_speedup_vs_stock": ratio(rps("gongkai", "html"), rps("stock", "html")),
        "json_rps_stock": rps("stock", "json"),
        "json_rps_stock_nofacets": rps("stock_nofacets", "json"),
        "json_rps_gongkai": rps("gongkai", "json"),
        "json_speedup_vs_stock_nofacets": ratio(rps("gongkai", "json"), rps("stock_nofacets", "json")),
        "table_page_cpu_ms_stock": results["stock"]["html"]["server_cpu_ms_per_request"],
        "table_page_cpu_ms_gongkai": results["gongkai"]["html"]["server_cpu_ms_per_request"],
        "json_cpu_ms_stock_nofacets": results["stock_nofacets"]["json"]["server_cpu_ms_per_request"],
        "json_cpu_ms_gongkai": results["gongkai"]["json"]["server_cpu_ms_per_request"],
        "serve_errors": gongkai_errors,
        "all_errors": errors,
        "detail": results,
    }


def _row_count(db_path: Path, table: str) -> int:
    conn = sqlite3.connect(f"file:{db_path}?immutable=1", uri=True)
    try:
        return conn.execute(f"select count(*) from {identifier(table)}").fetchone()[0]
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("table")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args(argv)
    result = run_serving_bench(
        args.db,
        args.table,
        root=args.root,
        seconds=args.seconds,
        clients=args.clients,
        progress=lambda m: print(m, file=sys.stderr, flush=True),
    )
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
