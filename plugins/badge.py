"""`/datasets/<name>/badge.svg`: a dataset's validation status and scorecard as an SVG badge,
for a README or a pull request (`?_lang=en` for English words; the `<title>` is bilingual).

No SQL here: the record comes from the catalogue reader, the drawing from
gongkai.portal.badge. Caching is plugins/http_cache.py's, as for every public GET: the badge
changes only with the release, so its ETag answers revalidations with 304.
"""

from __future__ import annotations

from datasette import Response, hookimpl
from datasette.utils.asgi import NotFound

from gongkai import catalogue, i18n
from gongkai.portal import badge, routes


async def badge_svg(datasette, request):
    name = request.url_vars["name"]
    try:
        record = await catalogue.of(datasette).read(lambda c: c.dataset_record(name))
    except catalogue.CatalogueMissing:
        raise NotFound("Catalogue not found") from None
    if record is None:
        raise NotFound("Dataset not found")
    return Response(
        badge.svg(record, i18n.lang_of(request)),
        content_type="image/svg+xml; charset=utf-8",
        headers={"Access-Control-Allow-Origin": "*"} if datasette.cors else {},
    )


@hookimpl
def register_routes():
    views = globals()
    return [(pattern, views[view]) for pattern, view in routes.BADGE_ROUTES]
