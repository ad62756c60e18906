"""Spreadsheet formula injection, neutralised as OWASP recommends ("CSV Injection"): a text cell
that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with a single quote,
so Excel, LibreOffice and WPS show it as text instead of running it (`=HYPERLINK(…)`,
`=cmd|…`). Numbers are not text: `-3.5` stays a number, and a text cell that *reads* as a
number (`-3.5`, `+86`) is left as it is, since no spreadsheet runs it as a formula.
"""

from __future__ import annotations

import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value):
    if isinstance(value, str) and value.startswith(TRIGGERS) and not _NUMBER.fullmatch(value):
        return PREFIX + value
    return value


def restore(value):
    """The inverse, for round-trip tests: a neutralised cell back to the table's value."""
    if isinstance(value, str) and value.startswith(PREFIX) and value[1:].startswith(TRIGGERS):
        return value[1:]
    return value
