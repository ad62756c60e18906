"""The release's catalogue files, written at build time from `catalog.db`:

- the whole catalogue as downloads, `downloads/catalog.csv`, `.excel.csv`, `.json`, `.xlsx`
  (gongkai/exports/catalogue_export.py), listed with their sizes and SHA-256 in the site-level
  manifest `downloads/files.json` (the shape of each dataset's, gongkai/exports/manifest.py);
- the DCAT-US documents `documents/data.json` and `documents/data-v3.json`
  (gongkai/opendata/prebuilt.py), which plugins/opendata.py serves as files;
- `catalogue-files.json`: what wrote them (a key over their code and the locale files), for
  which base URL, and the files.

`write(release, previous, catalogue_unchanged)` runs once per build, after `catalog.db` is
complete. When the build linked the previous catalogue (nothing it holds moved) and the previous
release's files were written by the same code for the same base URL, they are hard-linked
(the same inode, as every unchanged dataset's files); otherwise all are written afresh, in one
pass of keyset slices over the catalogue each (bounded memory at 10,000 datasets).

`document(release, name, base)` is the server's question: the file to send for `/data.json`,
or None when the served base URL or the serving code differs from the build's (then the
document is streamed from the catalogue, which is always right).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
from pathlib import Path

from . import codehash
from .catalogue import harvest
from .exports import catalogue_export
from .exports.manifest import MANIFEST, FileEntry, read_manifest, write_manifest
from .opendata import prebuilt, stream
from .opendata.urls import SiteUrls

RECORD = "catalogue-files.json"
# gongkai.catalogue.FILE, not imported: the writer's imports would join the key below (ROOTS)
CATALOGUE_FILE = "catalog.db"
DOWNLOADS = "downloads"
# The code the files' bytes come from, found from its imports (gongkai/codehash.py), and the
# strings they hold (distribution titles, column headers): every locale file, they are small.
ROOTS = ("exports.catalogue_export", "opendata.prebuilt", "catalogue_files")
LOCALES = Path(__file__).resolve().parent / "locales"


def code_key(cache: dict | None = None) -> tuple[str, dict]:
    """(the key, the cache that saves parsing imports while no source file changed)."""
    hashes, kept = codehash.cached_code_hashes({"catalogue_files": ROOTS}, cache)
    h = hashlib.sha256(hashes["catalogue_files"].encode())
    for path in sorted(LOCALES.glob("*.yaml")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest(), kept


def read_record(release: Path | None) -> dict:
    if release is None:
        return {}
    try:
        data = json.loads((Path(release) / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _connect(release: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{release / CATALOGUE_FILE}?mode=ro", uri=True)


def write(release: Path, previous: Path | None, catalogue_unchanged: bool) -> list[str]:
    """The catalogue files of `release` (see the module's docstring). Returns their paths,
    relative to the release."""
    old = read_record(previous)
    key, code_cache = code_key(old.get("code_cache"))
    conn = _connect(release)
    try:
        base = SiteUrls.built(harvest.site_context(conn).site.base_url).base
        files = old.get("files") if isinstance(old.get("files"), list) else []
        if (
            previous is not None
            and catalogue_unchanged
            and old.get("key") == key
            and old.get("base") == base
            and files
            and _link(previous, release, files)
        ):
            pass
        else:
            files = _write(release, conn)
    finally:
        conn.close()
    record = {"key": key, "base": base, "files": files, "code_cache": code_cache}
    tmp = release / f".{RECORD}.tmp"
    tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, release / RECORD)
    return files


def _link(previous: Path, release: Path, files: list[str]) -> bool:
    """Hard-link `files` from the previous release; False (and nothing left) if one is missing."""
    done: list[Path] = []
    try:
        for rel in files:
            dest = release / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.link(previous / rel, dest)
            done.append(dest)
    except OSError:
        for path in done:
            path.unlink(missing_ok=True)
        return False
    return True


def _write(release: Path, conn: sqlite3.Connection) -> list[str]:
    """Every catalogue file from one read of the catalogue, slice by slice."""
    ctx = harvest.context(conn)
    urls = SiteUrls.built(ctx.site.base_url, release)  # release: each dataset's files.json (sizes, SHA-256)
    downloads = release / DOWNLOADS
    export = catalogue_export.Writer(downloads, ctx, urls, release)
    documents = prebuilt.Writer(release, ctx, urls)
    try:
        for entries in stream.slices_of_sync(
            lambda after, size: harvest.after(conn, after, size), key=lambda e: e.dataset.name
        ):
            export.add(entries)
            documents.add(entries)
    except BaseException:
        export.discard()
        documents.discard()
        raise
    entries = export.close()
    write_manifest(downloads, entries)
    return [*(f"{DOWNLOADS}/{e.path}" for e in entries), f"{DOWNLOADS}/{MANIFEST}", *documents.close()]


# ---------------------------------------------------------------------------------------------
# Serving


@functools.cache
def serving_key() -> str:
    """The key of the code this process serves with: computed once (a worker's code is fixed)."""
    return code_key()[0]


@functools.lru_cache(maxsize=8)
def _served_record(release: Path) -> dict:
    return read_record(release)  # a served release never changes: read once


def document(release: Path, name: str, base: str) -> Path | None:
    """The prebuilt `documents/<name>` of `release` if a server at `base` would stream exactly
    its bytes (the same base URL, the same code), else None."""
    record = _served_record(Path(release))
    rel = f"{prebuilt.FOLDER}/{name}"
    if record.get("base") != base or rel not in (record.get("files") or []):
        return None
    if record.get("key") != serving_key():
        return None
    path = Path(release) / rel
    return path if path.is_file() else None


@functools.lru_cache(maxsize=8)
def _site_manifest(release: Path) -> dict[str, FileEntry]:
    return {e.path: e for e in read_manifest(release / DOWNLOADS)}


def download(release: Path, name: str) -> tuple[Path, FileEntry] | None:
    """A catalogue download (`catalog.csv` …) of the release, with its manifest entry."""
    entry = _site_manifest(Path(release)).get(name)
    if entry is None or name not in catalogue_export.FILES:
        return None
    path = Path(release) / DOWNLOADS / name
    return (path, entry) if path.is_file() else None


def site_files(release: Path) -> list[FileEntry]:
    """The site-level manifest's entries (the catalogue downloads), for the pages' links."""
    return list(_site_manifest(Path(release)).values())
