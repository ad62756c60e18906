"""A paged list's page links (`templates/_portal_paging.html`, the catalogue's pager) as HTML `<li>`s.

What the templates wrote link by link, written here in Python, as the facet values are
(gongkai/portal/facet_options.py): in Datasette's async Jinja environment each link's
expressions were an await and an escape each, and a catalogue page at 10,000 datasets has a
pager of ~9 links where one at 50 has none. Same markup, same escaping.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape


def items(links: Iterable[Any], prev_url: str | None, next_url: str | None, previous: Any, next_: Any) -> Markup:
    """The `<li>` of the previous page's link, of each of `links` (gongkai.portal.pages.PageLink,
    None for a gap) and of the next page's; `previous` and `next_` are their labels."""
    out = []
    if prev_url:
        out.append(f'<li><a href="{escape(prev_url)}" rel="prev">{escape(previous)}</a></li>')
    for p in links:
        if p is None:
            out.append('<li aria-hidden="true">…</li>')
        elif p.current:
            out.append(f'<li><a href="{escape(p.url)}" aria-current="page">{escape(p.n)}</a></li>')
        else:
            out.append(f'<li><a href="{escape(p.url)}">{escape(p.n)}</a></li>')
    if next_url:
        out.append(f'<li><a href="{escape(next_url)}" rel="next">{escape(next_)}</a></li>')
    return Markup("".join(out))
