"""复查 and 复核 of a 信访 case (《信访工作条例》第三十五、三十六条; issue 18, point 2).

A writer dissatisfied with the 处理意见 may, within 30 days of receiving it, ask the handling
body's superior for 复查; the reviewing body answers within 30 days. Dissatisfied with the
复查意见, the writer may ask for 复核 within 30 days; answered within 30 days too. The office
records the request (from paper, or later from the intake service) and the decision of the
reviewing body named in letterbox.yaml (`bodies.review`, else the district government).

The step table (core.process) allows 复查 once and 复核 once after a 复查 decided; the windows
and the petition-only rule need the calendar and the configuration, so the fold (core.facts)
checks them: here before the step is taken, and in `validate` for a hand-edited file.
"""

from __future__ import annotations

from typing import Any

from letterbox.core.calendar import WorkCalendar
from letterbox.core.clock import work_calendar
from letterbox.core.config import Config
from letterbox.core.deadlines import review_window_end
from letterbox.core.errors import StepRefused
from letterbox.core.facts import Facts, ReviewRefused, fold
from letterbox.core.letter import Letter
from letterbox.core.process import REVIEW_KINDS, REVIEW_OUTCOMES, IllegalStep, replay
from letterbox.ops.workflow import StepResult, explained, normalise_at, take_step
from letterbox.store.repository import Actor, Repository


def reviewing_body(config: Config) -> str:
    """The body that decides 复查 and 复核: letterbox.yaml `bodies.review`, else the government."""
    return config.body("review").name


@explained
def request_review(repo: Repository, code: str, kind: str, actor: Actor, text: str | None = None,
                   at: str | None = None) -> StepResult:
    """Record the writer's request for 复查 or 复核, refused outside its 30-day window, a 复核
    without a 复查 decided, a second one of a kind, and a letter not handled as a 信访 case
    (unless letterbox.yaml gives reviews to every letter)."""
    if kind not in REVIEW_KINDS:
        raise StepRefused(f"--kind 应为 {'或'.join(REVIEW_KINDS)}，而不是 {kind!r}。")
    details: dict[str, Any] = {"kind": kind, "body": reviewing_body(repo.config)}
    if text is not None and text.strip():
        details["text"] = text.strip()
    _check(repo, code, "review-request", details, at)
    return take_step(repo, code, "review-request", details, actor, at, summary=kind)


@explained
def decide_review(repo: Repository, code: str, outcome: str, text: str, actor: Actor,
                  at: str | None = None) -> StepResult:
    """Record the reviewing body's decision (维持 / 撤销 / 变更) with its text: the letter is
    closed again; after a 复查, the writer may ask for 复核 within 30 days."""
    if outcome not in REVIEW_OUTCOMES:
        raise StepRefused(f"--outcome 应为 {'、'.join(REVIEW_OUTCOMES)} 之一，而不是 {outcome!r}。")
    if not text.strip():
        raise StepRefused("复查复核意见不能为空：请用 --text 或 --file 写出意见书的内容。")
    details = {"outcome": outcome, "text": text.strip(), "body": reviewing_body(repo.config)}
    letter = repo.letter(code)
    try:
        kind = replay(letter.history).review or ""
    except IllegalStep:
        kind = ""
    return take_step(repo, code, "review-decide", details, actor, at, summary=f"{kind}{outcome}")


def _check(repo: Repository, code: str, action: str, details: dict[str, Any], at: str | None) -> None:
    """Fold the letter with the step added: the rules that need the calendar (windows) and the
    configuration (petition cases only) refuse it here, before anything is written."""
    config = repo.config
    letter = repo.letter(code)
    event = {"at": normalise_at(config, at), "actor": "", "action": action, "details": details}
    probe = Letter(letter.path, {**letter.data, "history": [*letter.history, event]})
    try:
        replay(letter.history + [event])
    except IllegalStep:
        return  # take_step refuses it, naming the state and the steps possible
    try:
        fold(probe, config, work_calendar(repo.root))
    except ReviewRefused as exc:
        raise StepRefused(f"信件 {letter.code}：{exc.reason}") from None


def review_offer(facts: Facts, config: Config, cal: WorkCalendar) -> dict[str, str] | None:
    """The review the writer may ask for now, if any: ``{"kind": 复查 or 复核, "until": the last
    day of its window (ISO), "body": the reviewing body}``; None while the letter is open, for a
    letter that is not a 信访 case (unless letterbox.yaml gives reviews to every letter), once
    both reviews are decided, or without an opinion to ask against. The window may have passed
    by the time the writer reads it: the page compares `until` with the day, and
    `request_review` checks it again."""
    state = facts.state
    if state.status not in ("closed", "archived") or state.review:
        return None
    if state.mode != "petition" and not config.rules.reviews_for_all_letters:
        return None
    if "复核" in state.reviews:
        return None
    if "复查" in state.reviews:
        decided = [h.day for h in facts.happenings if h.kind == "review-decide"]
        kind, opened = "复核", (decided[-1] if decided else None)
    else:
        kind, opened = "复查", (facts.closings[-1].day if facts.closings else None)
    if opened is None:
        return None
    until = review_window_end(cal, config.rules, opened).due
    return {"kind": kind, "until": until.isoformat(), "body": reviewing_body(config)}
