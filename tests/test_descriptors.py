import json

import pytest

from gongkai.descriptors import is_safe_path, read_dataset, read_site


def edit(root, dataset, **changes):
    path = root / "datasets" / dataset / "datapackage.json"
    d = json.loads(path.read_text())
    for key, value in changes.items():
        key = key.replace("__", ":")
        if value is None:
            d.pop(key, None)
        else:
            d[key] = value
    path.write_text(json.dumps(d, ensure_ascii=False))


def profile_notes(root, name):
    ds = read_dataset(root / "datasets" / name, read_site(root))
    return [(e.type, e.note) for e in ds.errors]


def test_fixture_site_is_clean(site_root):
    site = read_site(site_root)
    assert site.errors == []
    assert set(site.publishers) == {"city-stats", "city-finance"}
    ds = read_dataset(site_root / "datasets" / "towns", site)
    assert ds.errors == []
    assert [r.name for r in ds.resources] == ["provinces", "cities"]
    assert ds.resources[1].foreign_keys == [
        {"fields": ["provinceCode"], "resource": "provinces", "reference_fields": ["code"]}
    ]


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"title": None}, '"title" is required'),
        ({"keywords": []}, '"keywords" needs at least one keyword'),
        ({"gov__publisher": "nobody"}, 'gov:publisher "nobody" is not in metadata/publishers.yaml'),
        ({"gov__theme": "weather"}, 'gov:theme "weather" is not in metadata/themes.yaml'),
        ({"gov__frequency": "hourly"}, '"gov:frequency" must be one of'),
        ({"gov__openness": {"class": "conditional"}}, 'gives no "condition"'),
        ({"gov__contact": {"name": "x", "email": "not-an-email"}}, '"gov:contact" needs a name and a valid email'),
        (
            {"licenses": [{"name": "all-rights-reserved"}]},
            'licence "all-rights-reserved" is not in metadata/licenses.yaml',
        ),
        ({"gov__temporal": {"start": "2023"}}, "must be an ISO date"),
        ({"name": "Towns"}, "must match [a-z0-9][a-z0-9-]*"),
    ],
)
def test_profile_errors(site_root, changes, expected):
    edit(site_root, "towns", **changes)
    notes = profile_notes(site_root, "towns")
    assert any(t == "profile-error" and expected in n for t, n in notes), notes


def test_reserved_name_and_folder_mismatch(site_root):
    (site_root / "datasets" / "towns").rename(site_root / "datasets" / "search")
    edit(site_root, "search", name="search")
    notes = profile_notes(site_root, "search")
    assert any("reserved" in n for _, n in notes)


def test_every_profile_error_is_bilingual(site_root):
    edit(site_root, "towns", title=None, keywords=[], gov__theme="x")
    ds = read_dataset(site_root / "datasets" / "towns", read_site(site_root))
    assert len(ds.errors) >= 3
    for e in ds.errors:
        assert e.note and e.note_zh and e.note != e.note_zh
        assert "towns" in e.to_dict()["dataset"]


@pytest.mark.parametrize(
    "path", ["../x.csv", "/etc/passwd", ".hidden/x.csv", "a/../../x.csv", "http://x/y.csv", "C:/x.csv"]
)
def test_unsafe_paths_refused(site_root, path):
    assert not is_safe_path(path)
    d = json.loads((site_root / "datasets/budget/datapackage.json").read_text())
    d["resources"][0]["path"] = path
    (site_root / "datasets/budget/datapackage.json").write_text(json.dumps(d))
    ds = read_dataset(site_root / "datasets" / "budget", read_site(site_root))
    assert ds.resources[0].fullpath is None
    assert [e.type for e in ds.errors] == ["resource-error"]


def test_plain_data_package_without_site(site_root):
    edit(site_root, "towns", **{"gov__publisher": None, "gov__theme": None})
    assert read_dataset(site_root / "datasets" / "towns").errors == []


def test_broken_json_is_a_package_error(site_root):
    (site_root / "datasets/towns/datapackage.json").write_text('{"name": "towns",')
    ds = read_dataset(site_root / "datasets" / "towns", read_site(site_root))
    assert [e.type for e in ds.errors] == ["package-error"]
    assert "line 1" in ds.errors[0].note and "第 1 行" in ds.errors[0].note_zh


def test_frictionless_descriptor_errors(site_root):
    d = json.loads((site_root / "datasets/budget/datapackage.json").read_text())
    d["resources"][0]["schema"]["fields"][1]["type"] = "integr"
    (site_root / "datasets/budget/datapackage.json").write_text(json.dumps(d))
    ds = read_dataset(site_root / "datasets" / "budget", read_site(site_root))
    assert [e.type for e in ds.errors] == ["field-error"]


def test_schema_by_path_and_shared(site_root):
    schema = {"fields": [{"name": "code", "type": "string"}, {"name": "name", "type": "string"}]}
    (site_root / "metadata/schemas").mkdir()
    (site_root / "metadata/schemas/pair.json").write_text(json.dumps(schema))
    (site_root / "datasets/towns/schema.json").write_text(json.dumps(schema))
    d = json.loads((site_root / "datasets/towns/datapackage.json").read_text())
    d["resources"][0]["schema"] = "schema.json"
    d["resources"][1]["schema"] = "shared:pair"
    (site_root / "datasets/towns/datapackage.json").write_text(json.dumps(d))
    ds = read_dataset(site_root / "datasets" / "towns", read_site(site_root))
    assert [r.schema for r in ds.resources] == [schema, schema]


def test_missing_site_metadata_is_reported(site_root):
    (site_root / "metadata/themes.yaml").unlink()
    (site_root / "metadata/publishers.yaml").write_text("- id: Bad Id\n")
    site = read_site(site_root)
    assert [e.type for e in site.errors] == ["metadata-error", "metadata-error"]
