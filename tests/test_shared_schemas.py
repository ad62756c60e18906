"""The shared Table Schemas of the transparency lists (metadata/schemas/): each documented in both
languages, each with a valid and an invalid example (tests/fixtures/shared-schemas/<name>/), a
dataset referring to one by `"schema": "shared:<name>"`, an unknown name refused with the names
there are, and a changed shared schema changing the hash of the datasets that use it."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import FIXTURES, REPO

from gongkai import build, codehash
from gongkai.descriptors import read_dataset, read_site

SCHEMAS = REPO / "metadata" / "schemas"
EXAMPLES = FIXTURES / "shared-schemas"
NAMES = sorted(p.stem for p in SCHEMAS.glob("*.json"))
# what each invalid example gets wrong: (error type, field)
EXPECTED = {
    "service-items": {
        ("constraint-error", "事项类型"),
        ("constraint-error", "事项类型代码"),
        ("constraint-error", "行政区划代码"),
    },
    "responsibility-list": {("constraint-error", "追责情形"), ("unique-error", "事项编码"), ("primary-key", None)},
    "negative-list": {("constraint-error", "类别")},
    "administrative-licensing": {("constraint-error", "统一社会信用代码"), ("type-error", "许可决定日期")},
    "administrative-penalty": {("constraint-error", "罚款金额"), ("constraint-error", "处罚机关统一社会信用代码")},
}


def test_the_five_lists_are_there():
    assert NAMES == sorted(EXPECTED) and sorted(p.name for p in EXAMPLES.iterdir()) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_field_is_documented_in_both_languages(name):
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    en = schema["gov:translations"]["en"]
    assert schema["title"] and schema["description"] and en["title"] and en["description"]
    for f in schema["fields"]:
        assert f.get("title") and f.get("description"), f["name"]
        tr = f["gov:translations"]["en"]
        assert tr.get("title") and tr.get("description"), f["name"]


def site_with(tmp_path, name: str, example: str, schema: str | None = None):
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "site", root)
    shutil.copytree(SCHEMAS, root / "metadata" / "schemas")
    folder = root / "datasets" / "lists"
    folder.mkdir()
    shutil.copy(EXAMPLES / name / f"{example}.csv", folder / "list.csv")
    descriptor = json.loads((FIXTURES / "site" / "datasets" / "budget" / "datapackage.json").read_text())
    descriptor.update(
        name="lists", resources=[{"name": "list", "path": "list.csv", "schema": schema or f"shared:{name}"}]
    )
    (folder / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
    return root, folder


@pytest.mark.parametrize("name", NAMES)
def test_the_valid_example_validates(tmp_path, name):
    root, folder = site_with(tmp_path, name, "valid")
    [result] = build.check([folder], root)
    errors = list(result.errors) + [e for t in result.tasks for e in t.errors]
    assert result.valid, [e.message for e in errors]
    assert result.tasks[0].stats["rows"] >= 1


@pytest.mark.parametrize("name", NAMES)
def test_the_invalid_example_fails_where_it_is_wrong(tmp_path, name):
    root, folder = site_with(tmp_path, name, "invalid")
    [result] = build.check([folder], root)
    assert not result.valid and not result.errors  # the descriptor is fine: the rows are not
    found = {(e.type, e.field_name) for t in result.tasks for e in t.errors}
    assert found == EXPECTED[name]


def test_the_dataset_gets_the_shared_schema(tmp_path):
    root, folder = site_with(tmp_path, "service-items", "valid")
    dataset = read_dataset(folder, read_site(root))
    shared = json.loads((SCHEMAS / "service-items.json").read_text(encoding="utf-8"))
    assert not dataset.errors and dataset.resources[0].schema == shared


def test_an_unknown_name_is_a_clear_error(tmp_path):
    root, folder = site_with(tmp_path, "service-items", "valid", schema="shared:power-lists")
    [result] = build.check([folder], root)
    [error] = result.errors
    assert error.type == "schema-error" and error.resource == "list"
    assert 'unknown shared schema "power-lists"' in error.note and "service-items" in error.note
    assert "未知的共享表结构“power-lists”" in error.note_zh


def test_a_changed_shared_schema_rebuilds_the_datasets_that_use_it(tmp_path):
    root, folder = site_with(tmp_path, "service-items", "valid")
    code = codehash.code_hash()
    before = build.dataset_hash(folder, root, code)
    path = root / "metadata" / "schemas" / "service-items.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["fields"][2]["description"] += "（修订）"
    path.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    assert build.dataset_hash(folder, root, code) != before
