"""Shared by the field specs: frictionless as the oracle, and cell strategies that hit edge cases.

``assert_same(field, missing_values, cells)`` checks, cell by cell, that our caster gives
frictionless's verdict (valid / type-error / constraint-error, with the same English notes in
the same order) and, when valid, the same value once frictionless's value is made SQLite-ready.
It also checks the ``inline`` hint: whenever the expression does not raise, it equals ``cast``.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache

from frictionless import Schema
from hypothesis import strategies as st

from gongkai.validate.fields import CellError, compile_field, to_json


@cache
def _compiled(key: str):
    spec = json.loads(key)
    field, missing = spec["field"], spec["missing"]
    descriptor = {"$schema": "https://datapackage.org/profiles/2.0/tableschema.json", "fields": [field]}
    if missing is not None:
        descriptor["missingValues"] = missing
    oracle = Schema.from_descriptor(descriptor, allow_invalid=True).fields[0].create_cell_reader()
    ours = compile_field(field, missing if missing is not None else [""])
    return oracle, ours


def expected_sqlite(field: dict, cell: str, value):
    """frictionless's value in the SQLite form the contract names (written independently)."""
    if value is None:
        return None
    kind = field.get("type") or "string"
    if kind in ("string", "any", "integer", "year"):
        return value
    if kind == "number":
        if isinstance(value, Decimal):
            return float("nan") if value.is_nan() else float(value)
        return value
    if kind == "boolean":
        return 1 if value else 0
    if kind in ("date", "datetime", "time"):
        return value.isoformat()
    if kind == "yearmonth":
        return f"{value.year:04d}-{value.month:02d}"
    if kind == "duration":
        return cell
    if kind == "geopoint":
        return ",".join(map(str, value))
    return to_json(value)  # object, array, geojson, list


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def frictionless_notes(notes: dict | None) -> list[tuple[str, str]]:
    """The errors frictionless's row emits for a cell: the type note first, then the others."""
    if not notes:
        return []
    notes = dict(notes)
    out = []
    if "type" in notes:
        out.append(("type-error", notes.pop("type")))
    out.extend(("constraint-error", n) for n in notes.values())
    return out


def verdict(field: dict, missing: list | None, cell: str):
    oracle, ours = _compiled(json.dumps({"field": field, "missing": missing}, sort_keys=True))
    try:
        value, notes = oracle(cell)
    except TypeError:
        # frictionless crashes comparing a timezone-aware value with a naive bound (or the
        # reverse); we report the bound as not satisfied instead
        value, notes = None, {"bound": "aware/naive"}
    try:
        got, err = ours.cast(cell), None
    except CellError as e:
        got, err = None, e
    return value, notes, got, err, ours


def _finite_as_float(value) -> bool:
    import math

    try:
        return math.isfinite(float(value))
    except (ValueError, OverflowError):  # a signaling NaN
        return False


def assert_same(field: dict, missing: list | None, cells) -> None:
    for cell in cells:
        value, notes, got, err, ours = verdict(field, missing, cell)
        expected = frictionless_notes(notes)
        if expected:
            assert err is not None, (cell, notes, got)
            if notes == {"bound": "aware/naive"}:
                assert err.type == "constraint-error", (cell, err.notes)
                continue
            assert [(t, n) for t, n, _ in err.notes] == expected, (cell, err.notes, expected)
            assert (err.type, err.note) == expected[0]
            assert all(nz for _, _, nz in err.notes)  # every note has its Chinese text
        elif field.get("type") == "integer" and isinstance(value, int) and not -(2**63) <= value < 2**63:
            # our one difference: an integer SQLite cannot store is refused (fields/integer.py)
            assert err is not None and err.type == "integer-range", (cell, value)
            continue
        elif field.get("type") == "number" and value is not None and not _finite_as_float(value):
            # the other: NaN and ±Infinity (also from an exponent too large for a float) are
            # refused, SQLite and JSON would change them (fields/number.py)
            assert err is not None and err.type == "number-range", (cell, value)
            continue
        else:
            assert err is None, (cell, err and err.notes, value)
            want = expected_sqlite(field, cell, value)
            assert _same(got, want), (cell, got, want)
        if ours.inline is not None:
            try:
                inline = eval(ours.inline.replace("{c}", "cell"), {}, {"cell": cell})
            except Exception:
                continue  # allowed: the table layer then calls cast
            assert err is None and _same(inline, got), (cell, inline, got)


# -- strategies ---------------------------------------------------------------------------------

SPACES = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2000\u3000\u200b\ufeff"
UNICODE_DIGITS = "٠١٢٣٤٥٦٧٨٩０１２３４５６７８９߀१²"
NUMBERISH = "0123456789+-.,eE_" + "nNaAiIfFtTyYsS" + " " + "٣５"

digits = st.text("0123456789", min_size=1, max_size=6)


def noisy(alphabet: str, max_size: int = 12):
    return st.text(alphabet, max_size=max_size)


def any_text(max_size: int = 10):
    return st.text(max_size=max_size)


@st.composite
def signed_numbers(draw):
    sign = draw(st.sampled_from(["", "-", "+", " ", " -"]))
    whole = draw(st.one_of(digits, st.just(""), st.text(UNICODE_DIGITS, min_size=1, max_size=3)))
    frac = draw(st.one_of(st.just(""), digits.map(lambda d: "." + d), st.just(".")))
    exp = draw(
        st.one_of(
            st.just(""),
            digits.map(lambda d: "e" + d),
            st.sampled_from(["e-3", "E+2", "e"]),
            st.integers(10**17, 10**19).map(lambda n: f"e{n}"),
            st.integers(10**17, 10**19).map(lambda n: f"e-{n}"),
        )
    )
    under = draw(st.sampled_from(["", "_"]))
    body = whole[:1] + under + whole[1:] if under and len(whole) > 1 else whole
    pad = draw(st.sampled_from(["", " ", "\x1c", "\u3000", "\xa0", "\n", "\x85"]))
    return pad + sign + body + frac + exp + draw(st.sampled_from(["", " ", "\x1f", "%", "€"]))


SPECIAL_NUMBERS = st.sampled_from(
    [
        "NaN",
        "nan",
        "-NaN",
        "sNaN",
        "-sNaN",
        "NaN12",
        "Infinity",
        "-inf",
        "iNF",
        "infinity",
        "Inf",
        "1e999999",
        "1e-999999",
        "-0",
        "0x10",
        "1__0",
        "_1",
        "1_",
        "1_0",
        "１２",
        "٣",
        "²",
        "1,000",
        "1 000",
        "1.5.5",
        "",
        " ",
        "1e1_0",
        "१२",
        "0.1",
        "0.30000000000000004",
        "9" * 30,
        "1e999999999999999999",
        "1e1000000000000000000",
        "-1e3000000000000000000001",
        "0e3000000000000000000001",
        "1e-1000000000000000000",
        "0.1e1000000000000000000",
        "0E-5",
        "-0e0",
        "0" * 400 + "1",
        "9" * 400,
    ]
)


@st.composite
def date_like(draw):
    y = draw(st.one_of(st.integers(0, 9999).map(lambda n: f"{n:04d}"), digits, st.just("２０２４")))
    m = draw(st.one_of(st.integers(0, 13).map(str), st.integers(0, 13).map(lambda n: f"{n:02d}"), st.just(" 1")))
    d = draw(st.one_of(st.integers(0, 32).map(str), st.integers(0, 32).map(lambda n: f"{n:02d}"), st.just(" 5")))
    sep = draw(st.sampled_from(["-", "-", "-", "/", ".", " "]))
    tail = draw(st.sampled_from(["", "", "T00:00:00", " ", "Z", "\n"]))
    return f"{y}{sep}{m}{sep}{d}{tail}"


@st.composite
def time_like(draw):
    h = draw(st.one_of(st.integers(0, 25).map(lambda n: f"{n:02d}"), st.integers(0, 25).map(str)))
    m = draw(st.integers(0, 61).map(lambda n: f"{n:02d}"))
    s = draw(st.one_of(st.integers(0, 61).map(lambda n: f"{n:02d}"), st.just("")))
    frac = draw(st.sampled_from(["", ".5", ".123456", ".1234567", ","]))
    tz = draw(st.sampled_from(["", "Z", "+08:00", "-0530", "+24:00", " ", "+08"]))
    return f"{h}:{m}" + (f":{s}" if s else "") + frac + tz


@st.composite
def datetime_like(draw):
    d = draw(date_like())
    sep = draw(st.sampled_from(["T", "T", " ", "t", "x"]))
    return d.split("T")[0] + sep + draw(time_like())


__all__ = [
    "assert_same",
    "verdict",
    "expected_sqlite",
    "signed_numbers",
    "SPECIAL_NUMBERS",
    "date_like",
    "time_like",
    "datetime_like",
    "noisy",
    "any_text",
    "SPACES",
    "UNICODE_DIGITS",
    "NUMBERISH",
    "date",
    "datetime",
    "time",
]
