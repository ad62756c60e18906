"""The scorecard (gongkai/scorecard.py): each MQA indicator, the 5-star level, the publisher's
aggregate, and that the build stores it in catalog.db."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from gongkai import scorecard
from gongkai.catalogue.records import DatasetRecord, FieldRecord, ResourceRecord

LICENCES = {"CC-BY-4.0"}
TODAY = date(2026, 12, 1)


def full_dataset(**changes) -> DatasetRecord:
    d = DatasetRecord(
        name="ds",
        title="人口",
        description="说明",
        keywords=["人口"],
        theme="society",
        spatial_code="510000",
        temporal_start="2020",
        temporal_end="2024",
        license="CC-BY-4.0",
        license_path="https://creativecommons.org/licenses/by/4.0/",
        openness="unconditional",
        contact_email="open@example.gov.cn",
        publisher="stats",
        issued="2024-01-01",
        modified="2026-11-30",
        frequency="annual",
        valid=1,
        descriptor={"resources": [{"name": "people"}]},
    )
    return dataclasses.replace(d, **changes)


def full_resource(**changes) -> ResourceRecord:
    r = ResourceRecord(dataset="ds", name="people", path="people.csv", format="csv", bytes=10, primary_key=["id"])
    return dataclasses.replace(r, **changes)


FACTS = scorecard.Facts(served=True, published=frozenset({"people"}), today=TODAY)


def points(d=None, rs=None, facts=FACTS) -> dict[str, int]:
    card = scorecard.mqa(d or full_dataset(), rs if rs is not None else [full_resource()], facts, LICENCES)
    return {i["key"]: i["points"] for i in card["indicators"]}


def test_full_record_scores_every_point():
    card = scorecard.mqa(full_dataset(), [full_resource()], FACTS, LICENCES)
    assert card["points"] == 405 and card["rating"] == "excellent"
    assert {k: v["max"] for k, v in card["dimensions"].items()} == {
        "findability": 100,
        "accessibility": 100,
        "interoperability": 110,
        "reusability": 75,
        "contextuality": 20,
    }


# Each indicator, and the smallest change to a full record that loses exactly its points.
LOSSES = [
    ("keyword", {"keywords": []}, None, None),
    ("theme", {"theme": None}, None, None),
    ("spatial", {"spatial_code": None}, None, None),
    ("temporal", {"temporal_start": None, "temporal_end": None}, None, None),
    ("access_url_answers", {}, None, scorecard.Facts(False, frozenset({"people"}), TODAY)),
    ("download_url_answers", {}, None, scorecard.Facts(True, frozenset(), TODAY)),
    ("licence_vocabulary", {"license": "Proprietary-1"}, None, None),
    ("access_rights_vocabulary", {"openness": "secret"}, None, None),
    ("contact_point", {"contact_email": None}, None, None),
    ("publisher", {"publisher": None}, None, None),
    ("rights", {"license_path": None}, None, None),
    ("byte_size", {}, {"bytes": None}, None),
    ("issued", {"issued": None}, None, None),
    ("modified", {"modified": None}, None, None),
    ("dcat_ap", {"description": None}, None, None),
]


@pytest.mark.parametrize(("key", "dchange", "rchange", "facts"), LOSSES, ids=[x[0] for x in LOSSES])
def test_each_indicator_loses_exactly_its_points(key, dchange, rchange, facts):
    got = points(full_dataset(**dchange), [full_resource(**(rchange or {}))], facts or FACTS)
    full = points()
    lost = {k: full[k] - got[k] for k in full if full[k] != got[k]}
    maximum = next(i.points for i in scorecard.INDICATORS if i.key == key)
    assert lost == {key: maximum}


def test_licence_missing_loses_presence_and_vocabulary():
    got = points(full_dataset(license=None))
    assert got["licence"] == 0 and got["licence_vocabulary"] == 0


def test_formats_drive_interoperability():
    xlsx = points(rs=[full_resource(format="xlsx", path="people.xlsx")])
    assert xlsx["non_proprietary"] == 0 and xlsx["machine_readable"] == 20 and xlsx["media_type"] == 10
    unknown = points(rs=[full_resource(format="shp", path="people.shp")])
    assert unknown["format"] == 20 and unknown["media_type"] == 0 and unknown["format_vocabulary"] == 0
    assert unknown["machine_readable"] == 0
    none = points(rs=[full_resource(format=None, path="people")])
    assert none["format"] == 0


def test_accessibility_counts_the_share_of_distributions():
    two = [full_resource(), full_resource(name="other", path="other.csv")]
    got = points(rs=two, facts=scorecard.Facts(True, frozenset({"people"}), TODAY))
    assert got["download_url_answers"] == 15  # one of two files published: half of 30


def test_ratings_bands():
    assert [scorecard.rating(p) for p in (405, 351, 350, 221, 220, 121, 120, 0)] == [
        "excellent",
        "excellent",
        "good",
        "good",
        "sufficient",
        "sufficient",
        "bad",
        "bad",
    ]


def level(d=None, rs=None, facts=FACTS) -> int:
    return scorecard.stars(d or full_dataset(), rs if rs is not None else [full_resource()], facts, LICENCES)["level"]


def test_stars():
    assert level() == 4  # open licence, CSV, primary key; no link to other data
    assert level(rs=[full_resource(foreign_keys=[{"fields": ["x"], "reference": {"resource": "y"}}])]) == 5
    shared = full_dataset(descriptor={"resources": [{"name": "people", "schema": "shared:service-items"}]})
    assert level(d=shared) == 5
    assert level(rs=[full_resource(primary_key=[])]) == 3
    assert level(rs=[full_resource(format="xlsx", path="p.xlsx")]) == 2
    assert level(rs=[full_resource(format="pdf", path="p.pdf")]) == 1
    assert level(d=full_dataset(license="Proprietary-1")) == 0
    # a star counts only when every lower one does: a key without an open licence is still 0
    assert level(facts=scorecard.Facts(False, frozenset(), TODAY)) == 0


def test_dataset_scorecard_includes_quality_and_validity():
    fields = [FieldRecord(dataset="ds", resource="people", name="id", title="编号")]
    card = scorecard.dataset_scorecard(full_dataset(valid=0), [full_resource()], fields, FACTS, known_licences=LICENCES)
    assert card["valid"] is False and card["mqa"]["points"] == 405 and card["stars"]["level"] == 4
    assert 0 <= card["quality"] < 100  # validation failed: the quality score loses its 10 points
    assert card["computed"] == "2026-12-01"


def test_publisher_scorecard_averages():
    a = {"valid": True, "mqa": {"points": 405}, "quality": 90, "stars": {"level": 5}}
    b = {"valid": False, "mqa": {"points": 200}, "quality": 50, "stars": {"level": 2}}
    card = scorecard.publisher_scorecard([a, b])
    assert card == {
        "datasets": 2,
        "valid": 1,
        "mqa": {"points": 302, "max": 405, "rating": "good"},
        "quality": 70,
        "stars": {"min": 2, "mean": 3.5},
    }
    assert scorecard.publisher_scorecard([]) is None


def test_badge_colours_and_words():
    import xml.etree.ElementTree as ET

    from gongkai.portal import badge

    card = scorecard.dataset_scorecard(full_dataset(), [full_resource()], [], FACTS, known_licences=LICENCES)
    ns = "{http://www.w3.org/2000/svg}"
    for record, status, words in (
        (full_dataset(scorecard=card), "valid", ("校验通过", "valid")),
        (full_dataset(valid=0, scorecard=card), "invalid", ("校验未通过", "invalid")),
        (full_dataset(scorecard=None), "unknown", ("未评分", "not scored")),
    ):
        root = ET.fromstring(badge.svg(record, "zh"))
        assert root.find(f"{ns}rect").get("fill") == badge.COLOURS[status]
        title = root.find(f"{ns}title").text
        assert words[0] in title and words[1] in title  # both languages, Chinese first
        assert title.index(words[0]) < title.index(words[1])
        assert int(root.get("width")) == sum(int(r.get("width")) for r in root.findall(f"{ns}rect")[:2])
