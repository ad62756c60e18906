"""The catalogue read in slices, for the machine-readable documents (`gongkai/opendata/`).

A harvester asks for the whole catalogue, and at 10,000 datasets that must never mean one
query holding every record: `after(conn, name, limit)` reads the next `limit` datasets in name
order (keyset paging on the primary key, so each slice is one indexed range however deep it
is), with their resources and fields in two more indexed queries. `page()` is the same slice by
page number, for documents that say which page they are (Hydra). The `descriptor` and the
rendered HTML columns are left out: no document needs them, and they are the largest.

Plain functions over a sqlite3 connection, run through `catalogue.of(datasette).read` like
every other catalogue question (`reader.Catalogue` is another helper's; this sits beside it).
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass

from .records import DatasetRecord, FieldRecord, Licence, Publisher, Record, ResourceRecord, SiteInfo, Theme

_SKIPPED = {"descriptor", "description_html", "description_html_en", "description_html_zh"}
_DATASET_COLUMNS = ", ".join(f"[{name}]" for name, _ in DatasetRecord.columns() if name not in _SKIPPED)


@dataclass
class Entry:
    """One dataset with what its documents describe: its resources and their fields."""

    dataset: DatasetRecord
    resources: list[ResourceRecord]
    fields: list[FieldRecord]

    def fields_of(self, resource: str) -> list[FieldRecord]:
        return [f for f in self.fields if f.resource == resource]


@dataclass
class Context:
    """What every document of the catalogue shares: the site and its controlled lists."""

    site: SiteInfo
    publishers: dict[str, Publisher]
    themes: dict[str, Theme]
    licences: dict[str, Licence]
    total: int
    modified: str | None


@dataclass
class Page:
    entries: list[Entry]
    number: int
    per_page: int
    total: int

    @property
    def last(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _rows(conn: sqlite3.Connection, cls: type[Record], sql: str, params) -> list:
    cur = conn.execute(sql, params)
    names = [c[0] for c in cur.description]
    return [cls.from_row(dict(zip(names, row))) for row in cur.fetchall()]


def _totals(conn: sqlite3.Connection, memo=None) -> tuple[int, str | None]:
    """(datasets, latest modified): a server's `memo` (gongkai.catalogue.listing.Memo) keeps
    them for the release, as the count is a scan of every dataset (0.5 ms at 10,000, on every
    home and landing page)."""

    def read() -> tuple[int, str | None]:
        return conn.execute("select count(*), max(modified) from datasets").fetchone()

    return memo.get("harvest_totals", read) if memo is not None else read()


def context(conn: sqlite3.Connection, only: DatasetRecord | None = None, memo=None) -> Context:
    """The site, its registries and totals; with `only`, just the entries that dataset names
    (a landing page needs its own publisher, not all of them); `memo`: see `_totals`."""

    def registry(cls: type[Record], table: str, ident: str | None) -> list:
        if only is None:
            return _rows(conn, cls, f"select * from [{table}]", ())
        return _rows(conn, cls, f"select * from [{table}] where id = ?", [ident]) if ident else []

    site = _rows(conn, SiteInfo, "select * from site where id = 1", ())
    total, modified = _totals(conn, memo)
    return Context(
        site=site[0] if site else SiteInfo(),
        publishers={p.id: p for p in registry(Publisher, "publishers", only.publisher if only else None)},
        themes={t.id: t for t in registry(Theme, "themes", only.theme if only else None)},
        licences={lic.id: lic for lic in registry(Licence, "licenses", only.license if only else None)},
        total=total,
        modified=modified,
    )


def site_context(conn: sqlite3.Connection, memo=None) -> Context:
    """The site and its totals without the registries (the home page's DataCatalog)."""
    site = _rows(conn, SiteInfo, "select * from site where id = 1", ())
    total, modified = _totals(conn, memo)
    return Context(site[0] if site else SiteInfo(), {}, {}, {}, total, modified)


def _entries(conn: sqlite3.Connection, datasets: list[DatasetRecord]) -> list[Entry]:
    if not datasets:
        return []
    names = json.dumps([d.name for d in datasets], ensure_ascii=False)
    resources = _rows(
        conn,
        ResourceRecord,
        "select * from resources where dataset in (select value from json_each(?)) order by dataset, position",
        [names],
    )
    fields = _rows(
        conn,
        FieldRecord,
        "select * from fields where dataset in (select value from json_each(?)) order by dataset, resource, position",
        [names],
    )
    by_res: dict[str, list[ResourceRecord]] = {}
    for r in resources:
        by_res.setdefault(r.dataset, []).append(r)
    by_field: dict[str, list[FieldRecord]] = {}
    for f in fields:
        by_field.setdefault(f.dataset, []).append(f)
    return [Entry(d, by_res.get(d.name, []), by_field.get(d.name, [])) for d in datasets]


def after(conn: sqlite3.Connection, name: str | None, limit: int) -> list[Entry]:
    """The next `limit` datasets after `name` (None: from the first) in name order."""
    datasets = _rows(
        conn,
        DatasetRecord,
        f"select {_DATASET_COLUMNS} from datasets where name > ? order by name limit ?",
        ["" if name is None else name, int(limit)],
    )
    return _entries(conn, datasets)


def page(conn: sqlite3.Connection, number: int, per_page: int) -> Page:
    """Page `number` (from 1) of `per_page` datasets in name order."""
    total = conn.execute("select count(*) from datasets").fetchone()[0]
    datasets = _rows(
        conn,
        DatasetRecord,
        f"select {_DATASET_COLUMNS} from datasets order by name limit ? offset ?",
        [int(per_page), (int(number) - 1) * int(per_page)],
    )
    return Page(_entries(conn, datasets), number, per_page, total)


def one(conn: sqlite3.Connection, name: str) -> Entry | None:
    found = _rows(conn, DatasetRecord, f"select {_DATASET_COLUMNS} from datasets where name = ?", [name])
    return _entries(conn, found)[0] if found else None
