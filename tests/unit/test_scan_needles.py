"""The leak scan's needle matcher (`scan.Needles`, an Aho–Corasick automaton) finds exactly
what one prefix-factored regex of the needles finds with `finditer` (the matcher the scan
used before): at each place the longest needle starting there, then on after it; and where."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

from letterbox.privacy.redact import squash
from site_builder.scan import Needles, Pieces, _Searcher


def _trie_regex(words: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any of `words`, prefix-factored so it stays fast for many words."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict[str, dict]) -> str:
        alts = [(ch if ch.isalnum() else re.escape(ch)) + pattern(child)
                for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 and "" not in node else "(?:" + "|".join(alts) + ")"
        return body + "?" if "" in node and alts else body

    return re.compile(pattern(trie)) if trie else None


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
        expected = by_regex(needles, text)
        assert matcher.findall(text) == expected, (needles, text)
        assert matcher.search(text) is bool(expected)
        regex = _trie_regex(sorted(set(needles)))
        assert regex is not None
        assert matcher.matches(text) == [(m.start(), m.group()) for m in regex.finditer(text)]


def test_nested_needles_take_the_longest_then_go_on() -> None:
    matcher = Needles(["王建", "王建国", "建国路", "13800"])
    text = "王建国路口，王建，138001"
    assert matcher.findall(text) == by_regex(["王建", "王建国", "建国路", "13800"], text) == {"王建国", "王建", "13800"}


def test_places_and_lone_surrogates() -> None:
    matcher = Needles(["王建国", "建国", "13800"])
    assert matcher.matches("x王建国x建国\ud800138001") == [(1, "王建国"), (5, "建国"), (8, "13800")]
    assert matcher.findall("\udfff建国") == {"建国"}
    assert not Needles([]) and not Needles([""]) and Needles([]).findall("王") == set()


@pytest.mark.parametrize("seed", range(40))
def test_a_file_s_needles_as_piece_by_piece(tmp_path: Path, seed: int) -> None:
    """The scan's searcher squashes a file's new pieces together and puts each match down to
    its piece (remembered for the next files holding it): the needles it reports for each file
    are those of a search of every piece squashed on its own, also with characters that squash
    turns into "<" or joins with one (＜, ﹤, a combining ≮), and its kept pieces hold no needle."""
    rng = random.Random(seed)
    alphabet = "王建国1380-<＜﹤\u0338 ab"
    needles = sorted({"".join(rng.choice("王建国1380ab") for _ in range(rng.randint(2, 4))) for _ in range(8)})
    shared = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(6)]
    searcher = _Searcher(needles, tmp_path / "pieces")
    oracle = _trie_regex(needles)
    assert oracle is not None
    for n in range(12):
        parts = [rng.choice(shared) if rng.random() < 0.5 else
                 "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(1, 8))]
        path = tmp_path / "site" / f"p{'qrstuvwxyzcd'[n]}.html"  # no needle in the name
        path.parent.mkdir(exist_ok=True)
        text = "<".join(parts)
        path.write_text(text, encoding="utf-8")
        expected = {m.group() for piece in text.split("<") for m in oracle.finditer(squash(piece))}
        found, _ = searcher.file(tmp_path / "site", path)
        assert set(found) == expected, (needles, text)
    searcher.close()
    kept = Pieces(tmp_path / "pieces")
    assert kept.search(needles) == set()
