"""The field-type contract (gongkai/validate/fields/base.py): every type module implements it,
and the compiler reads a type only through it."""

import ast
import importlib
import inspect
from pathlib import Path

from gongkai.field_types import TYPES as TYPE_NAMES
from gongkai.validate import fields
from gongkai.validate.fields.base import FieldType

FIELDS = Path(fields.__file__).resolve().parent


def test_every_type_module_implements_the_contract():
    modules = sorted(p.stem for p in FIELDS.glob("[a-z]*.py") if p.stem != "base")
    assert sorted(fields.TYPES) == modules == sorted(TYPE_NAMES)
    for name in modules:
        kind = importlib.import_module(f"gongkai.validate.fields.{name}").Type
        assert issubclass(kind, FieldType) and not inspect.isabstract(kind), name
        assert kind.name == name and isinstance(fields.TYPES[name], kind)
        assert set(kind.constraints) <= {"required", *fields.NOTED_CONSTRAINTS}, name


def test_the_compiler_does_not_probe_the_types():
    tree = ast.parse((FIELDS / "__init__.py").read_text(encoding="utf-8"))
    probes = [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("getattr", "hasattr")
    ]
    assert not probes


def test_cast_values_are_remembered_in_one_place():
    """Only the table's row loop remembers cast values (for the types that declare `memoised`):
    no type keeps a cache of its own in its generated reader."""
    memoised = {name for name, kind in fields.TYPES.items() if kind.memoised}
    assert memoised == {"date", "datetime", "time", "yearmonth"}
    for name, kind in fields.TYPES.items():
        code = kind.text_reader_code({"name": "x", "type": name, "format": "default"})
        if code is not None:
            assert not any(isinstance(v, dict) for v in code[1].values()), name
