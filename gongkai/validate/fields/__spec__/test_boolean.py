import pytest
from fields_oracle import SPACES, assert_same
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "b", "type": "boolean"}, None),
    ({"name": "b", "type": "boolean", "trueValues": ["是", "Y"], "falseValues": ["否", "N", "Y"]}, None),
    ({"name": "b", "type": "boolean", "constraints": {"enum": [True, "false"], "required": True}}, ["", "NA"]),
    ({"name": "b", "type": "boolean", "constraints": {"enum": ["yes"]}}, None),  # enum value not a boolean
]

cells = st.one_of(
    st.sampled_from(
        [
            "true",
            "True",
            "TRUE",
            "1",
            "false",
            "False",
            "FALSE",
            "0",
            "yes",
            "是",
            "否",
            "Y",
            "N",
            "",
            "NA",
            " true",
            "true ",
            "tRUE",
            "01",
        ]
    ),
    st.text("tfrueals01YN是否" + SPACES, max_size=6),
)


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=40, deadline=None)
@given(st.lists(cells, max_size=10))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


def test_values_and_notes():
    cast = compile_field({"name": "b", "type": "boolean"}, [""]).cast
    assert [cast(c) for c in ("true", "1", "FALSE", "0", "")] == [1, 1, 0, 0, None]
    with pytest.raises(CellError) as e:
        cast(" true")  # no stripping
    assert (e.value.type, e.value.note, e.value.note_zh) == (
        "type-error",
        'type is "boolean/default"',
        "类型应为 是/否（boolean/default）",
    )


def test_custom_values_and_enum():
    cast = compile_field(
        {"name": "b", "type": "boolean", "trueValues": ["是"], "falseValues": ["否"], "constraints": {"enum": [True]}},
        [""],
    ).cast
    assert cast("是") == 1
    with pytest.raises(CellError) as e:
        cast("否")
    assert e.value.note == 'constraint "enum" is "[True]"'
    with pytest.raises(CellError) as e:
        cast("true")
    assert e.value.type == "type-error"
