"""The leak scan's needle matcher without its regex (`scan.Needles`, used until enough text
has been searched to be worth compiling the regex) finds exactly what the regex finds:
at each place the longest needle starting there, then on after it."""

from __future__ import annotations

import random

import pytest

from site_builder import scan
from site_builder.scan import Needles, _trie_regex


def by_regex(needles: list[str], text: str) -> set[str]:
    regex = _trie_regex(sorted(set(needles)))
    assert regex is not None
    return {m.group() for m in regex.finditer(text)}


@pytest.mark.parametrize("seed", range(300))
def test_same_matches_as_the_regex(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "ab王建国1380.-" if seed % 2 else "ab"  # few letters: needles overlap and nest
    needles = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
               for _ in range(rng.randint(1, 12))]
    for _ in range(5):
        text = "".join(rng.choice(alphabet + "xy") for _ in range(rng.randint(0, 80)))
        matcher = Needles(needles)
        assert matcher.regex is None
        expected = by_regex(needles, text)
        assert matcher.findall(text) == expected, (needles, text)
        assert matcher.search(text) is bool(expected)
        assert matcher.regex is None  # still without the regex


def test_nested_needles_take_the_longest_then_go_on() -> None:
    matcher = Needles(["王建", "王建国", "建国路", "13800"])
    text = "王建国路口，王建，138001"
    assert matcher.findall(text) == by_regex(["王建", "王建国", "建国路", "13800"], text) == {"王建国", "王建", "13800"}


def test_the_regex_is_compiled_once_enough_text_was_searched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "COMPILE_AFTER", 100)
    matcher = Needles(["王建国", "建国"])
    assert matcher.findall("王建国" * 10) == {"王建国"} and matcher.regex is None  # 30 characters
    assert matcher.findall("建国" * 50) == {"建国"} and matcher.regex is not None  # 130: compiled
    assert matcher.findall("x王建国x建国") == {"王建国", "建国"}
    assert not Needles([]) and not Needles([""])
