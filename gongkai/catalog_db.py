"""The catalogue database (`catalog.db`): datasets, resources, fields, publishers, themes, licences.

One place the portal pages, the search and the machine-readable catalogues (CKAN, DCAT) read
from, so no request ever parses `datasets/`. Built fresh every build: it is small.
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

from .catalog import Site
from .model import Dataset
from .portal import charts
from .portal.markdown import plain, render
from .sitemeta import _text

SUMMARY_CHARS = 180  # the plain-text summary shown in catalogue lists


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def dataset_row(ds: Dataset, build) -> dict:
    d = ds.descriptor
    en = (d.get("gov:translations") or {}).get("en") or {}
    zh = (d.get("gov:translations") or {}).get("zh") or {}
    licence = next((lic for lic in d.get("licenses") or [] if isinstance(lic, dict)), {})
    temporal = d.get("gov:temporal") or {}
    spatial = d.get("gov:spatial") or {}
    contact = d.get("gov:contact") or {}
    openness = d.get("gov:openness") or {}
    # The original is in the dataset's main language; the other is in gov:translations.
    language = "en" if zh and not en else "zh"
    return {
        "name": ds.name,
        "id": d.get("id"),
        "language": language,
        "title": d.get("title"),
        "description": d.get("description"),
        "title_en": en.get("title"),
        "description_en": en.get("description"),
        "title_zh": zh.get("title"),
        "description_zh": zh.get("description"),
        "keywords": _json(d.get("keywords") or []),
        "keywords_translated": _json(en.get("keywords") or zh.get("keywords") or []),
        "publisher": d.get("gov:publisher"),
        "theme": d.get("gov:theme"),
        "license": licence.get("name"),
        "frequency": d.get("gov:frequency"),
        "openness": openness.get("class"),
        "openness_condition": openness.get("condition"),
        "contact_name": contact.get("name"),
        "contact_email": contact.get("email"),
        "temporal_start": str(temporal["start"]) if temporal.get("start") else None,
        "temporal_end": str(temporal["end"]) if temporal.get("end") else None,
        "spatial_code": _json(spatial.get("code")) if isinstance(spatial.get("code"), list) else spatial.get("code"),
        "spatial_name": spatial.get("name"),
        "sources": _json(d.get("sources") or []),
        "version": d.get("version"),
        "created": str(d["created"]) if d.get("created") else None,
        "modified": build.modified,
        "issued": build.issued,
        "resources": len(ds.resources),
        "rows": sum(t.get("rows", 0) for t in build.tables.values()),
        "bytes": sum(t.get("bytes", 0) for t in build.tables.values()),
        "valid": int(build.valid),
        "hash": build.hash,
        "descriptor": _json(d),
        # Pre-rendered so no request parses Markdown (portal pages show these, sanitised).
        "description_html": render(d.get("description")),
        "description_en_html": render(en.get("description")) or None,
        "description_zh_html": render(zh.get("description")) or None,
        "summary": plain(d.get("description"), SUMMARY_CHARS),
        "summary_en": plain(en.get("description"), SUMMARY_CHARS) or None,
        "summary_zh": plain(zh.get("description"), SUMMARY_CHARS) or None,
        "formats": _json(sorted({(r.format or "").lower() for r in ds.resources if r.format})),
        "field_count": sum(len(r.fields) for r in ds.resources),
        "personal_data": _json(d.get("gov:personalData") or []),
    }


def resource_rows(ds: Dataset, build) -> list[dict]:
    out = []
    for position, res in enumerate(ds.resources, start=1):
        stats = build.tables.get(res.name, {})
        en = (res.descriptor.get("gov:translations") or {}).get("en") or {}
        out.append({
            "dataset": ds.name,
            "name": res.name,
            "position": position,
            "title": res.descriptor.get("title"),
            "description": res.descriptor.get("description"),
            "title_en": en.get("title"),
            "description_en": en.get("description"),
            "title_zh": ((res.descriptor.get("gov:translations") or {}).get("zh") or {}).get("title"),
            "description_zh": ((res.descriptor.get("gov:translations") or {}).get("zh") or {}).get("description"),
            "path": res.path,
            "format": res.format,
            "encoding": res.encoding,
            "rows": stats.get("rows"),
            "bytes": stats.get("bytes"),
            "sha256": stats.get("sha256"),
            "primary_key": _json(res.primary_key),
            "foreign_keys": _json(res.foreign_keys),
        })
    return out


def field_rows(ds: Dataset) -> list[dict]:
    out = []
    for res in ds.resources:
        for position, f in enumerate(res.fields, start=1):
            tr = f.get("gov:translations") or {}
            out.append({
                "dataset": ds.name,
                "resource": res.name,
                "position": position,
                "name": f["name"],
                "title": f.get("title"),
                "description": f.get("description"),
                "title_en": (tr.get("en") or {}).get("title"),
                "description_en": (tr.get("en") or {}).get("description"),
                "title_zh": (tr.get("zh") or {}).get("title"),
                "description_zh": (tr.get("zh") or {}).get("description"),
                "type": f.get("type", "string"),
                "format": f.get("format"),
                "unit": f.get("gov:unit"),
                "constraints": _json(f.get("constraints")) if f.get("constraints") else None,
                "searchable": None if f.get("gov:searchable") is None else int(bool(f.get("gov:searchable"))),
            })
    return out


def _registry_rows(registry: dict[str, dict]) -> list[dict]:
    rows = []
    for ident, entry in registry.items():
        row = {"id": ident}
        for key, value in entry.items():
            if key == "id":
                continue
            if isinstance(value, dict) and set(value) <= {"zh", "en"}:
                row[f"{key}"] = value.get("zh")
                row[f"{key}_en"] = value.get("en")
            elif isinstance(value, (dict, list)):
                row[key] = _json(value)
            else:
                row[key] = value
        rows.append(row)
    return rows


def site_rows(site: Site) -> list[dict]:
    """The site's own metadata (metadata/site.yaml) as key → JSON value, for the layout."""
    info = site.site or {}
    keys = ("title", "description", "base_url", "default_license", "languages", "default_language", "contact")
    return [{"key": k, "value": _json(info[k])} for k in keys if k in info]


def chart_rows(release: Path, ds: Dataset) -> list[dict]:
    """At most one chart per dataset, chosen and aggregated from the dataset's fresh database
    (gongkai.portal.charts), so the landing page reads one row instead of scanning a table."""
    db_path = release / f"{ds.name}.db"
    if not db_path.exists():
        return []
    import sqlite3

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        for res in ds.resources:
            chart = charts.build_chart(conn, res.name, res.fields, primary_key=res.primary_key, foreign_keys=res.foreign_keys)
            if chart:
                return [{"dataset": ds.name, "resource": res.name, "kind": chart["kind"], "spec": _json(chart)}]
    finally:
        conn.close()
    return []


def write(path: Path, site: Site, datasets: list[Dataset], builds: dict) -> None:
    db = sqlite_utils.Database(path, recreate=True)
    db["site"].create({"key": str, "value": str}, pk="key")
    db["site"].insert_all(site_rows(site))
    for name, registry in (("publishers", site.publishers), ("themes", site.themes), ("licenses", site.licenses)):
        db[name].insert_all(_registry_rows(registry), pk="id", alter=True)
        if not db[name].exists():
            db[name].create({"id": str, "name": str}, pk="id")
    built = [ds for ds in datasets if ds.name in builds]
    db["datasets"].insert_all(
        [dataset_row(ds, builds[ds.name]) for ds in built], pk="name",
        foreign_keys=[("publisher", "publishers", "id"), ("theme", "themes", "id"), ("license", "licenses", "id")],
    )
    db["resources"].insert_all(
        [r for ds in built for r in resource_rows(ds, builds[ds.name])], pk=("dataset", "name"),
        foreign_keys=[("dataset", "datasets", "name")],
    )
    db["fields"].insert_all(
        [r for ds in built for r in field_rows(ds)], pk=("dataset", "resource", "name"),
        foreign_keys=[("dataset", "datasets", "name")],
        columns={"searchable": int},  # 0/1; gongkai.search.index_catalog fills what was indexed
    )
    db["charts"].create({"dataset": str, "resource": str, "kind": str, "spec": str}, pk="dataset")
    db["charts"].insert_all([r for ds in built for r in chart_rows(Path(path).parent, ds)])
    for table, columns in (("datasets", ["publisher"]), ("datasets", ["theme"]), ("resources", ["dataset"]),
                           ("fields", ["dataset", "resource"])):
        if db[table].exists():
            db[table].create_index(columns, if_not_exists=True)
    db.conn.execute("ANALYZE")
    db.close()
