"""SQL text the site writes itself: quoting an identifier, written once."""

from __future__ import annotations


def identifier(name: str) -> str:
    """`name` as a quoted SQLite identifier (double quotes, inner ones doubled)."""
    return '"' + str(name).replace('"', '""') + '"'
