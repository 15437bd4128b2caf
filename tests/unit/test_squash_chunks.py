"""The leak scan squashes a long text in pieces cut between two Chinese characters that squash
maps on their own (`scan.squash_long`, `SQUASH_CHUNK`): the result is the whole text's, whatever stands
around the cuts (digits and separators between them, Chinese numerals, traditional forms,
combining marks, Hangul jamo, expansions such as ㈠ and …)."""

from __future__ import annotations

import random

import pytest

from letterbox.privacy.redact import squash
from site_builder import scan
from site_builder.scan import squash_long

PARTS = ["张", "三", "丰", "路", "灯", "一", "二", "十", "陸", "壹", "〇", "國", "1", "3", "8", "0", "、", "/",
         ":", "，", "-", " ", "\n", "·", "。", "A", "Σ", "ς", "\u0301", "\u1100", "\u1161", "㈠", "…", "ﬁ",
         "＜", "<", "\u200b", "①", "Ⅻ", "é", "\U0001f600"]


@pytest.mark.parametrize("seed", range(200))
def test_pieces_give_the_whole_text_s_squash(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(PARTS) for _ in range(rng.randint(0, 400)))
    monkeypatch.setattr(scan, "SQUASH_CHUNK", rng.choice([2, 3, 5, 8, 16]))
    assert squash_long(text) == squash(text), text
    assert scan._safe_cuts(text) == [] or len(text) > 2 * scan.SQUASH_CHUNK


def test_a_long_text_is_cut_and_squashed_alike() -> None:
    text = ("王建国138、1234、5678：幸福小区供暖不达标。" * 40_000)  # ~1 million characters
    cuts = scan._safe_cuts(text)
    assert len(cuts) >= 3
    assert all(text[c - 1] not in "138、:0123456789" and text[c] not in "0123456789" for c in cuts)
    assert squash_long(text) == squash(text)
    assert "13812345678" in squash_long(text)
