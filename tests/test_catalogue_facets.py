"""The catalogue list's in-memory facet index (gongkai/catalogue/facet_index.py) against plain
SQL over catalog.db: for random filter combinations, sorts, languages and search words on a
built portal of a few hundred generated datasets, the matching datasets (in order) and every
facet's counts are exactly what a straightforward SQL query over the `datasets` table gives.

The generated portal is uniform (one licence, one format, every dataset translated), so a copy
of its catalog.db is first given the cases it lacks: datasets without a theme, without a
translation or in English, a format in capitals, repeated keywords, titles differing only in
case, equal modification dates and sizes."""

import random
import shutil
import sqlite3

import pytest
from conftest import REPO

from gongkai.bench import portal as gen
from gongkai.build import build_site
from gongkai.catalogue import Catalogue, listing
from gongkai.search.index import CATALOG_WEIGHTS
from gongkai.search.tokens import match_expression

N = 300
WORDS = ["停车场", "car parks", "朝阳", "health", "schools", "海淀", "budget", "zzzz-none"]
SORTS = ["", "title", "modified", "size", "relevance"]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    root = gen.write_portal(tmp_path_factory.mktemp("portal"), N, rows=3, project=REPO)
    out = tmp_path_factory.mktemp("out")
    assert build_site(root, out).ok
    path = tmp_path_factory.mktemp("cat") / "catalog.db"
    shutil.copyfile(out / "site" / "catalog.db", path)
    conn = sqlite3.connect(path)
    rnd = random.Random(7)
    rowids = [r[0] for r in conn.execute("select rowid from datasets")]
    for rowid in rnd.sample(rowids, 40):
        conn.execute("update datasets set theme = null where rowid = ?", [rowid])
    for rowid in rnd.sample(rowids, 40):
        conn.execute("update datasets set keywords_translated = null where rowid = ?", [rowid])
    for rowid in rnd.sample(rowids, 40):
        conn.execute(
            'update datasets set language = \'en\', keywords = \'["Roads", "roads", "Roads"]\', '
            "title_en = upper(title_en), modified = '2020-01-01', bytes = 1000, rows = 5 where rowid = ?",
            [rowid],
        )
    names = [r[0] for r in conn.execute("select name from datasets order by name")]
    for name in rnd.sample(names, 30):
        conn.execute("update resources set format = 'CSV' where dataset = ?", [name])
    for name in rnd.sample(names, 20):
        conn.execute("insert into resources (dataset, name, position, format) values (?, 'extra', 9, 'json')", [name])
    # Titles equal but for case, and one without an English title (the original is used).
    conn.execute("update datasets set title_en = 'ABC' where rowid in (select rowid from datasets limit 3)")
    conn.execute("update datasets set title_en = 'abc' where rowid in (select rowid from datasets limit 3 offset 3)")
    conn.execute("update datasets set title_en = '' where rowid in (select rowid from datasets limit 2 offset 6)")
    conn.commit()
    yield conn
    conn.close()


# --- the reference: plain SQL over the real tables ------------------------------------------------

CLAUSES = {
    "theme": "d.theme = ?",
    "publisher": "d.publisher = ?",
    "licence": "d.license = ?",
    "frequency": "d.frequency = ?",
    "openness": "d.openness = ?",
    "format": "exists (select 1 from resources r where r.dataset = d.name and lower(r.format) = lower(?))",
    "keyword": "(exists (select 1 from json_each(d.keywords) k where k.value = ?) "
    "or exists (select 1 from json_each(coalesce(d.keywords_translated, '[]')) k where k.value = ?))",
}
SEARCH = "d.rowid in (select rowid from _search_datasets where _search_datasets match ?)"


def clauses(filters, q, skip=None):
    sql, params = [], []
    for key, value in filters:
        if key != skip:
            sql.append(CLAUSES[key])
            params += [value] * CLAUSES[key].count("?")
    if q is not None:
        sql.append(SEARCH)
        params.append(q)
    return sql, params


def where(filters, q, skip=None, extra=()):
    sql, params = clauses(filters, q, skip)
    sql = [*extra, *sql]
    return (" where " + " and ".join(sql)) if sql else "", params


def expected_order(conn, filters, q, sort, lang):
    if sort == "relevance":
        sql, params = clauses(filters, None)
        title = Catalogue._search(q).title_match
        weights = ", ".join(str(w) for w in CATALOG_WEIGHTS)
        query = (
            "select d.rowid from _search_datasets s join datasets d on d.rowid = s.rowid "
            f"where {' and '.join(['_search_datasets match ?', *sql])} "
            "order by d.rowid in (select rowid from _search_datasets where _search_datasets match ?) desc, "
            f"bm25(_search_datasets, {weights}), d.name"
        )
        return [r[0] for r in conn.execute(query, [q, *params, title])]
    w, params = where(filters, q)
    title_col = "title_en" if lang == "en" else "title_zh"
    order = {
        "title": f"coalesce(nullif(d.{title_col}, ''), d.title) collate nocase, d.name",
        "size": "d.bytes desc, d.rows desc, d.name",
        "modified": "d.modified desc, d.name",
    }[sort]
    return [r[0] for r in conn.execute(f"select d.rowid from datasets d{w} order by {order}", params)]


def expected_counts(conn, filters, q, key, lang):
    w, params = where(filters, q, skip=key)
    if key == "format":
        w, params = where(filters, q, skip=key, extra=["r.format is not null"])
        sql = (
            "select lower(r.format), count(distinct d.rowid) from datasets d join resources r on r.dataset = d.name"
            f"{w} group by 1"
        )
    elif key == "keyword":
        shown = (
            "case when d.language = ? or coalesce(d.keywords_translated, '[]') = '[]' "
            "then d.keywords else d.keywords_translated end"
        )
        sql = f"select k.value, count(distinct d.rowid) from datasets d, json_each({shown}) k{w} group by 1"
        params = [lang, *params]
    else:
        column = {"licence": "license"}.get(key, key)
        sql = f"select d.{column}, count(*) from datasets d{w} group by 1"
    return {v: c for v, c in conn.execute(sql, params) if v is not None}


def random_filters(conn, rnd):
    values = {
        "theme": [r[0] for r in conn.execute("select distinct theme from datasets")] + ["no-such-theme"],
        "publisher": [r[0] for r in conn.execute("select distinct publisher from datasets")],
        "licence": ["CC-BY-4.0", "other"],
        "frequency": ["annual", "quarterly", "monthly"],
        "openness": ["unconditional"],
        "format": ["csv", "CSV", "json", "xlsx"],
        "keyword": ["roads", "Roads", "停车场", "car parks", "朝阳", "nothing"],
    }
    keys = rnd.sample(listing.FILTERS, rnd.randint(0, 3))
    return tuple((k, rnd.choice([v for v in values[k] if v is not None])) for k in listing.FILTERS if k in keys)


@pytest.mark.parametrize("listed", [None, 2])
def test_random_states_match_plain_sql(catalog, monkeypatch, listed):
    # listed=2: the facets list fewer values than they have, so the top values, the chosen
    # value's place and the totals are checked where they are cut
    if listed is not None:
        monkeypatch.setattr(listing, "FACET_VALUES", listed)
    rnd = random.Random(10)
    memo = listing.Memo(8)
    checked = 0
    for _ in range(150):
        filters = random_filters(catalog, rnd)
        word = rnd.choice([None, None, *WORDS])
        lang = rnd.choice(["zh", "en"])
        query = listing.Query(q=word or "", filters=filters, sort=rnd.choice(SORTS), per_page=100)
        page = Catalogue(catalog, memo).listing(query, lang)
        expression = match_expression(word) if word else None
        sort = query.effective_sort
        order = expected_order(catalog, filters, expression, sort, lang)
        selection = listing.select(catalog, query, lang, Catalogue._search(expression) if expression else None, memo)
        assert list(selection.rowids) == order, (query, lang)
        assert page.total == len(order)
        for key in listing.FILTERS:
            counts = expected_counts(catalog, filters, expression, key, lang)
            full = sorted(counts.items(), key=lambda vc: (-vc[1], vc[0]))
            chosen = query.active.get(key)
            if chosen and chosen not in counts:
                full.insert(0, (chosen, 0))
            shown = full[: listing.FACET_VALUES]
            if chosen and chosen not in dict(shown):
                shown = [(chosen, counts[chosen]), *shown[: listing.FACET_VALUES - 1]]
            assert [(v["value"], v["count"]) for v in selection.facets[key]] == shown, (query, key, lang)
            assert [v["value"] for v in selection.facets[key] if v["selected"]] == ([chosen] if chosen else [])
            assert selection.facet_sizes[key] == len(full)
            assert [(v["value"], v["count"]) for v in page.facets[key]] == shown
        checked += 1
    assert checked == 150


def test_facet_labels_come_from_the_registries(catalog):
    page = Catalogue(catalog).listing(listing.Query(filters=(("theme", "transport"),)), "zh")
    themes = {v["value"]: v for v in page.facets["theme"]}
    name, name_en = catalog.execute("select name, name_en from themes where id = 'transport'").fetchone()
    assert themes["transport"]["label_zh"] == name and themes["transport"]["label_en"] == name_en
    assert themes["transport"]["selected"]
    # An unknown value is shown selected with no datasets, not dropped.
    page = Catalogue(catalog).listing(listing.Query(filters=(("theme", "no-such-theme"),)), "zh")
    assert page.total == 0 and page.facets["theme"][0] == {
        "value": "no-such-theme",
        "count": 0,
        "label_zh": None,
        "label_en": None,
        "selected": True,
    }


def test_the_server_reads_the_file_the_writer_writes():
    from gongkai.catalogue import store, writer

    assert store.FILE == writer.FILE


@pytest.mark.parametrize("column", ["publisher", "theme"])
def test_publisher_and_theme_pages_match_plain_sql(catalog, column):
    # Their pages come from the facet index's order: the same datasets, count and page as a
    # sort in SQL (last modified first, then by name), a page past the last being the last.
    values = [r[0] for r in catalog.execute(f"select distinct {column} from datasets where {column} is not null")]
    for value in [*values, "no-such-value"]:
        (total,) = catalog.execute(f"select count(*) from datasets where {column} = ?", [value]).fetchone()
        for page in (1, 2, 99):
            found, count, shown, pages = Catalogue(catalog, listing.Memo(4))._datasets_page(column, value, page, 3)
            expected_page = max(1, min(page, -(-total // 3)))
            names = [
                r[0]
                for r in catalog.execute(
                    f"select name from datasets where {column} = ? order by modified desc, name limit 3 offset ?",
                    [value, (expected_page - 1) * 3],
                )
            ]
            assert ([d.name for d in found], count, shown) == (names, total, expected_page), (value, page)
            assert pages == max(1, -(-total // 3))
