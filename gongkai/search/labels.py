"""What tells one search hit from another: a row's label columns beside the matched text.

Nine thousand streets are called 街道; a hit is readable only with where it is. For each hit
row this gives the values of the table's foreign keys shown as the label of the row they point
to (areaCode 110105 → 朝阳区), as Datasette labels foreign keys, and otherwise the row's own
label column. One query per referenced table per search, not per row.
"""

from __future__ import annotations

import sqlite3

from .index import quote

LABEL_NAMES = ("name", "title", "名称", "标题", "label")
MAX_LABELS = 3


def label_column(conn: sqlite3.Connection, table: str) -> str | None:
    """The column that names a row of `table`: one called name/title/…, else its only text
    column besides the primary key (Datasette's rule)."""
    info = conn.execute(f"pragma table_info({quote(table)})").fetchall()
    names = [r[1] for r in info]
    for candidate in LABEL_NAMES:
        for name in names:
            if name.lower() == candidate:
                return name
    text = [r[1] for r in info if (r[2] or "").upper() == "TEXT" and not r[5]]
    return text[0] if len(text) == 1 else None


def foreign_labels(conn: sqlite3.Connection, table: str) -> list[tuple[str, str, str, str]]:
    """(column, other table, other column, other table's label column) per single-column foreign key."""
    out = []
    for fk in conn.execute(f"pragma foreign_key_list({quote(table)})").fetchall():
        other, column, other_column = fk[2], fk[3], fk[4]
        label = label_column(conn, other)
        if label and other_column and label != other_column:
            out.append((column, other, other_column, label))
    return out


Shape = tuple[list[tuple[str, str, str, str]], str | None]


def label_shape(conn: sqlite3.Connection, table: str) -> Shape:
    """What `row_labels` reads of a table's schema: its foreign labels and its own label column
    (a caller that searches the same tables again keeps it: the schema of a release never changes)."""
    return foreign_labels(conn, table), label_column(conn, table)


def row_labels(
    conn: sqlite3.Connection, table: str, rows: list[dict], skip: set[str], shape: Shape | None = None
) -> list[dict[str, str]]:
    """For each row, {column: label text} of its foreign keys (at most MAX_LABELS), or its own
    label column where it has no foreign key; columns in `skip` (the matched ones) are left out.
    `shape`: the table's `label_shape`, when the caller kept it."""
    foreign, own = shape if shape is not None else label_shape(conn, table)
    fks = [fk for fk in foreign if fk[0] not in skip][:MAX_LABELS]
    names: dict[str, dict] = {}
    for column, other, other_column, label in fks:
        values = sorted({r.get(column) for r in rows if r.get(column) is not None}, key=str)
        if not values:
            continue
        found = conn.execute(
            f"select {quote(other_column)}, {quote(label)} from {quote(other)} "
            f"where {quote(other_column)} in ({', '.join('?' * len(values))})",
            values,
        ).fetchall()
        names[column] = {str(k): v for k, v in found}
    out = []
    for r in rows:
        labels: dict[str, str] = {}
        for column, *_ in fks:
            value = r.get(column)
            if value is not None:
                labels[column] = str(names.get(column, {}).get(str(value)) or value)
        if not labels and own and own not in skip and r.get(own) is not None:
            labels[own] = str(r[own])
        out.append(labels)
    return out
