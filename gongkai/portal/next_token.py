"""Is a table page's `?_next=` one Datasette can page from?

Datasette 0.65 pages a table by keyset: `_next` is the last row's primary key values (a rowid
table: its rowid), tilde-encoded and comma-separated, after the sort column's value when the
page is sorted; a view pages by offset, so its `_next` is a number. A token of another shape is
not refused there: a wrong number of key values drops the keyset clause and the first page
comes back as if it were the next one (200), and a view's non-numeric offset is a 500. The site
answers both 400 with the other bad-parameter errors (plugins/error_pages.py), so a client that
pages with a corrupted token learns it instead of looping over page one."""

from __future__ import annotations

from datasette.utils import urlsafe_components


def _integer(value: str) -> bool:
    digits = value[1:] if value.startswith("-") else value
    return digits.isascii() and digits.isdigit()


def next_ok(token: str, *, view: bool, pks: list[str], integer_pks: frozenset[str], sorted_by: bool) -> bool:
    """`pks`: the table's primary key columns ([] for a rowid table), `integer_pks` those of
    them declared INTEGER (a text value there compares greater than every number: the "next"
    page would silently be empty); `sorted_by`: the page is sorted (`_sort`/`_sort_desc`), so
    the token may start with the sort column's value."""
    if view:
        return token.isascii() and token.isdigit()
    try:
        components = urlsafe_components(token)
    except Exception:  # a malformed tilde escape
        return False
    keys = max(1, len(pks))
    if sorted_by and len(components) == keys + 1:
        components = components[1:]
    if len(components) != keys:
        return False
    if not pks:  # a rowid: an integer, for the same reason
        return _integer(components[0])
    return all(_integer(value) for pk, value in zip(pks, components) if pk in integer_pks)
