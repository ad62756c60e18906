"""Search through the real Datasette: `_search` on tables, /-/search(.json), catalogue ranking,
and what the build records (`fields.searchable`, the hidden index tables)."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest
from conftest import REPO

from gongkai.build import build_site
from gongkai.search.index import decide
from gongkai.serve import make_datasette

NAMES = [
    "北京市教育局校舍维修项目",
    "上海市道路養護服务",
    "维修，保养合同",
    "政府采购 2023 年度计划",
    "Open Data portal 维护",
    "資料中心建设",
    "市政府办公设备采购",
    "Road repair budget",
    "维修保养",
    "databases and budgets",
]


def write_procurement(root):
    folder = root / "datasets" / "procurement"
    folder.mkdir(parents=True)
    with open(folder / "data.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["编号", "项目名称", "供应商代码", "金额"])
        for i, name in enumerate(NAMES, start=1):
            w.writerow([i, name, f"91{i:06d}MA", i * 10])
    descriptor = {
        "name": "procurement",
        "title": "政府采购合同",
        "description": "合同与项目名称；包括校舍维修。",
        "licenses": [
            {"name": "cc-by-4.0", "path": "https://creativecommons.org/licenses/by/4.0/", "title": "CC BY 4.0"}
        ],
        "keywords": ["采购", "合同"],
        "gov:publisher": "city-finance",
        "gov:contact": {"name": "采购科", "email": "finance@example.gov.cn"},
        "gov:theme": "finance",
        "gov:frequency": "annual",
        "gov:openness": {"class": "unconditional"},
        "gov:translations": {"en": {"title": "Procurement contracts", "description": "Contracts and project names."}},
        "resources": [
            {
                "name": "contracts",
                "path": "data.csv",
                "schema": {
                    "primaryKey": ["编号"],
                    "fields": [
                        {"name": "编号", "type": "integer"},
                        {"name": "项目名称", "type": "string", "title": "项目名称"},
                        {"name": "供应商代码", "type": "string", "constraints": {"pattern": "91[0-9]{6}MA"}},
                        {"name": "金额", "type": "number"},
                    ],
                },
            }
        ],
    }
    (folder / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    import shutil

    from conftest import FIXTURES

    root = tmp_path_factory.mktemp("search") / "repo"
    shutil.copytree(FIXTURES / "site", root)
    write_procurement(root)
    result = build_site(root, root.parent / "out")
    assert result.ok, [d.report for d in result.datasets if not d.valid]
    return root.parent / "out" / "site"


@pytest.fixture
def ds(built):
    return make_datasette(built, root=REPO)


async def names_for(ds, query: str, **extra) -> list[str]:
    r = await ds.client.get("/procurement/contracts.json", params={"_search": query, "_shape": "array", **extra})
    assert r.status_code == 200, r.text
    return [row["项目名称"] for row in r.json()]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("维修", ["北京市教育局校舍维修项目", "维修，保养合同", "维修保养"]),  # Chinese, two characters
        ("修", ["北京市教育局校舍维修项目", "维修，保养合同", "维修保养"]),  # one character
        ("修保", ["维修保养"]),  # never across the comma of 维修，保养
        ("资料", ["資料中心建设"]),  # Traditional text found by Simplified query
        ("資料", ["資料中心建设"]),  # and by the Traditional query
        ("养护", ["上海市道路養護服务"]),
        ("政府采购 2023", ["政府采购 2023 年度计划"]),  # mixed terms mean AND
        ("采购", ["政府采购 2023 年度计划", "市政府办公设备采购"]),
        ("budget", ["Road repair budget", "databases and budgets"]),  # English word or prefix
        ("data", ["Open Data portal 维护", "databases and budgets"]),
        ("DATA 维护", ["Open Data portal 维护"]),
        ('"open data"', ["Open Data portal 维护"]),  # quoted phrase
        ('"data portal"', ["Open Data portal 维护"]),
        ('"portal data"', []),
        ("ｒｏａｄ", ["Road repair budget"]),  # full-width Latin
        ("鑫", []),
    ],
)
async def test_table_search(ds, query, expected):
    assert await names_for(ds, query) == expected


async def test_table_search_keeps_sort_order_and_other_filters(ds):
    desc = await names_for(ds, "维修", _sort_desc="编号")
    assert desc == ["维修保养", "维修，保养合同", "北京市教育局校舍维修项目"]
    filtered = await names_for(ds, "维修", **{"金额__gt": 50})
    assert filtered == ["维修保养"]


async def test_table_page_has_a_search_box(ds):
    r = await ds.client.get("/procurement/contracts?_search=维修&_sort_desc=编号")
    assert r.status_code == 200
    assert 'class="gongkai-search-box"' in r.text and 'value="维修"' in r.text
    assert '<label for="_search">在本表中搜索</label>' in r.text
    assert 'name="_sort_desc" value="编号"' in r.text  # the search keeps the page's sort
    assert "3 行" in r.text  # the row count, in the page's language (gongkai.i18n)
    en = await ds.client.get("/procurement/contracts?_lang=en&_search=维修")
    assert "Search this table" in en.text and "3 rows" in en.text
    # a table without searchable columns has no box
    other = await ds.client.get("/budget/budget")
    assert other.status_code == 200 and "gongkai-search-box" not in other.text


def test_the_build_records_each_databases_search_indexes_in_inspect_json(built):
    from gongkai import release_files
    from gongkai.search.index import describe_indexes, read_indexes

    inspect = json.loads((built / "inspect.json").read_text(encoding="utf-8"))
    conn = sqlite3.connect(release_files.database(built, "procurement"))
    try:
        assert inspect["procurement"]["search"] == describe_indexes(read_indexes(conn))
    finally:
        conn.close()
    assert inspect["procurement"]["search"]["contracts"]["columns"] == ["项目名称"]


async def test_a_table_pages_search_indexes_come_from_inspect_json_else_the_database(built):
    from gongkai.search.index import indexes_described

    found = make_datasette(built, root=REPO)
    recorded = indexes_described(found.inspect_data["procurement"]["search"])
    assert recorded["contracts"].columns == ("项目名称",)
    # what inspect.json says is what the page uses: told there is no index, it shows no box
    told = make_datasette(built, root=REPO)
    told.inspect_data["procurement"]["search"] = {}
    r = await told.client.get("/procurement/contracts")
    assert r.status_code == 200 and "gongkai-search-box" not in r.text
    # an entry without it (an older release's, a hand-made file): read from the database
    older = make_datasette(built, root=REPO)
    del older.inspect_data["procurement"]["search"]
    assert await names_for(older, "维修") == ["北京市教育局校舍维修项目", "维修，保养合同", "维修保养"]
    # and a malformed one is not trusted either
    broken = make_datasette(built, root=REPO)
    broken.inspect_data["procurement"]["search"] = {"contracts": {"index": 3, "columns": "x"}}
    assert await names_for(broken, "维修") == ["北京市教育局校舍维修项目", "维修，保养合同", "维修保养"]


async def test_datasette_does_not_treat_our_index_as_its_fts(ds):
    r = await ds.client.get("/procurement.json")
    tables = {t["name"]: t for t in r.json()["tables"]}
    assert tables["contracts"]["fts_table"] is None
    assert tables["_search_contracts"]["hidden"] and tables["_search_contracts_columns"]["hidden"]


async def test_site_search_json(ds):
    r = await ds.client.get("/-/search.json", params={"q": "维修"})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 3
    (group,) = body["groups"]
    assert group["dataset"] == "procurement" and group["count"] == 3 and group["title"] == "政府采购合同"
    (table,) = group["tables"]
    assert table["url"].startswith("/procurement/contracts?_search=")
    assert len(table["rows"]) == 3
    top = table["rows"][0]
    assert "<mark>维修</mark>" in top["highlights"]["项目名称"]
    assert top["url"].startswith("/procurement/contracts/")
    # the catalogue: the dataset's description mentions 维修
    assert [d["name"] for d in body["datasets"]] == ["procurement"]


async def test_catalogue_ranks_title_matches_first(ds):
    r = await ds.client.get("/-/search.json", params={"q": "预算"})
    names = [d["name"] for d in r.json()["datasets"]]
    assert names and names[0] == "budget"  # 财政预算 in the title
    r = await ds.client.get("/-/search.json", params={"q": "合同"})
    hits = r.json()["datasets"]
    assert hits[0]["name"] == "procurement" and hits[0]["title_match"]
    r = await ds.client.get("/-/search.json", params={"q": "procurement"})  # English title
    assert [d["name"] for d in r.json()["datasets"]][:1] == ["procurement"]
    r = await ds.client.get("/-/search.json", params={"q": "项目名称"})  # a column title
    assert "procurement" in [d["name"] for d in r.json()["datasets"]]


async def test_site_search_html(ds):
    r = await ds.client.get("/-/search", params={"q": "资料"})
    assert r.status_code == 200
    assert '<html lang="zh-CN">' in r.text
    assert '<label for="gk-q">搜索数据集和数据</label>' in r.text
    assert "<mark>資料</mark>" in r.text
    assert 'href="/procurement/contracts?_search=' in r.text
    en = await ds.client.get("/-/search", params={"q": "资料", "_lang": "en"})
    assert '<html lang="en">' in en.text and "Search datasets and data" in en.text
    empty = await ds.client.get("/-/search")
    assert empty.status_code == 200 and "请输入要搜索的内容" in empty.text
    weird = await ds.client.get("/-/search.json", params={"q": '"） AND OR NOT *'})
    assert weird.status_code == 200


def test_build_records_searchable_columns(built):
    conn = sqlite3.connect(built / "catalog.db")
    rows = dict(conn.execute("select name, searchable from fields where dataset = 'procurement'").fetchall())
    assert rows == {"编号": 0, "项目名称": 1, "供应商代码": 0, "金额": 0}


def test_column_choice_rules():
    assert decide({"name": "项目名称", "type": "string"}, set()) is True
    assert decide({"name": "title", "type": "string"}, set()) is True
    assert decide({"name": "x", "type": "string", "gov:searchable": True}, set()) is True
    assert decide({"name": "name", "type": "string", "gov:searchable": False}, set()) is False
    assert decide({"name": "name", "type": "string"}, {"name"}) is False  # a key
    assert decide({"name": "code", "type": "string", "constraints": {"pattern": "[0-9]+"}}, set()) is False
    assert decide({"name": "年度", "type": "integer"}, set()) is False
    assert decide({"name": "备忘", "type": "string"}, set()) is None  # the data decides (average length)
