"""`<resource>.xlsx`: the rows under their column titles, split across sheets past Excel's limit
of 1,048,576 rows a sheet, and a second sheet with the data dictionary.

Written with XlsxWriter in `constant_memory` mode: each row goes to disk as it is written, so
memory stays flat whatever the table's size, and it is several times faster than pandas with
openpyxl (measured in `make bench`, `exports`). Strings are written as strings (`write_string`),
never parsed as formulas, and neutralised as in the CSVs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import xlsxwriter

from ..csv_cells import neutralise
from .dictionary import HEADER, rows as dictionary_rows

MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header row included
DATA_ROWS = MAX_ROWS - 1
SHEET = "数据 Data"
DICTIONARY_SHEET = "数据字典 Dictionary"


def write(batches: Iterable[list[tuple]], titles: list[str], fields: list[dict], path: Path) -> int:
    """Returns the number of data sheets written."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    try:
        bold = book.add_format({"bold": True})
        sheets = 0
        sheet: Any = None
        r = DATA_ROWS  # forces the first sheet

        def new_sheet():
            nonlocal sheets
            sheets += 1
            ws = book.add_worksheet(SHEET if sheets == 1 else f"{SHEET} {sheets}")
            for c, title in enumerate(titles):
                ws.write_string(0, c, str(neutralise(title)), bold)
            ws.freeze_panes(1, 0)
            return ws

        for batch in batches:
            for row in batch:
                if r >= DATA_ROWS:
                    sheet, r = new_sheet(), 0
                r += 1
                for c, value in enumerate(row):
                    if value is None:
                        continue
                    if isinstance(value, int) and abs(value) >= 2**53:
                        sheet.write_string(r, c, str(value))  # Excel's numbers are doubles: keep every digit
                    elif isinstance(value, int | float) and not isinstance(value, bool):
                        if isinstance(value, float) and not math.isfinite(value):
                            sheet.write_string(r, c, str(value))
                        else:
                            sheet.write_number(r, c, value)
                    elif isinstance(value, bytes):
                        sheet.write_string(r, c, value.hex())
                    else:
                        sheet.write_string(r, c, str(neutralise(str(value))))
        if sheets == 0:
            new_sheet()
        ws = book.add_worksheet(DICTIONARY_SHEET)
        for c, title in enumerate(HEADER):
            ws.write_string(0, c, title, bold)
        for i, drow in enumerate(dictionary_rows(fields), start=1):
            for c, value in enumerate(drow):
                ws.write_string(i, c, str(neutralise(value)))
        return sheets
    finally:
        book.close()
