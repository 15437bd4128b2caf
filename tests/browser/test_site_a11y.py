"""Accessibility of the board's own pages: axe-core (WCAG 2.1 A/AA rules) in headless chromium.

axe-core is the `axe.min.js` bundled in the PyPI package axe-playwright-python (pinned in the
test extras of pyproject.toml, so CI installs it with everything else; no npm, nothing fetched at
test time), injected into each page with Playwright (tests/browser/support.axe_violations).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from site_builder.render import SEARCH_INPUT, SEARCH_PAGE, SEARCH_RESULT
from tests.browser.support import axe_script, axe_violations
from tests.browser.test_site_browser import ARGS, CHROMIUM, base_url  # noqa: F401  (fixtures)
from tests.e2e.test_site import LETTERS, letter_codes, repo, site  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def axe_js() -> Path:
    return axe_script()


@pytest.fixture(scope="module")
def page(base_url: str) -> Iterator[Any]:  # noqa: F811
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        # axe-core is injected as an inline script: the tester's, not the site's, so the pages'
        # Content-Security-Policy is bypassed for it (test_takedown_csp_browser holds the policy)
        context = browser.new_context(locale="zh-CN", bypass_csp=True)
        yield context.new_page()
        context.close()
        browser.close()


def violations(page: Any, axe_js: Path) -> list[str]:
    return axe_violations(page, axe_js, impacts={"serious", "critical"})


def pages(repo: Path) -> list[str]:  # noqa: F811
    code = letter_codes(repo)[LETTERS["heat"][0]]
    return ["", f"letters/{code}/", "categories/", "categories/complaint/", "months/",
            "months/2026-01/", "stats/", "measures/", "lookup/", SEARCH_PAGE]


def test_pages_have_no_serious_violations(page: Any, base_url: str, repo: Path, axe_js: Path) -> None:  # noqa: F811
    problems = {}
    for url in pages(repo):
        page.goto(base_url + url, wait_until="networkidle")
        if found := violations(page, axe_js):
            problems[url or "/"] = found
    assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)


def test_search_results_and_lookup_answer_pass_too(page: Any, base_url: str, axe_js: Path) -> None:  # noqa: F811
    page.goto(base_url + SEARCH_PAGE, wait_until="networkidle")
    page.locator(SEARCH_INPUT).fill("供暖")
    page.locator(SEARCH_INPUT).press("Enter")
    page.locator(SEARCH_RESULT).first.wait_for(timeout=15000)
    assert violations(page, axe_js) == []
    page.goto(base_url + "lookup/", wait_until="networkidle")
    page.fill("#letter-code", "LA-2026-00001")
    page.fill("#query-code", "2222-2222-2222")
    page.click("#lookup-submit")
    page.wait_for_function("document.querySelector('#lookup-result').textContent.length > 0"
                           " && !document.querySelector('#lookup-submit').disabled", timeout=60000)
    assert violations(page, axe_js) == []


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_keyboard_only_search(page: Any, base_url: str, repo: Path) -> None:  # noqa: F811
    code = letter_codes(repo)[LETTERS["heat"][0]]
    page.goto(base_url, wait_until="networkidle")
    _tab_to(page, f"a[href$='{SEARCH_PAGE}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/{SEARCH_PAGE}")
    _tab_to(page, SEARCH_INPUT)
    page.keyboard.type("供暖")
    page.keyboard.press("Enter")
    page.locator(SEARCH_RESULT).first.wait_for(timeout=15000)
    _tab_to(page, f"{SEARCH_RESULT}[href*='{code}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/letters/{code}/")
    outline = page.evaluate("getComputedStyle(document.querySelector('a')).outlineStyle")
    assert outline is not None


def test_charts_have_text_alternatives(page: Any, base_url: str) -> None:  # noqa: F811
    page.goto(base_url + "stats/", wait_until="networkidle")
    charts = page.locator("svg.chart")
    assert charts.count() == 3
    for i in range(charts.count()):
        chart = charts.nth(i)
        assert chart.get_attribute("role") == "img"
        label = chart.get_attribute("aria-label") or ""
        assert "：" in label and label == chart.locator("title").text_content()
    assert "区住房和城乡建设局 100%（2 封中 2 封）" in (charts.nth(1).get_attribute("aria-label") or "")
    assert page.locator("script[src^='http'], script[src^='//']").count() == 0
