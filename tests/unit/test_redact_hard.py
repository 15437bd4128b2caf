"""Redaction, issue 14 point 3: the writer's data in every separator, script and numeral; data
of others in the forms that slipped through; what must stay (public numbers and places of the
configuration, counts, reference numbers); and the held-out set's figures as a floor."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from letterbox.core.config import default_config_text, parse_config
from letterbox.core.errors import LetterboxError
from letterbox.privacy.redact import MASKS, Writer, keep_words, leaks, needles, redact, squash
from site_builder.scan import scan

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "data" / "redaction_heldout.jsonl"
WRITER = Writer(name="张三丰", phone="138-1234-5678", email="zsf@example.com",
                address="安阳市龙安区太行小区8号楼3单元402室")
KEEP = keep_words(parse_config(default_config_text()))  # the registry of a new repository


def public(text: str, writer: Writer = WRITER, keep: list[str] | None = None) -> str:
    return redact(text, writer, keep=KEEP if keep is None else keep).text


# --------------------------------------------------------------------------- recall

SEPARATED = ["138/1234/5678", "138_1234_5678", "138、1234、5678", "138，1234，5678", "138,1234,5678",
             "138；1234；5678", "138：1234：5678", "138|1234|5678", "138｜1234｜5678", "１３８／１２３４／５６７８",
             "138。1234。5678", "138 / 1234 / 5678", "138\n1234\n5678", "13812\n345678",
             "壹叁捌壹贰叁肆伍陆柒捌", "1三8一二三4五六七8"]


@pytest.mark.parametrize("spelling", SEPARATED)
def test_writer_phone_with_any_separator_is_masked(spelling: str) -> None:
    out = public(f"我的电话{spelling}，请回电。")
    assert MASKS["phone"] in out and out.endswith("，请回电。"), out
    assert "12345678" not in squash(out)


@pytest.mark.parametrize("spelling", SEPARATED)
def test_the_leak_check_sees_every_separator(spelling: str) -> None:
    assert "13812345678" in squash(spelling)
    assert leaks(f"电话{spelling}。", needles(WRITER)) == ["13812345678"]


def test_digit_separators_join_digits_only() -> None:
    assert squash("王，建国") == "王,建国"  # two words stay two words
    assert squash("共3户、5栋") == "共3户、5栋"
    assert squash("2023、2024") == "20232024"


def test_the_final_leak_scan_finds_a_separated_phone(tmp_path: Path) -> None:
    (tmp_path / "letters").mkdir()
    (tmp_path / "letters" / "a.html").write_text("<p>电话138、1234、5678</p>", "utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"t": "張三豐"}), "utf-8")
    owners = {n: "LA-2026-00001" for n in needles(WRITER)}
    assert scan(tmp_path, owners) == [("b.json", "LA-2026-00001"), ("letters/a.html", "LA-2026-00001")]


@pytest.mark.parametrize("spelling", ["張三豐", "張 三 豐", "张三豐", "張三丰"])
def test_writer_name_in_traditional_characters(spelling: str) -> None:
    out = public(f"本人{spelling}反映路灯不亮。")
    assert out == "本人〔姓名〕反映路灯不亮。"
    assert leaks(spelling, needles(WRITER)) == [squash("张三丰")]


def test_writer_address_in_traditional_characters() -> None:
    out = public("住太行小區8號樓3單元402室，樓道燈壞了。")
    assert "402" not in out and out.endswith("，樓道燈壞了。")


def test_traditional_names_of_others() -> None:
    assert "張偉" not in public("鄰居張偉天天在樓道堆雜物。")


@pytest.mark.parametrize("text", ["她的旧证410502450315123不能用了。", "号码 410502 450315 123 作废",
                                  "身份证号410502450315123。"])
def test_fifteen_digit_id_numbers(text: str) -> None:
    out = redact(text, Writer()).text
    assert "450315" not in out and MASKS["id"] in out


def test_fifteen_digits_that_are_no_date_stay() -> None:
    assert redact("批次410502451315123。", Writer()).text == "批次410502451315123。"


@pytest.mark.parametrize("plate", ["豫 E 12345", "豫E 12345", "豫 E·12345", "豫E 123 45", "京 A D 12345", "豫Ｅ１２３４５"])
def test_plates_with_spaces(plate: str) -> None:
    out = redact(f"车牌{plate}的车天天占道。", Writer()).text
    assert out == "车牌〔车牌号〕的车天天占道。", out


@pytest.mark.parametrize("card", ["6222021234567890", "6222 0000 1111 2222", "6222-0000-1111-2222",
                                  "6222/0000/1111/2222", "6217001234567890123"])
def test_card_numbers_without_a_keyword(card: str) -> None:
    out = redact(f"钱打到{card}，没收到。", Writer()).text
    assert out == "钱打到〔银行卡号〕，没收到。", out


@pytest.mark.parametrize(("text", "gone"), [
    ("邻居的手机是137/0000/2222。", "00002222"),
    ("对方电话137、0000、2222，一直不接。", "00002222"),
    ("他的电话：137，0000，2222。", "00002222"),
    ("电话：+86-158、0372、1234", "03721234"),
    ("座机0372/5987654", "5987654"),
    ("电话（0372）598-7654", "5987654"),
])
def test_phones_of_others_with_separators(text: str, gone: str) -> None:
    assert gone not in squash(redact(text, Writer()).text)


# --------------------------------------------------------------------------- precision

@pytest.mark.parametrize("text", [
    "如有疑问请拨打12345政务服务便民热线。",
    "如有疑问请拨打〔电话〕".replace("〔电话〕", "12345"),
    "如有疑问请拨打区信息中心电话0372-3199001。",
    "咨询电话：0372－3199001（工作日）。",
    "咨询电话：0372 3199001。",
    "可拨打１２３４５反映。",
    "也可拨打0372-12345。",
    "区城市管理局值班电话：0372-3199102。",
    "请到区信息中心3楼302室办理。",
    "办公地点：区政府办公楼3楼302室。",
    "区政府地址：安阳市龙安区文明大道1号。",
])
def test_public_numbers_and_places_of_the_registry_stay(text: str) -> None:
    assert public(text) == text


def test_the_registry_decides() -> None:
    text = "如有疑问请拨打区信息中心电话0372-3199001。"
    assert public(text, keep=[]) == "如有疑问请拨打区信息中心电话〔电话〕。"


@pytest.mark.parametrize(("text", "expected"), [
    ("请拨打0371-3199001。", "请拨打〔电话〕。"),  # same local number, another area
    ("他住在幸福小区3楼302室。", "他住在幸福小区〔地址〕。"),  # the office's room, in a home
    ("住在13楼302室的老人没人管。", "住在13楼〔地址〕的老人没人管。"),
    ("文明大道1号院3号楼2单元的住户。", "文明大道〔地址〕的住户。"),
])
def test_look_alikes_of_public_entries_are_masked(text: str, expected: str) -> None:
    assert public(text) == expected


def test_public_numbers_never_unmask_the_writer() -> None:
    writer = Writer(name="李四", phone="0372-3199001")
    assert public("我的电话0372-3199001。", writer) == "我的电话〔电话〕。"


@pytest.mark.parametrize("text", [
    "该小区共有1500户居民。", "全村1500户已全部通上自来水。", "小区共有300栋楼，只有2个出入口。",
    "此次改造涉及28栋住宅楼、960户。", "每户补贴500元，共计30人受益。", "房屋面积120平方米，月租金1500元。",
    "全村三百户都没有通天然气。", "楼高18层，只有2部电梯。", "小区3000多人只有一个出口。",
    "共有3户人家。", "新建了6栋楼。",
])
def test_counts_and_quantities_are_no_addresses(text: str) -> None:
    assert redact(text, Writer()).text == text


@pytest.mark.parametrize(("text", "expected"), [
    ("共有3户人家住在5号楼2单元。", "共有3户人家住在〔地址〕。"),
    ("他住在阳光花园5栋1单元302室。", "他住在阳光花园〔地址〕。"),
    ("15栋2单元701的业主私搭乱建。", "〔地址〕的业主私搭乱建。"),
    ("幸福小区3栋楼下的垃圾。", "幸福小区〔地址〕楼下的垃圾。"),
    ("东关村3组25号的违建。", "东关村〔地址〕的违建。"),
])
def test_real_addresses_stay_masked(text: str, expected: str) -> None:
    assert redact(text, Writer()).text == expected


@pytest.mark.parametrize("text", [
    "发票号码：13800138000，金额300元。", "发票号13800138000。", "订单号15937281234一直显示未发货。",
    "快递单号 13912345678 查不到物流。", "订单号：6222021234567890123，退款未到。",
    "工单号2026113000456已办结。", "运单号SF1234567890。",
])
def test_reference_numbers_after_their_keyword_stay(text: str) -> None:
    assert redact(text, Writer()).text == text


def test_a_phone_beside_a_reference_number_is_still_masked() -> None:
    out = redact("订单号2026113000456，快递员电话13912345678。", Writer()).text
    assert out == "订单号2026113000456，快递员电话〔电话〕。"


# --------------------------------------------------------------------------- configuration

def _config_text(**changes: object) -> str:
    data = yaml.safe_load(default_config_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return yaml.safe_dump(data, allow_unicode=True)


def test_public_contacts_default_and_absent() -> None:
    config = parse_config(default_config_text())
    assert "12345" in config.public_words and "3楼302室" in config.public_words
    assert "0372-3199001" in keep_words(config)
    # without public contacts only the bodies the notices name (their address, phone) are public
    assert parse_config(_config_text(public_contacts=None, bodies=None)).public_words == ()
    bodies_only = parse_config(_config_text(public_contacts=None)).public_words
    assert "12345" not in bodies_only and "3楼302室" not in bodies_only


@pytest.mark.parametrize("entry", [{"name": "热线"}, {"name": "热线", "phone": "打这个"}, {"phone": "12345"},
                                   {"name": "热线", "phone": "12345", "fax": "1"}, {"name": "x", "place": ""}])
def test_public_contacts_are_validated(entry: dict[str, str]) -> None:
    with pytest.raises(LetterboxError) as err:
        parse_config(_config_text(public_contacts=[entry]))
    assert all(p.field.startswith("public_contacts[0]") for p in err.value.problems), err.value.problems


# --------------------------------------------------------------------------- held-out floor

def _eval_module() -> ModuleType:
    path = ROOT / "scripts" / "redaction_eval.py"
    spec = importlib.util.spec_from_file_location("redaction_eval", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# Measured on tests/data/redaction_heldout.jsonl after the change (docs/site.md): a regression
# guard, not a target. Raise them when the figures improve; never tune on this set.
HELDOUT_FLOOR = {"writer": (46, 48), "other": (19, 19), "words": (57, 57)}  # (found, labelled)
HELDOUT_PRECISION = 65 / 65


def test_heldout_figures_do_not_fall() -> None:
    result = _eval_module().evaluate(HELDOUT)
    for key, (hit, total) in HELDOUT_FLOOR.items():
        assert result.counts[key][1] == total, (key, "the held-out set changed")
        assert result.counts[key][0] >= hit, (key, result.counts[key], result.misses)
    assert result.rate("precision") >= HELDOUT_PRECISION, result.misses
