"""time: ISO 8601 "HH:MM:SS[.ffffff][±HH:MM]" by default (dateutil), dateutil's free parser
for "any", or a strptime pattern."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from ._text import text_reader
from .base import FieldType

CONSTRAINTS = ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum")


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """A ``time`` or None, as frictionless's TimeField.create_value_reader."""
    fmt = field.get("format", "default")
    from dateutil import parser as dateutil_parser

    if fmt == "default":
        isoparse = dateutil_parser.isoparse

        def parse(cell: str):
            assert cell[5] == ":"
            assert len(cell) >= 8
            return isoparse(f"2000-01-01T{cell}").timetz()

    elif fmt == "any":
        parse = lambda cell: dateutil_parser.parse(cell).timetz()  # noqa: E731
    else:
        strptime = _dt.datetime.strptime
        parse = lambda cell: strptime(cell, fmt).timetz()  # noqa: E731

    return text_reader(parse, _dt.time)


def to_sqlite(value: _dt.time) -> str:
    return value.isoformat()


class Type(FieldType):
    """The time type: the functions above, under the field-type contract."""

    name = "time"
    constraints = CONSTRAINTS
    memoised = True
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
