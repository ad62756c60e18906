"""`<resource>.json` (one array of objects, streamed) and `<resource>.ndjson` (one object per
line). Values as SQLite holds them: the exact numbers, not the page's formatting."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable
from pathlib import Path


def write(batches: Iterable[list[tuple]], columns: list[str], path: Path, *, lines: bool = False) -> None:
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_bytes).encode
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        first = True
        if not lines:
            f.write("[")
        for batch in batches:
            for row in batch:
                text = dumps(dict(zip(columns, map(_finite, row))))
                if lines:
                    f.write(text + "\n")
                else:
                    f.write(("\n" if first else ",\n") + text)
                first = False
        if not lines:
            f.write("\n]\n" if not first else "]\n")


def _finite(value):
    # JSON has no NaN or Infinity; SQLite can hold them in a REAL column
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _bytes(value):
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(type(value).__name__)
