"""DCAT-US 3.0 `data-v3.json`: JSON-LD with the DCAT-US 3.0 context, beside the 1.1 document
so harvesters of either version work (data.gov's harvester reads both).

Checked in tests/test_opendata_dcat_us.py against the official JSON Schema
(`tests/fixtures/schemas/dcat-us-3.0/jsonschema/`). Both languages are given: the first language
(Chinese where there is one) in `title` / `description`, both in the `*Map` language maps. Written as a
stream like the 1.1 document (`head()` + one `dataset()` per entry).

Where the schema is narrower than the vocabulary, the schema wins: `keyword` is one string
there, so a dataset's keywords are joined with ", " (and given per language in `keywordMap`);
`byteSize` is a string.
"""

from __future__ import annotations

from .. import i18n
from ..catalogue.harvest import Context, Entry
from . import distributions, vocab
from .urls import SiteUrls

CONTEXT = "https://resources.data.gov/dcat-us/3.0.0/context/dcat-us-3.0.jsonld"
CONFORMS_TO = "https://resources.data.gov/dcat-us/3.0.0"
SHA256 = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
LANG = "zh"


def _map(values: dict[str, str]) -> dict[str, str] | None:
    return dict(values) if values else None


def _agent(ctx: Context, urls: SiteUrls) -> dict:
    title = ctx.site.title or {}
    return {"@type": "Agent", "@id": urls.home(), "name": vocab.pick(title, LANG) or urls.base}


def _contact(name: str | None, email: str | None) -> dict | None:
    mailbox = vocab.email(email)
    if mailbox is None:
        return None
    return {"@type": "Kind", "fn": name or mailbox, "hasEmail": f"mailto:{mailbox}"}


def service(ctx: Context, urls: SiteUrls) -> dict:
    site_contact = ctx.site.contact or {}
    contact = _contact(vocab.pick(site_contact.get("name") or {}, LANG), site_contact.get("email"))
    titles = {lang: i18n.t("opendata.service_title", lang) for lang in i18n.LANGS}
    descriptions = {lang: i18n.t("opendata.service_description", lang) for lang in i18n.LANGS}
    return {
        "@type": "DataService",
        "@id": urls.service_iri(),
        "title": titles[LANG],
        "titleMap": titles,
        "description": descriptions[LANG],
        "descriptionMap": descriptions,
        "endpointURL": [urls.home()],
        "endpointDescription": [urls.api_page()],
        "publisher": _agent(ctx, urls),
        "contactPoint": [contact] if contact else [],
    }


def head(ctx: Context, urls: SiteUrls) -> dict:
    title = ctx.site.title or {}
    description = ctx.site.description or {}
    return {
        "@context": CONTEXT,
        "@id": urls.document("/data-v3.json"),
        "@type": "Catalog",
        "conformsTo": CONFORMS_TO,
        "title": vocab.pick(title, LANG) or urls.base,
        "titleMap": _map(title),
        "description": vocab.pick(description, LANG) or vocab.pick(title, LANG) or urls.base,
        "descriptionMap": _map(description),
        "publisher": _agent(ctx, urls),
        "homepage": urls.home(),
        **({"modified": ctx.modified} if ctx.modified else {}),
        "service": [service(ctx, urls)],
    }


def _distribution(dist: distributions.Distribution, licence: str | None, urls: SiteUrls) -> dict:
    out: dict = {
        "@type": "Distribution",
        "@id": dist.iri,
        "title": vocab.pick(dist.title, LANG),
        "description": vocab.pick(dist.description, LANG),
        "accessURL": dist.access_url,
        "downloadURL": dist.download_url,
        "mediaType": dist.format.media_type_iri,
    }
    if dist.format.file_type_iri:
        out["format"] = dist.format.file_type_iri
    if dist.byte_size is not None:
        out["byteSize"] = str(dist.byte_size)
    if dist.sha256:
        out["checksum"] = {"@type": "Checksum", "algorithm": SHA256, "checksumValue": dist.sha256}
    if dist.via_api:
        out["accessService"] = [urls.service_iri()]
    if licence:
        out["license"] = licence
    return out


def dataset(entry: Entry, ctx: Context, urls: SiteUrls) -> dict:
    d = entry.dataset
    publisher = ctx.publishers.get(d.publisher or "")
    theme = ctx.themes.get(d.theme or "")
    licence = ctx.licences.get(d.license or "")
    licence_url = vocab.web_url(licence.url if licence else None) or vocab.web_url(d.license_path)
    titles = vocab.texts(d, "title", d.language) or {d.language: d.name}
    descriptions = vocab.texts(d, "description_text", d.language) or titles
    pub_names = vocab.registry_texts(publisher, "name") or {LANG: d.publisher or d.name}
    out: dict = {
        "@type": "Dataset",
        "@id": urls.dataset_iri(d.name),
        "title": vocab.pick(titles, LANG),
        "titleMap": titles,
        "description": vocab.pick(descriptions, LANG),
        "descriptionMap": descriptions,
        "identifier": [d.id or urls.dataset_iri(d.name)],
        "landingPage": urls.landing(d.name),
        "publisher": {
            "@type": "Organization",
            "@id": urls.publisher(d.publisher) if publisher and d.publisher else urls.home(),
            "name": vocab.pick(pub_names, LANG),
            "prefLabel": vocab.pick(pub_names, LANG),
        },
        "accessRights": vocab.access(d.openness)[1],
    }
    keywords = list(dict.fromkeys(d.keywords or []))
    if keywords:
        out["keyword"] = ", ".join(keywords)
        kw_map = {d.language: ", ".join(keywords)}
        if d.keywords_translated:
            kw_map[vocab.other(d.language)] = ", ".join(d.keywords_translated)
        out["keywordMap"] = kw_map
    contact = _contact(d.contact_name, vocab.email(d.contact_email) or (publisher.email if publisher else None))
    if contact:
        out["contactPoint"] = [contact]
    if d.modified:
        out["modified"] = d.modified
    if d.issued:
        out["issued"] = d.issued
    if d.version:
        out["version"] = d.version
    if theme:
        names = vocab.registry_texts(theme, "name") or {LANG: theme.id}
        out["theme"] = [
            {
                "@type": "Concept",
                "@id": urls.theme(theme.id),
                "prefLabel": vocab.pick(names, LANG),
                "prefLabelMap": names,
                "inScheme": urls.theme_scheme(),
            }
        ]
    if d.temporal_start or d.temporal_end:
        period: dict = {"@type": "PeriodOfTime"}
        if d.temporal_start:
            period["startDate"] = d.temporal_start
        if d.temporal_end:
            period["endDate"] = d.temporal_end
        out["temporal"] = [period]
    if d.spatial_name or d.spatial_code:
        place: dict = {"@type": "Location"}
        if d.spatial_name:
            place["prefLabel"] = d.spatial_name
        if d.spatial_code:
            place["identifier"] = [c.strip() for c in d.spatial_code.split(",") if c.strip()]
        out["spatial"] = [place]
    out["distribution"] = [_distribution(dist, licence_url, urls) for dist in distributions.of(entry, urls)]
    return out
