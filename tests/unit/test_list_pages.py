"""The board's list pages (issue 17): the first page shows the newest letters and the count,
the older ones are on pages numbered from the oldest letter, so that a new letter changes
one or two pages of a list, not all of them; every letter is on exactly one page and every
link of the pager leads to a page of the list."""

from __future__ import annotations

import re
from datetime import date, timedelta

from letterbox.privacy.redact import Writer
from site_builder.render import PAGE_SIZE, _env, _newest_first, _paged
from site_builder.select import Entry

BASE = "categories/complaint"


def entry(n: int) -> Entry:
    day = date(2024, 1, 1) + timedelta(days=n)
    return Entry(code=f"LA-2024-{n:05d}", title=f"第{n}号来信", body="", reply="", reply_by="城管局",
                 category="complaint", received=day, answered=day, working_days=1, due=None,
                 on_time=True, follows_up=None, followed_by=(), writer=Writer())


def pages(count: int) -> dict[str, str]:
    items = _newest_first([entry(n) for n in range(1, count + 1)])
    return _paged(BASE, "投诉", items, _env())


def codes(text: str) -> list[str]:
    return re.findall(r"letters/(LA-2024-\d{5})/", text)


def url_of(path: str) -> str:
    return path.removesuffix("index.md") if path.endswith("index.md") else path.removesuffix(".md") + "/"


def test_each_letter_on_one_page_newest_first_and_every_link_leads_to_a_page() -> None:
    for count in (1, PAGE_SIZE, PAGE_SIZE + 1, 2 * PAGE_SIZE + 7, 5 * PAGE_SIZE):
        made = pages(count)
        listed = [c for text in made.values() for c in codes(text)]
        assert sorted(listed) == sorted(f"LA-2024-{n:05d}" for n in range(1, count + 1)), count
        first = codes(made[f"{BASE}/index.md"])
        assert first == [f"LA-2024-{n:05d}" for n in range(count, max(0, count - PAGE_SIZE), -1)]
        assert f"共 {count} 件" in made[f"{BASE}/index.md"]
        urls = {url_of(p) for p in made}
        for path, text in made.items():
            on_page = codes(text)
            assert on_page == sorted(on_page, reverse=True), path  # newest first on every page
            root = "../" * url_of(path).count("/")
            for href in re.findall(r'<a href="([^"]+)"', text):
                assert href.startswith(root) and href[len(root):] in urls, (path, href)
            if path != f"{BASE}/index.md":
                assert "共" not in text, path  # no count on a numbered page: it would change
        if count <= PAGE_SIZE:
            assert list(made) == [f"{BASE}/index.md"]
            assert "pager" not in made[f"{BASE}/index.md"]
        else:  # page 1 holds the oldest letters
            assert codes(made[f"{BASE}/1.md"])[-1] == "LA-2024-00001"


def test_a_new_letter_changes_the_first_and_the_last_numbered_page_only() -> None:
    for count in (3 * PAGE_SIZE + 10, 4 * PAGE_SIZE - 1, 4 * PAGE_SIZE):
        before, after = pages(count), pages(count + 1)
        changed = sorted(p for p in after if before.get(p) != after[p])
        numbered = sorted((p for p in after if not p.endswith("index.md")), key=lambda p: int(p.split("/")[-1][:-3]))
        allowed = {f"{BASE}/index.md", numbered[-1]}
        if len(numbered) > len([p for p in before if not p.endswith("index.md")]):
            allowed.add(numbered[-2])  # a new page: the one before it now links to it
        assert set(changed) <= allowed, (count, changed)
        assert len(changed) <= 3
