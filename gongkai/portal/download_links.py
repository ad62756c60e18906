"""What the landing page's download block lists: every file built for a dataset, labelled in the
page's language, with its size and SHA-256, from the served release's manifest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import i18n, release_files
from ..catalogue import of
from ..exports.manifest import FileEntry, read_manifest


def served(datasette, dataset: str) -> tuple[Path, dict[str, FileEntry]]:
    """The served release's downloads folder of `dataset` and its manifest by path, read once per
    worker and folder (the release is immutable) and kept for at most 512 datasets."""
    folder = release_files.downloads(of(datasette).release, dataset).resolve()
    cache = datasette.__dict__.setdefault("_gongkai_manifests", {})
    if folder not in cache:
        if len(cache) >= 512:
            cache.clear()
        cache[folder] = {e.path: e for e in read_manifest(folder)} if release_files.is_name(dataset) else {}
    return folder, cache[folder]


# The order a person reads them in; the labels are in gongkai/locales/exports.yaml.
ORDER = ("excel-csv", "xlsx", "csv", "json", "ndjson", "parquet", "dictionary", "original")


@dataclass(frozen=True)
class Download:
    label: str
    url: str
    bytes: int
    sha256: str
    media_type: str
    kind: str


def downloads(datasette, name: str, lang: str) -> tuple[dict[str, list[Download]], dict[str, Download]]:
    """(per resource: its files in `ORDER`; for the dataset: its zip, db and descriptor by kind)."""
    by_resource: dict[str, list[Download]] = {}
    whole: dict[str, Download] = {}
    for entry in served(datasette, name)[1].values():
        d = Download(
            i18n.t(f"exports.kind_{entry.kind.replace('-', '_')}", lang),
            datasette.urls.path(f"/downloads/{name}/{entry.path}"),
            entry.bytes,
            entry.sha256,
            entry.media_type,
            entry.kind,
        )
        if entry.resource and entry.kind in ORDER:
            by_resource.setdefault(entry.resource, []).append(d)
        elif entry.resource is None:
            whole[entry.kind] = d
    for files in by_resource.values():
        files.sort(key=lambda d: ORDER.index(d.kind))
    return by_resource, whole
