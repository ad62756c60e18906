"""The JSON shape of every descriptor key the build reads, checked before anything reads them.

frictionless checks a descriptor against its JSON Schema profiles, but only once it is whole;
our catalogue, validator, loader and catalogue database read many keys before or besides it
(`gov:*`, the dialect, constraints...). Each key they read is declared here with the type it
must have, so a descriptor of the wrong shape is an error naming the key and what was expected,
never an `AttributeError` three modules later. Also here: the URLs the site renders as links
(only http, https and mailto), the CSV dialect's one-character options, regular expressions that
do not compile, and limits that keep a descriptor's cost bounded (fields per table).
"""

from __future__ import annotations

import re
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from ..errors import Error, notes
from ..field_types import TYPES

MAX_FIELDS = 1000  # SQLite's default limit is 2000 columns; the row function is one line per field
MAX_DEPTH = 32  # nesting of a descriptor: real ones need about 8
LINK_SCHEMES = ("http", "https", "mailto")
TYPE_NAMES = TYPES  # gongkai/field_types.py
CSV_ONE_CHAR = ("delimiter", "quoteChar", "escapeChar")

# (English, Chinese) names of the JSON kinds, from validation.yaml
_JSON_NAMES: dict[type, tuple[str, str]] = {
    kind: notes(f"shape.json.{name}")
    for kind, name in (
        (dict, "object"),
        (list, "list"),
        (str, "string"),
        (bool, "boolean"),
        (int, "integer"),
        (float, "number"),
    )
}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    for kind, (name, _) in _JSON_NAMES.items():
        if isinstance(value, kind):
            return name
    return type(value).__name__


class _Checker:
    def __init__(self, kind: str):
        self.errors: list[Error] = []
        self.kind = kind  # the error type for keys of this level

    def fail(self, where: str, note: str, kind: str | None = None, **params: Any) -> None:
        """An error about the key `where`: the note `validation.shape.<note>`, after the key."""
        en, zh = notes(f"shape.{note}", **params)
        en, zh = notes("shape.where", where=where, note=en, note_zh=zh)
        self.errors.append(Error(kind or self.kind, note=en, note_zh=zh))

    def type(
        self, value: Any, where: str, *kinds: type, kind: str | None = None, optional: bool = True
    ) -> TypeGuard[Any]:
        """Whether value has one of the kinds (None passes when optional); else an error.
        True only for an instance of one of the kinds, so never for None: the caller may use it."""
        if value is None and optional:
            return False
        ok = any(isinstance(value, k) and not (k in (int, float) and isinstance(value, bool)) for k in kinds)
        if not ok:
            or_en, or_zh = notes("shape.or")
            names = or_en.join(_JSON_NAMES[k][0] for k in kinds)
            names_zh = or_zh.join(_JSON_NAMES[k][1] for k in kinds)
            shown = {"names": names, "names_zh": names_zh, "got": json_type(value), "shown": _show(value)}
            self.fail(where, "wrong-type", kind, **shown)
        return ok

    def strings(self, value: Any, where: str, kind: str | None = None) -> None:
        if self.type(value, where, list, kind=kind):
            for i, item in enumerate(value):
                self.type(item, f"{where}[{i}]", str, kind=kind, optional=False)

    def str_or_strings(self, value: Any, where: str, kind: str | None = None) -> None:
        if isinstance(value, list):
            self.strings(value, where, kind)
        else:
            self.type(value, where, str, list, kind=kind)

    def link(self, value: Any, where: str, kind: str | None = None) -> None:
        """A URL the site renders as a link: only http, https and mailto (no javascript:, data:...)."""
        kind = (
            kind
            if kind and kind != "resource-error" and kind != "package-error"
            else ("metadata-error" if self.kind == "metadata-error" else "profile-error")
        )
        if not self.type(value, where, str, kind=kind):
            return
        if not is_link_safe(value):
            self.fail(where, "unsafe-link", kind, shown=_show(value))

    def translations(self, value: Any, where: str) -> None:
        if not self.type(value, where, dict, kind="profile-error"):
            return
        for lang, entry in value.items():
            w = f"{where}.{lang}"
            if self.type(entry, w, dict, kind="profile-error", optional=False):
                for key in ("title", "description", "gov:unit"):
                    self.type(entry.get(key), f"{w}.{key}", str, kind="profile-error")
                self.strings(entry.get("keywords"), f"{w}.keywords", "profile-error")


def is_link_safe(url: str) -> bool:
    """http(s), mailto, or a relative URL (no scheme: it cannot run script), judged as a browser
    would: control characters and spaces removed first (`java\\tscript:` is javascript: to a
    browser)."""
    cleaned = re.sub(r"[\x00-\x20\x7f]", "", url)
    if ":" not in cleaned.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
        return True  # relative: no scheme before the first /, ? or #
    try:
        scheme = urlsplit(cleaned).scheme.lower()
    except ValueError:
        return False
    return scheme in LINK_SCHEMES


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------


def check_package(d: dict) -> list[Error]:
    """The shape of a package descriptor (resources' schemas as written: a dict, a path, or
    `shared:<name>`). Returns errors; an empty list means every key read later has its type."""
    c = _Checker("package-error")
    for key in ("name", "id", "title", "description", "version", "created", "homepage", "profile", "$schema"):
        c.type(d.get(key), key, str)
    c.link(d.get("homepage"), "homepage")
    c.strings(d.get("keywords"), "keywords")
    for key in ("licenses", "sources", "contributors"):
        if c.type(d.get(key), key, list):
            for i, item in enumerate(d[key]):
                w = f"{key}[{i}]"
                if c.type(item, w, dict, optional=False):
                    for sub in ("name", "title", "path", "version", "email", "role"):
                        c.type(item.get(sub), f"{w}.{sub}", str)
                    c.link(item.get("path"), f"{w}.path")
    p = "profile-error"
    for key in ("gov:publisher", "gov:theme", "gov:frequency"):
        c.type(d.get(key), key, str, kind=p)
    if c.type(d.get("gov:contact"), "gov:contact", dict, kind=p):
        contact = d["gov:contact"]
        for sub in ("name", "email", "phone", "url"):
            c.type(contact.get(sub), f"gov:contact.{sub}", str, kind=p)
        c.link(contact.get("url"), "gov:contact.url", p)
    if c.type(d.get("gov:openness"), "gov:openness", dict, kind=p):
        for sub in ("class", "condition", "apply"):
            c.type(d["gov:openness"].get(sub), f"gov:openness.{sub}", str, kind=p)
    if c.type(d.get("gov:temporal"), "gov:temporal", dict, kind=p):
        for sub in ("start", "end"):
            c.type(d["gov:temporal"].get(sub), f"gov:temporal.{sub}", str, kind=p)
    if c.type(d.get("gov:spatial"), "gov:spatial", dict, kind=p):
        c.str_or_strings(d["gov:spatial"].get("code"), "gov:spatial.code", p)
        c.type(d["gov:spatial"].get("name"), "gov:spatial.name", str, kind=p)
    c.translations(d.get("gov:translations"), "gov:translations")
    if c.type(d.get("gov:personalData"), "gov:personalData", list, kind=p):
        for i, item in enumerate(d["gov:personalData"]):
            c.type(item, f"gov:personalData[{i}]", dict, str, kind=p, optional=False)
    resources = d.get("resources")
    if c.type(resources, "resources", list):
        for i, res in enumerate(resources):
            if c.type(res, f"resources[{i}]", dict, optional=False):
                c.errors.extend(check_resource(res, f"resources[{i}]"))
    return c.errors


def check_resource(res: dict, where: str) -> list[Error]:
    c = _Checker("resource-error")
    for key in (
        "name",
        "title",
        "description",
        "format",
        "encoding",
        "mediatype",
        "hash",
        "homepage",
        "profile",
        "$schema",
        "gov:labelField",
    ):
        c.type(res.get(key), f"{where}.{key}", str)
    name = res.get("name")
    if isinstance(name, str) and (not name or name != name.strip() or any(ch < " " for ch in name)):
        c.fail(f"{where}.name", "untrimmed-name", shown=_show(name))
    c.type(res.get("bytes"), f"{where}.bytes", int)
    c.type(res.get("path"), f"{where}.path", str, list)
    c.link(res.get("homepage"), f"{where}.homepage")
    for key in ("licenses", "sources"):
        if c.type(res.get(key), f"{where}.{key}", list):
            for i, item in enumerate(res[key]):
                w = f"{where}.{key}[{i}]"
                if c.type(item, w, dict, optional=False):
                    for sub in ("name", "title", "path"):
                        c.type(item.get(sub), f"{w}.{sub}", str)
                    c.link(item.get("path"), f"{w}.path")
    c.translations(res.get("gov:translations"), f"{where}.gov:translations")
    dialect = res.get("dialect")
    if c.type(dialect, f"{where}.dialect", dict, str):
        if isinstance(dialect, dict):
            c.errors.extend(check_dialect(dialect, f"{where}.dialect"))
    schema = res.get("schema")
    if c.type(schema, f"{where}.schema", dict, str, kind="schema-error") and isinstance(schema, dict):
        c.errors.extend(check_schema(schema, f"{where}.schema"))
    return c.errors


def check_dialect(dialect: dict, where: str) -> list[Error]:
    """The dialect options our reader honours, with the types the csv module needs."""
    c = _Checker("dialect-error")
    options = dict(dialect)
    if c.type(dialect.get("csv"), f"{where}.csv", dict):
        options.update({f"csv.{k}": v for k, v in dialect["csv"].items()})
    for prefix in ("", "csv."):
        for key in CSV_ONE_CHAR:
            value = options.get(prefix + key)
            if c.type(value, f"{where}.{prefix}{key}", str) and (
                len(value) != 1 and not (key == "quoteChar" and value == "")
            ):
                c.fail(f"{where}.{prefix}{key}", "not-one-char", shown=_show(value))
            if isinstance(value, str) and value in ("\n", "\r"):
                c.fail(f"{where}.{prefix}{key}", "line-end")
        for key in ("doubleQuote", "skipInitialSpace"):
            c.type(options.get(prefix + key), f"{where}.{prefix}{key}", bool)
        for key in ("lineTerminator", "nullSequence"):
            c.type(options.get(prefix + key), f"{where}.{prefix}{key}", str)
    for key in ("header", "headerCase", "skipBlankRows"):
        c.type(dialect.get(key), f"{where}.{key}", bool)
    for key in ("headerJoin", "commentChar"):
        c.type(dialect.get(key), f"{where}.{key}", str)
    for key in ("headerRows", "commentRows"):
        rows = dialect.get(key)
        if c.type(rows, f"{where}.{key}", list):
            for i, n in enumerate(rows):
                if not isinstance(n, int) or isinstance(n, bool) or n < 1 or n > 10_000:
                    c.fail(f"{where}.{key}[{i}]", "bad-row-number", shown=_show(n))
    return c.errors


def check_schema(schema: dict, where: str) -> list[Error]:
    c = _Checker("schema-error")
    fields = schema.get("fields")
    if c.type(fields, f"{where}.fields", list, optional=False):
        if not fields:
            c.fail(f"{where}.fields", "no-fields")
        if len(fields) > MAX_FIELDS:
            c.fail(f"{where}.fields", "too-many-fields", count=len(fields), most=MAX_FIELDS)
        else:
            for i, f in enumerate(fields):
                w = f"{where}.fields[{i}]"
                if c.type(f, w, dict, kind="field-error", optional=False):
                    c.errors.extend(check_field(f, w))
    c.str_or_strings(schema.get("primaryKey"), f"{where}.primaryKey")
    _missing_values(c, schema.get("missingValues"), f"{where}.missingValues")
    c.type(schema.get("fieldsMatch"), f"{where}.fieldsMatch", str)
    fks = schema.get("foreignKeys")
    if c.type(fks, f"{where}.foreignKeys", list):
        for i, fk in enumerate(fks):
            w = f"{where}.foreignKeys[{i}]"
            if c.type(fk, w, dict, optional=False):
                c.str_or_strings(fk.get("fields"), f"{w}.fields")
                if c.type(fk.get("reference"), f"{w}.reference", dict):
                    c.type(fk["reference"].get("resource"), f"{w}.reference.resource", str)
                    c.str_or_strings(fk["reference"].get("fields"), f"{w}.reference.fields")
    return c.errors


def _missing_values(c: _Checker, values: Any, where: str, kind: str | None = None) -> None:
    if c.type(values, where, list, kind=kind):
        for i, v in enumerate(values):
            if isinstance(v, dict):
                c.type(v.get("value"), f"{where}[{i}].value", str, kind=kind, optional=False)
            else:
                c.type(v, f"{where}[{i}]", str, kind=kind, optional=False)


def check_field(f: dict, where: str) -> list[Error]:
    c = _Checker("field-error")
    name = f.get("name")
    if c.type(name, f"{where}.name", str, optional=False) and not name.strip():
        c.fail(f"{where}.name", "blank-name")
    if c.type(f.get("type"), f"{where}.type", str) and f["type"] not in TYPE_NAMES:
        c.fail(f"{where}.type", "unknown-type", shown=_show(f["type"]), types=", ".join(TYPE_NAMES))
    for key in ("format", "title", "description", "groupChar", "decimalChar", "gov:unit", "rdfType"):
        c.type(f.get(key), f"{where}.{key}", str)
    for key in ("bareNumber", "floatNumber", "gov:searchable"):
        c.type(f.get(key), f"{where}.{key}", bool)
    for key in ("trueValues", "falseValues"):
        c.strings(f.get(key), f"{where}.{key}")
    _missing_values(c, f.get("missingValues"), f"{where}.missingValues")
    c.translations(f.get("gov:translations"), f"{where}.gov:translations")
    constraints = f.get("constraints")
    if c.type(constraints, f"{where}.constraints", dict):
        w = f"{where}.constraints"
        for key in ("required", "unique"):
            c.type(constraints.get(key), f"{w}.{key}", bool)
        for key in ("minLength", "maxLength"):
            c.type(constraints.get(key), f"{w}.{key}", int)
        c.type(constraints.get("enum"), f"{w}.enum", list)
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            c.type(constraints.get(key), f"{w}.{key}", str, int, float)
        pattern = constraints.get("pattern")
        if c.type(pattern, f"{w}.pattern", str):
            problem = pattern_problem(pattern)
            if problem:
                c.fail(f"{w}.pattern", "bad-pattern", shown=_show(pattern), problem=problem)
    return c.errors


def pattern_problem(pattern: str) -> str | None:
    """Why the pattern does not compile the way frictionless compiles it (``^…$``), or None."""
    try:
        re.compile(f"^{pattern}$")
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        return str(exc)
    return None


def depth_problem(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether the value nests deeper than `limit` (iteratively: no recursion to overflow)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def site_links(data: Any, where: str, keys: tuple = ("homepage", "url", "path", "href", "link")) -> list[Error]:
    """Every string under a key named like a link, anywhere in a metadata file, must be a safe link."""
    c = _Checker("metadata-error")
    stack: list[tuple[Any, str]] = [(data, where)]
    while stack:
        item, w = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                if k in keys and isinstance(v, str):
                    c.link(v, f"{w}.{k}" if w else str(k))
                elif isinstance(v, (dict, list)):
                    stack.append((v, f"{w}.{k}" if w else str(k)))
        elif isinstance(item, list):
            stack.extend((v, f"{w}[{i}]") for i, v in enumerate(item))
    return c.errors
