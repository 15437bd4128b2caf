"""The built board in a real browser: Debian's headless chromium driven by Playwright."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from site_builder.render import SEARCH_INPUT, SEARCH_RESULT
from tests.browser.support import ARGS, CHROMIUM, launch, static_server, sync_api  # noqa: F401  (ARGS, CHROMIUM: re-exported)
from tests.e2e.test_site import LETTERS, letter_codes, repo, site  # noqa: F401  (fixtures)


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
        context.on("request", lambda r: remote.append(r.url)
                   if not r.url.startswith(base_url) and not r.url.startswith("data:") else None)
        tab = context.new_page()
        yield tab
        context.close()
        browser.close()
        assert remote == [], f"the site fetched from outside: {remote}"


def test_home_page(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url)
    assert "区长信箱" in page.title()
    assert page.get_by_role("heading", name="最新答复").is_visible()
    assert page.locator("a[href$='lookup/']").count() > 0


def test_letter_page(page, base_url: str, repo: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    code = letter_codes(repo)[LETTERS["heat"][0]]
    page.goto(f"{base_url}letters/{code}/")
    heading = page.locator("article h1")
    assert "幸福小区供暖温度不达标" in heading.inner_text()
    assert page.title() == heading.inner_text().strip() + " - 龙安区区长信箱 · 来信公开", page.title()  # not its code
    text = page.locator("article").inner_text()
    assert "区住房和城乡建设局" in text and "〔姓名〕" in text and "王建国" not in text


def test_search_finds_heating_letters(page, base_url: str, repo: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    codes = letter_codes(repo)
    page.goto(base_url, wait_until="networkidle")
    page.get_by_role("link", name="搜索").first.click()  # in the navigation of every page
    box = page.locator(SEARCH_INPUT)
    box.wait_for(state="visible")
    box.click()
    box.fill("供暖")  # what an IME commits: text without key events for its characters
    box.press("End")
    results = page.locator(SEARCH_RESULT)
    results.first.wait_for(timeout=15000)
    links = [results.nth(i).get_attribute("href") or "" for i in range(results.count())]
    assert any(codes[LETTERS["heat"][0]] in h for h in links), links
    assert not any(codes[LETTERS["secret"][0]] in h for h in links)
    assert all("/letters/" in h for h in links), links  # only letter pages are indexed
    page.locator(SEARCH_RESULT).first.click()
    page.wait_for_load_state()
    assert "供暖" in page.locator("article h1").inner_text()



def _search(page, url: str, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    page.goto(url + "search/", wait_until="networkidle")
    box = page.locator(SEARCH_INPUT)
    box.fill(query)
    box.press("Enter")
    results = page.locator(SEARCH_RESULT)
    results.first.wait_for(timeout=15000)
    page.wait_for_function("!document.querySelector('#search-status').textContent.includes('正在')")
    return [results.nth(i).get_attribute("href") or "" for i in range(results.count())]


def test_search_merges_the_bundles_of_every_part(page, base_url: str, repo: Path,  # type: ignore[no-untyped-def]  # noqa: F811
                                                 tmp_path_factory: pytest.TempPathFactory,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A board whose letters are indexed in one Pagefind bundle each (one part per letter):
    the search page merges them all (mergeIndex) and finds what the board with one bundle finds
    (not always in its order: each part scores with its own word statistics)."""
    from letterbox.store.repository import Repository
    from site_builder.build import build_site

    monkeypatch.setenv("LETTERBOX_SEARCH_PART", "1")
    parted = tmp_path_factory.mktemp("parted") / "site"
    build_site(Repository(repo), parted, cache=False)
    bundles = json.loads((parted / "pagefind-parts.json").read_text("utf-8"))
    assert len(bundles) == 3 and all((parted / b / "pagefind.js").is_file() for b in bundles)
    codes = letter_codes(repo)
    whole = sorted(_search(page, base_url, "供暖"))
    context = page.context.browser.new_context(locale="zh-CN")  # the fixture's: this site only
    tab = context.new_page()
    with static_server(parted) as url:
        found = _search(tab, url + "/", "供暖")
        assert {h.rsplit("/letters/", 1)[1].strip("/") for h in found} == {
            codes[LETTERS["heat"][0]], codes[LETTERS["follow"][0]]}, found
        assert sorted(found) == whole
        road = _search(tab, url + "/", "路灯")
        assert [h.rsplit("/letters/", 1)[1].strip("/") for h in road] == [codes[LETTERS["road"][0]]]
    context.close()
