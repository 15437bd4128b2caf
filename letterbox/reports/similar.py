"""Near-duplicate letters (article 5(2)): an index built once, queried per letter.

A letter becomes a `Profile`: its canonical text (title and body, full-width folded, common
synonyms mapped to one word), the towns/streets and the sites (community, village, estate) it
names, its topics, and keyed hashes of the writer's phone, e-mail and name with address. The
profile never holds the writer's data in clear, and nothing here prints it.

Candidates come from a datasketch MinHash LSH over character bigrams (close text, any scale)
and from exact buckets (same writer; same town or site and topic). Candidates are scored with
rapidfuzz on characters and on jieba words. Two letters about the same topic in different
places are not the same matter: the score is halved when both name places and they differ.

Reasons (`Match.reasons`): ``same_writer``, ``same_text`` (near-identical wording),
``similar_text``, ``same_place_topic``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz

from letterbox.core.config import Config
from letterbox.core.letter import Letter

NUM_PERM = 64
LSH_THRESHOLD = 0.3
DUPLICATE_SCORE = 0.6  # at or above: likely the same matter (tuned on tests/data/similar_pairs.jsonl)
LIST_SCORE = 0.55  # at or above: listed by `letterbox similar` and at intake
SAME_TEXT = 0.9
DIFFERENT_PLACE_FACTOR = 0.5  # must stay below LIST_SCORE: `query` skips such pairs unscored
REASON_LABELS = {
    "same_writer": "同一来信人",
    "same_text": "内容相同",
    "similar_text": "内容相近",
    "same_place_topic": "同一地点、同一事项",
}
PLACE_KINDS = ("镇/乡", "街道办事处")

# Words people use for the same thing; the first of each row is the canonical one.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("供暖", "暖气", "供热", "采暖", "取暖"),
    ("路灯", "街灯", "照明灯", "路灯杆"),
    ("垃圾", "生活垃圾", "废弃物"),
    ("噪音", "噪声", "吵闹"),
    ("工资", "薪水", "薪资", "工钱", "劳务费"),
    ("拖欠", "欠薪", "讨薪", "克扣"),
    ("停水", "断水", "没水"),
    ("水压", "水流小", "水量小"),
    ("坑洼", "坑坑洼洼", "破损", "坑洞", "路面坏"),
    ("停车位", "车位", "停车难"),
    ("公交", "公交车", "班车"),
    ("入学", "上小学", "上学", "招生", "入园", "学位"),
    ("医保", "医疗保险"),
    ("养老保险", "社保", "养老金"),
    ("物业", "物业公司"),
    ("漏水", "渗水", "跑水", "爆管"),
    ("施工", "工地"),
    ("占道", "乱摆摊", "摆摊"),
    ("污染", "排污", "臭味", "异味"),
    ("停电", "断电", "电压不稳"),
)
# Topics for grouping and bursts: canonical topic -> words (after synonyms) that mark it.
TOPICS: dict[str, tuple[str, ...]] = {
    "供暖": ("供暖",),
    "路灯": ("路灯",),
    "垃圾清运": ("垃圾", "环卫"),
    "噪音扰民": ("噪音", "施工"),
    "拖欠工资": ("工资", "拖欠"),
    "供水": ("停水", "水压", "自来水", "饮水", "供水"),
    "道路维修": ("坑洼", "路面", "修路"),
    "停车": ("停车位", "乱停"),
    "公交": ("公交",),
    "入学": ("入学", "学区"),
    "医保": ("医保",),
    "养老保险": ("养老保险",),
    "老年食堂": ("食堂", "助餐"),
    "农贸市场": ("农贸市场", "菜市场"),
    "物业": ("物业",),
    "环境污染": ("污染",),
    "供电": ("停电",),
    "违建": ("违建", "违章建筑", "私搭乱建"),
    "拆迁": ("拆迁", "征收", "补偿款"),
}
_SITE_SUFFIX = re.compile(r"小区|花园|家园|新村|社区|村|苑|公寓|广场|商城|农贸市场|小学|中学|幼儿园")
_HAN_TAIL = re.compile(r"[\u4e00-\u9fff]*$")
_SITE_STOP = re.compile(r".*[在的了和是把被向对给从往到去来住回至经进出于与及我你他她们这那有没不也都很就近旁边号楼]")
_GENERIC_VILLAGE = frozenset("农乡本全该进出各邻山渔外")
_FOLD_RE = re.compile(r"\s+")


# --------------------------------------------------------------------------- places


@dataclass(frozen=True)
class Gazetteer:
    """Town and street names from the unit registry: short name -> unit code."""

    towns: dict[str, str]

    @classmethod
    def from_config(cls, config: Config) -> Gazetteer:
        towns = {}
        for unit in config.units:
            if unit.kind in PLACE_KINDS:
                towns[short_place_name(unit.name)] = unit.code
        return cls(towns)

    def find(self, text: str) -> list[str]:
        """Town/street names mentioned in ``text``, in order of first mention."""
        hits = sorted((text.find(name), name) for name in self.towns if name in text)
        return [name for _, name in hits]

    def unit_place(self, unit_code: str) -> str | None:
        for name, code in self.towns.items():
            if code == unit_code:
                return name
        return None


def short_place_name(unit_name: str) -> str:
    """文昌大道街道办事处 -> 文昌大道街道; 龙泉镇人民政府 -> 龙泉镇."""
    for suffix in ("人民政府", "办事处"):
        if unit_name.endswith(suffix):
            return unit_name[: -len(suffix)]
    return unit_name


def sites_in(text: str) -> frozenset[str]:
    """Communities, villages, estates named in text whose town/street names were removed."""
    found = set()
    for m in _SITE_SUFFIX.finditer(text):
        run = _HAN_TAIL.search(text[max(0, m.start() - 5):m.start()])
        prefix = _SITE_STOP.sub("", run.group() if run else "")
        if len(prefix) >= 2 or (m.group() == "村" and prefix and prefix not in _GENERIC_VILLAGE):
            found.add(prefix + m.group())
    # a village inside a longer site name (田村 in 田村示例社区) is not a site of its own
    return frozenset(x for x in found if not any(y != x and x in y for y in found))


def _same_site(a: frozenset[str], b: frozenset[str]) -> bool:
    return any(x in y or y in x for x in a for y in b)


# --------------------------------------------------------------------------- text


def canonical_text(text: str) -> str:
    """Full-width folded, whitespace removed, synonyms mapped to their canonical word."""
    text = _FOLD_RE.sub("", unicodedata.normalize("NFKC", text))
    for row in SYNONYMS:
        for word in sorted(row[1:], key=len, reverse=True):
            text = text.replace(word, row[0])
    return text


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    """A jieba tokenizer of our own (the global one is shared with the site builder)."""
    import jieba  # type: ignore[import-untyped]

    jieba.setLogLevel(60)
    tok = jieba.Tokenizer()
    for row in SYNONYMS:
        tok.add_word(row[0], freq=50000)
    return tok


@lru_cache(maxsize=200_000)
def words(text: str) -> tuple[str, ...]:
    """Content words of a canonical text: jieba words without punctuation or single-char fillers."""
    return tuple(w for w in _tokenizer().lcut(text, HMM=False) if _is_word(w))


def _is_word(w: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" or c.isalnum() for c in w) and w not in _FILLERS


_FILLERS = frozenset("的 了 和 是 在 我 我们 也 都 很 就 有 没有 请 请求 希望 一直 已经 多次".split())


def topics_in(text: str) -> frozenset[str]:
    return frozenset(t for t, marks in TOPICS.items() if any(m in text for m in marks))


def shingles(text: str) -> list[bytes]:
    return [text[i:i + 2].encode("utf-8") for i in range(max(len(text) - 1, 1))]


def text_similarity(a: str, b: str) -> float:
    """0..1: the better of character and jieba-word similarity (rapidfuzz Indel ratios)."""
    chars = fuzz.ratio(a, b)
    wa, wb = words(a), words(b)
    toks = fuzz.token_sort_ratio(" ".join(wa), " ".join(wb)) if wa and wb else 0.0
    return max(chars, toks) / 100.0


# --------------------------------------------------------------------------- profiles


def _writer_keys(letter: Letter, salt: str) -> frozenset[str]:
    w = letter.data.get("writer") or {}
    parts = []
    phone = re.sub(r"\D", "", str(w.get("phone") or ""))
    if len(phone) >= 7:
        parts.append("p:" + phone[-11:])
    email = str(w.get("email") or "").strip().lower()
    if "@" in email:
        parts.append("e:" + email)
    name = str(w.get("name") or "").strip()
    address = _FOLD_RE.sub("", str(w.get("address") or ""))
    if name and address:
        parts.append("n:" + name + "|" + address)
    return frozenset(hashlib.blake2b(p.encode(), key=salt.encode()[:64], digest_size=12).hexdigest()
                     for p in parts)


@dataclass(frozen=True)
class Profile:
    """What the index keeps of one letter; the writer only as keyed hashes."""

    code: str
    day: date
    text: str  # canonical title and body, place names taken out (places are compared apart)
    towns: frozenset[str]
    sites: frozenset[str]
    topics: frozenset[str]
    writer: frozenset[str] = field(default=frozenset(), repr=False)


def make_profile(letter: Letter, config: Config, gazetteer: Gazetteer | None = None) -> Profile:
    gaz = gazetteer or Gazetteer.from_config(config)
    raw = f"{letter.data.get('title') or ''}。{letter.data.get('body') or ''}"
    text = canonical_text(raw)
    towns = gaz.find(text)
    stripped = text
    for name in towns:
        stripped = stripped.replace(name, "，")
    sites = sites_in(stripped)
    for name in sorted(sites, key=len, reverse=True):
        stripped = stripped.replace(name, "，")
    day = letter.submitted_at.astimezone(config.tz).date()
    return Profile(letter.code, day, stripped, frozenset(towns), sites, topics_in(text),
                   _writer_keys(letter, config.salt))


def place_relation(a: Profile, b: Profile) -> str:
    """``site`` (same named site), ``area`` (same town/street), ``unknown`` or ``different``."""
    if a.towns and b.towns and not a.towns & b.towns:
        return "different"
    if a.sites and b.sites:
        return "site" if _same_site(a.sites, b.sites) else "different"
    if a.towns & b.towns:
        return "area"
    return "unknown"


@dataclass(frozen=True)
class Match:
    letter_code: str
    score: float
    reasons: tuple[str, ...]

    @property
    def duplicate(self) -> bool:
        return self.score >= DUPLICATE_SCORE

    def to_json(self) -> dict[str, Any]:
        return {"letter_code": self.letter_code, "score": round(self.score, 3),
                "reasons": list(self.reasons)}


def compare(a: Profile, b: Profile) -> Match:
    """Score and reasons for letter ``b`` as a near-duplicate of ``a``."""
    t = text_similarity(a.text, b.text)
    relation = place_relation(a, b)
    same_topic = bool(a.topics & b.topics)
    same_writer = bool(a.writer & b.writer)
    score = t
    if relation == "different":
        score *= DIFFERENT_PLACE_FACTOR
    elif same_topic and relation == "site":
        score = max(score, 0.7 + 0.3 * t)
    elif same_topic and relation == "area":
        score = max(score, 0.5 + 0.5 * t)
    if same_writer and same_topic and relation != "different":
        score = max(score, 0.6 + 0.4 * t)
    reasons = []
    if same_writer:
        reasons.append("same_writer")
    if t >= SAME_TEXT:
        reasons.append("same_text")
    elif t >= DUPLICATE_SCORE:
        reasons.append("similar_text")
    if same_topic and relation in ("site", "area"):
        reasons.append("same_place_topic")
    return Match(b.code, min(score, 1.0), tuple(reasons))


# --------------------------------------------------------------------------- the index


class SimilarityIndex:
    """Profiles of many letters, with LSH and exact buckets for fast candidate look-up."""

    def __init__(self, num_perm: int = NUM_PERM, threshold: float = LSH_THRESHOLD) -> None:
        from datasketch import MinHashLSH  # imported here: it takes a second, most commands skip it

        _tokenizer().initialize()  # load jieba's dictionary now, not in the first query
        self.num_perm = num_perm
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.profiles: dict[str, Profile] = {}
        self.buckets: dict[str, set[str]] = defaultdict(set)

    @classmethod
    def build(cls, profiles: Iterable[Profile], num_perm: int = NUM_PERM) -> SimilarityIndex:
        from datasketch import MinHash

        index = cls(num_perm)
        items = [p for p in profiles if p.code not in index.profiles]
        hashes = MinHash.bulk([shingles(p.text) for p in items], num_perm=num_perm)
        with index.lsh.insertion_session() as session:
            for p, mh in zip(items, hashes, strict=True):
                session.insert(p.code, mh, check_duplication=False)
                index._remember(p)
        return index

    def add(self, profile: Profile) -> None:
        if profile.code in self.profiles:
            return
        self.lsh.insert(profile.code, self._minhash(profile))
        self._remember(profile)

    def _remember(self, p: Profile) -> None:
        self.profiles[p.code] = p
        for key in _bucket_keys(p):
            self.buckets[key].add(p.code)

    def _minhash(self, p: Profile) -> Any:
        from datasketch import MinHash

        mh = MinHash(num_perm=self.num_perm)
        mh.update_batch(shingles(p.text))
        return mh

    def candidates(self, p: Profile) -> set[str]:
        found = set(self.lsh.query(self._minhash(p)))
        for key in _bucket_keys(p):
            found |= self.buckets.get(key, set())
        found.discard(p.code)
        return found

    def query(self, p: Profile, limit: int = 10, min_score: float = LIST_SCORE,
              earlier_only: bool = True) -> list[Match]:
        """Most similar letters first; only earlier ones (by day, then code) unless told."""
        out = []
        for code in self.candidates(p):
            other = self.profiles[code]
            if earlier_only and (other.day, other.code) > (p.day, p.code):
                continue
            if place_relation(p, other) == "different" and not p.writer & other.writer:
                continue  # scores at most DIFFERENT_PLACE_FACTOR, below LIST_SCORE: skip the work
            m = compare(p, other)
            if m.score >= min_score or "same_writer" in m.reasons:
                out.append(m)
        out.sort(key=lambda m: (-m.score, m.letter_code))
        return out[:limit]


def _bucket_keys(p: Profile) -> list[str]:
    keys = [f"w:{k}" for k in p.writer]
    for topic in p.topics:
        keys += [f"t:{town}:{topic}" for town in p.towns]
        keys += [f"s:{site[-4:]}:{topic}" for site in p.sites]
    return keys


# --------------------------------------------------------------------------- over a repository


def build_index(letters: Sequence[Letter], config: Config) -> SimilarityIndex:
    """The index of every letter that has a profile; a letter whose submission time cannot be
    read (absurd date, hand-edited file: `validate` names it) is left out, not fatal."""
    gaz = Gazetteer.from_config(config)
    return SimilarityIndex.build(p for x in letters if x.code
                                 if (p := _profile_or_none(x, config, gaz)) is not None)


def _profile_or_none(letter: Letter, config: Config, gaz: Gazetteer) -> Profile | None:
    from letterbox.reports.views import hidden_reason

    if hidden_reason(letter) is not None:  # sealed and not opened here: no text to compare
        return None
    try:
        return make_profile(letter, config, gaz)
    except (KeyError, ValueError, TypeError, OverflowError):
        return None


def similar_letters(letters: Sequence[Letter], config: Config, code: str, limit: int = 10,
                    earlier_only: bool = True) -> list[Match]:
    """Letters close to ``code`` among ``letters``, most similar first."""
    index = build_index(letters, config)
    target = next((x for x in letters if x.code == code), None)
    if target is None:
        from letterbox.core.errors import NotFound

        raise NotFound(f"找不到信件 {code}。")
    if code not in index.profiles:
        from letterbox.core.errors import LetterboxError
        from letterbox.reports.views import hidden_reason

        if (why := hidden_reason(target, config)) is not None:
            raise LetterboxError(f"{target.code} 加密保存，无法阅读，不能比较相近来信：{why}")
        raise LetterboxError(f"{target.path}：提交时间无法计算（如 9999 年或格式不对），无法比较相近来信；"
                             "请运行 letterbox validate 查看并改正案卷中的日期。")
    return index.query(index.profiles[code], limit, earlier_only=earlier_only)


def intake_notes(letters: Sequence[Letter], config: Config, codes: Iterable[str]) -> list[str]:
    """Lines for `letterbox intake`: earlier letters similar to each newly accepted one."""
    lines = []
    index = build_index(letters, config)
    for code in codes:
        if code not in index.profiles:
            continue
        found = [m for m in index.query(index.profiles[code], limit=5)]
        if found:
            lines.append(f"{code} 与以下来信相近：" + "；".join(describe(m) for m in found)
                         + f"。如属重复，可用 letterbox reject {code} --reason duplicate --of "
                         f"{found[0].letter_code}")
    return lines


def describe(m: Match) -> str:
    why = "、".join(REASON_LABELS[r] for r in m.reasons) or "内容相近"
    return f"{m.letter_code}（相似度 {m.score:.2f}，{why}）"
