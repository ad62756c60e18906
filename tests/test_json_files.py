"""gongkai.json_files: the object written a member at a time is the text json.dumps gives."""

import json

import pytest

from gongkai.json_files import CHUNK, write_object

MANY = [(f"数据集-{i}", {"rows": i, "ok": i % 2 == 0}) for i in range(2 * CHUNK + 3)]  # across chunks


@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize("members", [[], [("a", 1)], [("名称", {"x": [1, "二"]}), ("b", None)], MANY, MANY[:CHUNK]])
def test_the_same_text_as_json_dumps(tmp_path, members, ensure_ascii):
    path = tmp_path / "plain.json"
    write_object(path, iter(members), ensure_ascii=ensure_ascii)
    assert path.read_text(encoding="utf-8") == json.dumps(
        dict(members), ensure_ascii=ensure_ascii, separators=(",", ":")
    )
    head = {"code": "c", "built": "今天"}
    write_object(path, iter(members), head=head, key="datasets", ensure_ascii=ensure_ascii)
    expected = json.dumps({**head, "datasets": dict(members)}, ensure_ascii=ensure_ascii, separators=(",", ":"))
    assert path.read_text(encoding="utf-8") == expected
    write_object(path, iter(members), key="only")
    assert json.loads(path.read_text(encoding="utf-8")) == {"only": dict(members)}


def test_a_failing_member_leaves_the_old_file(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"kept":1}', encoding="utf-8")

    def members():
        yield "a", 1
        raise RuntimeError("a build that fails half way")

    with pytest.raises(RuntimeError):
        write_object(path, members())
    assert path.read_text(encoding="utf-8") == '{"kept":1}'
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left
