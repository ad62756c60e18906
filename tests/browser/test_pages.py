"""Every page type, in Chinese and English: axe-core (WCAG 2.1 A/AA) finds nothing, the page
does not scroll sideways on a 375 px phone, `<html lang>` and the hreflang alternates are right,
and English pages keep `_lang=en` in every link to another page of the site."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from .a11y import describe, run_axe
from .layout import overflowing
from .pages import CASE_IDS, CASES, HTML_LANG, STATUS

PHONE_WIDTH = 375


@pytest.mark.parametrize("page_id,path,lang", CASES, ids=CASE_IDS)
def test_axe_finds_no_violations(visit, page_id, path, lang):
    visit.goto(path, lang, status=STATUS.get(page_id, 200))
    violations = run_axe(visit.page)
    assert not violations, f"{path} ({lang}): axe violations\n" + describe(violations)


@pytest.mark.parametrize("page_id,path,lang", CASES, ids=CASE_IDS)
def test_no_horizontal_scroll_on_a_phone(phone, page_id, path, lang):
    phone.goto(path, lang, status=STATUS.get(page_id, 200))
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, (
        f"{path} ({lang}): page is {width}px wide at {PHONE_WIDTH}px; sticking out: {overflowing(phone.page)}"
    )


# Links that are data rather than pages need not carry the language.
DATA_SUFFIXES = (".csv", ".json", ".db", ".tsv", ".xlsx", ".zip", ".md", ".xml", ".rss", ".atom")


def page_links(page) -> list[tuple[str, str]]:
    """(href as written, absolute URL) of every link on the page."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('a[href]'), a => [a.getAttribute('href'), a.href])"
    )


def same_page(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return pa.path == pb.path and parse_qs(pa.query) == parse_qs(pb.query)


def site_page_links(visit) -> list[tuple[str, str]]:
    """Links to pages of this site (not anchors, not data files, not other hosts)."""
    origin = urlsplit(visit.base_url).netloc
    found = []
    for raw, absolute in page_links(visit.page):
        parts = urlsplit(absolute)
        if parts.netloc != origin or parts.scheme not in ("http", "https") or raw.startswith("#"):
            continue
        if parts.path.endswith(DATA_SUFFIXES) or parts.path.startswith(("/downloads/", "/static/", "/-/static")):
            continue
        found.append((raw, absolute))
    return found


def alternate(page, lang: str) -> str | None:
    for link in page.locator('link[rel="alternate"][hreflang]').all():
        if (link.get_attribute("hreflang") or "").startswith(lang):
            return page.evaluate("href => new URL(href, document.baseURI).href", link.get_attribute("href"))
    return None


@pytest.mark.parametrize("page_id,path,lang", CASES, ids=CASE_IDS)
def test_html_lang_alternates_and_links_keep_the_language(visit, page_id, path, lang):
    """`<html lang>` is the page's language; the two hreflang alternates are this page in each
    language; every link to another page of the site stays in the page's language (English
    links carry `_lang=en`, Chinese ones do not), the language switch excepted."""
    visit.goto(path, lang, status=STATUS.get(page_id, 200))
    page = visit.page
    assert page.get_attribute("html", "lang") == HTML_LANG[lang]
    zh, en = alternate(page, "zh"), alternate(page, "en")
    assert zh and en, f"hreflang alternates missing on {path}"
    assert "_lang=en" not in zh and "_lang=en" in en, (zh, en)
    here = urlsplit(visit.url(path, lang))
    for href in (zh, en):
        there = urlsplit(href)
        assert there.path == here.path, (href, path)
        args = {k: v for k, v in parse_qs(there.query).items() if k != "_lang"}
        assert args == {k: v for k, v in parse_qs(here.query).items() if k != "_lang"}, (href, path)
    switch = zh if lang == "en" else en
    wrong = sorted(
        {
            raw
            for raw, absolute in site_page_links(visit)
            if (parse_qs(urlsplit(absolute).query).get("_lang") == ["en"]) != (lang == "en")
            and not same_page(absolute, switch)
        }
    )
    assert not wrong, f"{path} ({lang}): links that leave the page's language: {wrong[:20]}"
