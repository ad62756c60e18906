"""Error pages through the real Datasette client: plugins/error_pages.py + templates/error.html."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlite_utils
from datasette import hookimpl
from datasette.plugins import pm

from gongkai.serve import make_datasette

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def site(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    db = sqlite_utils.Database(site / "tiny.db")
    db["records"].insert_all(
        [{"id": i, "名称": f"记录{i}", "地区": ["北京", "上海"][i % 2]} for i in range(1, 6)], pk="id"
    )
    db["secret"].insert({"id": 1, "x": "不公开"}, pk="id")
    db.close()
    metadata = {"databases": {"tiny": {"tables": {"secret": {"allow": False}}}}}
    (site / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    return site


@pytest.fixture
def ds(site):
    return make_datasette(site, root=ROOT)


def h1s(html: str) -> list[str]:
    return re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)


def assert_accessible_page(html: str, lang: str) -> None:
    assert f'<html lang="{lang}">' in html
    assert len(h1s(html)) == 1
    for landmark in ("<header", "<main", "<footer", "<nav"):
        assert landmark in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    # Nothing loaded from anywhere: no scripts, stylesheets, images or fonts by URL.
    assert not re.search(r"<(script|img|iframe)\b", html)
    # the only links are the page's two language versions, which load nothing
    assert re.findall(r"<link\b[^>]*>", html) and all(
        'rel="alternate"' in tag for tag in re.findall(r"<link\b[^>]*>", html)
    )
    assert "url(" not in html


async def test_unknown_url_is_a_chinese_404_page(ds):
    r = await ds.client.get("/no-such-page")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert_accessible_page(r.text, "zh-CN")
    assert h1s(r.text) == ["找不到页面"]
    assert "返回首页" in r.text
    assert "Page not found" not in r.text
    # The language switch keeps the path and asks for English.
    assert 'href="/no-such-page?_lang=en"' in r.text


async def test_unknown_url_in_english(ds):
    r = await ds.client.get("/tiny/no-such-table?_lang=en")
    assert r.status_code == 404
    assert_accessible_page(r.text, "en")
    assert h1s(r.text) == ["Page not found"]
    assert "Table not found" in r.text
    assert "找不到页面" not in r.text
    assert 'href="/tiny/no-such-table"' in r.text  # back to Chinese


@pytest.mark.parametrize(
    "path, headers",
    [("/no-such-page.json", {}), ("/tiny/records/999.json", {}), ("/no-such-page", {"Accept": "application/json"})],
)
async def test_unknown_url_json(ds, path, headers):
    r = await ds.client.get(path, headers=headers)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["ok"] is False and body["status"] == 404
    assert body["error"] and body["error_zh"]
    assert re.search(r"[\u4e00-\u9fff]", body["error_zh"])
    assert r.headers["access-control-allow-origin"] == "*"


async def test_unknown_sort_column_is_400_not_500(ds):
    r = await ds.client.get("/tiny/records?_sort=nope")
    assert r.status_code == 400
    assert_accessible_page(r.text, "zh-CN")
    assert h1s(r.text) == ["请求有误"]
    assert "无法按“nope”排序" in r.text

    r = await ds.client.get("/tiny/records?_sort_desc=nope&_lang=en")
    assert r.status_code == 400
    assert h1s(r.text) == ["Bad request"]
    assert "Cannot sort table by nope" in r.text

    r = await ds.client.get("/tiny/records.json?_sort=nope")
    assert r.status_code == 400
    assert r.json() == {
        "ok": False,
        "error": "Cannot sort table by nope",
        "error_zh": "无法按“nope”排序：没有这一列，或这一列不能排序",
        "status": 400,
        "title": "Bad request",
        "title_zh": "请求有误",
    }


async def test_user_input_in_messages_is_escaped(ds):
    r = await ds.client.get("/tiny/records?_sort=%3Cscript%3Ealert(1)%3C/script%3E")
    assert r.status_code == 400
    assert "<script>" not in r.text
    assert "&lt;script&gt;" in r.text


async def test_bad_page_size_is_400_in_both_languages(ds):
    r = await ds.client.get("/tiny/records?_size=abc")
    assert r.status_code == 400
    assert "每页行数" in r.text
    r = await ds.client.get("/tiny/records?_size=abc&_lang=en")
    assert "_size must be a positive integer" in r.text


async def test_forbidden_table_is_a_403_page(ds):
    r = await ds.client.get("/tiny/secret")
    assert r.status_code == 403
    assert_accessible_page(r.text, "zh-CN")
    assert h1s(r.text) == ["无权访问"]
    r = await ds.client.get("/tiny/secret.json")
    assert r.status_code == 403
    assert r.json()["status"] == 403 and r.json()["error_zh"]


class Boom:
    """A real plugin whose page fails, to see what a visitor gets for a server error."""

    __name__ = "test-boom"  # Datasette lists plugins by module name

    @hookimpl
    def register_routes(self):
        async def boom(request):
            raise RuntimeError("secret internal detail")

        return [(r"^/-/boom(\.json)?$", boom)]


@pytest.fixture
def boom_ds(site):
    plugin = Boom()
    pm.register(plugin, name="test-boom")
    try:
        yield make_datasette(site, root=ROOT)
    finally:
        pm.unregister(plugin)


async def test_server_error_is_a_500_page_without_internals(boom_ds, caplog):
    r = await boom_ds.client.get("/-/boom")
    assert r.status_code == 500
    assert_accessible_page(r.text, "zh-CN")
    assert h1s(r.text) == ["服务器出错了"]
    assert "secret internal detail" not in r.text
    r = await boom_ds.client.get("/-/boom.json")
    assert r.status_code == 500
    assert r.json()["error"] == "Server error" and r.json()["error_zh"] == "服务器出错了"
    # The traceback goes to the log, once per error.
    assert any("secret internal detail" in str(rec.exc_info[1]) for rec in caplog.records if rec.exc_info)


async def test_errors_do_not_dump_locals_to_stdout(ds, capsys):
    # Datasette's default handler prints each error with rich, local variables included.
    await ds.client.get("/no-such-page", headers={"Cookie": "session=very-private"})
    await ds.client.get("/tiny/records?_sort=nope")
    out = capsys.readouterr()
    assert "very-private" not in out.out + out.err
    assert "Traceback" not in out.out


def test_stock_datasette_answers_unknown_sort_with_500(site, tmp_path):
    """Why the plugin exists: stock Datasette 0.65 (no plugins) says 500 for a request mistake
    and dumps a rich traceback with locals to stdout. Run in a child process, because plugins
    loaded from plugins/ stay registered for the rest of this one."""
    code = textwrap.dedent(
        f"""
        import asyncio, json, sys
        from datasette.app import Datasette
        async def main():
            ds = Datasette(immutables=[{str(site / "tiny.db")!r}])
            r = await ds.client.get("/tiny/records?_sort=nope")
            n = await ds.client.get("/no-such-page")
            sys.stderr.write(json.dumps([r.status_code, n.status_code, "Cannot sort" in r.text]))
        asyncio.run(main())
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    sort_status, unknown_status, english = json.loads(proc.stderr.strip().splitlines()[-1])
    assert sort_status == 500
    assert unknown_status == 404
    assert english
    assert "Traceback" in proc.stdout  # rich's dump, with locals
