"""The downloads built ahead of time (gongkai/exports/): each format read back with its own
reader (csv, json, openpyxl, pyarrow, sqlite3, zipfile + frictionless) equals the SQLite table
once the formula-neutralising prefix is removed; formulas are made inert and numbers are not;
the manifest's sizes and SHA-256 are the bytes served; the download route answers ranges, gzip
and RFC 6266 names; an unchanged dataset's exports are linked, not rebuilt."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import sqlite3
import zipfile
from pathlib import Path
from urllib.parse import unquote

import brotli
import openpyxl
import pyarrow.parquet as pq
import pytest
from frictionless import Package
from werkzeug.http import parse_options_header  # schemathesis's and locust's dependency

from gongkai import csv_cells, exports, release_files
from gongkai.build import build_site
from gongkai.exports.publish import export_names
from gongkai.exports.xlsx_export import DICTIONARY_SHEET
from gongkai.serve import make_datasette

REPO = Path(__file__).resolve().parent.parent
HOSTILE = [
    ["1", '=HYPERLINK("http://evil.example","点我")', "-3.5", "2024-01-02", "true"],
    ["2", "+86 10 1234", "0", "2024-01-03", "false"],
    ["3", "@SUM(A1:A2)", "12.25", "2024-01-04", "true"],
    ["4", "-cmd|' /C calc'!A0", "-7", "2024-01-05", "false"],
    ["5", "普通文本，含“引号”", "1000000", "2024-01-06", "true"],
    ["6", "-3.5", "3", "2024-01-07", "false"],
]


def _add_formulas_dataset(root: Path) -> None:
    folder = root / "datasets" / "formulas"
    folder.mkdir(parents=True)
    lines = ["编号,文本,金额,日期,公开"] + [
        ",".join(f'"{c}"' if "," in c or '"' in c else c for c in row) for row in HOSTILE
    ]
    # enough plain rows that the text exports pass precompress.MIN_BYTES and get stored copies
    lines += [
        f"{i},广安区政务服务事项第{i % 97}号，办理地点：第{i % 13}窗口,{i}.5,2024-02-0{i % 9 + 1},true"
        for i in range(7, 2507)
    ]
    text = "\n".join(lines).replace(
        '"=HYPERLINK("http://evil.example","点我")"', '"=HYPERLINK(""http://evil.example"",""点我"")"'
    )
    (folder / "data.csv").write_text(text + "\n", encoding="utf-8")
    budget = json.loads((root / "datasets" / "budget" / "datapackage.json").read_text(encoding="utf-8"))
    budget.update(name="formulas", title="公式测试（采购）", description="含公式样式的文本。")
    budget["gov:translations"] = {"en": {"title": "Formula test: procurement"}}
    budget["resources"] = [
        {
            "name": "cells",
            "path": "data.csv",
            "title": "单元格",
            "schema": {
                "fields": [
                    {"name": "编号", "type": "integer", "title": "编号"},
                    {"name": "文本", "type": "string", "title": "文本内容"},
                    {"name": "金额", "type": "number", "title": "金额（万元）"},
                    {"name": "日期", "type": "date"},
                    {"name": "公开", "type": "boolean"},
                ],
                "primaryKey": ["编号"],
            },
        }
    ]
    (folder / "datapackage.json").write_text(json.dumps(budget, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("exports")
    import shutil

    shutil.copytree(REPO / "tests" / "fixtures" / "site", out / "repo")
    _add_formulas_dataset(out / "repo")
    result = build_site(out / "repo", out / "build")
    assert result.ok, [(d.name, d.report) for d in result.datasets if not d.valid]
    return out / "build" / "site"


def restore(value):
    return csv_cells.restore(value) if isinstance(value, str) else value


def _table(site: Path, dataset: str, table: str) -> tuple[list[str], list[tuple]]:
    conn = sqlite3.connect(release_files.database(site, dataset))
    cur = conn.execute(f"select * from [{table}] order by rowid")
    return [c[0] for c in cur.description], cur.fetchall()


def _names(site: Path, dataset: str) -> dict:
    from gongkai.descriptors import read_dataset

    ds = read_dataset(release_files.downloads(site, dataset))
    return export_names(ds)


@pytest.mark.parametrize("dataset, table", [("formulas", "cells"), ("budget", "budget"), ("towns", "cities")])
def test_every_format_round_trips_to_the_table(built, dataset, table):
    columns, rows = _table(built, dataset, table)
    folder = release_files.downloads(built, dataset)
    names = _names(built, dataset)

    def restored(values):
        return [restore(v) for v in values]

    for kind, excel in (("csv", False), ("excel-csv", True)):
        raw = (folder / names[(table, kind)]).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") == excel
        assert (b"\r\n" in raw) == excel
        got = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert got[0] == columns
        assert [restored(r) for r in got[1:]] == [["" if v is None else str(v) for v in row] for row in rows]
    as_json = json.loads((folder / names[(table, "json")]).read_text(encoding="utf-8"))
    assert as_json == [dict(zip(columns, row)) for row in rows]
    lines = (folder / names[(table, "ndjson")]).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == as_json
    book = openpyxl.load_workbook(folder / names[(table, "xlsx")], read_only=True)
    sheet = book.worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == len(rows) + 1
    for got_row, row in zip(values[1:], rows):
        assert [restore(v) for v in got_row] == list(row)
    assert DICTIONARY_SHEET in book.sheetnames
    table_pq = pq.read_table(folder / names[(table, "parquet")])
    assert table_pq.column_names == columns
    parquet_rows = [tuple(str(v) if hasattr(v, "isoformat") else v for v in r.values()) for r in table_pq.to_pylist()]
    assert parquet_rows == [tuple(row) for row in rows]


def test_formulas_are_inert_and_numbers_are_not_touched(built):
    folder = release_files.downloads(built, "formulas")
    names = _names(built, "formulas")
    got = list(csv.reader(io.StringIO((folder / names[("cells", "excel-csv")]).read_text(encoding="utf-8-sig"))))
    texts = [r[1] for r in got[1:]]
    assert texts[0].startswith("'=HYPERLINK") and texts[2] == "'@SUM(A1:A2)" and texts[3].startswith("'-cmd")
    assert texts[1] == "'+86 10 1234"  # not a number: made inert
    assert texts[5] == "-3.5" and got[1][2] == "-3.5"  # numbers, as text or as numbers, unchanged
    sheet = openpyxl.load_workbook(folder / names[("cells", "xlsx")]).worksheets[0]
    assert sheet["B2"].data_type == "s" and sheet["B2"].value.startswith("'=")  # a string, not a formula
    assert sheet["C2"].value == -3.5 and sheet["C2"].data_type == "n"
    assert sheet["A1"].value == "编号" and sheet["C1"].value == "金额（万元）"  # titles as the header
    # the original is published byte for byte
    assert (folder / "data.csv").read_bytes() == (built.parent.parent / "repo/datasets/formulas/data.csv").read_bytes()


def test_the_zip_is_a_data_package_frictionless_accepts(built, tmp_path):
    archive = release_files.downloads(built, "towns") / "towns.zip"
    with zipfile.ZipFile(archive) as z:
        assert "datapackage.json" in z.namelist()
        z.extractall(tmp_path)
    descriptor = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    for res in descriptor["resources"]:
        data = (tmp_path / res["path"]).read_bytes()
        assert res["hash"] == "sha256:" + hashlib.sha256(data).hexdigest() and res["bytes"] == len(data)
    report = Package(str(tmp_path / "datapackage.json")).validate()
    assert report.valid, report.flatten(["type", "note"])
    (tmp_path / "data" / "cities.csv").write_bytes((tmp_path / "data" / "cities.csv").read_bytes() + b"x,y,11\n")
    assert not Package(str(tmp_path / "datapackage.json")).validate().valid  # the checksums are checked


def test_the_manifest_is_the_bytes_served(built):
    for dataset in ("budget", "towns", "formulas"):
        folder = release_files.downloads(built, dataset)
        entries = exports.read_manifest(folder)
        kinds = {e.kind for e in entries}
        assert {"original", "csv", "excel-csv", "json", "ndjson", "xlsx", "parquet", "dictionary", "zip", "db"} <= kinds
        for e in entries:
            data = (folder / e.path).read_bytes()
            assert e.bytes == len(data) and e.sha256 == hashlib.sha256(data).hexdigest(), e.path


async def test_downloads_answer_ranges_encodings_and_readable_names(built):
    ds = make_datasette(built, root=REPO)
    await ds.invoke_startup()
    names = _names(built, "formulas")
    url = f"/downloads/formulas/{names[('cells', 'xlsx')]}"
    r = await ds.client.get(url)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r.headers["accept-ranges"] == "bytes" and r.headers["access-control-allow-origin"] == "*"
    # RFC 6266: the file's name in ASCII, the dataset's title (one table) in the page's language
    kind, options = parse_options_header(r.headers["content-disposition"])
    assert kind == "attachment" and options["filename"] == "公式测试（采购）.xlsx"
    assert 'filename="cells.xlsx"' in r.headers["content-disposition"]
    size = len(r.content)
    r = await ds.client.get(url, headers={"range": "bytes=10-19"})
    assert r.status_code == 206 and r.headers["content-range"] == f"bytes 10-19/{size}" and len(r.content) == 10
    r = await ds.client.get(url, headers={"range": "bytes=-5"})
    assert r.status_code == 206 and len(r.content) == 5
    r = await ds.client.get(url, headers={"range": f"bytes={size}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{size}"
    db = await ds.client.get("/downloads/formulas/formulas.db", headers={"range": "bytes=0-15"})
    assert db.status_code == 206 and db.content == b"SQLite format 3\x00"
    # a reader on another origin (sql.js-httpvfs) may send Range and read Content-Range
    assert "Content-Range" in db.headers["access-control-expose-headers"]
    pre = await ds.client.options(
        "/downloads/formulas/formulas.db",
        headers={"origin": "https://reader.example", "access-control-request-headers": "range"},
    )
    assert pre.status_code == 204 and "Range" in pre.headers["access-control-allow-headers"]
    zipped = await ds.client.get("/downloads/formulas/formulas.zip?_lang=en")
    assert parse_options_header(zipped.headers["content-disposition"])[1]["filename"] == "Formula test- procurement.zip"
    # text formats: the copy stored at build time for br or gzip, by q-value; ranges and a
    # client that accepts neither get the file as stored; each coding has its own tag
    folder = release_files.downloads(built, "formulas")
    path = f"/downloads/formulas/{names[('cells', 'json')]}"
    whole = (folder / names[("cells", "json")]).read_bytes()
    tags = {}
    for accept, coding, suffix in (
        ("br;q=1, gzip;q=0.8", "br", ".br"),
        ("br;q=0.1, gzip", "gzip", ".gz"),
        ("identity", None, ""),
    ):
        got = await ds.client.get(path, headers={"accept-encoding": accept})  # httpx decodes br and gzip
        assert got.status_code == 200 and got.headers.get("content-encoding") == coding, accept
        assert got.headers["vary"] == "Accept-Encoding" and got.content == whole
        # the stored copy, sent whole: its length, and it decodes to the file
        stored = (folder / (names[("cells", "json")] + suffix)).read_bytes()
        assert int(got.headers["content-length"]) == len(stored) and got.num_bytes_downloaded == len(stored)
        assert {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[coding](stored) == whole
        tags[accept] = got.headers["etag"]
        head = await ds.client.head(path, headers={"accept-encoding": accept})
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == tags[accept]
        assert head.headers["content-length"] == got.headers["content-length"]
        again = await ds.client.get(path, headers={"accept-encoding": accept, "if-none-match": tags[accept]})
        assert again.status_code == 304 and again.headers["etag"] == tags[accept]
    assert len(set(tags.values())) == 3
    assert tags["identity"] == '"' + hashlib.sha256(whole).hexdigest()[:32] + '"'
    part = await ds.client.get(path, headers={"accept-encoding": "br", "range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == whole[:100] and "content-encoding" not in part.headers
    resumed = await ds.client.get(path, headers={"range": "bytes=100-", "if-range": tags["identity"]})
    assert resumed.status_code == 206 and resumed.content == whole[100:]
    stale = await ds.client.get(path, headers={"range": "bytes=100-", "if-range": '"other"'})
    assert stale.status_code == 200 and stale.content == whole
    # a file too small for a stored copy is compressed on the fly, under a weak tag of its own
    small = "/downloads/formulas/" + names[("cells", "dictionary")]
    fly = await ds.client.get(small, headers={"accept-encoding": "gzip"})
    raw = (folder / names[("cells", "dictionary")]).read_bytes()
    if len(raw) > 1024:
        assert fly.headers["content-encoding"] == "gzip" and fly.headers["etag"].startswith('W/"')
    assert fly.content == raw
    # by its content (`?v=`, as the landing page links it): cacheable for a year; a stale or
    # made-up version still gets the current file, under the short policy
    sha = hashlib.sha256(whole).hexdigest()
    kept = await ds.client.get(path + f"?v={sha[:16]}")
    assert kept.headers["cache-control"] == "public, max-age=31536000, immutable" and kept.content == whole
    assert kept.headers["etag"] == tags["br;q=1, gzip;q=0.8"]  # httpx asks for br
    for v in ("0" * 16, sha[:8], ""):
        other = await ds.client.get(path + f"?v={v}")
        assert other.headers["cache-control"].startswith("public, max-age=60") and other.content == whole
    page = (await ds.client.get("/datasets/formulas")).text
    assert f"{names[('cells', 'json')]}?v={sha[:16]}" in page
    assert (
        f"{names[('cells', 'json')]}?v={sha[:16]}&amp;_lang=en"
        in (await ds.client.get("/datasets/formulas?_lang=en")).text
    )
    # the original file keeps its name's suffix under the dataset's title
    original = await ds.client.get("/downloads/budget/budget.csv")
    assert original.headers["content-type"] == "text/csv; charset=utf-8"
    assert parse_options_header(original.headers["content-disposition"])[1]["filename"] == "财政预算.csv"


def test_an_unchanged_dataset_links_its_exports(built, tmp_path):
    repo = built.parent.parent / "repo"
    result = build_site(repo, built.parent)
    assert result.ok and set(result.reused) >= {"budget", "towns", "formulas"}
    site = built.parent / "site"
    before = built.resolve()  # the release the fixture built, still kept as the previous one
    for dataset in ("budget", "formulas"):
        # the same object: every export is the previous release's very file, not written again
        assert os.path.samefile(release_files.folder(site, dataset), release_files.folder(before, dataset))
        for e in exports.read_manifest(release_files.downloads(site, dataset)):
            path = release_files.downloads(site, dataset) / e.path
            assert os.path.samefile(path, release_files.downloads(before, dataset) / e.path), e.path


def test_disposition_names_in_ascii_and_utf8():
    from gongkai.portal.file_response import disposition

    cd = disposition("财政 预算.xlsx")
    assert cd.startswith('attachment; filename="')
    assert unquote(cd.split("filename*=UTF-8''")[1]) == "财政 预算.xlsx"
    assert all(ord(ch) < 128 for ch in cd)


def test_exports_keep_loose_sqlite_values_exact(tmp_path):
    """What SQLite may hold beyond the schema: exact doubles, infinity, bytes, huge integers, text
    in an integer column. JSON comes from SQLite's json_object, Parquet converts in pyarrow with
    a restart when a column does not fit its type: neither may lose or invent a value."""
    from gongkai.exports.publish import write_export

    db = tmp_path / "loose.db"
    conn = sqlite3.connect(db)
    conn.execute("create table t (n integer, x real, s text, d text, b integer, raw blob)")
    rows = [
        (1, 0.1 + 0.2, "=1+1", "2024-02-29", 1, b"\x00\xff"),
        (2**62, float("inf"), "'=x", "2024-03-01", 0, None),
        ("不是数字", -3.5, None, None, None, None),
    ]
    conn.executemany("insert into t values (?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    fields = [
        {"name": "n", "type": "integer"},
        {"name": "x", "type": "number"},
        {"name": "s", "type": "string"},
        {"name": "d", "type": "date"},
        {"name": "b", "type": "boolean"},
        {"name": "raw", "type": "string"},
    ]
    cols = ["n", "x", "s", "d", "b", "raw"]
    ro = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    for kind in ("json", "ndjson", "parquet", "csv"):
        write_export(kind, ro, "t", cols, fields, tmp_path / f"t.{kind}")
    ro.close()
    got = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert got[0]["x"] == 0.1 + 0.2 and got[0]["raw"] == "AP8="  # every digit; bytes as base64
    assert got[1]["n"] == 2**62 and got[1]["x"] is None  # JSON has no infinity
    assert got[2]["n"] == "不是数字" and got[0]["s"] == "=1+1"  # JSON is data, not a spreadsheet
    lines = (tmp_path / "t.ndjson").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == got
    table = pq.read_table(tmp_path / "t.parquet")
    # text in the integer column: that column is text, the others keep their types
    assert str(table.schema.field("n").type) == "string" and table.column("n").to_pylist()[1] == str(2**62)
    assert str(table.schema.field("d").type) == "date32[day]" and str(table.schema.field("b").type) == "bool"
    assert table.column("x").to_pylist()[0] == 0.1 + 0.2 and table.column("b").to_pylist() == [True, False, None]
    written = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_text(encoding="utf-8"))))
    assert [r[2] for r in written[1:]] == ["'=1+1", "''=x", ""]  # neutralised, restorable
    assert [csv_cells.restore(r[2]) for r in written[1:3]] == ["=1+1", "'=x"]
    assert written[1][1] == repr(0.1 + 0.2) and written[3][1] == "-3.5"


def test_xlsx_cells_from_sqlite_are_the_values_and_never_formulas(tmp_path):
    """The workbook's rows come from SQL (gongkai/exports/xlsx_export.py): whatever the value,
    a reader gets it back (numbers as numbers, every digit kept, text neutralised as in the
    CSVs, control characters and long text as Excel writes them), read by openpyxl and calamine."""
    from python_calamine import CalamineWorkbook

    from gongkai.exports.publish import write_export
    from gongkai.exports.xlsx_export import MAX_TEXT

    long = "长" * (MAX_TEXT + 100)
    texts = [
        "=1+1",
        "'=x",
        "a & b < c > d",
        " lead",
        "trail ",
        "\u3000全角空格",
        "ctl\x01x",
        "_x0041_ lit",
        "",
        long,
        "-3.5",
        "+86 10",
        "多行\n文本",
        "tab\tinside",
        "普通文本",
    ]
    numbers = [
        1,
        2**62,
        "不是数字",
        -(2**63),
        0.1 + 0.2,
        float("inf"),
        float("-inf"),
        1e300,
        -0.5,
        None,
        7,
        8,
        9,
        10,
        11,
    ]
    db = tmp_path / "cells.db"
    conn = sqlite3.connect(db)
    conn.execute("create table t (v, s text, raw blob)")
    conn.executemany(
        "insert into t values (?, ?, ?)",
        [(n, s, b"\x00\xff" if i == 0 else None) for i, (n, s) in enumerate(zip(numbers, texts))],
    )
    conn.commit()
    ro = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    fields = [
        {"name": "v", "type": "any", "title": "=值"},
        {"name": "s", "type": "string"},
        {"name": "raw", "type": "string"},
    ]
    write_export("xlsx", ro, "t", ["v", "s", "raw"], fields, tmp_path / "t.xlsx")
    ro.close()

    def expected_number(n):
        if isinstance(n, int) and abs(n) >= 2**53:
            return str(n)
        if isinstance(n, float) and n in (float("inf"), float("-inf")):
            return "inf" if n > 0 else "-inf"
        return n

    expected_text = [csv_cells.neutralise(t)[:MAX_TEXT] or None for t in texts]
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == ["'=值", "s", "raw"]  # titles neutralised too
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [expected_number(n) for n in numbers]
    assert rows[0][2] == "00ff" and all(r[2] is None for r in rows[1:])
    assert all(sheet.cell(row=i, column=2).data_type == "s" for i in range(2, len(texts) + 2) if texts[i - 2])
    assert sheet["A6"].data_type == "n" and sheet["A6"].value == 0.1 + 0.2  # every digit
    # openpyxl leaves Excel's _xHHHH_ escapes as written; calamine decodes them, as Excel does
    calamine = CalamineWorkbook.from_path(str(tmp_path / "t.xlsx")).get_sheet_by_index(0).to_python()
    assert [r[1] or None for r in calamine[1:]] == expected_text
    assert rows[6][1] == "ctl_x0001_x" and rows[7][1] == "_x005F_x0041_ lit"
    assert [r[1] for r in rows if r[1] not in ("ctl_x0001_x", "_x005F_x0041_ lit")] == [
        t for t in expected_text if t not in ("ctl\x01x", "_x0041_ lit")
    ]
    assert book.sheetnames == ["数据 Data", DICTIONARY_SHEET]


def test_xlsx_splits_rows_across_sheets_past_the_limit(tmp_path, monkeypatch):
    from gongkai.exports import xlsx_export
    from gongkai.exports.publish import write_export

    monkeypatch.setattr(xlsx_export, "DATA_ROWS", 4)
    monkeypatch.setattr(xlsx_export, "CHUNK", 3)
    db = tmp_path / "many.db"
    conn = sqlite3.connect(db)
    conn.execute("create table t (n integer, s text)")
    conn.executemany("insert into t values (?, ?)", [(i, f"第{i}行") for i in range(10)])
    conn.commit()
    ro = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    write_export("xlsx", ro, "t", ["n", "s"], [{"name": "n"}, {"name": "s"}], tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert book.sheetnames == ["数据 Data", "数据 Data 2", "数据 Data 3", DICTIONARY_SHEET]
    got = [list(ws.iter_rows(values_only=True)) for ws in book.worksheets[:3]]
    assert all(rows[0] == ("n", "s") for rows in got)
    assert [r for rows in got for r in rows[1:]] == [(i, f"第{i}行") for i in range(10)]
    assert [ws.dimensions for ws in book.worksheets[:3]] == ["A1:B5", "A1:B5", "A1:B3"]


@pytest.mark.parametrize("block", [1, 2, 7, 1 << 20])
def test_the_excel_csv_made_from_the_csv_is_the_one_the_writer_makes(tmp_path, monkeypatch, block):
    """`csv_export.derive_excel` turns line ends into CRLF outside quoted cells only, whatever
    falls across its read blocks: byte for byte what the csv writer writes in Excel mode."""
    from gongkai.exports import csv_export

    monkeypatch.setattr(csv_export, "_BLOCK", block)
    db = tmp_path / "t.db"
    conn = sqlite3.connect(db)
    conn.execute("create table t (a, b text)")
    cells = ["多行\n文本", 'say "hi"\nthen', '"', '""\n""', "plain", "a,b", "\n", "", None, "末尾\n", "=1+1\n"]
    conn.executemany("insert into t values (?, ?)", [(i, c) for i, c in enumerate(cells)] + [(99, "x")])
    conn.commit()
    csv_export.write_table(conn, "t", ["a", "b"], tmp_path / "plain.csv")
    csv_export.write_table(conn, "t", ["a", "b"], tmp_path / "writer.excel.csv", excel=True)
    csv_export.derive_excel(tmp_path / "plain.csv", tmp_path / "derived.excel.csv")
    assert (tmp_path / "derived.excel.csv").read_bytes() == (tmp_path / "writer.excel.csv").read_bytes()
    assert b'"\xe5\xa4\x9a\xe8\xa1\x8c\n' in (tmp_path / "derived.excel.csv").read_bytes()  # a cell's own \n kept


def test_exports_on_threads_are_the_serial_ones(tmp_path, monkeypatch):
    """A big database's exports are written on two threads (gongkai/exports/publish.py): the
    same files, bytes and manifest, in the same order, as a small one's written in turn."""
    import importlib
    import shutil

    publish_module = importlib.import_module("gongkai.exports.publish")
    shutil.copytree(REPO / "tests" / "fixtures" / "site", tmp_path / "repo")
    _add_formulas_dataset(tmp_path / "repo")
    manifests = {}
    for label, threshold in (("serial", 1 << 60), ("threads", 0)):
        monkeypatch.setattr(publish_module, "PARALLEL_BYTES", threshold)
        assert build_site(tmp_path / "repo", tmp_path / label).ok
        folder = release_files.downloads(tmp_path / label / "site", "formulas")
        files = json.loads((folder / "files.json").read_text(encoding="utf-8"))["files"]
        for f in files:
            if f["kind"] == "zip":  # it holds its members' modification times: this build's
                f.pop("sha256")
        manifests[label] = {"files": files}
    assert manifests["threads"] == manifests["serial"]
    assert any(f.get("encoding") == "br" for f in manifests["serial"]["files"])
