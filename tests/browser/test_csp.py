"""The site's own pages satisfy its Content-Security-Policy: on every page type, in both
languages, no `securitypolicyviolation` event and no console error; and what the policy could
break still works (forms post only to the site: the search forms submit)."""

from __future__ import annotations

import pytest

from .pages import CASE_IDS, CASES, STATUS

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sample || '')));
"""


@pytest.mark.parametrize("page_id,path,lang", CASES, ids=CASE_IDS)
def test_no_csp_violation_or_console_error(visit, page_id, path, lang):
    errors = []
    visit.page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    visit.page.add_init_script(WATCH)
    response = visit.goto(path, lang, status=STATUS.get(page_id, 200))
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    visit.page.wait_for_timeout(100)
    assert visit.page.evaluate("window.__csp") == [], path
    # A 404 (or 400) page logs the failed document load itself; nothing else may.
    status = STATUS.get(page_id)
    errors = [e for e in errors if not (status and "Failed to load resource" in e and str(status) in e)]
    assert not errors, f"{path} ({lang}): console errors {errors}"


def test_forms_still_submit_under_the_policy(visit):
    visit.page.add_init_script(WATCH)
    visit.goto("/datasets")
    visit.page.fill("#cat-q", "行政区划")
    with visit.page.expect_navigation():
        visit.page.press("#cat-q", "Enter")
    assert "/datasets?" in visit.page.url and "q=" in visit.page.url
    visit.goto("/cn-admin-divisions/streets")
    visit.page.fill("#_search", "朝阳")
    with visit.page.expect_navigation():
        visit.page.press("#_search", "Enter")
    assert "_search=" in visit.page.url
    assert visit.page.evaluate("window.__csp") == []
