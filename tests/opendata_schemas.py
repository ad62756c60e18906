"""The official checks of the catalogue documents, loaded from tests/fixtures/schemas/ (copied
byte for byte from their sources: tests/fixtures/schemas/SOURCE.md).

- `dcat_us_11()`: data.gov's non-federal DCAT-US 1.1 catalogue schema (JSON Schema 2020-12),
  its `dataset.json` reference resolved to `non-federal_dataset.json` as SOURCE.md says;
- `dcat_us_30()`: the DCAT-US 3.0 JSON Schema (draft-07): every `definitions/*.json` under one
  `definitions` object with the property-level `$id`s dropped (they would move the base URI),
  validated as `#/definitions/Catalog`. The official schema refers to nine classes it never
  defines (`Resource`, `LinguisticSystem`, `Frequency`, `ChecksumAlgorithm`…, each only as
  the "inline description" alternative to an IRI string): they are given as `{"type":
  "object"}`, what an inline JSON-LD node is, so an IRI string still matches exactly one branch;
- `shacl()`: pyshacl with the DCAT-AP 3.0.0 mandatory shapes (`shapes.ttl`) and the range
  shapes (`range.ttl`: each property's value of the class DCAT-AP says) together.

Format checks are on (`FORMAT_CHECKER`, with rfc3339-validator and rfc3986-validator
installed): without them a date matches both the `date-time` and the `date` branch of 3.0's
`oneOf` and every document would fail.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMAS = Path(__file__).parent / "fixtures" / "schemas"
UNDEFINED_IN_30 = (
    "Resource",
    "LinguisticSystem",
    "Role",
    "ImageObject",
    "Frequency",
    "anySimpleType",
    "Policy",
    "Dimension",
    "ChecksumAlgorithm",
)


@cache
def dcat_us_11() -> jsonschema.Draft202012Validator:
    folder = SCHEMAS / "dcat-us-1.1"
    catalog = json.loads((folder / "catalog.json").read_text(encoding="utf-8"))
    dataset = json.loads((folder / "non-federal_dataset.json").read_text(encoding="utf-8"))
    base = "https://project-open-data.cio.gov/v1.1/schema/"
    registry = Registry().with_resources(
        [(base + "dataset.json", Resource.from_contents(dataset, default_specification=DRAFT202012))]
    )
    return jsonschema.Draft202012Validator(
        catalog, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _drop_ids(node):
    if isinstance(node, dict):
        return {k: _drop_ids(v) for k, v in node.items() if k != "$id"}
    if isinstance(node, list):
        return [_drop_ids(v) for v in node]
    return node


@cache
def dcat_us_30() -> jsonschema.Draft7Validator:
    folder = SCHEMAS / "dcat-us-3.0" / "jsonschema" / "definitions"
    definitions = {
        path.stem: _drop_ids(json.loads(path.read_text(encoding="utf-8"))) for path in sorted(folder.glob("*.json"))
    }
    for name in UNDEFINED_IN_30:
        assert name not in definitions, f"{name} is defined now: drop it from UNDEFINED_IN_30"
        definitions[name] = {"type": "object"}
    for d in definitions.values():
        d.pop("$schema", None)
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": definitions,
        "$ref": "#/definitions/Catalog",
    }
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def errors(validator, document) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
        for e in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


SHAPES = ("shapes.ttl", "range.ttl")


@cache
def _shapes():
    from rdflib import Graph

    shapes = Graph()
    for name in SHAPES:  # each parsed on its own: their prefixes and blank nodes are their own
        shapes.parse(SCHEMAS / "dcat-ap-3" / name, format="turtle")
    return shapes


def shacl(data, fmt: str = "turtle") -> tuple[bool, str]:
    """pyshacl's verdict on an RDF document (bytes or str) against the mandatory and range shapes."""
    import pyshacl
    from rdflib import Graph

    graph = Graph().parse(data=data, format=fmt)
    conforms, _, text = pyshacl.validate(graph, shacl_graph=_shapes(), inference="none", advanced=True)
    return conforms, text
