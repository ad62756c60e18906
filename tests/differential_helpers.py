"""Run frictionless and our validator on the same Data Package folder and reduce both reports to
comparable keys. Used by tests/test_differential.py.

Each fixture folder (tests/fixtures/{invalid,valid}/<case>/) holds a datapackage.json, its data
files and a case.yaml:

    about: what the case exercises
    errors: [type-error, ...]   # exactly the error types frictionless reports (empty: valid)
    encoding: utf-8             # optional, default utf-8: the encoding frictionless is given for
                                # resources that declare none, i.e. our policy (strict, UTF-8 by
                                # default) instead of frictionless's guess; "detect" lets it guess
    compare: full               # optional, default full: (type, rowNumber, fieldName);
                                # "types": error types only
    generate: <name>            # optional: data written at test time by GENERATORS[name]
    limit_reached: true         # optional: frictionless must stop at limit_errors
    divergence:                 # optional: a deliberate difference from frictionless
      ours: [resource-error]    #   the error types we report instead
      reason: ...

How the reports are compared:
- source-level errors (the file or descriptor cannot be read) are compared by type only, over the
  whole package: frictionless reports descriptor problems once for the package and validates
  nothing else, while we may attach them to a resource;
- every other error is compared per resource (by name) as (type, rowNumber, fieldName);
- label errors carry no rowNumber in frictionless (rowNumbers: [1]); they are compared without
  one. Row-level errors (blank-row, primary-key, foreign-key) have no fieldName in frictionless
  (foreign keys list fieldNames); ours may name a column, so it is ignored for them. A fieldName
  of "" (frictionless's extra-label / extra-cell) equals None.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsx_fixtures
import yaml

FIXTURES = Path(__file__).parent / "fixtures"
LIMIT_ERRORS = 1000  # frictionless's default, and ours

SOURCE_TYPES = frozenset(
    {
        "scheme-error",
        "format-error",
        "encoding-error",
        "resource-error",
        "source-error",
        "package-error",
        "schema-error",
        "field-error",
    }
)
LABEL_TYPES = frozenset(
    {"blank-label", "duplicate-label", "extra-label", "missing-label", "incorrect-label", "blank-header"}
)
ROW_TYPES = frozenset({"blank-row", "primary-key", "foreign-key"})

Key = tuple[str, Any, Any]


# ------------------------------------------------------------------------------------- cases


@dataclass
class Case:
    folder: Path
    about: str
    errors: frozenset[str]
    encoding: str = "utf-8"
    compare: str = "full"
    generate: str | None = None
    limit_reached: bool = False
    divergence: dict | None = None

    @property
    def name(self) -> str:
        return self.folder.name


def case_folders(kind: str) -> list[Path]:
    base = FIXTURES / kind
    return sorted(p for p in base.iterdir() if p.is_dir() and (p / "case.yaml").is_file()) if base.is_dir() else []


def load_case(folder: Path) -> Case:
    meta = yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))
    unknown = set(meta) - {"about", "errors", "encoding", "compare", "generate", "limit_reached", "divergence"}
    if unknown:
        raise ValueError(f"{folder}/case.yaml: unknown keys {sorted(unknown)}")
    if meta.get("compare", "full") not in ("full", "types"):
        raise ValueError(f"{folder}/case.yaml: compare must be full or types")
    return Case(
        folder=folder,
        about=meta.get("about", ""),
        errors=frozenset(meta.get("errors") or []),
        encoding=meta.get("encoding", "utf-8"),
        compare=meta.get("compare", "full"),
        generate=meta.get("generate"),
        limit_reached=bool(meta.get("limit_reached", False)),
        divergence=meta.get("divergence"),
    )


def materialise(case: Case, tmp_path: Path) -> Path:
    """The folder to validate: the fixture itself, or a copy with generated data written in."""
    if not case.generate:
        return case.folder
    target = tmp_path / case.name
    shutil.copytree(case.folder, target)
    GENERATORS[case.generate](target)
    return target


# ------------------------------------------------------------------------------------- reports


@dataclass
class Keys:
    """A validation report reduced to what is compared."""

    source: set[str] = field(default_factory=set)  # source-level error types, package-wide
    rows: dict[str, set[Key]] = field(default_factory=dict)  # resource name -> keys
    counts: dict[str, int] = field(default_factory=dict)  # resource name -> number of errors
    limited: set[str] = field(default_factory=set)  # resources where the error limit was reached

    def add(self, resource: str | None, type: str, row: Any, field_name: Any) -> None:
        if type in SOURCE_TYPES:
            self.source.add(type)
            return
        if type in LABEL_TYPES:
            row = None
        if type in ROW_TYPES:
            field_name = None
        if field_name == "":
            field_name = None
        self.rows.setdefault(resource or "", set()).add((type, row, field_name))
        self.counts[resource or ""] = self.counts.get(resource or "", 0) + 1

    @property
    def types(self) -> set[str]:
        return self.source | {key[0] for keys in self.rows.values() for key in keys}

    def without(self, types: set[str]) -> Keys:
        """These keys less the given error types (our deliberate divergences from frictionless)."""
        out = Keys(source=self.source - types, counts=dict(self.counts), limited=set(self.limited))
        out.rows = {resource: {k for k in keys if k[0] not in types} for resource, keys in self.rows.items()}
        return out

    def only_types(self) -> Keys:
        out = Keys(source=set(self.source))
        for resource, keys in self.rows.items():
            out.rows[resource] = {(t, None, None) for t, _, _ in keys}
        return out

    def comparable(self) -> tuple[set[str], dict[str, set[Key]]]:
        return self.source, {name: keys for name, keys in self.rows.items() if keys}


def frictionless_descriptor(folder: Path, encoding: str) -> dict | None:
    """The descriptor given to frictionless: as written, with `encoding` filled in where none is
    declared (unless "detect"). None when the file is not a JSON object (frictionless then reads
    the path itself and reports the package-error)."""
    try:
        descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(descriptor, dict):
        return None
    if encoding != "detect" and isinstance(descriptor.get("resources"), list):
        for resource in descriptor["resources"]:
            if isinstance(resource, dict) and "encoding" not in resource:
                resource["encoding"] = encoding
    return descriptor


def frictionless_keys(folder: Path, encoding: str = "utf-8", limit_errors: int = LIMIT_ERRORS) -> Keys:
    """`frictionless validate datapackage.json`, untrusted, as keys."""
    import frictionless

    # The command line only trusts paths with --trusted; the default must stay untrusted so that
    # "../x.csv" and absolute paths are refused, as for content from a pull request.
    assert not frictionless.system.trusted
    descriptor = frictionless_descriptor(folder, encoding)
    if descriptor is None:
        report = frictionless.validate(str(folder / "datapackage.json"), limit_errors=limit_errors)
    else:
        report = frictionless.validate(descriptor, basepath=str(folder), limit_errors=limit_errors)
    keys = Keys()
    for error in report.errors:
        keys.add(None, error.type, None, None)
    for task in report.tasks:
        keys.rows.setdefault(task.name, set())
        for error in task.errors:
            keys.add(task.name, error.type, getattr(error, "row_number", None), getattr(error, "field_name", None))
        if any("reached error limit" in warning for warning in task.warnings):
            keys.limited.add(task.name)
    return keys


def our_keys(folder: Path, limit_errors: int = LIMIT_ERRORS) -> Keys:
    """Our validator on the folder read as a plain Data Package (no catalogue profile), as keys."""
    from gongkai.descriptors import read_dataset
    from gongkai.validate import validate_dataset

    result = validate_dataset(read_dataset(folder, site=None), limit_errors=limit_errors)
    keys = Keys()
    for error in result.errors:
        keys.add(error.resource, error.type, error.row_number, error.field_name)
    for task in result.tasks:
        keys.rows.setdefault(task.resource.name, set())
        # the personal-data guard is our own check (fixtures hold e-mail addresses frictionless
        # validates as formats): it is not compared with frictionless
        errors = [e for e in task.errors if e.type != "personal-data"]
        for error in errors:
            keys.add(task.resource.name, error.type, error.row_number, error.field_name)
        keys.counts[task.resource.name] = len(errors)
    return keys


def differences(expected: Keys, actual: Keys) -> str:
    """A readable account of what one report has and the other lacks ('' when they agree)."""
    lines = []
    if expected.source != actual.source:
        lines.append(f"source-level types: frictionless {sorted(expected.source)} != ours {sorted(actual.source)}")
    for name in sorted(set(expected.rows) | set(actual.rows)):
        want, got = expected.rows.get(name, set()), actual.rows.get(name, set())
        for label, keys in (("only frictionless", want - got), ("only ours", got - want)):
            if keys:
                shown = sorted(keys, key=repr)[:15]
                more = f" ... (+{len(keys) - 15})" if len(keys) > 15 else ""
                lines.append(f"resource {name!r} {label}: {shown}{more}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------- generators
# Data too big to commit is written at test time (all deterministic).


def _late_chinese(folder: Path) -> None:
    # ~240 KB of ASCII (far beyond any detection sample), then GBK-encoded Chinese.
    head = "id,name\n" + "".join(f"{i},row{i:06d}-abcdefghijklmnopqrstu\n" for i in range(1, 7001))
    tail = "7001,北京市\n7002,天津市\n".encode("gbk")
    (folder / "d.csv").write_bytes(head.encode("ascii") + tail)


def _one_error_per_row(folder: Path) -> None:
    rows = "".join(f"{i},x{i}\n" for i in range(1, 1501))
    (folder / "d.csv").write_text("id,v\n" + rows, encoding="utf-8")


def _two_errors_per_row(folder: Path) -> None:
    rows = "".join(f"{i},n{i},abc\n" for i in range(1, 801))
    dupes = "".join("1,1,ok\n" for _ in range(100))  # never reached: the limit is hit at row 501
    (folder / "d.csv").write_text("id,n,s\n" + rows + dupes, encoding="utf-8")


def _large_field(folder: Path) -> None:
    big = "长" * 100_000 + "x" * 100_000
    (folder / "d.csv").write_text(f'id,text\n1,"{big}"\n2,short\n', encoding="utf-8")


GENERATORS: dict[str, Callable[[Path], None]] = {
    "late_chinese": _late_chinese,
    "one_error_per_row": _one_error_per_row,
    "two_errors_per_row": _two_errors_per_row,
    "large_field": _large_field,
    **xlsx_fixtures.GENERATORS,
}
