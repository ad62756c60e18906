"""any: every value is valid; the SQLite form is the text as read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import FieldType

CONSTRAINTS = ("required", "enum")


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """The cell itself, as frictionless's base Field.create_value_reader."""

    def value_reader(cell: Any):
        return cell

    return value_reader


def to_sqlite(value: Any) -> Any:
    return value


def text_reader_code(field: dict):
    # cells are text and enum values are compared as given: nothing to read
    return "v = cell", {}


def inline_hint(field: dict):
    return "{c}"


class Type(FieldType):
    """The any type: the functions above, under the field-type contract."""

    name = "any"
    constraints = CONSTRAINTS
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
    text_reader_code = staticmethod(text_reader_code)
    inline_hint = staticmethod(inline_hint)
