import pytest
from fields_oracle import SPACES, assert_same
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "l", "type": "list"}, None),
    ({"name": "l", "type": "list", "itemType": "integer", "constraints": {"minLength": 2, "maxLength": 3}}, None),
    ({"name": "l", "type": "list", "itemType": "number", "delimiter": ";"}, None),
    ({"name": "l", "type": "list", "itemType": "boolean", "constraints": {"required": True}}, ["", "NA"]),
    ({"name": "l", "type": "list", "itemType": "date", "delimiter": "|"}, None),
    ({"name": "l", "type": "list", "itemType": "datetime"}, None),
    ({"name": "l", "type": "list", "itemType": "time", "delimiter": ";"}, None),
]

cells = st.one_of(
    st.text("0123456789,;|-.: eTtrufals" + SPACES[:3], max_size=14),
    st.sampled_from(
        [
            "1,2",
            "1, 2",
            "1,2,3,4",
            "1.5;2",
            "true,false",
            "2024-01-05|2024-1-6",
            "",
            "NA",
            ",",
            "2024-01-05T10:00:00,2024-01-05T11:00:00",
            "10:00:00;11:00:00",
            "a,北京",
        ]
    ),
)


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=50, deadline=None)
@given(st.lists(cells, max_size=8))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


def test_values_and_notes():
    cast = compile_field(
        {"name": "l", "type": "list", "itemType": "integer", "constraints": {"minLength": 2}}, [""]
    ).cast
    assert cast("1, 2") == "[1,2]"
    with pytest.raises(CellError) as e:
        cast("1")
    assert e.value.note == 'constraint "minLength" is "2"'
    with pytest.raises(CellError) as e:
        cast("1,x")
    assert (e.value.type, e.value.note) == ("type-error", 'expected item type is "integer"')
    assert "整数" in e.value.note_zh
    assert compile_field({"name": "l", "type": "list", "itemType": "boolean"}, [""]).cast("true,0") == "[true,false]"
