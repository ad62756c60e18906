"""Where a release keeps one dataset's files: the one resolver every reader goes through.

A release built by `gongkai build` holds one relative symlink per dataset,
`datasets/<name> -> ../../../objects/<name>/<digest>`, into the build folder's object store
(`out/objects/`, gongkai/build.py): a folder written once per dataset content and never
changed after, holding

    <name>.db            the dataset's database (absent for a withheld dataset)
    reports/<name>.json  its validation report, and reports/<name>.md
    downloads/…          its published files (originals, exports, files.json)

So a rebuild that changes nothing writes one symlink per dataset instead of linking every
file again (issue #10). A site folder written by hand (the serving benchmark's, old releases)
has the flat layout, `<name>.db`, `reports/<name>.json`, `downloads/<name>/…`: every function
here answers for both, and a caller never builds these paths itself.
"""

from __future__ import annotations

import os
from pathlib import Path

DATASETS = "datasets"  # under a release: one symlink per dataset
CATALOGUE_FILE = "catalog.db"  # not a dataset's database (gongkai.catalogue.writer.FILE)


def _flat(release: Path) -> bool:
    return not os.path.isdir(os.path.join(release, DATASETS))


def is_name(name: str) -> bool:
    """A dataset name that can only ever be one folder of the release (never `..`, `a/b`)."""
    return bool(name) and "/" not in name and "\0" not in name and not name.startswith(".")


def in_objects(release: Path, name: str) -> Path:
    """The dataset's folder in a release the build wrote (no look at which layout it has)."""
    return Path(f"{release}/{DATASETS}/{name}")


def folder(release: Path, name: str) -> Path:
    """The dataset's own folder in a release (its object; for a flat site, the release)."""
    return Path(release) if _flat(release) else Path(release) / DATASETS / name


def database(release: Path, name: str) -> Path:
    return folder(release, name) / f"{name}.db"


def report(release: Path, name: str, ext: str = "json") -> Path:
    """`ext` is "json" or "md"."""
    return folder(release, name) / "reports" / f"{name}.{ext}"


def downloads(release: Path, name: str) -> Path:
    """The folder under which `/downloads/<name>/<path>` is `<path>`."""
    release = Path(release)
    return release / "downloads" / name if _flat(release) else release / DATASETS / name / "downloads"


def names(release: Path) -> list[str]:
    """Every dataset the release holds (sorted), published or not."""
    release = Path(release)
    if _flat(release):
        with os.scandir(release) as entries:
            return sorted(e.name[:-3] for e in entries if e.name.endswith(".db") and e.name != CATALOGUE_FILE)
    with os.scandir(release / DATASETS) as entries:
        return sorted(e.name for e in entries if not e.name.startswith("."))


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
    base = f"{release}/{DATASETS}"
    paths = (f"{base}/{n}/{n}.db" for n in names(release))
    return [p for p in paths if os.path.isfile(p)]


def relative(release: Path, path: Path | str) -> str:
    """`path` (one of the above) as the release's own relative path, e.g. for inspect.json.
    The paths above are built under `release`, so their prefix is cut off as text (relpath's
    normalising was 0.3 s of a one-dataset rebuild at 10,000 datasets)."""
    base, text = f"{release}/", str(path)
    if text.startswith(base) and "/../" not in text and "/./" not in text:
        return text[len(base) :]
    return os.path.relpath(path, release)
