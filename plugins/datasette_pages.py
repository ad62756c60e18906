"""Helpers for our overrides of Datasette's table, row, database and query templates.

- `gk_rows(display_rows, lang)`: the `<tr>` rows of a data table as one piece of HTML. Jinja in
  Datasette's async mode pays an `auto_await` and an async-iterator step for every cell and
  every `{{ }}`; a 100-row page has ~1,000 cells. Built in Python, the table body costs a
  fraction (measured with the bench in the CHANGELOG). On English pages the site-internal
  links Datasette put in cells (row links, foreign-key labels) get `_lang=en`.
- `gk_summary(markdown)`: a description's first paragraph as plain text.
- `gk_link(url, text)`, `gk_mail_link(email)`: a publisher-supplied URL as a link only for
  http/https/mailto, else plain text (gongkai/portal/links.py).
- `gk_describe(...)`: the human description of a table page's filters, search and sort in the
  page's language. Datasette builds it in English in Python (`human_description_en`, from
  `datasette/filters.py`); we rebuild it from the same parts: the filter selections, `_search`
  and `_sort`/`_sort_desc`.
- `get_metadata`: each database's and table's metadata (titles, descriptions, column
  descriptions, licence, source, label column), from the catalogue for the one database asked
  about (gongkai/datasette_files.py says why it is not in metadata.json).
"""

from __future__ import annotations

import copy
import functools
import re
from collections import OrderedDict
from html import unescape
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from markupsafe import Markup, escape

from gongkai import catalogue, i18n
from gongkai.datasette_files import database_metadata
from gongkai.portal import dataset_cards, facet_options, links, page_links

_INTERNAL_HREF = re.compile(r'href="(/[^"#]*)"')


def _english_links(html: str) -> str:
    return _INTERNAL_HREF.sub(lambda m: f'href="{escape(i18n.lang_url(unescape(m.group(1)), "en"))}"', html)


def rows_html(display_rows, lang: str = "zh") -> Markup:
    english = lang == "en"
    out: list[str] = []
    append = out.append
    for row in display_rows:
        append("<tr>")
        for cell in row:
            value = cell["value"]
            kind = cell["value_type"]
            if type(value) is Markup:
                html = str(value)
                if english and 'href="/' in html:
                    html = _english_links(html)
            else:
                html = str(escape(value))
            if kind == "pk":
                append(f'<th scope="row" class="type-pk">{html}</th>')
            else:
                append(f'<td class="type-{kind}">{html}</td>')
        append("</tr>\n")
    return Markup("".join(out))


def header_html(display_columns, request, sort, sort_desc, titles: dict | None, lang: str, base_path: str) -> Markup:
    """The `<th>`s of a data table: each column's title in `lang`, its description as a tooltip,
    a link that sorts by it (the request's other arguments kept, `_next` dropped) and
    `aria-sort` on the sorted one. The query string is parsed once, not once per column."""
    titles = titles or {}
    kept = [(k, v) for k, v in parse_qsl(request.query_string) if k not in ("_sort", "_sort_desc", "_next")]
    out = []
    for column in display_columns:
        name = column["name"]
        meta = titles.get(name) or {}
        label = meta.get("title") or (i18n.t("row", lang) if name == "Link" else name)
        attrs = ' scope="col"'
        if name == sort:
            attrs += ' aria-sort="ascending"'
        elif name == sort_desc:
            attrs += ' aria-sort="descending"'
        if meta.get("description"):
            attrs += f' title="{escape(meta["description"])}"'
        text = escape(label)
        if not column["sortable"]:
            out.append(f"<th{attrs}>{text}</th>")
            continue
        if name == sort:
            arg, action, arrow = "_sort_desc", "sort_desc_link", '&nbsp;<span aria-hidden="true">▼</span>'
        else:
            arg, action = "_sort", "sort_asc_link"
            arrow = '&nbsp;<span aria-hidden="true">▲</span>' if name == sort_desc else ""
        href = escape(base_path + "?" + urlencode([*kept, (arg, name)]))
        aria = escape(i18n.t(action, lang, column=label))
        out.append(f'<th{attrs}><a href="{href}" rel="nofollow" aria-label="{aria}">{text}{arrow}</a></th>')
    return Markup("".join(out))


def cell_html(value, lang: str = "zh") -> Markup:
    """One cell's display value as HTML, its internal links in the page's language."""
    if type(value) is Markup:
        html = str(value)
        return Markup(_english_links(html)) if lang == "en" and 'href="/' in html else value
    return escape(value)


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"(\*\*|__|`)")


def summary(text) -> str:
    """The first paragraph of a Markdown description as plain text (links keep their words).
    Datasette's pages show this; the dataset's landing page shows the whole, rendered."""
    if not text:
        return ""
    first = str(text).strip().split("\n\n", 1)[0]
    first = _MD_LINK.sub(r"\1", first)
    first = _MD_MARKS.sub("", first)
    return " ".join(first.split())


def options_html(pairs, selected=None) -> Markup:
    """`<option>`s for (value, label) pairs; `selected` matches a value (ignoring a `__1`
    suffix: Datasette marks lookups that take no argument that way). Built here rather than
    in a Jinja loop: the filter form repeats the column and operator menus per filter."""
    out = []
    for value, label in pairs:
        base = value[:-3] if value.endswith("__1") else value
        mark = " selected" if selected is not None and base == selected else ""
        out.append(f'<option value="{escape(value)}"{mark}>{escape(label)}</option>')
    return Markup("".join(out))


_OPS: dict[str, list] = {}


def operators(lang: str) -> list[tuple[str, str]]:
    """Datasette's filter lookups as (form value, label in `lang`), computed once per language."""
    found = _OPS.get(lang)
    if found is None:
        from datasette.filters import Filters

        found = _OPS[lang] = [
            (key + ("__1" if no_argument else ""), i18n.t(f"op_{key}", lang))
            for key, _, no_argument in Filters([]).lookups()
        ]
    return found


def column_choices(columns, titles: dict | None) -> list[tuple[str, str]]:
    """(column, its title in the page's language or its name) for a column menu."""
    titles = titles or {}
    return [(c, (titles.get(c) or {}).get("title") or c) for c in columns]


def sort_choices(display_columns, titles: dict | None, lang: str) -> list[tuple[str, str]]:
    """("column", "Sort by <title>") for each sortable column."""
    titles = titles or {}
    return [
        (c["name"], i18n.t("sort_by", lang, column=(titles.get(c["name"]) or {}).get("title") or c["name"]))
        for c in display_columns
        if c["sortable"]
    ]


def _quote_value(value: str) -> str:
    return value if value.isdigit() else f"“{value}”"


def describe(filters, request, lang: str, titles: dict | None = None, search: str | None = None) -> str:
    """`where 金额 > 5 and 地区 = “北京”, sorted by 日期 descending` in `lang`."""
    titles = titles or {}

    def name(column):
        meta = titles.get(column)
        return (meta or {}).get("title") or column

    bits = []
    if search:
        bits.append(i18n.t("desc_search", lang, v=search))
    for column, lookup, value in filters.selections():
        key = f"desc_{lookup}"
        if key not in i18n.STRINGS:
            continue
        if lookup in ("in", "notin"):
            shown = value
        else:
            shown = _quote_value(str(value))
        bits.append(i18n.t(key, lang, c=name(column), v=shown))
    text = ""
    if bits:
        joiner = "，" if lang == "zh" else ", "
        head, tail = bits[:-1], bits[-1]
        text = (joiner.join(head) + f" {i18n.t('and', lang)} " + tail) if head else tail
        text = f"{i18n.t('where', lang)}{'' if lang == 'zh' else ' '}{text}"
    args = request.args
    sort, sort_desc = args.get("_sort"), args.get("_sort_desc")
    if sort or sort_desc:
        sorted_by = i18n.t("sorted_by_desc" if sort_desc else "sorted_by", lang, column=name(sort_desc or sort))
        text = f"{text}{'；' if lang == 'zh' else ', '}{sorted_by}" if text else sorted_by
    return text


def cache_request_args() -> None:
    """`Request.args` parses the query string on every access, and a table page reads it ~35
    times (Datasette's view, the filter hooks, the templates). The query string of a request
    never changes, so the first parse can serve the rest of the request."""
    from datasette.utils.asgi import Request

    if isinstance(Request.__dict__.get("args"), functools.cached_property):
        return
    cached = functools.cached_property(Request.args.fget)
    cached.__set_name__(Request, "args")
    Request.args = cached


cache_request_args()


@hookimpl
def prepare_jinja2_environment(env):
    env.globals["gk_rows"] = rows_html
    env.globals["gk_header"] = header_html
    env.globals["gk_describe"] = describe
    env.globals["gk_cell"] = cell_html
    env.globals["gk_summary"] = summary
    env.globals["gk_options"] = options_html
    env.globals["gk_operators"] = operators
    env.globals["gk_column_choices"] = column_choices
    env.globals["gk_sort_choices"] = sort_choices
    env.globals["gk_dataset_cards"] = dataset_cards.cards  # the portal's list pages
    env.globals["gk_facet_options"] = facet_options.options  # the catalogue's filters
    env.globals["gk_page_links"] = page_links.items  # the pagers of paged lists
    # Every publisher-supplied URL the site renders goes through these (gongkai/portal/links.py).
    env.globals["gk_link"] = links.link
    env.globals["gk_mail_link"] = links.mail_link
    env.filters["safe_url"] = links.safe_url


# Metadata keys that are never per database on this site: answered without a catalogue read.
# (visitor_limits asks every database for its canned "queries" once at start.)
_SITE_ONLY_KEYS = frozenset({"queries", "plugins", "allow_sql"})
METADATA_CACHED = 512  # databases whose metadata a worker keeps (built from cached titles)
_METADATA = "_gongkai_database_metadata"


def _database_metadata(datasette, name: str) -> dict | None:
    cache: OrderedDict | None = getattr(datasette, _METADATA, None)
    if cache is None:
        cache = OrderedDict()
        setattr(datasette, _METADATA, cache)
    if name in cache:
        cache.move_to_end(name)
        return cache[name]
    try:
        found = catalogue.of(datasette).titles(name)
    except catalogue.CatalogueMissing:
        found = None
    meta = database_metadata(found.dataset, list(found.tables.values()), found.fields, found.licence) if found else None
    cache[name] = meta
    while len(cache) > METADATA_CACHED:
        cache.popitem(last=False)
    return meta


@hookimpl
def get_metadata(datasette, key, database, table):
    if database is None or key in _SITE_ONLY_KEYS or database.startswith("_"):
        return None
    meta = _database_metadata(datasette, database)
    if meta is None:
        return None
    # Datasette merges metadata.json over this in place: where that file also describes this
    # database (tests, hand-made sites), merge into a copy so the cached entry stays as built.
    local = getattr(datasette, "_metadata_local", None) or {}
    if database in (local.get("databases") or {}):
        meta = copy.deepcopy(meta)
    return {"databases": {database: meta}}
