"""A site built from a hostile publisher: script payloads in every field a publisher writes,
for the XSS tests (tests/test_hostile_links.py through Datasette's client, tests/browser/test_xss.py
in Chromium).

Text payloads go through the real build (validation must accept text, so this is what reaches
the pages). URLs validation refuses (`javascript:` sources, licences, homepages, emails) are
written into the built catalog.db and metadata.json afterwards, as a descriptor that slipped
past validation (an older build, a hand edit) would leave them: render-time defence is tested on
its own.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from gongkai.build import build_site

FIXTURES = Path(__file__).parent / "fixtures"

MARK = "window.__xss=(window.__xss||0)+1"
# 7*191 = 1337: a template engine that evaluated the payload would print 1337.
EVALUATED = "1337"
PAYLOADS = [
    f'<img src=x onerror="{MARK}">',
    f'"><svg onload="{MARK}">',
    f"'><script>{MARK}</script>",
    "{{7*191}}",
    "${7*191}",
    "{% print(7*191) %}",
    "#{7*191}",
    f"[md link](javascript:{MARK})",
    f"![md image](javascript:{MARK})",
    f'<a href="javascript:{MARK}">raw link</a>',
    f'<iframe src="javascript:{MARK}"></iframe>',
    f'<details open ontoggle="{MARK}">x</details>',
    "</textarea></title></style><script>alert(1)</script>",
    f"javascript:{MARK}",
    f'<a href="data:text/html,<script>{MARK}</script>">data link</a>',
]
P = " ".join(PAYLOADS)
MARKDOWN = (
    P + f"\n\n[reference link][r] and <javascript:{MARK}>\n\n[r]: javascript:{MARK}\n\n"
    f'<script>{MARK}</script>\n\n| a | b |\n|---|---|\n| <img src=x onerror="{MARK}"> | x |\n'
)
BAD_URLS = [
    f"javascript:{MARK}",
    f" JaVaScRiPt:{MARK}",
    f"java\tscript:{MARK}",
    f"data:text/html,<script>{MARK}</script>",
    f"vbscript:{MARK}",
    "//evil.example/",
]
HOSTILE_COLUMN = f'"><img src=x onerror="{MARK}">'


def _write_yaml(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def build(tmp: Path) -> Path:
    """Build the hostile site under `tmp`; returns the served site folder."""
    root = tmp / "repo"
    shutil.copytree(FIXTURES / "site", root)
    meta = root / "metadata"
    j = lambda v: json.dumps(v, ensure_ascii=False)  # YAML accepts JSON scalars
    with open(meta / "publishers.yaml", "a", encoding="utf-8") as fh:
        fh.write(
            f"- id: xss-pub\n  name: {{zh: {j(P)}, en: {j(P)}}}\n  homepage: https://example.gov.cn/\n"
            f"  email: pub@example.gov.cn\n"
        )
    with open(meta / "themes.yaml", "a", encoding="utf-8") as fh:
        fh.write(f"- id: xss-theme\n  name: {{zh: {j(P)}, en: {j(P)}}}\n  description: {{zh: {j(P)}, en: {j(P)}}}\n")
    with open(meta / "licenses.yaml", "a", encoding="utf-8") as fh:
        fh.write(f"- id: xss-lic\n  title: {{zh: {j(P)}, en: {j(P)}}}\n  url: https://example.gov.cn/licence\n")
    site_yaml = (meta / "site.yaml").read_text(encoding="utf-8")
    site_yaml = site_yaml.replace(
        "contact: {name: 测试, email: open@example.gov.cn}", f"contact: {{name: {j(P)}, email: open@example.gov.cn}}"
    )
    _write_yaml(
        meta / "site.yaml",
        site_yaml + f"description: {{zh: {j(P)}, en: {j(P)}}}\n" if "description:" not in site_yaml else site_yaml,
    )

    folder = root / "datasets" / "xss"
    folder.mkdir()
    enum = ["<b onmouseover=alert(1)>A</b>", f'"><svg onload="{MARK}">']
    rows = [
        ["1", P, enum[0], "12.5", f"javascript:{MARK}"],
        ["2", f"<script>{MARK}</script>", enum[1], "-3", f'https://example.gov.cn/" onmouseover="{MARK}'],
        ["3", "{{7*191}}", enum[0], "0", "plain"],
    ]
    import csv

    with open(folder / "rows.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "kind", "amount", HOSTILE_COLUMN])
        w.writerows(rows)
    descriptor = {
        "name": "xss",
        "title": "XSS " + P,
        "description": MARKDOWN,
        "licenses": [{"name": "xss-lic", "path": "https://example.gov.cn/licence", "title": P}],
        "keywords": PAYLOADS[:6],
        "gov:publisher": "xss-pub",
        "gov:contact": {"name": P, "email": "contact@example.gov.cn"},
        "gov:theme": "xss-theme",
        "gov:frequency": "annual",
        # unconditional, so that its table and row pages are served (and checked) rather than
        # answered 403 (plugins/openness.py); the condition text is shown on its landing page all the same
        "gov:openness": {"class": "unconditional", "condition": P},
        "gov:spatial": {"code": "110000", "name": P},
        "sources": [
            {"title": P, "path": "https://example.gov.cn/source"},
            {"title": "second " + P, "path": "https://example.gov.cn/2"},
        ],
        "gov:translations": {"en": {"title": "XSS en " + P, "description": MARKDOWN, "keywords": PAYLOADS[6:12]}},
        "resources": [
            {
                "name": "rows",
                "path": "rows.csv",
                "title": P,
                "description": P,
                "schema": {
                    "primaryKey": ["id"],
                    "fields": [
                        {"name": "id", "type": "integer", "title": P},
                        {"name": "name", "type": "string", "title": P, "description": P, "gov:searchable": True},
                        {"name": "kind", "type": "string", "title": P, "constraints": {"enum": enum}},
                        {"name": "amount", "type": "number", "title": P, "description": P, "gov:unit": P},
                        {"name": HOSTILE_COLUMN, "type": "string", "title": P, "description": P},
                    ],
                },
            }
        ],
    }
    (folder / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False, indent=1), encoding="utf-8")
    out = tmp / "out"
    result = build_site(root, out)
    assert result.ok, [
        e.get("note") or e.get("message")
        for d in result.datasets
        if not d.valid
        for e in d.report.get("errors", []) + [x for t in d.report.get("tasks", []) for x in t["errors"]]
    ][:5]
    site = (out / "site").resolve()
    plant_bad_urls(site)
    return site


def plant_bad_urls(site: Path) -> None:
    """What validation would refuse, written where the pages read it."""
    conn = sqlite3.connect(site / "catalog.db")
    with conn:
        d = json.loads(conn.execute("select descriptor from datasets where name='xss'").fetchone()[0])
        d["sources"] = [{"title": f"source {i} " + P, "path": url} for i, url in enumerate(BAD_URLS)]
        d["licenses"] = [{"name": "xss-lic", "path": BAD_URLS[0], "title": P}]
        conn.execute(
            "update datasets set sources = ?, descriptor = ?, contact_email = ?, license_path = ? where name = 'xss'",
            [
                json.dumps(d["sources"], ensure_ascii=False),
                json.dumps(d, ensure_ascii=False),
                f'x@example.gov.cn?body="><svg onload="{MARK}">',
                BAD_URLS[0],
            ],
        )
        conn.execute("update licenses set url = ? where id = 'xss-lic'", [BAD_URLS[1]])
        conn.execute(
            "update publishers set homepage = ?, email = ? where id = 'xss-pub'",
            [BAD_URLS[2], f'"><svg onload="{MARK}">@example.gov.cn'],
        )
        conn.execute(
            "update site set contact = ?",
            [json.dumps({"name": P, "email": f'"><img src=x onerror="{MARK}">@x.cn'}, ensure_ascii=False)],
        )
    conn.close()
    # Datasette's per-database metadata (licence, source and their links on the table, row and
    # query pages) is built from these catalogue rows at serve time (gongkai/datasette_files.py
    # `database_metadata`), so the hostile values above reach those pages too.


def page_paths() -> list[tuple[str, str]]:
    """(id, path) of every page type, the hostile dataset's wherever there is one."""
    from urllib.parse import quote

    q = quote(P[:60])
    return [
        ("home", "/"),
        ("catalogue", "/datasets"),
        ("catalogue-q", f"/datasets?q={q}"),
        ("catalogue-kw", "/datasets?keyword=" + quote(PAYLOADS[0])),
        ("landing", "/datasets/xss"),
        ("report", "/datasets/xss/report"),
        ("publisher", "/publishers/xss-pub"),
        ("theme", "/themes/xss-theme"),
        ("about", "/about"),
        ("api", "/api"),
        ("licence", "/licence"),
        ("privacy", "/privacy"),
        ("search", "/-/search?q=" + quote("<script>")),
        ("search-q", f"/-/search?q={q}"),
        ("database", "/xss"),
        ("table", "/xss/rows"),
        ("table-search", "/xss/rows?_search=" + quote("script")),
        ("table-filter", "/xss/rows?kind=" + quote(PAYLOADS[1])),
        ("table-facet", "/xss/rows?_facet=kind"),
        ("row", "/xss/rows/1"),
        ("row-2", "/xss/rows/2"),
        ("query", "/xss?sql=" + quote("select * from rows")),
        ("query-reflect", "/xss?sql=" + quote(f"select '{PAYLOADS[0]}' as x")),
        ("not-found", "/" + quote(PAYLOADS[0])),
    ]
