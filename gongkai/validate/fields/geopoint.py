"""geopoint: "lon, lat" by default, "[lon, lat]" (array) or '{"lon": .., "lat": ..}' (object);
longitude within ±180, latitude within ±90."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

from .base import FieldType

CONSTRAINTS = ("required", "enum")


class geopoint(NamedTuple):
    lon: Any
    lat: Any


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """A (lon, lat) tuple of Decimals or None, as frictionless's GeopointField.create_value_reader."""
    fmt = field.get("format", "default")

    def value_reader(cell: Any):
        if isinstance(cell, str):
            try:
                if fmt == "default":
                    lon, lat = cell.split(",")
                    lon = lon.strip()
                    lat = lat.strip()
                elif fmt == "array":
                    lon, lat = json.loads(cell)
                elif fmt == "object":
                    cell = json.loads(cell)
                    if len(cell) != 2:
                        return None
                    lon = cell["lon"]
                    lat = cell["lat"]
                cell = geopoint(Decimal(lon), Decimal(lat))
            except Exception:
                return None
        try:
            cell = geopoint(*cell)
            if cell.lon > 180 or cell.lon < -180:
                return None
            if cell.lat > 90 or cell.lat < -90:
                return None
        except Exception:
            return None
        return cell

    return value_reader


def to_sqlite(value: geopoint) -> str:
    return ",".join(map(str, value))


class Type(FieldType):
    """The geopoint type: the functions above, under the field-type contract."""

    name = "geopoint"
    constraints = CONSTRAINTS
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
