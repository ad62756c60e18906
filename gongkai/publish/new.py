"""`gongkai new`: scaffold `datasets/<name>/` with a YAML descriptor holding every catalogue field
of docs/dataset-profile.md, each under a bilingual comment saying what to fill in.

Nothing is prompted (a publisher may run it from a script or CI). What the tool cannot know is left
empty, on purpose: `gongkai validate` then names each field still to fill in, instead of a made-up
placeholder passing for a real value. In particular `gov:openness` has no default: whether data may
be opened unconditionally is the publisher's decision, and a wrong default would publish rows
that must not be.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ..descriptors import FREQUENCIES, RESERVED_NAMES, SLUG, read_site
from .words import PublishError, lines

DESCRIPTOR = "datapackage.yaml"
DATA_FOLDER = "data"


def check_name(name: str) -> None:
    """Refuse a name the build would refuse, with the rule."""
    if not SLUG.match(name):
        raise PublishError("pub_name_malformed", code=2, name=name)
    if name in RESERVED_NAMES:
        raise PublishError("pub_name_reserved", code=2, name=name)


def _registry_id(value: str | None, registry: dict[str, dict], key: str) -> str | None:
    if value is None:
        return None
    if value not in registry:
        raise PublishError(key, code=2, value=value, valid=", ".join(sorted(registry)) or "—")
    return value


def _licence(site) -> list[dict]:
    default = site.site.get("default_license")
    entry = site.licenses.get(default) if isinstance(default, str) else None
    if entry is None:
        return []
    title = entry.get("title")
    if isinstance(title, dict):
        title = title.get("en") or next(iter(title.values()), default)
    out = {"name": default, "title": title or default}
    if isinstance(entry.get("url"), str):
        out["path"] = entry["url"]
    return [out]


def descriptor_entries(name: str, site, publisher: str | None, theme: str | None, title: str | None, today: date):
    """(key, value, comment key) for every catalogue field, in the profile's order."""
    return [
        ("name", name, "new_c_name"),
        ("id", None, "new_c_id"),
        ("title", title, "new_c_title"),
        ("description", None, "new_c_description"),
        ("licenses", _licence(site), "new_c_licenses"),
        ("keywords", [], "new_c_keywords"),
        ("gov:publisher", publisher, "new_c_publisher"),
        ("gov:contact", {"name": None, "email": None}, "new_c_contact"),
        ("gov:theme", theme, "new_c_theme"),
        ("gov:frequency", None, "new_c_frequency"),
        ("gov:openness", {"class": None, "condition": None}, "new_c_openness"),
        ("gov:temporal", {"start": None, "end": None}, "new_c_temporal"),
        ("gov:spatial", {"code": None, "name": None}, "new_c_spatial"),
        ("sources", [], "new_c_sources"),
        ("version", "1.0.0", "new_c_version"),
        ("created", f"{today.isoformat()}T00:00:00Z", "new_c_created"),  # RFC 3339, as frictionless checks it
        ("gov:translations", {"en": {"title": None, "description": None, "keywords": []}}, "new_c_translations"),
        ("gov:personalData", [], "new_c_personal_data"),
    ]


def _dump(key: str, value: Any) -> str:
    text = yaml.safe_dump({key: value}, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100)
    # an empty value reads better as nothing than as `null`; YAML reads both as null
    return "\n".join(line[: -len(" null")] if line.endswith(": null") else line for line in text.splitlines())


def descriptor_text(name: str, site, publisher=None, theme=None, title=None, today: date | None = None) -> str:
    today = today or date.today()
    out = [*lines("new_c_header", "# "), *lines("new_c_header_validate", "# ", name=name), ""]
    fmt = {
        "name": name,
        "publishers": ", ".join(sorted(site.publishers)),
        "themes": ", ".join(sorted(site.themes)),
        "licences": ", ".join(sorted(site.licenses)),
        "frequencies": ", ".join(FREQUENCIES),
    }
    for key, value, comment in descriptor_entries(name, site, publisher, theme, title, today):
        out += lines(comment, "# ", **fmt)
        out.append(_dump(key, value))
        out.append("")
    out += lines("new_c_resources", "# ", **fmt)
    out.append("resources:")
    return "\n".join(out) + "\n"


def scaffold(
    root: Path,
    name: str,
    *,
    publisher: str | None = None,
    theme: str | None = None,
    title: str | None = None,
    today: date | None = None,
) -> Path:
    """Create `root/datasets/<name>/` with its descriptor and an empty `data/` folder; return the
    descriptor's path. Refuses a malformed or reserved name, unknown ids and an existing folder."""
    root = Path(root)
    check_name(name)
    if not (root / "metadata").is_dir():
        raise PublishError("pub_no_metadata", code=2, root=str(root))
    site = read_site(root)
    publisher = _registry_id(publisher, site.publishers, "pub_unknown_publisher")
    theme = _registry_id(theme, site.themes, "pub_unknown_theme")
    folder = root / "datasets" / name
    if os.path.lexists(folder):
        raise PublishError("pub_folder_exists", code=1, folder=str(folder))
    text = descriptor_text(name, site, publisher, theme, title, today)
    (folder / DATA_FOLDER).mkdir(parents=True)
    path = folder / DESCRIPTOR
    path.write_text(text, encoding="utf-8")
    return path
