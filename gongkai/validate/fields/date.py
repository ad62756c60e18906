"""date: ``datetime.strptime(cell, "%Y-%m-%d")`` by default (which also takes "2024-1-5",
"2024-01- 5" and non-ASCII digits), dateutil for "any", or a strptime pattern."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from ._text import text_reader
from .base import FieldType

CONSTRAINTS = ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum")

DEFAULT_PATTERN = "%Y-%m-%d"


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """A ``date`` or None, as frictionless's DateField.create_value_reader."""
    fmt = field.get("format", "default")
    if fmt == "any":
        from dateutil import parser as dateutil_parser

        parse = lambda cell: dateutil_parser.parse(cell).date()  # noqa: E731
    else:
        pattern = DEFAULT_PATTERN if fmt == "default" else fmt
        strptime = datetime.strptime
        parse = lambda cell: strptime(cell, pattern).date()  # noqa: E731

    read = text_reader(parse, date)

    def value_reader(cell: Any):
        # a datetime is a date too: only midnight counts, as frictionless does
        if isinstance(cell, datetime):
            if cell.hour == 0 and cell.minute == 0 and cell.second == 0:
                return datetime(cell.year, cell.month, cell.day).date()
            return None
        return read(cell)

    return value_reader


def to_sqlite(value: date) -> str:
    # always 4-digit years, so text order is date order: constraints compare the text
    return value.isoformat()


# Strict ISO "YYYY-MM-DD", ASCII digits: strptime and date.fromisoformat agree on it, and the
# cell is then already its SQLite form. Anything else goes through strptime.
_ISO = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])\Z").match


def text_reader_code(field: dict):
    if field.get("format", "default") != "default":
        code = "v = _read(cell)\nif v is not None:\n    v = _conv(v)"
        return code, {}
    # Repeated dates are remembered by the table's row loop (`Type.memoised`), the one cache
    # of cast values; here the strict ISO form is recognised without a parse.
    code = (
        "if _ISO(cell) is not None:\n"
        "    try:\n"
        "        _FROMISO(cell)\n"
        "        v = cell\n"
        "    except ValueError:\n"  # 2023-02-29, 0000-01-01
        "        v = None\n"
        "else:\n"
        "    v = _read(cell)\n"
        "    if v is not None:\n"
        "        v = _conv(v)"
    )
    return code, {"_ISO": _ISO, "_FROMISO": date.fromisoformat}


class Type(FieldType):
    """The date type: the functions above, under the field-type contract."""

    name = "date"
    constraints = CONSTRAINTS
    memoised = True
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
    text_reader_code = staticmethod(text_reader_code)
