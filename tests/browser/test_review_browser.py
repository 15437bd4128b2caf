"""The 复查 / 复核 panel of the lookup page (issue 18, point 2) in headless chromium, against the
real intake service (`letterbox serve-intake` on loopback) and a real built site: shown only
when the writer may ask for a review, refused in the page without a reason, committed by the
service with the right kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import launch, static_server, sync_api
from tests.conftest import Repo, commit_count, porcelain
from tests.e2e.test_review_web import petition_closed
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
    page.wait_for_function("() => !['', 'sending'].includes(document.getElementById('review-status')"
                           ".getAttribute('data-result'))", timeout=30_000)
    return str(page.get_attribute("#review-status", "data-result"))


def test_request_a_recheck_on_the_lookup_page(case_repo: Repo, static_site: tuple[Path, str]) -> None:
    playwright = sync_api()
    from letterbox.store.repository import Repository
    from site_builder.build import build_site

    site_dir, site_url = static_site
    petition = petition_closed(case_repo, 1, 20, 10)
    late = petition_closed(case_repo, 2, 80, 60)  # window passed 30 days ago
    with serving(case_repo, "--allow-origin", site_url) as server:
        config = case_repo.path / "letterbox.yaml"
        config.write_text(config.read_text("utf-8") + f"intake_url: {server.url}\n", "utf-8")
        case_repo.git("commit", "-q", "-m", "Intake URL", "--", "letterbox.yaml")
        ordinary = server.letter(web_submission(3)).json()
        close(case_repo, ordinary["letter_code"])
        build_site(Repository(case_repo.path), site_dir)
        assert 'id="review-form"' in (site_dir / "lookup" / "index.html").read_text("utf-8")

        with playwright.sync_playwright() as p:
            browser = launch(p)
            page = browser.new_context(locale="zh-CN").new_page()

            # an ordinary letter closed, and a 信访 case whose window has passed: no panel
            assert look_up(page, site_url, ordinary["letter_code"], ordinary["query_code"]) == "closed"
            assert page.is_visible("#feedback-form") and not page.is_visible("#review-form")
            assert look_up(page, site_url, late["letter_code"], late["query_code"]) == "closed"
            assert not page.is_visible("#review-form")

            # a 信访 case closed 10 days ago: the panel says which review, until when, to whom
            assert look_up(page, site_url, petition["letter_code"], petition["query_code"]) == "closed"
            assert page.is_visible("#review-form")
            assert page.inner_text("#review-title") == "申请复查"
            intro = page.inner_text("#review-intro")
            assert "处理意见不服" in intro and "人民政府申请复查" in intro
            reason = page.get_by_label("申请理由", exact=False)
            assert reason.evaluate("e => e.id") == "review-text"

            # no reason: refused in the page, focus on the field, nothing sent
            before = commit_count(case_repo.path)
            page.click("#review-submit")
            assert page.get_attribute("#review-status", "data-result") == "invalid"
            assert "请写明申请理由" in page.inner_text("#review-error")
            assert page.evaluate("document.activeElement.id") == "review-text"
            assert commit_count(case_repo.path) == before

            reason.fill("整改没有落实，请求复查。")
            page.click("#review-submit")
            assert answered(page) == "ok", page.inner_text("#review-status")
            assert "复查申请已提交" in page.inner_text("#review-status")
            assert page.is_disabled("#review-submit")
            assert commit_count(case_repo.path) == before + 1
            event = case_repo.letter(petition["letter_code"])["history"][-1]
            assert event["action"] == "review-request" and event["details"]["kind"] == "复查"
            assert event["details"]["text"] == "整改没有落实，请求复查。"

            # the page still offers it (built before): the service refuses a second one, explained
            assert look_up(page, site_url, petition["letter_code"], petition["query_code"]) == "closed"
            page.get_by_label("申请理由", exact=False).fill("再次申请")
            page.click("#review-submit")
            assert answered(page) == "conflict"
            assert "复查复核中" in page.inner_text("#review-status")
            assert commit_count(case_repo.path) == before + 1

            # rebuilt: under review, no panel; decided, 复核 offered
            build_site(Repository(case_repo.path), site_dir)
            assert look_up(page, site_url, petition["letter_code"], petition["query_code"]) == "reviewing"
            assert not page.is_visible("#review-form")
            case_repo.run("review-decide", petition["letter_code"], "--outcome", "维持", "--text",
                          "维持原处理意见。")
            build_site(Repository(case_repo.path), site_dir)
            assert look_up(page, site_url, petition["letter_code"], petition["query_code"]) == "closed"
            assert page.inner_text("#review-title") == "申请复核"
            assert "复查意见不服" in page.inner_text("#review-intro")
            assert "复查意见书" in page.inner_text("#lookup-result")
            browser.close()
    assert porcelain(case_repo.path) == ""
