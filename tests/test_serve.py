"""gongkai.serve / gongkai.asgi: the Datasette instance for a site folder, and the real server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
import sqlite_utils

from gongkai import asgi
from gongkai.bench.serve import bench_paths, free_port, table_shape
from gongkai.serve import ROOT_ENV, SITE_DIR_ENV, make_datasette

ROOT = Path(__file__).resolve().parents[1]
DISTRICTS = ["东城区", "西城区", "朝阳区"]


def write_release(folder: Path, *, rows: int = 30, claimed_count: int | None = None) -> Path:
    """A release folder as `gongkai build` writes it: a dataset DB, inspect.json, metadata.json."""
    folder.mkdir(parents=True)
    db = sqlite_utils.Database(folder / "budget.db")
    db["spending"].insert_all(
        (
            {
                "编号": i,
                "项目": f"项目{i}",
                "地区": DISTRICTS[i % 3],
                "日期": (date(2020, 1, 1) + timedelta(days=3 * i)).isoformat(),
                "金额": i * 1.5,
            }
            for i in range(1, rows + 1)
        ),
        pk="编号",
    )
    db["spending"].create_index(["地区"])
    db["spending"].create_index(["日期"])
    db.close()
    inspect = {
        "budget": {
            "hash": "0" * 64,
            "size": (folder / "budget.db").stat().st_size,
            "file": "budget.db",
            "tables": {"spending": {"count": claimed_count if claimed_count is not None else rows}},
        }
    }
    (folder / "inspect.json").write_text(json.dumps(inspect))
    metadata = {
        "title": "公开",
        "databases": {
            "budget": {"title": "预算", "tables": {"spending": {"title": "支出", "columns": {"金额": "元"}}}}
        },
    }
    (folder / "metadata.json").write_text(json.dumps(metadata, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture
def site(tmp_path):
    release = write_release(tmp_path / "releases" / "r1")
    link = tmp_path / "site"
    link.symlink_to(release)
    return link


async def test_databases_are_immutable_and_settings_applied(site):
    ds = make_datasette(site, root=ROOT)
    assert not ds.databases["budget"].is_mutable
    settings = (await ds.client.get("/-/settings.json")).json()
    assert settings["suggest_facets"] is False
    assert settings["allow_download"] is True
    assert settings["sql_time_limit_ms"] == 3000
    r = await ds.client.get("/budget/spending.json?_shape=array&_size=2")
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert [row["编号"] for row in r.json()] == [1, 2]
    # Downloads work for immutable files.
    assert (await ds.client.get("/budget.db")).status_code == 200


async def test_counts_come_from_inspect_json(tmp_path):
    # inspect.json claims a count the table does not have: the page must show the claim,
    # which proves no `select count(*)` ran for the unfiltered table.
    release = write_release(tmp_path / "r", rows=30, claimed_count=123456)
    ds = make_datasette(release, root=ROOT)
    data = (await ds.client.get("/budget/spending.json")).json()
    assert data["filtered_table_rows_count"] == 123456
    # A filtered page counts for real.
    data = (await ds.client.get("/budget/spending.json?地区=东城区")).json()
    assert data["filtered_table_rows_count"] == 10


async def test_metadata_json_is_served(site):
    ds = make_datasette(site, root=ROOT)
    meta = (await ds.client.get("/-/metadata.json")).json()
    assert meta["databases"]["budget"]["tables"]["spending"]["title"] == "支出"
    page = await ds.client.get("/budget/spending")
    assert page.status_code == 200 and "支出" in page.text


async def test_site_link_is_resolved_once(site, tmp_path):
    ds = make_datasette(site, root=ROOT)
    r2 = write_release(tmp_path / "releases" / "r2", rows=5)
    (tmp_path / "tmp-link").symlink_to(r2)
    os.replace(tmp_path / "tmp-link", site)  # the build's atomic swap
    assert Path(ds.databases["budget"].path).parent == (tmp_path / "releases" / "r1").resolve()
    assert len((await ds.client.get("/budget/spending.json?_shape=array&_size=max")).json()) == 30


async def test_plugin_startup_runs_in_lifespan(site, monkeypatch):
    """Under uvicorn, Datasette's startup hooks must run during lifespan startup, before the
    first request (Datasette itself defers them to the first request)."""
    monkeypatch.setenv(SITE_DIR_ENV, str(site))
    monkeypatch.setenv(ROOT_ENV, str(ROOT))
    ds = make_datasette(site, root=ROOT)
    app = asgi.with_startup(ds, ds.app())
    sent = []
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message)
        if message["type"] == "lifespan.startup.complete":
            # Startup done before any HTTP request: the prepare_jinja2_environment and startup
            # hooks of plugins/fast_pages.py have run.
            assert ds._startup_invoked
            assert ds.jinja_env.auto_reload is False

    await app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]

    factory_app = asgi.create_app()  # what each uvicorn worker calls
    transport = httpx.ASGITransport(app=factory_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        r = await client.get("/budget/spending.json?_shape=array&_size=1")
        assert r.status_code == 200 and r.json()[0]["项目"] == "项目1"


def test_create_app_needs_the_environment(monkeypatch):
    monkeypatch.delenv(SITE_DIR_ENV, raising=False)
    with pytest.raises(RuntimeError):
        asgi.create_app()


async def test_bench_urls_all_answer_200(tmp_path):
    """The serving benchmark's URLs (pages, _next keys, filters, sorts on indexed Chinese
    columns) are valid requests, and each differs from the last."""
    ds = make_datasette(write_release(tmp_path / "r", rows=90), root=ROOT)
    db_path = Path(ds.databases["budget"].path)
    shape = table_shape(db_path, "spending")
    assert shape["pks"] == ["编号"]
    assert set(shape["filters"]) == {"地区"}  # 日期 has too many values to filter on
    assert set(shape["sorts"]) == {"地区", "日期"}
    for json_ in (False, True):
        paths = bench_paths("budget", "spending", shape, 40, json_=json_)
        assert len(set(paths)) == len(paths)
        for path in paths:
            r = await ds.client.get(path)
            assert r.status_code == 200, path


def test_real_server_with_two_workers(site):
    """`gongkai.serve.serve` under uvicorn: two worker processes, our plugins and templates."""
    port = free_port()
    code = (
        "import sys; from pathlib import Path; from gongkai.serve import serve; "
        "serve(Path(sys.argv[1]), root=Path(sys.argv[2]), port=int(sys.argv[3]), workers=2, log_level='info')"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(site), str(ROOT), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/-/settings.json", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        with httpx.Client(base_url=base) as client:
            assert client.get("/-/settings.json").json()["suggest_facets"] is False
            rows = client.get("/budget/spending.json?_shape=array&地区=西城区").json()
            assert {row["地区"] for row in rows} == {"西城区"}
            page = client.get("/budget/spending?_sort=日期")
            assert page.status_code == 200
            missing = client.get("/nope")
            assert missing.status_code == 404 and "找不到页面" in missing.text
            bad = client.get("/budget/spending.json?_sort=nope")
            assert bad.status_code == 400 and bad.json()["error_zh"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out = proc.communicate(timeout=30)[0].decode()
    # Two workers started, each ran lifespan startup.
    assert out.count("Application startup complete") == 2, out


async def test_no_database_is_opened_or_walked_for_its_schema(site):
    """plugins/fast_pages.py: an immutable site never walks its databases for their schemas (at
    startup or per request), and gongkai.serve opens a database only when a query needs it."""
    ds = make_datasette(site, root=ROOT)
    await ds.invoke_startup()
    internal = ds.get_database("_internal")
    assert (await internal.execute("select count(*) from tables")).first()[0] == 0
    assert not ds.get_database("budget")._all_file_connections  # nothing opened at start
    assert await ds.refresh_schemas() is None
    assert ds.refresh_schemas.__name__ == "schemas_are_fixed"
    assert (await ds.client.get("/budget/spending")).status_code == 200
    assert len(ds.get_database("budget")._all_file_connections) >= 1


async def test_template_lookups_keep_jinja_semantics(site):
    """The dict fast path in plugins/fast_pages.py answers `d.name` as Jinja does: a key, unless
    dicts have an attribute of that name (then the attribute, e.g. `d.keys`)."""
    ds = make_datasette(site, root=ROOT)
    await ds.invoke_startup()
    template = ds.jinja_env.from_string(
        "{{ d.x }}|{{ d.keys()|list|length }}|{{ d.missing is undefined }}|{{ o.real }}"
    )
    assert await template.render_async(d={"x": "<b>", "keys": 5}, o=3) == "&lt;b&gt;|2|True|3"


async def test_render_cell_plugins_still_run(site):
    """plugins/fast_pages.py answers render_cell at once while no plugin implements it; one
    registered later must still be called for every cell."""
    from datasette import hookimpl
    from datasette.plugins import pm

    class Shout:
        @staticmethod
        @hookimpl
        def render_cell(value, column):
            return f"<<{value}>>" if column == "项目" else None

    ds = make_datasette(site, root=ROOT)
    before = (await ds.client.get("/budget/spending")).text
    assert "&lt;&lt;" not in before
    pm.register(Shout, name="test-shout")
    try:
        page = (await ds.client.get("/budget/spending")).text
        assert "&lt;&lt;" in page
    finally:
        pm.unregister(name="test-shout")
    assert "&lt;&lt;" not in (await ds.client.get("/budget/spending")).text


def test_the_render_cell_shortcut_wraps_the_hook_once_however_many_instances(site):
    """Datasette runs plugins/fast_pages.py again for each instance; the hook stays one wrapper
    deep (it grew one level per instance, until calls hit the recursion limit)."""
    from datasette.plugins import pm

    for _ in range(5):
        make_datasette(site, root=ROOT)
    caller = pm.hook.render_cell
    assert hasattr(caller, "_gongkai_caller") and not hasattr(caller._gongkai_caller, "_gongkai_caller")


async def test_only_a_large_database_is_read_through_a_memory_map(site, monkeypatch):
    """A small database is read with read(2): mapping and unmapping one per connection cost
    more than a whole page at 10,000 datasets (gongkai.serve.memory_map)."""
    from gongkai import serve

    async def mmap_size() -> int:
        ds = make_datasette(site, root=ROOT)
        db = ds.databases["budget"]
        assert db.size < serve.MMAP_MIN_BYTES or serve.MMAP_MIN_BYTES == 0
        return await db.execute_fn(lambda conn: conn.execute("PRAGMA mmap_size").fetchone()[0])

    assert await mmap_size() == 0
    monkeypatch.setattr(serve, "MMAP_MIN_BYTES", 0)  # as if the file were large
    assert await mmap_size() == serve.MMAP_BYTES
