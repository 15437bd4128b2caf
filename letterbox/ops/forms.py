"""The 《来信办理单》 handling form (article 10), rendered as a printable HTML page."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from letterbox.core import sealing
from letterbox.core.config import Config, Leader
from letterbox.core.errors import LetterboxError
from letterbox.core.letter import Letter
from letterbox.core.process import CATEGORIES, MODES, parse_time
from letterbox.reports.rendering import environment
from letterbox.store import keys
from letterbox.store.repository import Repository

FORMS_DIR = "forms"
SEALED_NOTE = "加密保存，打印时用 letterbox form {code} --out 文件名 生成"


def handling_form_path(letter: Letter) -> PurePosixPath:
    return PurePosixPath(FORMS_DIR, letter.code[-10:-6], f"{letter.code}.html")


# The steps after which the committed form is written again: the escalation itself, then the
# instruction and the result as they happen (article 10: the form carries the 批示 and the outcome).
FORM_ACTIONS = frozenset({"escalate", "stand-in", "instruct", "return", "answer", "approve", "send-back",
                          "reopen"})


def default_proposal(leader: Leader) -> str:
    return f"呈请{leader.label}阅示。"


def _day(stamp: Any) -> str:
    return parse_time(str(stamp)).strftime("%Y年%m月%d日")


def _units(config: Config, codes: Any) -> str:
    return "、".join(config.unit_name(str(u)) for u in codes or ())


def form_round(config: Config, history: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What the form shows of the latest escalation and what followed it: the office's proposal,
    the stand-ins recorded, the instruction and its routing, the unit's answer and the review.
    None when the letter was never escalated."""
    start = next((i for i in range(len(history) - 1, -1, -1) if history[i].get("action") == "escalate"), None)
    if start is None:
        return None
    esc = history[start]
    d = esc.get("details") or {}
    leader = config.leader(str(d.get("leader")))
    shown: dict[str, Any] = {
        "leader": leader, "clerk": str(esc.get("actor", "")), "filled": _day(esc.get("at")),
        "proposal": str(d.get("proposal") or default_proposal(leader)), "stand_ins": [],
        "instruction": None, "result": [],
    }
    for event in history[start + 1:]:
        action, ed = event.get("action"), event.get("details") or {}
        if action == "stand-in":
            shown["stand_ins"].append(f"{_day(event.get('at'))} 由{config.leader(str(ed.get('leader'))).title}"
                                      f"代为批示：{ed.get('reason', '')}")
        elif action == "instruct":
            routing = f"主办：{_units(config, ed.get('units'))}"
            if ed.get("coordinating"):
                routing += f"；协办：{_units(config, ed.get('coordinating'))}"
            routing += f"；{MODES.get(str(ed.get('mode')), '')}"
            shown["instruction"] = {"leader": config.leader(str(ed.get("leader"))).title,
                                    "text": str(ed.get("text", "")), "day": _day(event.get("at")),
                                    "routing": routing}
        elif action == "answer":
            shown["result"].append(f"{_day(event.get('at'))} {config.unit_name(str(ed.get('unit')))}答复"
                                   f"（审核：{ed.get('head', '')}）：{ed.get('text', '')}")
        elif action == "approve":
            shown["result"].append(f"{_day(event.get('at'))} {config.office_name}审核通过，办结。")
        elif action == "send-back":
            shown["result"].append(f"{_day(event.get('at'))} 审核未通过，退回重办：{ed.get('reason', '')}")
        elif action == "return":
            shown["result"].append(f"{_day(event.get('at'))} {config.unit_name(str(ed.get('unit')))}退回："
                                   f"{ed.get('reason', '')}")
        elif action == "reopen":
            shown["result"].append(f"{_day(event.get('at'))} 重新办理：{ed.get('reason', '')}")
    return shown


def render_handling_form(config: Config, letter: Letter, full: bool = False) -> str:
    """Internal document for the leader: it names the writer, so it is never published.

    Shows the latest escalation in the letter's history (`form_round`), so it is written again
    as the instruction and the result happen. A sealed letter's form as committed (`full`
    False) holds none of its sealed fields, only a note where they would be; `letterbox form`
    renders the full one locally (`full`, the letter opened with the user's keys)."""
    data = letter.data
    shown = form_round(config, list(letter.history))
    if shown is None:
        raise LetterboxError(f"信件 {letter.code} 尚未呈办领导（letterbox escalate），没有《来信办理单》。")
    withheld: set[str] = set()
    if letter.sealed and not full:
        withheld = set(data["sealed"].get("fields") or ())
        data = {k: v for k, v in data.items() if k not in withheld}
    return environment().get_template("handling_form.html.j2").render(
        config=config,
        letter=data,
        withheld=withheld,
        sealed_note=SEALED_NOTE.format(code=letter.code),
        category=CATEGORIES.get(data.get("category") or "", "未分类"),
        submitted=parse_time(data["submitted_at"]).strftime("%Y年%m月%d日 %H:%M"),
        **shown,
    )


def full_handling_form(repo: Repository, code: str) -> str:
    """The letter's 《来信办理单》 as escalated, with the writer's data and the letter's text (a
    sealed letter opened with this user's keys: `store/keys.py`), for printing; never committed."""
    config = repo.config
    letter = repo.letter(code)
    if letter.last_event("escalate") is None:
        raise LetterboxError(f"信件 {letter.code} 尚未呈办领导（letterbox escalate），没有《来信办理单》。")
    if letter.sealed and any(f not in letter.data for f in letter.data["sealed"].get("fields") or ()):
        keyring = keys.keyring(repo.git, config, required=True)
        try:
            data = sealing.opened(letter.data, letter.code, keyring)
        except sealing.SealError as exc:
            raise LetterboxError(f"信件 {letter.code} 加密保存，无法用你的密钥打开：{exc}") from None
        letter = Letter(letter.path, data, letter.lines)
    return render_handling_form(config, letter, full=True)
