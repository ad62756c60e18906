"""list: items separated by ``delimiter`` (default ","), each read as ``itemType`` (default
string) with that type's default format."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...errors import notes
from ...field_types import type_name
from . import to_json
from .base import FieldType

CONSTRAINTS = ("required", "minLength", "maxLength")

ITEM_TYPES = ["string", "integer", "boolean", "number", "datetime", "date", "time"]


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """A list of item values or None, as frictionless's ListField.create_value_reader."""
    from . import TYPES

    item_type = field.get("itemType", "string")
    item_reader = TYPES[item_type].create_value_reader({"name": field.get("name"), "type": item_type})
    delimiter = field.get("delimiter", ",")

    def value_reader(cell: Any):
        if isinstance(cell, str):
            cell = cell.split(delimiter)
        elif isinstance(cell, tuple):
            cell = list(cell)
        elif not isinstance(cell, list):
            return None
        items = []
        for item in cell:
            item = item_reader(item)
            if item is None:
                return None
            items.append(item)
        return items

    return value_reader


to_sqlite = to_json  # booleans stay true/false, numbers floats, dates ISO text


def type_notes(field: dict) -> tuple[str, str]:
    item_type = field.get("itemType", "string")
    return notes("cell.list_item_type", type=item_type, type_name=type_name(item_type, "zh"))


class Type(FieldType):
    """The list type: the functions above, under the field-type contract."""

    name = "list"
    constraints = CONSTRAINTS
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
    type_notes = staticmethod(type_notes)
