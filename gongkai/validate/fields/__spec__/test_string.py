import pytest
from fields_oracle import SPACES, assert_same
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "s", "type": "string"}, None),
    ({"name": "s"}, ["", "NA", "-"]),  # no type: frictionless reads it as string
    ({"name": "s", "type": "string", "constraints": {"pattern": "[A-Z]{2}[0-9]*", "required": True}}, None),
    ({"name": "s", "type": "string", "constraints": {"minLength": 2, "maxLength": 4, "pattern": "a.*"}}, None),
    ({"name": "s", "type": "string", "constraints": {"enum": ["北京", "上海", "a", ""]}}, None),
    ({"name": "s", "type": "string", "format": "email"}, None),
    ({"name": "s", "type": "string", "format": "uri"}, None),
    ({"name": "s", "type": "string", "format": "uuid"}, None),
    ({"name": "s", "type": "string", "format": "binary"}, None),
    ({"name": "s", "type": "string", "missingValues": []}, None),
]

cells = st.one_of(
    st.text(max_size=8),
    st.text("aAB01-北京上海 @.:/=" + SPACES, max_size=8),
    st.sampled_from(
        [
            "",
            "NA",
            "-",
            "AB12",
            "AB12\n",
            "ab",
            "a@b.cn",
            "https://x.cn/a",
            "http//x",
            "12345678-1234-5678-1234-567812345678",
            "aGVsbG8=",
            "aGVsbG8",
            "北京",
        ]
    ),
)


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=50, deadline=None)
@given(st.lists(cells, max_size=10))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


def test_pattern_is_anchored_like_frictionless():
    cast = compile_field({"name": "s", "type": "string", "constraints": {"pattern": "[A-Z]{2}"}}, [""]).cast
    assert cast("AB") == "AB"
    assert cast("AB\n") == "AB\n"  # `$` matches before a final newline, as in frictionless
    with pytest.raises(CellError) as e:
        cast("ABC")
    assert e.value.note == 'constraint "pattern" is "[A-Z]{2}"' and "[A-Z]{2}" in e.value.note_zh


def test_lengths_enum_required():
    caster = compile_field(
        {
            "name": "s",
            "type": "string",
            "constraints": {"required": True, "minLength": 2, "maxLength": 3, "enum": ["ab", "abcd"]},
        },
        [""],
    )
    assert caster.cast("ab") == "ab"
    notes = {}
    for cell in ("a", "abcd", "abc", ""):
        with pytest.raises(CellError) as e:
            caster.cast(cell)
        notes[cell] = e.value.note
    assert notes == {
        "a": 'constraint "minLength" is "2"',
        "abcd": 'constraint "maxLength" is "3"',
        "abc": "constraint \"enum\" is \"['ab', 'abcd']\"",
        "": 'constraint "required" is "True"',
    }
    with pytest.raises(CellError) as e:  # two failures: frictionless reports both, minLength first
        caster.cast("b")
    assert [n for _, n, _ in e.value.notes] == [
        'constraint "minLength" is "2"',
        "constraint \"enum\" is \"['ab', 'abcd']\"",
    ]


def test_inline_hint_is_exact_for_plain_strings():
    caster = compile_field({"name": "s", "type": "string"}, [""])
    assert caster.inline == "(None if {c} == '' else {c})"
    assert compile_field({"name": "s", "type": "string", "constraints": {"pattern": "a"}}, [""]).inline is None
    assert compile_field({"name": "s", "type": "string", "format": "email"}, [""]).inline is None
    assert compile_field({"name": "s", "type": "string"}, ["", "NA"]).inline == "(None if {c} in ('', 'NA') else {c})"
