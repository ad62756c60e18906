"""`<resource>.json` (one array of objects, streamed) and `<resource>.ndjson` (one object per
line). Values as SQLite holds them: the exact numbers, not the page's formatting.

Each row's object is made by SQLite's `json_object` (C) through APSW's current SQLite, whose
REAL-to-text conversion is the shortest that round-trips (Debian's 3.40 keeps 15 digits, so
0.1 + 0.2 would come out as 0.3); Python only writes the lines. Building a dict and encoding it
per row in Python was slower than pandas' `to_json` (bench `exports`). JSON has no NaN or
Infinity (SQLite stores NaN as NULL; an infinite REAL becomes null) and no bytes (a BLOB is
written as base64, through a function SQLite calls only for BLOB cells).
"""

from __future__ import annotations

import base64
import contextlib
from itertools import islice
from pathlib import Path
from typing import Any

import apsw

from ..sql import identifier

CHUNK = 2000  # rows joined per write


def _value(column: str) -> str:
    q = identifier(column)
    # 9e999 is SQLite's infinity: a finite REAL is below it
    return f"case typeof({q}) when 'real' then iif(abs({q}) < 9e999, {q}, null) when 'blob' then gongkai_base64({q}) else {q} end"


def select(table: str, columns: list[str]) -> str:
    """The query whose one column is each row's JSON object, in rowid order (the original file's)."""
    pairs = ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}', {_value(c)}" for c in columns)
    return f"select json_object({pairs}) from {identifier(table)} order by rowid"


def write_table(database: Path, table: str, columns: list[str], path: Path, *, lines: bool = False) -> None:
    """One of the two files (`lines`: NDJSON); `write_both` makes both from one read."""
    write_both(database, table, columns, ndjson=path if lines else None, json=None if lines else path)


def write_both(database: Path, table: str, columns: list[str], *, json: Path | None, ndjson: Path | None) -> None:
    """`<resource>.json` and `<resource>.ndjson` from one read of the table: the same objects,
    joined by ",\n" in an array or by "\n"."""
    conn = apsw.Connection(str(database), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        conn.create_scalar_function("gongkai_base64", _base64, 1, deterministic=True)
        cursor = conn.execute(select(table, columns))
        with contextlib.ExitStack() as stack:
            js = stack.enter_context(open(json, "w", encoding="utf-8", newline="\n")) if json else None
            nd = stack.enter_context(open(ndjson, "w", encoding="utf-8", newline="\n")) if ndjson else None
            if js is not None:
                js.write("[")
            first = True
            while True:
                chunk = [row[0] for row in islice(cursor, CHUNK)]
                if not chunk:
                    break
                if nd is not None:
                    nd.write("\n".join(chunk) + "\n")
                if js is not None:
                    js.write(("\n" if first else ",\n") + ",\n".join(chunk))
                first = False
            if js is not None:
                js.write("\n]\n" if not first else "]\n")
    finally:
        conn.close()


def _base64(*args: Any) -> str:  # APSW's type for a scalar function: any arguments
    return base64.b64encode(args[0]).decode("ascii")
