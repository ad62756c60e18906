"""Reading an Excel (XLSX) sheet as a table: calamine for the cells, openpyxl only for formulas.

python-calamine (Rust) reads the whole sheet many times faster than openpyxl (`make bench`,
bench ``xlsx``); it returns each formula cell's cached value, the value Excel or WPS stored when
the file was last saved, and the sheet's merged ranges. What it cannot tell is a formula with
no cached value (a file written by a program that never calculated it) from an empty cell:
only when the sheet's XML holds formulas at all is it read again with openpyxl (read-only,
formulas as written) to find the formula cells calamine returned empty.

Rows are numbered as in the sheet (row 1 is the sheet's first row, whatever is empty above the
data), and cells start at column A: an error's row and column are the cell a publisher opens
(`cell_ref`). Cell values are typed; they become text for the field casters by `render`, which
writes each value the way a field of the column's type reads it (a date-formatted cell in a
`date` column is ``2024-01-05``), as frictionless casts Excel's own values.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import FORMAT_ERROR, Error, notes

FORMATS = ("xlsx", "xlsm")
OLD_FORMATS = ("xls", "et", "ods")  # refused with the fix: save as .xlsx
FORMULA_TAGS = (
    b"</f>",
    b":f>",
)  # a formula element closes so (<f>..</f>, <x:f>..</x:f>); shared ones have a master that does
SHOWN_CELLS = 5  # cells named in an error that lists cells


class SheetProblem(Exception):
    def __init__(self, error: Error):
        super().__init__(error.note)
        self.error = error


@dataclass
class Sheet:
    """One sheet's cells (typed), from A1, and its merged ranges (0-based, inclusive)."""

    name: str
    rows: list[list[Any]]
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)

    def text_rows(self, count: int | None = None) -> list[list[str]]:
        """The first `count` rows as text, each value as a string field reads it."""
        rows = self.rows if count is None else self.rows[:count]
        return [[render(v, "string") for v in row] for row in rows]


def _excel(dialect: dict) -> dict:
    value = dialect.get("excel")
    return value if isinstance(value, dict) else {}


def sheet_option(dialect: dict) -> str | int:
    """The sheet a resource reads: frictionless's ``dialect.excel.sheet`` (v5) or ``dialect.sheet``
    (v1), a name or a 1-based number; the first sheet by default."""
    excel = _excel(dialect)
    for value in (excel.get("sheet"), dialect.get("sheet")):
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return value
    return 1


def fills_merged_cells(dialect: dict) -> bool:
    excel = _excel(dialect)
    return bool(excel.get("fillMergedCells") or dialect.get("fillMergedCells"))


def refuse_old_format(fmt: str) -> Error:
    return FORMAT_ERROR("old-excel", format=fmt)


def read_sheet(data: bytes, dialect: dict) -> Sheet:
    """The sheet the dialect names, or SheetProblem (not an XLSX file, no such sheet, formulas
    without a cached value)."""
    import python_calamine

    wanted = sheet_option(dialect)
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own errors, zip and XML ones among them
        raise SheetProblem(FORMAT_ERROR("invalid-xlsx", reason=_reason(exc))) from exc
    with book:
        names = list(book.sheet_names)
        if isinstance(wanted, int):
            index = wanted - 1
            name = names[index] if 0 <= index < len(names) else None
        else:
            name = wanted if wanted in names else None
        if name is None:
            shown = "、".join(names)
            raise SheetProblem(FORMAT_ERROR("no-sheet", sheet=wanted, sheets=", ".join(names), sheets_zh=shown))
        try:
            sheet = book.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            merged = list(sheet.merged_cell_ranges or [])
        except Exception as exc:
            raise SheetProblem(FORMAT_ERROR("invalid-xlsx", reason=_reason(exc))) from exc
    result = Sheet(name=name, rows=rows, merged=merged)
    if fills_merged_cells(dialect):
        _fill_merged(result)
    unvalued = formulas_without_value(data, result)
    if unvalued:
        refs = ", ".join(cell_ref(name, r, c) for r, c in unvalued[:SHOWN_CELLS])
        more = len(unvalued) - min(len(unvalued), SHOWN_CELLS)
        more_en, more_zh = (f" and {more} more", f" 等，另有 {more} 个") if more else ("", "")
        error = FORMAT_ERROR("formula-no-value", cells=refs, n=len(unvalued), more_en=more_en, more_zh=more_zh)
        raise SheetProblem(error.at(extra={"sheet": name, "cellRefs": [cell_ref(name, r, c) for r, c in unvalued]}))
    return result


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _fill_merged(sheet: Sheet) -> None:
    # frictionless's fillMergedCells: every cell of a merged range takes its top-left value
    for (r0, c0), (r1, c1) in sheet.merged:
        if r0 >= len(sheet.rows) or c0 >= len(sheet.rows[r0]):
            continue
        value = sheet.rows[r0][c0]
        for r in range(r0, min(r1, len(sheet.rows) - 1) + 1):
            row = sheet.rows[r]
            for c in range(c0, min(c1, len(row) - 1) + 1):
                row[c] = value


def formulas_without_value(data: bytes, sheet: Sheet) -> list[tuple[int, int]]:
    """The (row, column), 1-based, of formula cells that have no cached value: calamine gives
    them as empty. Only a workbook whose sheets' XML holds a formula is read a second time.
    A formula whose saved result is empty text is refused too: calamine gives both as "", and
    telling them apart would mean reading the sheet's XML a third time."""
    if not _has_formulas(data):
        return []
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # calamine read the file: openpyxl failing on it is its own limit
        raise SheetProblem(FORMAT_ERROR("invalid-xlsx", reason=_reason(exc))) from exc
    try:
        ws = book[sheet.name]
        found = []
        for row in ws.iter_rows():
            for cell in row:
                value = getattr(cell, "value", None)
                if isinstance(value, str) and value.startswith("=") and getattr(cell, "data_type", "") == "f":
                    r, c = cell.row, cell.column
                    if r is None or c is None:
                        continue
                    cached = sheet.rows[r - 1][c - 1] if r <= len(sheet.rows) and c <= len(sheet.rows[r - 1]) else ""
                    if cached == "":
                        found.append((r, c))
        return found
    finally:
        book.close()


def _has_formulas(data: bytes) -> bool:
    # a plain substring search (memchr-fast) over each sheet's XML; a false hit (a <f in some
    # other element) only costs the openpyxl pass
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    xml = archive.read(name)
                    if any(tag in xml for tag in FORMULA_TAGS):
                        return True
    except (zipfile.BadZipFile, KeyError, OSError):
        return False
    return False


# Header


def merged_header_cells(sheet: Sheet, header_rows: list[int]) -> list[str]:
    """The merged ranges that touch a header row, as Excel references (A1:C1)."""
    rows = set(header_rows)
    out = []
    for (r0, c0), (r1, c1) in sheet.merged:
        if any(r0 + 1 <= r <= r1 + 1 for r in rows):
            out.append(f"{column_letter(c0 + 1)}{r0 + 1}:{column_letter(c1 + 1)}{r1 + 1}")
    return out


# Cells


def render(value: Any, kind: str) -> str:
    """A cell's value as the text a field of type `kind` reads (see the module docstring)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # Excel stores every number as a double: 3.0 is the integer 3, as openpyxl reads it
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.datetime):
        if kind == "date" and value.time() == datetime.time(0):
            return value.date().isoformat()
        if kind == "time" and value.date() == datetime.date(1899, 12, 31):
            return value.time().isoformat()  # a time-only cell (Excel's day 0)
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if value is None:
        return ""
    return str(value)


def text_records(sheet: Sheet, start: int, kinds: list[str]) -> Iterator[list[str] | tuple[str, ...]]:
    """The rows from sheet row `start` on as text, each cell rendered for its column's field
    type (`kinds`, read when the first row is asked for: it is filled in once the header is
    matched, after the records are opened)."""
    rows = sheet.rows[start - 1 :]
    if not rows:
        return
    width = len(rows[0])
    types = [kinds[i] if i < len(kinds) else "string" for i in range(width)]
    if any(len(row) != width for row in rows):  # calamine's rows are rectangular; this is a guard
        tables = [_renderers(t) for t in types]
        for row in rows:
            yield [v if v.__class__ is str else tables[i].get(v.__class__, _fallback)(v) for i, v in enumerate(row)]
        return
    # column by column: most columns hold one class of value (text, numbers, dates), and a
    # column's conversion is then one comprehension without a call per cell
    columns = [_column_text(column, kind) for column, kind in zip(zip(*rows), types)]
    yield from zip(*columns)


def _column_text(column: tuple, kind: str) -> tuple | list:
    classes = set(map(type, column))
    classes.discard(str)
    if not classes:
        return column
    if classes == {float}:
        return [
            v if v.__class__ is str else (str(int(v)) if v.is_integer() else repr(v))
            for v in column  # integral doubles are integers, as openpyxl reads them
        ]
    if classes == {datetime.date}:
        return [v if v.__class__ is str else v.isoformat() for v in column]
    table = _renderers(kind)
    return [v if v.__class__ is str else table.get(v.__class__, _fallback)(v) for v in column]


def _float_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _fallback(value: Any) -> str:
    return render(value, "string")


def _renderers(kind: str) -> dict[type, Any]:
    """`render` for one field type, as a table by class (datetimes depend on the type)."""
    return {
        float: _float_text,
        int: str,
        bool: lambda v: "true" if v else "false",
        datetime.date: datetime.date.isoformat,
        datetime.time: datetime.time.isoformat,
        datetime.datetime: lambda v: render(v, kind),
        type(None): lambda v: "",
    }


def locate(error: Error, sheet: str, header_row: int) -> Error:
    """The error with its Excel position: the sheet, and the cell (Sheet1!C7) where it has a
    column; a header error is at the header's last row."""
    row = error.row_number if error.row_number is not None else (header_row if error.field_number else None)
    extra = dict(error.extra, sheet=sheet)
    if row is not None and error.field_number:
        extra["cellRef"] = cell_ref(sheet, row, error.field_number)
    if error.type == "blank-label" and error.field_number:
        en, zh = notes("blank-label.blank-excel", number=error.field_number, name=error.field_name or "")
        return error.at(extra=extra, note=en, note_zh=zh)
    return error.at(extra=extra)


def column_letter(number: int) -> str:
    """Excel's column name for a 1-based column number (1 → A, 27 → AA)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_ref(sheet: str, row: int, column: int) -> str:
    """An Excel reference to one cell: Sheet1!C7, or 'My sheet'!C7 for a name that needs quotes."""
    name = (
        sheet
        if re.fullmatch(r"[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff.]*", sheet)
        else "'" + sheet.replace("'", "''") + "'"
    )
    return f"{name}!{column_letter(column)}{row}"
