"""`<resource>.csv` (UTF-8, LF) and `<resource>.excel.csv` (UTF-8 with BOM, CRLF): what Excel
in a Chinese locale opens without mojibake. Both neutralise formulas (`gongkai.csv_cells`).

The rows go from SQLite's cursor straight into the csv module's writer (both in C). SQLite
picks out the few cells that may need a prefix (text starting with a trigger character or a
quote: a cheap superset) and only those call `neutralise`; calling it from Python for every
cell took most of the time (bench `exports`).
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from ..csv_cells import PREFIX, TRIGGERS, neutralise
from ..sql import identifier

FUNCTION = "gongkai_neutralise"
# the first characters that may need a prefix, as SQL string literals (a quote doubled)
_FIRST = ", ".join("'" + c.replace("'", "''") + "'" for c in (*TRIGGERS, PREFIX))


def _cell(column: str) -> str:
    q = identifier(column)
    return f"case when typeof({q}) = 'text' and substr({q}, 1, 1) in ({_FIRST}) then {FUNCTION}({q}) else {q} end"


def write_table(conn: sqlite3.Connection, table: str, columns: list[str], path: Path, *, excel: bool = False) -> None:
    conn.create_function(FUNCTION, 1, neutralise, deterministic=True)
    select = ", ".join(_cell(c) for c in columns)
    cursor = conn.execute(f"select {select} from {identifier(table)} order by rowid")
    # the BOM written by hand: "utf-8-sig" is a Python-level encoder, called for each row the
    # csv writer writes, where "utf-8" takes the io module's C path (the same bytes)
    with open(path, "w", encoding="utf-8", newline="") as f:
        if excel:
            f.write("\ufeff")
        w = csv.writer(f, lineterminator="\r\n" if excel else "\n")
        w.writerow([neutralise(c) for c in columns])
        w.writerows(cursor)  # one row at a time from SQLite: memory stays flat


BOM = "\ufeff".encode()
_BLOCK = 1 << 20


def derive_excel(csv_path: Path, path: Path) -> None:
    """`<resource>.excel.csv` from the plain CSV's bytes: the BOM, then every line end outside
    a quoted cell as `\r\n` (no second read of the table, no second formatting of its numbers:
    half the time of writing it again). The csv module quotes a cell holding `"`, the
    delimiter or a line break, and doubles a `"` inside one, so the quotes seen so far being
    even in number means "outside a cell": a line break there ends a row, one inside a quoted
    cell is the cell's own and stays as it is, as the csv writer would have left it."""
    inside = False
    with open(csv_path, "rb") as src, open(path, "wb") as out:
        out.write(BOM)
        while block := src.read(_BLOCK):
            if b'"' not in block and not inside:
                out.write(block.replace(b"\n", b"\r\n"))
                continue
            parts = block.split(b'"')
            for i in range(0 if not inside else 1, len(parts), 2):
                parts[i] = parts[i].replace(b"\n", b"\r\n")
            out.write(b'"'.join(parts))
            inside ^= len(parts) % 2 == 0  # an odd number of quotes in the block
