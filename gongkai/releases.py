"""Release folders under `out/releases/`: creating, completing, holding while served, pruning.

A release is what one successful build wrote. Its life:

- `create(out)` makes the folder and its lock file (`.serving.lock`) first, before any data;
- `finish(release)` writes the completion marker (`.complete`) last, once the build has
  written everything else; only then does the build point `out/site` at it;
- a server holds a shared `flock` on the lock file for as long as it serves the release
  (`hold`); the supervisor and each worker process take their own, so the hold outlives any
  one process, and a crashed process's lock dies with it (the kernel drops it);
- `prune` takes a non-blocking exclusive lock before deleting a release and skips it when any
  server holds it. It renames the folder away (into `out/.trash/`) before deleting anything, so
  a path that exists is always a whole release, never a half-deleted one; a detached process
  deletes the files.

A folder without a lock file is not one the build made (a site folder written by hand, as the
serving benchmark does): it is served as it is, nothing locks or prunes it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = ".serving.lock"
COMPLETE_FILE = ".complete"
RESOLVE_ATTEMPTS = 20  # a build can swap and prune between our resolve and our lock; retry


class ReleaseUnavailable(Exception):
    """No complete release to serve (never built, or the folder was pruned under us)."""


def current_release(out: Path) -> Path | None:
    """The folder `out/site` points to, if any (complete or not: the build reuses from it)."""
    link = Path(out) / "site"
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def create(out: Path) -> Path:
    """A new, empty, incomplete release folder; its lock file exists from the start."""
    release = Path(out) / "releases" / (datetime.now().strftime("%Y%m%dT%H%M%S.%f") + f"-{os.getpid()}")
    release.mkdir()
    (release / LOCK_FILE).touch()
    return release


def finish(release: Path) -> None:
    """Mark the release complete: the last file a build writes before the swap."""
    marker = {"release": release.name, "finished": datetime.now(UTC).isoformat(timespec="seconds")}
    tmp = release / f".{COMPLETE_FILE}.tmp"
    tmp.write_text(json.dumps(marker))
    os.replace(tmp, release / COMPLETE_FILE)


def is_managed(folder: Path) -> bool:
    return (Path(folder) / LOCK_FILE).exists()


def is_complete(folder: Path) -> bool:
    folder = Path(folder)
    return folder.is_dir() and (not is_managed(folder) or (folder / COMPLETE_FILE).is_file())


@dataclass
class Hold:
    """A shared lock on a release: while any Hold on it is open, no build deletes it."""

    path: Path
    fd: int | None  # None for a folder the build does not manage

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None


def hold(folder: Path | str) -> Hold:
    """Lock `folder` shared and check it is complete; ReleaseUnavailable if it is not (or gone)."""
    folder = Path(folder).resolve()
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        if folder.is_dir() and not is_managed(folder):
            return Hold(folder, None)  # a hand-made site folder
        raise ReleaseUnavailable(f"{folder} is gone / 发布版本已不存在") from None
    # Blocking is fine: an exclusive holder is a build deleting this release, which takes
    # milliseconds; once it is done the marker check below fails and the caller re-resolves.
    fcntl.flock(fd, fcntl.LOCK_SH)
    if not (folder / COMPLETE_FILE).is_file():
        os.close(fd)
        raise ReleaseUnavailable(f"{folder} is not a complete release / 发布版本不完整")
    return Hold(folder, fd)


def hold_current(site: Path) -> Hold:
    """Hold the release `site` (a symlink the build swaps, or a folder) points to now."""
    for _ in range(RESOLVE_ATTEMPTS):
        target = Path(site).resolve()
        try:
            return hold(target)
        except ReleaseUnavailable:
            if Path(site).resolve() == target:
                break  # the link did not move: what it points to is not a complete release
    raise ReleaseUnavailable(
        f"no complete release at {site}: run `gongkai build` / {site} 没有完整的发布版本，请先运行 gongkai build"
    )


def in_use(folder: Path) -> bool:
    """Whether some process holds the release (what `prune` would skip)."""
    try:
        fd = os.open(Path(folder) / LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


TRASH = ".trash"  # under out/: pruned releases wait here to be deleted, off the build's time


def prune(
    out: Path,
    keep: list[Path | None],
    *,
    background: bool = True,
    on_remove: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Delete every release not in `keep` that no server holds; return what was deleted.
    `on_remove` sees each one just before it goes (the build collects the objects it referred to).

    Only a build calls this, under the build lock, so no two prunes race. Each release leaves
    `releases/` in one rename (into `out/.trash/`); the files themselves, tens of thousands at
    10,000 datasets, are unlinked by a detached low-priority process (`background`), so the
    build does not wait for the disk."""
    releases = Path(out) / "releases"
    trash = Path(out) / TRASH
    keep_set = {Path(p).resolve() for p in keep if p}
    removed = []
    for path in sorted(releases.iterdir()):
        if path.resolve() in keep_set:
            continue
        fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC) if path.is_dir() else None
        try:
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a server is serving it: it stays until that server lets go
            if on_remove is not None:
                on_remove(path)
            # Out of its path in one rename, so nothing ever resolves to a half-deleted release.
            trash.mkdir(exist_ok=True)
            os.replace(path, trash / f"{path.name}-{os.getpid()}")
            removed.append(path)
        finally:
            if fd is not None:
                os.close(fd)
    empty_trash(out, background=background)
    return removed


def trash(out: Path, moves: list[tuple[Path, str]]) -> None:
    """Each (path, name) out of its path in one rename, into `out/.trash/<name>-<pid>`, and the
    background emptier started; a path already gone is skipped (objects, bucket folders)."""
    if not moves:
        return
    folder = Path(out) / TRASH
    folder.mkdir(exist_ok=True)
    for path, name in moves:
        try:
            os.replace(path, folder / f"{name}-{os.getpid()}")
        except FileNotFoundError:
            continue
    empty_trash(out)


def discard(out: Path, folder: Path, *, background: bool = True) -> None:
    """Throw away a release folder nothing serves (a failed build's), as `prune` does."""
    trash = Path(out) / TRASH
    trash.mkdir(exist_ok=True)
    os.replace(folder, trash / f"{Path(folder).name}-{os.getpid()}")
    empty_trash(out, background=background)


_EMPTY = """
import fcntl, os, shutil, sys
trash = sys.argv[1]
os.nice(10)
lock = open(os.path.join(trash, ".lock"), "a")
try:
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    sys.exit(0)  # another one is emptying it (and picks up what was added)
while names := [n for n in os.listdir(trash) if n != ".lock"]:
    for name in names:
        path = os.path.join(trash, name)
        shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.unlink(path)
"""


def empty_trash(out: Path, *, background: bool = True) -> None:
    trash = Path(out) / TRASH
    if not trash.is_dir() or not any(n != ".lock" for n in os.listdir(trash)):
        return
    if not background:
        for path in trash.iterdir():
            if path.name != ".lock":
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        return
    subprocess.Popen(
        [sys.executable, "-c", _EMPTY, str(trash)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # outlives the build, and no signal to the build reaches it
        close_fds=True,
    )
