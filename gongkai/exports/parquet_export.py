"""`<resource>.parquet`: typed columns from the Table Schema (integer → int64, number → float64,
boolean → bool, date → date32, everything else as text), written in row groups so memory stays
bounded. A value the type cannot hold (SQLite is loosely typed) is written as null only in
columns where the schema's type was already enforced by validation; text columns keep all."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

TYPES = {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(), "date": pa.date32(), "year": pa.int64()}


def _type(field: dict | None) -> pa.DataType:
    return TYPES.get(str((field or {}).get("type") or "string"), pa.string())


def _cast(values: list, kind: pa.DataType) -> pa.Array:
    if kind == pa.date32():
        values = [date.fromisoformat(v) if isinstance(v, str) else v for v in values]  # checked ISO
    elif kind == pa.bool_():
        values = [None if v is None else bool(v) for v in values]
    elif kind == pa.string():
        values = [None if v is None else (v.hex() if isinstance(v, bytes) else str(v)) for v in values]
    return pa.array(values, type=kind)


# The storage classes SQLite may hold for each typed column; anything else makes it text.
_STORAGE = {
    pa.int64(): ("integer",),
    pa.float64(): ("integer", "real"),
    pa.bool_(): ("integer",),
    pa.date32(): ("text",),
}


def column_types(conn, table: str, columns: list[str], fields: list[dict]) -> list[pa.DataType]:
    """Each column's Parquet type: the schema's, unless a stored value does not fit it (one scan)."""
    from ..sql import identifier

    by_name = {f.get("name"): f for f in fields}
    wanted = [_type(by_name.get(c)) for c in columns]
    checks = []
    for c, kind in zip(columns, wanted):
        q = identifier(c)
        allowed = ", ".join(f"'{s}'" for s in (*_STORAGE.get(kind, ()), "null"))
        misfit = f"typeof({q}) not in ({allowed})"
        if kind == pa.date32():
            misfit += f" or ({q} is not null and {q} not glob '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]')"
        checks.append("0" if kind == pa.string() else f"max({misfit})")
    found = conn.execute(f"select {', '.join(checks)} from {identifier(table)}").fetchone()
    return [pa.string() if misfit else kind for kind, misfit in zip(wanted, found)]


def write(batches: Iterable[list[tuple]], columns: list[str], types: list[pa.DataType], path: Path) -> None:
    schema = pa.schema([pa.field(c, t) for c, t in zip(columns, types)])
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for batch in batches:
            cols: list[list] = [list(values) for values in zip(*batch)] if batch else [[] for _ in columns]
            arrays = [_cast(values, schema.field(i).type) for i, values in enumerate(cols)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
