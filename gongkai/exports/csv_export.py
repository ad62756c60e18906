"""`<resource>.csv` (UTF-8, LF) and `<resource>.excel.csv` (UTF-8 with BOM, CRLF): what Excel
in a Chinese locale opens without mojibake. Both neutralise formulas (neutralise.py)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from ..csv_cells import neutralise


def write(batches: Iterable[list[tuple]], columns: list[str], path: Path, *, excel: bool = False) -> None:
    encoding = "utf-8-sig" if excel else "utf-8"
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f, lineterminator="\r\n" if excel else "\n")
        w.writerow([neutralise(c) for c in columns])
        for batch in batches:
            w.writerows([neutralise(v) for v in row] for row in batch)
