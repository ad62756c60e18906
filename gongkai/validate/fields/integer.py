"""integer: Python's ``int()`` of the stripped cell (so "+5", " 5 ", "1_000", "٣" are integers)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ...errors import notes
from .base import FieldType

CONSTRAINTS = ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum")


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """The int or None, as frictionless's IntegerField.create_value_reader."""
    pattern = None
    if not field.get("bareNumber", True):
        # strip leading non-digits (but keep "-") and trailing non-digits: "€1000" -> 1000
        pattern = re.compile(r"((^[^-\d]*)|(\D*$))")

    def value_reader(cell: Any):
        if isinstance(cell, str):
            cell = cell.strip()
            if pattern:
                cell = pattern.sub("", cell)
            try:
                return int(cell)
            except Exception:
                return None
        elif cell is True or cell is False:
            return None
        elif isinstance(cell, int):
            return cell
        elif isinstance(cell, float) and cell.is_integer():
            return int(cell)
        elif isinstance(cell, Decimal) and cell % 1 == 0:
            return int(cell)
        return None

    return value_reader


SQLITE_MIN, SQLITE_MAX = -(1 << 63), (1 << 63) - 1


def storage_check(field: dict):
    """SQLite keeps integers in 64 bits and would turn a larger one into a rounded float, so
    such a cell gets an error of its own (frictionless accepts it): nothing is published
    changed. Numbers that long are codes or identifiers, which belong in a string field."""
    note, note_zh = notes("integer-range.outside", low=SQLITE_MIN, high=SQLITE_MAX)
    return "_LO <= v <= _HI", {"_LO": SQLITE_MIN, "_HI": SQLITE_MAX}, ("integer-range", note, note_zh)


def to_sqlite(value: int) -> int:
    return value


def text_reader_code(field: dict):
    """``int(cell)`` first: it accepts a subset of ``int(cell.strip())`` with the same value
    (``int`` strips ASCII/Unicode spaces itself; ``str.strip`` also strips a few separators
    like U+001C that ``int`` refuses) -- anything it refuses goes through the exact reader."""
    if not field.get("bareNumber", True):
        return None
    code = "try:\n    v = int(cell)\nexcept ValueError:\n    v = _read(cell)"
    return code, {}


class Type(FieldType):
    """The integer type: the functions above, under the field-type contract."""

    name = "integer"
    constraints = CONSTRAINTS
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
    text_reader_code = staticmethod(text_reader_code)
    storage_check = staticmethod(storage_check)
