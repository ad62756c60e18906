"""DCAT-AP 3 RDF through Datasette's client: the catalogue's Hydra pages and each dataset in
Turtle, JSON-LD and RDF/XML, checked with pyshacl against the official mandatory and range
shapes (tests/fixtures/schemas/dcat-ap-3/shapes.ttl, range.ttl); language-tagged literals in zh and en; the
distributions' size, checksum and media type; content negotiation on the landing page."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from urllib.parse import urlsplit

import opendata_schemas as schemas
import pytest
from opendata_sites import GENERATED, datasette_for
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF, XSD

from gongkai.opendata import dcat_ap, negotiate

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml"}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.fixture(autouse=True)
def _no_base_override(monkeypatch):
    monkeypatch.delenv("GONGKAI_BASE_URL", raising=False)


def _path(url: str) -> str:
    parts = urlsplit(str(url))
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def _graph(ds, path: str, syntax: str) -> Graph:
    r = await ds.client.get(path)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["content-type"].startswith(dcat_ap.SYNTAXES[syntax][1])
    return Graph().parse(data=r.content, format=FORMATS[syntax])


@pytest.mark.parametrize("syntax", ["ttl", "jsonld", "rdf"])
async def test_catalogue_and_datasets_conform_to_the_mandatory_shapes(opendata_fixture_site, syntax):
    ds = await datasette_for(opendata_fixture_site)
    for path in (f"/catalog.{syntax}", f"/datasets/towns.{syntax}", f"/datasets/budget.{syntax}"):
        r = await ds.client.get(path)
        conforms, report = schemas.shacl(r.content, FORMATS[syntax])
        assert conforms, (path, report[:2000])


def _same_lexical_decimals(g: Graph) -> Graph:
    """Turtle writes the decimal 63 as `63.0`, JSON-LD as `"63"`: the same value, two spellings."""
    out = Graph()
    for s, p, o in g:
        if isinstance(o, Literal) and o.datatype == XSD.decimal:
            o = Literal(format(Decimal(str(o)).normalize(), "f"), datatype=XSD.decimal, normalize=False)
        out.add((s, p, o))
    return out


async def test_the_syntaxes_say_the_same_triples(opendata_fixture_site):
    ds = await datasette_for(opendata_fixture_site)
    graphs = [_same_lexical_decimals(await _graph(ds, f"/datasets/towns.{s}", s)) for s in FORMATS]
    assert len(graphs[0]) > 50
    assert isomorphic(graphs[0], graphs[1]) and isomorphic(graphs[0], graphs[2])


async def test_the_shapes_catch_a_dataset_without_a_title_or_a_mistyped_value(opendata_fixture_site):
    ds = await datasette_for(opendata_fixture_site)
    g = await _graph(ds, "/datasets/towns.ttl", "ttl")
    subject = next(g.subjects(RDF.type, DCAT.Dataset))
    g.remove((subject, DCTERMS.title, None))
    conforms, report = schemas.shacl(g.serialize(format="turtle"), "turtle")
    assert not conforms and "title" in report
    g = await _graph(ds, "/datasets/towns.ttl", "ttl")
    g.remove((None, RDF.type, DCTERMS.Frequency))  # the range shapes want the class said
    conforms, report = schemas.shacl(g.serialize(format="turtle"), "turtle")
    assert not conforms and "Frequency" in report


async def test_both_languages_and_the_distributions_facts(opendata_fixture_site):
    ds = await datasette_for(opendata_fixture_site)
    g = await _graph(ds, "/datasets/towns.ttl", "ttl")
    towns = URIRef("http://127.0.0.1:8001/datasets/towns#dataset")
    titles = set(g.objects(towns, DCTERMS.title))
    assert titles == {Literal("测试行政区划", lang="zh"), Literal("Test divisions", lang="en")}
    assert {o.language for o in g.objects(towns, DCAT.keyword)} == {"zh", "en"}
    assert (towns, DCAT.landingPage, URIRef("http://127.0.0.1:8001/datasets/towns")) in g
    dists = set(g.objects(towns, DCAT.distribution))
    kinds = {str(d).split("#", 1)[1].split("-", 1)[0] for d in dists}
    assert kinds == {"original", "file", "csv", "json", "zip", "datapackage", "sqlite"}
    files = {str(d).split("#", 1)[1].rsplit("-", 1)[0] for d in dists if "#file-" in str(d)}
    assert files == {f"file-{k}" for k in ("excel-csv", "xlsx", "csv", "json", "ndjson", "parquet", "dictionary")}
    for dist in dists:
        assert g.value(dist, DCAT.accessURL) is not None and g.value(dist, DCAT.mediaType) is not None
        assert {o.language for o in g.objects(dist, DCTERMS.title)} == {"zh", "en"}
        got = await ds.client.get(_path(g.value(dist, DCAT.downloadURL)))
        assert got.status_code == 200
        if g.value(dist, DCAT.accessService) is None:  # a stored file: its size and SHA-256 (#12)
            assert g.value(dist, DCAT.byteSize).toPython() == len(got.content), dist
            checksum = g.value(dist, SPDX.checksum)
            assert str(g.value(checksum, SPDX.checksumValue)) == hashlib.sha256(got.content).hexdigest(), dist
    original = URIRef("http://127.0.0.1:8001/datasets/towns#original-provinces")
    body = (await ds.client.get(_path(g.value(original, DCAT.downloadURL)))).content
    assert g.value(original, DCAT.byteSize).toPython() == len(body)
    checksum = g.value(original, SPDX.checksum)
    assert str(g.value(checksum, SPDX.checksumValue)) == hashlib.sha256(body).hexdigest()
    assert g.value(original, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/text/csv")
    # the data service (the JSON API) serves the dataset and gives access to the API distributions
    service = URIRef("http://127.0.0.1:8001/api#service")
    assert (service, RDF.type, DCAT.DataService) in g and (service, DCAT.servesDataset, towns) in g
    assert (URIRef("http://127.0.0.1:8001/datasets/towns#csv-cities"), DCAT.accessService, service) in g


async def test_hydra_pages_cover_a_large_catalogue_once(opendata_generated_site):
    ds = await datasette_for(opendata_generated_site)
    seen: list[str] = []
    url, pages = "/catalog.ttl", 0
    while url:
        g = await _graph(ds, url, "ttl")
        pages += 1
        catalog = next(g.subjects(RDF.type, DCAT.Catalog))
        on_page = [str(d) for d in g.objects(catalog, DCAT.dataset)]
        assert 0 < len(on_page) <= dcat_ap.PER_PAGE
        seen += on_page
        paging = next(g.subjects(RDF.type, HYDRA.PagedCollection))
        assert int(g.value(paging, HYDRA.totalItems)) == GENERATED
        assert int(g.value(paging, HYDRA.itemsPerPage)) == dcat_ap.PER_PAGE
        nxt = g.value(paging, HYDRA.nextPage)
        url = _path(nxt) if nxt else None
        assert pages < 50
    assert pages == -(-GENERATED // dcat_ap.PER_PAGE) and pages > 1
    assert len(seen) == len(set(seen)) == GENERATED
    last = await _graph(ds, f"/catalog.ttl?page={pages}", "ttl")
    paging = next(last.subjects(RDF.type, HYDRA.PagedCollection))
    assert str(last.value(paging, HYDRA.previousPage)).endswith(f"page={pages - 1}")
    assert last.value(paging, HYDRA.nextPage) is None


async def test_a_generated_page_conforms(opendata_generated_site):
    ds = await datasette_for(opendata_generated_site)
    r = await ds.client.get("/catalog.jsonld?page=2")
    conforms, report = schemas.shacl(r.content, "json-ld")
    assert conforms, report[:2000]


@pytest.mark.parametrize(
    "query,status,en",
    [
        ("?page=0", 400, "positive whole number"),
        ("?page=x", 400, "positive whole number"),
        ("?page=99", 404, "no page 99"),
    ],
)
async def test_bad_pages_are_bilingual_errors(opendata_fixture_site, query, status, en):
    ds = await datasette_for(opendata_fixture_site)
    r = await ds.client.get("/catalog.ttl" + query)
    assert r.status_code == status
    zh_line, en_line = r.text.strip().splitlines()
    assert en in en_line and any("\u4e00" <= ch <= "\u9fff" for ch in zh_line)
    missing = await ds.client.get("/datasets/nope.ttl")
    assert missing.status_code == 404 and "nope" in missing.text


@pytest.mark.parametrize(
    "accept,syntax",
    [
        ("text/turtle", "ttl"),
        ("application/ld+json", "jsonld"),
        ("application/rdf+xml", "rdf"),
        ("text/turtle;q=0.9, text/html;q=0.5", "ttl"),
    ],
)
async def test_the_landing_page_negotiates_rdf(opendata_fixture_site, accept, syntax):
    ds = await datasette_for(opendata_fixture_site)
    r = await ds.client.get("/datasets/towns", headers={"accept": accept})
    assert r.status_code == 200 and r.headers["content-type"].startswith(dcat_ap.SYNTAXES[syntax][1])
    assert "Accept" in r.headers["vary"]
    g = Graph().parse(data=r.content, format=FORMATS[syntax])
    assert (URIRef("http://127.0.0.1:8001/datasets/towns#dataset"), RDF.type, DCAT.Dataset) in g
    cat = await ds.client.get("/catalog", headers={"accept": accept})
    assert cat.status_code == 200 and (None, RDF.type, DCAT.Catalog) in Graph().parse(
        data=cat.content, format=FORMATS[syntax]
    )


@pytest.mark.parametrize("accept", [BROWSER, "*/*", "", "text/html;q=0.9, text/turtle;q=0.9"])
async def test_browsers_still_get_the_page(opendata_fixture_site, accept):
    ds = await datasette_for(opendata_fixture_site)
    r = await ds.client.get("/datasets/towns", headers={"accept": accept} if accept else {})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Accept" in r.headers["vary"]
    cat = await ds.client.get("/catalog", headers={"accept": accept} if accept else {})
    assert cat.status_code == 303 and cat.headers["location"] == "/datasets"


@pytest.mark.parametrize(
    "accept,expected",
    [
        (None, None),
        ("text/turtle", "ttl"),
        ("application/x-turtle", "ttl"),
        ("TEXT/TURTLE", "ttl"),
        ("application/ld+json;q=1, text/turtle;q=0.5", "jsonld"),
        ("text/turtle;q=0", None),
        ("text/turtle;q=abc", None),
        ("application/json", None),
        ("application/xml", None),
        ("*/*;q=0.1, application/rdf+xml", "rdf"),
        ("text/*, text/turtle;q=0.5", None),
        ("text/turtle," * 1000, None),
    ],
)
def test_rdf_syntax(accept, expected):
    assert negotiate.rdf_syntax(accept) == expected
