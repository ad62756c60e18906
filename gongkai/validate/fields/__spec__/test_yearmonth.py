import pytest
from fields_oracle import SPACES, UNICODE_DIGITS, assert_same
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "m", "type": "yearmonth"}, None),
    (
        {
            "name": "m",
            "type": "yearmonth",
            "constraints": {"minimum": "2020-01", "maximum": [2024, 6], "enum": ["2021-03", "2024-06"]},
        },
        None,
    ),
]

cells = st.one_of(
    st.tuples(st.integers(-1, 20000), st.integers(-1, 13)).map(lambda t: f"{t[0]}-{t[1]}"),
    st.tuples(st.integers(0, 9999), st.integers(0, 13)).map(lambda t: f"{t[0]:04d}-{t[1]:02d}"),
    st.text("0123456789-+_ " + SPACES + UNICODE_DIGITS, max_size=8),
    st.sampled_from(["2024-06", "2024-6", " 2024-06 ", "2024-13", "2024", "5-01", "2021-03", "", "2024--1"]),
)


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=60, deadline=None)
@given(st.lists(cells, max_size=10))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


def test_values_and_notes():
    cast = compile_field({"name": "m", "type": "yearmonth", "constraints": {"minimum": "2020-01"}}, [""]).cast
    assert cast("2024-6") == "2024-06" and cast("") is None
    with pytest.raises(CellError) as e:
        cast("2019-12")
    assert e.value.note == 'constraint "minimum" is "2020-01"'
    with pytest.raises(CellError) as e:
        cast("2024-13")
    assert (e.value.type, e.value.note) == ("type-error", 'type is "yearmonth/default"')
