import pytest
from fields_oracle import SPACES, assert_same, date_like
from hypothesis import given, settings, strategies as st

from gongkai.validate.fields import CellError, compile_field

FIELDS = [
    ({"name": "d", "type": "date"}, None),
    ({"name": "d", "type": "date", "constraints": {"minimum": "2020-01-01", "maximum": "2024-12-31"}}, None),
    (
        {
            "name": "d",
            "type": "date",
            "constraints": {"exclusiveMinimum": "2020-1-1", "enum": ["2021-03-04", "2022-02-02"], "required": True},
        },
        ["", "NA"],
    ),
    ({"name": "d", "type": "date", "format": "%d/%m/%Y"}, None),
    ({"name": "d", "type": "date", "format": "fmt:%Y.%m.%d", "constraints": {"maximum": "2021.1.1"}}, None),
    ({"name": "d", "type": "date", "format": "any"}, None),
]

cells = st.one_of(
    date_like(),
    st.dates().map(str),
    st.dates().map(lambda d: f"{d.day}/{d.month}/{d.year}"),
    st.text("0123456789-/. T:" + SPACES + "２", max_size=11),
    st.sampled_from(
        [
            "2024-1-5",
            "2024-01- 5",
            "2023-02-29",
            "2024-02-29",
            "0000-01-01",
            "0001-01-01",
            "20240105",
            "2024-W01-1",
            "2024-001",
            "2024-01-05 ",
            "",
            "NA",
            "２０２４-01-05",
        ]
    ),
)


@pytest.mark.parametrize("field,missing", FIELDS)
@settings(max_examples=60, deadline=None)
@given(st.lists(cells, max_size=10))
def test_same_as_frictionless(field, missing, batch):
    assert_same(field, missing, batch)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(date_like(), st.text(max_size=11)), max_size=10))
def test_fast_iso_path_same_as_strptime(batch):
    assert_same({"name": "d", "type": "date"}, None, batch)


def test_values_and_notes():
    cast = compile_field({"name": "d", "type": "date", "constraints": {"minimum": "2020-01-01"}}, [""]).cast
    assert cast("2024-01-05") == "2024-01-05"
    assert cast("2024-1-5") == "2024-01-05"  # strptime accepts one-digit months and days
    with pytest.raises(CellError) as e:
        cast("2019-12-31")
    assert e.value.note == 'constraint "minimum" is "2020-01-01"' and "2020-01-01" in e.value.note_zh
    with pytest.raises(CellError) as e:
        cast("2023-02-29")
    assert (e.value.type, e.value.note, e.value.note_zh) == (
        "type-error",
        'type is "date/default"',
        "类型应为 日期（date/default）",
    )


def test_custom_format():
    caster = compile_field({"name": "d", "type": "date", "format": "%d/%m/%Y"}, [""])
    assert caster.cast("05/01/2024") == "2024-01-05"
    with pytest.raises(CellError) as e:
        caster.cast("2024-01-05")
    assert e.value.note == 'type is "date/%d/%m/%Y"'


def test_remembered_cells_keep_their_verdict():
    caster = compile_field({"name": "d", "type": "date", "constraints": {"maximum": "2024-06-30"}}, [""])
    for _ in range(3):  # the second read comes from the caster's memory of valid cells
        assert caster.cast("2024-1-5") == "2024-01-05"
        assert caster.cast("2024-01-05") == "2024-01-05"
        for bad, kind in (("2024-7-1", "constraint-error"), ("2024-02-30", "type-error")):
            with pytest.raises(CellError) as e:
                caster.cast(bad)
            assert e.value.type == kind
