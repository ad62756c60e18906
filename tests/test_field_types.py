"""One table of field-type names: a validation message and the data dictionary call a type by
the same words, in both languages."""

from gongkai.field_types import TYPE_NAMES, TYPES, type_name
from gongkai.portal import dictionary
from gongkai.validate import shape
from gongkai.validate.fields import type_notes


def test_every_type_is_named_in_both_languages():
    assert set(TYPES) == set(shape.TYPE_NAMES)
    for name, (zh, en) in TYPE_NAMES.items():
        assert zh and en and zh != en, name


def test_validation_messages_and_the_dictionary_agree():
    for name in TYPES:
        words_zh, words_en = dictionary.type_words(name)
        assert words_zh == type_name(name, "zh")
        assert words_en == type_name(name, "en")
        assert f"类型应为 {words_zh}（" in type_notes(name, "default")[1]


def test_a_list_item_type_is_named_by_the_same_table():
    from gongkai.validate.fields import list as list_type

    assert list_type.type_notes({"itemType": "date"}) == (
        'expected item type is "date"',
        "列表元素类型应为 日期（date）",
    )
