"""The records of `catalog.db`: each table's columns, declared once as a dataclass.

A record class is the schema (`writer.py` creates each table from its fields: `str` → TEXT,
`int` → INTEGER, `float` → REAL, `list`/`dict` → JSON text) and the type the reader returns
(JSON parsed back, so no page decodes a column). Records answer `rec.key`, `rec["key"]` and
`rec.get("key")`, so pure functions written for rows (quality, dictionary, charts) take them as
they are.

Translated text follows one rule: the original is in the dataset's own language under `key`;
the translations are `key_en` and `key_zh`. `rec.text("title", lang)` is that lookup.

To add a catalogue field: add it here (with where the build takes it from, in the record's
`from_*` function), use it in the page context (`gongkai/portal/pages.py`), show it in the
template. `docs/architecture.md` walks through it.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar, Protocol

from ..ckan import ids as ckan_ids
from ..model import Dataset
from ..portal.markdown import plain, render

SUMMARY_CHARS = 180  # the plain-text summary shown in catalogue lists
_SQL_TYPES = {str: "TEXT", int: "INTEGER", float: "REAL", list: "TEXT", dict: "TEXT"}


class RowLike(Protocol):
    """A catalog.db row (a dict) or a record: what functions written for both read."""

    def __getitem__(self, key: str, /) -> Any: ...

    def get(self, key: str, default: Any = None, /) -> Any: ...


class Record:
    """Base of every catalogue record: columns from the dataclass fields, mapping access."""

    TABLE: ClassVar[str]
    KEY: ClassVar[tuple[str, ...]]
    INDEXES: ClassVar[tuple[tuple[str, ...], ...]] = ()

    @classmethod
    @cache
    def columns(cls) -> tuple[tuple[str, type], ...]:
        """(name, python type) per column; `X | None` counts as X."""
        hints = typing.get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            kind = hints[f.name]
            args = [a for a in typing.get_args(kind) if a is not type(None)]
            base = typing.get_origin(args[0] if args else kind) or (args[0] if args else kind)
            out.append((f.name, base))
        return tuple(out)

    @classmethod
    @cache  # asked for every record read (a catalogue page reads 20): made once per class
    def json_columns(cls) -> frozenset[str]:
        return frozenset(name for name, kind in cls.columns() if kind in (list, dict))

    @classmethod
    def ddl(cls) -> str:
        cols = ", ".join(f"[{name}] {_SQL_TYPES[kind]}" for name, kind in cls.columns())
        key = ", ".join(f"[{k}]" for k in cls.KEY)
        return f"CREATE TABLE [{cls.TABLE}] ({cols}, PRIMARY KEY ({key}))"

    def to_row(self) -> tuple:
        json_cols = self.json_columns()
        return tuple(
            (None if getattr(self, name) is None else json.dumps(getattr(self, name), ensure_ascii=False))
            if name in json_cols
            else getattr(self, name)
            for name, _ in self.columns()
        )

    @classmethod
    def from_row(cls, row: dict) -> Any:
        """A record from a row of its table (JSON columns parsed, unknown columns ignored)."""
        json_cols = cls.json_columns()
        values = {}
        for name, _ in cls.columns():
            if name not in row:  # a query that selects fewer columns leaves the defaults
                continue
            value = row[name]
            if name in json_cols and isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    value = None
            values[name] = value
        return cls(**values)

    # mapping access, so functions written for rows take records
    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def text(self, key: str, lang: str) -> Any:
        """`key` in `lang`: its translation `key_<lang>` where there is one, else the original."""
        translated = getattr(self, f"{key}_{lang}", None)
        return translated if translated not in (None, "") else getattr(self, key, None)


def _bilingual(value: Any) -> tuple[Any, Any]:
    """A metadata value given as {zh, en} → (zh, en); a plain value → (value, None)."""
    if isinstance(value, dict) and set(value) <= {"zh", "en"}:
        return value.get("zh"), value.get("en")
    return value, None


def _translations(descriptor: dict) -> tuple[dict, dict]:
    tr = descriptor.get("gov:translations")
    tr = tr if isinstance(tr, dict) else {}
    en, zh = tr.get("en"), tr.get("zh")
    return (en if isinstance(en, dict) else {}), (zh if isinstance(zh, dict) else {})


def _openness_translated(en: dict, zh: dict) -> dict[str, Any]:  # str | None values; Any so it can be ** into a record
    """The conditions and how to apply in the other language: `gov:translations.<lang>` may hold
    `"gov:openness": {"condition": …, "apply": …}`."""
    out: dict[str, str | None] = {}
    for lang, tr in (("en", en), ("zh", zh)):
        o = tr.get("gov:openness")
        o = o if isinstance(o, dict) else {}
        out[f"openness_condition_{lang}"] = _str(o.get("condition"))
        out[f"openness_apply_{lang}"] = _str(o.get("apply"))
    return out


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _translated(descriptor: dict, *keys: str) -> dict[str, Any]:
    """`key`, `key_en`, `key_zh` for each key: the descriptor's own value and its translations."""
    en, zh = _translations(descriptor)
    out: dict[str, Any] = {}  # str | None values; Any so that **out fits any record's signature
    for key in keys:
        out[key], out[f"{key}_en"], out[f"{key}_zh"] = _str(descriptor.get(key)), _str(en.get(key)), _str(zh.get(key))
    return out


# ---------------------------------------------------------------------------------------------
# Site metadata


@dataclass
class SiteInfo(Record):
    """metadata/site.yaml: one row."""

    TABLE: ClassVar[str] = "site"
    KEY: ClassVar[tuple[str, ...]] = ("id",)

    id: int = 1
    title: dict | None = None  # {zh, en}
    description: dict | None = None
    base_url: str | None = None
    default_license: str | None = None
    languages: list | None = None
    default_language: str | None = None
    contact: dict | None = None  # {name: {zh, en}, email, url}

    @classmethod
    def from_site(cls, info: dict) -> SiteInfo:
        def bilingual(value):
            return value if isinstance(value, dict) else ({"zh": value} if value is not None else None)

        contact = info.get("contact")
        return cls(
            title=bilingual(info.get("title")),
            description=bilingual(info.get("description")),
            base_url=_str(info.get("base_url")),
            default_license=_str(info.get("default_license")),
            languages=info.get("languages") if isinstance(info.get("languages"), list) else None,
            default_language=_str(info.get("default_language")),
            contact=contact if isinstance(contact, dict) else None,
        )


class RegistryRecord(Record):
    """An entry of one of metadata/'s registries: each column from the entry's key of that name
    (or an alias); a `{zh, en}` value fills `key` and `key_en`."""

    ALIASES: ClassVar[dict[str, tuple[str, ...]]] = {}

    @classmethod
    def from_entry(cls, ident: str, entry: dict) -> Any:
        names = [name for name, _ in cls.columns()]
        values: dict[str, Any] = {"id": ident}
        for name in names:
            if name == "id" or (name.endswith("_en") and name[:-3] in names):
                continue
            raw = next((entry[k] for k in (name, *cls.ALIASES.get(name, ())) if entry.get(k) is not None), None)
            zh, en = _bilingual(raw)
            values[name] = _str(zh)
            if f"{name}_en" in names:
                values[f"{name}_en"] = _str(en)
        return cls(**values)


@dataclass
class Publisher(RegistryRecord):
    """An entry of metadata/publishers.yaml (信息资源提供方)."""

    TABLE: ClassVar[str] = "publishers"
    KEY: ClassVar[tuple[str, ...]] = ("id",)
    INDEXES: ClassVar[tuple[tuple[str, ...], ...]] = (("parent",),)

    id: str
    name: str | None = None
    name_en: str | None = None
    description: str | None = None
    description_en: str | None = None
    homepage: str | None = None
    email: str | None = None
    parent: str | None = None
    uscc: str | None = None  # 统一社会信用代码, where verified
    scorecard: dict | None = None  # over its datasets (gongkai.scorecard), filled by the writer


@dataclass
class Theme(RegistryRecord):
    """An entry of metadata/themes.yaml (信息资源分类)."""

    TABLE: ClassVar[str] = "themes"
    KEY: ClassVar[tuple[str, ...]] = ("id",)

    id: str
    name: str | None = None
    name_en: str | None = None
    description: str | None = None
    description_en: str | None = None


@dataclass
class Licence(RegistryRecord):
    """An entry of metadata/licenses.yaml: an SPDX-style id, its title and its text's URL."""

    TABLE: ClassVar[str] = "licenses"
    KEY: ClassVar[tuple[str, ...]] = ("id",)
    ALIASES: ClassVar[dict[str, tuple[str, ...]]] = {"url": ("path",)}

    id: str
    title: str | None = None
    title_en: str | None = None
    url: str | None = None


# ---------------------------------------------------------------------------------------------
# Datasets, resources, fields, charts


@dataclass
class DatasetRecord(Record):
    """One dataset: its catalogue metadata (docs/dataset-profile.md) and what the build found."""

    TABLE: ClassVar[str] = "datasets"
    KEY: ClassVar[tuple[str, ...]] = ("name",)
    # One index per catalogue facet (gongkai/catalogue/listing.py): a dataset's row holds its
    # descriptor and rendered description, so counting a facet by scanning the table read
    # every row (19 ms for the licence facet at 1,000 datasets); an index answers from its own
    # small pages. The last one covers the keyword facet (language, both keyword lists).
    INDEXES: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("publisher",),
        ("theme",),
        ("modified",),
        ("license",),
        ("frequency",),
        ("openness",),
        ("language", "keywords", "keywords_translated"),
        ("ckan_id", "name"),  # the CKAN API pages with sort=id asc (gongkai/catalogue/ckan_queries.py)
    )

    name: str
    id: str | None = None
    language: str = "zh"  # the language of the original text; the other is in gov:translations
    title: str | None = None
    title_en: str | None = None
    title_zh: str | None = None
    description: str | None = None
    description_en: str | None = None
    description_zh: str | None = None
    # Markdown rendered and sanitised at build time, so no request parses Markdown
    description_html: str | None = None
    description_html_en: str | None = None
    description_html_zh: str | None = None
    # plain text (Markdown removed): catalogue lists show the summary, search results the text
    summary: str | None = None
    summary_en: str | None = None
    summary_zh: str | None = None
    description_text: str | None = None
    description_text_en: str | None = None
    description_text_zh: str | None = None
    keywords: list = field(default_factory=list)
    keywords_translated: list = field(default_factory=list)
    publisher: str | None = None
    theme: str | None = None
    license: str | None = None
    license_path: str | None = None  # the descriptor's own link to the licence text
    frequency: str | None = None
    openness: str | None = None
    openness_condition: str | None = None
    openness_condition_en: str | None = None  # gov:translations.<lang>["gov:openness"].condition
    openness_condition_zh: str | None = None
    openness_apply: str | None = None  # how to apply for a conditional dataset (text or a link)
    openness_apply_en: str | None = None
    openness_apply_zh: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    temporal_start: str | None = None
    temporal_end: str | None = None
    spatial_code: str | None = None
    spatial_name: str | None = None
    sources: list = field(default_factory=list)
    version: str | None = None
    created: str | None = None
    modified: str | None = None
    issued: str | None = None
    resources: int = 0
    rows: int = 0
    bytes: int = 0
    valid: int = 1
    hash: str | None = None
    formats: list = field(default_factory=list)
    field_count: int = 0
    personal_data: list = field(default_factory=list)
    descriptor: dict | None = None
    ckan_id: str | None = None  # the CKAN API's id, the same in every build (gongkai/ckan/ids.py)
    # MQA points, 5-star level, quality score at build time (gongkai.scorecard), by the writer
    scorecard: dict | None = None

    @classmethod
    def from_dataset(cls, ds: Dataset, build) -> DatasetRecord:
        d = ds.descriptor
        en, zh = _translations(d)
        licence = next((lic for lic in d.get("licenses") or [] if isinstance(lic, dict)), {})

        def mapping(key):
            value = d.get(key)
            return value if isinstance(value, dict) else {}

        temporal, spatial, contact, openness = (
            mapping(k) for k in ("gov:temporal", "gov:spatial", "gov:contact", "gov:openness")
        )
        code = spatial.get("code")
        sources = (
            [s for s in d.get("sources") or [] if isinstance(s, dict)] if isinstance(d.get("sources"), list) else []
        )
        tables = build.tables.values()
        return cls(
            name=ds.name,
            id=_str(d.get("id")),
            language="en" if zh and not en else "zh",
            **_translated(d, "title", "description"),
            description_html=render(d.get("description")),
            description_html_en=render(en.get("description")) or None,
            description_html_zh=render(zh.get("description")) or None,
            summary=plain(d.get("description"), SUMMARY_CHARS),
            summary_en=plain(en.get("description"), SUMMARY_CHARS) or None,
            summary_zh=plain(zh.get("description"), SUMMARY_CHARS) or None,
            description_text=plain(d.get("description")) or None,
            description_text_en=plain(en.get("description")) or None,
            description_text_zh=plain(zh.get("description")) or None,
            keywords=[k for k in d.get("keywords") or [] if isinstance(k, str)],
            keywords_translated=[k for k in (en.get("keywords") or zh.get("keywords") or []) if isinstance(k, str)],
            publisher=_str(d.get("gov:publisher")),
            theme=_str(d.get("gov:theme")),
            license=_str(licence.get("name")),
            license_path=_str(licence.get("path")),
            frequency=_str(d.get("gov:frequency")),
            openness=_str(openness.get("class")),
            openness_condition=_str(openness.get("condition")),
            openness_apply=_str(openness.get("apply")),
            **_openness_translated(en, zh),
            contact_name=_str(contact.get("name")),
            contact_email=_str(contact.get("email")),
            temporal_start=_str(temporal.get("start")),
            temporal_end=_str(temporal.get("end")),
            spatial_code=", ".join(map(str, code)) if isinstance(code, list) else _str(code),
            spatial_name=_str(spatial.get("name")),
            sources=sources,
            version=_str(d.get("version")),
            created=_str(d.get("created")),
            modified=build.modified,
            issued=build.issued,
            resources=len(ds.resources),
            rows=sum(t.get("rows", 0) for t in tables),
            bytes=sum(t.get("bytes", 0) for t in tables),
            valid=int(build.valid),
            hash=build.hash,
            formats=sorted({(r.format or "").lower() for r in ds.resources if r.format}),
            field_count=sum(len(r.fields) for r in ds.resources),
            personal_data=personal if isinstance(personal := d.get("gov:personalData"), list) else [],
            descriptor=d,
            ckan_id=ckan_ids.package_id(ds.name, _str(d.get("id"))),
        )


@dataclass
class ResourceRecord(Record):
    """One resource (a table of the dataset's database)."""

    TABLE: ClassVar[str] = "resources"
    KEY: ClassVar[tuple[str, ...]] = ("dataset", "name")
    INDEXES: ClassVar[tuple[tuple[str, ...], ...]] = (("dataset", "position"), ("format", "dataset"), ("ckan_id",))

    dataset: str
    name: str
    position: int = 0
    title: str | None = None
    title_en: str | None = None
    title_zh: str | None = None
    description: str | None = None
    description_en: str | None = None
    description_zh: str | None = None
    path: str | None = None
    format: str | None = None
    encoding: str | None = None
    rows: int | None = None
    bytes: int | None = None
    sha256: str | None = None
    primary_key: list = field(default_factory=list)
    foreign_keys: list = field(default_factory=list)
    ckan_id: str | None = None  # the CKAN API's resource id (gongkai/ckan/ids.py)
    shared_schema: str | None = None  # the `shared:<name>` schema it follows (metadata/schemas/)

    @classmethod
    def from_dataset(cls, ds: Dataset, build) -> list[ResourceRecord]:
        out = []
        package = ckan_ids.package_id(ds.name, _str(ds.descriptor.get("id")))
        for position, res in enumerate(ds.resources, start=1):
            stats = build.tables.get(res.name, {})
            out.append(
                cls(
                    dataset=ds.name,
                    name=res.name,
                    position=position,
                    **_translated(res.descriptor, "title", "description"),
                    path=res.path,
                    format=res.format,
                    encoding=res.encoding,
                    rows=stats.get("rows"),
                    bytes=stats.get("bytes"),
                    sha256=stats.get("sha256"),
                    primary_key=list(res.primary_key or []),
                    foreign_keys=list(res.foreign_keys or []),
                    ckan_id=ckan_ids.resource_id(package, res.name),
                    shared_schema=_shared_schema(res.descriptor.get("schema")),
                )
            )
        return out


def _shared_schema(schema) -> str | None:
    """`shared:<name>` → name (descriptors.py has resolved and checked it by now)."""
    if isinstance(schema, str) and schema.startswith("shared:"):
        return schema.split(":", 1)[1]
    return None


@dataclass
class FieldRecord(Record):
    """One field of a resource: the data dictionary's row."""

    TABLE: ClassVar[str] = "fields"
    KEY: ClassVar[tuple[str, ...]] = ("dataset", "resource", "name")
    INDEXES: ClassVar[tuple[tuple[str, ...], ...]] = (("dataset", "resource", "position"),)

    dataset: str
    resource: str
    name: str
    position: int = 0
    title: str | None = None
    title_en: str | None = None
    title_zh: str | None = None
    description: str | None = None
    description_en: str | None = None
    description_zh: str | None = None
    type: str = "string"
    format: str | None = None
    unit: str | None = None
    constraints: dict | None = None
    searchable: int | None = None  # 0/1: whether the table's search index covers the column

    @classmethod
    def from_dataset(cls, ds: Dataset) -> list[FieldRecord]:
        out = []
        for res in ds.resources:
            for position, f in enumerate(res.fields, start=1):
                constraints = f.get("constraints")
                out.append(
                    cls(
                        dataset=ds.name,
                        resource=res.name,
                        name=f["name"],
                        position=position,
                        **_translated(f, "title", "description"),
                        type=_str(f.get("type")) or "string",
                        format=_str(f.get("format")),
                        unit=_str(f.get("gov:unit")),
                        constraints=constraints if isinstance(constraints, dict) and constraints else None,
                    )
                )
        return out


@dataclass
class ChartRecord(Record):
    """At most one chart per dataset, aggregated at build time (gongkai.portal.charts)."""

    TABLE: ClassVar[str] = "charts"
    KEY: ClassVar[tuple[str, ...]] = ("dataset",)

    dataset: str
    resource: str
    kind: str
    spec: dict


@dataclass
class SharedSchemaRecord(Record):
    """A shared Table Schema of `metadata/schemas/` (the transparency lists): its page shows
    its fields in both languages and the datasets that follow it (`resources.shared_schema`)."""

    TABLE: ClassVar[str] = "shared_schemas"
    KEY: ClassVar[tuple[str, ...]] = ("name",)

    name: str
    title: str | None = None
    title_en: str | None = None
    description: str | None = None
    description_en: str | None = None
    fields: list = field(
        default_factory=list
    )  # [{name, type, title, title_en, description, description_en, constraints}]
    primary_key: list = field(default_factory=list)

    @classmethod
    def from_schema(cls, name: str, schema: dict) -> SharedSchemaRecord:
        def en(owner: dict) -> dict:
            tr = owner.get("gov:translations")
            value = tr.get("en") if isinstance(tr, dict) else None
            return value if isinstance(value, dict) else {}

        fields: list[dict] = []
        for f in schema.get("fields") or []:
            if isinstance(f, dict):
                fields.append(
                    {
                        "name": _str(f.get("name")),
                        "type": _str(f.get("type")) or "string",
                        "title": _str(f.get("title")),
                        "title_en": _str(en(f).get("title")),
                        "description": _str(f.get("description")),
                        "description_en": _str(en(f).get("description")),
                        "constraints": f.get("constraints") if isinstance(f.get("constraints"), dict) else {},
                    }
                )
        key = schema.get("primaryKey")
        return cls(
            name=name,
            title=_str(schema.get("title")),
            title_en=_str(en(schema).get("title")),
            description=_str(schema.get("description")),
            description_en=_str(en(schema).get("description")),
            fields=fields,
            primary_key=[key] if isinstance(key, str) else [k for k in key or [] if isinstance(k, str)],
        )


RECORDS: tuple[type[Record], ...] = (
    SiteInfo,
    Publisher,
    Theme,
    Licence,
    DatasetRecord,
    ResourceRecord,
    FieldRecord,
    ChartRecord,
    SharedSchemaRecord,
)
