"""The parallel split (gongkai.validate.split) never changes a result, only the time.

Every case runs twice, the split forced on (any size) and off, and must give the same errors,
row counts and database contents.
"""

import csv
import io
import itertools
import json
import os
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from gongkai.build import load_dataset
from gongkai.descriptors import read_dataset
from gongkai.validate import reader as reader_module, split, validate_dataset
from gongkai.validate.reader import DataFile, Source, line_start_at, scan_records

FIXTURES = Path(__file__).parent / "fixtures"


def outcome(folder, monkeypatch, parallel: bool, db_path=None):
    monkeypatch.setenv(split.MIN_BYTES_ENV, "0" if parallel else str(1 << 40))
    dataset = read_dataset(folder)
    result = load_dataset(dataset, db_path, search=False) if db_path else validate_dataset(dataset)
    errors = [[(e.type, e.row_number, e.field_name, e.note) for e in t.errors] for t in result.tasks]
    rows = [t.stats.get("rows") for t in result.tasks]
    tables = None
    if db_path:
        conn = sqlite3.connect(db_path)
        tables = {
            t.resource.name: conn.execute(f"select * from [{t.resource.name}] order by rowid").fetchall()
            for t in result.tasks
        }
    return errors, rows, tables


def both(folder, monkeypatch, tmp_path, load=True):
    on = outcome(folder, monkeypatch, True, tmp_path / "on.db" if load else None)
    off = outcome(folder, monkeypatch, False, tmp_path / "off.db" if load else None)
    assert on == off
    return on


def write(tmp_path, name, csv_text, schema, extra_resources=()):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "data.csv").write_text(csv_text, encoding="utf-8")
    resources = [{"name": "data", "path": "data.csv", "schema": schema}, *extra_resources]
    (folder / "datapackage.json").write_text(json.dumps({"name": name, "resources": resources}, ensure_ascii=False))
    return folder


SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer"},
        {"name": "名称", "type": "string", "constraints": {"required": True}},
        {"name": "code", "type": "string", "constraints": {"unique": True}},
    ],
    "primaryKey": ["id"],
}


def table(n, edit=None):
    rows = [[str(i), f"项目{i}", f"c{i}"] for i in range(1, n + 1)]
    if edit:
        edit(rows)
    return "id,名称,code\n" + "".join(",".join(r) + "\n" for r in rows)


@pytest.mark.parametrize(
    "case",
    [
        "clean",
        "pk-across-halves",
        "unique-across-halves",
        "error-in-second-half",
        "error-in-first-half",
        "blank-row-second-half",
        "quoted-newlines",
        "quoted-newlines-everywhere",
        "crlf-and-quotes",
    ],
)
def test_split_gives_the_same_result(case, tmp_path, monkeypatch):
    edits = {
        "clean": None,
        "pk-across-halves": lambda r: r[350].__setitem__(0, "3"),
        "unique-across-halves": lambda r: r[390].__setitem__(2, "c10"),
        "error-in-second-half": lambda r: r[380].__setitem__(0, "x"),
        "error-in-first-half": lambda r: r[5].__setitem__(1, ""),
        "blank-row-second-half": lambda r: r.insert(300, ["", "", ""]),
        "quoted-newlines": lambda r: [row.__setitem__(1, f'"多行\n{row[1]}"') for row in r[::7]],
        # the split point falls inside a record whatever the share
        "quoted-newlines-everywhere": lambda r: [row.__setitem__(1, f'"多\n行\r\n{row[1]}"') for row in r],
        "crlf-and-quotes": lambda r: [row.__setitem__(2, f'"{row[2]}"') for row in r[::3]],
    }
    text = table(400, edits[case])
    if case == "crlf-and-quotes":
        text = text.replace("\n", "\r\n")
    folder = write(tmp_path, "t", text, SCHEMA)
    errors, rows, tables = both(folder, monkeypatch, tmp_path)
    assert rows == [400 + (case == "blank-row-second-half")]
    if case in ("clean", "quoted-newlines", "quoted-newlines-everywhere", "crlf-and-quotes"):
        assert errors == [[]] and len(tables["data"]) == 400


@pytest.mark.parametrize("failure", ["csv-error", "no-record-start", "child-dies"])
def test_without_a_boundary_the_parent_reads_on_alone(failure, tmp_path, monkeypatch):
    """The child sends the second part's start through a pipe; whatever keeps it from doing
    so, the parent reads the rest itself and the result is the sequential one."""

    def scan(source, start, stop, options):
        if failure == "csv-error":
            raise csv.Error("simulated")
        if failure == "no-record-start":
            return source.size, 0
        os._exit(9)

    folder = write(tmp_path, "t", table(400, lambda r: r[300].__setitem__(0, "x")), SCHEMA)
    off = outcome(folder, monkeypatch, False, tmp_path / "off.db")
    monkeypatch.setattr(split.reader, "scan_records", scan)
    on = outcome(folder, monkeypatch, True, tmp_path / "on.db")
    assert on == off and off[1] == [400] and off[0][0][0][:3] == ("type-error", 302, "id")


def test_error_limit_in_first_half_still_collects_references(tmp_path, monkeypatch):
    bad = lambda r: [row.__setitem__(0, "x" + row[0]) for row in r[:30]]  # noqa: E731
    child = {
        "name": "child",
        "path": "child.csv",
        "schema": {
            "fields": [{"name": "code", "type": "string"}],
            "foreignKeys": [{"fields": ["code"], "reference": {"resource": "data", "fields": ["code"]}}],
        },
    }
    folder = write(tmp_path, "t", table(400, bad), SCHEMA, [child])
    (folder / "child.csv").write_text("code\nc399\nc1\nnope\n", encoding="utf-8")
    monkeypatch.setenv(split.MIN_BYTES_ENV, "0")
    result = validate_dataset(read_dataset(folder), limit_errors=10)
    assert len(result.tasks[0].errors) == 10
    assert [(e.type, e.row_number) for e in result.tasks[1].errors] == [("foreign-key", 4)]


@pytest.mark.parametrize(
    "folder",
    sorted(p for p in (FIXTURES / "invalid").iterdir() if p.is_dir())[:40]
    + sorted(p for p in (FIXTURES / "valid").iterdir() if p.is_dir()),
    ids=lambda p: p.name,
)
def test_fixture_corpus_unchanged_by_split(folder, tmp_path, monkeypatch):
    both(folder, monkeypatch, tmp_path, load=False)


def test_split_really_happens_and_parts_are_adopted(tmp_path, monkeypatch):
    adopted = []
    real = split.adopt
    monkeypatch.setattr(split, "adopt", lambda *a: adopted.append(real(*a)) or adopted[-1])
    folder = write(tmp_path, "t", table(400), SCHEMA)
    errors, rows, tables = outcome(folder, monkeypatch, True, tmp_path / "on.db")
    assert adopted == [True] and errors == [[]] and len(tables["data"]) == 400
    quoted = table(400, lambda r: [row.__setitem__(1, f'"多\n行{row[1]}"') for row in r])
    folder = write(tmp_path, "q", quoted, SCHEMA)
    errors, rows, tables = outcome(folder, monkeypatch, True, tmp_path / "q.db")
    assert adopted == [True, True] and errors == [[]] and tables["data"][399][1] == "多\n行项目400"
    adopted.clear()
    folder2 = write(tmp_path, "u", table(400, lambda r: r[350].__setitem__(0, "3")), SCHEMA)
    outcome(folder2, monkeypatch, True, tmp_path / "u.db")
    assert adopted == [False]  # the collision sends the second half back to the parent


# -- where the second part starts ------------------------------------------------------------

LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])
LINES = st.one_of(
    st.builds(lambda e: "a,b,c" + e, LINE_ENDS),
    LINE_ENDS,  # a blank line is a record too
    st.builds(lambda q, e: 'x,"q' + q + 'w",z' + e, st.sampled_from(["\n", "\r\n", "\r", '""', ","]), LINE_ENDS),
    st.builds(lambda e: 'ab"c,d' + e, LINE_ENDS),  # a quote inside an unquoted cell is text
    st.builds(lambda e: "e\\" + e, LINE_ENDS),  # an escaped line end, where there is an escape char
    st.builds(lambda e: '"unterminated' + e, LINE_ENDS),
    st.builds(lambda e: '"a""b",c' + e, LINE_ENDS),
    st.builds(lambda e: '中文,"名\n称"' + e, LINE_ENDS),  # bytes are not characters
)


def source_of(data: bytes, folder: Path) -> Source:
    path = folder / "data.csv"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    return Source(size=len(data), sha256="", file=DataFile(fd, len(data)))


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(LINES, max_size=25),
    cut=st.booleans(),
    escape=st.booleans(),
    chunk=st.sampled_from([1, 3, 7, 64, 1 << 20]),
    data=st.data(),
)
def test_scan_records_agrees_with_the_csv_module(lines, cut, escape, chunk, data):
    """scan_records reads the file in chunks of `chunk` bytes (cut at line ends) and finds
    the record start at or after a line start exactly where the csv module does."""
    text = "".join(lines)
    if cut:
        text = text.rstrip("\r\n")
    options = {
        "delimiter": ",",
        "quotechar": '"',
        "escapechar": "\\" if escape else None,
        "doublequote": not escape,
        "quoting": csv.QUOTE_MINIMAL,
        "skipinitialspace": False,
    }
    # the oracle: the csv module over the lines a newline="" text stream gives
    stream_lines = list(io.StringIO(text, newline=""))
    offsets = list(itertools.accumulate((len(line.encode()) for line in stream_lines), initial=0))
    reader = csv.reader(iter(stream_lines), **options)
    starts = [0]
    try:
        for _ in reader:
            starts.append(offsets[reader.line_num])
    except csv.Error:
        return  # the table is then read in one piece
    size = len(text.encode())
    first = data.draw(st.integers(0, len(starts) - 1))
    with tempfile.TemporaryDirectory() as folder:
        source = source_of(text.encode(), Path(folder))
        stop = line_start_at(source, data.draw(st.integers(0, size + 2)))
        assert stop == size or stop in offsets  # a line start
        saved, reader_module.CHUNK_BYTES = reader_module.CHUNK_BYTES, chunk
        try:
            position, count = scan_records(source, starts[first], stop, options)
        finally:
            reader_module.CHUNK_BYTES = saved
            assert source.file is not None
            source.file.close()
    after = [(p, k - first) for k, p in enumerate(starts) if k >= first and p >= min(stop, size)]
    assert (position, count) == (after[0] if after else (size, len(starts) - 1 - first))
