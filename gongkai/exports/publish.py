"""Write every export of one dataset into its downloads folder, then its manifest.

Called by the build for a dataset it (re)built; an unchanged dataset's folder is linked from the
previous release instead (nothing here runs). Files are written under temporary names and
renamed, so a half-written export is never published under its real name.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ..media_types import XLSX, download_type
from ..model import Dataset
from . import csv_export, dictionary, json_export, package_zip, parquet_export, precompress, rows, xlsx_export
from .manifest import FileEntry, sha256, write_manifest

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "excel-csv": "text/csv; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "xlsx": XLSX,
    "parquet": "application/vnd.apache.parquet",
    "dictionary": "text/csv; charset=utf-8",
    "zip": "application/zip",
    "db": "application/vnd.sqlite3",
    "descriptor": "application/json; charset=utf-8",
}
# (kind, file name suffix) of each per-resource export
SUFFIXES = [
    ("csv", ".csv"),
    ("excel-csv", ".excel.csv"),
    ("json", ".json"),
    ("ndjson", ".ndjson"),
    ("xlsx", ".xlsx"),
    ("parquet", ".parquet"),
    ("dictionary", ".dictionary.csv"),
]


def export_names(dataset: Dataset) -> dict[tuple[str, str], str]:
    """(resource, kind) → file name. A name an original file already has gets `.export` before
    its suffix, so the original stays at its own path, byte for byte."""
    taken = {r.path for r in dataset.resources}
    names = {}
    for r in dataset.resources:
        for kind, suffix in SUFFIXES:
            name = r.name + suffix
            if name in taken:
                name = r.name + ".export" + suffix
            names[(r.name, kind)] = name
    return names


def write_export(
    kind: str, conn: sqlite3.Connection, table: str, cols: list[str], fields: list[dict], path: Path
) -> None:
    """Write one export of `table` to `path` (each call streams the table again); the bench
    (`gongkai.bench.exports`) times each kind through this too."""
    if kind in ("csv", "excel-csv"):
        csv_export.write_table(conn, table, cols, path, excel=kind == "excel-csv")
    elif kind in ("json", "ndjson"):
        json_export.write_table(_database_file(conn), table, cols, path, lines=kind == "ndjson")
    elif kind == "xlsx":
        xlsx_export.write_table(_database_file(conn), table, cols, _titles(fields, cols), fields, path)
    elif kind == "parquet":
        parquet_export.write_table(lambda: rows.cursor(conn, table, cols), cols, fields, path)
    elif kind == "dictionary":
        dictionary.write(fields, path)
    else:  # pragma: no cover - SUFFIXES names every kind above
        raise ValueError(kind)


def _database_file(conn: sqlite3.Connection) -> Path:
    """The file behind `conn` (for the exports that read it through APSW's SQLite)."""
    return Path(next(row[2] for row in conn.execute("pragma database_list") if row[1] == "main"))


def _titles(fields: list[dict], columns: list[str]) -> list[str]:
    by_name = {f.get("name"): f for f in fields}
    return [str((by_name.get(c) or {}).get("title") or c) for c in columns]


def _atomic(path: Path):
    tmp = path.with_name(f".{path.name}.tmp")
    return tmp, lambda: os.replace(tmp, path)


def publish(dataset: Dataset, database: Path, target: Path, previous: Path | None = None) -> list[FileEntry]:
    """Exports of every resource of `dataset` from `database` into `target` (which already holds
    the published originals and descriptor), the compressed copies of the big text files
    (gongkai/exports/precompress.py; `previous`: this dataset's folder in the previous release,
    whose copies of byte-identical files are linked), and `files.json`. Returns the manifest
    entries."""
    target.mkdir(parents=True, exist_ok=True)
    entries: list[FileEntry] = []
    checksums: dict[str, tuple[int, str]] = {}

    def record(path: Path, kind: str, resource: str | None, media: str) -> None:
        rel = path.relative_to(target).as_posix()
        entry = FileEntry(rel, kind, resource, path.stat().st_size, sha256(path), media)
        entries.append(entry)
        if kind == "original":
            checksums[rel] = (entry.bytes, entry.sha256)

    for name in ("datapackage.json", "datapackage.yaml", "datapackage.yml"):
        if (target / name).is_file():
            record(
                target / name,
                "descriptor",
                None,
                download_type(name) if name.endswith(".json") else "application/yaml; charset=utf-8",
            )
    for r in dataset.resources:
        if (target / r.path).is_file():
            record(target / r.path, "original", r.name, download_type(r.path, r.format, r.encoding))
    names = export_names(dataset)
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        for r in dataset.resources:
            if r.name not in tables:
                continue
            cols = rows.columns(conn, r.name)
            fields = r.fields
            for kind, _suffix in SUFFIXES:
                path = target / names[(r.name, kind)]
                tmp, commit = _atomic(path)
                write_export(kind, conn, r.name, cols, fields, tmp)
                commit()
                record(path, kind, r.name, MEDIA[kind])
    finally:
        conn.close()
    db = target / f"{dataset.name}.db"
    if not db.exists():
        os.link(database, db)  # the release's own database: immutable, so a link is a copy
    record(db, "db", None, MEDIA["db"])
    archive = target / f"{dataset.name}.zip"
    tmp, commit = _atomic(archive)
    package_zip.write(dataset, target, checksums, tmp)
    commit()
    record(archive, "zip", None, MEDIA["zip"])
    entries += precompress.precompress(target, entries, previous if previous and previous.is_dir() else None, sha256)
    write_manifest(target, entries)
    return entries
