"""The catalogue files the build writes (gongkai/catalogue_files.py): the whole catalogue as
`/downloads/catalog.csv`, `.excel.csv`, `.json`, `.xlsx`, and `/data.json`, `/data-v3.json`
as files. Each catalogue download is read back (csv, json, openpyxl) and compared with
catalog.db's own rows, on the repository's datasets and on a generated portal of 50 (two of
them withheld); the served data.json equals the streamed one; a no-op rebuild links them."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import opendata_schemas as schemas
import openpyxl
import pytest
from conftest import REPO

from gongkai import catalogue_files, release_files
from gongkai.bench.portal import dataset_name, touch_dataset, write_portal
from gongkai.build import build_site
from gongkai.csv_cells import restore
from gongkai.exports import catalogue_export
from gongkai.serve import make_datasette

GENERATED = 50
CONDITIONAL, CLOSED = dataset_name(3), dataset_name(7)


@pytest.fixture(autouse=True)
def _no_base_override(monkeypatch):
    monkeypatch.delenv("GONGKAI_BASE_URL", raising=False)


@pytest.fixture(scope="module")
def repo_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("catalogue-files-repo")
    assert build_site(REPO, out).ok
    return out / "site"


def _withhold(root: Path, name: str, openness: dict) -> None:
    path = root / "datasets" / name / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    descriptor["gov:openness"] = openness
    path.write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Path]:
    """(project root, build folder) of a generated portal with one conditional and one closed
    dataset; the tests that rebuild it copy it first."""
    out = tmp_path_factory.mktemp("catalogue-files-generated")
    root = write_portal(out / "repo", GENERATED, rows=5, project=REPO)
    _withhold(root, CONDITIONAL, {"class": "conditional", "condition": "须签署数据使用协议", "apply": "向数据中心申请"})
    _withhold(root, CLOSED, {"class": "closed", "condition": "涉及国家秘密"})
    result = build_site(root, out / "build")
    assert result.ok, [d.report for d in result.datasets if not d.valid]
    return root, out / "build"


@pytest.fixture(params=["repo", "generated"])
def site(request) -> Path:
    if request.param == "repo":
        return request.getfixturevalue("repo_site")
    return request.getfixturevalue("generated")[1] / "site"


async def _datasette(site: Path):
    ds = make_datasette(site, root=REPO)
    await ds.invoke_startup()
    return ds


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _catalogue(site: Path) -> list[dict]:
    """catalog.db's datasets in name order, read with plain SQL: the oracle the files are checked against."""
    conn = sqlite3.connect(f"file:{site / 'catalog.db'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in conn.execute("select * from datasets order by name")]
        publishers = {r["id"]: dict(r) for r in conn.execute("select * from publishers")}
        themes = {r["id"]: dict(r) for r in conn.execute("select * from themes")}
    finally:
        conn.close()
    for r in rows:
        r["publisher_record"] = publishers.get(r["publisher"]) or {}
        r["theme_record"] = themes.get(r["theme"]) or {}
    return rows


def _expected(d: dict) -> dict:
    """What the downloads say about one dataset, from its catalog.db row."""
    other = "en" if d["language"] == "zh" else "zh"
    keywords = {d["language"]: json.loads(d["keywords"] or "[]"), other: json.loads(d["keywords_translated"] or "[]")}
    return {
        "name": d["name"],
        "title_zh": d["title"] if d["language"] == "zh" else d["title_zh"],
        "title_en": d["title"] if d["language"] == "en" else d["title_en"],
        "publisher": d["publisher"],
        "publisher_zh": d["publisher_record"].get("name"),
        "publisher_en": d["publisher_record"].get("name_en"),
        "theme": d["theme"],
        "theme_zh": d["theme_record"].get("name"),
        "keywords_zh": keywords["zh"] or [],
        "keywords_en": keywords["en"] or [],
        "license": d["license"],
        "issued": d["issued"],
        "modified": d["modified"],
        "frequency": d["frequency"],
        "openness": d["openness"],
        "resources": d["resources"],
        "rows": d["rows"],
    }


def _catalog_json(site: Path) -> dict:
    return json.loads((site / "downloads" / "catalog.json").read_text(encoding="utf-8"))


def test_catalog_json_is_the_catalogue(site):
    doc = _catalog_json(site)
    catalogue = _catalogue(site)
    assert doc["total"] == len(catalogue) == len(doc["datasets"])
    assert list(doc["columns"]) == list(catalogue_export.COLUMNS)
    assert all(set(title) == {"zh", "en"} and all(title.values()) for title in doc["columns"].values())
    for got, d in zip(doc["datasets"], catalogue, strict=True):
        assert {k: got[k] for k in _expected(d)} == _expected(d)
        assert got["landing_page"].endswith(f"/datasets/{d['name']}")
        # the download URLs are the dataset's published files, as its manifest lists them
        manifest = (
            json.loads((release_files.downloads(site, d["name"]) / "files.json").read_text()) if got["files"] else None
        )
        if manifest is not None:
            assert [f["sha256"] for f in got["files"]] == [f["sha256"] for f in manifest["files"]]
            assert got["data_package_url"].endswith(f"/downloads/{d['name']}/{d['name']}.zip")
            assert got["csv_urls"] and all(u.endswith(".csv") for u in got["csv_urls"])


def _spreadsheet(values: dict) -> list:
    """A JSON entry as the CSV and XLSX write it: lists one per line, None empty."""
    out = []
    for key in catalogue_export.COLUMNS:
        value = values[key]
        out.append("\n".join(value) if isinstance(value, list) else value)
    return out


def test_the_csvs_and_the_xlsx_hold_the_same_rows(site):
    doc = _catalog_json(site)
    expected = [_spreadsheet(v) for v in doc["datasets"]]
    as_text = [["" if v is None else str(v) for v in row] for row in expected]
    header = catalogue_export.headers()
    assert all(
        any("\u4e00" <= ch <= "\u9fff" for ch in h) and any(ch.isascii() and ch.isalpha() for ch in h) for h in header
    )

    plain = (site / "downloads" / "catalog.csv").read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(plain.decode("utf-8"), newline="")))
    assert rows[0] == header
    assert [[restore(c) for c in row] for row in rows[1:]] == as_text

    excel = (site / "downloads" / "catalog.excel.csv").read_bytes()
    assert excel.startswith(b"\xef\xbb\xbf") and b"\r\n" in excel
    assert list(csv.reader(io.StringIO(excel.decode("utf-8-sig"), newline=""))) == rows

    book = openpyxl.load_workbook(site / "downloads" / "catalog.xlsx", read_only=True)
    sheet = book[catalogue_export.SHEET]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    assert cells[0] == header
    assert [[restore(v) if isinstance(v, str) else v for v in row] for row in cells[1:]] == expected


def test_withheld_datasets_are_listed_without_data_urls(generated):
    site = generated[1] / "site"
    by_name = {d["name"]: d for d in _catalog_json(site)["datasets"]}
    assert len(by_name) == GENERATED
    for name, level in ((CONDITIONAL, "restricted public"), (CLOSED, "non-public")):
        d = by_name[name]
        assert d["openness"] in ("conditional", "closed") and d["access_level"] == level
        assert d["files"] == [] and d["csv_urls"] == []
        assert d["api_url"] is None and d["data_package_url"] is None and d["sqlite_url"] is None
        assert d["landing_page"].endswith(f"/datasets/{name}") and d["metadata_url"]
    opened = by_name[dataset_name(1)]
    assert opened["access_level"] == "public" and opened["files"] and opened["api_url"].endswith(".json")


async def test_downloads_are_served_like_every_file(generated):
    site = generated[1] / "site"
    ds = await _datasette(site)
    manifest = {e["path"]: e for e in json.loads((site / "downloads" / "files.json").read_text())["files"]}
    assert set(manifest) == set(catalogue_export.FILES)
    for name in catalogue_export.FILES:
        body = (site / "downloads" / name).read_bytes()
        r = await ds.client.get(f"/downloads/{name}", headers={"accept-encoding": "identity"})
        assert r.status_code == 200 and r.content == body
        assert r.headers["content-type"] == manifest[name]["media_type"]
        assert r.headers["content-length"] == str(len(body)) == str(manifest[name]["bytes"])
        assert r.headers["content-disposition"].startswith("attachment;") and name in r.headers["content-disposition"]
        assert r.headers["etag"] and r.headers["accept-ranges"] == "bytes"
        again = await ds.client.get(  # the same coding: each coding has its own tag
            f"/downloads/{name}", headers={"if-none-match": r.headers["etag"], "accept-encoding": "identity"}
        )
        assert again.status_code == 304
        part = await ds.client.get(f"/downloads/{name}", headers={"range": "bytes=10-99"})
        assert part.status_code == 206 and part.content == body[10:100]
    zipped = await ds.client.get("/downloads/catalog.json", headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.json()["total"] == GENERATED
    # every data URL the catalogue lists answers (a few of each kind: the rest are the same routes)
    entry = next(d for d in _catalog_json(site)["datasets"] if d["files"])
    for url in [
        entry["data_package_url"],
        entry["sqlite_url"],
        *entry["csv_urls"],
        entry["api_url"],
        entry["metadata_url"],
    ]:
        got = await ds.client.get(_path(url), headers={"range": "bytes=0-99"})
        assert got.status_code in (200, 206), url
    assert (await ds.client.get("/downloads/catalog.txt")).status_code == 404


async def test_catalogue_and_api_pages_link_the_downloads(generated):
    ds = await _datasette(generated[1] / "site")
    for page in ("/datasets", "/api", "/datasets?_lang=en", "/api?_lang=en"):
        html = (await ds.client.get(page)).text
        for name in ("catalog.csv", "catalog.excel.csv", "catalog.json", "catalog.xlsx"):
            assert f'href="/downloads/{name}"' in html, (page, name)


def _streaming_copy(site: Path, dest: Path) -> Path:
    """The same release without the build's record of its documents: a server of it streams."""
    shutil.copytree(site, dest, ignore=shutil.ignore_patterns(".serving.lock"))
    (dest / catalogue_files.RECORD).unlink()
    return dest


@pytest.mark.parametrize("path,validator", [("/data.json", "dcat_us_11"), ("/data-v3.json", "dcat_us_30")])
async def test_the_served_file_is_the_streamed_document(generated, tmp_path, path, validator):
    site = generated[1] / "site"
    from_file = await (await _datasette(site)).client.get(path, headers={"accept-encoding": "identity"})
    streamed = await (await _datasette(_streaming_copy(site, tmp_path / "copy"))).client.get(
        path, headers={"accept-encoding": "identity"}
    )
    assert from_file.status_code == streamed.status_code == 200
    assert from_file.headers["content-length"] == str(len(from_file.content))  # the file
    assert "content-length" not in streamed.headers  # the stream
    assert from_file.content == streamed.content
    assert from_file.headers["content-type"] == streamed.headers["content-type"]
    assert from_file.headers["access-control-allow-origin"] == "*"
    assert "content-disposition" not in from_file.headers  # a document a browser shows
    doc = from_file.json()
    assert schemas.errors(getattr(schemas, validator)(), doc) == []
    assert len(doc["dataset"]) == GENERATED


async def test_a_different_base_url_streams_its_own_document(generated, monkeypatch):
    site = generated[1] / "site"
    built = (site / "documents" / "data.json").read_bytes()
    monkeypatch.setenv("GONGKAI_BASE_URL", "https://data.example.gov.cn/open")
    r = await (await _datasette(site)).client.get("/data.json", headers={"accept-encoding": "identity"})
    assert r.status_code == 200 and "content-length" not in r.headers
    assert r.content != built and b"https://data.example.gov.cn/open/datasets/" in r.content
    assert b"http://127.0.0.1:8001/" in built  # site.yaml's base_url, which the build used


def _inodes(site: Path) -> dict[str, int]:
    record = catalogue_files.read_record(site)
    return {rel: (site / rel).stat().st_ino for rel in record["files"]}


def test_a_noop_rebuild_links_the_files_and_a_change_rewrites_them(generated, tmp_path):
    root, build = generated
    root2, out = tmp_path / "repo", tmp_path / "build"
    shutil.copytree(root, root2)
    shutil.copytree(build, out, symlinks=True)  # `site` is a relative link: it points into the copy
    before = _inodes(out / "site")
    assert {"documents/data.json", "documents/data-v3.json", "downloads/catalog.csv", "downloads/files.json"} <= set(
        before
    )
    assert build_site(root2, out).ok
    assert _inodes(out / "site") == before  # the same inode: linked, not written

    touch_dataset(root2, 2, n=GENERATED, rows=5)
    descriptor = root2 / "datasets" / dataset_name(2) / "datapackage.json"
    d = json.loads(descriptor.read_text(encoding="utf-8"))
    d["title"] = "改过的标题"
    descriptor.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    assert build_site(root2, out).ok
    after = _inodes(out / "site")
    assert set(after) == set(before) and all(after[k] != before[k] for k in before)
    assert "改过的标题" in (out / "site" / "downloads" / "catalog.csv").read_text(encoding="utf-8")
    assert "改过的标题" in (out / "site" / "documents" / "data.json").read_text(encoding="utf-8")


async def test_the_dcat_catalogue_lists_its_own_downloads(generated):
    from rdflib import Graph, URIRef
    from rdflib.namespace import DCAT

    site = generated[1] / "site"
    ds = await _datasette(site)
    r = await ds.client.get("/catalog.ttl")
    assert r.status_code == 200
    g = Graph().parse(data=r.content, format="turtle")
    catalog = next(g.subjects(predicate=DCAT.dataset))
    found = {}
    for dist in g.objects(catalog, DCAT.distribution):
        url = str(next(g.objects(dist, DCAT.downloadURL)))
        found[url.rsplit("/", 1)[1]] = (int(next(g.objects(dist, DCAT.byteSize)).toPython()), dist)
    assert set(found) == set(catalogue_export.FILES)
    spdx = "http://spdx.org/rdf/terms#"
    for name, (size, dist) in found.items():
        body = (site / "downloads" / name).read_bytes()
        assert size == len(body)
        checksum = next(g.objects(dist, URIRef(spdx + "checksum")))
        assert str(next(g.objects(checksum, URIRef(spdx + "checksumValue")))) == hashlib.sha256(body).hexdigest()
    conforms, report = schemas.shacl(r.content, "turtle")
    assert conforms, report[:2000]


def _from_scratch(site: Path, dest: Path) -> Path:
    """The catalogue files of the same catalogue and dataset files, written with no previous
    release (every fragment rendered)."""
    dest.mkdir()
    for name in ("catalog.db", release_files.BUCKETS):
        (dest / name).symlink_to(site.resolve() / name)
    catalogue_files.write(dest, None, catalogue_unchanged=False)
    return dest


def test_kept_fragments_give_the_bytes_of_a_fresh_write(generated, tmp_path, monkeypatch):
    """After a change, an addition, a removal and a publisher's new title, the files the build
    assembled from the previous release's fragments are those written from scratch, and only
    the datasets whose entry moved were rendered."""
    root, build = generated
    root2, out = tmp_path / "repo", tmp_path / "build"
    shutil.copytree(root, root2)
    shutil.copytree(build, out, symlinks=True)
    rendered: list[str] = []
    render = catalogue_files.render

    def counting(entry, *args):
        rendered.append(entry.dataset.name)
        return render(entry, *args)

    monkeypatch.setattr(catalogue_files, "render", counting)
    publishers = root2 / "metadata" / "publishers.yaml"
    steps = [
        ("change", lambda: touch_dataset(root2, 2, n=GENERATED, rows=5), [dataset_name(2)]),
        ("addition", lambda: touch_dataset(root2, GENERATED + 1, n=GENERATED, rows=5), [dataset_name(GENERATED + 1)]),
        ("removal", lambda: shutil.rmtree(root2 / "datasets" / dataset_name(5)), []),
        (
            "publisher title",
            lambda: publishers.write_text(
                publishers.read_text(encoding="utf-8").replace("Data Office 1\n", "Data Bureau 1\n"), encoding="utf-8"
            ),
            None,  # metadata/ is in every dataset's digest: all are rendered again
        ),
    ]
    for label, step, expected in steps:
        step()
        rendered.clear()
        assert build_site(root2, out).ok, label
        site = out / "site"
        if expected is not None:
            assert rendered == expected, label
        fresh = _from_scratch(site, tmp_path / f"fresh-{len(list(tmp_path.iterdir()))}")
        files = catalogue_files.read_record(site)["files"]
        assert files == catalogue_files.read_record(fresh)["files"]
        for rel in files:
            assert (site / rel).read_bytes() == (fresh / rel).read_bytes(), (label, rel)
    assert "Data Bureau 1" in (out / "site" / "downloads" / "catalog.csv").read_text(encoding="utf-8")
    names = [d["name"] for d in _catalog_json(out / "site")["datasets"]]
    assert dataset_name(GENERATED + 1) in names and dataset_name(5) not in names
    book = openpyxl.load_workbook(out / "site" / "downloads" / "catalog.xlsx", read_only=True)
    rows = list(book[catalogue_export.SHEET].iter_rows(values_only=True))
    book.close()
    assert [r[0] for r in rows[1:]] == names


def test_the_sheet_rows_read_back_exactly(tmp_path):
    """catalog.xlsx's rows are written as XML by gongkai (catalogue_sheet.row_xml): markup
    characters, edge spaces, control characters and literal `_xHHHH_` come back as they were
    (calamine decodes them as Excel does), numbers stay numbers, list cells wrap."""
    from python_calamine import CalamineWorkbook

    from gongkai.exports import catalogue_sheet

    header = ["a", "b", "c", "d", "e", "f", "g", "h"]
    values = ['a&<b>"', " lead ", "x\r\ny", "c\x01d", "_x0041_", 1.5, None, "l1\nl2"]
    sheet = catalogue_sheet.Skeleton("表 Sheet", header)
    path = tmp_path / "t.xlsx"
    sheet.write(path, 2, io.BytesIO(catalogue_sheet.row_xml(values, sheet.wrap_style, "\n") * 2))
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("表 Sheet").to_python()
    assert rows == [header, ["" if v is None else v for v in values], ["" if v is None else v for v in values]]
    book = openpyxl.load_workbook(path)
    ws = book["表 Sheet"]
    assert ws.freeze_panes == "B2" and ws.dimensions == "A1:H3"
    assert ws["H2"].alignment.wrap_text and not ws["A2"].alignment.wrap_text and ws["F3"].value == 1.5
    book.close()
    again = tmp_path / "again.xlsx"
    sheet.write(again, 2, io.BytesIO(catalogue_sheet.row_xml(values, sheet.wrap_style, "\n") * 2))
    assert again.read_bytes() == path.read_bytes()  # the same rows, the same bytes
