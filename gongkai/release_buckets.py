"""A release's datasets as 256 bucket symlinks into shared, content-addressed bucket folders.

A release built by `gongkai build` holds `buckets/<bb> -> ../../../buckets/<hash>`, one symlink
per bucket (`release_files.bucket(name)`: two hex digits of the name's CRC-32), and the build
folder's bucket store holds, per bucket content, `buckets/<hash>/<name> -> ../../objects/<name>/<key>`
(gongkai/build.py has the objects). A bucket folder is written once, named by the digest of the
(name, object) pairs it holds, and never changed after: a rebuild that changed one dataset of
10,000 writes one bucket folder of ~40 symlinks and the release's 256, where one symlink per
dataset was 10,001 `symlink(2)` calls, 0.6–3.2 s of that rebuild on this machine's ext4
(issue #10). Every reader goes through gongkai/release_files.py.

`link(out, release, objects)` runs before any dataset is built: the whole release's content is
known from the build's plans, so a changed dataset's entry dangles until its object is
committed, and nothing reads the release before the build finishes it. `collect(out)` removes
the bucket folders no release left refers to.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import defaultdict
from pathlib import Path

from . import releases
from .release_files import BUCKETS, OBJECTS, bucket

STORE = BUCKETS  # under out/: the bucket folders (a release's own buckets/ holds the symlinks)


def digest(entries: list[tuple[str, str]]) -> str:
    """A bucket folder's name: the digest of its sorted (name, object key) pairs."""
    h = hashlib.sha256()
    for name, key in sorted(entries):
        h.update(f"{name}\0{key}\n".encode())
    return h.hexdigest()[:32]


def link(out: Path, release: Path, objects: dict[str, str]) -> list[Path]:
    """Point `release/buckets/` at the bucket folders holding `objects` ({dataset: its object's
    key}), writing the folders not in the store yet; returns those written (a failed build
    trashes them)."""
    by_bucket: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name, key in objects.items():
        by_bucket[bucket(name)].append((name, key))
    store = Path(out) / STORE
    store.mkdir(exist_ok=True)
    folder = Path(release) / BUCKETS
    folder.mkdir()
    written: list[Path] = []
    for b, entries in sorted(by_bucket.items()):
        name = digest(entries)
        target = store / name
        if not target.is_dir():
            _write_folder(store, name, entries)
            written.append(target)
        os.symlink(f"../../../{STORE}/{name}", f"{folder}/{b}")
    return written


def _write_folder(store: Path, name: str, entries: list[tuple[str, str]]) -> None:
    """One bucket folder, written beside the store's and renamed in: never seen half-written."""
    tmp = store / f".{name}.{os.getpid()}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    for dataset, key in entries:
        os.symlink(f"../../{OBJECTS}/{dataset}/{key}", f"{tmp}/{dataset}")
    try:
        os.rename(tmp, store / name)
    except OSError:
        if not (store / name).is_dir():
            raise
        shutil.rmtree(tmp)  # written meanwhile (same content): that one stays


def referred(release: Path) -> set[str]:
    """The bucket folders a release refers to."""
    try:
        with os.scandir(Path(release) / BUCKETS) as entries:
            return {os.path.basename(os.readlink(e.path)) for e in entries if e.is_symlink()}
    except FileNotFoundError:
        return set()


def collect(out: Path) -> None:
    """Trash the bucket folders (and stale temporary ones) no release under `out` refers to."""
    store = Path(out) / STORE
    if not store.is_dir():
        return
    kept: set[str] = set()
    for release in (Path(out) / "releases").iterdir():
        kept |= referred(release)
    with os.scandir(store) as entries:
        garbage = [(Path(e.path), f"bucket-{e.name}") for e in entries if e.name not in kept]
    releases.trash(out, garbage)
