"""The only code that writes `catalog.db`: every table from its record class, then the search
statistics and the catalogue's own search index. Run once per build, on the release folder.

It reads the descriptors (through `model.Dataset`), the build's per-dataset results and the
databases the build just wrote beside it (for which columns each search index covers, and for
the charts); nothing at request time writes here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from ..descriptors import Site, parse_file
from ..model import Dataset
from ..portal import charts
from ..search.index import CATALOG_COLUMNS, create_index, read_indexes
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
    db_path = release / f"{ds.name}.db"
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
        path = release / f"{ds}.db"
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


def _shared_schemas(site: Site) -> list[SharedSchemaRecord]:
    """Every shared schema of `metadata/schemas/`, read as descriptors.py reads them (a file it
    would refuse is left out here: a dataset naming it has already failed the build)."""
    out = []
    for name in site.shared_schemas():
        data, error = parse_file(site.schemas_dir, f"{name}.json")
        if error is None and isinstance(data, dict):
            out.append(SharedSchemaRecord.from_schema(name, data))
    return out


def write(release: Path, site: Site, datasets: list[Dataset], builds: dict) -> Path:
    """Write `release/catalog.db` for the datasets that were built (`builds`: name → DatasetBuild)."""
    release = Path(release)
    path = release / FILE
    path.unlink(missing_ok=True)
    built = [ds for ds in datasets if ds.name in builds]
    publishers = {ident: Publisher.from_entry(ident, e) for ident, e in site.publishers.items()}
    records: dict[type[Record], list] = {
        SiteInfo: [SiteInfo.from_site(site.site or {})],
        Publisher: list(publishers.values()),
        Theme: [Theme.from_entry(ident, e) for ident, e in site.themes.items()],
        Licence: [Licence.from_entry(ident, e) for ident, e in site.licenses.items()],
        # rowid order = build order; the search index below refers to datasets by rowid
        DatasetRecord: [DatasetRecord.from_dataset(ds, builds[ds.name]) for ds in built],
        ResourceRecord: [r for ds in built for r in ResourceRecord.from_dataset(ds, builds[ds.name])],
        FieldRecord: [f for ds in built for f in FieldRecord.from_dataset(ds)],
        ChartRecord: [c for c in (_chart(release, ds) for ds in built) if c],
        SharedSchemaRecord: _shared_schemas(site),
    }
    _searchable(release, records[FieldRecord])
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for cls in RECORDS:
            conn.execute(cls.ddl())
            for columns in cls.INDEXES:
                conn.execute(
                    f"CREATE INDEX [{cls.TABLE}_{'_'.join(columns)}] ON [{cls.TABLE}] ({', '.join(f'[{c}]' for c in columns)})"
                )
            _insert(conn, cls, records[cls])
        conn.execute("COMMIT")
        docs = search_documents(records[DatasetRecord], records[ResourceRecord], records[FieldRecord], publishers)
        conn.execute(f"CREATE TEMP TABLE _catalogue_docs (rid INTEGER, {', '.join(CATALOG_COLUMNS)})")
        conn.executemany(
            f"INSERT INTO temp._catalogue_docs VALUES ({', '.join('?' * (len(CATALOG_COLUMNS) + 1))})", docs
        )
        create_index(conn, "datasets", list(CATALOG_COLUMNS), rows_sql="select * from temp._catalogue_docs")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return path
