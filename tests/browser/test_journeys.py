"""What a person does, clicked through in the browser, in Chinese and in English:
browse home → catalogue → filter → dataset page → table → download; search the site; reach the
skip link by keyboard; switch language and stay in it."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from werkzeug.http import parse_options_header  # schemathesis's and locust's dependency

from .conftest import REPO
from .pages import HTML_LANG, LANGS

DATASET = "cn-admin-divisions"
THEME = "administrative-divisions"
TIMEOUT = 10_000


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def path(page) -> str:
    return unquote(urlsplit(page.url).path)


def assert_lang(page, lang: str) -> None:
    assert page.get_attribute("html", "lang") == HTML_LANG[lang], page.url
    if lang == "en":
        assert query(page).get("_lang") == ["en"], f"_lang=en lost: {page.url}"
    else:
        assert "_lang" not in query(page), page.url


def click_and_wait(page, locator) -> None:
    with page.expect_navigation(timeout=TIMEOUT):
        locator.click()


def first_link(page, predicate_js: str, scope: str = "main"):
    """The first visible link in `scope` whose URL (a URL object `u`) satisfies the predicate."""
    index = page.evaluate(
        f"""() => {{
          const links = Array.from(document.querySelectorAll({scope!r} + ' a[href]'));
          return links.findIndex(a => {{ const u = new URL(a.href); return a.offsetParent !== null && ({predicate_js}); }});
        }}"""
    )
    assert index >= 0, f"no link in {scope} matching {predicate_js} on {page.url}"
    return page.locator(f"{scope} a[href]").nth(index)


@pytest.mark.parametrize("lang", LANGS)
def test_browse_filter_open_download(visit, lang):
    page = visit.page
    visit.goto("/", lang)
    assert_lang(page, lang)

    # Home → the catalogue, through the site's own navigation.
    click_and_wait(page, first_link(page, "u.pathname === '/datasets'", scope="header"))
    assert path(page) == "/datasets"
    assert_lang(page, lang)

    # Apply a filter: the theme of the administrative divisions (a link or a form control).
    theme_links = page.locator(f'main a[href*="theme={THEME}"]')
    if theme_links.count():
        click_and_wait(page, theme_links.first)
    else:
        select = page.locator('main select[name="theme"]')
        assert select.count(), f"no theme filter (link or select) on {page.url}"
        select.first.select_option(THEME)
        submit = select.first.locator("xpath=ancestor::form").locator(
            'button[type="submit"], input[type="submit"], button:not([type])'
        )
        click_and_wait(page, submit.first)
    assert query(page).get("theme") == [THEME], page.url
    assert_lang(page, lang)

    # Open the dataset from the filtered list.
    click_and_wait(page, first_link(page, f"u.pathname === '/datasets/{DATASET}'"))
    assert path(page) == f"/datasets/{DATASET}"
    assert_lang(page, lang)

    # Into the full table view of one of its tables.
    click_and_wait(page, first_link(page, f"u.pathname.startsWith('/{DATASET}/') && !/\\.[a-z]+$/.test(u.pathname)"))
    table = path(page).rsplit("/", 1)[1]
    assert path(page) == f"/{DATASET}/{table}"
    assert_lang(page, lang)
    assert page.locator("main table").count(), f"no data table on {page.url}"

    # Follow the page's CSV download link: the response is this table as CSV.
    link = first_link(page, "/\\.csv$/.test(u.pathname)", scope="body")
    href = link.evaluate("a => a.href")
    response = page.request.get(href)
    assert response.status == 200, href
    assert "csv" in response.headers.get("content-type", "") or "text/plain" in response.headers.get(
        "content-type", ""
    ), response.headers
    rows = list(csv.reader(io.StringIO(response.text().lstrip("\ufeff"))))
    assert rows and "code" in rows[0] and "name" in rows[0], rows[:2]
    assert len(rows) > 1
    visit.assert_no_external()


def search_box(visit, lang: str):
    """The site-wide search box: on the home page, else on the search page the header links to."""
    page = visit.page
    box = page.locator('main form[action*="/-/search"] input[name="q"]')
    if not box.count():
        click_and_wait(page, first_link(page, "u.pathname === '/-/search'", scope="header"))
        assert_lang(page, lang)
        box = page.locator('main form[action*="/-/search"] input[name="q"]')
    assert box.count(), f"no site search box on {page.url}"
    return box.first


@pytest.mark.parametrize("lang", LANGS)
def test_search_then_open_the_filtered_table(visit, lang):
    page = visit.page
    visit.goto("/", lang)
    box = search_box(visit, lang)
    box.fill("")
    box.type("北京")  # typed key by key, as a person would (an IME commits the two characters)
    with page.expect_navigation(timeout=TIMEOUT):
        box.press("Enter")
    assert path(page) == "/-/search" and query(page).get("q") == ["北京"], page.url
    assert_lang(page, lang)
    assert page.locator("main mark").count(), "no highlighted matches"

    # A result leads to the table filtered by the same search.
    click_and_wait(page, first_link(page, "u.searchParams.get('_search') === '北京'"))
    assert query(page).get("_search") == ["北京"], page.url
    assert_lang(page, lang)
    cells = page.locator("main table tbody tr").all_inner_texts()
    assert cells and all("北京" in row for row in cells), cells[:5]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("start", ["/", "/cn-admin-divisions/streets"])
def test_tab_reaches_skip_link_first_with_visible_focus(visit, lang, start):
    page = visit.page
    visit.goto(start, lang)
    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => {
          const el = document.activeElement, s = getComputedStyle(el), r = el.getBoundingClientRect();
          return {tag: el.tagName, href: el.getAttribute('href'), text: el.textContent.trim(),
                  outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
                  shadow: s.boxShadow !== 'none',
                  visible: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
                           && r.top < innerHeight && r.left < innerWidth && s.visibility !== 'hidden'
                           && s.opacity !== '0'};
        }"""
    )
    assert focused["tag"] == "A" and focused["href"] == "#main", f"first Tab stop: {focused}"
    assert focused["text"], "the skip link has no text"
    assert focused["visible"], f"the focused skip link is not on screen: {focused}"
    assert focused["outline"] or focused["shadow"], f"no visible focus indicator: {focused}"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.closest('#main') !== null"), (
        "skip link does not move focus to main"
    )


@pytest.mark.parametrize("lang", LANGS)
def test_language_switch_and_links_keep_the_language(visit, lang):
    page = visit.page
    other = "zh" if lang == "en" else "en"
    visit.goto(f"/datasets/{DATASET}", lang)
    assert_lang(page, lang)
    switch = page.locator(f'header a[hreflang^="{other}"]')
    assert switch.count(), "no language switch link in the header"
    click_and_wait(page, switch.first)
    assert path(page) == f"/datasets/{DATASET}"
    assert_lang(page, other)
    # Following the site's own links keeps the chosen language: catalogue, then a table.
    click_and_wait(page, first_link(page, "u.pathname === '/datasets'", scope="header"))
    assert_lang(page, other)
    visit.goto(f"/{DATASET}", other)
    click_and_wait(page, first_link(page, f"u.pathname.startsWith('/{DATASET}/') && !/\\.[a-z]+$/.test(u.pathname)"))
    assert_lang(page, other)


@pytest.mark.parametrize("lang", LANGS)
def test_landing_page_download_is_the_published_file(visit, lang):
    """Clicking the resource's download on the dataset page saves the very file published in
    the repository, byte for byte."""
    page = visit.page
    visit.goto(f"/datasets/{DATASET}", lang)
    link = first_link(page, "u.pathname.endsWith('/dist/provinces.csv')", scope="#resource-provinces")
    with page.expect_download(timeout=TIMEOUT) as info:
        link.click()
    download = info.value
    assert download.failure() is None, download.failure()
    published = (REPO / "datasets" / DATASET / "dist" / "provinces.csv").read_bytes()
    assert open(download.path(), "rb").read() == published
    # Chromium saves it under the dataset's and table's titles in the page's language (RFC 6266
    # filename*), the name the server sends, not the file's own `provinces.csv`
    sent = page.request.get(link.evaluate("a => a.href")).headers["content-disposition"]
    expected = parse_options_header(sent)[1]["filename"]
    assert download.suggested_filename == expected and expected.endswith(".csv"), (download.suggested_filename, sent)
    assert expected != "provinces.csv" and (re.search(r"[\u4e00-\u9fff]", expected) is not None) == (lang == "zh")


@pytest.mark.parametrize("lang", LANGS)
def test_copied_curl_example_answers(visit, lang):
    """The curl example shown on the dataset page calls this very site and gets JSON rows."""
    page = visit.page
    visit.goto(f"/datasets/{DATASET}", lang)
    # The examples of each table are a collapsed block: open the first one, as a person would.
    page.locator("details.block:has(pre) > summary").first.click()
    examples = [text for text in page.locator("main pre").all_inner_texts() if "curl" in text]
    assert examples, "no curl example on the dataset page"
    match = re.search(r"https?://[^\s'\"]+", examples[0])
    assert match, examples[0]
    url = match.group(0)
    assert urlsplit(url).netloc == urlsplit(visit.base_url).netloc, f"example calls {url}, not this site"
    response = page.request.get(url)
    assert response.status == 200, url
    body = response.json()
    assert body, url
