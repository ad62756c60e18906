import pytest
from fields_oracle import NUMBERISH, SPACES, SPECIAL_NUMBERS, UNICODE_DIGITS, assert_same, signed_numbers
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "x", "type": "number"}, None),
    ({"name": "x", "type": "number", "floatNumber": True}, None),
    ({"name": "x", "type": "number", "constraints": {"minimum": 0.1, "maximum": "100"}}, None),
    ({"name": "x", "type": "number", "constraints": {"exclusiveMinimum": 5, "exclusiveMaximum": 5.5}}, ["", "NA"]),
    ({"name": "x", "type": "number", "constraints": {"enum": [1, "2.50", 0.1]}}, None),
    ({"name": "x", "type": "number", "groupChar": ",", "decimalChar": "."}, None),
    ({"name": "x", "type": "number", "groupChar": " ", "decimalChar": ","}, None),
    ({"name": "x", "type": "number", "bareNumber": False, "constraints": {"required": True}}, None),
    ({"name": "x", "type": "number", "bareNumber": True}, None),
]

cells = st.one_of(
    signed_numbers(),
    SPECIAL_NUMBERS.filter(lambda c: "sNaN" not in c),  # sNaN vs a bound crashes frictionless itself
    st.text(NUMBERISH + SPACES + UNICODE_DIGITS + "€$%", max_size=8),
    st.sampled_from(
        [
            "0.1",
            "0.10000000000000000001",
            "0.09999999999999999999",
            "100",
            "100.0000000000000001",
            "99.99999999999999999",
            "5",
            "5.00000000000000000001",
            "4.99999999999999999999",
            "5.5",
            "5.50000000000000000001",
            "5.49999999999999999999",
            "2.5",
            "1e400",
            "-1e400",
            " 5 ",
        ]
    ),
).filter(lambda c: "snan" not in c.lower())  # any spelling of sNaN vs a bound crashes frictionless itself


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=60, deadline=None)
@given(st.lists(cells, max_size=12))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=8), SPECIAL_NUMBERS, signed_numbers()), max_size=10))
def test_fast_float_path_same_as_decimal(batch):
    # the unconstrained field reads with float() first: any text at all must agree
    assert_same({"name": "x", "type": "number"}, None, batch)


def test_values():
    cast = compile_field({"name": "x", "type": "number"}, [""]).cast
    assert cast("1e3") == 1000.0 and cast(" 1.5 ") == 1.5 and cast("1_000.5") == 1000.5
    with pytest.raises(CellError):  # float() would say inf; Decimal refuses the exponent
        cast("1e1000000000000000000")
    assert cast("0e5") == 0.0
    # frictionless reads these as numbers; SQLite would store NaN as NULL and JSON has no
    # Infinity, so they are refused (number-range), the published value never differs
    for text in ("NaN", "nan", "sNaN", "INF", "inf", "Infinity", "-Infinity", "1e999999999999999999", "-1e400"):
        with pytest.raises(CellError) as e:
            cast(text)
        assert e.value.type == "number-range" and "empty" in e.value.note and "留空" in e.value.note_zh, text
    assert cast("1e308") == 1e308 and cast("-0") == 0.0
    assert type(cast("7")) is float
    with pytest.raises(CellError) as e:
        cast("1,5")
    assert (e.value.type, e.value.note) == ("type-error", 'type is "number/default"')


def test_decimal_exact_bounds():
    cast = compile_field({"name": "x", "type": "number", "constraints": {"maximum": 5}}, [""]).cast
    assert cast("5") == 5.0
    with pytest.raises(CellError) as e:  # equal as floats, above as decimals
        cast("5.0000000000000000001")
    assert e.value.note == 'constraint "maximum" is "5"' and "5" in e.value.note_zh
    with pytest.raises(CellError):  # NaN fails every bound
        cast("NaN")


def test_group_and_decimal_chars():
    cast = compile_field({"name": "x", "type": "number", "groupChar": " ", "decimalChar": ","}, [""]).cast
    assert cast("1 234,5") == 1234.5
    with pytest.raises(CellError):
        cast("1.5")


def test_enum_and_notes():
    cast = compile_field({"name": "x", "type": "number", "constraints": {"enum": [1, 2.5]}}, [""]).cast
    assert cast("2.50") == 2.5 and cast("1.0") == 1.0
    with pytest.raises(CellError) as e:
        cast("3")
    assert (
        e.value.note == 'constraint "enum" is "[1, 2.5]"' and e.value.note_zh == "应为以下值之一：1、2.5（约束 enum）"
    )


def test_inline_hint():
    # float() alone would accept exponents Decimal refuses ("1e1000000000000000000")
    assert compile_field({"name": "x", "type": "number"}, [""]).inline is None
    assert compile_field({"name": "x", "type": "number", "groupChar": ","}, [""]).inline is None


def test_bounds_break_float_ties_exactly():
    for constraint, valid, invalid in [
        ({"minimum": 5}, ["5", "5.00000000000000000001"], ["4.99999999999999999999", "NaN"]),
        ({"exclusiveMinimum": 5}, ["5.00000000000000000001"], ["5", "5.0"]),
        ({"exclusiveMaximum": 0.1}, ["0.09999999999999999999"], ["0.1", "0.10000000000000000001"]),
        ({"maximum": "1e300"}, ["1e300", "1e299"], ["1.0000000000000000001e300", "Infinity"]),
    ]:
        cast = compile_field({"name": "x", "type": "number", "constraints": constraint}, [""]).cast
        for cell in valid:
            assert cast(cell) == float(cell), (constraint, cell)
        for cell in invalid:
            with pytest.raises(CellError) as e:
                cast(cell)
            assert e.value.type == "constraint-error", (constraint, cell)
    # within a bound beyond floats, the cell is still infinite as a float: refused (number-range)
    with pytest.raises(CellError) as e:
        compile_field({"name": "x", "type": "number", "constraints": {"maximum": "1e400"}}, [""]).cast("1e399")
    assert e.value.type == "number-range"
