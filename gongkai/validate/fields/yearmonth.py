"""yearmonth: "YYYY-MM": two ``int()``-readable parts around one "-", month 1..12."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .base import FieldType

CONSTRAINTS = ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum")


class yearmonth(NamedTuple):
    year: int
    month: int


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """A (year, month) tuple or None, as frictionless's YearmonthField.create_value_reader."""

    def value_reader(cell: Any):
        if isinstance(cell, (tuple, list)):
            if len(cell) != 2:
                return None
            return yearmonth(year=cell[0], month=cell[1])
        if isinstance(cell, str):
            try:
                year_text, month_text = cell.split("-")
                year = int(year_text)
                month = int(month_text)
                if month < 1 or month > 12:
                    return None
                return yearmonth(year, month)
            except Exception:
                return None
        return None

    return value_reader


def to_sqlite(value: yearmonth) -> str:
    return f"{value[0]:04d}-{value[1]:02d}"


class Type(FieldType):
    """The yearmonth type: the functions above, under the field-type contract."""

    name = "yearmonth"
    constraints = CONSTRAINTS
    memoised = True
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
