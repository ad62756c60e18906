import pytest
from fields_oracle import assert_same
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "p", "type": "duration"}, None),
    ({"name": "p", "type": "duration", "constraints": {"enum": ["P1D", "PT36H"], "required": True}}, None),
]

cells = st.one_of(
    st.text("P0123456789YMWDTHS.,-+:", max_size=12),
    st.sampled_from(
        [
            "P1Y2M3DT4H5M6S",
            "P2W",
            "PT0.5S",
            "PT36H",
            "P1DT12H",
            "P1D",
            "-P1D",
            "P",
            "PT",
            "",
            "P0001-02-03T04:05:06",
            "1D",
        ]
    ),
)


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=60, deadline=None)
@given(st.lists(cells, max_size=8))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


def test_values_and_notes():
    caster = compile_field({"name": "p", "type": "duration", "constraints": {"enum": ["P1DT12H"]}}, [""])
    assert caster.cast("PT36H") == "PT36H"  # equal as durations; stored as written
    with pytest.raises(CellError) as e:
        caster.cast("P1D")
    assert e.value.note == 'constraint "enum" is "[\'P1DT12H\']"'
    with pytest.raises(CellError) as e:
        caster.cast("1 day")
    assert (e.value.type, e.value.note) == ("type-error", 'type is "duration/default"')
