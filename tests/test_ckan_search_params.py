"""package_search's q/fq/sort parsing, the parameter checks and the CKAN ids, without a site."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings, strategies as st

from gongkai.catalogue.ckan_queries import Clause
from gongkai.ckan import ids, params
from gongkai.ckan.errors import ActionError
from gongkai.ckan.search_params import parse, sort_order


def clauses(text: str) -> list[Clause]:
    return parse(text, free_text=False).clauses


def test_date_ranges_as_ckanext_harvest_writes_them():
    # gather_stage: (last_time - 1 hour).isoformat() + "Z", microseconds included
    assert clauses("metadata_modified:[2026-11-30T09:15:02.123456Z TO *]") == [
        Clause("modified", low="2026-11-30 09:15:02", high=None)
    ]
    assert clauses("metadata_modified:[* TO 2026-01-01T08:00:00+08:00]") == [
        Clause("modified", low=None, high="2026-01-01 00:00:00")
    ]
    assert clauses("metadata_created:[2020-01-01 TO 2021-01-01]") == [
        Clause("issued", low="2020-01-01 00:00:00", high="2021-01-01 00:00:00")
    ]
    for bad in ("metadata_modified:[yesterday TO *]", "metadata_modified:[2020-01-01 TO]", "name:[a TO b]"):
        with pytest.raises(ActionError) as e:
            clauses(bad)
        assert e.value.type == "Search Query Error" and e.value.status == 409


def test_organisation_and_group_filters_as_gather_stage_writes_them():
    assert clauses("organization:a OR organization:b") == [Clause("publisher", values=("a", "b"))]
    assert clauses("-organization:a -organization:b") == [
        Clause("publisher", values=("a",), negate=True),
        Clause("publisher", values=("b",), negate=True),
    ]
    assert clauses("groups:x metadata_modified:[2026-01-01T00:00:00Z TO *]") == [
        Clause("theme", values=("x",)),
        Clause("modified", low="2026-01-01 00:00:00"),
    ]
    assert clauses('tags:"two words" res_format:CSV +license_id:cc-by-4.0') == [
        Clause("keywords", values=("two words",)),
        Clause("formats", values=("CSV",)),
        Clause("license", values=("cc-by-4.0",)),
    ]
    assert clauses("(organization:a OR organization:b) AND groups:c") == [
        Clause("publisher", values=("a", "b")),
        Clause("theme", values=("c",)),
    ]


def test_q_keeps_free_text_and_fielded_terms_apart():
    found = parse("道路 organization:a AND -tags:b", free_text=True)
    assert found.words == ["道路"]
    assert found.clauses == [Clause("publisher", values=("a",)), Clause("keywords", values=("b",), negate=True)]
    assert parse("*:*", free_text=True).clauses == [] and parse("*:*", free_text=True).words == []


def test_constant_fields():
    assert parse("type:dataset state:active", free_text=False).nothing is False
    assert parse("dataset_type:harvest", free_text=False).nothing is True
    assert parse("-private:true", free_text=False).nothing is False


@pytest.mark.parametrize(
    "text",
    ["maintainer:x", "organization:a OR groups:b", "tags:ab*", "free words", 'name:"unclosed', "organization:"],
)
def test_what_the_subset_does_not_do_is_a_search_query_error(text):
    with pytest.raises(ActionError) as e:
        clauses(text)
    assert e.value.type == "Search Query Error"
    assert e.value.message("en") and e.value.message("zh") != e.value.message("en")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_query_is_parsed_or_refused_cleanly(text):
    for free in (True, False):
        try:
            parse(text, free_text=free)
        except ActionError as e:
            assert e.status == 409


def test_sort_orders():
    assert sort_order("id asc") == (("ckan_id", False),)
    assert sort_order("metadata_modified desc") == (("modified", True),)
    assert sort_order("score desc, metadata_modified desc") == (("score", True), ("modified", True))
    assert sort_order(None) == (("score", True), ("modified", True))
    for bad in ("id sideways", "size desc", "id asc asc"):
        with pytest.raises(ActionError):
            sort_order(bad)


def test_parameter_checks():
    assert params.integer({"rows": "100"}, "rows", 10, 0, 1000) == 100
    assert params.integer({}, "rows", 10, 0, 1000) == 10
    for bad in ("1001", "-1", "ten", True, 2.5, [1]):
        with pytest.raises(ActionError) as e:
            params.integer({"rows": bad}, "rows", 10, 0, 1000)
        assert e.value.type == "Validation Error" and e.value.error()["rows"]
    assert params.boolean({"x": "True"}, "x", False) is True and params.boolean({"x": 0}, "x", True) is False
    with pytest.raises(ActionError):
        params.boolean({"x": "maybe"}, "x", False)
    assert params.string_list({"f": '["a", "b"]'}, "f") == ["a", "b"]
    assert params.string_list({"f": "a, b"}, "f", comma=True) == ["a", "b"]
    with pytest.raises(ActionError):
        params.string_list({"f": [1, 2]}, "f")
    with pytest.raises(ActionError):
        params.mapping({"filters": "[1]"}, "filters")
    with pytest.raises(ActionError) as e:
        params.text({}, "id", required=True)
    assert e.value.error()["id"]


def test_ids_are_derived_and_stable():
    own = "0d2a9a5c-6f0e-4c1e-9a3b-4a0f8d1c2b3e"
    assert ids.package_id("anything", own) == own  # a descriptor's own UUID is kept
    assert ids.package_id("towns") == ids.package_id("towns") != ids.package_id("budget")
    assert ids.package_id("towns", "not-a-uuid") != ids.package_id("towns")
    package = ids.package_id("towns")
    assert ids.resource_id(package, "a") != ids.resource_id(package, "b")
    assert uuid.UUID(ids.resource_id(package, "a")).version == 5
    assert ids.organization_id("x") != ids.group_id("x")
