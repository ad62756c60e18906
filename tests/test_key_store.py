"""The flat key memory (gongkai.validate.keys.KeyStore): keys in SQLite, a table that repeats a
key read again with the exact memory. It must never change a result, only the memory.

Every case validates the same file with the store (batches made tiny, so SQLite, the flushes
and the re-reading all run) and with the exact memory from the start, and compares errors
(type, row, field, note), valid rows and row counts; some also against frictionless.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

import pytest
from test_validate_table import oracle

from gongkai.build import load_dataset
from gongkai.descriptors import read_dataset
from gongkai.model import Resource
from gongkai.validate import TableValidator, split, table as table_module

SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer"},
        {"name": "名称", "type": "string"},
        {"name": "code", "type": "string", "constraints": {"unique": True}},
        {"name": "x", "type": "number", "constraints": {"unique": True}},
    ],
    "primaryKey": ["id"],
}
COMPOSITE = {
    "fields": [{"name": "a", "type": "string"}, {"name": "b", "type": "integer"}, {"name": "v", "type": "string"}],
    "primaryKey": ["a", "b"],
}


def rows_text(n: int, edit=None) -> str:
    rows = [[str(i), f"项目{i}", f"c{i}", f"{i}.5"] for i in range(1, n + 1)]
    if edit:
        edit(rows)
    return "id,名称,code,x\n" + "".join(",".join(r) + "\n" for r in rows)


def resource(tmp_path: Path, text: str, schema: dict) -> Resource:
    file = tmp_path / "t.csv"
    file.write_text(text, encoding="utf-8")
    return Resource(dataset="d", name="t", path="t.csv", fullpath=file, schema=schema, format="csv")


def result(res: Resource, **kw):
    validator = TableValidator(res, **kw)
    rows = list(validator.rows())
    errors = [(e.type, e.row_number, e.field_name, e.note) for e in validator.errors]
    return errors, rows, validator.stats["rows"]


def store_and_exact(res: Resource, **kw):
    flat = result(res, **kw)
    exact = result(res, exact_keys=True, **kw)
    assert flat == exact
    return flat


@pytest.fixture
def tiny_batches(monkeypatch):
    # 8 rows a batch: a 300-row table flushes 37 times into SQLite
    monkeypatch.setattr(table_module, "BATCH", 8)


CASES = {
    "clean": None,
    "pk-far-apart": lambda r: r[280].__setitem__(0, "5"),
    "pk-in-one-batch": lambda r: r[3].__setitem__(0, "3"),
    "pk-three-times": lambda r: [r[i].__setitem__(0, "7") for i in (100, 200)],
    "unique-far-apart": lambda r: r[250].__setitem__(2, "c9"),
    "number-unique-far-apart": lambda r: r[260].__setitem__(3, "1.5"),
    # row 11 is invalid (a type error) but its key counts: row 201 repeats it
    "key-of-an-invalid-row": lambda r: (
        r[9].__setitem__(1, "x") or r[9].__setitem__(3, "y"),
        r[199].__setitem__(0, "10"),
    ),
    "blank-key-twice": lambda r: [r[i].__setitem__(0, "") for i in (20, 220)],
    # NaN is refused by the cast (never stored): no repeat either way
    "nan-twice": lambda r: [r[i].__setitem__(3, "NaN") for i in (30, 230)],
    "duplicate-last-row": lambda r: r[-1].__setitem__(0, "1"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_store_gives_the_exact_result(case, tmp_path, tiny_batches):
    res = resource(tmp_path, rows_text(300, CASES[case]), SCHEMA)
    errors, rows, count = store_and_exact(res)
    assert count == 300
    if case == "clean":
        assert errors == [] and len(rows) == 300
    elif case == "nan-twice":
        assert [e[:2] for e in errors] == [("number-range", 32), ("number-range", 232)]
    else:
        assert errors and len(rows) < 300
    if case in ("pk-far-apart", "unique-far-apart", "key-of-an-invalid-row", "pk-three-times"):
        assert [e[:3] for e in errors] == oracle(res)


def test_store_with_the_error_limit(tmp_path, tiny_batches):
    # the limit stops the table before (and after) the repeat: both readings stop alike
    def edit(r):
        for i in range(0, 120, 3):
            r[i][3] = "bad"
        r[150][0] = "2"

    res = resource(tmp_path, rows_text(300, edit), SCHEMA)
    for limit in (10, 39, 41, 45, 0):
        errors, _, _ = store_and_exact(res, limit_errors=limit)
        assert len(errors) == min(limit or 41, 41)
        if limit:
            assert [e[:3] for e in errors] == oracle(res, limit_errors=limit)


@pytest.mark.parametrize("repeat", [None, ("x", "7"), ("", "7"), ("x", "")])
def test_composite_keys_with_none_parts(repeat, tmp_path, tiny_batches):
    # (a, None) repeats as frictionless compares tuples; an SQLite index never would with NULL
    lines = [f"k{i % 50},{i},v{i}" for i in range(200)]
    lines[10] = "x,7,first"
    lines[12] = ",7,blank a"
    lines[14] = "x,,blank b"
    if repeat:
        lines[150] = f"{repeat[0]},{repeat[1]},again"
    res = resource(tmp_path, "a,b,v\n" + "\n".join(lines) + "\n", COMPOSITE)
    errors, rows, _ = store_and_exact(res)
    assert [e[0] for e in errors] == (["primary-key"] if repeat else [])
    assert [e[:3] for e in errors] == oracle(res)


def test_a_small_table_opens_no_database_and_a_big_one_leaves_none(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    small = resource(tmp_path, rows_text(100), SCHEMA)
    validator = TableValidator(small)
    rows = validator.rows()
    next(rows)
    assert validator._store is not None and validator._store._conn is None
    list(rows)
    monkeypatch.setattr(table_module, "BATCH", 8)
    validator = TableValidator(small)
    rows = validator.rows()
    for _ in range(20):
        next(rows)
    assert validator._store is not None and validator._store._conn is not None
    assert len(list((tmp_path / "tmp").glob("gongkai-keys-*/keys.db"))) == 1
    list(rows)
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("case", ["clean", "pk-far-apart", "unique-far-apart", "key-of-an-invalid-row"])
@pytest.mark.parametrize("parallel", [True, False])
def test_store_through_the_split_and_the_loader(case, parallel, tmp_path, monkeypatch, tiny_batches):
    """Validated and loaded (the split forced on or off): the database holds the exact
    reading's valid rows, the report its errors."""
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "data.csv").write_text(rows_text(600, CASES[case]), encoding="utf-8")
    descriptor = {"name": "ds", "resources": [{"name": "data", "path": "data.csv", "schema": SCHEMA}]}
    (folder / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv(split.MIN_BYTES_ENV, "0" if parallel else str(1 << 40))
    loaded = load_dataset(read_dataset(folder), tmp_path / "on.db", search=False)
    conn = sqlite3.connect(tmp_path / "on.db")
    stored = conn.execute("select * from data order by rowid").fetchall()
    conn.close()
    monkeypatch.setenv(split.MIN_BYTES_ENV, str(1 << 40))  # all its rows here, none in a child's part
    exact = TableValidator(loaded.tasks[0].resource, exact_keys=True)
    expected = list(exact.rows())
    got = [(e.type, e.row_number, e.field_name, e.note) for e in loaded.tasks[0].errors]
    assert got == [(e.type, e.row_number, e.field_name, e.note) for e in exact.errors]
    assert stored == expected and loaded.tasks[0].stats["rows"] == 600
