"""duration: an ISO 8601 duration ("P1Y2M3DT4H5M6S", "P2W", "PT0.5S"), parsed by isodate."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from ._text import text_reader

CONSTRAINTS = ("required", "enum")


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """An isodate Duration / timedelta or None, as frictionless's DurationField.create_value_reader."""
    import isodate

    parse = isodate.parse_duration
    kinds = (isodate.Duration, datetime.timedelta)

    return text_reader(parse, kinds)


# The SQLite form is the ISO text as written (validated, not re-rendered: "PT36H" stays "PT36H").
SQLITE_IS_CELL = True


def to_sqlite(value: Any) -> str:
    """For values that did not come from a cell (array items): isodate's rendering."""
    import isodate

    return isodate.duration_isoformat(value)
