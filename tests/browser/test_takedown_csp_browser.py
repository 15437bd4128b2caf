"""A takedown end to end in chromium, and the Content-Security-Policy holding on every kind of
page: no violation on the home, a letter, the search and the lookup page, which still work."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from letterbox.cli.site import board_handler
from site_builder.render import SEARCH_RESULT
from tests.browser.support import launch, sync_api
from tests.conftest import Repo, make_case_repo, submission

A, B = "LA-2026-00001", "LA-2026-00002"


def at(day: int, hour: int) -> str:
    return f"2026-03-{day:02d}T{hour:02d}:00:00+08:00"


@contextlib.contextmanager
def board_server(directory: Path) -> Iterator[str]:
    """The board as `letterbox serve` and the nginx sample serve it (a missing page gets the
    site's 404 page, status 404), without the policy header: the pages' <meta> policy alone
    must hold."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), board_handler(directory, ""))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Repo, str, dict[str, str]]]:
    patch = pytest.MonkeyPatch()
    repo = make_case_repo(tmp_path_factory.mktemp("takedown"), patch)
    accepted = repo.intake(
        submission(1, title="幸福小区供暖温度不达标", body="幸福小区今年冬天供暖温度只有十五度，请督促供热公司。"),
        submission(2, title="中州路路灯损坏", body="中州路路灯坏了两周，夜间出行不便。"))
    for code, text in ((A, "已责成供热公司整改，室温已达十八度。"), (B, "路灯已修复。")):
        repo.run("classify", code, "--category", "complaint", "--at", at(2, 10))
        repo.run("reply", code, "--text", text, "--at", at(2, 11))
    repo.run("publish", A, "--at", at(3, 9))
    repo.run("build")
    codes = {a["letter_code"]: a["query_code"] for a in accepted}
    with board_server(repo.path / "site") as url:
        yield repo, url, codes
    patch.undo()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api().sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


def watched(browser: Any) -> tuple[Any, list[str]]:
    """A new page and the console's errors (a CSP violation is one) and uncaught exceptions."""
    page = browser.new_context(locale="zh-CN").new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page, problems


def search(page: Any, url: str, words: str) -> str:
    page.goto(f"{url}/search/?q={words}")
    page.wait_for_function("() => { const s = document.getElementById('search-status').textContent;"
                           " return s && s !== '正在搜索……'; }", timeout=20_000)
    return page.locator("#search-status").inner_text()


def test_no_policy_violation_and_everything_works(board: tuple[Repo, str, dict[str, str]],
                                                  browser: Any) -> None:
    repo, url, codes = board
    page, problems = watched(browser)
    for path in ("/", f"/letters/{A}/", "/stats/", "/measures/"):
        response = page.goto(url + path)
        assert response.status == 200
        policy = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
        assert "script-src 'self' 'wasm-unsafe-eval'" in policy
    page.goto(f"{url}/letters/{A}/")
    assert "十八度" in page.locator("article").inner_text()
    assert "找到 1 封来信" in search(page, url, "供暖")
    assert page.locator(SEARCH_RESULT).first.get_attribute("href").endswith(f"/letters/{A}/")
    page.goto(f"{url}/lookup/")
    page.fill("#letter-code", A)
    page.fill("#query-code", codes[A])
    page.click("#lookup-submit")
    page.wait_for_function("() => { const s = document.getElementById('lookup-result')"
                           ".getAttribute('data-status'); return s && s !== 'loading'; }",
                           timeout=20_000)
    assert page.get_attribute("#lookup-result", "data-status") == "closed"
    assert page.locator("#lookup-result a").count() == 1  # the link to the published page
    assert problems == [], problems


def test_takedown_then_rebuild(board: tuple[Repo, str, dict[str, str]], browser: Any) -> None:
    repo, url, codes = board
    page, problems = watched(browser)
    assert page.goto(f"{url}/letters/{A}/").status == 200
    repo.run("unpublish", A, "--reason", "页面可能暴露他人信息，先撤下核实", "--as", "信息中心刘主任",
             "--at", at(3, 10))
    repo.run("build")
    response = page.goto(f"{url}/letters/{A}/")
    assert response.status == 404
    assert "404" in page.title() or "404" in page.locator("article").inner_text()
    assert page.locator('meta[http-equiv="Content-Security-Policy"]').count() == 1
    assert "没有找到" in search(page, url, "供暖")
    assert "找到 1 封来信" in search(page, url, "路灯")  # the rest of the board is still there
    page.goto(f"{url}/lookup/")
    page.fill("#letter-code", A)
    page.fill("#query-code", codes[A])
    page.click("#lookup-submit")
    page.wait_for_function("() => { const s = document.getElementById('lookup-result')"
                           ".getAttribute('data-status'); return s && s !== 'loading'; }",
                           timeout=20_000)
    assert page.get_attribute("#lookup-result", "data-status") == "closed"  # still the status
    assert page.locator("#lookup-result a").count() == 0  # but no link
    assert "公开页面已撤下" in page.inner_text("#lookup-result")
    assert [p for p in problems if "404" not in p] == [], problems
