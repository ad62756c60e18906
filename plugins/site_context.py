"""The site context every template gets: the page's language and the tools to speak it
(gongkai/i18n.py), the catalogue's titles and licences, the site's links and stylesheet.

Template variables (from `extra_template_vars`, so Datasette's own pages and the site's routes
that render through `datasette.render_template` get the same):

- `lang` ("zh" | "en"), `html_lang` ("zh-CN" | "en"), `other_lang`;
- `t(key, **fmt)`: a string of gongkai/locales/*.yaml in this language;
- `lang_url(url)`: `url` in this language (adds or removes `_lang=en`), for every link rendered;
- `alternates` {"zh": url, "en": url}: this page in each language; `switch_url`: the other one;
- `localized(value)`: a `{zh, en}` value in this language; `localized_field(row, "title")`:
  a catalogue row's `title_en`/`title_zh` translation or its original;
- `gk_dataset(name)`, `gk_table(database, table)`: the dataset's and table's title and
  description in this language, and `gk_columns(database, table)`: {column: {title,
  description, unit}}, and the dataset's licence title in this language
  (`gk_dataset(name).licence_title`): read from catalog.db per dataset when a page first asks,
  and kept for the most recent few hundred (`CatalogueStore.titles`), so a worker's memory and
  startup do not grow with the number of datasets;
- `gk_links`: {home, datasets, publishers, themes, search, api, about, licence, privacy} URLs in this language;
  `gk_css_url`: the site's stylesheet; `gk_css_inline`: its text (for error pages);
- `gk_site`: the site's metadata (`gongkai.catalogue.records.SiteInfo` as a dict), else {}.

No cookie is ever read or set: the language is only in the URL (see gongkai/i18n.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from datasette import hookimpl
from markupsafe import Markup

from gongkai import catalogue, i18n
from gongkai.portal import inline_css

STATE = "_gongkai_site_context"
_EMPTY: dict = {}

# The site's own pages, linked from the header and footer (plugins/portal.py serves them).
LINKS = {
    "home": "/",
    "datasets": "/datasets",
    "publishers": "/publishers",
    "themes": "/themes",
    "search": "/-/search",
    "api": "/api",
    "about": "/about",
    "licence": "/licence",
    "privacy": "/privacy",
}
CSS = "gongkai.css"


def css_text(datasette) -> Markup:
    """The stylesheet itself, for pages that must not depend on another request (errors).
    plugins/security_headers.py allows exactly this text by its hash (gongkai.portal.inline_css)."""
    return Markup(inline_css.css_text(datasette.static_mounts))


def css_url(datasette) -> str:
    """/static/gongkai.css?<hash of the file>: browsers may cache it for as long as it is unchanged."""
    for mount, folder in datasette.static_mounts:
        path = Path(folder) / CSS
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            return datasette.urls.path(f"/{mount}/{CSS}") + f"?{digest}"
    return datasette.urls.path(f"/static/{CSS}")


def _no_titles(name: str) -> None:
    return None


async def catalog_info(datasette) -> dict:
    state: dict | None = getattr(datasette, STATE, None)
    if state is None:
        try:
            store = catalogue.of(datasette)
            state = {"site": dataclasses.asdict(await store.read(lambda c: c.site())), "titles": store.titles}
        except catalogue.CatalogueMissing:  # a release without a catalogue only loses the translations
            state = {"site": {}, "titles": _no_titles}
        state["css_url"] = css_url(datasette)
        state["css_text"] = css_text(datasette)
        state["links"] = {k: datasette.urls.path(v) for k, v in LINKS.items()}
        setattr(datasette, STATE, state)
    return state


def _text(row, key, lang):
    return row.text(key, lang) if row else None


def template_vars(request, lang: str, info: dict) -> dict:
    """The language toolbox for one page (pure: `info` is the catalogue read at startup)."""
    alternates = i18n.alternates(request) if request is not None else {lg: i18n.lang_url("/", lg) for lg in i18n.LANGS}
    other = i18n.other_lang(lang)

    def t(key, **fmt):
        return i18n.t(key, lang, **fmt)

    def lang_url(url):
        return i18n.lang_url(url, lang) if lang != i18n.DEFAULT_LANG else url

    titles = info.get("titles", _no_titles)

    def gk_dataset(name):
        found = titles(name) if name else None
        if not found:
            return {"name": name, "title": None, "description": None, "licence_title": None}
        row = found.dataset
        return {
            "name": name,
            "title": _text(row, "title", lang),
            "description": _text(row, "description", lang),
            "licence_title": _text(found.licence, "title", lang),
        }

    def gk_table(database, table):
        found = titles(database) if database else None
        row = found.tables.get(table) if found else None
        if not row:
            return {"name": table, "title": None, "description": None}
        return {"name": table, "title": _text(row, "title", lang), "description": _text(row, "description", lang)}

    def gk_columns(database, table):
        dataset = titles(database) if database else None
        found = dataset.columns.get(table) if dataset else None
        if not found:
            return _EMPTY
        return {
            name: {"title": _text(r, "title", lang), "description": _text(r, "description", lang), "unit": r.unit}
            for name, r in found.items()
        }

    return {
        "lang": lang,
        "html_lang": i18n.html_lang(lang),
        "other_lang": other,
        "other_html_lang": i18n.html_lang(other),
        "t": t,
        "lang_url": lang_url,
        "lang_input": Markup(i18n.hidden_input(lang)),
        "alternates": alternates,
        "switch_url": alternates[other],
        "localized": lambda value: i18n.localized(value, lang),
        "localized_field": lambda row, key: i18n.localized_field(row, key, lang),
        "gk_dataset": gk_dataset,
        "gk_table": gk_table,
        "gk_columns": gk_columns,
        "gk_site": info["site"],
        "gk_css_url": info.get("css_url", "/static/gongkai.css"),
        "gk_css_inline": info.get("css_text", ""),
        "gk_links": {k: lang_url(v) for k, v in info.get("links", LINKS).items()},
    }


@hookimpl
def extra_template_vars(request, datasette):
    state = getattr(datasette, STATE, None)
    if state is not None:
        return template_vars(request, i18n.lang_of(request), state)

    async def inner():
        return template_vars(request, i18n.lang_of(request), await catalog_info(datasette))

    return inner


@hookimpl
def startup(datasette):
    async def inner():
        await catalog_info(datasette)

    return inner
