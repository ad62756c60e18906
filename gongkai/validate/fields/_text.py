"""The reader shape most types share: a value already of the type passes, text is parsed, anything
else (or text the parser refuses) is None, as frictionless's per-type value readers do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def text_reader(parse: Callable[[str], Any], native: type | tuple) -> Callable[[Any], Any]:
    def value_reader(cell: Any):
        if isinstance(cell, native):
            return cell
        if not isinstance(cell, str):
            return None
        try:
            return parse(cell)
        except Exception:
            return None

    return value_reader
