"""Reading a table for export: its columns and its rows in order (one at a time: bounded memory)."""

from __future__ import annotations

import sqlite3

from ..sql import identifier


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"pragma table_info({identifier(table)})")]


def count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"select count(*) from {identifier(table)}").fetchone()[0])


def cursor(conn: sqlite3.Connection, table: str, cols: list[str]) -> sqlite3.Cursor:
    """Every row, in rowid order (the order of the original file), one at a time."""
    select = ", ".join(identifier(c) for c in cols)
    return conn.execute(f"select {select} from {identifier(table)} order by rowid")
