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
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .errors import Error
from .model import Dataset, Resource
from .portal.routes import reserved_names
from .validate import files, shape

# `\Z`, not `$`: `$` also matches before a final newline ("budget\n" would pass)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*\Z")
# Every top-level path of the site, derived from the portal's route table (a dataset named
# like a route would have an unreachable database page).
RESERVED_NAMES = reserved_names()
FREQUENCIES = ("daily", "weekly", "monthly", "quarterly", "annual", "irregular", "never")
OPENNESS_CLASSES = ("unconditional", "conditional")
DESCRIPTOR_NAMES = ("datapackage.json", "datapackage.yaml", "datapackage.yml")
FORMATS = {".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx"}
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
        return None, Error(
            "metadata-error",
            note=f"the file {rel} is missing",
            note_zh=f"缺少文件 {rel}",
            file=rel,
        )
    data, error = parse_file(path.parent, path.name)
    if error:
        return None, Error("metadata-error", note=error.note, note_zh=error.note_zh, file=rel)
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
                        return {}, [
                            Error(
                                "metadata-error",
                                file=rel,
                                note=f'entry {i}: "{key}" must be a string, got {shape.json_type(value)}',
                                note_zh=f"第 {i} 个条目的“{key}”应为字符串，实际为 {shape.json_type(value)}",
                            )
                        ]
    if not isinstance(data, list):
        return {}, [
            Error(
                "metadata-error",
                note=f"{rel} must be a list of entries with an id",
                note_zh=f"{rel} 应为带 id 的条目列表",
                file=rel,
            )
        ]
    out: dict[str, dict] = {}
    errors = []
    for i, entry in enumerate(data, start=1):
        ident = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(ident, str) or not pattern.match(ident):
            errors.append(
                Error(
                    "metadata-error",
                    note=f'entry {i}: the id "{ident}" must match {pattern.pattern}',
                    note_zh=f"第 {i} 个条目的 id“{ident}”须符合 {pattern.pattern}",
                    file=rel,
                )
            )
            continue
        if ident in out:
            errors.append(
                Error(
                    "metadata-error", note=f'the id "{ident}" appears twice', note_zh=f"id “{ident}”重复出现", file=rel
                )
            )
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
        dataset.errors.append(
            Error(
                "package-error",
                dataset=folder.name,
                note=f"the dataset folder {folder.name}/ is a symbolic link: the build reads only real folders "
                "under datasets/; replace the link with the folder itself",
                note_zh=f"数据集文件夹 {folder.name}/ 是符号链接：构建只读取 datasets/ 下的真实文件夹，请用文件夹本身替换该链接",
            )
        )
        return dataset
    path = descriptor_path(folder)
    if path is None:
        dataset.errors.append(
            Error(
                "package-error",
                note=f"no datapackage.json in {folder.name}/",
                note_zh=f"{folder.name}/ 中没有 datapackage.json",
                dataset=folder.name,
            )
        )
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
            out.append(
                Error(
                    "package-error",
                    note=f'"{where}" is "{value}": custom profiles are not supported '
                    f"(the build fetches no URL and reads no file outside the dataset); use one of {', '.join(PROFILES)} or leave it out",
                    note_zh=f"“{where}”为“{value}”：不支持自定义 profile（构建不会下载网址，也不读取数据集之外的文件）；"
                    f"请使用 {', '.join(PROFILES)} 之一，或删除该属性",
                )
            )
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
    except files.FileRefused as refused:
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
        return None, Error(
            "package-error",
            note=f"{name} is not UTF-8 (byte {exc.start})",
            note_zh=f"{name} 不是 UTF-8 编码（第 {exc.start} 字节）",
        )
    except json.JSONDecodeError as exc:
        return None, Error(
            "package-error",
            note=f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            note_zh=f"{name} 不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}",
        )
    except yaml.YAMLError as exc:
        return None, Error(
            "package-error", note=f"{name} is not valid YAML: {exc}", note_zh=f"{name} 不是有效的 YAML：{exc}"
        )
    except RecursionError:
        return None, Error(
            "package-error",
            note=f"{name} nests more than {shape.MAX_DEPTH} levels deep: a descriptor needs far fewer; flatten it",
            note_zh=f"{name} 的嵌套超过 {shape.MAX_DEPTH} 层：描述文件不需要这么深，请简化其结构",
        )
    except ValueError as exc:  # e.g. an integer of more than 4300 digits, a YAML set or binary
        return None, Error(
            "package-error",
            note=f"{name} cannot be read as JSON data: {exc}",
            note_zh=f"{name} 无法按 JSON 数据读取：{exc}",
        )
    return data, None


def _read_descriptor(path: Path) -> tuple[dict, Error | None]:
    data, error = parse_file(path.parent, path.name)
    if error:
        return {}, error
    if not isinstance(data, dict):
        return {}, Error(
            "package-error", note=f"{path.name} must hold a JSON object", note_zh=f"{path.name} 的内容必须是 JSON 对象"
        )
    return data, None


# one rule for every path a descriptor gives, shared with the reader
is_safe_path = files.is_safe_path


def _read_resource(res: Any, index: int, folder: Path, site: Site | None) -> tuple[Resource | None, list[Error]]:
    if not isinstance(res, dict):
        return None, [
            Error("package-error", note=f"resource {index} must be an object", note_zh=f"第 {index} 个资源必须是对象")
        ]
    declared_name = res.get("name")
    name = declared_name if isinstance(declared_name, str) and declared_name else f"resource{index}"
    errors: list[Error] = []
    path = res.get("path")
    if isinstance(path, list):
        return None, [
            Error(
                "resource-error",
                resource=name,
                note="multipart paths are not supported; give one file per resource",
                note_zh="不支持多文件路径，每个资源请只给一个文件",
            )
        ]
    fullpath = None
    if not isinstance(path, str) or not path:
        errors.append(
            Error("resource-error", resource=name, note='"path" is required', note_zh="缺少“path”（数据文件路径）")
        )
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
        error = Error(kind, note=f"{label} must hold a JSON object", note_zh=f"{label} 的内容必须是 JSON 对象")
    if error:
        return None, [Error(kind, resource=resource, file=label, note=error.note, note_zh=error.note_zh)]
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
        return None, [
            Error(
                "schema-error",
                resource=resource,
                note="the resource has no Table Schema",
                note_zh="该资源缺少表结构（Table Schema）",
            )
        ]
    if not isinstance(schema, str):
        return None, [
            Error(
                "schema-error",
                resource=resource,
                note='"schema" must be an object, a path or "shared:<name>"',
                note_zh="“schema”应为对象、文件路径或“shared:<名称>”",
            )
        ]
    if schema.startswith("shared:"):
        shared = schema.split(":", 1)[1]
        if site is None or not SLUG.match(shared):
            return None, [
                Error(
                    "schema-error",
                    resource=resource,
                    note=f'unknown shared schema "{shared}"',
                    note_zh=f"未知的共享表结构“{shared}”",
                )
            ]
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
    from importlib.metadata import version

    text = json.dumps(descriptor, sort_keys=True, ensure_ascii=False, default=str)
    key = hashlib.sha256(f"{version('frictionless')}\0{text}".encode("utf-8", "surrogateescape")).hexdigest()
    if key in passed:
        return []
    errors = frictionless_errors(descriptor)
    if not errors:
        passed.add(key)
    return errors


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
        return [
            Error("package-error", note=f"descriptor could not be checked: {exc}", note_zh=f"无法检查数据包描述：{exc}")
        ]
    out = []
    for err in found:
        kind = (
            err.type
            if err.type in ("package-error", "resource-error", "schema-error", "field-error")
            else "package-error"
        )
        out.append(Error(kind, note=err.note, note_zh=f"数据包描述不符合 Data Package 规范：{err.note}"))
    return out


# ---------------------------------------------------------------------------------------------
# The catalogue profile


def _profile(note: str, note_zh: str) -> Error:
    return Error("profile-error", note=note, note_zh=note_zh)


def check_slug(name: Any, what: str, what_zh: str) -> list[Error]:
    if not isinstance(name, str) or not SLUG.match(name):
        return [
            _profile(
                f'{what} "{name}" must match [a-z0-9][a-z0-9-]* (lower-case letters, digits, hyphens)',
                f"{what_zh}“{name}”只能包含小写字母、数字和连字符，且以字母或数字开头",
            )
        ]
    if name in RESERVED_NAMES:
        return [_profile(f'{what} "{name}" is reserved for a site route', f"{what_zh}“{name}”是网站保留路径，不能使用")]
    return []


def check_profile(descriptor: dict, folder_name: str, site: Site) -> list[Error]:
    """The MUST properties of the dataset profile, and that ids exist in the site metadata."""
    d = descriptor
    errors = check_slug(d.get("name"), "dataset name", "数据集名称")
    if d.get("name") != folder_name:
        errors.append(
            _profile(
                f'"name" is "{d.get("name")}" but the folder is "{folder_name}": they must be equal',
                f"“name”为“{d.get('name')}”，但文件夹名为“{folder_name}”，二者必须一致",
            )
        )
    for key, zh in (("title", "标题"), ("description", "描述")):
        if not isinstance(d.get(key), str) or not d[key].strip():
            errors.append(_profile(f'"{key}" is required', f"缺少“{key}”（{zh}）"))
    licenses = d.get("licenses")
    if not isinstance(licenses, list) or not licenses:
        errors.append(_profile('"licenses" needs at least one licence', "“licenses”至少需要一个许可协议"))
    else:
        for lic in licenses:
            lic_name = lic.get("name") if isinstance(lic, dict) else None
            if lic_name not in site.licenses:
                errors.append(
                    _profile(
                        f'licence "{lic_name}" is not in metadata/licenses.yaml',
                        f"许可协议“{lic_name}”不在 metadata/licenses.yaml 中",
                    )
                )
    keywords = d.get("keywords")
    if not isinstance(keywords, list) or not [k for k in keywords if isinstance(k, str) and k.strip()]:
        errors.append(_profile('"keywords" needs at least one keyword', "“keywords”至少需要一个关键词"))
    for key, registry, zh, file in (
        ("gov:publisher", site.publishers, "发布单位", "publishers"),
        ("gov:theme", site.themes, "主题", "themes"),
    ):
        value = d.get(key)
        if value is None:
            errors.append(_profile(f'"{key}" is required', f"缺少“{key}”（{zh}）"))
        elif value not in registry:
            errors.append(
                _profile(
                    f'{key} "{value}" is not in metadata/{file}.yaml', f"{zh}“{value}”不在 metadata/{file}.yaml 中"
                )
            )
    contact = d.get("gov:contact")
    if not isinstance(contact, dict) or not contact.get("name") or not EMAIL.match(str(contact.get("email", ""))):
        errors.append(
            _profile('"gov:contact" needs a name and a valid email', "“gov:contact”需要联系人姓名和有效的电子邮箱")
        )
    if d.get("gov:frequency") not in FREQUENCIES:
        errors.append(
            _profile(
                f'"gov:frequency" must be one of {", ".join(FREQUENCIES)}',
                f"“gov:frequency”（更新周期）必须是以下之一：{', '.join(FREQUENCIES)}",
            )
        )
    openness = d.get("gov:openness")
    if not isinstance(openness, dict) or openness.get("class") not in OPENNESS_CLASSES:
        errors.append(
            _profile(
                '"gov:openness" needs {"class": "unconditional" | "conditional"}',
                "“gov:openness”（开放属性）需要 class：unconditional（无条件开放）或 conditional（有条件开放）",
            )
        )
    elif openness["class"] == "conditional" and not openness.get("condition"):
        errors.append(
            _profile(
                '"gov:openness" is conditional but gives no "condition"',
                "有条件开放的数据集必须在“condition”中说明开放条件",
            )
        )
    temporal = d.get("gov:temporal")
    if temporal is not None:
        for key in ("start", "end"):
            value = temporal.get(key) if isinstance(temporal, dict) else None
            if value is not None and not _is_iso_date(value):
                errors.append(
                    _profile(
                        f'"gov:temporal.{key}" must be an ISO date (YYYY-MM-DD), got "{value}"',
                        f"“gov:temporal.{key}”必须是 ISO 日期（YYYY-MM-DD），实际为“{value}”",
                    )
                )
    for res in d.get("resources") or []:
        if isinstance(res, dict):
            errors.extend(
                e.at(resource=res.get("name")) for e in check_slug(res.get("name"), "resource name", "资源名称")
            )
    if not d.get("resources"):
        errors.append(_profile("the dataset has no resources", "数据集没有任何资源"))
    return errors


def _is_iso_date(value: Any) -> bool:
    if isinstance(value, date):
        return True
    try:
        date.fromisoformat(str(value))
        return re.match(r"^\d{4}-\d{2}-\d{2}$", str(value)) is not None
    except ValueError:
        return False
