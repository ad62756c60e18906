import pytest
from fields_oracle import assert_same
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "x", "type": "any"}, None),
    ({"name": "x", "type": "any", "constraints": {"enum": ["a", "1"], "required": True, "pattern": "z"}}, ["", "-"]),
]


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=6), st.sampled_from(["a", "1", "", "-", "z"])), max_size=8))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


def test_values_and_notes():
    caster = compile_field({"name": "x", "type": "any", "constraints": {"enum": ["a"], "pattern": "z"}}, [""])
    assert caster.cast("a") == "a" and caster.cast("") is None  # pattern is not an "any" constraint
    with pytest.raises(CellError) as e:
        caster.cast("b")
    assert e.value.note == 'constraint "enum" is "[\'a\']"'
    assert compile_field({"name": "x", "type": "any"}, [""]).inline == "(None if {c} == '' else {c})"


def test_unknown_type_is_refused():
    with pytest.raises(ValueError):
        compile_field({"name": "x", "type": "nope"}, [""])
