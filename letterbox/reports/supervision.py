"""Supervision: the deadline table and the monthly report (articles 11, 14, 16).

Pure functions over letters, the configuration and the working calendar; the CLI lives in
`letterbox.cli.reports`. Nothing here ever reads or returns the writer block: the only
writer data touched is used to blank it out of free text (titles, notes) that staff wrote.

Time travel: every figure is computed "as of" a day by replaying each letter's history only
up to the end of that day (in the configured time zone), so `--today` reproduces a past
day's table from today's files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from letterbox.core.calendar import WorkCalendar, provisional_note
from letterbox.core.clock import CALENDAR_FILE, current_clock, days_left
from letterbox.core.config import Config
from letterbox.core.deadlines import due_day
from letterbox.core.errors import LetterboxError
from letterbox.core.letter import Letter
from letterbox.core.process import (
    MODES,
    OPEN_STATUSES,
    RATINGS,
    STATUSES,
    IllegalStep,
    State,
    apply,
    local_day,
    states,
)
from letterbox.reports.rendering import environment

FailOn = Literal["overdue", "due-soon", "never"]
FAIL_ON: tuple[str, ...] = ("overdue", "due-soon", "never")
UNIT_CLOCKS = frozenset({"ordinary", "complex", "petition"})
OFFICE_CLOCKS = frozenset({"triage", "review"})
CLOCK_LABELS: dict[str, str] = {
    "triage": "分办",
    "review": "审核",
    "ordinary": "一般问题",
    "complex": "较复杂问题",
    "petition": "信访立案",
    "escalated": "待领导批示",
}
DUE_SOON_WORKING_DAYS = 1
RATING_KEYS: dict[str, str] = dict(zip(RATINGS, ("satisfied", "basically_satisfied", "dissatisfied"),
                                       strict=True))  # 满意, 基本满意, 不满意
REDACTED = "＊＊＊"


# --------------------------------------------------------------------------- history as of a day


def event_day(event: dict[str, Any], config: Config) -> date:
    return local_day(str(event["at"]), config.tz)


def letter_as_of(letter: Letter, config: Config, day: date) -> Letter | None:
    """The letter as it stood at the end of ``day``; None if it had not been received yet."""
    history = [e for e in letter.history if event_day(e, config) <= day]
    if not history:
        return None
    if len(history) == len(letter.history):
        return letter
    return Letter(letter.path, {**letter.data, "history": history}, letter.lines)


def owners(state: State, config: Config) -> tuple[str, ...]:
    """Who must act now: the office for triage, review and escalation, else the units."""
    if state.clock in UNIT_CLOCKS and state.units:
        return tuple(state.units)
    return (config.office_code,)


def resolve_unit(config: Config, key: str) -> str:
    """A unit code from a code or name; the office counts too."""
    if key in (config.office_code, config.office_name):
        return config.office_code
    return config.unit(key).code


# --------------------------------------------------------------------------- deadline table


@dataclass(frozen=True)
class DeadlineRow:
    """One open letter in the deadline table."""

    letter_code: str
    status: str
    kind: str  # triage, ordinary, complex, petition, review, escalated
    units: tuple[str, ...]
    unit_names: tuple[str, ...]
    deadline: date | None
    days_left: int | None  # working days; 0 on the day, negative when overdue
    overdue: bool
    due_soon: bool
    provisional: bool = False
    provisional_years: tuple[int, ...] = ()
    extension_days: int = 0
    pending_extension: int | None = None

    def sort_key(self) -> tuple[Any, ...]:
        far = date.max
        return (not self.overdue, self.deadline or far, self.letter_code)

    def to_json(self) -> dict[str, Any]:
        return {
            "letter_code": self.letter_code,
            "status": self.status,
            "status_label": STATUSES.get(self.status, self.status),
            "deadline_kind": self.kind,
            "units": list(self.units),
            "unit_names": list(self.unit_names),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "days_left": self.days_left,
            "overdue": self.overdue,
            "due_soon": self.due_soon,
            "provisional": self.provisional,
            "provisional_years": list(self.provisional_years),
            "extension_days": self.extension_days,
            "pending_extension": self.pending_extension,
        }


@dataclass
class DeadlineTable:
    today: date
    rows: list[DeadlineRow]
    warnings: list[str] = field(default_factory=list)

    def groups(self) -> list[tuple[str, str, list[DeadlineRow]]]:
        """(unit code, unit name, rows) per unit, the most urgent unit first.

        A row with several units appears under each of them.
        """
        by_unit: dict[str, tuple[str, list[DeadlineRow]]] = {}
        for row in self.rows:
            for code, name in zip(row.units, row.unit_names, strict=True):
                by_unit.setdefault(code, (name, []))[1].append(row)
        groups = [(code, name, sorted(rows, key=DeadlineRow.sort_key))
                  for code, (name, rows) in by_unit.items()]
        groups.sort(key=lambda g: (g[2][0].sort_key()[:2], g[0]))
        return groups

    def provisional_years(self) -> list[int]:
        return sorted({y for r in self.rows for y in r.provisional_years})

    def fails(self, fail_on: str) -> bool:
        if fail_on == "never":
            return False
        if fail_on == "overdue":
            return any(r.overdue for r in self.rows)
        if fail_on == "due-soon":
            return any(r.due_soon for r in self.rows)
        raise ValueError(f"--fail-on 应为 {'、'.join(FAIL_ON)} 之一，而不是 {fail_on!r}。")


def calendar_warnings(cal: WorkCalendar, today: date) -> list[str]:
    """Problems in calendar.yaml, and the missing-year warning (from 1 December)."""
    warnings = [str(p) for p in cal.problems]
    missing = cal.missing_next_year_warning(today, CALENDAR_FILE)
    if missing:
        warnings.append(missing)
    return warnings


def deadline_row(letter: Letter, config: Config, cal: WorkCalendar, today: date) -> DeadlineRow | None:
    """The row of an open letter as of ``today``; None if closed or not yet received."""
    seen = letter_as_of(letter, config, today)
    if seen is None:
        return None
    state = seen.state()
    if state.status not in OPEN_STATUSES:
        return None
    who = owners(state, config)
    names = tuple(config.unit_name(c) for c in who)
    clock = current_clock(seen, config, cal, state)
    if clock is None:  # escalated: waiting for a leader's instruction, no limit runs
        return DeadlineRow(seen.code, state.status, "escalated", who, names, None, None,
                           overdue=False, due_soon=False, pending_extension=state.pending_extension)
    comp = clock.computation
    left = days_left(cal, clock, today)
    overdue = today > clock.due
    return DeadlineRow(
        letter_code=seen.code,
        status=state.status,
        kind=clock.kind,
        units=who,
        unit_names=names,
        deadline=clock.due,
        days_left=left,
        overdue=overdue,
        due_soon=overdue or left <= DUE_SOON_WORKING_DAYS,
        provisional=comp.provisional,
        provisional_years=tuple(comp.provisional_years),
        extension_days=comp.extension_days,
        pending_extension=state.pending_extension,
    )


def deadline_table(letters: Iterable[Letter], config: Config, cal: WorkCalendar, today: date,
                   unit: str | None = None) -> DeadlineTable:
    """Open letters as of ``today``, overdue first then by deadline; optionally one unit's."""
    rows: list[DeadlineRow] = []
    warnings = calendar_warnings(cal, today)
    for letter in letters:
        try:
            row = deadline_row(letter, config, cal, today)
        except (IllegalStep, KeyError, ValueError, TypeError):
            warnings.append(f"{letter.path}：办理记录有误，未列入期限表；请运行 letterbox validate 查看并改正。")
            continue
        if row is not None and (unit is None or unit in row.units):
            rows.append(row)
    rows.sort(key=DeadlineRow.sort_key)
    return DeadlineTable(today, rows, warnings)


def days_left_text(row: DeadlineRow) -> str:
    if row.deadline is None or row.days_left is None:
        return "—"
    if row.overdue:
        late = -row.days_left
        return f"已逾期 {late} 个工作日" if late else "已逾期（期限已过）"
    if row.days_left == 0:
        return "今日到期"
    return f"剩余 {row.days_left} 个工作日"


def remarks_text(row: DeadlineRow) -> str:
    parts = []
    if row.provisional:
        parts.append("暂定")
    if row.extension_days:
        unit = "日" if row.kind == "petition" else "个工作日"
        parts.append(f"已延期 {row.extension_days} {unit}")
    if row.pending_extension is not None:
        parts.append(f"延期申请 {row.pending_extension} 天待审批")
    return "；".join(parts)


# --------------------------------------------------------------------------- handling rounds


Outcome = Literal["on_time", "extended", "late"]
OUTCOME_RANK: dict[str, int] = {"on_time": 0, "extended": 1, "late": 2}


@dataclass(frozen=True)
class Round:
    """One run of a clock: from the event that started it to the event that ended it."""

    kind: str
    units: tuple[str, ...]
    start: date
    base_due: date
    due: date  # with granted extensions
    extension_days: int
    end_action: str | None = None
    end: date | None = None

    def ended_by(self, action: str, day: date) -> Round:
        """This round, ended by ``action`` on ``day``."""
        return Round(self.kind, self.units, self.start, self.base_due, self.due,
                     self.extension_days, action, day)

    @property
    def outcome(self) -> Outcome | None:
        """on_time by the original limit; extended: late but within a granted extension; late."""
        if self.end is None:
            return None
        if self.end <= self.base_due:
            return "on_time"
        if self.end <= self.due:
            return "extended"
        return "late"


def _round(config: Config, cal: WorkCalendar, state: State) -> Round | None:
    if state.clock is None or state.clock_start is None:
        return None
    start = local_day(state.clock_start, config.tz)
    base = due_day(cal, config.rules, start, state.clock)
    full = due_day(cal, config.rules, start, state.clock, state.extension_days)
    return Round(state.clock, owners(state, config), start, base, full, state.extension_days)


def rounds(letter: Letter, config: Config, cal: WorkCalendar,
           trail: Sequence[State] | None = None) -> list[Round]:
    """Every clock the letter ran, in order; the last may still be running (end None).

    ``trail``: `process.states` of the letter's history, when the caller has it already."""
    out: list[Round] = []
    history = letter.history
    trail = states(history) if trail is None else trail
    state = trail[0]
    for event, before, state in zip(history, trail[:-1], trail[1:], strict=True):
        restarted = (state.clock, state.clock_start) != (before.clock, before.clock_start)
        if restarted and before.clock is not None:
            ended = _round(config, cal, before)
            if ended is not None:
                out.append(ended.ended_by(str(event.get("action")), event_day(event, config)))
    current = _round(config, cal, state)
    if current is not None:
        out.append(current)
    return out


# --------------------------------------------------------------------------- monthly report


_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of ``YYYY-MM``."""
    m = _MONTH_RE.match(month.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise LetterboxError(f"月份 {month!r} 格式不对：应为 YYYY-MM，例如 2026-02。")
    first = date(int(m.group(1)), int(m.group(2)), 1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


class _Rates:
    """On-time and satisfaction rates, shared by a unit's figures and the month's totals."""

    closed: int
    on_time: int
    satisfied: int
    basically_satisfied: int
    dissatisfied: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None

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

    @property
    def circular(self) -> list[UnitFigures]:
        return [u for u in self.units if u.in_circular]

    @property
    def rated_units(self) -> list[UnitFigures]:
        return [u for u in self.units if u.rated]

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month, "as_of": self.as_of.isoformat(),
            "received": self.received, "rejected": self.rejected, "closed": self.closed,
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
            "bursts": self.bursts,
        }


def scrub(text: str, letter: Letter) -> str:
    """Blank out the writer's name, phone, e-mail and address if staff copied them into text."""
    writer = letter.data.get("writer") or {}
    for key in ("name", "phone", "email", "address"):
        value = str(writer.get(key) or "").strip()
        if len(value) >= 2:
            text = text.replace(value, REDACTED)
    return text


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


def _closing(letter: Letter, config: Config, cal: WorkCalendar, first: date, last: date,
             trail: Sequence[State] | None = None) -> tuple[tuple[str, ...], Outcome] | None:
    """Who closed the letter in the period and how timely, or None if not closed then.

    ``trail``: `process.states` of the letter's history, when the caller has it already."""
    done = [e for e in letter.history if e.get("action") in ("approve", "reply")
            and first <= event_day(e, config) <= last]
    if not done:
        return None
    all_rounds = rounds(letter, config, cal, trail)
    if done[-1]["action"] == "reply":  # the office answered directly (article 8)
        handled = [r for r in all_rounds if r.end_action == "reply"]
    else:
        handled = [r for r in all_rounds if r.kind in UNIT_CLOCKS and r.end_action == "answer"]
    if not handled:
        return None
    outcome = max((r.outcome or "on_time" for r in handled), key=OUTCOME_RANK.__getitem__)
    return handled[-1].units, outcome  # type: ignore[return-value]


def closing_outcome(letter: Letter, config: Config, cal: WorkCalendar,
                    trail: Sequence[State] | None = None) -> str | None:
    """How timely the letter's closing answer was: on_time, extended (within an approved
    extension) or late; None when it is not closed by an answer. The one rule for every report.

    ``trail``: `process.states` of the letter's history, when the caller has it already."""
    found = _closing(letter, config, cal, date.min, date.max, trail)
    return found[1] if found else None


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
    for original in letters:
        letter = letter_as_of(original, config, as_of)
        if letter is None:
            continue
        try:
            _add_letter(report, figures, letter, config, cal, first, as_of, years)
        except (IllegalStep, KeyError, ValueError, TypeError):
            report.warnings.append(f"{letter.path}：办理记录有误，未计入报告；请运行 letterbox validate。")
    report.units = figures.ordered()
    report.reminders.sort(key=lambda r: (r["date"], r["letter_code"]))
    report.risk_flags.sort(key=lambda r: (r["date"], r["letter_code"]))
    report.provisional_years = sorted(years)
    from letterbox.reports.analysis import recent_alerts  # bursts of similar letters, shown first

    report.bursts = [a.to_json() for a in recent_alerts(letters, config, cal, as_of, first)]
    return report


def _add_letter(report: Report, figures: _Figures, letter: Letter, config: Config,
                cal: WorkCalendar, first: date, as_of: date, years: set[int]) -> None:
    state = State()
    trail = [state]  # for _closing: the same fold, not a second one
    answered_by: tuple[str, ...] = (config.office_code,)  # who gave the last answer so far
    for event in letter.history:
        before = state
        state = apply(state, event)
        trail.append(state)
        action = event.get("action")
        if action == "answer":
            answered_by = tuple(before.units) or (config.office_code,)
        elif action == "reply":  # the office answered directly (article 8)
            answered_by = (config.office_code,)
        if not first <= event_day(event, config) <= as_of:
            continue
        day = event_day(event, config).isoformat()
        if action == "receive":
            report.received += 1
        elif action == "reject":
            report.rejected += 1
        elif action in ("transfer", "instruct"):
            for code in state.units:
                figures.unit(code).assigned += 1
        elif action == "remind":
            units = tuple((event.get("details") or {}).get("units") or owners(before, config))
            for code in units:
                figures.unit(code).reminders += 1
            report.reminders.append({
                "letter_code": letter.code, "date": day, "units": list(units),
                "unit_names": [config.unit_name(c) for c in units],
            })
        elif action == "flag-risk":
            note = str((event.get("details") or {}).get("note") or "")
            report.risk_flags.append({
                "letter_code": letter.code, "date": day, "status": state.status,
                "status_label": STATUSES.get(state.status, state.status),
                "units": list(state.units),
                "unit_names": [config.unit_name(c) for c in state.units],
                "note": scrub(note, letter),
            })
        elif action == "feedback":
            key = RATING_KEYS.get(str((event.get("details") or {}).get("rating")))
            if key is not None:
                setattr(report, key, getattr(report, key) + 1)
                for code in answered_by:
                    fig = figures.unit(code)
                    setattr(fig, key, getattr(fig, key) + 1)
    closing = _closing(letter, config, cal, first, as_of, trail)
    if closing is not None:
        units, outcome = closing
        report.closed += 1
        setattr(report, outcome, getattr(report, outcome) + 1)
        for code in units:
            fig = figures.unit(code)
            fig.closed += 1
            setattr(fig, outcome, getattr(fig, outcome) + 1)
            if outcome == "late":
                fig.late_letters.append(letter.code)
    row = deadline_row(letter, config, cal, as_of)
    if row is not None:
        years.update(row.provisional_years)
        if row.overdue:
            report.open_overdue += 1
            for code in row.units:
                fig = figures.unit(code)
                fig.open_overdue += 1
                if row.pending_extension is None:
                    fig.overdue_unexplained.append(letter.code)


# --------------------------------------------------------------------------- rendering



CHART_COLOURS = {"on_time": "#2e7d32", "extended": "#f9a825", "late": "#c62828",
                 "assigned": "#1565c0", "overdue": "#6d4c41"}
SERIES_LABELS = {"on_time": "按期办结", "extended": "逾期（经批准延期）", "late": "逾期（无批准延期）",
                 "assigned": "新交办", "overdue": "逾期未办结"}


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def bar_chart(rows: list[tuple[str, list[tuple[str, int]]]], *, width: int = 640,
              label_width: int = 200, bar_height: int = 22, gap: int = 8) -> dict[str, Any]:
    """Geometry of a horizontal stacked bar chart: rows of (label, [(series, value)])."""
    total = max((sum(v for _, v in parts) for _, parts in rows), default=0) or 1
    plot = width - label_width - 50
    bars = []
    for i, (label, parts) in enumerate(rows):
        y = i * (bar_height + gap) + gap
        x: float = label_width
        segments = []
        for series, value in parts:
            w = round(plot * value / total, 1)
            if value:
                segments.append({"x": x, "width": w, "colour": CHART_COLOURS[series],
                                 "series": SERIES_LABELS[series], "value": value})
            x += w
        bars.append({"label": label, "y": y, "text_y": y + bar_height * 0.7,
                     "segments": segments, "total": sum(v for _, v in parts), "end": x + 6})
    height = len(rows) * (bar_height + gap) + gap
    return {"width": width, "height": height, "label_width": label_width,
            "bar_height": bar_height, "bars": bars}


def render_report(report: Report, fmt: str) -> str:
    """The report in Simplified Chinese: ``md`` (Markdown) or ``html`` (with inline SVG)."""
    if fmt not in ("md", "html"):
        raise LetterboxError(f"报告格式 {fmt!r} 不支持：应为 md 或 html。")
    closed_units = [u for u in report.units if u.closed]
    assigned_units = [u for u in report.units if u.assigned and not u.is_office]
    charts = {
        "closed": bar_chart([(u.name, [("on_time", u.on_time), ("extended", u.extended),
                                       ("late", u.late)]) for u in closed_units]),
        "assigned": bar_chart([(u.name, [("assigned", u.assigned)]) for u in assigned_units]),
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
