"""Convert the original `bszl-data.js` (as received) into `service-items.csv`.

Run from anywhere: `python datasets/cn-guangan-service-items/convert.py`. Pure Python (standard
library only), so anyone can rerun it from the original file; a rerun writes identical bytes
(rows in the file's order, UTF-8 without BOM, `\\n` line ends). tests/test_guangan.py reruns it
and compares.

What it does, and why (SOURCE.md says what is dirty):
- the file is JavaScript, `const bszlData = [...];`: the array between the first `[` and the last
  `]` is JSON;
- every field that matters is in the query string of each item's `link`: `itemCode` (the item's
  implementation code; its part before the first 12-digit division code is the basic code, which
  three codes that hold no division code do not give), `taskType` (the item
  kind, published as the two-digit national code with its name), `areaCode`, `deptCode`;
- `deptCode` is published exactly as given (18-character unified social credit codes, 9-character
  organisation codes with or without hyphen, and longer strings): the dataset's description says
  what is there, and tests/test_guangan.py checks the 18-character ones' check characters;
- `qrcode` is always empty and is dropped; `main_item` (`未分类` = ungrouped) is kept as given.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "bszl-data.js"
TARGET = HERE / "service-items.csv"
# taskType → (national two-digit code, kind); the national codes: 01–10 the ten kinds of
# administrative power, 20 public services
KINDS = {
    "1": ("01", "行政许可"),
    "2": ("02", "行政处罚"),
    "3": ("03", "行政强制"),
    "4": ("04", "行政征收"),
    "5": ("05", "行政给付"),
    "6": ("06", "行政检查"),
    "7": ("07", "行政确认"),
    "8": ("08", "行政奖励"),
    "9": ("09", "行政裁决"),
    "10": ("10", "其他行政权力"),
    "20": ("20", "公共服务"),
}
DIVISION_PART = re.compile(r"^(.+?)-[0-9]{12}-")
HEADER = [
    "事项编码",
    "基本编码",
    "事项名称",
    "事项类型",
    "事项类型代码",
    "事项分组",
    "实施主体",
    "实施主体编码",
    "行政区划代码",
    "设定依据",
    "办事指南",
]


class ConversionError(Exception):
    pass


def read_source(text: str) -> list[dict]:
    start, end = text.find("["), text.rfind("]")
    if start < 0 or end < start:
        raise ConversionError("no JSON array in the file / 文件中没有 JSON 数组")
    return json.loads(text[start : end + 1])


def basic_code(item_code: str) -> str:
    """The part before the first 12-digit division code (`511A0138000000-511602000000-…` →
    `511A0138000000`); empty for the few codes that hold no division code (SOURCE.md)."""
    found = DIVISION_PART.match(item_code)
    return found.group(1) if found else ""


def rows(departments: list[dict]) -> list[list[str]]:
    out = []
    for dept in departments:
        for group in dept["items"]:
            for item in group["sub_items"]:
                query = parse_qs(urlsplit(item["link"]).query, keep_blank_values=True)
                one = {k: v[0] for k, v in query.items() if len(v) == 1}
                code, area, task = one.get("itemCode", ""), one.get("areaCode", ""), one.get("taskType", "")
                where = f"{dept['department']} / {item['name']}"
                if not code:
                    raise ConversionError(f"{where}: no itemCode / 缺少事项编码")
                if task not in KINDS:
                    raise ConversionError(f"{where}: unknown taskType {task!r}")
                kind_code, kind = KINDS[task]
                out.append(
                    [
                        code,
                        basic_code(code),
                        item["name"].strip(),
                        kind,
                        kind_code,
                        group["main_item"],
                        dept["department"],
                        one.get("deptCode", ""),
                        area,
                        "",  # the source gives no legal basis
                        item["link"],
                    ]
                )
    return out


def convert(text: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows(read_source(text)))
    return buffer.getvalue().encode("utf-8")


def main() -> int:
    try:
        data = convert(SOURCE.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, ConversionError) as exc:
        print(f"转换失败 conversion failed: {exc}", file=sys.stderr)
        return 1
    TARGET.write_bytes(data)
    lines = data.count(b"\n")
    print(f"{TARGET.name}: {lines - 1} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
