"""Excel and GB18030 resources end to end: read by the build, errors at the sheet's cell, the
original published byte-identical and served with its real media type.

The differential fixtures (tests/fixtures/*/xlsx-*, gb18030-*) compare the errors with
frictionless; these tests cover what frictionless has no opinion on.
"""

from __future__ import annotations

import copy
import csv
import datetime
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import REPO
from xlsx_fixtures import cache_formulas, write_workbook

from gongkai import rejected_rows, release_files, report
from gongkai.build import build_site
from gongkai.descriptors import read_dataset
from gongkai.media_types import XLSX, download_type
from gongkai.serve import make_datasette
from gongkai.validate import excel, validate_dataset

ROWS = [
    ["项目", "年度", "金额", "日期", "公开"],
    ["教育", 2023, 1200.5, datetime.date(2023, 12, 31), True],
    ["卫生", 2023, 800, datetime.date(2023, 12, 31), False],
]


def _budget(root: Path) -> Path:
    return root / "datasets/budget"


def _with_excel_and_gb18030(root: Path) -> dict:
    folder = _budget(root)
    d = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    text = (folder / "budget.csv").read_text(encoding="utf-8").replace("卫生", "卫生𠀀")  # a 4-byte character
    (folder / "budget.csv").write_bytes(text.encode("gb18030"))
    d["resources"][0]["encoding"] = "gb18030"
    fields = copy.deepcopy(d["resources"][0]["schema"]["fields"])
    d["resources"][0]["schema"]["fields"][0]["constraints"]["enum"] = ["教育", "卫生𠀀"]
    write_workbook(folder / "budget.xlsx", {"说明": [["见第二张表"]], "预算": ROWS})
    d["resources"].append(
        {
            "name": "budget-sheet",
            "path": "budget.xlsx",
            "dialect": {"excel": {"sheet": "预算"}},
            "schema": {"fields": fields},
        }
    )
    (folder / "datapackage.json").write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    return d


async def test_build_loads_and_serves_the_originals(site_root, tmp_path):
    _with_excel_and_gb18030(site_root)
    result = build_site(site_root, tmp_path / "out")
    assert result.ok, (tmp_path / "out/reports/budget.md").read_text(encoding="utf-8")
    site = tmp_path / "out/site"
    db = release_files.database(site, "budget")
    with sqlite3.connect(db) as conn:
        assert conn.execute('select "项目", "金额", "日期", "公开" from "budget-sheet" order by 1').fetchall() == [
            ("卫生", 800, "2023-12-31", 0),
            ("教育", 1200.5, "2023-12-31", 1),
        ]
        assert conn.execute('select "项目" from budget order by 1').fetchall() == [("卫生𠀀",), ("教育",)]
    ds = make_datasette(site, root=REPO)  # the plugins and templates are the repository's
    await ds.invoke_startup()
    folder = _budget(site_root)
    for path, ctype in (("budget.csv", "text/csv; charset=gb18030"), ("budget.xlsx", XLSX)):
        response = await ds.client.get(f"/downloads/budget/{path}")
        assert response.status_code == 200
        assert response.content == (folder / path).read_bytes()  # byte-identical
        assert response.headers["content-type"] == ctype
    response = await ds.client.get("/downloads/budget/datapackage.json")
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_download_types():
    assert download_type("a.csv", "csv", "utf-8") == "text/csv; charset=utf-8"
    assert download_type("a.csv", "csv", "GBK") == "text/csv; charset=gb18030"
    assert download_type("a.csv", "csv", "gb2312") == "text/csv; charset=gb18030"
    assert download_type("a.tsv", "tsv", "utf-8") == "text/tab-separated-values; charset=utf-8"
    assert download_type("a.xlsx", "xlsx", "utf-8") == XLSX
    assert download_type("datapackage.json") == "application/json; charset=utf-8"


def _validate(folder: Path):
    result = validate_dataset(read_dataset(folder, site=None))
    return [e for t in result.tasks for e in t.errors], result


def _package(folder: Path, resource: dict) -> None:
    d = {"name": "x", "resources": [{"name": "d", "path": "d.xlsx", **resource}]}
    (folder / "datapackage.json").write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")


def test_errors_name_the_cell_where_the_data_starts_below_and_right(tmp_path):
    # data from C3, a title above: row and column numbers are the sheet's, as Excel shows them
    rows = [["2024 年预算表"], [], [None, None, "编号", "金额"], [None, None, 1, "十"]]
    write_workbook(tmp_path / "d.xlsx", {"表 1": rows})
    fields = [{"name": n, "type": "any"} for n in ("A", "B")]
    fields += [{"name": "编号", "type": "integer"}, {"name": "金额", "type": "number"}]
    _package(tmp_path, {"dialect": {"headerRows": [3]}, "schema": {"fields": fields, "fieldsMatch": "subset"}})
    errors, _ = _validate(tmp_path)
    [error] = [e for e in errors if e.type == "type-error"]
    assert (error.row_number, error.field_number, error.extra["cellRef"]) == (4, 4, "'表 1'!D4")
    assert "单元格 '表 1'!D4" in error.message_zh and "cell '表 1'!D4" in error.message
    assert error.to_dict()["sheet"] == "表 1"


def test_sheet_by_number_and_cached_formula_values(tmp_path):
    write_workbook(tmp_path / "d.xlsx", {"a": [["x"]], "b": [["金额", "两倍"], [2, "=A2*2"]]})
    cache_formulas(tmp_path / "d.xlsx", {"B2": "4"})
    fields = [{"name": "金额", "type": "integer"}, {"name": "两倍", "type": "integer", "constraints": {"minimum": 4}}]
    _package(tmp_path, {"dialect": {"excel": {"sheet": 2}}, "schema": {"fields": fields}})
    errors, result = _validate(tmp_path)
    assert errors == [] and result.tasks[0].stats["rows"] == 1


def test_formula_without_value_lists_the_cells(tmp_path):
    rows = [["a", "b"]] + [[i, f"=A{i + 1}*2"] for i in range(1, 9)]
    write_workbook(tmp_path / "d.xlsx", {"S": rows})
    _package(tmp_path, {"schema": {"fields": [{"name": "a", "type": "integer"}, {"name": "b", "type": "integer"}]}})
    [error], _ = _validate(tmp_path)
    assert error.type == "format-error" and "8 formula cell(s)" in error.message and "S!B2" in error.message
    assert "and 3 more" in error.note and "另有 3 个" in error.note_zh and len(error.extra["cellRefs"]) == 8


@pytest.mark.parametrize("suffix", ["xls", "et", "ods"])
def test_old_formats_are_refused_with_the_fix(tmp_path, suffix):
    (tmp_path / f"d.{suffix}").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60)
    d = {"name": "x", "resources": [{"name": "d", "path": f"d.{suffix}", "schema": {"fields": [{"name": "a"}]}}]}
    (tmp_path / "datapackage.json").write_text(json.dumps(d), encoding="utf-8")
    [error], _ = _validate(tmp_path)
    assert error.type == "format-error" and "*.xlsx" in error.note and "另存为" in error.note_zh


def test_not_a_workbook(tmp_path):
    (tmp_path / "d.xlsx").write_text("id,name\n1,a\n", encoding="utf-8")
    _package(tmp_path, {"schema": {"fields": [{"name": "id"}]}})
    [error], result = _validate(tmp_path)
    assert error.type == "format-error" and "Excel" in error.note and "工作簿" in error.note_zh
    assert result.tasks[0].stats["bytes"] == 12  # still reported


def test_blank_excel_header_says_how_to_fix(tmp_path):
    write_workbook(tmp_path / "d.xlsx", {"S": [["a", None], [1, 2]]})
    _package(tmp_path, {"schema": {"fields": [{"name": "a"}, {"name": "b"}]}})
    [error], _ = _validate(tmp_path)
    assert error.type == "blank-label" and error.extra["cellRef"] == "S!B1" and "headerRows" in error.note


def test_render_follows_the_field_type():
    midnight = datetime.datetime(2024, 1, 5)
    assert excel.render(midnight, "date") == "2024-01-05"
    assert excel.render(midnight, "datetime") == "2024-01-05T00:00:00"
    assert excel.render(datetime.datetime(2024, 1, 5, 9), "date") == "2024-01-05T09:00:00"  # fails, as in frictionless
    assert excel.render(3.0, "integer") == "3" and excel.render(0.1, "number") == "0.1"
    assert excel.render(True, "boolean") == "true" and excel.render(datetime.time(8, 30), "time") == "08:30:00"
    assert [excel.column_letter(n) for n in (1, 26, 27, 702, 703)] == ["A", "Z", "AA", "ZZ", "AAA"]


# -- the rejected-rows file -------------------------------------------------------------------


def test_failing_build_writes_the_rejected_rows_beside_the_report(site_root, tmp_path):
    d = _with_excel_and_gb18030(site_root)
    folder = _budget(site_root)
    rows = ROWS + [["卫生", "二〇二三", "=1+1", datetime.date(2023, 1, 1), "是"], ["教育", 2024, "五", None, None]]
    write_workbook(folder / "budget.xlsx", {"说明": [["见第二张表"]], "预算": rows})
    text = (folder / "budget.csv").read_bytes().decode("gb18030") + "体育,2023,1,2023-01-01,true\r\n"
    (folder / "budget.csv").write_bytes(text.encode("gb18030"))
    cache_formulas(folder / "budget.xlsx", {"C4": "2"})
    (folder / "datapackage.json").write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert not build_site(site_root, out).ok
    reports = out / "reports"
    sheet = (reports / "rejected/budget/budget-sheet.csv").read_bytes()
    assert sheet.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Chinese Excel reads it as UTF-8
    table = list(csv.reader(io.StringIO(sheet.decode("utf-8-sig"))))
    assert table[0][:2] == ["行号 row", "单元格 cells"] and table[0][2:7] == ROWS[0]
    assert table[0][-2:] == ["错误（中文） errors (Chinese)", "错误（英文） errors (English)"]
    four, five = table[1], table[2]
    assert four[:7] == ["4", "预算!B4 预算!E4", "卫生", "二〇二三", "2", "2023-01-01", "是"]
    assert "“年度”列类型错误" in four[-2] and 'Type Error in column "年度"' in four[-1]
    assert five[:5] == ["5", "预算!C5", "教育", "2024", "五"] and 'Type Error in column "金额"' in five[-1]
    gbk = list(csv.reader(io.StringIO((reports / "rejected/budget/budget.csv").read_bytes().decode("utf-8-sig"))))
    assert gbk[1][:3] == ["4", "体育", "2023"] and "enum" in gbk[1][-1]  # decoded from GB18030
    markdown = (reports / "budget.md").read_text(encoding="utf-8")
    assert "[budget-sheet](rejected/budget/budget-sheet.csv)" in markdown and "被拒绝的行 / Rejected rows" in markdown
    task = next(t for t in json.loads((reports / "budget.json").read_text())["tasks"] if t["name"] == "budget-sheet")
    assert task["rejectedRows"] == {"path": "rejected/budget/budget-sheet.csv", "rows": 2, "shown": 2, "capped": False}
    # fixed: the next build leaves no stale rejected rows behind
    shutil.copytree(REPO / "tests/fixtures/site/datasets/budget", folder, dirs_exist_ok=True)
    _with_excel_and_gb18030(site_root)
    assert build_site(site_root, out).ok
    assert not (reports / "rejected/budget").exists()


def test_rejected_rows_are_capped_and_say_so(tmp_path):
    (tmp_path / "d.csv").write_text("id,v\n" + "".join(f"{i},=x{i}\n" for i in range(1, 31)), encoding="utf-8")
    d = {
        "name": "x",
        "resources": [
            {
                "name": "d",
                "path": "d.csv",
                "schema": {"fields": [{"name": "id", "type": "integer"}, {"name": "v", "type": "integer"}]},
            }
        ],
    }
    (tmp_path / "datapackage.json").write_text(json.dumps(d), encoding="utf-8")
    _, result = _validate(tmp_path)
    [found] = rejected_rows.for_result(result, cap=10)
    assert (found.rows, found.shown, found.capped) == (30, 10, True)
    table = list(csv.reader(io.StringIO(found.text.lstrip("\ufeff"))))
    assert len(table) == 11 and table[1][:3] == ["2", "1", "'=x1"]  # formula-safe
    _, markdown = report.with_rejected_rows(report.report([result]), report.markdown_summary(result), [found])
    assert "30 行未通过，文件只列出前 10 行" in markdown and "30 rows failed; the file lists the first 10" in markdown
    assert rejected_rows.path_for("x", "../../etc") == "rejected/x/_.._etc.csv"


def test_xlsx_bench_on_a_small_workbook(tmp_path):
    from gongkai.bench import xlsx

    figures = xlsx.run_xlsx_bench(tmp_path, 300)
    assert figures["xlsx_rows"] == 300 and figures["xlsx_gongkai_s"] > 0 and figures["xlsx_frictionless_validate_s"] > 0
    target = figures["targets"]["xlsx_speedup_vs_frictionless"]
    assert target["target"] == 10 and target["value"] == figures["xlsx_speedup_vs_frictionless"]
    stamp = (tmp_path / "data/xlsx-300/.bench-stamp.json").stat().st_mtime_ns
    xlsx.write_workbook(tmp_path / "data/xlsx-300", 300)  # cached: not written again
    assert (tmp_path / "data/xlsx-300/.bench-stamp.json").stat().st_mtime_ns == stamp
