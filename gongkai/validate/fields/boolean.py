"""boolean: the cell must be one of trueValues / falseValues (exact text, no stripping)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import FieldType

CONSTRAINTS = ("required", "enum")

TRUE_VALUES = ["true", "True", "TRUE", "1"]
FALSE_VALUES = ["false", "False", "FALSE", "0"]


def _mapping(field: dict) -> dict:
    mapping = {}
    for value in field.get("trueValues", TRUE_VALUES):
        mapping[value] = True
    for value in field.get("falseValues", FALSE_VALUES):  # a value in both lists is false
        mapping[value] = False
    return mapping


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """True/False or None, as frictionless's BooleanField.create_value_reader."""
    mapping = _mapping(field)

    def value_reader(cell: Any):
        if cell is True or cell is False:
            return cell
        if isinstance(cell, str):
            return mapping.get(cell)
        return None

    return value_reader


def to_sqlite(value: bool) -> int:
    return 1 if value else 0


def text_reader_code(field: dict):
    # 1/0 keep enum membership (1 == True), so constraints can be checked on them
    return "v = _BOOL(cell)", {"_BOOL": {k: 1 if v else 0 for k, v in _mapping(field).items()}.get}


class Type(FieldType):
    """The boolean type: the functions above, under the field-type contract."""

    name = "boolean"
    constraints = CONSTRAINTS
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
    text_reader_code = staticmethod(text_reader_code)
