"""Redaction of the writer's data written in part (issue 14 point 3, the blind set's misses):
the writer's estate with the writer's building number (太行小区8号楼, 太行小区八号楼三单元, 幸福里12栋,
錦繡家園5號樓), the writer by surname and title (张先生), and the writer's given name where it is
part of a word (常青树) left alone. The blind set's figures as a floor."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from letterbox.core.config import default_config_text, parse_config
from letterbox.privacy.redact import MASKS, Writer, estate_names, keep_words, redact

ROOT = Path(__file__).resolve().parents[2]
BLIND = ROOT / "tests" / "data" / "redaction_blind.jsonl"
KEEP = keep_words(parse_config(default_config_text()))
ZHANG = Writer(name="张建国", phone="13812345678", address="安阳市龙安区向阳路太行小区8号楼3单元402室")
LI = Writer(name="李秀英", address="文昌区常青路幸福里小区12栋2单元301")
CHEN = Writer(name="陈静", address="文昌区人民路阳光花园A区7栋1402")
WANG = Writer(name="王磊", address="文昌区建设路56号院3号楼1单元602")


def public(text: str, writer: Writer) -> str:
    return redact(text, writer, keep=KEEP).text


# --------------------------------------------------------------------------- the writer's estate

@pytest.mark.parametrize(("writer", "text", "expected"), [
    (ZHANG, "住在太行小区8号楼3单元，灯不亮。", "住在〔地址〕，灯不亮。"),
    (ZHANG, "您反映的太行小区八号楼三单元楼道照明问题", "您反映的〔地址〕楼道照明问题"),
    (ZHANG, "住址为太行小区8栋3单元502。", "住址为〔地址〕。"),
    (ZHANG, "太行小区８号楼３单元４０２室", "〔地址〕"),
    (ZHANG, "太行小區8號樓3單元", "〔地址〕"),
    (ZHANG, "太行8号楼的灯坏了。", "〔地址〕的灯坏了。"),  # without 小区
    (ZHANG, "向阳路太行小区 8 号楼", "〔地址〕"),
    (LI, "家住幸福里小区12栋，暖气不热。", "家住〔地址〕，暖气不热。"),
    (LI, "幸福里12栋2单元301，盼复。", "〔地址〕，盼复。"),
    (LI, "幸福里小区十二栋二单元", "〔地址〕"),
    (CHEN, "住在阳光花园7栋，油烟大。", "住在〔地址〕，油烟大。"),
    (CHEN, "阳光花园A区7栋1402", "〔地址〕"),
    (WANG, "反映建设路56号院3号楼下水道堵塞。", "反映〔地址〕下水道堵塞。"),
])
def test_the_writers_estate_with_the_writers_building_is_masked(writer: Writer, text: str,
                                                                  expected: str) -> None:
    assert public(text, writer) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("太行小区的路灯坏了。", "太行小区的路灯坏了。"),  # the estate alone: what the letter is about
    ("太行小区9号楼漏水。", "太行小区〔地址〕漏水。"),  # another building: only its numbers
    ("太行小区8月以来一直停水。", "太行小区8月以来一直停水。"),  # a month, no building
    ("向阳路8号楼", "向阳路〔地址〕"),  # the road is no estate when an estate follows it
])
def test_the_estate_stays_where_it_is_not_the_writers_building(text: str, expected: str) -> None:
    assert public(text, ZHANG) == expected


def test_another_writers_estate_is_not_masked() -> None:
    assert public("太行小区8号楼3单元", LI) == f"太行小区{MASKS['address']}"


@pytest.mark.parametrize(("address", "names", "first"), [
    ("安阳市龙安区太行小区8号楼3单元402室", ["安阳市龙安区太行小区", "龙安区太行小区", "太行小区", "太行"], 8),
    ("文昌区人民路阳光花园A区7栋1402", ["文昌区人民路阳光花园a区", "人民路阳光花园a区", "阳光花园a区", "阳光花园", "阳光"], 7),
    ("文昌区建设路56号院3号楼1单元602", ["文昌区建设路", "建设路"], 56),
    ("文昌区和平街道常青小区3号楼4单元201", ["文昌区和平街道常青小区", "和平街道常青小区", "常青小区", "常青"], 3),
    ("幸福里社區15棟2單元701室", ["幸福里社区", "幸福里"], 15),
    ("城市花园十二号楼", ["城市花园", "城市"], 12),  # 城市 is no city prefix
    ("文昌区幸福路小区3栋", ["文昌区幸福路小区", "幸福路小区", "幸福路"], 3),  # 小区 alone is no name
    ("8号楼3单元", [], 8),  # no estate
    ("文昌区太行小区", [], -1),  # no building
])
def test_estate_names(address: str, names: list[str], first: int) -> None:
    assert estate_names(address) == (names, first)


# --------------------------------------------------------------------------- surname and title

@pytest.mark.parametrize(("writer", "text", "expected"), [
    (ZHANG, "张先生您好：", "〔姓名〕您好："),
    (ZHANG, "張先生您好：", "〔姓名〕您好："),
    (CHEN, "我是陈女士，住在", "我是〔姓名〕，住在"),
    (Writer(name="欧阳明辉"), "欧阳先生反映", "〔姓名〕反映"),
])
def test_the_writer_by_surname_and_title(writer: Writer, text: str, expected: str) -> None:
    assert public(text, writer) == expected


def test_another_surname_and_title_keeps_the_title() -> None:
    assert public("李先生您好：", ZHANG) == "〔姓名〕先生您好："  # the generic rule: surname only


# --------------------------------------------------------------------------- the given name in words

@pytest.mark.parametrize("text", ["门口那棵常青树被砍了。", "楼下的常青藤围墙被拆了。",
                                  "河南常青物业服务有限公司已整改。", "常青小学门口拥堵。"])
def test_a_given_name_inside_a_word_stays(text: str) -> None:
    assert public(text, Writer(name="赵常青")) == text


@pytest.mark.parametrize(("text", "expected"), [
    ("常青反映楼道堆物。", "〔姓名〕反映楼道堆物。"),
    ("常青同志：您好！", "〔姓名〕同志：您好！"),
    ("明辉树立了榜样。", "〔姓名〕树立了榜样。"),
])
def test_the_given_name_as_a_name_is_masked(text: str, expected: str) -> None:
    writer = Writer(name="欧阳明辉") if "明辉" in text else Writer(name="赵常青")
    assert public(text, writer) == expected


def test_a_two_character_writer_name_stays_masked_in_words() -> None:
    assert "常青" not in public("门口那棵常青树被砍了。", Writer(name="常青"))


# --------------------------------------------------------------------------- e-mail

@pytest.mark.parametrize("text", ["邮箱：wanglei_zz AT 126 DOT com", "邮箱 abc.de at qq dot com。",
                                  "邮箱 abc at qq.com"])
def test_an_email_with_bare_at_and_dot(text: str) -> None:
    out = redact(text, Writer()).text
    assert MASKS["email"] in out and "qq" not in out and "126" not in out, out


def test_at_and_dot_in_words_stay() -> None:
    for text in ("we meet at home, dot the i", "we meet at home. Then we go."):
        assert redact(text, Writer()).text == text


# --------------------------------------------------------------------------- the blind set

def _eval_module() -> ModuleType:
    path = ROOT / "scripts" / "redaction_eval.py"
    spec = importlib.util.spec_from_file_location("redaction_eval_partial", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_script_takes_a_relative_path(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT / "tests")
    assert _eval_module().main(["data/redaction_blind.jsonl"]) == 0
    assert "tests/data/redaction_blind.jsonl" in capsys.readouterr().out


# Measured on tests/data/redaction_blind.jsonl after changes made looking at its misses, so no
# longer blind (docs/site.md): a regression guard. Before: writer 37/52, words 55/63, 66/74.
BLIND_FLOOR = {"writer": (51, 52), "other": (15, 15), "words": (59, 63)}
BLIND_PRECISION = 66 / 70


def test_blind_figures_do_not_fall() -> None:
    result = _eval_module().evaluate(BLIND)
    for key, (hit, total) in BLIND_FLOOR.items():
        assert result.counts[key][1] == total, (key, "the blind set changed")
        assert result.counts[key][0] >= hit, (key, result.counts[key], result.misses)
    assert result.rate("precision") >= BLIND_PRECISION, result.misses
