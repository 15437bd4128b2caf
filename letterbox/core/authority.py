"""May this member take this step, now? The rules shared by the commands (before they commit)
and `check --base` (for every commit since the base).

- The member's role may take the step (`roster.STEP_ROLES` over the step table's `by` column;
  registering a letter: `roster.RECEIVE_ROLES`).
- A unit's step is taken by a member of a unit that holds the letter at that moment, for that
  unit (`details.unit` when the step names one); a leader's instruction by the leader the letter was escalated to, or one
  the office recorded as standing in (`stand-in`).
- The event names its signer as actor (a writer's rating names the writer; the intake service
  signs it).
- The event's time is not later than the commit (beyond the allowed clock skew); a time earlier
  than the commit (a paper record entered afterwards, `--at`) only by `roster.PAPER_ROLES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from letterbox.core.config import Config
from letterbox.core.errors import LetterboxError
from letterbox.core.facts import owners
from letterbox.core.process import STEP_BY_ACTION, State, parse_time
from letterbox.core.roster import (
    PAPER_ROLES,
    RECEIVE_ROLES,
    ROLE_LABELS,
    STEP_ROLES,
    Member,
)


def _roles(names: frozenset[str]) -> str:
    return "或".join(ROLE_LABELS[r] for r in ROLE_LABELS if r in names)


def role_refusal(member: Member, event: dict[str, Any], state: State, config: Config,
                 history: Sequence[dict[str, Any]] = ()) -> tuple[str, str] | None:
    """(field, message) when `member` may not take `event` in `state`; None when it may.
    `history` is the letter's history before the event (to find the leader it was sent to)."""
    action = str(event.get("action"))
    step = STEP_BY_ACTION.get(action)
    if step is None:
        return None  # an unknown step is the process table's refusal
    who = f"{member.name}（{member.role_label}）"
    if not member.may_take(action, step.by):
        allowed = RECEIVE_ROLES if action == "receive" else STEP_ROLES.get(step.by, frozenset())
        return "action", f"“{step.label}”只能由{_roles(allowed)}办理，{who}无权办理（名册规则）。"
    raw = event.get("details")
    details: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if step.by == "unit":
        held = owners(state, config) if action != "flag-risk" else tuple(state.units)
        if action == "assign-handler":  # each handling unit, lead or co-handler, names its own
            held = (*state.units, *state.co_units)
        if member.unit not in held and member.unit in state.co_units:
            lead = "、".join(config.unit_name(u) for u in state.units)
            return "action", (f"{who}所在单位 {config.unit_name(member.unit or '')} 是这封信的协办单位，"
                              f"“{step.label}”由主办单位 {lead} 办理（协办单位配合主办单位，不单独答复）。")
        if member.unit not in held:
            holder = "、".join(config.unit_name(u) for u in held) or "无"
            return "action", (f"{who}所在单位 {config.unit_name(member.unit or '')} 此时没有承办这封信"
                              f"（此时由 {holder} 办理），不能办理“{step.label}”。")
        named = details.get("unit")
        if named is not None and named != member.unit:
            return "details.unit", (f"{who}只能以本单位 {config.unit_name(member.unit or '')} 的名义办理，"
                                    f"不能代 {config.unit_name(str(named))} 办理。")
    if step.by == "leader":
        named = details.get("leader")
        # The leaders the letter was escalated to, or recorded by the office as standing in
        # (`stand-in`); a history without them (hand-made) falls back to the last escalation.
        may_instruct = state.leaders or _escalated_to(history)
        if named != member.leader:
            return "details.leader", f"批示记录写的领导不是签名人{who}，不能以其他领导的名义批示。"
        if may_instruct and member.leader not in may_instruct:
            names = "、".join(config.leader(code).title if _known_leader(config, code) else code
                             for code in may_instruct)
            return "details.leader", (f"这封信呈送的是{names}，{who}不是呈送的领导，也未由信箱办公室"
                                      "登记为代批领导（letterbox stand-in），不能批示。")
    if step.by != "writer" and event.get("actor") != member.name:
        return "actor", (f"办理人应为签名人本人“{member.name}”，记录中写的是另一个名字"
                         "（办理人由签名密钥决定）。")
    return None


def time_refusal(member: Member | None, event: dict[str, Any], committed: datetime,
                 config: Config) -> str | None:
    """What is wrong with the event's time against the moment it was committed, or None
    (`member` None: no roster, only a time later than the commit is refused)."""
    try:
        moment = parse_time(str(event.get("at")))
    except (TypeError, ValueError, OverflowError):
        return None  # the schema names a malformed time
    if moment > committed + config.clock_skew:
        shown = committed.astimezone(config.tz).isoformat(timespec="minutes")
        return (f"办理时间 {event.get('at')} 晚于提交这条记录的时间 {shown}"
                f"（允许误差 {int(config.clock_skew.total_seconds() // 60)} 分钟）：不能预先写入将来的时间。")
    receiving = event.get("action") == "receive"  # dated when the writer sent it
    if (member is not None and moment < committed - config.clock_skew
            and member.role not in PAPER_ROLES and not receiving):
        return (f"办理时间 {event.get('at')} 早于提交时间：补录过去的纸质记录只能由"
                f"{_roles(PAPER_ROLES)}办理，{member.name}（{member.role_label}）应按实际时间办理。")
    return None


def _escalated_to(history: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    sent_to = next((e.get("details", {}).get("leader") for e in reversed(history)
                    if e.get("action") == "escalate" and isinstance(e.get("details"), dict)), None)
    return (str(sent_to),) if sent_to else ()


def _known_leader(config: Config, code: str) -> bool:
    try:
        config.leader(code)
    except LetterboxError:  # an unknown code is shown as it is
        return False
    return True
