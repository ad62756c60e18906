"""The SVG badge of a dataset (`/datasets/<name>/badge.svg`): its validation status and score.

Drawn from the catalogue record alone (its `valid` flag and the build's `scorecard`), so the
plugin only looks the record up. Two panels in the style README badges use: the status (green
when valid, red when not) and the MQA points with the star level and the quality score. The
visible words are in the page's language; the `<title>` (what screen readers and tooltips
read) says it in both, Chinese first.
"""

from __future__ import annotations

import unicodedata
from xml.sax.saxutils import escape

from .. import i18n

HEIGHT = 20
COLOURS = {"valid": "#2e7d32", "invalid": "#c62828", "unknown": "#6b6b6b"}
SCORE_COLOUR = {"excellent": "#2e7d32", "good": "#558b2f", "sufficient": "#b26a00", "bad": "#c62828"}


def text_width(text: str) -> int:
    """An estimate of the width in pixels at 11 px Verdana-like type: wide (CJK) characters
    take a full em, others about 0.62 em, plus the panel's padding."""
    wide = sum(unicodedata.east_asian_width(c) in "WF" for c in text)
    return round(wide * 11 + (len(text) - wide) * 6.8) + 12


def status_of(record) -> str:
    if record.get("scorecard") is None:
        return "unknown"
    return "valid" if record.get("valid") else "invalid"


def title(record, lang: str) -> str:
    card = record.get("scorecard")
    status = i18n.t(f"scorecard.badge.{status_of(record)}", lang)
    if not card:
        return f"{record['name']}: {status}"
    return i18n.t(
        "scorecard.badge.title",
        lang,
        name=record["name"],
        status=status,
        points=card["mqa"]["points"],
        max=card["mqa"]["max"],
        rating=i18n.t(f"scorecard.rating.{card['mqa']['rating']}", lang),
        stars=card["stars"]["level"],
        quality=card["quality"],
    )


def svg(record, lang: str) -> str:
    """The badge of a catalogue `datasets` record (or row) as SVG text."""
    card = record.get("scorecard")
    status = status_of(record)
    left = i18n.t(f"scorecard.badge.{status}", lang)
    right = f"MQA {card['mqa']['points']} · {'★' * card['stars']['level']} · {card['quality']}" if card else "—"
    lw, rw = text_width(left), text_width(right)
    colour = SCORE_COLOUR.get(card["mqa"]["rating"], COLOURS["unknown"]) if card else COLOURS["unknown"]
    both = f"{title(record, 'zh')} / {title(record, 'en')}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lw + rw}" height="{HEIGHT}" '
        f'role="img" aria-labelledby="t" viewBox="0 0 {lw + rw} {HEIGHT}">'
        f'<title id="t">{escape(both)}</title>'
        f'<rect width="{lw}" height="{HEIGHT}" fill="{COLOURS[status]}"/>'
        f'<rect x="{lw}" width="{rw}" height="{HEIGHT}" fill="{colour}"/>'
        # a thin light line between the panels: both are green for a valid, excellent dataset
        f'<rect x="{lw}" width="1" height="{HEIGHT}" fill="#fff" fill-opacity=".6"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,Noto Sans CJK SC,sans-serif" font-size="11" '
        'text-anchor="middle">'
        f'<text x="{lw / 2:g}" y="14">{escape(left)}</text>'
        f'<text x="{lw + rw / 2:g}" y="14">{escape(right)}</text>'
        "</g></svg>"
    )
