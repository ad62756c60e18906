"""What decides a rebuild: the code that shapes a dataset's database and reports, nothing else.

The build is run for real on a copy of the package, so a change to a file of the copy is a
change the build can see (the installed package is never edited)."""

import shutil
from pathlib import Path

import pytest

from gongkai import codehash
from gongkai.build import build_site

PACKAGE = Path(codehash.__file__).resolve().parent
REPO = PACKAGE.parent


@pytest.fixture
def package_copy(tmp_path, monkeypatch) -> Path:
    copy = tmp_path / "code" / "gongkai"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "templates", tmp_path / "code" / "templates")
    monkeypatch.setattr(codehash, "PACKAGE_DIR", copy)
    return copy


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _rebuild(site_root, out) -> tuple[list[str], list[str]]:
    result = build_site(site_root, out)
    assert result.ok
    return sorted(result.reused), sorted(d.name for d in result.datasets)


def test_build_code_is_found_from_the_roots():
    files = {str(p.relative_to(PACKAGE)) for p in codehash.build_code_files()}
    # reading, validation (every field type), loading, the search index, reports
    assert {
        "descriptors.py",
        "validate/table.py",
        "validate/reader.py",
        "validate/fields/date.py",
        "load.py",
        "search/index.py",
        "search/tokens.py",
        "report.py",
        "errors.py",
        "locales/validation.yaml",
    } <= files
    # serve-side code never decides a rebuild; the route table does (it reserves dataset names),
    # and so does the timeliness rule (it writes the report's `overdue` warning, gongkai/report.py)
    assert not {
        f
        for f in files
        if f.startswith(("portal/", "bench/"))
        and f not in ("portal/routes.py", "portal/timeliness.py")
        or f
        in (
            "search/query.py",
            "i18n.py",
            "serve.py",
            "asgi.py",
            "cli.py",
            "build.py",
            "datasette_files.py",
            "catalog_db.py",
            "locales/portal.yaml",
        )
    }


def test_a_portal_or_template_change_rebuilds_nothing(site_root, tmp_path, package_copy):
    out = tmp_path / "out"
    assert build_site(site_root, out).ok
    _append(package_copy / "portal" / "quality.py", "\n# a serve-side fix\n")
    _append(package_copy / "search" / "query.py", "\n# serve-side search\n")
    _append(package_copy / "i18n.py", "\n# strings\n")
    _append(package_copy / "locales" / "portal.yaml", "\n# a site string\n")
    _append(package_copy.parent / "templates" / "portal_dataset.html", "\n{# a template fix #}\n")
    reused, names = _rebuild(site_root, out)
    assert reused == names and names  # every dataset unchanged


@pytest.mark.parametrize(
    "module",
    [
        "validate/table.py",
        "validate/fields/string.py",
        "load.py",
        "search/tokens.py",
        "report.py",
        "descriptors.py",
        "locales/validation.yaml",  # its messages are in every report
    ],
)
def test_a_build_code_change_rebuilds_every_dataset(site_root, tmp_path, package_copy, module):
    out = tmp_path / "out"
    assert build_site(site_root, out).ok
    _append(package_copy / module, "\n# a change to how databases are made\n")
    reused, names = _rebuild(site_root, out)
    assert reused == [] and names


def test_a_new_module_counts_once_it_is_imported(package_copy):
    before = codehash.code_hash()
    (package_copy / "validate" / "extra_check.py").write_text("LIMIT = 1\n", encoding="utf-8")
    assert codehash.code_hash() == before  # not imported by anything yet
    _append(package_copy / "validate" / "table.py", "\nfrom .extra_check import LIMIT  # noqa\n")
    changed = codehash.code_hash()
    (package_copy / "validate" / "extra_check.py").write_text("LIMIT = 2\n", encoding="utf-8")
    assert codehash.code_hash() != changed


@pytest.mark.parametrize(
    "source",
    [
        "from . import (  # noqa: E402  (a comment holding parentheses)\n    report,\n)\n",
        "if True: from . import report\n",
        "x = 1; import gongkai.report\n",
        "from .report import (\n    write_report,  # (a)\n)\n",
        "from . \\\n    import report\n",
        "from . report import write_report\n",
    ],
)
def test_every_form_of_an_import_statement_is_found(tmp_path, source):
    """Only the import statements are parsed (a regular expression finds them); whatever its
    form, a statement's module is found, as a whole-module parse finds it."""
    (tmp_path / "report.py").write_text("", encoding="utf-8")
    module = tmp_path / "user.py"
    module.write_text('"""from the data import nothing."""\n' + source, encoding="utf-8")
    assert codehash._imports(tmp_path, module) == {"report"}


def test_a_module_is_parsed_again_when_it_changed(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("", encoding="utf-8")
    (tmp_path / "b.py").write_text("", encoding="utf-8")
    module = tmp_path / "user.py"
    module.write_text("from . import a\n", encoding="utf-8")
    assert codehash._imports(tmp_path, module) == {"a"}  # just written: parsed, not kept
    monkeypatch.setattr(codehash, "RACY_S", 0)  # no file is recent: every answer is kept
    assert codehash._imports(tmp_path, module) == {"a"}
    module.write_text("from . import a, b\n", encoding="utf-8")
    assert codehash._imports(tmp_path, module) == {"a", "b"}  # another size: not the kept answer
