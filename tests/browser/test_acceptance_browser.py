"""Issue 21's acceptance: the demo board as a citizen sees it, at 390x844 (phone) and 1366x900.

One build of the demo repository for the module. Every page: axe-core WCAG 2.0/2.1 A and AA
with no violation of any impact, no console error; lookup of letters in several states
(closed, transferred and overdue, withheld, rejected); search (a citizen's phrase, nonsense);
statistics; the internal links of every built page; a letter page's first-load weight; the site
with JavaScript off. Screenshots go to ``build/screenshots/<viewport>/`` of the repository
(ignored by git; ``LETTERBOX_SCREENSHOTS`` names another folder) for a person to look at.
The form (写信 → receipt in view) is tested against a real intake service in
test_write_browser.py.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.browser.support import axe_script, axe_violations, launch, static_server, sync_api
from tests.browser.test_search_browser import demo_site  # noqa: F401  (fixture: one build)

ROOT = Path(__file__).resolve().parents[2]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
CODES = json.loads((ROOT / "scripts" / "demo_query_codes.json").read_text("utf-8"))
LOOKUPS = {"closed": "LA-2026-00016", "transferred": "LA-2026-00059",
           "withheld": "LA-2026-00018", "rejected": "LA-2026-00011"}
PAGES = ["", "categories/", "months/", "stats/", "measures/", "search/", "lookup/"]


def shots(viewport: str) -> Path:
    folder = Path(os.environ.get("LETTERBOX_SCREENSHOTS") or ROOT / "build" / "screenshots") / viewport
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def base(demo_site: Path) -> Iterator[str]:  # noqa: F811
    with static_server(demo_site) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api().sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(params=list(VIEWPORTS))
def view(request: pytest.FixtureRequest, browser: Any) -> Iterator[tuple[str, Any, list[str]]]:
    """(viewport name, page, console errors); the context bypasses CSP only to inject axe."""
    context = browser.new_context(locale="zh-CN", viewport=VIEWPORTS[request.param], bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    yield request.param, page, errors
    context.close()


def letter_url(site: Path) -> str:
    return "letters/" + sorted(p.name for p in (site / "letters").iterdir() if p.name.startswith("LA-"))[0] + "/"


def test_pages_are_accessible_without_console_errors(view: tuple[str, Any, list[str]], base: str,
                                                     demo_site: Path) -> None:  # noqa: F811
    name, page, errors = view
    axe = axe_script()
    problems = {}
    for url in [*PAGES, letter_url(demo_site)]:
        page.goto(base + "/" + url, wait_until="networkidle")
        page.screenshot(path=str(shots(name) / f"{url.strip('/').replace('/', '_') or 'home'}.png"),
                        full_page=True)
        if found := axe_violations(page, axe):
            problems[url or "/"] = found
    assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)
    assert errors == []


def look_up(page: Any, base: str, code: str) -> str:
    page.goto(f"{base}/lookup/")
    page.fill("#letter-code", code)
    page.fill("#query-code", CODES[code])
    page.click("#lookup-submit")
    page.wait_for_function("() => { const s = document.getElementById('lookup-result')"
                           ".getAttribute('data-status'); return s && s !== 'loading'; }",
                           timeout=20_000)
    return page.inner_text("#lookup-result")


def test_lookup_every_status(view: tuple[str, Any, list[str]], base: str) -> None:
    name, page, errors = view
    axe = axe_script()
    texts = {}
    for kind, code in LOOKUPS.items():
        texts[kind] = look_up(page, base, code)
        page.screenshot(path=str(shots(name) / f"lookup_{kind}.png"), full_page=True)
        assert axe_violations(page, axe) == [], kind
    expected = {"closed": "已办结", "transferred": "已逾期",  # due 2026-11-10, looked up later
                "withheld": "决定不公开", "rejected": "不予受理"}
    missing = {kind: texts[kind] for kind, word in expected.items() if word not in texts[kind]}
    assert missing == {}, json.dumps(missing, ensure_ascii=False, indent=1)
    assert errors == []


def search(page: Any, base: str, query: str) -> tuple[str, list[str], list[str]]:
    page.goto(f"{base}/search/?q={query}")
    page.wait_for_function("() => { const t = document.getElementById('search-status').textContent;"
                           " return t && !t.includes('正在搜索'); }", timeout=20_000)
    links = page.locator("a.search-result-link")
    return (page.inner_text("#search-status"),
            sorted(links.nth(i).get_attribute("href") or "" for i in range(links.count())),
            page.locator(".search-result-excerpt").all_inner_texts())


def test_search_phrases_and_nonsense(view: tuple[str, Any, list[str]], base: str) -> None:
    name, page, errors = view
    _, parking, _ = search(page, base, "停车")
    assert len(parking) == 3
    status, hard, excerpts = search(page, base, "停车难")
    page.screenshot(path=str(shots(name) / "search_phrase.png"), full_page=True)
    assert hard == parking, status
    for text in excerpts:  # a sentence of the letter, not the code, facts or section names
        assert "停车" in text and not re.search(r"LA-\d{4}|来信内容|答复\.|\. ", text), text
        assert text.endswith(("。", "！", "？", "；", "……")), text
    status, none, _ = search(page, base, "量子纠缠火星")
    page.screenshot(path=str(shots(name) / "search_nonsense.png"), full_page=True)
    assert none == [] and "没有找到" in status
    assert errors == []


def test_statistics_read_plainly(view: tuple[str, Any, list[str]], base: str, demo_site: Path) -> None:  # noqa: F811
    name, page, _ = view
    page.goto(f"{base}/stats/")
    text = page.inner_text("article")
    for jargon in ("letterbox", "百分位"):
        assert jargon not in text
    assert not re.search(r"(?<![\d.])0 个工作日", text)
    assert re.search(r"\d+(\.\d+)?%（\d+ 封中 \d+ 封）", text)
    months = [r["key"] for r in json.loads((demo_site / "stats" / "stats.json").read_text("utf-8"))["month"]]
    expected, (y, m) = [], map(int, months[0].split("-"))
    while f"{y:04d}-{m:02d}" <= months[-1]:
        expected.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    assert months == expected  # no month skipped
    # every chart label at least 12 CSS pixels as drawn (the SVG may be scaled to the screen)
    sizes = page.evaluate("""() => [...document.querySelectorAll('svg.chart text')].map(t => {
        const svg = t.ownerSVGElement; const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return parseFloat(getComputedStyle(t).fontSize) * scale; })""")
    assert sizes and min(sizes) >= 12, min(sizes)


def test_no_broken_internal_links(demo_site: Path) -> None:  # noqa: F811
    broken = []
    for html in demo_site.rglob("*.html"):
        rel = html.relative_to(demo_site)
        if rel.parts[0].startswith("pagefind"):
            continue
        for href in re.findall(r'(?:href|src)="([^"#?]*)', html.read_text("utf-8")):
            if not href or re.match(r"[a-z]+:", href):
                continue
            target = (demo_site / unquote(urlsplit(href).path.lstrip("/")) if href.startswith("/")
                      else html.parent / unquote(href))
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{rel}: {href}")
    assert broken == [], broken[:20]


def test_letter_page_first_load_under_300_kb(browser: Any, base: str, demo_site: Path) -> None:  # noqa: F811
    context = browser.new_context(locale="zh-CN", viewport=VIEWPORTS["phone"])
    page = context.new_page()
    sizes: list[int] = []
    page.on("requestfinished", lambda r: sizes.append(r.sizes()["responseBodySize"]
                                                       + r.sizes()["responseHeadersSize"]))
    page.goto(f"{base}/{letter_url(demo_site)}", wait_until="networkidle")
    context.close()
    assert sum(sizes) < 300_000, sum(sizes)


def test_without_javascript(browser: Any, base: str, demo_site: Path) -> None:  # noqa: F811
    context = browser.new_context(locale="zh-CN", viewport=VIEWPORTS["phone"], java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/{letter_url(demo_site)}")
    assert page.locator("h1").first.is_visible()
    page.goto(f"{base}/search/")
    text = page.inner_text("article")
    assert "搜索需要浏览器启用 JavaScript" in text and "](" not in text
    page.screenshot(path=str(shots("nojs") / "search.png"), full_page=True)
    page.goto(f"{base}/lookup/")
    assert "JavaScript" in page.inner_text("article")
    page.screenshot(path=str(shots("nojs") / "lookup.png"), full_page=True)
    page.goto(f"{base}/stats/")
    assert page.locator("svg.chart").count() == 3
    context.close()
