"""Every published dataset under datasets/ is valid for frictionless and meets the catalogue profile.

An independent check: it reads the descriptors and metadata/*.yaml directly and uses frictionless
itself as the oracle, so it does not share code (or bugs) with gongkai/descriptors.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from frictionless import Package, validate

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT / "datasets"
METADATA = ROOT / "metadata"

# The profile's contract (docs: dataset-profile.md), restated here on purpose.
SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
RESERVED = {
    "api",
    "assets",
    "catalog",
    "data",
    "datasets",
    "downloads",
    "en",
    "feeds",
    "openapi",
    "publishers",
    "robots",
    "search",
    "sitemap",
    "static",
    "themes",
    "zh",
}
FREQUENCIES = {"daily", "weekly", "monthly", "quarterly", "annual", "irregular", "never"}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
SPDX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PERSONAL_KINDS = {"personal", "organisational-contact"}


def _folders() -> list[Path]:
    return sorted(p for p in DATASETS.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def _descriptor(folder: Path) -> dict:
    for name in ("datapackage.json", "datapackage.yaml", "datapackage.yml"):
        path = folder / name
        if path.exists():
            text = path.read_text(encoding="utf-8")
            return json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    pytest.fail(f"{folder.name}: no datapackage.json or datapackage.yaml")


def _descriptor_path(folder: Path) -> Path:
    return next(
        p for p in (folder / n for n in ("datapackage.json", "datapackage.yaml", "datapackage.yml")) if p.exists()
    )


def _registry(name: str) -> dict[str, dict]:
    entries = yaml.safe_load((METADATA / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(entries, list), f"metadata/{name}.yaml must be a list of mappings"
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids)), f"metadata/{name}.yaml has duplicate ids"
    return {e["id"]: e for e in entries}


def _is_slug(name) -> bool:
    return isinstance(name, str) and SLUG.fullmatch(name) is not None


FOLDERS = _folders()
IDS = [f.name for f in FOLDERS]


def test_there_are_datasets():
    assert FOLDERS, "datasets/ holds no dataset folders"


# --- site metadata -----------------------------------------------------------------------------


def test_metadata_registries_are_well_formed():
    publishers, themes, licenses = _registry("publishers"), _registry("themes"), _registry("licenses")
    for registry in (publishers, themes):
        for ident in registry:
            assert _is_slug(ident), ident
    for ident in licenses:  # licence ids are SPDX identifiers (ODC-PDDL-1.0), not slugs
        assert SPDX_ID.fullmatch(ident), ident
    for ident, p in publishers.items():
        assert p["name"]["zh"] and p["name"]["en"], ident
        assert p.get("parent") is None or p["parent"] in publishers, f"{ident}: unknown parent {p.get('parent')}"
        assert p.get("email") is None or EMAIL.fullmatch(p["email"]), ident
        # 统一社会信用代码: 18 characters of the GB 32100 alphabet (no I, O, S, V, Z).
        assert p.get("uscc") is None or re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{18}", p["uscc"]), ident
    for ident, t in themes.items():
        assert _is_slug(ident)
        assert t["name"]["zh"] and t["name"]["en"] and t["description"]["zh"] and t["description"]["en"], ident
    for ident, lic in licenses.items():
        assert lic["title"]["zh"] and lic["title"]["en"] and lic["url"].startswith(("http://", "https://")), ident
    required_licences = {"ODC-PDDL-1.0", "CC0-1.0", "WTFPL", "OGL-UK-3.0", "MIT", "CC-BY-4.0"}
    assert required_licences <= set(licenses)


def test_site_yaml():
    site = yaml.safe_load((METADATA / "site.yaml").read_text(encoding="utf-8"))
    assert site["title"]["zh"] and site["title"]["en"]
    assert site["description"]["zh"] and site["description"]["en"]
    assert site["base_url"] == "http://127.0.0.1:8001"
    assert site["default_license"] in _registry("licenses")
    assert site["languages"] == ["zh", "en"]
    assert EMAIL.fullmatch(site["contact"]["email"])


# --- each dataset ------------------------------------------------------------------------------


def _resolved(folder: Path) -> dict:
    """The descriptor with each `shared:<name>` schema put in from metadata/schemas/."""
    d = _descriptor(folder)
    for r in d.get("resources", []):
        if str(r.get("schema", "")).startswith("shared:"):
            name = r["schema"].split(":", 1)[1]
            r["schema"] = json.loads((METADATA / "schemas" / f"{name}.json").read_text(encoding="utf-8"))
    return d


def _for_frictionless(folder: Path):
    """The descriptor's path, or, where a resource names a shared schema (ours: frictionless
    would fetch `shared:<name>` as a URL), the package with the schema put in."""
    path = _descriptor_path(folder)
    resolved = _resolved(folder)
    if resolved == _descriptor(folder):
        return str(path)
    return Package.from_descriptor(resolved, basepath=str(folder))


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_frictionless_says_valid(folder: Path):
    target = _for_frictionless(folder)
    report = target.validate() if isinstance(target, Package) else validate(target)
    problems = [
        f"{task.name}: {e.type} row={getattr(e, 'row_number', None)} {e.note}"
        for task in report.tasks
        for e in task.errors
    ] + [e.note for e in report.errors]
    assert report.valid, "\n".join(problems[:30])
    # A "valid" report that only looked at part of the data (limits) must not count.
    assert not report.warnings and not any(task.warnings for task in report.tasks)


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_profile_must_properties(folder: Path):
    d = _descriptor(folder)
    publishers, themes, licenses = _registry("publishers"), _registry("themes"), _registry("licenses")

    assert d.get("name") == folder.name, "the folder name must equal the descriptor's name"
    assert _is_slug(d["name"]) and d["name"] not in RESERVED
    assert isinstance(d.get("title"), str) and d["title"].strip()
    assert isinstance(d.get("description"), str) and d["description"].strip()

    assert isinstance(d.get("licenses"), list) and d["licenses"]
    for lic in d["licenses"]:
        assert lic.get("name") in licenses, f"licence {lic.get('name')!r} not in metadata/licenses.yaml"
        assert lic.get("path") and lic.get("title")

    assert (
        isinstance(d.get("keywords"), list) and d["keywords"] and all(isinstance(k, str) and k for k in d["keywords"])
    )
    assert d.get("gov:publisher") in publishers
    assert d.get("gov:theme") in themes
    contact = d.get("gov:contact") or {}
    assert contact.get("name") and EMAIL.fullmatch(contact.get("email", ""))
    assert d.get("gov:frequency") in FREQUENCIES
    openness = d.get("gov:openness") or {}
    assert openness.get("class") in {"unconditional", "conditional", "closed"}
    if openness["class"] in ("conditional", "closed"):
        assert openness.get("condition")

    resource_names = [r.get("name") for r in d.get("resources", [])]
    assert resource_names and len(resource_names) == len(set(resource_names))
    for name in resource_names:
        assert _is_slug(name) and name not in RESERVED, name


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_profile_should_properties(folder: Path):
    d = _descriptor(folder)
    assert d.get("id")
    assert re.fullmatch(r"\d+\.\d+\.\d+", d.get("version", "")), "version should be SemVer"
    assert d.get("created")
    temporal = d.get("gov:temporal") or {}
    assert ISO_DATE.fullmatch(temporal.get("start", "")) and ISO_DATE.fullmatch(temporal.get("end", ""))
    assert temporal["start"] <= temporal["end"]
    spatial = d.get("gov:spatial") or {}
    assert spatial.get("code") and spatial.get("name")
    assert d.get("sources") and all(s.get("title") and s.get("path") for s in d["sources"])
    translations = d.get("gov:translations") or {}
    assert translations, "a translation of title, description and keywords is expected"
    for lang, t in translations.items():
        assert lang in {"zh", "en"}
        assert t.get("title") and t.get("description") and t.get("keywords"), lang


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_every_field_is_documented_in_both_languages(folder: Path):
    d = _resolved(folder)
    for res in d["resources"]:
        assert res.get("title") and res.get("description"), res["name"]
        schema = res["schema"]
        assert isinstance(schema, dict), f"{res['name']}: inline or shared schema expected"
        for f in schema["fields"]:
            where = f"{res['name']}.{f['name']}"
            assert f.get("title") and f.get("description"), where
            other = f.get("gov:translations") or {}
            assert any(t.get("title") and t.get("description") for t in other.values()), where


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_personal_data_declarations_name_real_columns(folder: Path):
    d = _resolved(folder)
    fields = {(r["name"], f["name"]) for r in d["resources"] for f in r["schema"]["fields"]}
    field_names = {name for _, name in fields}
    for entry in d.get("gov:personalData") or []:
        assert entry.get("kind") in PERSONAL_KINDS
        assert entry.get("legalBasis") and entry.get("masking")
        if entry.get("resource"):
            assert (entry["resource"], entry["field"]) in fields, entry
        else:
            assert entry["field"] in field_names, entry


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_data_files_match_the_provenance_record(folder: Path):
    """SOURCE.md lists the sha256 of every copied file: the copies must still be byte-for-byte."""
    source = folder / "SOURCE.md"
    assert source.exists(), "each dataset keeps its provenance record as SOURCE.md"
    listed = dict(re.findall(r"^- `([^`]+)`: `([0-9a-f]{64})`", source.read_text(encoding="utf-8"), re.M))
    # Only the data files: upstream descriptors listed there were replaced by our own.
    for res in _descriptor(folder)["resources"]:
        assert res["path"] in listed, f"{res['path']} is not in SOURCE.md"
        digest = hashlib.sha256((folder / res["path"]).read_bytes()).hexdigest()
        assert digest == listed[res["path"]], f"{res['path']} differs from the copied original"


def test_foreign_keys_are_enforced(tmp_path: Path):
    """Proof the declared keys bite: break one reference in a copy and frictionless must object."""
    copy = tmp_path / "uk-organisations"
    shutil.copytree(DATASETS / "uk-organisations", copy)
    path = copy / "collection/register/local-authority-eng.csv"
    data = path.read_bytes()
    assert b",BUC,BUC,UA," in data
    path.write_bytes(data.replace(b",BUC,BUC,UA,", b",BUC,BUC,XX,", 1))
    report = validate(str(copy / "datapackage.json"))
    types = {e.type for task in report.tasks for e in task.errors}
    assert "foreign-key" in types
