"""The portal's routes: read the catalogue, build the page's context, render its template.

Routes: `/` home, `/datasets` catalogue, `/datasets/<name>` landing page,
`/datasets/<name>/report` (+ `.json`, `.md`), `/datasets/<name>/<resource>/dictionary.csv`,
`/downloads/<name>/<path>`, `/downloads/catalog.csv|.excel.csv|.json|.xlsx`, `/publishers` and `/themes` (index pages, paged),
`/publishers/<id>`, `/themes/<id>` (their datasets paged with `?page=`), `/about`, `/api`,
`/licence`, `/privacy`. Every page is Chinese by default and English with `?_lang=en` (gongkai.i18n).

No SQL here: the catalogue's questions are `gongkai.catalogue.reader.Catalogue` methods (run
through `catalogue.of(datasette).read`), the contexts are `gongkai.portal.pages`; this file
only connects them to Datasette. The preview reads the dataset's own database (its first rows).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from datasette import Response, hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import NotFound

from gongkai import catalogue, catalogue_files, i18n, media_types, release_files
from gongkai.catalogue import listing, schemas as catalogue_schemas
from gongkai.portal import api_examples, dictionary, download_links, file_response, pages, preview, routes, schema_pages
from gongkai.portal.markdown import render as render_markdown

PREVIEW_ROWS = 5


# ---------------------------------------------------------------------------------------------
# Helpers


def links(datasette, request) -> pages.Links:
    return pages.Links(i18n.lang_of(request), datasette.urls.path)


def site_dir(datasette) -> Path:
    """The served release folder (where catalog.db, reports/ and downloads/ are)."""
    return catalogue.of(datasette).release


async def read(datasette, fn):
    try:
        return await catalogue.of(datasette).read(fn)
    except catalogue.CatalogueMissing:
        raise NotFound("Catalogue not found") from None


async def render(datasette, request, template: str, context, status: int = 200) -> Response:
    base = {
        "portal_css_url": datasette.urls.path("/static/portal.css"),
        "fmt_int": lambda n: "" if n is None else f"{int(n):,}",
        "fmt_bytes": _fmt_bytes,
        "lang": i18n.lang_of(request),
    }
    html = await datasette.render_template(template, {**base, **pages.as_template_vars(context)}, request=request)
    return Response.html(html, status=status)


def _fmt_bytes(n) -> str:
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def _cors(datasette) -> dict:
    return {"Access-Control-Allow-Origin": "*"} if datasette.cors else {}


# ---------------------------------------------------------------------------------------------
# Pages


async def home(datasette, request):
    def ask(c: catalogue.Catalogue):
        return dict(
            totals=c.totals(),
            themes=c.themes_in_use(),
            publishers=c.publishers_in_use(),
            recent=c.recent(),
            reg=c.registries(),
            site=c.site(),
        )

    ctx = pages.home_page(**await read(datasette, ask), links=links(datasette, request))
    return await render(datasette, request, "portal_home.html", ctx)


async def datasets_view(datasette, request):
    query = listing.parse(request.args)
    lang = i18n.lang_of(request)
    page, reg = await read(datasette, lambda c: (c.listing(query, lang), c.registries()))
    ctx = pages.catalogue_page(query=query, page=page, reg=reg, links=links(datasette, request))
    return await render(datasette, request, "portal_catalogue.html", ctx)


async def _preview(datasette, name: str, table: str) -> preview.Preview | None:
    db = datasette.databases.get(name)
    if db is None:
        return None
    try:
        return await db.execute_fn(lambda conn: preview.read(conn, table, PREVIEW_ROWS))
    except Exception:  # a missing table shows an empty preview, not a broken page
        return None


async def dataset_view(datasette, request):
    name = request.url_vars["name"]
    bundle = await read(datasette, lambda c: c.dataset(name))
    if bundle is None:
        raise NotFound("Dataset not found")
    previews = {r.name: p for r in bundle.resources if (p := await _preview(datasette, name, r.name))}
    ctx = pages.dataset_page(
        bundle=bundle,
        previews=previews,
        links=links(datasette, request),
        base=api_examples.configured_base_url(bundle.site.base_url),
        today=date.today(),
        **_url_builders(datasette, name),
    )
    return await render(datasette, request, "portal_dataset.html", ctx)


def _url_builders(datasette, name: str) -> dict:
    """Datasette's URL builders for a served database; plain paths for one the release does not
    serve (a conditional or closed dataset: its page links none of them, plugins/openness.py)."""
    if name in datasette.databases:
        return {
            "table_path": datasette.urls.table,
            "table_file": lambda db, t, fmt: datasette.urls.table(db, t, format=fmt),
            "database_path": datasette.urls.database,
        }
    path = datasette.urls.path
    return {
        "table_path": lambda db, t: path(f"/{db}/{tilde_encode(t)}"),
        "table_file": lambda db, t, fmt: path(f"/{db}/{tilde_encode(t)}.{fmt}"),
        "database_path": lambda db: path(f"/{db}"),
    }


async def report_view(datasette, request):
    name = request.url_vars["name"]
    fmt = request.url_vars.get("format")
    record = await read(datasette, lambda c: c.dataset_record(name))
    if record is None:
        raise NotFound("Dataset not found")
    if fmt in (".json", ".md"):
        path = release_files.report(site_dir(datasette), name, fmt[1:])
        if not path.is_file():
            raise NotFound("Report not found")
        ctype = "application/json; charset=utf-8" if fmt == ".json" else "text/markdown; charset=utf-8"
        body = path.read_text(encoding="utf-8")
        if fmt == ".json":  # the build's scorecard beside the validation report (gongkai.scorecard)
            body = json.dumps({**json.loads(body), "scorecard": record.scorecard}, ensure_ascii=False, indent=2)
        return Response(body, content_type=ctype, headers=_cors(datasette))
    md, js = release_files.report(site_dir(datasette), name, "md"), release_files.report(site_dir(datasette), name)
    report = json.loads(js.read_text(encoding="utf-8")) if js.is_file() else {}
    html = render_markdown(md.read_text(encoding="utf-8"), demote=1) if md.is_file() else None
    ctx = pages.report_page(record=record, report=report, report_html=html, links=links(datasette, request))
    return await render(datasette, request, "portal_report.html", ctx)


async def dictionary_csv(datasette, request):
    name, resource = request.url_vars["name"], request.url_vars["resource"]
    fields = await read(datasette, lambda c: c.dictionary(name, resource))
    if fields is None:
        raise NotFound("Resource not found")
    # A BOM so that spreadsheet programs open the Chinese text as UTF-8.
    body = "\ufeff" + dictionary.to_csv(fields)
    headers = {"content-disposition": f'attachment; filename="{name}-{resource}-dictionary.csv"', **_cors(datasette)}
    return Response(body, content_type="text/csv; charset=utf-8", headers=headers)


async def download(datasette, request, send):
    """A published file: `downloads/<dataset>/<path>` of the served release, nothing outside it,
    with its manifest's media type, tag, stored compressed copies and readable name, byte ranges
    (gongkai/portal/file_response.py, gongkai/portal/download_links.py)."""
    name, rel = request.url_vars["name"], request.url_vars["path"]
    if not release_files.is_name(name):
        raise NotFound("File not found")
    folder = release_files.downloads(site_dir(datasette), name).resolve()
    target = (folder / rel).resolve()
    if folder not in target.parents or not target.is_file():
        raise NotFound("File not found")
    rel = target.relative_to(folder).as_posix()
    entry = download_links.served(datasette, name)[1].get(rel)
    if entry is not None:
        ctype = entry.media_type
    else:  # a release built before the manifest: the resource's own format and encoding
        record = await read(datasette, lambda c: c.resource_at(name, rel))
        ctype = media_types.download_type(target.name, record and record.format, record and record.encoding)
    plan = file_response.plan(
        size=target.stat().st_size,
        content_type=ctype,
        filename=target.name,
        readable=download_links.readable_name(datasette, name, entry, i18n.lang_of(request)),
        etag=download_links.etag(entry),
        variants=download_links.variants(datasette, name, folder, rel),
        range_header=request.headers.get("range"),
        if_range=request.headers.get("if-range"),
        if_none_match=request.headers.get("if-none-match"),
        immutable=download_links.versioned(entry, request.args.get("v")),
        accept_encoding=request.headers.get("accept-encoding"),
        cors=_cors(datasette),
    )
    await file_response.send(send, target, plan, head=request.method == "HEAD")


async def catalogue_download(datasette, request, send):
    """The whole catalogue as a file (`/downloads/catalog.csv`, `.excel.csv`, `.json`, `.xlsx`),
    built with the release (gongkai/catalogue_files.py), sent like every download."""
    found = catalogue_files.download(site_dir(datasette), request.url_vars["file"])
    if found is None:
        raise NotFound("File not found")
    path, entry = found
    plan = file_response.plan(
        size=path.stat().st_size,
        content_type=entry.media_type,
        filename=path.name,
        etag=download_links.etag(entry),
        range_header=request.headers.get("range"),
        if_range=request.headers.get("if-range"),
        if_none_match=request.headers.get("if-none-match"),
        accept_encoding=request.headers.get("accept-encoding"),
        cors=_cors(datasette),
    )
    await file_response.send(send, path, plan, head=request.method == "HEAD")


def _page_arg(request) -> int:
    """`?page=` as a page number (1 for anything else; the reader clamps it to the last)."""
    try:
        return max(1, min(int(request.args.get("page") or 1), 100_000))
    except ValueError:
        return 1


async def publishers_index(datasette, request):
    counted = await read(datasette, lambda c: c.publishers_in_use())
    ctx = pages.index_page(
        kind="publishers",
        counted=counted,
        links=links(datasette, request),
        page=_page_arg(request),
        sort=request.args.get("sort") or "",
    )
    return await render(datasette, request, "portal_index.html", ctx)


async def themes_index(datasette, request):
    counted = await read(datasette, lambda c: c.themes_in_use())
    ctx = pages.index_page(
        kind="themes",
        counted=counted,
        links=links(datasette, request),
        page=_page_arg(request),
        sort=request.args.get("sort") or "",
    )
    return await render(datasette, request, "portal_index.html", ctx)


async def schemas_index(datasette, request):
    counted = await read(datasette, lambda c: catalogue_schemas.every(c.conn))
    ctx = schema_pages.schemas_index(counted, links(datasette, request))
    return await render(datasette, request, "portal_schemas.html", ctx)


async def schema_view(datasette, request):
    name = request.url_vars["name"]
    bundle = await read(datasette, lambda c: catalogue_schemas.one(c.conn, name))
    if bundle is None:
        raise NotFound("Schema not found")
    ctx = schema_pages.schema_page(bundle, links(datasette, request))
    return await render(datasette, request, "portal_schema.html", ctx)


async def publisher_view(datasette, request):
    ident, page = request.url_vars["id"], _page_arg(request)
    bundle, reg = await read(datasette, lambda c: (c.publisher(ident, page), c.registries()))
    if bundle is None:
        raise NotFound("Publisher not found")
    ctx = pages.publisher_page(bundle=bundle, reg=reg, links=links(datasette, request))
    return await render(datasette, request, "portal_publisher.html", ctx)


async def theme_view(datasette, request):
    ident, page = request.url_vars["id"], _page_arg(request)
    bundle, reg = await read(datasette, lambda c: (c.theme(ident, page), c.registries()))
    if bundle is None:
        raise NotFound("Theme not found")
    ctx = pages.theme_page(bundle=bundle, reg=reg, links=links(datasette, request))
    return await render(datasette, request, "portal_theme.html", ctx)


async def static_page(datasette, request):
    page = request.url_vars["page"]

    def ask(c: catalogue.Catalogue):
        return dict(
            site=c.site(), licences=c.licences_in_use(), personal=c.with_personal_data(), table=c.largest_table()
        )

    data = await read(datasette, ask)
    base = api_examples.configured_base_url(data["site"].base_url)
    table = data.pop("table")
    example = None
    if table is not None:
        example = {
            "dataset": table.dataset,
            "table": table.name,
            **api_examples.examples(
                base,
                datasette.urls.table(table.dataset, table.name),
                datasette.urls.database(table.dataset),
                table.name,
            ),
        }
    ctx = pages.static_page(page=page, example=example, base=base, links=links(datasette, request), **data)
    return await render(datasette, request, f"portal_{page}.html", ctx)


@hookimpl
def register_routes():
    # The table lives in gongkai.portal.routes so that gongkai.descriptors reserves its names.
    views = globals()
    return [(pattern, views[view]) for pattern, view in routes.PORTAL_ROUTES]
