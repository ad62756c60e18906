"""The quality score, 0–100, from metadata the catalogue already holds (docs/quality-score.md).

Seven parts with fixed weights. Each part reports its points, its maximum and, when it is not
full, the key of a bilingual hint saying what would raise it (strings in
gongkai/locales/portal.yaml). Timeliness depends on `today`, so the score is computed when the
page is served; everything else is arithmetic over catalog.db rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from .timeliness import Timeliness, judge

if TYPE_CHECKING:
    from ..catalogue.records import RowLike

WEIGHTS: dict[str, int] = {
    "licence": 15,
    "description": 15,
    "timeliness": 20,
    "coverage": 10,
    "open_format": 10,
    "schema": 20,
    "validation": 10,
}
assert sum(WEIGHTS.values()) == 100

# A description this long (characters, either language's original) gets full points: enough
# for what, who, how collected and a caveat. Shorter ones score in proportion.
DESCRIPTION_FULL = 200
# Machine-readable formats no one needs proprietary software to read.
OPEN_FORMATS = frozenset({"csv", "tsv", "json", "jsonl", "ndjson", "geojson", "xml", "parquet", "ods", "txt"})
# Inside the schema part: (what, points); fractions over fields (or resources for the key).
SCHEMA_PARTS = (("field_title", 7), ("field_description", 7), ("field_translation", 3), ("primary_key", 3))


@dataclass
class Part:
    key: str
    points: float
    max: int
    hint: str | None = None  # i18n key of what would raise it
    detail: dict = field(default_factory=dict)  # numbers for the hint's placeholders

    @property
    def full(self) -> bool:
        return self.points >= self.max


@dataclass
class Quality:
    score: int
    parts: list[Part]
    timeliness: Timeliness

    @property
    def improvements(self) -> list[Part]:
        return sorted((p for p in self.parts if not p.full), key=lambda p: p.points - p.max)


def _share(n: int, total: int) -> float:
    return n / total if total else 0.0


def licence_part(licence: str | None, known: set[str]) -> Part:
    if licence and licence in known:
        return Part("licence", 15, 15)
    if licence:
        return Part("licence", 5, 15, "portal.quality.hint.licence_unknown", {"licence": licence})
    return Part("licence", 0, 15, "portal.quality.hint.licence_missing")


def description_part(description: str | None) -> Part:
    length = len((description or "").strip())
    points = round(15 * min(1.0, length / DESCRIPTION_FULL), 1)
    hint = None if length >= DESCRIPTION_FULL else "portal.quality.hint.description"
    return Part("description", points, 15, hint, {"length": length, "target": DESCRIPTION_FULL})


def timeliness_part(t: Timeliness) -> Part:
    if t.status in ("on_time", "no_schedule"):
        return Part("timeliness", 20, 20, detail={"status": t.status})
    if t.status == "unknown":
        return Part("timeliness", 10, 20, "portal.quality.hint.timeliness_unknown")
    # Late: half the points within one period of the due date, none after.
    assert t.due is not None  # judge() always gives a late dataset its due date
    points = 10 if t.days_late <= (t.period_days or 0) else 0
    return Part(
        "timeliness", points, 20, "portal.quality.hint.timeliness_late", {"days": t.days_late, "due": t.due.isoformat()}
    )


def coverage_part(dataset: RowLike) -> Part:
    temporal = bool(dataset.get("temporal_start") and dataset.get("temporal_end"))
    spatial = bool(dataset.get("spatial_code") or dataset.get("spatial_name"))
    points = 5 * temporal + 5 * spatial
    missing = [k for k, ok in (("temporal", temporal), ("spatial", spatial)) if not ok]
    return Part("coverage", points, 10, "portal.quality.hint.coverage_" + "_".join(missing) if missing else None)


def open_format_part(resources: Sequence[RowLike]) -> Part:
    fmts = [(r.get("format") or "").lower() for r in resources]
    open_n = sum(f in OPEN_FORMATS for f in fmts)
    points = round(10 * _share(open_n, len(fmts)), 1)
    closed = sorted({f for f in fmts if f not in OPEN_FORMATS})
    return Part(
        "open_format", points, 10, "portal.quality.hint.open_format" if closed else None, {"formats": ", ".join(closed)}
    )


def schema_part(resources: Sequence[RowLike], fields: Sequence[RowLike]) -> Part:
    n = len(fields)
    shares = {
        "field_title": _share(sum(bool(f.get("title")) for f in fields), n),
        "field_description": _share(sum(bool(f.get("description")) for f in fields), n),
        "field_translation": _share(sum(bool(f.get("title_en") or f.get("title_zh")) for f in fields), n),
        "primary_key": _share(sum(r.get("primary_key") not in (None, "", "[]") for r in resources), len(resources)),
    }
    points = round(sum(weight * shares[key] for key, weight in SCHEMA_PARTS), 1)
    weakest = max(SCHEMA_PARTS, key=lambda kw: kw[1] * (1 - shares[kw[0]]))  # most points missing
    hint = None if points >= 20 else "portal.quality.hint.schema_" + weakest[0]
    detail = {k: round(100 * v) for k, v in shares.items()}
    return Part("schema", points, 20, hint, detail)


def validation_part(valid) -> Part:
    return Part("validation", 10, 10) if valid else Part("validation", 0, 10, "portal.quality.hint.validation")


def score(
    dataset: RowLike,
    resources: Sequence[RowLike],
    fields: Sequence[RowLike],
    *,
    known_licences: set[str],
    today: date,
) -> Quality:
    """The quality of one dataset (a catalog.db `datasets` row with its resources and fields)."""
    t = judge(dataset.get("frequency"), dataset.get("modified"), today)
    parts = [
        licence_part(dataset.get("license"), known_licences),
        description_part(dataset.get("description")),
        timeliness_part(t),
        coverage_part(dataset),
        open_format_part(resources),
        schema_part(resources, fields),
        validation_part(dataset.get("valid")),
    ]
    assert [p.key for p in parts] == list(WEIGHTS)
    return Quality(round(sum(p.points for p in parts)), parts, t)
