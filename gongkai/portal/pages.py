"""The portal's pages as typed contexts: what each template renders, built from catalogue records.

Each `*_page` function is pure: catalogue records (from `gongkai.catalogue.reader`), the page's
language, a `Links` for URLs and, where a page shows them, values the plugin read elsewhere
(a preview's rows, today's date, the site's base URL). The plugin (`plugins/portal.py`) only
routes, reads and renders; `tests/test_pages.py` renders every page type from its context.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

from markupsafe import Markup

from .. import i18n
from ..catalogue import listing
from ..catalogue.reader import Counted, DatasetBundle, LicenceUse, PublisherBundle, Registries, ThemeBundle
from ..catalogue.records import ChartRecord, DatasetRecord, FieldRecord, Publisher, SiteInfo
from ..openness import is_withheld
from . import api_examples, badge, charts, dictionary, quality
from .preview import Preview, cell_text


@functools.lru_cache(maxsize=8192)
def _pair(key: str, value: str) -> str:
    return f"{quote_plus(key)}={quote_plus(value)}"


def query_string(pairs) -> str:
    """`urlencode(pairs)`, each key=value encoded once per worker: a catalogue page links ~150
    states that share their parameters (its facets' values, its pages), and urlencode was a
    sixth of the page's time at 10,000 datasets."""
    return "&".join(_pair(str(k), str(v)) for k, v in pairs)


@dataclass(frozen=True)
class Links:
    """The site's URLs in one language: `page()` carries the language, `file()` never does
    (downloads and machine-readable documents are the same in both languages)."""

    lang: str
    prefix: Callable[[str], str] = lambda path: path  # Datasette's urls.path (base_url aware)

    def file(self, path: str) -> str:
        return self.prefix(path)

    def page(self, path: str, params: Any = None) -> str:
        url = self.prefix(path)
        if self.lang != i18n.DEFAULT_LANG and "?" not in url and "#" not in url:
            # What lang_url gives, without parsing back the query just written: a catalogue
            # page has ~100 of these links (its facets' values).
            pairs = params.items() if isinstance(params, dict) else (params or ())
            args = [(k, v) for k, v in pairs if k != i18n.PARAM]
            return f"{url}?{query_string([*args, (i18n.PARAM, self.lang)])}"
        if params:
            url += "?" + query_string(params.items() if isinstance(params, dict) else params)
        return i18n.lang_url(url, self.lang) if self.lang != i18n.DEFAULT_LANG else url

    def dataset(self, name: str) -> str:
        return self.page(f"/datasets/{name}")

    def publisher(self, ident: str) -> str:
        return self.page(f"/publishers/{ident}")

    def theme(self, ident: str) -> str:
        return self.page(f"/themes/{ident}")


def as_template_vars(ctx: Any) -> dict[str, Any]:
    """A context's fields as template variables (shallow: nested records stay objects)."""
    return {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx)}


# ---------------------------------------------------------------------------------------------
# Dataset lists (home, catalogue, publisher, theme)


@dataclass
class DatasetItem:
    """One dataset in a list, in the page's language."""

    record: DatasetRecord
    url: str
    display_title: str
    display_summary: str
    publisher_name: str | None
    publisher_url: str | None
    theme_name: str | None
    theme_url: str | None
    modified_day: str
    formats: list
    size_text: str

    def __getattr__(self, key: str) -> Any:  # the record's own columns: `ds.rows`, `ds.resources`
        return getattr(self.record, key)


def size_text(tables: int | None, rows: int | None, lang: str) -> str:
    """ "2 张表，1,234 行" / "1 table, 1,234 rows" (English singular where it is one)."""
    joiner = "，" if lang == "zh" else ", "
    return joiner.join((i18n.t("portal.n_tables", lang, n=tables or 0), i18n.t("portal.n_rows", lang, n=rows or 0)))


def dataset_items(records: list[DatasetRecord], reg: Registries, links: Links) -> list[DatasetItem]:
    lang = links.lang
    out = []
    for r in records:
        pub = reg.publishers.get(r.publisher or "")
        theme = reg.themes.get(r.theme or "")
        out.append(
            DatasetItem(
                record=r,
                url=links.dataset(r.name),
                display_title=r.text("title", lang) or r.name,
                display_summary=r.text("summary", lang) or "",
                publisher_name=(pub.text("name", lang) if pub else None) or r.publisher,
                publisher_url=links.publisher(r.publisher) if pub and r.publisher else None,
                theme_name=(theme.text("name", lang) if theme else None) or r.theme,
                theme_url=links.theme(r.theme) if theme and r.theme else None,
                modified_day=(r.modified or "")[:10],
                formats=list(r.formats or []),
                size_text=size_text(r.resources, r.rows, lang),
            )
        )
    return out


@dataclass
class Entry:
    """A publisher or theme in a list: its name in the page's language and its page."""

    id: str
    display_name: str
    url: str
    n: int = 0


def _entries(counted: list[Counted], links: Links, kind: str) -> list[Entry]:
    return [
        Entry(
            c.entry.id, c.entry.text("name", links.lang) or c.entry.id, links.page(f"/{kind}/{c.entry.id}"), c.datasets
        )
        for c in counted
    ]


# ---------------------------------------------------------------------------------------------
# Home


# The home page lists this many publishers (most datasets first) and links to /publishers for
# the rest: a portal has hundreds of them.
HOME_PUBLISHERS = 12
HOME_THEMES = 24


@dataclass
class HomePage:
    totals: dict
    themes: list[Entry]
    publishers: list[Entry]
    recent: list[DatasetItem]
    site_description: str | None
    catalogue_url: str
    publishers_url: str
    themes_url: str
    more_publishers: int  # publishers with datasets that the home page does not list
    more_themes: int


def home_page(
    *,
    totals: dict,
    themes: list[Counted],
    publishers: list[Counted],
    recent: list[DatasetRecord],
    reg: Registries,
    site: SiteInfo,
    links: Links,
) -> HomePage:
    return HomePage(
        totals=totals,
        themes=_entries(themes[:HOME_THEMES], links, "themes"),
        publishers=_entries(publishers[:HOME_PUBLISHERS], links, "publishers"),
        recent=dataset_items(recent, reg, links),
        site_description=i18n.localized(site.description, links.lang),
        catalogue_url=links.page("/datasets"),
        publishers_url=links.page("/publishers"),
        themes_url=links.page("/themes"),
        more_publishers=max(0, len(publishers) - HOME_PUBLISHERS),
        more_themes=max(0, len(themes) - HOME_THEMES),
    )


# ---------------------------------------------------------------------------------------------
# Catalogue


@dataclass
class FacetOption:
    value: str
    count: int
    label: str
    url: str
    selected: bool


@dataclass
class Facet:
    key: str
    options: list[FacetOption]
    selected: str | None
    total: int = 0  # the facet's values in all; it lists the largest (listing.FACET_VALUES)

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.options))


@dataclass
class ActiveFilter:
    key: str
    value: str
    label: str
    remove_url: str


@dataclass
class PageLink:
    n: int
    url: str
    current: bool


@dataclass
class CataloguePage:
    query: listing.Query
    page: listing.Page
    datasets: list[DatasetItem]
    facets: list[Facet]
    active: list[ActiveFilter]
    sorts: list[str]
    sort: str
    paging: Paging
    clear_url: str
    form_action: str
    hidden: list[tuple[str, str]]


def _facet_label(key: str, row: dict, lang: str) -> str:
    if key in ("theme", "publisher", "licence"):
        return (row.get("label_en") if lang == "en" else row.get("label_zh")) or row.get("label_zh") or row["value"]
    if key in ("frequency", "openness"):
        return i18n.t(f"portal.{key}.{row['value']}", lang)
    if key == "format":
        return str(row["value"]).upper()
    return row["value"]


def page_numbers(current: int, last: int, link: Callable[[int], str]) -> list[PageLink | None]:
    """1 … (current ± 2) … last; None marks a gap. Only the numbers shown are visited: the
    catalogue at 10,000 datasets has 500 pages, and every page of it builds its links."""
    out: list[PageLink | None] = []
    if last <= 1:
        return out
    shown = sorted({1, last, *range(max(1, current - 2), min(last, current + 2) + 1)})
    for n in shown:
        if out and out[-1] is not None and n > out[-1].n + 1:
            out.append(None)
        out.append(PageLink(n, link(n), n == current))
    return out


def catalogue_page(*, query: listing.Query, page: listing.Page, reg: Registries, links: Links) -> CataloguePage:
    lang, path = links.lang, "/datasets"

    def link(**changes) -> str:
        return links.page(path, listing.params(query, **changes))

    facets = []
    for key in listing.FILTERS:
        options = [
            FacetOption(
                v["value"],
                v["count"],
                _facet_label(key, v, lang),
                link(**{key: None if v["selected"] else v["value"]}),
                v["selected"],
            )
            for v in page.facets.get(key, [])
        ]
        facets.append(Facet(key, options, query.active.get(key), page.facet_sizes.get(key, len(options))))
    active = [
        ActiveFilter(
            k, v, next((o.label for f in facets if f.key == k for o in f.options if o.selected), v), link(**{k: None})
        )
        for k, v in query.filters
    ]
    return CataloguePage(
        query=query,
        page=page,
        datasets=dataset_items(page.datasets, reg, links),
        facets=facets,
        active=active,
        sorts=[s for s in listing.SORTS if s != "relevance" or query.q],
        sort=query.effective_sort,
        paging=paging(query.page, page.pages, lambda n: link(page=n)),
        clear_url=links.page(path),
        form_action=links.file(path),
        hidden=[(k, v) for k, v in listing.params(query) if k not in ("q", "sort", "page")],
    )


# ---------------------------------------------------------------------------------------------
# Dataset landing page


@dataclass
class Keyword:
    value: str
    url: str


@dataclass
class ResourceBlock:
    """One table of the dataset: facts, downloads, data dictionary, preview, API examples."""

    name: str
    rows: int | None
    bytes: int | None
    format: str | None
    path: str | None
    display_title: str
    display_description: str
    dictionary: list[dict]
    preview: list[list[str | None]]  # cells as text for reading (cell_text); None = missing
    columns: list[str]
    column_titles: list[str]  # the columns' titles in the page's language
    table_url: str
    csv_url: str
    json_url: str
    download_url: str
    dictionary_url: str
    api: dict
    primary_key: list
    shared_schema: str | None = None  # the shared Table Schema it follows (metadata/schemas/)
    shared_schema_title: str | None = None
    shared_schema_url: str | None = None


@dataclass
class DatasetPage:
    d: DatasetRecord
    title: str
    description_html: Markup
    publisher: Publisher | None
    publisher_name: str | None
    publisher_url: str | None
    theme_name: str | None
    theme_url: str | None
    licence: Any
    licence_title: str | None
    licence_url: str | None
    keywords: list[Keyword]
    sources: list[dict]
    quality: quality.Quality
    weights: dict
    timeliness: Any
    today: str
    resources: list[ResourceBlock]
    chart: dict | None
    report_url: str
    datapackage_url: str
    database_url: str
    sqlite_url: str
    contact_email: str | None
    problem_url: str | None
    personal_data: list[PersonalDataItem]  # the columns declared in gov:personalData
    scorecard: dict | None  # gongkai.scorecard's, as the build stored it
    badge_url: str
    badge_alt: str  # what the badge says, in the page's language (its own <title> is bilingual)
    # conditional or closed (gongkai/openness.py): no rows, files or data links, the conditions
    # and how to apply instead
    withheld: bool = False
    condition: str | None = None  # in the page's language where translated
    apply: str | None = None


def _chart_context(chart: ChartRecord | None, fields: list[FieldRecord], lang: str) -> dict | None:
    spec = chart.spec if chart else None
    if not spec:
        return None
    by_name = {f.name: f for f in fields if f.resource == spec["table"]}

    def title(col):
        f = by_name.get(col)
        return (f.text("title", lang) if f else None) or col

    if spec["kind"] == "line":
        xs = sorted({p[0] for s in spec["series"] for p in s["points"]})
        values = [{p[0]: p[1] for p in s["points"]} for s in spec["series"]]
        table = [(x, [charts.full_number(v.get(x)) for v in values]) for x in xs]
        return {
            "kind": "line",
            "spec": spec,
            "table": table,
            "layout": charts.line_layout(spec, lang),
            "resource": spec["table"],
            "x_title": title(spec["x"]),
            "y_title": title(spec["y"]),
            "series_title": title(spec["series_field"]) if spec.get("series_field") else None,
            "full": charts.full_number,
        }
    return {
        "kind": "bar",
        "spec": spec,
        "layout": charts.bar_layout(spec, lang),
        "resource": spec["table"],
        "category_title": title(spec["category"]),
        "full": charts.full_number,
    }


def dataset_page(
    *,
    bundle: DatasetBundle,
    previews: dict[str, Preview],
    links: Links,
    base: str,
    today: date,
    table_path: Callable[[str, str], str],
    table_file: Callable[[str, str, str], str],
    database_path: Callable[[str], str],
) -> DatasetPage:
    """`table_path(db, table)`, `table_file(db, table, format)`, `database_path(db)`: Datasette's
    URL builders; `base`: the site's absolute base URL (API examples and the problem report)."""
    lang, d = links.lang, bundle.dataset
    name = d.name
    q = quality.score(d, bundle.resources, bundle.fields, known_licences=bundle.known_licences, today=today)
    resources = []
    for r in bundle.resources:
        fields = bundle.fields_of(r.name)
        shown = previews.get(r.name) or Preview([f.name for f in fields], [])
        titles = {f.name: f.text("title", lang) or f.name for f in fields}
        tpath = table_path(name, r.name)
        resources.append(
            ResourceBlock(
                name=r.name,
                rows=r.rows,
                bytes=r.bytes,
                format=r.format,
                path=r.path,
                display_title=r.text("title", lang) or r.name,
                display_description=r.text("description", lang) or "",
                dictionary=[dictionary.entry(f) for f in fields],
                preview=[[cell_text(v) for v in row] for row in shown.rows],
                columns=shown.columns,
                column_titles=[titles.get(c, c) for c in shown.columns],
                table_url=links.page(tpath),
                csv_url=table_file(name, r.name, "csv") + "?_stream=on&_size=max",
                json_url=table_file(name, r.name, "json") + "?_shape=array",
                download_url=links.file(f"/downloads/{name}/{r.path}"),
                dictionary_url=links.file(f"/datasets/{name}/{r.name}/dictionary.csv"),
                api=api_examples.examples(base, tpath, database_path(name), r.name),
                primary_key=list(r.primary_key or []),
                shared_schema=r.shared_schema,
                shared_schema_url=links.page(f"/schemas/{r.shared_schema}") if r.shared_schema else None,
            )
        )
    keywords = d.keywords or []
    if d.keywords_translated and d.language != lang:
        keywords = d.keywords_translated
    contact_email = d.contact_email or (bundle.publisher.email if bundle.publisher else None)
    subject = f"[{i18n.t('portal.report_problem_subject', lang)}] {name}"
    problem_url = (
        f"mailto:{contact_email}?"
        + urlencode({"subject": subject, "body": f"{base}{links.dataset(name)}\n\n"}, quote_via=quote)
        if contact_email
        else None
    )
    licence = bundle.licence
    return DatasetPage(
        d=d,
        title=d.text("title", lang) or name,
        description_html=Markup(d.text("description_html", lang) or ""),
        publisher=bundle.publisher,
        publisher_name=(bundle.publisher.text("name", lang) if bundle.publisher else None) or d.publisher,
        publisher_url=links.publisher(d.publisher) if bundle.publisher and d.publisher else None,
        theme_name=(bundle.theme.text("name", lang) if bundle.theme else None) or d.theme,
        theme_url=links.theme(d.theme) if bundle.theme and d.theme else None,
        licence=licence or {},
        licence_title=(licence.text("title", lang) if licence else None) or d.license,
        licence_url=(licence.url if licence else None) or d.license_path,
        keywords=[Keyword(k, links.page("/datasets", [("keyword", k)])) for k in keywords],
        sources=list(d.sources or []),
        quality=q,
        weights=quality.WEIGHTS,
        timeliness=q.timeliness,
        today=today.isoformat(),
        resources=resources,
        chart=_chart_context(bundle.chart, bundle.fields, lang),
        report_url=links.page(f"/datasets/{name}/report"),
        datapackage_url=links.file(f"/downloads/{name}/datapackage.json"),
        database_url=links.page(database_path(name)),
        sqlite_url=database_path(name) + ".db",
        contact_email=contact_email,
        problem_url=problem_url,
        personal_data=personal_items(d, links),
        scorecard=d.scorecard,
        badge_url=links.page(f"/datasets/{name}/badge.svg"),
        badge_alt=badge.title(d, lang),
        withheld=is_withheld(d.openness),
        condition=d.text("openness_condition", lang),
        apply=d.text("openness_apply", lang),
    )


# ---------------------------------------------------------------------------------------------
# Validation report


@dataclass
class ReportPage:
    d: DatasetRecord
    title: str
    dataset_url: str
    report: dict
    report_html: Markup | str
    json_url: str
    md_url: str


def report_page(*, record: DatasetRecord, report: dict, report_html: str | None, links: Links) -> ReportPage:
    name = record.name
    return ReportPage(
        d=record,
        title=record.text("title", links.lang) or name,
        dataset_url=links.dataset(name),
        report=report,
        report_html=Markup(report_html) if report_html else "",
        json_url=links.file(f"/datasets/{name}/report.json"),
        md_url=links.file(f"/datasets/{name}/report.md"),
    )


# ---------------------------------------------------------------------------------------------
# Publishers and themes


@dataclass
class Paging:
    """Where a paged list is: its page links (None marks a gap), previous and next."""

    page: int
    pages: int
    links: list[PageLink | None]
    prev_url: str | None
    next_url: str | None


def paging(page: int, pages: int, link: Callable[[int], str]) -> Paging:
    return Paging(
        page=page,
        pages=pages,
        links=page_numbers(page, pages, link),
        prev_url=link(page - 1) if page > 1 else None,
        next_url=link(page + 1) if page < pages else None,
    )


def _page_link(links: Links, path: str, params: list[tuple[str, str]] | None = None) -> Callable[[int], str]:
    return lambda n: links.page(path, [*(params or []), *([("page", str(n))] if n > 1 else [])])


INDEX_PER_PAGE = 50
INDEX_SORTS = ("datasets", "name")


@dataclass
class IndexPage:
    """/publishers or /themes: every publisher or theme with datasets, with its count, paged."""

    kind: str  # "publishers" | "themes"
    entries: list[Entry]
    total: int  # entries in all
    first: int
    last: int
    sort: str
    sorts: list[str]
    sort_urls: dict[str, str]
    paging: Paging


def index_page(*, kind: str, counted: list[Counted], links: Links, page: int = 1, sort: str = "") -> IndexPage:
    """`counted` comes most datasets first; `sort="name"` orders by the name in the page's
    language. Pages of `INDEX_PER_PAGE`; a page past the last shows the last."""
    sort = sort if sort in INDEX_SORTS else "datasets"
    entries = _entries(counted, links, kind)
    if sort == "name":
        entries.sort(key=lambda e: (e.display_name.casefold(), e.id))
    pages = max(1, -(-len(entries) // INDEX_PER_PAGE))
    page = max(1, min(page, pages))
    start = (page - 1) * INDEX_PER_PAGE
    shown = entries[start : start + INDEX_PER_PAGE]
    params = [("sort", sort)] if sort != "datasets" else []
    path = f"/{kind}"
    return IndexPage(
        kind=kind,
        entries=shown,
        total=len(entries),
        first=start + 1 if shown else 0,
        last=start + len(shown),
        sort=sort,
        sorts=list(INDEX_SORTS),
        sort_urls={s: links.page(path, [("sort", s)] if s != "datasets" else None) for s in INDEX_SORTS},
        paging=paging(page, pages, _page_link(links, path, params)),
    )


@dataclass
class PublisherPage:
    p: Publisher
    name: str
    other_name: str
    parent: Entry | None
    children: list[Entry]
    datasets: list[DatasetItem]
    catalogue_url: str
    total: int
    paging: Paging
    index_url: str
    scorecard: dict | None  # over its datasets (gongkai.scorecard.publisher_scorecard)


def publisher_page(*, bundle: PublisherBundle, reg: Registries, links: Links) -> PublisherPage:
    lang, p = links.lang, bundle.publisher

    def entry(pub: Publisher) -> Entry:
        return Entry(pub.id, pub.text("name", lang) or pub.id, links.publisher(pub.id))

    return PublisherPage(
        p=p,
        name=p.text("name", lang) or p.id,
        other_name=(p.name_en if lang == "zh" else p.name) or "",
        parent=entry(bundle.parent) if bundle.parent else None,
        children=[entry(c) for c in bundle.children],
        datasets=dataset_items(bundle.datasets, reg, links),
        catalogue_url=links.page("/datasets", [("publisher", p.id)]),
        total=bundle.total,
        paging=paging(bundle.page, bundle.pages, _page_link(links, f"/publishers/{p.id}")),
        index_url=links.page("/publishers"),
        scorecard=p.scorecard,
    )


@dataclass
class ThemePage:
    theme: Any
    name: str
    description: str
    datasets: list[DatasetItem]
    catalogue_url: str
    total: int
    paging: Paging
    index_url: str


def theme_page(*, bundle: ThemeBundle, reg: Registries, links: Links) -> ThemePage:
    th, lang = bundle.theme, links.lang
    return ThemePage(
        theme=th,
        name=th.text("name", lang) or th.id,
        description=th.text("description", lang) or "",
        datasets=dataset_items(bundle.datasets, reg, links),
        catalogue_url=links.page("/datasets", [("theme", th.id)]),
        total=bundle.total,
        paging=paging(bundle.page, bundle.pages, _page_link(links, f"/themes/{th.id}")),
        index_url=links.page("/themes"),
    )


# ---------------------------------------------------------------------------------------------
# About, API, licence, privacy


@dataclass
class LicenceItem:
    id: str
    display_title: str
    url: str | None
    n: int
    catalogue_url: str


@dataclass
class PersonalDataItem:
    dataset: str
    dataset_title: str
    dataset_url: str
    resource: str | None
    field: str | None
    kind: str | None
    legal_basis: str | None
    masking: str | None  # in words: a known token such as "none" is translated


@dataclass
class StaticPage:
    page: str
    base: str
    example: dict | None
    licenses: list[LicenceItem]
    personal: list[PersonalDataItem]
    contact_name: str | None
    contact_email: str | None
    site_description: str | None
    search_json: str
    extra: dict = field(default_factory=dict)


MASKING_TOKENS = ("none", "partial", "full", "hashed", "aggregated")


def masking_text(value, lang: str) -> str | None:
    """`gov:personalData[].masking` in words: the profile's tokens are translated, free text kept."""
    if isinstance(value, str) and value.strip().lower() in MASKING_TOKENS:
        return i18n.t(f"portal.masking.{value.strip().lower()}", lang)
    return None if value is None else str(value)


def personal_items(r: DatasetRecord, links: Links) -> list[PersonalDataItem]:
    """The columns a dataset declares in `gov:personalData`, in the page's language (the
    landing page and /privacy list them)."""
    lang = links.lang
    items = []
    for item in r.personal_data or []:
        if not isinstance(item, dict):
            continue
        tr = (item.get("gov:translations") or {}).get(lang) or {}
        items.append(
            PersonalDataItem(
                dataset=r.name,
                dataset_title=r.text("title", lang) or r.name,
                dataset_url=links.dataset(r.name),
                resource=item.get("resource"),
                field=item.get("field"),
                kind=item.get("kind"),
                legal_basis=tr.get("legalBasis") or item.get("legalBasis"),
                masking=masking_text(tr.get("masking") or item.get("masking"), lang),
            )
        )
    return items


def static_page(
    *,
    page: str,
    site: SiteInfo,
    licences: list[LicenceUse],
    personal: list[DatasetRecord],
    example: dict | None,
    base: str,
    links: Links,
) -> StaticPage:
    lang = links.lang
    items = [item for r in personal for item in personal_items(r, links)]
    contact = site.contact or {}
    return StaticPage(
        page=page,
        base=base,
        example=example,
        licenses=[
            LicenceItem(
                u.licence.id,
                u.licence.text("title", lang) or u.licence.id,
                u.licence.url,
                u.datasets,
                links.page("/datasets", [("licence", u.licence.id)]),
            )
            for u in licences
        ],
        personal=items,
        contact_name=i18n.localized(contact.get("name"), lang),
        contact_email=contact.get("email"),
        site_description=i18n.localized(site.description, lang),
        search_json=f"{base}{links.file('/-/search.json')}?" + urlencode({"q": "人口"}),
    )
