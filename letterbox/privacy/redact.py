"""Redaction: mask the writer's own data and personal data of anyone in a letter's text.

Articles 14(4) and 15(5) of the Measures: writers' names and contacts are strictly
confidential. Every pattern runs on a *normalised view* of the text (full-width forms folded
by NFKC, traditional characters read as simplified, Chinese digits read as digits, lower case)
whose characters map back to the original, so "１３８ 一二三四 5678" is found as a phone number
and masked in the original, and 張三豐 as the writer 张三丰.

Masks stay readable: 〔姓名〕 〔电话〕 〔地址〕 … Overlapping finds are merged, so a mask
never leaves a piece of what it covers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cache, cached_property, lru_cache
from typing import Any

import numpy as np

from letterbox.core.config import Config
from letterbox.privacy.names import COMPOUND_SURNAMES, T2S, person_ranges, simplified

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

_CN_NUMERALS = "零〇一二三四五六七八九幺壹贰叁肆伍陆柒捌玖"  # with the financial forms (贰, 陸 → 陆)
_CN_VALUES = "001234567891123456789"
_CN_DIGITS = str.maketrans(_CN_NUMERALS, _CN_VALUES)
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
SEP = r"[\s\-‐‑–—.·()（）\u200b]*"  # what may stand between the digits of one number
# What may stand between two digits of one number and nowhere else (after NFKC: ，；：／＿｜～
# become ,;:/_|~): 138/1234/5678, 138、1234、5678, 138，1234，5678. Dropped only between digits, so
# 王，建国 stays two words while 138，1234，5678 is one number, in `squash` and in the view alike.
DIGIT_SEPARATORS = "/_、,;:|~。・\\"
_BETWEEN_DIGITS = re.compile(rf"(?<=[0-9])[{re.escape(DIGIT_SEPARATORS)}]+(?=[0-9])")


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
    """The comparison form: NFKC, traditional characters as simplified, Chinese digits as
    digits, lower case, no separators (and none of DIGIT_SEPARATORS between two digits)."""
    if len(text) >= 256 and not _has_surrogate(text):  # one array operation each, unless a
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # character needs its
        if codes.max() < len(_SQUASH_TABLE):  # neighbours or is outside the basic plane
            mapped = _SQUASH_TABLE[codes]
            if (mapped == _CONTEXT).any():  # expansions first (…, ㈠, ﬁ), then again
                codes = np.frombuffer(text.translate(_EXPANSIONS).encode("utf-32-le"), dtype=np.uint32)
                mapped = _SQUASH_TABLE[codes] if len(codes) else mapped[:0]
            if not (mapped == _CONTEXT).any():
                return _digits_joined(mapped[mapped != 0]).tobytes().decode("utf-32-le")
    folded = simplified(unicodedata.normalize("NFKC", text).lower())
    return _BETWEEN_DIGITS.sub("", _DIGIT_OR_SEPARATORS.sub(_squash_one, folded))


def _digits_joined(mapped: Any) -> Any:
    """`mapped` (code points) without the runs of DIGIT_SEPARATORS that stand between two digits:
    _BETWEEN_DIGITS as array operations, looking only at the characters after digits."""
    n = len(mapped)
    digit = (mapped - 0x30) < 10  # unsigned: below "0" wraps round to large
    after = np.flatnonzero(digit[:-1]) + 1
    start = after[_DIGIT_SEPARATOR_TABLE[mapped[after]]]  # a separator right after a digit
    if not len(start):
        return mapped
    end = start + 1  # then the end of each run of separators
    while True:
        more = end < n
        more[more] = _DIGIT_SEPARATOR_TABLE[mapped[end[more]]]
        if not more.any():
            break
        end[more] += 1
    joins = end < n
    joins[joins] = digit[end[joins]]  # a digit after the run
    if not joins.any():
        return mapped
    runs = np.bincount(start[joins], minlength=n + 1) - np.bincount(end[joins], minlength=n + 1)
    return mapped[np.cumsum(runs)[:n] == 0]


def _has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _squash_one(m: re.Match[str]) -> str:
    return _CN_DIGIT.get(m.group(), "")


_SEPARATORS = "-‐‑–—.·()（）\u200b"  # the non-space characters of SEP
_CN_DIGIT = {c: d for c, d in zip(_CN_NUMERALS, _CN_VALUES, strict=True)}
_DIGIT_OR_SEPARATORS = re.compile(rf"[{_CN_NUMERALS}]|[\s{_INVISIBLE}{re.escape(_SEPARATORS)}]+")


_CONTEXT = 0xFFFFFFFF  # in _SQUASH_TABLE: a character whose form depends on its neighbours


def _squash_table() -> Any:
    """Basic-plane code point → code point of its squashed form (0: dropped), or _CONTEXT for a
    character that NFKC or lower() treat with its neighbours (combining marks, Hangul jamo,
    Σ) or that becomes several characters (㈠, ﬁ): texts holding one take the string path."""
    table = np.zeros(0x10000, dtype=np.uint32)
    dropped = set(_INVISIBLE + _SEPARATORS)
    for code in range(0x10000):
        ch = chr(code)
        folded = unicodedata.normalize("NFKC", ch).lower()
        if (len(folded) != 1 or unicodedata.category(ch).startswith("M") or ch in "Σς"
                or 0x1100 <= code <= 0x11FF or 0xD7B0 <= code <= 0xD7FF or 0xA960 <= code <= 0xA97F
                or unicodedata.category(folded).startswith("M")):
            table[code] = _CONTEXT
        elif not (folded.isspace() or folded in dropped or ch in dropped):
            folded = folded.translate(T2S)
            table[code] = ord(_CN_DIGIT.get(folded, folded))
            if table[code] >= 0x10000:  # outside the basic plane: the string path
                table[code] = _CONTEXT
    return table


_SQUASH_TABLE = _squash_table()
_DIGIT_SEPARATOR_TABLE = np.zeros(0x10000, dtype=bool)  # by squashed code point
_DIGIT_SEPARATOR_TABLE[[ord(c) for c in DIGIT_SEPARATORS]] = True


def _expansions() -> dict[int, str]:
    """Basic-plane characters that NFKC turns into several (…, ㈠, ﬁ) → their squashed form, where
    that form is the same whatever stands beside them (every character of it maps to itself)."""
    out = {}
    for code in np.flatnonzero(_SQUASH_TABLE == _CONTEXT).tolist():
        ch = chr(code)
        if 0xD800 <= code <= 0xDFFF or unicodedata.category(ch).startswith("M"):
            continue
        folded = unicodedata.normalize("NFKC", ch).lower()
        if len(folded) < 2 or "Σ" in unicodedata.normalize("NFKC", ch) or \
                any(unicodedata.category(c).startswith("M") for c in folded):
            continue
        form = _DIGIT_OR_SEPARATORS.sub(_squash_one, folded)
        if all(_SQUASH_TABLE[ord(c)] == ord(c) for c in form if ord(c) < 0x10000) and \
                all(ord(c) < 0x10000 for c in form):
            out[code] = form
    return out


_EXPANSIONS = _expansions()
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
        name, see SEP; DIGIT_SEPARATORS between two digits), as `squash` has it, and for each of
        its characters its index in `text`."""
        where: list[int] = []
        runs = []
        for m in _NOT_SEP.finditer(self.text):
            where.extend(range(m.start(), m.end()))
            runs.append(m.group())
        packed = "".join(runs)
        if _BETWEEN_DIGITS.search(packed) is None:
            return packed, where
        kept, places, last = [], [], 0
        for m in _BETWEEN_DIGITS.finditer(packed):
            kept.append(packed[last:m.start()])
            places.extend(where[last:m.start()])
            last = m.end()
        kept.append(packed[last:])
        places.extend(where[last:])
        return "".join(kept), places

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
    return unicodedata.normalize("NFKC", ch).translate(T2S).translate(_CN_DIGITS).lower() or " "


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


def _tail_numbers(address: str) -> tuple[str, ...]:
    """The numbers of `3号楼2单元501室` (two or more), to be found also as 3-2-501, 3栋2单元501 …"""
    numbers = tuple(re.findall(r"\d+", squash(_detailed_tail(address))))
    return numbers if len(numbers) >= 2 else ()


@cache
def _numbers_in_order(count: int) -> re.Pattern[str]:
    """`count` numbers glued by building/unit/room words or dashes, tried at every position
    (a lookahead: matches may overlap); the numbers themselves are compared by the caller."""
    glue = r"\s*(?:号楼|号院|号|栋|幢|座|单元|门|层|楼|室|户|房|[-‐–—/#])\s*"
    numbers = glue.join([r"(\d+)"] * count)
    return re.compile(rf"(?=(?<!\d){numbers}(?!\d)((?:\s*(?:室|户|房|号))?))")


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
    it (`_View.find`), or else numbers in order; then checks of what is around."""

    kind: str
    reason: str
    literal: str = ""
    numbers: tuple[str, ...] = ()  # or: these numbers in order (a building/unit/room tail)
    apart: str = ""  # what must not stand right before or after it: "digit", "alnum"
    not_place: bool = False  # not followed by a place or a word it is part of: 建国路, 常青树
    pattern: re.Pattern[str] | None = None  # or: this regex on the view; if `first` is set,
    first: int | None = None  # its group "n" read as a number must be `first` (_estate_pattern)

    def spans(self, view: _View) -> Iterator[tuple[int, int]]:
        if self.pattern is not None:
            found: Iterable[tuple[int, int]] = self._estate(view.text)
        else:
            found = view.find(self.literal) if self.literal else self._numbers(view.text)
        text = view.text
        for start, end in found:
            if self.apart and any(self._joins(text[i]) for i in (start - 1, end)
                                  if 0 <= i < len(text)):
                continue
            if self.not_place and _NOT_PLACE.match(text, end) is None:
                continue
            yield start, end

    def _estate(self, text: str) -> Iterator[tuple[int, int]]:
        assert self.pattern is not None
        for m in self.pattern.finditer(text):
            if self.first is None or _number_value(m.group("n")) == self.first:
                yield m.span()

    def _numbers(self, text: str) -> Iterator[tuple[int, int]]:
        count = len(self.numbers)
        for m in _numbers_in_order(count).finditer(text):
            if m.groups()[:count] == self.numbers:
                yield m.start(1), m.end(count + 1)

    def _joins(self, ch: str) -> bool:
        return ch.isdigit() if self.apart == "digit" else ch in _ALNUM


_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
# What does not follow the writer's given name where it is the name: a place word (向阳路), or a
# word the given name is part of (常青树, 常青藤, 常青物业, 向阳社区, 向阳小学). Only for the given
# name of a name of three or more characters: a writer named 向阳 stays masked everywhere.
_NOT_PLACE = re.compile(r"(?!路|街|大道|大街|巷|小区|村|镇|乡|广场|公园|以来|社区|居委|村委|街道|"
                        r"花园|家园|新村|大厦|公寓|物业|公司|集团|企业|工厂|厂|商场|商店|超市|市场|"
                        r"酒店|宾馆|饭店|餐厅|医院|诊所|学校|小学|中学|大学|学院|幼儿园|银行|"
                        r"树(?!立)|藤)")


# --------------------------------------------------------------------------- the writer's estate

# The estate (or road) of the writer's address, then the writer's building number: 太行小区8号楼,
# 太行小区八号楼三单元, 太行8栋3单元502, 錦繡家園5號樓 (the view reads 八 as 8, 號樓 as 号楼).
_UNIT_WORD = r"(?:号楼|号院|号|栋|幢|座|单元|门|层|楼|室|户|房|[-‐–—/#](?=\s*[0-9十两]))"
_TAIL_START = re.compile(r"[0-9十两]+\s*(?:号楼|号院|号|栋|幢|座|单元|门|层|楼|室|户|房|[-‐–—/#](?=[0-9十两]))")
# A district, town, street or road before the estate: 文昌区, 和平街道, 向阳路 (three characters or
# more, so 城市花园 keeps its 城市); 小区, 社区, 园区 and 景区 are no districts.
_AREA_PREFIX = re.compile(r".{2,}?(?:省|自治区|自治州|市|盟|(?<![小社园景])区|县|旗|镇|乡|街道|办事处|"
                          r"大道|大街|路|街|巷|胡同|弄)")
_SUB_AREA = re.compile(r"(?:[a-z0-9]{1,2}|[东西南北中])区$|[0-9]{1,2}期$")
_ESTATE_SUFFIX = re.compile(r"(?:小区|花园|家园|社区)$")
_PLACE_WORD = re.compile(r"小区|花园|家园|社区|新村|公寓|大厦|广场|[a-z0-9东西南北中]?区|\d*期|院|苑|村")


def _number_value(text: str) -> int:
    """A number of the view: 502, or with 十 and 两 (十2 = 12, 2十 = 20, 2十3 = 23)."""
    text = text.replace("两", "2")
    if "十" not in text:
        return int(text) if text.isdigit() else -1
    tens, _, ones = text.partition("十")
    if not (tens.isdigit() or not tens) or not (ones.isdigit() or not ones) or len(tens) > 1 or len(ones) > 1:
        return -1
    return int(tens or 1) * 10 + int(ones or 0)


def estate_names(address: str) -> tuple[list[str], int]:
    """The names the writer's estate goes by (in the view's form, longest first) and the
    writer's first building number: for 文昌区常青路幸福里小区12栋2单元301 the names 文昌区常青路幸福里小区,
    常青路幸福里小区, 幸福里小区, 幸福里 and 12. ([], -1) when the address has no building number."""
    folded = _view(re.sub(r"\s+", "", address)).text
    tail = _TAIL_START.search(folded)
    if tail is None:
        return [], -1
    first = _number_value(re.match(r"[0-9十两]+", tail.group()).group())  # type: ignore[union-attr]
    estate = folded[:tail.start()]
    names = []
    while len(estate) >= 2:
        names.append(estate)
        prefix = _AREA_PREFIX.match(estate)
        if prefix is None or len(estate) - prefix.end() < 2 or \
                _PLACE_WORD.fullmatch(estate, prefix.end()):  # 幸福路小区 is no 小区
            break
        estate = estate[prefix.end():]
    if names:
        for pattern in (_SUB_AREA, _ESTATE_SUFFIX):
            shorter = pattern.sub("", names[-1])
            if 2 <= len(shorter) < len(names[-1]):
                names.append(shorter)
    return names, first


def _estate_pattern(names: Sequence[str]) -> re.Pattern[str]:
    """An estate name, then numbers with building/unit/room words: the first number is group
    "n"; a bare number last (the room: 3单元502) but no date, price or count (8号楼2023年)."""
    number = r"[0-9十两]+"
    return re.compile(
        rf"(?:{'|'.join(map(re.escape, names))})\s*(?P<n>{number})\s*{_UNIT_WORD}"
        rf"(?:\s*{number}\s*{_UNIT_WORD})*(?:\s*[0-9]+(?![0-9十两.年月日号元米个人天次万千百%]))?")


_WRITER_TITLES = ("先生", "女士", "小姐", "同志", "老师", "师傅", "大爷", "大妈", "大娘", "阿姨",
                  "大姐", "大哥", "奶奶", "爷爷")


@lru_cache(maxsize=64)
def writer_rules(writer: Writer) -> tuple[_Rule, ...]:
    """Each form in which the writer's data is looked for in a text."""
    found: list[_Rule] = []
    name = squash(writer.name)
    if len(name) >= 2:
        found.append(_Rule("name", "来信人姓名", name))
        if given := _given_name(name):
            found.append(_Rule("name", "来信人名字", given, not_place=True))
        surname = name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]
        if "\u4e00" <= surname[0] <= "\u9fff":  # 张先生, 陈女士: the writer by surname and title
            found.append(_Rule("name", "来信人姓氏加称谓", pattern=re.compile(
                rf"{re.escape(surname)}(?:{'|'.join(_WRITER_TITLES)})(?!们)")))
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
        if numbers := _tail_numbers(writer.address):
            found.append(_Rule("address", "来信人地址（楼栋单元门牌）", numbers=numbers))
        names, first = estate_names(writer.address)
        if names and first >= 0:
            found.append(_Rule("address", "来信人地址（小区和楼号）", pattern=_estate_pattern(names),
                               first=first))
    return tuple(found)


def needles(writer: Writer) -> list[str]:
    """Squashed strings that must not occur anywhere in the public output."""
    return list(_needles(writer))


@lru_cache(maxsize=1 << 16)  # a build asks twice per letter: the leak scan, the last check
def _needles(writer: Writer) -> tuple[str, ...]:
    out = {squash(writer.name), squash(writer.email), squash(writer.address)}
    out.update(_phone_digits(writer.phone))
    local = squash(writer.email).split("@")[0]
    if len(local) >= 6:
        out.add(local)
    out.update(squash(t) for t in address_tails(writer.address))
    return tuple(sorted(n for n in out if len(n) >= 2))


# --------------------------------------------------------------------------- generic patterns

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# A place word (…路, …小区, …村) before a number: the word's last character, with a letter of
# the name before it (a lookbehind, so the regex is tried at place suffixes, not everywhere;
# only the numbers after it are masked)
_PLACE = (r"(?<=[\u4e00-\u9fa5a-z0-9])(?:省|市|区|县|镇|乡|街道|村|组|大道|大街|路|街|巷|胡同|弄|"
          r"小区|花园|家园|公寓|大厦|广场|新村|社区|苑|园|院|城|庄)")
_NUM = r"[0-9十百]+"
_ROOM_UNIT = rf"{_NUM}\s*(?:号楼|号院|栋|幢|座|单元|室|户)"
_ANY_UNIT = rf"{_NUM}\s*(?:号楼|号院|号|栋|幢|座|单元|门|层|楼|室|户|房|组)"
_SECTION = r"(?:[东西南北中]段|[东西南北]侧)?"  # 人民大道中段88号
_DSEP_CHARS = re.escape(DIGIT_SEPARATORS)
_DSEP = f"[{_DSEP_CHARS}]"

# IDs, cards and phones: tried only around runs of ten digits or more (`_LONG_NUMBER`), so a text
# without one costs one scan instead of eight.
NUMBERS: tuple[tuple[str, str, str], ...] = (
    ("id", r"(?<![0-9a-z])\d(?:[\s\-]?\d){16}[\s\-]?[0-9x](?![0-9a-z])", "身份证号"),
    # first-generation ID (15 digits): area code, YYMMDD, sequence; no check digit
    ("id", r"(?<![0-9a-z])[1-8]\d{5}[\s\-]?\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[\s\-]?\d{3}"
           r"(?![0-9a-z])", "身份证号（15位）"),
    ("bank", r"(?<!\d)\d(?:[\s\-]?\d){15,18}(?!\d)", "银行卡号"),
    # 16-19 digits in one run, or in groups of four with one separator, are a card number
    # whether or not they pass Luhn (order and invoice numbers after their keyword are not
    # masked: REFERENCE)
    ("bank", r"(?<![0-9a-z])\d{16,19}(?![0-9a-z])", "银行卡号（16至19位数字）"),
    ("bank", rf"(?<![0-9a-z])\d{{4}}(?P<s>[\s\-]|\s*{_DSEP}\s*)\d{{4}}(?P=s)\d{{4}}(?P=s)\d{{4}}"
             r"(?:(?P=s)\d{1,3})?(?![0-9a-z])", "银行卡号（16至19位数字）"),
    ("phone", r"(?<![\d])(?:\+?86[\s\-]?)?1[3-9]\d(?:" + SEP + r"\d){8}(?!\d)", "手机号码"),
    ("phone", rf"(?<![\d])(?:\+?86\s*[\-{_DSEP_CHARS}]?\s*)?1[3-9]\d\s*(?P<s>{_DSEP})\s*\d{{4}}\s*(?P=s)"
              r"\s*\d{4}(?!\d)", "手机号码"),
    ("phone", r"(?<![\d])(?:[(（]0\d{2,3}[)）]|0\d{2,3})\s*[\-/]?\s*(?:\d{7,8}|\d{3,4}[\s\-]\d{4})(?!\d)",
     "固定电话"),
)
_LONG_NUMBER = re.compile(rf"\d(?:[\s\-‐‑–—.·()（）{_DSEP_CHARS}]{{0,4}}\d){{9,}}")
GENERIC: tuple[tuple[str, str, str], ...] = (
    ("email", r"[a-z0-9._%+\-]+\s*@\s*[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}", "电子邮箱"),
    ("email", r"[a-z0-9._%+\-]+\s*[(\[{]\s*at\s*[)\]}]\s*[a-z0-9\-]+(?:\s*(?:\.|[(\[{]\s*dot\s*[)\]}])"
              r"\s*[a-z0-9\-]+)+", "电子邮箱（改写的）"),
    # name AT 126 DOT com: a bare "at", then at least one "dot" or "." (no spaces around it: not
    # "at home. Then") before the last part
    ("email", r"[a-z0-9._%+\-]+\s+at\s+[a-z0-9\-]+(?:(?:\.|\s*[(\[{]\s*dot\s*[)\]}]\s*|\s+dot\s+)"
              r"[a-z0-9\-]+)*(?:\.|\s*[(\[{]\s*dot\s*[)\]}]\s*|\s+dot\s+)[a-z]{2,}(?![a-z0-9])",
     "电子邮箱（改写的）"),
    ("plate", rf"[{_PROVINCES}]\s?[a-hj-np-z]\s?[·•.\-]?\s?(?=(?:[a-z]\s?)*\d)(?:(?:[a-hj-np-z0-9]\s?){{4,5}}"
              r"[a-hj-np-z0-9]|(?:[a-hj-np-z0-9]\s?){4}[挂学警港澳])(?![a-z0-9])", "车牌号"),
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


# A number after a word that says it is a reference (invoice, order, waybill, work order …):
# not a phone, ID or card number, whatever it looks like (发票号码：13800138000). Looked for in
# the few characters before such a number (the number may follow other characters of the
# reference: 订单号 2026113000456 13912345678).
REFERENCE_BEFORE = re.compile(
    r"(?:发票(?:号码|代码|号)|单(?:号码|编号|号)|编号|流水号|合同号|交易号|受理号|文号|案号|批号)"
    r"[：:是为\s#]*[0-9a-z\s\-/_]*$")
_NUMBER_KINDS = frozenset({"phone", "id", "bank", "qq"})
# A lone count of households, buildings or floors is no address (1500户, 300栋楼, 共28栋):
# one number and one of these words, nothing else (3号楼2单元 and 5栋302 stay addresses).
_COUNT = re.compile(r"[0-9十百千万]+\s*(户|栋|幢|座|层|楼)")
_COUNT_BEFORE = re.compile(r"(?:共|有|约|近|达|余|涉及|合计|总计|建|建了|建成|新建|改造|拆除|其中|"
                           r"另有|仅|只有|还有|了|高|等|计)\s*$")
_COUNT_AFTER = re.compile(r"\s*(?:多|余|来|左右|以上|以下|居民|住户|人家|村民|群众|业主|家庭|楼房|"
                          r"住宅|房屋|居民楼|建筑|商户|楼(?![道下上梯顶前后门内外里口]))")


def _is_count(text: str, start: int, end: int) -> bool:
    m = _COUNT.fullmatch(text, start, end)
    if m is None:
        return False
    number = text[start:m.start(1)].strip()
    return (m.group(1) == "户" or (number.isdigit() and int(number) >= 100)
            or _COUNT_BEFORE.search(text, max(0, start - 4), start) is not None
            or _COUNT_AFTER.match(text, end) is not None)


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


_CHECKS: dict[str, Callable[[str], bool]] = {  # by the pattern's reason
    "身份证号": lambda s: _id_checksum_ok(re.sub(r"[^0-9x]", "", s)),
    "银行卡号": lambda s: _luhn_ok(re.sub(r"\D", "", s)),
}


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _matches(patterns: Iterable[tuple[str, str, str]], text: str, windows: Iterable[tuple[int, int]]
             ) -> Iterator[tuple[int, int, str, str]]:
    """(start, end, kind, reason) of each pattern's matches in `text` within `windows`."""
    for kind, pattern, reason in patterns:
        check = _CHECKS.get(reason)
        regex = _compiled(pattern)
        for lo, hi in windows:
            for m in regex.finditer(text, lo, hi):
                group = "v" if "v" in m.groupdict() else 0
                if m.group(group) and (check is None or check(m.group(group))):
                    yield (*m.span(group), kind, reason)


def _generic_spans(view: _View) -> list[Span]:
    text = view.text
    found = []  # (start, end, kind, reason, source) in the view
    for kind, context, value in CONTEXTUAL:  # first: where a word says what a number is, its
        for m in _compiled(f"({context})({value})").finditer(text):  # kind wins the merge
            end = _one_script(view, *m.span(2))
            if _compiled(value).fullmatch(text, m.start(2), end):
                found.append((m.start(2), end, kind, f"{MASKS[kind][1:-1]}（有提示词）", "context"))
    # around each long run of digits (lookbehinds see before a window; lookaheads need the
    # characters after it: an ID's final x, the letter that ends a match)
    windows = [(max(0, m.start() - 4), min(len(text), m.end() + 3)) for m in _LONG_NUMBER.finditer(text)]
    found += dict.fromkeys((*m, "pattern") for m in _matches(NUMBERS, text, windows))  # once each
    for start, end, kind, reason in _matches(GENERIC, text, [(0, len(text))]):
        if not (kind == "address" and _is_count(text, start, end)):
            found.append((start, end, kind, reason, "pattern"))
    return [Span(*view.span(start, end), kind, reason, source) for start, end, kind, reason, source in found
            if kind not in _NUMBER_KINDS or not REFERENCE_BEFORE.search(text, max(0, start - 24), start)]


def _one_script(view: _View, start: int, end: int) -> int:
    """End of the number at `start` written in one script: 0372-2345678 一直 stops before 一直.

    The view reads Chinese numerals as digits, so a number typed in digits and the ordinary
    word after it (一直, 三天) would run together; a real number keeps to one way of writing.
    """
    def chinese(i: int) -> bool:
        return not unicodedata.normalize("NFKC", view.original[view.origin[i]]).isascii()

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


def person_spans(text: str) -> list[Span]:
    """Other people's names (see letterbox.privacy.names)."""
    return [Span(start, end, "name", reason, "names") for start, end, reason in person_ranges(text)]


# --------------------------------------------------------------------------- redact


def _literal_spans(view: _View, strings: Iterable[str], kind: str, reason: str) -> list[Span]:
    return [Span(*view.span(start, end), kind, reason)
            for s in strings for start, end in view.find(squash(s))]


# Before a kept place that begins with a number (the office's 3楼302室): a building, estate or
# village word makes it someone's home (幸福小区3楼302室), not the public place.
_LATIN = re.compile("[0-9A-Za-z０-９Ａ-Ｚａ-ｚ]")
_HOME_BEFORE = re.compile(r"(?:小区|花园|家园|公寓|新村|社区|号楼|号院|栋|幢|座|单元|村|组|苑|园|院|里|庄|城)"
                          r"\s*$")


def _keep_ranges(text: str, keep: Iterable[str]) -> list[tuple[int, int]]:
    """Where each keep word occurs (each word's occurrences left to right, not overlapping); a
    word that begins or ends with a digit not where a digit stands beside it (3楼302室 is not
    kept in 13楼302室), nor, if it begins with one, after a building or estate word."""
    ranges = []
    for word in keep:
        if word and word in text:
            start = text.find(word)
            while start >= 0:
                end = start + len(word)
                if not ((word[0].isdigit() and start and (_LATIN.match(text, start - 1) or
                                                          _HOME_BEFORE.search(text, max(0, start - 4), start)))
                        or (word[-1].isdigit() and _LATIN.match(text, end))):
                    ranges.append((start, end))
                start = text.find(word, end)
    return ranges


_NUMBER_WORD = re.compile(r"\+?[\d\s\-‐–—()（）]*\d[\d\s\-‐–—()（）]*")


@lru_cache(maxsize=64)
def public_numbers(keep: tuple[str, ...]) -> frozenset[str]:
    """The digits of the keep words that are numbers (public phones: 12345, 0372-3199001),
    and of a landline also its local number: a number written with exactly these digits is
    not masked (0371-3199001 is)."""
    out: set[str] = set()
    for word in keep:
        word = unicodedata.normalize("NFKC", word)
        if _NUMBER_WORD.fullmatch(word):
            out.update(_phone_digits(word))
    return frozenset(out)


def _is_public(text: str, span: Span, numbers: frozenset[str]) -> bool:
    """A phone number with exactly the digits of a public number (not 豫E12345, not 13812345)."""
    if span.kind != "phone":
        return False
    digits = re.sub(r"\D", "", squash(text[span.start:span.end]))
    return digits in numbers


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
    """Every stretch to mask, merged; the writer's own data is never kept by `keep`.

    `keep`: public words (units, the office, public places such as the office's 3楼302室) left
    unmasked where they occur, and public numbers (12345, a unit's 0372-3199001) left unmasked
    where a number has exactly their digits (see `public_numbers`)."""
    view = _view(text)
    own = [Span(*view.span(start, end), rule.kind, rule.reason, "writer")
           for rule in writer_rules(writer or Writer()) for start, end in rule.spans(view)]
    others = _generic_spans(view) + (person_spans(text) if names else [])
    keep = tuple(keep)
    kept = _keep_ranges(text, keep)
    others = [s for s in others if not any(a <= s.start and s.end <= b for a, b in kept)]
    if numbers := public_numbers(keep):
        others = [s for s in others if not _is_public(text, s, numbers)]
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


def keep_words(config: Config) -> list[str]:
    """Public names the name finder must not mask: units, the office, the government; and the
    public numbers and places of `public_contacts` (12345, the office's 3楼302室)."""
    words = [u.name for u in config.units] + [config.office_name, config.government,
                                               config.district, config.mailbox_name,
                                               *config.public_words]
    # longest first, then by text: the order (part of the redaction cache key) must not
    # depend on the process's hash seed, or every build in a new process misses the cache
    return sorted(set(words), key=lambda w: (-len(w), w))
