"""The pager: which page numbers it shows (gongkai.portal.pages.page_numbers) and its markup
(gongkai.portal.page_links), written in Python where the templates wrote it link by link."""

from __future__ import annotations

from markupsafe import Markup

from gongkai.portal.page_links import items
from gongkai.portal.pages import PageLink, page_numbers


def _by_definition(current: int, last: int) -> list:
    """1 … (current ± 2) … last, walking every page: what page_numbers must equal."""
    out: list = []
    if last <= 1:
        return out
    for n in range(1, last + 1):
        if n in (1, last) or abs(n - current) <= 2:
            out.append((n, n == current))
        elif out and out[-1] is not None:
            out.append(None)
    return out


def test_page_numbers_are_the_window_around_the_current_page():
    for last in range(0, 40):
        for current in range(-3, last + 6):  # out-of-range pages too (a hand-edited ?page=)
            got = [(p.n, p.current) if p else None for p in page_numbers(current, last, str)]
            assert got == _by_definition(current, last), (current, last)


def test_page_numbers_visit_only_the_links_shown():
    asked: list[int] = []
    links = page_numbers(250, 500, lambda n: asked.append(n) or f"/datasets?page={n}")
    assert asked == [1, 248, 249, 250, 251, 252, 500]
    assert [p.n if p else None for p in links] == [1, None, 248, 249, 250, 251, 252, None, 500]


def test_page_links_markup_and_escaping():
    links = [PageLink(1, "/d?a=1&page=1", False), None, PageLink(3, "/d?page=3", True)]
    html = items(links, "/d?a=<x>&page=2", None, "上一页 <prev>", "下一页")
    assert isinstance(html, Markup)
    assert html == (
        '<li><a href="/d?a=&lt;x&gt;&amp;page=2" rel="prev">上一页 &lt;prev&gt;</a></li>'
        '<li><a href="/d?a=1&amp;page=1">1</a></li>'
        '<li aria-hidden="true">…</li>'
        '<li><a href="/d?page=3" aria-current="page">3</a></li>'
    )
    assert items([], None, "/d?page=2", "p", Markup("<b>next</b>")).endswith('rel="next"><b>next</b></a></li>')
