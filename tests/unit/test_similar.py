"""Near-duplicate detection: the labelled pairs, places, the index and `letterbox similar`."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

import pytest

from letterbox.core.config import Config, default_config_text, parse_config
from letterbox.core.letter import Letter
from letterbox.reports.similar import (
    Gazetteer,
    SimilarityIndex,
    make_profile,
    place_relation,
    sites_in,
)
from scripts.similar_eval import evaluate, load_pairs
from tests.conftest import WRITER


@pytest.fixture(scope="module")
def config() -> Config:
    return parse_config(default_config_text("ab" * 16))


def letter(code: str, title: str, body: str, day: str = "2026-11-20", **writer: str) -> Letter:
    data = {"letter_code": code, "submitted_at": f"{day}T09:00:00+08:00", "title": title,
            "body": body, "writer": {**WRITER, **writer}, "history": []}
    return Letter(PurePosixPath(f"{code}.yaml"), data)


def test_precision_and_recall_on_labelled_pairs(config: Config) -> None:
    pairs = load_pairs()
    assert len(pairs) >= 60
    kinds = {p["kind"] for p in pairs}
    assert kinds == {"paraphrase", "same_matter_other_writer", "other_matter_same_place",
                     "same_topic_other_place"}
    result = evaluate(pairs, config)
    assert result["precision"] >= 0.9, result["errors"]
    assert result["recall"] >= 0.9, result["errors"]


@pytest.mark.parametrize(("text", "sites"), [
    ("，通往，张村的道路", {"张村"}),
    ("我们农村饮水困难", set()),
    ("，田村示例社区室内温度", {"田村示例社区"}),
    ("我家住在梧桐小区", {"梧桐小区"}),
    ("建议在社区建设老年食堂", set()),
    ("龙泉村进村路上", {"龙泉村"}),
])
def test_sites(text: str, sites: set[str]) -> None:
    assert sites_in(text) == sites


def test_place_relation(config: Config) -> None:
    gaz = Gazetteer.from_config(config)
    a = make_profile(letter("A", "暖气不热", "文昌大道街道梧桐小区暖气不热。"), config, gaz)
    b = make_profile(letter("B", "暖气不热", "梧桐小区暖气不热。"), config, gaz)
    c = make_profile(letter("C", "暖气不热", "田村街道田村示例社区暖气不热。"), config, gaz)
    d = make_profile(letter("D", "暖气不热", "文昌大道街道暖气不热。"), config, gaz)
    assert (place_relation(a, b), place_relation(a, c), place_relation(a, d)) == (
        "site", "different", "area")
    assert a.towns == {"文昌大道街道"} and a.topics == {"供暖"}


def test_index_finds_earlier_letters_most_similar_first(config: Config) -> None:
    gaz = Gazetteer.from_config(config)
    letters = [
        letter("L1", "小区供暖温度不达标", "入冬以来，文昌大道街道示例花园室内温度只有十四五度。",
               "2026-11-19", phone="13900000001", email="a1@example.com", name="甲"),
        letter("L2", "示例花园暖气不热", "示例花园暖气不热，家里只有15度。", "2026-11-20",
               phone="13900000002", email="a2@example.com", name="乙"),
        letter("L3", "小区供暖温度不达标", "入冬以来，田村街道田村示例社区室内温度只有十四五度。",
               "2026-11-20", phone="13900000003", email="a3@example.com", name="丙"),
        letter("L4", "路灯不亮", "龙泉镇龙泉村村口路灯坏了。", "2026-11-20",
               phone="13900000001", email="a1@example.com", name="甲"),
        letter("L5", "小区供暖温度不达标", "入冬以来，文昌大道街道示例花园室内温度只有十四五度。",
               "2026-11-21", phone="13900000001", email="a1@example.com", name="甲"),
    ]
    index = SimilarityIndex.build(make_profile(x, config, gaz) for x in letters)
    found = index.query(index.profiles["L5"])
    assert [m.letter_code for m in found][:2] == ["L1", "L2"]
    assert found[0].score > 0.9 and set(found[0].reasons) >= {"same_writer", "same_text"}
    assert "same_place_topic" in found[1].reasons
    codes = [m.letter_code for m in found]
    assert "L3" not in codes  # the same words about another street: not the same matter
    assert "L4" in codes and found[codes.index("L4")].score < 0.6  # same writer, other matter
    assert index.query(index.profiles["L1"]) == []  # nothing earlier
    later = index.query(index.profiles["L1"], earlier_only=False)
    assert {m.letter_code for m in later} >= {"L2", "L5"}
    text = json.dumps([m.to_json() for m in found], ensure_ascii=False)
    assert "1390000" not in text and "example.com" not in text and "甲" not in text


def test_index_add_matches_build(config: Config) -> None:
    gaz = Gazetteer.from_config(config)
    a = make_profile(letter("A", "路灯不亮", "龙泉镇西山村村口路灯坏了。", "2026-11-01"), config, gaz)
    b = make_profile(letter("B", "西山村路灯坏了", "西山村村口的路灯坏了很久。", "2026-11-02",
                            phone="13900000009", email="x@example.com"), config, gaz)
    index = SimilarityIndex()
    index.add(a)
    index.add(b)
    assert [m.letter_code for m in index.query(b)] == ["A"]
