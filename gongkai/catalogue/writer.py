"""The only code that writes `catalog.db`: every table from its record class, then the search
statistics and the catalogue's own search index. Run once per build, on the release folder:
afresh, or starting from the previous release's file and replacing only the datasets that
changed (`CatalogueWriter`).

It reads the descriptors (through `model.Dataset`), the build's per-dataset results and the
databases the build just wrote beside it (for which columns each search index covers, and for
the charts); nothing at request time writes here.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from .. import (
    release_files,
    scorecard as scorecards,  # a module import: scorecard imports the catalogue's records
)
from ..descriptors import Site, parse_file
from ..model import Dataset
from ..portal import charts
from ..search.index import CATALOG_BATCH_ROWS, CATALOG_COLUMNS, create_index, index_name, read_indexes
from ..search.tokens import index_tokens
from .records import (
    RECORDS,
    ChartRecord,
    DatasetRecord,
    FieldRecord,
    Licence,
    Publisher,
    Record,
    ResourceRecord,
    SharedSchemaRecord,
    SiteInfo,
    Theme,
)

FILE = "catalog.db"


def _insert(conn: sqlite3.Connection, cls: type[Record], records: Iterable[Record]) -> None:
    names = [name for name, _ in cls.columns()]
    conn.executemany(
        f"INSERT INTO [{cls.TABLE}] ({', '.join(f'[{n}]' for n in names)}) VALUES ({', '.join('?' * len(names))})",
        (r.to_row() for r in records),
    )


def _chart(release: Path, ds: Dataset) -> ChartRecord | None:
    """At most one chart per dataset, aggregated from its fresh database, so the landing page
    reads one row instead of scanning a table."""
    db_path = release_files.database(release, ds.name)
    if not db_path.exists():
        return None
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        for res in ds.resources:
            spec = charts.build_chart(
                conn, res.name, res.fields, primary_key=res.primary_key, foreign_keys=res.foreign_keys
            )
            if spec:
                return ChartRecord(dataset=ds.name, resource=res.name, kind=spec["kind"], spec=spec)
    finally:
        conn.close()
    return None


def _searchable(release: Path, fields: list[FieldRecord]) -> None:
    """`fields.searchable`: 1 where the dataset's search index covers the column, else 0."""
    covered: set[tuple[str, str, str]] = set()
    for ds in {f.dataset for f in fields}:
        path = release_files.database(release, ds)
        if not path.exists():
            continue
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for table, tindex in read_indexes(conn).items():
                covered.update((ds, table, c) for c in tindex.columns)
        finally:
            conn.close()
    for f in fields:
        f.searchable = int((f.dataset, f.resource, f.name) in covered)


def _lines(*values) -> str:
    out: list[str] = []
    for v in values:
        if isinstance(v, list):
            out.extend(str(x) for x in v if x)
        elif v:
            out.append(str(v))
    return "\n".join(out)


def search_documents(
    datasets: list[DatasetRecord],
    resources: list[ResourceRecord],
    fields: list[FieldRecord],
    publishers: dict[str, Publisher],
) -> list[tuple]:
    """(rowid, *CATALOG_COLUMNS) per dataset: what the catalogue search matches."""
    by_dataset_fields: dict[str, list] = {}
    for f in fields:
        by_dataset_fields.setdefault(f.dataset, []).extend((f.name, f.title, f.title_en, f.title_zh))
    by_dataset_resources: dict[str, list] = {}
    for r in resources:
        by_dataset_resources.setdefault(r.dataset, []).extend(
            (r.name, r.title, r.title_en, r.description, r.description_en)
        )
    docs = []
    for rowid, d in enumerate(datasets, start=1):
        pub = publishers.get(d.publisher or "")
        docs.append(
            (
                rowid,
                _lines(d.title, d.title_en, d.title_zh),
                _lines(d.keywords, d.keywords_translated),
                _lines(pub.name, pub.name_en) if pub else _lines(d.publisher),
                _lines(by_dataset_fields.get(d.name, [])),
                _lines(
                    d.description_text,
                    d.description_text_en,
                    d.description_text_zh,
                    d.name,
                    by_dataset_resources.get(d.name, []),
                ),
            )
        )
    assert len(CATALOG_COLUMNS) == 5  # the tuple above follows CATALOG_COLUMNS' order
    return docs


REANALYZE_SHARE = 20  # an updated catalogue is analysed again once 1 in 20 datasets changed
DOCS = "_catalogue_docs"  # each dataset's search document as it was indexed (rid = datasets.rowid)


def _records(release: Path, ds: Dataset, build) -> dict[type[Record], list]:
    """One dataset's rows of every per-dataset table (charts aggregated from its fresh database)."""
    fields = FieldRecord.from_dataset(ds)
    _searchable(release, fields)
    return {
        DatasetRecord: [DatasetRecord.from_dataset(ds, build)],
        ResourceRecord: ResourceRecord.from_dataset(ds, build),
        FieldRecord: fields,
        ChartRecord: [c for c in (_chart(release, ds),) if c],
    }


def _shared_schemas(site: Site) -> list[SharedSchemaRecord]:
    """Every shared schema of `metadata/schemas/`, read as descriptors.py reads them (a file it
    would refuse is left out here: a dataset naming it has already failed the build)."""
    out = []
    for name in site.shared_schemas():
        data, error = parse_file(site.schemas_dir, f"{name}.json")
        if error is None and isinstance(data, dict):
            out.append(SharedSchemaRecord.from_schema(name, data))
    return out


def _scorecard(release: Path, records: dict, known_licences: set[str]) -> None:
    """Fill `scorecard` on a dataset's record (gongkai.scorecard). The accessibility indicators
    ("the URL answers") test the release's own files: the dataset's database behind its pages,
    and each original file under downloads/ (published before the dataset is added)."""
    (d,) = records[DatasetRecord]
    rs = records[ResourceRecord]
    files = release_files.downloads(release, d.name)
    published = frozenset(r.name for r in rs if r.path and (files / r.path).is_file())
    served = release_files.database(release, d.name).is_file()
    facts = scorecards.Facts(served=served, published=published, today=date.today())
    d.scorecard = scorecards.dataset_scorecard(d, rs, records[FieldRecord], facts, known_licences=known_licences)


# the parts of a dataset's scorecard its publisher's is made of (scorecard.publisher_scorecard)
_CARD_PARTS = ", ".join(
    f"json_extract(scorecard, '$.{path}')" for path in ("mqa.points", "stars.level", "valid", "quality")
)


class CatalogueWriter:
    """Writes `release/catalog.db` one dataset at a time, so a build holds no dataset's records
    longer than it takes to insert them.

    Given the previous release's catalog.db (`start_from`), it starts from a copy of it and
    replaces only what changed: `add` for a dataset built afresh (its old rows, chart and search
    document go first), `remove` for one that is gone, `set_dates` when only its git dates moved;
    a dataset nobody mentions keeps its rows, chart and search document as they were (its chart
    is not recomputed). The caller starts from a copy only when the code that shapes
    catalog.db is the code that wrote it (gongkai.codehash.RELEASE_ROOTS). The site tables
    (site, publishers, themes, licences) are small and always written afresh.

    Without `start_from` it writes the whole file, as `write` does.
    """

    def __init__(self, release: Path, site: Site, start_from: Path | None = None):
        self.release = Path(release)
        self.path = self.release / FILE
        self.path.unlink(missing_ok=True)
        self.incremental = start_from is not None
        self.publishers = {ident: Publisher.from_entry(ident, e) for ident, e in site.publishers.items()}
        self.licences = set(site.licenses)
        if start_from is not None:
            shutil.copyfile(start_from, self.path)
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.create_function("gongkai_search_tokens", 1, index_tokens, deterministic=True)
        self.conn.execute("BEGIN")
        # A publisher's scorecard is computed again only when one of its datasets changed (or
        # it is new): the copied catalogue's stays for the others, kept as the text it was.
        self.kept_cards: dict[str, str | None] = {}
        if self.incremental:
            self.kept_cards = dict(self.conn.execute("SELECT id, scorecard FROM publishers"))
        self.touched: set[str] = set()
        site_tables = {
            SiteInfo: [SiteInfo.from_site(site.site or {})],
            Publisher: list(self.publishers.values()),
            Theme: [Theme.from_entry(ident, e) for ident, e in site.themes.items()],
            Licence: [Licence.from_entry(ident, e) for ident, e in site.licenses.items()],
            SharedSchemaRecord: _shared_schemas(site),
        }
        for cls in RECORDS:
            if not self.incremental:
                self.conn.execute(cls.ddl())
                for columns in cls.INDEXES:
                    self.conn.execute(
                        f"CREATE INDEX [{cls.TABLE}_{'_'.join(columns)}] ON [{cls.TABLE}] ({', '.join(f'[{c}]' for c in columns)})"
                    )
            if cls in site_tables:
                self.conn.execute(f"DELETE FROM [{cls.TABLE}]")
                _insert(self.conn, cls, site_tables[cls])
        if not self.incremental:
            self.conn.execute(f"CREATE TABLE [{DOCS}] (rid INTEGER PRIMARY KEY, {', '.join(CATALOG_COLUMNS)})")
        self.changed = 0

    def remove(self, name: str) -> None:
        """Delete a dataset's rows, chart and search document (from a copied catalogue)."""
        if not self.incremental:
            return
        row = self.conn.execute("SELECT rowid, publisher FROM datasets WHERE name = ?", [name]).fetchone()
        if row is not None:
            rid, publisher = row
            self.touched.add(publisher or "")
            if self.conn.execute(f"SELECT 1 FROM [{DOCS}] WHERE rid = ?", [rid]).fetchone():
                fts = index_name("datasets")
                cols = ", ".join(f"c{i}" for i in range(len(CATALOG_COLUMNS)))
                tokens = ", ".join(f"gongkai_search_tokens({c})" for c in CATALOG_COLUMNS)
                # a contentless index forgets a document only when given the tokens it indexed
                self.conn.execute(
                    f"INSERT INTO [{fts}] ([{fts}], rowid, {cols}) SELECT 'delete', rid, {tokens} FROM [{DOCS}] WHERE rid = ?",
                    [rid],
                )
                self.conn.execute(f"DELETE FROM [{DOCS}] WHERE rid = ?", [rid])
        for cls in (DatasetRecord, ResourceRecord, FieldRecord, ChartRecord):
            column = "name" if cls is DatasetRecord else "dataset"
            self.conn.execute(f"DELETE FROM [{cls.TABLE}] WHERE [{column}] = ?", [name])
        self.changed += 1

    def add(self, ds: Dataset, build) -> None:
        """Insert a dataset built afresh (replacing what a copied catalogue held for it)."""
        self.remove(ds.name)
        records = _records(self.release, ds, build)
        _scorecard(self.release, records, self.licences)
        self.touched.add(records[DatasetRecord][0].publisher or "")
        for cls, rows in records.items():
            _insert(self.conn, cls, rows)
        (rid,) = self.conn.execute("SELECT rowid FROM datasets WHERE name = ?", [ds.name]).fetchone()
        (doc,) = search_documents(
            records[DatasetRecord], records[ResourceRecord], records[FieldRecord], self.publishers
        )
        self.conn.execute(f"INSERT INTO [{DOCS}] VALUES ({', '.join('?' * len(doc))})", (rid, *doc[1:]))
        if self.incremental:
            fts = index_name("datasets")
            cols = ", ".join(f"c{i}" for i in range(len(CATALOG_COLUMNS)))
            tokens = ", ".join(f"gongkai_search_tokens({c})" for c in CATALOG_COLUMNS)
            self.conn.execute(
                f"INSERT INTO [{fts}] (rowid, {cols}) SELECT rid, {tokens} FROM [{DOCS}] WHERE rid = ?", [rid]
            )

    def set_dates(self, name: str, issued: str | None, modified: str | None) -> None:
        """An unchanged dataset whose git dates moved (say its files were committed as they were)."""
        self.conn.execute("UPDATE datasets SET issued = ?, modified = ? WHERE name = ?", [issued, modified, name])
        self.changed += 1

    def _publisher_scorecards(self) -> None:
        """Each publisher's scorecard from its datasets' (kept or new) ones: one read of a small
        column per dataset, so a reused dataset counts without being read again. Updating a
        copied catalogue, only the publishers of the datasets added or removed are counted
        again (a rebuild costs what changed); the others keep the text they had."""
        todo = set(self.publishers)
        if self.incremental:
            todo = {p for p in todo if p in self.touched or p not in self.kept_cards}
            for ident in set(self.publishers) - todo:
                self.conn.execute("UPDATE publishers SET scorecard = ? WHERE id = ?", [self.kept_cards[ident], ident])
        # only what a publisher's card is made of, one publisher at a time through the index on
        # `publisher`: all 10,000 datasets' whole cards as dicts were ~100 MB, a third of the
        # build's peak memory
        for ident in sorted(todo):
            rows = self.conn.execute(
                f"SELECT {_CARD_PARTS} FROM datasets WHERE coalesce(scorecard, '') <> '' AND "
                + ("publisher = ?" if ident else "coalesce(publisher, '') = ?"),
                [ident],
            )
            summary = scorecards.publisher_scorecard(
                [
                    {"mqa": {"points": points}, "stars": {"level": level}, "valid": valid, "quality": quality}
                    for points, level, valid, quality in rows
                ]
            )
            self.conn.execute(
                "UPDATE publishers SET scorecard = ? WHERE id = ?",
                [None if summary is None else json.dumps(summary, ensure_ascii=False), ident],
            )

    def close(self) -> Path:
        try:
            self._publisher_scorecards()
            if not self.incremental:
                create_index(
                    self.conn,
                    "datasets",
                    list(CATALOG_COLUMNS),
                    rows_sql=f"select * from [{DOCS}]",
                    batch_rows=CATALOG_BATCH_ROWS,
                )
            self.conn.execute("COMMIT")
            # The copied statistics still describe a catalogue of which few datasets changed.
            (total,) = self.conn.execute("SELECT count(*) FROM datasets").fetchone()
            if not self.incremental or self.changed * REANALYZE_SHARE > total:
                self.conn.execute("ANALYZE")
        finally:
            self.conn.close()
        return self.path


def write(release: Path, site: Site, datasets: list[Dataset], builds: dict) -> Path:
    """Write `release/catalog.db` afresh for the datasets that were built (`builds`: name → DatasetBuild)."""
    writer = CatalogueWriter(release, site)
    try:
        for ds in datasets:
            if ds.name in builds:
                writer.add(ds, builds[ds.name])
    except BaseException:
        writer.conn.close()
        raise
    return writer.close()
