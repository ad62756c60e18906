import pytest
from fields_oracle import assert_same
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "g", "type": "geopoint"}, None),
    ({"name": "g", "type": "geopoint", "format": "array"}, None),
    ({"name": "g", "type": "geopoint", "format": "object", "constraints": {"enum": ["116.4,39.9"]}}, None),
]

coord = st.one_of(
    st.integers(-200, 200).map(str),
    st.floats(-200, 200, allow_nan=False).map(repr),
    st.sampled_from(["NaN", "Infinity", "1e2", " 5 ", "x"]),
)
cells = st.one_of(
    st.tuples(coord, coord).map(lambda t: f"{t[0]},{t[1]}"),
    st.tuples(coord, coord).map(lambda t: f"[{t[0]}, {t[1]}]"),
    st.tuples(coord, coord).map(lambda t: f'{{"lon": {t[0]}, "lat": {t[1]}}}'),
    st.text('0123456789.,-[]{}" lonat:', max_size=14),
    st.sampled_from(
        [
            "116.4,39.9",
            "116.4, 39.9",
            "[116.4, 39.9]",
            '{"lon": 116.4, "lat": 39.9}',
            '["1", "2"]',
            '"ab"',
            "181,0",
            "0,91",
            "1,2,3",
            "",
        ]
    ),
)


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=60, deadline=None)
@given(st.lists(cells, max_size=8))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


def test_values_and_notes():
    cast = compile_field({"name": "g", "type": "geopoint"}, [""]).cast
    assert cast("116.40, 39.9") == "116.40,39.9"
    with pytest.raises(CellError) as e:
        cast("181,0")
    assert (e.value.type, e.value.note) == ("type-error", 'type is "geopoint/default"')
