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

In a git work tree, a folder git reports unchanged (gongkai/git_trees.py) whose tree id is the
one a previous build hashed is not walked at all: its digest and file entries carry over. A
walked folder's digest is recorded with its tree id only when git saw it unchanged and no file
in it moved within `RACY_S` of when git looked (timestamps are coarse).
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from pathlib import Path

from .git_trees import GitTrees
from .validate import files

RACY_S = 2
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_BLOCK = 1 << 20
# The cache's layout: per folder [label, tree id, digest, {file path under the folder: entry}],
# each file's entry one string "size mtime ctime inode device digest". It is held for the whole
# build: a list and a string per file (not a dict, a list of six numbers and the absolute path)
# is about half the memory, ~1 KB less per dataset at 10,000.
_VERSION = 3


class FolderHasher:
    """`folder(path, label)` → hex digest; `cache()` → what to keep for the next build.

    `git` (gongkai.git_trees): a folder git knows to be unchanged since a build that hashed the
    same tree id takes that build's digest without being walked; its files' entries are kept."""

    def __init__(self, cache: dict | None = None, git: GitTrees | None = None):
        cache = cache or {}
        self._limit = files.max_file_bytes()
        # a cache of another layout or data limit is not read (every file read once more)
        same = cache.get("version") == _VERSION and cache.get("limit") == self._limit
        self._old: dict[str, list] = (cache.get("folders") or {}) if same else {}
        self._trusted_before = int(cache.get("started_ns") or 0) - RACY_S * 1_000_000_000
        self._new: dict[str, list] = {}
        self._started = time.time_ns()
        self._git = git
        self.read = 0  # files whose bytes were read this build (the rest came from the cache)
        self.walked = 0  # folders walked (the rest were git's unchanged trees)
        self._newest = 0  # the latest mtime or ctime of a file of the folder being walked

    def folder(self, folder: Path, label: str) -> str:
        key = str(folder)
        old = self._old.get(key)
        if not (isinstance(old, list) and len(old) == 4):
            old = [None, None, None, {}]
        tree = self._git.tree(label) if self._git is not None else None
        if tree is not None and old[1] == tree and old[0] == label:
            self._new[key] = old
            return old[2]
        self.walked += 1
        self._newest = 0
        old_files: dict[str, str] = old[3] if isinstance(old[3], dict) else {}
        new_files: dict[str, str] = {}
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
                h.update(self._file(entry, rel, old_files, new_files).encode())
            h.update(b"\0")
        digest = h.hexdigest()
        if self._git is not None and tree is not None and self._newest >= self._git.read_ns - RACY_S * 1_000_000_000:
            tree = None  # a file changed after git looked: this digest may not be that tree's
        self._new[key] = [label, tree, digest, new_files]
        return digest

    def _file(self, entry: os.DirEntry, rel: str, old_files: dict[str, str], new_files: dict[str, str]) -> str:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            return f"unreadable {exc.errno}"
        moved = max(st.st_mtime_ns, st.st_ctime_ns)
        self._newest = max(self._newest, moved)
        old = old_files.get(rel)
        signature = _signature(st)
        if isinstance(old, str) and old.startswith(signature) and moved < self._trusted_before:
            new_files[rel] = old
            return old[len(signature) :]
        digest, read = self._digest(entry.path)
        if read is not None:
            new_files[rel] = _signature(read) + digest
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
        return {"version": _VERSION, "limit": self._limit, "started_ns": self._started, "folders": self._new}


def _signature(st: os.stat_result) -> str:
    """What a file's cache entry starts with: the stat that must not have moved, and a space
    before its digest (a digest is never empty, so one signature is never another's prefix)."""
    return f"{st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {st.st_ino} {st.st_dev} "
