import pytest
from fields_oracle import assert_same, time_like
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "t", "type": "time"}, None),
    ({"name": "t", "type": "time", "constraints": {"minimum": "08:00:00", "exclusiveMaximum": "18:00:00"}}, None),
    ({"name": "t", "type": "time", "format": "%H:%M", "constraints": {"enum": ["10:00", "11:30"]}}, None),
]

cells = st.one_of(
    time_like(),
    st.times().map(lambda t: t.isoformat()),
    st.text("0123456789:.+-Z ", max_size=12),
    st.sampled_from(["10:00:00", "10:00", "24:00:00", "10:00:00Z", "10:00:00+08:00", "1:00:00", "", "11:30"]),
)


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=60, deadline=None)
@given(st.lists(cells, max_size=8))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


def test_values_and_notes():
    cast = compile_field({"name": "t", "type": "time", "constraints": {"minimum": "08:00:00"}}, [""]).cast
    assert cast("10:00:00") == "10:00:00"
    with pytest.raises(CellError) as e:  # aware vs naive bound: frictionless crashes, we fail the bound
        cast("10:00:00+08:00")
    assert e.value.type == "constraint-error"
    assert compile_field({"name": "t", "type": "time"}, [""]).cast("10:00:00+08:00") == "10:00:00+08:00"
    with pytest.raises(CellError) as e:
        cast("07:59:59")
    assert e.value.note == 'constraint "minimum" is "08:00:00"' and e.value.note_zh
    with pytest.raises(CellError) as e:
        cast("10:00")
    assert (e.value.type, e.value.note) == ("type-error", 'type is "time/default"')
