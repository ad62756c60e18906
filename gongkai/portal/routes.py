"""The portal's URL table, and the dataset names it reserves.

A dataset's name is its database's URL (`/<name>`), so a dataset may not be named like any
top-level path of the site: its database page would be unreachable behind the route. The
reserved names are derived from the route patterns themselves (`first_segments`), so adding a
route reserves its name; plugins/portal.py registers `PORTAL_ROUTES` and gongkai/descriptors.py
refuses `reserved_names()` (plugins/opendata.py registers `OPENDATA_ROUTES`, plugins/feeds.py `FEED_ROUTES`, plugins/badge.py `BADGE_ROUTES`). tests/test_reserved_names.py enumerates every route of a real
Datasette instance (Datasette's own, every plugin's) and checks each is covered.
"""

from __future__ import annotations

import re

try:  # Python 3.11+: the regex parser is re._parser (sre_parse is its deprecated alias)
    # typeshed's stdlib stubs declare neither private module (only the deprecated sre_* aliases)
    from re import _constants as _c, _parser as _sre  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants as _c
    import sre_parse as _sre

NAME = r"(?P<name>[a-z0-9][a-z0-9-]*)"
STATIC_PAGES = ("about", "api", "licence", "privacy")

# (pattern, view name in plugins/portal.py)
PORTAL_ROUTES = [
    (r"^/$", "home"),
    (r"^/datasets$", "datasets_view"),
    (rf"^/datasets/{NAME}$", "dataset_view"),
    (rf"^/datasets/{NAME}/report(?P<format>\.json|\.md)?$", "report_view"),
    (rf"^/datasets/{NAME}/(?P<resource>[^/]+)/dictionary\.csv$", "dictionary_csv"),
    (rf"^/downloads/{NAME}/(?P<path>.+)$", "download"),
    (r"^/downloads/(?P<file>catalog\.(?:csv|excel\.csv|json|xlsx))$", "catalogue_download"),
    (r"^/publishers$", "publishers_index"),
    (r"^/publishers/(?P<id>[^/]+)$", "publisher_view"),
    (r"^/themes$", "themes_index"),
    (r"^/themes/(?P<id>[^/]+)$", "theme_view"),
    (r"^/schemas$", "schemas_index"),
    (rf"^/schemas/{NAME}$", "schema_view"),
    (rf"^/(?P<page>{'|'.join(STATIC_PAGES)})$", "static_page"),
]

# The machine-readable catalogue (plugins/opendata.py): (pattern, view name there).
OPENDATA_ROUTES = [
    (r"^/data\.json$", "data_json"),
    (r"^/data-v3\.json$", "data_v3_json"),
    (r"^/catalog$", "catalog_iri"),
    (r"^/catalog\.(?P<syntax>ttl|jsonld|rdf)$", "catalog_rdf"),
    (rf"^/datasets/{NAME}\.(?P<syntax>ttl|jsonld|rdf)$", "dataset_rdf"),
]

# The sitemap, robots.txt and the Atom feeds (plugins/feeds.py): (pattern, view name there).
FEED_ROUTES = [
    (r"^/robots\.txt$", "robots_txt"),
    (r"^/sitemap\.xml$", "sitemap_index"),
    (r"^/sitemaps/pages\.xml$", "sitemap_pages"),
    (r"^/sitemaps/datasets-(?P<number>[0-9]{1,6})\.xml$", "sitemap_datasets"),
    (r"^/feeds/datasets\.atom$", "site_feed"),
    (r"^/feeds/publishers/(?P<id>[^/]+)\.atom$", "publisher_feed"),
    (r"^/feeds/themes/(?P<id>[^/]+)\.atom$", "theme_feed"),
]

# Each dataset's SVG badge: validation status and scorecard (plugins/badge.py).
BADGE_ROUTES = [(rf"^/datasets/{NAME}/badge\.svg$", "badge_svg")]

# The OpenAPI document (plugins/openapi.py).
OPENAPI_ROUTES = [(r"^/openapi\.json$", "openapi_json")]

# The CKAN Action API (plugins/ckan_api.py): both of CKAN's prefixes, and CKAN's status URL.
CKAN_ACTION = r"^/api/(?:3/)?action/(?P<action>[A-Za-z0-9_.]{1,100})$"
CKAN_ROUTES = [
    (CKAN_ACTION, "ckan_action"),
    (r"^/api/util/status$", "ckan_status"),
]
_CKAN_PATHS = [re.compile(pattern) for pattern, _view in CKAN_ROUTES]


def is_ckan_api(path: str) -> bool:
    """A CKAN API address: the only ones that take POST (plugins/error_pages.py)."""
    return any(p.match(path) for p in _CKAN_PATHS)


_CKAN_ACTION = re.compile(CKAN_ACTION)


def is_ckan_action(path: str, action: str) -> bool:
    """Whether `path` calls this CKAN action (either prefix)."""
    m = _CKAN_ACTION.match(path)
    return m is not None and m.group("action") == action


# Top-level names that are not portal routes: the site's static mount (gongkai/serve.py), the
# catalogue database (its URL is /catalog), and names kept for pages the site may add (feeds,
# sitemap, robots.txt, OpenAPI, language prefixes). Datasette's own routes are all under `/-/`
# (dataset names cannot start with `-`) or are not names a slug can spell (`favicon.ico`).
OTHER_RESERVED = ("static", "catalog", "assets", "data", "en", "zh", "feeds", "openapi", "robots", "search", "sitemap")


class VariableSegment(Exception):
    """The first path segment of a route is (partly) a variable: no fixed name to reserve.
    `prefix` is its literal start ('' for Datasette's `/<database>`)."""

    def __init__(self, pattern, prefix: str = ""):
        super().__init__(pattern)
        self.prefix = prefix


def _alternatives(tokens) -> list[str]:
    """Every literal string a token sequence can match, or VariableSegment if not all literal."""
    out = [""]
    for op, arg in tokens:
        if op is _c.LITERAL:
            out = [s + chr(arg) for s in out]
        elif op is _c.SUBPATTERN:
            inner = _alternatives(arg[-1])
            out = [s + i for s in out for i in inner]
        elif op is _c.BRANCH:
            inner = [alt for branch in arg[1] for alt in _alternatives(branch)]
            out = [s + i for s in out for i in inner]
        elif op is _c.MAX_REPEAT and arg[0] == 0 and arg[1] == 1:  # (...)? optional
            inner = _alternatives(arg[2])
            out = [s + i for s in out for i in ["", *inner]]
        else:
            raise VariableSegment(op, prefix=out[0] if len(out) == 1 else "")
    return out


def first_segments(pattern: str) -> set[str]:
    """The fixed first path segments a route can match (`^/datasets/…` → {"datasets"};
    `^/(?P<page>about|api)$` → {"about", "api"}; `^/$` → set()). VariableSegment if the first
    segment is not fixed (Datasette's `/<database>`)."""
    tokens = [t for t in _sre.parse(pattern) if t[0] is not _c.AT]
    if not tokens or tokens[0] != (_c.LITERAL, ord("/")):
        raise VariableSegment(pattern)
    rest = tokens[1:]
    # Up to the next literal "/" (or the end): the first segment's tokens.
    cut = next((i for i, t in enumerate(rest) if t == (_c.LITERAL, ord("/"))), len(rest))
    head = rest[:cut]
    if not head:
        return set()
    try:
        found = _alternatives(head)
    except VariableSegment as e:
        raise VariableSegment(pattern, e.prefix) from None
    segments = {s.split("/", 1)[0] for s in found}
    segments.discard("")
    return segments


# Datasette routes whose first segment is not fixed but starts with letters a slug can spell:
# `/favicon.ico` is matched unanchored and with an unescaped dot, so it also answers
# `/favicon-ico`, `/faviconxico2`…; a dataset whose URL one of these matches is reserved too.
# The route test checks that every such route of a real Datasette instance is listed here.
PREFIX_ROUTES = (r"/favicon.ico",)


class ReservedNames(frozenset):
    """The fixed names, plus every name that `PREFIX_ROUTES` would answer."""

    _prefix = [re.compile(p) for p in PREFIX_ROUTES]

    def __contains__(self, name) -> bool:
        if frozenset.__contains__(self, name):
            return True
        return isinstance(name, str) and any(p.match("/" + name) for p in self._prefix)


def reserved_names() -> ReservedNames:
    names = set(OTHER_RESERVED)
    for pattern, _view in [
        *PORTAL_ROUTES,
        *OPENDATA_ROUTES,
        *FEED_ROUTES,
        *OPENAPI_ROUTES,
        *CKAN_ROUTES,
        *BADGE_ROUTES,
    ]:
        for segment in first_segments(pattern):
            # `/data-v3.json` is also where Datasette would serve a database named `data-v3`
            # as JSON (`/<database>.<format>`): the name before the dot is taken too.
            names |= {segment, segment.split(".", 1)[0]}
    return ReservedNames(names)
