

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
