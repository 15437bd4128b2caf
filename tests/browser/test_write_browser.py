"""The 写信 page in headless chromium against a real intake service: checks, receipt, lookup."""

from __future__ import annotations

from pathlib import Path

from tests.browser.support import launch, static_server, sync_api
from tests.conftest import WRITER, Repo
from tests.e2e.test_service import holds, serving


def test_browser_write_receipt_and_lookup(case_repo: Repo, tmp_path: Path) -> None:
    playwright = sync_api()
    import site_builder.build as build_mod
    from letterbox.store.repository import Repository

    site_dir = tmp_path / "site"
    with static_server(site_dir) as site_url:
        with serving(case_repo, "--allow-origin", site_url) as server:
            config = case_repo.path / "letterbox.yaml"
            config.write_text(config.read_text("utf-8") + f"intake_url: {server.url}\n", "utf-8")
            case_repo.git("commit", "-q", "-m", "Intake URL", "--", "letterbox.yaml")
            build_mod.build_site(Repository(case_repo.path), site_dir)
            assert (site_dir / "write" / "index.html").exists()  # the built site's own page
            assert (site_dir / "assets" / "write.js").exists()
            with playwright.sync_playwright() as p:
                browser = launch(p)
                page = browser.new_context(locale="zh-CN").new_page()
                page.goto(site_url + "/write/")
                assert page.get_by_text("一信一事").first.is_visible()
                assert page.get_by_text("真实姓名、电话、地址、电子邮箱").first.is_visible()
                # client-side checks first: nothing is sent
                page.fill("#w-name", "赵")
                page.fill("#w-phone", "99887")
                page.click("#write-submit")
                assert "长度应在 2 到 30" in page.inner_text("#e-name")
                assert "不是有效的电话号码" in page.inner_text("#e-phone")
                assert "勾选" in page.inner_text("#e-agree")
                assert len(list((case_repo.path / "cases").rglob("*.yaml"))) == 0
                # a person fills the form properly
                page.fill("#w-name", WRITER["name"])
                page.fill("#w-phone", WRITER["phone"])
                page.fill("#w-email", WRITER["email"])
                page.fill("#w-address", WRITER["address"])
                page.fill("#w-title", "文昌大道路灯不亮")
                page.fill("#w-body", "文昌大道与中州路交叉口往东约两百米的路灯已经连续一周不亮。")
                page.check("#w-agree")
                page.click("#write-submit")
                page.wait_for_selector("#write-receipt:not([hidden])", timeout=30_000)
                letter_code = page.inner_text("#receipt-letter").strip()
                query_code = page.inner_text("#receipt-query").strip()
                assert "查询码只在此显示一次" in page.inner_text("#write-receipt")
                assert holds(case_repo, letter_code, query_code)
                assert len(list((case_repo.path / "cases").rglob("*.yaml"))) == 1
                # the board is rebuilt (as the office does), then the writer looks the letter up
                build_mod.build_site(Repository(case_repo.path), site_dir)
                page.click("#receipt-link")
                page.wait_for_url(f"**/lookup/?code={letter_code}")
                assert page.input_value("#letter-code") == letter_code
                page.fill("#query-code", query_code)
                page.click("#lookup-submit")
                page.wait_for_function(
                    "() => !['', 'loading'].includes(document.getElementById('lookup-result')"
                    ".getAttribute('data-status'))", timeout=30_000)
                result = page.inner_text("#lookup-result")
                assert "已收到" in result, result
                browser.close()


def test_browser_write_on_a_phone(case_repo: Repo, tmp_path: Path) -> None:
    """At 390x844: every box has a visible border; article 6 is said once, not per field; after
    sending, the receipt with the once-only query code is in view and the code has the focus."""
    playwright = sync_api()
    import site_builder.build as build_mod
    from letterbox.store.repository import Repository

    site_dir = tmp_path / "site"
    with static_server(site_dir) as site_url:
        with serving(case_repo, "--allow-origin", site_url) as server:
            config = case_repo.path / "letterbox.yaml"
            config.write_text(config.read_text("utf-8") + f"intake_url: {server.url}\n", "utf-8")
            case_repo.git("commit", "-q", "-m", "Intake URL", "--", "letterbox.yaml")
            build_mod.build_site(Repository(case_repo.path), site_dir)
            with playwright.sync_playwright() as p:
                browser = launch(p)
                page = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
                page.goto(site_url + "/write/")
                for box in ("#w-name", "#w-phone", "#w-email", "#w-address", "#w-title", "#w-follows", "#w-body"):
                    style = page.eval_on_selector(box, "e => { const s = getComputedStyle(e); return [s.borderTopWidth, s.borderTopStyle, s.borderTopColor]; }")
                    assert style[0] != "0px" and style[1] != "none", (box, style)
                    assert style[2] not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), (box, style)
                page.click("#write-submit")  # everything empty
                text = page.inner_text("article")
                assert text.count("第六条第二项") == 1, text  # said once, in the status line
                for field in ("name", "phone", "email", "address"):
                    assert "不能为空" in page.inner_text(f"#e-{field}")
                page.fill("#w-name", WRITER["name"])
                page.fill("#w-phone", WRITER["phone"])
                page.fill("#w-email", WRITER["email"])
                page.fill("#w-address", WRITER["address"])
                page.fill("#w-title", "文昌大道路灯不亮")
                page.fill("#w-body", "文昌大道与中州路交叉口往东约两百米的路灯已经连续一周不亮。")
                page.check("#w-agree")
                page.click("#write-submit")
                page.wait_for_selector("#write-receipt:not([hidden])", timeout=30_000)
                page.wait_for_timeout(300)
                box = page.locator("#receipt-query").bounding_box()
                assert box is not None and 48 <= box["y"] and box["y"] + box["height"] <= 844, box
                assert page.evaluate("document.activeElement.id") == "receipt-query"
                assert page.inner_text("#receipt-query").strip()
                assert "约 1 分钟后" in page.inner_text("#write-receipt")
                page.screenshot(path=str(tmp_path / "write-receipt-390.png"))
                browser.close()
