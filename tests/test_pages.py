"""Pages rendered from their typed contexts (gongkai.portal.pages), and the language bugs a
person saw before the catalogue had one home: each translated field in the page's language,
licence titles, masking in words, English singulars, breadcrumbs, the preview, search hits,
and catalog.db kept off the public routes.

The site is the repository's own datasets, built once; pages are requested through Datasette's
client. The expected values come from the descriptors, not from the code under test."""

import ast
import dataclasses
import html as htmllib
import json
import re
from datetime import date

import markupsafe
import pytest
from conftest import REPO
from datasette.utils import path_from_row_pks

from gongkai import catalogue, i18n
from gongkai.build import build_site
from gongkai.catalogue import listing
from gongkai.catalogue.records import RECORDS, DatasetRecord
from gongkai.portal import markdown, pages
from gongkai.portal.preview import cell_text
from gongkai.serve import make_datasette

DATASETS = sorted(p.name for p in (REPO / "datasets").iterdir() if (p / "datapackage.json").is_file())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("pages")
    assert build_site(REPO, out).ok
    return out / "site"


@pytest.fixture
async def ds(built):
    instance = make_datasette(built, root=REPO)
    await instance.invoke_startup()
    return instance


def descriptor(name: str) -> dict:
    """The dataset's descriptor, a shared schema (`shared:<name>`) put in from metadata/schemas/."""
    d = json.loads((REPO / "datasets" / name / "datapackage.json").read_text(encoding="utf-8"))
    for res in d.get("resources", []):
        if isinstance(res.get("schema"), str) and res["schema"].startswith("shared:"):
            shared = REPO / "metadata" / "schemas" / f"{res['schema'].split(':', 1)[1]}.json"
            res["schema"] = json.loads(shared.read_text(encoding="utf-8"))
    return d


def text_of(html: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def squeezed(text: str) -> str:
    """Text with every tag and all whitespace removed, for comparing rendered prose."""
    return "".join(htmllib.unescape(re.sub(r"<[^>]+>", "", text)).split())


def esc(text: str) -> str:
    return str(markupsafe.escape(text))


def in_lang(d: dict, key: str, lang: str):
    """The descriptor's `key` in `lang`: its gov:translations entry, else the original."""
    return ((d.get("gov:translations") or {}).get(lang) or {}).get(key) or d.get(key)


async def get(ds, path: str, lang: str) -> str:
    response = await ds.client.get(i18n.lang_url(path, lang))
    assert response.status_code == 200, path
    return response.text


# ---------------------------------------------------------------------------------------------
# The contract: every page type renders from its context


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_page_type_renders_from_its_context(ds, built, lang):
    store = catalogue.of(ds)
    links = pages.Links(lang, ds.urls.path)
    reg = store.read_now(lambda c: c.registries())
    # home
    home = pages.home_page(
        **store.read_now(
            lambda c: dict(
                totals=c.totals(),
                themes=c.themes_in_use(),
                publishers=c.publishers_in_use(),
                recent=c.recent(),
                reg=c.registries(),
                site=c.site(),
            )
        ),
        links=links,
    )
    html = await get(ds, "/", lang)
    for item in home.recent + home.themes + home.publishers:  # type: ignore[operator]
        assert esc(getattr(item, "display_title", None) or item.display_name) in html
        assert f'href="{esc(item.url)}"' in html
    # catalogue: every facet option's label and link
    query = listing.parse({})
    page = store.read_now(lambda c: c.listing(query, lang))
    cat = pages.catalogue_page(query=query, page=page, reg=reg, links=links)
    html = await get(ds, "/datasets", lang)
    for facet in cat.facets:
        for option in facet.options:
            assert esc(option.url) in html and esc(str(option.label)) in html
    assert [d.record.name for d in cat.datasets] == re.findall(
        r'class="dataset-card-title"><a href="/datasets/([a-z0-9-]+)', html
    )
    # every landing page: title, each resource's title and links
    for name in DATASETS:
        bundle = store.read_now(lambda c, name=name: c.dataset(name))
        ctx = pages.dataset_page(
            bundle=bundle,
            previews={},
            links=links,
            base="http://x",
            today=date.today(),
            table_path=ds.urls.table,
            table_file=lambda d, t, f: ds.urls.table(d, t, format=f),
            database_path=ds.urls.database,
        )
        html = await get(ds, f"/datasets/{name}", lang)
        assert f"<h1>{esc(ctx.title)}</h1>" in html
        for r in ctx.resources:
            assert esc(r.display_title) in html
            # the file's link carries its content version (`?v=<sha>`: plugins/http_cache.py)
            assert f'href="{esc(r.table_url)}"' in html and re.search(
                f'href="{re.escape(esc(r.download_url))}(\\?v=[0-9a-f]{{16}}(&amp;_lang=en)?)?"', html
            )
    # publishers, themes
    for ident in reg.publishers:
        bundle = store.read_now(lambda c, ident=ident: c.publisher(ident))
        ctx = pages.publisher_page(bundle=bundle, reg=reg, links=links)
        html = await get(ds, f"/publishers/{ident}", lang)
        assert esc(ctx.name) in html
        assert all(esc(d.display_title) in html for d in ctx.datasets)
    for ident in reg.themes:
        bundle = store.read_now(lambda c, ident=ident: c.theme(ident))
        ctx = pages.theme_page(bundle=bundle, reg=reg, links=links)
        html = await get(ds, f"/themes/{ident}", lang)
        assert esc(ctx.name) in html


def test_records_are_the_schema(built):
    """Every record class is a table of catalog.db with exactly its declared columns."""
    import sqlite3

    conn = sqlite3.connect(built / "catalog.db")
    for cls in RECORDS:
        columns = [r[1] for r in conn.execute(f"pragma table_info([{cls.TABLE}])")]
        assert columns == [name for name, _ in cls.columns()], cls.TABLE
        pk = [r[1] for r in sorted(conn.execute(f"pragma table_info([{cls.TABLE}])"), key=lambda r: r[5]) if r[5]]
        assert tuple(pk) == cls.KEY
    # the reader gives them back typed: JSON columns are Python values again
    c = catalogue.Catalogue(conn)
    d = c.dataset_record("core-gdp")
    assert isinstance(d, DatasetRecord) and isinstance(d.keywords, list) and isinstance(d.descriptor, dict)


def test_no_sql_in_plugins():
    """Plugins route and render; the catalogue's and the datasets' queries live in gongkai/."""
    sql = re.compile(r"\b(select|insert|update|delete|pragma)\s+[\w*\[]", re.IGNORECASE)
    for path in (REPO / "plugins").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and n.body
            and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)
        }
        strings = [
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
        ]
        strings += [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)]
        assert not [s for s in strings if sql.search(s)], path
        calls = [n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]
        assert "execute" not in calls and "executemany" not in calls, path


# ---------------------------------------------------------------------------------------------
# Translated fields in the page's language, falling back to the original


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", DATASETS)
async def test_landing_page_fields_in_the_page_language(ds, name, lang):
    d = descriptor(name)
    html = await get(ds, f"/datasets/{name}", lang)
    assert f"<h1>{esc(in_lang(d, 'title', lang))}</h1>" in html
    # the description shown is the one in the page's language (its first sentence, as rendered)
    page = squeezed(html)
    shown = squeezed(markdown.plain(in_lang(d, "description", lang)))[:60]
    assert shown in page, (name, lang)
    other = "en" if lang == "zh" else "zh"
    other_desc = squeezed(markdown.plain(in_lang(d, "description", other)))[:60]
    if other_desc != shown:
        assert other_desc not in page, f"{name}: the {other} description shows on the {lang} page"
    for res in d["resources"]:
        assert esc(in_lang(res, "title", lang) or res["name"]) in html
    keywords = ((d.get("gov:translations") or {}).get(lang) or {}).get("keywords") or d.get("keywords")
    original_lang = (
        "en"
        if (d.get("gov:translations") or {}).get("zh") and not (d.get("gov:translations") or {}).get("en")
        else "zh"
    )
    if lang == original_lang:
        keywords = d.get("keywords")
    for k in keywords:
        assert esc(k) in html


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", DATASETS)
async def test_table_and_field_texts_in_the_page_language(ds, name, lang):
    """The rest of the translated fields: each table's description, and each field's title and
    description in the data dictionary, in the page's language (else the original); the other
    language's description is not shown in its place."""
    d = descriptor(name)
    html = await get(ds, f"/datasets/{name}", lang)
    other = "en" if lang == "zh" else "zh"
    for res in d["resources"]:
        found = re.search(rf'<section id="resource-{re.escape(res["name"])}".*?</section>', html, re.S)
        assert found, (name, res["name"])
        section = squeezed(found.group(0))

        def shown(value) -> str:
            return squeezed(markdown.plain(value or ""))[:40]

        pairs = [(in_lang(res, "description", lang), in_lang(res, "description", other))]
        for f in res["schema"]["fields"]:
            assert squeezed(esc(in_lang(f, "title", lang) or f["name"])) in section, (name, f["name"], lang)
            pairs.append((in_lang(f, "description", lang), in_lang(f, "description", other)))
        for mine, theirs in pairs:
            if mine:
                assert shown(mine) in section, (name, res["name"], lang, mine)
            if theirs and shown(theirs) != shown(mine):
                assert shown(theirs) not in section, f"{name}/{res['name']}: the {other} text shows on the {lang} page"


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_datasette_pages_show_the_licence_title_in_the_page_language(ds, lang):
    import yaml

    licences = {e["id"]: e for e in yaml.safe_load((REPO / "metadata" / "licenses.yaml").read_text(encoding="utf-8"))}
    for name in DATASETS:
        lic = licences[descriptor(name)["licenses"][0]["name"]]
        title = lic["title"][lang] if isinstance(lic["title"], dict) else lic["title"]
        table = descriptor(name)["resources"][0]["name"]
        data = (await ds.client.get(f"/{name}/{table}.json?_size=1")).json()
        row = path_from_row_pks(
            dict(zip(data["columns"], data["rows"][0])), data["primary_keys"], not data["primary_keys"]
        )
        for path in (f"/{name}", f"/{name}/{table}", f"/{name}?sql=select+1", f"/{name}/{table}/{row}"):
            html = await get(ds, path, lang)
            assert esc(title) in html, (path, lang, title)


# ---------------------------------------------------------------------------------------------
# Small wording bugs


async def test_privacy_shows_masking_in_words(ds):
    for lang, words in (("zh", "不遮蔽"), ("en", "not masked")):
        text = text_of(await get(ds, "/privacy", lang))
        assert words in text
        assert not re.search(r"\bnone\b", text), lang


async def test_english_counts_use_the_singular(ds):
    html = await get(ds, "/datasets", "en")
    assert not re.search(r"(?<![\d,])1 (tables|rows)\b", html)
    assert re.search(r"\b1 table\b", text_of(html))  # core-gdp has one table
    zh = text_of(await get(ds, "/datasets", "zh"))
    assert "1 张表" in zh and not re.search(r"(?<![\d,])1 tables?\b", zh)  # the Chinese card, in Chinese
    assert i18n.t("portal.n_tables", "en", n=1) == "1 table" and i18n.t("portal.n_rows", "en", n=1200) == "1,200 rows"
    assert i18n.t("portal.dictionary_for_table", "en", table="t", n=1) == "Data dictionary of “t” (1 field)"


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_catalogue_breadcrumb_names_the_catalogue_once(ds, lang):
    html = await get(ds, "/datasets", lang)
    crumbs = text_of(re.search(r'<nav class="crumbs.*?</nav>', html, re.S).group(0))
    assert crumbs.split() == [i18n.t("nav_home", lang), *i18n.t("nav_datasets", lang).split()]


# ---------------------------------------------------------------------------------------------
# The preview: field titles and numbers for reading


def test_cell_text_formats_numbers_for_reading():
    assert cell_text(2813571753.8725324) == "2,813,571,753.87"
    assert cell_text(-3.5) == "-3.5" and cell_text(0.0) == "0" and cell_text(12.0) == "12"
    assert cell_text(2023) == "2023" and cell_text(110101) == "110,101" and cell_text(1412000000) == "1,412,000,000"
    assert cell_text(None) is None and cell_text("110101") == "110101"  # text is never reformatted


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_preview_uses_field_titles_and_readable_numbers(ds, lang):
    d = descriptor("core-gdp")
    html = await get(ds, "/datasets/core-gdp", lang)
    head = re.search(r'<table class="rows-and-columns preview">\s*<thead>(.*?)</thead>', html, re.S).group(1)
    titles = [in_lang(f, "title", lang) or f["name"] for f in d["resources"][0]["schema"]["fields"]]
    assert [text_of(th) for th in re.findall(r"<th[^>]*>(.*?)</th>", head)] == titles
    body = re.search(r'<table class="rows-and-columns preview">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    assert not re.search(r"\d\.\d{3,}", text_of(body))  # no long decimals
    assert re.search(r"\d{1,3}(,\d{3})+", text_of(body))  # GDP values grouped


# ---------------------------------------------------------------------------------------------
# Site search: plain-text snippets, hits told apart by their labels


async def test_search_snippets_are_plain_text_and_hits_carry_labels(ds):
    found = (await ds.client.get("/-/search.json", params={"q": "modood"})).json()
    for hit in found["datasets"]:
        assert "](" not in (hit["description_html"] or "") and "[" not in (hit["description_html"] or ""), hit["name"]
    rows = (await ds.client.get("/-/search.json", params={"q": "街道"})).json()
    streets = [t for g in rows["groups"] for t in g["tables"] if t["table"] == "streets"]
    assert streets and all(r["labels"] for r in streets[0]["rows"])  # each hit says which area it is in
    sample = streets[0]["rows"][0]["labels"]
    assert any(not v.isdigit() for v in sample.values())  # names, not codes
    # Datasette's English description of a table search is English (it said "搜索 search “…”")
    described = (await ds.client.get("/cn-admin-divisions/streets.json", params={"_search": "朝阳"})).json()
    assert described["human_description_en"] == "where search matches “朝阳”"  # Datasette adds "where"
    for lang in ("zh", "en"):
        html = await get(ds, "/-/search?q=modood", lang)
        snippets = re.findall(r"<small>(.*?)</small>", html, re.S)
        assert any("modood" in text_of(x) for x in snippets), lang  # the snippet is there …
        assert not any("](" in x or "[modood" in x for x in snippets), lang  # … without its Markdown
        html = await get(ds, "/-/search?q=街道", lang)
        labels = re.findall(r'<small class="hit-labels">(.*?)</small>', html, re.S)
        assert labels, lang
        # each label names its column in the page's language: "省级代码（上级）" / "Province code (parent)"
        assert all(re.search(r"[\u4e00-\u9fff]", label) for label in labels)
        heads = [text_of(label).split(":")[0].split("：")[0] for label in labels]
        if lang == "en":
            assert all(re.fullmatch(r"[A-Za-z ()-]+", h.strip()) for h in heads), heads
        else:
            assert all(re.search(r"[\u4e00-\u9fff]", h) for h in heads), heads


# ---------------------------------------------------------------------------------------------
# catalog.db is the portal's, not a public database


@pytest.mark.parametrize(
    "path",
    [
        "/catalog",
        "/catalog.json",
        "/catalog.db",
        "/catalog/datasets",
        "/catalog/datasets.json",
        "/catalog?sql=select+*+from+datasets",
        "/-/databases.json",
    ],
)
async def test_the_catalogue_database_is_not_served(ds, path):
    for lang in ("zh", "en"):
        response = await ds.client.get(i18n.lang_url(path, lang))
        if path == "/-/databases.json":
            names = [d["name"] for d in response.json()] if response.status_code == 200 else []
            assert "catalog" not in names
            continue
        if path.split("?")[0] == "/catalog":
            # the catalogue's IRI in the DCAT-AP documents (plugins/opendata.py): a browser is sent
            # to the catalogue list, never to the database
            assert response.status_code == 303, (path, lang)
            assert response.headers["location"].split("?")[0] == "/datasets", path
            continue
        assert response.status_code == 404, (path, lang)
        if not path.endswith((".json", ".db")):  # the 404 page is in the asked language
            assert f'<html lang="{i18n.html_lang(lang)}">' in response.text
            assert i18n.t("error_title_404", lang) in response.text


def test_page_contexts_are_dataclasses():
    for cls in (
        pages.HomePage,
        pages.CataloguePage,
        pages.DatasetPage,
        pages.ReportPage,
        pages.PublisherPage,
        pages.ThemePage,
        pages.StaticPage,
    ):
        assert dataclasses.is_dataclass(cls)
