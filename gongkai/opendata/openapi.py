"""The OpenAPI 3.1 description of the site's public JSON API, served at `/openapi.json`.

It describes what the site answers, as it answers it: Datasette's table, row and query JSON
(with `_shape`, paging, sorting, `_search`), the site-wide search, and the catalogue documents
(DCAT-US, DCAT-AP, the sitemap, the feeds). Paths are templates (`/{dataset}/{table}.json`);
the dataset and table names of this site are given as `examples` (and as an `enum` while the
catalogue is small), so generated clients and API testers such as schemathesis send real names,
and the document stays bounded whatever the catalogue's size (`EXAMPLE_LIMIT`).

Every error answer is the site's JSON error (plugins/error_pages.py): `ok: false` with the
message in both languages. The test suite runs schemathesis against a live server with this
document (tests/test_openapi.py): no 5xx, every response as described.
"""

from __future__ import annotations

from typing import Any

from .. import i18n

VERSION = "3.1.0"
EXAMPLE_LIMIT = 50  # names listed as examples; an `enum` only when the catalogue is this small
MAX_SIZE = 1000  # Datasette's max_returned_rows (gongkai/serve.py SETTINGS)

ERROR = {
    "type": "object",
    "required": ["ok", "error"],
    "properties": {
        "ok": {"const": False},
        "error": {"type": "string", "description": "What is wrong and what to do, in English"},
        "error_zh": {"type": "string", "description": "The same in Chinese"},
        "detail": {"type": ["string", "null"], "description": "The database's own words, where it spoke"},
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "title_zh": {"type": "string"},
    },
}
CELL: dict[str, Any] = {"type": ["string", "number", "integer", "null", "boolean"]}
ROW_OBJECT = {"type": "object", "additionalProperties": CELL}
ROW_ARRAY = {"type": "array", "items": CELL}
TABLE = {
    "oneOf": [
        {
            "type": "object",
            "required": ["database", "table", "rows", "columns"],
            "properties": {
                "database": {"type": "string"},
                "table": {"type": "string"},
                "columns": {"type": "array", "items": {"type": "string"}},
                "rows": {"type": "array", "items": {"oneOf": [ROW_ARRAY, ROW_OBJECT]}},
                "primary_keys": {"type": "array", "items": {"type": "string"}},
                "filtered_table_rows_count": {"type": ["integer", "null"]},
                "next": {"type": ["string", "null"]},
                "next_url": {"type": ["string", "null"]},
                "truncated": {"type": "boolean"},
            },
        },
        {"type": "array", "items": ROW_OBJECT},
    ]
}
QUERY = {
    "oneOf": [
        {
            "type": "object",
            "required": ["ok", "rows", "columns"],
            "properties": {
                "ok": {"type": "boolean"},
                "database": {"type": "string"},
                "columns": {"type": "array", "items": {"type": "string"}},
                "rows": {"type": "array", "items": {"oneOf": [ROW_ARRAY, ROW_OBJECT]}},
                "truncated": {"type": "boolean"},
                "error": {"type": ["string", "null"]},
            },
        },
        {"type": "array", "items": ROW_OBJECT},
    ]
}
SEARCH = {
    "type": "object",
    "required": ["ok", "q"],
    "properties": {
        "ok": {"type": "boolean"},
        "q": {"type": ["string", "null"]},
        "terms": {"type": "array", "items": {"type": "string"}},
        "datasets": {"type": "array", "items": {"type": "object"}},
    },
}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(lang: str, *statuses: int) -> dict:
    return {
        str(s): _json({"$ref": "#/components/schemas/Error"}, i18n.t(f"openapi.status_{s}", lang)) for s in statuses
    }


def _text_errors(lang: str, *statuses: int) -> dict:
    """The catalogue documents' errors: plain text, both languages (plugins/opendata.py)."""
    return {str(s): _document("text/plain", i18n.t(f"openapi.status_{s}", lang)) for s in statuses}


def _name_param(name: str, names: list[str], lang: str) -> dict:
    schema: dict[str, Any] = {"type": "string"}
    if names and len(names) <= EXAMPLE_LIMIT:
        schema["enum"] = names
    param: dict[str, Any] = {
        "name": name,
        "in": "path",
        "required": True,
        "description": i18n.t(f"openapi.param_{name}", lang),
        "schema": schema,
    }
    if names:
        param["examples"] = {n: {"value": n} for n in names[:EXAMPLE_LIMIT]}
    return param


def _query(name: str, schema: dict, lang: str, **extra) -> dict:
    return {
        "name": name,
        "in": "query",
        "description": i18n.t(f"openapi.param_{name}", lang),
        "schema": schema,
        **extra,
    }


def _op(op_id: str, lang: str, tag: str, responses: dict, parameters: list | None = None) -> dict:
    return {
        "get": {
            "operationId": op_id,
            "tags": [tag],
            "summary": i18n.t(f"openapi.op_{op_id}", lang),
            "parameters": parameters or [],
            "responses": responses,
        }
    }


def _document(content_type: str, description: str, *, schema: dict | None = None) -> dict:
    return {
        "description": description,
        "content": {content_type: {"schema": {"type": "string"} if schema is None else schema}},
    }


def document(base: str, datasets: list[str], tables: list[str], lang: str) -> dict:
    """The OpenAPI document. `base`: the site's absolute address ('' for relative); `datasets`
    and `tables`: real names to give as examples (the first `EXAMPLE_LIMIT` are used)."""
    t = lambda key, **fmt: i18n.t(key, lang, **fmt)  # noqa: E731
    dataset = _name_param("dataset", datasets, lang)
    table = _name_param("table", tables, lang)
    shape = _query("_shape", {"type": "string", "enum": ["objects", "arrays", "array"]}, lang)
    size = _query("_size", {"type": "integer", "minimum": 1, "maximum": MAX_SIZE}, lang)
    paging = [
        shape,
        size,
        _query("_next", {"type": "string"}, lang),
        _query("_sort", {"type": "string"}, lang),
        _query("_sort_desc", {"type": "string"}, lang),
        _query("_search", {"type": "string"}, lang),
    ]
    ok = lambda schema, key: _json(schema, t(key))  # noqa: E731
    paths = {
        "/{dataset}/{table}.json": _op(
            "table_rows",
            lang,
            "data",
            {"200": ok({"$ref": "#/components/schemas/Table"}, "openapi.ok_rows"), **_errors(lang, 400, 404, 429)},
            [dataset, table, *paging],
        ),
        "/{dataset}/{table}/{key}.json": _op(
            "row",
            lang,
            "data",
            {"200": ok({"$ref": "#/components/schemas/Table"}, "openapi.ok_row"), **_errors(lang, 400, 404, 429)},
            [
                dataset,
                table,
                {
                    "name": "key",
                    "in": "path",
                    "required": True,
                    "description": t("openapi.param_key"),
                    "schema": {"type": "string"},
                },
                shape,
            ],
        ),
        "/{dataset}.json": _op(
            "sql",
            lang,
            "data",
            {"200": ok({"$ref": "#/components/schemas/Query"}, "openapi.ok_sql"), **_errors(lang, 400, 403, 404, 429)},
            [dataset, _query("sql", {"type": "string"}, lang, required=True, example="select 1"), shape],
        ),
        "/-/search.json": _op(
            "search",
            lang,
            "search",
            {"200": ok({"$ref": "#/components/schemas/Search"}, "openapi.ok_search"), **_errors(lang, 400, 429)},
            [_query("q", {"type": "string"}, lang, example="人口")],
        ),
        "/data.json": _op(
            "dcat_us",
            lang,
            "catalogue",
            {"200": _document("application/json", t("openapi.ok_dcat_us"), schema={"type": "object"})},
        ),
        "/data-v3.json": _op(
            "dcat_us3",
            lang,
            "catalogue",
            {"200": _document("application/json", t("openapi.ok_dcat_us3"), schema={"type": "object"})},
        ),
        "/catalog.ttl": _op(
            "catalog_ttl",
            lang,
            "catalogue",
            {"200": _document("text/turtle", t("openapi.ok_catalog")), **_text_errors(lang, 400, 404)},
            [_query("page", {"type": "integer", "minimum": 1}, lang)],
        ),
        "/datasets/{dataset}.jsonld": _op(
            "dataset_jsonld",
            lang,
            "catalogue",
            {
                "200": _document("application/ld+json", t("openapi.ok_dataset_rdf"), schema={"type": "object"}),
                **_text_errors(lang, 404),
            },
            [dataset],
        ),
        "/sitemap.xml": _op(
            "sitemap", lang, "catalogue", {"200": _document("application/xml", t("openapi.ok_sitemap"))}
        ),
        "/feeds/datasets.atom": _op(
            "feed", lang, "catalogue", {"200": _document("application/atom+xml", t("openapi.ok_feed"))}
        ),
    }
    return {
        "openapi": VERSION,
        "info": {
            "title": t("openapi.title", site=t("site_name")),
            "description": t("openapi.description"),
            "version": "1",
        },
        "servers": [{"url": base or "/"}],
        "tags": [{"name": n, "description": t(f"openapi.tag_{n}")} for n in ("data", "search", "catalogue")],
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR, "Table": TABLE, "Query": QUERY, "Search": SEARCH},
        },
    }


def operations(doc: dict) -> list[tuple[str, str, str]]:
    """(method, path, summary) of every operation, for the readable list on /api."""
    return [
        (method.upper(), path, op.get("summary", ""))
        for path, item in doc["paths"].items()
        for method, op in item.items()
    ]
