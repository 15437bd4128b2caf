"""Near-duplicate detection: the labelled pairs, places, the index and `letterbox similar`."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from bench.similar_eval import BLIND, HELDOUT, evaluate, load_pairs, top1
from letterbox.core.config import Config, default_config_text, parse_config
from letterbox.core.letter import Letter
from letterbox.reports.similar import (
    Gazetteer,
    SimilarityIndex,
    build_index,
    compare,
    describe,
    make_profile,
    place_relation,
    sites_in,
)
from tests.conftest import WRITER


@pytest.fixture(scope="module")
def config() -> Config:
    return parse_config(default_config_text("ab" * 16))


def letter(code: str, title: str, body: str, day: str = "2026-11-20", **writer: str) -> Letter:
    data = {"letter_code": code, "submitted_at": f"{day}T09:00:00+08:00", "title": title,
            "body": body, "writer": {**WRITER, **writer}, "history": []}
    return Letter(PurePosixPath(f"{code}.yaml"), data)


KINDS = {"paraphrase", "same_matter_other_writer", "other_matter_same_place", "same_topic_other_place",
         "unrelated", "recurrence"}


def test_precision_and_recall_on_tuning_pairs(config: Config) -> None:
    """The tuning part (the method was set looking at its errors): a regression guard."""
    pairs = load_pairs()
    assert len(pairs) >= 100 and {p["kind"] for p in pairs} == KINDS
    result = evaluate(pairs, config)
    # measured 0.867 / 0.812 on 214 pairs (55 of them, 160-214, written to break the method)
    assert result["precision"] >= 0.85, result["errors"]
    assert result["recall"] >= 0.8, result["errors"]


def test_held_out_figures_stay_at_what_docs_report(config: Config) -> None:
    """The held-out part, never tuned on: docs/analysis.md reports precision 0.944, recall 0.919,
    top-1 0.919 (with the sentence embedding). A regression guard with a margin of one pair or two."""
    pairs = load_pairs(HELDOUT)
    assert len(pairs) >= 80 and {p["kind"] for p in pairs} <= KINDS
    assert len(pairs) + len(load_pairs()) >= 150
    result = evaluate(pairs, config)
    assert result["precision"] >= 0.89 and result["recall"] >= 0.86, (result["precision"], result["recall"])
    ranks = top1(pairs, config)
    assert ranks["top1"] >= 0.86, ranks["top1"]


def test_blind_pairs_are_well_formed() -> None:
    """The blind part (written without reading the method, never tuned on): its shape only, no
    figure guard; docs/analysis.md reports its one measurement."""
    pairs = load_pairs(BLIND)
    ids = [p["id"] for p in pairs]
    assert len(pairs) >= 90 and len(set(ids)) == len(ids) and min(ids) >= 2001
    assert not set(ids) & {p["id"] for p in load_pairs() + load_pairs(HELDOUT)}
    assert {p["kind"] for p in pairs} == KINDS
    for p in pairs:
        assert p["duplicate"] == (p["kind"] in {"paraphrase", "same_matter_other_writer"}), p["id"]
        assert isinstance(p["same_writer"], bool) and isinstance(p["days"], int) and p["days"] >= 1
        assert (p["days"] > 90) == (p["kind"] == "recurrence"), p["id"]
        for side in (p["a"], p["b"]):
            assert side["title"].strip() and 20 <= len(side["body"]) <= 200, p["id"]
    assert 40 <= sum(p["duplicate"] for p in pairs) <= 45


def test_paraphrase_by_another_writer_is_found_and_explained(config: Config) -> None:
    """The issue's example: the same lift told in other words, no place in common named."""
    gaz = Gazetteer.from_config(config)
    earlier = make_profile(letter("E1", "电梯问题", "文昌大道街道梧桐小区电梯经常停运，老人上下楼困难。",
                                  "2026-11-18", phone="13900000011", email="e1@example.com", name="甲"),
                           config, gaz)
    other = make_profile(letter("E2", "小区路灯不亮", "梧桐小区的路灯坏了，晚上很黑。", "2026-11-19"),
                         config, gaz)  # same site, other matter, same writer as the query
    later = make_profile(letter("E3", "楼里的电梯三天两头坏", "梧桐小区楼里的电梯三天两头坏，上下楼太难了。",
                                "2026-11-20", phone="13900000012", email="e3@example.com", name="乙"),
                         config, gaz)
    index = SimilarityIndex.build([earlier, other, later])
    found = index.query(later)
    assert [m.letter_code for m in found][:1] == ["E1"] and found[0].duplicate
    assert found[0].place == "梧桐小区" and {"电梯", "故障"} <= set(found[0].phrases)
    assert "E2" not in [m.letter_code for m in found if m.duplicate]
    text = describe(found[0])
    assert "共同地点：梧桐小区" in text and "电梯" in text and f"{found[0].score:.2f}" in text


def test_place_inside_a_verb_phrase(config: Config) -> None:
    gaz = Gazetteer.from_config(config)
    p = make_profile(letter("V", "反映锦绣花园供热问题", "写信反映锦绣花园供热问题。"), config, gaz)
    assert p.sites == {"锦绣花园"}
    q = make_profile(letter("W", "锦绣花园暖气不热", "投诉锦绣花园暖气不热。"), config, gaz)
    assert place_relation(p, q) == "site" and compare(p, q).duplicate


def test_other_building_of_one_estate_is_another_matter(config: Config) -> None:
    gaz = Gazetteer.from_config(config)
    a = make_profile(letter("A", "电梯坏了", "梧桐小区3号楼电梯坏了。"), config, gaz)
    b = make_profile(letter("B", "电梯坏了", "梧桐小区五号楼电梯坏了。"), config, gaz)
    c = make_profile(letter("C", "电梯故障", "梧桐小区3号楼的电梯又停运了。"), config, gaz)
    assert (place_relation(a, b), place_relation(a, c)) == ("different", "site")
    assert not compare(a, b).duplicate and compare(a, c).duplicate


@pytest.mark.parametrize(("text", "sites"), [
    ("，通往，张村的道路", {"张村"}),
    ("我们农村饮水困难", set()),
    ("，田村示例社区室内温度", {"田村示例社区"}),
    ("我家住在梧桐小区", {"梧桐小区"}),
    ("建议在社区建设老年食堂", set()),
    ("龙泉村进村路上", {"龙泉村"}),
    ("写信反映锦绣花园供热问题", {"锦绣花园"}),
    ("投诉滨河公园健身器材", {"滨河公园"}),
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
    assert "L4" not in codes  # same writer, other matter: the writer alone is no reason
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


def test_vectors_kept_by_content_and_made_again_when_missing(config: Config, tmp_path: Path) -> None:
    git_dir = tmp_path / ".git"
    letters = [letter("K1", "暖气不热", "梧桐小区暖气不热，请回电13912345678。", "2026-11-01"),
               letter("K2", "小区暖气不热", "梧桐小区家里冷，暖气片冰凉。", "2026-11-02")]
    first = build_index(letters, config, git_dir)
    kept = git_dir / "letterbox" / "similar.sqlite"
    with closing(sqlite3.connect(kept)) as db:
        rows = db.execute("SELECT vector FROM vectors").fetchall()
    assert len(rows) == 2 and "13912345678" not in str(rows)  # no phone number among the words
    second = build_index(letters, config, git_dir)
    assert all(dict(second.profiles[c].vector) == pytest.approx(dict(first.profiles[c].vector), abs=1e-5)
               for c in first.profiles)
    kept.write_bytes(b"not a database")  # a broken file: made again, the answer the same
    third = build_index(letters, config, git_dir)
    assert [m.letter_code for m in third.query(third.profiles["K2"])] == ["K1"]
    assert [m.letter_code for m in first.query(first.profiles["K2"])] == ["K1"]


def test_writer_data_is_no_shared_phrase(config: Config) -> None:
    gaz = Gazetteer.from_config(config)
    same = {"name": "欧阳秀英", "phone": "13700002222", "email": "oy@example.com", "address": "中州路66号院"}
    a = make_profile(letter("P1", "路灯坏了", "我是欧阳秀英，中州路66号院门口路灯坏了，电话13700002222。",
                            "2026-11-01", **same), config, gaz)
    b = make_profile(letter("P2", "路灯不亮", "欧阳秀英再次反映：中州路66号院门口路灯不亮，oy@example.com。",
                            "2026-11-05", **same), config, gaz)
    m = compare(a, b)
    assert m.duplicate and "same_writer" in m.reasons
    shown = describe(m) + " ".join(w for w, _ in a.vector + b.vector)
    assert not any(d in shown for d in ("欧阳", "秀英", "13700002222", "example.com", "66号院"))


def test_vector_made_on_first_use_and_kept_within_kept_vectors(config: Config, tmp_path: Path) -> None:
    from letterbox.reports import similar

    gaz = Gazetteer.from_config(config)
    git_dir = tmp_path / ".git"
    x = letter("Z1", "电梯坏了", "梧桐小区电梯坏了。")
    lazy = make_profile(x, config, gaz)
    assert "vector" not in lazy.__dict__  # folding every letter segments none
    with similar.kept_vectors(git_dir):
        first = make_profile(x, config, gaz)
        assert dict(first.vector) == pytest.approx(dict(lazy.vector))
    with closing(sqlite3.connect(git_dir / "letterbox" / "similar.sqlite")) as db:
        assert db.execute("SELECT count(*) FROM vectors").fetchone() == (1,)
    with similar.kept_vectors(git_dir):
        again = make_profile(x, config, gaz)
        assert dict(again.vector) == pytest.approx(dict(lazy.vector), abs=1e-5)
        assert similar._DEFAULT_CACHE is not None and similar._DEFAULT_CACHE.new == {}  # read back
    assert similar._DEFAULT_CACHE is None


def test_paraphrase_without_shared_words_is_found_by_meaning(config: Config, tmp_path: Path) -> None:
    """No key word in common (车库进水 / 停车场雨水没过车轮): the sentence embedding finds it, and
    the explanation says so with its cosine; the embedding is kept, as int8 bytes, by content."""
    git_dir = tmp_path / ".git"
    letters = [letter("M1", "车库进水", "文明大道街道紫荆苑地下车库一下雨就进水，车被泡了。", "2026-11-18",
                      phone="13900000021", email="m1@example.com", name="甲"),
               letter("M2", "紫荆苑停车场被淹", "紫荆苑的地下停车场排水不行，昨天一场雨水没过了车轮。",
                      "2026-11-20", phone="13900000022", email="m2@example.com", name="乙"),
               letter("M3", "紫荆苑门禁坏了", "紫荆苑的门禁卡刷不开，外来人员随便进。", "2026-11-19",
                      phone="13900000023", email="m3@example.com", name="丙")]
    index = build_index(letters, config, git_dir)
    found = index.query(index.profiles["M2"])
    assert found and found[0].letter_code == "M1" and found[0].duplicate
    best = found[0]
    assert best.text_score < 0.3 and best.meaning_score >= 0.57 and "similar_meaning" in best.reasons
    assert f"语义相近 {best.meaning_score:.2f}" in describe(best)
    assert best.to_json()["meaning_score"] == round(best.meaning_score, 3)
    assert "M3" not in [m.letter_code for m in found if m.duplicate]
    with closing(sqlite3.connect(git_dir / "letterbox" / "similar.sqlite")) as db:
        rows = db.execute("SELECT vector FROM embeddings").fetchall()
    assert len(rows) == 3 and all(len(r[0]) == 516 for r in rows)
    again = build_index(letters, config, git_dir)  # read back: the same scores
    assert again.query(again.profiles["M2"])[0].score == pytest.approx(best.score, abs=1e-6)


def test_sealed_letters_embedding_is_never_kept(config: Config, tmp_path: Path) -> None:
    from letterbox.reports.similar import VectorCache, prepare_embeddings

    git_dir = tmp_path / ".git"
    cache = VectorCache(git_dir)
    gaz = Gazetteer.from_config(config)
    sealed = letter("S1", "电梯坏了", "梧桐小区电梯坏了。")
    sealed.data["sealed"] = {"recipients": []}
    assert sealed.sealed
    p = make_profile(sealed, config, gaz, cache)
    q = make_profile(letter("S2", "路灯坏了", "梧桐小区路灯坏了。"), config, gaz, cache)
    prepare_embeddings([p, q])
    assert p.embedding.shape == (512,)
    cache.save()
    with closing(sqlite3.connect(git_dir / "letterbox" / "similar.sqlite")) as db:
        keys = [r[0] for r in db.execute("SELECT key FROM embeddings")]
    assert keys == [VectorCache.embedding_key(q.text)]


@pytest.mark.parametrize("history", ["abc", [1, 2], {"a": 1}, None, [{"action": "nonsense"}],
                                     [{"at": 5, "action": "receive"}, {"action": "merge"}]])
def test_next_step_survives_a_broken_history(history: Any) -> None:
    """A hand-broken case file never stops the intake note: it proposes the refusal only."""
    from letterbox.reports.similar import Match, next_step

    broken = Letter(PurePosixPath("a.yaml"), {"letter_code": "A", "history": history})
    new = Letter(PurePosixPath("b.yaml"), {"letter_code": "B", "history": [
        {"at": "2026-01-01T09:00:00+08:00", "action": "receive", "actor": "x"}]})
    text = next_step("B", Match("A", 0.9, ()), {"A": broken, "B": new})
    assert "letterbox reject B --reason duplicate --of A" in text
