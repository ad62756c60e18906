"""`/openapi.json` (plugins/openapi.py) and the API it describes, checked with schemathesis against
a real server on 127.0.0.1: no 5xx, every status, content type and body as the document says,
and the request mistakes a client makes most (an unknown `_sort` column, a bad `_size`, SQL that
is not a SELECT, a missing table) answered 400/404 with the site's JSON error, never 500."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from live_server import live_server
from markupsafe import escape
from opendata_sites import datasette_for
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gongkai import i18n
from gongkai.opendata import openapi

ROOT = Path(__file__).resolve().parent.parent
# Enough examples per operation to reach every parameter, few enough for CI (about 30 s).
EXAMPLES = 25


@pytest.fixture(scope="module")
def live_site(opendata_fixture_site):
    """A real server of the fixture site; the rate limits raised so the checks measure the
    API, not the limiter (which has its own tests)."""
    limits = {
        f"GONGKAI_LIMIT_{k}": "100000" for k in ("SQL_PER_MINUTE", "SQL_BURST", "SEARCH_PER_MINUTE", "SEARCH_BURST")
    }
    with live_server(opendata_fixture_site, env={**limits, "GONGKAI_BASE_URL": None}, ready="/openapi.json") as base:
        yield base


def _operations(base: str):
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json?_lang=en")
    return [result.ok() for result in schema.get_all_operations()]


def test_the_api_answers_as_its_document_says(live_site):
    """Every operation, EXAMPLES generated requests each (schemathesis's strategies driven by
    hypothesis here rather than through its pytest plugin, which this pytest cannot load)."""
    operations = _operations(live_site)
    assert len(operations) == len(openapi.operations(httpx.get(f"{live_site}/openapi.json").json()))
    checked = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            response = case.call(timeout=30)
            assert response.status_code < 500, (case.method, case.formatted_path, case.query, response.text[:300])
            case.validate_response(
                response, checks=[status_code_conformance, content_type_conformance, response_schema_conformance]
            )
            checked.append(response.status_code)

        check()
    assert 200 in checked and any(400 <= s < 500 for s in checked)


@pytest.mark.parametrize(
    "path, status",
    [
        ("/budget/budget.json?_sort=nope", 400),
        ("/budget/budget.json?_sort_desc=nope", 400),
        ("/budget/budget.json?_size=abc", 400),
        ("/budget/budget.json?_size=-1", 400),
        ("/budget/budget.json?_shape=nonsense", 400),
        ("/budget/budget.json?项目__in=[1", 400),
        ("/budget.json?sql=update+budget+set+x=1", 400),
        ("/budget.json?sql=select+nope+from+budget", 400),
        ("/budget/nothing.json", 404),
        ("/nothing/budget.json", 404),
    ],
)
def test_request_mistakes_are_json_errors_not_500(live_site, path, status):
    response = httpx.get(live_site + path, timeout=30)
    assert response.status_code == status, (path, response.text[:300])
    body = response.json()
    assert body["ok"] is False and body["error"] and body["error_zh"], body


@pytest.mark.parametrize("lang", i18n.LANGS)
async def test_the_document_names_this_sites_data_in_the_page_language(opendata_fixture_site, lang):
    ds = await datasette_for(opendata_fixture_site)
    response = await ds.client.get(i18n.lang_url("/openapi.json", lang))
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"
    doc = response.json()
    assert doc["openapi"] == openapi.VERSION
    assert doc["info"]["title"] == i18n.t("openapi.title", lang, site=i18n.t("site_name", lang))
    rows = doc["paths"]["/{dataset}/{table}.json"]["get"]
    dataset = next(p for p in rows["parameters"] if p["name"] == "dataset")
    assert dataset["schema"]["enum"] == ["budget", "towns"]
    table = next(p for p in rows["parameters"] if p["name"] == "table")
    assert set(table["schema"]["enum"]) == {"budget", "provinces", "cities"}
    assert rows["summary"] == i18n.t("openapi.op_table_rows", lang)
    # /api lists every operation, in the page's language, linked to the document
    page = (await ds.client.get(i18n.lang_url("/api", lang))).text
    assert 'href="' + i18n.lang_url("/openapi.json", lang).replace("&", "&amp;") + '"' in page
    for _method, path, summary in openapi.operations(doc):
        assert f"<code>{path}</code>" in page and str(escape(summary)) in page


def test_a_large_catalogue_gives_examples_not_an_enum():
    names = [f"gen-{i:05d}" for i in range(10_000)]
    doc = openapi.document("", names, ["records"], "en")
    dataset = next(p for p in doc["paths"]["/{dataset}.json"]["get"]["parameters"] if p["name"] == "dataset")
    assert "enum" not in dataset["schema"] and len(dataset["examples"]) == openapi.EXAMPLE_LIMIT
