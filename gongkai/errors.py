"""Typed validation errors, in frictionless's error model, with messages in Chinese and English.

An error is a value, never an exception: the validator collects them, the report serialises
them. Every error carries where it happened (dataset, resource, file, row, column, value) and
what was expected (``note`` / ``note_zh``); the bilingual ``message`` is composed from those
parts, so no message can forget to say where the problem is.

Each error type is an `ErrorType`, as each is a class in frictionless's ``errors/``: its code,
its titles and its note templates, all kept in ``gongkai/locales/validation.yaml`` under
``validation.<code>`` (the titles) and ``validation.<code>.<note>`` (the templates, in
``str.format`` syntax). Making one is one line::

    EXTRA_LABEL("not-in-schema", number=3, label="x").at(field_number=3, cell="x")

``type`` codes are frictionless's own (``type-error``, ``primary-key``, ...) for anything
frictionless would report, so reports can be compared with frictionless's; checks of our own
(the catalogue profile, later the personal-data guard) use their own codes, documented in the
README. The English notes of frictionless's errors are frictionless's words (the differential
tests compare them).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .locale_file import LOCALES_DIR, read_locale_file

PREFIX = "validation."
MESSAGES: dict[str, dict[str, str]] = read_locale_file(LOCALES_DIR / "validation.yaml")


def text(key: str, lang: str, /, **params: Any) -> str:
    """The validation string `key` (without its prefix) in `lang`, filled in."""
    template = MESSAGES[PREFIX + key][lang]
    return template.format(**params)  # always: a literal brace is written {{ }}


def notes(key: str, /, **params: Any) -> tuple[str, str]:
    """The (English, Chinese) pair of the validation string `key`, filled in."""
    return text(key, "en", **params), text(key, "zh", **params)


class ErrorType:
    """One error type: its code, its titles and its note templates (see the module docstring)."""

    __slots__ = ("code", "title", "title_zh", "note_names")

    def __init__(self, code: str) -> None:
        self.code = code
        self.title, self.title_zh = notes(code)
        prefix = f"{PREFIX}{code}."
        self.note_names = frozenset(k[len(prefix) :] for k in MESSAGES if k.startswith(prefix))
        ERROR_TYPES[code] = self

    def __call__(self, note: str, /, **params: Any) -> Error:
        """The error with note template `note` filled in from `params` (its location is added
        with `Error.at`)."""
        if note not in self.note_names:
            raise KeyError(f"{self.code} has no note {note!r} in validation.yaml")
        en, zh = notes(f"{self.code}.{note}", **params)
        return Error(self.code, note=en, note_zh=zh)

    def __repr__(self) -> str:
        return f"ErrorType({self.code!r})"


ERROR_TYPES: dict[str, ErrorType] = {}

# source
SCHEME_ERROR = ErrorType("scheme-error")
FORMAT_ERROR = ErrorType("format-error")
ENCODING_ERROR = ErrorType("encoding-error")
RESOURCE_ERROR = ErrorType("resource-error")
SOURCE_ERROR = ErrorType("source-error")
HASH_COUNT = ErrorType("hash-count")
BYTE_COUNT = ErrorType("byte-count")
# metadata
PACKAGE_ERROR = ErrorType("package-error")
SCHEMA_ERROR = ErrorType("schema-error")
FIELD_ERROR = ErrorType("field-error")
DIALECT_ERROR = ErrorType("dialect-error")
# header / labels
BLANK_LABEL = ErrorType("blank-label")
DUPLICATE_LABEL = ErrorType("duplicate-label")
EXTRA_LABEL = ErrorType("extra-label")
MISSING_LABEL = ErrorType("missing-label")
INCORRECT_LABEL = ErrorType("incorrect-label")
BLANK_HEADER = ErrorType("blank-header")
# rows
BLANK_ROW = ErrorType("blank-row")
PRIMARY_KEY = ErrorType("primary-key")
FOREIGN_KEY = ErrorType("foreign-key")
# cells
EXTRA_CELL = ErrorType("extra-cell")
MISSING_CELL = ErrorType("missing-cell")
TYPE_ERROR = ErrorType("type-error")
CONSTRAINT_ERROR = ErrorType("constraint-error")
UNIQUE_ERROR = ErrorType("unique-error")
# our own: the catalogue profile (docs: README, "Error types"), what SQLite cannot store
PROFILE_ERROR = ErrorType("profile-error")
METADATA_ERROR = ErrorType("metadata-error")
INTEGER_RANGE = ErrorType("integer-range")
NUMBER_RANGE = ErrorType("number-range")
# our own: the personal-data guard (gongkai/validate/personal_data.py)
PERSONAL_DATA = ErrorType("personal-data")


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
        return ERROR_TYPES[self.type].title

    @property
    def title_zh(self) -> str:
        return ERROR_TYPES[self.type].title_zh

    def at(self, **where: Any) -> Error:
        """The same error with more of its location filled in (dataset, resource, file...), or
        retyped (``type=``: a note shared by several types)."""
        return replace(self, **where)

    def _where(self, lang: str) -> list[str]:
        parts = []
        if self.file:
            parts.append(text("where.file", lang, file=self.file))
        elif self.resource:
            parts.append(text("where.resource", lang, resource=self.resource))
        if self.extra.get("cellRef"):  # an Excel sheet's cell, as the publisher finds it
            parts.append(text("where.cell", lang, ref=self.extra["cellRef"]))
        if self.row_number is not None:
            parts.append(text("where.row", lang, row=self.row_number))
        if self.field_name is not None:
            col = text("where.column", lang, name=self.field_name)
            if self.field_number is not None:
                col += text("where.column_number", lang, number=self.field_number)
            parts.append(col)
        if self.cell is not None and self.cell != "":
            parts.append(text("where.value", lang, value=_short(self.cell)))
        return parts

    @property
    def message(self) -> str:
        where = ", ".join(self._where("en"))
        head = f"{self.title} in {where}" if where else self.title
        return f"{head}: {self.note}" if self.note else head

    @property
    def message_zh(self) -> str:
        where = "，".join(self._where("zh"))
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
    shown = str(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
