"""The fast replay against a straightforward reference, on many generated histories.

`process.apply` copies the frozen State without `dataclasses.replace`, `process.states` folds a
history once for all its prefixes, `deadlines.due_date` is memoised per calendar and
`process.local_day` per time stamp. The reference below is the plain version of each (the code
as it was before those shortcuts); every result must be the same, errors included.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from functools import partial
from pathlib import PurePosixPath
from typing import Any

import pytest

from letterbox.core.calendar import WorkCalendar
from letterbox.core.config import Config, default_config_text, parse_config
from letterbox.core.deadlines import MODES, DeadlineRules, due_date, due_day
from letterbox.core.facts import (
    UNIT_CLOCKS,
    ReviewRefused,
    Round,
    _check_review_window,
    fold,
    owners,
)
from letterbox.core.letter import Letter
from letterbox.core.process import (
    CATEGORIES,
    FOLLOWED,
    RATINGS,
    REJECT_REASONS,
    STEP_BY_ACTION,
    STEPS,
    IllegalStep,
    State,
    Step,
    local_day,
    parse_time,
    possible_steps,
    refusal,
    replay,
    states,
)
from letterbox.reports.analysis import Facts, letter_facts
from letterbox.reports.similar import Gazetteer
from site_builder.lookup_index import payload_of

CONFIG = parse_config(default_config_text("ab" * 16))
CAL = WorkCalendar()
UNITS = [u.code for u in CONFIG.units][:6] + ["no-such-unit"]
HISTORIES = 400


# --------------------------------------------------------------------------- reference


PUBLICATION = {"publish": "public", "withhold": "withheld", "unpublish": "taken-down"}


def ref_possible_steps(state: State) -> list[Step]:
    steps = [s for s in STEPS if state.status in s.sources]
    if state.pending_extension is None:
        steps = [s for s in steps if s.action not in ("grant", "refuse")]
    else:
        steps = [s for s in steps if s.action != "extend"]
    # publication decisions: on answered letters (closed or archived), never the same twice
    if not state.answered:
        steps = [s for s in steps if s.action not in PUBLICATION]
    steps = [s for s in steps if PUBLICATION.get(s.action, "?") != state.publication]
    if state.publication == "withheld":
        steps = [s for s in steps if s.action != "unpublish"]  # not on the board: nothing to take down
    if state.feedback:  # one rating per handling, by web or by phone
        steps = [s for s in steps if s.action not in ("feedback", "phone-feedback")]
    if state.lead is None and not state.members:  # nothing merged: nothing to undo
        steps = [s for s in steps if s.action != "unmerge"]
    if state.lead is not None:  # a member: merged once; its handling steps come from the lead
        steps = [s for s in steps if s.action != "merge" and s.action not in FOLLOWED]
    return steps


def _ref_clock(state: State, clock: str | None, at: str | None) -> State:
    return replace(state, clock=clock, clock_start=at, extension_days=0, pending_extension=None,
                   extensions=0)


def ref_apply(state: State, event: dict[str, Any]) -> State:
    action = event.get("action", "")
    step = next((s for s in STEPS if s.action == action), None)
    if step is None:
        raise IllegalStep(f"未知步骤“{action}”。")
    lead = event.get("lead")
    if lead is not None:  # recorded from the lead: judged as if the letter followed none
        if action not in FOLLOWED or lead != state.lead:
            raise IllegalStep(f"这条记录注明随主信 {lead} 办理，但" + (
                f"“{step.label}”不随主信办理。" if action not in FOLLOWED else
                f"本信{'已合并到 ' + state.lead + ' 办理' if state.lead else '没有合并办理'}。"))
        if step not in ref_possible_steps(replace(state, lead=None)):
            raise IllegalStep(refusal(replace(state, lead=None), action))
    elif step not in ref_possible_steps(state):
        raise IllegalStep(refusal(state, action))
    d = event.get("details") or {}
    if action in ("merge", "unmerge"):
        return ref_merge(state, action, d)
    at = event.get("at")
    if action == "review-request":  # 复查 first and once, then 复核 once
        kind = d.get("kind")
        if kind not in ("复查", "复核"):
            raise IllegalStep(f"复查复核的种类应为 复查或复核，而不是 {kind!r}。")
        if kind in state.reviews:
            raise IllegalStep(f"已经办理过{kind}，不能再次申请{kind}"
                              + ("（复核意见为最终意见，《信访工作条例》第三十六条）。" if kind == "复核" else
                                 "；对复查意见不服的，可申请复核。"))
        if kind == "复核" and "复查" not in state.reviews:
            raise IllegalStep("还没有复查意见，不能申请复核：应先申请复查（《信访工作条例》第三十五条）。")
    if action == "instruct" and state.leaders and d.get("leader") not in state.leaders:
        raise IllegalStep(f"批示领导 {d.get('leader')} 不是这封信呈送的领导（{'、'.join(state.leaders)}），"
                          "也未由信箱办公室登记为代批领导（letterbox stand-in），不能批示。")
    new = replace(state, status=step.target or state.status)
    if action == "receive":
        return _ref_clock(new, "triage", at)
    if action == "classify":
        return replace(new, category=d.get("category"))
    if action == "reject":
        return _ref_clock(replace(new, answered=False), None, None)
    if action in ("reply", "approve"):
        return _ref_clock(replace(new, answered=True), None, None)
    if action == "escalate":
        return _ref_clock(replace(new, leaders=(str(d.get("leader")),)), None, None)
    if action == "stand-in":
        return replace(new, leaders=(*state.leaders, str(d.get("leader"))))
    if action in ("transfer", "instruct"):
        units = tuple(d.get("units") or ())
        return _ref_clock(replace(new, units=units, mode=d.get("mode"), leaders=(),
                                  co_units=tuple(d.get("coordinating") or ())), d.get("mode"), at)
    if action == "return":
        returned = (*state.returned_by, str(d.get("unit")))
        return _ref_clock(replace(new, units=(), co_units=(), mode=None, returned_by=returned), "triage", at)
    if action == "extend":
        return replace(new, pending_extension=int(d.get("days", 0)))
    if action == "grant":
        days = int(d.get("days") or state.pending_extension or 0)
        return replace(new, extension_days=state.extension_days + days, pending_extension=None,
                       extensions=state.extensions + 1)
    if action == "refuse":
        return replace(new, pending_extension=None)
    if action == "answer":
        return _ref_clock(new, "review", at)
    if action == "send-back":
        return _ref_clock(new, state.mode, at)
    if action in PUBLICATION:
        return replace(new, publication=PUBLICATION[action])
    if action in ("feedback", "phone-feedback"):
        return replace(new, feedback=True)
    if action == "review-request":
        kind = str(d.get("kind"))
        return _ref_clock(replace(new, review=kind), {"复查": "recheck", "复核": "reexamine"}[kind], at)
    if action == "review-decide":
        return _ref_clock(replace(new, review=None, reviews=(*state.reviews, str(state.review))), None, None)
    if action == "reopen":
        if not state.units:
            return _ref_clock(replace(new, status="classified", feedback=False), "triage", at)
        return _ref_clock(replace(new, feedback=False), state.mode, at)
    return new


def ref_merge(state: State, action: str, d: dict[str, Any]) -> State:
    into, members = d.get("into"), d.get("members")
    what = "合并办理的记录应写明主信（into）或并入的来信（members）" if action == "merge" else \
        "撤销合并的记录应写明主信（into）或撤出的来信（members）"
    if (into is None) == (members is None):
        raise IllegalStep(f"{what}，二者只写其一。")
    if action == "merge" and into is not None:
        if state.members:
            raise IllegalStep(f"本信是合并办理的主信（{'、'.join(state.members)} 已并入），不能再并入 {into}。")
        if d.get("category") is not None:
            return replace(state, lead=str(into), status="classified", category=d["category"])
        return replace(state, lead=str(into))
    if action == "merge":
        twice = sorted(set(members) & set(state.members))
        if twice:
            raise IllegalStep(f"{'、'.join(twice)} 已经并入本信。")
        return replace(state, members=(*state.members, *map(str, members)))
    if into is not None:
        if into != state.lead:
            raise IllegalStep(f"本信{'合并到的是 ' + state.lead if state.lead else '没有并入其他来信'}，不是 {into}。")
        return replace(state, lead=None)
    strangers = sorted(set(members) - set(state.members))
    if strangers or not members:
        raise IllegalStep(f"{'、'.join(strangers) or '（空）'} 没有并入本信，不能撤销其合并。")
    return replace(state, members=tuple(m for m in state.members if m not in set(members)))


def ref_replay(history: list[dict[str, Any]]) -> State:
    state = State()
    for index, event in enumerate(history):
        try:
            state = ref_apply(state, event)
        except IllegalStep as exc:
            raise IllegalStep(f"办理记录第 {index + 1} 条（{event.get('action')}）：{exc}") from None
    return state


def ref_check_reviews(letter: Letter) -> None:
    """The windows of 复查 (from the last closing) and 复核 (from the 复查 decision) and the
    petition-only rule, as the fold checks them (ReviewRefused, naming the event)."""
    ref_replay(letter.history)  # the fold replays the whole history first: an illegal step wins
    state, closed, decided = State(), None, None
    for index, event in enumerate(letter.history):
        before, state = state, ref_apply(state, event)
        day = ref_day(str(event["at"]), CONFIG)
        if event["action"] in ("approve", "reply"):
            closed = day
        elif event["action"] == "review-decide":
            decided = day
        elif event["action"] == "review-request":
            kind = str((event.get("details") or {}).get("kind"))
            try:
                _check_review_window(before, kind, day, decided if kind == "复核" else closed, CONFIG, CAL)
            except ReviewRefused as exc:
                raise ReviewRefused(f"办理记录第 {index + 1} 条（申请复查复核）：{exc.reason}", exc.reason) from None


def ref_day(stamp: Any, config: Config) -> date:
    return parse_time(stamp).astimezone(config.tz).date()


def ref_due(start: date, mode: str, extension_days: int = 0) -> date:
    return due_date(WorkCalendar(), CONFIG.rules, start, mode, extension_days).due  # no memo yet


def _ref_round(state: State) -> Round | None:
    if state.clock is None or state.clock_start is None:
        return None
    start = ref_day(state.clock_start, CONFIG)
    return Round(state.clock, owners(state, CONFIG), start, ref_due(start, state.clock),
                 ref_due(start, state.clock, state.extension_days), state.extension_days)


def ref_rounds(letter: Letter) -> list[Round]:
    ref_check_reviews(letter)
    out: list[Round] = []
    state = State()
    for event in letter.history:
        before = state
        state = ref_apply(state, event)
        restarted = (state.clock, state.clock_start) != (before.clock, before.clock_start)
        if restarted and before.clock is not None:
            ended = _ref_round(before)
            if ended is not None:
                out.append(replace(ended, end_action=str(event.get("action")),
                                   end=ref_day(str(event["at"]), CONFIG)))
    current = _ref_round(state)
    if current is not None:
        out.append(current)
    return out


def ref_closings(letter: Letter) -> list[tuple[date, tuple[str, ...], str]]:
    """(day, who answered, outcome) of each reply or approval: judged by the rounds run since
    the previous closing (a reply by the triage round it ended, an approval by the unit rounds
    ended by an answer; the worst outcome counts)."""
    ref_check_reviews(letter)
    out: list[tuple[date, tuple[str, ...], str]] = []
    episode: list[Round] = []
    state = State()
    rank = {"on_time": 0, "extended": 1, "late": 2}
    for event in letter.history:
        before = state
        state = ref_apply(state, event)
        day = ref_day(str(event["at"]), CONFIG)
        restarted = (state.clock, state.clock_start) != (before.clock, before.clock_start)
        if restarted and before.clock is not None:
            ended = _ref_round(before)
            if ended is not None:
                episode.append(replace(ended, end_action=str(event.get("action")), end=day))
        if event["action"] not in ("approve", "reply"):
            continue
        if event["action"] == "reply":
            handled = [r for r in episode if r.end_action == "reply"][-1:]
            units: tuple[str, ...] = (CONFIG.office_code,)
        else:
            handled = [r for r in episode if r.kind in UNIT_CLOCKS and r.end_action == "answer"]
            units = handled[-1].units if handled else (CONFIG.office_code,)
        out.append((day, units, max((r.outcome or "on_time" for r in handled),
                                    key=rank.__getitem__, default="on_time")))
        episode = []
    return out


def ref_as_of(letter: Letter, last: date) -> Letter | None:
    history = [e for e in letter.history if ref_day(str(e["at"]), CONFIG) <= last]
    return Letter(letter.path, {**letter.data, "history": history}) if history else None


def fold_rounds(letter: Letter) -> Any:
    folded = fold(letter, CONFIG, CAL)
    return folded and list(folded.rounds)


def fold_closings(letter: Letter) -> Any:
    folded = fold(letter, CONFIG, CAL)
    return folded and [(c.day, c.units, c.outcome) for c in folded.closings]


# --------------------------------------------------------------------------- generated histories


def _details(rng: random.Random, action: str, state: State) -> dict[str, Any] | None:
    unit = rng.choice(UNITS)
    if action == "classify":
        return {"category": rng.choice([*CATEGORIES, None])}
    if action in ("transfer", "instruct"):
        details = {"units": rng.sample(UNITS, rng.choice((1, 1, 2))),
                   "mode": rng.choice(("ordinary", "ordinary", "complex", "petition"))}
        if rng.random() < 0.3:
            details["coordinating"] = [rng.choice(UNITS)]
        if action == "instruct":  # now and then a leader the letter was not escalated to
            leaders = list(state.leaders) or ["qz"]
            details["leader"] = rng.choice(leaders) if rng.random() < 0.9 else "fqz-ny"
        return details
    if action == "escalate":
        return {"leader": rng.choice(("qz", "cwfqz"))}
    if action == "stand-in":
        return {"leader": rng.choice(("cwfqz", "fqz-cj")), "reason": "外出"}
    if action == "return":
        return {"unit": state.units[0] if state.units else unit}
    if action == "extend":
        return {"days": rng.randint(1, 20)} if rng.random() < 0.9 else None
    if action == "grant":
        return {"days": rng.randint(1, 12)} if rng.random() < 0.5 else None
    if action == "reject":
        return {"reason": rng.choice(list(REJECT_REASONS))}
    if action in ("answer", "reply"):
        return {"unit": state.units[0] if state.units else unit, "text": "答复"}
    if action == "remind":
        return {"units": [unit]} if rng.random() < 0.5 else None
    if action in ("feedback", "phone-feedback"):
        return {"rating": rng.choice(RATINGS)}
    if action == "flag-risk":
        return {"note": "注意"}
    if action == "withhold":
        return {"reason": "privacy"}
    if action == "unpublish":
        return {"reason": "撤下核实"}
    if action == "review-request":
        return {"kind": rng.choice(("复查", "复查", "复核"))}
    if action == "review-decide":
        return {"outcome": rng.choice(("维持", "撤销", "变更")), "text": "意见"}
    if action == "reissue":
        return {"verified_by": "电话核实", "verifier": "王静", "hash_tag": "0" * 16}
    if action == "merge":  # as a member (into a lead) or as the lead (taking members)
        if rng.random() < 0.5:
            return {"into": "T99999", **({"category": "complaint"} if rng.random() < 0.5 else {})}
        return {"members": [f"T9{rng.randint(0, 9999):04d}"]}
    if action == "unmerge":
        if state.lead is not None:
            return {"into": state.lead if rng.random() < 0.95 else "T00000", "reason": "误并"}
        return {"members": list(state.members[:1]) if rng.random() < 0.95 else ["T00000"], "reason": "误并"}
    return None


def _stamp(rng: random.Random, moment: datetime) -> str:
    if rng.random() < 0.2:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat(timespec="seconds")


WEIGHTS = {"transfer": 4, "extend": 3, "grant": 4, "answer": 3, "approve": 4, "reject": 0.5,
           "remind": 0.5, "flag-risk": 0.5, "reissue": 0.2}  # mostly letters that reach a unit and get closed


def history_of(rng: random.Random) -> list[dict[str, Any]]:
    """A random walk through the process, now and then a step that is not allowed."""
    tz = timezone(timedelta(hours=8))
    moment = datetime(2024, 12, 1, 8, tzinfo=tz) + timedelta(days=rng.randint(0, 800),
                                                            minutes=rng.randint(0, 600))
    history: list[dict[str, Any]] = []
    state = State()
    for _ in range(rng.randint(1, 16)):
        steps = ref_possible_steps(state if state.lead is None else replace(state, lead=None))
        if not steps:
            break
        if rng.random() < 0.015:
            action = rng.choice([s.action for s in STEPS] + ["no-such-step"])
        else:
            action = rng.choices(steps, [WEIGHTS.get(s.action, 1) for s in steps])[0].action
        event: dict[str, Any] = {"at": _stamp(rng, moment), "actor": "测试", "action": action}
        details = _details(rng, action, state)
        if details is not None:
            event["details"] = details
        if state.lead is not None and rng.random() < 0.97:  # a member: most steps recorded from the lead
            event["lead"] = state.lead
        history.append(event)
        try:
            state = ref_apply(state, event)
        except IllegalStep:
            break
        moment += timedelta(hours=rng.choice((1, 3, 20, 30, 50, 70, 100, 150, 300, 700)))
    return history


def letter_of(history: list[dict[str, Any]], n: int) -> Letter:
    data = {"letter_code": f"T{n:05d}", "submitted_at": history[0]["at"], "history": history,
            "title": "标题", "body": "正文"}
    return Letter(PurePosixPath(f"cases/T{n:05d}.yaml"), data)


def outcome(fn: Any, *args: Any) -> tuple[Any, ...]:
    try:
        return ("ok", fn(*args))
    except Exception as exc:  # the same error, with the same message
        return ("raises", type(exc), str(exc))


CASES = [history_of(random.Random(seed)) for seed in range(HISTORIES)]


def prefixes(history: list[dict[str, Any]]) -> list[State]:
    return [ref_replay(history[:k]) for k in range(len(history) + 1)]


def test_generated_histories_cover_the_process() -> None:
    actions = {e["action"] for h in CASES for e in h}
    assert actions >= {s.action for s in STEPS}
    assert sum(1 for h in CASES if outcome(ref_replay, h)[0] == "raises") >= 5
    closings = [outcome(ref_closings, letter_of(h, 0)) for h in CASES]
    found = {c[1][-1][2] if c[1] else None for c in closings if c[0] == "ok"}
    assert found == {None, "on_time", "extended", "late"}


@pytest.mark.parametrize("seed", range(0, HISTORIES, 50))
def test_states_match_reference(seed: int) -> None:
    for history in CASES[seed:seed + 50]:
        want = outcome(prefixes, history)
        assert outcome(states, history) == want
        assert outcome(replay, history) == (want if want[0] == "raises" else ("ok", want[1][-1]))
        if want[0] == "ok":
            for state in want[1]:
                assert possible_steps(state) == ref_possible_steps(state)
                assert vars(state) == vars(replace(state))  # every field, nothing else


def illegal_named_as_replay(found: tuple[Any, ...], history: list[dict[str, Any]]) -> tuple[Any, ...]:
    """The fold replays with `states`, so an illegal step reads as replay() words it."""
    if found[0] == "raises" and found[1] is IllegalStep:
        return outcome(ref_replay, history)  # (a ReviewRefused is the fold's own: kept)
    return found


@pytest.mark.parametrize("seed", range(0, HISTORIES, 50))
def test_fold_rounds_closings_and_facts_match_reference(seed: int) -> None:
    gaz = Gazetteer.from_config(CONFIG)
    for n, history in enumerate(CASES[seed:seed + 50], start=seed):
        letter = letter_of(history, n)
        want = illegal_named_as_replay(outcome(ref_rounds, letter), history)
        assert outcome(fold_rounds, letter) == want
        expected = illegal_named_as_replay(outcome(ref_closings, letter), history)
        assert outcome(fold_closings, letter) == expected
        start = ref_day(history[0]["at"], CONFIG)
        for first, last in ((date.min, date.max), (start, start + timedelta(days=40)),
                            (start + timedelta(days=20), start + timedelta(days=90))):
            got = outcome(partial(letter_facts, timing_only=True), letter, CONFIG, CAL, gaz,
                          first, last)
            assert got == outcome(ref_facts, letter, first, last)


def ref_facts(letter: Letter, first: date, last: date) -> Any:
    seen = ref_as_of(letter, last)
    if seen is None:
        return None
    state = ref_replay(seen.history)
    ref_check_reviews(seen)
    received = ref_day(str(seen.history[0]["at"]), CONFIG)
    units = tuple(state.units) or ((CONFIG.office_code,) if seen.events("reply") else ())
    reviews, before = [], State()
    for event in seen.history:  # 复查/复核 asked for and decided (issue 18's statistics)
        d = event.get("details") or {}
        day = ref_day(str(event["at"]), CONFIG)
        if event["action"] == "review-request":
            reviews.append((str(d.get("kind") or ""), "requested", day))
        elif event["action"] == "review-decide":
            reviews.append((str(before.review or ""), str(d.get("outcome") or ""), day))
        before = ref_apply(before, event)
    facts = Facts(seen.code, received, state.category, units, None, None,
                  reviews=tuple(sorted(reviews, key=lambda r: r[2])), review_pending=state.review or None)
    # each reply or approval is one closing; one recorded from a lead letter (合并办理) is the
    # group's answer: the member counts for volume only (with_group), not for timeliness
    leads = [bool(e.get("lead")) for e in seen.history if e["action"] in ("approve", "reply")]
    closings = [(c, lead) for c, lead in zip(ref_closings(seen), leads, strict=True)
                if first <= c[0] <= last]
    if not closings:
        return facts
    (closed, _, found), lead = closings[-1]  # the last closing in the period
    if lead:
        return replace(facts, with_group=True)
    return replace(facts, closed=closed, working_days=CAL.working_days_between(received, closed),
                   outcome=found)


def test_lookup_payload_names_units_as_config_does() -> None:
    for n, history in enumerate(CASES):
        try:
            state = ref_replay(history)
        except IllegalStep:
            continue
        payload = outcome(payload_of, letter_of(history, n), CONFIG, CAL, False)
        if payload[0] == "ok":
            assert payload[1]["units"] == [CONFIG.unit_name(u) for u in state.units]
            assert [day for day, _ in payload[1]["timeline"]] == [
                ref_day(str(e["at"]), CONFIG).isoformat() for e in history
                if STEP_BY_ACTION[e["action"]].writer_label]


def test_local_day_matches_parse_time() -> None:
    stamps = [e["at"] for h in CASES for e in h]
    for stamp in stamps + stamps:  # the second time from the memo
        assert local_day(stamp, CONFIG.tz) == ref_day(stamp, CONFIG)
    with pytest.raises(AttributeError):  # not a string: the error parse_time gives
        local_day(20260101, CONFIG.tz)  # type: ignore[arg-type]


def test_memoised_due_dates_are_fresh_copies() -> None:
    rng = random.Random(7)
    cal = WorkCalendar()
    rules = [DeadlineRules(), DeadlineRules(ordinary_working_days=5, review_working_days=1)]
    for _ in range(600):
        start = date(2024, 12, 1) + timedelta(days=rng.randint(0, 1200))
        args = (rng.choice(rules), start, rng.choice(MODES), rng.choice((0, 0, 3, 15, 30, 31)))
        fresh = outcome(due_date, WorkCalendar(), *args)  # a calendar of its own: no memo
        first = outcome(due_date, cal, *args)
        assert first == fresh
        if first[0] == "ok":  # a caller changing its copy changes nobody else's
            first[1].skipped.append((start, "changed by a caller"))
            first[1].provisional_years.append(1900)
            first[1].makeup_days_counted.append(start)
        assert outcome(due_date, cal, *args) == fresh
        assert outcome(due_day, cal, *args) == (("ok", fresh[1].due) if fresh[0] == "ok" else fresh)
