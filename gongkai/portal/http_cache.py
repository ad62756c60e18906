"""How long each response may be cached, and its validators (plugins/http_cache.py sends them).

A served release is immutable and the code serving it is fixed for the life of a worker, so a
public GET's response is a function of (code, release, URL, and for error bodies the `Accept`
header). That makes the validators cheap and exact without reading the body:

- `ETag` is a weak tag over the code fingerprint, the release id, the path and query string and
  the Accept class. Weak, because the bytes are not identical from one request to the next
  (Datasette's JSON carries `query_ms`) and nginx's gzip weakens strong tags anyway; a weak tag
  is exactly what `If-None-Match` compares. Since it needs no body, the plugin answers a
  matching `If-None-Match` with 304 before any view runs.
- `Last-Modified` is the time the release's build finished (its `.complete` marker).

The policies (`policy`), by what the response is:

| response | Cache-Control | why |
|---|---|---|
| public GET/HEAD, 2xx and 3xx | `public, max-age=60, s-maxage=300, stale-if-error=86400` | a browser re-checks after a minute (cheap: 304), a shared cache after five, so a new release reaches visitors within five minutes; a cache may keep serving a copy while every replica is down |
| static files (`/static/`, `/-/static/`) | `public, max-age=3600` | they change only with a deploy of the code |
| a download by its content, `/downloads/…?v=<SHA-256 prefix>` matching the file served (the landing page's links) | `public, max-age=31536000, immutable` | other bytes are another URL; the plain URL (harvesters, DCAT) keeps the public policy and a strong tag of its SHA-256 (gongkai/portal/file_response.py) |
| 4xx except 429 (404, 400 …) | `public, max-age=60`, `Vary: Accept` | the same mistake keeps its answer for the release, and a scan of missing URLs lands on the cache; the body is JSON or HTML by `Accept` |
| visitor SQL (`?sql=`) | `no-store` | SQLite has `random()` and `date('now')`: its results are not a function of the release; every distinct query would also only churn a shared cache; its cost is bounded by gongkai/limits.py instead |
| 429, 5xx, `/-/health`, any method but GET/HEAD | `no-store` | refusals and failures are of the moment; a probe must reach the replica itself |

Never sent, because each would stop a shared cache: `Set-Cookie` (Datasette's CSRF cookie; the
site takes no form posts, plugins/error_pages.py answers them 405), and `Vary: Cookie,
Authorization` with `private, no-store`, which Datasette 0.65 adds to any request carrying a
cookie (the site has no accounts: no page depends on a cookie); any other Vary a view sets
(say, Accept-Encoding) is kept. The language is a query
argument (`?_lang=en`, gongkai/i18n.py), so each language is its own cached URL.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qsl

HEALTH_PATH = "/-/health"

PUBLIC = "public, max-age=60, s-maxage=300, stale-if-error=86400"
STATIC = "public, max-age=3600"
IMMUTABLE = "public, max-age=31536000, immutable"
ERROR = "public, max-age=60"
NO_STORE = "no-store"

STATIC_PREFIXES = ("/static/", "/-/static/")
CACHEABLE_METHODS = ("GET", "HEAD")
# What a served response's bytes depend on besides the release: the serving code and text.
CODE_SUFFIXES = (".py", ".html", ".yaml", ".css", ".js", ".svg", ".txt", ".json")


@dataclass(frozen=True)
class ReleaseInfo:
    id: str
    built: datetime  # UTC

    @property
    def last_modified(self) -> str:
        return format_datetime(self.built, usegmt=True)

    @classmethod
    def of(cls, folder: Path) -> ReleaseInfo:
        """The release a site folder holds: the id and finish time in its `.complete` marker
        (gongkai/releases.py), or for a hand-made folder without one its name and the time its
        `inspect.json` (or the folder) was written."""
        folder = Path(folder).resolve()
        try:
            marker = json.loads((folder / ".complete").read_text())
            built = datetime.fromisoformat(marker["finished"]).astimezone(UTC)
            return cls(str(marker["release"]), built.replace(microsecond=0))
        except (OSError, ValueError, KeyError, TypeError):
            pass
        stamp = folder / "inspect.json" if (folder / "inspect.json").exists() else folder
        built = datetime.fromtimestamp(int(stamp.stat().st_mtime), UTC)
        return cls(folder.name, built)


@functools.lru_cache(maxsize=8)
def code_fingerprint(folders: tuple[Path, ...]) -> str:
    """A hash of every file (by path and content) under `folders` that shapes a response: the
    gongkai package, plugins, templates, static files. Read once per process (~0.1 s): the code
    of a running worker does not change."""
    digest = hashlib.sha256()
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in CODE_SUFFIXES):
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(folder)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def is_visitor_sql(query_string: str) -> bool:
    return any(key == "sql" for key, _ in parse_qsl(query_string, keep_blank_values=True))


def accept_class(accept: str) -> str:
    """What plugins/error_pages.py's `wants_json` decides from `Accept` (JSON or HTML errors)."""
    return "json" if "application/json" in accept and "text/html" not in accept else "html"


def etag(code: str, release: str, path: str, query_string: str, accept: str, kind: str) -> str:
    """`kind` is "ok" (2xx, 3xx) or "error" (4xx): both are cacheable with different policies,
    and the tag a client sends back then says which one a 304 stands for."""
    key = "\0".join((code, release, path, query_string, accept_class(accept), kind))
    return 'W/"' + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32] + '"'


def revalidatable(method: str, path: str, query_string: str) -> bool:
    """Whether a request's response gets validators (and so may be answered 304)."""
    return method in CACHEABLE_METHODS and path != HEALTH_PATH and not is_visitor_sql(query_string)


def policy(method: str, path: str, query_string: str, status: int) -> str:
    """The Cache-Control value for a response (the table in the module docstring)."""
    if not revalidatable(method, path, query_string) or status == 429 or status >= 500:
        return NO_STORE
    if status >= 400:
        return ERROR
    if path.startswith(STATIC_PREFIXES):
        return STATIC
    return PUBLIC


# What Datasette varies on that no page of this site depends on (it has no accounts).
PRIVATE_VARY = frozenset({"cookie", "authorization"})


def vary(existing: list[str], status: int) -> str | None:
    """The Vary a response keeps: what a view set, less Cookie and Authorization (they would
    split a shared cache per visitor), plus Accept on errors (their body is JSON or HTML by it)."""
    names = [n.strip() for value in existing for n in value.split(",") if n.strip()]
    kept = [n for n in names if n.lower() not in PRIVATE_VARY]
    if status >= 400 and "accept" not in {n.lower() for n in kept}:
        kept.append("Accept")
    return ", ".join(dict.fromkeys(kept)) or None


def kind_of(status: int) -> str:
    return "error" if status >= 400 else "ok"


def matches(if_none_match: str, tag: str) -> bool:
    """RFC 9110 weak comparison of `If-None-Match` against our tag. `*` ("any current
    representation") is never taken as a match: without running the view we cannot know one
    exists, and a full answer is always correct."""
    ours = tag.removeprefix("W/")
    return any(part.strip().removeprefix("W/") == ours for part in if_none_match.split(","))


@dataclass(frozen=True)
class Validators:
    """What one served site tags its responses with: computed once per Datasette instance."""

    release: ReleaseInfo
    code: str

    def etag(self, scope: dict, kind: str) -> str:
        accept = ""
        for name, value in scope.get("headers") or []:
            if name == b"accept":
                accept = value.decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        return etag(self.code, self.release.id, scope.get("path", ""), query, accept, kind)


def code_folders(datasette) -> tuple[Path, ...]:
    package = Path(__file__).resolve().parents[1]
    folders = [package, *(Path(p) for p in (datasette.plugins_dir, datasette.template_dir) if p)]
    folders += [Path(folder) for _, folder in datasette.static_mounts or []]
    return tuple(folders)


def validators_of(datasette) -> Validators:
    """The release (gongkai.catalogue's store knows its folder) and code this instance serves."""
    found = getattr(datasette, "_gongkai_validators", None)
    if found is None:
        from gongkai import catalogue

        try:
            folder = catalogue.of(datasette).release
        except catalogue.CatalogueMissing:  # a Datasette not made by gongkai.serve: its files' folder
            files = [db.path for db in datasette.databases.values() if db.path]
            folder = Path(files[0]).parent if files else Path.cwd()
        found = Validators(ReleaseInfo.of(folder), code_fingerprint(code_folders(datasette)))
        datasette._gongkai_validators = found
    return found
