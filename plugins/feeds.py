"""The sitemap, robots.txt and the Atom feeds (gongkai/opendata/sitemap.py and atom.py build them).

- `/robots.txt`: crawl everything but visitor SQL and Datasette's `/-/` pages; names the sitemap;
- `/sitemap.xml`: a sitemap index; `/sitemaps/pages.xml` the site's own pages, publishers and
  themes; `/sitemaps/datasets-<n>.xml` the landing pages, 5,000 a file, with `lastmod` and the
  English alternates;
- `/feeds/datasets.atom`, `/feeds/publishers/<id>.atom`, `/feeds/themes/<id>.atom`: the newest
  datasets (in English with `?_lang=en`), linked from the home, catalogue, publisher and theme
  pages by `<link rel="alternate" type="application/atom+xml">` (base.html, `feed_links`).

No SQL here: the catalogue is read through `gongkai.catalogue.feeds` on the catalogue's threads.
Every document has `Access-Control-Allow-Origin: *` (feed readers in a browser fetch them).
"""

from __future__ import annotations

from datasette import Response, hookimpl

from gongkai import catalogue, i18n
from gongkai.catalogue import feeds
from gongkai.opendata import atom, sitemap
from gongkai.opendata.urls import SiteUrls
from gongkai.portal import routes

CORS = {"Access-Control-Allow-Origin": "*"}


async def _read(datasette, fn):
    return await catalogue.of(datasette).read(lambda c: fn(c.conn))


async def _urls(datasette) -> SiteUrls:
    site = await catalogue.of(datasette).read(lambda c: c.site())
    return SiteUrls.of(datasette, site.base_url)


def _xml(body: bytes, content_type: str) -> Response:
    return Response(body, content_type=content_type, headers=CORS)


def _not_found(key: str, lang: str, **fmt) -> Response:
    body = "\n".join(i18n.t(key, lg, **fmt) for lg in ("zh", "en")) + "\n"
    return Response.text(body, status=404, headers=CORS)


async def robots_txt(datasette, request):
    return Response.text(sitemap.robots_txt(await _urls(datasette)), headers=CORS)


async def sitemap_index(datasette, request):
    total, modified = await _read(datasette, feeds.totals)
    return _xml(sitemap.index(await _urls(datasette), total, modified), sitemap.CONTENT_TYPE)


async def sitemap_pages(datasette, request):
    _, modified = await _read(datasette, feeds.totals)
    pubs, themes = await _read(datasette, feeds.registry_ids)
    return _xml(sitemap.site_pages(await _urls(datasette), modified, pubs, themes), sitemap.CONTENT_TYPE)


async def sitemap_datasets(datasette, request):
    number = int(request.url_vars["number"])
    total, _ = await _read(datasette, feeds.totals)
    if not 1 <= number <= sitemap.pages_count(total) or not total:
        return _not_found("feeds.no_such_sitemap", i18n.lang_of(request), number=number)
    stamps = await _read(datasette, lambda conn: feeds.stamps(conn, number, sitemap.PER_PAGE))
    return _xml(sitemap.datasets_page(await _urls(datasette), stamps), sitemap.CONTENT_TYPE)


async def _feed(datasette, request, feed: atom.Feed, *, publisher=None, theme=None):
    lang = i18n.lang_of(request)

    def read(conn):
        datasets = feeds.recent(conn, atom.LIMIT, publisher=publisher, theme=theme)
        names = feeds.publisher_names(conn, [d.publisher for d in datasets if d.publisher], lang)
        return datasets, names

    datasets, names = await _read(datasette, read)
    body = atom.document(feed, datasets, await _urls(datasette), lang, names)
    return _xml(body, atom.CONTENT_TYPE)


async def site_feed(datasette, request):
    lang = i18n.lang_of(request)
    urls = await _urls(datasette)
    site = i18n.t("site_name", lang)
    feed = atom.Feed("/feeds/datasets.atom", i18n.t("feeds.site_title", lang, site=site), urls.abs("/datasets"), site)
    return await _feed(datasette, request, feed)


async def publisher_feed(datasette, request):
    lang, ident = i18n.lang_of(request), request.url_vars["id"]
    found = await _read(datasette, lambda conn: feeds.publisher(conn, ident))
    if found is None:
        return _not_found("feeds.no_such_publisher", lang, id=ident)
    urls = await _urls(datasette)
    name = str(found.text("name", lang) or ident)
    feed = atom.Feed(
        f"/feeds/publishers/{ident}.atom", i18n.t("feeds.publisher_title", lang, name=name), urls.publisher(ident), name
    )
    return await _feed(datasette, request, feed, publisher=ident)


async def theme_feed(datasette, request):
    lang, ident = i18n.lang_of(request), request.url_vars["id"]
    found = await _read(datasette, lambda conn: feeds.theme(conn, ident))
    if found is None:
        return _not_found("feeds.no_such_theme", lang, id=ident)
    urls = await _urls(datasette)
    name = str(found.text("name", lang) or ident)
    feed = atom.Feed(
        f"/feeds/themes/{ident}.atom",
        i18n.t("feeds.theme_title", lang, name=name),
        urls.theme(ident),
        i18n.t("site_name", lang),
    )
    return await _feed(datasette, request, feed, theme=ident)


VIEWS = {
    "robots_txt": robots_txt,
    "sitemap_index": sitemap_index,
    "sitemap_pages": sitemap_pages,
    "sitemap_datasets": sitemap_datasets,
    "site_feed": site_feed,
    "publisher_feed": publisher_feed,
    "theme_feed": theme_feed,
}


@hookimpl
def register_routes():
    # The table lives in gongkai.portal.routes, which reserves the names it uses.
    return [(pattern, VIEWS[view]) for pattern, view in routes.FEED_ROUTES]


# Which pages link which feeds: (template, the feed's path or None, the link title's key).
def feed_links(template: str, url_vars: dict, lang: str, path) -> list[tuple[str, str]]:
    site = (path(i18n.lang_url("/feeds/datasets.atom", lang)), i18n.t("feeds.link_site", lang))
    if template in ("portal_home.html", "portal_catalogue.html"):
        return [site]
    if template == "portal_publisher.html" and url_vars.get("id"):
        own = f"/feeds/publishers/{url_vars['id']}.atom"
        return [(path(i18n.lang_url(own, lang)), i18n.t("feeds.link_publisher", lang)), site]
    if template == "portal_theme.html" and url_vars.get("id"):
        own = f"/feeds/themes/{url_vars['id']}.atom"
        return [(path(i18n.lang_url(own, lang)), i18n.t("feeds.link_theme", lang)), site]
    return []


@hookimpl
def extra_template_vars(template, request, datasette):
    if request is None:
        return {}
    links = feed_links(template, request.url_vars or {}, i18n.lang_of(request), datasette.urls.path)
    return {"feed_links": links} if links else {}
