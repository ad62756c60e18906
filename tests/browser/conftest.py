"""Real-browser tests: the repository's datasets, built and served by a real server, driven by
Debian's headless Chromium through Playwright.

- One server (`gongkai serve --workers 1` on a free 127.0.0.1 port) and one browser for all
  the browser tests (package scope, see `base_url`); every test gets its own browser context
  and page (fresh cookies and storage).
- Every page's requests are recorded; a request to any host other than 127.0.0.1 fails the
  test (the site must serve all of its CSS/JS itself). Such requests are also aborted, so a
  page never waits on a network that is not there.
- A failing test leaves a full-page screenshot in `tests/_artifacts/<test>.png` (git-ignored).

Playwright is driven with `executable_path` set to the system Chromium: `playwright install`
downloads a browser build of its own, which this project never does. `make browser` (called by
`make test`) installs the Debian packages `chromium` and `fonts-noto-cjk`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from gongkai.bench.serve import free_port, running

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "_artifacts"
CHROMIUM = os.environ.get("GONGKAI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1"}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
MISSING = (
    "the browser tests need Debian's `chromium` (at {path}) and `fonts-noto-cjk`: "
    "run `make browser` as root, or `apt-get install -y --no-install-recommends chromium fonts-noto-cjk`"
)


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "javascript"):
        return True
    return parts.hostname in LOCAL_HOSTS


# --- the site --------------------------------------------------------------------------------


# Package scope, not session: the server and the browser stop as soon as the last browser test
# is done. Playwright's sync API leaves its event loop marked as running in this thread while it
# is started, and every async test of the rest of the suite (pytest-asyncio) would then fail
# with "cannot be called from a running event loop".
@pytest.fixture(scope="package")
def base_url(tmp_path_factory) -> str:
    """The repository's datasets built into a temp folder and served on a free port."""
    from gongkai.build import build_site

    out = tmp_path_factory.mktemp("browser-site")
    result = build_site(REPO, out)
    assert result.ok, [d.report for d in result.datasets if not d.valid]
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "gongkai",
        "serve",
        "--out",
        str(out),
        "--root",
        str(REPO),
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    # The pages' absolute URLs (API examples) come from the configured base URL, never from
    # the request: point it at this server so copied examples answer here.
    previous = os.environ.get("GONGKAI_BASE_URL")
    os.environ["GONGKAI_BASE_URL"] = f"http://127.0.0.1:{port}"
    try:
        # Datasette's own JSON page answers even while a portal page under construction does not.
        with running(cmd, port, "/-/versions.json", out / "server.log") as (url, _pid):
            yield url
    finally:
        if previous is None:
            os.environ.pop("GONGKAI_BASE_URL", None)
        else:
            os.environ["GONGKAI_BASE_URL"] = previous


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(MISSING.format(path=CHROMIUM), pytrace=False)
    if shutil.which("fc-list"):
        fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
        if not fonts.strip():
            pytest.fail(MISSING.format(path=CHROMIUM) + " (no Chinese font found)", pytrace=False)
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    # Playwright gives every launch a fresh temporary user-data dir and removes it on close.
    b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()
        pw.stop()


class Visit:
    """A page plus what it requested. `goto(path, lang=...)` opens a site path in a language."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.requests: list[str] = []
        self.external: list[str] = []
        self.broken: list[str] = []  # sub-resources (CSS, JS, images) that failed

    def url(self, path: str, lang: str = "zh") -> str:
        return self.base_url + with_lang(path, lang)

    def goto(self, path: str, lang: str = "zh", *, status: int | None = 200):
        response = self.page.goto(self.url(path, lang), wait_until="load")
        assert response is not None, path
        if status is not None:
            assert response.status == status, f"{path} ({lang}): HTTP {response.status}"
        self.assert_no_external()
        assert not self.broken, f"{path} ({lang}): sub-resources that failed: {self.broken}"
        return response

    def assert_no_external(self) -> None:
        assert not self.external, f"requests to hosts other than 127.0.0.1: {self.external}"


def with_lang(path: str, lang: str) -> str:
    if lang != "en":
        return path
    return path + ("&" if "?" in path else "?") + "_lang=en"


def _new_visit(browser, base_url: str, viewport: dict) -> Visit:
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    visit = Visit(page, base_url)
    page.on("request", lambda request: visit.requests.append(request.url))

    def check(response):
        if response.status >= 400 and response.request.resource_type != "document":
            visit.broken.append(f"{response.status} {response.url}")

    page.on("response", check)

    def refuse(route):
        visit.external.append(route.request.url)
        route.abort()

    context.route(lambda url: not is_local(url), refuse)
    return visit


@pytest.fixture
def visit(browser, base_url):
    v = _new_visit(browser, base_url, DESKTOP)
    yield v
    v.page.context.close()
    v.assert_no_external()


@pytest.fixture
def phone(browser, base_url):
    v = _new_visit(browser, base_url, PHONE)
    yield v
    v.page.context.close()
    v.assert_no_external()


# --- screenshots of failures -----------------------------------------------------------------


def artifact_path(item) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.\[\]-]+", "_", item.name)
    return ARTIFACTS / f"{name}.png"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call":
        return
    target = artifact_path(item)
    v = item.funcargs.get("visit") or item.funcargs.get("phone")
    if v is None:
        return
    if report.failed:
        try:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            v.page.screenshot(path=str(target), full_page=True, timeout=15_000)
            report.sections.append(("screenshot", str(target)))
        except Exception as e:  # a crashed page must not hide the real failure
            report.sections.append(("screenshot", f"could not take one: {e!r}"))
    elif target.exists():
        target.unlink()  # the folder shows the current failures only
