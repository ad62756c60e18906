"""The personal-data guard (gongkai/validate/personal_data.py) on its labelled corpus
(tests/fixtures/personal_data/corpus.csv, written by make_corpus.py there), through the
validator (both single-process and the parallel split), and what its errors show."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from stdnum.cn import ric

from gongkai import report
from gongkai.descriptors import read_dataset
from gongkai.validate import personal_data, split, validate_dataset

CORPUS = Path(__file__).parent / "fixtures" / "personal_data" / "corpus.csv"
ROOT = Path(__file__).resolve().parents[1]


def corpus() -> list[dict]:
    with CORPUS.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_corpus_all_planted_found_no_false_hit():
    rows = corpus()
    planted = [r for r in rows if r["kind"]]
    decoys = [r for r in rows if not r["kind"]]
    # the corpus plants every kind among enough decoys of each sort
    assert {r["kind"] for r in planted} == {"resident-id", "mobile", "email", "bank-card"}
    assert len(planted) >= 300 and len(decoys) >= 300
    missed = [r for r in planted if r["kind"] not in personal_data.classify(r["column"], [r["cell"]])]
    false = [r for r in decoys if personal_data.classify(r["column"], [r["cell"]]) - {"column-name"}]
    assert missed == [] and false == []


def test_county_missing_from_stdnum_is_still_an_id():
    number = next(r["cell"] for r in corpus() if r["kind"] == "resident-id" and r["cell"].startswith("4304"))
    assert not ric.is_valid(number)  # stdnum judges the birthplace by its own county table
    assert personal_data.is_resident_id(number)


def test_organisation_codes_are_validated_not_flagged():
    codes = [r["cell"] for r in corpus() if r["column"] == "统一社会信用代码"]
    assert codes and all(personal_data.is_organisation_code(c) for c in codes)
    assert not personal_data.is_organisation_code(codes[0][:-1] + ("0" if codes[0][-1] != "0" else "1"))


@pytest.mark.parametrize(
    ("name", "term"),
    [
        ("身份证号码", "身份证号码"),
        ("联系电话（办公）", "电话（办公）"),
        ("申请人姓名", "姓名"),
        ("Security contact email", "email"),
        ("idCard", "id card"),
        ("E-mail", "email"),
        ("addressbase-custodian", None),
        ("name", None),
        ("手机银行用户数", None),
        ("Domain name", None),
    ],
)
def test_column_names_match_as_whole_words(name, term):
    assert personal_data.personal_name(name) == term


def write(tmp_path: Path, header: list[str], rows: list[list[str]], personal=None, types=None) -> Path:
    folder = tmp_path / "people"
    folder.mkdir(parents=True)
    with (folder / "people.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    fields = [{"name": h, "type": (types or {}).get(h, "string")} for h in header]
    d: dict = {"name": "people", "resources": [{"name": "people", "path": "people.csv", "schema": {"fields": fields}}]}
    if personal is not None:
        d["gov:personalData"] = personal
    (folder / "datapackage.json").write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    return folder


def corpus_table(tmp_path: Path) -> tuple[Path, set, list[str]]:
    rows = corpus()
    columns = sorted({r["column"] for r in rows})
    table, expected = [], set()
    for number, r in enumerate(rows, start=2):
        cells = [r["cell"] if c == r["column"] else "" for c in columns]
        table.append(cells)
        if r["kind"]:
            expected.add((number, r["column"], r["kind"]))
    return write(tmp_path, columns, table), expected, [r["cell"] for r in rows if r["kind"]]


@pytest.mark.parametrize("parallel", [False, True], ids=["one-process", "split"])
def test_validator_reports_every_planted_cell(tmp_path, monkeypatch, parallel):
    monkeypatch.setenv(split.MIN_BYTES_ENV, "0" if parallel else str(1 << 40))
    folder, expected, planted = corpus_table(tmp_path)
    result = validate_dataset(read_dataset(folder), limit_errors=0)
    errors = result.tasks[0].errors
    cells = {(e.row_number, e.field_name, e.extra["personalDataKind"]) for e in errors if e.row_number != 1}
    assert cells == expected
    assert all(e.type == "personal-data" for e in errors)
    headers = {e.field_name for e in errors if e.row_number == 1}
    assert headers == {"身份证号", "电子邮箱", "证件号码"}  # named for personal data
    # the rows holding personal data are not published; the others are
    assert result.tasks[0].stats["rows"] == len(corpus())


def test_masks_never_show_the_value(tmp_path):
    folder, _, planted = corpus_table(tmp_path)
    result = validate_dataset(read_dataset(folder), limit_errors=0)
    shown = json.dumps(report.report([result]), ensure_ascii=False) + report.markdown_summary(result, first=10_000)
    shown += report.text_summary([result], first=10_000)
    leaked = [p for p in planted if p in shown]
    assert leaked == []
    assert "110101********" in shown or "430421********" in shown  # the mask's shape
    proc = subprocess.run(
        [sys.executable, "-m", "gongkai", "validate", "--json", str(folder)], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 1 and "personal-data" in proc.stdout
    assert [p for p in planted if p in proc.stdout + proc.stderr] == []


def test_other_errors_of_the_row_are_masked_too(tmp_path):
    number = next(r["cell"] for r in corpus() if r["column"] == "证件号码")
    folder = write(tmp_path, ["编号", "备注"], [["1", number], ["1", number]], types={"编号": "integer"})
    d = json.loads((folder / "datapackage.json").read_text())
    d["resources"][0]["schema"]["primaryKey"] = ["编号"]
    d["resources"][0]["schema"]["fields"][1]["constraints"] = {"unique": True}
    (folder / "datapackage.json").write_text(json.dumps(d, ensure_ascii=False))
    errors = validate_dataset(read_dataset(folder)).tasks[0].errors
    assert {e.type for e in errors} >= {"personal-data", "unique-error", "primary-key"}
    assert number not in json.dumps([e.to_dict() for e in errors], ensure_ascii=False)


ORG = {"field": "联系邮箱", "kind": "organisational-contact", "legalBasis": "政府信息公开条例", "masking": "none"}


def test_declared_organisational_contact_passes_but_not_an_id(tmp_path):
    number = next(r["cell"] for r in corpus() if r["column"] == "证件号码")
    folder = write(tmp_path, ["单位", "联系邮箱"], [["某局", "xxgk@example.gov.cn"], ["某局", number]], [ORG])
    errors = validate_dataset(read_dataset(folder)).tasks[0].errors
    assert [(e.row_number, e.extra.get("personalDataKind")) for e in errors] == [(3, "resident-id")]
    assert "organisational-contact" in errors[0].note and number not in errors[0].message


def test_incomplete_declaration_does_not_cover(tmp_path):
    folder = write(tmp_path, ["联系邮箱"], [["a.person@example.com"]], [{**ORG, "legalBasis": ""}])
    errors = validate_dataset(read_dataset(folder)).tasks[0].errors
    assert [e.row_number for e in errors] == [1, 2]  # the header's name, then the cell
    assert all("lacks legalBasis" in e.note and "缺少 legalBasis" in e.note_zh for e in errors)


def test_declared_personal_passes_and_undeclared_fails(tmp_path):
    rows = [["张三", "13812345678"]]
    personal = [
        {"field": f, "kind": "personal", "legalBasis": "行政处罚决定公示", "masking": "none"} for f in ("姓名", "手机")
    ]
    assert validate_dataset(read_dataset(write(tmp_path / "a", ["姓名", "手机"], rows, personal))).valid
    errors = validate_dataset(read_dataset(write(tmp_path / "b", ["姓名", "手机"], rows))).tasks[0].errors
    assert [(e.row_number, e.field_name) for e in errors] == [(1, "姓名"), (1, "手机"), (2, "手机")]
    assert errors[2].cell == "138****5678"


@pytest.mark.parametrize("name", ["us-dotgov-domains", "uk-organisations"])
def test_repository_datasets_keep_building(name):
    result = validate_dataset(read_dataset(ROOT / "datasets" / name))
    assert not [e for t in result.tasks for e in t.errors if e.type == "personal-data"]


def test_dotgov_contacts_fail_without_their_declaration(tmp_path):
    d = json.loads((ROOT / "datasets" / "us-dotgov-domains" / "datapackage.json").read_text())
    dataset = read_dataset(ROOT / "datasets" / "us-dotgov-domains")
    dataset.descriptor = {k: v for k, v in d.items() if k != "gov:personalData"}
    result = validate_dataset(dataset, limit_errors=3)
    assert {e.type for e in result.tasks[0].errors} == {"personal-data"}


def test_classify_for_tools():
    assert personal_data.classify("联系电话", ["13812345678", ""]) == {"column-name", "mobile"}
    assert (
        personal_data.classify("统一社会信用代码", [r["cell"] for r in corpus() if r["column"] == "统一社会信用代码"])
        == set()
    )


def test_typed_columns_are_looked_at_by_their_values(tmp_path):
    number = next(r["cell"] for r in corpus() if r["column"] == "证件号码" and r["cell"][-1] != "X")
    header = ["编号", "手机", "金额", "日期", "类别"]
    types = {"编号": "integer", "手机": "integer", "金额": "number", "日期": "date"}
    rows = [["1", "13812345678", "13812345678", "2024-05-01", "甲"], ["2", "1", "1.5", "2024-05-02", "乙"]]
    rows.append([number, "2", "2.5", "2024-05-03", "甲"])  # an ID in an integer key column
    folder = write(tmp_path, header, rows, types=types)
    d = json.loads((folder / "datapackage.json").read_text())
    d["resources"][0]["schema"]["fields"][4]["constraints"] = {"enum": ["甲", "乙"]}
    (folder / "datapackage.json").write_text(json.dumps(d, ensure_ascii=False))
    errors = validate_dataset(read_dataset(folder)).tasks[0].errors
    # the mobile in the integer column is found; the same digits as an amount are not a phone
    found = [(e.row_number, e.field_name, e.extra.get("personalDataKind")) for e in errors]
    assert found == [(1, "手机", None), (2, "手机", "mobile"), (4, "编号", "resident-id")]


def fast_condition(guard: personal_data.RowGuard):
    condition = guard.fast_condition()
    assert condition is not None
    code = compile(condition, "<guard>", "eval")
    ns = {"ZEROS": personal_data.ZEROS, "ELEVEN": personal_data.ELEVEN, "normalize": personal_data.normalize}

    def holds(texts: list[str], values: list) -> bool:
        env = ns | {f"x{i}": t for i, t in enumerate(texts)} | {f"v{i}": v for i, v in enumerate(values)}
        return bool(eval(code, env))

    return holds


def test_the_row_functions_condition_passes_ordinary_rows_and_stops_planted_ones():
    """The cheap condition the generated row function tests first: false on the bench table's
    rows (digits separated by Chinese text or by a cell boundary are no run), true on every
    planted identifier (else the fast path would publish it)."""
    from gongkai.bench import data

    fields = data.schema()["fields"]
    holds = fast_condition(personal_data.RowGuard([f["name"] for f in fields], {}, fields))
    row = [
        "1",
        "上海市住房和城乡建设局2021年绿化工程竞争性磋商",
        "服务",
        "19972.78",
        "262",
        "2018-10-10",
        "91444556MALCTQ4NSJ",
        "是",
    ]
    values = [1, row[1], row[2], 19972.78, 262, None, row[6], True]
    assert not holds(row, values)
    text = personal_data.RowGuard(["备注", "说明"], {}, [{"type": "string"}, {"type": "string"}])
    holds = fast_condition(text)
    for r in corpus():
        if r["kind"]:
            assert holds([r["cell"], ""], [r["cell"], ""]) and holds(["2021年", r["cell"]], ["", ""]), r


def full_width(text: str) -> str:
    """The text as a Chinese input method in full-width mode types it (１３８…, ＠)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_full_width_identifiers_are_found_and_masked(tmp_path, monkeypatch):
    """Full-width digits and ＠ are the same identifiers: the row function's fast condition
    lets them through to the full look, which finds them, and no report shows them."""
    planted = [r for r in corpus() if r["kind"] in ("resident-id", "mobile", "email") and r["column"] == "备注"]
    assert planted, "the corpus plants identifiers in free text"
    cells = [full_width(r["cell"]) for r in planted]
    holds = fast_condition(personal_data.RowGuard(["备注"], {}, [{"type": "string"}]))
    assert all(holds([c], [c]) for c in cells)
    assert not holds(["２０２１年１２月"], ["２０２１年１２月"])  # an ordinary full-width date is no run of 11
    monkeypatch.setenv(split.MIN_BYTES_ENV, str(1 << 40))
    folder = write(tmp_path, ["编号", "备注"], [[str(i), c] for i, c in enumerate(cells, 1)], types={"编号": "integer"})
    result = validate_dataset(read_dataset(folder), limit_errors=0)
    found = {(e.row_number, e.extra.get("personalDataKind")) for e in result.tasks[0].errors}
    assert found == {(i, r["kind"]) for i, r in enumerate(planted, 2)}
    shown = json.dumps(report.report([result]), ensure_ascii=False) + report.text_summary([result], first=10_000)
    for cell in cells:  # the identifier itself, as written, never appears; its mask does
        for hit in personal_data.Column.of("备注").find(cell):
            assert hit.raw in cell and hit.raw not in shown and hit.masked in shown


def test_full_width_cells_are_judged_as_their_ascii_forms():
    """Every corpus cell, planted or decoy, typed full-width: the same kinds, no more, no fewer."""
    changed = [
        r
        for r in corpus()
        if personal_data.classify(r["column"], [full_width(r["cell"])])
        != personal_data.classify(r["column"], [r["cell"]])
    ]
    assert changed == []


def test_fold_keeps_lengths_and_ascii():
    assert personal_data.fold("abc 123") == "abc 123"
    assert personal_data.fold("１３８－１２３４\u3000ａ＠ｂ") == "138-1234 a@b"
    text = "电话：１３８１２３４５６７８。"
    assert len(personal_data.fold(text)) == len(text)
