"""Fields: compile a Table Schema field into a fast cell caster, with frictionless v5 semantics.

``compile_field(field, missing_values)`` returns a ``Caster`` whose ``cast(cell)`` turns one raw
CSV cell (a ``str``) into its SQLite-ready value, ``None`` for a missing value, or raises
``CellError`` -- exactly the verdict frictionless's ``Field.create_cell_reader()`` gives:

1. ``cell in missing_values`` (the field's own ``missingValues`` if it has any, else the schema's)
   means missing: only ``required`` can fail;
2. the type's value reader (one module per type, its ``Type.create_value_reader``) must accept it,
   else a ``type-error`` (and no constraint is checked);
3. the constraints the type supports are checked in frictionless's order (unsupported ones are
   ignored, as frictionless does); bounds and ``enum`` are cast with the field's own reader.

The caster is generated as Python source (like ``dataclasses``/``attrs`` do) so that the valid
path is a handful of bytecodes: no per-cell dict lookups, no exceptions when the cell is fine.
Hot types give a "text reader" snippet that reads the raw string straight into the SQLite value
(``int``, ``float``, ``'YYYY-MM-DD'``...) and check constraints on it where that is exact.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable
from datetime import date as _date, datetime as _datetime, time as _time, timedelta as _timedelta
from decimal import Decimal
from typing import Any

from ...errors import notes
from ...field_types import type_name as _type_name
from .base import FieldType

__all__ = ["CellError", "Caster", "compile_field", "field_missing_values", "TYPES"]


class CellError(Exception):
    """Raised by a field's cast: the cell is invalid.

    ``type``/``note``/``note_zh`` describe the first problem, in frictionless's order.
    ``notes`` lists every problem frictionless would report for this cell as
    ``(type, note, note_zh)`` (frictionless emits one error per failed constraint).
    """

    def __init__(self, type: str, note: str, note_zh: str, notes: list | None = None):
        super().__init__(note)
        self.type = type
        self.note = note
        self.note_zh = note_zh
        self.notes = notes if notes is not None else [(type, note, note_zh)]

    def __repr__(self) -> str:
        return f"CellError({self.type!r}, {self.note!r})"


BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
# the constraints with a note of their own in validation.yaml (`validation.constraint.<name>`)
NOTED_CONSTRAINTS = ("required", *BOUNDS, "minLength", "maxLength", "pattern", "enum")


def type_notes(type: str, format: str) -> tuple[str, str]:
    """frictionless's English note and a Chinese one naming the type in words (文本, 日期)."""
    return notes("cell.type", type=type, format=format, type_name=_type_name(type, "zh"))


def constraint_notes(name: str, raw: Any) -> tuple[str, str]:
    """frictionless's English note (tests compare it verbatim) and a Chinese one saying what was expected."""
    raw_zh = "、".join(str(v) for v in raw) if isinstance(raw, (builtins.list, tuple)) else str(raw)
    key = name if name in NOTED_CONSTRAINTS else "other"
    return notes(f"constraint.{key}", name=name, raw=raw, raw_zh=raw_zh)


def field_format(field: dict) -> str:
    """The field's format, with the standards-v1 ``fmt:`` prefix removed (as frictionless does)."""
    fmt = field.get("format", "default")
    if isinstance(fmt, str) and fmt.startswith("fmt:"):
        fmt = fmt.replace("fmt:", "")
    return fmt


def field_missing_values(field: dict, missing_values: list | None) -> list[str]:
    """The missing values in force: the field's own ``missingValues`` override the schema's.

    Entries may be v2 objects ``{"value": ..., "label": ...}``; only the value counts.
    """
    values = field.get("missingValues")
    if values is None:
        values = missing_values if missing_values is not None else [""]
    return [e["value"] if isinstance(e, dict) else e for e in values]


def json_default(value: Any) -> Any:
    """JSON for the natives a cast can put inside an array/list (Decimal, dates, durations)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (_date, _datetime, _time)):
        return value.isoformat()
    if isinstance(value, _timedelta):
        import isodate

        return isodate.duration_isoformat(value)
    try:  # isodate.Duration
        import isodate

        if isinstance(value, isodate.Duration):
            return isodate.duration_isoformat(value)
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"not JSON serialisable: {value!r}")


def to_json(value: Any) -> str:
    """Compact JSON text, non-ASCII kept, as stored in SQLite for object/array/list/geojson."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=json_default)


# NB: importing the submodules binds `any`, `list`, `object`, `date`, `datetime`, `time` in this
# module's namespace; below, builtins are spelled `builtins.any` etc.
from . import (  # noqa: E402  (the type modules use the helpers above)
    any as _any,
    array as _array,
    boolean as _boolean,
    date as _date_mod,
    datetime as _datetime_mod,
    duration as _duration,
    geojson as _geojson,
    geopoint as _geopoint,
    integer as _integer,
    list as _list,
    number as _number,
    object as _object,
    string as _string,
    time as _time_mod,
    year as _year,
    yearmonth as _yearmonth,
)

# Each type module's `Type` implements the field-type contract (`fields/base.py`).
_ALL: tuple[FieldType, ...] = (
    _string.Type(),
    _integer.Type(),
    _number.Type(),
    _boolean.Type(),
    _date_mod.Type(),
    _datetime_mod.Type(),
    _time_mod.Type(),
    _year.Type(),
    _yearmonth.Type(),
    _duration.Type(),
    _geopoint.Type(),
    _geojson.Type(),
    _object.Type(),
    _array.Type(),
    _list.Type(),
    _any.Type(),
)
TYPES: dict[str, FieldType] = {t.name: t for t in _ALL}


def _field_type(field: dict) -> tuple[str, FieldType]:
    # frictionless defaults a field without type to "string" (Field.metadata_select_class)
    name = field.get("type") or "string"
    try:
        return name, TYPES[name]
    except KeyError:
        raise ValueError(f'field "{field.get("name")}": unknown type "{name}"') from None


class Caster:
    """A compiled field: ``cast(cell)`` and the ``inline`` hint (see the module docstring)."""

    __slots__ = (
        "cast",
        "inline",
        "field",
        "type",
        "format",
        "missing_values",
        "source",
        "block",
        "namespace",
        "memoised",
    )

    def __init__(
        self, cast, inline, field, type, format, missing_values, source="", block="", namespace=None, memoised=False
    ) -> None:
        self.cast: Callable[[str], Any] = cast
        self.inline: str | None = inline
        self.field = field
        self.type = type
        self.format = format
        self.missing_values = missing_values
        self.source = source  # the generated source of ``cast``, for debugging
        self.block = block  # the body of ``cast``: statements reading ``cell`` into ``v`` or raising
        self.namespace = namespace or {}  # the names ``block`` uses
        self.memoised: bool = memoised  # worth remembering cast results (`FieldType.memoised`)

    def block_for(self, cell: str, value: str, suffix: str) -> tuple[list[str], dict[str, Any]]:
        """``block`` with ``cell`` and ``v`` renamed and every name of its namespace suffixed, for
        a loop that inlines several casters: (statements, the namespace entries they use).

        Inlined, a cell costs no function call; the statements are the cast's own, so the
        verdict and the value are the cast's too (the loop sends a row that raises to the
        exact slow path)."""
        import io
        import tokenize

        names = {"cell": cell, "v": value}
        ns: dict[str, Any] = {}
        out = []
        previous = None
        for tok in tokenize.generate_tokens(io.StringIO(self.block + "\n").readline):
            text = tok.string
            if tok.type == tokenize.NAME and not (previous is not None and previous.string == "."):
                if text in names:
                    text = names[text]
                elif text in self.namespace and not text.startswith("__"):
                    ns[text + suffix] = self.namespace[text]
                    text += suffix
            out.append(tok._replace(string=text))
            previous = tok
        return tokenize.untokenize(out).splitlines(), ns

    def __repr__(self) -> str:
        return f"<Caster {self.field.get('name')!r} {self.type}/{self.format}>"


def _resolve(field: dict, missing_values: list | None):
    """(a copy of the field with its format resolved, type name, field type, format, missing
    values, constraints): what both readers start from."""
    field = dict(field)
    type_name, kind = _field_type(field)
    fmt = field_format(field)
    field["format"] = fmt
    return field, type_name, kind, fmt, field_missing_values(field, missing_values), field.get("constraints") or {}


def compile_field(field: dict, missing_values: list | None = None, *, storage: bool = True) -> Caster:
    """Compile one Table Schema field (a descriptor dict) into a ``Caster``.

    ``missing_values`` are the schema's; the field's own ``missingValues`` override them.
    ``storage=False`` leaves out the checks of what SQLite can store (the type's
    ``storage_check``): for the value frictionless keeps of an invalid cell.
    """
    field, type_name, kind, fmt, missing, constraints = _resolve(field, missing_values)
    native_reader = kind.create_value_reader(field)

    # The constraints frictionless will check: supported by the type and not None, in its order.
    active = [(n, constraints[n]) for n in kind.constraints if constraints.get(n) is not None]
    required = builtins.any(n == "required" and bool(v) for n, v in active)
    checked = [(n, v) for n, v in active if n != "required"]

    text = kind.text_reader_code(field)  # (code, namespace) reading straight into SQLite values
    if text is not None:
        # constraints can then be checked on SQLite values: the type declares that its SQLite
        # form keeps order and equality (int, str, 'YYYY-MM-DD', 1/0)
        key = kind.to_sqlite
    else:
        key = None

    ns: dict[str, Any] = {"CellError": CellError, "_conv": kind.to_sqlite, "_read": native_reader}
    ns["_TN"], ns["_TNZ"] = kind.type_notes(field) or type_notes(type_name, fmt)
    rnote, rnote_zh = constraint_notes("required", constraints.get("required"))
    ns["_RN"], ns["_RNZ"] = rnote, rnote_zh

    # (condition source on v, name, raw constraint)
    conds = [
        (_condition(i, name, raw, field, type_name, kind, native_reader, key, ns), name, raw)
        for i, (name, raw) in enumerate(checked)
    ]

    # all failing constraints, for CellError.notes (only runs on the error path)
    fail_src = ["def _fail(v, cell):", "    notes = []"]
    for i, (cond, name, raw) in enumerate(conds):
        ns[f"_N{i}"] = constraint_notes(name, raw)
        fail_src.append(f"    if not ({cond}): notes.append(('constraint-error',) + _N{i})")
    fail_src.append("    t, n, nz = notes[0]")
    fail_src.append("    return CellError(t, n, nz, notes)")

    # The cast's body as statements that read `cell` into `v` or raise. The cast returns `v`;
    # the table's row loop inlines the very same statements (`Caster.block_for`), so the two
    # cannot disagree.
    body: list[str] = []
    if text is not None:
        code, extra = text
        ns.update(extra)
        body.extend(code.splitlines())
    else:
        body.append("v = _read(cell)")
    if text is None or "v = cell" != text[0].strip():
        body += ["if v is None:", "    raise CellError('type-error', _TN, _TNZ)"]
    for cond, _, _ in conds:
        body += [f"if not ({cond}):", "    raise _fail(v, cell)"]
    storage_rule = kind.storage_check(field) if storage else None
    if storage_rule is not None:  # what SQLite cannot hold, though the type accepts it
        cond, extra, notes = storage_rule
        ns.update(extra)
        ns["_SN"] = notes
        body += [f"if not ({cond}):", "    raise CellError(*_SN)"]
    post = kind.create_post_reader(field)
    if post is not None:  # e.g. array items, read once the array itself passed
        ns["_post"] = post
        body.append("v = _post(v)")
    if kind.sqlite_is_cell:
        body.append("v = cell")
    elif text is None:
        body.append("v = _conv(v)")
    block = body
    if missing:
        if set(missing) == {""}:
            test = "if not cell:"  # cells are str: `not cell` is `cell == ''`
        else:
            ns["_M"] = frozenset(missing)
            test = "if cell in _M:"
        missed = "    raise CellError('constraint-error', _RN, _RNZ)" if required else "    v = None"
        block = [test, missed, "else:"] + ["    " + line for line in body]
    lines = ["def cast(cell):"] + ["    " + line for line in block] + ["    return v"]
    source = "\n".join(lines) + "\n\n" + "\n".join(fail_src) + "\n"
    exec(compile(source, f"<cast {type_name} {field.get('name')!r}>", "exec"), ns)
    cast = ns["cast"]

    inline = _inline(kind, field, missing) if not checked and not required and storage_rule is None else None
    return Caster(cast, inline, field, type_name, fmt, missing, source, "\n".join(block), ns, kind.memoised)


def _condition(
    i: int, name: str, raw: Any, field: dict, type_name: str, kind: FieldType, native_reader, key, ns: dict
) -> str:
    """The source of constraint `name`'s condition on ``v`` (its names put in ``ns``). With
    ``key`` (the type's SQLite form) ``v`` is the SQLite value, else the native one."""
    c = f"_C{i}"
    if name in BOUNDS:
        bound = native_reader(raw)
        if bound is None:
            raise ValueError(
                f'field "{field.get("name")}": constraint "{name}" value {raw!r} is not a valid {type_name}'
            )
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[name]
        # e.g. numbers read as floats, compared exactly
        special = kind.bound_condition(i, op, bound, ns) if key else None
        if special is not None:
            cond = special
        else:
            ns[c] = key(bound) if key else bound
            # NaN fails every bound (frictionless: `cell != cell`), only numbers can be NaN
            cond = f"(v == v and v {op} {c})" if type_name == "number" else f"v {op} {c}"
        if type_name in ("datetime", "time"):
            # a timezone-aware value against a naive bound (or the reverse) cannot be
            # compared: frictionless crashes with TypeError; we fail the constraint instead
            ns[f"_B{i}"] = _safe_bound(op, ns[c])
            cond = f"_B{i}(v)"
        return cond
    if name == "minLength":
        ns[c] = raw
        return f"len(v) >= {c}"
    if name == "maxLength":
        ns[c] = raw
        return f"len(v) <= {c}"
    if name == "pattern":
        import re

        ns[c] = re.compile(f"^{raw}$").match  # frictionless: match with ^…$
        return f"{c}(v) is not None"
    if name == "enum":
        values = [native_reader(x) for x in raw]
        if key:
            values = [key(x) if x is not None else None for x in values]
            try:  # str/int/1-0 values: set membership == list membership
                ns[c] = frozenset(values)
            except TypeError:  # an unhashable enum value ("any" fields): keep the list
                ns[c] = values
        else:
            ns[c] = values
        return f"v in {c}"
    raise ValueError(f"unsupported constraint {name}")  # pragma: no cover - all are handled above


def _inline(kind: FieldType, field: dict, missing: list) -> str | None:
    """The row loop's inline expression of ``{c}`` for a field without constraints, if the type
    gives one and the missing values can be tested inline."""
    hint = kind.inline_hint(field)
    if hint is None or not all(isinstance(m, str) for m in missing):
        return None
    # the template is used with str.format-like substitution: keep braces out of it
    markers = tuple(dict.fromkeys(missing))
    guard = "== ''" if markers == ("",) else f"in {markers!r}"
    if "{" in guard or "}" in guard:
        return None
    return f"(None if {{c}} {guard} else {hint})" if missing else hint


def _safe_bound(op: str, bound: Any) -> Callable[[Any], bool]:
    import operator

    compare = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}[op]

    def check(v: Any) -> bool:
        try:
            return compare(v, bound)
        except TypeError:
            return False

    return check


def native_cell_reader(field: dict, missing_values: list | None = None) -> Callable[[Any], tuple]:
    """frictionless's ``create_cell_reader`` on any value (not only ``str``): ``(value, notes)``.

    Used for array items (JSON values); values are natives (Decimal, date...), notes a dict
    name -> (note, note_zh) in frictionless's order, or None.
    """
    field, type_name, kind, fmt, missing, constraints = _resolve(field, missing_values)
    reader = kind.create_value_reader(field)
    tnotes = kind.type_notes(field) or type_notes(type_name, fmt)
    checks = []
    for name in kind.constraints:
        raw = constraints.get(name)
        if raw is None:
            continue
        if name == "required":
            check = (lambda r: lambda v: not (r and v is None))(raw)
        else:
            value = raw
            if name in BOUNDS:
                value = reader(raw)
            elif name == "pattern":
                import re

                value = re.compile(f"^{raw}$")
            elif name == "enum":
                value = [reader(x) for x in raw]
            check = _native_check(name, value)
        checks.append((name, check, constraint_notes(name, raw)))

    def cell_reader(cell: Any):
        notes = None
        if str(cell) in missing:
            cell = None
        if cell is not None:
            cell = reader(cell)
            if cell is None:
                notes = {"type": tnotes}
        if not notes and checks:
            for name, check, cnotes in checks:
                if not check(cell):
                    notes = notes or {}
                    notes[name] = cnotes
        return cell, notes

    return cell_reader


def _native_check(name: str, constraint: Any) -> Callable[[Any], bool]:
    if name == "minLength":
        return lambda v: v is None or len(v) >= constraint
    if name == "maxLength":
        return lambda v: v is None or len(v) <= constraint
    if name == "pattern":
        return lambda v: v is None or bool(constraint.match(v))
    if name == "enum":
        return lambda v: v is None or v in constraint
    import operator

    op = {
        "minimum": operator.ge,
        "maximum": operator.le,
        "exclusiveMinimum": operator.gt,
        "exclusiveMaximum": operator.lt,
    }[name]
    return lambda v: v is None or (v == v and bool(op(v, constraint)))
