"""Folder hashes for the rebuild decision, each file's digest kept between builds by its stat.

A no-op rebuild used to read every byte of every dataset; at 10,000 datasets that is most of the
rebuild. Like git's index, the build keeps each regular file's SHA-256 with the (size, mtime,
ctime, inode, device) it had, and reads a file again only when that stat differs. ctime cannot
be set from user space (`touch -d` moves mtime, and sets ctime to now), so an edit always
shows. A file written within a moment of the previous build could keep its stat while its bytes
change ("racy git"): an entry is trusted only when its file's mtime and ctime are older than
`RACY_S` before the previous build started.

The folder is walked as `gongkai.validate.files.walk` walks it (never following a link, links
hashed by their target text) and files are opened as the validator opens them (O_NOFOLLOW,
O_NONBLOCK, regular files only, read up to the data limit; a bigger one by its stat).
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from pathlib import Path

from .validate import files

RACY_S = 2
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_BLOCK = 1 << 20


class FolderHasher:
    """`folder(path, label)` → hex digest; `cache()` → what to keep for the next build."""

    def __init__(self, cache: dict | None = None):
        cache = cache or {}
        self._old: dict[str, list] = cache.get("files") or {}
        self._trusted_before = int(cache.get("started_ns") or 0) - RACY_S * 1_000_000_000
        self._new: dict[str, list] = {}
        self._started = time.time_ns()
        self._limit = files.max_file_bytes()
        self.read = 0  # files whose bytes were read this build (the rest came from the cache)

    def folder(self, folder: Path, label: str) -> str:
        h = hashlib.sha256()
        for kind, rel, entry in files.walk(Path(folder)):
            h.update(f"{label}/{rel}\0{kind}\0".encode("utf-8", "surrogateescape"))
            if kind == "link":
                try:
                    h.update(os.fsencode(os.readlink(entry.path if entry else folder)))
                except OSError:
                    pass
            elif kind == "file":
                assert entry is not None  # only a folder that is a link has no entry
                h.update(self._file(entry).encode())
            h.update(b"\0")
        return h.hexdigest()

    def _file(self, entry: os.DirEntry) -> str:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            return f"unreadable {exc.errno}"
        old = self._old.get(entry.path)
        if old is not None and old[:5] == _signature(st) and max(st.st_mtime_ns, st.st_ctime_ns) < self._trusted_before:
            self._new[entry.path] = old
            return old[5]
        digest, read = self._digest(entry.path)
        if read is not None:
            self._new[entry.path] = [*_signature(read), digest]
        return digest

    def _digest(self, path: str) -> tuple[str, os.stat_result | None]:
        self.read += 1
        try:
            fd = os.open(path, _FLAGS)
        except OSError as exc:
            return f"unreadable {exc.errno}", None
        with os.fdopen(fd, "rb", buffering=0) as fh:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > self._limit:
                return f"stat {st.st_mode} {st.st_size} {st.st_mtime_ns}", st
            h = hashlib.sha256()
            total = 0
            while total <= self._limit and (block := fh.read(_BLOCK)):
                total += len(block)
                h.update(block)
            return h.hexdigest(), st

    def cache(self) -> dict:
        return {"started_ns": self._started, "files": self._new}


def _signature(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
