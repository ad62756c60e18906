"""What the catalogue's values mean in the vocabularies harvesters check: media types (IANA),
file types, frequencies, languages and access rights (the EU Publications Office authority
lists that DCAT-AP and the EU Metadata Quality Assessment use), and the ISO 8601 repeating
durations of DCAT-US `accrualPeriodicity`. One table per mapping, so each document says the
same thing about a dataset."""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass

from ..catalogue.records import Record
from ..portal.links import safe_url

EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"

# format (the descriptor's `format` or the file's extension) → (media type, EU file type)
FORMATS = {
    "csv": ("text/csv", "CSV"),
    "tsv": ("text/tab-separated-values", "TSV"),
    "json": ("application/json", "JSON"),
    "ndjson": ("application/x-ndjson", "JSON"),
    "jsonl": ("application/x-ndjson", "JSON"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
    "xls": ("application/vnd.ms-excel", "XLS"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", "ODS"),
    "parquet": ("application/vnd.apache.parquet", "PARQUET"),
    "xml": ("application/xml", "XML"),
    "zip": ("application/zip", "ZIP"),
    "db": ("application/vnd.sqlite3", "SQL"),
    "sqlite": ("application/vnd.sqlite3", "SQL"),
    "geojson": ("application/geo+json", "GEOJSON"),
}

# gov:frequency → (EU frequency, ISO 8601 repeating duration for DCAT-US; None = leave out)
FREQUENCIES = {
    "daily": ("DAILY", "R/P1D"),
    "weekly": ("WEEKLY", "R/P1W"),
    "monthly": ("MONTHLY", "R/P1M"),
    "quarterly": ("QUARTERLY", "R/P3M"),
    "annual": ("ANNUAL", "R/P1Y"),
    "irregular": ("IRREG", "irregular"),
    "never": ("NEVER", None),
}

LANGUAGES = {"zh": "ZHO", "en": "ENG"}  # EU language authority codes (ISO 639-2/B)

# gov:openness → (DCAT-US accessLevel, EU access right)
OPENNESS = {
    "unconditional": ("public", "PUBLIC"),
    "conditional": ("restricted public", "RESTRICTED"),
    "closed": ("non-public", "NON_PUBLIC"),  # 不予开放: was reported "public" before
}


@dataclass(frozen=True)
class Format:
    name: str  # upper-case, human readable: "CSV"
    media_type: str
    eu_file_type: str | None

    @property
    def media_type_iri(self) -> str:
        return IANA + self.media_type

    @property
    def file_type_iri(self) -> str | None:
        return f"{EU}file-type/{self.eu_file_type}" if self.eu_file_type else None


def file_format(fmt: str | None, path: str | None = None) -> Format:
    """The format of a file from its declared format, else its extension, else its guessed type."""
    key = (fmt or "").strip().lower().lstrip(".")
    if key not in FORMATS and path and "." in path:
        key = path.rsplit(".", 1)[1].lower()
    if key in FORMATS:
        media, eu = FORMATS[key]
        return Format(key.upper(), media, eu)
    guessed = mimetypes.guess_type(path or "")[0] if path else None
    return Format((key or "data").upper(), guessed or "application/octet-stream", None)


def frequency(value: str | None) -> tuple[str | None, str | None]:
    """(EU frequency IRI, DCAT-US accrualPeriodicity) for a gov:frequency, or (None, None)."""
    eu, iso = FREQUENCIES.get(value or "", (None, None))
    return (f"{EU}frequency/{eu}" if eu else None), iso


def language_iri(lang: str) -> str:
    return f"{EU}language/{LANGUAGES.get(lang, 'ZHO')}"


def access(openness: str | None) -> tuple[str, str]:
    """(DCAT-US accessLevel, EU access-right IRI); an unknown class is treated as public, the
    profile's default for a published dataset."""
    level, eu = OPENNESS.get(openness or "", OPENNESS["unconditional"])
    return level, f"{EU}access-right/{eu}"


def other(lang: str) -> str:
    return "en" if lang == "zh" else "zh"


def texts(rec: Record, key: str, original_lang: str) -> dict[str, str]:
    """A translated column in both languages where given: {lang: text} (the original under its
    own language, then `key_zh` / `key_en`), empty strings left out."""
    out: dict[str, str] = {}
    value = rec.get(key)
    if isinstance(value, str) and value.strip():
        out[original_lang] = value
    for lang in ("zh", "en"):
        translated = rec.get(f"{key}_{lang}")
        if isinstance(translated, str) and translated.strip() and lang not in out:
            out[lang] = translated
    return out


def registry_texts(rec: Record | None, key: str) -> dict[str, str]:
    """A registry entry's `{zh, en}` column (`key` is Chinese, `key_en` English)."""
    if rec is None:
        return {}
    out = {}
    if isinstance(rec.get(key), str) and rec.get(key).strip():
        out["zh"] = rec.get(key)
    if isinstance(rec.get(f"{key}_en"), str) and rec.get(f"{key}_en").strip():
        out["en"] = rec.get(f"{key}_en")
    return out


def pick(values: dict[str, str] | str | None, lang: str) -> str | None:
    """One text: in `lang` if there is one, else any (a plain string is in every language)."""
    if not isinstance(values, dict):
        return values if isinstance(values, str) and values else None
    return values.get(lang) or next((v for v in values.values() if isinstance(v, str) and v), None)


_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def web_url(url) -> str | None:
    """A publisher-supplied URL only if it is an absolute http(s) URL (gongkai.portal.links'
    rule, read as a browser would): the documents are read by machines that follow links."""
    safe = safe_url(url.strip()) if isinstance(url, str) else None
    return safe if safe and safe.lower().startswith(("http://", "https://")) else None


def email(value) -> str | None:
    """A plain mailbox address, or None (a `mailto:` IRI is built from it)."""
    return value.strip() if isinstance(value, str) and _EMAIL.fullmatch(value.strip()) else None
