"""schema.org JSON-LD for search engines: a `Dataset` in each landing page's `<head>` and a
`DataCatalog` on the home page, in the page's language (the other language as `alternateName`).

The properties are those of Google's Dataset structured-data documentation: `name` and
`description` (required); `url`, `identifier`, `keywords`, `license`, `creator`, `publisher`,
`version`, `temporalCoverage`, `spatialCoverage`, `isAccessibleForFree`,
`includedInDataCatalog`, `distribution` (`DataDownload` with `contentUrl` and
`encodingFormat`), `variableMeasured` (from the data dictionary), `dateModified`,
`datePublished` (recommended). tests/test_opendata_schema_org.py checks them.

`script_json` makes the JSON safe inside `<script type="application/ld+json">`: a title holding
`</script>` (or `<!--`) must not end the element, so `<`, `>` and `&` are written as JSON
escapes, which parse back to the same text.
"""

from __future__ import annotations

import json

from markupsafe import Markup

from ..catalogue.harvest import Context, Entry
from . import distributions, vocab
from .urls import SiteUrls

DESCRIPTION_MAX = 5000  # Google: between 50 and 5000 characters
_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(value) -> Markup:
    """JSON text that cannot close or comment out the `<script>` element holding it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    # five str.replace calls, each one pass in C: a landing page's ~4,000 characters took
    # ~0.4 ms one character at a time in Python; none of the replacements creates another's key
    for ch, escaped in _ESCAPES.items():
        if ch in text:
            text = text.replace(ch, escaped)
    return Markup(text)


def _organisation(names: dict[str, str], lang: str, url: str | None, email: str | None = None) -> dict:
    out: dict = {"@type": "Organization", "name": vocab.pick(names, lang)}
    other = names.get(vocab.other(lang))
    if other and other != out["name"]:
        out["alternateName"] = other
    if url:
        out["url"] = url
    if vocab.email(email):
        out["email"] = vocab.email(email)
    return out


def catalog_ref(ctx: Context, urls: SiteUrls, lang: str) -> dict:
    return {"@type": "DataCatalog", "name": vocab.pick(ctx.site.title or {}, lang) or urls.base, "url": urls.home()}


def dataset(entry: Entry, ctx: Context, urls: SiteUrls, lang: str) -> dict:
    d = entry.dataset
    titles = vocab.texts(d, "title", d.language) or {d.language: d.name}
    descriptions = vocab.texts(d, "description_text", d.language) or titles
    publisher = ctx.publishers.get(d.publisher or "")
    licence = ctx.licences.get(d.license or "")
    org = _organisation(
        vocab.registry_texts(publisher, "name") or {lang: d.publisher or d.name},
        lang,
        urls.publisher(publisher.id) if publisher else None,
    )
    out: dict = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": urls.dataset_iri(d.name),
        "name": vocab.pick(titles, lang),
        "description": (vocab.pick(descriptions, lang) or "")[:DESCRIPTION_MAX],
        "url": urls.landing(d.name),
        "identifier": d.id or urls.dataset_iri(d.name),
        "inLanguage": d.language,
        "isAccessibleForFree": True,
        "creator": org,
        "publisher": org,
        "includedInDataCatalog": catalog_ref(ctx, urls, lang),
    }
    other = titles.get(vocab.other(lang))
    if other and other != out["name"]:
        out["alternateName"] = other
    keywords = d.keywords_translated if d.keywords_translated and d.language != lang else d.keywords
    if keywords:
        out["keywords"] = list(keywords)
    licence_url = vocab.web_url(licence.url if licence else None) or vocab.web_url(d.license_path)
    if licence_url:
        out["license"] = licence_url
    if d.version:
        out["version"] = d.version
    if d.modified:
        out["dateModified"] = d.modified
    if d.issued:
        out["datePublished"] = d.issued
    if d.temporal_start or d.temporal_end:
        out["temporalCoverage"] = f"{d.temporal_start or '..'}/{d.temporal_end or '..'}"
    if d.spatial_name or d.spatial_code:
        place: dict = {"@type": "Place", "name": d.spatial_name or d.spatial_code}
        if d.spatial_code:
            place["identifier"] = d.spatial_code
        out["spatialCoverage"] = place
    contact = vocab.email(d.contact_email) or vocab.email(publisher.email if publisher else None)
    if contact:
        out["creator"] = {
            **org,
            "contactPoint": {"@type": "ContactPoint", "email": contact, "name": d.contact_name or contact},
        }
    out["distribution"] = [
        {
            "@type": "DataDownload",
            "name": vocab.pick(dist.title, lang),
            "contentUrl": dist.download_url,
            "encodingFormat": dist.format.media_type,
            **({"contentSize": f"{dist.byte_size} B"} if dist.byte_size is not None else {}),
        }
        for dist in distributions.of(entry, urls)
    ]
    variables = []
    for f in (f for r in entry.resources for f in entry.fields_of(r.name)):  # in the resources' order
        var: dict = {"@type": "PropertyValue", "name": f.text("title", lang) or f.name, "propertyID": f.name}
        description = f.text("description", lang)
        if description:
            var["description"] = description
        if f.unit:
            var["unitText"] = f.unit
        variables.append(var)
    if variables:
        out["variableMeasured"] = variables
    return out


def data_catalog(ctx: Context, urls: SiteUrls, lang: str) -> dict:
    title = ctx.site.title or {}
    out: dict = {
        "@context": "https://schema.org/",
        "@type": "DataCatalog",
        "@id": urls.catalog_iri(),
        "name": vocab.pick(title, lang) or urls.base,
        "description": vocab.pick(ctx.site.description or {}, lang) or vocab.pick(title, lang) or urls.base,
        "url": urls.home(),
        "inLanguage": list(ctx.site.languages or ["zh", "en"]),
        "publisher": _organisation(
            title or {lang: urls.base}, lang, urls.home(), (ctx.site.contact or {}).get("email")
        ),
    }
    other = title.get(vocab.other(lang))
    if other and other != out["name"]:
        out["alternateName"] = other
    return out
