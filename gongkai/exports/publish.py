"""Write every export of one dataset into its downloads folder, then its manifest.

Called by the build for a dataset it (re)built; an unchanged dataset's folder is linked from the
previous release instead (nothing here runs). Files are written under temporary names and
renamed, so a half-written export is never published under its real name.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
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
# kinds written together: the Excel CSV from the plain one's bytes, JSON and NDJSON from one read
GROUPS = [("csv", "excel-csv"), ("json", "ndjson"), ("xlsx",), ("parquet",), ("dictionary",)]
WORKERS = 2
PARALLEL_BYTES = 8 << 20  # a database smaller than this writes its exports on the build's thread
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


def _write_group(
    group: tuple[str, ...], database: Path, table: str, cols: list[str], fields: list[dict], paths: dict[str, Path]
) -> None:
    """The exports of one group of kinds (see GROUPS) of one table, each under a temporary name
    renamed when it is whole. Runs on a worker thread: its own connection."""
    tmps = {kind: _atomic(paths[kind]) for kind in group}
    if group == ("json", "ndjson"):
        json_export.write_both(database, table, cols, json=tmps["json"][0], ndjson=tmps["ndjson"][0])
    else:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            write_export(group[0], conn, table, cols, fields, tmps[group[0]][0])
            if group == ("csv", "excel-csv"):
                csv_export.derive_excel(tmps["csv"][0], tmps["excel-csv"][0])
        finally:
            conn.close()
    for _tmp, commit in tmps.values():
        commit()


def _executor(database: Path) -> contextlib.AbstractContextManager:
    if database.stat().st_size < PARALLEL_BYTES:
        return contextlib.nullcontext(precompress.Immediate())
    return ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="exports")


def publish(dataset: Dataset, database: Path, target: Path, previous: Path | None = None) -> list[FileEntry]:
    """Exports of every resource of `dataset` from `database` into `target` (which already holds
    the published originals and descriptor), the compressed copies of the big text files
    (gongkai/exports/precompress.py; `previous`: this dataset's folder in the previous release,
    whose copies of byte-identical files are linked), and `files.json`. Returns the manifest
    entries.

    For a big database the exports are written one after the other on one thread (they hold
    the GIL much of the time: two at once took as long as both in turn) while the other
    compresses each file as soon as it is written and zips the data package (zlib and brotli
    let go of the GIL), so two cores share the work."""
    target.mkdir(parents=True, exist_ok=True)
    names = export_names(dataset)
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        columns = {r.name: rows.columns(conn, r.name) for r in dataset.resources if r.name in tables}
    finally:
        conn.close()
    # (path, kind, resource, media), in the manifest's order
    files: list[tuple[Path, str, str | None, str]] = []
    for name in ("datapackage.json", "datapackage.yaml", "datapackage.yml"):
        if (target / name).is_file():
            media = download_type(name) if name.endswith(".json") else "application/yaml; charset=utf-8"
            files.append((target / name, "descriptor", None, media))
    for r in dataset.resources:
        if (target / r.path).is_file():
            files.append((target / r.path, "original", r.name, download_type(r.path, r.format, r.encoding)))
    exported = [
        (r.name, group, {kind: target / names[(r.name, kind)] for kind in group})
        for r in dataset.resources
        if r.name in columns
        for group in GROUPS
    ]
    files += [(paths[k], k, name, MEDIA[k]) for name, _group, paths in exported for k in paths]
    by_name = {r.name: r for r in dataset.resources}
    archive, db = target / f"{dataset.name}.zip", target / f"{dataset.name}.db"
    if not db.exists():
        os.link(database, db)  # the release's own database: immutable, so a link is a copy
    entries: dict[Path, FileEntry] = {}
    with _executor(database) as pool:
        compressor = precompress.Compressor(
            target,
            previous if previous and previous.is_dir() else None,
            sha256,
            pool,
            {f[0].relative_to(target).as_posix() for f in files},
        )

        def done(path: Path, kind: str, resource: str | None, media: str) -> None:
            entries[path] = _entry(target, path, kind, resource, media)
            compressor.schedule(entries[path])

        def export_all() -> None:
            for name, group, paths in exported:
                _write_group(group, database, name, columns[name], by_name[name].fields, paths)
                for kind, path in paths.items():
                    done(path, kind, name, MEDIA[kind])

        exporting = pool.submit(export_all)  # first: the longest chain
        originals = [f for f in files if f[1] in ("descriptor", "original")]
        for f in originals:
            done(*f)
        checksums = {
            entries[f[0]].path: (entries[f[0]].bytes, entries[f[0]].sha256) for f in originals if f[1] == "original"
        }
        tmp, commit = _atomic(archive)
        pool.submit(package_zip.write, dataset, target, checksums, tmp).result()
        commit()
        exporting.result()
        done(db, "db", None, MEDIA["db"])
        done(archive, "zip", None, MEDIA["zip"])
        files += [(db, "db", None, MEDIA["db"]), (archive, "zip", None, MEDIA["zip"])]
        # the manifest's order, whichever thread scheduled a copy first
        position = {f[0].relative_to(target).as_posix(): i for i, f in enumerate(files)}
        encodings = list(precompress.ENCODINGS)
        copies = sorted(
            compressor.entries(), key=lambda e: (position[e.source or ""], encodings.index(e.encoding or ""))
        )
        listed = [entries[f[0]] for f in files] + copies
    write_manifest(target, listed)
    return listed


def _entry(target: Path, path: Path, kind: str, resource: str | None, media: str) -> FileEntry:
    return FileEntry(path.relative_to(target).as_posix(), kind, resource, path.stat().st_size, sha256(path), media)
