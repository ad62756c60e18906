"""gongkai.portal's pure functions: timeliness, quality score, API examples, Markdown,
the data dictionary, chart geometry, catalogue URL parameters."""

import csv
import io
import sqlite3
from datetime import date

from gongkai.catalogue import listing as catalogue
from gongkai.portal import api_examples, charts, dictionary, markdown, quality, timeliness

# --- timeliness --------------------------------------------------------------------------------


def test_annual_dataset_on_time_then_late():
    modified = "2024-03-01T10:00:00+00:00"
    on = timeliness.judge("annual", modified, date(2025, 3, 1))
    assert on.status == "on_time" and on.due == date(2025, 4, 2)  # 366 days + 31 grace
    assert timeliness.judge("annual", modified, date(2025, 4, 2)).status == "on_time"
    late = timeliness.judge("annual", modified, date(2025, 4, 12))
    assert late.status == "late" and late.days_late == 10 and not late.on_time


def test_daily_and_unscheduled():
    assert timeliness.judge("daily", "2026-08-22", date(2026, 8, 25)).status == "on_time"
    assert timeliness.judge("daily", "2026-08-22", date(2026, 8, 26)).days_late == 1
    assert timeliness.judge("irregular", "2000-01-01", date(2026, 1, 1)).status == "no_schedule"
    assert timeliness.judge("never", None, date(2026, 1, 1)).on_time
    assert timeliness.judge("annual", None, date(2026, 1, 1)).status == "unknown"
    assert timeliness.judge("sometimes", "2026-01-01", date(2026, 1, 1)).status == "unknown"


# --- quality -----------------------------------------------------------------------------------


def _dataset(**kw):
    d = {
        "license": "CC-BY-4.0",
        "description": "x" * 250,
        "frequency": "annual",
        "modified": "2026-01-01",
        "temporal_start": "2020-01-01",
        "temporal_end": "2020-12-31",
        "spatial_code": "CN",
        "valid": 1,
    }
    return {**d, **kw}


RES = [{"format": "csv", "primary_key": '["code"]'}]
FIELDS = [
    {"title": "代码", "description": "d", "title_en": "Code"},
    {"title": "名称", "description": "n", "title_en": "Name"},
]


def test_weights_sum_to_100_and_full_score():
    assert sum(quality.WEIGHTS.values()) == 100
    q = quality.score(_dataset(), RES, FIELDS, known_licences={"CC-BY-4.0"}, today=date(2026, 6, 1))
    assert q.score == 100 and not q.improvements


def test_each_part_loses_points_with_a_hint():
    today = date(2026, 6, 1)
    known = {"CC-BY-4.0"}
    q = quality.score(_dataset(license=None), RES, FIELDS, known_licences=known, today=today)
    assert q.score == 85 and q.improvements[0].hint == "portal.quality.hint.licence_missing"
    q = quality.score(_dataset(description="x" * 100), RES, FIELDS, known_licences=known, today=today)
    assert q.score == 92  # 7.5 points for half the target length (92.5 rounds to even)
    assert next(p for p in q.parts if p.key == "description").points == 7.5
    # Late by less than a period: half the timeliness points; more: none.
    q = quality.score(_dataset(modified="2024-12-01"), RES, FIELDS, known_licences=known, today=today)
    assert q.score == 90 and q.timeliness.status == "late"
    q = quality.score(_dataset(modified="2020-01-01"), RES, FIELDS, known_licences=known, today=today)
    assert q.score == 80
    q = quality.score(_dataset(temporal_start=None, spatial_code=None), RES, FIELDS, known_licences=known, today=today)
    assert q.score == 90 and q.improvements[0].hint == "portal.quality.hint.coverage_temporal_spatial"
    q = quality.score(
        _dataset(), [{"format": "xlsx", "primary_key": '["a"]'}], FIELDS, known_licences=known, today=today
    )
    assert q.score == 90 and q.improvements[0].detail["formats"] == "xlsx"
    bare = [{"title": None, "description": None}, {"title": "t", "description": None}]
    q = quality.score(_dataset(), [{"format": "csv", "primary_key": None}], bare, known_licences=known, today=today)
    schema = next(p for p in q.parts if p.key == "schema")
    assert schema.points == 3.5 and schema.hint == "portal.quality.hint.schema_field_description"
    q = quality.score(_dataset(valid=0), RES, FIELDS, known_licences=known, today=today)
    assert q.score == 90


def test_every_hint_has_a_string_in_both_languages():
    from gongkai import i18n

    keys = [
        "licence_missing",
        "licence_unknown",
        "description",
        "timeliness_late",
        "timeliness_unknown",
        "coverage_temporal",
        "coverage_spatial",
        "coverage_temporal_spatial",
        "open_format",
        "validation",
    ]
    keys += ["schema_" + k for k, _ in quality.SCHEMA_PARTS]
    for k in keys:
        assert set(i18n.STRINGS["portal.quality.hint." + k]) == {"zh", "en"}, k
    for k in quality.WEIGHTS:
        assert "portal.quality." + k in i18n.STRINGS


# --- API examples ------------------------------------------------------------------------------


def test_api_examples_use_the_given_site():
    ex = api_examples.examples("https://data.example.cn", "/core-gdp/gdp", "/core-gdp", "gdp")
    assert ex["urls"]["json"] == "https://data.example.cn/core-gdp/gdp.json?_shape=array&_size=5"
    assert ex["curl"] == "curl 'https://data.example.cn/core-gdp/gdp.json?_shape=array&_size=5'"
    assert "urlopen('https://data.example.cn/core-gdp/gdp.json?_shape=array&_size=5')" in ex["python"]
    assert "import requests" not in ex["python"]
    assert (
        ex["urls"]["sql"]
        == "https://data.example.cn/core-gdp.json?sql=select%20%2A%20from%20%22gdp%22%20limit%205&_shape=array"
    )
    assert ex["javascript"].startswith("const response = await fetch('https://data.example.cn/core-gdp.json?sql=")
    compile(ex["python"], "example", "exec")


def test_curl_quotes_a_quote():
    assert api_examples.curl("http://h/x?a='b'") == "curl 'http://h/x?a='\\''b'\\'''"


# --- Markdown ----------------------------------------------------------------------------------


def test_markdown_is_sanitised():
    html = markdown.render(
        "# Title\n\n<script>alert(1)</script> [x](javascript:alert(1)) ![p](http://evil/p.png)"
        " <a href='https://ok.example' onclick='x()'>ok</a>\n\n**bold**"
    )
    assert "<script" not in html and "javascript:" not in html and "<img" not in html and "onclick" not in html
    assert "<h3>Title</h3>" in html and "<strong>bold</strong>" in html
    assert 'href="https://ok.example"' in html
    assert markdown.render(None) == ""
    assert markdown.plain("**a** & <b>c</b>", 4) == "a &…"


# --- data dictionary ---------------------------------------------------------------------------


def test_constraints_in_words_and_csv():
    words = dictionary.constraint_words('{"required": true, "pattern": "[0-9]{2}", "minimum": 0, "enum": ["a", "b"]}')
    assert ("必填", "required") in words
    assert ("最小值 0", "at least 0") in words
    assert ("只能取以下值：a、b", "one of: a, b") in words
    assert ("须完整匹配正则表达式 [0-9]{2}", "matches the regular expression [0-9]{2} in full") in words
    text = dictionary.to_csv(
        [
            {
                "name": "Year",
                "type": "year",
                "title": "Year",
                "title_zh": "年份",
                "unit": None,
                "description": "d",
                "description_zh": "说明",
                "constraints": '{"required": true}',
            }
        ]
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [
        {
            "name": "Year",
            "title_zh": "年份",
            "title_en": "Year",
            "type": "year",
            "unit": "",
            "description_zh": "说明",
            "description_en": "d",
            "constraints_zh": "必填",
            "constraints_en": "required",
        }
    ]


# --- charts ------------------------------------------------------------------------------------


def test_chart_choice_and_geometry():
    conn = sqlite3.connect(":memory:")
    conn.execute("create table t (country text, year integer, value real)")
    conn.executemany(
        "insert into t values (?, ?, ?)",
        [
            (c, y, v * (y - 1999))
            for c, v in (("A", 1.0), ("B", 2.0), ("C", 3.0), ("D", 4.0), ("E", 5.0), ("F", 0.5))
            for y in range(2000, 2011)
        ],
    )
    fields = [
        {"name": "country", "type": "string"},
        {"name": "year", "type": "year"},
        {"name": "value", "type": "number", "gov:unit": "万元"},
    ]
    spec = charts.build_chart(conn, "t", fields)
    assert spec["kind"] == "line" and [s["name"] for s in spec["series"]] == ["E", "D", "C", "B", "A"]
    assert spec["series_total"] == 6 and spec["unit"] == "万元"
    layout = charts.line_layout(spec, "zh")
    assert len(layout["series"]) == 5 and layout["xticks"][0]["label"] == "2000"
    # Without a unit there is no measure: a bar chart of rows per country would need repeats.
    fields[2].pop("gov:unit")
    bar = charts.build_chart(conn, "t", fields)
    assert bar["kind"] == "bar" and bar["category"] == "country" and bar["bars"][0][1] == 11
    assert charts.bar_layout(bar, "en")["bars"][0]["value"] == "11"


def test_chart_counts_distinct_values_only_up_to_its_limits():
    """A column of unique codes is not counted in full (the count stops past the limit), and
    neither splits a line into series nor makes a bar chart; the fewest-valued column wins."""
    conn = sqlite3.connect(":memory:")
    conn.execute("create table t (code text, kind text, region text, year integer, value real)")
    rows = charts.MAX_SERIES_FIELD + 200
    conn.executemany(
        "insert into t values (?, ?, ?, ?, ?)",
        [(f"c{i}", "AB"[i % 2], "NSEW"[i % 4], 2000 + i % 7, float(i)) for i in range(rows)],
    )
    fields = [
        {"name": "code", "type": "string"},
        {"name": "region", "type": "string"},
        {"name": "kind", "type": "string"},
        {"name": "year", "type": "year"},
        {"name": "value", "type": "number", "gov:unit": "元"},
    ]
    spec = charts.build_chart(conn, "t", fields)
    assert spec["kind"] == "line" and spec["series_field"] == "kind" and spec["series_total"] == 2
    # only the codes left to split by: more distinct values than a series field may have
    spec = charts.build_chart(conn, "t", [fields[0], fields[3], fields[4]])
    assert spec["kind"] == "line" and spec["series_field"] is None and spec["aggregate"] == "sum"
    bar = charts.build_chart(conn, "t", fields[:3])
    assert bar["kind"] == "bar" and bar["category"] == "kind" and bar["categories"] == 2
    assert charts.build_chart(conn, "t", fields[:1]) is None
    # one row per time: the points themselves, whatever text columns there are
    conn.execute("create table u (code text, year integer, value real)")
    conn.executemany("insert into u values (?, ?, ?)", [(f"c{y % 3}", y, y * 2.0) for y in range(1990, 2020)])
    one = charts.build_chart(conn, "u", [fields[0], fields[3], fields[4]])
    assert one["series_field"] is None and "aggregate" not in one
    assert one["series"][0]["points"][:2] == [[1990, 3980.0], [1991, 3982.0]]
    conn.execute("create table w (year integer, value real)")
    conn.executemany("insert into w values (?, ?)", [(2000, 1.0), (2000, 2.0), (2001, None)])
    assert charts.build_chart(conn, "w", fields[3:]) is None  # one time with a value: no line


def test_nice_ticks_and_compact_numbers():
    assert charts.nice_ticks(0, 97) == [0, 20, 40, 60, 80, 100]
    assert charts.compact(123_000_000, "zh") == "1.23亿" and charts.compact(123_000_000, "en") == "123M"
    assert charts.compact(2.5e12, "en") == "2.5T"


# --- catalogue parameters ----------------------------------------------------------------------


def test_catalogue_params_round_trip():
    q = catalogue.parse(
        {"q": " 人口 ", "theme": "population", "sort": "title", "page": "3", "bogus": "x", "sort_x": "y"}
    )
    assert q.q == "人口" and q.active == {"theme": "population"} and q.page == 3
    assert catalogue.params(q) == [("q", "人口"), ("theme", "population"), ("sort", "title"), ("page", "3")]
    # Any change other than the page goes back to page 1; None removes a filter.
    assert catalogue.params(q, theme=None) == [("q", "人口"), ("sort", "title")]
    assert catalogue.params(q, page=4)[-1] == ("page", "4")
    assert catalogue.parse({"sort": "nonsense", "page": "-2"}).sort == "" and catalogue.parse({"page": "-2"}).page == 1
    assert (
        catalogue.parse({}).effective_sort == "modified" and catalogue.parse({"q": "x"}).effective_sort == "relevance"
    )
