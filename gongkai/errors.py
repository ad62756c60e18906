"""Typed validation errors, in frictionless's error model, with messages in Chinese and English.

An error is a value, never an exception: the validator collects them, the report serialises
them. Every error carries where it happened (dataset, resource, file, row, column, value) and
what was expected (``note`` / ``note_zh``); the bilingual ``message`` is composed from those
parts, so no message can forget to say where the problem is.

``type`` codes are frictionless's own (``type-error``, ``primary-key``, ...) for anything
frictionless would report, so reports can be compared with frictionless's; checks of our own
(the catalogue profile, later the personal-data guard) use their own codes, listed in
``ERROR_TYPES`` and documented in the README.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

# type -> (English title, Chinese title). The English titles are frictionless's.
ERROR_TYPES: dict[str, tuple[str, str]] = {
    # source
    "scheme-error": ("Scheme Error", "文件无法读取"),
    "format-error": ("Format Error", "文件格式错误"),
    "encoding-error": ("Encoding Error", "文件编码错误"),
    "resource-error": ("Resource Error", "资源描述错误"),
    "source-error": ("Source Error", "数据源错误"),
    "hash-count": ("Hash Count Error", "文件哈希值不符"),
    "byte-count": ("Byte Count Error", "文件字节数不符"),
    # metadata
    "package-error": ("Package Error", "数据包描述错误"),
    "schema-error": ("Schema Error", "表结构错误"),
    "field-error": ("Field Error", "字段定义错误"),
    "dialect-error": ("Dialect Error", "CSV 方言错误"),
    # header / labels
    "blank-label": ("Blank Label", "表头为空"),
    "duplicate-label": ("Duplicate Label", "表头重复"),
    "extra-label": ("Extra Label", "多余的表头"),
    "missing-label": ("Missing Label", "缺少表头"),
    "incorrect-label": ("Incorrect Label", "表头与字段名不符"),
    "blank-header": ("Blank Header", "表头行为空"),
    # rows
    "blank-row": ("Blank Row", "空行"),
    "primary-key": ("PrimaryKey Error", "主键错误"),
    "foreign-key": ("ForeignKey Error", "外键错误"),
    # cells
    "extra-cell": ("Extra Cell", "多余的单元格"),
    "missing-cell": ("Missing Cell", "缺少单元格"),
    "type-error": ("Type Error", "类型错误"),
    "constraint-error": ("Constraint Error", "约束错误"),
    "unique-error": ("Unique Error", "唯一性错误"),
    # our own: the catalogue profile (docs: README, "Error types")
    "profile-error": ("Catalogue Profile Error", "目录元数据错误"),
    "metadata-error": ("Site Metadata Error", "站点元数据错误"),
    "integer-range": ("Integer Out Of Range", "整数超出范围"),
    "number-range": ("Number Not Finite", "数值不是有限数"),
}


@dataclass(frozen=True)
class Error:
    """One problem found in a dataset. Row numbers count the header as row 1, as frictionless does."""

    type: str
    note: str = ""
    note_zh: str = ""
    dataset: str | None = None
    resource: str | None = None
    file: str | None = None
    row_number: int | None = None
    field_name: str | None = None
    field_number: int | None = None
    cell: Any = None
    cells: tuple | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.type not in ERROR_TYPES:
            raise ValueError(f"unknown error type {self.type!r}")

    @property
    def title(self) -> str:
        return ERROR_TYPES[self.type][0]

    @property
    def title_zh(self) -> str:
        return ERROR_TYPES[self.type][1]

    def at(self, **where: Any) -> Error:
        """The same error with more of its location filled in (dataset, resource, file...)."""
        return replace(self, **where)

    @property
    def message(self) -> str:
        parts = []
        if self.file:
            parts.append(f'file "{self.file}"')
        elif self.resource:
            parts.append(f'resource "{self.resource}"')
        if self.row_number is not None:
            parts.append(f"row {self.row_number}")
        if self.field_name is not None:
            col = f'column "{self.field_name}"'
            if self.field_number is not None:
                col += f" (no. {self.field_number})"
            parts.append(col)
        if self.cell is not None and self.cell != "":
            parts.append(f'value "{_short(self.cell)}"')
        where = ", ".join(parts)
        head = f"{self.title} in {where}" if where else self.title
        return f"{head}: {self.note}" if self.note else head

    @property
    def message_zh(self) -> str:
        parts = []
        if self.file:
            parts.append(f"文件“{self.file}”")
        elif self.resource:
            parts.append(f"资源“{self.resource}”")
        if self.row_number is not None:
            parts.append(f"第 {self.row_number} 行")
        if self.field_name is not None:
            col = f"“{self.field_name}”列"
            if self.field_number is not None:
                col += f"（第 {self.field_number} 列）"
            parts.append(col)
        if self.cell is not None and self.cell != "":
            parts.append(f"值“{_short(self.cell)}”")
        where = "，".join(parts)
        head = f"{self.title_zh}：{where}" if where else self.title_zh
        note = self.note_zh or self.note
        return f"{head}：{note}" if note else head

    def to_dict(self) -> dict:
        """The error in frictionless's report shape, plus ``message_zh``/``note_zh`` and location."""
        out: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "title_zh": self.title_zh,
            "message": self.message,
            "message_zh": self.message_zh,
            "note": self.note,
            "note_zh": self.note_zh,
        }
        for key, value in (
            ("dataset", self.dataset),
            ("resource", self.resource),
            ("file", self.file),
            ("rowNumber", self.row_number),
            ("fieldName", self.field_name),
            ("fieldNumber", self.field_number),
            ("cell", self.cell),
        ):
            if value is not None:
                out[key] = value
        if self.cells is not None:
            out["cells"] = list(self.cells)
        out.update(self.extra)
        return out


def _short(value: Any, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
