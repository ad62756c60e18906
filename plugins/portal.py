"""The portal's pages (gongkai.portal does the work; this file connects it to Datasette).

Routes: `/` home, `/datasets` catalogue, `/datasets/<name>` landing page,
`/datasets/<name>/report` (+ `.json`, `.md`), `/datasets/<name>/<resource>/dictionary.csv`,
`/downloads/<name>/<path>`, `/publishers/<id>`, `/themes/<id>`, `/about`, `/api`, `/licence`,
`/privacy`. Every page is Chinese by default and English with `?_lang=en` (gongkai.i18n).

Reads only what the build wrote: catalog.db (through `datasette.get_database("catalog")`), the
dataset databases (the preview: the first rows, an indexed read), and the files in the served
release (`reports/`, `downloads/`). Timeliness and the quality score use today's date.
"""

from __future__ import annotations

import json
import mimetypes
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

from datasette import Response, hookimpl
from datasette.utils.asgi import NotFound, asgi_send_file
from markupsafe import Markup

from gongkai import i18n
from gongkai.portal import api_examples, catalogue, charts, dictionary, quality, routes
from gongkai.portal.markdown import render as render_markdown

CATALOG_DB = "catalog"
PREVIEW_ROWS = 5
RECENT = 6


# ---------------------------------------------------------------------------------------------
# Helpers


def _catalog(datasette):
    try:
        return datasette.get_database(CATALOG_DB)
    except KeyError:
        raise NotFound("Database not found") from None


def site_dir(datasette) -> Path:
    """The served release folder (where catalog.db, reports/ and downloads/ are)."""
    return Path(_catalog(datasette).path).resolve().parent


def _rows(conn, sql, params=()):
    cur = conn.execute(sql, params)
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _one(conn, sql, params=()):
    found = _rows(conn, sql, params)
    return found[0] if found else None


def _loads(value, default):
    try:
        return json.loads(value) if value else default
    except (TypeError, ValueError):
        return default


def _url(datasette, lang: str, path: str, params=None) -> str:
    url = datasette.urls.path(path)
    if params:
        url += "?" + urlencode(params)
    return i18n.lang_url(url, lang) if lang != i18n.DEFAULT_LANG else url


def dataset_url(datasette, name: str, lang: str) -> str:
    return _url(datasette, lang, f"/datasets/{name}")


async def render(datasette, request, template: str, context: dict, status: int = 200) -> Response:
    lang = i18n.lang_of(request)
    base = {
        "portal_css_url": datasette.urls.path("/static/portal.css"),
        "md": Markup,
        "fmt_int": lambda n: "" if n is None else f"{int(n):,}",
        "fmt_bytes": _fmt_bytes,
        "lang": lang,
    }
    html = await datasette.render_template(template, {**base, **context}, request=request)
    return Response.html(html, status=status)


def _fmt_bytes(n) -> str:
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def _registries(conn) -> dict:
    return {
        "publishers": {r["id"]: r for r in _rows(conn, "select * from publishers")},
        "themes": {r["id"]: r for r in _rows(conn, "select * from themes")},
        "licenses": {r["id"]: r for r in _rows(conn, "select * from licenses")},
    }


def _decorate(datasette, rows: list[dict], reg: dict, lang: str) -> list[dict]:
    """Catalogue rows → what a dataset list shows, in the page's language."""
    out = []
    for r in rows:
        pub = reg["publishers"].get(r.get("publisher")) or {}
        theme = reg["themes"].get(r.get("theme")) or {}
        out.append({
            **r,
            "url": dataset_url(datasette, r["name"], lang),
            "display_title": i18n.localized_field(r, "title", lang) or r["name"],
            "display_summary": i18n.localized_field(r, "summary", lang) or "",
            "publisher_name": i18n.localized_field(pub, "name", lang) or r.get("publisher"),
            "publisher_url": _url(datasette, lang, f"/publishers/{r.get('publisher')}") if pub else None,
            "theme_name": i18n.localized_field(theme, "name", lang) or r.get("theme"),
            "theme_url": _url(datasette, lang, f"/themes/{r.get('theme')}") if theme else None,
            "modified_day": (r.get("modified") or "")[:10],
            "formats": r["formats"] if isinstance(r.get("formats"), list) else _loads(r.get("formats"), []),
        })
    return out


# ---------------------------------------------------------------------------------------------
# Home


async def home(datasette, request):
    lang = i18n.lang_of(request)

    def read(conn):
        reg = _registries(conn)
        return {
            "reg": reg,
            "totals": catalogue.totals(conn),
            "themes": _rows(conn, "select t.*, count(d.name) as n from themes t join datasets d on d.theme = t.id group by t.id order by n desc, t.id"),
            "publishers": _rows(conn, "select p.*, count(d.name) as n from publishers p join datasets d on d.publisher = p.id group by p.id order by n desc, p.id"),
            "recent": _rows(conn, f"select * from datasets order by modified desc, name limit {RECENT}"),
            "site": {r["key"]: _loads(r["value"], None) for r in _rows(conn, "select key, value from site")} if
                    conn.execute("select 1 from sqlite_master where name='site'").fetchone() else {},
        }

    data = await _catalog(datasette).execute_fn(read)
    for group, kind in (("themes", "themes"), ("publishers", "publishers")):
        for r in data[group]:
            r["display_name"] = i18n.localized_field(r, "name", lang) or r["id"]
            r["url"] = _url(datasette, lang, f"/{kind}/{r['id']}")
    return await render(datasette, request, "portal_home.html", {
        "totals": data["totals"],
        "themes": data["themes"],
        "publishers": data["publishers"],
        "recent": _decorate(datasette, data["recent"], data["reg"], lang),
        "site_description": i18n.localized((data["site"] or {}).get("description"), lang),
        "catalogue_url": _url(datasette, lang, "/datasets"),
    })


# ---------------------------------------------------------------------------------------------
# Catalogue


def _facet_label(key: str, row: dict, lang: str) -> str:
    if key in ("theme", "publisher", "licence"):
        return (row.get("label_en") if lang == "en" else row.get("label_zh")) or row.get("label_zh") or row["value"]
    if key in ("frequency", "openness"):
        return i18n.t(f"portal.{key}.{row['value']}", lang)
    if key == "format":
        return str(row["value"]).upper()
    return row["value"]


async def datasets_view(datasette, request):
    lang = i18n.lang_of(request)
    query = catalogue.parse(request.args)

    def read(conn):
        return catalogue.run(conn, query, lang), _registries(conn)

    page, reg = await _catalog(datasette).execute_fn(read)
    path = "/datasets"

    def link(**changes):
        return _url(datasette, lang, path, catalogue.params(query, **changes))

    facets = []
    for key in catalogue.FILTERS:
        values = [{**v, "label": _facet_label(key, v, lang), "url": link(**{key: None if v["selected"] else v["value"]})}
                  for v in page.facets.get(key, [])]
        facets.append({"key": key, "options": values, "selected": query.active.get(key)})
    active = [{"key": k, "value": v, "label": next((f["label"] for x in facets if x["key"] == k for f in x["options"] if f["selected"]), v),
               "remove_url": link(**{k: None})} for k, v in query.filters]
    sorts = [s for s in catalogue.SORTS if s != "relevance" or query.q]
    pages = []
    if page.pages > 1:
        for n in range(1, page.pages + 1):
            if n in (1, page.pages) or abs(n - query.page) <= 2:
                pages.append({"n": n, "url": link(page=n), "current": n == query.page})
            elif pages and pages[-1] is not None:
                pages.append(None)
    return await render(datasette, request, "portal_catalogue.html", {
        "query": query,
        "page": page,
        "datasets": _decorate(datasette, page.datasets, reg, lang),
        "facets": facets,
        "active": active,
        "sorts": sorts,
        "sort": query.effective_sort,
        "pages": pages,
        "prev_url": link(page=query.page - 1) if query.page > 1 else None,
        "next_url": link(page=query.page + 1) if query.page < page.pages else None,
        "clear_url": _url(datasette, lang, path),
        "form_action": datasette.urls.path(path),
        "hidden": [(k, v) for k, v in catalogue.params(query) if k not in ("q", "sort", "page")],
    })


# ---------------------------------------------------------------------------------------------
# Dataset landing page


def _read_dataset(conn, name: str):
    d = _one(conn, "select * from datasets where name = ?", [name])
    if d is None:
        return None
    return {
        "dataset": d,
        "publisher": _one(conn, "select * from publishers where id = ?", [d["publisher"]]) or {},
        "theme": _one(conn, "select * from themes where id = ?", [d["theme"]]) or {},
        "licence": _one(conn, "select * from licenses where id = ?", [d["license"]]) or {},
        "resources": _rows(conn, "select * from resources where dataset = ? order by position", [name]),
        "fields": _rows(conn, "select * from fields where dataset = ? order by resource, position", [name]),
        "chart": _one(conn, "select * from charts where dataset = ?", [name])
                 if conn.execute("select 1 from sqlite_master where name='charts'").fetchone() else None,
        "known_licences": {r[0] for r in conn.execute("select id from licenses")},
        "site": {r["key"]: _loads(r["value"], None) for r in _rows(conn, "select key, value from site")}
                if conn.execute("select 1 from sqlite_master where name='site'").fetchone() else {},
    }


async def _dataset_or_404(datasette, name: str) -> dict:
    data = await _catalog(datasette).execute_fn(lambda conn: _read_dataset(conn, name))
    if data is None:
        raise NotFound("Dataset not found")
    return data


def _chart_context(chart_row, fields: list[dict], lang: str) -> dict | None:
    if not chart_row:
        return None
    spec = _loads(chart_row["spec"], None)
    if not spec:
        return None
    by_name = {f["name"]: f for f in fields if f["resource"] == spec["table"]}

    def title(col):
        f = by_name.get(col) or {}
        return i18n.localized_field(f, "title", lang) or col

    if spec["kind"] == "line":
        xs = sorted({p[0] for s in spec["series"] for p in s["points"]})
        values = [{p[0]: p[1] for p in s["points"]} for s in spec["series"]]
        table = [(x, [charts.full_number(v.get(x)) for v in values]) for x in xs]
        return {"kind": "line", "spec": spec, "table": table, "layout": charts.line_layout(spec, lang), "resource": spec["table"],
                "x_title": title(spec["x"]), "y_title": title(spec["y"]),
                "series_title": title(spec["series_field"]) if spec.get("series_field") else None,
                "full": charts.full_number}
    return {"kind": "bar", "spec": spec, "layout": charts.bar_layout(spec, lang), "resource": spec["table"],
            "category_title": title(spec["category"]), "full": charts.full_number}


async def dataset_view(datasette, request):
    name = request.url_vars["name"]
    lang = i18n.lang_of(request)
    data = await _dataset_or_404(datasette, name)
    d = data["dataset"]
    today = date.today()
    q = quality.score(d, data["resources"], data["fields"], known_licences=data["known_licences"], today=today)
    base = api_examples.configured_base_url((data["site"] or {}).get("base_url"))
    db = datasette.databases.get(name)
    resources = []
    for r in data["resources"]:
        fields = [f for f in data["fields"] if f["resource"] == r["name"]]
        preview, columns = [], [f["name"] for f in fields]
        if db is not None:
            try:
                result = await db.execute(f"select * from {api_examples.sql_identifier(r['name'])} limit {PREVIEW_ROWS}")
                columns, preview = list(result.columns), [list(row) for row in result.rows]
            except Exception:  # a missing table shows an empty preview, not a broken page
                preview = []
        table_path = datasette.urls.table(name, r["name"])
        resources.append({
            **r,
            "display_title": i18n.localized_field(r, "title", lang) or r["name"],
            "display_description": i18n.localized_field(r, "description", lang) or "",
            "dictionary": [dictionary.entry(f) for f in fields],
            "preview": preview,
            "columns": columns,
            "table_url": _url(datasette, lang, table_path),
            "csv_url": datasette.urls.table(name, r["name"], format="csv") + "?_stream=on&_size=max",
            "json_url": datasette.urls.table(name, r["name"], format="json") + "?_shape=array",
            "download_url": datasette.urls.path(f"/downloads/{name}/{r['path']}"),
            "dictionary_url": datasette.urls.path(f"/datasets/{name}/{r['name']}/dictionary.csv"),
            "api": api_examples.examples(base, table_path, datasette.urls.database(name), r["name"]),
            "primary_key": _loads(r["primary_key"], []),
        })
    descriptor = _loads(d.get("descriptor"), {})
    sources = _loads(d.get("sources"), [])
    keywords = _loads(d.get("keywords"), [])
    translated = _loads(d.get("keywords_translated"), [])
    if translated and d.get("language") != lang:
        keywords = translated
    contact_email = d.get("contact_email") or (data["publisher"] or {}).get("email")
    title = i18n.localized_field(d, "title", lang) or name
    subject = f"[{i18n.t('portal.report_problem_subject', lang)}] {name}"
    return await render(datasette, request, "portal_dataset.html", {
        "d": d,
        "title": title,
        "description_html": Markup(i18n.localized_field(d, "description_html", lang) or ""),
        "publisher": data["publisher"],
        "publisher_name": i18n.localized_field(data["publisher"], "name", lang) if data["publisher"] else d["publisher"],
        "publisher_url": _url(datasette, lang, f"/publishers/{d['publisher']}") if data["publisher"] else None,
        "theme_name": i18n.localized_field(data["theme"], "name", lang) if data["theme"] else d["theme"],
        "theme_url": _url(datasette, lang, f"/themes/{d['theme']}") if data["theme"] else None,
        "licence": data["licence"],
        "licence_title": i18n.localized_field(data["licence"], "title", lang) if data["licence"] else d["license"],
        "licence_url": (data["licence"] or {}).get("url") or next((lic.get("path") for lic in descriptor.get("licenses") or [] if isinstance(lic, dict)), None),
        "keywords": [{"value": k, "url": _url(datasette, lang, "/datasets", [("keyword", k)])} for k in keywords],
        "sources": [s for s in sources if isinstance(s, dict)],
        "quality": q,
        "weights": quality.WEIGHTS,
        "timeliness": q.timeliness,
        "today": today.isoformat(),
        "resources": resources,
        "chart": _chart_context(data["chart"], data["fields"], lang),
        "report_url": _url(datasette, lang, f"/datasets/{name}/report"),
        "datapackage_url": datasette.urls.path(f"/downloads/{name}/datapackage.json"),
        "database_url": _url(datasette, lang, datasette.urls.database(name)),
        "sqlite_url": datasette.urls.database(name) + ".db",
        "contact_email": contact_email,
        "problem_url": f"mailto:{contact_email}?" + urlencode({"subject": subject, "body": f"{base}{dataset_url(datasette, name, lang)}\n\n"}, quote_via=quote) if contact_email else None,
        "personal_data": _loads(d.get("personal_data"), []),
    })


async def report_view(datasette, request):
    name = request.url_vars["name"]
    fmt = request.url_vars.get("format")
    lang = i18n.lang_of(request)
    data = await _dataset_or_404(datasette, name)
    folder = site_dir(datasette) / "reports"
    if fmt in (".json", ".md"):
        path = folder / f"{name}{fmt}"
        if not path.is_file():
            raise NotFound("Report not found")
        ctype = "application/json; charset=utf-8" if fmt == ".json" else "text/markdown; charset=utf-8"
        return Response(path.read_text(encoding="utf-8"), content_type=ctype,
                        headers={"Access-Control-Allow-Origin": "*"} if datasette.cors else {})
    md = folder / f"{name}.md"
    report = _loads((folder / f"{name}.json").read_text(encoding="utf-8"), {}) if (folder / f"{name}.json").is_file() else {}
    d = data["dataset"]
    return await render(datasette, request, "portal_report.html", {
        "d": d,
        "title": i18n.localized_field(d, "title", lang) or name,
        "dataset_url": dataset_url(datasette, name, lang),
        "report": report,
        "report_html": Markup(render_markdown(md.read_text(encoding="utf-8"), demote=1)) if md.is_file() else "",
        "json_url": datasette.urls.path(f"/datasets/{name}/report.json"),
        "md_url": datasette.urls.path(f"/datasets/{name}/report.md"),
    })


async def dictionary_csv(datasette, request):
    name, resource = request.url_vars["name"], request.url_vars["resource"]

    def read(conn):
        if not conn.execute("select 1 from resources where dataset = ? and name = ?", [name, resource]).fetchone():
            return None
        return _rows(conn, "select * from fields where dataset = ? and resource = ? order by position", [name, resource])

    fields = await _catalog(datasette).execute_fn(read)
    if fields is None:
        raise NotFound("Resource not found")
    # A BOM so that spreadsheet programs open the Chinese text as UTF-8.
    body = "\ufeff" + dictionary.to_csv(fields)
    headers = {"content-disposition": f'attachment; filename="{name}-{resource}-dictionary.csv"'}
    if datasette.cors:
        headers["Access-Control-Allow-Origin"] = "*"
    return Response(body, content_type="text/csv; charset=utf-8", headers=headers)


async def download(datasette, request, send):
    """A published file: `downloads/<dataset>/<path>` of the served release, nothing outside it."""
    name, rel = request.url_vars["name"], request.url_vars["path"]
    root = (site_dir(datasette) / "downloads").resolve()
    folder = (root / name).resolve()
    target = (folder / rel).resolve()
    if folder.parent != root or folder not in target.parents or not target.is_file():
        raise NotFound("File not found")
    ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype == "application/json":
        ctype += "; charset=utf-8"
    headers = {"Access-Control-Allow-Origin": "*"} if datasette.cors else {}
    await asgi_send_file(send, target, filename=target.name, content_type=ctype, chunk_size=1 << 16, headers=headers)


# ---------------------------------------------------------------------------------------------
# Publishers and themes


def _datasets_by(conn, column: str, ident: str) -> list[dict]:
    """The datasets of one publisher or theme, most recently changed first."""
    return _rows(conn, f"select {catalogue.LIST_COLUMNS} from datasets where {column} = ? order by modified desc, name", [ident])


async def publisher_view(datasette, request):
    ident = request.url_vars["id"]
    lang = i18n.lang_of(request)

    def read(conn):
        p = _one(conn, "select * from publishers where id = ?", [ident])
        if p is None:
            return None
        return {
            "p": p,
            "parent": _one(conn, "select * from publishers where id = ?", [p.get("parent")]) if p.get("parent") else None,
            "children": _rows(conn, "select * from publishers where parent = ? order by id", [ident]) if "parent" in p else [],
            "datasets": _datasets_by(conn, "publisher", ident),
            "reg": _registries(conn),
        }

    data = await _catalog(datasette).execute_fn(read)
    if data is None:
        raise NotFound("Publisher not found")
    p = data["p"]
    related = [dict(r, display_name=i18n.localized_field(r, "name", lang) or r["id"], url=_url(datasette, lang, f"/publishers/{r['id']}"))
               for r in ([data["parent"]] if data["parent"] else []) + data["children"]]
    return await render(datasette, request, "portal_publisher.html", {
        "p": p,
        "name": i18n.localized_field(p, "name", lang) or ident,
        "other_name": (p.get("name_en") if lang == "zh" else p.get("name")) or "",
        "parent": related[0] if data["parent"] else None,
        "children": related[1:] if data["parent"] else related,
        "datasets": _decorate(datasette, data["datasets"], data["reg"], lang),
        "catalogue_url": _url(datasette, lang, "/datasets", [("publisher", ident)]),
    })


async def theme_view(datasette, request):
    ident = request.url_vars["id"]
    lang = i18n.lang_of(request)

    def read(conn):
        th = _one(conn, "select * from themes where id = ?", [ident])
        if th is None:
            return None
        return {
            "theme": th,
            "datasets": _datasets_by(conn, "theme", ident),
            "reg": _registries(conn),
        }

    data = await _catalog(datasette).execute_fn(read)
    if data is None:
        raise NotFound("Theme not found")
    th = data["theme"]
    return await render(datasette, request, "portal_theme.html", {
        "theme": th,
        "name": i18n.localized_field(th, "name", lang) or ident,
        "description": i18n.localized_field(th, "description", lang) or "",
        "datasets": _decorate(datasette, data["datasets"], data["reg"], lang),
        "catalogue_url": _url(datasette, lang, "/datasets", [("theme", ident)]),
    })


# ---------------------------------------------------------------------------------------------
# About, API, licence, privacy


async def static_page(datasette, request):
    page = request.url_vars["page"]
    lang = i18n.lang_of(request)

    def read(conn):
        out = {
            "licenses": _rows(conn, "select l.*, count(d.name) as n from licenses l left join datasets d on d.license = l.id group by l.id order by n desc, l.id"),
            "site": {r["key"]: _loads(r["value"], None) for r in _rows(conn, "select key, value from site")}
                    if conn.execute("select 1 from sqlite_master where name='site'").fetchone() else {},
            "personal": _rows(conn, "select name, title, title_en, title_zh, personal_data from datasets where personal_data is not null and personal_data != '[]' order by name"),
            "example": _one(conn, "select r.dataset, r.name from resources r join datasets d on d.name = r.dataset order by d.rows desc limit 1"),
        }
        return out

    data = await _catalog(datasette).execute_fn(read)
    base = api_examples.configured_base_url((data["site"] or {}).get("base_url"))
    example = None
    if data["example"]:
        db_name, table = data["example"]["dataset"], data["example"]["name"]
        example = {"dataset": db_name, "table": table,
                   **api_examples.examples(base, datasette.urls.table(db_name, table), datasette.urls.database(db_name), table)}
    personal = []
    for r in data["personal"]:
        for item in _loads(r["personal_data"], []):
            tr = (item.get("gov:translations") or {}).get(lang) or {}
            personal.append({**item, "legal_basis": tr.get("legalBasis") or item.get("legalBasis"),
                             "dataset": r["name"], "dataset_title": i18n.localized_field(r, "title", lang) or r["name"],
                             "dataset_url": dataset_url(datasette, r["name"], lang)})
    for lic in data["licenses"]:
        lic["display_title"] = i18n.localized_field(lic, "title", lang) or lic["id"]
        lic["catalogue_url"] = _url(datasette, lang, "/datasets", [("licence", lic["id"])])
    contact = (data["site"] or {}).get("contact") or {}
    return await render(datasette, request, f"portal_{page}.html", {
        "page": page,
        "base": base,
        "example": example,
        "licenses": data["licenses"],
        "personal": personal,
        "contact_name": i18n.localized(contact.get("name"), lang),
        "contact_email": contact.get("email"),
        "site_description": i18n.localized((data["site"] or {}).get("description"), lang),
        "search_json": f"{base}{datasette.urls.path('/-/search.json')}?" + urlencode({"q": "人口"}),
    })


@hookimpl
def register_routes():
    # The table lives in gongkai.portal.routes so that gongkai.catalog reserves its names.
    views = globals()
    return [(pattern, views[view]) for pattern, view in routes.PORTAL_ROUTES]
