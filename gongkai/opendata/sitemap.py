"""The sitemap (sitemaps.org 0.9): an index at `/sitemap.xml` and its pages.

A sitemap file may list at most 50,000 URLs, so `/sitemap.xml` is always an index: one page of
the site's own pages (home, catalogue, publishers, themes, about…), then pages of `PER_PAGE`
datasets in name order (`/sitemaps/datasets-<n>.xml`), so the index grows by one line per
`PER_PAGE` datasets and no file grows with the catalogue. Each dataset's landing page is listed
with its `lastmod` and its English version as an `hreflang` alternate (Google's sitemap
extension), so search engines index both languages.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

from .. import i18n
from ..catalogue.feeds import Stamp
from ..portal import routes
from .atom import rfc3339
from .urls import SiteUrls

NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML = "http://www.w3.org/1999/xhtml"
PER_PAGE = 5000  # two URLs each (zh + en alternates): well under the 50,000 a file may hold
CONTENT_TYPE = "application/xml; charset=utf-8"
# The site's own pages besides the datasets and registries: those of gongkai/portal/routes.py
# that take no argument (index pages such as /publishers are listed once they are routes).
_CANDIDATES = ("/", "/datasets", "/publishers", "/themes", "/schemas", *(f"/{p}" for p in routes.STATIC_PAGES))
SITE_PAGES = tuple(p for p in _CANDIDATES if any(re.match(pattern, p) for pattern, _ in routes.PORTAL_ROUTES))

ET.register_namespace("", NS)
ET.register_namespace("xhtml", XHTML)

_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


def pages_count(total: int, per_page: int | None = None) -> int:
    return max(1, math.ceil(total / (per_page or PER_PAGE)))


def index(urls: SiteUrls, total: int, modified: str | None, per_page: int | None = None) -> bytes:
    root = ET.Element(f"{{{NS}}}sitemapindex")
    locations = ["/sitemaps/pages.xml"] + [
        f"/sitemaps/datasets-{n}.xml" for n in range(1, pages_count(total, per_page) + 1) if total
    ]
    for path in locations:
        s = ET.SubElement(root, f"{{{NS}}}sitemap")
        ET.SubElement(s, f"{{{NS}}}loc").text = urls.abs(path)
        if modified:
            ET.SubElement(s, f"{{{NS}}}lastmod").text = rfc3339(modified)
    return _DECLARATION + ET.tostring(root, encoding="utf-8")


def _url(root: ET.Element, loc: str, lastmod: str | None) -> None:
    u = ET.SubElement(root, f"{{{NS}}}url")
    ET.SubElement(u, f"{{{NS}}}loc").text = loc
    if lastmod:
        ET.SubElement(u, f"{{{NS}}}lastmod").text = rfc3339(lastmod)
    for lang in i18n.LANGS:
        ET.SubElement(
            u,
            f"{{{XHTML}}}link",
            {"rel": "alternate", "hreflang": i18n.html_lang(lang), "href": i18n.lang_url(loc, lang)},
        )


def urlset(entries: list[tuple[str, str | None]]) -> bytes:
    """(absolute URL, lastmod) pairs, each with its language alternates."""
    root = ET.Element(f"{{{NS}}}urlset")
    for loc, lastmod in entries:
        _url(root, loc, lastmod)
    return _DECLARATION + ET.tostring(root, encoding="utf-8")


def site_pages(urls: SiteUrls, modified: str | None, publishers: list[str], themes: list[str]) -> bytes:
    entries: list[tuple[str, str | None]] = [(urls.abs(p), modified) for p in SITE_PAGES]
    entries += [(urls.publisher(p), None) for p in publishers]
    entries += [(urls.theme(t), None) for t in themes]
    return urlset(entries)


def datasets_page(urls: SiteUrls, stamps: list[Stamp]) -> bytes:
    return urlset([(urls.landing(s.name), s.modified) for s in stamps])


def robots_txt(urls: SiteUrls) -> str:
    """Crawlers may read every page; visitor SQL and the bulk downloads are not pages to index
    (each `?sql=` is a new URL that costs a query). The sitemap is named by its absolute URL."""
    return "\n".join(
        [
            "User-agent: *",
            "Allow: /",
            "Disallow: /*?sql=",
            "Disallow: /*&sql=",
            "Disallow: /-/",
            f"Sitemap: {urls.abs('/sitemap.xml')}",
            "",
        ]
    )
