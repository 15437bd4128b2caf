"""Handling deadlines for mailbox letters and petition cases.

Working-day modes (一般问题、复杂问题、分办、审核) count working days from the day after
the start; an extension adds working days after the original due date. Petition cases
(信访事项) count calendar days; their extension is in calendar days and capped, added to the
period itself. A calendar-day period whose last day is a weekend or statutory holiday ends on
the first working day after it (`calendar_days_roll_forward`, default on; 民事诉讼法 第八十五条,
applied to petition time limits; docs/deadlines.md).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal, get_args

from letterbox.core.calendar import DeadlineComputation, WorkCalendar

Mode = Literal["ordinary", "complex", "petition", "triage", "review", "recheck", "reexamine"]
MODES: tuple[str, ...] = get_args(Mode)
WORKING_DAY_MODES: tuple[str, ...] = ("ordinary", "complex", "triage", "review")


@dataclass(frozen=True)
class DeadlineRules:
    """Time limits, configurable per deployment."""

    ordinary_working_days: int = 3
    complex_working_days: int = 20
    petition_days: int = 60
    petition_max_extension_days: int = 30
    triage_working_days: int = 1
    review_working_days: int = 2
    calendar_days_roll_forward: bool = True  # a calendar-day limit ending on a day off moves on
    # 复查 / 复核 (《信访工作条例》第三十五、三十六条): the writer's window to ask, the reviewing body's
    # limit to answer (both calendar days), and whether letters not handled as 信访 cases get them.
    review_request_days: int = 30
    review_decide_days: int = 30
    reviews_for_all_letters: bool = False

    def days_for(self, mode: str) -> int:
        """The base time limit of ``mode`` (working days, or calendar days for petitions)."""
        _check_mode(mode)
        return {
            "ordinary": self.ordinary_working_days,
            "complex": self.complex_working_days,
            "petition": self.petition_days,
            "triage": self.triage_working_days,
            "review": self.review_working_days,
            "recheck": self.review_decide_days,
            "reexamine": self.review_decide_days,
        }[mode]

    def rule_text(self, mode: str) -> str:
        """The rule in plain Chinese, e.g. ``一般问题：3 个工作日，自转办次日起算``."""
        n = self.days_for(mode)
        return {
            "ordinary": f"一般问题：{n} 个工作日，自转办次日起算",
            "complex": f"复杂问题：{n} 个工作日，自转办次日起算",
            "petition": (
                f"信访事项：{n} 日（按日历日计算），自转办次日起算，"
                f"最多可延长 {self.petition_max_extension_days} 日"
                + ("；期间届满日为周末或法定节假日的，顺延至其后第一个工作日"
                   if self.calendar_days_roll_forward else "")
            ),
            "triage": f"分办：{n} 个工作日，自收信次日起算",
            "review": f"审核：{n} 个工作日，自提交审核次日起算",
            "recheck": f"复查：{n} 日（按日历日计算），自收到复查请求次日起算" + self._roll_text(),
            "reexamine": f"复核：{n} 日（按日历日计算），自收到复核请求次日起算" + self._roll_text(),
        }[mode]

    def _roll_text(self) -> str:
        return "；期间届满日为周末或法定节假日的，顺延至其后第一个工作日" if self.calendar_days_roll_forward else ""


def counts_working_days(mode: str) -> bool:
    """True when ``mode``'s limit (and its days left) is in working days, False for calendar days."""
    return mode in WORKING_DAY_MODES


def days_left_text(mode: str, left: int, overdue: bool = False) -> str:
    """``剩余 3 个工作日`` / ``剩余 37 天`` / ``今日到期`` / ``已逾期 2 天``: days left in the
    limit's own unit (working days, or calendar days for a petition case). ``overdue``: the
    deadline has passed (a working-day limit due on a Friday is overdue on Saturday, with 0
    working days past)."""
    unit = "个工作日" if counts_working_days(mode) else "天"
    if left < 0:
        return f"已逾期 {-left} {unit}"
    if overdue:
        return "已逾期（期限已过）"
    if left == 0:
        return "今日到期"
    return f"剩余 {left} {unit}"


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"未知的期限类型 “{mode}”：应为 {'、'.join(MODES)} 之一。")


# Due dates computed with each calendar: reports ask for the same few hundred start days and
# limits for thousands of letters. A calendar's days never change once it is loaded.
_MEMO: weakref.WeakKeyDictionary[WorkCalendar, dict[tuple[DeadlineRules, date, str, int],
                                                    DeadlineComputation]] = weakref.WeakKeyDictionary()


def due_date(
    cal: WorkCalendar,
    rules: DeadlineRules,
    start: date,
    mode: str,
    extension_days: int = 0,
) -> DeadlineComputation:
    """The due date of a case started (transferred, received, submitted) on ``start``."""
    return _computation(cal, rules, start, mode, extension_days).copy()


def due_day(cal: WorkCalendar, rules: DeadlineRules, start: date, mode: str,
            extension_days: int = 0) -> date:
    """``due_date(...).due``, for callers that need the day only."""
    return _computation(cal, rules, start, mode, extension_days).due


def _computation(cal: WorkCalendar, rules: DeadlineRules, start: date, mode: str,
                 extension_days: int) -> DeadlineComputation:
    """The computation of `due_date`, shared with later calls: not to be changed."""
    _check_mode(mode)
    _check_extension(rules, mode, extension_days)
    memo = _MEMO.get(cal)
    if memo is None:
        memo = _MEMO[cal] = {}
    key = (rules, start, mode, extension_days)
    comp = memo.get(key)
    if comp is None:
        if mode in WORKING_DAY_MODES:
            base = cal.add_working_days(start, rules.days_for(mode))
            if extension_days:
                base = _extend(cal, base, extension_days)
        else:
            base = _calendar_days(cal, rules, start, rules.days_for(mode), extension_days)
        comp = memo[key] = replace(base, rule=rules.rule_text(mode))
    return comp


def review_window_end(cal: WorkCalendar, rules: DeadlineRules, start: date) -> DeadlineComputation:
    """The last day the writer may ask for 复查 (or 复核) of an opinion given on ``start``: the
    window of ``review_request_days`` calendar days, rolled forward like any calendar-day limit."""
    return replace(_calendar_days(cal, rules, start, rules.review_request_days, 0),
                   rule=f"申请期限：{rules.review_request_days} 日（按日历日计算），自收到意见次日起算"
                   + rules._roll_text())


def _check_extension(rules: DeadlineRules, mode: str, extension_days: int) -> None:
    if extension_days < 0:
        raise ValueError(f"延期天数不能为负数：{extension_days}")
    limit = rules.petition_max_extension_days
    if mode == "petition" and extension_days > limit:
        raise ValueError(f"信访事项最多延长 {limit} 日，不能延长 {extension_days} 日。")


def _calendar_days(cal: WorkCalendar, rules: DeadlineRules, start: date, days: int,
                   extension_days: int) -> DeadlineComputation:
    """A calendar-day limit: ``days`` (plus an extension, counted on from the period's own last
    day) after ``start``; a last day that is a weekend or holiday moves to the next working day
    when the rules say so. Provisional when that depended on a year not announced."""
    period = cal.add_calendar_days(start, days)
    comp = period
    if extension_days:
        ext = cal.add_calendar_days(period.due, extension_days)
        comp = replace(period, due=ext.due, extension_days=extension_days, original_due=period.due)
    if not rules.calendar_days_roll_forward:
        return comp
    due, reason = cal.roll_forward(comp.due)
    years = cal.provisional_years(comp.due, due)
    if due == comp.due:
        return replace(comp, provisional=bool(years), provisional_years=years)
    return replace(comp, due=due, rolled_from=comp.due, roll_reason=reason,
                   provisional=bool(years), provisional_years=years)


def _extend(cal: WorkCalendar, base: DeadlineComputation, days: int) -> DeadlineComputation:
    """Add ``days`` working days after the original due date."""
    ext = cal.add_working_days(base.due, days)
    years = sorted(set(base.provisional_years) | set(ext.provisional_years))
    return replace(
        base,
        due=ext.due,
        skipped=base.skipped + ext.skipped,
        makeup_days_counted=base.makeup_days_counted + ext.makeup_days_counted,
        provisional=bool(years),
        provisional_years=years,
        extension_days=days,
        original_due=base.due,
    )
