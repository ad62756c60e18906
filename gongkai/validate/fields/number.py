"""number: ``Decimal`` of the stripped cell (so "1e3", "NaN", "Infinity", "1_000" are numbers),
optionally after removing groupChar / swapping decimalChar / stripping currency (bareNumber)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ...errors import notes
from .base import FieldType

CONSTRAINTS = ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum")


def create_value_reader(field: dict) -> Callable[[Any], Any]:
    """Decimal (float with floatNumber) or None, as frictionless's NumberField.create_value_reader."""
    bare_number = field.get("bareNumber", True)
    group_char = field.get("groupChar", "")
    decimal_char = field.get("decimalChar", ".")
    float_number = field.get("floatNumber", False)
    pattern = re.compile(r"((^[^-\d]*)|(\D*$))") if not bare_number else None

    processor: Callable[[str], str | None] | None = None
    # frictionless processes the text as soon as one of these is *defined*, even with defaults
    if {"groupChar", "decimalChar", "bareNumber"} & set(field):

        def process(cell: str) -> str | None:
            if pattern:
                cell = pattern.sub("", cell)
            cell = cell.replace(group_char, "")
            if decimal_char != "." and "." in cell:
                return None
            return cell.replace(decimal_char, ".")

        processor = process

    Primary, Secondary = (float, Decimal) if float_number else (Decimal, float)

    def value_reader(cell: Any):
        if isinstance(cell, str):
            cell = cell.strip()
            if processor:
                cell = processor(cell)
                if cell is None:
                    return None
            try:
                return Primary(cell)
            except Exception:
                return None
        elif isinstance(cell, Primary):
            return cell
        elif cell is True or cell is False:
            return None
        elif isinstance(cell, int):
            return cell
        elif isinstance(cell, Secondary):
            return Primary(str(cell) if Primary is Decimal else cell)
        return None

    return value_reader


def storage_check(field: dict):
    """NaN and ±Infinity (and exponents too large for a float, which become infinite) are numbers
    to frictionless, but SQLite stores NaN as NULL and JSON has neither: the API would publish a
    changed value. Such a cell gets an error of its own, as an integer SQLite cannot hold does."""
    note, note_zh = notes("number-range.not-finite")
    if text_reader_code(field) is not None:
        # the text reader leaves a float: finite exactly when v - v is 0 (nan and inf give nan)
        return "v - v == 0", {}, ("number-range", note, note_zh)
    return "_FIN(v)", {"_FIN": _finite}, ("number-range", note, note_zh)


def _finite(value: Any) -> bool:
    if isinstance(value, Decimal):
        return value.is_finite() and to_sqlite(value) - to_sqlite(value) == 0
    return value - value == 0


def to_sqlite(value: Any) -> float | int:
    if isinstance(value, Decimal):
        if value.is_nan():  # float() refuses a signaling NaN
            return float("nan")
        return float(value)
    return value


def _is_plain(field: dict) -> bool:
    if {"groupChar", "decimalChar"} & set(field) or not field.get("bareNumber", True):
        return (
            field.get("groupChar", "") == "" and field.get("decimalChar", ".") == "." and field.get("bareNumber", True)
        )
    return True


def text_reader_code(field: dict):
    """``float(cell)`` first: every text ``float`` turns into a finite number, ``Decimal(cell.strip())``
    accepts with the same value once converted to float (proved by the spec tests); the rest
    ("sNaN", texts with U+001C, "1e3000000000000000000", "inf"...) goes through the exact
    Decimal reader. No inline hint: a bare ``float()`` would accept "1e3000000000000000000".

    Not used with enum (it compares Decimals); bounds see ``bound_condition``.
    """
    constraints = field.get("constraints") or {}
    if constraints.get("enum") is not None:
        return None
    if not _is_plain(field):
        return None
    code = (
        "try:\n"
        "    v = float(cell)\n"
        "except ValueError:\n"
        "    v = None\n"
        # float takes any exponent, Decimal refuses |exponent| >= 10**18: such texts come out
        # of float as inf or 0.0 (inf/nan also from "inf"/"nan"), so re-read those exactly
        "if v is None or v - v or (not v and ('e' in cell or 'E' in cell)):\n"
        "    v = _read(cell)\n"
        "    if v is not None:\n"
        "        v = _conv(v)"
    )
    return code, {}


def bound_condition(i: int, op: str, bound: Any, ns: dict) -> str:
    """A bound on the float read from the cell, exact as frictionless's Decimal comparison.

    Rounding to float is monotonic, so a float strictly on one side of the rounded bound is on
    that side exactly; only a tie needs the exact (Decimal) value of the cell. NaN fails every
    comparison, as frictionless's ``cell != cell`` check makes it fail.
    """
    ns[f"_F{i}"] = to_sqlite(bound)
    ns[f"_C{i}"] = bound
    strict = {">=": ">", ">": ">", "<=": "<", "<": "<"}[op]
    return f"(v {strict} _F{i} or (v == _F{i} and _read(cell) {op} _C{i}))"


class Type(FieldType):
    """The number type: the functions above, under the field-type contract."""

    name = "number"
    constraints = CONSTRAINTS
    create_value_reader = staticmethod(create_value_reader)
    to_sqlite = staticmethod(to_sqlite)
    text_reader_code = staticmethod(text_reader_code)
    bound_condition = staticmethod(bound_condition)
    storage_check = staticmethod(storage_check)
