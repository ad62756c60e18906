"""Opening a file of a dataset folder: never outside the folder, only regular files, at most a limit.

A dataset arrives by pull request, and git stores symbolic links: a descriptor path that looks
harmless (`data.csv`) may be a link to `/etc/passwd`, `/dev/zero` or a FIFO. So every file the
build opens from a dataset folder (descriptor, schema and dialect files, data files, the files
it hashes and the ones it publishes) is opened here:

- the path must pass `is_safe_path` (relative, no `..`, no hidden parts, no URL or variable);
- symbolic links are followed only while they stay inside the folder (resolved one component
  at a time, as the kernel does, at most `MAX_LINKS` of them); the folder itself must not be a
  link;
- the resolved path is then opened component by component from a descriptor of the folder
  with `O_NOFOLLOW`, so a component swapped for a link after the check fails the open instead
  of being followed (time-of-check to time-of-use);
- the opened descriptor must be a regular file (`fstat`), opened with `O_NONBLOCK` so that a
  FIFO cannot block the open;
- at most the byte limit is read (`max_file_bytes()`, env `GONGKAI_MAX_FILE_BYTES`, for data;
  `max_descriptor_bytes()`, env `GONGKAI_MAX_DESCRIPTOR_BYTES`, for JSON/YAML descriptors).

Refusals are `FileRefused`, with a bilingual note; the caller chooses the error type.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from ..errors import notes

MAX_FILE_BYTES_ENV = "GONGKAI_MAX_FILE_BYTES"
DEFAULT_MAX_FILE_BYTES = 512 << 20  # CSV is read in chunks; an Excel file is read whole
MAX_DESCRIPTOR_BYTES_ENV = "GONGKAI_MAX_DESCRIPTOR_BYTES"
DEFAULT_MAX_DESCRIPTOR_BYTES = 16 << 20  # a descriptor is parsed into Python objects: ~10x its size
MAX_LINKS = 40  # Linux's own limit on links followed while resolving one path
BLOCK = 1 << 20

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class FileRefused(Exception):
    """The file cannot or must not be read. ``kind``: unsafe-path, missing, outside, not-regular,
    too-big or unreadable."""

    def __init__(self, kind: str, note: str, note_zh: str):
        super().__init__(note)
        self.kind = kind
        self.note = note
        self.note_zh = note_zh


def _limit(env: str, default: int) -> int:
    value = os.environ.get(env, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return default


def max_file_bytes() -> int:
    """The most bytes read from one data file (env GONGKAI_MAX_FILE_BYTES, a positive integer)."""
    return _limit(MAX_FILE_BYTES_ENV, DEFAULT_MAX_FILE_BYTES)


def max_descriptor_bytes() -> int:
    """The most bytes read from one descriptor, schema, dialect or metadata file
    (env GONGKAI_MAX_DESCRIPTOR_BYTES)."""
    return _limit(MAX_DESCRIPTOR_BYTES_ENV, DEFAULT_MAX_DESCRIPTOR_BYTES)


# Paths


def is_safe_path(path: object) -> bool:
    """The one rule for a path a descriptor gives (data file, schema, dialect): frictionless's
    ``helpers.is_safe_path`` (relative, no ``..``, no ``~``, no variables, no ``file:``) plus our
    own: no hidden components (``.git/config``), no backslashes, no URL, no NUL, no drive letter."""
    if not isinstance(path, str) or not path or "\0" in path or "\\" in path or "://" in path:
        return False
    if path.startswith("~") or path.lower().startswith("file:") or re.match(r"^[A-Za-z]:", path):
        return False
    if os.path.expandvars(path) != path or re.search(r"%.+%", path) or "$" in path:
        return False
    pure = PurePosixPath(path)
    if pure.is_absolute() or not pure.parts:
        return False
    return all(part != ".." and not part.startswith(".") for part in pure.parts)


def unsafe_note(path: object) -> tuple[str, str]:
    return notes("file.unsafe-path", path=path)


def _outside(rel: str) -> FileRefused:
    return FileRefused("outside", *notes("file.outside", rel=rel))


def _resolve(base: str, rel: str) -> list[str]:
    """The components, relative to the (real) folder `base`, of the file `rel` names, every link
    on the way resolved while it stays inside the folder."""
    pending = [p for p in rel.split("/") if p not in ("", ".")]
    done: list[str] = []
    links = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            if not done:
                raise _outside(rel)
            done.pop()
            continue
        path = os.path.join(base, *done, part)
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return done + [part] + pending  # missing (or not a folder): the open says which
        if not stat.S_ISLNK(mode):
            done.append(part)
            continue
        links += 1
        if links > MAX_LINKS:
            raise FileRefused("outside", *notes("file.link-loop", rel=rel))
        target = os.readlink(path)
        if os.path.isabs(target):
            target = os.path.normpath(target)
            if target != base and not target.startswith(base.rstrip("/") + "/"):
                raise _outside(rel)
            done = []
            target = os.path.relpath(target, base)
        pending = [p for p in target.split("/") if p not in ("", ".")] + pending
    return done


def open_file(folder: Path, rel: str) -> int:
    """An fd open for reading on the regular file `rel` inside `folder` (see the module docstring)."""
    if not is_safe_path(rel):
        raise FileRefused("unsafe-path", *unsafe_note(rel))
    try:
        fd = os.open(folder, _DIR_FLAGS)
    except OSError as exc:
        if os.path.islink(folder):
            raise FileRefused("outside", *notes("file.folder-is-link", folder=Path(folder).name)) from exc
        raise _unreadable(rel, exc) from exc
    try:
        parts = _resolve(os.path.realpath(folder), rel)
        if not parts:
            raise FileRefused("not-regular", *notes("file.is-the-folder", rel=rel))
        for i, part in enumerate(parts):
            new = _open_at(fd, part, _DIR_FLAGS if i < len(parts) - 1 else _FILE_FLAGS, rel)
            os.close(fd)
            fd = new
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = (
                "folder"
                if stat.S_ISDIR(mode)
                else "fifo"
                if stat.S_ISFIFO(mode)
                else "device"
                if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "socket"
                if stat.S_ISSOCK(mode)
                else "special"
            )
            kind, kind_zh = notes(f"file.kind.{what}")
            raise FileRefused("not-regular", *notes("file.not-regular", rel=rel, kind=kind, kind_zh=kind_zh))
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_at(fd: int, part: str, flags: int, rel: str) -> int:
    try:
        return os.open(part, flags, dir_fd=fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a component became a link after it was resolved
            raise _outside(rel) from exc
        raise _unreadable(rel, exc) from exc


def _unreadable(rel: str, exc: OSError) -> FileRefused:
    if isinstance(exc, FileNotFoundError):
        return FileRefused("missing", *notes("file.missing", rel=rel))
    if isinstance(exc, NotADirectoryError):
        return FileRefused("missing", *notes("file.missing-folder", rel=rel))
    if isinstance(exc, PermissionError):
        return FileRefused("unreadable", *notes("file.permission", rel=rel))
    return FileRefused("unreadable", *notes("file.unreadable", rel=rel, reason=exc.strerror or exc))


def too_big(rel: str, limit: int, env: str) -> FileRefused:
    return FileRefused("too-big", *notes("file.too-big", rel=rel, limit=limit, env=env))


def read_bytes(folder: Path, rel: str, limit: int | None = None, env: str = MAX_FILE_BYTES_ENV) -> bytes:
    """The whole file, or FileRefused; never more than `limit` (+1) bytes are read."""
    limit = max_file_bytes() if limit is None else limit
    fd = open_file(folder, rel)
    with os.fdopen(fd, "rb", buffering=0) as fh:
        size = os.fstat(fd).st_size
        if size > limit:
            raise too_big(rel, limit, env)
        chunks = [fh.read(size + 1)]  # one read for a file that does not grow meanwhile
        total = len(chunks[0])
        while total <= limit and chunks[-1]:
            chunks.append(fh.read(min(BLOCK, limit + 1 - total)))
            total += len(chunks[-1])
        if total > limit:
            raise too_big(rel, limit, env)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def open_capped(folder: Path, rel: str, limit: int | None = None) -> tuple[int, int]:
    """An fd on the file and its size, or FileRefused (over `limit` too): for reading it in
    chunks (`os.pread`) without holding it whole. Only the first `size` bytes are ever read,
    so a file growing meanwhile is read as it was when opened."""
    limit = max_file_bytes() if limit is None else limit
    fd = open_file(folder, rel)
    size = os.fstat(fd).st_size
    if size > limit:
        os.close(fd)
        raise too_big(rel, limit, MAX_FILE_BYTES_ENV)
    return fd, size


def read_descriptor_bytes(folder: Path, rel: str) -> bytes:
    return read_bytes(folder, rel, max_descriptor_bytes(), MAX_DESCRIPTOR_BYTES_ENV)


def copy_file(folder: Path, rel: str, dest: Path, limit: int | None = None) -> None:
    """Copy the file to `dest` (a new file), streaming, through the same checks and limit."""
    limit = max_file_bytes() if limit is None else limit
    fd = open_file(folder, rel)
    with os.fdopen(fd, "rb", buffering=0) as src, open(dest, "xb") as out:
        total = 0
        while block := src.read(BLOCK):
            total += len(block)
            if total > limit:
                out.close()
                os.unlink(dest)
                raise too_big(rel, limit, MAX_FILE_BYTES_ENV)
            out.write(block)


# Hashing a folder without following anything out of it


def walk(folder: Path) -> Iterator[tuple[str, str, os.DirEntry | None]]:
    """(kind, path relative to folder, entry) for everything under folder, sorted, never following
    a link: kind is "file" (a regular file), "link", "dir" or "other" (FIFO, device, socket).
    A folder that is itself a link yields one "link" entry."""
    if os.path.islink(folder):
        yield "link", ".", None
        return
    if not os.path.isdir(folder):
        return
    yield from _walk(str(folder), "")


def _walk(base: str, prefix: str) -> Iterator[tuple[str, str, os.DirEntry | None]]:
    try:
        entries = sorted(os.scandir(os.path.join(base, prefix) if prefix else base), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        rel = f"{prefix}/{entry.name}" if prefix else entry.name
        if entry.is_symlink():
            yield "link", rel, entry
        elif entry.is_dir(follow_symlinks=False):
            yield "dir", rel, entry
            yield from _walk(base, rel)
        elif entry.is_file(follow_symlinks=False):
            yield "file", rel, entry
        else:
            yield "other", rel, entry


def hash_folder(folder: Path, update: Callable[[bytes], None], label: str) -> None:
    """Feed everything under folder to `update`: regular files' contents (up to the data limit;
    a bigger file by its size and modification time), links by their target text, other entries
    by their kind. Nothing is followed or opened but regular files, with O_NOFOLLOW|O_NONBLOCK."""
    limit = max_file_bytes()
    for kind, rel, entry in walk(folder):
        update(f"{label}/{rel}\0{kind}\0".encode("utf-8", "surrogateescape"))
        if kind == "link":
            try:
                update(os.fsencode(os.readlink(entry.path if entry else folder)))
            except OSError:
                pass
        elif kind == "file":
            assert entry is not None  # only a folder that is a link has no entry
            _hash_file(entry.path, update, limit)
        update(b"\0")


def _hash_file(path: str, update: Callable[[bytes], None], limit: int) -> None:
    try:
        fd = os.open(path, _FILE_FLAGS)
    except OSError as exc:
        update(f"unreadable {exc.errno}".encode())
        return
    with os.fdopen(fd, "rb", buffering=0) as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            update(f"{st.st_mode} {st.st_size} {st.st_mtime_ns}".encode())
            return
        total = 0
        while total <= limit and (block := fh.read(BLOCK)):
            total += len(block)
            update(block)
