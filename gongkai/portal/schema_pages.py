"""Page contexts of the shared schemas (`/schemas`, `/schemas/<name>`): each transparency list's
fields in the page's language, and the datasets that follow it. Pure, like pages.py."""

from __future__ import annotations

from dataclasses import dataclass

from ..catalogue.records import SharedSchemaRecord
from ..catalogue.schemas import SchemaBundle
from . import dictionary
from .pages import Links


@dataclass
class SchemaField:
    name: str
    title: str
    other_title: str  # the title in the other language, shown small
    type: str
    description: str
    constraints: str
    primary_key: bool


@dataclass
class Follower:
    name: str
    title: str
    url: str


@dataclass
class SchemaPage:
    name: str
    title: str
    description: str
    fields: list[SchemaField]
    datasets: list[Follower]
    index_url: str


@dataclass
class SchemaItem:
    name: str
    title: str
    description: str
    url: str
    count: int


@dataclass
class SchemasIndex:
    schemas: list[SchemaItem]


def _text(owner: dict | SharedSchemaRecord, key: str, lang: str) -> str:
    get = owner.get if isinstance(owner, dict) else (lambda k: getattr(owner, k, None))
    value = get(f"{key}_en") if lang == "en" else None
    return value or get(key) or ""


def schema_page(bundle: SchemaBundle, links: Links) -> SchemaPage:
    lang, s = links.lang, bundle.schema
    sep = "; " if lang == "en" else "；"
    fields = []
    for f in s.fields:
        zh_type, en_type = dictionary.type_words(f.get("type"))
        words = dictionary.constraint_words(f.get("constraints") or {})
        title = _text(f, "title", lang) or f.get("name") or ""
        other = (f.get("title") if lang == "en" else f.get("title_en")) or ""
        fields.append(
            SchemaField(
                name=f.get("name") or "",
                title=title,
                other_title=other if other != title else "",
                type=en_type if lang == "en" else zh_type,
                description=_text(f, "description", lang),
                constraints=sep.join(en if lang == "en" else zh for zh, en in words),
                primary_key=f.get("name") in s.primary_key,
            )
        )
    return SchemaPage(
        name=s.name,
        title=_text(s, "title", lang) or s.name,
        description=_text(s, "description", lang),
        fields=fields,
        datasets=[Follower(d.name, d.text("title", lang) or d.name, links.dataset(d.name)) for d in bundle.datasets],
        index_url=links.page("/schemas"),
    )


def schemas_index(counted: list[tuple[SharedSchemaRecord, int]], links: Links) -> SchemasIndex:
    lang = links.lang
    return SchemasIndex(
        [
            SchemaItem(
                s.name,
                _text(s, "title", lang) or s.name,
                _text(s, "description", lang),
                links.page(f"/schemas/{s.name}"),
                n,
            )
            for s, n in counted
        ]
    )
