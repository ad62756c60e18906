"""The data dictionary of a resource as rows: `<resource>.dictionary.csv` and the XLSX's second
sheet. One row per field, in both languages where the descriptor gives them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..csv_cells import neutralise
from ..field_types import type_name

HEADER = [
    "name 字段名",
    "title 标题",
    "title_en 英文标题",
    "type 类型",
    "类型（中文）",
    "description 说明",
    "unit 单位",
    "constraints 约束",
]


def rows(fields: list[dict]) -> list[list[str]]:
    out = []
    for f in fields:
        tr = ((f.get("gov:translations") or {}).get("en") or {}) if isinstance(f.get("gov:translations"), dict) else {}
        constraints = f.get("constraints")
        out.append(
            [
                str(f.get("name", "")),
                str(f.get("title") or ""),
                str(tr.get("title") or "") if isinstance(tr, dict) else "",
                str(f.get("type") or "string"),
                type_name(str(f.get("type") or "string"), "zh"),
                str(f.get("description") or ""),
                str(f.get("gov:unit") or ""),
                json.dumps(constraints, ensure_ascii=False, sort_keys=True) if constraints else "",
            ]
        )
    return out


def write(fields: list[dict], path: Path) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(HEADER)
        w.writerows([neutralise(v) for v in row] for row in rows(fields))
