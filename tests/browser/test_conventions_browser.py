"""The board's conventions in headless chromium, on a phone (390x844) and a desktop (1366x900):
我要写信 / 我要查询 in view on the home page, the footer from the configuration, the Chinese 404
page served by `letterbox serve`'s handler, and with JavaScript off the form and the lookup say
that they need it."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from tests.browser.support import launch, sync_api
from tests.conftest import Repo

VIEWPORTS = [(390, 844), (1366, 900)]


@pytest.fixture()
def board(case_repo: Repo, tmp_path: Path):  # type: ignore[no-untyped-def]
    from letterbox.cli.site import board_handler

    config = case_repo.path / "letterbox.yaml"
    config.write_text(config.read_text("utf-8") + "intake_url: http://127.0.0.1:9/\n", "utf-8")
    case_repo.commit_all("Intake URL")
    case_repo.run("build")
    site = case_repo.path / "site"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), board_handler(site, "default-src 'self'"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_home_actions_footer_and_404(board: str, tmp_path: Path, width: int, height: int) -> None:
    playwright = sync_api()
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height}).new_page()
        page.goto(board + "/")
        for name, href in (("我要写信", "write/"), ("我要查询", "lookup/")):
            link = page.get_by_role("link", name=name, exact=True)
            assert link.get_attribute("href") == href
            box = link.bounding_box()  # in the first screen, not behind the ☰ menu
            assert box is not None and box["y"] + box["height"] <= height, (name, box)
        footer = page.locator(".board-footer").inner_text()
        assert "主办单位：" in footer and "联系电话：0372-3199001" in footer and "区信息中心" in footer
        page.screenshot(path=str(tmp_path / f"home-{width}.png"))
        page.get_by_role("link", name="我要查询", exact=True).click()
        page.wait_for_url("**/lookup/")
        answer = page.goto(board + "/letters/LA-2026-09999/")
        assert answer is not None and answer.status == 404
        assert page.title().startswith("页面不存在（404）")
        assert "返回首页" in page.locator("article").inner_text()
        page.get_by_role("link", name="返回首页").click()
        page.wait_for_url(board + "/")
        browser.close()


def test_without_javascript_the_form_and_lookup_say_so(board: str) -> None:
    playwright = sync_api()
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_context(locale="zh-CN", java_script_enabled=False,
                                   viewport={"width": 390, "height": 844}).new_page()
        for path, words in (("/write/", "在线写信需要启用浏览器的 JavaScript"),
                            ("/lookup/", "在线查询需要启用浏览器的 JavaScript")):
            page.goto(board + path)
            assert words in page.locator("article").inner_text(), path
        page.goto(board + "/")
        assert page.get_by_role("link", name="我要写信", exact=True).is_visible()  # the rest works
        browser.close()
