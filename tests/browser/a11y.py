"""axe-core in the page: the copy bundled with the `axe-playwright-python` wheel (axe-core is
MPL-2.0, the wrapper MIT), read from disk and injected, so nothing is fetched at test time."""

from __future__ import annotations

from functools import cache
from pathlib import Path

# WCAG 2.0 and 2.1, levels A and AA: the rules the portal promises to pass.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@cache
def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def run_axe(page) -> list[dict]:
    """The page's axe violations of the WCAG 2.1 A/AA rules."""
    page.evaluate(axe_source())
    results = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})""",
        WCAG_TAGS,
    )
    return results["violations"]


def describe(violations: list[dict], nodes_per_rule: int = 4) -> str:
    """A readable list: rule id, impact, help, then the first few offending elements."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v.get('impact')}): {v['help']} — {len(v['nodes'])} element(s)")
        for node in v["nodes"][:nodes_per_rule]:
            target = " ".join(str(t) for t in node.get("target", []))
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}: {node.get('html', '')[:160]!s} — {summary[:240]}")
    return "\n".join(lines)
