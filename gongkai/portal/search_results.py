"""The site-wide search page's result groups (`/-/search`) as HTML.

What `templates/gongkai_search.html` wrote row by row, written here in Python, as
`dataset_cards.py` does for the list pages: in Datasette's async Jinja environment every
`{{ }}` and loop step goes through an await and an escape, and a page of ten datasets' best
rows took about half of an uncached search page's CPU in its template. Same markup, same
escaping (every value escaped; the highlights, which the search made as HTML with every
value escaped and only its `<mark>` added, kept as they are).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape


def groups(
    found: Iterable[Mapping[str, Any]],
    lang: str,
    t: Callable[..., str],
    table_of: Callable[[str, str], Mapping[str, Any]],
    columns_of: Callable[[str, str], Mapping[str, Mapping[str, Any]]],
) -> Markup:
    """Each dataset's heading, its tables and their best rows. `found`: the page's groups
    (plugins/search.py `_group`); `t`, `table_of`, `columns_of`: the page's words and the
    catalogue's table and column titles in its language (plugins/site_context.py's `t`,
    `gk_table`, `gk_columns`)."""
    matched, in_table, see_all = (
        escape(t("search_rows_matched")),
        escape(t("search_in_table")),
        escape(t("search_see_all")),
    )
    out: list[str] = []
    for g in found:
        dataset = g["dataset"]
        title = (g.get("title_en") if lang == "en" and g.get("title_en") else g.get("title")) or dataset
        out.append(
            f'\n  <h3><a href="{escape(g["url"])}">{escape(title)}</a>'
            f'\n    <span class="count">· {g["count"]:,} {matched}</span></h3>'
        )
        for tbl in g["tables"]:
            table = tbl["table"]
            shown = table_of(dataset, table).get("title") or table
            out.append(
                f"\n  <p>{in_table} <strong>{escape(shown)}</strong> · {tbl['count']:,} {matched} · "
                f'<a href="{escape(tbl["url"])}">{see_all}</a></p>\n  <ul class="results">'
            )
            cols = columns_of(dataset, table)
            for r in tbl["rows"]:
                hits = " · ".join(
                    f"<span>{_column(cols, col)}: {Markup(html)}</span>" for col, html in r["highlights"].items()
                )
                line = f'\n    <li><a href="{escape(r["url"])}">{hits}</a>'
                labels = r.get("labels")
                if labels:
                    line += (
                        ' <small class="hit-labels">'
                        + " · ".join(f"{_column(cols, col)}: {escape(text)}" for col, text in labels.items())
                        + "</small>"
                    )
                out.append(line + "</li>")
            out.append("\n  </ul>")
    return Markup("".join(out))


def _column(cols: Mapping[str, Mapping[str, Any]], col: str) -> Markup:
    """A column's title in the page's language, else its name."""
    entry = cols.get(col)
    return escape((entry.get("title") if entry else None) or col)
