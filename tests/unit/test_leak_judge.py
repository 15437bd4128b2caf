"""The leak scan's judgement (site_builder/scan.py: judge, origin_of), from literal hits.

A letter's own writer data must not appear in its own outputs; another letter's ordinary words
that happen to be a writer's name (向阳路, 四季常青) are no leak; a phone or e-mail is a leak
anywhere; an unexplained name in a shared file holds back its writer's letter, or stops the
build when that letter is not on the board.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from site_builder.scan import judge, origin_of

OWNERS = {
    "向阳": ("LA-2026-00001",),  # writer of letter 1
    "13512340001": ("LA-2026-00001",),
    "常青": ("LA-2026-00003",),  # writer of letter 3, not on the board
    "王建国": ("LA-2026-00004", "LA-2026-00005"),  # two letters of one writer
}
PUBLIC = {"LA-2026-00001", "LA-2026-00002", "LA-2026-00004", "LA-2026-00005"}
TEXTS = {"LA-2026-00001": "学校门口缺少斑马线", "LA-2026-00002": "向阳路路灯不亮，四季常青的绿化带",
         "LA-2026-00004": "供暖不热", "LA-2026-00005": "供暖仍不热"}


def verdict(hits: dict[str, tuple[tuple[str, ...], str | None]], fixed: str = "龙安区区长信箱"):  # noqa: ANN201
    return judge(hits, OWNERS, PUBLIC, lambda: TEXTS, fixed)


def test_another_letters_ordinary_words_are_no_leak() -> None:
    v = verdict({"letters/LA-2026-00002/index.html": (("向阳", "常青"), "LA-2026-00002"),
                 "categories/complaint/index.html": (("向阳", "常青"), None),
                 "pagefind/index/zh_1.pf_index": (("向阳",), None)})
    assert v.clean


def test_own_writer_data_on_own_page_holds_that_letter() -> None:
    v = verdict({"letters/LA-2026-00001/index.html": (("向阳",), "LA-2026-00001"),
                 "pagefind/fragment/x.pf_fragment": (("向阳",), "LA-2026-00001")})
    assert v.own == {"LA-2026-00001": ["letters/LA-2026-00001/index.html",
                                       "pagefind/fragment/x.pf_fragment"]}
    assert not v.shared and not v.orphans


def test_a_phone_is_a_leak_on_any_page_and_holds_the_page_letter() -> None:
    v = verdict({"letters/LA-2026-00002/index.html": (("13512340001",), "LA-2026-00002")})
    assert v.own == {"LA-2026-00002": ["letters/LA-2026-00002/index.html"]}


def test_unexplained_name_in_a_shared_file_holds_its_writers_public_letters() -> None:
    v = verdict({"index.html": (("王建国",), None)})
    assert v.shared == {"LA-2026-00004": ["index.html"], "LA-2026-00005": ["index.html"]}
    assert not v.own and not v.orphans


def test_the_writers_own_letter_does_not_explain_its_name() -> None:
    texts = {**TEXTS, "LA-2026-00004": "王建国反映供暖不热"}  # (its own page check holds it)
    v = judge({"requests.json": (("王建国",), None)}, OWNERS, PUBLIC, lambda: texts, "")
    assert set(v.shared) == {"LA-2026-00004", "LA-2026-00005"}


def test_a_leak_no_public_letter_can_answer_for_stops_the_build() -> None:
    v = judge({"stats/index.html": (("常青",), None)}, OWNERS, PUBLIC, lambda: {}, "")
    assert v.orphans == [("stats/index.html", "LA-2026-00003")] and not v.clean


def test_the_sites_own_words_explain_a_hit_anywhere() -> None:
    owners = {**OWNERS, "龙安": ("LA-2026-00001",)}
    v = judge({"letters/LA-2026-00001/index.html": (("龙安",), "LA-2026-00001"),
               "index.html": (("龙安",), None)}, owners, PUBLIC, lambda: TEXTS, "龙安区区长信箱")
    assert v.clean


def test_the_texts_are_asked_for_only_when_a_shared_file_needs_them() -> None:
    def texts() -> dict[str, str]:
        raise AssertionError("not needed")

    assert judge({"letters/LA-2026-00002/index.html": (("向阳",), "LA-2026-00002")}, OWNERS, PUBLIC,
                 texts, "").clean


def test_origin_of_a_file() -> None:
    assert origin_of("letters/LA-2026-00007/index.html", "") == "LA-2026-00007"
    fragment = 'pagefind_dcd{"url":"/letters/LA-2026-00007.html","content":"…"}'
    assert origin_of("pagefind/fragment/zh_abc.pf_fragment", fragment) == "LA-2026-00007"
    assert origin_of("pagefind/index/zh_abc.pf_index", fragment) is None
    # a part's bundle (build.search_bundles): its fragments are one letter's too
    assert origin_of("pagefind-LA-2026-0/fragment/zh_abc.pf_fragment", fragment) == "LA-2026-00007"
    assert origin_of("pagefind-LA-2026-0/index/zh_abc.pf_index", fragment) is None
    assert origin_of("pagefind-parts.json", fragment) is None
    assert origin_of("categories/complaint/index.html", "/letters/LA-2026-00007/") is None
    assert origin_of("requests.json", "") is None


# --------------------------------------------------------------------------- other writers' names


def _entry(code: str, writer: str, body: str, keep: tuple[str, ...] = ()):  # noqa: ANN202
    from datetime import date

    from letterbox.privacy.redact import Writer
    from site_builder.select import Entry

    return Entry(code=code, title="", body=body, reply="", reply_by="", category="complaint",
                 received=date(2026, 3, 2), answered=date(2026, 3, 3), working_days=1, due=None,
                 on_time=True, follows_up=None, followed_by=(), writer=Writer(name=writer), keep=keep)


class _Letter:
    def __init__(self, name: str) -> None:
        self.data = {"writer": {"name": name}}


def test_another_writers_full_name_of_three_characters_is_masked() -> None:
    from site_builder.redact_stage import with_other_writers

    letters = [_Letter(n) for n in ("欧阳秀英", "王建国", "向阳", "文昌大")]
    entries = [_entry("A", "王建国", "我是王建国，邻居欧阳 秀英也反映过，向阳路也一样。"),
               _entry("B", "李四", "王建国家门口文昌大道积水。"),
               _entry("C", "张三", "王建国说过。", keep=("王建国",))]
    done = with_other_writers(entries, letters, ["文昌大道街道办事处"])  # type: ignore[arg-type]
    assert done[0].mask == ("欧阳秀英",)  # not its own writer (masked anyway), not 向阳 (2 chars)
    assert done[1].mask == ("王建国",)  # 文昌大 is inside a unit's name: left alone
    assert done[2].mask == ()  # staff keep it


def test_search_part_is_a_stable_code_range(monkeypatch: pytest.MonkeyPatch) -> None:
    from site_builder.tools import search_part

    assert search_part("LA-2025-00001", 1000) == search_part("LA-2025-01000", 1000) == "LA-2025-0"
    assert search_part("LA-2025-01001", 1000) == "LA-2025-1"
    assert search_part("LA-2026-00001", 1000) == "LA-2026-0"  # a new year, a new part
    assert search_part("LA-2025-02001", 2000) == "LA-2025-1"
    assert search_part("LA-2026-00007", 1) == "LA-2026-6"
    assert search_part("无编号", 1000) == "x"


def test_search_part_size_keeps_the_bundles_few(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts of 1 000 letters, doubled while there would be more than 50: a search loads every
    bundle's metadata and index chunk (docs/site.md, "Parts")."""
    from letterbox.core.errors import LetterboxError
    from site_builder.tools import search_part_size

    monkeypatch.delenv("LETTERBOX_SEARCH_PART", raising=False)
    assert [search_part_size(n) for n in (0, 1, 10_000, 50_000, 50_001, 100_000, 100_001, 10**7)] == [
        1000, 1000, 1000, 1000, 2000, 2000, 4000, 256_000]
    monkeypatch.setenv("LETTERBOX_SEARCH_PART", " 2000 ")
    assert search_part_size(10) == search_part_size(10**6) == 2000
    for bad in ("0", "zwei", "-3", "1e3", "9" * 12, "１０"):
        monkeypatch.setenv("LETTERBOX_SEARCH_PART", bad)
        with pytest.raises(LetterboxError, match="LETTERBOX_SEARCH_PART 应为 1 到 999999999 之间的整数"):
            search_part_size(10)


def test_the_kept_other_writers_names_do_not_grow_with_every_new_writer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each new writer's name keys every entry's other-writers search anew; the rows of the
    names searched before are removed once the table holds more than twice the rows in use
    (`JsonCache.prune`), so the cache stays about one build's size, and what is found is the same."""
    from letterbox.store import cache
    from site_builder.redact_stage import with_other_writers

    monkeypatch.setattr(cache, "PRUNE_SLACK", 0)
    store = cache.JsonCache(tmp_path / "redaction.sqlite3", "others")
    entries = [_entry(f"E{k}", "李四", f"第{k}封：王建国家门口积水。") for k in range(20)]
    writers = ["王建国"]
    sizes = []
    for k in range(8):
        writers.append(f"新来信{k}人")
        done = with_other_writers(entries, [_Letter(n) for n in writers], [], store.path)  # type: ignore[arg-type]
        assert all(e.mask == ("王建国",) for e in done)
        with sqlite3.connect(store.path) as db:
            sizes.append(db.execute("SELECT COUNT(*) FROM others").fetchone()[0])
    assert max(sizes) <= 2 * len(entries) and sizes[0] == len(entries), sizes
    again = with_other_writers(entries, [_Letter(n) for n in writers], [], store.path)  # type: ignore[arg-type]
    assert [e.mask for e in again] == [("王建国",)] * len(entries)  # from the kept rows
    assert store.prune([]) == sizes[-1] and store.get([f"x{k}" for k in range(3)]) == {}
