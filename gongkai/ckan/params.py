"""An action's parameters, read as CKAN reads them: from a JSON body (typed values) or a query
string (every value a string, lists and objects as JSON text), each checked, with a
Validation Error naming the parameter when it does not fit."""

from __future__ import annotations

import json
from typing import Any

from .errors import invalid, missing

TRUE = frozenset({"true", "1", "yes", "on", "t", "y"})
FALSE = frozenset({"false", "0", "no", "off", "f", "n", ""})
MAX_TEXT = 10_000  # characters of one text parameter (ids, names, queries, SQL)


def text(params: dict, name: str, *, required: bool = False, default: str | None = None) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing(name)
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise invalid(name)
    return value


def integer(params: dict, name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ValueError
        number = int(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise invalid(name, "ckan_invalid_int", low=low, high=high) from None
    if not low <= number <= high:
        raise invalid(name, "ckan_invalid_int", low=low, high=high)
    return number


def boolean(params: dict, name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise invalid(name, "ckan_invalid_bool")


def _decoded(value: Any) -> Any:
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def string_list(params: dict, name: str, *, comma: bool = False) -> list[str] | None:
    """A list of strings: a JSON list, or (query strings) JSON text; with `comma`, also
    "a,b" (datastore's `fields` and `sort`)."""
    value = _decoded(params.get(name))
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if comma:
            return [part.strip() for part in value.split(",") if part.strip()]
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value) and len(value) <= 1000:
        return value
    raise invalid(name, "ckan_invalid_list")


def mapping(params: dict, name: str) -> dict | None:
    value = _decoded(params.get(name))
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return value
    raise invalid(name, "ckan_invalid_dict")
