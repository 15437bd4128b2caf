"""Read models for `show`, `list` and friends: plain dicts, the same for text and --json.

State, units and the running deadline come from the letter's fold (`core.facts.fold`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from letterbox.core.calendar import WorkCalendar
from letterbox.core.clock import Clock, days_left
from letterbox.core.config import Config
from letterbox.core.facts import Facts, broken_reason, fold
from letterbox.core.letter import Letter
from letterbox.core.process import (
    CATEGORIES,
    CHANNELS,
    MODES,
    STATUSES,
    State,
    action_label,
    detail_pairs,
)
from letterbox.core.sealing import DEFAULT_FIELDS
from letterbox.store import index
from letterbox.store.index import Want

NOT_OPENED = ("没有阅读密钥（用 letterbox key use 私钥文件 或环境变量 LETTERBOX_IDENTITY 设置本人密钥；"
              "保存期密钥放在环境变量 LETTERBOX_PERIOD_KEYS 所指目录；见 docs/encryption.md）。")


def hidden_reason(letter: Letter, config: Config | None = None) -> str | None:
    """Why a sealed letter's confidential fields are not readable here (None: it is in clear or
    was opened). A period the configuration lists as shredded is named as such."""
    if not letter.sealed:
        return None
    block = letter.data["sealed"]
    fields = block.get("fields") or DEFAULT_FIELDS
    if letter.hidden is None and all(f in letter.data for f in fields):
        return None
    period = str(block.get("period", ""))
    encryption = config.encryption if config is not None else None
    if encryption is not None and period in encryption.shredded:
        return f"保存期 {period} 已销毁（letterbox shred）：来信人信息和来信内容已无法读取。"
    if letter.hidden is None or letter.hidden.startswith("没有阅读密钥"):
        return NOT_OPENED
    return letter.hidden


def hidden_label(reason: str) -> str:
    """A few words for where the text would be: why it is hidden."""
    if reason.startswith("没有阅读密钥"):
        return "未提供阅读密钥"
    if "收件人" in reason or "无权" in reason:
        return "无权阅读"
    if "保存期" in reason:
        return "已销毁" if "销毁（" in reason else "缺少保存期密钥"
    return "无法解密"


def placeholder(reason: str) -> str:
    return f"（已加密：{hidden_label(reason)}）"


def hidden_note(letters: list[Letter], config: Config) -> str | None:
    """One line: how many letters were shown without their writer, title and body, and why
    (None when every letter was readable)."""
    reasons: dict[str, int] = {}
    for letter in letters:
        reason = hidden_reason(letter, config)
        if reason is not None:
            label = hidden_label(reason)
            reasons[label] = reasons.get(label, 0) + 1
    if not reasons:
        return None
    why = "；".join(f"{label} {n} 封" for label, n in reasons.items())
    hint = ("设置本人密钥：letterbox key use 私钥文件，或环境变量 LETTERBOX_IDENTITY；"
            "保存期密钥：环境变量 LETTERBOX_PERIOD_KEYS" if "未提供阅读密钥" in reasons
            or "缺少保存期密钥" in reasons else "")
    return (f"注意：{sum(reasons.values())} 封信件加密保存，来信人信息、标题和内容未显示（{why}）"
            + (f"。{hint}" if hint else "") + "。")


def _readable(letter: Letter, field: str, reason: str | None) -> Any:
    """A confidential field, or in its place what says it is hidden."""
    if reason is not None and field not in letter.data:
        return placeholder(reason) if field != "writer" else None
    return letter.data.get(field)


def followed_by(letters: list[Letter]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for letter in letters:
        target = letter.data.get("follows_up")
        if target:
            out.setdefault(target, []).append(letter.code)
    return out


BROKEN = (ValueError, KeyError, TypeError, OverflowError)  # what `fold` of a bad file raises


def _facts(letter: Letter, config: Config, cal: WorkCalendar) -> tuple[Facts | None, State, str | None]:
    """The letter's fold, its state now (the initial state for a letter with no events) and
    what is wrong with its history (None when it replays). A letter whose history does not
    replay (a hand edit: a date in year 9999, a step out of order) is still shown, with the
    status its case file states and the problem named, never a crash."""
    try:
        facts = fold(letter, config, cal)
    except BROKEN as exc:
        stated = letter.status if letter.status in STATUSES else State().status
        return None, State(status=stated), f"{letter.path}：{broken_reason(exc)}；请运行 letterbox validate 查看并改正。"
    return facts, facts.state if facts is not None else State(), None


def leader_name(config: Config, code: str) -> str:
    """A leader's title (an unknown code names itself: a hand-edited file)."""
    return next((x.title for x in config.leaders if x.code == code), code)


def event_details(event: dict[str, Any], config: Config) -> list[list[str]]:
    """[label, value] of each detail of a history event, in Chinese for people (the step
    table's labels; unit and leader codes by name). The `details` themselves stay as recorded."""
    return [[k, v] for k, v in detail_pairs(str(event.get("action")), event.get("details"),
                                            config.unit_name, lambda c: leader_name(config, c))]


def _label(status: str) -> str:
    return STATUSES.get(status, status)


def deadline_view(clock: Clock | None, cal: WorkCalendar, today: date) -> dict[str, Any]:
    if clock is None:
        return {"deadline": None, "deadline_kind": None, "days_left": None, "provisional": False,
                "deadline_explained": []}
    comp = clock.computation
    return {
        "deadline": comp.due.isoformat(),
        "deadline_kind": clock.kind,
        "days_left": days_left(cal, clock, today),
        "provisional": comp.provisional,
        "extension_days": comp.extension_days,
        "deadline_explained": comp.explain(),
    }


def letter_view(letter: Letter, config: Config, cal: WorkCalendar, today: date,
                followers: list[str], with_writer: bool = False) -> dict[str, Any]:
    """Everything staff see about one letter; the writer block only when asked for.

    ``history`` is the staff's full timeline: every event, with its step's label."""
    facts, state, problem = _facts(letter, config, cal)
    d = letter.data
    hidden = hidden_reason(letter, config)
    view: dict[str, Any] = {
        "letter_code": letter.code,
        "path": str(letter.path),
        "problem": problem,
        "status": state.status,
        "status_label": _label(state.status),
        "category": state.category,
        "category_label": CATEGORIES.get(state.category or ""),
        "units": list(state.units),
        "unit_names": [config.unit_name(u) for u in state.units],
        "co_units": list(state.co_units),  # joint handling: the 协办 units (`units` leads, 主办)
        "co_unit_names": [config.unit_name(u) for u in state.co_units],
        "mode": state.mode,
        "mode_label": MODES.get(state.mode or ""),
        "publication": state.publication,
        "pending_extension": state.pending_extension,
        "submitted_at": d["submitted_at"],
        "channel": d.get("channel"),
        "title": _readable(letter, "title", hidden),
        "body": _readable(letter, "body", hidden),
        "hidden": hidden,
        "follows_up": d.get("follows_up"),
        "followed_by": followers,
        "channel_label": CHANNELS.get(str(d.get("channel")), d.get("channel")),
        "merged_into": state.lead,  # 合并办理: the lead this letter follows
        "merged": list(state.members),  # 合并办理: the letters merged into this one
        "history": [
            {**e, "at": str(e.get("at", "")),
             "label": action_label(str(e.get("action"))) + (f"（随主信 {e['lead']} 办理）" if e.get("lead") else ""),
             "details_label": event_details(e, config)}
            for e in letter.history if isinstance(e, dict)
        ],
    }
    view.update(_deadline(facts, cal, today))
    view["risk_flags"] = risk_flags(letter)
    if with_writer:
        view["writer"] = _readable(letter, "writer", hidden)
    return view


def risk_flags(letter: Letter) -> list[dict[str, str]]:
    """The letter's risk flags (`flag-risk`, article 15(2)): time, who, the note; staff only."""
    return [{"at": str(e.get("at", "")), "actor": str(e.get("actor", "")),
             "note": str((e.get("details") or {}).get("note", ""))}
            for e in letter.history if isinstance(e, dict) and e.get("action") == "flag-risk"]


def with_status(status: str) -> Want:
    """The letters `list --status` can show: those `row_view` gives ``status``, and every letter
    whose history does not fold (its problem is named whatever the filter)."""
    return index.with_status(status)


def row_view(letter: Letter, config: Config, cal: WorkCalendar, today: date) -> dict[str, Any]:
    facts, state, problem = _facts(letter, config, cal)
    row = {
        "letter_code": letter.code,
        "problem": problem,
        "status": state.status,
        "status_label": _label(state.status),
        "category": state.category,
        "units": list(state.units),
        "unit_names": [config.unit_name(u) for u in state.units],
        "title": _readable(letter, "title", hidden_reason(letter, config)),
        "hidden": hidden_reason(letter, config),
        "submitted_at": str(letter.data.get("submitted_at") or ""),
    }
    dl = _deadline(facts, cal, today)
    row.update({k: dl[k] for k in ("deadline", "deadline_kind", "days_left", "provisional")})
    return row


def _deadline(facts: Facts | None, cal: WorkCalendar, today: date) -> dict[str, Any]:
    try:
        return deadline_view(facts.clock if facts else None, cal, today)
    except BROKEN:  # a due day the calendar cannot count to
        return deadline_view(None, cal, today)
