"""Compressed copies of the big text downloads, written at build time beside each file:
`<file>.br` (brotli) and `<file>.gz` (gzip), so a request for a 60 MB CSV with
`Accept-Encoding: br` or `gzip` costs a read of the stored copy, no compression
(gongkai/portal/file_response.py picks one by the request's q-values).

Which files: text formats (CSV, JSON, NDJSON, the descriptor…) of at least `MIN_BYTES`; a
smaller one is compressed on the fly for the few milliseconds it takes. A copy that saves less
than `MIN_SAVING` of the file is not kept (random text does not compress). Qualities are what
`python -m gongkai.bench.compression FILE` measured on the 500k-row bench CSV (60 MB): brotli 5
compresses about as fast as gzip 6 and smaller; qualities above 7 cost several times the CPU
for 1–2 % (quality 11: 0.4 MB/s, minutes per file), which a rebuild of every changed dataset
would pay.

Both writers are deterministic (gzip with no name and mtime 0), so the same file always gives
the same copy, and a copy whose source is byte-identical to the previous release's is linked
from it rather than compressed again (a dataset whose description changed re-exports its rows
to the same bytes). An unchanged dataset links its whole folder, copies included (gongkai/build.py).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import brotli

from .manifest import FileEntry, read_manifest

COMPRESSIBLE = ("text/", "application/json", "application/x-ndjson", "application/xml", "application/yaml")
MIN_BYTES = 64 * 1024
MIN_SAVING = 0.10
BR_QUALITY = 5
GZIP_LEVEL = 6
CHUNK = 1 << 20
# content coding → (file suffix, the copy's own media type when fetched by its own URL)
ENCODINGS = {"br": (".br", "application/x-brotli"), "gzip": (".gz", "application/gzip")}
KIND = "encoded"  # the manifest kind of a copy (its `encoding` says which)


def compressible(media_type: str) -> bool:
    return media_type.startswith(COMPRESSIBLE)


def write_br(src: Path, dst: Path) -> None:
    c = brotli.Compressor(quality=BR_QUALITY)
    with open(src, "rb") as f, open(dst, "wb") as out:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            out.write(c.process(chunk))
        out.write(c.finish())


def write_gzip(src: Path, dst: Path) -> None:
    with open(src, "rb") as f, open(dst, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0) as out:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                out.write(chunk)


WRITERS = {"br": write_br, "gzip": write_gzip}


def precompress(target: Path, entries: list[FileEntry], previous: Path | None, sha256) -> list[FileEntry]:
    """The compressed copies of `entries` (files in `target`) worth keeping, written or linked
    from `previous` (the same dataset's folder in the previous release) where the source there
    has the same SHA-256. Returns their manifest entries."""
    before = {e.path: e for e in read_manifest(previous)} if previous is not None else {}
    out: list[FileEntry] = []
    taken = {e.path for e in entries}  # a published file already named `x.csv.br` is never overwritten
    for e in entries:
        if e.kind == KIND or not compressible(e.media_type) or e.bytes < MIN_BYTES:
            continue
        for encoding, (suffix, media) in ENCODINGS.items():
            rel = e.path + suffix
            if rel in taken:
                continue
            path = target / rel
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.unlink(missing_ok=True)
            old, old_copy = before.get(e.path), before.get(rel)
            if (
                previous is not None
                and old is not None
                and old_copy is not None
                and old.sha256 == e.sha256
                and (previous / rel).is_file()
            ):
                os.link(previous / rel, tmp)  # the same source: the same copy, not compressed again
            else:
                WRITERS[encoding](target / e.path, tmp)
            size = tmp.stat().st_size
            if size > e.bytes * (1 - MIN_SAVING):
                tmp.unlink()
                continue
            os.replace(tmp, path)
            out.append(FileEntry(rel, KIND, e.resource, size, sha256(path), media, encoding=encoding, source=e.path))
    return out
