"""What letters raise (article 14(3)) and early warning of bursts (article 15(2)).

`analyse(letters, config, cal, first, last)` gathers every figure first (`Analysis`), then
`render_html` writes the report. Counts by category, unit, town/street and month cover the
letters received in the period; handling time and the on-time rate cover the letters closed
in it, each letter's facts coming from its fold (`core.facts.fold`) as of the period's last
day: the one on-time rule of every report (on time or within an approved extension). A merged
group (合并办理) counts once for timeliness, by its lead letter, and each of its letters for
volume (received, category, unit, place, topics): `core.facts.Facts.timed_closing`, the rule of
the monthly report too. Nothing here
reads the writer block except `similar`'s keyed hashes and the address, which is used only to
find the town/street name when neither the unit nor the letter's text gives one.
"""

from __future__ import annotations

import gc
import math
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from letterbox.core import facts as core
from letterbox.core.calendar import WorkCalendar
from letterbox.core.config import Config
from letterbox.core.errors import LetterboxError
from letterbox.core.letter import Letter
from letterbox.core.process import CATEGORIES, REVIEW_KINDS, REVIEW_OUTCOMES, IllegalStep
from letterbox.reports.charts import count_chart
from letterbox.reports.rendering import environment
from letterbox.reports.similar import Gazetteer, Profile, _tokenizer, make_profile
from letterbox.reports.views import hidden_reason

UNPLACED = "未识别"
UNASSIGNED = "（未交办）"
HOT_TOPICS = 10
KEYWORDS_PER_LETTER = 5
# Words that say nothing about the matter; place words are taken out before extraction.
TOPIC_STOP_WORDS = frozenset(
    "示例 请求 希望 反映 问题 居民 群众 有关 部门 相关 情况 尽快 解决 处理 建议 咨询 请问 本人 我们 "
    "一直 多次 已经 目前 现在 政府 领导 同志 街道 社区 小区 村民 老人 孩子 附近 一处 一段 以来 "
    "经常 严重 影响 无果 督促 协调 加强 需要 准备 材料 一个 多月 三个月 今年 明年".split())


# --------------------------------------------------------------------------- per letter


@dataclass(frozen=True)
class Facts:
    """What the analysis needs of one letter, as it stood at the end of the period."""

    code: str
    received: date
    category: str | None
    units: tuple[str, ...]
    place: str | None
    profile: Profile | None  # None when collected for timing only (the public board)
    closed: date | None = None  # its last closing (reply or approval) within the period
    working_days: int | None = None  # received -> closed, in working days
    outcome: str | None = None  # on_time, extended, late (`core.facts.Closing.outcome`)
    # closed in the period by its lead's answer (合并办理): volume only, so `closed`, the
    # working days and the outcome stay None (the group is timed once, by its lead)
    with_group: bool = False
    # 复查/复核 by the period's end: (kind, "requested" or the outcome 维持/撤销/变更, day)
    reviews: tuple[tuple[str, str, date], ...] = ()
    review_pending: str | None = None  # the kind asked for and not decided at the period's end

    @property
    def month(self) -> str:
        return self.received.strftime("%Y-%m")


def place_of(letter: Letter, config: Config, gaz: Gazetteer, units: Sequence[str]) -> str | None:
    """Town/street: the handling unit if it is one, else named in title/body, else in the address."""
    for code in units:
        name = gaz.unit_place(code)
        if name:
            return name
    for text in (f"{letter.data.get('title') or ''}{letter.data.get('body') or ''}",
                 str((letter.data.get("writer") or {}).get("address") or "")):
        found = gaz.find(text)
        if found:
            return found[0]
    return None


def letter_facts(letter: Letter, config: Config, cal: WorkCalendar, gaz: Gazetteer,
                 first: date, last: date, *, timing_only: bool = False) -> Facts | None:
    """What the analysis needs of ``letter`` as it stood at the end of ``last``; None if it
    had not been received by then."""
    return facts_of(core.fold(letter, config, cal, as_of=last), config, cal, gaz, first, last,
                    timing_only=timing_only)


def facts_of(folded: core.Facts | None, config: Config, cal: WorkCalendar, gaz: Gazetteer | None,
             first: date, last: date, *, timing_only: bool = False) -> Facts | None:
    """`letter_facts` of a letter already folded as of ``last`` (``gaz`` unused when
    ``timing_only``)."""
    if folded is None:
        return None
    state = folded.state
    direct = any(c.direct for c in folded.closings)
    units = tuple(state.units) or ((config.office_code,) if direct else ())
    place = profile = None
    if not timing_only:
        gaz = gaz or Gazetteer.from_config(config)
        place = place_of(folded.letter, config, gaz, state.units)
        if hidden_reason(folded.letter) is None:  # a sealed letter not opened has no text
            profile = make_profile(folded.letter, config, gaz)
    reviews = tuple(sorted(
        [(h.note, "requested", h.day) for h in folded.happened("review-request", last=last)]
        + [(h.note, h.comment, h.day) for h in folded.happened("review-decide", last=last)],
        key=lambda r: r[2]))
    facts = Facts(folded.code, folded.received, state.category, units, place, profile,
                  reviews=reviews, review_pending=state.review if state.review else None)
    if folded.closed_with_group(first, last):
        return replace(facts, with_group=True)
    closing = folded.timed_closing(first, last)
    if closing is None:
        return facts
    return replace(facts, closed=closing.day, working_days=folded.working_days(cal, closing),
                   outcome=closing.outcome)


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    letters: int


@dataclass(frozen=True)
class HotTopic:
    word: str
    letters: int  # letters in the period whose keywords include the word
    by_month: dict[str, int]
    change: int  # last month of the period minus the month before

    @property
    def trend(self) -> str:
        if self.change > 0:
            return f"↑{self.change}"
        if self.change < 0:
            return f"↓{-self.change}"
        return "—"


@dataclass(frozen=True)
class Alert:
    """A burst: at least N letters about one place (and topic), or one topic, within W days."""

    kind: str  # place | topic | matter (letters scored as the same matter, `matter_bursts`)
    topic: str
    place: str | None
    first: date
    last: date
    letters: tuple[str, ...]

    @property
    def title(self) -> str:
        if self.kind == "matter":
            return (f"{self.place or ''}同一事项（{self.topic}）来信 {len(self.letters)} 封集中出现"
                    f"（{self.first.isoformat()} 至 {self.last.isoformat()}）")
        where = f"{self.place}" if self.place else "全区多地"
        return (f"{where}“{self.topic}”类来信 {len(self.letters)} 封集中出现"
                f"（{self.first.isoformat()} 至 {self.last.isoformat()}）")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "topic": self.topic, "place": self.place,
                "first": self.first.isoformat(), "last": self.last.isoformat(),
                "letters": list(self.letters), "title": self.title}


@dataclass
class Analysis:
    first: date
    last: date
    district: str
    mailbox_name: str
    min_letters: int
    window_days: int
    received: int = 0
    by_category: list[Count] = field(default_factory=list)
    by_unit: list[Count] = field(default_factory=list)
    by_place: list[Count] = field(default_factory=list)
    by_month: list[Count] = field(default_factory=list)
    closed: int = 0
    on_time: int = 0
    extended: int = 0
    late: int = 0
    merged_closed: int = 0  # letters closed with their lead's answer (合并办理): not timed again
    median_days: float | None = None
    p90_days: int | None = None
    hot_topics: list[HotTopic] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    unread: int = 0  # letters of the period sealed and not opened here: counted, their text not read
    # 复查/复核 per kind (as the monthly report): asked for and decided (by outcome) in the period,
    # pending at its end
    reviews: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def on_time_rate(self) -> float | None:
        """(on time + within an approved extension) ÷ closed (articles 11 and 16)."""
        return (self.on_time + self.extended) / self.closed if self.closed else None

    def to_json(self) -> dict[str, Any]:
        def counts(rows: list[Count]) -> list[dict[str, Any]]:
            return [{"key": c.key, "label": c.label, "letters": c.letters} for c in rows]

        return {
            "from": self.first.isoformat(), "to": self.last.isoformat(),
            "alerts": [a.to_json() for a in self.alerts],
            "received": self.received,
            "by_category": counts(self.by_category), "by_unit": counts(self.by_unit),
            "by_place": counts(self.by_place), "by_month": counts(self.by_month),
            "closed": self.closed, "on_time": self.on_time, "late_with_extension": self.extended,
            "late_without_extension": self.late, "on_time_rate": self.on_time_rate,
            "merged_closed": self.merged_closed,
            "median_working_days": self.median_days, "p90_working_days": self.p90_days,
            "hot_topics": [{"word": h.word, "letters": h.letters, "by_month": h.by_month,
                            "change": h.change} for h in self.hot_topics],
            "burst_rule": {"min_letters": self.min_letters, "window_days": self.window_days},
            "unread_sealed_letters": self.unread,
            "reviews": self.reviews,
        }

    def public_figures(self) -> dict[str, Any]:
        """The same figures for the public statistics page: counts only, no letter codes."""
        data = self.to_json()
        data.pop("alerts")
        data.pop("burst_rule")
        data.pop("unread_sealed_letters")
        return data


def median(values: Sequence[int]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return float(s[mid]) if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def p90(values: Sequence[int]) -> int | None:
    """Nearest-rank 90th percentile: the ⌈0.9·n⌉-th smallest value."""
    if not values:
        return None
    return sorted(values)[math.ceil(0.9 * len(values)) - 1]


def _counts(values: Iterable[str], label: Any, order: Sequence[str] | None = None) -> list[Count]:
    tally = Counter(values)
    if order is not None:
        keys = [k for k in order if k in tally] + sorted(k for k in tally if k not in order)
    else:
        keys = sorted(tally, key=lambda k: (-tally[k], k))
    return [Count(k, label(k), tally[k]) for k in keys]


def collect_facts(letters: Iterable[Letter], config: Config, cal: WorkCalendar, first: date,
                  last: date, *, timing_only: bool = False) -> list[Facts]:
    """Facts of every letter received by ``last``, oldest first; broken files are skipped.

    ``timing_only``: without place and text profile (what `breakdown` needs, at a fraction of
    the cost: the public board's statistics)."""
    gaz = Gazetteer.from_config(config)
    facts = []
    for letter in letters:
        try:
            f = letter_facts(letter, config, cal, gaz, first, last, timing_only=timing_only)
        except (IllegalStep, KeyError, ValueError, TypeError):
            continue  # `letterbox validate` reports broken files
        if f is not None:
            facts.append(f)
    facts.sort(key=lambda f: (f.received, f.code))
    return facts


@dataclass(frozen=True)
class Timing:
    """Letters in a group and, of those closed in the period, how timely and how long."""

    letters: int
    closed: int  # timed: a merged group once, by its lead (`merged_closed`: its other letters)
    on_time: int
    extended: int
    late: int
    median_days: float | None
    p90_days: int | None
    merged_closed: int = 0  # closed with their lead's answer (合并办理): volume, not timeliness
    reviews: int = 0  # 复查/复核 asked for on the group's letters (both kinds)
    reviews_changed: int = 0  # of those decided, answers 撤销 (revoked) or 变更 (changed)
    reviews_pending: int = 0  # asked for and not decided yet

    @property
    def on_time_rate(self) -> float | None:
        """(on time + within an approved extension) ÷ closed (articles 11 and 16)."""
        return (self.on_time + self.extended) / self.closed if self.closed else None

    def to_json(self) -> dict[str, Any]:
        return {"letters": self.letters, "closed": self.closed, "on_time": self.on_time,
                "late_with_extension": self.extended, "late_without_extension": self.late,
                "on_time_rate": self.on_time_rate, "merged_closed": self.merged_closed, "median_working_days": self.median_days,
                "p90_working_days": self.p90_days, "reviews": self.reviews,
                "reviews_changed": self.reviews_changed, "reviews_pending": self.reviews_pending}


def timing(facts: Sequence[Facts]) -> Timing:
    """The handling-time figures of `analyse` (the on-time rule of every report) for ``facts``."""
    done = [f for f in facts if f.closed is not None]
    days = [f.working_days for f in done if f.working_days is not None]
    on_time, extended, late = (sum(1 for f in done if f.outcome == o)
                               for o in ("on_time", "extended", "late"))
    return Timing(len(facts), len(done), on_time, extended, late, median(days), p90(days),
                  merged_closed=sum(f.with_group for f in facts),
                  reviews=sum(r[1] == "requested" for f in facts for r in f.reviews),
                  reviews_changed=sum(r[1] in ("撤销", "变更") for f in facts for r in f.reviews),
                  reviews_pending=sum(f.review_pending is not None for f in facts))


def review_figures(facts: Sequence[Facts], first: date, last: date) -> dict[str, dict[str, int]]:
    """复查/复核 per kind (《信访工作条例》第三十五、三十六条), counted as the monthly report does:
    requested and decided (by outcome) from ``first`` to ``last``, pending at ``last``; of every
    letter, whenever received."""
    out = {kind: {"requested": 0, **dict.fromkeys(REVIEW_OUTCOMES, 0), "pending": 0}
           for kind in REVIEW_KINDS}
    for f in facts:
        for kind, what, day in f.reviews:
            if kind in out and what in out[kind] and first <= day <= last:
                out[kind][what] += 1
        if f.review_pending in out:
            out[str(f.review_pending)]["pending"] += 1
    return out


def category_key(f: Facts) -> str:
    return f.category or "none"


def unit_keys(f: Facts) -> tuple[str, ...]:
    return f.units or (UNASSIGNED,)


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    timing: Timing


def breakdown(facts: Sequence[Facts], config: Config) -> dict[str, list[Group]]:
    """Timing per month received, category and unit (keys, labels and order of `analyse`'s
    counts; a letter handled by several units is in each), and for all ``facts``."""
    months = sorted({f.month for f in facts})
    dims: dict[str, tuple[Any, list[Count]]] = {
        "month": (lambda f: (f.month,), _counts((f.month for f in facts), lambda k: k, months)),
        "category": (lambda f: (category_key(f),),
                     _counts((category_key(f) for f in facts),
                             lambda k: CATEGORIES.get(k, "未分类"), [*CATEGORIES, "none"])),
        "unit": (unit_keys, _counts((u for f in facts for u in unit_keys(f)),
                                    config.unit_name)),
    }
    out: dict[str, list[Group]] = {}
    for dim, (keys, counts) in dims.items():
        members: dict[str, list[Facts]] = defaultdict(list)
        for f in facts:
            for k in keys(f):
                members[k].append(f)
        out[dim] = [Group(c.key, c.label, timing(members[c.key])) for c in counts]
    out["total"] = [Group("all", "合计", timing(facts))]
    return out


def analyse(letters: Iterable[Letter], config: Config, cal: WorkCalendar, first: date,
            last: date, min_letters: int | None = None,
            window_days: int | None = None) -> Analysis:
    """Every figure for letters received (counts) or closed (times) from ``first`` to ``last``."""
    if first > last:
        raise LetterboxError(f"起始日期 {first.isoformat()} 晚于结束日期 {last.isoformat()}。")
    letters = list(letters)
    facts = collect_facts(letters, config, cal, first, last)
    got = [f for f in facts if first <= f.received <= last]
    unread = {x.code for x in letters if hidden_reason(x) is not None}
    done = [f for f in facts if f.closed is not None or f.with_group]
    result = Analysis(first, last, config.district, config.mailbox_name,
                      min_letters or config.burst_min_letters,
                      window_days or config.burst_window_days, received=len(got))
    result.by_category = _counts((category_key(f) for f in got),
                                 lambda k: CATEGORIES.get(k, "未分类"), [*CATEGORIES, "none"])
    result.by_unit = _counts((u for f in got for u in unit_keys(f)), config.unit_name)
    result.by_place = _counts((f.place or UNPLACED for f in got), lambda k: k)
    result.months = months_between(first, last)
    result.by_month = _counts((f.month for f in got), lambda k: k, result.months)
    times = timing(done)
    result.closed, result.on_time, result.extended, result.late, result.merged_closed = (
        times.closed, times.on_time, times.extended, times.late, times.merged_closed)
    result.median_days, result.p90_days = times.median_days, times.p90_days
    result.hot_topics = hot_topics(got, result.months)
    result.alerts = bursts(got, result.min_letters, result.window_days)
    result.unread = sum(f.code in unread for f in got)
    result.reviews = review_figures(facts, first, last)
    return result


def months_between(first: date, last: date) -> list[str]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# --------------------------------------------------------------------------- hot topics


@lru_cache(maxsize=1)
def _extractor() -> Any:
    import jieba.posseg  # type: ignore[import-untyped]

    with warnings.catch_warnings():  # jieba 0.42.1 reads its IDF table without closing the file
        warnings.simplefilter("ignore", ResourceWarning)
        from jieba.analyse import TFIDF  # type: ignore[import-untyped]

        tfidf = TFIDF()
        gc.collect()
    tfidf.tokenizer = _tokenizer()
    tfidf.postokenizer = jieba.posseg.POSTokenizer(tfidf.tokenizer)
    tfidf.stop_words = tfidf.stop_words | TOPIC_STOP_WORDS
    return tfidf


def keywords(text: str, k: int = KEYWORDS_PER_LETTER) -> list[str]:
    """jieba TF-IDF keywords of one letter (nouns, verbs and noun-verbs), place names removed."""
    return [w for w in _extractor().extract_tags(text, topK=k, allowPOS=("n", "nz", "vn", "v", "nr"))
            if not w.isdigit()]


def hot_topics(facts: Sequence[Facts], months: Sequence[str], top: int = HOT_TOPICS) -> list[HotTopic]:
    """Keywords in the most letters, with counts per month and the change in the last month."""
    per_month: dict[str, Counter[str]] = defaultdict(Counter)
    total: Counter[str] = Counter()
    for f in facts:
        words = set(keywords(f.profile.text)) if f.profile else set()
        per_month[f.month].update(words)
        total.update(words)
    ranked = sorted(total, key=lambda w: (-total[w], w))[:top]
    last, before = (months[-1], months[-2]) if len(months) > 1 else (months[-1], None)
    return [HotTopic(w, total[w], {m: per_month[m][w] for m in months},
                     per_month[last][w] - (per_month[before][w] if before else 0))
            for w in ranked]


# --------------------------------------------------------------------------- bursts


def bursts(facts: Sequence[Facts], min_letters: int, window_days: int) -> list[Alert]:
    """Groups of ≥ min_letters letters within window_days calendar days (first to last day
    inclusive): by town/street and topic, by topic across the district, and by matter (letters
    that `reports.similar` scores as the same matter, linked in chains: five writers telling one
    problem five ways). A topic or matter alert whose letters all belong to one place alert, and
    a topic alert whose letters all belong to one matter alert, are left out."""
    groups: dict[tuple[str, str | None, str], list[Facts]] = defaultdict(list)
    for f in facts:
        for topic in f.profile.topics if f.profile else ():
            groups[("topic", None, topic)].append(f)
            if f.place:
                groups[("place", f.place, topic)].append(f)
    alerts = []
    for (kind, place, topic), members in groups.items():
        members.sort(key=lambda f: (f.received, f.code))
        for run in _windows(members, min_letters, window_days):
            alerts.append(Alert(kind, topic, place, run[0].received, run[-1].received,
                                tuple(f.code for f in run)))
    merged: dict[tuple[str, str | None, tuple[str, ...]], list[Alert]] = defaultdict(list)
    for a in alerts:  # one burst seen through several topics is one alert
        merged[(a.kind, a.place, a.letters)].append(a)
    alerts = [replace(same[0], topic="、".join(sorted(x.topic for x in same)))
              for same in merged.values()]
    place_sets = [set(a.letters) for a in alerts if a.kind == "place"]
    matters = [a for a in matter_bursts(facts, min_letters, window_days)
               if not any(set(a.letters) <= s for s in place_sets)]
    wider = place_sets + [set(a.letters) for a in matters]
    alerts = [a for a in alerts if a.kind == "place" or not any(set(a.letters) <= s for s in wider)]
    alerts += matters
    alerts.sort(key=lambda a: (-len(a.letters), a.first, a.kind != "place", a.topic, a.place or ""))
    return alerts


def matter_bursts(facts: Sequence[Facts], min_letters: int, window_days: int) -> list[Alert]:
    """Alerts of kind ``matter``: letters linked by a near-duplicate score ≥ DUPLICATE_SCORE
    (`reports.similar`) received within window_days of each other, in chains (connected
    components), then windowed like the other alerts. The topic is the topics most of them share,
    else their most shared key words; the place, the town/street most of them name."""
    from letterbox.reports.similar import DUPLICATE_SCORE, SimilarityIndex, compare

    members = sorted((f for f in facts if f.profile is not None), key=lambda f: (f.received, f.code))
    if len(members) < min_letters:
        return []
    by_code = {f.code: f for f in members}
    index = SimilarityIndex.build(f.profile for f in members if f.profile is not None)
    parent = {f.code: f.code for f in members}

    def root(code: str) -> str:
        while parent[code] != code:
            parent[code] = parent[parent[code]]
            code = parent[code]
        return code

    links: dict[str, str] = {}  # letter -> the earlier letter it is closest to (for the label)
    for f in members:
        assert f.profile is not None
        for m in index.query(f.profile, limit=20, min_score=DUPLICATE_SCORE, explain=False):
            if (f.received - by_code[m.letter_code].received).days < window_days:
                parent[root(f.code)] = root(m.letter_code)
                links.setdefault(f.code, m.letter_code)
    components: dict[str, list[Facts]] = defaultdict(list)
    for f in members:
        components[root(f.code)].append(f)
    alerts = []
    for group in components.values():
        if len(group) < min_letters:
            continue
        for run in _windows(group, min_letters, window_days):
            phrases: Counter[str] = Counter()
            for f in run:
                if f.code in links and f.profile is not None:
                    other = by_code[links[f.code]].profile
                    assert other is not None
                    phrases.update(compare(f.profile, other).phrases)
            alerts.append(Alert("matter", _matter_label(run, phrases), _common_place(run),
                                run[0].received, run[-1].received, tuple(f.code for f in run)))
    return alerts


def _matter_label(run: Sequence[Facts], phrases: Counter[str]) -> str:
    topics = Counter(t for f in run for t in (f.profile.topics if f.profile else ()))
    shared = sorted(t for t, n in topics.items() if 2 * n >= len(run))
    if shared:
        return "、".join(shared)
    return "、".join(w for w, _ in phrases.most_common(2)) or "同一事项"


def _common_place(run: Sequence[Facts]) -> str | None:
    places = Counter(f.place for f in run if f.place)
    if places:
        place, n = places.most_common(1)[0]
        if 2 * n >= len(run):
            return place
    return None


def _windows(members: Sequence[Facts], min_letters: int, window_days: int) -> list[list[Facts]]:
    """Overlapping qualifying windows merged into runs of letters."""
    span = timedelta(days=window_days - 1)
    runs: list[list[Facts]] = []
    in_run: set[int] = set()  # id() of the last run's letters (a letter's facts are one object)
    j = 0
    for i in range(len(members)):
        while j < len(members) and members[j].received - members[i].received <= span:
            j += 1
        if j - i >= min_letters:
            window = list(members[i:j])
            if runs and runs[-1][-1].received >= window[0].received:
                for f in window:
                    if id(f) not in in_run:
                        runs[-1].append(f)
                        in_run.add(id(f))
            else:
                runs.append(window)
                in_run = {id(f) for f in window}
    return runs


def recent_alerts(letters: Iterable[Letter], config: Config, cal: WorkCalendar, today: date,
                  first: date | None = None) -> list[Alert]:
    """Bursts among the letters received from ``first`` (default: one window back) to ``today``."""
    start = first or today - timedelta(days=config.burst_window_days - 1)
    facts = [f for f in collect_facts(letters, config, cal, start, today) if f.received >= start]
    return bursts(facts, config.burst_min_letters, config.burst_window_days)


# --------------------------------------------------------------------------- rendering


def bars(rows: Sequence[Count]) -> dict[str, Any]:
    """Geometry of a horizontal bar chart of counts (inline SVG)."""
    return count_chart([(r.label, r.letters) for r in rows])


def render_html(a: Analysis) -> str:
    charts = {"category": bars(a.by_category), "unit": bars(a.by_unit[:15]),
              "place": bars(a.by_place), "month": bars(a.by_month)}
    rate = "—" if a.on_time_rate is None else f"{a.on_time_rate * 100:.1f}%"
    return environment().get_template("analysis.html.j2").render(a=a, charts=charts, rate=rate)
