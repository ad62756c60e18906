"""The first real transparency list: Guang'an District's 1,135 service items, converted from the
JavaScript file as received by the script kept beside it, under the shared service-items schema."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest
from conftest import REPO
from stdnum.cn import uscc

from gongkai.build import build_site
from gongkai.serve import make_datasette

FOLDER = REPO / "datasets" / "cn-guangan-service-items"
NAME = "cn-guangan-service-items"


def rows() -> list[dict]:
    with open(FOLDER / "service-items.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_conversion_reruns_to_identical_bytes(tmp_path):
    for name in ("bszl-data.js", "convert.py"):
        shutil.copy(FOLDER / name, tmp_path / name)
    done = subprocess.run([sys.executable, str(tmp_path / "convert.py")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "service-items.csv").read_bytes() == (FOLDER / "service-items.csv").read_bytes()


def test_a_broken_original_is_a_clear_error_not_a_traceback(tmp_path):
    shutil.copy(FOLDER / "convert.py", tmp_path / "convert.py")
    (tmp_path / "bszl-data.js").write_text("const bszlData = ;", encoding="utf-8")
    done = subprocess.run([sys.executable, str(tmp_path / "convert.py")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "转换失败 conversion failed" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "service-items.csv").exists()


def test_the_items_are_all_there_as_the_source_says():
    found = rows()
    assert len(found) == 1135 and len({r["实施主体"] for r in found}) == 34
    assert len({r["事项编码"] for r in found}) == 1135
    kinds = {}
    for r in found:
        kinds[r["事项类型代码"]] = kinds.get(r["事项类型代码"], 0) + 1
    # SOURCE.md: taskType 1/5/7/8/9/10/20 → 536/9/50/2/8/182/348
    assert kinds == {"01": 536, "05": 9, "07": 50, "08": 2, "09": 8, "10": 182, "20": 348}


def test_the_department_codes_are_checked():
    codes = [r["实施主体编码"] for r in rows()]
    eighteen = [c for c in codes if len(c) == 18]
    assert len(eighteen) == 264  # SOURCE.md
    assert all(uscc.is_valid(c) for c in eighteen)  # GB 32100 check character
    # the others are published as they are (the description says what they are)
    assert "76726532-X" in codes and "083372204" in codes
    assert sum(len(c) != 18 for c in codes) == 1135 - 264


def test_it_follows_the_shared_schema():
    descriptor = json.loads((FOLDER / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["schema"] for r in descriptor["resources"]] == ["shared:service-items"]
    assert descriptor["gov:translations"]["en"]["title"] and descriptor["gov:translations"]["en"]["description"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("guangan") / "repo"
    shutil.copytree(REPO / "metadata", root / "metadata")
    shutil.copytree(FOLDER, root / "datasets" / NAME)
    result = build_site(root, root.parent / "out")
    assert result.ok, [d.report for d in result.datasets if not d.valid]
    return root.parent / "out" / "site"


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_landing_page(built, lang):
    ds = make_datasette(built, root=REPO)
    r = await ds.client.get(f"/datasets/{NAME}" + ("?_lang=en" if lang == "en" else ""))
    assert r.status_code == 200
    title = "Government service items of Guang'an District" if lang == "en" else "广安区政务服务事项目录"
    assert title in r.text.replace("&#39;", "'")
    assert "1,135" in r.text
    assert 'href="/schemas/service-items' in r.text  # the shared schema it follows
    assert "实施主体编码" in r.text  # the data dictionary
    rows_json = await ds.client.get(f"/{NAME}/service-items.json", params={"_shape": "array", "_size": "2"})
    assert rows_json.status_code == 200 and len(rows_json.json()) == 2
    original = await ds.client.get(f"/downloads/{NAME}/service-items.csv")
    assert original.status_code == 200 and original.content == (FOLDER / "service-items.csv").read_bytes()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_schema_pages_show_who_follows_which_schema(built, lang):
    ds = make_datasette(built, root=REPO)
    suffix = "?_lang=en" if lang == "en" else ""
    index = await ds.client.get("/schemas" + suffix)
    assert index.status_code == 200
    for name in (
        "service-items",
        "responsibility-list",
        "negative-list",
        "administrative-licensing",
        "administrative-penalty",
    ):
        assert f'href="/schemas/{name}' in index.text
    assert ("1 datasets" if lang == "en" else "1 个数据集") in index.text
    page = await ds.client.get("/schemas/service-items" + suffix)
    assert page.status_code == 200
    assert f'href="/datasets/{NAME}' in page.text
    assert ("Power list and government service items" if lang == "en" else "权力清单和政务服务事项") in page.text
    assert ("Implementing body" if lang == "en" else "实施主体") in page.text  # a field, in the page's language
    other = await ds.client.get("/schemas/negative-list" + suffix)
    assert other.status_code == 200 and f"/datasets/{NAME}" not in other.text
    assert (await ds.client.get("/schemas/no-such-list" + suffix)).status_code == 404
