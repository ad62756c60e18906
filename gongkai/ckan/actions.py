"""The actions of the read-only CKAN API: `call(name, params, site)` → the result CKAN's
envelope carries, or an ActionError (gongkai/ckan/errors.py).

Each catalogue action makes one trip to the catalogue's threads (`site.read`), which runs the
queries of gongkai/catalogue/ckan_queries.py; the datastore actions read the dataset's own
database (gongkai/ckan/datastore.py). Nothing here knows about HTTP: plugins/ckan_api.py
parses the request and writes the envelope.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .. import i18n
from ..catalogue import ckan_queries as q
from ..catalogue.reader import Catalogue
from ..catalogue.records import Publisher, Theme
from . import datastore, ids, packages, params, search_params
from .errors import AUTHORIZATION, BAD_REQUEST, SEARCH_QUERY, ActionError, missing, not_found

# Free text in `q` ranks every matching dataset (then `fq` filters and `start`/`rows` page them);
# bounded by the catalogue's size.
SEARCH_LIMIT = 100_000

CKAN_VERSION = "2.10.4"  # the API behaviour this subset follows (clients check only that it is 2.x)
MAX_ROWS = 1000
MAX_OFFSET = 10**9
FACET_FIELDS = {
    "organization": "publisher",
    "groups": "theme",
    "tags": "keywords",
    "res_format": "formats",
    "license_id": "license",
}
# Names of CKAN's writing actions: a read-only site refuses them as CKAN refuses an anonymous user.
WRITING = re.compile(
    r"(_create|_update|_patch|_delete|_purge|_upsert|_insert|_revise|_reorder|_clear|_invite)$|^(datastore_run_triggers|datastore_function_|bulk_)"
)


@dataclass
class Site:
    """What the actions need from the server."""

    read: Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]  # fn(conn) on catalogue threads
    database: Callable[[str], Any]  # a served Datasette database by name, or None
    base: str  # the site's absolute address, no trailing slash
    title: dict | None = None
    description: dict | None = None


def help_url(site: Site, name: str) -> str:
    return f"{site.base}/api/3/action/help_show?name={name}"


# ---------------------------------------------------------------------------------------------
# Datasets


async def package_list(p: dict, site: Site) -> list[str]:
    limit = params.integer(p, "limit", -1, -1, MAX_OFFSET)
    offset = params.integer(p, "offset", 0, 0, MAX_OFFSET)
    return await site.read(lambda conn: q.names(conn, None if limit < 0 else limit, offset))


async def package_show(p: dict, site: Site) -> dict:
    ident = params.text(p, "id") or params.text(p, "name_or_id")
    if ident is None:
        raise missing("id")

    def run(conn):
        d = q.dataset(conn, ident)
        return None if d is None else packages.package(site.base, d, q.bundle(conn, [d]))

    found = await site.read(run)
    if found is None:
        raise not_found("dataset", ident)
    return found


def _search_of(p: dict) -> tuple[search_params.Parsed, q.Search]:
    parsed = search_params.parse(params.text(p, "q"), free_text=True)
    for fq in [params.text(p, "fq")] + (params.string_list(p, "fq_list") or []):
        extra = search_params.parse(fq, free_text=False)
        parsed.clauses += extra.clauses
        parsed.nothing |= extra.nothing
    search = q.Search(
        clauses=tuple(parsed.clauses),
        order=search_params.sort_order(params.text(p, "sort")),
        rows=params.integer(p, "rows", 10, 0, MAX_ROWS),
        start=params.integer(p, "start", 0, 0, MAX_OFFSET),
    )
    return parsed, search


def _facet_fields(p: dict) -> list[str]:
    fields = params.string_list(p, "facet.field") or []
    for f in fields:
        if f not in FACET_FIELDS:
            raise ActionError(SEARCH_QUERY, "ckan_bad_facet", value=f[:100], allowed=", ".join(FACET_FIELDS))
    return fields


async def package_search(p: dict, site: Site) -> dict:
    parsed, search = _search_of(p)
    facet_fields = _facet_fields(p)
    facet_limit = params.integer(p, "facet.limit", 50, -1, 1000)
    facet_limit = 1000 if facet_limit < 0 else facet_limit

    def run(conn):
        query = search
        if parsed.words:  # the site's own catalogue search ranks the matches
            hits = Catalogue(conn).search(" ".join(parsed.words), limit=SEARCH_LIMIT)
            query = q.Search(query.clauses, tuple(h.name for h in hits), query.order, query.rows, query.start)
        if parsed.nothing:
            query = q.Search(query.clauses, (), query.order, query.rows, query.start)
        total, page = q.search(conn, query)
        bundle = q.bundle(conn, page)
        facets = {f: q.facet(conn, query, FACET_FIELDS[f], facet_limit) for f in facet_fields}
        titles: dict[str, dict[str, str]] = {}
        if "organization" in facets:
            pubs = q.by_id(conn, Publisher, (v for v, _ in facets["organization"]))
            titles["organization"] = {k: (v.name or k) for k, v in pubs.items()}
        if "groups" in facets:
            ths = q.by_id(conn, Theme, (v for v, _ in facets["groups"]))
            titles["groups"] = {k: (v.name or k) for k, v in ths.items()}
        return total, [packages.package(site.base, d, bundle) for d in page], facets, titles

    total, results, facets, titles = await site.read(run)
    return {
        "count": total,
        "results": results,
        "sort": params.text(p, "sort") or "score desc, metadata_modified desc",
        "facets": {f: dict(values) for f, values in facets.items()},
        "search_facets": {
            f: {
                "title": f,
                "items": [{"name": v, "display_name": titles.get(f, {}).get(v, v), "count": n} for v, n in values],
            }
            for f, values in facets.items()
        },
    }


# ---------------------------------------------------------------------------------------------
# Organisations (publishers) and groups (themes)


def _registry_list(p: dict, entries: list[tuple[Any, int]], to_dict) -> list:
    all_fields = params.boolean(p, "all_fields", False)
    limit = params.integer(p, "limit", MAX_ROWS, 0, MAX_ROWS)
    offset = params.integer(p, "offset", 0, 0, MAX_OFFSET)
    wanted = params.string_list(p, "organizations") or params.string_list(p, "groups")
    if wanted:
        entries = [(e, n) for e, n in entries if e.id in wanted]
    page = entries[offset : offset + limit]
    if not all_fields:
        return [e.id for e, _ in page]
    return [to_dict(e, e.id, n) for e, n in page]


async def organization_list(p: dict, site: Site) -> list:
    return _registry_list(p, await site.read(q.publishers), packages.organization)


async def group_list(p: dict, site: Site) -> list:
    return _registry_list(p, await site.read(q.themes), packages.group)


async def _registry_show(p: dict, site: Site, what: str) -> dict:
    ident = params.text(p, "id", required=True)
    include = params.boolean(p, "include_datasets", False)
    listed, to_id, to_dict, column = (
        (q.publishers, ids.organization_id, packages.organization, "publisher")
        if what == "organization"
        else (q.themes, ids.group_id, packages.group, "theme")
    )

    def run(conn):
        found = next(((e, n) for e, n in listed(conn) if ident in (e.id, to_id(e.id))), None)
        if found is None:
            return None
        entry, count = found
        out = to_dict(entry, entry.id, count)
        if include:
            search = q.Search(clauses=(q.Clause(column, values=(entry.id,)),), rows=MAX_ROWS)
            page = q.search(conn, search)[1]
            bundle = q.bundle(conn, page)
            out["packages"] = [packages.package(site.base, d, bundle) for d in page]
        return out

    found = await site.read(run)
    if found is None:
        raise not_found(what, ident)
    return found


async def organization_show(p: dict, site: Site) -> dict:
    return await _registry_show(p, site, "organization")


async def group_show(p: dict, site: Site) -> dict:
    return await _registry_show(p, site, "group")


# ---------------------------------------------------------------------------------------------
# Resources, status, help


async def resource_show(p: dict, site: Site) -> dict:
    ident = params.text(p, "id", required=True)
    assert ident is not None

    def run(conn):
        r = q.resource(conn, ident)
        if r is None:
            return None
        d = q.dataset(conn, r.dataset)
        return None if d is None else packages.resource(site.base, d, r)

    found = await site.read(run)
    if found is None:
        raise not_found("resource", ident)
    return found


async def status_show(p: dict, site: Site) -> dict:
    return status(site)


def status(site: Site) -> dict:
    return {
        "ckan_version": CKAN_VERSION,
        "site_url": site.base,
        "site_title": (site.title or {}).get("zh") or (site.title or {}).get("en") or "",
        "site_description": (site.description or {}).get("zh") or "",
        "locale_default": "zh_Hans_CN",
        "extensions": ["datastore"],
        "read_only": True,
    }


async def help_show(p: dict, site: Site) -> str:
    name = params.text(p, "name", required=True)
    if name not in ACTIONS:
        raise not_found("action", name)
    return f"{i18n.t(f'ckan_help_{name}', 'en')}\n\n{i18n.t(f'ckan_help_{name}', 'zh')}"


async def datastore_search(p: dict, site: Site) -> dict:
    return await datastore.search(p, site.read, site.database, site.base)


async def datastore_search_sql(p: dict, site: Site) -> dict:
    return await datastore.search_sql(p, site.read, site.database, site.base)


ACTIONS: dict[str, Callable[[dict, Site], Awaitable[Any]]] = {
    "package_list": package_list,
    "package_show": package_show,
    "package_search": package_search,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "group_list": group_list,
    "group_show": group_show,
    "resource_show": resource_show,
    "status_show": status_show,
    "help_show": help_show,
    "datastore_search": datastore_search,
    "datastore_search_sql": datastore_search_sql,
}


async def call(name: str, p: dict, site: Site) -> Any:
    action = ACTIONS.get(name)
    if action is None:
        if WRITING.search(name):
            raise ActionError(AUTHORIZATION, "ckan_read_only", name=name[:100])
        raise ActionError(BAD_REQUEST, "ckan_unknown_action", name=name[:100])
    return await action(p, site)
