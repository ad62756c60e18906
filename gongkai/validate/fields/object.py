"""object: a JSON object."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import to_json
from .base import FieldType

CONSTRAINTS = ("required", "minLength", "maxLength", "enum")


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """A dict or None, as frictionless's ObjectField.create_value_reader."""
    loads = json.loads

    def value_reader(cell: Any):
        if not isinstance(cell, dict):
            if not isinstance(cell, str):
                return None
            try:
                cell = loads(cell)
            except Exception:
                return None
            if not isinstance(cell, dict):
                return None
        return cell

    return value_reader


to_sqlite = to_json


class Type(FieldType):
    """The object type: the functions above, under the field-type contract."""

    name = "object"
    constraints = CONSTRAINTS
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
