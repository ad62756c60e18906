"""Excel workbooks for the fixtures, written at test time with openpyxl (deterministic: a fixed
creation date), so that what each workbook holds is readable here rather than hidden in a binary.

openpyxl writes formulas without a cached value (it cannot calculate): `cache_formulas` stores
one, as Excel or WPS does on save.
"""

from __future__ import annotations

import datetime
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FIXED = datetime.datetime(2024, 1, 1)


def write_workbook(path: Path, sheets: dict[str, Iterable[Iterable[Any]]], merged: dict[str, list[str]] | None = None):
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    book.properties.created = book.properties.modified = FIXED
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(list(row))
        for cells in (merged or {}).get(title, []):
            ws.merge_cells(cells)
    book.save(path)


def cache_formulas(path: Path, values: dict[str, str]) -> None:
    """Store a cached value for each formula cell named in `values` (e.g. {"E2": "30"})."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    for name, data in members.items():
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            text = data.decode("utf-8")
            for ref, value in values.items():
                text = re.sub(rf'(<c r="{ref}"[^>]*>\s*<f>[^<]*</f>)\s*<v\s*/>', rf"\g<1><v>{value}</v>", text)
            members[name] = text.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)


D = datetime.date
DT = datetime.datetime

ABOUT = [["本工作簿的第二张表是数据 / the data is on the second sheet"], ["来源：示例"]]


def xlsx_sheet_chinese(folder: Path) -> None:
    rows = [
        ["编号", "名称", "日期", "金额", "数量", "合计", "启用"],
        [1, "北京市", D(2024, 1, 5), 10.5, 2, "=D2*E2", True],
        [2, "天津市", DT(2024, 2, 1), 3.25, 4, "=D3*E3", False],
        [3, "𠀀字号", D(2024, 3, 9), 100, 1, "=D4*E4", True],
    ]
    write_workbook(folder / "d.xlsx", {"说明": ABOUT, "名单": rows})
    cache_formulas(folder / "d.xlsx", {"F2": "21", "F3": "13", "F4": "100"})


def xlsx_header_rows(folder: Path) -> None:
    rows = [
        ["地区", "2023年", None],
        [None, "上半年", "下半年"],
        ["广安区", 12, 30],
        ["前锋区", 7.5, 8],
    ]
    write_workbook(folder / "d.xlsx", {"Sheet1": rows}, merged={"Sheet1": ["A1:A2", "B1:C1"]})


def xlsx_merged_header(folder: Path) -> None:
    rows = [["地区", "2023年", None], ["广安区", 12, 30]]
    write_workbook(folder / "d.xlsx", {"Sheet1": rows}, merged={"Sheet1": ["B1:C1"]})


def xlsx_type_errors(folder: Path) -> None:
    rows = [
        ["编号", "名称", "日期", "金额"],
        [1, "北京市", D(2024, 1, 5), 10.5],
        ["一", "天津市", D(2024, 1, 6), 3],  # not an integer
        [3, None, D(2024, 1, 7), 4],  # a required name missing
        [1, "上海市", D(2024, 1, 8), 5],  # the primary key again
        [None, None, None, None],  # blank row
        [6, "重庆市", DT(2024, 1, 9, 10, 30), 6],  # a date with a time of day
        [7, "广安市", D(2024, 1, 10), "七"],  # not a number
    ]
    write_workbook(folder / "d.xlsx", {"Sheet1": rows})


def xlsx_formula_no_value(folder: Path) -> None:
    rows = [["编号", "金额", "合计"], [1, 2, "=B2*2"], [2, 3, "=B3*2"]]
    write_workbook(folder / "d.xlsx", {"Sheet1": rows})  # saved by a program that never calculated


def xlsx_no_sheet(folder: Path) -> None:
    write_workbook(folder / "d.xlsx", {"Sheet1": [["编号"], [1]]})


def xlsx_number_in_string_column(folder: Path) -> None:
    write_workbook(folder / "d.xlsx", {"Sheet1": [["代码", "名称"], [110101, "东城区"], [110102.0, "西城区"]]})


def gb18030_type_errors(folder: Path) -> None:
    text = "编号,名称,日期\r\n1,𠀀𠀁号,2024-01-05\r\n二,天津市,2024-01-06\r\n3,广安区,2024-13-01\r\n"
    (folder / "d.csv").write_bytes(text.encode("gb18030"))


GENERATORS = {
    "xlsx_sheet_chinese": xlsx_sheet_chinese,
    "xlsx_header_rows": xlsx_header_rows,
    "xlsx_merged_header": xlsx_merged_header,
    "xlsx_type_errors": xlsx_type_errors,
    "xlsx_formula_no_value": xlsx_formula_no_value,
    "xlsx_no_sheet": xlsx_no_sheet,
    "xlsx_number_in_string_column": xlsx_number_in_string_column,
    "gb18030_type_errors": gb18030_type_errors,
}
