"""The files the build hands Datasette besides the databases, and the metadata it serves.

- `metadata.json`: only the site's own title, description and licence (`site_metadata`). Until
  #10 it also held every database's and table's metadata (992 KB at 1,000 datasets), and
  Datasette 0.65 deep-copies the whole of it in every table permission check, four times per
  table page: 90 % of the page at 1,000 datasets. Each database's part is now
  `database_metadata`, built at serve time from the catalogue for the one dataset a request
  asks about (plugins/datasette_pages.py's `get_metadata` hook, cached per worker), so what
  Datasette copies per request no longer grows with the number of datasets.
- `inspect.json`: Datasette's inspect format (hash, size, row counts), so a worker never counts
  or hashes a database at start; and each database's search indexes (`SEARCH_KEY`), so a
  worker never asks a database which of its tables can be searched.

Pure builders plus one `write` at the edge. Units stay out of Datasette's `units` (it accepts
only Pint units and answers 500 for 万元): they go into the column description here and into the
catalogue's data dictionary.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from . import json_files, release_files
from .catalogue.records import DatasetRecord, FieldRecord, Licence, ResourceRecord
from .search.index import describe_indexes, read_indexes

if TYPE_CHECKING:  # the server imports this module for `database_metadata`: no build code at run time
    from .descriptors import Site
    from .model import Dataset


def _text(value, lang: str = "zh") -> str | None:
    """A metadata value that may be a plain string or {zh, en}."""
    if isinstance(value, dict):
        return value.get(lang) or next(iter(value.values()), None)
    return value


def column_description(title: str | None, description: str | None, unit: str | None) -> str:
    parts = [p for p in (title, description) if p]
    text = " — ".join(parts) if parts else ""
    if unit:
        text = f"{text} (单位 unit: {unit})" if text else f"单位 unit: {unit}"
    return text


def site_metadata(site: Site) -> dict:
    """metadata.json: what Datasette shows site-wide (no database in it: see the docstring)."""
    info = site.site
    return {
        "title": _text(info.get("title")) or "公开 Gongkai",
        "description": _text(info.get("description")) or "",
        "license": _text(info.get("license_title")) or None,
    }


def _provenance(d: DatasetRecord, licence: Licence | None) -> dict:
    descriptor = d.descriptor or {}
    own = next((lic for lic in descriptor.get("licenses") or [] if isinstance(lic, dict)), {})
    source = next((s for s in d.sources or [] if isinstance(s, dict)), {})
    return {
        "license": own.get("title") or (licence.title if licence else None) or d.license,
        "license_url": d.license_path or (licence.url if licence else None),
        "source": source.get("title") or source.get("name"),
        "source_url": source.get("path"),
    }


def database_metadata(
    d: DatasetRecord, resources: list[ResourceRecord], fields: list[FieldRecord], licence: Licence | None
) -> dict:
    """One database's entry of Datasette's metadata ({title, description, licence, source,
    tables: {title, description, columns, label_column}}), from its catalogue records."""
    provenance = _provenance(d, licence)
    described = {r.get("name"): r for r in (d.descriptor or {}).get("resources") or [] if isinstance(r, dict)}
    tables = {}
    for res in resources:
        columns = {}
        for f in fields:
            if f.resource == res.name and (text := column_description(f.title, f.description, f.unit)):
                columns[f.name] = text
        entry = {
            **provenance,  # Datasette's table page shows only the table's own licence and source
            "title": res.title or res.name,
            "description": res.description or "",
            "columns": columns,
        }
        label = (described.get(res.name) or {}).get("gov:labelField")
        if isinstance(label, str) and label:
            entry["label_column"] = label
        tables[res.name] = entry
    return {"title": d.title or d.name, "description": d.description or "", **provenance, "tables": tables}


def sha256_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def inspect_data(site_dir: Path, previous: Path | None = None, databases: dict[str, bool] | None = None) -> dict:
    """Datasette's inspect format for every database in site_dir (`inspect_entries`)."""
    return dict(inspect_entries(site_dir, previous, databases))


def inspect_entries(
    site_dir: Path, previous: Path | None = None, databases: dict[str, bool] | None = None
) -> Iterator[tuple[str, dict]]:
    """Datasette's inspect format for every database in site_dir. `file` is relative to site_dir
    (the site directory moves between releases); Datasette only reads hash, size and counts.

    A database the `previous` release shares (the same object, gongkai/release_files.py) is the
    same file: its entry is reused instead of hashing and counting it again on every build.
    `databases` (the build's: each database of the release → whether it is the previous
    release's own) saves even the stats of finding that out: a rebuild costs what changed.
    Yields (database name, entry) in name order, one at a time: `write` streams them to the
    file (the whole dict of 10,000 databases was ~20 MB of the build's peak memory)."""
    known = _read_json(previous / "inspect.json") if previous else {}
    if databases is None:
        databases = {str(p): _same(previous, p) for p in release_files.database_files(site_dir)}
    # str paths (the build's: 10,000 of them, no Path made for a reused one)
    for key, same in sorted(databases.items()):
        stem = os.path.basename(key)[:-3]  # "<name>.db"
        old = known.get(stem)
        if old and same:
            file = release_files.relative(site_dir, key)
            entry = old if old.get("file") == file else {**old, "file": file}
            if SEARCH_KEY not in entry:  # kept from a release before it was recorded: once
                entry = {**entry, SEARCH_KEY: _search_indexes(Path(key))}
            yield stem, entry
            continue
        path = Path(key)
        conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            names = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
            counts = {n: conn.execute(f"select count(*) from [{n}]").fetchone()[0] for n in names}
            search = describe_indexes(read_indexes(conn))
        finally:
            conn.close()
        yield (
            stem,
            {
                "hash": sha256_file(path),
                "size": path.stat().st_size,
                "file": release_files.relative(site_dir, path),
                "tables": {n: {"count": c} for n, c in counts.items()},
                SEARCH_KEY: search,
            },
        )


# A database entry's search indexes ({table: index, columns, terms}: gongkai.search.index's
# `describe_indexes`). Datasette reads only hash, size and counts; plugins/search.py reads this
# so that the first table page a worker serves of a dataset asks its database nothing more
# (at 10,000 datasets nearly every page is a worker's first of its dataset).
SEARCH_KEY = "search"


def _search_indexes(path: Path) -> dict:
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return describe_indexes(read_indexes(conn))
    finally:
        conn.close()


def _same(previous: Path | None, path: Path) -> bool:
    """Whether the previous release serves this very file (the same object, or a hard link)."""
    if previous is None:
        return False
    before = release_files.database(previous, path.stem)
    return before.exists() and os.path.samefile(before, path)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write(
    release: Path,
    site: Site,
    datasets: list[Dataset],
    builds: dict,
    previous: Path | None = None,
    databases: dict[str, bool] | None = None,
) -> None:
    """metadata.json and inspect.json of a release (`datasets`, `builds`: the build's call;
    `databases`: see `inspect_data`)."""
    (release / "metadata.json").write_text(
        json.dumps(site_metadata(site), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    # a database at a time; compact: json's C encoder runs only without `indent` (0.8 s of 1,000
    # datasets' with it)
    json_files.write_object(release / "inspect.json", inspect_entries(release, previous, databases))
