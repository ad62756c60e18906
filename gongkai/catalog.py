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
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from frictionless import FrictionlessException, Package

from .errors import Error
from .portal.routes import reserved_names
from .model import Dataset, Resource

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Every top-level path of the site, derived from the portal's route table (a dataset named
# like a route would have an unreachable database page).
RESERVED_NAMES = reserved_names()
FREQUENCIES = ("daily", "weekly", "monthly", "quarterly", "annual", "irregular", "never")
OPENNESS_CLASSES = ("unconditional", "conditional")
DESCRIPTOR_NAMES = ("datapackage.json", "datapackage.yaml", "datapackage.yml")
FORMATS = {".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx"}
# Licence ids are SPDX-style identifiers (ODC-PDDL-1.0, CC-BY-4.0), as datapackage.json names them.
LICENCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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
    if not path.exists():
        return None, Error(
            "metadata-error",
            note=f"the file {rel} is missing",
            note_zh=f"缺少文件 {rel}",
            file=rel,
        )
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")), None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, Error(
            "metadata-error",
            note=f"{rel} is not valid UTF-8 YAML: {exc}",
            note_zh=f"{rel} 不是有效的 UTF-8 YAML：{exc}",
            file=rel,
        )


def _registry(data: Any, rel: str, pattern: re.Pattern) -> tuple[dict[str, dict], list[Error]]:
    """A list of mappings with `id` (or a mapping id -> entry) as {id: entry}."""
    if data is None:
        return {}, []
    if isinstance(data, dict):
        data = [dict(v, id=k) if isinstance(v, dict) else {"id": k} for k, v in data.items()]
    if not isinstance(data, list):
        return {}, [Error("metadata-error", note=f"{rel} must be a list of entries with an id",
                          note_zh=f"{rel} 应为带 id 的条目列表", file=rel)]
    out: dict[str, dict] = {}
    errors = []
    for i, entry in enumerate(data, start=1):
        ident = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(ident, str) or not pattern.match(ident):
            errors.append(Error("metadata-error", note=f'entry {i}: the id "{ident}" must match {pattern.pattern}',
                                note_zh=f"第 {i} 个条目的 id“{ident}”须符合 {pattern.pattern}", file=rel))
            continue
        if ident in out:
            errors.append(Error("metadata-error", note=f'the id "{ident}" appears twice',
                                note_zh=f"id “{ident}”重复出现", file=rel))
        out[ident] = entry
    return out, errors


# ---------------------------------------------------------------------------------------------
# Datasets


def dataset_folders(root: Path) -> list[Path]:
    """Every folder under `datasets/` (sorted), whether or not it holds a descriptor."""
    base = Path(root) / "datasets"
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))


def read_catalog(root: Path) -> tuple[Site, list[Dataset]]:
    site = read_site(root)
    return site, [read_dataset(folder, site) for folder in dataset_folders(root)]


def descriptor_path(folder: Path) -> Path | None:
    for name in DESCRIPTOR_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def read_dataset(folder: Path, site: Site | None = None) -> Dataset:
    """Read one dataset folder. With `site`, the catalogue profile is checked as well;
    without it the folder is treated as a plain Data Package."""
    folder = Path(folder)
    dataset = Dataset(name=folder.name, folder=folder, descriptor={})
    path = descriptor_path(folder)
    if path is None:
        dataset.errors.append(Error(
            "package-error",
            note=f"no datapackage.json in {folder.name}/",
            note_zh=f"{folder.name}/ 中没有 datapackage.json",
            dataset=folder.name,
        ))
        return dataset
    descriptor, error = _read_descriptor(path)
    if error:
        dataset.errors.append(error.at(dataset=folder.name, file=path.name))
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
        resolved = dict(descriptor, resources=[dict(r.descriptor, schema=r.schema) for r in dataset.resources])
        dataset.errors.extend(e.at(dataset=folder.name) for e in frictionless_errors(resolved))
    return dataset


def _read_descriptor(path: Path) -> tuple[dict, Error | None]:
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except UnicodeDecodeError as exc:
        return {}, Error("package-error", note=f"{path.name} is not UTF-8 (byte {exc.start})",
                         note_zh=f"{path.name} 不是 UTF-8 编码（第 {exc.start} 字节）")
    except json.JSONDecodeError as exc:
        return {}, Error("package-error", note=f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                         note_zh=f"{path.name} 不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}")
    except yaml.YAMLError as exc:
        return {}, Error("package-error", note=f"{path.name} is not valid YAML: {exc}",
                         note_zh=f"{path.name} 不是有效的 YAML：{exc}")
    if not isinstance(data, dict):
        return {}, Error("package-error", note=f"{path.name} must hold a JSON object",
                         note_zh=f"{path.name} 的内容必须是 JSON 对象")
    return data, None


def is_safe_path(path: str) -> bool:
    """frictionless's rule for untrusted descriptors: relative, no `..`, no hidden parts."""
    if not isinstance(path, str) or not path or "\\" in path or "://" in path:
        return False
    pure = PurePosixPath(path)
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", path):
        return False
    return all(part not in ("..", "") and not part.startswith(".") for part in pure.parts)


def _read_resource(res: Any, index: int, folder: Path, site: Site | None) -> tuple[Resource | None, list[Error]]:
    if not isinstance(res, dict):
        return None, [Error("package-error", note=f"resource {index} must be an object",
                            note_zh=f"第 {index} 个资源必须是对象")]
    name = res.get("name") or f"resource{index}"
    errors: list[Error] = []
    path = res.get("path")
    if isinstance(path, list):
        return None, [Error("resource-error", resource=name, note="multipart paths are not supported; give one file per resource",
                            note_zh="不支持多文件路径，每个资源请只给一个文件")]
    fullpath = None
    if not isinstance(path, str) or not path:
        errors.append(Error("resource-error", resource=name, note='"path" is required',
                            note_zh="缺少“path”（数据文件路径）"))
    elif not is_safe_path(path):
        errors.append(Error("resource-error", resource=name, file=path,
                            note=f'path "{path}" is not safe: use a relative path inside the dataset folder, without "..", hidden folders or URLs',
                            note_zh=f"路径“{path}”不安全：请使用数据集文件夹内的相对路径，不含“..”、隐藏文件夹或网址"))
    else:
        fullpath = folder / path
    schema, schema_errors = _resolve_schema(res.get("schema"), name, folder, site)
    errors.extend(schema_errors)
    fmt = (res.get("format") or FORMATS.get(Path(path).suffix.lower(), "") if isinstance(path, str) else "").lower()
    resource = Resource(
        dataset="",
        name=name,
        path=path if isinstance(path, str) else "",
        fullpath=fullpath,
        schema=schema if isinstance(schema, dict) else {"fields": []},
        format=fmt or "csv",
        encoding=(res.get("encoding") or "utf-8"),
        dialect=res.get("dialect") if isinstance(res.get("dialect"), dict) else {},
        descriptor=res,
    )
    return resource, errors


def _resolve_schema(schema: Any, resource: str, folder: Path, site: Site | None) -> tuple[dict | None, list[Error]]:
    if isinstance(schema, dict):
        return schema, []
    if schema is None:
        return None, [Error("schema-error", resource=resource, note="the resource has no Table Schema",
                            note_zh="该资源缺少表结构（Table Schema）")]
    if not isinstance(schema, str):
        return None, [Error("schema-error", resource=resource, note='"schema" must be an object, a path or "shared:<name>"',
                            note_zh="“schema”应为对象、文件路径或“shared:<名称>”")]
    if schema.startswith("shared:"):
        shared = schema.split(":", 1)[1]
        if site is None or not SLUG.match(shared):
            return None, [Error("schema-error", resource=resource, note=f'unknown shared schema "{shared}"',
                                note_zh=f"未知的共享表结构“{shared}”")]
        path = site.schemas_dir / f"{shared}.json"
        label = f"metadata/schemas/{shared}.json"
    elif is_safe_path(schema):
        path = folder / schema
        label = schema
    else:
        return None, [Error("schema-error", resource=resource, note=f'schema path "{schema}" is not safe',
                            note_zh=f"表结构路径“{schema}”不安全")]
    if not path.is_file():
        return None, [Error("schema-error", resource=resource, file=label, note=f"schema file {label} does not exist",
                            note_zh=f"表结构文件 {label} 不存在")]
    data, error = _read_descriptor(path)
    if error:
        return None, [Error("schema-error", resource=resource, file=label, note=error.note, note_zh=error.note_zh)]
    return data, []


def frictionless_errors(descriptor: dict) -> list[Error]:
    """frictionless's descriptor checks, as `frictionless validate` runs them first (through
    `Package.from_descriptor`, which also accepts the Table Schema short forms such as
    `"primaryKey": "id"`)."""
    try:
        Package.from_descriptor(copy.deepcopy(descriptor))
        return []
    except FrictionlessException as exc:
        found = list(exc.reasons) or [exc.error]
    except Exception as exc:  # a descriptor odd enough to break frictionless is still an error, not a crash
        return [Error("package-error", note=f"descriptor could not be checked: {exc}",
                      note_zh=f"无法检查数据包描述：{exc}")]
    out = []
    for err in found:
        kind = err.type if err.type in ("package-error", "resource-error", "schema-error", "field-error") else "package-error"
        out.append(Error(kind, note=err.note, note_zh=f"数据包描述不符合 Data Package 规范：{err.note}"))
    return out


# ---------------------------------------------------------------------------------------------
# The catalogue profile


def _profile(note: str, note_zh: str) -> Error:
    return Error("profile-error", note=note, note_zh=note_zh)


def check_slug(name: Any, what: str, what_zh: str) -> list[Error]:
    if not isinstance(name, str) or not SLUG.match(name):
        return [_profile(f'{what} "{name}" must match [a-z0-9][a-z0-9-]* (lower-case letters, digits, hyphens)',
                         f"{what_zh}“{name}”只能包含小写字母、数字和连字符，且以字母或数字开头")]
    if name in RESERVED_NAMES:
        return [_profile(f'{what} "{name}" is reserved for a site route', f"{what_zh}“{name}”是网站保留路径，不能使用")]
    return []


def check_profile(descriptor: dict, folder_name: str, site: Site) -> list[Error]:
    """The MUST properties of the dataset profile, and that ids exist in the site metadata."""
    d = descriptor
    errors = check_slug(d.get("name"), "dataset name", "数据集名称")
    if d.get("name") != folder_name:
        errors.append(_profile(f'"name" is "{d.get("name")}" but the folder is "{folder_name}": they must be equal',
                               f"“name”为“{d.get('name')}”，但文件夹名为“{folder_name}”，二者必须一致"))
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
                errors.append(_profile(f'licence "{lic_name}" is not in metadata/licenses.yaml',
                                       f"许可协议“{lic_name}”不在 metadata/licenses.yaml 中"))
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
            errors.append(_profile(f'{key} "{value}" is not in metadata/{file}.yaml',
                                   f"{zh}“{value}”不在 metadata/{file}.yaml 中"))
    contact = d.get("gov:contact")
    if not isinstance(contact, dict) or not contact.get("name") or not EMAIL.match(str(contact.get("email", ""))):
        errors.append(_profile('"gov:contact" needs a name and a valid email', "“gov:contact”需要联系人姓名和有效的电子邮箱"))
    if d.get("gov:frequency") not in FREQUENCIES:
        errors.append(_profile(f'"gov:frequency" must be one of {", ".join(FREQUENCIES)}',
                               f"“gov:frequency”（更新周期）必须是以下之一：{', '.join(FREQUENCIES)}"))
    openness = d.get("gov:openness")
    if not isinstance(openness, dict) or openness.get("class") not in OPENNESS_CLASSES:
        errors.append(_profile('"gov:openness" needs {"class": "unconditional" | "conditional"}',
                               "“gov:openness”（开放属性）需要 class：unconditional（无条件开放）或 conditional（有条件开放）"))
    elif openness["class"] == "conditional" and not openness.get("condition"):
        errors.append(_profile('"gov:openness" is conditional but gives no "condition"',
                               "有条件开放的数据集必须在“condition”中说明开放条件"))
    temporal = d.get("gov:temporal")
    if temporal is not None:
        for key in ("start", "end"):
            value = temporal.get(key) if isinstance(temporal, dict) else None
            if value is not None and not _is_iso_date(value):
                errors.append(_profile(f'"gov:temporal.{key}" must be an ISO date (YYYY-MM-DD), got "{value}"',
                                       f"“gov:temporal.{key}”必须是 ISO 日期（YYYY-MM-DD），实际为“{value}”"))
    for index, res in enumerate(d.get("resources") or [], start=1):
        if isinstance(res, dict):
            errors.extend(e.at(resource=res.get("name")) for e in check_slug(res.get("name"), "resource name", "资源名称"))
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
