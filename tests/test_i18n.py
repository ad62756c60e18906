"""gongkai.i18n (the strings table, language from the URL, localized values, URLs) and the
language of every page Datasette serves through plugins/site_context.py and templates/base.html."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import FIXTURES, REPO
from datasette.utils.asgi import Request

from gongkai import i18n
from gongkai.build import build_site
from gongkai.serve import make_datasette

# --- the strings table -------------------------------------------------------------------------


def test_every_key_has_chinese_and_english():
    assert i18n.STRINGS, "the strings table is empty"
    for key, entry in i18n.STRINGS.items():
        assert {"zh", "en"} <= set(entry) <= {"zh", "en", "en_one"}, key  # en_one: English singular
        assert entry["zh"].strip() and entry["en"].strip(), key


def test_placeholders_match_between_languages():
    field = re.compile(r"{(\w*)}")
    for key, entry in i18n.STRINGS.items():
        if key.startswith("validation."):
            # a validation note's English is frictionless's own wording (the differential tests
            # compare it verbatim); the Chinese says more (tests/test_error_types.py)
            continue
        assert sorted(field.findall(entry["zh"])) == sorted(field.findall(entry["en"])), key
        if "en_one" in entry:
            assert sorted(field.findall(entry["en_one"])) == sorted(field.findall(entry["en"])), key


def test_loader_merges_files_and_refuses_a_key_defined_twice(tmp_path):
    (tmp_path / "a.yaml").write_text("one: {zh: 一, en: one}\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("two: {zh: 二, en: two}\n", encoding="utf-8")
    assert i18n.load_strings(tmp_path) == {"one": {"zh": "一", "en": "one"}, "two": {"zh": "二", "en": "two"}}
    (tmp_path / "c.yaml").write_text("one: {zh: 壹, en: One}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="one"):
        i18n.load_strings(tmp_path)


def test_every_key_a_template_or_plugin_uses_exists():
    """`t("key")` / `t('key')` / `i18n.t("key"` in templates and plugins name real keys."""
    used = set()
    pattern = re.compile(r"""\bt\(\s*["']([a-z0-9_]+)["']\s*[,)]""")
    for path in [*(REPO / "templates").glob("*.html"), *(REPO / "plugins").glob("*.py")]:
        used |= {(m, path.name) for m in pattern.findall(path.read_text(encoding="utf-8"))}
    missing = sorted((key, name) for key, name in used if key not in i18n.STRINGS)
    assert not missing
    assert len(used) > 20  # the pattern does find the calls


def test_every_datasette_filter_has_a_label_and_a_description():
    from datasette.filters import Filters

    for key, _, _ in Filters([]).lookups():
        assert f"op_{key}" in i18n.STRINGS and f"desc_{key}" in i18n.STRINGS, key


def test_t_formats_and_falls_back():
    assert i18n.t("rows_n", "zh", n="1,234") == "1,234 行"
    assert i18n.t("rows_n", "en", n="1,234") == "1,234 rows"
    assert i18n.t("no-such-key", "en") == "no-such-key"


# --- language of a request, localized values -----------------------------------------------------


@pytest.mark.parametrize(
    "path, lang",
    [
        ("/", "zh"),
        ("/?_lang=en", "en"),
        ("/x?_lang=zh", "zh"),
        ("/x?_lang=fr", "zh"),
        ("/x?lang=en", "zh"),
        ("/x?a=1&_lang=en", "en"),
    ],
)
def test_lang_of(path, lang):
    assert i18n.lang_of(Request.fake(path)) == lang


def test_lang_of_ignores_cookies():
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "query_string": b"",
            "headers": [(b"cookie", b"_lang=en; lang=en")],
        },
        None,
    )
    assert i18n.lang_of(request) == "zh"


def test_html_lang():
    assert i18n.html_lang("zh") == "zh-CN" and i18n.html_lang("en") == "en"


def test_localized():
    assert i18n.localized("原文", "en") == "原文"
    assert i18n.localized({"zh": "中文", "en": "English"}, "en") == "English"
    assert i18n.localized({"zh": "中文", "en": "English"}, "zh") == "中文"
    assert i18n.localized({"zh": "中文"}, "en") == "中文"
    assert i18n.localized({"zh": "", "en": "English"}, "zh") == "English"
    assert i18n.localized(None, "en") is None


def test_localized_field():
    row = {"title": "人口", "title_en": "Population", "title_zh": None}
    assert i18n.localized_field(row, "title", "en") == "Population"
    assert i18n.localized_field(row, "title", "zh") == "人口"
    english_original = {"title": "Domains", "title_en": None, "title_zh": "域名"}
    assert i18n.localized_field(english_original, "title", "zh") == "域名"
    assert i18n.localized_field(english_original, "title", "en") == "Domains"
    assert i18n.localized_field({"title": "x"}, "title", "en") == "x"


# --- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, lang, expected",
    [
        ("/datasets", "en", "/datasets?_lang=en"),
        ("/datasets?_lang=en", "en", "/datasets?_lang=en"),
        ("/datasets?_lang=en", "zh", "/datasets"),
        ("/db/t?_sort=a&_lang=en&x=1", "zh", "/db/t?_sort=a&x=1"),
        ("/db/t?_sort=a&x=1", "en", "/db/t?_sort=a&x=1&_lang=en"),
        ("/db/t?_facet=a&_facet=b", "en", "/db/t?_facet=a&_facet=b&_lang=en"),
        ("/db/t?q=%E7%BB%B4%E4%BF%AE#rows", "en", "/db/t?q=%E7%BB%B4%E4%BF%AE&_lang=en#rows"),
        ("/db/t?empty=", "en", "/db/t?empty=&_lang=en"),
        ("https://example.org/a?b=1", "en", "https://example.org/a?b=1&_lang=en"),
    ],
)
def test_lang_url(url, lang, expected):
    assert i18n.lang_url(url, lang) == expected


def test_alternates():
    assert i18n.alternates(Request.fake("/db/t?_sort=a&_lang=en")) == {
        "zh": "/db/t?_sort=a",
        "en": "/db/t?_sort=a&_lang=en",
    }
    assert i18n.alternates(Request.fake("/")) == {"zh": "/", "en": "/?_lang=en"}


# --- through Datasette ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("i18n") / "repo"
    shutil.copytree(FIXTURES / "site", root)
    result = build_site(root, root.parent / "out")
    assert result.ok
    return root.parent / "out" / "site"


@pytest.fixture
async def ds(built):
    ds = make_datasette(built, root=REPO)
    await ds.invoke_startup()
    return ds


async def some_table(ds) -> tuple[str, str]:
    for name, db in ds.databases.items():
        if name in ("_internal", "catalog"):
            continue
        tables = [t for t in await db.table_names() if not t.startswith("_")]
        if tables:
            return name, tables[0]
    raise AssertionError("the fixture site has no table")


async def pages(ds) -> list[str]:
    db, table = await some_table(ds)
    return [
        f"/{db}",
        f"/{db}/{table}",
        f"/{db}/{table}/1",
        f"/{db}?sql=select+1",
        "/-/search?q=x",
        "/-/metadata",
        "/no-such-page",
    ]


async def test_html_lang_and_alternates_on_every_page(ds):
    for path in await pages(ds):
        zh = await ds.client.get(path)
        sep = "&" if "?" in path else "?"
        en = await ds.client.get(path + sep + "_lang=en")
        assert '<html lang="zh-CN">' in zh.text, path
        assert '<html lang="en">' in en.text, path
        for r in (zh, en):
            assert "set-cookie" not in r.headers, path
            assert "private" not in r.headers.get("cache-control", ""), path
            if r.status_code == 404:  # noindex error pages: only the switch link
                assert 'name="robots" content="noindex"' in r.text
                continue
            assert r.status_code == 200, path
            assert 'hreflang="zh"' in r.text and 'hreflang="en"' in r.text, path


async def test_language_switch_and_links_carry_the_language(ds):
    db, table = await some_table(ds)
    en = await ds.client.get(f"/{db}/{table}?_lang=en")
    assert en.status_code == 200
    assert f'hreflang="zh" href="/{db}/{table}"' in en.text
    assert ">中文</a>" in en.text
    assert 'href="/datasets?_lang=en"' in en.text  # header links keep English
    assert "Skip to content" in en.text and '<main id="main"' in en.text
    zh = await ds.client.get(f"/{db}/{table}")
    assert "跳到正文" in zh.text and ">English</a>" in zh.text
    assert f'hreflang="en" href="/{db}/{table}?_lang=en"' in zh.text


async def test_site_css_is_served_by_the_site(ds):
    db, table = await some_table(ds)
    r = await ds.client.get(f"/{db}/{table}")
    found = re.search(r'<link rel="stylesheet" href="([^"]+gongkai\.css[^"]*)"', r.text)
    assert found
    css = await ds.client.get(found.group(1).split("?")[0])
    assert css.status_code == 200 and ".skip-link" in css.text
    assert "https://" not in r.text.split("</head>")[0].replace('"https://', "")  # nothing from other hosts


def test_english_singular():
    from gongkai.i18n import t

    assert t("portal.n_datasets", "en", n=1) == "1 dataset"
    assert t("portal.n_datasets", "en", n=2) == "2 datasets"
    assert t("portal.n_datasets", "zh", n=1) == "1 个数据集"


def test_the_language_is_resolved_once_per_request():
    from datasette.utils.asgi import Request

    request = Request.fake("/datasets?_lang=en")
    assert i18n.lang_of(request) == "en"
    request.scope["query_string"] = b""  # a later look at the arguments would say zh
    assert i18n.lang_of(request) == "en"
    assert i18n.lang_of(Request.fake("/datasets")) == "zh"


def test_language_carrying_urls_come_from_one_helper():
    """Cell links, forms and the templates all carry the language through gongkai.i18n."""
    from markupsafe import Markup

    from plugins.datasette_pages import cell_html

    html = Markup('<a href="/db/t/1">1</a> <a href="/db/t?a=1&amp;b=%E5%8C%97">b</a> <a href="https://x.org/">x</a>')
    out = str(cell_html(html, "en"))
    assert 'href="/db/t/1?_lang=en"' in out
    assert 'href="/db/t?a=1&amp;b=%E5%8C%97&amp;_lang=en"' in out  # arguments kept, escaped once
    assert 'href="https://x.org/"' in out  # other sites are not ours to change
    assert str(cell_html(html, "zh")) == str(html)
    assert i18n.hidden_input("en") == '<input type="hidden" name="_lang" value="en">'
    assert i18n.hidden_input("zh") == ""
    templates = "".join(p.read_text(encoding="utf-8") for p in (REPO / "templates").glob("*.html"))
    assert "_lang=en" not in templates and 'name="_lang"' not in templates


# Chinese in the site's Python that is not prose: a search term in the API page's example URL.
NOT_PROSE = {"人口"}


def test_no_chinese_text_in_the_sites_python():
    """Words a visitor reads live in gongkai/locales/*.yaml, in both languages: the plugins and
    the portal hold no Chinese string (docstrings and comments aside), so none is missing its
    English. (The constraint words, chart units and the search description once were here.)"""
    import ast

    cjk = re.compile(r"[\u4e00-\u9fff]")
    found = []
    for path in sorted([*(REPO / "plugins").glob("*.py"), *(REPO / "gongkai" / "portal").glob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body
            and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)
        }
        for n in ast.walk(tree):
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings:
                if cjk.search(n.value) and n.value not in NOT_PROSE:
                    found.append(f"{path.relative_to(REPO)}:{n.lineno}: {n.value!r}")
    assert not found
