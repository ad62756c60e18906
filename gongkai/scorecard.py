"""The scorecard: how harvesters and reviewers will judge a dataset, computed at build time.

Three measures, each from the dataset's catalogue record (its descriptor) and the build's facts
(docs/quality-score.md holds the tables and their sources):

- the EU Metadata Quality Assessment points (data.europa.eu's MQA, 405 at most), indicator by
  indicator, grouped into its five dimensions and rated Excellent / Good / Sufficient / Bad;
- the 5-star open data level (Tim Berners-Lee), from the published distributions;
- the site's own quality score (gongkai/portal/quality.py), as of the build date (the landing
  page recomputes it when served, because timeliness depends on the day).

Pure functions: `dataset_scorecard` for one dataset, `publisher_scorecard` over a publisher's.
The catalogue writer stores the result (`scorecard` columns); `gongkai check` prints it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from .opendata import vocab
from .portal import quality

if TYPE_CHECKING:
    from .catalogue.records import RowLike

MQA_MAX = 405
# (lowest points, rating): data.europa.eu's bands
RATINGS = ((351, "excellent"), (221, "good"), (121, "sufficient"), (0, "bad"))
DIMENSIONS = ("findability", "accessibility", "interoperability", "reusability", "contextuality")
# Formats a program can parse into records (MQA "machine-readable"; 5-star's second star).
MACHINE_READABLE = frozenset({*quality.OPEN_FORMATS, "xlsx", "xls"}) - {"txt"}
# Formats that need no proprietary software (MQA "non-proprietary"; the third star).
NON_PROPRIETARY = quality.OPEN_FORMATS - {"txt"}


@dataclass(frozen=True)
class Facts:
    """What the build knows beyond the descriptor: whether the dataset's pages answer (its
    database is in the release) and which resources' original files are published."""

    served: bool
    published: frozenset[str]
    today: date


@dataclass(frozen=True)
class Indicator:
    key: str
    dimension: str
    points: int
    # (dataset, resources, facts, known licences) → share met, 0..1
    test: Callable[[RowLike, Sequence[RowLike], Facts, set[str]], float]


def _any(flags) -> float:
    return 1.0 if any(flags) else 0.0


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def _fmt(r: RowLike) -> str:
    return (r.get("format") or "").lower()


def _dcat_ap_mandatory(d: RowLike, rs: Sequence[RowLike]) -> bool:
    """DCAT-AP 3's mandatory properties (the minimum counts of its SHACL shapes): a dataset
    title and description, each distribution an access URL (every resource with a file has
    one here). Checked on the record; the RDF itself is checked with the real shapes in the
    test suite (tests/test_opendata_dcat_ap.py)."""
    return bool((d.get("title") or d.get("title_en")) and (d.get("description") or d.get("description_en"))) and all(
        r.get("path") for r in rs
    )


# The indicators of docs/quality-score.md (copied from the design notes), in its order. A distribution indicator counts
# when any distribution meets it; the accessibility ones count the share that do.
INDICATORS: tuple[Indicator, ...] = (
    Indicator("keyword", "findability", 30, lambda d, rs, f, k: _any([d.get("keywords")])),
    Indicator("theme", "findability", 30, lambda d, rs, f, k: _any([d.get("theme")])),
    Indicator("spatial", "findability", 20, lambda d, rs, f, k: _any([d.get("spatial_code"), d.get("spatial_name")])),
    Indicator(
        "temporal", "findability", 20, lambda d, rs, f, k: _any([d.get("temporal_start"), d.get("temporal_end")])
    ),
    Indicator("access_url_answers", "accessibility", 50, lambda d, rs, f, k: _share([f.served for _ in rs])),
    Indicator("download_url", "accessibility", 20, lambda d, rs, f, k: _share([bool(r.get("path")) for r in rs])),
    Indicator(
        "download_url_answers", "accessibility", 30, lambda d, rs, f, k: _share([r["name"] in f.published for r in rs])
    ),
    Indicator("format", "interoperability", 20, lambda d, rs, f, k: _any([_fmt(r) for r in rs])),
    Indicator(
        "media_type",
        "interoperability",
        10,
        lambda d, rs, f, k: _any([_fmt(r) in vocab.FORMATS or _path_ext(r) in vocab.FORMATS for r in rs]),
    ),
    Indicator(
        "format_vocabulary",
        "interoperability",
        10,
        lambda d, rs, f, k: _any([vocab.file_format(r.get("format"), r.get("path")).eu_file_type for r in rs]),
    ),
    Indicator(
        "non_proprietary", "interoperability", 20, lambda d, rs, f, k: _any([_fmt(r) in NON_PROPRIETARY for r in rs])
    ),
    Indicator(
        "machine_readable", "interoperability", 20, lambda d, rs, f, k: _any([_fmt(r) in MACHINE_READABLE for r in rs])
    ),
    Indicator("dcat_ap", "interoperability", 30, lambda d, rs, f, k: float(_dcat_ap_mandatory(d, rs))),
    Indicator("licence", "reusability", 20, lambda d, rs, f, k: _any([d.get("license")])),
    # metadata/licenses.yaml holds SPDX identifiers only (its header says so)
    Indicator("licence_vocabulary", "reusability", 10, lambda d, rs, f, k: float(d.get("license") in k)),
    Indicator("access_rights", "reusability", 10, lambda d, rs, f, k: _any([d.get("openness")])),
    Indicator(
        "access_rights_vocabulary", "reusability", 5, lambda d, rs, f, k: float(d.get("openness") in vocab.OPENNESS)
    ),
    Indicator(
        "contact_point", "reusability", 20, lambda d, rs, f, k: _any([d.get("contact_email"), d.get("contact_name")])
    ),
    Indicator("publisher", "reusability", 10, lambda d, rs, f, k: _any([d.get("publisher")])),
    # dct:rights: a rights statement beyond the licence — the descriptor's link to its licence
    # text, or the conditions of a conditional dataset
    Indicator(
        "rights", "contextuality", 5, lambda d, rs, f, k: _any([d.get("license_path"), d.get("openness_condition")])
    ),
    Indicator("byte_size", "contextuality", 5, lambda d, rs, f, k: _any([r.get("bytes") is not None for r in rs])),
    Indicator("issued", "contextuality", 5, lambda d, rs, f, k: _any([d.get("issued")])),
    Indicator("modified", "contextuality", 5, lambda d, rs, f, k: _any([d.get("modified")])),
)
assert sum(i.points for i in INDICATORS) == MQA_MAX


def _path_ext(r: RowLike) -> str:
    path = r.get("path") or ""
    return path.rsplit(".", 1)[1].lower() if "." in path else ""


def rating(points: float) -> str:
    return next(name for low, name in RATINGS if points >= low)


def mqa(d: RowLike, resources: Sequence[RowLike], facts: Facts, known_licences: set[str]) -> dict[str, Any]:
    """Every indicator's points (rounded to whole points), the dimensions' sums, the rating."""
    indicators: list[dict[str, Any]] = []
    for ind in INDICATORS:
        share = max(0.0, min(1.0, ind.test(d, resources, facts, known_licences)))
        indicators.append(
            {"key": ind.key, "dimension": ind.dimension, "points": round(ind.points * share), "max": ind.points}
        )
    dims = {
        dim: {
            "points": sum(i["points"] for i in indicators if i["dimension"] == dim),
            "max": sum(i["max"] for i in indicators if i["dimension"] == dim),
        }
        for dim in DIMENSIONS
    }
    total = sum(i["points"] for i in indicators)
    return {"points": total, "max": MQA_MAX, "rating": rating(total), "dimensions": dims, "indicators": indicators}


def stars(d: RowLike, resources: Sequence[RowLike], facts: Facts, known_licences: set[str]) -> dict[str, Any]:
    """The 5-star level: the highest star whose test and every lower one's pass, and each test.

    ★ published (served) under an open licence (metadata/licenses.yaml lists only open ones);
    ★★ a structured, machine-readable distribution; ★★★ a non-proprietary one; ★★★★ every table
    has a primary key, so each row has a stable URL (`/<dataset>/<table>/<key>`); ★★★★★ linked:
    a foreign key, or a resource following a shared schema (`"schema": "shared:<name>"`)."""
    descriptor = d.get("descriptor") or {}
    shared = any(
        isinstance(r, dict) and isinstance(r.get("schema"), str) and r["schema"].startswith("shared:")
        for r in descriptor.get("resources") or []
    )
    met = [
        bool(facts.served and d.get("license") in known_licences),
        any(_fmt(r) in MACHINE_READABLE for r in resources),
        any(_fmt(r) in NON_PROPRIETARY for r in resources),
        bool(resources) and all(r.get("primary_key") for r in resources),
        any(r.get("foreign_keys") for r in resources) or shared,
    ]
    level = next((i for i, ok in enumerate(met) if not ok), len(met))
    return {"level": level, "met": met}


def dataset_scorecard(
    d: RowLike,
    resources: Sequence[RowLike],
    fields: Sequence[RowLike],
    facts: Facts,
    *,
    known_licences: set[str],
) -> dict[str, Any]:
    """The scorecard of one dataset (its catalogue record, resources and fields)."""
    q = quality.score(d, resources, fields, known_licences=known_licences, today=facts.today)
    return {
        "valid": bool(d.get("valid")),
        "mqa": mqa(d, resources, facts, known_licences),
        "stars": stars(d, resources, facts, known_licences),
        "quality": q.score,
        "computed": facts.today.isoformat(),
    }


def publisher_scorecard(cards: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """A publisher's scorecard from its datasets' scorecards: the mean MQA points (and their
    rating), the mean quality score, the lowest and the mean star level, how many are valid."""
    if not cards:
        return None
    n = len(cards)
    points = round(sum(c["mqa"]["points"] for c in cards) / n)
    levels = [c["stars"]["level"] for c in cards]
    return {
        "datasets": n,
        "valid": sum(bool(c["valid"]) for c in cards),
        "mqa": {"points": points, "max": MQA_MAX, "rating": rating(points)},
        "quality": round(sum(c["quality"] for c in cards) / n),
        "stars": {"min": min(levels), "mean": round(sum(levels) / n, 1)},
    }
