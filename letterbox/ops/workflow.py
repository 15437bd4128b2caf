"""Workflow steps (articles 5, 7-16): check, append an event, validate, write, commit.

Each public function takes plain arguments, refuses with StepRefused (in Chinese, naming the
letter's state and the possible steps) and leaves the repository untouched when it refuses.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from letterbox.core import codes, sealing, yamlio
from letterbox.core.clock import current_clock, work_calendar
from letterbox.core.config import Config
from letterbox.core.errors import LetterboxError, StepRefused
from letterbox.core.letter import Letter
from letterbox.core.process import (
    CATEGORIES,
    FOLLOWED,
    MODES,
    RATINGS,
    REJECT_REASONS,
    STATUSES,
    STEP_BY_ACTION,
    WITHHOLD_REASONS,
    IllegalStep,
    apply,
    parse_time,
    replay,
    state_hint,
)
from letterbox.core.roster import STEP_ROLES
from letterbox.ops import notices
from letterbox.ops.forms import FORM_ACTIONS, handling_form_path, render_handling_form
from letterbox.ops.notify import outbox
from letterbox.ops.validate import ORDER_NOTE, Context, received_day, validate_letter
from letterbox.store import keys, signing
from letterbox.store.repository import Actor, Repository


@dataclass(frozen=True)
class StepResult:
    letter_code: str
    action: str
    status: str
    commit: str
    message: str


def now(config: Config) -> str:
    return datetime.now(config.tz).isoformat(timespec="seconds")


def normalise_at(config: Config, at: str | None) -> str:
    if not at:
        return now(config)
    try:
        moment = datetime.fromisoformat(at.strip().replace("Z", "+00:00"))
    except ValueError:
        raise LetterboxError(f"--at 的时间 {at!r} 格式不对：应如 2026-03-02T09:15:00+08:00。") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=config.tz)
    if problem := config.time_problem(moment):
        raise LetterboxError(f"--at 的时间 {at.strip()} {problem}。") from None
    return moment.astimezone(config.tz).isoformat(timespec="seconds")


def take_step(repo: Repository, code: str, action: str, details: dict[str, Any], actor: Actor,
              at: str | None = None, summary: str = "",
              extra_files: dict[str, str] | None = None,
              changes: dict[str, Any] | None = None) -> StepResult:
    """Append one event to a letter and commit it, or refuse and change nothing (`changes`:
    top-level fields the step replaces, e.g. `reissue`'s new query hash). A handling step
    (`process.FOLLOWED`) on the lead letter of a merged group is recorded in each member's file
    too, in the same commit (合并办理)."""
    config = repo.config
    stamp = normalise_at(config, at)
    with repo.transaction() as tx:
        letter = repo.letter(code)
        event = {"at": stamp, "actor": actor.name, "action": action, "details": details}
        new_state = _append(repo, letter, event, changes)
        files: dict[str, str] = {**(extra_files or {})}
        followers = list(new_state.members) if action in FOLLOWED else []
        known = frozenset(p.stem for p in repo.letter_paths()) if followers else None
        for member_code in followers:
            member = repo.letter(member_code)
            mirrored = {"at": stamp, "actor": actor.name, "action": action,
                        "details": _member_details(action, details, member), "lead": letter.code}
            try:
                _append(repo, member, mirrored, None, known)
            except LetterboxError as exc:
                raise StepRefused(f"信件 {letter.code} 是合并办理的主信，这一步要同时记入并入的来信 "
                                  f"{member.code}，但{exc.message.removeprefix(f'信件 {member.code}：')}"
                                  f"如该信已不属于同一事项，请先撤销合并：letterbox unmerge {member.code} "
                                  "--reason 理由。", exc.problems) from None
            files[str(member.path)] = member.to_yaml()
            files.update(_step_files(repo, member, action))
        files[str(letter.path)] = letter.to_yaml()
        files.update(_step_files(repo, letter, action))
        for path, content in files.items():
            tx.write(path, content)  # type: ignore[arg-type]
        label = STEP_BY_ACTION[action].label
        together = f"（合并办理，同时记入 {'、'.join(followers)}）" if followers else ""
        message = f"{letter.code} {label}{' ' + summary if summary else ''}{together}"
        sha = tx.commit(message, actor)
        return StepResult(letter.code, action, new_state.status, sha, message)


def _append(repo: Repository, letter: Letter, event: dict[str, Any], changes: dict[str, Any] | None,
            known: frozenset[str] | None = None) -> Any:
    """Check ``event`` against ``letter`` (process, deadlines, who may take it), append it and
    validate the result; the letter's data is updated in memory (nothing written). The new state."""
    config = repo.config
    state = _current_state(letter)
    stamp = event["at"]
    last = letter.history[-1]["at"] if letter.history else None
    if last and parse_time(stamp) < parse_time(last):
        raise StepRefused(f"信件 {letter.code}：时间 {stamp} 早于上一条办理记录（{last}），办理记录的时间不能倒退。")
    try:
        new_state = apply(state, event)
    except IllegalStep as exc:
        raise StepRefused(f"信件 {letter.code}：{exc}") from None
    _guard(repo, letter, state, event)
    signing.authorise(repo.git, config, event, state, letter.history)
    letter.data["history"] = [*letter.history, event]
    letter.data.update(new_state.summary())
    letter.data.update(changes or {})
    if letter.sealed:
        _rewrap(repo, letter, event["action"])
    text = letter.to_yaml()
    reparsed = Letter(letter.path, *yamlio.load(text, str(letter.path)))
    if known is None:  # the letters there are (a group's step lists them once for every file)
        known = frozenset(p.stem for p in repo.letter_paths())
    problems = validate_letter(reparsed, Context(config, known, repo.root))
    if problems:
        raise LetterboxError(f"信件 {letter.code}：此步骤的结果未通过校验，未保存。", problems)
    return new_state


def _step_files(repo: Repository, letter: Letter, action: str) -> dict[str, str]:
    """The files a step writes besides the case file: the handling form, the notifications."""
    reparsed = Letter(letter.path, *yamlio.load(letter.to_yaml(), str(letter.path)))
    return {**_form_files(repo.config, reparsed, action),
            **outbox.files_for_step(repo.root, repo.config, reparsed, len(reparsed.history) - 1)}


def _member_details(action: str, details: dict[str, Any], member: Letter) -> dict[str, Any]:
    """A lead's step as recorded in a member: the same, but the member's own handling form."""
    if action == "escalate" and "form" in details:
        return {**details, "form": str(handling_form_path(member))}
    return dict(details)


def _form_files(config: Config, letter: Letter, action: str) -> dict[str, str]:
    """The 《来信办理单》 written again with the step just taken (escalation, instruction, result),
    at the path the escalation recorded; the committed form never holds sealed fields."""
    if action not in FORM_ACTIONS:
        return {}
    event = letter.last_event("escalate")
    path = (event.get("details") or {}).get("form") if event else None
    if not path:
        return {}
    return {str(path): render_handling_form(config, letter)}


def _rewrap(repo: Repository, letter: Letter, action: str) -> None:
    """A sealed letter's data key wrapped to whoever may read it after this step: the office, the
    units that hold or held it, the leaders it was escalated to (core/sealing.py). Done when the
    step sends the letter to a new reader (transfer, instruct, escalate: by whoever takes it) and
    whenever the office acts (bringing the recipients up to date with the roster too); another
    step leaves the recipients as they are (`check` refuses other changes to them)."""
    config = repo.config
    block = letter.data["sealed"]
    wanted = sealing.letter_readers(config.roster.members, letter.history)
    if sealing.recipients_of(wanted) == sorted(block.get("recipients") or []):
        return
    before = sealing.letter_readers(config.roster.members, letter.history[:-1])
    if action not in sealing.ROUTING_ACTIONS or sealing.recipients_of(before) == sealing.recipients_of(wanted):
        member = signing.acting_member(repo.git, config.roster)[0] if config.roster else None
        if member is None or member.role not in STEP_ROLES["office"]:
            return
    keyring = keys.keyring(repo.git, config, required=True)
    try:
        letter.data["sealed"] = sealing.rewrap(block, keyring, wanted)
    except sealing.SealError as exc:
        raise StepRefused(
            f"信件 {letter.code} 加密保存，这一步要让新的承办单位或领导也能阅读它，须用你的阅读密钥"
            f"重新封装数据密钥，但无法打开：{exc}请由能阅读这封信的人员（如信箱办公室）办理。") from None


def _current_state(letter: Letter):  # noqa: ANN202
    try:
        return replay(letter.history)
    except IllegalStep as exc:
        raise LetterboxError(f"{letter.path}：办理记录本身有误，请先运行 letterbox validate 改正：{exc}") from None


def _guard(repo: Repository, letter: Letter, state: Any, event: dict[str, Any]) -> None:
    """Rules that need more than the state table: deadlines and extension limits."""
    action, d = event["action"], event["details"]
    config = repo.config
    if action == "extend":
        clock = current_clock(letter, config, work_calendar(repo.root), state)
        day = parse_time(event["at"]).astimezone(config.tz).date()
        if clock is not None and day > clock.due:
            raise StepRefused(
                f"信件 {letter.code}：办理期限 {clock.due.isoformat()} 已过，不能再申请延期"
                "（办法第十一条：应在办理时限内书面申请）。"
            )
        if state.mode == "petition" and state.extensions >= 1:
            raise StepRefused(f"信件 {letter.code}：信访件只能延期一次（《信访工作条例》第三十四条）。")
    if action in ("extend", "grant") and state.mode == "petition":
        days = d.get("days") or state.pending_extension or 0
        if days > config.rules.petition_max_extension_days:
            raise StepRefused(
                f"信件 {letter.code}：信访件延期不得超过 {config.rules.petition_max_extension_days} 日。"
            )


TEXT_HINT = "请用 --file 指定文本文件，或用 --text 直接写出。"

F = TypeVar("F", bound=Callable[..., Any])


def explained(func: F) -> F:
    """A refused step (wrong arguments, unknown unit, time going back) also says the letter's
    state and the steps possible now, like a step refused by the process table."""

    @wraps(func)
    def run(repo: Repository, code: str, *args: Any, **kwargs: Any) -> StepResult:
        try:
            return func(repo, code, *args, **kwargs)
        except LetterboxError as exc:
            if "现在可以执行" in exc.message:
                raise
            try:
                letter = repo.letter(code)
                hint = state_hint(replay(letter.history))
            except (LetterboxError, IllegalStep):
                raise exc from None
            raise type(exc)(f"{exc.message}信件 {letter.code} {hint}", exc.problems) from None

    return run  # type: ignore[return-value]


# -- the steps -------------------------------------------------------------------------------


@explained
def reject(repo: Repository, code: str, reason: str, actor: Actor, reply: str | None = None,
           of: str | None = None, at: str | None = None) -> StepResult:
    if reason not in REJECT_REASONS:
        raise StepRefused(f"不予受理理由 {reason!r} 不在办法第五条之列，可选：{'、'.join(REJECT_REASONS)}。")
    if reason in ("duplicate", "answered") and not of:
        raise StepRefused(f"理由 {reason} 须用 --of 写明前一封信件的编码。")
    details: dict[str, Any] = {"reason": reason}
    earlier = None
    if of:
        earlier = repo.letter(of)
        target, own = earlier.code, repo.letter(code).code
        if target == own:
            raise StepRefused("--of 不能指向本信。")
        days = (received_day(repo.root, target, repo.config), received_day(repo.root, own, repo.config))
        if not codes.received_before(target, own, *days):
            raise StepRefused(f"--of 所写的信件 {target} 不比本信 {own} 收到得早：以“{REJECT_REASONS[reason]}”"
                              f"不予受理时，所指的前信只能是更早收到的来信（{ORDER_NOTE}）。")
        details["of"] = target
    text = (reply or "").strip() or notices.reject_text(repo.config, reason, earlier)
    if reason == "discipline":
        body = repo.config.body("discipline")
        if body.name not in text:
            text += f"\n请直接向{body.name}反映" + (f"（{body.contact}）" if body.contact else "") + "。"
    details["reply"] = text
    return take_step(repo, code, "reject", details, actor, at, summary=reason)


@explained
def classify(repo: Repository, code: str, category: str, actor: Actor, at: str | None = None) -> StepResult:
    if category not in CATEGORIES:
        raise StepRefused(f"类别 {category!r} 不对，可选：consultation（政策咨询）、complaint（求助投诉）、suggestion（建言献策）。")
    return take_step(repo, code, "classify", {"category": category}, actor, at, summary=CATEGORIES[category])


@explained
def reply(repo: Repository, code: str, text: str, actor: Actor, at: str | None = None) -> StepResult:
    return take_step(repo, code, "reply", {"text": _required(text, "回复内容", TEXT_HINT)}, actor, at)


def _routing(config: Config, units: list[str], complex_: bool, co_units: list[str] | None = None,
             by_leader: bool = False) -> dict[str, Any]:
    """Who handles the letter and under which limit.

    - One unit: it handles the letter, ordinary (3 working days) or `complex_` (20).
    - A lead unit and co-handlers (`co_units`, 协办): joint handling; the lead unit answers, the
      letter keeps its own limit (ordinary or complex).
    - The office naming several units without a lead (article 9: several units must coordinate):
      the letter goes to the petition bureau as a petition case (60 days), the units coordinating.
    - A leader's instruction (`by_leader`) naming several units is the leader's own joint
      assignment: the first unit named leads, the others assist, and the letter keeps its nature;
      it becomes a petition case only when the instruction sends it to the petition bureau.
    """
    if not units:
        raise StepRefused("请至少用 --unit 指定一个承办单位。")
    resolved = list(dict.fromkeys(config.unit(u).code for u in units))
    co = [c for c in dict.fromkeys(config.unit(u).code for u in co_units or ()) if c not in resolved]
    petition = config.role_unit("petition").code
    if co_units and len(resolved) > 1:
        raise StepRefused("联合办理只能有一个主办单位：用一个 --unit 写主办单位，用 --co 写协办单位。")
    if co_units and not co:
        raise StepRefused("--co 写的协办单位与主办单位相同，请写另外的单位。")
    if by_leader and len(resolved) > 1:
        resolved, co = resolved[:1], [*resolved[1:], *co]
    if petition in resolved or petition in co:
        others = [u for u in [*resolved, *co] if u != petition]
        details: dict[str, Any] = {"units": [petition], "mode": "petition"}
        return {**details, "coordinating": others} if others else details
    if len(resolved) >= 2:
        return {"units": [petition], "mode": "petition", "coordinating": resolved}
    details = {"units": resolved, "mode": "complex" if complex_ else "ordinary"}
    return {**details, "coordinating": co} if co else details


def _route_summary(config: Config, details: dict[str, Any]) -> str:
    names = " ".join(config.unit_name(u) for u in details["units"])
    if details.get("coordinating") and details["mode"] != "petition":
        names = f"主办 {names}，协办 {' '.join(config.unit_name(u) for u in details['coordinating'])}"
    return f"{names}（{MODES[details['mode']]}）"


@explained
def transfer(repo: Repository, code: str, units: list[str], actor: Actor, complex_: bool = False,
             at: str | None = None, co_units: list[str] | None = None) -> StepResult:
    details = _routing(repo.config, units, complex_, co_units)
    return take_step(repo, code, "transfer", details, actor, at, summary=_route_summary(repo.config, details))


@explained
def escalate(repo: Repository, code: str, leader: str, actor: Actor, at: str | None = None,
             proposal: str | None = None) -> StepResult:
    """Escalate to a leader with the office's 拟办意见 (`proposal`, default 呈请…阅示); the
    《来信办理单》 is written by `take_step` (and again as the instruction and result happen)."""
    config = repo.config
    who = config.leader(leader)
    letter = repo.letter(code)
    details: dict[str, Any] = {"leader": who.code, "form": str(handling_form_path(letter))}
    if proposal is not None:
        details["proposal"] = _required(proposal, "拟办意见（--proposal）")
    return take_step(repo, code, "escalate", details, actor, at, summary=who.title)


@explained
def stand_in(repo: Repository, code: str, leader: str, reason: str, actor: Actor,
             at: str | None = None) -> StepResult:
    """The office records that `leader` instructs in place of the leader escalated to."""
    config = repo.config
    who = config.leader(leader)
    state = _current_state(repo.letter(code))
    if who.code in state.leaders:
        raise StepRefused(f"{who.title} 已可批示这封信（呈送的领导或已登记的代批领导），不必再登记。")
    details = {"leader": who.code, "reason": _required(reason, "代批理由（--reason）")}
    return take_step(repo, code, "stand-in", details, actor, at, summary=who.title)


@explained
def instruct(repo: Repository, code: str, leader: str, text: str, units: list[str], actor: Actor,
             complex_: bool = False, at: str | None = None, co_units: list[str] | None = None) -> StepResult:
    config = repo.config
    who = config.leader(leader)
    may_instruct = _current_state(repo.letter(code)).leaders
    if may_instruct and who.code not in may_instruct:
        names = "、".join(config.leader(c).title for c in may_instruct)
        raise StepRefused(f"这封信呈送的领导不是{who.title}（可批示的是：{names}）；{who.title}未由信箱办公室登记为"
                          f"代批领导，不能批示。如确由{who.title}代为批示，请信箱办公室先登记："
                          f"letterbox stand-in {code} --leader {who.code} --reason 理由。")
    details = {"leader": who.code, "text": _required(text, "批示内容"),
               **_routing(config, units, complex_, co_units, by_leader=True)}
    return take_step(repo, code, "instruct", details, actor, at, summary=_route_summary(config, details))


@explained
def return_letter(repo: Repository, code: str, reason: str, actor: Actor, unit: str | None = None,
                  at: str | None = None) -> StepResult:
    chosen = _acting_unit(repo, code, unit)
    details = {"unit": chosen, "reason": _required(reason, "退回理由")}
    return take_step(repo, code, "return", details, actor, at, summary=repo.config.unit_name(chosen))


@explained
def extend(repo: Repository, code: str, days: int, reason: str, actor: Actor, at: str | None = None) -> StepResult:
    if days < 1:
        raise StepRefused("延期天数应为正整数。")
    return take_step(repo, code, "extend", {"days": days, "reason": _required(reason, "延期理由")},
                     actor, at, summary=f"{days} 天")


@explained
def grant(repo: Repository, code: str, actor: Actor, days: int | None = None, note: str | None = None,
          at: str | None = None) -> StepResult:
    details: dict[str, Any] = {}
    if days:
        details["days"] = days
    if note:
        details["note"] = note
    return take_step(repo, code, "grant", details, actor, at)


@explained
def refuse(repo: Repository, code: str, actor: Actor, note: str | None = None, at: str | None = None) -> StepResult:
    return take_step(repo, code, "refuse", {"note": note} if note else {}, actor, at)


CONTACT_WAYS = ("电话", "面谈", "短信", "上门", "视频", "其他")  # how a unit explained to the writer (art. 12)


def _line(text: str | None, what: str) -> str:
    """One line of staff-written text: not empty, no control characters (tabs, line breaks…)."""
    value = _required(text, what)
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise StepRefused(f"{what}含有控制字符（如换行、制表符），请写成一行普通文字。")
    return value


@explained
def answer(repo: Repository, code: str, text: str, head: str, actor: Actor, unit: str | None = None,
           contacted: bool = False, at: str | None = None, timeframe: str | None = None,
           contact_by: str | None = None, contact_at: str | None = None,
           contact_person: str | None = None) -> StepResult:
    """The unit's answer (article 12): its text, the head who checked it, the time frame of the
    solution (`timeframe`) and, for a problem not solved yet, the record of explaining it to the
    writer: how (`contact_by`), when (`contact_at`, not after the answer) and by whom.
    `contacted` (yes/no) is the old form, still accepted."""
    chosen = _acting_unit(repo, code, unit)
    details: dict[str, Any] = {"text": _required(text, "答复内容", TEXT_HINT), "head": _required(head, "审核负责人（--head）"),
                               "unit": chosen}
    if timeframe is not None:
        details["timeframe"] = _line(timeframe, "解决时限（--timeframe）")
    if contact_by is not None or contact_at is not None or contact_person is not None:
        details["contact"] = _contact(repo.config, contact_by, contact_at, contact_person, at)
    if contacted:
        details["contacted"] = True
    return take_step(repo, code, "answer", details, actor, at, summary=repo.config.unit_name(chosen))


def _contact(config: Config, by: str | None, when: str | None, person: str | None,
             at: str | None) -> dict[str, str]:
    if by is None or person is None:
        raise StepRefused("沟通记录须写明方式（--contact-by，如 电话、面谈）和沟通人（--contact-person）；"
                          "--contact-at 沟通时间可不写（默认为答复时间）。")
    if by not in CONTACT_WAYS:
        raise StepRefused(f"沟通方式 {by!r} 不对，可选：{'、'.join(CONTACT_WAYS)}。")
    answered = normalise_at(config, at)
    try:
        moment = normalise_at(config, when) if when else answered
    except LetterboxError as exc:
        raise StepRefused(exc.message.replace("--at", "--contact-at", 1)) from None
    if parse_time(moment) > parse_time(answered):
        raise StepRefused(f"沟通时间（--contact-at）{moment} 晚于答复时间 {answered}：只能记录已经进行的沟通。")
    return {"by": by, "at": moment, "person": _line(person, "沟通人（--contact-person）")}


@explained
def assign_handler(repo: Repository, code: str, handler: str, actor: Actor, unit: str | None = None,
                   at: str | None = None) -> StepResult:
    """A unit names the person who handles the letter for it (专人, article 15(1)); the lead unit
    or a co-handling unit, each for itself. The handler's name is staff data."""
    letter = repo.letter(code)
    state = _current_state(letter)
    held = [*state.units, *state.co_units]
    chosen = repo.config.unit(unit).code if unit else _own_unit(repo) or (held[0] if held else "-")
    if chosen not in held:
        names = "、".join(repo.config.unit_name(u) for u in held) or "无"
        raise StepRefused(f"信件 {letter.code} 此时由 {names} 办理，不是 {repo.config.unit_name(chosen)}："
                          "只能为本单位承办或协办的信件登记经办人。")
    details = {"unit": chosen, "handler": _line(handler, "经办人（--handler）")}
    return take_step(repo, code, "assign-handler", details, actor, at, summary=repo.config.unit_name(chosen))


@explained
def approve(repo: Repository, code: str, actor: Actor, note: str | None = None, at: str | None = None) -> StepResult:
    return take_step(repo, code, "approve", {"note": note} if note else {}, actor, at)


@explained
def send_back(repo: Repository, code: str, reason: str, actor: Actor, at: str | None = None) -> StepResult:
    return take_step(repo, code, "send-back", {"reason": _required(reason, "退回重办理由")}, actor, at)


@explained
def publish(repo: Repository, code: str, actor: Actor, at: str | None = None) -> StepResult:
    return take_step(repo, code, "publish", {}, actor, at)


@explained
def withhold(repo: Repository, code: str, reason: str, actor: Actor, at: str | None = None) -> StepResult:
    if reason not in WITHHOLD_REASONS:
        raise StepRefused(f"不公开理由 {reason!r} 不对，可选：{'、'.join(WITHHOLD_REASONS)}（办法第十三条）。")
    return take_step(repo, code, "withhold", {"reason": reason}, actor, at, summary=WITHHOLD_REASONS[reason])


@explained
def unpublish(repo: Repository, code: str, reason: str, actor: Actor, at: str | None = None) -> StepResult:
    """Take a published letter off the board (takedown): gone from the next build and its
    search; the reason stays in the case file, not in the commit message (it may quote what
    exposed someone). `publish` puts it back."""
    return take_step(repo, code, "unpublish", {"reason": _required(reason, "撤下理由")}, actor, at)


@explained
def remind(repo: Repository, code: str, actor: Actor, note: str | None = None, at: str | None = None) -> StepResult:
    letter = repo.letter(code)
    details: dict[str, Any] = {"units": list(letter.data.get("units") or [])}
    if note:
        details["note"] = note
    return take_step(repo, code, "remind", details, actor, at)


@explained
def flag_risk(repo: Repository, code: str, note: str, actor: Actor, at: str | None = None) -> StepResult:
    return take_step(repo, code, "flag-risk", {"note": _required(note, "风险说明")}, actor, at)


@explained
def reopen(repo: Repository, code: str, reason: str, actor: Actor, at: str | None = None) -> StepResult:
    """Send a closed letter back for handling again (e.g. the writer was 不满意 on follow-up)."""
    return take_step(repo, code, "reopen", {"reason": _required(reason, "重新办理理由")}, actor, at)


VERIFICATIONS = ("电话核实", "现场核实", "书面申请")


@dataclass(frozen=True)
class Reissued:
    result: StepResult
    query_code: str  # shown once, never stored


@explained
def reissue(repo: Repository, code: str, verified_by: str, verifier: str, actor: Actor,
            at: str | None = None) -> Reissued:
    """A new query code for a writer who lost theirs (article 6), after the office confirmed who
    is asking: its slow hash replaces the old one in the same commit; the old code stops working
    at the next refresh of the lookup index. Only the office may take the step (the roster)."""
    if verified_by not in VERIFICATIONS:
        raise StepRefused(f"身份核实方式 {verified_by!r} 不对，可选：{'、'.join(VERIFICATIONS)}"
                          "（须先核实来信人身份，再重新发放查询码）。")
    who = _required(verifier, "核实人", "请用 --verifier 写明核实来信人身份的工作人员。")
    letter_code = repo.letter(code).code
    query_code = codes.new_query_code()
    record = codes.query_hash_record(query_code, letter_code, repo.config.salt, repo.config.iterations)
    details = {"verified_by": verified_by, "verifier": who, "hash_tag": codes.hash_tag(record)}
    result = take_step(repo, code, "reissue", details, actor, at, changes={"query_hash": record})
    return Reissued(result, query_code)


@explained
def archive(repo: Repository, code: str, actor: Actor, at: str | None = None) -> StepResult:
    return take_step(repo, code, "archive", {}, actor, at)


@explained
def phone_feedback(repo: Repository, code: str, rating: str, actor: Actor, note: str | None = None,
                   at: str | None = None) -> StepResult:
    """Record the writer's rating taken by the office on the phone (回访): counted with the
    ratings given on the web, one per handling either way."""
    if rating not in RATINGS:
        raise StepRefused(f"评价 {rating!r} 不对，可选：{'、'.join(RATINGS)}。")
    details: dict[str, Any] = {"rating": rating}
    if note is not None and note.strip():
        details["comment"] = note.strip()
    return take_step(repo, code, "phone-feedback", details, actor, at, summary=rating)


def _acting_unit(repo: Repository, code: str, unit: str | None) -> str:
    """The unit taking a unit's step: the one named (it must hold the letter) or the current one."""
    letter = repo.letter(code)
    units = list(letter.data.get("units") or [])
    own = _own_unit(repo)
    chosen = repo.config.unit(unit).code if unit else own or (units[0] if units else "-")
    co_units = _current_state(letter).co_units
    if units and chosen not in units and chosen in co_units:
        raise StepRefused(f"信件 {letter.code} 由 {'、'.join(repo.config.unit_name(u) for u in units)} 主办，"
                          f"{repo.config.unit_name(chosen)} 是协办单位：答复、延期申请和退回由主办单位办理。")
    if units and chosen not in units:
        raise StepRefused(f"信件 {letter.code} 当前承办单位是 {'、'.join(units)}，不是 {chosen}。")
    return chosen


def _own_unit(repo: Repository) -> str | None:
    """The unit of the member this user signs as (with a roster), else None."""
    roster = repo.config.roster
    return signing.acting_member(repo.git, roster)[0].unit if roster else None


def _required(text: str | None, what: str, hint: str = "") -> str:
    if not text or not text.strip():
        raise StepRefused(f"{what}不能为空。{hint}")
    return text.strip()


# -- 合并办理 (issue 20) ------------------------------------------------------------------------


MERGE_SOURCES = STEP_BY_ACTION["merge"].sources


def merge(repo: Repository, codes_: list[str], into: str, actor: Actor, at: str | None = None) -> StepResult:
    """Merge letters about one matter into a lead letter (合并办理), in one commit: a `merge`
    event in each file (the member's names the lead, the lead's names the members). From then
    on the lead's handling steps are recorded in every member too (`take_step`): one unit, one
    deadline, one answer sent to every writer; each writer's own data stays in its own file."""
    config = repo.config
    stamp = normalise_at(config, at)
    if not codes_:
        raise StepRefused("请写明要合并的来信编码：letterbox merge 编码… --into 主信编码。")
    with repo.transaction() as tx:
        lead = repo.letter(into)
        lead_state = _current_state(lead)
        members: list[Letter] = []
        for raw in codes_:
            member = repo.letter(raw)
            if member.code == lead.code:
                raise StepRefused(f"不能把信件 {lead.code} 合并到它自己：--into 写主信，前面写要并入的其他来信。")
            if all(m.code != member.code for m in members):
                members.append(member)
        if lead_state.lead is not None:
            if any(m.code == lead_state.lead for m in members):
                raise StepRefused(f"{lead.code} 已合并到 {lead_state.lead} 办理，再把 {lead_state.lead} 并入 "
                                  f"{lead.code} 会形成循环：一组来信只有一封主信。")
            raise StepRefused(f"{lead.code} 已合并到 {lead_state.lead} 办理，不能作为主信：请合并到 "
                              f"{lead_state.lead}（letterbox merge … --into {lead_state.lead}）。")
        if lead_state.status not in MERGE_SOURCES:
            raise StepRefused(f"主信 {lead.code} 当前状态为“{STATUSES[lead_state.status]}”，不能再并入来信："
                              "合并办理在分类、转办之前决定（主信和并入的来信都须为“已收到”或“已分类”）。")
        member_events: list[tuple[Letter, dict[str, Any]]] = []
        for member in members:
            state = _current_state(member)
            if state.lead == lead.code:
                raise StepRefused(f"{member.code} 已经并入 {lead.code}。")
            if state.lead is not None:
                raise StepRefused(f"{member.code} 已合并到 {state.lead} 办理；如要改并到 {lead.code}，请先撤销合并："
                                  f"letterbox unmerge {member.code} --reason 理由。")
            if lead.code in state.members:
                raise StepRefused(f"{lead.code} 已并入 {member.code}，再把 {member.code} 并入 {lead.code} 会形成循环："
                                  "一组来信只有一封主信。")
            if state.members:
                raise StepRefused(f"{member.code} 是合并办理的主信（{'、'.join(state.members)} 已并入），不能再并入其他来信；"
                                  f"如要把这些来信一并交 {lead.code} 办理，请先撤销它们的合并，再一起合并到 {lead.code}。")
            if state.status not in MERGE_SOURCES:
                done = "已办结" if state.status in ("closed", "archived", "rejected") else "已在办理"
                raise StepRefused(f"信件 {member.code} 当前状态为“{STATUSES[state.status]}”，{done}，不能合并办理："
                                  "只有“已收到”或“已分类”、尚未转办的来信可以并入主信。")
            details: dict[str, Any] = {"into": lead.code}
            if lead_state.status == "classified" and lead_state.category:
                details["category"] = lead_state.category
            member_events.append((member, {"at": stamp, "actor": actor.name, "action": "merge", "details": details}))
        names = [m.code for m in members]
        lead_event = {"at": stamp, "actor": actor.name, "action": "merge", "details": {"members": names}}
        known = frozenset(p.stem for p in repo.letter_paths())
        new_state = _append(repo, lead, lead_event, None, known)
        for member, event in member_events:
            _append(repo, member, event, None, known)
            tx.write(member.path, member.to_yaml())
            for path, content in _step_files(repo, member, "merge").items():
                tx.write(path, content)  # type: ignore[arg-type]
        tx.write(lead.path, lead.to_yaml())
        for path, content in _step_files(repo, lead, "merge").items():
            tx.write(path, content)  # type: ignore[arg-type]
        message = f"{lead.code} 合并办理：{'、'.join(names)} 并入本信"
        sha = tx.commit(message, actor)
        return StepResult(lead.code, "merge", new_state.status, sha, message)


def unmerge(repo: Repository, codes_: list[str], reason: str, actor: Actor, at: str | None = None) -> StepResult:
    """Undo a merge (合并有误): each letter named leaves its lead's group, keeping the status,
    unit and deadline it has now, and goes on alone; the lead records who left. One commit."""
    config = repo.config
    stamp = normalise_at(config, at)
    why = _required(reason, "撤销合并理由（--reason）")
    if not codes_:
        raise StepRefused("请写明要撤销合并的来信编码（并入主信的来信）。")
    with repo.transaction() as tx:
        members: list[Letter] = []
        for raw in codes_:
            member = repo.letter(raw)
            if all(m.code != member.code for m in members):
                members.append(member)
        lead_code: str | None = None
        for member in members:
            state = _current_state(member)
            if state.members and state.lead is None:
                raise StepRefused(f"{member.code} 是合并办理的主信，请写要撤出的来信编码（并入它的有："
                                  f"{'、'.join(state.members)}）。")
            if state.lead is None:
                raise StepRefused(f"信件 {member.code} 没有合并办理，无需撤销。")
            if lead_code is not None and state.lead != lead_code:
                raise StepRefused(f"{member.code} 并入的是 {state.lead}，不是 {lead_code}：一次只撤销同一主信下的来信。")
            lead_code = state.lead
        assert lead_code is not None
        lead = repo.letter(lead_code)
        names = [m.code for m in members]
        known = frozenset(p.stem for p in repo.letter_paths())
        new_state = _append(repo, lead, {"at": stamp, "actor": actor.name, "action": "unmerge",
                                         "details": {"members": names, "reason": why}}, None, known)
        for member in members:
            _append(repo, member, {"at": stamp, "actor": actor.name, "action": "unmerge",
                                   "details": {"into": lead.code, "reason": why}}, None, known)
            tx.write(member.path, member.to_yaml())
            for path, content in _step_files(repo, member, "unmerge").items():
                tx.write(path, content)  # type: ignore[arg-type]
        tx.write(lead.path, lead.to_yaml())
        for path, content in _step_files(repo, lead, "unmerge").items():
            tx.write(path, content)  # type: ignore[arg-type]
        message = f"{lead.code} 撤销合并办理 撤出 {'、'.join(names)}"
        sha = tx.commit(message, actor)
        return StepResult(lead.code, "unmerge", new_state.status, sha, message)
