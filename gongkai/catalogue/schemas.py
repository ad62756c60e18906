"""The catalogue's questions about shared schemas (metadata/schemas/): each schema, and which
datasets follow it (`resources.shared_schema`). Used by the `/schemas` pages (plugins/portal.py)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from .records import DatasetRecord, SharedSchemaRecord


@dataclass
class SchemaBundle:
    schema: SharedSchemaRecord
    datasets: list[DatasetRecord] = field(default_factory=list)  # those with a resource following it


def _schemas(conn: sqlite3.Connection, where: str = "", params: tuple = ()) -> list[SharedSchemaRecord]:
    cur = conn.execute(f"select * from shared_schemas {where} order by name", params)
    names = [c[0] for c in cur.description]
    return [SharedSchemaRecord.from_row(dict(zip(names, row))) for row in cur.fetchall()]


def followers(conn: sqlite3.Connection, name: str) -> list[DatasetRecord]:
    cur = conn.execute(
        "select * from datasets where name in"
        " (select distinct dataset from resources where shared_schema = ?) order by name",
        (name,),
    )
    names = [c[0] for c in cur.description]
    return [DatasetRecord.from_row(dict(zip(names, row))) for row in cur.fetchall()]


def one(conn: sqlite3.Connection, name: str) -> SchemaBundle | None:
    found = _schemas(conn, "where name = ?", (name,))
    return SchemaBundle(found[0], followers(conn, name)) if found else None


def every(conn: sqlite3.Connection) -> list[tuple[SharedSchemaRecord, int]]:
    """Each shared schema with the number of datasets that follow it."""
    counts = dict(
        conn.execute(
            "select shared_schema, count(distinct dataset) from resources"
            " where shared_schema is not null group by shared_schema"
        ).fetchall()
    )
    return [(s, counts.get(s.name, 0)) for s in _schemas(conn)]
