"""The absolute URLs every catalogue document uses, from one place.

A harvester keeps the IRIs it reads, so they must not depend on who asked: the base is the
configured one (`GONGKAI_BASE_URL`, else `base_url` in metadata/site.yaml, through
`gongkai.portal.api_examples.configured_base_url`), never the request's `Host` header (which a
client can forge and a cache would then serve to everyone). Paths come from Datasette's URL
builders (`datasette.urls`), so they stay right under a Datasette `base_url` setting.

IRIs: a dataset is `<landing page>#dataset` (the landing page itself is a document about it,
which answers the RDF by content negotiation), its distributions `<landing page>#<kind>-<res>`,
a publisher its page, a theme its page, the catalogue `/catalog` with its documents beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from datasette.utils import tilde_encode

from .. import release_files
from ..exports.manifest import FileEntry, read_manifest
from ..portal.api_examples import configured_base_url

# Without any configured address the documents still need absolute IRIs; this one says so.
FALLBACK_BASE = "http://localhost"


@dataclass(frozen=True)
class SiteUrls:
    base: str  # absolute, no trailing slash
    path: Callable[[str], str] = lambda p: p  # datasette.urls.path
    table_path: Callable[[str, str], str] = lambda db, t: f"/{db}/{t}"  # datasette.urls.table
    database_path: Callable[[str], str] = lambda db: f"/{db}"  # datasette.urls.database
    # the release folder whose downloads/<dataset>/files.json give every published file's size
    # and SHA-256 (gongkai/exports/manifest.py); None: no file list (only what catalog.db holds)
    release: Path | None = None

    @classmethod
    def of(cls, datasette, site_base_url: str | None) -> SiteUrls:
        from ..catalogue import CatalogueMissing, of

        try:
            release: Path | None = of(datasette).release
        except CatalogueMissing:
            release = None
        return cls(
            base=configured_base_url(site_base_url) or FALLBACK_BASE,
            path=datasette.urls.path,
            table_path=datasette.urls.table,
            database_path=datasette.urls.database,
            release=release,
        )

    def files(self, name: str) -> list[FileEntry]:
        """The dataset's published files (its manifest), [] without a release or a manifest."""
        return read_manifest(release_files.downloads(self.release, name)) if self.release is not None else []

    @classmethod
    def built(cls, site_base_url: str | None, release: Path | None = None) -> SiteUrls:
        """The URLs as a site served without a Datasette `base_url` prefix writes them, for
        the files the build writes (gongkai/catalogue_files.py): Datasette's own builders
        tilde-encode database and table names, and a database's route is its name."""
        return cls(
            base=configured_base_url(site_base_url) or FALLBACK_BASE,
            table_path=lambda db, t: f"/{tilde_encode(db)}/{tilde_encode(t)}",
            database_path=lambda db: f"/{tilde_encode(db)}",
            release=release,
        )

    def abs(self, path: str, params=None) -> str:
        url = self.base + self.path(path)
        return url + ("?" + urlencode(params) if params else "")

    # -- pages ------------------------------------------------------------------------------

    def home(self) -> str:
        return self.abs("/")

    def landing(self, name: str) -> str:
        return self.abs(f"/datasets/{name}")

    def dataset_iri(self, name: str) -> str:
        return self.landing(name) + "#dataset"

    def distribution_iri(self, name: str, kind: str, resource: str | None = None) -> str:
        return self.landing(name) + f"#{kind}" + (f"-{resource}" if resource else "")

    def publisher(self, ident: str) -> str:
        return self.abs(f"/publishers/{ident}")

    def theme(self, ident: str) -> str:
        return self.abs(f"/themes/{ident}")

    def theme_scheme(self) -> str:
        return self.abs("/datasets") + "#themes"

    def catalog_iri(self) -> str:
        return self.abs("/catalog")

    def service_iri(self) -> str:
        return self.abs("/api") + "#service"

    def api_page(self) -> str:
        return self.abs("/api")

    # -- files and API ----------------------------------------------------------------------

    def download(self, name: str, path: str) -> str:
        # a published path may hold spaces or Chinese: percent-encoded, an IRI has neither raw
        return self.abs(f"/downloads/{name}/{quote(path, safe='/')}")

    def datapackage(self, name: str) -> str:
        return self.download(name, "datapackage.json")

    def sqlite(self, name: str) -> str:
        return self.base + self.database_path(name) + ".db"

    def table_csv(self, name: str, table: str) -> str:
        return self.base + self.table_path(name, table) + ".csv?" + urlencode({"_stream": "on", "_size": "max"})

    def table_json(self, name: str, table: str) -> str:
        return self.base + self.table_path(name, table) + ".json?" + urlencode({"_shape": "array"})

    def table_page(self, name: str, table: str) -> str:
        return self.base + self.table_path(name, table)

    def dictionary_csv(self, name: str, resource: str) -> str:
        return self.abs(f"/datasets/{name}/{resource}/dictionary.csv")

    def document(self, path: str, params=None) -> str:
        return self.abs(path, params)
