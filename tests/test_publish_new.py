"""`gongkai new`: the scaffold holds every catalogue field of docs/dataset-profile.md with a
comment in both languages, refuses what the build would refuse, and is refused by validation
until the publisher has filled in every required field."""

from __future__ import annotations

import re
from datetime import date

import pytest
import yaml
from publish_helpers import REPO, empty_repo, fill_in, gongkai

from gongkai.descriptors import RESERVED_NAMES, SLUG, read_dataset, read_site
from gongkai.publish.new import descriptor_text, scaffold
from gongkai.publish.words import PublishError


def profile_fields() -> list[str]:
    """The package-level properties of docs/dataset-profile.md's table."""
    text = (REPO / "docs" / "dataset-profile.md").read_text(encoding="utf-8")
    table = text.split("## Package level", 1)[1].split("##", 1)[0]
    names = []
    for cells in re.findall(r"^\| (`[^|]+`) \|", table, flags=re.M):
        names += re.findall(r"`([^`\[\]]+)(?:\[\])?`", cells)
    return names


def test_every_catalogue_field_is_in_the_scaffold_with_a_comment_in_both_languages(tmp_path):
    root = empty_repo(tmp_path)
    path = scaffold(root, "gz-budget-2024", publisher="nbs", theme="finance", title="某区 2024 年部门预算")
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    fields = profile_fields()
    assert {"name", "gov:openness", "gov:personalData", "version", "created"} <= set(fields)
    for name in fields:
        assert name in data, name
        # the lines just above the key: a Chinese comment, then an English one
        above = text.split(f"\n{name}:", 1)[0].rstrip("\n").splitlines()[-2:]
        assert above[0].startswith("# ") and re.search(r"[\u4e00-\u9fff]", above[0]), (name, above)
        assert above[1].startswith("# ") and above[1].isascii(), (name, above)
    assert data["name"] == "gz-budget-2024" and data["title"] == "某区 2024 年部门预算"
    assert data["gov:publisher"] == "nbs" and data["gov:theme"] == "finance"
    assert data["licenses"][0]["name"] == "CC-BY-4.0"  # the site's default licence
    assert data["gov:openness"]["class"] is None  # never a default openness
    assert data["resources"] is None and (path.parent / "data").is_dir()


def test_the_scaffold_names_each_required_field_still_empty_then_validates_once_filled(tmp_path):
    root = empty_repo(tmp_path)
    path = scaffold(root, "town-budget", publisher="nbs")
    site = read_site(root)
    notes = " ".join(e.note for e in read_dataset(path.parent, site).errors)
    for what in ("description", "keywords", "gov:theme", "gov:contact", "gov:frequency", "gov:openness"):
        assert what in notes, what
    assert "no resources" in notes
    fill_in(path)
    errors = read_dataset(path.parent, site).errors
    assert [e.note for e in errors] == ["the dataset has no resources"]


@pytest.mark.parametrize("name", ["Budget", "gz_budget", "gz.budget", "-x", "_x", "预算", "a b", "budget\n"])
def test_malformed_names_refused_with_the_rule(tmp_path, name):
    with pytest.raises(PublishError) as exc:
        scaffold(empty_repo(tmp_path), name)
    assert exc.value.code == 2 and "[a-z0-9][a-z0-9-]*" in str(exc.value)


# the reserved names a slug can spell (others, such as catalog.jsonld, already break the rule)
@pytest.mark.parametrize("name", sorted(n for n in RESERVED_NAMES if SLUG.match(n))[:10] + ["favicon-ico"])
def test_reserved_names_refused(tmp_path, name):
    root = empty_repo(tmp_path)
    with pytest.raises(PublishError) as exc:
        scaffold(root, name)
    assert "reserved" in str(exc.value) and "保留" in str(exc.value)
    assert not (root / "datasets" / name).exists()


def test_unknown_ids_refused_with_the_valid_ones(tmp_path):
    root = empty_repo(tmp_path)
    with pytest.raises(PublishError) as exc:
        scaffold(root, "x", publisher="no-such-office")
    assert "no-such-office" in str(exc.value) and "world-bank" in str(exc.value) and "nbs" in str(exc.value)
    with pytest.raises(PublishError) as exc:
        scaffold(root, "x", theme="weather")
    assert "weather" in str(exc.value) and "finance" in str(exc.value)
    assert not (root / "datasets" / "x").exists()


def test_an_existing_folder_is_never_overwritten(tmp_path):
    root = empty_repo(tmp_path)
    (root / "datasets" / "taken").mkdir(parents=True)
    (root / "datasets" / "taken" / "datapackage.json").write_text("{}")
    with pytest.raises(PublishError) as exc:
        scaffold(root, "taken")
    assert exc.value.code == 1 and "already exists" in str(exc.value)
    assert (root / "datasets" / "taken" / "datapackage.json").read_text() == "{}"


def test_created_is_the_given_day():
    site = read_site(REPO)
    data = yaml.safe_load(descriptor_text("x", site, today=date(2026, 1, 2)))
    assert data["created"] == "2026-01-02T00:00:00Z"


def test_cli_new_exit_codes_and_messages(tmp_path):
    root = empty_repo(tmp_path)
    ok = gongkai(
        "new", "road-works", "--publisher", "nbs", "--theme", "transport", "--title", "道路施工", "--root", root
    )
    assert ok.returncode == 0, ok.stderr
    assert "datapackage.yaml" in ok.stdout and "创建" in ok.stdout
    again = gongkai("new", "road-works", "--root", root)
    assert again.returncode == 1 and "already exists" in again.stderr and "Traceback" not in again.stderr
    bad = gongkai("new", "Road_Works", "--root", root)
    assert bad.returncode == 2 and "[a-z0-9][a-z0-9-]*" in bad.stderr
    unknown = gongkai("new", "y", "--theme", "nope", "--root", root)
    assert unknown.returncode == 2 and "transport" in unknown.stderr
    no_meta = gongkai("new", "y", "--root", tmp_path / "elsewhere")
    assert no_meta.returncode == 2 and "metadata/" in no_meta.stderr


def test_cli_new_help_documents_every_option_in_both_languages():
    out = gongkai("new", "--help").stdout
    for option in ("--publisher", "--theme", "--title", "--root"):
        line = out.split(option, 1)[1].split("\n  -", 1)[0]
        assert re.search(r"[\u4e00-\u9fff]", line) and re.search(r"[A-Za-z]{4}", line), option


def test_every_string_the_tools_use_exists_in_both_languages():
    import gongkai.i18n as i18n

    sources = [*(REPO / "gongkai" / "publish").glob("*.py"), REPO / "gongkai" / "cli.py"]
    used = set()
    for path in sources:
        used |= set(re.findall(r'"((?:pub|new|desc|help|progress)_[a-z0-9_]+)"', path.read_text(encoding="utf-8")))
    assert len(used) > 60
    for key in sorted(used):
        entry = i18n.STRINGS.get(key)
        assert entry and entry.get("zh") and entry.get("en"), key
        assert re.search(r"[\u4e00-\u9fff]", entry["zh"]), key
