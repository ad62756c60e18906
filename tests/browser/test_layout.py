"""The landing page reads on a phone and scans on a desktop.

On a 375 px screen the data dictionary stacks (every value inside the screen, none cut off at
its edge) and the wide preview scrolls inside its own box with a hint that it does; on a
desktop the per-table blocks that repeat (API examples, and the dictionaries of a dataset with
many tables) are collapsed, and still open with one click."""

from __future__ import annotations

import pytest

WIDE = "/datasets/cn-admin-divisions"  # four tables


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dictionary_stacks_on_a_phone(phone, lang):
    phone.goto("/datasets/core-gdp", lang)
    cells = phone.page.evaluate("""() => [...document.querySelectorAll('table.dictionary td, table.dictionary th[scope=row]')]
        .filter(e => e.offsetParent !== null)
        .map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right, e.scrollWidth <= e.clientWidth + 1]; })""")
    assert cells, "no dictionary cells shown"
    width = phone.page.evaluate("window.innerWidth")
    assert all(0 <= left and right <= width for left, right, _ in cells), cells
    assert all(fits for *_, fits in cells)
    labels = phone.page.evaluate(
        "() => [...document.querySelectorAll('table.dictionary td[data-label]')].slice(0, 3)"
        ".map(e => getComputedStyle(e, '::before').content)"
    )
    assert all(label not in ("none", "normal", "") for label in labels), labels
    assert phone.page.locator(".scroll-hint").first.is_visible()


def test_repeated_blocks_are_collapsed_and_open_on_click(visit):
    visit.goto(WIDE)
    blocks = visit.page.locator("section.resource details.block")
    n = blocks.count()
    assert n >= 8  # a dictionary and API examples per table
    assert visit.page.locator("section.resource details.block[open]").count() == 0
    height = visit.page.evaluate("document.documentElement.scrollHeight")
    first_api = visit.page.locator("section.resource details.block").nth(1)
    code = first_api.locator("pre code").first
    assert not code.is_visible()
    first_api.locator("summary").click()
    assert code.is_visible()
    # collapsed, the page is a fraction of its full length
    for i in range(n):
        details = blocks.nth(i)
        if details.get_attribute("open") is None:
            details.locator("summary").click()
    assert visit.page.evaluate("document.documentElement.scrollHeight") > 1.5 * height
