"""datetime: ISO 8601 by default (dateutil's isoparse, at least "YYYY-MM-DDTHH:MM:SS"),
dateutil's free parser for "any", or a strptime pattern."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from typing import Any

from ._text import text_reader
from .base import FieldType

CONSTRAINTS = ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum")


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """A ``datetime`` or None, as frictionless's DatetimeField.create_value_reader."""
    fmt = field.get("format", "default")
    from dateutil import parser as dateutil_parser

    if fmt == "default":
        isoparse = dateutil_parser.isoparse

        def parse(cell: str):
            # guard against shorter forms dateutil would accept
            assert cell[16] == ":"
            assert len(cell) >= 19
            return isoparse(cell)

    elif fmt == "any":
        parse = dateutil_parser.parse
    else:
        strptime = _dt.datetime.strptime
        parse = lambda cell: strptime(cell, fmt)  # noqa: E731

    return text_reader(parse, _dt.datetime)


def to_sqlite(value: _dt.datetime) -> str:
    return value.isoformat()


# "YYYY-MM-DDTHH:MM:SS" in ASCII digits: isoparse and fromisoformat agree on it; the cell is
# then already its isoformat(). Everything else goes through the exact reader.
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\Z").match


def text_reader_code(field: dict):
    constraints = field.get("constraints") or {}
    if field.get("format", "default") != "default" or any(constraints.get(n) is not None for n in CONSTRAINTS[1:]):
        return None  # aware/naive datetimes do not compare as text: check natives
    code = (
        "if _ISO(cell) is not None:\n"
        "    try:\n"
        "        _FROMISO(cell)\n"
        "        v = cell\n"
        "    except ValueError:\n"
        "        v = _read(cell)\n"
        "        if v is not None:\n"
        "            v = _conv(v)\n"
        "else:\n"
        "    v = _read(cell)\n"
        "    if v is not None:\n"
        "        v = _conv(v)"
    )
    return code, {"_ISO": _ISO, "_FROMISO": _dt.datetime.fromisoformat}


class Type(FieldType):
    """The datetime type: the functions above, under the field-type contract."""

    name = "datetime"
    constraints = CONSTRAINTS
    memoised = True
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
    text_reader_code = staticmethod(text_reader_code)
