"""The office's 退回重办 list: letters whose writer rated the answer 不满意 within a number of
days of its closing, and that are still closed (not reopened yet). Computed from the fold."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from letterbox.core.calendar import WorkCalendar
from letterbox.core.config import Config
from letterbox.core.facts import fold
from letterbox.core.letter import Letter
from letterbox.core.process import IllegalStep, parse_time
from letterbox.reports.views import hidden_reason, placeholder

REOPEN_DAYS = 30
DISSATISFIED = "不满意"


def reopen_entry(letter: Letter, config: Config, cal: WorkCalendar,
                 days: int = REOPEN_DAYS) -> dict[str, Any] | None:
    """The reopen-list entry of a letter rated 不满意 within `days` of closing, else None."""
    facts = fold(letter, config, cal)
    if facts is None:
        return None
    ratings = facts.happened("rating")
    if not ratings or ratings[-1].note != DISSATISFIED:
        return None
    closed_at = facts.closed_at  # None unless closed or archived now (reopened: handled again)
    if closed_at is None:
        return None
    rating = ratings[-1]
    gap = parse_time(rating.at) - parse_time(closed_at)
    if gap.total_seconds() > days * 86400:
        return None
    why = hidden_reason(letter, config)
    title = placeholder(why) if why is not None and "title" not in letter.data else letter.data.get("title", "")
    return {"letter_code": facts.code, "title": title,
            "status": facts.status, "units": list(facts.units),
            "closed_at": closed_at, "feedback_at": rating.at,
            "days_after_closing": gap.days, "rating": DISSATISFIED, "comment": rating.comment}


def reopen_list(letters: Iterable[Letter], config: Config, cal: WorkCalendar,
                days: int = REOPEN_DAYS) -> list[dict[str, Any]]:
    """Letters whose writer was 不满意 within `days` of closing, by letter code. A letter whose
    history does not fold (validate names it) is left out."""
    rows = []
    for letter in letters:
        try:
            entry = reopen_entry(letter, config, cal, days)
        except (IllegalStep, KeyError, ValueError, TypeError):
            continue
        if entry is not None:
            rows.append(entry)
    return sorted(rows, key=lambda r: r["letter_code"])
