"""The deadline that runs for a letter now, from its replayed state and the working calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from letterbox.core.calendar import DeadlineComputation, WorkCalendar
from letterbox.core.config import Config
from letterbox.core.deadlines import due_date
from letterbox.core.letter import Letter
from letterbox.core.process import State, parse_time

CALENDAR_FILE = "calendar.yaml"


@cache
def _calendar(path: str, mtime: float) -> WorkCalendar:
    return WorkCalendar.from_file(path)


def work_calendar(root: Path) -> WorkCalendar:
    """Library data plus the repository's calendar.yaml (cached until the file changes)."""
    path = root / CALENDAR_FILE
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return _calendar(str(path), mtime)


@dataclass(frozen=True)
class Clock:
    """What limit runs for the letter, and until when."""

    kind: str  # triage, ordinary, complex, petition, review
    computation: DeadlineComputation

    @property
    def due(self) -> date:
        return self.computation.due


def current_clock(letter: Letter, config: Config, cal: WorkCalendar,
                  state: State | None = None) -> Clock | None:
    return clock_of(state or letter.state(), config, cal)


def clock_of(state: State, config: Config, cal: WorkCalendar) -> Clock | None:
    """The limit that runs in ``state`` and its due date; None when none runs."""
    if state.clock is None or state.clock_start is None:
        return None
    start = parse_time(state.clock_start).astimezone(config.tz).date()
    comp = due_date(cal, config.rules, start, state.clock, state.extension_days)
    return Clock(state.clock, comp)


def days_left(cal: WorkCalendar, clock: Clock, today: date) -> int:
    """Days left until the deadline in the limit's own unit: working days, or calendar days for
    a calendar-day limit (a petition case). 0 on the day itself, negative when overdue."""
    if clock.computation.unit == "calendar_days":
        return (clock.due - today).days
    if today <= clock.due:
        return cal.working_days_between(today, clock.due)
    return -cal.working_days_between(clock.due, today)
