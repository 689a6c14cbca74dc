"""The web viewer in a real browser: Debian's chromium, driven by Playwright.

Each page loads without errors; the filters and the search work from the form; a diff
marks the changed words; a citable link leads to its version; raw pages run no script and
load nothing. Every request the browser makes is watched: only the viewer on 127.0.0.1 is
let through, anything else is aborted before it leaves and fails the test.

Playwright never downloads a browser here: it launches the system chromium by its path
(`.ci/run` installs the Debian package when it is missing). Without chromium or Playwright
these tests are skipped with the reason.

    KISI_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/test_web_browser.py

also saves screenshots of the main pages (the README's and docs/web.md's).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

from conftest import EDITED, REMOVED, SCRIPTED, Served, WebArchive

pytestmark = pytest.mark.e2e

# Headless, and quiet on the network: without the background-networking flags chromium
# reaches for update, safe-browsing and sync servers. Any host name but 127.0.0.1 fails to
# resolve, as a second fence behind the request guard below.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
SHOTS = os.environ.get("KISI_SCREENSHOTS")


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed: pip install -e '.[test]'")
    path = chromium_path()
    if path is None:
        pytest.skip("Debian's chromium is not installed: apt-get install chromium (.ci/run does it)")
    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh temporary profile (--user-data-dir) of its own.
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watch:
    """The requests a page sent, those aborted for leaving the viewer, and its errors.

    A request the page's CSP refuses is reported by Playwright too (and fails with "csp"):
    the browser never sent it, so it is not in `requests`.
    """

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.requests: list[str] = []  # sent: answered, or failed for another reason than the CSP
        self.blocked: list[str] = []
        self.errors: list[str] = []

    def guard(self, route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if url.startswith(("data:", "about:")) or f"{parts.scheme}://{parts.netloc}" == self.origin:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def console(self, message: Any) -> None:
        location = (message.location or {}).get("url", "")
        # The raw page's own refusals (CSP, sandbox) are the sandbox at work, not errors of the viewer.
        if message.type == "error" and not location.endswith("/raw"):
            self.errors.append(f"{location}: {message.text}")


@pytest.fixture
def page(browser: Any, viewer: Served) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=viewer.url)
    watch = Watch(viewer.url)
    context.route("**/*", watch.guard)
    context.on("requestfinished", lambda request: watch.requests.append(request.url))
    context.on("requestfailed", lambda request: None if request.failure == "csp" else watch.requests.append(request.url))
    page = context.new_page()
    page.on("console", watch.console)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.watch = watch
    yield page
    context.close()
    assert watch.blocked == [], f"requests that would have left the viewer: {watch.blocked}"
    assert watch.errors == [], f"errors in the pages: {watch.errors}"


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def test_each_page_loads(page: Any, web_archive: WebArchive) -> None:
    doc = web_archive.doc(EDITED)
    for path, heading in (("/", "Documents"), ("/search", "Search"), ("/changes", "Changes"),
                          (f"/doc/{doc}", "A seminar on the digital transformation"),
                          (f"/doc/{doc}/v1", "A seminar on digital transformation"),
                          (f"/doc/{doc}/diff", "v1 → v2"), (f"/doc/{web_archive.doc(REMOVED)}", "Central Asian")):
        response = page.goto(path)
        assert response.status == 200, path
        assert heading in page.locator("h1").inner_text(), path
    assert page.locator("p.tombstone").is_visible()
    page.goto("/changes")
    shot(page, "changes")


def test_filters_narrow_the_listing(page: Any) -> None:
    page.goto("/")
    total = int(page.locator("h1 .muted").inner_text())
    russian = int(page.locator('.count[data-lang="ru"]').inner_text())
    page.get_by_label("Русский").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"lang=ru"))
    assert int(page.locator("h1 .muted").inner_text()) == russian < total
    languages = page.locator("table.docs tbody tr td:nth-child(2)").all_inner_texts()
    assert languages and set(languages) == {"ru"}
    page.get_by_label("Русский").uncheck()
    page.get_by_label("removed").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"removed=1"))
    assert page.locator("table.docs tbody tr").count() == 1 and page.locator(".badge.removed").count() == 1
    page.goto("/?groups=1")
    assert page.locator("table.groups th").all_inner_texts()[:3] == ["English", "Русский", "Қазақша"]
    shot(page, "groups")
    page.goto("/")
    shot(page, "documents")


def test_search_highlights_the_matches(page: Any) -> None:
    page.goto("/")
    page.get_by_label("Search the archive").fill("experts")
    page.get_by_label("Search the archive").press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=experts"))
    marks = page.locator("ol.hits mark").all_inner_texts()
    assert marks and {m.lower() for m in marks} == {"experts"}
    shot(page, "search")
    # Russian, inflected: the stem finds экспертами, эксперты…
    page.get_by_label("Query").fill("экспертами")
    page.get_by_label("match inflected forms (stem)").check()
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"stem=1"))
    assert all(m.lower().startswith("эксперт") for m in page.locator("ol.hits mark").all_inner_texts())
    assert page.locator("ol.hits li").count() >= 1
    # A URL of a post goes to its document.
    page.get_by_label("Query").fill(page.locator("ol.hits .url").first.inner_text())
    page.get_by_label("Query").press("Enter")
    page.wait_for_url(re.compile(r"/doc/"))


def test_a_diff_marks_the_changed_words(page: Any, web_archive: WebArchive) -> None:
    page.goto(f"/doc/{web_archive.doc(EDITED)}")
    page.get_by_role("link", name="what changed").first.click()
    page.wait_for_url(re.compile(r"/diff\?from=1&to=2"))
    assert "seminar" in page.locator("table.side td.del del").all_inner_texts()
    assert "workshop" in page.locator("table.side td.ins ins").all_inner_texts()
    assert page.locator("table.fields-diff tr[data-field=tags] ins").inner_text() == "e-government"
    assert page.locator("table.fields-diff tr[data-field=title]").is_visible()
    shot(page, "diff")
    page.get_by_label("inline").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"view=inline"))
    assert "workshop" in page.locator(".inline p.ins ins").all_inner_texts()


def test_a_citable_link_leads_to_its_version(page: Any, web_archive: WebArchive, viewer: Served) -> None:
    doc = web_archive.doc(EDITED)
    page.goto(f"/doc/{doc}")
    page.locator("ol.timeline a.v", has_text="v1").click()
    page.wait_for_url(f"{viewer.url}/doc/{doc}/v1")
    citable = page.locator("a.citable")
    assert citable.get_attribute("href") == f"{viewer.url}/doc/{doc}/v1"
    assert f"url = {{{viewer.url}/doc/{doc}/v1}}" in page.locator("#cite-bibtex").input_value()
    assert f"{viewer.url}/doc/{doc}/v1" in page.locator("#cite-text").input_value()
    assert page.locator("button.copy").first.is_visible()  # the one script of the viewer ran
    shot(page, "version")
    page.get_by_role("link", name="v2 →").click()
    page.wait_for_url(f"{viewer.url}/doc/{doc}/v2")
    citable.click()
    page.wait_for_url(f"{viewer.url}/doc/{doc}/v2")
    assert "version 2 of 2" in page.locator("nav.versions").inner_text()


def test_raw_pages_run_no_script_and_load_nothing(page: Any, web_archive: WebArchive, viewer: Served) -> None:
    doc = web_archive.doc(SCRIPTED)
    page.goto(f"/doc/{doc}/v2")
    frame = page.frame_locator("#raw-frame")
    frame.locator("body").wait_for()
    assert "Registration is open." in frame.locator("body").inner_text()  # the archived page is there…
    assert frame.locator("html").get_attribute("data-pwned") is None  # …and its script did not run
    assert page.title() != "pwned"
    raw = page.frame(url=re.compile(r"/raw$"))
    assert raw is not None and raw.title() != "pwned"
    # Opened on its own, the raw page is sandboxed by its CSP header just the same.
    page.goto(f"/doc/{doc}/v2/raw")
    assert page.locator("html").get_attribute("data-pwned") is None and page.title() != "pwned"
    # It asked for nothing: not the site's scripts and styles (on another port of 127.0.0.1), not the web.
    site = web_archive.site.url
    assert not [url for url in page.watch.requests if url.startswith(site)]
    assert all(url.startswith(viewer.url) for url in page.watch.requests)
