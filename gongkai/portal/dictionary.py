"""The data dictionary: each column's name, title, type, unit, description and constraints in
words, in both languages; and the same as a CSV file people can download.

Input rows are catalog.db `fields` rows (constraints as the descriptor's JSON).
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING

from .. import i18n
from ..csv_cells import neutralise
from ..field_types import TYPE_NAMES

if TYPE_CHECKING:
    from ..catalogue.records import RowLike

TYPES = TYPE_NAMES  # (zh, en) per type: the same words as validation messages (gongkai/field_types.py)


def type_words(type_: str | None, fmt: str | None = None) -> tuple[str, str]:
    zh, en = TYPES.get(type_ or "string", (type_ or "", type_ or ""))
    if fmt and fmt != "default":
        zh = i18n.t("dict.with_format", "zh", type=zh, format=fmt)
        en = i18n.t("dict.with_format", "en", type=en, format=fmt)
    return zh, en


def _value(v) -> str:
    return json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else str(v)


def _both(key: str, **fmt) -> tuple[str, str]:
    return i18n.t(key, "zh", **fmt), i18n.t(key, "en", **fmt)


# Table Schema's constraints with a value, in the order the dictionary lists them.
BOUNDS = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "minLength", "maxLength", "pattern")


def constraint_words(constraints) -> list[tuple[str, str]]:
    """Each constraint as a (zh, en) sentence fragment, in a stable order."""
    if isinstance(constraints, str):
        constraints = json.loads(constraints) if constraints else {}
    c = constraints or {}
    out: list[tuple[str, str]] = []
    if c.get("required"):
        out.append(_both("dict.required"))
    if c.get("unique"):
        out.append(_both("dict.unique"))
    if "enum" in c:
        zh, en = (i18n.t("dict.enum_separator", lang).join(_value(v) for v in c["enum"]) for lang in ("zh", "en"))
        out.append((i18n.t("dict.enum", "zh", values=zh), i18n.t("dict.enum", "en", values=en)))
    for key in BOUNDS:
        if key in c:
            out.append(_both(f"dict.{key}", value=_value(c[key])))
    return out


def entry(field: RowLike) -> dict:
    """One dictionary line, both languages: what the page and the CSV show. A missing
    translation falls back to the original (the dataset's main language)."""
    type_zh, type_en = type_words(field.get("type"), field.get("format"))
    words = constraint_words(field.get("constraints"))
    return {
        "name": field["name"],
        "title_zh": field.get("title_zh") or field.get("title") or "",
        "title_en": field.get("title_en") or field.get("title") or "",
        "title": field.get("title") or "",
        "type": field.get("type") or "string",
        "type_zh": type_zh,
        "type_en": type_en,
        "unit": field.get("unit") or "",
        "description": field.get("description") or "",
        "description_zh": field.get("description_zh") or field.get("description") or "",
        "description_en": field.get("description_en") or field.get("description") or "",
        "constraints_zh": i18n.t("dict.constraint_separator", "zh").join(zh for zh, _ in words),
        "constraints_en": i18n.t("dict.constraint_separator", "en").join(en for _, en in words),
    }


CSV_COLUMNS = [
    "name",
    "title_zh",
    "title_en",
    "type",
    "unit",
    "description_zh",
    "description_en",
    "constraints_zh",
    "constraints_en",
]


def to_csv(fields: list[dict]) -> str:
    """The data dictionary of one resource as CSV (UTF-8 with BOM added by the caller if wanted)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for f in fields:
        # Titles, descriptions and units are publisher text: no cell may run as a formula.
        writer.writerow({k: neutralise(v) for k, v in entry(f).items()})
    return buf.getvalue()
