"""Read dataset folders and site metadata into plain objects, and check the catalogue profile.

Nothing here reads data files: that is the validator's job. What this module owns:
- reading `datapackage.json` / `datapackage.yaml` and `metadata/*.yaml` (errors, never tracebacks);
- resolving each resource's schema (inline, a path in the dataset folder, or a shared schema
  `shared:<name>` from `metadata/schemas/<name>.json`) and refusing unsafe paths;
- frictionless's own descriptor checks (package-error, resource-error, schema-error,
  field-error), so a descriptor frictionless would reject is rejected here the same way;
- our catalogue profile (docs/dataset-profile.md), as
  `profile-error` / `metadata-error`.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from . import openness as openness_rule
from .errors import METADATA_ERROR, PACKAGE_ERROR, PROFILE_ERROR, RESOURCE_ERROR, SCHEMA_ERROR, Error, text
from .model import Dataset, Resource
from .portal.routes import reserved_names
from .validate import files, shape

# `\Z`, not `$`: `$` also matches before a final newline ("budget\n" would pass)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*\Z")
# Every top-level path of the site, derived from the portal's route table (a dataset named
# like a route would have an unreachable database page).
RESERVED_NAMES = reserved_names()
FREQUENCIES = ("daily", "weekly", "monthly", "quarterly", "annual", "irregular", "never")
OPENNESS_CLASSES = openness_rule.CLASSES
DESCRIPTOR_NAMES = ("datapackage.json", "datapackage.yaml", "datapackage.yml")
# .xls / .et / .ods are named so that validation refuses them with the fix (save as .xlsx)
FORMATS = {".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx", ".xlsm": "xlsm", ".xls": "xls", ".et": "et", ".ods": "ods"}
# Licence ids are SPDX-style identifiers (ODC-PDDL-1.0, CC-BY-4.0), as datapackage.json names them.
LICENCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*\Z")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
# Profiles frictionless knows by name; any other would make it fetch a URL or read a file
PROFILES = ("data-package", "tabular-data-package", "data-resource", "tabular-data-resource")


@dataclass
class Site:
    """Site-wide metadata from `metadata/`: each registry maps id -> entry."""

    root: Path
    site: dict = field(default_factory=dict)
    publishers: dict[str, dict] = field(default_factory=dict)
    themes: dict[str, dict] = field(default_factory=dict)
    licenses: dict[str, dict] = field(default_factory=dict)
    errors: list[Error] = field(default_factory=list)

    @property
    def schemas_dir(self) -> Path:
        return self.root / "metadata" / "schemas"

    def shared_schemas(self) -> list[str]:
        """The names `shared:<name>` may use: each `metadata/schemas/<name>.json` whose name is a
        slug (a link or an odd file is listed here and refused when it is read)."""
        folder = self.schemas_dir
        if not folder.is_dir():
            return []
        return sorted(p.stem for p in folder.iterdir() if p.suffix == ".json" and SLUG.match(p.stem))


# ---------------------------------------------------------------------------------------------
# Site metadata


def read_site(root: Path) -> Site:
    """Read `metadata/site.yaml`, `publishers.yaml`, `themes.yaml`, `licenses.yaml` under root."""
    site = Site(root=Path(root))
    meta = site.root / "metadata"
    loaded = {}
    for name in ("site", "publishers", "themes", "licenses"):
        path = meta / f"{name}.yaml"
        data, error = _read_yaml(path)
        if error:
            site.errors.append(error)
        else:
            site.errors.extend(e.at(file=f"metadata/{name}.yaml") for e in shape.site_links(data, ""))
        loaded[name] = data
    site.site = loaded["site"] if isinstance(loaded["site"], dict) else {}
    for name in ("publishers", "themes", "licenses"):
        pattern = LICENCE_ID if name == "licenses" else SLUG
        registry, errors = _registry(loaded[name], f"metadata/{name}.yaml", pattern)
        setattr(site, name, registry)
        site.errors.extend(errors)
    return site


def _read_yaml(path: Path) -> tuple[Any, Error | None]:
    rel = f"metadata/{path.name}"
    if not os.path.lexists(path):
        return None, METADATA_ERROR("missing-file", file=rel).at(file=rel)
    data, error = parse_file(path.parent, path.name)
    if error:
        return None, error.at(type="metadata-error", file=rel)
    return data, None


def _registry(data: Any, rel: str, pattern: re.Pattern) -> tuple[dict[str, dict], list[Error]]:
    """A list of mappings with `id` (or a mapping id -> entry) as {id: entry}."""
    if data is None:
        return {}, []
    if isinstance(data, dict):
        data = [dict(v, id=k) if isinstance(v, dict) else {"id": k} for k, v in data.items()]
    if isinstance(data, list):
        # a link the site renders (a licence's url/path, a publisher's homepage) must be a link
        for i, entry in enumerate(data, start=1):
            if isinstance(entry, dict):
                for key in ("url", "path", "homepage", "email", "title", "name"):
                    value = entry.get(key)
                    if key in ("title", "name") and isinstance(value, dict):
                        value = next((v for v in value.values() if not isinstance(v, str)), None)
                        if value is None:
                            continue
                    if value is not None and not isinstance(value, str):
                        got = shape.json_type(value)
                        return {}, [METADATA_ERROR("not-a-string", index=i, key=key, got=got).at(file=rel)]
    if not isinstance(data, list):
        return {}, [METADATA_ERROR("not-a-list", file=rel).at(file=rel)]
    out: dict[str, dict] = {}
    errors = []
    for i, entry in enumerate(data, start=1):
        ident = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(ident, str) or not pattern.match(ident):
            errors.append(METADATA_ERROR("bad-id", index=i, id=ident, pattern=pattern.pattern).at(file=rel))
            continue
        if ident in out:
            errors.append(METADATA_ERROR("duplicate-id", id=ident).at(file=rel))
        out[ident] = entry
    return out, errors


# ---------------------------------------------------------------------------------------------
# Datasets


def dataset_folders(root: Path) -> list[Path]:
    """Every folder under `datasets/` (sorted), whether or not it holds a descriptor; a link to a
    folder is listed too, to be refused by `read_dataset`."""
    base = Path(root) / "datasets"
    if not base.is_dir():
        return []
    # scandir's entry types, not a stat per folder (10,000 of them in a large portal)
    with os.scandir(base) as entries:
        names = [e.name for e in entries if (e.is_dir() or e.is_symlink()) and not e.name.startswith(".")]
    return [base / name for name in sorted(names)]


def read_catalog(root: Path) -> tuple[Site, list[Dataset]]:
    site = read_site(root)
    return site, [read_dataset(folder, site) for folder in dataset_folders(root)]


def descriptor_path(folder: Path) -> Path | None:
    """The descriptor's path, whatever it is (a link, a FIFO...): reading it says what is wrong."""
    for name in DESCRIPTOR_NAMES:
        if os.path.lexists(folder / name):
            return folder / name
    return None


def read_dataset(folder: Path, site: Site | None = None, *, passed: set[str] | None = None) -> Dataset:
    """Read one dataset folder. With `site`, the catalogue profile is checked as well;
    without it the folder is treated as a plain Data Package. `passed`: see `checked_by_frictionless`."""
    folder = Path(folder)
    dataset = Dataset(name=folder.name, folder=folder, descriptor={})
    if folder.is_symlink():
        dataset.errors.append(PACKAGE_ERROR("folder-is-link", folder=folder.name).at(dataset=folder.name))
        return dataset
    path = descriptor_path(folder)
    if path is None:
        dataset.errors.append(PACKAGE_ERROR("no-descriptor", folder=folder.name).at(dataset=folder.name))
        return dataset
    descriptor, error = _read_descriptor(path)
    if error:
        dataset.errors.append(error.at(dataset=folder.name, file=path.name))
        return dataset
    # every key read below (and by the loader and the catalogue) has its JSON type first
    shape_errors = shape.check_package(descriptor)
    shape_errors = shape_errors or _profile_names(descriptor)
    if shape_errors:
        dataset.errors.extend(e.at(dataset=folder.name, file=path.name) for e in shape_errors)
        return dataset
    dataset.descriptor = descriptor
    if site is not None:
        dataset.errors.extend(e.at(dataset=folder.name) for e in check_profile(descriptor, folder.name, site))
    if dataset.errors and any(e.type == "package-error" for e in dataset.errors):
        return dataset
    for index, res in enumerate(descriptor.get("resources") or [], start=1):
        resource, errors = _read_resource(res, index, folder, site)
        dataset.errors.extend(e.at(dataset=folder.name) for e in errors)
        if resource is not None:
            resource.dataset = folder.name
            dataset.resources.append(resource)
    if not dataset.errors:
        # frictionless's own checks run on the resolved descriptor, so a schema given by path is
        # checked as well as an inline one.
        resolved = dict(
            descriptor,
            resources=[
                dict(r.descriptor, schema=r.schema, **({"dialect": r.dialect} if r.dialect else {}))
                for r in dataset.resources
            ],
        )
        dataset.errors.extend(e.at(dataset=folder.name) for e in checked_by_frictionless(resolved, passed))
    return dataset


def _profile_names(descriptor: dict) -> list[Error]:
    """A custom `profile` makes frictionless fetch it (a URL) or read it (a path, from the working
    directory): only the standard names are accepted."""
    out = []
    places = [("profile", descriptor)] + [
        (f"resources[{i}].profile", r) for i, r in enumerate(descriptor.get("resources") or [])
    ]
    for where, owner in places:
        value = owner.get("profile")
        if value is not None and value not in PROFILES:
            out.append(PACKAGE_ERROR("custom-profile", where=where, value=value, profiles=", ".join(PROFILES)))
    return out


class _NoAliasLoader(yaml.SafeLoader):
    """safe_load without aliases: a descriptor never needs them, and expanding them is the
    "billion laughs" attack (a few hundred bytes that take gigabytes)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in descriptors", event.start_mark
            )
        return super().compose_node(parent, index)


def _jsonable(value: Any, where: str = "") -> Any:
    """YAML's values as JSON's (dates as ISO strings); anything JSON has not is a ValueError."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"the key {k!r} under {where or 'the top level'} must be a string")
            out[k] = _jsonable(v, f"{where}.{k}" if where else k)
        return out
    if isinstance(value, list):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (date,)):
        return value.isoformat()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise ValueError(f"the value at {where or 'the top level'} is a YAML {type(value).__name__}, which JSON has not")


def parse_file(folder: Path, rel: str) -> tuple[Any, Error | None]:
    """A JSON or YAML file inside folder, read through `files` (inside the folder, a regular
    file, at most the descriptor limit), parsed without recursion limits or aliases to exploit.
    The error is a package-error the caller may retype."""
    name = PurePosixPath(rel).name
    try:
        raw = files.read_descriptor_bytes(folder, rel)
    except files.FileRefused as refused:  # its notes are the reader's own (validate/files.py)
        return None, Error("package-error", note=refused.note, note_zh=refused.note_zh)
    try:
        text = raw.decode("utf-8-sig")
        if name.endswith((".yaml", ".yml")):
            data = _jsonable(yaml.load(text, Loader=_NoAliasLoader))
        else:
            data = json.loads(text)
        if shape.depth_problem(data):
            raise RecursionError
    except UnicodeDecodeError as exc:
        return None, PACKAGE_ERROR("not-utf8", name=name, start=exc.start)
    except json.JSONDecodeError as exc:
        return None, PACKAGE_ERROR("not-json", name=name, msg=exc.msg, line=exc.lineno, column=exc.colno)
    except yaml.YAMLError as exc:
        return None, PACKAGE_ERROR("not-yaml", name=name, exc=exc)
    except RecursionError:
        return None, PACKAGE_ERROR("too-deep", name=name, depth=shape.MAX_DEPTH)
    except ValueError as exc:  # e.g. an integer of more than 4300 digits, a YAML set or binary
        return None, PACKAGE_ERROR("not-json-data", name=name, exc=exc)
    return data, None


def _read_descriptor(path: Path) -> tuple[dict, Error | None]:
    data, error = parse_file(path.parent, path.name)
    if error:
        return {}, error
    if not isinstance(data, dict):
        return {}, PACKAGE_ERROR("not-an-object", name=path.name)
    return data, None


# one rule for every path a descriptor gives, shared with the reader
is_safe_path = files.is_safe_path


def _read_resource(res: Any, index: int, folder: Path, site: Site | None) -> tuple[Resource | None, list[Error]]:
    if not isinstance(res, dict):
        return None, [PACKAGE_ERROR("resource-not-an-object", index=index)]
    declared_name = res.get("name")
    name = declared_name if isinstance(declared_name, str) and declared_name else f"resource{index}"
    errors: list[Error] = []
    path = res.get("path")
    if isinstance(path, list):
        return None, [RESOURCE_ERROR("multipart").at(resource=name)]
    fullpath = None
    if not isinstance(path, str) or not path:
        errors.append(RESOURCE_ERROR("no-path").at(resource=name))
    elif not is_safe_path(path):
        note, note_zh = files.unsafe_note(path)
        errors.append(Error("resource-error", resource=name, file=path, note=note, note_zh=note_zh))
    else:
        fullpath = folder / path
    schema, schema_errors = _resolve_schema(res.get("schema"), name, folder, site)
    errors.extend(schema_errors)
    dialect, dialect_errors = _resolve_dialect(res.get("dialect"), name, folder)
    errors.extend(dialect_errors)
    declared = res.get("format") if isinstance(res.get("format"), str) else ""
    fmt = (declared or (FORMATS.get(Path(path).suffix.lower(), "") if isinstance(path, str) else "")).lower()
    resource = Resource(
        dataset="",
        name=name,
        path=path if isinstance(path, str) else "",
        fullpath=fullpath,
        schema=schema if isinstance(schema, dict) else {"fields": []},
        format=fmt or "csv",
        encoding=encoding if isinstance(encoding := res.get("encoding"), str) and encoding else "utf-8",
        dialect=dialect or {},
        descriptor=res,
    )
    return resource, errors


def _read_part(rel: str, folder: Path, kind: str, resource: str, label: str) -> tuple[dict | None, list[Error]]:
    """A schema or dialect file inside folder, as a dict, or its error (of `kind`)."""
    if not is_safe_path(rel):
        note, note_zh = files.unsafe_note(rel)
        return None, [Error(kind, resource=resource, file=label, note=note, note_zh=note_zh)]
    data, error = parse_file(folder, rel)
    if error is None and not isinstance(data, dict):
        error = PACKAGE_ERROR("not-an-object", name=label)
    if error:
        return None, [error.at(type=kind, resource=resource, file=label)]
    return data, []


def _resolve_dialect(dialect: Any, resource: str, folder: Path) -> tuple[dict | None, list[Error]]:
    if dialect is None or isinstance(dialect, dict):
        return dialect, []
    data, errors = _read_part(dialect, folder, "dialect-error", resource, dialect)
    if data is not None:
        errors = [e.at(resource=resource, file=dialect) for e in shape.check_dialect(data, "dialect")]
    return (data if not errors else None), errors


def _resolve_schema(schema: Any, resource: str, folder: Path, site: Site | None) -> tuple[dict | None, list[Error]]:
    if isinstance(schema, dict):
        return schema, []
    if schema is None:
        return None, [SCHEMA_ERROR("no-schema").at(resource=resource)]
    if not isinstance(schema, str):
        return None, [SCHEMA_ERROR("bad-value").at(resource=resource)]
    if schema.startswith("shared:"):
        shared = schema.split(":", 1)[1]
        known = site.shared_schemas() if site is not None else []
        if site is None or shared not in known:
            listed = ", ".join(known) or "-"
            return None, [SCHEMA_ERROR("unknown-shared", name=shared, known=listed).at(resource=resource)]
        base, rel, label = site.root / "metadata", f"schemas/{shared}.json", f"metadata/schemas/{shared}.json"
    else:
        base, rel, label = folder, schema, schema
    data, errors = _read_part(rel, base, "schema-error", resource, label)
    if data is not None:
        # a schema file is checked as an inline schema is, before anything reads it
        errors = [e.at(resource=resource, file=label) for e in shape.check_schema(data, "schema")]
    return (data if not errors else None), errors


def checked_by_frictionless(descriptor: dict, passed: set[str] | None) -> list[Error]:
    """`frictionless_errors`, except for a resolved descriptor whose digest is in `passed` (the
    build keeps the digests of those that passed, while this code is unchanged): importing and
    running frictionless is most of a one-dataset rebuild, and a data update leaves the
    descriptor as it was."""
    if passed is None:
        return frictionless_errors(descriptor)
    text = json.dumps(descriptor, sort_keys=True, ensure_ascii=False, default=str)
    key = hashlib.sha256(f"{_frictionless_version()}\0{text}".encode("utf-8", "surrogateescape")).hexdigest()
    if key in passed:
        return []
    errors = frictionless_errors(descriptor)
    if not errors:
        passed.add(key)
    return errors


@functools.cache
def _frictionless_version() -> str:
    """Looked up once a process: `importlib.metadata.version` scans the installed distributions
    (about 9 ms, once per dataset of a full build before)."""
    from importlib.metadata import version

    return version("frictionless")


def warm_frictionless() -> None:
    """Import frictionless and load its plugins (seconds), e.g. on a thread while the build does
    other work, before the first descriptor needs `frictionless_errors`."""
    frictionless_errors({"resources": []})


def frictionless_errors(descriptor: dict) -> list[Error]:
    """frictionless's descriptor checks, as `frictionless validate` runs them first (through
    `Package.from_descriptor`, which also accepts the Table Schema short forms such as
    `"primaryKey": "id"`)."""
    # Imported here: frictionless takes over a second to import, and a rebuild that finds every
    # dataset unchanged reads no descriptor at all.
    from frictionless import FrictionlessException, Package

    try:
        Package.from_descriptor(copy.deepcopy(descriptor))
        return []
    except FrictionlessException as exc:
        found = list(exc.reasons) or [exc.error]
    except Exception as exc:  # a descriptor odd enough to break frictionless is still an error, not a crash
        return [PACKAGE_ERROR("uncheckable", exc=exc)]
    out = []
    for err in found:
        kind = (
            err.type
            if err.type in ("package-error", "resource-error", "schema-error", "field-error")
            else "package-error"
        )
        out.append(PACKAGE_ERROR("frictionless", note=err.note).at(type=kind))
    return out


# ---------------------------------------------------------------------------------------------
# The catalogue profile


def check_slug(name: Any, what: str) -> list[Error]:
    """`what` names the property in validation.yaml (`validation.property.<what>`)."""
    words = {"what": text(f"property.{what}", "en"), "what_zh": text(f"property.{what}", "zh")}
    if not isinstance(name, str) or not SLUG.match(name):
        return [PROFILE_ERROR("bad-slug", name=name, **words)]
    if name in RESERVED_NAMES:
        return [PROFILE_ERROR("reserved", name=name, **words)]
    return []


def check_profile(descriptor: dict, folder_name: str, site: Site) -> list[Error]:
    """The MUST properties of the dataset profile, and that ids exist in the site metadata."""
    d = descriptor
    errors = check_slug(d.get("name"), "dataset_name")
    if d.get("name") != folder_name:
        errors.append(PROFILE_ERROR("name-mismatch", name=d.get("name"), folder=folder_name))
    for key in ("title", "description"):
        if not isinstance(d.get(key), str) or not d[key].strip():
            errors.append(PROFILE_ERROR("required", key=key, label=text(f"property.{key}", "zh")))
    licenses = d.get("licenses")
    if not isinstance(licenses, list) or not licenses:
        errors.append(PROFILE_ERROR("no-licence"))
    else:
        for lic in licenses:
            lic_name = lic.get("name") if isinstance(lic, dict) else None
            if lic_name not in site.licenses:
                errors.append(PROFILE_ERROR("unknown-licence", name=lic_name))
    keywords = d.get("keywords")
    if not isinstance(keywords, list) or not [k for k in keywords if isinstance(k, str) and k.strip()]:
        errors.append(PROFILE_ERROR("no-keyword"))
    for key, registry, file in (("gov:publisher", site.publishers, "publishers"), ("gov:theme", site.themes, "themes")):
        value = d.get(key)
        label = text(f"property.{key}", "zh")
        if value is None:
            errors.append(PROFILE_ERROR("required", key=key, label=label))
        elif value not in registry:
            errors.append(PROFILE_ERROR("unknown-id", key=key, value=value, file=file, label=label))
    contact = d.get("gov:contact")
    if not isinstance(contact, dict) or not contact.get("name") or not EMAIL.match(str(contact.get("email", ""))):
        errors.append(PROFILE_ERROR("contact"))
    if d.get("gov:frequency") not in FREQUENCIES:
        errors.append(PROFILE_ERROR("frequency", choices=", ".join(FREQUENCIES)))
    openness = d.get("gov:openness")
    if not isinstance(openness, dict) or openness.get("class") not in OPENNESS_CLASSES:
        errors.append(PROFILE_ERROR("openness"))
    elif openness_rule.is_withheld(openness["class"]) and not openness.get("condition"):
        errors.append(PROFILE_ERROR("openness-condition"))
    temporal = d.get("gov:temporal")
    if temporal is not None:
        for key in ("start", "end"):
            value = temporal.get(key) if isinstance(temporal, dict) else None
            if value is not None and not _is_iso_date(value):
                errors.append(PROFILE_ERROR("temporal", key=key, value=value))
    for res in d.get("resources") or []:
        if isinstance(res, dict):
            errors.extend(e.at(resource=res.get("name")) for e in check_slug(res.get("name"), "resource_name"))
    if not d.get("resources"):
        errors.append(PROFILE_ERROR("no-resources"))
    return errors


def _is_iso_date(value: Any) -> bool:
    if isinstance(value, date):
        return True
    try:
        date.fromisoformat(str(value))
        return re.match(r"^\d{4}-\d{2}-\d{2}$", str(value)) is not None
    except ValueError:
        return False
