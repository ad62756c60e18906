"""Where a release keeps one dataset's files: the one resolver every reader goes through.

A release built by `gongkai build` reaches each dataset's object through two relative
symlinks, `buckets/<bb> -> ../../../buckets/<hash>` (one per bucket, `bucket(name)`) and, in
that shared bucket folder, `<name> -> ../../objects/<name>/<key>` (gongkai/release_buckets.py).
The object (`out/objects/<name>/<key>/`, gongkai/build.py) is written once per dataset content
and never changed after, holding

    <name>.db            the dataset's database (absent for a withheld dataset)
    reports/<name>.json  its validation report, and reports/<name>.md
    downloads/…          its published files (originals, exports, files.json)

So a rebuild writes what changed and a few hundred symlinks, not every file again (issue #10).
Two older layouts are still read, so a build can start from a release made before them and a
server can serve one: `datasets/<name>` (one symlink per dataset, no buckets), and the flat
layout of a site folder written by hand (the serving benchmark's), `<name>.db`,
`reports/<name>.json`, `downloads/<name>/…`. Every function here answers for all three, and a
caller never builds these paths itself.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

BUCKETS = "buckets"  # under a release: one symlink per bucket of datasets
DATASETS = "datasets"  # under a release of the layout before buckets: one symlink per dataset
CATALOGUE_FILE = "catalog.db"  # not a dataset's database (gongkai.catalogue.writer.FILE)
OBJECTS = "objects"  # under the build folder: each dataset content's files, shared by the releases


def bucket(name: str) -> str:
    """The bucket of a dataset name: 256 of them, fixed (part of every release's layout)."""
    return f"{zlib.crc32(name.encode('utf-8', 'surrogateescape')) & 0xFF:02x}"


def _layout(release: Path | str) -> str:
    """The release's layout: "buckets", "links" (one symlink per dataset) or "flat"."""
    if os.path.isdir(f"{release}/{BUCKETS}"):
        return "buckets"
    return "links" if os.path.isdir(f"{release}/{DATASETS}") else "flat"


def _flat(release: Path) -> bool:
    return _layout(release) == "flat"


def is_name(name: str) -> bool:
    """A dataset name that can only ever be one folder of the release (never `..`, `a/b`)."""
    return bool(name) and "/" not in name and "\0" not in name and not name.startswith(".")


def in_objects(release: Path | str, name: str) -> str:
    """The dataset's folder in a release this build wrote (no look at which layout it has),
    as a str: the build asks for 10,000 of them."""
    return f"{release}/{BUCKETS}/{bucket(name)}/{name}"


def folder(release: Path, name: str) -> Path:
    """The dataset's own folder in a release (its object; for a flat site, the release)."""
    layout = _layout(release)
    if layout == "buckets":
        return Path(in_objects(release, name))
    return Path(release) if layout == "flat" else Path(release) / DATASETS / name


def link_target(release: Path, name: str) -> str | None:
    """The object key a release's entry for `name` points at (None for a flat release or a
    dataset it does not hold): what tests and tools compare between releases."""
    layout = _layout(release)
    if layout == "flat":
        return None
    path = in_objects(release, name) if layout == "buckets" else f"{release}/{DATASETS}/{name}"
    try:
        return os.path.basename(os.readlink(path))
    except OSError:
        return None


def database(release: Path, name: str) -> Path:
    return folder(release, name) / f"{name}.db"


def report(release: Path, name: str, ext: str = "json") -> Path:
    """`ext` is "json" or "md"."""
    return folder(release, name) / "reports" / f"{name}.{ext}"


def downloads(release: Path, name: str) -> Path:
    """The folder under which `/downloads/<name>/<path>` is `<path>`."""
    release = Path(release)
    return release / "downloads" / name if _flat(release) else folder(release, name) / "downloads"


def names(release: Path) -> list[str]:
    """Every dataset the release holds (sorted), published or not."""
    release = Path(release)
    layout = _layout(release)
    if layout == "flat":
        with os.scandir(release) as entries:
            return sorted(e.name[:-3] for e in entries if e.name.endswith(".db") and e.name != CATALOGUE_FILE)
    if layout == "links":
        with os.scandir(release / DATASETS) as entries:
            return sorted(e.name for e in entries if not e.name.startswith("."))
    found: list[str] = []
    with os.scandir(release / BUCKETS) as buckets:
        for b in buckets:
            with os.scandir(b.path) as entries:
                found.extend(e.name for e in entries if not e.name.startswith("."))
    return sorted(found)


def database_files(release: Path) -> list[Path]:
    """The dataset databases a release serves, sorted by name; `catalog.db` is not one of them."""
    return [Path(p) for p in database_paths(release)]


def database_paths(release: Path) -> list[str]:
    """`database_files` as str paths, for a server's start: one directory scan, and for the
    build's layout one `stat` per dataset (a withheld dataset has no database), with no Path
    object per dataset (pathlib's parsing was ~0.3 s of a worker's start at 10,000)."""
    release = Path(release)
    if _flat(release):
        with os.scandir(release) as entries:
            found = sorted(
                e.name for e in entries if e.name.endswith(".db") and e.name != CATALOGUE_FILE and e.is_file()
            )
        return [f"{release}/{n}" for n in found]
    if _layout(release) == "links":
        paths = (f"{release}/{DATASETS}/{n}/{n}.db" for n in names(release))
    else:
        paths = (f"{in_objects(release, n)}/{n}.db" for n in names(release))
    return [p for p in paths if os.path.isfile(p)]


def relative(release: Path, path: Path | str) -> str:
    """`path` (one of the above) as the release's own relative path, e.g. for inspect.json.
    The paths above are built under `release`, so their prefix is cut off as text (relpath's
    normalising was 0.3 s of a one-dataset rebuild at 10,000 datasets)."""
    base, text = f"{release}/", str(path)
    if text.startswith(base) and "/../" not in text and "/./" not in text:
        return text[len(base) :]
    return os.path.relpath(path, release)
