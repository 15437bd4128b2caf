"""Searching the demo board (67 letters) in headless chromium: results ten at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.render import SEARCH_RESULT
from tests.browser.support import demo_copy, demo_keys_env, launch, static_server, sync_api


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo board of this repository (67 letters, scripts/make_demo.py), built afresh."""
    from letterbox.store.repository import Repository
    from site_builder.build import build_site

    copy = demo_copy(tmp_path_factory.mktemp("demo"))
    out = copy / "site"
    with pytest.MonkeyPatch.context() as mp:  # the demo letters are sealed: the DEMO keys open them
        for key, value in demo_keys_env(copy).items():
            mp.setenv(key, value)
        build_site(Repository(copy), out)
    return out


def test_search_shows_ten_results_then_more(demo_site: Path) -> None:
    """Each shown result loads its fragment: ten at a time keep a search's download small."""
    with static_server(demo_site) as url, sync_api().sync_playwright() as p:
        browser = launch(p)
        page = browser.new_context(locale="zh-CN").new_page()
        page.goto(f"{url}/search/")
        assert not page.get_by_role("button", name="显示更多结果").is_visible()  # nothing searched yet
        page.goto(f"{url}/search/?q=反映")
        results = page.locator(SEARCH_RESULT)
        results.first.wait_for(timeout=15000)
        page.wait_for_function("() => document.querySelectorAll('a.search-result-link').length === 10")
        status = page.locator("#search-status").inner_text()
        total = int(status.split("找到 ")[1].split(" ")[0])
        assert total > 20 and "显示前 10 封" in status, status
        more = page.get_by_role("button", name="显示更多结果")
        more.click()
        page.wait_for_function("() => document.querySelectorAll('a.search-result-link').length === 20")
        assert "显示前 20 封" in page.locator("#search-status").inner_text()
        for _ in range(total // 10):
            if not more.is_visible():
                break
            shown = results.count()
            more.click()
            page.wait_for_function(f"() => document.querySelectorAll('a.search-result-link').length > {shown}")
        assert not more.is_visible()
        assert results.count() == total and "显示前" not in page.locator("#search-status").inner_text()
        browser.close()
