"""Every query the site makes of `catalog.db`, returning records (`records.py`).

`Catalogue(conn)` wraps one read-only connection; each method is one question a page asks.
Plugins never write SQL: they call these (through `store.read`, which runs them off the event
loop) and turn the records into page contexts (`gongkai/portal/pages.py`).
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..search.index import CATALOG_COLUMNS, CATALOG_INDEX, CATALOG_WEIGHTS, quote
from ..search.query import highlight
from ..search.tokens import match_expression
from . import listing
from .records import (
    ChartRecord,
    DatasetRecord,
    FieldRecord,
    Licence,
    Publisher,
    Record,
    ResourceRecord,
    SiteInfo,
    Theme,
)

R = TypeVar("R", bound=Record)
RECENT = 6
PER_PAGE = listing.PER_PAGE  # (inside `Catalogue`, `listing` is its method)
Search = listing.Search


@dataclass
class Registries:
    """The site's controlled lists, by id."""

    publishers: dict[str, Publisher] = field(default_factory=dict)
    themes: dict[str, Theme] = field(default_factory=dict)
    licences: dict[str, Licence] = field(default_factory=dict)


@dataclass
class DatasetBundle:
    """Everything a dataset's landing page shows from the catalogue."""

    dataset: DatasetRecord
    publisher: Publisher | None
    theme: Theme | None
    licence: Licence | None
    resources: list[ResourceRecord]
    fields: list[FieldRecord]
    chart: ChartRecord | None
    known_licences: set[str]
    site: SiteInfo

    def fields_of(self, resource: str) -> list[FieldRecord]:
        return [f for f in self.fields if f.resource == resource]


@dataclass
class DatasetTitles:
    """One dataset's records as Datasette's own pages (table, row, database, query) need them."""

    dataset: DatasetRecord
    tables: dict[str, ResourceRecord]  # by name, in order
    columns: dict[str, dict[str, FieldRecord]]  # table -> column -> field
    fields: list[FieldRecord]
    licence: Licence | None


@dataclass
class Counted:
    """A publisher or theme with its number of datasets."""

    entry: Publisher | Theme
    datasets: int


@dataclass
class PublisherBundle:
    publisher: Publisher
    parent: Publisher | None
    children: list[Publisher]
    datasets: list[DatasetRecord]  # one page of them, last modified first
    total: int = 0  # all of the publisher's datasets
    page: int = 1
    pages: int = 1


@dataclass
class ThemeBundle:
    theme: Theme
    datasets: list[DatasetRecord]  # one page of them, last modified first
    total: int = 0
    page: int = 1
    pages: int = 1


@dataclass
class LicenceUse:
    licence: Licence
    datasets: int


@dataclass
class CatalogueHit:
    """A dataset matching a site search, with its matched text marked."""

    name: str
    title: str | None
    title_en: str | None
    description: str | None
    description_en: str | None
    publisher: str | None
    rows: int | None
    score: float
    title_match: bool
    title_html: str | None
    title_en_html: str | None
    description_html: str | None
    description_en_html: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Catalogue:
    """Read-only questions to one `catalog.db` connection."""

    def __init__(self, conn: sqlite3.Connection, memo: listing.Memo | None = None):
        self.conn = conn
        # Answers that cannot change while a release is served, kept by the store across
        # requests (the site totals, the registries, each catalogue state's selection).
        self.memo = memo if memo is not None else listing.Memo(0)

    # -- plumbing --------------------------------------------------------------------------------

    def _all(self, cls: type[R], where: str = "", params: Any = (), order: str = "") -> list[R]:
        sql = (
            f"select * from [{cls.TABLE}]"
            + (f" where {where}" if where else "")
            + (f" order by {order}" if order else "")
        )
        cur = self.conn.execute(sql, params)
        names = [c[0] for c in cur.description]
        return [cls.from_row(dict(zip(names, row))) for row in cur.fetchall()]

    def _one(self, cls: type[R], where: str, params: Any = ()) -> R | None:
        found = self._all(cls, where, params)
        return found[0] if found else None

    # -- site-wide -------------------------------------------------------------------------------

    def site(self) -> SiteInfo:
        return self._one(SiteInfo, "id = 1") or SiteInfo()

    def registries(self) -> Registries:
        """Every publisher, theme and licence (hundreds of publishers: read once per worker)."""

        def read() -> Registries:
            return Registries(
                publishers={p.id: p for p in self._all(Publisher)},
                themes={t.id: t for t in self._all(Theme)},
                licences={lic.id: lic for lic in self._all(Licence)},
            )

        return self.memo.get("registries", read)

    def totals(self) -> dict[str, int]:
        """Site totals for the home page (a scan of every dataset's row: once per worker)."""

        def read() -> dict[str, int]:
            datasets, tables, rows, publishers = self.conn.execute(
                "select count(*), coalesce(sum(resources), 0), coalesce(sum(rows), 0), count(distinct publisher) "
                "from datasets"
            ).fetchone()
            return {"datasets": datasets, "tables": tables, "rows": rows, "publishers": publishers}

        return dict(self.memo.get("totals", read))

    def themes_in_use(self) -> list[Counted]:
        """Themes with datasets, most datasets first (once per worker: the release is fixed)."""

        def read() -> list[Counted]:
            counts = dict(self.conn.execute("select theme, count(*) from datasets group by theme").fetchall())
            themes = [t for t in self.registries().themes.values() if t.id in counts]
            return sorted((Counted(t, counts[t.id]) for t in themes), key=lambda c: (-c.datasets, c.entry.id))

        return list(self.memo.get("themes_in_use", read))

    def publishers_in_use(self) -> list[Counted]:
        """Publishers with datasets, most datasets first (once per worker)."""

        def read() -> list[Counted]:
            counts = dict(self.conn.execute("select publisher, count(*) from datasets group by publisher").fetchall())
            pubs = [p for p in self.registries().publishers.values() if p.id in counts]
            return sorted((Counted(p, counts[p.id]) for p in pubs), key=lambda c: (-c.datasets, c.entry.id))

        return list(self.memo.get("publishers_in_use", read))

    def _datasets_page(
        self, column: str, value: str, page: int, per_page: int
    ) -> tuple[list[DatasetRecord], int, int, int]:
        """One page of the datasets whose `column` (publisher or theme) is `value`, last
        modified first: (datasets, how many in all, the page (a page past the last is the
        last), pages). From the catalogue list's facet index (the order is its "modified"
        one): counting and sorting a theme's datasets in SQL grew with the catalogue."""
        rowids = listing.facet_index_of(self.conn, self.memo).newest(column, value)
        total = len(rowids)
        pages = max(1, math.ceil(total / per_page))
        page = max(1, min(page, pages))
        found = listing.records_of(self.conn, rowids[(page - 1) * per_page : page * per_page])
        return found, total, page, pages

    def recent(self, limit: int = RECENT) -> list[DatasetRecord]:
        """The latest datasets (once per worker: a sort of every dataset, 53 ms at 10,000, was
        most of the home page's time)."""
        return list(
            self.memo.get(
                f"recent-{int(limit)}",
                lambda: self._all(DatasetRecord, order=f"modified desc, name limit {int(limit)}"),
            )
        )

    def licences_in_use(self) -> list[LicenceUse]:
        counts = dict(self.conn.execute("select license, count(*) from datasets group by license").fetchall())
        uses = [LicenceUse(lic, counts.get(lic.id, 0)) for lic in self._all(Licence)]
        return sorted(uses, key=lambda u: (-u.datasets, u.licence.id))

    def with_personal_data(self) -> list[DatasetRecord]:
        return self._all(DatasetRecord, "personal_data is not null and personal_data != '[]'", order="name")

    def largest_table(self) -> ResourceRecord | None:
        """The resource with the most rows: the API page's worked example."""
        found = self._all(ResourceRecord, order="rows desc, dataset, position limit 1")
        return found[0] if found else None

    # -- the catalogue list ----------------------------------------------------------------------

    def listing(self, query: listing.Query, lang: str = "zh") -> listing.Page:
        search = None
        if query.q:
            expression = match_expression(query.q)
            if not expression:  # nothing searchable in the words: nothing matches
                return listing.Page(query, [], 0, 1)
            search = self._search(expression)
        return listing.run(self.conn, query, lang, search, self.memo)

    @staticmethod
    def _search(expression: str) -> Search:
        return Search(
            index=quote(CATALOG_INDEX),
            match=expression,
            title_match=f"{{c{CATALOG_COLUMNS.index('title')}}} : ({expression})",
            weights=", ".join(str(w) for w in CATALOG_WEIGHTS),
        )

    # -- one dataset -----------------------------------------------------------------------------

    def dataset(self, name: str) -> DatasetBundle | None:
        d = self._one(DatasetRecord, "name = ?", [name])
        if d is None:
            return None
        return DatasetBundle(
            dataset=d,
            publisher=self._one(Publisher, "id = ?", [d.publisher]),
            theme=self._one(Theme, "id = ?", [d.theme]),
            licence=self._one(Licence, "id = ?", [d.license]),
            resources=self._all(ResourceRecord, "dataset = ?", [name], order="position"),
            fields=self._all(FieldRecord, "dataset = ?", [name], order="resource, position"),
            chart=self._one(ChartRecord, "dataset = ?", [name]),
            known_licences={r[0] for r in self.conn.execute("select id from licenses")},
            site=self.site(),
        )

    def dataset_record(self, name: str) -> DatasetRecord | None:
        return self._one(DatasetRecord, "name = ?", [name])

    def datasets_named(self, names: list[str]) -> dict[str, DatasetRecord]:
        found = self._all(
            DatasetRecord, "name in (select value from json_each(?))", [json.dumps(list(names), ensure_ascii=False)]
        )
        return {d.name: d for d in found}

    def resource(self, dataset: str, name: str) -> ResourceRecord | None:
        return self._one(ResourceRecord, "dataset = ? and name = ?", [dataset, name])

    def resource_at(self, dataset: str, path: str) -> ResourceRecord | None:
        """The resource whose file is `path` (a download's media type depends on its format and
        encoding); None for the descriptor or any other file."""
        return self._one(ResourceRecord, "dataset = ? and path = ?", [dataset, path])

    def dictionary(self, dataset: str, resource: str) -> list[FieldRecord] | None:
        """The fields of one resource in order; None when there is no such resource."""
        if self._one(ResourceRecord, "dataset = ? and name = ?", [dataset, resource]) is None:
            return None
        return self._all(FieldRecord, "dataset = ? and resource = ?", [dataset, resource], order="position")

    # -- publishers and themes -------------------------------------------------------------------

    def publisher(self, ident: str, page: int = 1, per_page: int = PER_PAGE) -> PublisherBundle | None:
        p = self._one(Publisher, "id = ?", [ident])
        if p is None:
            return None
        datasets, total, page, pages = self._datasets_page("publisher", ident, page, per_page)
        return PublisherBundle(
            publisher=p,
            parent=self._one(Publisher, "id = ?", [p.parent]) if p.parent else None,
            children=self._all(Publisher, "parent = ?", [ident], order="id"),
            datasets=datasets,
            total=total,
            page=page,
            pages=pages,
        )

    def theme(self, ident: str, page: int = 1, per_page: int = PER_PAGE) -> ThemeBundle | None:
        th = self._one(Theme, "id = ?", [ident])
        if th is None:
            return None
        datasets, total, page, pages = self._datasets_page("theme", ident, page, per_page)
        return ThemeBundle(theme=th, datasets=datasets, total=total, page=page, pages=pages)

    # -- what Datasette's own pages show ---------------------------------------------------------

    def titles(self, name: str) -> DatasetTitles | None:
        """One dataset's, its tables' and its columns' titles (what Datasette's own pages show
        in the page's language), and its licence; None when there is no such dataset."""
        d = self._one(DatasetRecord, "name = ?", [name])
        if d is None:
            return None
        columns: dict[str, dict[str, FieldRecord]] = {}
        fields = self._all(FieldRecord, "dataset = ?", [name], order="resource, position")
        for f in fields:
            columns.setdefault(f.resource, {})[f.name] = f
        return DatasetTitles(
            dataset=d,
            tables={r.name: r for r in self._all(ResourceRecord, "dataset = ?", [name], order="position")},
            columns=columns,
            fields=fields,
            licence=self._one(Licence, "id = ?", [d.license]) if d.license else None,
        )

    # -- the catalogue search --------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 20) -> list[CatalogueHit]:
        """Datasets matching the query: those matching every term in their title first, then by
        bm25 with title > keywords > publisher > column titles > description."""
        expression = match_expression(query)
        if not expression:
            return []
        idx = quote(CATALOG_INDEX)
        title = f"{{c{CATALOG_COLUMNS.index('title')}}} : ({expression})"
        weights = ", ".join(str(w) for w in CATALOG_WEIGHTS)
        # the best `limit` are picked from (rowid, score, title match) alone and only they are
        # joined to their records: sorting every match with its record (descriptions included)
        # was most of a common word's time at 10,000 datasets
        sql = f"""
            with hits as (select rowid, bm25({idx}, {weights}) as score from {idx} where {idx} match :q),
                 in_title as (select rowid from {idx} where {idx} match :title),
                 best as (
                     select rowid, score, rowid in (select rowid from in_title) as title_match from hits
                     order by title_match desc, score, rowid limit :limit
                 )
            select d.name, d.title, d.title_en, d.description_text, d.description_text_en, d.publisher, d.rows,
                   best.score, best.title_match
            from best join datasets d on d.rowid = best.rowid
            order by best.title_match desc, best.score, best.rowid
        """
        out = []
        for name, t, t_en, d, d_en, pub, rows, score, in_title in self.conn.execute(
            sql, {"q": expression, "title": title, "limit": limit}
        ):
            out.append(
                CatalogueHit(
                    name=name,
                    title=t,
                    title_en=t_en,
                    description=d,
                    description_en=d_en,
                    publisher=pub,
                    rows=rows,
                    score=round(score, 4),
                    title_match=bool(in_title),
                    title_html=highlight(t, query),
                    title_en_html=highlight(t_en, query),
                    description_html=highlight(d, query, width=160),
                    description_en_html=highlight(d_en, query, width=160),
                )
            )
        return out
