import pytest
from fields_oracle import SPACES, UNICODE_DIGITS, assert_same
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "y", "type": "year"}, None),
    ({"name": "y", "type": "year", "constraints": {"minimum": 2000, "maximum": "2030"}}, None),
    (
        {
            "name": "y",
            "type": "year",
            "constraints": {"exclusiveMinimum": 1999, "enum": [2000, "2024"], "required": True},
        },
        ["", "-"],
    ),
]

cells = st.one_of(
    st.integers(-1, 10001).map(str),
    st.integers(0, 9999).map(lambda n: f"{n:04d}"),
    st.text("0123456789+-_ ." + SPACES + UNICODE_DIGITS, max_size=6),
    st.sampled_from(["2024", " 999", "+999", "-999", "1_99", "２０２４", "", "-", "0000", "9999", "20245"]),
)


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=60, deadline=None)
@given(st.lists(cells, max_size=10))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


def test_values_and_notes():
    cast = compile_field({"name": "y", "type": "year", "constraints": {"minimum": 2000}}, [""]).cast
    assert cast("2024") == 2024 and cast("") is None
    with pytest.raises(CellError) as e:
        cast("1999")
    assert e.value.note == 'constraint "minimum" is "2000"' and "2000" in e.value.note_zh
    with pytest.raises(CellError) as e:
        cast("24")
    assert (e.value.type, e.value.note) == ("type-error", 'type is "year/default"')
