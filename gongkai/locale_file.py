"""One locale file of `gongkai/locales/`: `{key: {zh: ..., en: ...}}` in YAML, read and checked.

The site's string table (`gongkai.i18n`) merges every file; the build side reads only the one
it owns (`validation.yaml`, through `gongkai.errors`), without importing the site's language
code, so a change to the site's strings never decides a rebuild (`gongkai/codehash.py`).
"""

from __future__ import annotations

from pathlib import Path

import yaml

LOCALES_DIR = Path(__file__).parent / "locales"


def read_locale_file(path: Path) -> dict[str, dict[str, str]]:
    """The file's entries; a malformed one is an error naming the file and the key. Parsed by
    libyaml when PyYAML has it: the pure-Python parser took 1.4 s of every server start (#10)."""
    path = Path(path)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506 (a safe loader)
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: expected a mapping of key -> {{zh, en}}")
    table: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        if not isinstance(value, dict):
            raise ValueError(f"{path.name}: {key!r} must map to {{zh: ..., en: ...}}")
        table[key] = {lang: str(text) for lang, text in value.items()}
    return table
