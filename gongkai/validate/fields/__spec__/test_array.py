import json

import pytest
from fields_oracle import assert_same
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "a", "type": "array"}, None),
    ({"name": "a", "type": "array", "constraints": {"minLength": 1, "maxLength": 3, "enum": ["[1]", [1, 2]]}}, None),
    ({"name": "a", "type": "array", "arrayItem": {"type": "integer", "constraints": {"minimum": 0}}}, None),
    (
        {
            "name": "a",
            "type": "array",
            "arrayItem": {"type": "string", "constraints": {"required": True, "pattern": "[a-z]+"}},
        },
        None,
    ),
    ({"name": "a", "type": "array", "arrayItem": {"type": "date"}}, None),
    ({"name": "a", "type": "array", "arrayItem": {"type": "number", "constraints": {"maximum": 10}}}, None),
]

items = (
    st.none()
    | st.booleans()
    | st.integers(-5, 20)
    | st.floats(-5, 20, allow_nan=False)
    | st.text("ab1-", max_size=4)
    | st.dates().map(str)
)
cells = st.one_of(
    st.lists(items, max_size=4).map(lambda v: json.dumps(v)),
    st.sampled_from(["[1]", "[1, 2]", "[]", '{"a": 1}', "", "[", '["a", null]', '["2024-01-05", "x"]', "[1.5, 11]"]),
    st.text('[]",01ab-. ', max_size=10),
)


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=50, deadline=None)
@given(st.lists(cells, max_size=8))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


def test_values_and_notes():
    cast = compile_field({"name": "a", "type": "array", "constraints": {"minLength": 1}}, [""]).cast
    assert cast('["北京", 1]') == '["北京",1]'
    with pytest.raises(CellError) as e:
        cast("[]")
    assert e.value.note == 'constraint "minLength" is "1"'
    with pytest.raises(CellError) as e:
        cast('{"a": 1}')
    assert (e.value.type, e.value.note) == ("type-error", 'type is "array/default"')


def test_array_items():
    cast = compile_field(
        {"name": "a", "type": "array", "arrayItem": {"type": "integer", "constraints": {"minimum": 0}}}, [""]
    ).cast
    assert cast("[1, 2.0]") == "[1,2]"
    with pytest.raises(CellError) as e:
        cast('[-1, "x"]')
    assert [n for _, n, _ in e.value.notes] == [
        'array item type is "integer/default"',
        'array item constraint "minimum" is "0"',
    ]
    assert e.value.type == "type-error" and e.value.note_zh.startswith("数组元素")
