"""duration: an ISO 8601 duration ("P1Y2M3DT4H5M6S", "P2W", "PT0.5S"), parsed by isodate."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from ._text import text_reader
from .base import FieldType

CONSTRAINTS = ("required", "enum")


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """An isodate Duration / timedelta or None, as frictionless's DurationField.create_value_reader."""
    import isodate

    parse = isodate.parse_duration
    kinds = (isodate.Duration, datetime.timedelta)

    return text_reader(parse, kinds)


# The SQLite form is the ISO text as written (validated, not re-rendered: "PT36H" stays "PT36H"):
# `Type.sqlite_is_cell`.


def to_sqlite(value: Any) -> str:
    """For values that did not come from a cell (array items): isodate's rendering."""
    import isodate

    return isodate.duration_isoformat(value)


class Type(FieldType):
    """The duration type: the functions above, under the field-type contract."""

    name = "duration"
    constraints = CONSTRAINTS
    sqlite_is_cell = True  # the ISO text as written
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
