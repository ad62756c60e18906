import pytest
from fields_oracle import assert_same, datetime_like
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "t", "type": "datetime"}, None),
    (
        {
            "name": "t",
            "type": "datetime",
            "constraints": {"minimum": "2020-01-01T00:00:00", "maximum": "2030-01-01T00:00:00"},
        },
        None,
    ),
    ({"name": "t", "type": "datetime", "constraints": {"enum": ["2021-01-01T10:00:00Z"], "required": True}}, None),
    ({"name": "t", "type": "datetime", "format": "%Y/%m/%d %H:%M"}, None),
]

cells = st.one_of(
    datetime_like(),
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.strftime("%Y/%m/%d %H:%M")),
    st.text("0123456789-:T Z+./", max_size=22),
    st.sampled_from(
        [
            "2021-01-01T10:00:00Z",
            "2021-01-01T10:00:00+00:00",
            "2021-01-01T24:00:00",
            "2021-01-01 10:00:00",
            "2021-01-01T10:00",
            "2021-01-01T10:00:00.123456",
            "",
            "20210101T100000",
        ]
    ),
)


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=60, deadline=None)
@given(st.lists(cells, max_size=8))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


def test_values_and_notes():
    cast = compile_field({"name": "t", "type": "datetime"}, [""]).cast
    assert cast("2021-01-01T10:00:00") == "2021-01-01T10:00:00"
    assert cast("2021-01-01T10:00:00Z") == "2021-01-01T10:00:00+00:00"
    assert cast("2021-01-01T24:00:00") == "2021-01-02T00:00:00"  # dateutil rolls 24:00 over
    with pytest.raises(CellError) as e:
        cast("2021-01-01T10:00")
    assert (e.value.type, e.value.note) == ("type-error", 'type is "datetime/default"')
    cast = compile_field(
        {"name": "t", "type": "datetime", "constraints": {"maximum": "2020-01-01T00:00:00"}}, [""]
    ).cast
    with pytest.raises(CellError) as e:
        cast("2021-01-01T00:00:00")
    assert e.value.note == 'constraint "maximum" is "2020-01-01T00:00:00"'
