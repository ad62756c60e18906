"""The bad-input corpus: whatever a pull request holds, `validate` and `build` end with a specific,
bilingual error naming the file, exit 1, never a traceback or a hang, nothing outside the dataset
is read, and the served site stays byte for byte what it was.

Each case mutates a copy of tests/fixtures/site (its `budget` dataset); the good site is built
once and its build folder copied for each case. Most cases run through click's CliRunner, a
representative subset through a real `python -m gongkai` subprocess.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from gongkai import release_files
from gongkai.build import build_site, load_dataset
from gongkai.cli import cli
from gongkai.descriptors import read_dataset, read_site
from gongkai.validate import validate_dataset

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = "项目,年度,金额,日期,公开\n"
PASSWD_MARKER = "root:x:0:0"


def _desc(root: Path) -> dict:
    return json.loads((root / "datasets/budget/datapackage.json").read_text(encoding="utf-8"))


def _put(root: Path, d: dict) -> None:
    (root / "datasets/budget/datapackage.json").write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")


def edit(change):
    """A case that changes the descriptor dict in place."""

    def apply(root: Path):
        d = _desc(root)
        change(d, d["resources"][0], d["resources"][0]["schema"]["fields"])
        _put(root, d)

    return apply


def csv(text: str | bytes):
    def apply(root: Path):
        path = root / "datasets/budget/budget.csv"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))

    return apply


def link(target: str, name: str = "budget.csv"):
    def apply(root: Path):
        path = root / "datasets/budget" / name
        if path.exists():
            path.unlink()
        os.symlink(target, path)

    return apply


def descriptor_text(text: str, name: str = "datapackage.json"):
    def apply(root: Path):
        (root / "datasets/budget/datapackage.json").unlink()
        (root / "datasets/budget" / name).write_text(text, encoding="utf-8")

    return apply


def fifo(root: Path):
    path = root / "datasets/budget/budget.csv"
    path.unlink()
    os.mkfifo(path)


def folder_link(root: Path):
    shutil.move(str(root / "datasets/budget"), str(root / "elsewhere"))
    os.symlink(root / "elsewhere", root / "datasets/budget")


def schema_link(root: Path):
    os.symlink("/etc/passwd", root / "datasets/budget/schema.json")
    edit(lambda d, r, f: r.update(schema="schema.json"))(root)


def dialect_link(root: Path):
    os.symlink("/etc/passwd", root / "datasets/budget/dialect.json")
    edit(lambda d, r, f: r.update(dialect="dialect.json"))(root)


def too_big(root: Path):
    csv(HEADER + "教育,2023,1,2023-01-01,true\n" * 2000)(root)


def publisher_js(root: Path):
    path = root / "metadata/publishers.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "  email: finance@example.gov.cn", '  email: finance@example.gov.cn\n  homepage: "javascript:alert(1)"'
        ),
        encoding="utf-8",
    )


def licence_js(root: Path):
    path = root / "metadata/licenses.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("url: https://", "url: JavaScript:alert(1)//"), encoding="utf-8"
    )


def yaml_bomb():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def zip_as_csv(root: Path):
    import zipfile

    with zipfile.ZipFile(root / "datasets/budget/budget.csv", "w") as z:
        z.writestr("x.csv", "a,b\n" * 1000)


# (id, change, expected error type, phrase of its message, file the report names)
CASES = [
    # 1. nothing outside the dataset folder is read
    ("symlink-passwd", link("/etc/passwd"), "resource-error", "symbolic link", "budget.csv"),
    ("symlink-dev-zero", link("/dev/zero"), "resource-error", "outside the dataset folder", "budget.csv"),
    (
        "symlink-up-relative",
        link("../../metadata/site.yaml"),
        "resource-error",
        "outside the dataset folder",
        "budget.csv",
    ),
    ("fifo", fifo, "resource-error", "FIFO", "budget.csv"),
    (
        "descriptor-symlink",
        link("/etc/passwd", "datapackage.json"),
        "package-error",
        "symbolic link",
        "datapackage.json",
    ),
    ("schema-symlink", schema_link, "schema-error", "symbolic link", "schema.json"),
    ("dialect-symlink", dialect_link, "dialect-error", "symbolic link", "dialect.json"),
    ("folder-symlink", folder_link, "package-error", "symbolic link", "budget"),
    ("over-size-limit", too_big, "resource-error", "GONGKAI_MAX_FILE_BYTES", "budget.csv"),
    (
        "unsafe-path",
        edit(lambda d, r, f: r.update(path="../../metadata/site.yaml")),
        "resource-error",
        "not safe",
        "site.yaml",
    ),
    (
        "custom-profile-url",
        edit(lambda d, r, f: d.update(profile="http://127.0.0.1:9/p.json")),
        "package-error",
        "custom profiles",
        "datapackage.json",
    ),
    # 2. descriptor-level errors: reports, not tracebacks
    ("duplicate-resource", edit(lambda d, r, f: d["resources"].append(dict(r))), "package-error", "not unique", None),
    ("duplicate-field", edit(lambda d, r, f: f.append(dict(f[0]))), "schema-error", "not unique", None),
    (
        "bad-encoding-name",
        edit(lambda d, r, f: r.update(encoding="nope")),
        "encoding-error",
        "unknown encoding",
        "budget.csv",
    ),
    ("rot13", edit(lambda d, r, f: r.update(encoding="rot13")), "encoding-error", "unknown encoding", "budget.csv"),
    ("base64", edit(lambda d, r, f: r.update(encoding="base64")), "encoding-error", "unknown encoding", "budget.csv"),
    ("zlib", edit(lambda d, r, f: r.update(encoding="zlib")), "encoding-error", "unknown encoding", "budget.csv"),
    (
        "pk-missing-field",
        edit(lambda d, r, f: r["schema"].update(primaryKey=["zzz"])),
        "schema-error",
        "primary key",
        None,
    ),
    ("unknown-type", edit(lambda d, r, f: f[0].update(type="zzz")), "field-error", "zzz", "datapackage.json"),
    ("deep-json", descriptor_text("[" * 10000 + "]" * 10000), "package-error", "levels deep", "datapackage.json"),
    (
        "deep-yaml",
        descriptor_text("[" * 10000 + "]" * 10000, "datapackage.yaml"),
        "package-error",
        "levels deep",
        "datapackage.yaml",
    ),
    ("yaml-bomb", descriptor_text(yaml_bomb(), "datapackage.yaml"), "package-error", "aliases", "datapackage.yaml"),
    (
        "fields-empty",
        edit(lambda d, r, f: r["schema"].update(fields=[])),
        "schema-error",
        "at least one field",
        "datapackage.json",
    ),
    (
        "fields-number",
        edit(lambda d, r, f: r["schema"].update(fields=[1])),
        "field-error",
        "must be an object",
        "datapackage.json",
    ),
    (
        "5000-columns",
        edit(lambda d, r, f: r["schema"].update(fields=[{"name": f"c{i}"} for i in range(5000)])),
        "schema-error",
        "at most",
        "datapackage.json",
    ),
    (
        "translations-string",
        edit(lambda d, r, f: d.update({"gov:translations": "en"})),
        "profile-error",
        "gov:translations",
        "datapackage.json",
    ),
    (
        "spatial-list",
        edit(lambda d, r, f: d.update({"gov:spatial": [1]})),
        "profile-error",
        "gov:spatial",
        "datapackage.json",
    ),
    (
        "publisher-list",
        edit(lambda d, r, f: d.update({"gov:publisher": ["x"]})),
        "profile-error",
        "gov:publisher",
        "datapackage.json",
    ),
    (
        "resource-name-number",
        edit(lambda d, r, f: r.update(name=5)),
        "resource-error",
        "must be a string",
        "datapackage.json",
    ),
    (
        "resource-name-newline",
        edit(lambda d, r, f: r.update(name="budget\n")),
        "resource-error",
        "control characters",
        "datapackage.json",
    ),
    ("format-number", edit(lambda d, r, f: r.update(format=123)), "resource-error", "format", "datapackage.json"),
    (
        "multichar-delimiter",
        edit(lambda d, r, f: r.update(dialect={"delimiter": ";;"})),
        "dialect-error",
        "one character",
        "datapackage.json",
    ),
    (
        "multichar-escape",
        edit(lambda d, r, f: r.update(dialect={"escapeChar": "ab"})),
        "dialect-error",
        "one character",
        "datapackage.json",
    ),
    (
        "header-rows-text",
        edit(lambda d, r, f: r.update(dialect={"headerRows": ["x"]})),
        "dialect-error",
        "row number",
        "datapackage.json",
    ),
    (
        "pattern-invalid",
        edit(lambda d, r, f: f[0].update(constraints={"pattern": "(("})),
        "field-error",
        "not a valid regular expression",
        "datapackage.json",
    ),
    (
        "pattern-backtracking",
        lambda root: (
            edit(lambda d, r, f: f[0].update(constraints={"pattern": "(a+)+$"}))(root),
            csv(HEADER + "a" * 40 + "b,2023,1,2023-01-01,true\n")(root),
        ),
        "field-error",
        "backtracks",
        "budget.csv",
    ),
    # 3. links that would run script
    (
        "source-javascript",
        edit(lambda d, r, f: d.update(sources=[{"title": "x", "path": "javascript:alert(1)"}])),
        "profile-error",
        "javascript:",
        "datapackage.json",
    ),
    (
        "licence-path-javascript",
        edit(lambda d, r, f: d["licenses"][0].update(path=" javascript:alert(1)")),
        "profile-error",
        "only http",
        "datapackage.json",
    ),
    (
        "homepage-data-url",
        edit(lambda d, r, f: d.update(homepage="data:text/html,<script>alert(1)</script>")),
        "profile-error",
        "only http",
        "datapackage.json",
    ),
    ("publisher-homepage-javascript", publisher_js, "metadata-error", "javascript:", "metadata/publishers.yaml"),
    ("site-licence-url-javascript", licence_js, "metadata-error", "only http", "metadata/licenses.yaml"),
    # 4. NaN and infinities
    (
        "number-nan",
        csv(HEADER + "教育,2023,NaN,2023-01-01,true\n"),
        "number-range",
        "leave the cell empty",
        "budget.csv",
    ),
    (
        "number-infinity",
        csv(HEADER + "教育,2023,-Infinity,2023-01-01,true\n"),
        "number-range",
        "leave the cell empty",
        "budget.csv",
    ),
    (
        "number-huge-exponent",
        csv(HEADER + "教育,2023,1e999999,2023-01-01,true\n"),
        "number-range",
        "Infinity",
        "budget.csv",
    ),
    # 5. already handled before, kept so
    ("malformed-json", descriptor_text("{nope"), "package-error", "not valid JSON", "datapackage.json"),
    (
        "invalid-utf8",
        csv(HEADER.encode() + b"\xff\xfe,2023,1,2023-01-01,true\n"),
        "encoding-error",
        "not valid",
        "budget.csv",
    ),
    (
        "undeclared-gb18030",
        csv((HEADER + "教育,2023,1,2023-01-01,true\n").encode("gb18030")),
        "encoding-error",
        "gb18030",
        "budget.csv",
    ),
    (
        "ragged-rows",
        csv(HEADER + "教育,2023\n卫生,2023,1,2023-01-01,true,extra\n"),
        "missing-cell",
        "cells",
        "budget.csv",
    ),
    (
        "20mb-cell",
        csv(HEADER + "教育," + "9" * (20 << 20) + ",1,2023-01-01,true\n"),
        "type-error",
        "year",
        "budget.csv",
    ),
    ("zip-as-csv", zip_as_csv, "encoding-error", "not valid", "budget.csv"),
    ("nul-bytes", csv(HEADER + "教育,20\x0023,1,2023-01-01,true\n"), "type-error", "year", "budget.csv"),
    (
        "sql-in-field-name",
        edit(lambda d, r, f: f[0].update(name='项目"; DROP TABLE budget; --')),
        "incorrect-label",
        "does not match",
        "budget.csv",
    ),
]
SUBPROCESS = {
    "symlink-passwd",
    "fifo",
    "rot13",
    "deep-yaml",
    "yaml-bomb",
    "pattern-backtracking",
    "source-javascript",
    "number-nan",
}


def tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        h.update(str(path.relative_to(folder)).encode())
        if path.is_symlink():
            h.update(os.readlink(path).encode())
        elif path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def good_build(tmp_path_factory) -> Path:
    """A build folder holding a successful build of the good site."""
    base = tmp_path_factory.mktemp("good")
    root = base / "repo"
    shutil.copytree(FIXTURES / "site", root)
    result = build_site(root, base / "out")
    assert result.ok
    return base / "out"


def _all_errors(report: dict) -> list[dict]:
    return list(report["errors"]) + [e for t in report["tasks"] for e in t["errors"]]


def _run(args: list[str], subprocess_: bool, env: dict) -> tuple[int, str]:
    if subprocess_:
        proc = subprocess.run(
            [sys.executable, "-m", "gongkai", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **env},
        )
        return proc.returncode, proc.stdout + proc.stderr
    result = CliRunner().invoke(cli, args, env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, good_build, tmp_path):
    name, change, kind, phrase, file = case
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "site", root)
    out = tmp_path / "out"
    shutil.copytree(good_build, out, symlinks=True)
    served = (out / "site").resolve()
    before = tree_hash(served)
    change(root)
    env = {"GONGKAI_MAX_FILE_BYTES": "50000"} if name == "over-size-limit" else {}
    sub = name in SUBPROCESS

    code, text = _run(["validate", "--json", "--root", str(root), str(root / "datasets/budget")], sub, env)
    assert code == 1, text
    assert "Traceback" not in text and PASSWD_MARKER not in text
    # the report is the JSON on stdout; progress lines (stderr) may follow it in `text`
    report, _ = json.JSONDecoder().raw_decode(text[text.index("{") :])
    matching = [e for e in _all_errors(report) if e["type"] == kind]
    assert matching, [(e["type"], e["message"]) for e in _all_errors(report)]
    error = matching[0]
    assert phrase in error["message"], error["message"]
    assert error["message_zh"] and error["note_zh"] and error["note_zh"] != error["note"]
    if file:
        assert file in error.get("file", "") or file in error["message"], error

    code, text = _run(["build", "--root", str(root), "--out", str(out)], sub, env)
    assert code == 1, text
    assert "Traceback" not in text and PASSWD_MARKER not in text
    if kind == "metadata-error":
        assert phrase in text and file in text
    else:
        built = (out / "reports/budget.json").read_text(encoding="utf-8")
        assert PASSWD_MARKER not in built
        errors = [e for e in _all_errors(json.loads(built)) if e["type"] == kind]
        assert errors and phrase in errors[0]["message"], built[:2000]
    assert (out / "site").resolve() == served and tree_hash(served) == before


def test_symlink_inside_the_folder_is_fine(site_root, tmp_path):
    folder = site_root / "datasets/budget"
    os.rename(folder / "budget.csv", folder / "real.csv")
    os.symlink("real.csv", folder / "budget.csv")
    result = build_site(site_root, tmp_path / "out")
    assert result.ok
    published = release_files.downloads(tmp_path / "out/site", "budget") / "budget.csv"
    assert not published.is_symlink() and published.read_bytes() == (folder / "real.csv").read_bytes()


def test_hashing_never_opens_special_files(site_root, tmp_path):
    # a FIFO or a link to /dev/zero that no descriptor names must not hang the build's hashing
    folder = site_root / "datasets/budget"
    os.mkfifo(folder / "pipe")
    os.symlink("/dev/zero", folder / "zero")
    result = build_site(site_root, tmp_path / "out")
    assert result.ok
    assert not (release_files.downloads(tmp_path / "out/site", "budget") / "zero").exists()


# -- fuzzing the descriptor reader ------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
PLACES = (
    [
        ("package", k)
        for k in (
            "resources",
            "licenses",
            "sources",
            "keywords",
            "name",
            "title",
            "homepage",
            "profile",
            "gov:publisher",
            "gov:theme",
            "gov:contact",
            "gov:openness",
            "gov:temporal",
            "gov:spatial",
            "gov:translations",
            "gov:personalData",
            "gov:frequency",
        )
    ]
    + [
        ("resource", k)
        for k in (
            "name",
            "path",
            "schema",
            "dialect",
            "format",
            "encoding",
            "hash",
            "bytes",
            "gov:translations",
            "gov:labelField",
            "sources",
            "licenses",
        )
    ]
    + [("schema", k) for k in ("fields", "primaryKey", "foreignKeys", "missingValues", "fieldsMatch")]
    + [
        ("field", k)
        for k in (
            "name",
            "type",
            "format",
            "constraints",
            "missingValues",
            "trueValues",
            "groupChar",
            "decimalChar",
            "bareNumber",
            "gov:translations",
            "gov:unit",
            "gov:searchable",
        )
    ]
    + [("constraints", k) for k in ("required", "unique", "minimum", "maximum", "minLength", "pattern", "enum")]
    + [
        ("dialect", k)
        for k in (
            "delimiter",
            "quoteChar",
            "escapeChar",
            "header",
            "headerRows",
            "commentChar",
            "commentRows",
            "skipBlankRows",
            "doubleQuote",
            "csv",
        )
    ]
)


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "repo"
    shutil.copytree(FIXTURES / "site", root)
    return root


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(place=st.sampled_from(PLACES), value=json_values)
def test_fuzz_descriptor_never_raises(fuzz_root, place, value):
    d = json.loads((FIXTURES / "site/datasets/budget/datapackage.json").read_text(encoding="utf-8"))
    res = d["resources"][0]
    field = res["schema"]["fields"][2]
    owner = {
        "package": d,
        "resource": res,
        "schema": res["schema"],
        "field": field,
        "constraints": field.setdefault("constraints", {}),
        "dialect": res.setdefault("dialect", {}),
    }[place[0]]
    owner[place[1]] = value
    folder = fuzz_root / "datasets/budget"
    (folder / "datapackage.json").write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    site = read_site(fuzz_root)
    result = validate_dataset(read_dataset(folder, site))
    loaded = load_dataset(read_dataset(folder, site), fuzz_root / "fuzz.db", search=True)
    os.unlink(fuzz_root / "fuzz.db")
    assert result.valid == loaded.valid
    if result.valid:
        # whatever passes validate must build
        out = fuzz_root.parent / "out"
        assert build_site(fuzz_root, out).ok
