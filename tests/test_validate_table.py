"""TableValidator: reading, header and row checks, keys, against frictionless v5 as the oracle.

Every case writes a real file to tmp_path. Differential cases run ``frictionless`` on the same
file and schema at test time and compare (type, rowNumber, fieldName) in order.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import warnings
from pathlib import Path

import pytest

from gongkai.model import Resource
from gongkai.validate import TableValidator
from gongkai.validate.reader import is_safe_path, lines

warnings.filterwarnings("ignore", module="frictionless")


def make(tmp_path: Path, data, schema: dict, *, path: str = "t.csv", **kw) -> Resource:
    file = tmp_path / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    fmt = kw.pop("format", path.rsplit(".", 1)[-1])
    return Resource(dataset="d", name="t", path=path, fullpath=file, schema=schema, format=fmt, **kw)


def run(resource: Resource, **kw) -> tuple[TableValidator, list[tuple]]:
    validator = TableValidator(resource, **kw)
    rows = list(validator.rows())
    return validator, rows


def triples(errors) -> list[tuple]:
    return [(e.type, e.row_number, e.field_name) for e in errors]


def oracle(resource: Resource, **kw) -> list[tuple]:
    """frictionless's errors for the same file, as (type, rowNumber, fieldName)."""
    import frictionless

    descriptor = {"name": resource.name, "path": resource.path, "schema": resource.schema}
    if resource.format != "csv":
        descriptor["format"] = resource.format
    if resource.encoding != "utf-8" or kw.pop("declare_encoding", True):
        descriptor["encoding"] = resource.encoding
    if resource.dialect:
        descriptor["dialect"] = resource.dialect
    if resource.format not in ("csv", "tsv"):
        descriptor["type"] = "table"
    report = frictionless.Resource(descriptor, basepath=str(resource.fullpath.parent)).validate(**kw)
    errors = report.tasks[0].errors if report.tasks else report.errors
    return [(e.type, getattr(e, "row_number", None), getattr(e, "field_name", None)) for e in errors]


def same_as_frictionless(resource: Resource, **kw) -> list[tuple]:
    validator, _ = run(resource, **kw)
    expected = oracle(resource, **kw)
    assert triples(validator.errors) == expected
    return expected


INT_ID = {"name": "id", "type": "integer"}
NAME = {"name": "name", "type": "string"}


# Header / labels


def test_header_errors_exact(tmp_path):
    schema = {
        "fields": [INT_ID, NAME, {"name": "other"}, {"name": "blank"}, {"name": "x"}, {"name": "y"}],
        "primaryKey": ["id"],
    }
    resource = make(tmp_path, "id,name,name,,extra\n1,a,b,c,d\n", schema)
    validator, rows = run(resource)
    assert triples(validator.errors) == [
        ("missing-label", None, "y"),
        ("duplicate-label", None, "other"),
        ("blank-label", None, "blank"),
        ("incorrect-label", None, "x"),
    ]
    assert [e.field_number for e in validator.errors] == [6, 3, 4, 5]
    assert validator.labels == ["id", "name", "name", "", "extra"]
    # the data row itself is fine; it is yielded in schema order, "y" absent from the file
    assert rows == [(1, "a", "b", "c", "d", None)]
    for error in validator.errors:
        assert error.note and error.note_zh and error.file == "t.csv" and error.resource == "t"
    same_as_frictionless(resource)


def test_extra_labels_and_their_cells(tmp_path):
    resource = make(tmp_path, "id,name,w,w\n1,a,3,4\n2,b\n3,c,5,6,7\n", {"fields": [INT_ID, NAME]})
    expected = same_as_frictionless(resource)
    assert expected == [
        ("extra-label", None, ""),
        ("extra-label", None, ""),
        ("missing-cell", 3, "w"),
        ("missing-cell", 3, "w2"),
        ("extra-cell", 4, ""),
    ]


def test_labels_are_stripped_and_case_sensitive(tmp_path):
    resource = make(tmp_path, " id ,Name\n1,a\n", {"fields": [INT_ID, NAME]})
    assert same_as_frictionless(resource) == [("incorrect-label", None, "name")]
    resource = make(tmp_path, " ID ,Name\n1,a\n", {"fields": [INT_ID, NAME]}, dialect={"headerCase": False})
    assert same_as_frictionless(resource) == []


@pytest.mark.parametrize("match", ["equal", "subset", "superset", "partial"])
def test_fields_match_modes(tmp_path, match):
    schema = {"fields": [INT_ID, NAME], "fieldsMatch": match}
    resource = make(tmp_path, "name,extra\na,1\n", schema)
    same_as_frictionless(resource)


# Rows and cells


def test_row_errors_exact(tmp_path):
    schema = {
        "fields": [
            INT_ID,
            {"name": "v", "type": "string", "constraints": {"required": True}},
            {"name": "u", "type": "string", "constraints": {"unique": True}},
        ],
        "missingValues": ["", "NA"],
    }
    text = "id,v,u\n,,,x\n1,,\n2\n3,a,b\n4,b,b\n5,c,\n6,d,\n7,NA,NA\nq,e,f\n"
    resource = make(tmp_path, text, schema)
    validator, rows = run(resource)
    assert triples(validator.errors) == [
        ("blank-row", 2, None),
        ("constraint-error", 3, "v"),
        ("constraint-error", 4, "v"),
        ("missing-cell", 4, "v"),
        ("missing-cell", 4, "u"),
        ("unique-error", 6, "u"),
        ("constraint-error", 9, "v"),
        ("type-error", 10, "id"),
    ]
    assert rows == [(3, "a", "b"), (5, "c", None), (6, "d", None)]
    type_error = validator.errors[-1]
    assert (type_error.field_number, type_error.cell, type_error.cells) == (1, "q", ("q", "e", "f"))
    assert validator.stats["rows"] == 9
    same_as_frictionless(resource)


def test_blank_row_with_primary_key_and_empty_line(tmp_path):
    schema = {"fields": [INT_ID, NAME], "primaryKey": ["id"]}
    resource = make(tmp_path, "id,name\n1,a\n,\n\n2,b\n", schema)
    assert same_as_frictionless(resource) == [
        ("blank-row", 3, None),
        ("primary-key", 3, None),
        ("blank-row", 4, None),
        ("primary-key", 4, None),
    ]


def test_blank_row_without_keys_goes_through_the_fast_path_check(tmp_path):
    resource = make(tmp_path, "id,name\n1,a\n,\n2,\n", {"fields": [INT_ID, NAME]})
    validator, rows = run(resource)
    assert triples(validator.errors) == [("blank-row", 3, None)]
    assert rows == [(1, "a"), (2, None)]
    same_as_frictionless(resource)


def test_primary_key_duplicates_nulls_and_constraint_failing_values(tmp_path):
    schema = {
        "fields": [INT_ID, {"name": "v", "type": "integer", "constraints": {"minimum": 5, "maximum": 1}}],
        "primaryKey": "id",
    }
    resource = make(tmp_path, "id,v\nx,1\n1,3\n1,9\n,2\n", schema)
    validator, _ = run(resource)
    expected = oracle(resource)
    # frictionless reports every failed constraint of a cell: both bounds on rows 3 and 5
    assert triples(validator.errors) == expected
    assert ("primary-key", 4, None) in expected
    dup = [e for e in validator.errors if e.type == "primary-key" and e.row_number == 4][0]
    assert "3" in dup.note and "3" in dup.note_zh


def test_composite_primary_key_with_partly_null_cells(tmp_path):
    schema = {"fields": [INT_ID, NAME, {"name": "n"}], "primaryKey": ["id", "name"]}
    resource = make(tmp_path, "id,name,n\n1,a,x\n1,,x\n1,,y\n,,z\n1,a,w\n", schema)
    assert same_as_frictionless(resource) == [
        ("primary-key", 4, None),
        ("primary-key", 5, None),
        ("primary-key", 6, None),
    ]


def test_key_checks_read_their_cells_first_like_frictionless(tmp_path):
    # frictionless's lazy Row casts the key cells before the others: the error order shows it
    schema = {
        "fields": [
            {"name": "a", "type": "integer"},
            {"name": "b", "type": "integer", "constraints": {"unique": True}},
            {"name": "c", "type": "integer"},
        ],
        "primaryKey": ["c"],
    }
    resource = make(tmp_path, "a,b,c\nx,1,y\nx,1,z\n", schema)
    assert same_as_frictionless(resource) == [
        ("type-error", 2, "c"),
        ("type-error", 2, "a"),
        ("primary-key", 2, None),
        ("type-error", 3, "a"),
        ("type-error", 3, "c"),
        ("unique-error", 3, "b"),
        ("primary-key", 3, None),
    ]


def test_self_referencing_foreign_key(tmp_path):
    schema = {
        "fields": [INT_ID, {"name": "parent", "type": "integer"}],
        "foreignKeys": [{"fields": "parent", "reference": {"resource": "", "fields": "id"}}],
    }
    # row 3 refers to a later row: the look-up covers the whole table
    resource = make(tmp_path, "id,parent\n1,\n2,3\n3,1\n4,9\nx,1\n", schema)
    assert same_as_frictionless(resource) == [("foreign-key", 5, None), ("type-error", 6, "id")]


def test_limit_errors(tmp_path):
    schema = {"fields": [INT_ID, {"name": "n", "type": "integer"}]}
    resource = make(tmp_path, "id,n\n" + "x,y\n" * 20, schema)
    validator, rows = run(resource, limit_errors=7)
    assert len(validator.errors) == 7 and rows == []
    assert triples(validator.errors) == oracle(resource, limit_errors=7)


def test_valid_rows_are_typed_tuples_and_stats(tmp_path):
    schema = {
        "fields": [
            {"name": "code", "type": "string", "constraints": {"required": True, "pattern": "C[0-9]+"}},
            {"name": "名称", "type": "string"},
            {"name": "amount", "type": "integer", "constraints": {"minimum": 0}},
            {"name": "ratio", "type": "number"},
            {"name": "day", "type": "date"},
            {"name": "ok", "type": "boolean"},
        ],
        "primaryKey": ["code"],
    }
    text = "code,名称,amount,ratio,day,ok\nC1,北京,5,1.5,2024-01-05,true\nC2,上海,,2,2024-02-29,false\n"
    resource = make(tmp_path, text, schema)
    validator, rows = run(resource)
    assert validator.errors == []
    assert rows == [("C1", "北京", 5, 1.5, "2024-01-05", 1), ("C2", "上海", None, 2.0, "2024-02-29", 0)]
    data = text.encode()
    assert validator.stats == {
        "rows": 2,
        "fields": 6,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "labels": ["code", "名称", "amount", "ratio", "day", "ok"],
    }


def test_rows_can_only_be_consumed_once(tmp_path):
    validator = TableValidator(make(tmp_path, "id\n1\n", {"fields": [INT_ID]}))
    assert list(validator.rows()) == [(1,)]
    with pytest.raises(RuntimeError):
        list(validator.rows())


def test_reference_values_are_collected_from_every_row(tmp_path):
    # frictionless's look-up keeps rows with errors too (a type error gives None, a failed
    # constraint keeps its value) and skips all-None keys
    schema = {"fields": [{"name": "code", "type": "integer", "constraints": {"maximum": 1}}, NAME]}
    resource = make(tmp_path, "code,name\n1,x\n2\nq,1\n,\n", schema)
    validator = TableValidator(resource, collect=[("code",), ("code", "name")])
    assert list(validator.rows()) == [(1, "x")]
    assert validator.reference_values(("code",)) == {(1,), (2,)}
    assert validator.reference_values(("code", "name")) == {(1, "x"), (2, None), (None, "1")}


# Source


def test_missing_file_is_a_scheme_error(tmp_path):
    resource = Resource(
        dataset="d", name="t", path="nope.csv", fullpath=tmp_path / "nope.csv", schema={"fields": [INT_ID]}
    )
    validator, rows = run(resource)
    assert triples(validator.errors) == [("scheme-error", None, None)] == oracle(resource)
    assert rows == [] and "nope.csv" in validator.errors[0].note


def test_unsupported_format_is_a_format_error(tmp_path):
    resource = make(tmp_path, "id\n1\n", {"fields": [INT_ID]}, path="t.foo")
    validator, _ = run(resource)
    assert triples(validator.errors) == [("format-error", None, None)] == oracle(resource)


def test_empty_file_is_a_source_error(tmp_path):
    resource = make(tmp_path, "", {"fields": [INT_ID]})
    assert same_as_frictionless(resource) == [("source-error", None, None)]
    resource = make(tmp_path, "id\n", {"fields": [INT_ID]})
    assert same_as_frictionless(resource) == []


@pytest.mark.parametrize(
    "path", ["../t.csv", "/etc/passwd", "a/../../t.csv", ".git/config", "data/.hidden.csv", "~/t.csv", "$HOME/t.csv"]
)
def test_unsafe_paths_are_refused(tmp_path, path):
    assert not is_safe_path(path)
    resource = Resource(dataset="d", name="t", path=path, fullpath=tmp_path / "t.csv", schema={"fields": [INT_ID]})
    (tmp_path / "t.csv").write_text("id\n1\n")
    validator, rows = run(resource)
    assert triples(validator.errors) == [("resource-error", None, None)] and rows == []
    assert path in validator.errors[0].note


def test_safe_paths(tmp_path):
    assert is_safe_path("data/t.csv") and is_safe_path("./t.csv") and is_safe_path("t.csv")


def test_path_refused_by_the_catalogue(tmp_path):
    resource = Resource(dataset="d", name="t", path="t.csv", fullpath=None, schema={"fields": [INT_ID]})
    assert triples(TableValidator(resource).errors) == [("resource-error", None, None)]


# Encoding


def test_encoding_error_names_offset_line_and_fix(tmp_path):
    text = "id,name\n" + "".join(f"{i},abc\n" for i in range(1, 3000)) + "3000,中文\n3001,x\n"
    data = text.encode("gb18030")
    resource = make(tmp_path, data, {"fields": [INT_ID, NAME]})
    validator, rows = run(resource)
    assert rows == []
    assert triples(validator.errors) == [("encoding-error", None, None)] == oracle(resource)
    error = validator.errors[0]
    offset = data.index("中".encode("gb18030"))
    assert f"byte offset {offset}" in error.note and "(line 3001)" in error.note
    assert '"encoding": "gb18030"' in error.note and "iconv -f GB18030 -t UTF-8" in error.note
    assert "第 3001 行" in error.note_zh and str(offset) in error.note_zh and "gb18030" in error.note_zh
    assert validator.stats["rows"] == 0 and validator.stats["bytes"] == len(data)
    assert validator.stats["sha256"] == hashlib.sha256(data).hexdigest()


def test_declared_gb18030_is_decoded(tmp_path):
    resource = make(tmp_path, "id,name\n1,中文\n".encode("gb18030"), {"fields": [INT_ID, NAME]}, encoding="gb18030")
    validator, rows = run(resource)
    assert validator.errors == [] and rows == [(1, "中文")]
    same_as_frictionless(resource)


def test_utf8_bom_is_stripped(tmp_path):
    resource = make(tmp_path, b"\xef\xbb\xbfid,name\n1,x\n", {"fields": [INT_ID, NAME]})
    validator, rows = run(resource)
    assert validator.errors == [] and validator.labels == ["id", "name"] and rows == [(1, "x")]
    same_as_frictionless(resource)


def test_unknown_encoding(tmp_path):
    resource = make(tmp_path, "id\n1\n", {"fields": [INT_ID]}, encoding="no-such-codec")
    validator, _ = run(resource)
    assert triples(validator.errors) == [("encoding-error", None, None)]


# Dialect


@pytest.mark.parametrize(
    "text, dialect, fmt",
    [
        ('id,name\r\n1,"a\r\nb"\r\nx,"q""q"\r\n3,z', {}, "csv"),  # CRLF, quoted newline, no final newline
        ("id\tname\n1\ta,b\nx\tq\n", {}, "tsv"),
        ("id;name\n1;a\nx;q\n", {}, "csv"),  # sniffed, as frictionless does
        ("id;name\n1;a\nx;q\n", {"delimiter": ";"}, "csv"),
        ("id|name\n1|'a|b'\nx|q\n", {"delimiter": "|", "quoteChar": "'"}, "csv"),
        ('id, name\n1, a\nx, "q"\n', {"skipInitialSpace": True}, "csv"),
        ("id,name\n1,a\\,b\nx,q\n", {"escapeChar": "\\", "doubleQuote": False}, "csv"),
        ("id,name\nx,y\n#c\n1,a\n\nz,q\n", {"headerRows": [1, 2], "commentChar": "#"}, "csv"),
        ("id,name\n1,a\n\n,\nz,q\nw,r\n", {"skipBlankRows": True, "commentRows": [5]}, "csv"),
        ("1,a\nx,b\n", {"header": False}, "csv"),
    ],
)
def test_dialects_like_frictionless(tmp_path, text, dialect, fmt):
    fields = [INT_ID, NAME]
    if dialect.get("headerRows"):
        fields = [{"name": "id x", "type": "integer"}, {"name": "name y"}]
    resource = make(tmp_path, text, {"fields": fields}, path=f"t.{fmt}", dialect=dialect)
    expected = same_as_frictionless(resource)
    assert expected  # every case has one bad row, so the comparison is not vacuous


def test_quoted_cells_keep_their_content(tmp_path):
    resource = make(tmp_path, 'id,name\r\n1,"a\r\nb, ""c"""', {"fields": [INT_ID, NAME]})
    _, rows = run(resource)
    assert rows == [(1, 'a\r\nb, "c"')]


# Random differential cases: small schemas and tables, every error kind mixed


POOL = ["1", "2", "3", "x", "", "NA", "-5", "10", "2.5", "a,b", "甲", "乙", " 1", "true", "2024-01-05", "2024-1-5"]


def random_case(seed: int) -> tuple[dict, str]:
    rnd = random.Random(seed)
    fields = []
    for i in range(rnd.randint(1, 4)):
        kind = rnd.choice(["integer", "string", "number", "boolean", "date", "any"])
        constraints = {}
        if rnd.random() < 0.3:
            constraints["required"] = True
        if rnd.random() < 0.2:
            constraints["unique"] = True
        if kind in ("integer", "number") and rnd.random() < 0.3:
            constraints["minimum"] = 2
        if kind == "string" and rnd.random() < 0.2:
            constraints["enum"] = ["甲", "乙", "x"]
        if kind == "string" and rnd.random() < 0.2:
            constraints["pattern"] = "[0-9]+"
        field = {"name": f"f{i}", "type": kind}
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    schema: dict = {"fields": fields}
    if rnd.random() < 0.3:
        schema["missingValues"] = ["", "NA"]
    if rnd.random() < 0.5:
        schema["primaryKey"] = rnd.sample([f["name"] for f in fields], rnd.randint(1, min(2, len(fields))))
    if rnd.random() < 0.3 and len(fields) >= 2:
        schema["foreignKeys"] = [{"fields": "f1", "reference": {"resource": "", "fields": "f0"}}]
    labels = [f["name"] for f in fields]
    r = rnd.random()
    if r < 0.1:
        labels.append("extra")
    elif r < 0.2 and len(labels) > 1:
        labels.pop()
    elif r < 0.25:
        labels[0] = ""
    elif r < 0.3 and len(labels) > 1:
        labels[1] = labels[0]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(labels)
    for _ in range(rnd.randint(0, 12)):
        n = len(labels) + (rnd.choice([-1, 1, 0, 0, 0]) if rnd.random() < 0.3 else 0)
        writer.writerow([rnd.choice(POOL) for _ in range(max(n, 0))])
    return schema, out.getvalue()


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_like_frictionless(tmp_path, seed):
    schema, text = random_case(seed)
    same_as_frictionless(make(tmp_path, text, schema))


@pytest.mark.parametrize(
    "text",
    ["a\nb", "a\r\nb\r\n", "a\rb\n", "a\u2028b\nc\n", "x\x0cy\x85z\n", "", "\n\n", "q\r", '"a\r\nb"\r\n1'],
)
def test_fast_line_split_equals_the_text_stream(text):
    assert list(lines(text, "csv")) == list(io.StringIO(text, newline=""))


def test_unicode_line_separators_inside_cells(tmp_path):
    resource = make(tmp_path, "id,name\n1,a\u2028b\n2,c\x0cd\nx,e\n", {"fields": [INT_ID, NAME]})
    validator, rows = run(resource)
    assert rows == [(1, "a\u2028b"), (2, "c\x0cd")]
    assert same_as_frictionless(resource) == [("type-error", 4, "id")]


def test_title_line_above_the_header_is_skipped_like_frictionless(tmp_path):
    schema = {"fields": [{"name": "代码", "type": "integer"}, {"name": "名称"}, {"name": "人口", "type": "number"}]}
    # the header is the first row near the sample's average width (here 3 cells)
    text = "2024年各地区常住人口\n代码,名称,人口\n110000,北京市,2185.8\n120000,天津市,一千三百\n130000,河北省,7420\n"
    resource = make(tmp_path, text, schema)
    validator, rows = run(resource)
    assert validator.labels == ["代码", "名称", "人口"]
    assert rows == [(110000, "北京市", 2185.8), (130000, "河北省", 7420.0)]
    assert same_as_frictionless(resource) == [("type-error", 4, "人口")]


# Reading in chunks (reader.Source): never the whole file, the same lines and errors

CHUNK_TEXTS = [
    "a\nb",
    "a\r\nb\r\n",
    "a\rb\n",
    "a\u2028b\nc\n",
    "x\x0cy\x85z\n",
    "",
    "\n\n",
    "q\r",
    '"a\r\nb"\r\n1',
    "中文\r\n名称\r中\n",
]


def _source(tmp_path: Path, data: bytes, encoding: str):
    from gongkai.validate import reader

    resource = make(tmp_path, data, {"fields": [NAME]}, encoding=encoding)
    return reader.load(resource)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-16"])
@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 1 << 20])
def test_lines_read_in_chunks_equal_the_text_stream(tmp_path, monkeypatch, encoding, chunk):
    from gongkai.validate import reader

    monkeypatch.setattr(reader, "CHUNK_BYTES", chunk)
    for i, text in enumerate(CHUNK_TEXTS):
        source = _source(tmp_path / str(i), text.encode(encoding), encoding)
        assert list(source.lines("csv")) == list(io.StringIO(text, newline="")), text
        assert list(source.lines("tsv")) == list(io.StringIO(text, newline=None)), text


@pytest.mark.parametrize("chunk", [1, 7, 1 << 20])
def test_undecodable_byte_found_at_the_same_offset_whatever_the_chunk(tmp_path, monkeypatch, chunk):
    from gongkai.validate import reader

    monkeypatch.setattr(reader, "CHUNK_BYTES", chunk)
    good = "编号,名称\n" + "".join(f"{i},名称{i}\n" for i in range(50))
    for encoding, bad in (("utf-8", b"\xe4\xb8"), ("gb18030", b"\x81\x30\xff")):
        data = good.encode(encoding) + bad + "尾\n".encode(encoding)
        with pytest.raises(reader.SourceProblem) as raised:
            _source(tmp_path / f"{encoding}-{chunk}", data, encoding)
        try:
            data.decode(encoding)
        except UnicodeDecodeError as exc:
            expected = exc.start
        extra = raised.value.error.extra or {}
        assert extra["byteOffset"] == expected and extra["lineNumber"] == data.count(b"\n", 0, expected) + 1


def test_small_chunks_give_frictionless_errors(tmp_path, monkeypatch):
    from gongkai.validate import reader

    monkeypatch.setattr(reader, "CHUNK_BYTES", 3)
    schema, text = random_case(7)
    same_as_frictionless(make(tmp_path, text.replace("\n", "\r\n"), schema))


def test_the_data_file_is_closed_once_the_rows_are_read(tmp_path):
    import os

    resource = make(tmp_path, "id,name\n1,a\n2,b\n", {"fields": [INT_ID, NAME]})
    validator = TableValidator(resource)
    rows = validator.stream()
    target = str(resource.fullpath)

    def open_on_it() -> bool:
        return any(os.path.realpath(f"/proc/self/fd/{fd}") == target for fd in os.listdir("/proc/self/fd"))

    assert open_on_it()
    assert len(list(rows)) == 2 and not open_on_it()
