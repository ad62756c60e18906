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
from concurrent.futures import Future
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


class Compressor:
    """The compressed copies of a dataset's files, each written as soon as its file is
    (`schedule`, on an executor: zlib and brotli let go of the GIL, so a copy is written while
    the next export is), or linked: from `previous` (the same dataset's folder in the previous
    release) where the source there has the same SHA-256, or from this build's copy of a file
    with the same bytes (an export the same as its original)."""

    def __init__(self, target: Path, previous: Path | None, sha256, executor, taken: set[str]):
        self.target, self.previous, self.sha256, self.executor = target, previous, sha256, executor
        self.before = {e.path: e for e in read_manifest(previous)} if previous is not None else {}
        self.taken = taken  # a published file already named `x.csv.br` is never overwritten
        self.jobs: list[Future] = []
        self.first: dict[tuple[str, str], Future] = {}  # (source SHA-256, encoding) → its copy's job

    def schedule(self, e: FileEntry) -> None:
        if e.kind == KIND or not compressible(e.media_type) or e.bytes < MIN_BYTES:
            return
        for encoding in ENCODINGS:
            if e.path + ENCODINGS[encoding][0] in self.taken:
                continue
            same = self.first.get((e.sha256, encoding))
            job = self.executor.submit(self._one, e, encoding, same)
            self.first.setdefault((e.sha256, encoding), job)
            self.jobs.append(job)

    def entries(self) -> list[FileEntry]:
        """The copies kept, in the order their files were scheduled (the manifest's)."""
        return [entry for job in self.jobs if (entry := job.result()) is not None]

    def _one(self, e: FileEntry, encoding: str, same: Future | None) -> FileEntry | None:
        suffix, media = ENCODINGS[encoding]
        rel = e.path + suffix
        path = self.target / rel
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.unlink(missing_ok=True)
        old, old_copy = self.before.get(e.path), self.before.get(rel)
        # a job scheduled earlier (FIFO: running or done by now, never waiting behind this one)
        twin = same.result() if same is not None else None
        if twin is not None:
            os.link(self.target / twin.path, tmp)  # the same bytes: the same copy
        elif (
            self.previous is not None
            and old is not None
            and old_copy is not None
            and old.sha256 == e.sha256
            and (self.previous / rel).is_file()
        ):
            os.link(self.previous / rel, tmp)  # the same source: the same copy, not compressed again
        else:
            WRITERS[encoding](self.target / e.path, tmp)
        size = tmp.stat().st_size
        if size > e.bytes * (1 - MIN_SAVING):
            tmp.unlink()
            return None
        os.replace(tmp, path)
        digest = twin.sha256 if twin is not None else self.sha256(path)
        return FileEntry(rel, KIND, e.resource, size, digest, media, encoding=encoding, source=e.path)


def precompress(target: Path, entries: list[FileEntry], previous: Path | None, sha256) -> list[FileEntry]:
    """The compressed copies of `entries` (files in `target`) worth keeping, written or linked;
    their manifest entries (`Compressor` on this thread)."""
    compressor = Compressor(target, previous, sha256, Immediate(), {e.path for e in entries})
    for e in entries:
        compressor.schedule(e)
    return compressor.entries()


class Immediate:
    """An executor that runs each call at once, on this thread (for a small dataset, whose
    files take less time to write than handing them to threads costs)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # re-raised by result(), as a thread pool's would be
            future.set_exception(exc)
        return future
