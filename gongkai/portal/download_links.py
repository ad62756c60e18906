"""What the landing page's download block lists, and what the download route needs of a file:
every file built for a dataset, labelled in the page's language, with its size and SHA-256,
from the served release's manifest; its stored compressed copies, its tag and its readable
name (RFC 6266, from the dataset's or resource's title in the page's language)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import catalogue_files, i18n, release_files
from ..catalogue import CatalogueMissing, of
from ..exports.manifest import FileEntry, read_manifest
from ..exports.precompress import ENCODINGS, KIND
from .file_response import Variant, download_name


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


VERSION = 16  # hex digits of the SHA-256 in a download link's `?v=`


def versioned(entry: FileEntry | None, v: str | None) -> bool:
    """Whether `?v=` names this file's content (the answer may then be cached for a year)."""
    return entry is not None and v is not None and len(v) == VERSION and entry.sha256.startswith(v)


def etag(entry: FileEntry | None) -> str | None:
    """A strong tag from the file's SHA-256: the same bytes in every release have the same tag
    (a client keeps its copy across rebuilds of other datasets)."""
    return f'"{entry.sha256[:32]}"' if entry is not None else None


def variants(datasette, dataset: str, folder: Path, rel: str) -> tuple[Variant, ...]:
    """The stored compressed copies of `rel` (gongkai/exports/precompress.py)."""
    entries = served(datasette, dataset)[1]
    out = []
    for encoding, (suffix, _media) in ENCODINGS.items():
        e = entries.get(rel + suffix)
        if e is not None and e.kind == KIND and e.source == rel and e.encoding == encoding:
            out.append(Variant(encoding, folder / e.path, e.bytes, etag(e) or ""))
    return tuple(out)


def readable_name(datasette, dataset: str, entry: FileEntry | None, lang: str) -> str | None:
    """The name a browser saves the file as: the resource's title (after the dataset's when it
    has several resources) for a resource's files, the dataset's title for its zip and database,
    with the file's own suffix (`.excel.csv`, `.xlsx`…); None (the file's own name) for the
    descriptor, a compressed copy, or a dataset the catalogue does not know."""
    if entry is None or entry.kind in ("descriptor", KIND):
        return None
    try:
        titles = of(datasette).titles(dataset)
    except CatalogueMissing:
        titles = None
    if titles is None:
        return None
    name = Path(entry.path).name
    dataset_title = titles.dataset.text("title", lang) or dataset
    if entry.resource is None:
        suffix = name[len(dataset) :] if name.startswith(dataset + ".") else Path(name).suffix
        return download_name(dataset_title, suffix, name)
    r = titles.tables.get(entry.resource)
    resource_title = (r.text("title", lang) if r else None) or entry.resource
    if entry.kind == "original":
        suffix = "".join(Path(name).suffixes[-1:])
    else:
        suffix = name[len(entry.resource) :] if name.startswith(entry.resource + ".") else Path(name).suffix
    # an export renamed beside an original of the same name (`x.export.csv`) is saved as `.csv`
    suffix = suffix.replace(".export.", ".", 1) if suffix.startswith(".export.") else suffix
    # one table: the dataset's title says it; several: which of them, too
    title = dataset_title if len(titles.tables) == 1 else f"{dataset_title}-{resource_title}"
    return download_name(title, suffix, name)


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
    """(per resource: its files in `ORDER`; for the dataset: its zip, db and descriptor by kind).
    Each link names the file's content (`?v=`); an English page's adds `_lang=en`, so the file
    is saved under its English title."""
    by_resource: dict[str, list[Download]] = {}
    whole: dict[str, Download] = {}
    lang_arg = "&_lang=en" if lang == "en" else ""
    for entry in served(datasette, name)[1].values():
        if entry.kind == KIND:
            continue  # a compressed copy: served in place of its file, by Accept-Encoding
        d = Download(
            i18n.t(f"exports.kind_{entry.kind.replace('-', '_')}", lang),
            # `v`: the content, so the link may be cached for a year and a rebuild changes it
            datasette.urls.path(f"/downloads/{name}/{entry.path}") + f"?v={entry.sha256[:VERSION]}{lang_arg}",
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


def catalogue_downloads(datasette, lang: str) -> list[Download]:
    """The whole catalogue's files (`/downloads/catalog.*`) in the release, labelled; none for
    a release built before them."""
    try:
        release = of(datasette).release
    except CatalogueMissing:
        return []
    return [
        Download(
            i18n.t(f"catalogue_export.file_{entry.kind.removeprefix('catalogue-').replace('-', '_')}", lang),
            datasette.urls.path(f"/downloads/{entry.path}"),
            entry.bytes,
            entry.sha256,
            entry.media_type,
            entry.kind,
        )
        for entry in catalogue_files.site_files(release)
    ]
