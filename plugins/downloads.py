"""The landing page's download block: every file built for a dataset (gongkai/exports/), with
its size and SHA-256, from the release's manifest (gongkai/portal/download_links.py); and the
whole catalogue's files (`/downloads/catalog.*`, gongkai/catalogue_files.py) on the catalogue
and API pages. The files are served by plugins/portal.py's `download` and `catalogue_download`
routes. No SQL here."""

from __future__ import annotations

from datasette import hookimpl

from gongkai import i18n
from gongkai.portal.download_links import catalogue_downloads, downloads

CATALOGUE_PAGES = ("portal_catalogue.html", "portal_api.html")


@hookimpl
def extra_template_vars(template, request, datasette):
    if template in CATALOGUE_PAGES and request is not None:
        return {"catalogue_downloads": catalogue_downloads(datasette, i18n.lang_of(request))}
    if template != "portal_dataset.html" or request is None:
        return {}
    name = (request.url_vars or {}).get("name")
    if not name:
        return {}
    by_resource, whole = downloads(datasette, name, i18n.lang_of(request))
    return {"exports_by_resource": by_resource, "dataset_files": whole}
