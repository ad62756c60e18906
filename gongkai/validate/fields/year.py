"""year: exactly four characters that ``int()`` reads as 0..9999 (so " 999" and "+999" pass)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import FieldType

CONSTRAINTS = ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum")


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """An int or None, as frictionless's YearField.create_value_reader."""

    def value_reader(cell: Any):
        if not isinstance(cell, int):
            if not isinstance(cell, str):
                return None
            if len(cell) != 4:
                return None
            try:
                cell = int(cell)
            except Exception:
                return None
        if cell < 0 or cell > 9999:
            return None
        return cell

    return value_reader


def to_sqlite(value: int) -> int:
    return value


def text_reader_code(field: dict):
    # the reader's str branch, inlined (cells are always text)
    code = (
        "if len(cell) == 4:\n"
        "    try:\n"
        "        v = int(cell)\n"
        "    except ValueError:\n"
        "        v = None\n"
        "    else:\n"
        "        if v < 0 or v > 9999:\n"
        "            v = None\n"
        "else:\n"
        "    v = None"
    )
    return code, {}


class Type(FieldType):
    """The year type: the functions above, under the field-type contract."""

    name = "year"
    constraints = CONSTRAINTS
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
    text_reader_code = staticmethod(text_reader_code)
