"""array: a JSON array; with ``arrayItem`` every item is also read as that field."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ...errors import notes as bilingual
from . import to_json
from .base import FieldType

CONSTRAINTS = ("required", "minLength", "maxLength", "enum")


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """A list or None, as frictionless's ArrayField.create_value_reader."""
    loads = json.loads

    def value_reader(cell: Any):
        if not isinstance(cell, list):
            if isinstance(cell, str):
                try:
                    cell = loads(cell)
                except Exception:
                    return None
                if not isinstance(cell, list):
                    return None
            elif isinstance(cell, tuple):
                cell = list(cell)
            else:
                return None
        return cell

    return value_reader


to_sqlite = to_json


def create_post_reader(field: dict):
    """Items of a valid array, read as ``arrayItem`` (frictionless's ArrayField.create_cell_reader):
    each item replaced by its value; problems reported as "array item ..." notes."""
    item = field.get("arrayItem")
    if not item:
        return None
    from . import CellError, native_cell_reader  # defined after the type modules are imported

    descriptor = dict(item)
    descriptor.pop("arrayItem", None)
    descriptor.setdefault("name", field.get("name"))
    descriptor.setdefault("type", "any")
    # a standalone field: its own missingValues, else the default [""] (not the schema's)
    item_reader = native_cell_reader(descriptor, None)

    def post(cell: list):
        notes = None
        for index, value in enumerate(cell):
            value, item_notes = item_reader(value)
            if item_notes:
                notes = notes or {}
                for name, (note, note_zh) in item_notes.items():
                    notes[name] = bilingual("cell.array_item", note=note, note_zh=note_zh)
            cell[index] = value
        if notes:
            # frictionless reports the type note first, then the others in order
            listed = []
            if "type" in notes:
                listed.append(("type-error",) + notes.pop("type"))
            listed.extend(("constraint-error",) + n for n in notes.values())
            t, n, nz = listed[0]
            raise CellError(t, n, nz, listed)
        return cell

    return post


class Type(FieldType):
    """The array type: the functions above, under the field-type contract."""

    name = "array"
    constraints = CONSTRAINTS
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
    create_post_reader = staticmethod(create_post_reader)
