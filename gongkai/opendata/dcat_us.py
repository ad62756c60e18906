"""DCAT-US 1.1 (Project Open Data) `data.json`: what data.gov's harvester and many aggregators read.

Checked in tests/test_opendata_dcat_us.py against data.gov's non-federal schemas
(`tests/fixtures/schemas/dcat-us-1.1/`). The format has no paging, so the document is written
as a stream: `head()` is the catalogue without its datasets, `dataset()` one entry, and the
plugin joins them (`gongkai.opendata.stream`) slice by slice, so memory stays bounded at any
number of datasets.

Text is in the catalogue's first language (Chinese where there is one): data.json has one
value per field; the English is in the DCAT-AP and DCAT-US 3.0 documents.
"""

from __future__ import annotations

from ..catalogue.harvest import Context, Entry
from . import distributions, vocab
from .urls import SiteUrls

CONFORMS_TO = "https://project-open-data.cio.gov/v1.1/schema"
DESCRIBED_BY = "https://project-open-data.cio.gov/v1.1/schema/catalog.json"
CONTEXT = "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld"
TABLE_SCHEMA = "https://specs.frictionlessdata.io/table-schema/"
MAX_DESCRIPTION = 10_000  # the schema's maxLength
LANG = "zh"


def head(ctx: Context, urls: SiteUrls) -> dict:
    return {
        "@context": CONTEXT,
        "@id": urls.document("/data.json"),
        "@type": "dcat:Catalog",
        "conformsTo": CONFORMS_TO,
        "describedBy": DESCRIBED_BY,
    }


def _email(*candidates: str | None) -> str | None:
    return next((f"mailto:{e}" for e in map(vocab.email, candidates) if e), None)


def _date(value: str | None) -> str | None:
    """An ISO 8601 date-time data.json's pattern accepts (seconds without a fraction, a zone)."""
    if not value:
        return None
    return value.replace("+00:00", "Z")


def dataset(entry: Entry, ctx: Context, urls: SiteUrls) -> dict:
    d = entry.dataset
    publisher = ctx.publishers.get(d.publisher or "")
    theme = ctx.themes.get(d.theme or "")
    licence = ctx.licences.get(d.license or "")
    titles = vocab.texts(d, "title", d.language)
    descriptions = vocab.texts(d, "description_text", d.language) or vocab.texts(d, "description", d.language)
    site_contact = ctx.site.contact or {}
    contact_name = d.contact_name or vocab.pick(vocab.registry_texts(publisher, "name"), LANG) or d.publisher
    out: dict = {
        "@type": "dcat:Dataset",
        "title": vocab.pick(titles, LANG) or d.name,
        "description": (vocab.pick(descriptions, LANG) or vocab.pick(titles, LANG) or d.name)[:MAX_DESCRIPTION],
        "keyword": list(dict.fromkeys(d.keywords or [])) or [d.theme or d.name],
        "modified": _date(d.modified) or _date(d.issued) or "",
        "publisher": {
            "@type": "org:Organization",
            "name": vocab.pick(vocab.registry_texts(publisher, "name"), LANG) or d.publisher or d.name,
        },
        "contactPoint": {
            "@type": "vcard:Contact",
            "fn": contact_name or "",
            "hasEmail": _email(d.contact_email, publisher.email if publisher else None, site_contact.get("email"))
            or "",
        },
        "identifier": d.id or urls.dataset_iri(d.name),
        "accessLevel": vocab.access(d.openness)[0],
        "landingPage": urls.landing(d.name),
        "language": [d.language] + ([vocab.other(d.language)] if len(titles) > 1 else []),
        "describedBy": urls.datapackage(d.name),
        "describedByType": "application/json",
    }
    if d.openness_condition:
        out["rights"] = d.openness_condition[:255]
    licence_url = vocab.web_url(licence.url if licence else None) or vocab.web_url(d.license_path)
    if licence_url:
        out["license"] = licence_url
    if d.issued:
        out["issued"] = _date(d.issued)
    iso = vocab.frequency(d.frequency)[1]
    if iso:
        out["accrualPeriodicity"] = iso
    if d.temporal_start and d.temporal_end:
        out["temporal"] = f"{d.temporal_start}/{d.temporal_end}"
    if d.spatial_name or d.spatial_code:
        out["spatial"] = d.spatial_name or d.spatial_code
    if theme:
        out["theme"] = [vocab.pick(vocab.registry_texts(theme, "name"), LANG) or theme.id]
    if d.version:
        out["version"] = d.version  # not in 1.1's schema, which allows extra properties; harvesters keep it
    out["distribution"] = [
        {
            "@type": "dcat:Distribution",
            "title": vocab.pick(dist.title, LANG),
            "description": vocab.pick(dist.description, LANG),
            "downloadURL": dist.download_url,
            "mediaType": dist.format.media_type,
            "format": dist.format.name,
            **({"describedBy": dist.described_by, "describedByType": "text/csv"} if dist.described_by else {}),
        }
        for dist in distributions.of(entry, urls)
    ]
    return out
