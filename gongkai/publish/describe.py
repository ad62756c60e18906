"""`gongkai describe`: a resource with its Table Schema drafted from a data file, as YAML text
with bilingual comments on what the publisher should check.

Field `name`s are the headers exactly as the validator reads them (frictionless compares labels
with names; a pinyin name would fail every row). An English title is proposed in
`gov:translations` only from glossary.yaml's words; otherwise the draft says TODO.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..descriptors import SLUG
from .profile import ENUM_MAX_LENGTH, ENUM_MIN_ROWS_PER_VALUE, IDENTIFIER_WORDS, Column, TableProfile, profile_rows
from .sources import Detected, open_table
from .words import PublishError, both, lines

GLOSSARY_PATH = Path(__file__).with_name("glossary.yaml")
# Column names that say "this is about a person". Chinese words match anywhere in a header;
# Latin ones as whole words (`addressbase-custodian` is not an address). TODO: when the
# personal-data guard (issue #11, "Guards") lands, describe should run it on the values too; until
# then the draft only flags names, and the guard at validation time judges the values.
PERSONAL_ZH = ("身份证", "证件号", "手机", "电话", "住址", "家庭地址", "邮箱", "姓名", "出生日期", "银行卡", "银行账号")
# (not "name" alone: "Country Name", "organisation name" are everywhere; 姓名 is the person's name)
PERSONAL_LATIN = {
    "phone",
    "mobile",
    "email",
    "address",
    "idcard",
    "birthday",
    "passport",
    "surname",
    "firstname",
    "lastname",
    "fullname",
}


@lru_cache(maxsize=1)
def glossary() -> dict[str, str]:
    return {str(k): str(v) for k, v in (yaml.safe_load(GLOSSARY_PATH.read_text(encoding="utf-8")) or {}).items()}


def english_title(header: str) -> str | None:
    """The header in English if every part of it is a glossary word, else None."""
    words = glossary()
    longest = max(map(len, words), default=0)
    text = re.sub(r"[\s（）()\[\]【】/·、_-]+", "", header)
    if not text or text.isascii():
        return None
    parts, i = [], 0
    while i < len(text):
        for size in range(min(longest, len(text) - i), 0, -1):
            if text[i : i + size] in words:
                parts.append(words[text[i : i + size]])
                i += size
                break
        else:
            return None
    title = " ".join(parts)
    return title[0].upper() + title[1:]


def personal_hint(header: str) -> bool:
    if any(w in header for w in PERSONAL_ZH):
        return True
    # words split on anything but letters and digits; "id_card", "e-mail", "first name" joined too
    parts = [p for p in re.split(r"[^a-z0-9]+", header.lower()) if p]
    words = set(parts) | {a + b for a, b in zip(parts, parts[1:])}
    return bool(words & PERSONAL_LATIN)


def resource_name(path: Path) -> str | None:
    stem = re.sub(r"[\s_.]+", "-", path.stem.lower()).strip("-")
    return stem if SLUG.match(stem) else None


@dataclass
class Draft:
    resource: dict
    comments: dict[str, list[str]]  # field name -> comment lines above it
    header_comments: list[str]
    detected: Detected
    profile: TableProfile
    personal: list[str]


def _field(col: Column, table: TableProfile, detected: Detected) -> tuple[dict, list[str]]:
    notes: list[str] = []
    cand = col.chosen
    kinds = detected.kinds[col.index] if col.index < len(detected.kinds) else set()
    if col.values == 0:
        cand = _string(col)  # no value to judge by: every type "accepts" an empty column
    elif col.leading_zero and cand.field["type"] in ("integer", "number"):
        cand = _string(col)
        notes += lines("desc_c_leading_zero")
    elif kinds == {"text"} and cand.field["type"] in ("integer", "number", "boolean"):
        # digits an Excel user stored as text (phone numbers, codes) are text on purpose
        cand = _string(col)
        notes += lines("desc_c_text_cells")
    if kinds and "text" in kinds and kinds - {"text"}:
        notes += lines("desc_c_mixed_cells", kinds=", ".join(sorted(kinds)))
    if col.values == 0:
        notes += lines("desc_c_empty_column")
    f: dict[str, Any] = {"name": col.name, **{k: v for k, v in cand.field.items()}}
    f["title"] = col.name
    constraints: dict[str, Any] = {}
    if col.missing == 0 and table.rows > 0:
        constraints["required"] = True
    type_ = f["type"]
    if col.unique and col.name not in table.primary_key and type_ in ("integer", "string"):
        if any(w in col.name.lower() for w in IDENTIFIER_WORDS):
            constraints["unique"] = True
        elif type_ == "string":
            notes += lines("desc_c_unique_now")
    if type_ in ("integer", "number") and cand.low is not None:
        constraints["minimum"], constraints["maximum"] = cand.low, cand.high
    elif type_ in ("date", "datetime", "time") and cand.low is not None:
        constraints["minimum"], constraints["maximum"] = cand.low_raw, cand.high_raw
    if (
        type_ == "string"
        and col.distinct
        and len(col.distinct) * ENUM_MIN_ROWS_PER_VALUE <= col.values
        and max(map(len, col.distinct)) <= ENUM_MAX_LENGTH
    ):
        constraints["enum"] = sorted(col.distinct)
    if constraints:
        f["constraints"] = constraints
    english = english_title(col.name)
    if english:
        f["gov:translations"] = {"en": {"title": english}}
    elif not col.name.isascii():
        notes += lines("desc_c_todo_title")
    if personal_hint(col.name):
        notes = lines("desc_c_personal") + notes
    return f, notes


def _string(col: Column):
    return next(c for c in col.candidates if c.field["type"] == "string")


def draft(path: Path, *, sheet: str | None = None, header_row: int = 1, base: Path | None = None) -> Draft:
    """Profile every row of `path` and draft its resource. `base` is the folder the resource's
    `path` is relative to (the dataset folder); by default the file's own folder."""
    path = Path(path)
    detected, header, rows = open_table(path, sheet, header_row)
    while header and header[-1] == "" and detected.format == "xlsx":
        header.pop()  # calamine pads to the widest row; trailing empty header cells are not columns
    blank = [i + 1 for i, h in enumerate(header) if h == ""]
    if blank:
        raise PublishError("desc_blank_header", code=1, columns=", ".join(map(str, blank)), n=header_row)
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise PublishError("desc_duplicate_header", code=1, names="、".join(dupes))
    table = profile_rows(header, rows, first_row_number=header_row + 1)
    rel = _relative(path, base)
    name = resource_name(path)
    resource: dict[str, Any] = {"name": name or "table", "path": rel, "title": path.stem, "format": detected.format}
    if detected.encoding:
        resource["encoding"] = detected.encoding
    # the header row always said: the validator would otherwise guess it from the rows' widths
    dialect: dict[str, Any] = {"headerRows": [header_row]}
    if detected.delimiter not in (None, ",", "\t"):
        dialect["delimiter"] = detected.delimiter
    if table.blank_rows:
        # blank rows (an export's last line, a spacer) are skipped rather than refused row by row
        dialect["skipBlankRows"] = True
    if detected.format == "xlsx" and detected.sheet is not None:
        # frictionless 5 reads the sheet from `excel.sheet` (it ignores Data Package v2's
        # `sheetName`: measured, it then reads the first sheet)
        dialect["excel"] = {"sheet": detected.sheet}
    resource["dialect"] = dialect
    fields, comments = [], {}
    for col in table.columns:
        f, notes = _field(col, table, detected)
        fields.append(f)
        if notes:
            comments[col.name] = notes
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    if table.primary_key:
        schema["primaryKey"] = table.primary_key
    resource["schema"] = schema
    head = lines("desc_c_header", "", file=rel, rows=table.rows)
    head += _detection_lines(detected)
    if name is None:
        head += lines("desc_c_todo_name")
    head += lines("desc_c_bounds")
    # counts and measurements unique by chance are no keys worth naming
    types = {c.name: c.chosen.field["type"] for c in table.columns}
    others = [
        k
        for k in table.key_candidates
        if k != table.primary_key
        and (len(k) > 1 or types[k[0]] == "string" or any(w in k[0].lower() for w in IDENTIFIER_WORDS))
    ]
    if others:
        head += lines("desc_c_key_candidates", keys="; ".join(" + ".join(k) for k in others))
    if table.blank_rows:
        head += lines("desc_c_blank_rows", rows=", ".join(map(str, table.blank_rows)))
    if table.ragged_rows:
        head += lines("desc_c_ragged_rows", rows=", ".join(map(str, table.ragged_rows)), n=len(header))
    personal = [c.name for c in table.columns if personal_hint(c.name)]
    if personal:
        head += lines("desc_c_personal_summary", names="、".join(personal))
    return Draft(resource, comments, head, detected, table, personal)


def _relative(path: Path, base: Path | None) -> str:
    base = Path(base) if base is not None else path.parent
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        raise PublishError("desc_outside_dataset", code=2, path=str(path), folder=str(base)) from None


def _detection_lines(d: Detected) -> list[str]:
    if d.format == "xlsx":
        return lines("desc_detected_xlsx", sheet=d.sheet, sheets=", ".join(d.sheets))
    if d.encoding == "gb18030":
        return lines("desc_detected_gb18030", bytes=d.bytes, offset=d.utf8_error_at)
    return lines("desc_detected_utf8_bom" if d.bom else "desc_detected_utf8", bytes=d.bytes)


def detection_report(d: Detected) -> str:
    """What was detected, for the terminal."""
    return "\n".join(_detection_lines(d))


# ---------------------------------------------------------------------------------------------
# YAML text


def _dump(value: Any, indent: int) -> list[str]:
    text = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100)
    return [" " * indent + line for line in text.splitlines()]


def to_yaml(d: Draft) -> str:
    """The draft as one YAML mapping (a resource), comments above what they are about."""
    out = [f"# {line}" for line in d.header_comments]
    res = d.resource
    top = {k: v for k, v in res.items() if k != "schema"}
    out += _dump(top, 0)
    out.append("schema:")
    out.append("  fields:")
    for f in res["schema"]["fields"]:
        out += [f"    # {line}" for line in d.comments.get(f["name"], [])]
        item = _dump(f, 6)
        item[0] = "    - " + item[0][6:]
        out += item
    rest = {k: v for k, v in res["schema"].items() if k != "fields"}
    out += _dump(rest, 2)
    return "\n".join(out) + "\n"


def as_list_item(text: str) -> str:
    """A resource's YAML as an item of a `resources:` list (for appending to a descriptor)."""
    out, first = [], True
    for line in text.splitlines():
        if first and line and not line.startswith("#"):
            out.append("  - " + line)
            first = False
        else:
            out.append(("    " + line) if line else line)
    return "\n".join(out) + "\n"


def summary(d: Draft) -> str:
    """What the terminal says after drafting."""
    t = d.profile
    msg = [both("desc_done", rows=t.rows, fields=len(t.columns))]
    msg.append(detection_report(d.detected))
    if t.primary_key:
        msg.append(both("desc_primary_key", keys=" + ".join(t.primary_key)))
    if d.personal:
        msg.append(both("desc_personal_flagged", names="、".join(d.personal)))
    return "\n".join(msg)


# ---------------------------------------------------------------------------------------------
# Where the draft goes


def is_descriptor(path: Path) -> bool:
    return path.name in ("datapackage.yaml", "datapackage.yml")


def describe(
    path: Path, *, sheet: str | None = None, header_row: int = 1, output: Path | None = None
) -> tuple[Draft, str]:
    """Draft `path`'s resource. With `output` a dataset's `datapackage.yaml`, the resource is
    appended to its `resources` (its path relative to that folder, which must hold the file);
    with another `output`, the YAML is written there; without, it is returned only. Otherwise
    the path is relative to the dataset folder holding the file, or to the file's own folder."""
    path = Path(path)
    if output is not None and output.name == "datapackage.json":
        raise PublishError("desc_json_descriptor", code=2, path=str(output))
    if output is not None and is_descriptor(output):
        base = output.parent
    else:
        base = _dataset_folder(path) or path.parent
    d = draft(path, sheet=sheet, header_row=header_row, base=base)
    text = to_yaml(d)
    if output is not None:
        if is_descriptor(output):
            append_resource(output, d, text)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
    return d, text


def _dataset_folder(path: Path) -> Path | None:
    """The nearest folder above `path` holding a descriptor (resource paths are relative to it)."""
    for parent in Path(path).resolve().parents:
        if any((parent / n).exists() for n in ("datapackage.json", "datapackage.yaml", "datapackage.yml")):
            return parent
    return None


def append_resource(descriptor: Path, d: Draft, text: str) -> None:
    """Append the drafted resource to the descriptor's `resources`, keeping every comment: the
    text is appended, then the result is parsed to prove it holds exactly one more resource and
    nothing else changed (else the file is left as it was and the publisher told why)."""
    if not descriptor.is_file():
        raise PublishError("desc_no_descriptor", code=2, path=str(descriptor))
    before_text = descriptor.read_text(encoding="utf-8")
    try:
        before = yaml.safe_load(before_text) or {}
    except yaml.YAMLError as exc:
        raise PublishError("desc_descriptor_unreadable", code=1, path=str(descriptor), reason=str(exc)) from None
    if not isinstance(before, dict):
        raise PublishError("desc_descriptor_unreadable", code=1, path=str(descriptor), reason="not a mapping")
    existing = before.get("resources") or []
    names = {r.get("name") for r in existing if isinstance(r, dict)}
    if d.resource["name"] in names:
        raise PublishError("desc_resource_exists", code=1, name=d.resource["name"], path=str(descriptor))
    after_text = before_text.rstrip("\n") + "\n" + as_list_item(text)
    try:
        after = yaml.safe_load(after_text)
    except yaml.YAMLError:
        after = None
    expected = dict(before, resources=[*existing, d.resource])
    if after != expected:
        raise PublishError("desc_cannot_append", code=1, path=str(descriptor))
    descriptor.write_text(after_text, encoding="utf-8")
