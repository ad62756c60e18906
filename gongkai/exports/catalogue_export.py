"""The whole catalogue as downloads: `downloads/catalog.csv`, `catalog.excel.csv`, `catalog.json`
and `catalog.xlsx`, one row per dataset (withheld ones too: their access level, no data URLs).

Written by the build into the release (gongkai/catalogue_files.py), which renders each
dataset's row once (`row`, `cells`, `csv_line`, `json_item`; the XLSX's sheet row in
gongkai/exports/catalogue_sheet.py) and copies an unchanged dataset's from the previous
release, so a build costs what changed and memory stays bounded. The CSVs and the XLSX neutralise formula
injection as every derived export does (`gongkai.csv_cells`); the JSON keeps the values as
they are. Column headers are bilingual (`gongkai/locales/catalogue_export.yaml`); the JSON
keys are the machine names, with the bilingual titles in its `columns` member.

Absolute URLs use the build's base URL (`SiteUrls.built`): a file is the same bytes for every
visitor; the served documents (`/data.json`) check theirs and stream when it differs.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from .. import i18n
from ..catalogue.harvest import Context, Entry
from ..csv_cells import neutralise
from ..opendata import vocab
from ..opendata.urls import SiteUrls
from ..openness import is_withheld
from .manifest import FileEntry, sha256

CSV, EXCEL_CSV, JSON, XLSX = "catalog.csv", "catalog.excel.csv", "catalog.json", "catalog.xlsx"
FILES = (CSV, EXCEL_CSV, JSON, XLSX)
KINDS = {CSV: "catalogue-csv", EXCEL_CSV: "catalogue-excel-csv", JSON: "catalogue-json", XLSX: "catalogue-xlsx"}
MEDIA = {
    CSV: "text/csv; charset=utf-8",
    EXCEL_CSV: "text/csv; charset=utf-8",
    JSON: "application/json; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# The columns, in order; each one's header is `catalogue_export.<key>` in both languages.
COLUMNS = (
    "name",
    "title_zh",
    "title_en",
    "description_zh",
    "description_en",
    "publisher",
    "publisher_zh",
    "publisher_en",
    "theme",
    "theme_zh",
    "theme_en",
    "keywords_zh",
    "keywords_en",
    "license",
    "license_title",
    "license_url",
    "issued",
    "modified",
    "frequency",
    "frequency_zh",
    "frequency_en",
    "openness",
    "access_level",
    "landing_page",
    "metadata_url",
    "api_url",
    "resources",
    "rows",
    "data_package_url",
    "sqlite_url",
    "csv_urls",
)
LIST_SEPARATOR = "\n"  # between the URLs (or keywords) of one cell: Excel shows one per line
SHEET = "数据目录 Catalogue"


def header(key: str) -> str:
    return f"{i18n.t(f'catalogue_export.{key}', 'zh')} {i18n.t(f'catalogue_export.{key}', 'en')}"


def headers() -> list[str]:
    return [header(key) for key in COLUMNS]


def _keywords(d) -> dict[str, list[str]]:
    original = [k for k in d.keywords or [] if isinstance(k, str)]
    translated = [k for k in d.keywords_translated or [] if isinstance(k, str)]
    return {d.language: original, vocab.other(d.language): translated}


def _file_url(urls: SiteUrls, name: str, entry: FileEntry) -> str:
    return urls.download(name, entry.path)


def row(entry: Entry, ctx: Context, urls: SiteUrls, files: list[FileEntry]) -> dict[str, Any]:
    """One dataset's row, machine names → values (lists kept as lists, numbers as numbers)."""
    d = entry.dataset
    publisher = ctx.publishers.get(d.publisher or "")
    theme = ctx.themes.get(d.theme or "")
    licence = ctx.licences.get(d.license or "")
    titles = vocab.texts(d, "title", d.language)
    descriptions = vocab.texts(d, "description_text", d.language)
    keywords = _keywords(d)
    withheld = is_withheld(d.openness)
    frequency = d.frequency if d.frequency in vocab.FREQUENCIES else None
    by_kind = {f.kind: f for f in files if f.resource is None}
    out: dict[str, Any] = {
        "name": d.name,
        "title_zh": titles.get("zh"),
        "title_en": titles.get("en"),
        "description_zh": descriptions.get("zh"),
        "description_en": descriptions.get("en"),
        "publisher": d.publisher,
        "publisher_zh": publisher.name if publisher else None,
        "publisher_en": publisher.name_en if publisher else None,
        "theme": d.theme,
        "theme_zh": theme.name if theme else None,
        "theme_en": theme.name_en if theme else None,
        "keywords_zh": keywords["zh"],
        "keywords_en": keywords["en"],
        "license": d.license,
        "license_title": (licence.title if licence else None),
        "license_url": vocab.web_url(licence.url if licence else None) or vocab.web_url(d.license_path),
        "issued": d.issued,
        "modified": d.modified,
        "frequency": d.frequency,
        "frequency_zh": i18n.t(f"portal.frequency.{frequency}", "zh") if frequency else None,
        "frequency_en": i18n.t(f"portal.frequency.{frequency}", "en") if frequency else None,
        "openness": d.openness,
        "access_level": vocab.access(d.openness)[0],
        "landing_page": urls.landing(d.name),
        "metadata_url": urls.document("/api/3/action/package_show", {"id": d.name}),
        # a conditional or closed dataset: its catalogue entry, none of its data (gongkai/openness.py)
        "api_url": None if withheld else urls.base + urls.database_path(d.name) + ".json",
        "resources": d.resources,
        "rows": d.rows,
        "data_package_url": None if withheld or "zip" not in by_kind else _file_url(urls, d.name, by_kind["zip"]),
        "sqlite_url": None if withheld or "db" not in by_kind else _file_url(urls, d.name, by_kind["db"]),
        "csv_urls": [] if withheld else [_file_url(urls, d.name, f) for f in files if f.kind == "csv"],
    }
    return out


def json_item(values: dict[str, Any], name: str, urls: SiteUrls, files: list[FileEntry], withheld: bool) -> dict:
    """The JSON's entry: the row, and every published file with its size and SHA-256."""
    listed = [] if withheld else files
    return {
        **values,
        "files": [
            {
                "url": _file_url(urls, name, f),
                "kind": f.kind,
                "resource": f.resource,
                "bytes": f.bytes,
                "sha256": f.sha256,
                "mediaType": f.media_type,
            }
            for f in listed
        ],
    }


def cells(values: dict[str, Any]) -> list:
    """The row as spreadsheet cells: lists joined one per line, text neutralised."""
    out: list = []
    for key in COLUMNS:
        value = values[key]
        if isinstance(value, list):
            value = LIST_SEPARATOR.join(value)
        out.append(neutralise(value) if isinstance(value, str) else value)
    return out


def head(ctx: Context, urls: SiteUrls) -> dict:
    """The JSON document's members before its `datasets` array."""
    return {
        "catalog": urls.catalog_iri(),
        "title": dict(ctx.site.title or {}),
        "total": ctx.total,
        "columns": {key: {lang: i18n.t(f"catalogue_export.{key}", lang) for lang in i18n.LANGS} for key in COLUMNS},
    }


def csv_line(cells: list, lineterminator: str) -> bytes:
    """One row of the CSV (`\n`) or of the Excel CSV (`\r\n`), as its UTF-8 bytes."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator=lineterminator).writerow(cells)
    return buf.getvalue().encode("utf-8")


def manifest_entry(folder: Path, name: str) -> FileEntry:
    path = folder / name
    return FileEntry(name, KINDS[name], None, path.stat().st_size, sha256(path), MEDIA[name])
