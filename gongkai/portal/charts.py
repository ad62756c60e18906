"""Charts on the landing page: which chart suits a table, its data (build time), and the
geometry of a small accessible SVG (request time, pure arithmetic; the template draws it).

- A *line* chart when a table has a time column (year, date, yearmonth) and a measure (a number
  with a `gov:unit`): one line, or the five largest series (by the latest value) when another
  text column splits the rows (e.g. countries).
  A column with more than `MAX_SERIES_FIELD` distinct values does not split series.
- Otherwise a *bar* chart of how many rows fall in each category of a text column with a few
  distinct values (2–40, and repeated, in a column most rows fill); a single-column foreign key is labelled with the
  referenced row's name.
Distinct values are counted only up to the limit that matters (`_distinct`), so the cost of a
chart does not grow with the number of distinct values of a table's codes and names.
No other chart: a chart that does not suit the data is worse than none.
"""

from __future__ import annotations

import functools
import math
import sqlite3

from .. import i18n
from ..sql import identifier

TIME_TYPES = ("year", "date", "yearmonth")
NUMERIC_TYPES = ("integer", "number")
MAX_SERIES = 5
MAX_BARS = 40
MAX_POINTS = 400


# A column with more distinct values than this does not split a line chart into series.
MAX_SERIES_FIELD = 1000


# ---------------------------------------------------------------------------------------------
# Build time: choosing and aggregating


def _distinct(conn, table: str, column: str, limit: int) -> int | None:
    """The number of distinct non-null values of a column, or None when there are more than
    `limit`: the scan stops at the limit+1st value, so a column of unique codes costs a few
    rows instead of sorting the whole table (`count(distinct)` over every text column took
    1.3 s of the bench table's build at 500k rows, 24 s at 5M)."""
    c = identifier(column)
    (n,) = conn.execute(
        f"select count(*) from (select distinct {c} from {identifier(table)} where {c} is not null limit ?)",
        [limit + 1],
    ).fetchone()
    return None if n > limit else n


def _line(conn, table: str, fields: list[dict]) -> dict | None:
    time = next((f for f in fields if f.get("type") in TIME_TYPES), None)
    measure = next((f for f in fields if f.get("type") in NUMERIC_TYPES and f.get("gov:unit")), None)
    if not time or not measure:
        return None
    t, m = identifier(time["name"]), identifier(measure["name"])
    # Two questions that stop early instead of counting every row (a full scan: 0.9 s of CPU at
    # 2M rows): are there two times at all, and does any time come twice? Both walk the time
    # column's index (the build indexes date and year columns) and stop at the answer.
    (times,) = conn.execute(
        f"select count(*) from (select distinct {t} from {identifier(table)} where {m} is not null limit 2)"
    ).fetchone()
    if times < 2:
        return None
    repeated = conn.execute(
        f"select 1 from {identifier(table)} where {m} is not null group by {t} having count(*) > 1 limit 1"
    ).fetchone()
    spec = {
        "kind": "line",
        "table": table,
        "x": time["name"],
        "x_type": time["type"],
        "y": measure["name"],
        "unit": measure.get("gov:unit"),
        "series_field": None,
        "series_total": 1,
        "series": [],
    }
    if not repeated:  # one row per time: the points themselves
        points = conn.execute(
            f"select {t}, {m} from {identifier(table)} where {m} is not null order by {t} limit {MAX_POINTS}"
        ).fetchall()
        spec["series"] = [{"name": None, "points": [list(p) for p in points]}]
        return spec
    texts = [f for f in fields if f.get("type", "string") == "string"]
    best = None
    for f in texts:
        # the fewest series wins: a column is only counted up to the best so far
        n = _distinct(conn, table, f["name"], best[1] - 1 if best else MAX_SERIES_FIELD)
        if n is not None and n > 1 and (best is None or n < best[1]):
            best = (f, n)
    if best is None:  # several rows per time and nothing to split them by: the total
        points = conn.execute(
            f"select {t}, sum({m}) from {identifier(table)} where {m} is not null group by {t} order by {t} limit {MAX_POINTS}"
        ).fetchall()
        spec["series"] = [{"name": None, "points": [list(p) for p in points]}]
        spec["aggregate"] = "sum"
        return spec
    s = identifier(best[0]["name"])
    top = [
        r[0]
        for r in conn.execute(
            f"select {s} from {identifier(table)} where {m} is not null and {t} = (select max({t}) from {identifier(table)} where {m} is not null) "
            f"group by {s} order by max({m}) desc limit {MAX_SERIES}"
        )
    ]
    for name in top:
        points = conn.execute(
            f"select {t}, {m} from {identifier(table)} where {s} = ? and {m} is not null order by {t} limit {MAX_POINTS}",
            [name],
        ).fetchall()
        spec["series"].append({"name": name, "points": [list(p) for p in points]})
    spec["series_field"] = best[0]["name"]
    spec["series_total"] = best[1]
    return spec if spec["series"] else None


def _labels(conn, field: dict, foreign_keys: list[dict]) -> dict:
    """{code: name} for a single-column foreign key into a table with a text column."""
    for fk in foreign_keys or []:
        if fk.get("fields") == [field["name"]] and len(fk.get("reference_fields") or []) == 1:
            target, key = fk.get("resource"), fk["reference_fields"][0]
            if not target:
                continue
            cols = [r[1] for r in conn.execute(f"pragma table_info({identifier(target)})")]
            name = "name" if "name" in cols else next((c for c in cols if c != key and "name" in c.lower()), None)
            if name:
                return {
                    k: v
                    for k, v in conn.execute(f"select {identifier(key)}, {identifier(name)} from {identifier(target)}")
                }
    return {}


def _bar(conn, table: str, fields: list[dict], primary_key: list[str], foreign_keys: list[dict]) -> dict | None:
    (rows,) = conn.execute(f"select count(*) from {identifier(table)}").fetchone()
    if rows < 10:
        return None
    best = None
    for f in fields:
        if f.get("type", "string") != "string" or f["name"] in primary_key:
            continue
        n = _distinct(conn, table, f["name"], best[1] - 1 if best else MAX_BARS)
        if n is None or n < 2:
            continue
        (filled,) = conn.execute(f"select count({identifier(f['name'])}) from {identifier(table)}").fetchone()
        # A few values, each repeated on average, in a column most rows fill.
        if n * 2 <= filled and filled * 2 >= rows:
            best = (f, n)
    if best is None:
        return None
    f = best[0]
    c = identifier(f["name"])
    counts = conn.execute(
        f"select {c}, count(*) as n from {identifier(table)} where {c} is not null group by {c} order by n desc, {c} limit {MAX_BARS}"
    ).fetchall()
    labels = _labels(conn, f, foreign_keys)
    bars = [[value, n, labels.get(value)] for value, n in counts]
    return {"kind": "bar", "table": table, "category": f["name"], "bars": bars, "categories": best[1], "rows": rows}


def build_chart(
    conn: sqlite3.Connection, table: str, fields: list[dict], *, primary_key=(), foreign_keys=()
) -> dict | None:
    """The chart that suits one loaded table, with its data; None when none does."""
    return _line(conn, table, fields) or _bar(conn, table, fields, list(primary_key or []), list(foreign_keys or []))


# ---------------------------------------------------------------------------------------------
# Request time: geometry for the SVG template

# Colours with ≥ 3:1 contrast on white (WCAG 1.4.11), told apart by dash pattern too.
PALETTE = ("#0b57a4", "#b3261e", "#1e7b34", "#7a4fb0", "#8a5a00")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2")


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About `count` round tick values covering [lo, hi]."""
    if hi == lo:
        hi = lo + 1
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    start = math.floor(lo / step) * step
    ticks, v = [], start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


@functools.lru_cache(maxsize=4)
def compact_units(lang: str) -> tuple[tuple[float, str], ...]:
    """(size, suffix) pairs, largest first, from the locale (`chart.compact_units`): Chinese
    counts in 万 and 亿, English in thousands, millions, …"""
    pairs = (item.split(" ", 1) for item in i18n.t("chart.compact_units", lang).split(", "))
    return tuple(sorted(((float(size), suffix) for size, suffix in pairs), reverse=True))


def compact(value: float | None, lang: str = "zh") -> str:
    """A short number for axes: 1.2万亿 / 1.2T."""
    if value is None:
        return ""
    a = abs(value)
    for size, suffix in compact_units(lang):
        if a >= size:
            text = f"{value / size:.2f}".rstrip("0").rstrip(".")
            return text + suffix
    if float(value).is_integer():
        return f"{int(value):,}" if lang == "en" else str(int(value))
    return f"{value:.3g}"


def full_number(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _x_number(value, x_type: str) -> float:
    if x_type == "year":
        return float(value)
    text = str(value)
    y, mo = int(text[:4]), int(text[5:7]) if len(text) >= 7 else 1
    d = int(text[8:10]) if len(text) >= 10 else 1
    return y + (mo - 1) / 12 + (d - 1) / 365


def line_layout(spec: dict, lang: str, *, width: int = 640, height: int = 300) -> dict:
    left, right, top, bottom = 64, 12, 12, 36
    pw, ph = width - left - right, height - top - bottom
    xs = [_x_number(p[0], spec["x_type"]) for s in spec["series"] for p in s["points"]]
    ys = [p[1] for s in spec["series"] for p in s["points"]]
    x0, x1 = min(xs), max(xs)
    yt = nice_ticks(min(0.0, min(ys)), max(ys))
    y0, y1 = yt[0], yt[-1]

    def sx(v):
        return round(left + (v - x0) / ((x1 - x0) or 1) * pw, 1)

    def sy(v):
        return round(top + ph - (v - y0) / ((y1 - y0) or 1) * ph, 1)

    series = []
    for i, s in enumerate(spec["series"]):
        pts = " ".join(f"{sx(_x_number(x, spec['x_type']))},{sy(y)}" for x, y in s["points"])
        series.append(
            {
                "name": s["name"],
                "points": pts,
                "color": PALETTE[i % len(PALETTE)],
                "dash": DASHES[i % len(DASHES)],
                "last": s["points"][-1] if s["points"] else None,
            }
        )
    xticks = [
        {"x": sx(v), "label": str(int(v))} for v in nice_ticks(x0, x1, 6) if x0 <= v <= x1 and float(v).is_integer()
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "bottom": top + ph,
        "right": left + pw,
        "series": series,
        "xticks": xticks,
        "yticks": [{"y": sy(v), "label": compact(v, lang)} for v in yt],
    }


def bar_layout(spec: dict, lang: str, *, width: int = 640, bar: int = 18, gap: int = 6, label_width: int = 150) -> dict:
    bars = spec["bars"]
    top = 8
    height = top + len(bars) * (bar + gap) + 24
    pw = width - label_width - 60
    ticks = nice_ticks(0, max(n for _, n, _ in bars), 4)
    hi = ticks[-1] or 1
    out = []
    for i, (value, n, label) in enumerate(bars):
        y = top + i * (bar + gap)
        text = f"{value} {label}" if label else str(value)
        out.append(
            {
                "y": y,
                "ty": y + bar * 0.75,
                "w": round(n / hi * pw, 1),
                "label": text,
                "value": full_number(n),
                "n": n,
                "code": value,
                "name": label,
            }
        )
    return {
        "width": width,
        "height": height,
        "bar": bar,
        "x0": label_width,
        "plot_width": pw,
        "bars": out,
        "axis_y": top + len(bars) * (bar + gap),
        "xticks": [{"x": round(label_width + v / hi * pw, 1), "label": compact(v, lang)} for v in ticks],
    }
