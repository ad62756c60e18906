import json

import pytest
from fields_oracle import assert_same
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "g", "type": "geojson"}, None),
    ({"name": "g", "type": "geojson", "format": "topojson"}, None),
    ({"name": "g", "type": "geojson", "constraints": {"enum": ['{"type": "Point", "coordinates": [1, 2]}']}}, None),
]

point = st.tuples(st.integers(-180, 180), st.integers(-90, 90)).map(
    lambda t: json.dumps({"type": "Point", "coordinates": list(t)})
)
cells = st.one_of(
    point,
    st.sampled_from(
        [
            '{"type": "Point", "coordinates": [1, 2]}',
            '{"type": "Point"}',
            '{"type": "Feature", "geometry": null, "properties": {}}',
            '{"type": "Topology", "objects": {}, "arcs": []}',
            "[1, 2]",
            "{}",
            "null",
            "",
            "{bad",
            '{"名": "值"}',
        ]
    ),
    st.text('{}[]":,0123456789 typePoint', max_size=16),
)


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=30, deadline=None)
@given(st.lists(cells, max_size=6))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


def test_values_and_notes():
    cast = compile_field({"name": "g", "type": "geojson"}, [""]).cast
    assert cast('{"type": "Point", "coordinates": [1, 2]}') == '{"type":"Point","coordinates":[1,2]}'
    with pytest.raises(CellError) as e:
        cast('{"type": "Point"}')
    assert (e.value.type, e.value.note) == ("type-error", 'type is "geojson/default"')
