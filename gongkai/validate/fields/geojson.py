"""geojson: a JSON object valid against the GeoJSON (default) or TopoJSON (topojson) schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import to_json
from .base import FieldType

CONSTRAINTS = ("required", "enum")


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """A dict or None, as frictionless's GeojsonField.create_value_reader."""
    # frictionless's own profiles (a runtime dependency), so the verdicts are the same
    from frictionless import settings
    from jsonschema import validators

    fmt = field.get("format", "default")
    validator = None
    if fmt in ("default", "topojson"):
        profile = settings.GEOJSON_PROFILE if fmt == "default" else settings.TOPOJSON_PROFILE
        validator = validators.validator_for(profile)(profile)

    def value_reader(cell: Any):
        if isinstance(cell, str):
            try:
                cell = json.loads(cell)
            except Exception:
                return None
        if not isinstance(cell, dict):
            return None
        if validator is not None:
            try:
                validator.validate(cell)
            except Exception:
                return None
        return cell

    return value_reader


to_sqlite = to_json


class Type(FieldType):
    """The geojson type: the functions above, under the field-type contract."""

    name = "geojson"
    constraints = CONSTRAINTS
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
