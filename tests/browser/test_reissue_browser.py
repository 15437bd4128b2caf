"""Issue 22, done when: a reissue, then a lookup in a real browser (headless Debian chromium
through Playwright) with the new code succeeding and the old one failing; the lookup page and
the 写信 receipt say what to do when the code is lost."""

from __future__ import annotations

import json

from tests.browser.support import launch, static_server, sync_api
from tests.browser.test_lookup_browser import look_up
from tests.conftest import Repo, submission


def test_reissued_code_works_and_the_old_one_does_not(case_repo: Repo) -> None:
    config = case_repo.path / "letterbox.yaml"
    config.write_text(config.read_text("utf-8") + "intake_url: https://xzxx.example.gov.cn/\n", "utf-8")
    case_repo.commit_all("intake_url")
    accepted = case_repo.intake(submission(1), name="s1.json")[0]
    letter, old = accepted["letter_code"], accepted["query_code"]
    case_repo.run("build")
    site = case_repo.path / "site"
    with static_server(site) as url, sync_api().sync_playwright() as p:
        browser = launch(p)
        page = browser.new_context(locale="zh-CN").new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        base = url + "/"
        assert look_up(page, base, letter, old) == "received"
        lost = page.inner_text("#lost-code")
        assert "查询码遗失" in lost and "区信息中心" in lost and "0372-3199001" in lost
        new = json.loads(case_repo.run("reissue", letter, "--verified-by", "电话核实", "--verifier", "王静",
                                       "--json").stdout)["query_code"]
        assert look_up(page, base, letter, old) == "not-found"
        assert look_up(page, base, letter, new) == "received"
        assert "查询码已重新发放" in page.inner_text("#lookup-result")
        page.goto(base + "write/")
        # the receipt (shown once a letter is sent) says it too
        note = page.locator("#write-receipt #receipt-lost")
        assert "重新发放查询码" in note.text_content() and "0372-3199001" in note.text_content()
        assert not note.is_visible()  # hidden until a letter is sent
        browser.close()
    assert errors == []
