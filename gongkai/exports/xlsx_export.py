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
SAFE_INT = 2**53  # integers a double holds exactly
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

        # XlsxWriter's undecorated writers: the public ones first test each call for A1 notation,
        # a tenth of the time here; the row and column are always numbers
        number: Any = None
        string: Any = None
        for batch in batches:
            for row in batch:
                if r >= DATA_ROWS:
                    sheet, r = new_sheet(), 0
                    number, string = sheet._write_number, sheet._write_string
                r += 1
                for c, value in enumerate(row):
                    kind = type(value)
                    if kind is str:
                        string(r, c, neutralise(value))
                    elif kind is int:
                        if -SAFE_INT < value < SAFE_INT:
                            number(r, c, value)
                        else:
                            string(r, c, str(value))  # Excel's numbers are doubles: keep every digit
                    elif kind is float:
                        if math.isfinite(value):
                            number(r, c, value)
                        else:
                            string(r, c, str(value))
                    elif value is None:
                        continue
                    elif kind is bytes:
                        string(r, c, value.hex())
                    else:
                        string(r, c, str(neutralise(str(value))))
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
