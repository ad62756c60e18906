"""The Table Schema field types and their names in both languages: one table for validation
messages ("类型应为 数字") and the data dictionary alike, in words a publisher reads (文本, not
字符串)."""

from __future__ import annotations

# type -> (zh, en)
TYPE_NAMES: dict[str, tuple[str, str]] = {
    "string": ("文本", "text"),
    "integer": ("整数", "integer"),
    "number": ("数字", "number"),
    "boolean": ("是/否", "true/false"),
    "date": ("日期", "date"),
    "datetime": ("日期时间", "date and time"),
    "time": ("时间", "time"),
    "year": ("年份", "year"),
    "yearmonth": ("年月", "year and month"),
    "duration": ("时长", "duration"),
    "geopoint": ("地理坐标点", "geographic point"),
    "geojson": ("GeoJSON 几何", "GeoJSON geometry"),
    "object": ("JSON 对象", "JSON object"),
    "array": ("JSON 数组", "JSON array"),
    "list": ("列表", "list"),
    "any": ("任意值", "any value"),
}
TYPES = tuple(TYPE_NAMES)


def type_name(type_: str | None, lang: str = "zh") -> str:
    """The type's name in `lang` ("zh" | "en"); an unknown type as it is."""
    found = TYPE_NAMES.get(type_ or "string")
    if found is None:
        return str(type_)
    return found[1] if lang == "en" else found[0]
