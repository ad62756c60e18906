"""The landing page's download block: every file built for a dataset (gongkai/exports/), with
its size and SHA-256, from the release's manifest (gongkai/portal/download_links.py). The files are
served by plugins/portal.py's `download` route. No SQL here."""

from __future__ import annotations

from datasette import hookimpl

from gongkai import i18n
from gongkai.portal.download_links import downloads


@hookimpl
def extra_template_vars(template, request, datasette):
    if template != "portal_dataset.html" or request is None:
        return {}
    name = (request.url_vars or {}).get("name")
    if not name:
        return {}
    by_resource, whole = downloads(datasette, name, i18n.lang_of(request))
    return {"exports_by_resource": by_resource, "dataset_files": whole}
