"""The deadline table (articles 11 and 16): open letters by deadline, overdue first.

Each row comes from the letter's fold as of the table's day (`core.facts.fold`), so
`--today` reproduces a past day's table from today's files. Nothing here reads the writer
block.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from letterbox.core import deadlines
from letterbox.core.calendar import WorkCalendar
from letterbox.core.clock import CALENDAR_FILE, days_left
from letterbox.core.config import Config
from letterbox.core.facts import Facts, fold
from letterbox.core.letter import Letter
from letterbox.core.process import STATUSES, IllegalStep
from letterbox.store.index import Want, active_since

FailOn = Literal["overdue", "due-soon", "never"]
FAIL_ON: tuple[str, ...] = ("overdue", "due-soon", "never")
CLOCK_LABELS: dict[str, str] = {
    "triage": "分办",
    "review": "审核",
    "ordinary": "一般问题",
    "complex": "较复杂问题",
    "petition": "信访立案",
    "recheck": "复查",
    "reexamine": "复核",
    "escalated": "待领导批示",
}
DUE_SOON_WORKING_DAYS = 1
BROKEN_HISTORY = (IllegalStep, KeyError, ValueError, TypeError)  # what `fold` raises


def resolve_unit(config: Config, key: str) -> str:
    """A unit code from a code or name; the office counts too."""
    if key in (config.office_code, config.office_name):
        return config.office_code
    return config.unit(key).code


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
    risk_flags: int = 0  # risk flags (`flag-risk`, article 15(2)) recorded on the letter so far
    merged_into: str | None = None  # 合并办理: the lead letter whose deadline this is
    merged: int = 0  # 合并办理: letters merged into this lead letter

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
            "risk_flags": self.risk_flags,
            "merged_into": self.merged_into,
            "merged": self.merged,
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


def row_of(facts: Facts | None, config: Config, cal: WorkCalendar, today: date) -> DeadlineRow | None:
    """The row of a letter folded as of ``today``; None if closed or not yet received."""
    if facts is None or not facts.is_open:
        return None
    state = facts.state
    who = facts.holders
    risks = len(facts.happened("risk"))
    names = tuple(config.unit_name(c) for c in who)
    clock = facts.clock
    if clock is None:  # escalated: waiting for a leader's instruction, no limit runs
        return DeadlineRow(facts.code, state.status, "escalated", who, names, None, None,
                           overdue=False, due_soon=False, pending_extension=state.pending_extension,
                           risk_flags=risks, merged_into=state.lead, merged=len(state.members))
    comp = clock.computation
    left = days_left(cal, clock, today)
    overdue = today > clock.due
    return DeadlineRow(
        letter_code=facts.code,
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
        risk_flags=risks,
        merged_into=state.lead,
        merged=len(state.members),
    )


def deadline_row(letter: Letter, config: Config, cal: WorkCalendar, today: date) -> DeadlineRow | None:
    """The row of an open letter as of ``today``; None if closed or not yet received."""
    return row_of(fold(letter, config, cal, as_of=today), config, cal, today)


def needed(today: date, window_days: int) -> Want:
    """The letters the deadline table of ``today`` and its burst alerts (letters received in
    the last ``window_days``) can show: open now, broken, or with an event since the earliest
    of those days (a letter closed before then was closed on ``today`` too). A day more, to
    spare a time zone's edge."""
    return active_since(today - timedelta(days=max(window_days, 1)))


def deadline_table(letters: Iterable[Letter], config: Config, cal: WorkCalendar, today: date,
                   unit: str | None = None) -> DeadlineTable:
    """Open letters as of ``today``, overdue first then by deadline; optionally one unit's."""
    rows: list[DeadlineRow] = []
    warnings = calendar_warnings(cal, today)
    for letter in letters:
        try:
            row = deadline_row(letter, config, cal, today)
        except BROKEN_HISTORY:
            warnings.append(f"{letter.path}：办理记录有误，未列入期限表；请运行 letterbox validate 查看并改正。")
            continue
        if row is not None and (unit is None or unit in row.units):
            rows.append(row)
    rows.sort(key=DeadlineRow.sort_key)
    return DeadlineTable(today, rows, warnings)


def days_left_text(row: DeadlineRow) -> str:
    if row.deadline is None or row.days_left is None:
        return "—"
    return deadlines.days_left_text(row.kind, row.days_left, row.overdue)


def remarks_text(row: DeadlineRow) -> str:
    parts = [f"风险预警 {row.risk_flags} 次"] if row.risk_flags else []
    if row.merged_into:
        parts.append(f"随主信 {row.merged_into} 合并办理")
    if row.merged:
        parts.append(f"主信，{row.merged} 封来信并入")
    if row.provisional:
        parts.append("暂定")
    if row.extension_days:
        unit = "个工作日" if deadlines.counts_working_days(row.kind) else "日"
        parts.append(f"已延期 {row.extension_days} {unit}")
    if row.pending_extension is not None:
        parts.append(f"延期申请 {row.pending_extension} 天待审批")
    return "；".join(parts)
