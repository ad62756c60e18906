"""any: every value is valid; the SQLite form is the text as read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
