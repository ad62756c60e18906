"""Ready-to-copy API calls for one table, with the real URLs of the site serving the page.

`base` is the site's configured address (`configured_base_url`: `GONGKAI_BASE_URL`, else
`base_url` in metadata/site.yaml), never the request's `Host` header, which any client can
forge (and a cache in front of the site would then serve the forged URLs to everyone). Paths
come from Datasette's URL builder, so they are right for any table name. Python uses only the standard
library; JavaScript is the browser's (or Node 18+'s) `fetch`.
"""

from __future__ import annotations

import os
from urllib.parse import quote, urlencode, urlsplit

from ..sql import identifier

BASE_URL_ENV = "GONGKAI_BASE_URL"


def configured_base_url(site_value=None, environ=None) -> str:
    """The site's absolute address without a trailing slash: `$GONGKAI_BASE_URL` (a deployment,
    a test server on a free port) or else site.yaml's `base_url`. Only an http(s) URL with a
    host counts; without one the examples use site-relative paths ('')."""
    environ = os.environ if environ is None else environ
    for candidate in (environ.get(BASE_URL_ENV), site_value):
        if not isinstance(candidate, str) or not candidate.strip():
            continue
        parts = urlsplit(candidate.strip())
        if parts.scheme in ("http", "https") and parts.hostname and not parts.query and not parts.fragment:
            return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")
    return ""


def urls(base: str, table_path: str, database_path: str, table: str, *, rows: int = 5) -> dict:
    """The API URLs of one table: rows as JSON, CSV export, a SQL query, search, the schema."""
    sql = f"select * from {identifier(table)} limit {rows}"
    return {
        "json": f"{base}{table_path}.json?" + urlencode({"_shape": "array", "_size": rows}),
        "csv": f"{base}{table_path}.csv?" + urlencode({"_stream": "on", "_size": "max"}),
        "sql": f"{base}{database_path}.json?" + urlencode({"sql": sql, "_shape": "array"}, quote_via=quote),
        "search": f"{base}{table_path}.json?" + urlencode({"_search": "…", "_shape": "array"}),
    }


def _py_string(s: str) -> str:
    return repr(s)


def _js_string(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def curl(url: str) -> str:
    return "curl '" + url.replace("'", "'\\''") + "'"


def python(url: str) -> str:
    return (
        "import json\n"
        "from urllib.request import urlopen\n\n"
        f"with urlopen({_py_string(url)}) as response:\n"
        "    rows = json.load(response)\n"
        "for row in rows:\n"
        "    print(row)\n"
    )


def javascript(url: str) -> str:
    return (
        f"const response = await fetch({_js_string(url)});\nconst rows = await response.json();\nconsole.table(rows);\n"
    )


def examples(base: str, table_path: str, database_path: str, table: str, *, rows: int = 5) -> dict:
    """{"urls": {...}, "curl": str, "python": str, "javascript": str} for one table."""
    u = urls(base, table_path, database_path, table, rows=rows)
    return {"urls": u, "curl": curl(u["json"]), "python": python(u["json"]), "javascript": javascript(u["sql"])}
