"""The checks themselves can fail: each one, given a page with the problem, reports it.
(Pages are set in place with `set_content`; no server is involved.)"""

from __future__ import annotations

from .a11y import run_axe
from .conftest import PHONE, _new_visit
from .layout import overflowing

BAD_PAGE = """<!DOCTYPE html><html><head><title>x</title></head><body>
<main><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<input type="text" name="q">
<div id="wide" style="width:900px">wide</div>
<div style="overflow-x:auto"><table><tr><td style="min-width:2000px">scrolls inside</td></tr></table></div>
<img alt="elsewhere" src="http://127.0.0.2:9/pixel.png">
</main></body></html>"""


def test_checks_report_what_is_wrong(browser):
    visit = _new_visit(browser, "http://127.0.0.1:9", PHONE)
    try:
        page = visit.page
        page.set_content(BAD_PAGE, wait_until="load")
        rules = {v["id"] for v in run_axe(page)}
        assert {"image-alt", "label", "html-has-lang"} <= rules, rules
        assert page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]
        sticking_out = overflowing(page)
        assert any(s.startswith("div#wide") for s in sticking_out), sticking_out
        assert not any("td" in s for s in sticking_out), sticking_out  # scrolls in its container
        assert visit.external == ["http://127.0.0.2:9/pixel.png"], visit.external
    finally:
        page.context.close()
