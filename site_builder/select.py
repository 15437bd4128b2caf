"""Select: the letters the board may show, with the facts a reader sees (still unredacted).

Article 13: answered letters are published unless withheld. A merged group (合并办理) is one
matter on the board: its lead letter, with the group's count; the members (their text and
writers) are not shown. A letter is on the board when it
is closed or archived, its reply is known, and its publication decision is public or not yet
taken (a withheld or taken-down letter is not). Everything else (open, rejected, withheld,
taken-down letters) never reaches a later stage.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from letterbox.core.calendar import WorkCalendar
from letterbox.core.config import Config
from letterbox.core.facts import Facts, fold, local_time
from letterbox.core.letter import Letter
from letterbox.core.process import CATEGORIES, STATUSES, State, parse_time
from letterbox.core.textsafe import strip_unsafe
from letterbox.privacy.redact import Writer
from letterbox.reports.views import hidden_reason
from site_builder import held as held_
from site_builder.held import Held
from site_builder.kept_folds import KeptFolds

# "reviewing": a 复查/复核 asked for after the closing; the 处理意见 stands until the reviewing
# body changes it, so a published letter stays on the board meanwhile (requests.json: open)
PUBLIC_STATUSES = frozenset({"closed", "archived", "reviewing"})
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
    on_time: bool | None  # within the limit in force, approved extensions included (facts.Closing)
    follows_up: str | None
    followed_by: tuple[str, ...]
    writer: Writer
    mask: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    status: str = "closed"
    submitted_at: str = ""  # ISO date-time with offset, repository time zone
    updated_at: str = ""  # ISO date-time of the letter's last event
    outcome: str | None = None  # on_time, extended (within an approved extension) or late
    due_provisional: bool = False  # `due` counted through a year whose holidays are not announced (暂定)
    merged: int = 0  # 合并办理: the letters of the group this lead letter answers (0: not merged)

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, "未分类")

    @property
    def month(self) -> str:
        """The month the letter was received (the board's 按来信月份 lists and the statistics)."""
        return f"{self.received.year:04d}-{self.received.month:02d}"


ENTRY_FIELDS = frozenset(f.name for f in fields(Entry))


def evolve(entry: Entry, **changes: Any) -> Entry:
    """`dataclasses.replace` for an Entry without calling its __init__ (which sets each of its
    22 fields through object.__setattr__: ~10 µs an entry, 100 000 entries at every build).
    The values are taken as given, as replace would (Entry converts nothing)."""
    if unknown := changes.keys() - ENTRY_FIELDS:
        raise TypeError(f"Entry has no field {sorted(unknown)}")
    new = object.__new__(Entry)
    new.__dict__.update(entry.__dict__)
    new.__dict__.update(changes)
    return new


def is_public(letter: Letter, state: State) -> bool:
    return state.status in PUBLIC_STATUSES and state.publication in PUBLIC_DECISIONS


FOLD_ERRORS = (ValueError, KeyError, TypeError)  # a history that breaks the process or is malformed


def facts_of(letter: Letter, config: Config, cal: WorkCalendar) -> Facts | None:
    """`fold(letter)`, or None when its history does not replay."""
    try:
        return fold(letter, config, cal)
    except FOLD_ERRORS:
        return None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(sorted(str(v) for v in value or () if str(v).strip()))


def redaction_lists(letter: Letter) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(mask, keep) from the case file's optional `redaction` block, set by staff."""
    block = letter.data.get("redaction")
    block = block if isinstance(block, dict) else {}
    return _strings(block.get("mask")), _strings(block.get("keep"))


def draft_answer(letter: Letter, config: Config, cal: WorkCalendar) -> tuple[str, str, str]:
    """(text, who, what it is) of the answer a reader would see, also before it is final.

    For `letterbox preview`: the approved answer or the office's reply when there is one, else
    the latest answer still awaiting approval, else nothing.
    """
    facts = facts_of(letter, config, cal)
    if facts is not None and facts.answer is not None:
        return facts.answer.text, config.unit_name(facts.answer.unit), "最终答复"
    if facts is not None and facts.draft is not None:
        return facts.draft.text, config.unit_name(facts.draft.unit), "待审核的答复"
    return "", "", "尚无答复"


def not_public_reason(letter: Letter) -> str | None:
    """Why the letter is not on the board (None when it is, or would be once answered)."""
    try:
        state = letter.state()
    except ValueError:
        return "办理记录有误"
    if state.publication == "taken-down":
        return "已撤下公开（letterbox unpublish）；可用 letterbox publish 重新公开"
    if state.publication not in PUBLIC_DECISIONS:
        return "已决定不公开"
    if state.status == "rejected":
        return "不予受理的来信不公开"
    if state.status not in PUBLIC_STATUSES:
        return f"尚未办结（{STATUSES[state.status]}），办结后才会公开"
    return None


def _stripped(writer: Any) -> Any:
    if not isinstance(writer, dict):
        return writer
    return {k: strip_unsafe(v) if isinstance(v, str) else v for k, v in writer.items()}


def entry_of(letter: Letter, config: Config, cal: WorkCalendar,
             followers: dict[str, list[str]], facts: Facts | None = None) -> Entry | None:
    """The board entry of one letter, or None when it must not be shown (`facts`: its fold,
    when already made)."""
    facts = facts if facts is not None else facts_of(letter, config, cal)
    if facts is None or not is_public(letter, facts.state):
        return None
    answer, closing = facts.answer, facts.closing
    if closing is None and facts.state.status == "reviewing" and facts.closings:
        closing = facts.closings[-1]  # the 处理意见 under review still stands
    if answer is None or closing is None:
        return None
    mask, keep = redaction_lists(letter)
    return Entry(
        code=letter.code,
        title=strip_unsafe(str(letter.data.get("title") or "")),  # control and bidi-override
        body=strip_unsafe(str(letter.data.get("body") or "")),  # characters never reach the
        reply=strip_unsafe(answer.text),  # public (core/textsafe.py): this is the one place
        reply_by=strip_unsafe(config.unit_name(answer.unit)),
        category=facts.state.category or "",
        received=facts.received,
        answered=closing.day,
        working_days=facts.working_days(cal, closing) or 0,
        due=closing.due,
        on_time=closing.on_time,
        follows_up=letter.data.get("follows_up") or None,
        followed_by=tuple(sorted(followers.get(letter.code, []))),
        writer=Writer.from_data(_stripped(letter.data.get("writer"))),  # as the text it is found in
        mask=mask,
        keep=keep,
        status=facts.status,
        submitted_at=local_time(str(letter.data["submitted_at"]), config),
        updated_at=local_time(facts.last_at, config),
        outcome=closing.outcome,
        due_provisional=bool(closing.due and cal.provisional_years(facts.received, closing.due)),
        merged=len(facts.state.members) + 1 if facts.state.members else 0,
    )


def select(letters: list[Letter], config: Config, cal: WorkCalendar) -> list[Entry]:
    """Board entries of every public letter, sorted by letter code."""
    return select_or_hold(letters, config, cal)[0]


ENTRY_ERRORS = (*FOLD_ERRORS, OverflowError)  # a date beyond what datetime can hold, too


def select_or_hold(letters: list[Letter], config: Config, cal: WorkCalendar,
                   now: datetime | None = None, kept: KeptFolds | None = None) -> tuple[list[Entry], list[Held]]:
    """Board entries of every public letter, sorted by letter code, and the letters held back:
    a history that does not replay (whether or not it would be public), a public letter whose
    dates make no sense (`Config.time_problem`: in the future or before the mailbox existed).
    One letter's problem never stops the others.

    What each letter's fold gives (`fold_summary`) is kept between builds in `kept`
    (kept_folds.py, by case-file blob id); the dates are judged against `now` at every build."""
    now = now or datetime.now(UTC)
    followers: dict[str, list[str]] = {}
    for letter in letters:
        if target := letter.data.get("follows_up"):
            followers.setdefault(str(target), []).append(letter.code)
    entries: list[Entry] = []
    held: list[Held] = []
    for letter in sorted(letters, key=lambda x: x.code):
        try:
            summary = (kept.value(letter, partial(fold_summary, letter, config, cal)) if kept is not None
                       else fold_summary(letter, config, cal))
        except ENTRY_ERRORS:
            summary = None  # the fold raised: the letter's own path names the problem
        try:
            if summary is None:
                entry = _select_one(letter, config, cal, followers, now, held)
            else:
                entry = _entry_from_summary(letter, summary, config, cal, followers, now, held)
        except ENTRY_ERRORS as exc:
            held.append(held_.broken(letter.code, exc))
            continue
        if entry is not None:
            entries.append(entry)
    if kept is not None:
        kept.save()
    return entries, held


def _select_one(letter: Letter, config: Config, cal: WorkCalendar, followers: dict[str, list[str]],
                now: datetime, held: list[Held]) -> Entry | None:
    """The entry of one letter from its fold, or None (a letter held back is put in `held`)."""
    facts = fold(letter, config, cal)
    if facts is None or not is_public(letter, facts.state):
        return None
    if facts.state.lead is not None:  # merged: shown once, as its lead letter's matter
        return None
    if problem := _date_problem(letter, facts.history[0].get("at"), facts.last_at, config, now):
        held.append(held_.bad_date(letter.code, problem))
        return None
    if (why := hidden_reason(letter, config)) is not None:
        held.append(held_.sealed(letter.code, why, shredded=_shredded(letter, config)))
        return None
    return entry_of(letter, config, cal, followers, facts)


def fold_summary(letter: Letter, config: Config, cal: WorkCalendar) -> dict[str, Any]:
    """What `select_or_hold` needs of the letter's fold, as JSON values (kept between builds:
    kept_folds.py): whether it is shown, the time stamps its dates are judged by and the facts
    of its entry (None when it has no answer or closing to show). Raises what `fold` raises."""
    facts = fold(letter, config, cal)
    if facts is None or not is_public(letter, facts.state) or facts.state.lead is not None:
        return {"shown": False}
    answer, closing = facts.answer, facts.closing
    if closing is None and facts.state.status == "reviewing" and facts.closings:
        closing = facts.closings[-1]  # the 处理意见 under review still stands
    summary: dict[str, Any] = {"shown": True, "first_at": str(facts.history[0].get("at")),
                               "last_at": str(facts.last_at), "entry": None}
    if answer is None or closing is None:
        return summary
    summary["entry"] = {
        "reply": str(answer.text), "unit": answer.unit, "category": facts.state.category or "",
        "received": facts.received.isoformat(), "answered": closing.day.isoformat(),
        "working_days": int(facts.working_days(cal, closing) or 0),
        "due": closing.due.isoformat() if closing.due else None,
        "on_time": closing.on_time, "status": facts.status, "outcome": closing.outcome,
        "due_provisional": bool(closing.due and cal.provisional_years(facts.received, closing.due)),
        "merged": len(facts.state.members) + 1 if facts.state.members else 0,
    }
    return summary


def _entry_from_summary(letter: Letter, summary: dict[str, Any], config: Config, cal: WorkCalendar,
                        followers: dict[str, list[str]], now: datetime, held: list[Held]) -> Entry | None:
    """`_select_one` from the letter's `fold_summary` (the same checks, in the same order)."""
    if not summary["shown"]:
        return None
    if problem := _date_problem(letter, summary["first_at"], summary["last_at"], config, now):
        held.append(held_.bad_date(letter.code, problem))
        return None
    if (why := hidden_reason(letter, config)) is not None:
        held.append(held_.sealed(letter.code, why, shredded=_shredded(letter, config)))
        return None
    f = summary["entry"]
    if f is None:
        return None
    mask, keep = redaction_lists(letter)
    return Entry(
        code=letter.code,
        title=strip_unsafe(str(letter.data.get("title") or "")),  # as entry_of
        body=strip_unsafe(str(letter.data.get("body") or "")),
        reply=strip_unsafe(f["reply"]),
        reply_by=strip_unsafe(config.unit_name(f["unit"])),
        category=f["category"],
        received=date.fromisoformat(f["received"]),
        answered=date.fromisoformat(f["answered"]),
        working_days=f["working_days"],
        due=date.fromisoformat(f["due"]) if f["due"] else None,
        on_time=f["on_time"],
        follows_up=letter.data.get("follows_up") or None,
        followed_by=tuple(sorted(followers.get(letter.code, []))),
        writer=Writer.from_data(_stripped(letter.data.get("writer"))),
        mask=mask,
        keep=keep,
        status=f["status"],
        submitted_at=local_time(str(letter.data["submitted_at"]), config),
        updated_at=local_time(summary["last_at"], config),
        outcome=f["outcome"],
        due_provisional=f["due_provisional"],
        merged=f["merged"],
    )


def _shredded(letter: Letter, config: Config) -> bool:
    period = str(letter.data["sealed"].get("period", ""))
    return config.encryption is not None and period in config.encryption.shredded


def _date_problem(letter: Letter, first_at: Any, last_at: str, config: Config, now: datetime) -> str | None:
    """What is wrong with the dates of a letter about to be published (its first and last
    event's time stamps as its fold has them), or None."""
    for label, stamp in (("submitted_at（提交时间）", letter.data.get("submitted_at")),
                         ("history 第 1 条（收信）的时间", first_at),
                         ("history 最后一条的时间", last_at)):
        try:
            moment = parse_time(str(stamp))
        except ValueError:
            return f"{label} 不是带时区的 ISO 8601 时间"
        if problem := config.time_problem(moment, now):
            return f"{label} {problem}"
    return None
