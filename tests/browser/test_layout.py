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
    # The preview is wider than the phone: it scrolls inside its own box, which fits the screen,
    # and the page itself does not scroll sideways.
    boxes = phone.page.evaluate("""() => [...document.querySelectorAll('.table-wrapper')]
        .filter(w => w.querySelector('table.preview'))
        .map(w => { const r = w.getBoundingClientRect(); return [r.left, r.right, w.scrollWidth, w.clientWidth]; })""")
    assert boxes, "no preview shown"
    assert all(0 <= left and right <= width for left, right, *_ in boxes), boxes
    assert any(scroll > client for *_, scroll, client in boxes), boxes  # it does scroll, in its box
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= width


# It was about 10,000 px at 1280 px before its repeated blocks were collapsed; about 5,900 after.
MAX_COLLAPSED_HEIGHT = 7_000


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_repeated_blocks_are_collapsed_and_open_on_click(visit, lang):
    visit.goto(WIDE, lang)
    blocks = visit.page.locator("section.resource details.block")
    n = blocks.count()
    assert n >= 8  # a dictionary and API examples per table
    assert visit.page.locator("section.resource details.block[open]").count() == 0
    height = visit.page.evaluate("document.documentElement.scrollHeight")
    print(f"{WIDE} ({lang}) at 1280 px: {height} px tall collapsed")
    assert height < MAX_COLLAPSED_HEIGHT, (lang, height)
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
