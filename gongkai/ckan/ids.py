"""CKAN ids: UUIDs derived from names, so they are the same in every build.

CKAN clients key datasets and resources by `id` (ckanext-harvest de-duplicates pages by it,
uData remembers resources by it), so an id must not change when the site is rebuilt. A
dataset whose descriptor already has a UUID `id` keeps it; any other dataset's id is a UUID 5
of its descriptor `id` (or its name); a resource's is a UUID 5 of its dataset's id and its
name; publishers (organisations) and themes (groups) of their registry ids. No dependency on
the rest of gongkai: gongkai/catalogue/records.py stores these ids at build time.
"""

from __future__ import annotations

import uuid

# Fixed for good: changing it would change every published id.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/gongkai/ckan-ids")


def _uuid(value: str | None) -> str | None:
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None


def package_id(name: str, descriptor_id: str | None = None) -> str:
    return _uuid(descriptor_id) or str(uuid.uuid5(NAMESPACE, f"dataset:{descriptor_id or name}"))


def resource_id(package: str, resource_name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"resource:{package}:{resource_name}"))


def organization_id(publisher: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"organization:{publisher}"))


def group_id(theme: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"group:{theme}"))


def tag_id(keyword: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"tag:{keyword}"))
