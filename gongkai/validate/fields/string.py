"""string: any text; formats email, uri, uuid, binary (base64), wkt check the text's shape."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from .base import FieldType

CONSTRAINTS = ("required", "minLength", "maxLength", "pattern", "enum")


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """The value (the text itself) or None, as frictionless's StringField.create_value_reader."""
    fmt = field.get("format", "default")

    if fmt == "uri":
        import rfc3986

        def value_reader(cell: Any):
            if not isinstance(cell, str):
                return None
            validator = rfc3986.validators.Validator()
            validator.require_presence_of("scheme")
            try:
                validator.validate(rfc3986.uri_reference(cell))
            except rfc3986.exceptions.ValidationError:
                return None
            return cell

    elif fmt == "email":
        import validators

        def value_reader(cell: Any):
            if not isinstance(cell, str) or not validators.email(cell):
                return None
            return cell

    elif fmt == "uuid":
        import validators

        def value_reader(cell: Any):
            if not isinstance(cell, str) or not validators.uuid(cell):
                return None
            return cell

    elif fmt == "binary":

        def value_reader(cell: Any):
            if not isinstance(cell, str):
                return None
            try:
                base64.b64decode(cell)
            except Exception:
                return None
            return cell

    elif fmt == "wkt":
        # frictionless's vendored parser (needs frictionless[wkt]); fails here, as there, without it
        from frictionless.vendors.wkt import Parser

        parser = Parser()

        def value_reader(cell: Any):
            if not isinstance(cell, str):
                return None
            try:
                parser.parse(cell)
            except Exception:
                return None
            return cell

    else:

        def value_reader(cell: Any):
            return cell if isinstance(cell, str) else None

    return value_reader


def to_sqlite(value: str) -> str:
    return value


def text_reader_code(field: dict):
    """A default-format string is the cell itself: no reader call at all."""
    if field.get("format", "default") in ("uri", "email", "uuid", "binary", "wkt"):
        return None
    return "v = cell", {}


def inline_hint(field: dict):
    return "{c}" if text_reader_code(field) is not None else None


class Type(FieldType):
    """The string type: the functions above, under the field-type contract."""

    name = "string"
    constraints = CONSTRAINTS
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
    text_reader_code = staticmethod(text_reader_code)
    inline_hint = staticmethod(inline_hint)
