"""Errors as types with templates (gongkai/errors.py + gongkai/locales/validation.yaml): one
family at a time, each error says what is wrong in Chinese and in English."""

import ast
import re
import string
from pathlib import Path

import pytest

from gongkai import errors
from gongkai.errors import (
    BLANK_ROW,
    DUPLICATE_LABEL,
    EXTRA_LABEL,
    FOREIGN_KEY,
    HASH_COUNT,
    METADATA_ERROR,
    PACKAGE_ERROR,
    PRIMARY_KEY,
    PROFILE_ERROR,
    SCHEMA_ERROR,
    SOURCE_ERROR,
    Error,
)
from gongkai.validate.fields import constraint_notes, type_notes

PACKAGE = Path(errors.__file__).resolve().parent


def test_every_validation_string_has_both_languages_and_every_type_a_title():
    for key, entry in errors.MESSAGES.items():
        assert key.startswith(errors.PREFIX), key
        assert set(entry) == {"zh", "en"} and entry["zh"].strip() and entry["en"].strip(), key
        for text in entry.values():
            list(string.Formatter().parse(text))  # a stray brace would raise here, not in a build
    for code, kind in errors.ERROR_TYPES.items():
        assert kind.code == code and kind.title and kind.title_zh and kind.title != kind.title_zh


def test_an_unknown_note_is_refused():
    with pytest.raises(KeyError):
        SOURCE_ERROR("no-such-note")


def test_source_family():
    error = SOURCE_ERROR("unparsable", exc="line contains NUL").at(file="a.csv")
    assert error.note == "the file cannot be parsed as CSV: line contains NUL"
    assert error.note_zh == "文件无法按 CSV 解析：line contains NUL"
    assert error.message == 'Source Error in file "a.csv": the file cannot be parsed as CSV: line contains NUL'
    assert error.message_zh == "数据源错误：文件“a.csv”：文件无法按 CSV 解析：line contains NUL"
    error = HASH_COUNT("mismatch", algorithm="md5", digest="abc", actual="def")
    assert error.note == 'expected is "abc" and actual is "def"'  # frictionless's words
    assert error.note_zh == "文件的 md5 哈希值应为 abc，实际为 def：文件已被修改，请同时更新描述中的 hash"


def test_label_family():
    error = EXTRA_LABEL("not-in-schema", number=3, label="金额").at(field_name="", field_number=3, cell="金额")
    assert error.note == 'column 3 "金额" is not in the schema'
    assert error.note_zh == "第 3 列“金额”不在表结构（schema）中"
    assert error.message_zh == "多余的表头：“”列（第 3 列），值“金额”：第 3 列“金额”不在表结构（schema）中"
    error = DUPLICATE_LABEL("duplicate", label="id", positions="1")
    assert (error.note, error.note_zh) == ('label "id" is the same as at position "1"', "表头“id”与第 1 列重复")


def test_row_family():
    row = {"row_number": 7, "cells": ("1", "x")}
    error = PRIMARY_KEY("duplicate", names="id", shown="1", match=2).at(**row)
    assert (
        error.message == 'PrimaryKey Error in row 7: primary key "id" value "1" is the same as in the row at position 2'
    )
    assert error.message_zh == "主键错误：第 7 行：主键（id）的值“1”与第 2 行重复"
    error = FOREIGN_KEY(
        "not-found",
        shown="9",
        source="",
        source_zh="t",
        target="a",
        target_zh="a",
        source_fields="b",
        source_fields_zh="b",
    )
    assert error.note == 'for "a": values "9" not found in the lookup table "" as "b"'
    assert error.note_zh == "外键（a）的值“9”在被引用的表“t”的（b）中不存在"
    assert BLANK_ROW("blank").at(**row).message_zh == "空行：第 7 行：这一行的所有单元格都是空的（或缺失值）"


def test_cell_family():
    assert type_notes("date", "default") == ('type is "date/default"', "类型应为 日期（date/default）")
    assert constraint_notes("maximum", 10) == ('constraint "maximum" is "10"', "应不大于 10（约束 maximum）")
    assert constraint_notes("enum", ["甲", "乙"]) == (
        "constraint \"enum\" is \"['甲', '乙']\"",
        "应为以下值之一：甲、乙（约束 enum）",
    )
    assert constraint_notes("required", True) == ('constraint "required" is "True"', "此列为必填")


def test_metadata_family():
    error = SCHEMA_ERROR("unknown-shared", name="budget", known="service-items").at(resource="r")
    assert (error.note, error.note_zh) == (
        'unknown shared schema "budget": metadata/schemas/ has service-items',
        "未知的共享表结构“budget”：metadata/schemas/ 中有 service-items",
    )
    assert error.message == (
        'Schema Error in resource "r": unknown shared schema "budget": metadata/schemas/ has service-items'
    )
    error = PACKAGE_ERROR("not-json", name="datapackage.json", msg="Expecting value", line=1, column=2)
    assert error.note == "datapackage.json is not valid JSON: Expecting value at line 1, column 2"
    assert error.note_zh == "datapackage.json 不是有效的 JSON：第 1 行第 2 列，Expecting value"
    # a note shared by several types is retyped, its text kept
    retyped = PACKAGE_ERROR("not-an-object", name="schema.json").at(type="schema-error")
    assert retyped.title_zh == "表结构错误" and retyped.note_zh == "schema.json 的内容必须是 JSON 对象"


def test_profile_family():
    error = PROFILE_ERROR("required", key="title", label="标题")
    assert (error.note, error.note_zh) == ('"title" is required', "缺少“title”（标题）")
    error = PROFILE_ERROR("openness")  # a literal brace in the template
    assert error.note == '"gov:openness" needs {"class": "unconditional" | "conditional" | "closed"}'
    assert "有条件开放" in error.note_zh
    error = METADATA_ERROR("duplicate-id", id="cn-stats").at(file="metadata/publishers.yaml")
    assert error.message_zh == "站点元数据错误：文件“metadata/publishers.yaml”：id “cn-stats”重复出现"


def test_error_types_are_raised_in_one_line_not_written_inline():
    """The validator and the descriptor reader make errors from their types; an `Error(` of
    their own only passes on notes made elsewhere (a cell's, a refused file's)."""
    for rel, most in (("validate/table.py", 1), ("descriptors.py", 3)):
        source = (PACKAGE / rel).read_text(encoding="utf-8")
        calls = [
            n
            for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "Error"
        ]
        assert len(calls) <= most, rel
        assert not re.search(r"note_zh=f[\"']", source), rel  # no inline Chinese note


def test_report_shape_is_unchanged():
    note, note_zh = type_notes("integer", "default")
    error = Error("type-error", note=note, note_zh=note_zh, row_number=2, field_name="id", field_number=1, cell="x")
    assert error.to_dict() == {
        "type": "type-error",
        "title": "Type Error",
        "title_zh": "类型错误",
        "message": 'Type Error in row 2, column "id" (no. 1), value "x": type is "integer/default"',
        "message_zh": "类型错误：第 2 行，“id”列（第 1 列），值“x”：类型应为 整数（integer/default）",
        "note": 'type is "integer/default"',
        "note_zh": "类型应为 整数（integer/default）",
        "rowNumber": 2,
        "fieldName": "id",
        "fieldNumber": 1,
        "cell": "x",
    }


def test_report_lines_say_it_in_both_languages():
    from gongkai import report

    assert report._both("invalid", n=3) == "校验未通过，共 3 个错误 / Invalid: 3 errors"
    assert report._both("passed", resources=2, rows=10) == "通过（2 个资源，10 行） / valid (2 resources, 10 rows)"


def test_shape_notes_name_the_key_first():
    from gongkai.validate import shape

    [error] = shape.check_schema({"fields": [{"name": "a", "type": "text"}]}, "schema")
    assert error.note.startswith('"schema.fields[0].type" is "text": use one of string, integer')
    assert error.note_zh.startswith("“schema.fields[0].type”为“text”：请使用以下类型之一：string, integer")
