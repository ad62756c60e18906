"""Conditional (有条件开放) and closed (不予开放) datasets: catalogue record, data dictionary and the
conditions are public; rows and files never are. Built once from the fixture site plus one
conditional and one closed dataset, served through Datasette's client."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO

from gongkai import release_files
from gongkai.build import build_site
from gongkai.descriptors import check_profile, read_site
from gongkai.serve import make_datasette

SECRET = "鑫磊秘密仓库"  # a word only the withheld datasets' rows hold
OPEN_WORD = "公开记录样本"  # the same rows in an open dataset: what the search does find
CONDITION = "仅向经批准的科研机构提供，须签署数据使用协议"
CONDITION_EN = "Only for approved research institutions, under a data use agreement"
APPLY_EN = "Send the application form to the district big-data centre (https://example.gov.cn/apply)"
APPLY = "向区大数据中心提交申请表（https://example.gov.cn/apply）"


def write(root, name: str, openness: dict, word: str = SECRET, openness_en: dict | None = None) -> None:
    folder = root / "datasets" / name
    folder.mkdir(parents=True)
    with open(folder / "records.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["编号", "名称"])
        for i in range(1, 6):
            w.writerow([i, f"{word}{i}"])
    descriptor = {
        "name": name,
        "title": f"受限数据 {name}",
        "description": "只公开目录信息。",
        "licenses": [
            {"name": "cc-by-4.0", "path": "https://creativecommons.org/licenses/by/4.0/", "title": "CC BY 4.0"}
        ],
        "keywords": ["受限"],
        "gov:publisher": "city-finance",
        "gov:contact": {"name": "数据科", "email": "data@example.gov.cn"},
        "gov:theme": "finance",
        "gov:frequency": "annual",
        "gov:openness": openness,
        "gov:translations": {
            "en": {
                "title": f"Restricted {name}",
                "description": "Catalogue record only.",
                **({"gov:openness": openness_en} if openness_en else {}),
            }
        },
        "resources": [
            {
                "name": "records",
                "path": "records.csv",
                "schema": {
                    "primaryKey": ["编号"],
                    "fields": [
                        {"name": "编号", "type": "integer", "title": "编号"},
                        {"name": "名称", "type": "string", "title": "名称", "gov:searchable": True},
                    ],
                },
            }
        ],
    }
    (folder / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("openness") / "repo"
    shutil.copytree(FIXTURES / "site", root)
    write(
        root,
        "permits",
        {"class": "conditional", "condition": CONDITION, "apply": APPLY},
        openness_en={"condition": CONDITION_EN, "apply": APPLY_EN},
    )
    write(root, "sealed", {"class": "closed", "condition": "涉及国家秘密"})
    write(root, "open-records", {"class": "unconditional"}, word=OPEN_WORD)
    result = build_site(root, root.parent / "out")
    assert result.ok, [d.report for d in result.datasets if not d.valid]
    return root.parent / "out" / "site"


@pytest.fixture
def ds(built):
    return make_datasette(built, root=REPO)


def test_the_build_publishes_neither_database_nor_files(built):
    names = {p.name for p in release_files.database_files(built)}
    assert "budget.db" in names and "permits.db" not in names and "sealed.db" not in names
    everything = [Path(d, f) for d, _, files in os.walk(built, followlinks=True) for f in files]
    assert not any(p.suffix in (".db", ".sqlite") and ("permits" in str(p) or "sealed" in str(p)) for p in everything)
    assert release_files.downloads(built, "budget").is_dir()
    assert not release_files.downloads(built, "permits").exists()
    assert not release_files.downloads(built, "sealed").exists()
    # nothing in the release (its objects followed) holds a row: every file is searched for the word
    assert any(release_files.folder(built, "budget") in p.parents for p in everything)
    for path in everything:
        assert SECRET.encode() not in path.read_bytes(), path
    # the rows were validated all the same: the report counts them
    report = json.loads(release_files.report(built, "permits").read_text())
    assert report["valid"] and report["tasks"][0]["stats"]["rows"] == 5


async def test_no_database_of_theirs_is_served(ds):
    r = await ds.client.get("/-/databases.json")
    served = {d["name"] for d in r.json()}
    assert "budget" in served and not served & {"permits", "sealed"}


DATA_URLS = [
    "/{n}",
    "/{n}.json",
    "/{n}.db",
    "/{n}/records",
    "/{n}/records.json",
    "/{n}/records.json?_shape=array",
    "/{n}/records.csv",
    "/{n}/records.csv?_stream=on&_size=max",
    "/{n}/records/1",
    "/{n}/records/1.json",
    "/{n}?sql=select+*+from+records",
    "/{n}.json?sql=select+*+from+records",
    "/{n}/records?_search=" + SECRET,
    "/{n}/records~2Ejson",
    "/downloads/{n}/records.csv",
    "/downloads/{n}/datapackage.json",
]


@pytest.mark.parametrize("name", ["permits", "sealed"])
@pytest.mark.parametrize("url", DATA_URLS)
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_data_url_is_403_with_the_conditions(ds, name, url, lang):
    path = url.format(n=name)
    sep = "&" if "?" in path else "?"
    r = await ds.client.get(path + (f"{sep}_lang=en" if lang == "en" else ""))
    assert r.status_code == 403, (path, r.status_code)
    assert SECRET not in r.text
    reason = (CONDITION_EN if lang == "en" else CONDITION) if name == "permits" else "涉及国家秘密"
    is_json = ".json" in path.split("?")[0] or "~2Ejson" in path
    if is_json:
        body = r.json()
        assert body["status"] == 403 and body["condition"] == (CONDITION if name == "permits" else "涉及国家秘密")
        # the sentence in each language, with the conditions in that language where translated
        assert (CONDITION_EN if name == "permits" else "涉及国家秘密") in body["error"]
        assert (CONDITION if name == "permits" else "涉及国家秘密") in body["error_zh"]
        assert body["openness"] == ("conditional" if name == "permits" else "closed")
        assert body["landing_page"].startswith(f"/datasets/{name}")
    else:
        assert r.headers["content-type"].startswith("text/html")
        assert reason in r.text
        if lang == "en":
            assert "Conditions:" in r.text or "Why:" in r.text
        else:
            assert "开放条件" in r.text or "理由" in r.text
    if name == "permits":
        assert "区大数据中心" in r.text if (lang == "zh" or is_json) else "big-data centre" in r.text
    else:  # no `apply`: the publisher's address
        assert "data@example.gov.cn" in r.text


async def test_json_by_accept_header_too(ds):
    r = await ds.client.get("/permits/records", headers={"accept": "application/json"})
    assert r.status_code == 403 and r.json()["condition"] == CONDITION


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_landing_page_shows_the_conditions_and_the_dictionary(ds, lang):
    r = await ds.client.get("/datasets/permits" + ("?_lang=en" if lang == "en" else ""))
    assert r.status_code == 200
    if lang == "en":
        assert CONDITION_EN in r.text and "big-data centre" in r.text and CONDITION not in r.text
    else:
        assert CONDITION in r.text and "区大数据中心" in r.text and CONDITION_EN not in r.text
    heading = "How to obtain the data" if lang == "en" else "如何获取数据"
    assert heading in r.text
    assert SECRET not in r.text  # no preview
    assert "/downloads/permits/" not in r.text and "/permits/records.csv" not in r.text
    assert "名称" in r.text  # the data dictionary
    d = await ds.client.get("/datasets/permits/records/dictionary.csv")
    assert d.status_code == 200 and "名称" in d.text


async def test_site_search_never_returns_their_rows(ds):
    r = await ds.client.get("/-/search.json", params={"q": SECRET})
    assert r.status_code == 200
    found = r.json()
    assert found["total"] == 0 and not found["groups"]
    assert f"{SECRET}1" not in r.text  # a row value, not the query echoed
    html = await ds.client.get("/-/search", params={"q": SECRET})
    assert html.status_code == 200 and f"{SECRET}1" not in html.text
    # the same search finds an open dataset's rows (the check above can fail)
    control = (await ds.client.get("/-/search.json", params={"q": OPEN_WORD})).json()
    assert [g["dataset"] for g in control["groups"]] == ["open-records"] and control["total"] == 5


async def test_machine_readable_catalogue_lists_no_download_of_theirs(ds):
    r = await ds.client.get("/data.json")
    entry = next(
        d
        for d in r.json()["dataset"]
        if "permits" in d.get("landingPage", "") or d.get("identifier", "").endswith("permits")
    )
    assert not [x for x in entry.get("distribution", []) if "/permits" in (x.get("downloadURL") or "")]


async def test_open_datasets_are_unaffected(ds, built):
    assert (release_files.downloads(built, "open-records") / "records.csv").is_file()
    assert release_files.database(built, "open-records").is_file()
    for path in ("/open-records/records.json", "/downloads/open-records/records.csv", "/open-records/records/1"):
        assert (await ds.client.get(path)).status_code == 200, path


def test_closed_is_a_class_and_needs_a_reason():
    site = read_site(FIXTURES / "site")
    base = json.loads((FIXTURES / "site" / "datasets" / "budget" / "datapackage.json").read_text())
    ok = dict(base, **{"gov:openness": {"class": "closed", "condition": "涉密"}})
    assert not [e for e in check_profile(ok, "budget", site) if "openness" in (e.note or "")]
    bad = dict(base, **{"gov:openness": {"class": "closed"}})
    notes = [e.note for e in check_profile(bad, "budget", site)]
    assert any('gives no "condition"' in n for n in notes)
    other = dict(base, **{"gov:openness": {"class": "secret"}})
    assert any("closed" in e.note for e in check_profile(other, "budget", site))
