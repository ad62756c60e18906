"""Error pages through the real Datasette client: plugins/error_pages.py + templates/error.html."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from html import unescape
from pathlib import Path

import pytest
import sqlite_utils
from datasette import hookimpl
from datasette.plugins import pm
from markupsafe import Markup

from gongkai import i18n
from gongkai.limits import Limits
from gongkai.portal import error_messages
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
    db["pairs"].insert_all(
        [{"code": "A", "year": 2000, "v": 1}, {"code": "A", "year": 2001, "v": 2}], pk=("code", "year")
    )
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
    assert "There is no such table." in r.text
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
    assert "Cannot sort the table by “nope”: there is no such column" in r.text

    r = await ds.client.get("/tiny/records.json?_sort=nope")
    assert r.status_code == 400
    assert r.json() == {
        "ok": False,
        "error": "Cannot sort the table by “nope”: there is no such column, or it cannot be sorted. "
        "Click a column name in the table's header to sort by it.",
        "error_zh": "无法按“nope”排序：没有这一列，或这一列不能排序。请点击表头中的列名来排序。",
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
    assert "_size (rows per page) must be a positive whole number" in r.text


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


# --- database errors: a sentence in each language that says what to do ------------------------


@pytest.fixture
def sql_ds(site):
    # No rate limit: each test sends many queries (the limits have their own tests).
    return make_datasette(site, root=ROOT, limits=Limits(sql_per_minute=0, search_per_minute=0))


def text_of(html: str) -> str:
    """Visible text: tags removed, entities decoded (escaping is checked on the raw HTML)."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def alert(html: str) -> str:
    """The text of a query page's error box (`role="alert"`)."""
    found = re.search(r'<div class="message-error" role="alert">(.*?)</div>', html, re.S)
    assert found, "no error box on the page"
    return text_of(found.group(1))


def sentence(html: str) -> str:
    """The sentence the visitor reads first: the query page's error box's first paragraph, or
    the error page's message (the database's words follow it in their own paragraph)."""
    found = re.search(r'role="alert">\s*<p>(.*?)</p>', html, re.S) or re.search(
        r'<p class="error-message">(.*?)</p>', html, re.S
    )
    assert found, "no error sentence on the page"
    return text_of(found.group(1))


def detail(html: str) -> str:
    found = re.search(r'<p class="error-detail">.*?<code>(.*?)</code></p>', html, re.S)
    assert found, "the database's words are not on the page"
    return found.group(1)


# (SQL a visitor might send, the database's own words, the Chinese and English sentences' telling parts)
SQL_MISTAKES = [
    (
        "select * from nonexist",
        "no such table: nonexist",
        "没有名为“nonexist”的数据表",
        "has no table named “nonexist”",
    ),
    ("select nope from records", "no such column: nope", "没有“nope”这一列", "There is no column “nope”"),
    (
        "select * from records where 地区 = 北京",
        "no such column: 北京",
        "文本值要用英文单引号",
        "a text value in single quotes",
    ),
    ("selec 1", "Statement must be a SELECT", "必须以 SELECT 或 WITH 开头", "must start with SELECT or WITH"),
    ("select from records", 'near "from": syntax error', "问题出在“from”附近", "syntax error near “from”"),
    ("select count(*) from records group by", "incomplete input", "SQL 语句不完整", "statement is incomplete"),
    ("select * from records a, records b where id = 1", "ambiguous column name: id", "“id”有歧义", "“id” is ambiguous"),
    (
        "select abs(1, 2)",
        "wrong number of arguments to function abs()",
        "函数 abs() 的参数个数不对",
        "abs() was given the wrong number",
    ),
    ("select nofunc(1)", "no such function: nofunc", "没有 nofunc() 这个函数", "There is no function nofunc()"),
    ("select 'abc", 'unrecognized token: "\'abc"', "引号没有配对", "a quote may be unmatched"),
    (
        "select 1; select 2",
        "You can only execute one statement at a time.",
        "一次只能运行一条",
        "Only one SQL statement",
    ),
    ("select *", "no tables specified", "需要用 FROM", "needs FROM"),
    (
        "select 1 order by 3",
        "1st ORDER BY term out of range - should be between 1 and 1",
        "只能是 1 到 1",
        "A column number in ORDER BY",
    ),
    (
        "select 1 union select 1, 2",
        "SELECTs to the left and right of UNION do not have the same number of result columns",
        "UNION 两边的 SELECT 返回的列数不同",
        "either side of UNION return different numbers",
    ),
    ("select (select 1, 2)", "sub-select returns 2 columns - expected 1", "子查询返回了 2 列", "returns 2 columns"),
    (
        "select count(count(1)) from records",
        "misuse of aggregate function count()",
        "count() 用错了位置",
        "count() is used in the wrong place",
    ),
    (
        "select 1 from records where (1, 2)",
        "row value misused",
        "（行值）用错了位置",
        "(a row value) is used in the wrong place",
    ),
    ("select row_number() over w from records", "no such window: w", "没有名为“w”的窗口", "no window named “w”"),
    ("select * from records limit 'x'", "datatype mismatch", "数据类型不匹配", "wrong type"),
    ("select json_extract('x', '$')", "malformed JSON", "不是有效的 JSON", "not valid JSON"),
    (
        "select ?",
        "Binding 1 has no name, but you supplied a dictionary (which has only names).",
        "请用 :名字 代替 ?",
        "write :name instead of ?",
    ),
    (
        "select 'a' = 'b' collate nocollation",
        "no such collation sequence: nocollation",
        "没有名为“nocollation”的排序规则",
        "no collation named “nocollation”",
    ),
    (
        "select * from pragma_compile_options()",
        "Statement contained a disallowed PRAGMA",
        "不允许的 PRAGMA",
        "a PRAGMA this site does not allow",
    ),
]


@pytest.mark.parametrize("sql, database_says, zh, en", SQL_MISTAKES, ids=[m[1][:40] for m in SQL_MISTAKES])
async def test_sql_mistakes_get_a_sentence_that_says_what_to_do(sql_ds, sql, database_says, zh, en):
    """The query page, its English version and its JSON: the sentence in the page's language,
    the database's own words kept (escaped), Datasette's JSON fields kept."""
    escaped = str(Markup.escape(database_says.replace('\\"', '"')))
    plain = database_says.replace('\\"', '"')
    for lang, telling, other in (("zh", zh, en), ("en", en, zh)):
        r = await sql_ds.client.get("/tiny", params={"sql": sql, **({"_lang": "en"} if lang == "en" else {})})
        assert r.status_code == 400, (sql, r.status_code)
        assert f'<html lang="{i18n.html_lang(lang)}">' in r.text
        # "Statement must be a SELECT" is refused before the query runs: the site's error page
        said = sentence(r.text)
        assert telling in said, (lang, said)
        assert other not in said
        assert i18n.t("err_sql_unknown", lang) not in said  # a pattern knew it, not the fallback
        assert detail(r.text).startswith(escaped.split(".")[0])  # the database's words, escaped
    r = await sql_ds.client.get("/tiny.json", params={"sql": sql})
    assert r.status_code == 400
    body = r.json()
    assert body["ok"] is False and body["status"] == 400
    assert zh in body["error_zh"] and en in body["error"]
    assert body["detail"].startswith(plain.split(".")[0])
    assert body["title"] == "Bad request" and body["title_zh"] == "请求有误"


async def test_query_json_keeps_datasettes_fields_and_a_good_query_is_untouched(sql_ds):
    r = await sql_ds.client.get("/tiny.json", params={"sql": "select nope from records"})
    body = r.json()
    assert body["database"] == "tiny" and body["query"]["sql"] == "select nope from records"
    assert body["rows"] == [] and body["columns"] == []
    assert body["detail"] == "no such column: nope"
    good = await sql_ds.client.get("/tiny.json", params={"sql": "select count(*) as n from records"})
    assert good.status_code == 200
    assert good.json()["ok"] is True and good.json()["rows"] == [[5]]
    assert "error_zh" not in good.json() and "detail" not in good.json()
    table = await sql_ds.client.get("/tiny/records.json?_shape=objects")
    assert table.status_code == 200 and len(table.json()["rows"]) == 5 and "error_zh" not in table.json()


async def test_an_unknown_database_error_still_gets_a_sentence_and_its_words(sql_ds):
    sql = "select 'a' like 'b' escape 'cd'"
    for lang in ("zh", "en"):
        r = await sql_ds.client.get("/tiny", params={"sql": sql, "_lang": lang})
        box = alert(r.text)
        assert i18n.t("err_sql_unknown", lang) in box
        assert "ESCAPE expression must be a single character" in box
    body = (await sql_ds.client.get("/tiny.json", params={"sql": sql})).json()
    assert body["error_zh"] == "数据库无法执行这条查询。请根据下面的数据库原文修改 SQL 后重试。"
    assert body["detail"] == "ESCAPE expression must be a single character"


async def test_database_words_are_escaped_in_both_places(sql_ds):
    r = await sql_ds.client.get("/tiny", params={"sql": 'select * from "<b>x</b>"'})
    assert r.status_code == 400
    assert "<b>x</b>" not in r.text
    assert "没有名为“&lt;b&gt;x&lt;/b&gt;”的数据表" in r.text
    assert "<code>no such table: &lt;b&gt;x&lt;/b&gt;</code>" in r.text


async def test_a_statement_that_is_not_a_select_in_both_languages(sql_ds):
    r = await sql_ds.client.get("/tiny", params={"sql": "update records set 名称 = 'x'"})
    assert r.status_code == 400
    assert h1s(r.text) == ["请求有误"]
    assert "本站只运行读取数据的查询" in r.text
    assert "<code>Statement must be a SELECT</code>" in r.text
    assert "请修改 SQL 语句后重新运行" in r.text  # the hint speaks of SQL, not of sort columns
    assert "请求有误：Statement" not in r.text
    r = await sql_ds.client.get("/tiny", params={"sql": "update records set 名称 = 'x'", "_lang": "en"})
    assert "This site only runs queries that read data" in r.text and "Correct the SQL" in r.text
    r = await sql_ds.client.get("/tiny.json", params={"sql": "delete from records"})
    assert r.status_code == 400 and r.json()["detail"] == "Statement must be a SELECT"
    assert r.json()["error_zh"].startswith("本站只运行读取数据的查询")


async def test_a_damaged_next_token_on_a_table_page(sql_ds):
    """The visitor is told about the address, not SQL: a token of the wrong shape is refused
    before Datasette builds SQL from it (it was `near ")": syntax error` from the database)."""
    r = await sql_ds.client.get("/tiny/pairs?_sort=v&_next=zz")
    assert r.status_code == 400
    assert "分页参数 _next 无效" in r.text and "syntax error" not in r.text
    r = await sql_ds.client.get("/tiny/pairs?_sort=v&_next=zz&_lang=en")
    assert r.status_code == 400 and "The page parameter _next is not valid" in r.text
    body = (await sql_ds.client.get("/tiny/pairs.json?_sort=v&_next=zz")).json()
    assert body["status"] == 400 and body["error_zh"].startswith("分页参数 _next 无效")


async def test_a_visitor_where_clause_is_visitor_sql(sql_ds):
    r = await sql_ds.client.get("/tiny/records.json?_where=nope%3D1")
    assert r.status_code == 400
    assert r.json()["error_zh"].startswith("没有“nope”这一列") and r.json()["detail"] == "no such column: nope"


async def test_bad_json_in_an_argument_is_400_not_500(sql_ds):
    for path in ("/tiny/records?id__in=[1", "/tiny/records?_through={bad"):
        r = await sql_ds.client.get(path)
        assert r.status_code == 400, path
        assert "的值不是有效的 JSON" in r.text
        r = await sql_ds.client.get(path + "&_lang=en")
        assert "parameter is not valid JSON" in r.text
    r = await sql_ds.client.get("/tiny/records.json?id__in=[1")
    assert r.status_code == 400 and "“id__in”" in r.json()["error_zh"]


async def test_a_row_address_with_too_few_key_values_is_404_not_500(sql_ds):
    assert (await sql_ds.client.get("/tiny/pairs/A,2000")).status_code == 200
    r = await sql_ds.client.get("/tiny/pairs/A")
    assert r.status_code == 404
    assert "网址没有给出主键的每一列的值" in r.text
    r = await sql_ds.client.get("/tiny/pairs/A?_lang=en")
    assert "does not give a value for each column of the primary key" in r.text
    r = await sql_ds.client.get("/tiny/pairs/A.json")
    assert r.status_code == 404 and r.json()["error_zh"].startswith("找不到该记录")


async def test_json_renderer_mistakes_are_bilingual(sql_ds):
    r = await sql_ds.client.get("/tiny/records.json?_shape=bad")
    assert r.status_code == 400
    body = r.json()
    assert body["error"].startswith("“bad” is not a valid _shape") and body["error_zh"].startswith(
        "_shape 的值“bad”无效"
    )
    assert body["title_zh"] == "请求有误"
    r = await sql_ds.client.get("/tiny.json", params={"sql": "select 1", "_shape": "object"})
    assert r.json()["error_zh"].startswith("_shape=object 只能用于数据表")


def test_every_pattern_names_a_string_with_its_placeholders():
    """A placeholder missing from a pattern's groups would fail at format time (a 500)."""
    field = re.compile(r"{(\w+)}")
    for pattern, key in [*error_messages.REQUEST, *error_messages.SQL]:
        assert key in i18n.STRINGS, key
        groups = set(re.compile(pattern).groupindex)
        for lang in ("zh", "en"):
            assert set(field.findall(i18n.STRINGS[key][lang])) == groups, (key, lang)


def test_explain_kinds():
    page = error_messages.explain("no such column: x", "page")
    assert page.zh.startswith("没有“x”这一列") and page.detail == "no such column: x" and not page.about_sql
    assert error_messages.explain("no such column: x", "sql").about_sql
    assert error_messages.explain('near ")": syntax error', "page", frozenset({"_next"})).en.startswith(
        "The page parameter"
    )
    assert error_messages.explain("something odd", "page").en == i18n.t("err_page_bad_query", "en")
    odd = error_messages.explain("something odd")
    assert odd.zh == "这个网址中的参数有误。" and odd.detail == "something odd"
    # Datasette's words about the address need no detail: the sentence says it all
    assert error_messages.explain("_size must be <= 1000").detail is None


PORTAL_404S = [
    ("Dataset not found", "找不到该数据集", "There is no such dataset"),
    ("Resource not found", "该数据集中没有这张数据表", "This dataset has no such table"),
    ("Report not found", "该数据集没有这份报告", "This dataset has no such report"),
    ("File not found", "找不到该文件", "There is no such file"),
    ("Publisher not found", "找不到该发布机构", "There is no such publisher"),
    ("Theme not found", "找不到该主题", "There is no such theme"),
    ("Catalogue not found", "网站的数据目录暂时不可用", "The site's catalogue is not available"),
]


@pytest.mark.parametrize("message, zh, en", PORTAL_404S)
def test_portal_not_found_messages_are_known(message, zh, en):
    """plugins/portal.py's "… not found": a sentence in each language, not the English."""
    found = error_messages.explain(message, fallback="err_page_not_found")
    assert found.zh.startswith(zh) and found.en.startswith(en) and found.detail is None


async def test_a_portal_404_is_in_the_page_language(ds):
    # This site has no catalogue: the portal says so, in each language.
    r = await ds.client.get("/datasets/no-such-dataset")
    assert r.status_code == 404
    assert sentence(r.text) == "网站的数据目录暂时不可用，请稍后再试。"
    r = await ds.client.get("/datasets/no-such-dataset?_lang=en")
    assert sentence(r.text).startswith("The site's catalogue is not available")


def test_an_unknown_404_message_still_says_not_found():
    found = error_messages.explain("Widget not found", fallback="err_page_not_found")
    assert found.zh == "找不到该页面。" and found.detail == "Widget not found"
    assert found.detail_label == "err_detail_label_site"  # not "the database said"


@pytest.mark.parametrize(
    "path",
    [
        "/tiny/records.json?_next=zzz",  # text for an INTEGER key: the "next" page would be empty
        "/tiny/records.json?_next=1,2",  # two values for a one-column key: page one again
        "/tiny/pairs.json?_next=A",  # one value for a two-column key
        "/tiny/records.json?_next=~zz",  # not a tilde escape
        "/tiny/records?_next=zzz",
        "/tiny/records.csv?_next=zzz",
    ],
)
async def test_a_bad_next_token_is_400_not_page_one(ds, path):
    r = await ds.client.get(path)
    assert r.status_code == 400, path
    if ".json" in path:
        body = r.json()
        assert body["status"] == 400 and "_next" in body["error"] and "_next" in body["error_zh"]
    elif ".csv" not in path:
        assert "_next" in r.text and h1s(r.text) == ["请求有误"]


async def test_the_next_tokens_the_site_gives_still_page(ds):
    """Every page's own `next` is accepted, sorted or not, and reaches the last row."""
    for path in ("/tiny/records.json?_size=2", "/tiny/records.json?_size=2&_sort=名称", "/tiny/pairs.json?_size=1"):
        seen, url = [], path
        while url:
            r = await ds.client.get(url)
            assert r.status_code == 200, url
            body = r.json()
            seen += body["rows"]
            url = body["next_url"] and body["next_url"].split("localhost", 1)[-1]
        assert len(seen) == {"records": 5, "pairs": 2}[path.split("/")[2].split(".")[0]]
    assert (await ds.client.get("/tiny/records.json?_next=3&_shape=objects")).json()["rows"][0]["id"] == 4
