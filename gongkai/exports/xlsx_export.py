"""`<resource>.xlsx`: the rows under their column titles, split across sheets past Excel's limit
of 1,048,576 rows a sheet, and a second sheet with the data dictionary.

The rows' XML is made by SQLite, as the JSON export's objects are: one `select` whose one
column is a row's cells, each cell an expression on its value's type (numbers as numbers,
text inline and escaped), so Python only numbers the rows and deflates them. XlsxWriter writes
the rest of the workbook (styles, the bold frozen header row of each data sheet, sheet names,
the dictionary sheet) with a marker row where the rows go (`_Skeleton`). Writing each cell
through XlsxWriter cost ~50 µs a row in Python, 25 s of the 500k-row bench table's build.

Text is never read as a formula: a cell that needs more than escaping (a formula trigger or a
leading `'`, which `csv_cells.neutralise` prefixes as in the CSVs; a control character or a
literal `_xHHHH_`; leading or trailing white space; more than Excel's 32,767 characters) is
written by Python (`_text_cell`, the catalogue sheet's `inline_string`), the same bytes as
before. An integer beyond 2**53 (a double cannot hold it), an infinity or a BLOB (as hex) is
text, so no digit is lost.
"""

from __future__ import annotations

import io
from itertools import islice
from pathlib import Path
from typing import Any

import apsw
import xlsxwriter

from ..csv_cells import PREFIX, TRIGGERS, neutralise
from ..sql import identifier
from .catalogue_sheet import CREATED, MAX_TEXT, inline_string, members, split_at_marker, with_dimension, write_workbook
from .dictionary import HEADER, rows as dictionary_rows

MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header row included
DATA_ROWS = MAX_ROWS - 1
SAFE_INT = 2**53 - 1  # integers a double holds exactly
MAX_DOUBLE = 1.7976931348623157e308
SHEET = "数据 Data"
DICTIONARY_SHEET = "数据字典 Dictionary"
CHUNK = 2000  # rows joined per write
_SPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())  # str.isspace, every one ≤ U+3000
# bound once per statement: a cell Python writes starts with `?1`, ends with `?2` (matched
# against its last character: `*[…]` would try the class at every position) or holds `?3`
_PATTERNS = (
    "[" + "".join(TRIGGERS).replace("-", "") + PREFIX + _SPACE + "-]*",  # "-" last: not a range
    "[" + _SPACE + "]",
    "*[\x01-\x08\x0b-\x1f]*",  # XML 1.0 has no form for these control characters
)


def _text_cell(*args: Any) -> str:  # APSW's type for a scalar function: any arguments
    value = args[0]
    if value == "":
        return "<c/>"
    return f'<c t="inlineStr">{inline_string(str(neutralise(value)))}</c>'


def _text_expression(q: str) -> str:
    """A text value's cell: escaped in SQL, or through `_text_cell` when it needs more."""
    # most text has nothing to escape: three `instr` scans cost less than three copies
    escaped = (
        f"iif(instr({q}, '&') or instr({q}, '<') or instr({q}, '>'),"
        f" replace(replace(replace({q}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), {q})"
    )
    # octet_length is stored, length counts characters: fewer bytes than MAX_TEXT, fewer characters
    return (
        f"iif(octet_length({q}) > {MAX_TEXT} or {q} = '' or glob(?1, {q}) or glob(?2, substr({q}, -1))"
        f" or instr({q}, '_x') or glob(?3, {q}), gongkai_xlsx_text({q}),"
        f" '<c t=\"inlineStr\"><is><t>' || {escaped} || '</t></is></c>')"
    )


def _cell(column: str) -> str:
    q = identifier(column)
    text_of = "'<c t=\"inlineStr\"><is><t>' || {} || '</t></is></c>'"
    return (
        f"case typeof({q}) when 'null' then '<c/>'"
        f" when 'integer' then iif({q} between -{SAFE_INT} and {SAFE_INT}, '<c><v>' || {q} || '</v></c>', "
        + text_of.format(q)
        + ")"
        + f" when 'real' then iif({q} between -{MAX_DOUBLE!r} and {MAX_DOUBLE!r}, '<c><v>' || json_quote({q}) || '</v></c>', "
        + text_of.format(f"iif({q} > 0, 'inf', '-inf')")
        + ")"
        + " when 'blob' then "
        + text_of.format(f"lower(hex({q}))")
        + f" else {_text_expression(q)} end"
    )


def select(table: str, columns: list[str]) -> str:
    """The query whose one column is each row's cells, in rowid order (the original file's)."""
    cells = " || ".join(_cell(c) for c in columns) if columns else "''"
    return f"select {cells} from {identifier(table)} order by rowid"


class _Skeleton:
    """XlsxWriter's workbook with each data sheet's header row and a marker row, split around it."""

    def __init__(self, titles: list[str], fields: list[dict], sheets: int):
        buf = io.BytesIO()
        book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
        book.set_properties({"created": CREATED})
        bold = book.add_format({"bold": True})
        for k in range(1, sheets + 1):
            ws = book.add_worksheet(SHEET if k == 1 else f"{SHEET} {k}")
            for c, title in enumerate(titles):
                ws.write_string(0, c, str(neutralise(title)), bold)
            ws.write_blank(1, 0, None, bold)  # the marker: where the rows go
            ws.freeze_panes(1, 0)
        ws = book.add_worksheet(DICTIONARY_SHEET)
        for c, title in enumerate(HEADER):
            ws.write_string(0, c, title, bold)
        for i, drow in enumerate(dictionary_rows(fields), start=1):
            for c, value in enumerate(drow):
                ws.write_string(i, c, str(neutralise(value)))
        book.close()
        self.members = members(buf.getvalue())
        xml = dict(self.members)
        # data sheet part → (before, after) the rows
        self.parts = {
            name: split_at_marker(xml[name].decode("utf-8"))[:2]
            for name in (f"xl/worksheets/sheet{k}.xml" for k in range(1, sheets + 1))
        }
        self.columns = len(titles)


def write_table(
    database: Path, table: str, columns: list[str], titles: list[str], fields: list[dict], path: Path
) -> int:
    """Write the workbook of `table` (in the SQLite file `database`) to `path`; returns the
    number of data sheets."""
    conn = apsw.Connection(str(database), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        conn.create_scalar_function("gongkai_xlsx_text", _text_cell, 1, deterministic=True)
        total = int(next(conn.execute(f"select count(*) from {identifier(table)}"))[0])
        sheets = max(1, -(-total // DATA_ROWS))
        skeleton = _Skeleton(titles, fields, sheets)
        cursor = conn.execute(select(table, columns), _PATTERNS)
        counts = [min(DATA_ROWS, total - k * DATA_ROWS) for k in range(sheets)]

        def sheet(name: str, rows: int):
            before, after = skeleton.parts[name]

            def write(out) -> None:  # the next `rows` rows of the one cursor, numbered from 2
                out.write(with_dimension(before, skeleton.columns, rows))
                number, end = 2, rows + 2
                while number < end:
                    chunk = [row[0] for row in islice(cursor, min(CHUNK, end - number))]
                    if not chunk:
                        break
                    out.write("".join(f'<row r="{number + i}">{x}</row>' for i, x in enumerate(chunk)).encode("utf-8"))
                    number += len(chunk)
                out.write(after.encode("utf-8"))

            return write

        # the data sheets are written in their order (XlsxWriter's), so one cursor feeds them all
        write_workbook(path, skeleton.members, {name: sheet(name, n) for name, n in zip(skeleton.parts, counts)})
        return sheets
    finally:
        conn.close()
