"""A table's first rows for its landing page, and how a cell reads there.

The preview is for reading, not for reuse (the downloads keep every value exactly): numbers get
thousands separators and at most two decimals, so 2813571753.8725324 shows as 2,813,571,753.87.
Integers below 100,000 stay as they are: they are most often years and codes (2023, 110101).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..sql import identifier

ROWS = 5
GROUP_FROM = 100_000


@dataclass
class Preview:
    columns: list[str]
    rows: list[list]


def read(conn: sqlite3.Connection, table: str, limit: int = ROWS) -> Preview:
    cur = conn.execute(f"select * from {identifier(table)} limit {int(limit)}")
    return Preview([c[0] for c in cur.description], [list(r) for r in cur.fetchall()])


def cell_text(value) -> str | None:
    """A cell as the preview shows it; None for a missing value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= GROUP_FROM else str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
        return text if text not in ("-0", "") else "0"
    return str(value)
