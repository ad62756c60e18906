"""Atom feeds (RFC 4287) of new and changed datasets: the site's, a publisher's, a theme's.

A feed lists the newest `LIMIT` datasets by their last change, in one language (`xml:lang`):
the Chinese feed at `/feeds/….atom`, the English one at `/feeds/….atom?_lang=en`, each a URL of
its own so caches and feed readers keep them apart. What RFC 4287 requires, and this writes:
the feed's `id`, `title`, `updated`, an `author` (the site, for the feed; the publisher, for
each entry) and a `self` link; each entry's `id` (the dataset's IRI, stable across builds and
languages), `title`, `updated` and an `alternate` link to its landing page, with a `summary`
since there is no `content`. Dates are RFC 3339.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from .. import i18n
from ..catalogue.records import DatasetRecord
from .urls import SiteUrls

NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LIMIT = 50
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
# When the catalogue knows no date at all (a build always writes one; an empty catalogue not).
EPOCH = "1970-01-01T00:00:00Z"

ET.register_namespace("", NS)


@dataclass(frozen=True)
class Feed:
    """What one feed is about: its path (`/feeds/datasets.atom`…), title and landing page."""

    path: str
    title: str
    page: str  # absolute URL of the HTML page it follows
    author: str


def rfc3339(value: str | None) -> str:
    """A catalogue timestamp (ISO 8601, a date alone allowed) as an RFC 3339 date-time in UTC."""
    if not value:
        return EPOCH
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return EPOCH
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    e = ET.SubElement(parent, f"{{{NS}}}{tag}", attrs)
    if text is not None:
        e.text = text
    return e


def document(
    feed: Feed, datasets: list[DatasetRecord], urls: SiteUrls, lang: str, publisher_names: dict[str, str]
) -> bytes:
    """The feed as UTF-8 XML. `publisher_names` maps publisher ids to their name in `lang`."""
    root = ET.Element(f"{{{NS}}}feed", {XML_LANG: i18n.html_lang(lang)})
    _el(root, "id", urls.abs(feed.path))  # a feed's id: its Chinese (canonical) URL
    _el(root, "title", feed.title)
    updated = max((rfc3339(d.modified) for d in datasets), default=EPOCH)
    _el(root, "updated", updated)
    author = _el(root, "author")
    _el(author, "name", feed.author)
    _el(root, "link", rel="self", type="application/atom+xml", href=i18n.lang_url(urls.abs(feed.path), lang))
    _el(root, "link", rel="alternate", type="text/html", href=i18n.lang_url(feed.page, lang))
    _el(root, "generator", "Gongkai 公开")
    for d in datasets:
        entry = _el(root, "entry")
        _el(entry, "id", urls.dataset_iri(d.name))
        _el(entry, "title", str(d.text("title", lang) or d.name))
        _el(entry, "updated", rfc3339(d.modified))
        if d.issued or d.created:
            _el(entry, "published", rfc3339(d.issued or d.created))
        if d.publisher:
            who = _el(entry, "author")
            _el(who, "name", publisher_names.get(d.publisher) or d.publisher)
            _el(who, "uri", urls.publisher(d.publisher))
        _el(entry, "link", rel="alternate", type="text/html", href=i18n.lang_url(urls.landing(d.name), lang))
        summary = d.text("summary", lang)
        if summary:
            _el(entry, "summary", str(summary), type="text")
        if d.theme:
            _el(entry, "category", term=d.theme, scheme=urls.theme_scheme())
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)
