"""The dataset cards of a list page (catalogue, home, publisher and theme pages) as HTML.

What `templates/_portal_dataset_list.html` wrote card by card, written here in Python: in
Datasette's async Jinja environment every `{{ }}` of a card goes through an await and an
escape, ~40 of them per card, and a page's cost grew with its number of cards (a filtered
catalogue page of 20 cards took 1.7x the CPU of one with 5). Same markup, same escaping
(autoescape: every value escaped, `Markup` kept as it is).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape


def cards(datasets: Iterable[Any], heading_level: int, labels: Iterable[Any]) -> Markup:
    """`<ul class="dataset-list">` of `datasets` (gongkai.portal.pages.DatasetItem), their
    titles as `h<heading_level>`; `labels`: the words for publisher, theme, last updated,
    size and formats, in the page's language."""
    l_publisher, l_theme, l_updated, l_size, l_formats = (escape(x) for x in labels)
    h = int(heading_level)
    out = ['<ul class="dataset-list">']
    for ds in datasets:
        summary = ds.display_summary
        publisher = escape(ds.publisher_name)
        theme = escape(ds.theme_name)
        day = escape(ds.modified_day)
        out.append(
            f'\n  <li class="dataset-card">\n    <h{h} class="dataset-card-title"><a href="{escape(ds.url)}">'
            f"{escape(ds.display_title)}</a></h{h}>"
            + (f'\n    <p class="dataset-card-summary">{escape(summary)}</p>' if summary else "")
            + '\n    <dl class="dataset-card-meta">'
            f"\n      <div><dt>{l_publisher}</dt><dd>"
            + (f'<a href="{escape(ds.publisher_url)}">{publisher}</a>' if ds.publisher_url else str(publisher))
            + f"</dd></div>\n      <div><dt>{l_theme}</dt><dd>"
            + (f'<a href="{escape(ds.theme_url)}">{theme}</a>' if ds.theme_url else str(theme))
            + f'</dd></div>\n      <div><dt>{l_updated}</dt><dd><time datetime="{day}">{day}</time></dd></div>'
            f"\n      <div><dt>{l_size}</dt><dd>{escape(ds.size_text)}</dd></div>"
            f"\n      <div><dt>{l_formats}</dt><dd>"
            + "".join(f'<span class="pill">{escape(str(f).upper())}</span>' for f in ds.formats)
            + "</dd></div>\n    </dl>\n  </li>"
        )
    out.append("\n</ul>")
    return Markup("".join(out))
