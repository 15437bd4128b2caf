"""The lookup page in a real browser (headless Debian chromium through Playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.support import launch, static_server, sync_api
from tests.e2e.test_lookup import cases, site  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:  # noqa: F811
    with static_server(site) as url:
        yield url + "/"


@pytest.fixture(scope="module")
def page(base_url: str) -> Iterator[object]:
    with sync_api().sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(locale="zh-CN")
        remote: list[str] = []
        context.on("request", lambda r: remote.append(r.url) if not r.url.startswith(base_url) else None)
        yield context.new_page()
        browser.close()
        assert remote == [], remote


def look_up(page, base_url: str, letter: str, query: str, path: str = "lookup/") -> str:
    page.goto(base_url + path)
    if letter is not None:
        page.fill("#letter-code", letter)
    page.fill("#query-code", query)
    page.click("#lookup-submit")
    page.wait_for_function("() => { const s = document.getElementById('lookup-result')"
                           ".getAttribute('data-status'); return s && s !== 'loading'; }",
                           timeout=20_000)
    return page.get_attribute("#lookup-result", "data-status")


def test_right_codes_show_status_and_timeline(page, base_url: str, cases) -> None:  # noqa: F811
    _, codes = cases
    assert look_up(page, base_url, *codes["heat"]) == "closed"
    text = page.inner_text("#lookup-result")
    assert "已办结" in text and "2026年1月5日" in text and "收信" in text
    assert page.locator(".lookup-timeline li").count() >= 4
    page.click("#lookup-result a")
    page.wait_for_url(f"**/letters/{codes['heat'][0]}/")
    assert look_up(page, base_url, *codes["open"]) == "transferred"
    assert "已同意延期" in page.inner_text("#lookup-result")
    # its deadline (2026) is past: a red 已逾期 badge with the days, the next step, whom to call
    badges = page.locator(".lookup-badge").all_inner_texts()
    assert badges[0] == "转办中" and badges[1].startswith("已逾期 "), badges
    assert page.locator(".lookup-badge--overdue, .lookup-badge--overdue-days").count() == 2
    assert "已超过办理期限" in page.inner_text(".lookup-next")
    assert "区信息中心" in page.inner_text(".lookup-contact") and "0372-3199001" in page.inner_text(".lookup-contact")
    assert page.eval_on_selector(".lookup-table th", "e => getComputedStyle(e).borderTopStyle") == "solid"
    assert look_up(page, base_url, *codes["follow"]) == "rejected"
    assert "纯属个人之间恩怨纠纷" in page.inner_text("#lookup-result")
    assert page.locator(".lookup-badge").all_inner_texts() == ["不予受理"]  # closed: never overdue
    assert "下一步：" in page.inner_text(".lookup-next")


def test_lowercase_without_dashes(page, base_url: str, cases) -> None:  # noqa: F811
    _, codes = cases
    letter, query = codes["road"]
    assert look_up(page, base_url, f" {letter.lower().replace('-', '')} ",
                   query.lower().replace("-", "") + " ") == "closed"


def test_wrong_codes_are_not_found(page, base_url: str, cases) -> None:  # noqa: F811
    _, codes = cases
    letter, query = codes["heat"]
    for pair in ((letter, codes["road"][1]), (codes["road"][0], query), ("LA-2026-00999", query),
                 (letter, query[:-1]), ("not a code", "!!!")):
        assert look_up(page, base_url, *pair) == "not-found"
        assert "未找到" in page.inner_text("#lookup-result")


def test_code_parameter_prefills(page, base_url: str, cases) -> None:  # noqa: F811
    _, codes = cases
    letter, query = codes["follow"]
    assert look_up(page, base_url, None, query, f"lookup/?code={letter}") == "rejected"
    assert page.input_value("#letter-code") == letter


def test_linked_from_every_page(page, base_url: str) -> None:
    for path in ("", "stats/", "measures/"):
        page.goto(base_url + path)
        assert page.locator("a[href$='lookup/']").count() >= 1


def test_notices_shown_in_full_also_for_a_withheld_letter(page, base_url: str, cases) -> None:  # noqa: F811
    _, codes = cases
    assert look_up(page, base_url, *codes["road"]) == "closed"  # withheld (art. 13): no public page
    text = page.inner_text("#lookup-result")
    assert "告知书" in text and "答复意见书" in text and "路灯维修已列入本周计划。" in text
    assert page.locator(".lookup-notice").count() == 1
    assert look_up(page, base_url, *codes["open"]) == "transferred"
    text = page.inner_text("#lookup-result")
    assert "延期告知书" in text and "因需要协调电梯维保单位" in text
