"""Issue 21's acceptance: the demo board as a citizen sees it, at 390x844 (phone) and 1366x900.

One build of the demo repository for the module, with its online intake service running
(`letterbox serve-intake --site`, signing with the DEMO intake key). Every page: axe-core WCAG
2.0/2.1 A and AA with no violation of any impact, no console error; write → confirm (the
receipt with the once-only query code in view, saying when the letter can be looked up) → the
new letter looked up with its codes; lookup of a letter in each state the demo holds (received,
classified, escalated, transferred and overdue, answered, closed, withheld, archived, rejected);
search (a citizen's phrase, nonsense); statistics; the redaction of the demo writers' data; the
internal links of every built page; a letter page's first-load weight; the site with JavaScript
off (search, lookup and the form say they need it). Screenshots go to
``build/screenshots/<viewport>/`` of the repository (ignored by git; ``LETTERBOX_SCREENSHOTS``
names another folder) for a person to look at. The form's own checks are tested in
test_write_browser.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.browser.support import (
    axe_script,
    axe_violations,
    demo_copy,
    demo_keys_env,
    launch,
    static_server,
    sync_api,
)
from tests.conftest import GIT_ENV, LETTERBOX_BIN, git, site_texts
from tests.e2e.test_service import Server

ROOT = Path(__file__).resolve().parents[2]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
CODES = json.loads((ROOT / "scripts" / "demo_query_codes.json").read_text("utf-8"))
# A demo letter in each state the demo holds (no 复查复核中 among them) and what its lookup says.
LOOKUPS = {"closed": "LA-2026-00016", "transferred": "LA-2026-00059",
           "withheld": "LA-2026-00018", "rejected": "LA-2026-00011", "archived": "LA-2026-00001",
           "escalated": "LA-2026-00046", "classified": "LA-2026-00056", "answered": "LA-2026-00058",
           "received": "LA-2026-00065"}
REDACTED = "LA-2026-00010"  # its body names its writer and phone: 来信人：〔姓名〕，电话：〔电话〕。
PAGES = ["", "write/", "categories/", "months/", "stats/", "measures/", "search/", "lookup/"]
# What a (fictional) citizen types into the form, one per viewport.
WRITERS = {
    "phone": {"name": "孙立新", "phone": "13800005501", "email": "sunlixin@example.com",
              "address": "安阳市龙安区文明大道示例家园7号楼1单元302室"},
    "desktop": {"name": "郭玉兰", "phone": "0372-0000551", "email": "guoyulan@example.com",
                "address": "安阳市龙安区中州示例苑12号楼3单元501室"},
}


def shots(viewport: str) -> Path:
    folder = Path(os.environ.get("LETTERBOX_SCREENSHOTS") or ROOT / "build" / "screenshots") / viewport
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class Demo:
    repo: Path  # the copy of the demo case repository
    site: Path  # its built board, served at `base`
    base: str
    intake: Server  # its online intake service, whose URL the board's 写信 page posts to


def _private_copy(key: Path, folder: Path) -> Path:
    """ssh-keygen signs only with a key file only its owner reads (git does not keep 0600)."""
    target = folder / key.name
    shutil.copy(key, target)
    target.chmod(0o600)
    return target


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo repository copied, its intake service started (the DEMO intake key; no reading
    key: it seals what it receives), `intake_url` set to it, the board built once."""
    from letterbox.store.repository import Repository
    from site_builder.build import build_site

    tmp = tmp_path_factory.mktemp("demo")
    copy = demo_copy(tmp)
    keys = copy / "demo-keys"
    site = copy / "site"
    site.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in GIT_ENV.items():
            mp.setenv(key, value)
        year = str(datetime.now(ZoneInfo("Asia/Shanghai")).year)  # the demo has 2026's period key only
        if year not in yaml.safe_load((copy / "letterbox.yaml").read_text("utf-8"))["encryption"]["periods"]:
            import subprocess

            subprocess.run([LETTERBOX_BIN, "--repo", str(copy), "period", "new", year], check=True,
                           env={**os.environ, **demo_keys_env(copy),
                                "LETTERBOX_SIGNING_KEY": str(_private_copy(keys / "office-admin", tmp))})
        with static_server(site) as base:
            mp.setenv("LETTERBOX_SIGNING_KEY", str(_private_copy(keys / "intake", tmp)))
            server = Server(copy, "--site", str(site), "--allow-origin", base)
            mp.delenv("LETTERBOX_SIGNING_KEY")
            try:
                config = copy / "letterbox.yaml"
                config.write_text(config.read_text("utf-8") + f"intake_url: {server.url}\n", "utf-8")
                git(copy, "commit", "-q", "-m", "Intake URL", "--", "letterbox.yaml")
                for key, value in demo_keys_env(copy).items():
                    mp.setenv(key, value)
                build_site(Repository(copy), site)
                yield Demo(copy, site, base, server)
            finally:
                server.stop()
    output = server.output()
    assert "Traceback" not in output, output
    for writer in WRITERS.values():  # no personal data in the service's log
        assert not any(value in output for value in writer.values()), output


@pytest.fixture(scope="module")
def demo_site(demo: Demo) -> Path:
    return demo.site


@pytest.fixture(scope="module")
def base(demo: Demo) -> str:
    return demo.base


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
    """A letter page whose letter shows the redaction marks (a person looks at its screenshot)."""
    assert (site / "letters" / REDACTED / "index.html").is_file()
    return f"letters/{REDACTED}/"


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


def index_holds(site: Path, letter_code: str, query_code: str, seconds: float = 60) -> bool:
    """Whether the site's lookup index holds the letter within `seconds` (the intake service
    refreshes it in the background once it has answered: the receipt says 约 1 分钟后)."""
    from site_builder.lookup_index import lookup

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if lookup(site, letter_code, query_code) is not None:
            return True
        time.sleep(0.5)
    return False


def test_write_confirm_then_look_up(view: tuple[str, Any, list[str]], demo: Demo) -> None:
    """写信 → the receipt in view with the once-only query code, saying when the letter can be
    looked up → the new letter looked up with its two codes."""
    from letterbox.core import codes
    from letterbox.store.repository import Repository

    name, page, errors = view
    axe = axe_script()
    writer = WRITERS[name]
    page.goto(f"{demo.base}/write/", wait_until="networkidle")
    page.fill("#w-name", writer["name"])
    page.fill("#w-phone", writer["phone"])
    page.fill("#w-email", writer["email"])
    page.fill("#w-address", writer["address"])
    page.fill("#w-title", "小区门口公交站台顶棚破损")
    page.fill("#w-body", "中州路与文明大道交叉口公交站台的顶棚被大风刮坏，下雨时候车的老人孩子没处避雨，"
                         "请尽快修复。")
    page.check("#w-agree")
    page.screenshot(path=str(shots(name) / "write_filled.png"), full_page=True)
    page.click("#write-submit")
    page.wait_for_selector("#write-receipt:not([hidden])", timeout=30_000)
    page.wait_for_timeout(400)  # the smooth scroll to the receipt
    page.screenshot(path=str(shots(name) / "write_receipt.png"))  # what the writer sees, as is
    height = VIEWPORTS[name]["height"]
    for part in ("#receipt-letter", "#receipt-query"):  # both codes in view, not below the fold
        box = page.locator(part).bounding_box()
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= height, (part, box)
    assert page.evaluate("document.activeElement.id") == "receipt-query"
    receipt = page.inner_text("#write-receipt")
    assert "查询码只在此显示一次" in receipt
    assert "约 1 分钟后，凭信件编码和查询码可在“在线查询”查到" in receipt, receipt
    # whom to call when the code is lost: the office's phone and its full address (the demo's
    # public_contacts: the government's street, the office's room), as the footer says it
    assert "电话 0372-3199001，地址 文明大道1号3楼302室" in page.inner_text("#receipt-lost")
    letter_code = page.inner_text("#receipt-letter").strip()
    query_code = page.inner_text("#receipt-query").strip()
    assert re.fullmatch(r"LA-\d{4}-\d{5}", letter_code) and query_code
    assert axe_violations(page, axe) == []
    stored = Repository(demo.repo).letter(letter_code)  # committed, sealed, the code's hash kept
    salt = yaml.safe_load((demo.repo / "letterbox.yaml").read_text("utf-8"))["query_code"]["salt"]
    assert codes.verify_query_code(query_code, letter_code, salt, stored.data["query_hash"])
    assert index_holds(demo.site, letter_code, query_code), letter_code
    page.click("#receipt-link")
    page.wait_for_url(f"**/lookup/?code={letter_code}")
    assert page.input_value("#letter-code") == letter_code
    page.fill("#query-code", query_code)
    page.click("#lookup-submit")
    page.wait_for_function("() => { const s = document.getElementById('lookup-result')"
                           ".getAttribute('data-status'); return s && s !== 'loading'; }",
                           timeout=20_000)
    result = page.inner_text("#lookup-result")
    page.screenshot(path=str(shots(name) / "lookup_new_letter.png"), full_page=True)
    assert "已收到" in result, result
    assert axe_violations(page, axe) == []
    assert errors == []


def look_up(page: Any, base: str, code: str, query_code: str | None = None) -> str:
    page.goto(f"{base}/lookup/")
    page.fill("#letter-code", code)
    page.fill("#query-code", query_code or CODES[code])
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
                "withheld": "决定不公开", "rejected": "不予受理", "archived": "已归档",
                "escalated": "呈办中", "classified": "已分类", "answered": "已答复待审核",
                "received": "已收到"}
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


def test_home_and_statistics_never_scroll_sideways(view: tuple[str, Any, list[str]], base: str) -> None:
    """On a phone and on a desktop the home page (本月情况) and the statistics fit the screen:
    the page does not scroll sideways and no table sits in a box that does."""
    name, page, _ = view
    for path in ("/", "/stats/"):
        page.goto(f"{base}{path}")
        wide = page.evaluate("""() => {
            const doc = document.documentElement;
            const boxes = [...document.querySelectorAll('article table, .md-typeset__scrollwrap')]
                .filter(e => e.scrollWidth > e.clientWidth + 1)
                .map(e => e.tagName + '.' + e.className + ' ' + e.scrollWidth + '>' + e.clientWidth);
            return {page: doc.scrollWidth - doc.clientWidth, boxes};
        }""")
        assert wide["page"] <= 1 and wide["boxes"] == [], (name, path, wide)
    page.goto(f"{base}/")
    figures = page.inner_text(".home-figures")
    assert "按期办结率" in figures and re.search(r"累计公开\s+\d+ 件", figures)


def test_demo_shows_redaction_and_none_of_its_writers_data(demo: Demo) -> None:
    """The demo letters carry (fictional) writers' names, phones and addresses and others' names
    in their text: the board shows the 〔 〕 marks in their place and none of the data."""
    from letterbox.core import sealing
    from letterbox.store import keys as store_keys
    from letterbox.store.repository import Repository

    ring = sealing.Keyring(((demo.repo / "demo-keys" / "office-admin").read_bytes(),),
                           store_keys.period_keys(demo.repo / "demo-keys" / "period-keys"))
    writers = [sealing.opened(letter.data, letter.code, ring)["writer"]
               for letter in Repository(demo.repo).letters() if letter.code in CODES]
    assert len(writers) == len(CODES)
    texts = site_texts(demo.site)
    squashed = {rel: re.sub(r"[\s\-]", "", text) for rel, text in texts.items()}
    leaks = [f"{rel}: {key}" for w in writers for key in ("name", "phone", "email", "address")
             for rel, text in squashed.items() if re.sub(r"[\s\-]", "", w[key]) in text]
    assert leaks == [], leaks[:10]
    for rel, text in squashed.items():  # the third parties' (fictional) phones too
        assert not re.search(r"1380000\d{4}", text), rel
    letters = {rel: text for rel, text in texts.items() if re.fullmatch(r"letters/LA-[^/]+/index\.html", rel)}
    marked = {mark: sum(mark in text for text in letters.values()) for mark in ("〔姓名〕", "〔电话〕", "〔地址〕")}
    assert min(marked.values()) >= 3, marked
    page = letters[f"letters/{REDACTED}/index.html"]
    assert "来信人：〔姓名〕，电话：〔电话〕。" in page
    named = re.findall(r"(?:物业经理|工地负责人|包工头|市场管理员|楼长)(.)", "".join(letters.values()))
    assert named and set(named) == {"〔"}, named  # a manager's name masked (〔姓名〕 or 〔已隐去〕)


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
    page.goto(f"{base}/write/")
    assert "在线写信需要启用浏览器的 JavaScript" in page.inner_text("article")
    page.screenshot(path=str(shots("nojs") / "write.png"), full_page=True)
    page.goto(f"{base}/stats/")
    assert page.locator("svg.chart").count() == 3
    context.close()
