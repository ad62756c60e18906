"""DCAT-AP 3 as RDF: the catalogue (`/catalog.ttl|.jsonld|.rdf`, one Hydra page at a time) and
each dataset (`/datasets/<name>.ttl|.jsonld|.rdf`, and its landing page by content negotiation).

Built with rdflib and serialised by it, so every syntax says the same triples. Text is given in
both languages as language-tagged literals (`"…"@zh`, `"…"@en`). Checked in
tests/test_opendata_dcat_ap.py with pyshacl against the official DCAT-AP 3.0.0 shapes
(`tests/fixtures/schemas/dcat-ap-3/`).

A catalogue of 10,000 datasets is never one document: `catalog_page` describes one page of
`PER_PAGE` datasets and links the others with the Hydra paging vocabulary that DCAT-AP
harvesters (ckanext-dcat, data.europa.eu) follow: `hydra:PagedCollection` with
`totalItems`, `itemsPerPage`, `firstPage`, `nextPage`, `previousPage`, `lastPage`.
"""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from .. import i18n
from ..catalogue.harvest import Context, Entry, Page
from ..catalogue.records import Publisher, Theme
from ..exports.manifest import FileEntry
from . import distributions, vocab
from .urls import SiteUrls

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
DCAT3 = Namespace("http://www.w3.org/ns/dcat#")  # DCAT 3 terms rdflib's DCAT does not list (dcat:version)
DCAT_AP_3 = "http://data.europa.eu/r5r/"  # the application profile a record conforms to
DATA_PACKAGE = "https://datapackage.org/standard/data-package/"

# Datasets per catalogue page: rdflib builds and writes 100 datasets' Turtle in about a second
# (tests/test_opendata_dcat_ap.py measures it), 50 keep a page near half that.
PER_PAGE = 50

# syntax → (rdflib format, media type)
SYNTAXES = {
    "ttl": ("turtle", "text/turtle"),
    "jsonld": ("json-ld", "application/ld+json"),
    "rdf": ("xml", "application/rdf+xml"),  # rdflib's plain writer: a third of pretty-xml's time
}


def new_graph() -> Graph:
    g = Graph()
    for prefix, ns in (
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("foaf", FOAF),
        ("vcard", VCARD),
        ("spdx", SPDX),
        ("hydra", HYDRA),
        ("skos", SKOS),
        ("adms", ADMS),
        ("dcatap", DCATAP),
        ("xsd", XSD),
    ):
        g.bind(prefix, ns)
    return g


def serialise(g: Graph, syntax: str) -> bytes:
    fmt, _ = SYNTAXES[syntax]
    if fmt == "json-ld":
        return g.serialize(format=fmt, auto_compact=True, encoding="utf-8")
    return g.serialize(format=fmt, encoding="utf-8")


def _link(g: Graph, subject, predicate, iri: str, cls: URIRef) -> URIRef:
    """`subject predicate <iri>`, and `<iri> a cls`: the range the shapes check (range.ttl)
    needs the class said, since no harvester's copy of the EU vocabularies is loaded here."""
    node = URIRef(iri)
    g.add((subject, predicate, node))
    g.add((node, RDF.type, cls))
    return node


def _texts(g: Graph, subject, predicate, values: dict[str, str]) -> None:
    for lang, text in values.items():
        g.add((subject, predicate, Literal(text, lang=lang)))


def _date(value: str | None) -> Literal | None:
    """xsd:date or xsd:dateTime, as the shapes' DateOrDateTimeDataType asks; None if neither."""
    if not value:
        return None
    text = value.strip()
    if len(text) == 10:
        return Literal(text, datatype=XSD.date)
    if "T" in text:
        return Literal(text.replace("Z", "+00:00"), datatype=XSD.dateTime)
    return None


def _publisher(g: Graph, urls: SiteUrls, pub: Publisher | None, fallback: str | None) -> URIRef:
    iri = URIRef(urls.publisher(pub.id) if pub else urls.home() + "#publisher")
    g.add((iri, RDF.type, FOAF.Agent))
    g.add((iri, RDF.type, FOAF.Organization))
    names = vocab.registry_texts(pub, "name") or {"zh": fallback or urls.base}
    _texts(g, iri, FOAF.name, names)
    if pub is not None:
        homepage, mailbox = vocab.web_url(pub.homepage), vocab.email(pub.email)
        if homepage:
            _link(g, iri, FOAF.homepage, homepage, FOAF.Document)
        if mailbox:
            g.add((iri, FOAF.mbox, URIRef(f"mailto:{mailbox}")))
        if pub.uscc:
            g.add((iri, DCTERMS.identifier, Literal(pub.uscc)))
    return iri


def _theme(g: Graph, urls: SiteUrls, theme: Theme) -> URIRef:
    iri = URIRef(urls.theme(theme.id))
    scheme = URIRef(urls.theme_scheme())
    g.add((iri, RDF.type, SKOS.Concept))
    g.add((iri, SKOS.inScheme, scheme))
    _texts(g, iri, SKOS.prefLabel, vocab.registry_texts(theme, "name") or {"zh": theme.id})
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    _texts(g, scheme, DCTERMS.title, {lang: i18n.t("portal.theme", lang) for lang in i18n.LANGS})
    return iri


def _site_agent(g: Graph, ctx: Context, urls: SiteUrls) -> URIRef:
    iri = URIRef(urls.home() + "#publisher")
    g.add((iri, RDF.type, FOAF.Agent))
    g.add((iri, RDF.type, FOAF.Organization))
    _texts(g, iri, FOAF.name, ctx.site.title or {"zh": urls.base})
    mailbox = vocab.email((ctx.site.contact or {}).get("email"))
    if mailbox:
        g.add((iri, FOAF.mbox, URIRef(f"mailto:{mailbox}")))
    return iri


def add_service(g: Graph, ctx: Context, urls: SiteUrls) -> URIRef:
    iri = URIRef(urls.service_iri())
    g.add((iri, RDF.type, DCAT.DataService))
    _texts(g, iri, DCTERMS.title, {lang: i18n.t("opendata.service_title", lang) for lang in i18n.LANGS})
    _texts(g, iri, DCTERMS.description, {lang: i18n.t("opendata.service_description", lang) for lang in i18n.LANGS})
    g.add((iri, DCAT.endpointURL, URIRef(urls.home())))
    g.add((iri, DCAT.endpointDescription, URIRef(urls.api_page())))
    g.add((iri, DCTERMS.publisher, _site_agent(g, ctx, urls)))
    _link(g, iri, DCAT.landingPage, urls.api_page(), FOAF.Document)
    mailbox = vocab.email((ctx.site.contact or {}).get("email"))
    if mailbox:
        contact = BNode()
        g.add((iri, DCAT.contactPoint, contact))
        g.add((contact, RDF.type, VCARD.Kind))
        g.add((contact, VCARD.fn, Literal(vocab.pick((ctx.site.contact or {}).get("name"), "zh") or mailbox)))
        g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{mailbox}")))
    return iri


def add_dataset(g: Graph, entry: Entry, ctx: Context, urls: SiteUrls) -> URIRef:
    """The dataset, its distributions, publisher, theme, contact, coverage; returns its IRI."""
    d = entry.dataset
    ds = URIRef(urls.dataset_iri(d.name))
    g.add((ds, RDF.type, DCAT.Dataset))
    titles = vocab.texts(d, "title", d.language) or {d.language: d.name}
    _texts(g, ds, DCTERMS.title, titles)
    _texts(g, ds, DCTERMS.description, vocab.texts(d, "description_text", d.language) or titles)
    g.add((ds, DCTERMS.identifier, Literal(d.id or d.name)))
    _link(g, ds, DCAT.landingPage, urls.landing(d.name), FOAF.Document)
    for k in d.keywords or []:
        g.add((ds, DCAT.keyword, Literal(k, lang=d.language)))
    for k in d.keywords_translated or []:
        g.add((ds, DCAT.keyword, Literal(k, lang=vocab.other(d.language))))
    _link(g, ds, DCTERMS.language, vocab.language_iri(d.language), DCTERMS.LinguisticSystem)
    if d.title_en or d.title_zh:
        _link(g, ds, DCTERMS.language, vocab.language_iri(vocab.other(d.language)), DCTERMS.LinguisticSystem)
    publisher = ctx.publishers.get(d.publisher or "")
    g.add((ds, DCTERMS.publisher, _publisher(g, urls, publisher, d.publisher)))
    theme = ctx.themes.get(d.theme or "")
    if theme is not None:
        g.add((ds, DCAT.theme, _theme(g, urls, theme)))
    mailbox = vocab.email(d.contact_email) or vocab.email(publisher.email if publisher else None)
    if mailbox:
        contact = BNode()
        g.add((ds, DCAT.contactPoint, contact))
        g.add((contact, RDF.type, VCARD.Kind))
        g.add((contact, VCARD.fn, Literal(d.contact_name or mailbox)))
        g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{mailbox}")))
    for prop, value in ((DCTERMS.modified, d.modified), (DCTERMS.issued, d.issued)):
        lit = _date(value)
        if lit is not None:
            g.add((ds, prop, lit))
    eu_frequency, _ = vocab.frequency(d.frequency)
    if eu_frequency:
        _link(g, ds, DCTERMS.accrualPeriodicity, eu_frequency, DCTERMS.Frequency)
    _link(g, ds, DCTERMS.accessRights, vocab.access(d.openness)[1], DCTERMS.RightsStatement)
    if d.version:
        g.add((ds, DCAT3.version, Literal(d.version)))
    if d.temporal_start or d.temporal_end:
        period = BNode()
        g.add((ds, DCTERMS.temporal, period))
        g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        for prop, value in ((DCAT.startDate, d.temporal_start), (DCAT.endDate, d.temporal_end)):
            lit = _date(value)
            if lit is not None:
                g.add((period, prop, lit))
    if d.spatial_name or d.spatial_code:
        place = BNode()
        g.add((ds, DCTERMS.spatial, place))
        g.add((place, RDF.type, DCTERMS.Location))
        if d.spatial_name:
            g.add((place, SKOS.prefLabel, Literal(d.spatial_name, lang=d.language)))
        for code in (d.spatial_code or "").split(","):
            if code.strip():
                g.add((place, DCTERMS.identifier, Literal(code.strip())))
    for source in d.sources or []:
        # DCAT-AP's dct:source is a dcat:Dataset (range.ttl): the source dataset, named by its
        # title, found at its page; its URL is the page, not the dataset itself
        path = vocab.web_url(source.get("path")) if isinstance(source, dict) else None
        if path:
            origin = BNode()
            g.add((ds, DCTERMS.source, origin))
            g.add((origin, RDF.type, DCAT.Dataset))
            title = source.get("title") if isinstance(source.get("title"), str) and source["title"].strip() else path
            g.add((origin, DCTERMS.title, Literal(title, lang=d.language)))
            g.add((origin, DCTERMS.description, Literal(title, lang=d.language)))
            _link(g, origin, DCAT.landingPage, path, FOAF.Document)
    licence = ctx.licences.get(d.license or "")
    licence_iri = None
    licence_url = vocab.web_url(licence.url if licence else None) or vocab.web_url(d.license_path)
    if licence_url:
        licence_iri = URIRef(licence_url)
        g.add((licence_iri, RDF.type, DCTERMS.LicenseDocument))
        _texts(g, licence_iri, RDFS.label, vocab.registry_texts(licence, "title") or {"zh": d.license or licence_url})
    service = URIRef(urls.service_iri())
    for dist in distributions.of(entry, urls):
        _add_distribution(g, ds, dist, service, licence_iri)
    return ds


def _add_distribution(
    g: Graph, parent: URIRef, dist: distributions.Distribution, service: URIRef, licence_iri: URIRef | None
) -> None:
    node = URIRef(dist.iri)
    g.add((parent, DCAT.distribution, node))
    g.add((node, RDF.type, DCAT.Distribution))
    _texts(g, node, DCTERMS.title, dist.title)
    _texts(g, node, DCTERMS.description, dist.description)
    g.add((node, DCAT.accessURL, URIRef(dist.access_url)))
    g.add((node, DCAT.downloadURL, URIRef(dist.download_url)))
    _link(g, node, DCAT.mediaType, dist.format.media_type_iri, DCTERMS.MediaType)
    if dist.format.file_type_iri:
        _link(g, node, DCTERMS.format, dist.format.file_type_iri, DCTERMS.MediaTypeOrExtent)
    # a stored file stays as long as its release; what the API makes, as long as the API
    availability = "AVAILABLE" if dist.via_api else "STABLE"
    concept = _link(g, node, DCATAP.availability, f"{vocab.EU}planned-availability/{availability}", SKOS.Concept)
    _texts(
        g,
        concept,
        SKOS.prefLabel,
        {lang: i18n.t(f"opendata.availability_{availability}", lang) for lang in i18n.LANGS},
    )
    if dist.byte_size is not None:
        # xsd:decimal, as DCAT-AP 3.0.0 (its shapes) asks, not DCAT 3's nonNegativeInteger
        g.add((node, DCAT.byteSize, Literal(str(dist.byte_size), datatype=XSD.decimal, normalize=False)))
    if dist.sha256:
        checksum = BNode()
        g.add((node, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, Literal(dist.sha256, datatype=XSD.hexBinary)))
    if dist.via_api:
        g.add((node, DCAT.accessService, service))
    if dist.kind == "datapackage":
        _link(g, node, DCTERMS.conformsTo, DATA_PACKAGE, DCTERMS.Standard)
    if licence_iri is not None:
        g.add((node, DCTERMS.license, licence_iri))


def _catalog(g: Graph, ctx: Context, urls: SiteUrls, files: Iterable[FileEntry] = ()) -> URIRef:
    cat = URIRef(urls.catalog_iri())
    g.add((cat, RDF.type, DCAT.Catalog))
    title = ctx.site.title or {"zh": urls.base}
    _texts(g, cat, DCTERMS.title, title)
    _texts(g, cat, DCTERMS.description, ctx.site.description or title)
    g.add((cat, DCTERMS.publisher, _site_agent(g, ctx, urls)))
    _link(g, cat, FOAF.homepage, urls.home(), FOAF.Document)
    for lang in ctx.site.languages or i18n.LANGS:
        _link(g, cat, DCTERMS.language, vocab.language_iri(lang), DCTERMS.LinguisticSystem)
    lit = _date(ctx.modified)
    if lit is not None:
        g.add((cat, DCTERMS.modified, lit))
    _link(g, cat, DCTERMS.conformsTo, DCAT_AP_3, DCTERMS.Standard)
    g.add((cat, DCAT.service, add_service(g, ctx, urls)))
    scheme = URIRef(urls.theme_scheme())
    g.add((cat, DCAT.themeTaxonomy, scheme))
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    _texts(g, scheme, DCTERMS.title, {lang: i18n.t("portal.theme", lang) for lang in i18n.LANGS})
    # the whole catalogue as files (gongkai/catalogue_files.py): a dcat:Catalog is a dcat:Dataset
    for dist in distributions.of_catalogue(files, urls):
        _add_distribution(g, cat, dist, URIRef(urls.service_iri()), None)
    return cat


def catalog_page(page: Page, ctx: Context, urls: SiteUrls, syntax: str, files: Iterable[FileEntry] = ()) -> Graph:
    """One page of the catalogue: the catalogue itself (with `files`, the catalogue's own
    downloads, as its distributions), the page's datasets, the Hydra links."""
    g = new_graph()
    cat = _catalog(g, ctx, urls, files)
    service = URIRef(urls.service_iri())
    for entry in page.entries:
        ds = add_dataset(g, entry, ctx, urls)
        g.add((cat, DCAT.dataset, ds))
        g.add((service, DCAT.servesDataset, ds))
    doc = f"/catalog.{syntax}"
    this = URIRef(urls.document(doc, {"page": page.number}))
    g.add((this, RDF.type, HYDRA.PagedCollection))
    g.add((this, HYDRA.totalItems, Literal(page.total, datatype=XSD.integer)))
    g.add((this, HYDRA.itemsPerPage, Literal(page.per_page, datatype=XSD.integer)))
    g.add((this, HYDRA.firstPage, Literal(urls.document(doc, {"page": 1}))))
    g.add((this, HYDRA.lastPage, Literal(urls.document(doc, {"page": page.last}))))
    if page.number > 1:
        g.add((this, HYDRA.previousPage, Literal(urls.document(doc, {"page": page.number - 1}))))
    if page.number < page.last:
        g.add((this, HYDRA.nextPage, Literal(urls.document(doc, {"page": page.number + 1}))))
    return g


def dataset_graph(entry: Entry, ctx: Context, urls: SiteUrls) -> Graph:
    g = new_graph()
    add_dataset(g, entry, ctx, urls)
    g.add((URIRef(urls.service_iri()), DCAT.servesDataset, URIRef(urls.dataset_iri(entry.dataset.name))))
    add_service(g, ctx, urls)
    return g
