"""The values of one catalogue facet (`/datasets`' filters) as HTML `<li>`s.

What `templates/portal_catalogue.html` wrote value by value, written here in Python, as the
dataset cards are (gongkai/portal/dataset_cards.py): a page at 10,000 datasets lists ~100
facet values (20 publishers, 20 keywords, ...) against ~30 at 50, and in Datasette's async
Jinja environment each value's five expressions were an await and an escape each. Same
markup, same escaping (every value escaped, `Markup` kept as it is).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape


def options(values: Iterable[Any], remove_label: Any) -> Markup:
    """The `<li>` of each `values` (gongkai.portal.pages.FacetOption): a link to the state
    with that value (or without it, when selected, `remove_label` said to screen readers)
    and its count of datasets."""
    remove = f'<span class="visually-hidden">{escape(remove_label)}: </span>'
    out = []
    for v in values:
        selected = v.selected
        out.append(
            f'\n      <li><a href="{escape(v.url)}"'
            + (' aria-current="true" class="selected">' + remove if selected else ">")
            + f'{escape(v.label)}</a>\n        <span class="count">({escape(v.count)})</span></li>'
        )
    return Markup("".join(out))
