"""Select: the letters the board may show, with the facts a reader sees (still unredacted).

Article 13: answered letters are published unless withheld. A letter is on the board when it
is closed or archived, its reply is known, and its publication decision is public or not yet
taken. Everything else (open, rejected, withheld letters) never reaches a later stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from letterbox.core.calendar import WorkCalendar
from letterbox.core.clock import current_clock
from letterbox.core.config import Config
from letterbox.core.letter import Letter
from letterbox.core.process import CATEGORIES, STATUSES, State, local_day, parse_time, states
from letterbox.privacy.redact import Writer
from letterbox.reports.supervision import closing_outcome

PUBLIC_STATUSES = frozenset({"closed", "archived"})
PUBLIC_DECISIONS = frozenset({"public", None})


@dataclass(frozen=True)
class Entry:
    """One letter for the board. `writer`, `mask` and `keep` feed redaction only."""

    code: str
    title: str
    body: str
    reply: str
    reply_by: str
    category: str
    received: date
    answered: date
    working_days: int
    due: date | None
    on_time: bool | None  # answered within the original limit (the supervision report's rule)
    follows_up: str | None
    followed_by: tuple[str, ...]
    writer: Writer
    mask: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    status: str = "closed"
    submitted_at: str = ""  # ISO date-time with offset, repository time zone
    updated_at: str = ""  # ISO date-time of the letter's last event
    outcome: str | None = None  # on_time, extended (within an approved extension) or late

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, "未分类")

    @property
    def month(self) -> str:
        return f"{self.answered.year:04d}-{self.answered.month:02d}"


def is_public(letter: Letter, state: State) -> bool:
    return state.status in PUBLIC_STATUSES and state.publication in PUBLIC_DECISIONS


def _final_answer(letter: Letter, config: Config) -> tuple[int, str, str] | None:
    """(index of the event that gave the answer, its text, who answered) or None."""
    history = letter.history
    for i in range(len(history) - 1, -1, -1):
        event = history[i]
        details = event.get("details") or {}
        if event.get("action") == "reply":
            return i, str(details.get("text") or ""), config.office_name
        if event.get("action") == "answer":
            approved = any(e.get("action") == "approve" for e in history[i + 1:])
            if approved:
                unit = details.get("unit") or ""
                return i, str(details.get("text") or ""), config.unit_name(str(unit))
    return None


def _closed_at(letter: Letter) -> str | None:
    for event in reversed(letter.history):
        if event.get("action") in ("approve", "reply"):
            return str(event.get("at"))
    return None


def _iso(stamp: str, config: Config) -> str:
    return parse_time(stamp).astimezone(config.tz).isoformat(timespec="seconds")


def _local_day(stamp: str, config: Config) -> date:
    return local_day(stamp, config.tz)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(sorted(str(v) for v in value or () if str(v).strip()))


def redaction_lists(letter: Letter) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(mask, keep) from the case file's optional `redaction` block, set by staff."""
    block = letter.data.get("redaction")
    block = block if isinstance(block, dict) else {}
    return _strings(block.get("mask")), _strings(block.get("keep"))


def draft_answer(letter: Letter, config: Config) -> tuple[str, str, str]:
    """(text, who, what it is) of the answer a reader would see, also before it is final.

    For `letterbox preview`: the approved answer or the office's reply when there is one, else
    the latest answer still awaiting approval, else nothing.
    """
    final = _final_answer(letter, config)
    if final is not None:
        return final[1], final[2], "最终答复"
    for event in reversed(letter.history):
        if event.get("action") == "answer":
            details = event.get("details") or {}
            unit = config.unit_name(str(details.get("unit") or ""))
            return str(details.get("text") or ""), unit, "待审核的答复"
    return "", "", "尚无答复"


def not_public_reason(letter: Letter) -> str | None:
    """Why the letter is not on the board (None when it is, or would be once answered)."""
    try:
        state = letter.state()
    except ValueError:
        return "办理记录有误"
    if state.publication not in PUBLIC_DECISIONS:
        return "已决定不公开"
    if state.status == "rejected":
        return "不予受理的来信不公开"
    if state.status not in PUBLIC_STATUSES:
        return f"尚未办结（{STATUSES[state.status]}），办结后才会公开"
    return None


def entry_of(letter: Letter, config: Config, cal: WorkCalendar,
             followers: dict[str, list[str]]) -> Entry | None:
    """The board entry of one letter, or None when it must not be shown."""
    try:
        trail = states(letter.history)  # one fold for the state now, before the answer, rounds
    except ValueError:
        return None
    state = trail[-1]
    answer = _final_answer(letter, config)
    closed = _closed_at(letter)
    if not is_public(letter, state) or answer is None or closed is None:
        return None
    index, text, reply_by = answer
    clock = current_clock(letter, config, cal, trail[index])
    received = _local_day(str(letter.data["submitted_at"]), config)
    answered = _local_day(closed, config)
    mask, keep = redaction_lists(letter)
    outcome = closing_outcome(letter, config, cal, trail)
    return Entry(
        code=letter.code,
        title=str(letter.data.get("title") or ""),
        body=str(letter.data.get("body") or ""),
        reply=text,
        reply_by=reply_by,
        category=state.category or "",
        received=received,
        answered=answered,
        working_days=cal.working_days_between(received, answered),
        due=clock.due if clock else None,
        on_time=outcome == "on_time" if outcome else None,
        follows_up=letter.data.get("follows_up") or None,
        followed_by=tuple(sorted(followers.get(letter.code, []))),
        writer=Writer.from_data(letter.data.get("writer")),
        mask=mask,
        keep=keep,
        status=state.status,
        submitted_at=_iso(str(letter.data["submitted_at"]), config),
        updated_at=_iso(str(letter.history[-1].get("at")), config),
        outcome=outcome,
    )


def select(letters: list[Letter], config: Config, cal: WorkCalendar) -> list[Entry]:
    """Board entries of every public letter, sorted by letter code."""
    followers: dict[str, list[str]] = {}
    for letter in letters:
        if target := letter.data.get("follows_up"):
            followers.setdefault(str(target), []).append(letter.code)
    entries = (entry_of(x, config, cal, followers) for x in sorted(letters, key=lambda x: x.code))
    return [e for e in entries if e is not None]
