"""validate_dataset: foreign keys across resources, validation order, the sink, results.

Differential cases validate the same package with frictionless at test time and compare
each task's (type, rowNumber, fieldName) list.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from gongkai.errors import Error
from gongkai.model import Dataset, Resource
from gongkai.validate import DatasetResult, TaskResult, validate_dataset

warnings.filterwarnings("ignore", module="frictionless")


def dataset(tmp_path: Path, files: dict, resources: list[dict], errors=None) -> Dataset:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    out = [
        Resource(
            dataset="p",
            name=r["name"],
            path=r["path"],
            fullpath=tmp_path / r["path"],
            schema=r.get("schema", {}),
            format=r["path"].rsplit(".", 1)[-1],
            descriptor=r,
        )
        for r in resources
    ]
    descriptor = {"name": "p", "resources": resources}
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    return Dataset(name="p", folder=tmp_path, descriptor=descriptor, resources=out, errors=list(errors or []))


def triples(errors) -> list[tuple]:
    return [(e.type, e.row_number, e.field_name) for e in errors]


def oracle(data: Dataset) -> dict[str, list[tuple]]:
    import frictionless

    package = frictionless.Package(str(data.folder / "datapackage.json"))
    report = package.validate()
    return {
        task.name: [(e.type, getattr(e, "row_number", None), getattr(e, "field_name", None)) for e in task.errors]
        for task in report.tasks
    }


def same_as_frictionless(data: Dataset) -> dict[str, list[tuple]]:
    result = validate_dataset(data)
    ours = {task.resource.name: triples(task.errors) for task in result.tasks}
    expected = oracle(data)
    assert ours == expected
    return expected


def S(fields, **kw):
    return {"fields": fields, **kw}


CODES = {"name": "codes", "path": "codes.csv", "schema": S([{"name": "code"}, {"name": "name"}])}


def test_foreign_keys_across_resources(tmp_path):
    files = {
        "codes.csv": "code,name\nA,x\nB,y\nx,z\n",
        "facts.csv": "id,code,c2\n1,A,x\n2,C,x\n3,,\n4,A,\n5,x,y\n6,B,y\n",
    }
    facts = {
        "name": "facts",
        "path": "facts.csv",
        "schema": S(
            [{"name": "id", "type": "integer"}, {"name": "code"}, {"name": "c2"}],
            foreignKeys=[
                {"fields": "code", "reference": {"resource": "codes", "fields": "code"}},
                {"fields": ["code", "c2"], "reference": {"resource": "codes", "fields": ["code", "name"]}},
            ],
        ),
    }
    # the referencing resource comes first in the descriptor: it is validated second
    data = dataset(tmp_path, files, [facts, CODES])
    expected = same_as_frictionless(data)
    # row 4 (all key cells empty) is skipped; row 5's (A, None) is looked up and missing
    assert expected["facts"] == [
        ("foreign-key", 3, None),
        ("foreign-key", 3, None),
        ("foreign-key", 5, None),
        ("foreign-key", 6, None),
    ]
    result = validate_dataset(data)
    error = result.tasks[0].errors[0]
    assert error.extra["fieldNames"] == ["code"] and error.extra["referenceName"] == "codes"
    assert '"C"' in error.note and "codes" in error.note_zh


def test_references_use_typed_values_from_every_row(tmp_path):
    files = {"a.csv": "code,n\n1,x\n2\nq,1\n", "b.csv": "id,code\n1,1\n2,2\n3,q\n4,3\n"}
    resources = [
        {
            "name": "b",
            "path": "b.csv",
            "schema": S(
                [{"name": "id", "type": "integer"}, {"name": "code", "type": "integer"}],
                foreignKeys=[{"fields": "code", "reference": {"resource": "a", "fields": "code"}}],
            ),
        },
        {
            "name": "a",
            "path": "a.csv",
            "schema": S([{"name": "code", "type": "integer", "constraints": {"maximum": 1}}, {"name": "n"}]),
        },
    ]
    expected = same_as_frictionless(dataset(tmp_path, files, resources))
    # code 2 fails its own maximum in "a" but still counts as a reference value
    assert expected["b"] == [("type-error", 4, "code"), ("foreign-key", 5, None)]


def test_reference_cycle_is_validated_like_frictionless(tmp_path):
    files = {"a.csv": "id,b\n1,1\n", "b.csv": "id,a\n1,1\n2,3\n"}
    resources = [
        {
            "name": "a",
            "path": "a.csv",
            "schema": S(
                [{"name": "id"}, {"name": "b"}],
                foreignKeys=[{"fields": "b", "reference": {"resource": "b", "fields": "id"}}],
            ),
        },
        {
            "name": "b",
            "path": "b.csv",
            "schema": S(
                [{"name": "id"}, {"name": "a"}],
                foreignKeys=[{"fields": "a", "reference": {"resource": "a", "fields": "id"}}],
            ),
        },
    ]
    expected = same_as_frictionless(dataset(tmp_path, files, resources))
    assert expected == {"a": [], "b": [("foreign-key", 3, None)]}


def test_foreign_key_to_a_missing_resource(tmp_path):
    resources = [
        {
            "name": "t",
            "path": "t.csv",
            "schema": S(
                [{"name": "id"}, {"name": "p"}],
                foreignKeys=[{"fields": "p", "reference": {"resource": "zz", "fields": "id"}}],
            ),
        }
    ]
    expected = same_as_frictionless(dataset(tmp_path, {"t.csv": "id,p\n1,\n"}, resources))
    assert expected == {"t": [("resource-error", None, None)]}


def test_unreadable_referenced_resource_fails_the_referencing_one(tmp_path):
    resources = [
        {"name": "a", "path": "a.csv", "schema": S([{"name": "id"}])},
        {
            "name": "b",
            "path": "b.csv",
            "schema": S(
                [{"name": "id"}, {"name": "a"}],
                foreignKeys=[{"fields": "a", "reference": {"resource": "a", "fields": "id"}}],
            ),
        },
    ]
    data = dataset(tmp_path, {"b.csv": "id,a\n1,1\n"}, resources)
    expected = same_as_frictionless(data)
    assert expected == {"a": [("scheme-error", None, None)], "b": [("scheme-error", None, None)]}
    result = validate_dataset(data)
    assert "a.csv" in result.tasks[1].errors[0].note and result.tasks[1].errors[0].file == "b.csv"


def test_sink_gets_valid_rows_in_dependency_order_and_tasks_stay_in_descriptor_order(tmp_path):
    files = {"codes.csv": "code,name\nA,x\nB,y\n", "facts.csv": "id,code\n1,A\n2,Z\n3,B\nx,A\n"}
    facts = {
        "name": "facts",
        "path": "facts.csv",
        "schema": S(
            [{"name": "id", "type": "integer"}, {"name": "code"}],
            primaryKey=["id"],
            foreignKeys=[{"fields": "code", "reference": {"resource": "codes", "fields": "code"}}],
        ),
    }
    received: list[tuple[str, list]] = []

    def sink(resource, rows):
        received.append((resource.name, list(rows)))

    result = validate_dataset(dataset(tmp_path, files, [facts, CODES]), sink=sink)
    assert received == [("codes", [("A", "x"), ("B", "y")]), ("facts", [(1, "A"), (3, "B")])]
    assert [t.resource.name for t in result.tasks] == ["facts", "codes"]
    facts_task = result.tasks[0]
    assert triples(facts_task.errors) == [("foreign-key", 3, None), ("type-error", 5, "id"), ("primary-key", 5, None)]
    assert facts_task.labels == ["id", "code"]
    assert set(facts_task.stats) >= {"rows", "fields", "bytes", "sha256", "seconds", "labels"}
    assert facts_task.stats["rows"] == 4 and facts_task.stats["fields"] == 2 and facts_task.stats["seconds"] >= 0
    assert not facts_task.valid and result.tasks[1].valid and not result.valid


def test_a_sink_that_stops_early_still_gets_complete_errors(tmp_path):
    files = {"t.csv": "id\n1\n2\nx\n"}
    resources = [{"name": "t", "path": "t.csv", "schema": S([{"name": "id", "type": "integer"}])}]

    def sink(resource, rows):
        next(rows)

    result = validate_dataset(dataset(tmp_path, files, resources), sink=sink)
    assert triples(result.tasks[0].errors) == [("type-error", 4, "id")]


def test_dataset_errors_are_kept_and_make_it_invalid(tmp_path):
    resources = [{"name": "t", "path": "t.csv", "schema": S([{"name": "id", "type": "integer"}])}]
    profile = Error(type="profile-error", note="no licence", note_zh="缺少许可")
    result = validate_dataset(dataset(tmp_path, {"t.csv": "id\n1\n"}, resources, errors=[profile]))
    assert isinstance(result, DatasetResult) and isinstance(result.tasks[0], TaskResult)
    assert result.tasks[0].valid and result.errors == [profile] and not result.valid


def test_valid_dataset(tmp_path):
    resources = [CODES]
    result = validate_dataset(dataset(tmp_path, {"codes.csv": "code,name\nA,x\n"}, resources))
    assert result.valid and result.errors == []


@pytest.mark.parametrize("limit", [1, 3])
def test_limit_errors_per_resource(tmp_path, limit):
    files = {"t.csv": "id\n" + "x\n" * 5, "u.csv": "id\n" + "y\n" * 5}
    resources = [
        {"name": "t", "path": "t.csv", "schema": S([{"name": "id", "type": "integer"}])},
        {"name": "u", "path": "u.csv", "schema": S([{"name": "id", "type": "integer"}])},
    ]
    result = validate_dataset(dataset(tmp_path, files, resources), limit_errors=limit)
    assert [len(t.errors) for t in result.tasks] == [limit, limit]


def test_error_limit_does_not_cut_reference_values(tmp_path):
    # frictionless's look-up reads the whole referenced table, whatever its error count
    files = {"codes.csv": "code,n\n" + "A,x\n" * 3 + "B,y\n", "facts.csv": "code\nB\n"}
    resources = [
        {
            "name": "codes",
            "path": "codes.csv",
            "schema": S([{"name": "code", "constraints": {"unique": True}}, {"name": "n"}]),
        },
        {
            "name": "facts",
            "path": "facts.csv",
            "schema": S(
                [{"name": "code"}],
                foreignKeys=[{"fields": "code", "reference": {"resource": "codes", "fields": "code"}}],
            ),
        },
    ]
    result = validate_dataset(dataset(tmp_path, files, resources), limit_errors=1)
    assert triples(result.tasks[0].errors) == [("unique-error", 3, "code")]
    assert result.tasks[1].errors == []


def test_descriptor_errors_stop_data_validation_like_frictionless(tmp_path):
    # frictionless validates no data when the descriptor is invalid; our own profile
    # errors (above) do not stop it
    resources = [{"name": "t", "path": "t.csv", "schema": S([{"name": "id", "type": "integer"}])}]
    schema_error = Error(type="schema-error", note="duplicate field names", note_zh="字段名重复")
    received = []
    data = dataset(tmp_path, {"t.csv": "id\nx\n"}, resources, errors=[schema_error])
    result = validate_dataset(data, sink=lambda r, rows: received.append(list(rows)))
    assert result.tasks[0].errors == [] and result.tasks[0].stats["validated"] is False
    assert received == [[]] and result.errors == [schema_error] and not result.valid


def test_a_foreign_key_of_no_fields_checks_nothing_and_never_raises(tmp_path):
    """`"fields": []` on both sides (found by the descriptor fuzz test): the generated row code
    was invalid Python; such a key now has nothing to check."""
    import json
    import shutil
    from pathlib import Path

    from gongkai.descriptors import read_dataset
    from gongkai.validate import validate_dataset

    root = tmp_path / "repo"
    shutil.copytree(Path(__file__).parent / "fixtures" / "site", root)
    path = root / "datasets" / "towns" / "datapackage.json"
    d = json.loads(path.read_text(encoding="utf-8"))
    d["resources"][1]["schema"]["foreignKeys"] = [{"fields": [], "reference": {"resource": "provinces", "fields": []}}]
    path.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    result = validate_dataset(read_dataset(root / "datasets" / "towns"))
    assert result.valid and [len(t.errors) for t in result.tasks] == [0, 0]
