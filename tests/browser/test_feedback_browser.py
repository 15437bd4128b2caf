"""The rating form of the lookup page (issue 8, item 4) in headless chromium, against the real
intake service (`letterbox serve-intake` on loopback) and a real built site."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import launch, static_server, sync_api
from tests.conftest import Repo, commit_count, porcelain
from tests.e2e.test_service import close, serving, web_submission


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    site_dir = tmp_path / "site"
    with static_server(site_dir) as url:
        yield site_dir, url


def look_up(page: Any, site_url: str, letter: str, query: str) -> str:
    page.goto(site_url + "/lookup/")
    page.fill("#letter-code", letter)
    page.fill("#query-code", query)
    page.click("#lookup-submit")
    page.wait_for_function("() => !['', 'loading'].includes(document.getElementById('lookup-result')"
                           ".getAttribute('data-status'))", timeout=30_000)
    return str(page.get_attribute("#lookup-result", "data-status"))


def answered(page: Any) -> str:
    """Submit the rating form and wait for the answer; the status element's data-result."""
    page.wait_for_function("() => !['', 'sending'].includes(document.getElementById('feedback-status')"
                           ".getAttribute('data-result'))", timeout=30_000)
    return str(page.get_attribute("#feedback-status", "data-result"))


def test_rate_a_closed_letter_on_the_lookup_page(case_repo: Repo, static_site: tuple[Path, str]) -> None:
    playwright = sync_api()
    from letterbox.store.repository import Repository
    from site_builder.build import build_site

    site_dir, site_url = static_site
    build_site(Repository(case_repo.path), site_dir)  # without intake_url: no form at all
    assert "feedback-form" not in (site_dir / "lookup" / "index.html").read_text("utf-8")
    assert not (site_dir / "write").exists()

    with serving(case_repo, "--allow-origin", site_url) as server:
        config = case_repo.path / "letterbox.yaml"
        config.write_text(config.read_text("utf-8") + f"intake_url: {server.url}\n", "utf-8")
        case_repo.git("commit", "-q", "-m", "Intake URL", "--", "letterbox.yaml")
        a, b, c = (server.letter(web_submission(n)).json() for n in (1, 2, 3))
        close(case_repo, a["letter_code"])
        close(case_repo, b["letter_code"])  # c stays open
        build_site(Repository(case_repo.path), site_dir)
        html = (site_dir / "lookup" / "index.html").read_text("utf-8")
        assert f'data-endpoint="{server.url}"' in html
        assert (site_dir / "write" / "index.html").is_file()  # 写信 is built too, and in the nav
        assert 'href="../write/"' in html

        with playwright.sync_playwright() as p:
            browser = launch(p)
            page = browser.new_context(locale="zh-CN").new_page()

            # an open letter: no rating form
            assert look_up(page, site_url, c["letter_code"], c["query_code"]) == "received"
            assert not page.is_visible("#feedback-form")

            # a closed letter: the form, every field labelled
            assert look_up(page, site_url, a["letter_code"], a["query_code"]) == "closed"
            assert page.is_visible("#feedback-form")
            for label in ("满意", "基本满意", "不满意"):
                assert page.get_by_label(label, exact=True).is_visible()
            assert page.get_by_role("group", name="您对办理结果是否满意？（必选）").is_visible()
            comment = page.get_by_label("评价意见", exact=False)
            assert comment.evaluate("e => e.id") == "feedback-comment"

            # nothing chosen: refused in the page, focus on the first choice, nothing sent
            before = commit_count(case_repo.path)
            page.click("#feedback-submit")
            assert page.get_attribute("#feedback-status", "data-result") == "invalid"
            assert "请选择" in page.inner_text("#feedback-rating-error")
            assert page.evaluate("document.activeElement.id") == "rating-satisfied"

            # wrong codes and a bad rating reach the real service (the request is altered in
            # flight): 403 and 422 are explained, nothing is stored
            def altered(change: dict[str, str]) -> Any:
                def handler(route: Any) -> None:
                    data = {**json.loads(route.request.post_data), **change}
                    route.continue_(post_data=json.dumps(data, ensure_ascii=False).encode("utf-8"))
                return handler

            page.check("#rating-satisfied")
            page.route("**/api/feedback", altered({"query_code": "2345-6789-ABCD"}))
            page.click("#feedback-submit")
            assert answered(page) == "forbidden"
            assert "信件编码或查询码不对" in page.inner_text("#feedback-status")
            page.unroute("**/api/feedback")
            page.route("**/api/feedback", altered({"rating": "还行"}))
            page.click("#feedback-submit")
            assert answered(page) == "invalid"
            assert "评价应为：满意、基本满意、不满意" in page.inner_text("#feedback-status")
            page.unroute("**/api/feedback")
            assert commit_count(case_repo.path) == before

            # by keyboard only: arrows choose 不满意, Tab to the comment and to the button
            page.focus("#rating-satisfied")
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            assert page.is_checked("#rating-dissatisfied")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "feedback-comment"
            page.keyboard.type("路灯修了两天又坏了。")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "feedback-submit"
            page.keyboard.press("Enter")
            assert answered(page) == "ok", page.inner_text("#feedback-status")
            status = page.inner_text("#feedback-status")
            assert "评价已提交：不满意" in status and "退回重办名单" in status
            assert page.is_disabled("#feedback-submit")
            event = case_repo.letter(a["letter_code"])["history"][-1]
            assert event["action"] == "feedback" and event["actor"] == "来信人"
            assert event["details"] == {"rating": "不满意", "comment": "路灯修了两天又坏了。"}
            assert commit_count(case_repo.path) == before + 1

            # the board is not rebuilt yet, so the form is offered again: the service says 409
            assert look_up(page, site_url, a["letter_code"], a["query_code"]) == "closed"
            page.check("#rating-satisfied")
            page.click("#feedback-submit")
            assert answered(page) == "conflict"
            assert "已经评价过" in page.inner_text("#feedback-status")
            assert commit_count(case_repo.path) == before + 1

            # after the next build the timeline shows the rating and the form says so
            build_site(Repository(case_repo.path), site_dir)
            assert look_up(page, site_url, a["letter_code"], a["query_code"]) == "closed"
            assert "来信人评价" in page.inner_text("#lookup-result")
            assert page.get_attribute("#feedback-status", "data-result") == "rated"
            assert page.is_disabled("#rating-satisfied")

            # the other letter, by mouse, codes typed in lower case without dashes: 满意
            assert look_up(page, site_url, b["letter_code"].lower().replace("-", ""),
                           b["query_code"].lower().replace("-", "")) == "closed"
            page.get_by_label("满意", exact=True).check()
            page.click("#feedback-submit")
            assert answered(page) == "ok"
            status = page.inner_text("#feedback-status")
            assert "评价已提交：满意" in status and "退回重办" not in status
            browser.close()
        assert [r["letter_code"] for r in case_repo.json("reopen-list")] == [a["letter_code"]]
    assert porcelain(case_repo.path) == ""
