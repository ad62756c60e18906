"""`gongkai describe`: the draft validates when put into a descriptor of the data it was drafted
from (describe → new → validate) on every real dataset's files, a GB18030 CSV and an XLSX, and
what it proposes comes from all rows."""

from __future__ import annotations

import copy
import json
import shutil
import tracemalloc
from pathlib import Path

import frictionless
import pytest
import yaml
from publish_helpers import PUBLISH_FIXTURES, REPO, empty_repo, fill_in, gongkai

from gongkai.build import check
from gongkai.publish.describe import draft, english_title, personal_hint, to_yaml
from gongkai.publish.profile import profile_rows
from gongkai.publish.words import PublishError


def real_resources() -> list[tuple[str, list[str]]]:
    out = []
    for path in sorted((REPO / "datasets").glob("*/datapackage.json")):
        descriptor = json.loads(path.read_text(encoding="utf-8"))
        out.append((path.parent.name, [r["path"] for r in descriptor["resources"]]))
    return out


def new_dataset_with(root: Path, name: str, files: dict[str, Path]) -> Path:
    """`gongkai new`, the files copied in at their paths, each described into the descriptor."""
    ran = gongkai("new", name, "--publisher", "nbs", "--root", root)
    assert ran.returncode == 0, ran.stderr
    folder = root / "datasets" / name
    for rel, source in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / rel)
    return folder


def validate_ok(root: Path, folder: Path) -> None:
    ran = gongkai("validate", folder, "--root", root)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    [result] = check([folder], root)
    assert result.valid and all(t.stats["rows"] > 0 for t in result.tasks)


@pytest.mark.parametrize(("dataset", "paths"), real_resources(), ids=[d for d, _ in real_resources()])
def test_describe_new_validate_on_the_real_datasets(tmp_path, dataset, paths):
    root = empty_repo(tmp_path)
    folder = new_dataset_with(root, f"copy-of-{dataset}", {p: REPO / "datasets" / dataset / p for p in paths})
    for rel in paths:
        ran = gongkai("describe", folder / rel, "-o", folder / "datapackage.yaml")
        assert ran.returncode == 0, ran.stderr
        assert "UTF-8" in ran.stderr  # the detection is reported
    fill_in(folder / "datapackage.yaml")
    original = json.loads((REPO / "datasets" / dataset / "datapackage.json").read_text(encoding="utf-8"))
    if "gov:personalData" in original:
        # what the draft flagged, declared as the publisher of the original did (else the
        # personal-data guard refuses the copy, as it should)
        drafted = yaml.safe_load((folder / "datapackage.yaml").read_text(encoding="utf-8"))
        drafted["gov:personalData"] = original["gov:personalData"]
        (folder / "datapackage.yaml").write_text(yaml.safe_dump(drafted, allow_unicode=True), encoding="utf-8")
    validate_ok(root, folder)
    # the field names are the file's headers, exactly as the published descriptor has them
    drafted = yaml.safe_load((folder / "datapackage.yaml").read_text(encoding="utf-8"))
    for mine, theirs in zip(drafted["resources"], original["resources"]):
        schema = theirs["schema"]
        if isinstance(schema, str) and schema.startswith("shared:"):  # metadata/schemas/<name>.json
            schema = json.loads((REPO / "metadata" / "schemas" / f"{schema[7:]}.json").read_text(encoding="utf-8"))
        assert [f["name"] for f in mine["schema"]["fields"]] == [f["name"] for f in schema["fields"]]


def test_gb18030_csv_round_trip_and_its_detection(tmp_path):
    root = empty_repo(tmp_path)
    folder = new_dataset_with(root, "budget", {"data/budget.csv": PUBLISH_FIXTURES / "budget-gb18030.csv"})
    ran = gongkai("describe", folder / "data/budget.csv", "-o", folder / "datapackage.yaml")
    assert ran.returncode == 0, ran.stderr
    assert "GB18030" in ran.stderr and "整个文件" in ran.stderr and "whole file" in ran.stderr
    fill_in(folder / "datapackage.yaml")
    validate_ok(root, folder)
    [res] = yaml.safe_load((folder / "datapackage.yaml").read_text(encoding="utf-8"))["resources"]
    assert res["encoding"] == "gb18030" and res["path"] == "data/budget.csv"
    fields = {f["name"]: f for f in res["schema"]["fields"]}
    assert list(fields) == ["序号", "部门名称", "项目名称", "预算金额（万元）", "发布日期", "是否公开"]
    assert fields["发布日期"]["type"] == "date" and fields["发布日期"]["format"] == "%Y/%m/%d"
    assert fields["是否公开"]["type"] == "boolean" and fields["是否公开"]["trueValues"] == ["是"]
    assert fields["部门名称"]["constraints"]["enum"] == sorted(["教育局", "卫生健康局", "交通运输局", "财政局"])
    assert fields["预算金额（万元）"]["gov:translations"]["en"]["title"] == "Budget amount (10,000 yuan)"
    assert res["schema"]["primaryKey"] == ["序号"]


def _xlsx_draft() -> dict:
    d = draft(PUBLISH_FIXTURES / "schools.xlsx", header_row=2)
    return yaml.safe_load(to_yaml(d))


def test_xlsx_draft_is_valid_for_frictionless():
    """frictionless (reading the XLSX through openpyxl) accepts every row under the draft; and
    rejects a draft whose constraint the data breaks, so this check can fail."""
    res = _xlsx_draft()
    assert res["format"] == "xlsx" and res["dialect"] == {"headerRows": [2], "excel": {"sheet": "学校名录"}}
    fields = {f["name"]: f for f in res["schema"]["fields"]}
    assert fields["学校代码"]["type"] == "string"  # leading zeros kept
    assert fields["联系手机"]["type"] == "string"  # digits stored as text in Excel
    assert fields["学生人数"]["type"] == "integer" and fields["成立日期"]["type"] == "date"
    assert fields["师生比"]["type"] == "number"

    def report(resource):
        package = {"name": "schools", "resources": [resource]}
        return frictionless.Package.from_descriptor(package, basepath=str(PUBLISH_FIXTURES)).validate()

    good = report(copy.deepcopy(res))
    assert good.valid, good.flatten(["rowNumber", "fieldName", "type", "note"])
    assert good.tasks[0].stats["rows"] == 40
    broken = copy.deepcopy(res)
    next(f for f in broken["schema"]["fields"] if f["name"] == "学生人数")["constraints"]["maximum"] = 400
    assert not report(broken).valid


def test_xlsx_round_trip_validates(tmp_path):
    root = empty_repo(tmp_path)
    folder = new_dataset_with(root, "schools", {"data/schools.xlsx": PUBLISH_FIXTURES / "schools.xlsx"})
    ran = gongkai("describe", folder / "data/schools.xlsx", "--header-row", 2, "-o", folder / "datapackage.yaml")
    assert ran.returncode == 0, ran.stderr
    fill_in(folder / "datapackage.yaml")
    # the sheet's 联系手机 column holds mobile numbers: the guard stops the draft as it is ...
    [result] = check([folder], root)
    assert not result.valid and {e.type for t in result.tasks for e in t.errors} == {"personal-data"}
    # ... and lets it through once the publisher declares the column as published on purpose
    drafted = yaml.safe_load((folder / "datapackage.yaml").read_text(encoding="utf-8"))
    [res] = drafted["resources"]
    drafted["gov:personalData"] = [
        {
            "resource": res["name"],
            "field": "联系手机",
            "kind": "organisational-contact",
            "legalBasis": "学校对外公布的办公联系电话 / the schools' published office numbers",
            "masking": "none",
        }
    ]
    (folder / "datapackage.yaml").write_text(yaml.safe_dump(drafted, allow_unicode=True), encoding="utf-8")
    validate_ok(root, folder)


def test_encoding_is_decided_over_the_whole_file(tmp_path):
    """400 KB of ASCII, then one GB18030 row: a sample would say UTF-8."""
    path = tmp_path / "late.csv"
    body = "code,name\n" + "".join(f"{i},town{i}\n" for i in range(40_000))
    assert len(body) > 400_000
    path.write_bytes(body.encode() + "40000,广安区\n".encode("gb18030"))
    d = draft(path)
    assert d.detected.encoding == "gb18030" and d.detected.utf8_error_at > 400_000
    assert d.profile.rows == 40_001
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes(body.encode() + "40000,广安区\n".encode())
    assert draft(utf8).detected.encoding == "utf-8"


def test_bytes_neither_utf8_nor_gb18030_are_a_clear_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n1,\xff\xfe\n")
    with pytest.raises(PublishError) as exc:
        draft(path)
    assert exc.value.code == 1 and "CSV UTF-8" in str(exc.value) and "byte 6" in str(exc.value)
    ran = gongkai("describe", path)
    assert ran.returncode == 1 and "GB18030" in ran.stderr


def csv_file(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_constraints_come_from_all_rows(tmp_path):
    rows = ["编号,地区,人口,日期,备注"]
    rows += [f"{i},{['东区', '西区'][i % 2]},{1000 + i},2024-01-{i % 28 + 1:02d}," for i in range(1, 3000)]
    rows.append("3000,北区,-5,2023-12-31,只有最后一行有备注")  # the last row changes enum, min, dates, required
    d = draft(csv_file(tmp_path, "\n".join(rows) + "\n"))
    fields = {f["name"]: f for f in d.resource["schema"]["fields"]}
    assert fields["编号"]["type"] == "integer" and d.resource["schema"]["primaryKey"] == ["编号"]
    assert fields["地区"]["constraints"]["enum"] == ["东区", "北区", "西区"]
    assert fields["人口"]["constraints"]["minimum"] == -5 and fields["人口"]["constraints"]["maximum"] == 3999
    assert fields["日期"]["type"] == "date" and fields["日期"]["constraints"]["minimum"] == "2023-12-31"
    assert "required" not in fields["备注"].get("constraints", {})
    assert fields["人口"]["gov:translations"]["en"]["title"] == "Population"


def test_a_later_value_demotes_the_type(tmp_path):
    text = "n,code\n" + "".join(f"{i},{i}\n" for i in range(1, 500)) + "1.5,007\n"
    fields = {f["name"]: f for f in draft(csv_file(tmp_path, text)).resource["schema"]["fields"]}
    assert fields["n"]["type"] == "number"
    assert fields["code"]["type"] == "string"  # 007: a code, whose zeros an integer would lose


def test_composite_key_candidates(tmp_path):
    text = "地区代码,年份,数值\n" + "".join(
        f"{c},{y},{c * y % 7}\n" for c in (110000, 120000) for y in range(2000, 2010)
    )
    d = draft(csv_file(tmp_path, text))
    assert d.resource["schema"]["primaryKey"] == ["地区代码", "年份"]
    dup = text + "110000,2000,9\n"
    assert "primaryKey" not in draft(csv_file(tmp_path, dup, "dup.csv")).resource["schema"]


def test_header_row_names_and_translations(tmp_path):
    text = "某区 2024 年统计表,,\n\n  项目名称 ,zzz奇怪的列,Amount\nA,1,2\nB,3,4\n"
    d = draft(csv_file(tmp_path, text), header_row=3)
    names = [f["name"] for f in d.resource["schema"]["fields"]]
    assert names == ["项目名称", "zzz奇怪的列", "Amount"]  # as the validator reads labels: stripped
    assert d.resource["dialect"] == {"headerRows": [3]}
    first, odd, latin = d.resource["schema"]["fields"]
    assert first["gov:translations"]["en"]["title"] == "Project name"
    assert "gov:translations" not in odd and any("TODO" in line for line in d.comments["zzz奇怪的列"])
    assert "gov:translations" not in latin and "Amount" not in d.comments
    text_yaml = to_yaml(d)
    assert yaml.safe_load(text_yaml) == d.resource


def test_draft_with_a_title_row_validates(tmp_path):
    root = empty_repo(tmp_path)
    source = csv_file(tmp_path, "某区道路统计\n道路名称,长度\n中山路,1.5\n人民路,2\n", "roads.csv")
    folder = new_dataset_with(root, "roads", {"roads.csv": source})
    assert (
        gongkai("describe", folder / "roads.csv", "--header-row", 2, "-o", folder / "datapackage.yaml").returncode == 0
    )
    fill_in(folder / "datapackage.yaml")
    validate_ok(root, folder)


@pytest.mark.parametrize(
    ("header", "flagged"),
    [
        ("身份证号码", True),
        ("联系手机", True),
        ("家庭住址", True),
        ("email", True),
        ("Contact E-mail", True),
        ("id_card", True),
        ("first name", True),
        ("addressbase-custodian", False),
        ("Country Name", False),
        ("统一社会信用代码", False),
        ("单位名称", False),
    ],
)
def test_personal_data_column_names(header, flagged):
    assert personal_hint(header) is flagged


def test_personal_columns_flagged_in_the_draft(tmp_path):
    d = draft(csv_file(tmp_path, "姓名,身份证号,区县\n张三,110101199003074514,东城区\n"))
    assert d.personal == ["姓名", "身份证号"]
    text = to_yaml(d)
    assert "gov:personalData" in text and "personal-data guard" in text
    assert any("个人信息" in line for line in d.comments["身份证号"])


def test_no_pinyin_ever():
    assert english_title("行政区划代码") == "Administrative division code"
    assert english_title("某某乡") is None  # not every word known: no guess
    assert english_title("Code") is None


def test_refusals(tmp_path):
    blank = csv_file(tmp_path, "a,,c\n1,2,3\n", "blank.csv")
    with pytest.raises(PublishError, match="column"):
        draft(blank)
    dup = csv_file(tmp_path, "a,b,a\n1,2,3\n", "dup.csv")
    with pytest.raises(PublishError, match="repeats"):
        draft(dup)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    ran = gongkai("describe", old)
    assert ran.returncode == 1 and ".xlsx" in ran.stderr and "另存为" in ran.stderr
    ran = gongkai("describe", PUBLISH_FIXTURES / "schools.xlsx", "--sheet", "Sheet9")
    assert ran.returncode == 2 and "学校名录" in ran.stderr and "说明" in ran.stderr
    ran = gongkai("describe", blank, "--sheet", "x")
    assert ran.returncode == 2 and ".xlsx" in ran.stderr
    ran = gongkai("describe", tmp_path / "missing.csv")
    assert ran.returncode == 2
    ran = gongkai("describe", blank, "--header-row", 0)
    assert ran.returncode == 2
    ran = gongkai("describe", csv_file(tmp_path, "a\n1\n", "short.csv"), "--header-row", 5)
    assert ran.returncode == 1 and "row 5" in ran.stderr


def test_appending_twice_is_refused_and_changes_nothing(tmp_path):
    root = empty_repo(tmp_path)
    folder = new_dataset_with(root, "twice", {"data/t.csv": csv_file(tmp_path, "a,b\n1,2\n")})
    descriptor = folder / "datapackage.yaml"
    assert gongkai("describe", folder / "data/t.csv", "-o", descriptor).returncode == 0
    before = descriptor.read_text(encoding="utf-8")
    again = gongkai("describe", folder / "data/t.csv", "-o", descriptor)
    assert again.returncode == 1 and "already has a resource" in again.stderr
    assert descriptor.read_text(encoding="utf-8") == before
    outside = gongkai("describe", csv_file(tmp_path, "a\n1\n", "elsewhere.csv"), "-o", descriptor)
    assert outside.returncode == 2 and "inside the dataset folder" in outside.stderr


def test_output_to_a_file_and_to_stdout(tmp_path):
    source = csv_file(tmp_path, "a,b\n1,x\n2,y\n")
    out = gongkai("describe", source)
    assert out.returncode == 0 and yaml.safe_load(out.stdout)["schema"]["fields"][0]["name"] == "a"
    target = tmp_path / "drafts" / "t.yaml"
    ran = gongkai("describe", source, "-o", target)
    assert ran.returncode == 0 and ran.stdout == ""
    assert yaml.safe_load(target.read_text(encoding="utf-8")) == yaml.safe_load(out.stdout)


def test_memory_stays_bounded_as_rows_grow():
    """Every value is distinct (the worst case for unique/enum): 10x the rows may not take 2x
    the peak memory, because uniqueness is counted on disk."""

    def peak(n: int) -> int:
        rows = ([f"id-{i}", f"名称{i * 7}"] for i in range(n))
        tracemalloc.start()
        table = profile_rows(["编号", "名称"], rows)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert table.rows == n and table.columns[0].unique
        return top

    small, large = peak(10_000), peak(100_000)
    assert large < 2 * small, (small, large)


def test_describe_help_documents_every_option_in_both_languages():
    out = gongkai("describe", "--help").stdout
    for option in ("--sheet", "--header-row", "--output"):
        line = out.split(option, 1)[1].split("\n  -", 1)[0]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in line) and "the" in line.lower(), option


def test_semicolons_are_read_as_the_validator_reads_them(tmp_path):
    root = empty_repo(tmp_path)
    source = csv_file(tmp_path, "地区;人口;面积\n东区;1200;3,5\n西区;900;4,25\n", "semi.csv")
    folder = new_dataset_with(root, "semi", {"semi.csv": source})
    d = draft(folder / "semi.csv")
    assert [f["name"] for f in d.resource["schema"]["fields"]] == ["地区", "人口", "面积"]
    assert d.resource["dialect"] == {"headerRows": [1], "delimiter": ";"}
    assert gongkai("describe", folder / "semi.csv", "-o", folder / "datapackage.yaml").returncode == 0
    fill_in(folder / "datapackage.yaml")
    validate_ok(root, folder)


def test_a_json_descriptor_is_never_overwritten(tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "datapackage.json").write_text('{"name": "ds"}')
    source = csv_file(folder, "a\n1\n")
    ran = gongkai("describe", source, "-o", folder / "datapackage.json")
    assert ran.returncode == 2 and "datapackage.yaml" in ran.stderr
    assert (folder / "datapackage.json").read_text() == '{"name": "ds"}'


def test_an_empty_column_is_text_and_times_are_times(tmp_path):
    d = draft(csv_file(tmp_path, "a,空列,开始时间\n1,,08:30:00\n2,,17:05:00\n"))
    fields = {f["name"]: f for f in d.resource["schema"]["fields"]}
    assert fields["空列"]["type"] == "string" and "constraints" not in fields["空列"]
    assert any("empty in every row" in line for line in d.comments["空列"])
    assert fields["开始时间"]["type"] == "time"
    assert fields["开始时间"]["constraints"]["minimum"] == "08:30:00"


def test_a_header_only_file_drafts_text_columns(tmp_path):
    d = draft(csv_file(tmp_path, "编号,名称\n"))
    assert d.profile.rows == 0
    assert [f["type"] for f in d.resource["schema"]["fields"]] == ["string", "string"]
    assert "primaryKey" not in d.resource["schema"]


def test_every_proposed_type_validates(tmp_path):
    """Each candidate type the profiler can propose, in one file, through describe → validate."""
    header = "整数,小数,布尔,是否,日期,斜杠日期,点日期,中文日期,时刻,空格时刻,斜杠时刻,时间,文本,代码"
    rows = [
        f"{i},{i / 4},{'true' if i % 2 else 'false'},{'是' if i % 2 else '否'},2024-01-{i:02d},2024/01/{i:02d},"
        f"2024.01.{i:02d},2024年01月{i:02d}日,2024-01-{i:02d}T10:00:00,2024-01-{i:02d} 10:00:00,"
        f"2024/01/{i:02d} 10:00:00,10:{i:02d}:00,文本{i},0{i}"
        for i in range(1, 20)
    ]
    root = empty_repo(tmp_path)
    folder = new_dataset_with(root, "types", {"t.csv": csv_file(tmp_path, header + "\n" + "\n".join(rows) + "\n")})
    d = draft(folder / "t.csv")
    types = [(f["type"], f.get("format")) for f in d.resource["schema"]["fields"]]
    assert types == [
        ("integer", None),
        ("number", None),
        ("boolean", None),
        ("boolean", None),
        ("date", None),
        ("date", "%Y/%m/%d"),
        ("date", "%Y.%m.%d"),
        ("date", "%Y年%m月%d日"),
        ("datetime", None),
        ("datetime", None),  # the default datetime accepts a space for the T (as frictionless does)
        ("datetime", "%Y/%m/%d %H:%M:%S"),
        ("time", None),
        ("string", None),
        ("string", None),
    ]
    assert gongkai("describe", folder / "t.csv", "-o", folder / "datapackage.yaml").returncode == 0
    fill_in(folder / "datapackage.yaml")
    validate_ok(root, folder)


def test_a_count_unique_by_chance_is_no_primary_key(tmp_path):
    text = "地区,年份,人数\n" + "".join(
        f"{a},{y},{100 + i}\n" for i, (a, y) in enumerate((a, y) for a in "甲乙" for y in (2020, 2021))
    )
    d = draft(csv_file(tmp_path, text))
    assert d.resource["schema"]["primaryKey"] == ["地区", "年份"]
    assert ["人数"] in d.profile.key_candidates  # still listed as unique, but not proposed
