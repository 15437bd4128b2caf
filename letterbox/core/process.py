"""The handling process as data: statuses, steps, and the replay that checks a history.

A letter's summary fields (status, category, units, mode, publication) are a function of its
history. `replay` folds the history through the step table; a history that takes a step not
allowed in the state it reaches is illegal, wherever it came from (a command or a hand edit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from functools import lru_cache
from typing import Any

STATUSES: dict[str, str] = {
    "received": "已收到",
    "rejected": "不予受理",
    "classified": "已分类",
    "escalated": "呈办中",
    "transferred": "转办中",
    "answered": "已答复待审核",
    "reviewing": "复查复核中",
    "closed": "已办结",
    "archived": "已归档",
}
OPEN_STATUSES = frozenset({"received", "classified", "escalated", "transferred", "answered", "reviewing"})

CATEGORIES: dict[str, str] = {"consultation": "政策咨询", "complaint": "求助投诉", "suggestion": "建言献策"}
MODES: dict[str, str] = {"ordinary": "一般问题", "complex": "较复杂问题", "petition": "信访立案"}

REJECT_REASONS: dict[str, str] = {
    "incomplete": "内容不完整、表述不清楚，无法回答或开展调查（办法第五条第一项）",
    "duplicate": "与其他来信内容相同或相近（办法第五条第二项）",
    "private-dispute": "纯属个人之间恩怨纠纷（办法第五条第三项）",
    "answered": "已经答复且未提出新事项（办法第五条第四项）",
    "legal-process": "已进入司法、仲裁、行政复议、复查复核等法定程序或应通过司法途径解决（办法第五条第五项）",
    "discipline": "反映党政干部和企事业单位负责人违法违纪问题，请直接向区纪检监察部门反映（办法第五条第六项）",
    "out-of-scope": "不在区政府职权范围内（办法第五条第七项）",
}
WITHHOLD_REASONS: dict[str, str] = {
    "state-secret": "涉及国家秘密",
    "trade-secret": "涉及商业秘密",
    "privacy": "涉及个人隐私",
    "sensitive": "敏感性较强",
}
RATINGS = ("满意", "基本满意", "不满意")
# 复查 and 复核 of a 信访 case's 处理意见 (《信访工作条例》第三十五、三十六条): the kinds, in order, the
# clock each runs (the reviewing body's 30 days) and the outcomes a review may have.
REVIEW_KINDS: dict[str, str] = {"复查": "recheck", "复核": "reexamine"}
REVIEW_OUTCOMES = ("维持", "撤销", "变更")
PUBLICATIONS: dict[str, str] = {"public": "公开", "withheld": "不予公开", "taken-down": "已撤下"}

ANY_OPEN = OPEN_STATUSES
ANY_KEPT = OPEN_STATUSES | {"closed", "rejected"}
ANSWERED = frozenset({"closed", "archived"})  # publication decisions: answered letters only


@dataclass(frozen=True)
class Step:
    """One step of the Measures: who takes it, from which statuses, to which status."""

    action: str
    label: str
    sources: frozenset[str]
    target: str | None  # None: status unchanged
    by: str  # office | unit | leader | writer
    article: str
    writer_label: str | None = None  # the line the writer sees in the status lookup; None: not shown
    publication: str | None = None  # the publication decision the step records (article 13)
    after: frozenset[str | None] | None = None  # the decisions it may follow (None: no decision yet)
    command: str | None = None  # the staff command that takes it, when not `letterbox <action>`


STEPS: tuple[Step, ...] = (
    Step("receive", "收信", frozenset({"(new)"}), "received", "office", "第六条",
         writer_label="收信"),
    Step("reject", "不予受理", frozenset({"received", "classified"}), "rejected", "office", "第五条",
         writer_label="不予受理"),
    Step("classify", "分类", frozenset({"received", "classified"}), "classified", "office", "第七条",
         writer_label="分类"),
    Step("reply", "直接回复", frozenset({"classified"}), "closed", "office", "第八条",
         writer_label="直接答复办结"),
    Step("transfer", "转办", frozenset({"classified"}), "transferred", "office", "第九条",
         writer_label="转办"),
    Step("escalate", "呈办", frozenset({"classified"}), "escalated", "office", "第十条",
         writer_label="呈办"),
    # The office records a leader standing in for the one the letter was escalated to (absent,
    # the matter moved to another's brief): only the leaders escalated to or recorded may instruct.
    Step("stand-in", "登记代批领导", frozenset({"escalated"}), None, "office", "第十条"),
    Step("instruct", "领导批示", frozenset({"escalated"}), "transferred", "leader", "第十条",
         writer_label="领导批示"),
    Step("return", "退回", frozenset({"transferred"}), "classified", "unit", "第十五条第四项"),
    # A unit (lead or co-handler) names its handler (专人) for the letter; staff data, not shown to the writer.
    Step("assign-handler", "登记经办人", frozenset({"transferred"}), None, "unit", "第十五条第一项"),
    Step("extend", "申请延期", frozenset({"transferred"}), None, "unit", "第十一条",
         writer_label="申请延期"),
    Step("grant", "同意延期", frozenset({"transferred"}), None, "office", "第十一条",
         writer_label="同意延期"),
    Step("refuse", "不同意延期", frozenset({"transferred"}), None, "office", "第十一条"),
    Step("answer", "答复", frozenset({"transferred"}), "answered", "unit", "第十二条",
         writer_label="承办单位答复"),
    Step("approve", "审核通过", frozenset({"answered"}), "closed", "office", "第十二条",
         writer_label="审核通过、答复办结"),
    Step("send-back", "退回重办", frozenset({"answered"}), "transferred", "office", "第十二条"),
    # Publication is reversible (issue 14): any decision may follow any other but itself, on an
    # answered letter, closed or archived (archiving decides nothing).
    Step("publish", "公开", ANSWERED, None, "office", "第十三条", writer_label="答复已公开",
         publication="public", after=frozenset({None, "withheld", "taken-down"})),
    Step("withhold", "不予公开", ANSWERED, None, "office", "第十三条", writer_label="决定不公开",
         publication="withheld", after=frozenset({None, "public", "taken-down"})),
    Step("unpublish", "撤下公开", ANSWERED, None, "office", "第十三条", writer_label="公开页面已撤下",
         publication="taken-down", after=frozenset({None, "public"})),
    Step("remind", "催办", ANY_OPEN, None, "office", "第十四条"),
    Step("flag-risk", "风险预警", ANY_KEPT, None, "unit", "第十五条第二项"),
    Step("archive", "归档", frozenset({"closed", "rejected"}), "archived", "office", "第十四条",
         writer_label="归档"),
    Step("feedback", "评价", frozenset({"closed", "archived"}), None, "writer", "回访",
         writer_label="来信人评价"),
    # A rating the office takes by phone (回访) and records for the writer: counted with the web
    # ratings (the same `rating` happening of the fold); one rating per handling either way.
    Step("phone-feedback", "电话回访评价", frozenset({"closed", "archived"}), None, "office",
         "第十四条（回访）", writer_label="来信人评价（电话回访）", command="feedback --by-phone"),
    Step("reopen", "重新办理", frozenset({"closed", "archived"}), "transferred", "office", "第十二条",
         writer_label="重新办理"),
    # 复查 / 复核 (《信访工作条例》第三十五、三十六条): the writer, dissatisfied with the 处理意见 (or the
    # 复查意见), asks the superior body within 30 days; the office records the request (on paper, or
    # from the intake service) and the reviewing body's decision. The window and the petition-only
    # rule need the calendar and the configuration: core.facts checks them.
    Step("review-request", "申请复查复核", frozenset({"closed", "archived"}), "reviewing", "office",
         "《信访工作条例》第三十五、三十六条", writer_label="申请复查复核", command="review"),
    Step("review-decide", "复查复核意见", frozenset({"reviewing"}), "closed", "office",
         "《信访工作条例》第三十五、三十六条", writer_label="复查复核意见"),
    # A writer who lost the query code (article 6) gets a new one after the office confirmed who
    # is asking: the new code's hash replaces the old (`hash_tag` ties the event to it, so a hand
    # edit of `query_hash` without this step is refused); the writer sees only that it happened.
    Step("reissue", "重新发放查询码", ANY_KEPT | {"archived"}, None, "office", "第六条",
         writer_label="查询码已重新发放"),
    # 合并办理 (issue 20): letters about one matter are handled as one, at triage (article 5(2) lets
    # the office decline a letter the same as or similar to another; hotlines merge such reports
    # instead of answering each alone). One `merge` event in each file of the group: a member's
    # names the lead letter (`into`), the lead's names its members. From then on every handling
    # step taken on the lead (FOLLOWED) is recorded, in the same commit, in each member's file too
    # with `lead` naming the lead: one unit, one deadline, one answer, and each writer's own
    # lookup, notices and rating. `unmerge` undoes a mistaken merge (the member keeps where it
    # stands and goes on alone).
    Step("merge", "合并办理", frozenset({"received", "classified"}), None, "office", "第五条第二项（合并办理）",
         writer_label="与反映同一事项的来信合并办理"),
    Step("unmerge", "撤销合并办理", ANY_OPEN, None, "office", "第五条第二项（合并办理）",
         writer_label="撤销合并办理，单独办理"),
)
STEP_BY_ACTION: dict[str, Step] = {s.action: s for s in STEPS}

# -- labels for people (issue 18, point 8): every detail key and value the steps record, in the
# plain Chinese staff read in `show`, `preview` and the commands' output (`--json` keeps the keys).
CHANNELS: dict[str, str] = {"web": "网上信箱", "email": "电子邮件", "post": "信件邮寄", "hotline": "热线电话",
                            "visit": "来访", "other": "其他"}
DETAIL_LABELS: dict[str, str] = {
    "channel": "来信渠道",
    "reason": "理由",
    "of": "前信",
    "reply": "告知来信人",
    "category": "类别",
    "text": "内容",
    "units": "承办单位",
    "mode": "问题性质",
    "coordinating": "协办单位",
    "leader": "领导",
    "form": "来信办理单",
    "proposal": "拟办意见",
    "unit": "单位",
    "days": "天数",
    "note": "说明",
    "head": "审核负责人",
    "contacted": "已联系来信人",
    "rating": "评价",
    "comment": "来信人意见",
    "handler": "经办人",
    "timeframe": "解决时限",
    "contact": "沟通记录",
    "kind": "复查或复核",
    "outcome": "复查复核结论",
    "body": "复查复核机关",
    "verified_by": "身份核实方式",
    "verifier": "核实人",
    "hash_tag": "新查询码哈希标记",
    "into": "主信",
    "members": "合并办理的来信",
}
CONTACT_LABELS: dict[str, str] = {"by": "方式", "at": "时间", "person": "沟通人"}  # the parts of `contact`
# A key's label where one step means something more particular by it.
STEP_DETAIL_LABELS: dict[tuple[str, str], str] = {
    ("reject", "reason"): "不予受理理由",
    ("withhold", "reason"): "不公开理由",
    ("return", "reason"): "退回理由",
    ("extend", "reason"): "延期理由",
    ("send-back", "reason"): "退回重办理由",
    ("unpublish", "reason"): "撤下理由",
    ("reopen", "reason"): "重新办理理由",
    ("stand-in", "reason"): "代批理由",
    ("reply", "text"): "回复内容",
    ("answer", "text"): "答复内容",
    ("instruct", "text"): "批示内容",
    ("escalate", "leader"): "呈送领导",
    ("stand-in", "leader"): "代批领导",
    ("instruct", "leader"): "批示领导",
    ("remind", "units"): "催办单位",
    ("return", "unit"): "退回单位",
    ("answer", "unit"): "答复单位",
    ("extend", "days"): "申请延期天数",
    ("grant", "days"): "批准延期天数",
    ("grant", "note"): "批准意见",
    ("refuse", "note"): "不同意理由",
    ("approve", "note"): "审核意见",
    ("remind", "note"): "催办说明",
    ("flag-risk", "note"): "风险情况",
    ("phone-feedback", "comment"): "回访记录",
    ("review-request", "text"): "复查复核请求",
    ("review-decide", "text"): "复查复核意见",
    ("review-request", "note"): "说明",
    ("unmerge", "reason"): "撤销合并理由",
}
YES_NO: dict[bool, str] = {True: "是", False: "否"}
UNIT_KEYS = frozenset({"units", "coordinating", "unit"})  # values: unit codes, shown by name
# Values given from a closed list, shown by their label (the reason of a step, from its own list).
VALUE_LABELS: dict[str, dict[str, str]] = {"category": CATEGORIES, "mode": MODES, "channel": CHANNELS,
                                           "publication": PUBLICATIONS}
REASON_LABELS: dict[str, dict[str, str]] = {"reject": REJECT_REASONS, "withhold": WITHHOLD_REASONS}


def detail_label(action: str, key: str) -> str:
    """The Chinese label of the detail ``key`` of a ``action`` event (an unknown key: itself)."""
    return STEP_DETAIL_LABELS.get((action, key)) or DETAIL_LABELS.get(key, key)


def detail_value(action: str, key: str, value: Any, unit_name: Callable[[str], str] = str,
                 leader_name: Callable[[str], str] = str) -> str:
    """A detail's value as staff read it: labels for the closed lists, names for unit and leader
    codes, 是/否 for flags; free text as written."""
    if isinstance(value, bool):
        return YES_NO[value]
    if isinstance(value, dict):
        return "，".join(f"{CONTACT_LABELS.get(str(k), str(k))} {_moment(v) if k == 'at' else v}"
                        for k, v in value.items())
    if isinstance(value, list):
        return "、".join(detail_value(action, key, v, unit_name, leader_name) for v in value)
    text = str(value)
    if key in UNIT_KEYS:
        return unit_name(text)
    if key == "leader":
        return leader_name(text)
    if key == "reason" and action in REASON_LABELS:
        return REASON_LABELS[action].get(text, text)
    if key in VALUE_LABELS:
        return VALUE_LABELS[key].get(text, text)
    if key == "days":
        return f"{text} 天"
    return text


def _moment(value: Any) -> str:
    """An ISO time stamp as staff read it (2026-03-02 09:15); anything else as written."""
    text = str(value)
    return text[:16].replace("T", " ") if len(text) >= 16 and text[10:11] == "T" else text


def detail_pairs(action: str, details: Any, unit_name: Callable[[str], str] = str,
                 leader_name: Callable[[str], str] = str) -> list[tuple[str, str]]:
    """(label, value) of each detail of an event, in the order recorded."""
    if not isinstance(details, dict):
        return []
    return [(detail_label(action, str(k)), detail_value(action, str(k), v, unit_name, leader_name))
            for k, v in details.items()]


def action_label(action: str) -> str:
    step = STEP_BY_ACTION.get(action)
    return step.label if step is not None else action
RATING_ACTIONS = frozenset({"feedback", "phone-feedback"})  # the writer's rating, by web or by phone
# The handling steps a merged letter (a member) follows from its lead letter: taken on the lead and
# recorded in each member in the same commit (the event's `lead` names the lead). The rest stay each
# letter's own: the writer's rating, 复查/复核, publication (the board shows the group under its lead),
# reminders, risk flags, a new query code.
FOLLOWED = frozenset({"classify", "reject", "reply", "transfer", "escalate", "stand-in", "instruct", "return",
                      "assign-handler", "extend", "grant", "refuse", "answer", "approve", "send-back", "archive",
                      "reopen"})


@dataclass(frozen=True)
class State:
    """Where a letter stands after some prefix of its history."""

    status: str = "(new)"
    category: str | None = None
    units: tuple[str, ...] = ()
    mode: str | None = None
    publication: str | None = None
    answered: bool = False  # closed by an answer (reply, approve) and not rejected since
    clock: str | None = None  # which limit runs now: triage, ordinary, complex, petition, review
    clock_start: str | None = None  # timestamp of the event that started it
    extension_days: int = 0  # granted for the current clock
    pending_extension: int | None = None  # days asked for, awaiting grant/refuse
    extensions: int = 0  # granted extensions on the current clock
    feedback: bool = False
    returned_by: tuple[str, ...] = field(default=())
    co_units: tuple[str, ...] = ()  # 协办 units of a joint handling (`units` holds the lead 主办)
    leaders: tuple[str, ...] = ()  # who may instruct: the leader escalated to and recorded stand-ins
    review: str | None = None  # the review asked for and not decided yet: 复查 or 复核
    reviews: tuple[str, ...] = ()  # the reviews decided, in order (复查, then 复核)
    lead: str | None = None  # merged: the lead letter this one follows (合并办理)
    members: tuple[str, ...] = ()  # a lead letter: the letters merged into it

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "category": self.category,
            "units": list(self.units),
            "mode": self.mode,
            "publication": self.publication,
        }


class IllegalStep(ValueError):
    """The step is not allowed in the state the letter is in."""


def step_allowed(state: State, step: Step) -> bool:
    """True if ``step`` may be taken in ``state``."""
    if state.status not in step.sources:
        return False
    if state.lead is not None and step.action in FOLLOWED:
        return False  # taken on the lead, recorded here by the same commit (合并办理)
    if step.action in ("grant", "refuse"):
        return state.pending_extension is not None
    if step.action == "extend":
        return state.pending_extension is None
    if step.after is not None:
        return state.answered and state.publication in step.after
    if step.action in RATING_ACTIONS:
        return not state.feedback
    if step.action == "unmerge":
        return state.lead is not None or bool(state.members)
    if step.action == "merge":
        return state.lead is None
    return True


def possible_steps(state: State) -> list[Step]:
    return [s for s in STEPS if step_allowed(state, s)]


def state_hint(state: State) -> str:
    """Plain Chinese: the state a letter is in and the steps possible now."""
    now = STATUSES.get(state.status, state.status)
    allowed = "、".join(f"{s.command or s.action}（{s.label}）" for s in possible_steps(state) if s.action != "receive")
    return f"当前状态为“{now}”，现在可以执行：{allowed or '无'}。"


def refusal(state: State, action: str) -> str:
    """Plain Chinese: the state the letter is in and what can be done now."""
    step = STEP_BY_ACTION.get(action)
    label = step.label if step is not None else action
    now = STATUSES.get(state.status, state.status)
    allowed = "、".join(f"{s.command or s.action}（{s.label}）" for s in possible_steps(state) if s.action != "receive")
    extra = ""
    if state.lead is not None and action in FOLLOWED and step is not None and state.status in step.sources:
        return (f"信件已合并到 {state.lead} 办理，“{label}”在主信 {state.lead} 上办理，同一提交自动记入本信；"
                f"如要单独办理，请先撤销合并：letterbox unmerge 本信编码 --reason 理由。")
    if action in ("grant", "refuse") and state.pending_extension is None:
        extra = "没有待审批的延期申请；"
    elif action == "extend" and state.pending_extension is not None:
        extra = "已有一项延期申请待审批；"
    elif step is not None and step.after is not None and state.status in step.sources:
        if not state.answered:
            extra = "没有答复（不予受理的来信不作公开决定）；"
        elif state.publication not in step.after:
            extra = f"公开决定已是“{PUBLICATIONS.get(str(state.publication), state.publication)}”；"
    elif action in RATING_ACTIONS and state.feedback:
        extra = "已评价过（网上评价或电话回访评价，每次办结只记一次）；"
    elif action == "unmerge" and state.status in OPEN_STATUSES:
        extra = "没有合并办理（不是并入其他来信的信件，也没有来信并入）；"
    elif action == "merge" and state.lead is not None:
        extra = f"已合并到 {state.lead} 办理；"
    return f"信件当前状态为“{now}”，{extra}不能执行“{label}”。现在可以执行：{allowed or '无'}。"


def _with(state: State, changes: dict[str, Any]) -> State:
    """``dataclasses.replace(state, **changes)`` without its per-call introspection of the
    fields: replay copies a state for every event of every letter, in every report."""
    new = object.__new__(State)
    new.__dict__.update(state.__dict__)
    new.__dict__.update(changes)
    return new


def _clock(clock: str | None, at: str | None) -> dict[str, Any]:
    """The changes that start ``clock`` at ``at`` (None: no limit runs)."""
    return {"clock": clock, "clock_start": at, "extension_days": 0, "pending_extension": None,
            "extensions": 0}


def apply(state: State, event: dict[str, Any]) -> State:
    """The state after one event; IllegalStep when the event is not allowed in `state`."""
    action = event.get("action", "")
    step = STEP_BY_ACTION.get(action)
    if step is None:
        raise IllegalStep(f"未知步骤“{action}”。")
    lead = event.get("lead")
    if lead is not None:  # recorded from the lead letter (合并办理)
        if action not in FOLLOWED or lead != state.lead:
            raise IllegalStep(f"这条记录注明随主信 {lead} 办理，但" + (
                f"“{step.label}”不随主信办理。" if action not in FOLLOWED else
                f"本信{'已合并到 ' + state.lead + ' 办理' if state.lead else '没有合并办理'}。"))
        if not step_allowed(replace_lead(state), step):
            raise IllegalStep(refusal(replace_lead(state), action))
    elif not step_allowed(state, step):
        raise IllegalStep(refusal(state, action))
    if action == "merge":
        _check_merge(state, event)
    if action == "unmerge":
        _check_unmerge(state, event)
    if action == "review-request":
        _check_review(state, event)
    if action == "instruct" and state.leaders:
        leader = (event.get("details") or {}).get("leader")
        if leader not in state.leaders:
            raise IllegalStep(f"批示领导 {leader} 不是这封信呈送的领导（{'、'.join(state.leaders)}），"
                              "也未由信箱办公室登记为代批领导（letterbox stand-in），不能批示。")
    changes: dict[str, Any] = {"status": step.target} if step.target else {}
    changes.update(_effect(state, action, event))
    return _with(state, changes)


def replace_lead(state: State) -> State:
    """``state`` as if it followed no lead (to judge a step recorded from the lead)."""
    return _with(state, {"lead": None})


def _check_merge(state: State, event: dict[str, Any]) -> None:
    """A member names its lead (`into`); a lead names the members it takes (`members`). A lead
    is not merged into another letter, nor a member made a lead (no chains, no cycles)."""
    d = event.get("details") or {}
    into, members = d.get("into"), d.get("members")
    if (into is None) == (members is None):
        raise IllegalStep("合并办理的记录应写明主信（into）或并入的来信（members），二者只写其一。")
    if into is not None and state.members:
        raise IllegalStep(f"本信是合并办理的主信（{'、'.join(state.members)} 已并入），不能再并入 {into}。")
    if members is not None:
        twice = sorted(set(members) & set(state.members))
        if twice:
            raise IllegalStep(f"{'、'.join(twice)} 已经并入本信。")


def _check_unmerge(state: State, event: dict[str, Any]) -> None:
    d = event.get("details") or {}
    into, members = d.get("into"), d.get("members")
    if (into is None) == (members is None):
        raise IllegalStep("撤销合并的记录应写明主信（into）或撤出的来信（members），二者只写其一。")
    if into is not None and into != state.lead:
        raise IllegalStep(f"本信{'合并到的是 ' + state.lead if state.lead else '没有并入其他来信'}，不是 {into}。")
    if members is not None:
        strangers = sorted(set(members) - set(state.members))
        if strangers or not members:
            raise IllegalStep(f"{'、'.join(strangers) or '（空）'} 没有并入本信，不能撤销其合并。")


def _check_review(state: State, event: dict[str, Any]) -> None:
    """复查 first, once; 复核 once, after a 复查 decided (《信访工作条例》第三十五、三十六条)."""
    kind = (event.get("details") or {}).get("kind")
    if kind not in REVIEW_KINDS:
        raise IllegalStep(f"复查复核的种类应为 {'或'.join(REVIEW_KINDS)}，而不是 {kind!r}。")
    if kind in state.reviews:
        raise IllegalStep(f"已经办理过{kind}，不能再次申请{kind}"
                          + ("（复核意见为最终意见，《信访工作条例》第三十六条）。" if kind == "复核" else
                             "；对复查意见不服的，可申请复核。"))
    if kind == "复核" and "复查" not in state.reviews:
        raise IllegalStep("还没有复查意见，不能申请复核：应先申请复查（《信访工作条例》第三十五条）。")


def _effect(state: State, action: str, event: dict[str, Any]) -> dict[str, Any]:
    """What an allowed event changes besides the status its step leads to."""
    d = event.get("details") or {}
    at = event.get("at")
    decision = STEP_BY_ACTION[action].publication
    if decision is not None:
        return {"publication": decision}
    if action == "receive":
        return _clock("triage", at)
    if action == "classify":
        return {"category": d.get("category")}
    if action == "reject":
        return {"answered": False, **_clock(None, None)}
    if action == "reply":
        return {"answered": True, **_clock(None, None)}
    if action in ("transfer", "instruct"):
        return {"units": tuple(d.get("units") or ()), "mode": d.get("mode"),
                "co_units": tuple(d.get("coordinating") or ()), "leaders": (),
                **_clock(d.get("mode"), at)}
    if action == "escalate":
        return {"leaders": (str(d.get("leader")),), **_clock(None, None)}
    if action == "stand-in":
        return {"leaders": (*state.leaders, str(d.get("leader")))}
    if action == "return":
        returned = (*state.returned_by, str(d.get("unit")))
        return {"units": (), "co_units": (), "mode": None, "returned_by": returned, **_clock("triage", at)}
    if action == "extend":
        return {"pending_extension": int(d.get("days", 0))}
    if action == "grant":
        days = int(d.get("days") or state.pending_extension or 0)
        return {"extension_days": state.extension_days + days, "pending_extension": None,
                "extensions": state.extensions + 1}
    if action == "refuse":
        return {"pending_extension": None}
    if action == "answer":
        return _clock("review", at)
    if action == "approve":
        return {"answered": True, **_clock(None, None)}
    if action == "send-back":
        return _clock(state.mode, at)
    if action in RATING_ACTIONS:
        return {"feedback": True}
    if action == "review-request":
        kind = str(d.get("kind"))
        return {"review": kind, **_clock(REVIEW_KINDS[kind], at)}
    if action == "merge":
        if d.get("into") is not None:
            changes: dict[str, Any] = {"lead": str(d["into"])}
            if d.get("category") is not None:  # takes the lead's classification
                changes.update(status="classified", category=d["category"])
            return changes
        return {"members": (*state.members, *(str(m) for m in d.get("members") or ()))}
    if action == "unmerge":
        if d.get("into") is not None:
            return {"lead": None}
        gone = {str(m) for m in d.get("members") or ()}
        return {"members": tuple(m for m in state.members if m not in gone)}
    if action == "review-decide":
        return {"review": None, "reviews": (*state.reviews, str(state.review)), **_clock(None, None)}
    if action == "reopen":  # back to the unit that answered, with a fresh clock; else re-route
        if not state.units:
            return {"status": "classified", "feedback": False, **_clock("triage", at)}
        return {"feedback": False, **_clock(state.mode, at)}
    return {}  # remind, flag-risk, archive


def replay(history: list[dict[str, Any]]) -> State:
    """Fold the whole history; IllegalStep names the first event that breaks the process."""
    return states(history)[-1]


def states(history: list[dict[str, Any]]) -> list[State]:
    """The state before the first event and after each event: ``states(history)[k]`` is
    ``replay(history[:k])``, so one fold serves every prefix. IllegalStep as `replay`."""
    out = [State()]
    for index, event in enumerate(history):
        try:
            out.append(apply(out[-1], event))
        except IllegalStep as exc:
            raise IllegalStep(f"办理记录第 {index + 1} 条（{event.get('action')}）：{exc}") from None
    return out


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def local_day(stamp: str, tz: tzinfo) -> date:
    """The day of the ISO time stamp ``stamp`` in the time zone ``tz``."""
    if isinstance(stamp, str):
        return _local_day(stamp, tz)
    return parse_time(stamp).astimezone(tz).date()  # a hand-edited file may hold anything


@lru_cache(maxsize=1 << 16)
def _local_day(stamp: str, tz: tzinfo) -> date:
    # Reports ask for the days of the same events over and over (as-of cuts, rounds, closing).
    return parse_time(stamp).astimezone(tz).date()
