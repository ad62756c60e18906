"""The release's catalogue files, written at build time from `catalog.db`:

- the whole catalogue as downloads, `downloads/catalog.csv`, `.excel.csv`, `.json`, `.xlsx`
  (gongkai/exports/catalogue_export.py, the sheet gongkai/exports/catalogue_sheet.py), listed
  with their sizes and SHA-256 in the site-level manifest `downloads/files.json` (the shape of
  each dataset's, gongkai/exports/manifest.py);
- the DCAT-US documents `documents/data.json` and `documents/data-v3.json`
  (gongkai/opendata/prebuilt.py), which plugins/opendata.py serves as files;
- `catalogue-files.json`: what wrote them (a key over their code and the locale files), for
  which base URL, the files, and each dataset's fragments (below); `catalogue-files.rows`, the
  sheet's rows the XLSX is zipped from.

`write(release, previous, catalogue_unchanged, keys)` runs once per build, after `catalog.db`
is complete. When the build linked the previous catalogue (nothing it holds moved) and the
previous release's files were written by the same code for the same base URL, they are
hard-linked (the same inode, as every unchanged dataset's files). Otherwise each file is
assembled in name order from one fragment per dataset (its CSV row, JSON object, data.json
entries, sheet row): a dataset whose key (from the build: its object digest, its dates and the
catalogue's code) and the shared inputs (this code, the base URL, the site and its registries)
are those of the previous release has its fragments copied from the previous release's files,
at the offsets its record keeps (runs of neighbours as one span, in the kernel); the others
are rendered. The heads (totals, dates) are written each time. So a build where one dataset
changed renders one, and the bytes are those a fresh write gives (tests/test_catalogue_files.py).

`document(release, name, base)` is the server's question: the file to send for `/data.json`,
or None when the served base URL or the serving code differs from the build's (then the
document is streamed from the catalogue, which is always right).
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import hashlib
import itertools
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from . import codehash
from .catalogue import harvest
from .exports import catalogue_export, catalogue_sheet
from .exports.manifest import MANIFEST, FileEntry, read_manifest, write_manifest
from .opendata import prebuilt, stream
from .opendata.urls import SiteUrls
from .openness import is_withheld

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


def write(
    release: Path, previous: Path | None, catalogue_unchanged: bool, keys: dict[str, str] | None = None
) -> list[str]:
    """The catalogue files of `release` (see the module's docstring). `keys`: each dataset's
    key (what its catalogue entry is made from, given by the build); a dataset whose key and
    the shared inputs are those of the previous release has its fragments copied, not rendered.
    Returns the files' paths, relative to the release."""
    old = read_record(previous)
    key, code_cache = code_key(old.get("code_cache"))
    conn = _connect(release)
    fragments: dict = {}
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
            fragments = old.get("fragments") or {}
        else:
            files, fragments = _write(release, conn, key, keys or {}, previous, old)
    finally:
        conn.close()
    record = {"key": key, "base": base, "files": files, "code_cache": code_cache, "fragments": fragments}
    tmp = release / f".{RECORD}.tmp"
    tmp.write_text(json.dumps(record, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
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


# The files assembled from one fragment per dataset, in this order: the record keeps the
# datasets' names and keys, and per file its prefix's length and each fragment's. The sheet's
# rows are a file of their own (the XLSX is zipped): `catalog.xlsx` is assembled from it.
ROWS_FILE = "catalogue-files.rows"
STREAMS = (
    f"{DOWNLOADS}/{catalogue_export.CSV}",
    f"{DOWNLOADS}/{catalogue_export.EXCEL_CSV}",
    f"{DOWNLOADS}/{catalogue_export.JSON}",
    *(f"{prebuilt.FOLDER}/{name}" for name in prebuilt.DOCUMENTS),
    ROWS_FILE,
)
BOM = "\ufeff".encode()
# Rendering one at a time (three indexed queries each) pays below this share of changed datasets
ONE_BY_ONE = 0.25


def shared_key(conn: sqlite3.Connection, code: str, base: str) -> str:
    """What every dataset's fragments share: the code, the base URL, and the site and the
    registries they name (a publisher's title …). The publishers' scorecards are left out:
    they move with any of its datasets and no catalogue file shows them."""
    h = hashlib.sha256(f"{code}\0{base}\0".encode())
    for table in ("site", "publishers", "themes", "licenses"):
        cur = conn.execute(f"select * from [{table}] order by 1")
        names = [c[0] for c in cur.description]
        for row in cur:
            item = {n: v for n, v in zip(names, row) if n != "scorecard"}
            h.update(json.dumps(item, ensure_ascii=False, sort_keys=True, default=str).encode() + b"\n")
    return h.hexdigest()


@dataclasses.dataclass(frozen=True)
class _Listed(SiteUrls):
    """The build's URLs with one dataset's manifest already read: row(), data.json and
    data-v3.json each ask for it (`SiteUrls.files`), and it is one file read, not three."""

    listed: tuple[FileEntry, ...] = ()

    def files(self, name: str) -> list[FileEntry]:
        return list(self.listed)


def render(entry: harvest.Entry, ctx: harvest.Context, urls: SiteUrls, wrap_style: int) -> list[bytes]:
    """One dataset's fragment of each of STREAMS."""
    name = entry.dataset.name
    files = urls.files(name)
    listed = _Listed(**{f.name: getattr(urls, f.name) for f in dataclasses.fields(SiteUrls)}, listed=tuple(files))
    values = catalogue_export.row(entry, ctx, listed, files)
    cells = catalogue_export.cells(values)
    withheld = is_withheld(entry.dataset.openness)
    return [
        catalogue_export.csv_line(cells, "\n"),
        catalogue_export.csv_line(cells, "\r\n"),
        stream.dumps(catalogue_export.json_item(values, name, listed, files, withheld)).encode(),
        *(prebuilt.item(doc, entry, ctx, listed).encode() for doc in prebuilt.DOCUMENTS),
        catalogue_sheet.row_xml(cells, wrap_style, catalogue_export.LIST_SEPARATOR),
    ]


def _copy_range(src: BinaryIO, dest: BinaryIO, start: int, count: int) -> int:
    """Up to `count` bytes of `src` from `start` appended to `dest` (unbuffered); how many.
    In the kernel where it can (Linux), no copy through Python of the unchanged bytes."""
    if hasattr(os, "copy_file_range"):
        try:
            return os.copy_file_range(src.fileno(), dest.fileno(), count, start)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
    src.seek(start)
    data = src.read(min(count, 1 << 20))
    dest.write(data)
    return len(data)


class _Assembly:
    """One file written as prefix, fragments (joined by `sep`), suffix. Fragments kept from
    the previous release are copied from its file a run at a time: neighbours there and here,
    they are one span of its bytes (the separators between them with them)."""

    def __init__(self, path: Path, previous: Path | None, prefix: bytes, sep: bytes, suffix: bytes):
        self.path, self.tmp = path, path.with_name(f".{path.name}.tmp")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.out = open(self.tmp, "wb", buffering=0)  # unbuffered: os.copy_file_range writes between
        self.old = open(previous, "rb") if previous is not None else None
        self.prefix, self.sep, self.suffix = prefix, sep, suffix
        self.out.write(prefix)
        self.lengths: list[int] = []  # of each fragment written, in order

    def add(self, data: bytes) -> None:
        self.out.write(self.sep + data if self.lengths else data)
        self.lengths.append(len(data))

    def copy(self, start: int, lengths: list[int]) -> None:
        """The kept fragments of `lengths` (their lengths), the first at `start` of the old file."""
        if self.lengths:
            self.out.write(self.sep)
        end = start + sum(lengths) + len(self.sep) * (len(lengths) - 1)
        assert self.old is not None
        while start < end:
            done = _copy_range(self.old, self.out, start, end - start)
            if done <= 0:
                raise OSError(f"{self.old.name} is shorter than its record says")
            start += done
        self.lengths.extend(lengths)

    def close(self) -> None:
        self.out.write(self.suffix)
        self.out.close()
        if self.old is not None:
            self.old.close()
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        self.out.close()
        if self.old is not None:
            self.old.close()
        self.tmp.unlink(missing_ok=True)


def _reusable(previous: Path | None, old: dict, shared: str) -> dict:
    """The previous release's fragments when they were made from the same shared inputs and
    its files are there: {"names", "keys", "prefixes", "lengths"} (see `_write`)."""
    kept = old.get("fragments") or {}
    if previous is None or kept.get("key") != shared:
        return {}
    if not all(isinstance(kept.get(k), list) for k in ("names", "keys", "prefixes", "lengths")):
        return {}
    if not all((previous / rel).is_file() for rel in STREAMS):
        return {}
    return kept


def _write(
    release: Path, conn: sqlite3.Connection, code: str, keys: dict[str, str], previous: Path | None, old: dict
) -> tuple[list[str], dict]:
    """Every catalogue file, each dataset's fragments copied when kept and rendered otherwise.
    The record keeps, per file, the length of its prefix and of each dataset's fragment (in
    name order): where a fragment starts follows from them."""
    ctx = harvest.context(conn)
    urls = SiteUrls.built(ctx.site.base_url, release)  # release: each dataset's files.json (sizes, SHA-256)
    shared = shared_key(conn, code, urls.base)
    kept = _reusable(previous, old, shared)
    old_at = {n: i for i, n in enumerate(kept.get("names") or [])}
    old_keys: list = kept.get("keys") or []
    names = [n for (n,) in conn.execute("select name from datasets order by name")]
    new_keys = [keys.get(n) for n in names]
    todo = {n for n, k in zip(names, new_keys) if k is None or n not in old_at or old_keys[old_at[n]] != k}
    sheet = catalogue_sheet.Skeleton(catalogue_export.SHEET, catalogue_export.headers())
    header = catalogue_export.headers()
    prefixes = [
        catalogue_export.csv_line(header, "\n"),
        BOM + catalogue_export.csv_line(header, "\r\n"),
        stream.opening(catalogue_export.head(ctx, urls), "datasets").encode(),
        *(prebuilt.opening(doc, ctx, urls).encode() for doc in prebuilt.DOCUMENTS),
        b"",
    ]
    joins = [(b"", b""), (b"", b""), (b",", stream.CLOSING.encode())]
    joins += [(b",", stream.CLOSING.encode()) for _ in prebuilt.DOCUMENTS] + [(b"", b"")]
    old_lengths: list[list[int]] = kept.get("lengths") or []
    # where each old fragment starts, per file: the prefix, then each fragment and separator
    old_starts = [
        list(itertools.accumulate((n + len(sep) for n in lengths), initial=start))
        for lengths, start, (sep, _) in zip(old_lengths, kept.get("prefixes") or [], joins)
    ]
    outs: list[_Assembly] = []
    try:
        for rel, prefix, (sep, suffix) in zip(STREAMS, prefixes, joins):
            source = previous / rel if kept and previous is not None else None
            outs.append(_Assembly(release / rel, source, prefix, sep, suffix))
        run: list[int] = []  # [first, end) of old positions to copy next

        def flush() -> None:
            if run:
                first, end = run
                for i, out in enumerate(outs):
                    out.copy(old_starts[i][first], old_lengths[i][first:end])
                run.clear()

        for name, entry in _entries(conn, names, todo):
            if entry is None:
                at = old_at[name]
                if run and run[1] == at:
                    run[1] += 1
                else:
                    flush()
                    run[:] = [at, at + 1]
                continue
            flush()
            for out, data in zip(outs, render(entry, ctx, urls, sheet.wrap_style)):
                out.add(data)
        flush()
        for out in outs:
            out.close()
    except BaseException:
        for out in outs:
            out.discard()
        raise
    downloads = release / DOWNLOADS
    xlsx = downloads / f".{catalogue_export.XLSX}.tmp"
    try:
        with open(release / ROWS_FILE, "rb") as body:
            sheet.write(xlsx, len(names), body)
        os.replace(xlsx, downloads / catalogue_export.XLSX)
    finally:
        xlsx.unlink(missing_ok=True)
    entries = [catalogue_export.manifest_entry(downloads, name) for name in catalogue_export.FILES]
    write_manifest(downloads, entries)
    files = [
        *(f"{DOWNLOADS}/{e.path}" for e in entries),
        f"{DOWNLOADS}/{MANIFEST}",
        *(f"{prebuilt.FOLDER}/{name}" for name in prebuilt.DOCUMENTS),
        ROWS_FILE,
    ]
    fragments = {
        "key": shared,
        "names": names,
        "keys": new_keys,
        "prefixes": [len(p) for p in prefixes],
        "lengths": [out.lengths for out in outs],
    }
    return files, fragments


def _entries(conn: sqlite3.Connection, names: list[str], todo: set[str]) -> Iterator[tuple[str, harvest.Entry | None]]:
    """(name, its entry when it is to be rendered, else None) in name order. Few to render:
    each is read alone; many: the whole catalogue is read in keyset slices (bounded memory)."""
    if len(todo) <= ONE_BY_ONE * len(names):
        for name in names:
            yield name, (harvest.one(conn, name) if name in todo else None)
        return
    for entries in stream.slices_of_sync(
        lambda after, size: harvest.after(conn, after, size), key=lambda e: e.dataset.name
    ):
        for entry in entries:
            yield entry.dataset.name, (entry if entry.dataset.name in todo else None)


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
