"""The one fold: a letter's history turned into its facts, once.

Every reader (show and list, the deadline table, the monthly report, the analysis, the public
board, the status lookup, the reopen list) asks `fold` and never walks `history` itself:
the state after each event, the rounds of handling (each run of a deadline clock), the clock
that runs now, each closing with its outcome (on time / within an approved extension / late),
the final answer, the timeline the writer may see, who must act now, and the dated happenings
the reports count (assignments, reminders, risk flags, ratings).

Time travel: ``fold(letter, config, cal, as_of=day)`` folds only the events up to the end of
``day`` (in the configured time zone), so a past day's table or report is reproduced from
today's files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from letterbox.core.calendar import WorkCalendar
from letterbox.core.clock import Clock, clock_of
from letterbox.core.config import Config
from letterbox.core.deadlines import due_day, review_window_end
from letterbox.core.letter import Letter
from letterbox.core.process import (
    MODES,
    OPEN_STATUSES,
    RATING_ACTIONS,
    STATUSES,
    STEP_BY_ACTION,
    IllegalStep,
    State,
    local_day,
    parse_time,
    states,
)

Outcome = Literal["on_time", "extended", "late"]
OUTCOME_RANK: dict[str, int] = {"on_time": 0, "extended": 1, "late": 2}
UNIT_CLOCKS = frozenset({"ordinary", "complex", "petition"})
CLOSED_STATUSES = frozenset({"closed", "archived"})


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Round:
    """One run of a clock: from the event that started it to the event that ended it."""

    kind: str  # triage, ordinary, complex, petition, review
    units: tuple[str, ...]  # who had to act (the office code for triage and review)
    start: date
    base_due: date  # by the original limit
    due: date  # with the extensions granted on this clock
    extension_days: int
    end_action: str | None = None
    end: date | None = None

    @property
    def outcome(self) -> Outcome | None:
        """on_time by the original limit; extended: after it but within an approved
        extension (article 11: not overdue); late; None while the round runs."""
        if self.end is None:
            return None
        if self.end <= self.base_due:
            return "on_time"
        if self.end <= self.due:
            return "extended"
        return "late"


@dataclass(frozen=True)
class Closing:
    """An answer that closed the letter: the office's direct reply or an approved answer."""

    index: int  # of the closing event in the history
    at: str  # its ISO time stamp
    day: date
    direct: bool  # the office replied itself (article 8)
    units: tuple[str, ...]  # who answered (the office code for a direct reply)
    outcome: Outcome
    due: date | None  # the deadline (extensions included) that ran for the answer

    @property
    def on_time(self) -> bool:
        """Within the limit in force, approved extensions included (articles 11 and 16)."""
        return self.outcome != "late"


@dataclass(frozen=True)
class Answer:
    """An answer's text and who gave it (a unit code, or the office code for a reply)."""

    index: int
    text: str
    unit: str
    final: bool  # approved (or the office's own reply); else still awaiting review


@dataclass(frozen=True)
class Happening:
    """A dated event the reports count: what it was, when, who it concerned."""

    kind: str  # receive, reject, assign, remind, risk, rating, extension, merge
    day: date
    units: tuple[str, ...] = ()
    status: str = ""  # the status after the event
    note: str = ""  # risk note, rating, reason code
    days: int = 0  # extension days granted
    at: str = ""  # the event's ISO time stamp
    comment: str = ""  # the writer's comment with a rating


@dataclass(frozen=True)
class TimelineItem:
    """One line of what the writer sees: the day and a plain Chinese label."""

    day: date
    label: str
    action: str


@dataclass(frozen=True)
class Facts:
    """Everything derived from one letter's history (as of a day, when folded so)."""

    letter: Letter
    code: str
    history: tuple[dict[str, Any], ...]  # the events folded (those up to the as-of day)
    trail: tuple[State, ...]  # the state before the first event and after each event
    received: date  # the day the office received it (the receive event)
    rounds: tuple[Round, ...]
    clock: Clock | None  # the limit running now; None when none runs
    closings: tuple[Closing, ...]
    answer: Answer | None  # the final answer (approved, or a direct reply); None if none
    draft: Answer | None  # the latest answer, approved or not
    holders: tuple[str, ...]  # who must act now (unit codes, or the office code)
    happenings: tuple[Happening, ...]
    timeline: tuple[TimelineItem, ...]
    extension_days: int  # granted in all, on every clock
    reject_reason: str | None
    last_at: str  # time stamp of the last event folded

    # ----------------------------------------------------------------- the state now

    @property
    def state(self) -> State:
        return self.trail[-1]

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.state.status, self.state.status)

    @property
    def is_open(self) -> bool:
        return self.state.status in OPEN_STATUSES

    @property
    def units(self) -> tuple[str, ...]:
        """The units the letter is with now (empty before transfer and after a return)."""
        return tuple(self.state.units)

    # ----------------------------------------------------------------- closing

    @property
    def closing(self) -> Closing | None:
        """The closing that holds now: the last one, while the letter is closed or archived."""
        if self.closings and self.state.status in CLOSED_STATUSES:
            return self.closings[-1]
        return None

    def followed(self, closing: Closing) -> bool:
        """The closing was recorded from a lead letter (合并办理): the group's one answer."""
        return bool(self.history[closing.index].get("lead"))

    @property
    def closed_at(self) -> str | None:
        closing = self.closing
        return closing.at if closing else None

    @property
    def closed(self) -> date | None:
        closing = self.closing
        return closing.day if closing else None

    @property
    def outcome(self) -> Outcome | None:
        closing = self.closing
        return closing.outcome if closing else None

    def closings_between(self, first: date, last: date) -> list[Closing]:
        return [c for c in self.closings if first <= c.day <= last]

    # The one rule of every report for merged handling (合并办理): the group's answer counts
    # once for timeliness, by its lead letter; each member counts for volume (received, closed
    # with the group, by topic and place). `letterbox report` and `letterbox analyse` both ask:

    def timed_closing(self, first: date, last: date) -> Closing | None:
        """The closing from ``first`` to ``last`` that counts for timeliness (on time or late,
        working days taken): the last one (a letter closed twice counts once); None when there
        is none, or when it is a merged group's answer recorded from its lead (the member is
        `closed_with_group`)."""
        closings = self.closings_between(first, last)
        if not closings or self.followed(closings[-1]):
            return None
        return closings[-1]

    def closed_with_group(self, first: date, last: date) -> bool:
        """Closed from ``first`` to ``last`` by its lead's answer (合并办理): volume, not timeliness."""
        closings = self.closings_between(first, last)
        return bool(closings) and self.followed(closings[-1])

    def working_days(self, cal: WorkCalendar, closing: Closing | None = None) -> int | None:
        """Working days from receipt to the closing (the one that holds now by default)."""
        closing = closing or self.closing
        if closing is None:
            return None
        return cal.working_days_between(self.received, closing.day)

    def happened(self, kind: str, first: date = date.min, last: date = date.max) -> list[Happening]:
        return [h for h in self.happenings if h.kind == kind and first <= h.day <= last]


# --------------------------------------------------------------------------- the fold


def owners(state: State, config: Config) -> tuple[str, ...]:
    """Who must act in ``state``: the units while their clock runs, else the office."""
    if state.clock in UNIT_CLOCKS and state.units:
        return tuple(state.units)
    return (config.office_code,)


def _round(config: Config, cal: WorkCalendar, state: State, end_action: str | None = None,
           end: date | None = None) -> Round | None:
    if state.clock is None or state.clock_start is None:
        return None
    start = local_day(state.clock_start, config.tz)
    base = due_day(cal, config.rules, start, state.clock)
    full = due_day(cal, config.rules, start, state.clock, state.extension_days)
    return Round(state.clock, owners(state, config), start, base, full, state.extension_days,
                 end_action, end)


def cut(history: Sequence[dict[str, Any]], config: Config, as_of: date | None) -> list[dict[str, Any]]:
    """The events up to the end of ``as_of`` (all of them when None)."""
    if as_of is None:
        return list(history)
    return [e for e in history if local_day(str(e["at"]), config.tz) <= as_of]


class DateOutOfRange(ValueError):
    """A date of the history that cannot be computed with (year 9999 and a deadline after it,
    or a time that moves past year 9999 in the repository's time zone)."""


def fold(letter: Letter, config: Config, cal: WorkCalendar, as_of: date | None = None) -> Facts | None:
    """The facts of ``letter`` as of the end of ``as_of`` (None: everything); None when the
    letter had not been received yet. Raises `IllegalStep` (a ValueError) for a history that
    breaks the process, `DateOutOfRange` (a ValueError) for a date beyond what can be
    computed, and KeyError/TypeError/ValueError for malformed events."""
    try:
        history = cut(letter.history, config, as_of)
        if not history:
            return None
        return _fold(letter, tuple(history), config, cal)
    except OverflowError:
        raise DateOutOfRange(f"信件 {letter.code}：办理记录中的日期超出可计算的范围"
                             "（如 9999 年），请改正案卷中的日期") from None


def broken_reason(exc: BaseException) -> str:
    """A plain Chinese reason for a history `fold` refused, without quoting the case file."""
    if isinstance(exc, DateOutOfRange):
        return str(exc).split("：", 1)[-1]
    if isinstance(exc, IllegalStep):
        return str(exc)
    if isinstance(exc, OverflowError):
        return "日期超出可计算的范围（如 9999 年），请改正案卷中的日期"
    if isinstance(exc, KeyError):
        return f"办理记录缺少字段 {exc}"
    if isinstance(exc, ValueError):
        return "办理记录中的时间或数值格式不对（应如 2026-03-02T09:15:00+08:00）"
    return "办理记录的格式有误"


def _fold(letter: Letter, history: tuple[dict[str, Any], ...], config: Config,
          cal: WorkCalendar) -> Facts:
    trail = tuple(states(list(history)))
    tz = config.tz
    office = config.office_code
    rounds: list[Round] = []
    closings: list[Closing] = []
    happenings: list[Happening] = []
    timeline: list[TimelineItem] = []
    answer: Answer | None = None
    draft: Answer | None = None
    granted = 0
    reject_reason: str | None = None
    episode = 0  # rounds[episode:] ran since the last closing
    decided: date | None = None  # the day of the last 复查 / 复核 decision
    for index, event in enumerate(history):
        before, after = trail[index], trail[index + 1]
        action = str(event.get("action"))
        details = event.get("details") or {}
        at = str(event["at"])
        day = local_day(at, tz)
        if (after.clock, after.clock_start) != (before.clock, before.clock_start):
            ended = _round(config, cal, before, action, day)
            if ended is not None:
                rounds.append(ended)
        step = STEP_BY_ACTION[action]
        if step.writer_label:
            timeline.append(TimelineItem(day, step.writer_label, action))
        if action == "receive":
            happenings.append(Happening("receive", day, status=after.status, at=at))
        elif action == "reject":
            reject_reason = str(details.get("reason") or "") or None
            happenings.append(Happening("reject", day, status=after.status, note=reject_reason or "", at=at))
        elif action in ("transfer", "instruct"):
            happenings.append(Happening("assign", day, tuple(after.units), after.status, at=at))
        elif action == "remind":
            units = tuple(details.get("units") or owners(before, config))
            happenings.append(Happening("remind", day, units, after.status, at=at))
        elif action == "flag-risk":
            happenings.append(Happening("risk", day, tuple(after.units), after.status,
                                        note=str(details.get("note") or ""), at=at))
        elif action == "grant":
            days = int(details.get("days") or before.pending_extension or 0)
            granted += days
            happenings.append(Happening("extension", day, owners(before, config), after.status,
                                        days=days, at=at))
        elif action == "answer":
            unit = str(details.get("unit") or (before.units[0] if before.units else ""))
            draft = Answer(index, str(details.get("text") or ""), unit, final=False)
        elif action == "reply":
            draft = answer = Answer(index, str(details.get("text") or ""), office, final=True)
            closings.append(_closing(index, event, day, rounds[episode:], direct=True, office=office))
            episode = len(rounds)
        elif action == "approve":
            if draft is not None:
                draft = answer = Answer(draft.index, draft.text, draft.unit, final=True)
            closings.append(_closing(index, event, day, rounds[episode:], direct=False, office=office))
            episode = len(rounds)
        elif action == "review-request":
            try:
                _check_review_window(before, str(details.get("kind")), day,
                                     decided if details.get("kind") == "复核" else
                                     (closings[-1].day if closings else None), config, cal)
            except ReviewRefused as exc:
                raise ReviewRefused(f"办理记录第 {index + 1} 条（{step.label}）：{exc.reason}", exc.reason) from None
            happenings.append(Happening("review-request", day, (office,), after.status,
                                        note=str(details.get("kind") or ""), at=at))
        elif action == "review-decide":
            decided = day
            happenings.append(Happening("review-decide", day, (office,), after.status,
                                        note=str(before.review or ""),
                                        comment=str(details.get("outcome") or ""), at=at))
        elif action == "merge" and details.get("into"):  # 合并办理: this letter joins a lead's group
            happenings.append(Happening("merge", day, (office,), after.status, note=str(details["into"]), at=at))
        elif action in RATING_ACTIONS:  # by the writer on the web, or taken by phone by the office
            rating = str(details.get("rating") or "")
            units = closings[-1].units if closings else (office,)
            happenings.append(Happening("rating", day, units, after.status, note=rating,
                                        comment=str(details.get("comment") or ""), at=at))
    state = trail[-1]
    current = _round(config, cal, state)
    if current is not None:
        rounds.append(current)
    return Facts(
        letter=letter,
        code=letter.code,
        history=history,
        trail=trail,
        received=local_day(str(history[0]["at"]), tz),
        rounds=tuple(rounds),
        clock=clock_of(state, config, cal),
        closings=tuple(closings),
        answer=answer,
        draft=draft,
        holders=owners(state, config),
        happenings=tuple(happenings),
        timeline=tuple(timeline),
        extension_days=granted,
        reject_reason=reject_reason,
        last_at=str(history[-1]["at"]),
    )


class ReviewRefused(IllegalStep):
    """A 复查 / 复核 request outside its window or for a letter that may not have one;
    `reason` says why without the history's line number."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


def _check_review_window(before: State, kind: str, day: date, opened: date | None, config: Config,
                         cal: WorkCalendar) -> None:
    """A 复查 or 复核 request within its window, for a 信访 case unless the configuration gives
    reviews to every letter (《信访工作条例》第三十五、三十六条). `opened`: the day of the opinion
    asked against (the closing for 复查, the 复查 decision for 复核)."""
    if before.mode != "petition" and not config.rules.reviews_for_all_letters:
        raise ReviewRefused(f"这封信不是作为信访事项办理的（问题性质：{MODES.get(str(before.mode), '无')}），"
                          "不适用复查复核（letterbox.yaml 的 deadlines.reviews_for_all_letters 未开启）。")
    if opened is None:
        raise ReviewRefused(f"没有可申请{kind}的意见。")
    window = review_window_end(cal, config.rules, opened)
    if day > window.due:
        what = "处理意见" if kind == "复查" else "复查意见"
        raise ReviewRefused(f"{kind}申请已超过期限：{what}于 {opened.isoformat()} 作出，应在 "
                          f"{window.due.isoformat()} 前申请（{config.rules.review_request_days} 日"
                          + ("，届满日遇节假日顺延" if window.rolled_from else "")
                          + f"），申请日为 {day.isoformat()}。")


def _closing(index: int, event: dict[str, Any], day: date, rounds: Sequence[Round], *,
             direct: bool, office: str) -> Closing:
    """The closing at ``event``, judged by ``rounds`` (those run since the previous closing).

    A direct reply is judged by the triage round it ended; an approval by the unit rounds
    ended by an `answer` (a unit answering late, sent back and answering again in time is still
    late): the worst outcome counts."""
    if direct:
        handled = [r for r in rounds if r.end_action == "reply"][-1:]
        units: tuple[str, ...] = (office,)
    else:
        handled = [r for r in rounds if r.kind in UNIT_CLOCKS and r.end_action == "answer"]
        units = handled[-1].units if handled else (office,)
    outcome = max((r.outcome or "on_time" for r in handled), key=OUTCOME_RANK.__getitem__,
                  default="on_time")
    due = handled[-1].due if handled else None
    return Closing(index, str(event["at"]), day, direct, units, outcome, due)  # type: ignore[arg-type]


def local_time(stamp: str, config: Config) -> str:
    """An ISO time stamp in the repository's time zone, to the second."""
    return parse_time(stamp).astimezone(config.tz).isoformat(timespec="seconds")
