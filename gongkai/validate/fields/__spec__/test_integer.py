import pytest
from fields_oracle import NUMBERISH, SPACES, SPECIAL_NUMBERS, UNICODE_DIGITS, assert_same, signed_numbers
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "n", "type": "integer"}, None),
    ({"name": "n", "type": "integer", "constraints": {"minimum": 5, "maximum": "100"}}, None),
    (
        {
            "name": "n",
            "type": "integer",
            "constraints": {"exclusiveMinimum": -3, "exclusiveMaximum": 7.0, "required": True},
        },
        ["", "NA"],
    ),
    ({"name": "n", "type": "integer", "constraints": {"enum": [1, "2", 30]}}, None),
    ({"name": "n", "type": "integer", "bareNumber": False}, None),
    ({"name": "n", "type": "integer", "missingValues": ["-", "n/a"]}, ["", "NA"]),
]

cells = st.one_of(
    signed_numbers(),
    SPECIAL_NUMBERS,
    st.text(NUMBERISH + SPACES + UNICODE_DIGITS + "€$%", max_size=8),
    st.sampled_from(["", "NA", "-", "n/a", "5", "100", "101", "-3", "7", "€1000", "1000 $", "-€5"]),
)


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=80, deadline=None)
@given(st.lists(cells, max_size=12))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


def test_values_and_notes():
    cast = compile_field({"name": "n", "type": "integer", "constraints": {"minimum": 5}}, [""]).cast
    assert cast("7") == 7 and cast(" +7 ") == 7 and cast("1_000") == 1000 and cast("٣٣") == 33
    assert cast("") is None
    with pytest.raises(CellError) as e:
        cast("4")
    assert (e.value.type, e.value.note) == ("constraint-error", 'constraint "minimum" is "5"')
    assert "minimum" in e.value.note_zh and "5" in e.value.note_zh
    with pytest.raises(CellError) as e:
        cast("1.0")
    assert (e.value.type, e.value.note) == ("type-error", 'type is "integer/default"')
    assert e.value.note_zh == "类型应为 整数（integer/default）"


def test_each_bound():
    for name, bad, good in [
        ("maximum", "6", "5"),
        ("exclusiveMaximum", "5", "4"),
        ("exclusiveMinimum", "5", "6"),
        ("enum", "6", "5"),
    ]:
        raw = [5] if name == "enum" else 5
        cast = compile_field({"name": "n", "type": "integer", "constraints": {name: raw}}, [""]).cast
        assert cast(good) == int(good)
        with pytest.raises(CellError) as e:
            cast(bad)
        assert e.value.note == f'constraint "{name}" is "{raw}"' and e.value.note_zh


def test_required_and_missing_values():
    caster = compile_field({"name": "n", "type": "integer", "constraints": {"required": True}}, ["", "NA"])
    for cell in ("", "NA"):
        with pytest.raises(CellError) as e:
            caster.cast(cell)
        assert (e.value.note, e.value.note_zh) == ('constraint "required" is "True"', "此列为必填")
    # a field's own missingValues replace the schema's
    caster = compile_field({"name": "n", "type": "integer", "missingValues": ["-"]}, ["", "NA"])
    assert caster.cast("-") is None
    with pytest.raises(CellError):
        caster.cast("")


def test_bare_number_false_strips_currency():
    cast = compile_field({"name": "n", "type": "integer", "bareNumber": False}, [""]).cast
    assert cast("€1000") == 1000 and cast("1000 $") == 1000 and cast("-5%") == -5


def test_no_inline_hint():
    # a bare int() would let through what SQLite cannot store: the row loop inlines the
    # cast's statements instead, range check included
    caster = compile_field({"name": "n", "type": "integer"}, [""])
    assert caster.inline is None and "_HI" in caster.block


def test_integers_sqlite_cannot_store_get_their_own_error():
    # frictionless accepts them; SQLite would round them to a float, so they are refused
    cast = compile_field({"name": "n", "type": "integer"}, [""]).cast
    assert cast("9223372036854775807") == 2**63 - 1 and cast("-9223372036854775808") == -(2**63)
    for cell in ("9223372036854775808", "-9223372036854775809", "99999999999999999999"):
        with pytest.raises(CellError) as e:
            cast(cell)
        assert e.value.type == "integer-range" and "string" in e.value.note and "string" in e.value.note_zh
