"""What the build hands Datasette besides the databases: `metadata.json` and `inspect.json`.

Pure builders (`datasette_metadata`, `inspect_data`) plus one `write` at the edge.
Units stay out of Datasette's `units` (it accepts only Pint units and answers 500 for 万元):
they go into the column description here and into the catalogue's data dictionary.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

from .catalog import Site
from .model import Dataset


def _licence(descriptor: dict, site: Site) -> tuple[str | None, str | None]:
    for lic in descriptor.get("licenses") or []:
        if isinstance(lic, dict):
            known = site.licenses.get(lic["name"], {}) if "name" in lic else {}
            title = lic.get("title") or _text(known.get("title")) or lic.get("name")
            return title, lic.get("path") or known.get("url")
    return None, None


def _text(value, lang: str = "zh") -> str | None:
    """A metadata value that may be a plain string or {zh, en}."""
    if isinstance(value, dict):
        return value.get(lang) or next(iter(value.values()), None)
    return value


def column_description(field: dict) -> str:
    parts = [p for p in (field.get("title"), field.get("description")) if p]
    text = " — ".join(parts) if parts else ""
    unit = field.get("gov:unit")
    if unit:
        text = f"{text} (单位 unit: {unit})" if text else f"单位 unit: {unit}"
    return text


def datasette_metadata(site: Site, datasets: list[Dataset]) -> dict:
    databases: dict[str, dict] = {}
    for ds in datasets:
        d = ds.descriptor
        licence, licence_url = _licence(d, site)
        source = next((s for s in d.get("sources") or [] if isinstance(s, dict)), {})
        provenance = {
            "license": licence,
            "license_url": licence_url,
            "source": source.get("title") or source.get("name"),
            "source_url": source.get("path"),
        }
        tables = {}
        for res in ds.resources:
            entry = {
                **provenance,  # Datasette's table page shows only the table's own licence and source
                "title": res.descriptor.get("title") or res.name,
                "description": res.descriptor.get("description") or "",
                "columns": {f["name"]: column_description(f) for f in res.fields if column_description(f)},
            }
            label = res.descriptor.get("gov:labelField")
            if label:
                entry["label_column"] = label
            tables[res.name] = entry
        databases[ds.name] = {
            "title": d.get("title") or ds.name,
            "description": d.get("description") or "",
            **provenance,
            "tables": tables,
        }
    info = site.site
    return {
        "title": _text(info.get("title")) or "公开 Gongkai",
        "description": _text(info.get("description")) or "",
        "license": _text(info.get("license_title")) or None,
        "databases": databases,
    }


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def inspect_data(site_dir: Path, previous: Path | None = None) -> dict:
    """Datasette's inspect format for every database in site_dir. `file` is relative to site_dir
    (the site directory moves between releases); Datasette only reads hash, size and counts.

    A database hard-linked from the `previous` release is the same file: its entry is reused
    instead of hashing and counting it again on every build."""
    known = _read_json(previous / "inspect.json") if previous else {}
    data = {}
    for path in sorted(Path(site_dir).glob("*.db")):
        old = known.get(path.stem)
        if (
            old
            and previous is not None
            and (previous / path.name).exists()
            and os.path.samefile(previous / path.name, path)
        ):
            data[path.stem] = old
            continue
        data.update(inspect_data_of([path]))
    return data


def inspect_data_of(paths: list[Path]) -> dict:
    """The inspect entries of these databases, read afresh."""
    data = {}
    for path in paths:
        conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            names = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
            counts = {n: conn.execute(f"select count(*) from [{n}]").fetchone()[0] for n in names}
        finally:
            conn.close()
        data[path.stem] = {
            "hash": sha256_file(path),
            "size": path.stat().st_size,
            "file": path.name,
            "tables": {n: {"count": c} for n, c in counts.items()},
        }
    return data


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write(release: Path, site: Site, datasets: list[Dataset], builds: dict, previous: Path | None = None) -> None:
    (release / "metadata.json").write_text(
        json.dumps(datasette_metadata(site, [d for d in datasets if d.name in builds]), ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    (release / "inspect.json").write_text(json.dumps(inspect_data(release, previous), indent=1), encoding="utf-8")


def metadata_member(site: Site, dataset: Dataset) -> str:
    """One dataset's entry of metadata.json, as the text `write` gives it (for `write_members`)."""
    return _segment(dataset.name, datasette_metadata(site, [dataset])["databases"][dataset.name], "  ", False)


def write_members(
    release: Path,
    site: Site,
    names: list[str],
    members: dict[str, str],
    previous: Path | None,
    previous_names: list[str],
    reused_files: set[str],
    *,
    same_code: bool,
) -> None:
    """What `write` writes, one dataset's part at a time, so a build of 10,000 holds text, not
    datasets: `names` are the release's datasets in build order, `members` the metadata.json
    entries (`metadata_member`) of those built afresh; every other dataset's entry is the text
    it has in `previous`'s metadata.json, which needs `same_code`: this module's code is the code
    that wrote it (gongkai.codehash.RELEASE_ROOTS); without it every entry must be in `members`. The inspect entries of `reused_files`, the
    `*.db` files hard-linked from `previous`, are kept without hashing or even a stat, as
    `inspect_data` keeps them. When nothing changed, both files are `previous`'s, hard-linked.
    tests/test_build_scale.py checks the result is the bytes `write` writes."""
    release = Path(release)
    dbs = sorted(release.glob("*.db"))
    if (
        same_code
        and previous is not None
        and not members
        and names == previous_names
        and all(p.name in reused_files for p in dbs)
    ):
        try:
            os.link(previous / "metadata.json", release / "metadata.json")
            os.link(previous / "inspect.json", release / "inspect.json")
            return
        except OSError:  # not there (a hand-made release): written below
            for name in ("metadata.json", "inspect.json"):
                (release / name).unlink(missing_ok=True)
    # json.dumps with `indent` runs the pure-Python encoder (seconds for 10,000 entries): the
    # entries of reused datasets are kept as the text they already are, and only the others encoded
    kept: dict[str, str] = {}
    if same_code and previous is not None and set(names) - set(members):
        lines = (previous / "metadata.json").read_text(encoding="utf-8").split("\n")
        start = lines.index(' "databases": {')
        end = next(i for i in range(start + 1, len(lines)) if lines[i] in (" }", " },"))
        kept = _segments(lines[start + 1 : end], "  ")
    parts = [members[n] if n in members else kept[n] for n in names]
    top = json.dumps({**datasette_metadata(site, []), "databases": _HOLE}, ensure_ascii=False, indent=1)
    text = top.replace(json.dumps(_HOLE), _object(parts, " "), 1)
    (release / "metadata.json").write_text(text, encoding="utf-8")
    known: dict[str, str] = {}
    if previous is not None and reused_files and (previous / "inspect.json").is_file():
        old_inspect = (previous / "inspect.json").read_text(encoding="utf-8").split("\n")
        if old_inspect[0] == "{" and old_inspect[-1] == "}":
            known = _segments(old_inspect[1:-1], " ")
    entries = []
    for path in dbs:
        if path.name in reused_files and path.stem in known:
            entries.append(known[path.stem])
        else:
            entries.extend(_segment(k, v, " ", True) for k, v in inspect_data_of([path]).items())
    (release / "inspect.json").write_text(_object(entries, ""), encoding="utf-8")


_HOLE = "\x00databases\x00"  # where the spliced databases object goes in metadata.json


def _segments(lines: list[str], indent: str) -> dict[str, str]:
    """{key: its `key: value` text} of an object's members as `json.dumps(indent=1)` wrote them,
    `lines` being the object's lines between its braces and `indent` its members' indentation.
    A member starts on the line that starts with `indent` and a quote (deeper lines start with
    more spaces, and a string never holds a raw newline)."""
    out: dict[str, str] = {}
    key, buf = None, []
    decoder = json.JSONDecoder()
    for line in lines:
        if line.startswith(indent + '"'):
            if key is not None:
                out[key] = "\n".join(buf).removesuffix(",")
            key, buf = decoder.raw_decode(line, len(indent))[0], [line]
        else:
            buf.append(line)
    if key is not None:
        out[key] = "\n".join(buf).removesuffix(",")
    return out


def _segment(key: str, value, indent: str, ensure_ascii: bool) -> str:
    text = json.dumps(value, indent=1, ensure_ascii=ensure_ascii).replace("\n", "\n" + indent)
    return f"{indent}{json.dumps(key, ensure_ascii=ensure_ascii)}: {text}"


def _object(members: list[str], indent: str) -> str:
    return "{\n" + ",\n".join(members) + "\n" + indent + "}" if members else "{}"
