"""The catalogue queries of the sitemap and the Atom feeds (gongkai/opendata/sitemap.py, atom.py).

Both read a bounded slice whatever the catalogue's size: a feed the newest `limit` datasets
(optionally of one publisher or theme), a sitemap page `per_page` names in name order.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from .records import DatasetRecord, Publisher, Record, Theme

# What a feed entry shows; the descriptor and the data dictionary stay out of it.
_FEED_COLUMNS = (
    "name, id, title, title_en, title_zh, summary, summary_en, summary_zh, publisher, theme, "
    "created, modified, issued, language"
)


@dataclass(frozen=True)
class Stamp:
    """A sitemap entry: a dataset's name and when it last changed."""

    name: str
    modified: str | None


def _rows(conn: sqlite3.Connection, cls: type[Record], sql: str, params) -> list:
    cur = conn.execute(sql, params)
    names = [c[0] for c in cur.description]
    return [cls.from_row(dict(zip(names, row))) for row in cur.fetchall()]


def recent(
    conn: sqlite3.Connection, limit: int, *, publisher: str | None = None, theme: str | None = None
) -> list[DatasetRecord]:
    """The `limit` most recently changed datasets, newest first (ties by name, so stable)."""
    where, params = [], []
    if publisher is not None:
        where.append("publisher = ?")
        params.append(publisher)
    if theme is not None:
        where.append("theme = ?")
        params.append(theme)
    sql = f"select {_FEED_COLUMNS} from datasets"
    if where:
        sql += " where " + " and ".join(where)
    sql += " order by modified desc, name limit ?"  # datasets(modified) is indexed
    return _rows(conn, DatasetRecord, sql, [*params, int(limit)])


def publisher(conn: sqlite3.Connection, ident: str) -> Publisher | None:
    found = _rows(conn, Publisher, "select * from publishers where id = ?", [ident])
    return found[0] if found else None


def theme(conn: sqlite3.Connection, ident: str) -> Theme | None:
    found = _rows(conn, Theme, "select * from themes where id = ?", [ident])
    return found[0] if found else None


def totals(conn: sqlite3.Connection) -> tuple[int, str | None]:
    """How many datasets, and the latest change of any."""
    total, modified = conn.execute("select count(*), max(modified) from datasets").fetchone()
    return int(total), modified


def stamps(conn: sqlite3.Connection, number: int, per_page: int) -> list[Stamp]:
    """Page `number` (from 1) of the datasets in name order, as (name, modified)."""
    cur = conn.execute(
        "select name, modified from datasets order by name limit ? offset ?",
        [int(per_page), (int(number) - 1) * int(per_page)],
    )
    return [Stamp(name, modified) for name, modified in cur.fetchall()]


def registry_ids(conn: sqlite3.Connection) -> tuple[list[str], list[str]]:
    """The ids of every publisher and theme (hundreds, not thousands: the sitemap lists them)."""
    pubs = [r[0] for r in conn.execute("select id from publishers order by id")]
    themes = [r[0] for r in conn.execute("select id from themes order by id")]
    return pubs, themes


def publisher_names(conn: sqlite3.Connection, ids: list[str], lang: str) -> dict[str, str]:
    """The names in `lang` (falling back to the original) of the publishers `ids`."""
    found = _rows(
        conn,
        Publisher,
        "select * from publishers where id in (select value from json_each(?))",
        [json.dumps(sorted(set(ids)), ensure_ascii=False)],
    )
    return {p.id: str(p.text("name", lang) or p.id) for p in found}
