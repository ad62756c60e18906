"""The Table Schema field types and their names in both languages: one table for validation
messages ("类型应为 数字") and the data dictionary alike, in words a publisher reads (文本, not
字符串). The names live in gongkai/locales/validation.yaml (`validation.field_type.<type>`)."""

from __future__ import annotations

from .errors import text

TYPES = (
    "string",
    "integer",
    "number",
    "boolean",
    "date",
    "datetime",
    "time",
    "year",
    "yearmonth",
    "duration",
    "geopoint",
    "geojson",
    "object",
    "array",
    "list",
    "any",
)
# type -> (zh, en)
TYPE_NAMES: dict[str, tuple[str, str]] = {
    t: (text(f"field_type.{t}", "zh"), text(f"field_type.{t}", "en")) for t in TYPES
}


def type_name(type_: str | None, lang: str = "zh") -> str:
    """The type's name in `lang` ("zh" | "en"); an unknown type as it is."""
    found = TYPE_NAMES.get(type_ or "string")
    if found is None:
        return str(type_)
    return found[1] if lang == "en" else found[0]
