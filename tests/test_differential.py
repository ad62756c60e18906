"""Differential tests: our validator reports what frictionless reports.

frictionless (v5) is the oracle. For every fixture folder under tests/fixtures/{invalid,valid}/
both validate the same Data Package and must name the same problems (see differential_helpers
for what is compared and why). A new fixture folder is a new test.

Two tests per fixture:
- test_frictionless_reports_the_case: the fixture still exercises what its case.yaml says
  (frictionless reports exactly those error types), so a fixture cannot silently go stale;
- test_same_errors_as_frictionless: our report equals frictionless's.
Then a property test on random small tables.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pytest
from differential_helpers import (
    LIMIT_ERRORS,
    Case,
    case_folders,
    differences,
    frictionless_keys,
    load_case,
    materialise,
    our_keys,
)
from hypothesis import HealthCheck, given, settings, strategies as st

CASES = [load_case(folder) for kind in ("invalid", "valid") for folder in case_folders(kind)]
IDS = [f"{case.folder.parent.name}/{case.name}" for case in CASES]


def test_the_corpus_is_complete():
    """Every error type of the design's list is exercised by some fixture, and there are enough."""
    invalid = [case for case in CASES if case.folder.parent.name == "invalid"]
    assert len(invalid) >= 30
    covered = set().union(*(case.errors for case in CASES))
    wanted = {
        "scheme-error", "format-error", "encoding-error", "resource-error",
        "package-error", "schema-error", "field-error",
        "blank-label", "duplicate-label", "extra-label", "missing-label", "incorrect-label",
        "blank-row", "primary-key", "foreign-key",
        "extra-cell", "missing-cell", "type-error", "constraint-error", "unique-error",
    }  # fmt: skip
    assert wanted <= covered, sorted(wanted - covered)
    assert all(not case.errors for case in CASES if case.folder.parent.name == "valid")
    assert any(case.limit_reached for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_frictionless_reports_the_case(case: Case, tmp_path: Path):
    folder = materialise(case, tmp_path)
    theirs = frictionless_keys(folder, case.encoding)
    assert theirs.types == set(case.errors), f"{case.name}: {case.about}"
    if case.limit_reached:
        assert theirs.limited, "frictionless did not reach its error limit"
        assert all(count == LIMIT_ERRORS for name, count in theirs.counts.items() if name in theirs.limited)
    else:
        assert not theirs.limited


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_same_errors_as_frictionless(case: Case, tmp_path: Path):
    folder = materialise(case, tmp_path)
    ours = our_keys(folder)
    if case.divergence:
        # A deliberate difference: we report exactly these types (frictionless's side is pinned by
        # test_frictionless_reports_the_case).
        assert ours.types == set(case.divergence["ours"]), case.divergence["reason"]
        return
    theirs = frictionless_keys(folder, case.encoding)
    if case.compare == "types":
        theirs, ours = theirs.only_types(), ours.only_types()
    assert ours.comparable() == theirs.comparable(), differences(theirs, ours)
    for name, count in ours.counts.items():
        assert count <= LIMIT_ERRORS, f"resource {name!r}: {count} errors, more than the limit"


# --------------------------------------------------------------------------------------------
# Property: random small tables, same (type, rowNumber, fieldName) set from both validators.

# Cells per type: valid and invalid spellings, including the ones where loose parsers differ.
POOLS: dict[str, list[str]] = {
    "string": ["a", "北京", "abc", " ", "Zz9", "a b", "长长长长长", "1"],
    "integer": ["1", "-2", "+3", "007", "10", "1.0", "1e3", " 4", "abc", "1_000", "٣", "9223372036854775807"],
    "number": ["1.5", "-0.5", "1e3", "NaN", "inf", "1,5", ".5", "5.", "abc", "1_0", "10", "0"],
    "boolean": ["true", "false", "True", "FALSE", "1", "0", "yes", "t", "是"],
    "date": ["2024-01-05", "2024-1-5", "2024-02-30", "20240105", "2024-01-05T00:00:00", "2020-12-31", "x"],
    "datetime": ["2024-01-05T10:00:00", "2024-01-05T10:00:00Z", "2024-01-05 10:00:00", "2024-01-05", "x"],
    "time": ["10:00:00", "10:00", "25:00:00", "08:30:00", "1:2:3", "10:00:00.5"],
    "year": ["2024", "24", "1999", "0", "2024.0", "x"],
    "yearmonth": ["2024-01", "2024-1", "2024-13", "202401", "x"],
    "geopoint": ["116.4,39.9", "200,10", "a,b", "116.4", "0,0"],
    "object": ['{"a":1}', "[1]", "{bad}", "{}"],
    "array": ["[1,2]", '{"a":1}', "[]", "[bad"],
    "duration": ["P1Y", "PT1H", "1 hour", "P"],
    "any": ["a", "1", "北京"],
}
COMMON = ["", "", "NA", "-"]  # blanks and missing-value tokens, in every column
# Short random strings over the characters parsers disagree on (signs, separators, exponents,
# date/time punctuation, full-width and non-ASCII digits, spaces), now and then.
RANDOM_CELLS = st.text(alphabet='0123456789+-.,:eE TZP[]{}"１٣n', max_size=8)
BOUNDS = {"integer": ["0", "5", "10"], "number": ["0", "1.5", "10"], "date": ["2024-01-01"], "year": ["2000"],
          "time": ["09:00:00"]}  # fmt: skip
NAMES = ["id", "名称", "value", "a b", "x", "代码"]
# frictionless crashes (TypeError: unhashable type: 'list') on unique or primary-key JSON fields.
UNHASHABLE = {"object", "array"}
MISSING_VALUES = [[""], ["", "NA"], ["-"], ["NA"]]


def cell_strategy(type_: str) -> st.SearchStrategy[str]:
    pool = st.sampled_from(POOLS[type_] + COMMON)
    return st.one_of(pool, pool, pool, RANDOM_CELLS)  # about one cell in four random


@st.composite
def fields(draw, name: str) -> dict:
    type_ = draw(st.sampled_from(sorted(POOLS)))
    field: dict = {"name": name, "type": type_}
    constraints: dict = {}
    if draw(st.booleans()):
        if draw(st.booleans()):
            constraints["required"] = True
        if type_ not in UNHASHABLE and draw(st.integers(0, 4)) == 0:
            constraints["unique"] = True
        if type_ in BOUNDS and draw(st.booleans()):
            kind = draw(st.sampled_from(["minimum", "maximum"]))
            constraints[kind] = draw(st.sampled_from(BOUNDS[type_]))
        if type_ == "string":
            choice = draw(st.integers(0, 3))
            if choice == 1:
                constraints["minLength"] = 2
            elif choice == 2:
                constraints["maxLength"] = 3
            elif choice == 3:
                constraints["pattern"] = draw(st.sampled_from(["[a-z]+", "[\u4e00-\u9fff]+", ".", "a.*"]))
        if type_ in ("string", "integer") and draw(st.integers(0, 3)) == 0:
            constraints["enum"] = draw(st.lists(st.sampled_from(POOLS[type_][:5]), min_size=1, max_size=3, unique=True))
    if constraints:
        field["constraints"] = constraints
    if draw(st.integers(0, 5)) == 0:
        field["missingValues"] = draw(st.sampled_from(MISSING_VALUES))
    return field


@st.composite
def tables(draw) -> tuple[dict, str]:
    """A (schema, csv text) pair."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    schema: dict = {"fields": [draw(fields(name)) for name in names]}
    schema["missingValues"] = draw(st.sampled_from(MISSING_VALUES))
    keyable = [f["name"] for f in schema["fields"] if f["type"] not in UNHASHABLE]
    if keyable and draw(st.integers(0, 3)) == 0:
        schema["primaryKey"] = draw(st.lists(st.sampled_from(keyable), min_size=1, max_size=2, unique=True))
    header = list(names)
    mutation = draw(st.integers(0, 9))
    if mutation == 0:
        header[draw(st.integers(0, len(header) - 1))] = draw(st.sampled_from(["", "other", names[0]]))
    elif mutation == 1:
        header.append("extra")
    elif mutation == 2 and len(header) > 1:
        header.pop()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for _ in range(draw(st.integers(0, 10))):
        shape = draw(st.sampled_from(["normal"] * 6 + ["blank", "empty-line", "short", "long"]))
        if shape == "empty-line":
            out.write("\n")
            continue
        cells = [draw(cell_strategy(f["type"])) for f in schema["fields"]]
        if shape == "blank":
            cells = [""] * len(cells)
        elif shape == "short":
            cells = cells[: draw(st.integers(1, len(cells)))] if len(cells) > 1 else cells
        elif shape == "long":
            cells += draw(st.lists(st.sampled_from(["x", "", "1"]), min_size=1, max_size=2))
        if cells == [""]:
            out.write('""\n')  # a single empty cell, not an empty line
            continue
        writer.writerow(cells)
    return schema, out.getvalue()


# The dialect is declared so that frictionless does not guess it from random data: it sniffs the
# delimiter and quoting, and takes as header the first row whose width is near the sample's average
# (a one-column header over four-cell rows makes row 2 the header). Those guesses are properties of
# real files, pinned by fixtures (invalid/header-row-inferred); here the subject is cell and row
# semantics.
STORAGE_CHECKS = {"number-range", "integer-range"}
DIALECT = {"header": True, "headerRows": [1], "delimiter": ",", "quoteChar": '"', "doubleQuote": True,
           "skipInitialSpace": False}  # fmt: skip


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_random_tables_same_errors_as_frictionless(table):
    schema, text = table
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "random"
        folder.mkdir()
        (folder / "data.csv").write_text(text, encoding="utf-8")
        descriptor = {
            "name": "random",
            "resources": [
                {"name": "data", "path": "data.csv", "encoding": "utf-8", "dialect": DIALECT, "schema": schema}
            ],
        }
        (folder / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
        theirs = frictionless_keys(folder)
        # SQLite cannot store what these report (NaN, infinities, integers past 64 bits), which
        # frictionless accepts: deliberate divergences, each pinned by its own fixture.
        ours = our_keys(folder).without(STORAGE_CHECKS)
        assert ours.comparable() == theirs.comparable(), (
            differences(theirs, ours) + f"\nschema: {json.dumps(schema, ensure_ascii=False)}\ncsv:\n{text}"
        )
