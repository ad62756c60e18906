"""Write validated rows into SQLite: one database per dataset, one typed table per resource.

Tables are created with sqlite-utils (types, primary key, foreign keys declared so Datasette
links rows); rows are inserted with one `executemany` per resource inside one transaction,
because the validator already yields SQLite-ready tuples and anything per-row on top of that
(dicts, type detection) would cost more than the validation. Indexes come after the insert.
The database is a throwaway build artefact until the build swaps it in, so durability pragmas
are off while writing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable

import sqlite_utils

from .model import Resource

SQLITE_TYPES = {
    "integer": int,
    "year": int,
    "number": float,
    "boolean": int,
}

BUILD_PRAGMAS = (
    "PRAGMA threads = 4",  # SQLite's own sorter threads for CREATE INDEX (C, no GIL)
    "PRAGMA journal_mode = OFF",
    "PRAGMA synchronous = OFF",
    "PRAGMA locking_mode = EXCLUSIVE",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA cache_size = -262144",  # 256 MiB: the PK index of a 500k-row table stays in memory
)


def open_build_db(path: Path) -> sqlite_utils.Database:
    """A new, empty database for writing a dataset; replaces any leftover file at path."""
    path = Path(path)
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(str(path), isolation_level=None)
    for pragma in BUILD_PRAGMAS:
        conn.execute(pragma)
    return sqlite_utils.Database(conn)


def column_types(resource: Resource) -> dict[str, type]:
    return {f["name"]: SQLITE_TYPES.get(f.get("type", "string"), str) for f in resource.fields}


def create_table(db: sqlite_utils.Database, resource: Resource) -> sqlite_utils.db.Table:
    """Create the resource's table; foreign keys to tables that exist already are declared.

    The package validator hands resources over referenced-first, so every foreign key to
    another resource finds its table; a self-reference is declared through sqlite-utils too.
    """
    pk = resource.primary_key
    foreign_keys = []
    for fk in resource.foreign_keys:
        target = fk["resource"] or resource.name
        if len(fk["fields"]) != 1:
            continue  # sqlite-utils declares single-column foreign keys; composite ones are still validated
        if target != resource.name and target not in db.table_names():
            continue
        foreign_keys.append((fk["fields"][0], target, fk["reference_fields"][0]))
    table = db.create_table(
        resource.name,
        column_types(resource),
        pk=(pk[0] if len(pk) == 1 else tuple(pk)) if pk else None,
        column_order=resource.field_names,
    )
    # Declared after creation so a self-reference finds its own table.
    if foreign_keys:
        db.add_foreign_keys([(resource.name, col, other, other_col) for col, other, other_col in foreign_keys])
    return table


def insert_rows(db: sqlite_utils.Database, resource: Resource, rows: Iterable[tuple]) -> int:
    """Insert SQLite-ready tuples (schema field order) in one transaction; returns the row count."""
    placeholders = ", ".join("?" for _ in resource.fields)
    sql = f"INSERT INTO [{resource.name}] VALUES ({placeholders})"
    conn = db.conn
    before = conn.total_changes
    conn.execute("BEGIN")
    try:
        conn.executemany(sql, rows)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return conn.total_changes - before


def write_part(resource: Resource, rows: Iterable[tuple], path: Path) -> None:
    """Rows of a table validated in parallel (see gongkai.validate.speculate), written to a
    database of their own for `append_part` to add after the rows inserted here."""
    db = open_build_db(path)
    db.create_table(resource.name, column_types(resource), column_order=resource.field_names)
    insert_rows(db, resource, rows)
    db.conn.close()


def append_part(db: sqlite_utils.Database, resource: Resource, path: Path) -> int:
    """Append a part's rows in one INSERT … SELECT (C speed), then delete the part."""
    conn = db.conn
    before = conn.total_changes
    conn.execute("ATTACH DATABASE ? AS part", (str(path),))
    try:
        conn.execute("BEGIN")
        conn.execute(f"INSERT INTO main.[{resource.name}] SELECT * FROM part.[{resource.name}]")
        conn.execute("COMMIT")
    finally:
        conn.execute("DETACH DATABASE part")
        Path(path).unlink(missing_ok=True)
    return conn.total_changes - before


def index_columns(resource: Resource) -> list[str]:
    """Columns worth an index: foreign keys (Datasette joins on them), the columns the site
    facets and filters by (enum-constrained fields, or fields marked `gov:facet`) and the
    date-like columns tables are sorted by."""
    wanted: list[str] = []
    pk = set(resource.primary_key)
    for fk in resource.foreign_keys:
        wanted.extend(fk["fields"][:1])
    for f in resource.fields:
        constraints = f.get("constraints") or {}
        # dates are what people sort a table by: unindexed, each sorted page of 500k rows
        # costs ~90 ms of sorting instead of ~1 ms
        if f.get("gov:facet") or "enum" in constraints or f.get("type") in ("date", "datetime", "year"):
            wanted.append(f["name"])
    return [c for i, c in enumerate(wanted) if c not in wanted[:i] and [c] != list(pk)]


def create_indexes(db: sqlite_utils.Database, resource: Resource) -> None:
    table = db[resource.name]
    for column in index_columns(resource):
        table.create_index([column], if_not_exists=True)


def finish_database(db: sqlite_utils.Database) -> None:
    """Statistics for the query planner, then close. The file is immutable from here on."""
    # a sample is enough for the planner's choices and costs a fraction of a full scan
    db.conn.execute("PRAGMA analysis_limit = 2000")
    db.conn.execute("ANALYZE")
    db.conn.execute("PRAGMA journal_mode = DELETE")
    db.conn.close()
