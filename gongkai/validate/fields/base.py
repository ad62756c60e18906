"""The field-type contract: what every ``fields/<type>.py`` implements, as its ``Type``.

``compile_field`` (``fields/__init__.py``) reads a type only through this class: the two parts
every type has (its value reader and its SQLite form) are abstract; the optional ones are
declared here with their default, "this type has none", so a type leaves out what it does not
need and the compiler never asks whether a part exists.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

# (condition source on `v`, its namespace, (error type, note, note_zh) when it fails)
StorageRule = tuple[str, dict[str, Any], tuple[str, str, str]]


class FieldType(ABC):
    """One Table Schema type, with frictionless v5's semantics."""

    name: ClassVar[str]
    # the constraints the type supports, in the order frictionless checks them
    constraints: ClassVar[tuple[str, ...]]
    # the valid cell itself is the SQLite value (written as given, not re-rendered: durations)
    sqlite_is_cell: ClassVar[bool] = False
    # casts are dear and values repeat (dates): the table's row loop remembers valid results,
    # the one cache of cast values (gongkai/validate/table.py, `MEMO_SIZE`)
    memoised: ClassVar[bool] = False

    @abstractmethod
    def create_value_reader(self, field: dict) -> Callable[[Any], Any]:
        """The native value of a cell (str, or any JSON value for array items), or None when the
        type does not accept it: frictionless's ``Field.create_value_reader``."""

    @abstractmethod
    def to_sqlite(self, value: Any) -> Any:
        """A native value as SQLite stores it (and JSON publishes it)."""

    # Optional parts: the defaults say "none".

    def text_reader_code(self, field: dict) -> tuple[str, dict[str, Any]] | None:
        """Statements reading the str ``cell`` straight into its SQLite value ``v`` (None when
        invalid), with their namespace. The type then declares that its SQLite form keeps the
        order and equality of values, so constraints are checked on it."""
        return None

    def type_notes(self, field: dict) -> tuple[str, str] | None:
        """The (English, Chinese) notes of a type-error, when they are not the generic
        ``type is "<type>/<format>"``."""
        return None

    def bound_condition(self, i: int, op: str, bound: Any, ns: dict[str, Any]) -> str | None:
        """A bound's condition on ``v`` (read by ``text_reader_code``) when plain comparison with
        the SQLite form of the bound is not exact; it puts its names in ``ns``."""
        return None

    def storage_check(self, field: dict) -> StorageRule | None:
        """What SQLite cannot hold though the type accepts it: an error of its own."""
        return None

    def create_post_reader(self, field: dict) -> Callable[[Any], Any] | None:
        """A second step once the value passed its type and constraints (array items)."""
        return None

    def inline_hint(self, field: dict) -> str | None:
        """An expression of ``{c}`` (the cell) giving its SQLite value, valid for every cell the
        type accepts and raising for any other: the row loop inlines it when the field has no
        constraints."""
        return None
