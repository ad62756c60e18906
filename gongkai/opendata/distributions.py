"""The downloads a dataset has today, as one list every document describes the same way.

Per resource: the original file as published (`/downloads/<dataset>/<path>`, with the size and
SHA-256 the build measured), every file the build exported (gongkai/exports/: CSV, Excel CSV,
JSON, NDJSON, XLSX, Parquet, the data dictionary; size and SHA-256 from the release's
`files.json`), and the table's CSV and JSON through Datasette's API (made on request, so no
size). Per dataset: the data package ZIP, the descriptor and the SQLite database, with their
size and SHA-256. A format added to the site's downloads is added here once, and DCAT-US,
DCAT-AP and schema.org all list it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .. import i18n
from ..catalogue.harvest import Entry
from ..exports.manifest import FileEntry
from ..openness import is_withheld
from . import vocab
from .urls import SiteUrls


@dataclass
class Distribution:
    kind: str  # original, csv, json, datapackage, sqlite
    resource: str | None
    iri: str
    download_url: str
    access_url: str  # a page or service answering for it (DCAT's mandatory accessURL)
    format: vocab.Format
    title: dict[str, str]  # {zh, en}
    description: dict[str, str]
    byte_size: int | None = None
    sha256: str | None = None
    via_api: bool = False  # made by the JSON API (dcat:accessService) rather than a stored file
    described_by: str | None = None  # the data dictionary / schema of what it holds
    extra: dict = field(default_factory=dict)


# the exported files of a resource (gongkai/exports/publish.py's kinds), in the download block's order
EXPORTS = ("excel-csv", "xlsx", "csv", "json", "ndjson", "parquet", "dictionary")
EXPORT_FORMATS = {"excel-csv": "csv", "dictionary": "csv"}


def _both(key: str, **fmt) -> dict[str, str]:
    return {lang: i18n.t(key, lang, **fmt) for lang in i18n.LANGS}


def of(entry: Entry, urls: SiteUrls) -> list[Distribution]:
    d = entry.dataset
    if is_withheld(d.openness):
        return []  # conditional or closed: no file or API of theirs is served (gongkai/openness.py)
    name = d.name
    landing = urls.landing(name)
    out: list[Distribution] = []
    files = urls.files(name)
    by_kind = {e.kind: e for e in files if e.resource is None}
    for r in entry.resources:
        titles = vocab.texts(r, "title", d.language) or {d.language: r.name}

        def title(key: str, lang: str, fmt: str, titles=titles) -> str:
            return i18n.t(key, lang, title=vocab.pick(titles, lang), format=fmt)

        if r.path:
            fmt = vocab.file_format(r.format, r.path)
            out.append(
                Distribution(
                    kind="original",
                    resource=r.name,
                    iri=urls.distribution_iri(name, "original", r.name),
                    download_url=urls.download(name, r.path),
                    access_url=landing,
                    format=fmt,
                    title={lang: title("opendata.dist_original", lang, fmt.name) for lang in i18n.LANGS},
                    description=_both("opendata.dist_original_description"),
                    byte_size=r.bytes,
                    sha256=r.sha256,
                    described_by=urls.dictionary_csv(name, r.name),
                )
            )
        for e in sorted(
            (e for e in files if e.resource == r.name and e.kind in EXPORTS), key=lambda e: EXPORTS.index(e.kind)
        ):
            fmt = vocab.file_format(EXPORT_FORMATS.get(e.kind, e.kind), e.path)
            out.append(
                Distribution(
                    kind=f"file-{e.kind}",
                    resource=r.name,
                    iri=urls.distribution_iri(name, f"file-{e.kind}", r.name),
                    download_url=urls.download(name, e.path),
                    access_url=landing,
                    format=fmt,
                    title={
                        lang: i18n.t(
                            "opendata.dist_file",
                            lang,
                            title=vocab.pick(titles, lang),
                            label=i18n.t(f"exports.kind_{e.kind.replace('-', '_')}", lang),
                        )
                        for lang in i18n.LANGS
                    },
                    description=_both("opendata.dist_file_description"),
                    byte_size=e.bytes,
                    sha256=e.sha256,
                    described_by=urls.dictionary_csv(name, r.name),
                )
            )
        for kind, key, url, fmt in (
            ("csv", "opendata.dist_csv", urls.table_csv(name, r.name), vocab.file_format("csv")),
            ("json", "opendata.dist_json", urls.table_json(name, r.name), vocab.file_format("json")),
        ):
            out.append(
                Distribution(
                    kind=kind,
                    resource=r.name,
                    iri=urls.distribution_iri(name, kind, r.name),
                    download_url=url,
                    access_url=urls.table_page(name, r.name),
                    format=fmt,
                    title={lang: title(key, lang, fmt.name) for lang in i18n.LANGS},
                    description=_both(f"{key}_description"),
                    via_api=True,
                    described_by=urls.dictionary_csv(name, r.name),
                )
            )
    if "zip" in by_kind:
        z = by_kind["zip"]
        out.append(
            Distribution(
                kind="zip",
                resource=None,
                iri=urls.distribution_iri(name, "zip"),
                download_url=urls.download(name, z.path),
                access_url=landing,
                format=vocab.file_format("zip"),
                title=_both("exports.kind_zip"),
                description=_both("opendata.dist_zip_description"),
                byte_size=z.bytes,
                sha256=z.sha256,
            )
        )
    descriptor = next((e for e in files if e.kind == "descriptor" and e.path == "datapackage.json"), None)
    out.append(
        Distribution(
            kind="datapackage",
            resource=None,
            iri=urls.distribution_iri(name, "datapackage"),
            download_url=urls.datapackage(name),
            access_url=landing,
            format=vocab.file_format("json"),
            title=_both("opendata.dist_datapackage"),
            description=_both("opendata.dist_datapackage_description"),
            byte_size=descriptor.bytes if descriptor else None,
            sha256=descriptor.sha256 if descriptor else None,
        )
    )
    db = by_kind.get("db")  # the same bytes as the database Datasette serves at /<name>.db
    out.append(
        Distribution(
            kind="sqlite",
            resource=None,
            iri=urls.distribution_iri(name, "sqlite"),
            # the published copy answers byte ranges (sql.js-httpvfs, resumed downloads);
            # Datasette's own /<name>.db does not
            download_url=urls.download(name, db.path) if db else urls.sqlite(name),
            access_url=landing,
            format=vocab.file_format("db"),
            title=_both("opendata.dist_sqlite"),
            description=_both("opendata.dist_sqlite_description"),
            byte_size=db.bytes if db else None,
            sha256=db.sha256 if db else None,
        )
    )
    return out


def of_catalogue(files: Iterable[FileEntry], urls: SiteUrls) -> list[Distribution]:
    """The whole catalogue's own files (`/downloads/catalog.csv` …, the site-level manifest):
    distributions of the catalogue itself, found on the catalogue page."""
    out = []
    for f in files:
        kind = f.kind.removeprefix("catalogue-").replace("-", "_")
        fmt = vocab.file_format(None, f.path)
        out.append(
            Distribution(
                kind=f.kind,
                resource=None,
                iri=urls.catalog_iri() + f"#{f.kind}",
                download_url=urls.abs(f"/downloads/{f.path}"),
                access_url=urls.abs("/datasets"),
                format=fmt,
                title=_both(f"catalogue_export.file_{kind}"),
                description=_both("catalogue_export.downloads_lead"),
                byte_size=f.bytes,
                sha256=f.sha256,
            )
        )
    return out
