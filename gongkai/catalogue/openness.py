"""The catalogue's questions about openness: which datasets' rows and files the site withholds
(`gov:openness` conditional or closed, gongkai/openness.py), with what the gate tells a visitor.

Read once per release (a handful of names even at 10,000 datasets; the release never changes)
by plugins/openness.py, which answers their data URLs with 403."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..openness import WITHHELD


@dataclass(frozen=True)
class Withheld:
    name: str
    openness: str  # conditional | closed
    condition: str | None
    apply: str | None
    contact_email: str | None
    condition_en: str | None = None  # from gov:translations (catalogue/records.py)
    condition_zh: str | None = None
    apply_en: str | None = None
    apply_zh: str | None = None

    def text(self, key: str, lang: str) -> str | None:
        """`condition` or `apply` in `lang` where translated, else as written."""
        return getattr(self, f"{key}_{lang}", None) or getattr(self, key)


def withheld(conn: sqlite3.Connection) -> dict[str, Withheld]:
    """{name: Withheld} for every dataset whose class is not `unconditional` (an unknown class
    counts: the build withholds it too)."""
    rows = conn.execute(
        "select d.name, d.openness, d.openness_condition, d.openness_apply,"
        " coalesce(d.contact_email, p.email), d.openness_condition_en, d.openness_condition_zh,"
        " d.openness_apply_en, d.openness_apply_zh"
        " from datasets d left join publishers p on p.id = d.publisher"
        " where d.openness is not null and d.openness != 'unconditional'"
    ).fetchall()
    return {r[0]: Withheld(*r) for r in rows}


__all__ = ["WITHHELD", "Withheld", "withheld"]
