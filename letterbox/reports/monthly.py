"""The monthly supervision report (articles 14 and 16): letters received, closed on time or
late, units to be named in the circular, reminders, risk flags, satisfaction.

Every figure comes from each letter's fold as of the report's last day (`core.facts.fold`):
its dated happenings, its closings and its state then. Nothing here reads the writer block
except to redact risk notes staff wrote, with the site's redaction (`privacy.redact`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from letterbox.core.calendar import WorkCalendar, provisional_note
from letterbox.core.config import Config
from letterbox.core.errors import LetterboxError
from letterbox.core.facts import Facts, fold
from letterbox.core.letter import Letter
from letterbox.core.process import MODES, RATINGS, REVIEW_KINDS, REVIEW_OUTCOMES, local_day, states
from letterbox.reports.charts import bar_chart
from letterbox.reports.deadline_table import (
    BROKEN_HISTORY,
    CLOCK_LABELS,
    calendar_warnings,
    row_of,
)
from letterbox.reports.rendering import environment
from letterbox.reports.views import hidden_reason
from letterbox.store.index import Want, active_since, everything

RATING_KEYS: dict[str, str] = dict(zip(RATINGS, ("satisfied", "basically_satisfied", "dissatisfied"),
                                       strict=True))  # 满意, 基本满意, 不满意
CHART_COLOURS = {"on_time": "#2e7d32", "extended": "#f9a825", "late": "#c62828",
                 "assigned": "#1565c0", "overdue": "#6d4c41"}
SERIES_LABELS = {"on_time": "按期办结", "extended": "逾期（经批准延期）", "late": "逾期（无批准延期）",
                 "assigned": "新交办", "overdue": "逾期未办结"}
SEALED_NOTE = "（来信加密保存，本机无法解密，无法核对来信人信息，说明未显示）"
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of ``YYYY-MM``."""
    m = _MONTH_RE.match(month.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise LetterboxError(f"月份 {month!r} 格式不对：应为 YYYY-MM，例如 2026-02。")
    first = date(int(m.group(1)), int(m.group(2)), 1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def needed(month: str) -> Want:
    """The letters the report of ``month`` can count: open now, broken, or with an event from
    the month's first day on (a letter closed before it has nothing in the month and was
    closed at its end). A day more, to spare a time zone's edge. A month that is not YYYY-MM:
    every letter (`monthly_report` names the mistake)."""
    try:
        first, _last = month_bounds(month)
    except LetterboxError:
        return everything
    return active_since(first - timedelta(days=1))


class _Rates:
    """On-time and satisfaction rates, shared by a unit's figures and the month's totals."""

    closed: int
    on_time: int
    extended: int
    satisfied: int
    basically_satisfied: int
    dissatisfied: int

    @property
    def on_time_rate(self) -> float | None:
        """(on time + within an approved extension) ÷ closed (articles 11 and 16)."""
        return (self.on_time + self.extended) / self.closed if self.closed else None

    @property
    def rated(self) -> int:
        return self.satisfied + self.basically_satisfied + self.dissatisfied

    @property
    def satisfaction_rate(self) -> float | None:
        """(满意 + 基本满意) ÷ rated; None when nobody rated."""
        return (self.satisfied + self.basically_satisfied) / self.rated if self.rated else None


@dataclass
class UnitFigures(_Rates):
    code: str
    name: str
    assigned: int = 0  # letters transferred to the unit in the month
    closed: int = 0  # letters closed in the month that the unit handled
    on_time: int = 0
    extended: int = 0  # late against the original limit, within an approved extension
    late: int = 0  # late without (or beyond) an approved extension
    late_letters: list[str] = field(default_factory=list)
    open_overdue: int = 0  # still open and overdue at the end of the period
    overdue_unexplained: list[str] = field(default_factory=list)  # ...without a pending extension
    reminders: int = 0
    returns: list[str] = field(default_factory=list)  # letters it handed back (article 15(4)), once per return
    sent_back: list[str] = field(default_factory=list)  # its answers the office sent back (article 12)
    satisfied: int = 0  # feedback ratings given in the month on letters the unit answered
    basically_satisfied: int = 0
    dissatisfied: int = 0
    is_office: bool = False

    @property
    def in_circular(self) -> bool:
        return not self.is_office and bool(self.late_letters or self.overdue_unexplained)

    def to_json(self) -> dict[str, Any]:
        return {
            "unit": self.code, "unit_name": self.name, "assigned": self.assigned,
            "closed": self.closed, "on_time": self.on_time,
            "late_with_extension": self.extended, "late_without_extension": self.late,
            "late_letters": self.late_letters, "open_overdue": self.open_overdue,
            "overdue_unexplained": self.overdue_unexplained, "reminders": self.reminders,
            "returns": len(self.returns), "returned_letters": self.returns,
            "send_backs": len(self.sent_back), "sent_back_letters": self.sent_back,
            "on_time_rate": self.on_time_rate,
            "satisfied": self.satisfied, "basically_satisfied": self.basically_satisfied,
            "dissatisfied": self.dissatisfied, "rated": self.rated,
            "satisfaction_rate": self.satisfaction_rate,
        }


@dataclass
class Report(_Rates):
    month: str
    first: date
    last: date
    as_of: date
    district: str
    mailbox_name: str
    office_name: str
    received: int = 0
    rejected: int = 0
    merged: int = 0  # letters merged into another letter's handling in the period (合并办理)
    merged_closed: int = 0  # letters closed with their lead's answer: volume, not timeliness
    closed: int = 0
    on_time: int = 0
    extended: int = 0
    late: int = 0
    open_overdue: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    units: list[UnitFigures] = field(default_factory=list)
    reminders: list[dict[str, Any]] = field(default_factory=list)
    risk_flags: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    provisional_years: list[int] = field(default_factory=list)
    bursts: list[dict[str, Any]] = field(default_factory=list)  # early-warning alerts (analysis)
    # 复查 / 复核 (《信访工作条例》第三十五、三十六条), per kind: requests made in the period, the
    # decisions made in it by outcome, and those still pending at its end
    reviews: dict[str, dict[str, int]] = field(default_factory=lambda: {
        kind: {"requested": 0, **dict.fromkeys(REVIEW_OUTCOMES, 0), "pending": 0} for kind in REVIEW_KINDS})

    @property
    def reviewed(self) -> bool:
        """Any 复查 or 复核 to report."""
        return any(any(v.values()) for v in self.reviews.values())

    @property
    def circular(self) -> list[UnitFigures]:
        return [u for u in self.units if u.in_circular]

    @property
    def rated_units(self) -> list[UnitFigures]:
        return [u for u in self.units if u.rated]

    @property
    def passing_units(self) -> list[UnitFigures]:
        """Units that handed letters back or had answers sent back (buck-passing, article 15(3))."""
        return [u for u in self.units if u.returns or u.sent_back]

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month, "as_of": self.as_of.isoformat(),
            "received": self.received, "rejected": self.rejected, "closed": self.closed,
            "merged": self.merged, "merged_closed": self.merged_closed,
            "on_time": self.on_time, "late_with_extension": self.extended,
            "late_without_extension": self.late, "open_overdue": self.open_overdue,
            "on_time_rate": self.on_time_rate,
            "satisfied": self.satisfied, "basically_satisfied": self.basically_satisfied,
            "dissatisfied": self.dissatisfied, "rated": self.rated,
            "satisfaction_rate": self.satisfaction_rate,
            "units": [u.to_json() for u in self.units],
            "circular": [u.code for u in self.circular],
            "reminders": self.reminders, "risk_flags": self.risk_flags,
            "warnings": self.warnings, "provisional_years": self.provisional_years,
            "bursts": self.bursts, "reviews": self.reviews,
        }


class _Figures:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.units: dict[str, UnitFigures] = {}

    def unit(self, code: str) -> UnitFigures:
        if code not in self.units:
            office = code == self.config.office_code
            self.units[code] = UnitFigures(code, self.config.unit_name(code), is_office=office)
        return self.units[code]

    def ordered(self) -> list[UnitFigures]:
        order = {u.code: i for i, u in enumerate(self.config.units)}
        return sorted(self.units.values(),
                      key=lambda u: (u.is_office, order.get(u.code, len(order)), u.code))


def monthly_report(letters: Iterable[Letter], config: Config, cal: WorkCalendar, month: str,
                   today: date) -> Report:
    """The supervision report for ``month`` as known at the end of ``today``.

    A month still running is reported up to ``today``.
    """
    letters = list(letters)
    first, last = month_bounds(month)
    if first > today:
        raise LetterboxError(f"{month} 尚未开始（今天是 {today.isoformat()}），无法生成该月报告。")
    as_of = min(last, today)
    report = Report(month, first, last, as_of, config.district, config.mailbox_name,
                    config.office_name, warnings=calendar_warnings(cal, as_of))
    figures = _Figures(config)
    years: set[int] = set()
    counted: list[Letter] = []  # in the month's figures (or named as broken)
    for letter in letters:
        try:
            facts = fold(letter, config, cal, as_of=as_of)
            if facts is not None:
                _add_letter(report, figures, facts, config, cal, first, as_of, years)
                if facts.is_open or any(first <= h.day <= as_of for h in facts.happenings) \
                        or facts.closings_between(first, as_of):
                    counted.append(letter)
        except BROKEN_HISTORY:
            report.warnings.append(f"{letter.path}：办理记录有误，未计入报告；请运行 letterbox validate。")
            counted.append(letter)
    report.units = figures.ordered()
    report.reminders.sort(key=lambda r: (r["date"], r["letter_code"]))
    report.risk_flags.sort(key=lambda r: (r["date"], r["letter_code"]))
    report.provisional_years = sorted(years)
    unread = [x.code for x in counted if hidden_reason(x, config) is not None]
    if unread:
        report.warnings.append(f"{len(unread)} 封信件加密保存且无法用本机密钥解密，已计入统计，"
                               "其风险预警说明未显示、未参与集中来信预警：" + "、".join(unread[:20])
                               + ("等" if len(unread) > 20 else "") + "。")
    from letterbox.reports.analysis import recent_alerts  # jieba, only when a report is made

    # bursts of similar letters, shown first
    report.bursts = [a.to_json() for a in recent_alerts(letters, config, cal, as_of, first)]
    return report


def _add_letter(report: Report, figures: _Figures, facts: Facts, config: Config,
                cal: WorkCalendar, first: date, as_of: date, years: set[int]) -> None:
    """Count one letter, folded as of ``as_of``, in the figures of ``first``..``as_of``."""
    report.received += len(facts.happened("receive", first, as_of))
    report.rejected += len(facts.happened("reject", first, as_of))
    report.merged += len(facts.happened("merge", first, as_of))
    for h in facts.happened("assign", first, as_of):
        for code in h.units:
            figures.unit(code).assigned += 1
    for h in facts.happened("remind", first, as_of):
        for code in h.units:
            figures.unit(code).reminders += 1
        report.reminders.append({
            "letter_code": facts.code, "date": h.day.isoformat(), "units": list(h.units),
            "unit_names": [config.unit_name(c) for c in h.units],
        })
    _count_handbacks(figures, facts, config, first, as_of)
    risks = facts.happened("risk", first, as_of)
    sealed_away = hidden_reason(facts.letter, config) is not None  # its writer unknown here
    if risks:  # the site's redaction (its tagger loads only when a note is to be redacted)
        from letterbox.privacy.redact import Writer, keep_words, redact

        writer = Writer.from_data(facts.letter.data.get("writer"))
        keep = keep_words(config)  # units, the office, public numbers and places stay
    for h in risks:
        report.risk_flags.append({
            "letter_code": facts.code, "date": h.day.isoformat(),
            "status": facts.status, "status_label": facts.status_label,  # as of the report's end
            "units": list(h.units),
            "unit_names": [config.unit_name(c) for c in h.units],
            "note": SEALED_NOTE if sealed_away else redact(h.note, writer, keep=keep).text,
        })
    for h in facts.happened("rating", first, as_of):
        key = RATING_KEYS.get(h.note)
        if key is not None:
            setattr(report, key, getattr(report, key) + 1)
            for code in h.units:
                fig = figures.unit(code)
                setattr(fig, key, getattr(fig, key) + 1)
    for h in facts.happened("review-request", first, as_of):
        if h.note in report.reviews:
            report.reviews[h.note]["requested"] += 1
    for h in facts.happened("review-decide", first, as_of):
        if h.note in report.reviews and h.comment in REVIEW_OUTCOMES:
            report.reviews[h.note][h.comment] += 1
    if facts.state.review in report.reviews:  # asked for and not decided by the period's end
        report.reviews[str(facts.state.review)]["pending"] += 1
    # 合并办理: the group's answer counts once for timeliness, by its lead letter; a member
    # counts in the volume (received, closed with the group): `core.facts.Facts.timed_closing`
    if facts.closed_with_group(first, as_of):
        report.merged_closed += 1
    elif (closing := facts.timed_closing(first, as_of)) is not None:  # closed twice: counts once
        report.closed += 1
        setattr(report, closing.outcome, getattr(report, closing.outcome) + 1)
        for code in closing.units:
            fig = figures.unit(code)
            fig.closed += 1
            setattr(fig, closing.outcome, getattr(fig, closing.outcome) + 1)
            if closing.outcome == "late":
                fig.late_letters.append(facts.code)
    row = row_of(facts, config, cal, as_of)
    if row is not None:
        years.update(row.provisional_years)
        if row.overdue and facts.state.lead is None:  # a merged letter is overdue with its lead
            report.open_overdue += 1
            for code in row.units:
                fig = figures.unit(code)
                fig.open_overdue += 1
                if row.pending_extension is None:
                    fig.overdue_unexplained.append(facts.code)


def _count_handbacks(figures: _Figures, facts: Facts, config: Config, first: date, as_of: date) -> None:
    """Returns (`return`: a unit hands the letter back as not its remit) and send-backs
    (`send-back`: the office sends a unit's answer back) in the period, per unit (article 15(3)
    and (4)): a send-back counts against the units that held the letter when it was sent back."""
    history = facts.letter.history
    wanted = ("return", "send-back")
    if not any(e.get("action") in wanted for e in history):
        return
    for before, event in zip(states(history), history, strict=False):
        action = event.get("action")
        if action not in wanted or not first <= local_day(str(event.get("at")), config.tz) <= as_of:
            continue
        if event.get("lead"):  # 合并办理: counted once, with the lead letter
            continue
        if action == "return":
            unit = (event.get("details") or {}).get("unit")
            figures.unit(str(unit)).returns.append(facts.code)
        else:
            for code in before.units:
                figures.unit(code).sent_back.append(facts.code)


# --------------------------------------------------------------------------- rendering


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def render_report(report: Report, fmt: str) -> str:
    """The report in Simplified Chinese: ``md`` (Markdown) or ``html`` (with inline SVG)."""
    if fmt not in ("md", "html"):
        raise LetterboxError(f"报告格式 {fmt!r} 不支持：应为 md 或 html。")
    closed_units = [u for u in report.units if u.closed]
    assigned_units = [u for u in report.units if u.assigned and not u.is_office]
    charts = {
        "closed": bar_chart([(u.name, [("on_time", u.on_time), ("extended", u.extended),
                                       ("late", u.late)]) for u in closed_units],
                            colours=CHART_COLOURS, labels=SERIES_LABELS),
        "assigned": bar_chart([(u.name, [("assigned", u.assigned)]) for u in assigned_units],
                              colours=CHART_COLOURS, labels=SERIES_LABELS),
    }
    return environment().get_template(f"report.{fmt}.j2").render(
        r=report,
        charts=charts,
        colours=CHART_COLOURS,
        percent=_percent,
        clock_labels=CLOCK_LABELS,
        modes=MODES,
        provisional_note=provisional_note(report.provisional_years) if report.provisional_years else "",
    )
