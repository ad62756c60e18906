"""CKAN's dicts (package, resource, organization, group) from catalogue records.

The keys are those interop.md lists and uData's CKAN schema requires
(udata/harvest/backends/ckan/schemas/ckan.py: every key present, `None` where there is no
value): organisations are the site's publishers, groups its themes, tags its keywords; the
temporal and spatial coverage and the update frequency are extras under the keys uData reads
(`temporal_start`, `temporal_end`, `spatial-text`, `frequency`). Titles are the dataset's own
language (Chinese on this site); the English ones are extras `title_en` / `notes_en`.
"""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ..catalogue.ckan_queries import PackageBundle
from ..catalogue.records import DatasetRecord, Licence, Publisher, ResourceRecord, Theme
from ..openness import is_withheld
from . import ids

EPOCH = "1970-01-01T00:00:00"


def timestamp(value: str | None) -> str:
    """CKAN's timestamp: ISO 8601 in UTC without an offset (`2026-11-30T04:05:06.000000`)."""
    if not value:
        return EPOCH + ".000000"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return EPOCH + ".000000"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def organization(p: Publisher | None, ident: str | None, datasets: int | None = None) -> dict[str, Any] | None:
    if ident is None:
        return None
    title = (p.name if p else None) or ident
    out: dict[str, Any] = {
        "id": ids.organization_id(ident),
        "name": ident,
        "title": title,
        "display_name": title,
        "title_en": p.name_en if p else None,
        "description": (p.description if p else None) or "",
        "image_url": "",
        "created": EPOCH,
        "revision_timestamp": EPOCH,
        "revision_id": "",
        "is_organization": True,
        "type": "organization",
        "state": "active",
        "approval_status": "approved",
    }
    if datasets is not None:
        out["package_count"] = datasets
    return out


def group(t: Theme | None, ident: str | None, datasets: int | None = None) -> dict[str, Any] | None:
    if ident is None:
        return None
    title = (t.name if t else None) or ident
    out: dict[str, Any] = {
        "id": ids.group_id(ident),
        "name": ident,
        "title": title,
        "display_name": title,
        "title_en": t.name_en if t else None,
        "description": (t.description if t else None) or "",
        "image_url": "",
        "image_display_url": "",
        "created": EPOCH,
        "is_organization": False,
        "type": "group",
        "state": "active",
        "approval_status": "approved",
    }
    if datasets is not None:
        out["package_count"] = datasets
    return out


def download_url(base: str, r: ResourceRecord) -> str:
    """The published original file (plugins/portal.py's `/downloads/<dataset>/<path>`)."""
    return f"{base}/downloads/{quote(r.dataset)}/{quote(r.path or r.name)}"


def resource(base: str, d: DatasetRecord, r: ResourceRecord) -> dict[str, Any]:
    fmt = (r.format or (r.path or "").rsplit(".", 1)[-1] or "").upper()
    if is_withheld(d.openness):
        # conditional or closed (gongkai/ckan/withheld.py): described, but no data URL, no
        # DataStore, and neither the size nor the hash of a file nobody can download
        return {
            "id": r.ckan_id or ids.resource_id(d.ckan_id or ids.package_id(d.name), r.name),
            "package_id": d.ckan_id,
            "name": r.title or r.name,
            "description": r.description,
            "url": f"{base}/datasets/{quote(d.name)}",  # the landing page: the conditions, how to apply
            "format": fmt,
            "mimetype": mimetypes.guess_type(r.path or "")[0],
            "size": None,
            "hash": None,
            "created": timestamp(d.issued or d.modified),
            "last_modified": timestamp(d.modified),
            "position": r.position - 1,
            "resource_type": "documentation",
            "url_type": None,
            "state": "active",
            "datastore_active": False,
        }
    return {
        "id": r.ckan_id or ids.resource_id(d.ckan_id or ids.package_id(d.name), r.name),
        "package_id": d.ckan_id,
        "name": r.title or r.name,
        "description": r.description,
        "url": download_url(base, r),
        "format": fmt,
        "mimetype": mimetypes.guess_type(r.path or "")[0],
        "size": r.bytes,
        "hash": f"sha256:{r.sha256}" if r.sha256 else None,
        "created": timestamp(d.issued or d.modified),
        "last_modified": timestamp(d.modified),
        "position": r.position - 1,
        "resource_type": "file",
        "url_type": None,
        "state": "active",
        "datastore_active": True,  # every resource is a table of the dataset's database
        # where the same rows are in the site's own API
        "table_name": r.name,
        "api_url": f"{base}/{quote(r.dataset)}/{quote(r.name)}.json",
    }


def _licence(d: DatasetRecord, known: dict[str, Licence]) -> tuple[str, str | None, str | None]:
    lic = known.get(d.license or "")
    return (
        d.license or "notspecified",
        (lic.title if lic else None) or d.license,
        (lic.url if lic else None) or d.license_path,
    )


def package(base: str, d: DatasetRecord, b: PackageBundle) -> dict[str, Any]:
    lic_id, lic_title, lic_url = _licence(d, b.licences)
    tags = [
        {"id": ids.tag_id(k), "name": k, "display_name": k, "state": "active", "vocabulary_id": None}
        for k in d.keywords
    ]
    extras = [
        ("temporal_start", d.temporal_start),
        ("temporal_end", d.temporal_end),
        ("spatial-text", d.spatial_name),
        ("spatial_code", d.spatial_code),
        ("frequency", d.frequency),
        ("title_en", d.title_en),
        ("notes_en", d.description_text_en),
        ("openness", d.openness),
        ("openness_condition", d.openness_condition),
        ("openness_apply", d.openness_apply),
        ("rows", str(d.rows)),
    ]
    resources = [resource(base, d, r) for r in b.resources.get(d.name, [])]
    theme = group(b.themes.get(d.theme or ""), d.theme)
    return {
        "id": d.ckan_id,
        "name": d.name,
        "title": d.title or d.name,
        "notes": d.description_text,
        "url": f"{base}/datasets/{quote(d.name)}",
        "version": d.version,
        "state": "active",
        "private": False,
        "type": "dataset",
        "license_id": lic_id,
        "license_title": lic_title,
        "license_url": lic_url,
        "metadata_created": timestamp(d.issued or d.modified),
        "metadata_modified": timestamp(d.modified),
        "author": None,
        "author_email": None,
        "maintainer": d.contact_name,
        "maintainer_email": d.contact_email,
        "organization": organization(b.publishers.get(d.publisher or ""), d.publisher),
        "owner_org": ids.organization_id(d.publisher) if d.publisher else None,
        "groups": [theme] if theme else [],
        "tags": tags,
        "extras": [{"key": k, "value": v} for k, v in extras if v not in (None, "")],
        "resources": resources,
        "num_resources": len(resources),
        "num_tags": len(tags),
        "isopen": True,
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }
