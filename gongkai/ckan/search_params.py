"""package_search's `q`, `fq` and `sort`, parsed into gongkai.catalogue.ckan_queries' terms.

The subset of Solr's syntax CKAN clients send (ckanext-harvest, uData, ckanapi):

- `field:value` and `field:"quoted value"`, `-field:value` (not), `+field:value`;
- terms separated by spaces (or `AND`) must all hold; `a:x OR a:y` is either value of one field
  (ckanext-harvest's organisation and group filters);
- ranges on dates: `metadata_modified:[2026-01-01T00:00:00Z TO *]`, `[* TO …]`, `[… TO …]`;
- `*:*` is everything; in `q`, words that are not `field:value` are the site's full-text search.

Fields: organization (publishers), groups (themes), tags, res_format, license_id, name, id,
metadata_modified, metadata_created; `type:dataset` / `dataset_type:dataset`, `state:active`
and `private:false` hold for every dataset. Anything else is a Search Query Error, never a
silent match-all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ..catalogue.ckan_queries import Clause
from .errors import SEARCH_QUERY, ActionError

FIELDS = {
    "organization": "publisher",
    "groups": "theme",
    "tags": "keywords",
    "res_format": "formats",
    "license_id": "license",
    "name": "name",
    "id": "ckan_id",
    "metadata_modified": "modified",
    "metadata_created": "issued",
}
# Fields every dataset of this site has one value of: a clause on them is true or false outright.
CONSTANT = {"type": "dataset", "dataset_type": "dataset", "state": "active", "private": "false", "capacity": "public"}
DATE_FIELDS = frozenset({"metadata_modified", "metadata_created"})

SORTS = {
    "id": "ckan_id",
    "name": "name",
    "metadata_modified": "modified",
    "metadata_created": "issued",
    "title_string": "title",
    "title": "title",
    "score": "score",
}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<all>\*:\*)
      | (?P<sign>[+-]?)(?P<field>[A-Za-z_][\w.]*):(?P<value>"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\{[^}]*\}|[^\s()"][^\s()]*)
      | (?P<op>AND|OR|&&|\|\|)(?=\s|$)
      | (?P<paren>[()])
      | (?P<word>"(?:[^"\\]|\\.)*"|[^\s()]+)
    )""",
    re.VERBOSE,
)


@dataclass
class Parsed:
    clauses: list[Clause]
    words: list[str]  # free text (only from `q`)
    nothing: bool = False  # a constant field asked for a value no dataset has


def _bad(value: str) -> ActionError:
    return ActionError(SEARCH_QUERY, "ckan_bad_query", value=value[:200])


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return re.sub(r"\\(.)", r"\1", value)


def _date(text: str, whole: str) -> str | None:
    """A range end as SQLite's `YYYY-MM-DD HH:MM:SS` in UTC; `*` is an open end."""
    text = text.strip()
    if text == "*":
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise _bad(whole) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _clause(field: str, raw: str, negate: bool) -> Clause | bool:
    """The clause of one `field:value` term, or True/False for a constant field."""
    if field in CONSTANT:
        return (_unquote(raw).lower() == CONSTANT[field]) != negate
    column = FIELDS.get(field)
    if column is None:
        raise ActionError(SEARCH_QUERY, "ckan_bad_query_field", value=field[:100], allowed=", ".join(sorted(FIELDS)))
    if field in DATE_FIELDS:
        if raw[:1] in "[{":
            parts = re.fullmatch(r"[\[{]\s*(\S+)\s+TO\s+(\S+)\s*[\]}]", raw)
            if parts is None:
                raise _bad(f"{field}:{raw}")
            low, high = _date(parts[1], raw), _date(parts[2], raw)
        else:
            low = high = _date(_unquote(raw), raw)
        return Clause(column, low=low, high=high, negate=negate)
    if raw[:1] in "[{":
        raise _bad(f"{field}:{raw}")
    value = _unquote(raw)
    if not value or "*" in value or "?" in value:  # wildcards are not supported: say so
        raise _bad(f"{field}:{raw}")
    return Clause(column, values=(value,), negate=negate)


def parse(text: str | None, *, free_text: bool) -> Parsed:
    out = Parsed([], [])
    if not text:
        return out
    pos, pending_or = 0, False
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise _bad(text)
        pos = m.end()
        if m["all"] or m["paren"]:
            continue  # everything; parentheses only group what AND/OR already say
        if m["op"]:
            pending_or = m["op"] in ("OR", "||")
            continue
        if m["word"] is not None:
            if not free_text:
                raise _bad(m["word"])
            out.words.append(_unquote(m["word"]))
            pending_or = False
            continue
        found = _clause(m["field"], m["value"], m["sign"] == "-")
        if isinstance(found, bool):
            out.nothing |= not found
            pending_or = False
            continue
        if pending_or:
            prev = out.clauses[-1] if out.clauses else None
            if prev is None or prev.column != found.column or prev.negate or found.negate or not found.values:
                raise _bad(text)  # OR across fields: not in this subset
            out.clauses[-1] = Clause(prev.column, values=prev.values + found.values)
        else:
            out.clauses.append(found)
        pending_or = False
    return out


def sort_order(text: str | None) -> tuple[tuple[str, bool], ...]:
    """`sort`: comma-separated `field [asc|desc]`; CKAN's default is score, then newest."""
    if not text or not text.strip():
        return (("score", True), ("modified", True))
    order = []
    for part in text.split(","):
        words = part.split()
        if (
            not words
            or len(words) > 2
            or words[0] not in SORTS
            or (len(words) == 2 and words[1] not in ("asc", "desc"))
        ):
            raise ActionError(SEARCH_QUERY, "ckan_bad_sort", value=part.strip()[:100], allowed=", ".join(SORTS))
        order.append((SORTS[words[0]], len(words) == 2 and words[1] == "desc"))
    return tuple(order)
