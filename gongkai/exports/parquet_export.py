"""`<resource>.parquet`: typed columns from the Table Schema (integer → int64, number → float64,
boolean → bool, date → date32, everything else as text), written in row groups of `ROW_GROUP`
rows so memory stays bounded.

SQLite is loosely typed, so a stored value may not fit its column's type; such a column is
written as text, whole. Rather than scanning the table first to find out (a full scan with a
`typeof` and a `glob` per cell cost as much as the conversion), the file is written with the
schema's types, each column converted by pyarrow in C; a value that does not convert stops the
write, and it starts again with that column as text (validation enforces the types, so that
is rare). Per-value Python conversions and row groups of 5,000 rows were slower than pandas'
`to_parquet` (bench `exports`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (the casts below load it: at import, not mid-export)
import pyarrow.parquet as pq

TYPES = {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(), "date": pa.date32(), "year": pa.int64()}
ROW_GROUP = 32_768  # rows a row group: ~25 MB of Python values at a time, and few groups


class Misfit(Exception):
    """A stored value that the column's Parquet type cannot hold."""

    def __init__(self, column: int):
        super().__init__(column)
        self.column = column


def _type(field: dict | None) -> pa.DataType:
    return TYPES.get(str((field or {}).get("type") or "string"), pa.string())


def _cast(values: Any, kind: pa.DataType, column: int) -> pa.Array:
    try:
        if kind == pa.date32():
            return pa.array(values, type=pa.string()).cast(pa.date32())  # ISO dates, as validated
        if kind == pa.bool_():
            return pa.array(values, type=pa.int64()).cast(pa.bool_())  # stored as 0/1
        return pa.array(values, type=kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        if kind != pa.string():
            raise Misfit(column) from None
    # a text column holding numbers or bytes (loosely typed): every value as text
    return pa.array([None if v is None else (v.hex() if isinstance(v, bytes) else str(v)) for v in values], pa.string())


def types(columns: list[str], fields: list[dict]) -> list[pa.DataType]:
    by_name = {f.get("name"): f for f in fields}
    return [_type(by_name.get(c)) for c in columns]


def write_table(
    rows: Callable[[], Iterable[tuple]], columns: list[str], fields: list[dict], path: Path
) -> list[pa.DataType]:
    """Write the rows `rows()` yields (called again for a restart); returns the column types."""
    kinds = types(columns, fields)
    while True:
        try:
            write(rows(), columns, kinds, path)
            return kinds
        except Misfit as misfit:
            kinds[misfit.column] = pa.string()


def write(rows: Iterable[tuple], columns: list[str], types: list[pa.DataType], path: Path) -> None:
    """Row groups of `ROW_GROUP` rows; each is converted and compressed (pyarrow, without the GIL)
    on a worker thread while the next one is read from SQLite, one group at a time in order."""
    schema = pa.schema([pa.field(c, t) for c, t in zip(columns, types)])
    source = iter(rows)
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        with ThreadPoolExecutor(1, thread_name_prefix="parquet") as worker:
            previous: Future | None = None
            while group := list(islice(source, ROW_GROUP)):
                table = _table(schema, group)  # here: a Misfit stops before the worker sees it
                if previous is not None:
                    previous.result()
                previous = worker.submit(writer.write_table, table)
            if previous is not None:
                previous.result()


def _table(schema: pa.Schema, rows: list[tuple]) -> pa.Table:
    # rows to columns through a 2-D object array: numpy's copy is a quarter of zip(*rows)'s time
    grid = np.empty((len(rows), len(schema)), dtype=object)
    grid[:] = rows
    arrays = [_cast(grid[:, i], schema.field(i).type, i) for i in range(len(schema))]
    return pa.Table.from_arrays(arrays, schema=schema)
