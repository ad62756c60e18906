"""No anonymous client can stall the site (gongkai/limits.py, query_pools.py, http_timeouts.py,
plugins/visitor_limits.py, plugins/complete_downloads.py).

Against a real server (2 uvicorn workers on 127.0.0.1, started and stopped here) and a real
Datasette (`ds.client`). Every load loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from gongkai import release_files
from gongkai.bench.serve import free_port
from gongkai.build import build_site
from gongkai.limits import Limits, classify
from gongkai.serve import make_datasette

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "site"
BIG_ROWS = 30_000
HEADER_TIMEOUT = 1.5
PAGES = ["/datasets", "/budget/budget", "/datasets/budget"]

CTE = "with recursive r(x) as (select 1 union all select x + 1 from r) select count(*) from r"
WORST = {
    "cte": CTE,
    "zeroblob": "select zeroblob(1000000000)",
    "randomblob": "select randomblob(500000000)",
    "printf": "select printf('%.*c', 1e9, 'x')",
    "instr": "select instr(printf('%.*c', 499000, 'a'), printf('%.*c', 250000, 'a') || 'b')",
    "many_rows": "with recursive r(x) as (select 1 union all select x + 1 from r where x < 1000) select randomblob(400000) from r",
}


def sql_url(db: str, sql: str, ext: str = ".json") -> str:
    return f"/{db}{ext}?sql={quote(sql)}"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The fixture datasets built, plus a generated 30,000-row database `big`."""
    out = tmp_path_factory.mktemp("abuse")
    result = build_site(FIXTURE, out)
    assert result.ok
    release = (out / "site").resolve()
    big = Path(release_files.in_objects(release, "big"))  # a dataset folder of the release
    big.parent.mkdir(exist_ok=True)  # its bucket (gongkai/release_files.py)
    big.mkdir()
    conn = sqlite3.connect(release_files.database(release, "big"))
    conn.execute("create table rows (id integer primary key, name text, amount integer)")
    conn.executemany(
        "insert into rows values (?, ?, ?)", ((i, f"名称{i:06d}-{'x' * 30}", i * 7) for i in range(1, BIG_ROWS + 1))
    )
    conn.commit()
    conn.close()
    return release


def worker_pids(pid: int) -> set[int]:
    """The server's worker processes: the supervisor's children (forked from it, so their command
    line is the supervisor's), not multiprocessing's resource tracker."""
    children = {int(p) for f in Path(f"/proc/{pid}/task").glob("*/children") for p in f.read_text().split()}
    out = set()
    for c in children:
        try:
            cmd = Path(f"/proc/{c}/cmdline").read_bytes()
        except OSError:  # gone since the listing
            continue
        if b"resource_tracker" not in cmd and b"semaphore_tracker" not in cmd:
            out.add(c)
    return out


@pytest.fixture(scope="module")
def server(site, tmp_path_factory):
    """2 workers; SQL not rate limited (so the abuse really runs), search limited to 2 at once."""
    port = free_port()
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        GONGKAI_LIMIT_SQL_PER_MINUTE="0",
        GONGKAI_LIMIT_CLIENT_IN_FLIGHT="1000",
        GONGKAI_LIMIT_CLIENT_SQL_IN_FLIGHT="1000",  # the abusers share one address: let them all run
        GONGKAI_LIMIT_SQL_MAX_IN_FLIGHT="1000",
        GONGKAI_LIMIT_SEARCH_PER_MINUTE="1",
        GONGKAI_LIMIT_SEARCH_BURST="2",
        GONGKAI_LIMIT_HEADER_TIMEOUT_S=str(HEADER_TIMEOUT),
    )
    code = (
        "import sys; from pathlib import Path; from gongkai.serve import serve; "
        "serve(Path(sys.argv[1]), root=Path(sys.argv[2]), port=int(sys.argv[3]), workers=2, log_level='warning')"
    )
    log = tmp_path_factory.mktemp("abuse-log") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(site), str(ROOT), str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if (
                    httpx.get(f"{base}/-/versions.json", timeout=5).status_code == 200
                    and len(worker_pids(proc.pid)) == 2
                ):
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield {"base": base, "port": port, "pid": proc.pid, "log": log}
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def page_latencies(client: httpx.Client, rounds: int) -> list[float]:
    """Per round, the time to fetch every page once; every page must answer 200."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for path in PAGES:
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code)
        times.append(time.perf_counter() - start)
    return times


def test_pages_keep_their_latency_while_clients_loop_the_worst_sql(server):
    before = worker_pids(server["pid"])
    with httpx.Client(base_url=server["base"], timeout=30) as client:
        page_latencies(client, 3)  # warm
        quiet = statistics.median(page_latencies(client, 15))
        stop = time.monotonic() + 10  # the abuse runs 10 s at most
        statuses: list[tuple[str, int]] = []

        def abuser(names):
            with httpx.Client(base_url=server["base"], timeout=30) as c:
                for _ in range(200):  # bounded in count too
                    for name in names:
                        if time.monotonic() > stop:
                            return
                        statuses.append((name, c.get(sql_url("big", WORST[name])).status_code))

        threads = [
            threading.Thread(target=abuser, args=(names,))
            for names in (["cte"], ["cte"], ["cte", "instr"], ["zeroblob", "randomblob", "printf", "many_rows"])
        ]
        for t in threads:
            t.start()
        time.sleep(1.5)  # every abuser is in its loop
        abused = statistics.median(page_latencies(client, 15))
        for t in threads:
            t.join()
    ratio = abused / quiet
    print(
        f"pages: {quiet * 1000:.1f} ms quiet, {abused * 1000:.1f} ms under abuse ({ratio:.2f}x); {len(statuses)} bad queries"
    )
    assert ratio <= 3, (quiet, abused)
    # instr on two 500 kB values is allowed and finishes (200) or hits the time limit (400).
    assert statuses and all(
        status in (400, 403, 413) or (name, status) == ("instr", 200) for name, status in statuses
    ), sorted(set(statuses))
    # Each abuser got at least its first query through (the pool is 1 thread per worker, so a
    # loaded machine may not reach the later ones; test_each_bad_query… checks every one).
    assert {name for name, _ in statuses} >= {"cte", "zeroblob"}
    assert worker_pids(server["pid"]) == before  # nothing was killed or restarted


def test_each_bad_query_gets_a_clean_bilingual_error(server):
    expected = {"cte": 400, "zeroblob": 413, "randomblob": 413, "printf": 413, "many_rows": 413}
    with httpx.Client(base_url=server["base"], timeout=30) as client:
        for name, status in expected.items():
            r = client.get(sql_url("big", WORST[name]))
            assert r.status_code == status, (name, r.text[:300])
            body = r.json()
            assert body["ok"] is False and body["error"] and body["error_zh"] and body["error"] != body["error_zh"]
        page = client.get(sql_url("big", WORST["zeroblob"], ext=""))
        assert page.status_code == 413 and "500000" in page.text and "字节" in page.text
        page_en = client.get(sql_url("big", WORST["zeroblob"], ext="") + "&_lang=en")
        assert "larger than 500000 bytes" in page_en.text
        # The quadratic call ends (a value is at most 500 kB) with a result or the time limit.
        assert client.get(sql_url("big", WORST["instr"])).status_code in (200, 400)


def test_search_is_rate_limited_per_client_and_x_forwarded_for_is_not_trusted(server):
    with httpx.Client(base_url=server["base"], timeout=30) as client:
        codes = []
        for i in range(4):  # a new "address" each time: ignored, no proxy is configured
            codes.append(client.get("/-/search.json?q=预算", headers={"x-forwarded-for": f"10.0.0.{i}"}))
        assert [r.status_code for r in codes[:2]] == [200, 200]
        refused = codes[3]
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error_zh"] and refused.json()["error"].startswith("You have sent too many")
        html = client.get("/-/search?q=预算&_lang=en")
        assert html.status_code == 429 and "Too many requests" in html.text and html.headers["retry-after"]
        assert client.get("/-/search?q=预算").text.count("请求过于频繁") >= 1
        assert client.get("/budget/budget").status_code == 200  # pages are never limited


def open_socket(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setblocking(False)
    return s


def closed_by_server(s: socket.socket) -> bool:
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_half_open_connections_are_closed_and_normal_requests_go_on(server):
    port = server["port"]
    half = [open_socket(port) for _ in range(100)]
    for s in half:
        s.send(b"GET /datasets HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    silent = [open_socket(port) for _ in range(50)]
    dribbling = [open_socket(port) for _ in range(20)]
    opened = time.monotonic()
    with httpx.Client(base_url=server["base"], timeout=10) as client:
        assert client.get("/datasets").status_code == 200  # served while they hang
        everyone = half + silent + dribbling
        open_ = set(range(len(everyone)))
        while open_ and time.monotonic() - opened < HEADER_TIMEOUT + 5:
            for s in dribbling:  # one byte at a time keeps none of them alive
                try:
                    s.send(b"x")
                except OSError:
                    pass
            open_ = {i for i in open_ if not closed_by_server(everyone[i])}
            time.sleep(0.2)
        assert not open_, f"{len(open_)} of {len(everyone)} half-open connections still open"
        assert time.monotonic() - opened >= HEADER_TIMEOUT * 0.9  # not closed before the timeout
        assert client.get("/datasets").status_code == 200
    for s in everyone:
        s.close()
    # Headers that never end within the size limit: 431, closed.
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 70_000)
    except OSError:
        pass
    answer = s.recv(4096)
    s.close()
    assert answer.startswith(b"HTTP/1.1 431") and "请求头过大".encode() in answer


def test_full_csv_stream_of_a_big_table_is_complete(server):
    lines = 0
    last = b""
    with httpx.Client(base_url=server["base"], timeout=60) as client:
        with client.stream("GET", "/big/rows.csv?_stream=on&_size=max") as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                lines += 1
                last = line
    assert lines == BIG_ROWS + 1, lines
    assert last.startswith(f"{BIG_ROWS},")


async def test_csv_stream_that_fails_midway_is_aborted_never_a_complete_200(site):
    # A 1 MB cap (Datasette's max_csv_mb) on a 1.5 MB table: the stream must not end as a
    # normal response with "CSV contains more than ..." as its last line.
    ds = make_datasette(site, root=ROOT, settings={"max_csv_mb": 1})
    body = b""
    # whatever the transport raises for a body cut short; never a normal end
    with pytest.raises(Exception):  # noqa: B017
        async with _stream(ds, "/big/rows.csv?_stream=on&_size=max") as r:
            async for chunk in r.aiter_bytes():
                body += chunk
    assert b"CSV contains more than" not in body
    # The site's own setting: no size cap on a stream.
    assert (await make_datasette(site, root=ROOT).client.get("/-/settings.json")).json()["max_csv_mb"] == 0


class _stream:
    """httpx streaming straight on Datasette's ASGI app (what `ds.client` wraps)."""

    def __init__(self, ds, path):
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=ds.app()), base_url="http://localhost")
        self.path = path

    async def __aenter__(self):
        self.cm = self.client.stream("GET", self.path)
        return await self.cm.__aenter__()

    async def __aexit__(self, *exc):
        await self.cm.__aexit__(*exc)
        await self.client.aclose()


async def test_result_size_is_capped(site):
    ds = make_datasette(site, root=ROOT, limits=Limits(sql_result_bytes=100_000))
    many = "with recursive r(x) as (select 1 union all select x + 1 from r where x < 20) select randomblob(9000) from r"
    r = await ds.client.get(sql_url("big", many))
    assert r.status_code == 413 and "100000" in r.json()["error_zh"]
    ok = await ds.client.get(sql_url("big", many.replace("9000", "900")))
    assert ok.status_code == 200 and len(ok.json()["rows"]) == 20


async def test_sql_rate_limit_answers_429_with_retry_after(site):
    ds = make_datasette(site, root=ROOT, limits=Limits(sql_per_minute=6, sql_burst=2))
    urls = [sql_url("budget", "select 1"), "/big/rows.json?_where=id<3", "/budget.csv?sql=select+2"]
    codes = [(await ds.client.get(u)).status_code for u in urls]
    assert codes == [200, 200, 429]
    r = await ds.client.get(sql_url("budget", "select 3"))
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 10
    assert r.json()["error_zh"].startswith("您在短时间内")
    assert (await ds.client.get("/big/rows")).status_code == 200
    assert (await ds.client.get("/datasets")).status_code == 200


async def test_posted_free_text_package_search_is_rate_limited_like_a_get(site):
    """ckanapi POSTs its actions: a package_search with `q` in the JSON body is a search, as
    `?q=` is; the same action without `q` (a harvester's paging) is a page."""
    ds = make_datasette(site, root=ROOT, limits=Limits(search_per_minute=6, search_burst=2))
    url = "/api/3/action/package_search"
    search = [(await ds.client.post(url, json={"q": "budget"})).status_code for _ in range(3)]
    assert search == [200, 200, 429]
    refused = await ds.client.post(url, json={"q": "预算"})
    assert refused.status_code == 429 and refused.json()["error_zh"].startswith("您在短时间内")
    assert (await ds.client.get(url + "?q=budget")).status_code == 429  # one bucket for both
    paging = [(await ds.client.post(url, json={"rows": 1, "start": i})).status_code for i in range(4)]
    assert paging == [200] * 4
    form = await ds.client.post(url, content=b"q=x", headers={"content-type": "application/x-www-form-urlencoded"})
    assert form.status_code == 429


async def test_canned_queries_are_visitor_sql_found_per_database():
    """A canned query is looked up in its own database's metadata when asked (not every
    database's at a worker's first request), and classified as SQL."""
    import importlib.util

    from datasette.app import Datasette

    spec = importlib.util.spec_from_file_location("visitor_limits_under_test", ROOT / "plugins" / "visitor_limits.py")
    assert spec and spec.loader
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    ds = Datasette(memory=True, metadata={"databases": {"_memory": {"queries": {"by_year": "select 1"}}}})
    canned = plugin.CannedPaths(ds)
    assert "/_memory/by_year" in canned and "/_memory/other" not in canned and "/nodb/by_year" not in canned
    assert list(canned.by_database) == ["_memory"]  # only the database asked about was read
    assert classify("/_memory/by_year.json", b"", canned) == "sql"
    assert classify("/_memory/other", b"", canned) is None


def test_classify():
    assert classify("/big", b"sql=select+1") == "sql"
    assert classify("/big/rows.json", b"_where=1") == "sql"
    assert classify("/big/rows", b"name__contains=x") == "sql"
    assert classify("/big/rows.csv", b"_stream=on") == "csv"
    assert classify("/-/search.json", b"q=x") == "search"
    assert classify("/big/rows", b"_search=x") == "search"
    assert classify("/big/q", b"", frozenset({"/big/q"})) == "sql"
    assert classify("/big/rows", b"amount=3&_sort=name") is None
    assert classify("/datasets", b"") is None
    assert classify("/api/3/action/package_search", b"", posted_search=True) == "search"
    assert classify("/api/3/action/package_search", b"rows=10") is None


async def test_page_queries_never_wait_on_the_event_loop(site):
    """A slow page query (a facet, a scan) holds one thread, not the worker's event loop."""
    ds = make_datasette(site, root=ROOT)
    await ds.client.get("/budget/budget")

    async def page_time():
        start = time.perf_counter()
        assert (await ds.client.get("/budget/budget")).status_code == 200
        return time.perf_counter() - start

    quiet = statistics.median([await page_time() for _ in range(7)])
    slow = "with recursive r(x) as (select 1 union all select x + 1 from r where x < 3000000) select count(*) from r"
    task = asyncio.ensure_future(ds.databases["big"].execute(slow, custom_time_limit=2500))
    await asyncio.sleep(0.05)
    during = statistics.median([await page_time() for _ in range(7)])
    assert not task.done()  # the slow query was still running while the pages were served
    try:
        await task
    except Exception:
        pass
    assert during / quiet <= 3, (quiet, during)


async def test_no_server_paths_or_pointers_leak(site):
    ds = make_datasette(site, root=ROOT)
    for sql in (
        "select * from pragma_database_list",
        "pragma database_list",
        "select fts3_tokenizer('simple')",
        "select load_extension('x')",
        "select file from pragma_database_list where seq = 0",
    ):
        r = await ds.client.get(sql_url("big", sql))
        assert r.status_code in (400, 403), (sql, r.status_code)
        assert str(site) not in r.text and r.json()["error_zh"]
    r = await ds.client.get("/big/rows.json?_where=" + quote("1 = (select count(*) from pragma_database_list)"))
    assert r.status_code == 403 and str(site) not in r.text
    for path in ("/-/databases.json", "/-/databases"):
        r = await ds.client.get(path)
        assert r.status_code == 200 and str(site) not in r.text and '"path"' not in r.text
    assert {d["name"] for d in (await ds.client.get("/-/databases.json")).json()} >= {"big", "budget"}
    # What a journalist needs still works: schema pragmas, ordinary functions, printf.
    ok = await ds.client.get(sql_url("budget", "select name from pragma_table_info('budget') limit 1"))
    assert ok.status_code == 200 and ok.json()["rows"]
    ok = await ds.client.get(sql_url("budget", "select printf('%05.1f', 3.14159), upper('a')"))
    assert ok.json()["rows"] == [["003.1", "A"]]


async def test_large_table_points_at_its_published_file(site):
    ds = make_datasette(site, root=ROOT, limits=Limits(large_table_rows=1))
    page = (await ds.client.get("/budget/budget")).text
    assert 'href="/downloads/budget/budget.csv"' in page and "原始文件" in page
    assert "download the file" in (await ds.client.get("/budget/budget?_lang=en")).text
    small = (await make_datasette(site, root=ROOT).client.get("/budget/budget")).text
    assert '/downloads/budget/budget.csv" download' not in small


def test_one_client_never_holds_every_sql_thread():
    """A client's slow query holds at most `client_sql_in_flight` visitor-SQL threads, fewer
    than `sql_threads`: everybody else's SQL always has one."""
    from plugins.visitor_limits import Gate

    limits = Limits()
    assert limits.client_sql_in_flight < limits.sql_threads
    gate = Gate(limits)
    assert gate.admit("198.51.100.1", "sql") is None
    assert gate.admit("198.51.100.1", "sql") == (429, 1)  # its second query waits for the first
    assert gate.admit("198.51.100.2", "sql") is None  # another client's goes on
    assert gate.admit("198.51.100.1", "search") is None  # and its own search too
    gate.release("198.51.100.1", "sql")
    assert gate.admit("198.51.100.1", "sql") is None
