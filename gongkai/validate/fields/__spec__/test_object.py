import json

import pytest
from fields_oracle import assert_same
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "o", "type": "object"}, None),
    ({"name": "o", "type": "object", "constraints": {"minLength": 1, "maxLength": 2, "required": True}}, None),
    ({"name": "o", "type": "object", "constraints": {"enum": ['{"a": 1}', {"b": 2}]}}, None),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
cells = st.one_of(
    json_values.map(lambda v: json.dumps(v, ensure_ascii=False)),
    st.sampled_from(['{"a": 1}', '{"b": 2}', "{}", '{"a": NaN}', "[1]", "", "{bad", '{"名": "值"}']),
    st.text('{}[]":,01ab ', max_size=10),
)


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=50, deadline=None)
@given(st.lists(cells, max_size=8))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


def test_values_and_notes():
    cast = compile_field({"name": "o", "type": "object", "constraints": {"maxLength": 1}}, [""]).cast
    assert cast('{"名": "值"}') == '{"名":"值"}'
    with pytest.raises(CellError) as e:
        cast('{"a": 1, "b": 2}')
    assert e.value.note == 'constraint "maxLength" is "1"' and "1" in e.value.note_zh
    with pytest.raises(CellError) as e:
        cast("[1]")
    assert (e.value.type, e.value.note) == ("type-error", 'type is "object/default"')
