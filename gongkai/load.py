"""Write validated rows into SQLite: one database per dataset, one typed table per resource.

A database being written is a `BuildDatabase`: two connections to one file. Its `schema`
connection is sqlite-utils (on Python's sqlite3 module), which creates the tables, types,
primary and foreign keys the way Datasette reads them, and builds the search index. Its `rows`
connection is APSW, which inserts the rows, appends the parts validated in parallel, creates
the indexes and gathers statistics: APSW bundles a current SQLite built with sorter worker
threads (so CREATE INDEX sorts on every core) and without the SECURE_DELETE and OMIT_LOOKASIDE
options of Debian's, and binds rows faster than the sqlite3 module. Measured on the bench table
(500k rows x 8): 280k-row insert 0.25 s vs 0.42-0.48 s, two indexes 0.27-0.33 s vs 0.69-0.75 s.
The two connections never hold a transaction at the same time (sqlite3 runs in autocommit
mode and APSW commits before returning), so neither locks the other out.

Rows go in with one `executemany` per resource inside one transaction, because the validator
already yields SQLite-ready tuples and anything per-row on top of that (dicts, type detection)
would cost more than the validation. Indexes come after the insert. The database is a
throwaway build artefact until the build swaps it in, so durability pragmas are off while
writing.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import apsw
import sqlite_utils

from .model import Resource
from .sql import identifier

SQLITE_TYPES = {
    "integer": int,
    "year": int,
    "number": float,
    "boolean": int,
}

# Both connections: a throwaway file, written once.
WRITE_PRAGMAS = (
    # set before the first table: half the pages (and read/write calls) of the default 4096
    "PRAGMA page_size = 8192",
    "PRAGMA journal_mode = OFF",
    "PRAGMA synchronous = OFF",
)
# Reads (the append, CREATE INDEX's scan, the search index's) through a memory map, no read()s.
# Mapped pages and the page cache count as the process's memory, and both fill up to their
# limit as the table grows: with 256 MiB each, validate + load of the bench table peaked at
# 297 MB at 500k rows and 675 MB at 2M (0.25 KB per extra row); with 64 MiB each, 289 MB and
# 403 MB (0.08 KB per extra row, the rest is the key memories). It is not free: back to back
# on a busy 2-core machine the 2M-row load took 57 s against 43 s with 256 MiB (the same at
# 500k, where the database fits either way). SQLite's memory stays bounded at this map + this
# page cache + FTS5's 64 MiB hash, whatever the number of rows.
MMAP_BYTES = 64 << 20
ROWS_PRAGMAS = WRITE_PRAGMAS + (
    f"PRAGMA mmap_size = {MMAP_BYTES}",
    "PRAGMA cache_size = -65536",  # 64 MiB: dirty pages beyond it are written out as the insert goes
    # SQLite's own sorter threads for CREATE INDEX (C, no GIL). They only start when the sort
    # spills to temporary files, so temp_store stays FILE (the OS caches those files anyway).
    f"PRAGMA threads = {min(os.cpu_count() or 1, 8)}",
    "PRAGMA temp_store = FILE",
)
# While an index is built: a small sorter memory makes SQLite sort it in chunks, one per worker
# thread, and merge them (two indexes on 500k rows: 0.3 s instead of 0.6 s on 2 cores).
INDEX_CACHE_PAGES = -2000


class BuildDatabase:
    """A dataset's database while the build writes it (see the module docstring)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        conn = sqlite3.connect(str(self.path), isolation_level=None)
        for pragma in WRITE_PRAGMAS:
            conn.execute(pragma)
        self.schema = sqlite_utils.Database(conn)
        self.rows = apsw.Connection(str(self.path))
        for pragma in ROWS_PRAGMAS:
            self.rows.execute(pragma)

    @property
    def conn(self) -> sqlite3.Connection:
        """The sqlite3 connection, for code that takes a sqlite-utils Database or a connection."""
        return self.schema.conn

    def close(self) -> None:
        self.rows.close()
        self.schema.conn.close()


def open_build_db(path: Path) -> BuildDatabase:
    """A new, empty database for writing a dataset; replaces any leftover file at path."""
    path = Path(path)
    for suffix in ("", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return BuildDatabase(path)


def column_types(resource: Resource) -> dict[str, type]:
    return {f["name"]: SQLITE_TYPES.get(f.get("type", "string"), str) for f in resource.fields}


def create_table(db: BuildDatabase, resource: Resource) -> sqlite_utils.db.Table:
    """Create the resource's table; foreign keys to tables that exist already are declared.

    The package validator hands resources over referenced-first, so every foreign key to
    another resource finds its table; a self-reference is declared through sqlite-utils too.
    """
    pk = resource.primary_key
    schema = db.schema
    foreign_keys = []
    for fk in resource.foreign_keys:
        target = fk["resource"] or resource.name
        if len(fk["fields"]) != 1:
            continue  # sqlite-utils declares single-column foreign keys; composite ones are still validated
        if target != resource.name and target not in schema.table_names():
            continue
        foreign_keys.append((fk["fields"][0], target, fk["reference_fields"][0]))
    table = schema.create_table(
        resource.name,
        column_types(resource),
        pk=(pk[0] if len(pk) == 1 else tuple(pk)) if pk else None,
        column_order=resource.field_names,
    )
    # Declared after creation so a self-reference finds its own table.
    if foreign_keys:
        schema.add_foreign_keys([(resource.name, col, other, other_col) for col, other, other_col in foreign_keys])
    return table


def insert_rows(db: BuildDatabase, resource: Resource, rows: Iterable[tuple]) -> int:
    """Insert SQLite-ready tuples (schema field order) in one transaction; returns the row count."""
    placeholders = ", ".join("?" for _ in resource.fields)
    sql = f"INSERT INTO {identifier(resource.name)} VALUES ({placeholders})"
    conn = db.rows
    before = conn.total_changes()
    with conn:  # one transaction, rolled back if the rows raise
        conn.executemany(sql, rows)
    return conn.total_changes() - before


def write_part(resource: Resource, rows: Iterable[tuple], path: Path) -> None:
    """Rows of a table validated in parallel, written to a database of their own for
    `append_part` to add after the rows inserted here: the loader's side of
    `gongkai.validate.split.PartWriter`."""
    db = open_build_db(path)
    try:
        db.schema.create_table(resource.name, column_types(resource), column_order=resource.field_names)
        insert_rows(db, resource, rows)
    finally:
        db.close()


def append_part(db: BuildDatabase, resource: Resource, path: Path) -> int:
    """Append a part's rows in one INSERT … SELECT (C speed), then delete the part."""
    conn = db.rows
    before = conn.total_changes()
    conn.execute("ATTACH DATABASE ? AS part", (str(path),))
    try:
        conn.execute(f"PRAGMA part.mmap_size = {MMAP_BYTES}")
        table = identifier(resource.name)
        with conn:
            conn.execute(f"INSERT INTO main.{table} SELECT * FROM part.{table}")
    finally:
        conn.execute("DETACH DATABASE part")
        Path(path).unlink(missing_ok=True)
    return conn.total_changes() - before


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


def create_indexes(db: BuildDatabase, resource: Resource) -> None:
    """One index per `index_columns` column, named as sqlite-utils names them."""
    conn = db.rows
    row = conn.execute("PRAGMA cache_size").fetchone()
    assert row is not None  # the pragma always answers one row
    (cache,) = row
    conn.execute(f"PRAGMA cache_size = {INDEX_CACHE_PAGES}")
    try:
        for column in index_columns(resource):
            name = identifier(f"idx_{resource.name}_{column}")
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {identifier(resource.name)} ({identifier(column)})")
    finally:
        conn.execute(f"PRAGMA cache_size = {cache}")


def finish_database(db: BuildDatabase) -> None:
    """Statistics for the query planner, then close. The file is immutable from here on.

    Every data table is analysed in full (0.08 s for 500k rows and two indexes): a sample
    (`analysis_limit`) reads the first entries of an index only, so an enum column whose first
    2,000 entries share one value looks 80 times more selective than it is, and a filtered,
    date-sorted page then sorts 166k rows (48 ms) instead of walking the date index (1.6 ms).
    The search index's shadow tables are left out: FTS5 reads them by key, never planned."""
    tables = [
        r[0]
        for r in db.rows.execute(
            "select name from sqlite_master where type = 'table' and name not like '\\_search\\_%' escape '\\' "
            "and name not like 'sqlite\\_%' escape '\\'"
        )
    ]
    for table in tables:
        db.rows.execute(f"ANALYZE {identifier(table)}")
    db.close()
