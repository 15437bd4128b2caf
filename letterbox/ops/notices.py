"""Notices to the writer (issue 18): 受理告知书, 不予受理告知书, 延期告知书, 答复意见书.

A notice is rendered on demand from the letter's history, which is the record: each notice
belongs to one step (transfer, reject, grant, approve or reply), takes its date from that step
and its content from the step's details, so it is as signed and as permanent as the history.
Nothing is stored twice (docs/process.md, "Notices to the writer").

Templates: letterbox/templates/notice_<kind>.j2 (plain text), overridden by a file of the same
name in the repository's `notice_templates/` folder. The text never holds the writer's personal
data: the writer is addressed as 来信人, the letter by its code.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
)

from letterbox.core.calendar import WorkCalendar
from letterbox.core.config import Config
from letterbox.core.errors import LetterboxError
from letterbox.core.facts import fold
from letterbox.core.letter import Letter
from letterbox.core.process import MODES, REJECT_REASONS, REVIEW_KINDS, local_day

TEMPLATE_DIR = "notice_templates"  # in the repository: notice_<kind>.j2 overriding the package's
KINDS: dict[str, str] = {
    "accept": "受理告知书",
    "reject": "不予受理告知书",
    "extension": "延期告知书",
    "answer": "答复意见书",
    "recheck": "复查意见书",
    "reexamine": "复核意见书",
}
# The ground of a rejection as the notice states it; (6) without its own "go to" clause, which
# the notice gives once, with the body's name, address and phone (bodies.discipline).
GROUNDS: dict[str, str] = {
    **REJECT_REASONS,
    "discipline": "反映党政干部和企事业单位负责人违法违纪问题（办法第五条第六项）",
}


@dataclass(frozen=True)
class Notice:
    kind: str  # accept, reject, extension, answer, recheck, reexamine
    day: date
    text: str
    step: int  # index of the step in the history it belongs to

    @property
    def title(self) -> str:
        return KINDS[self.kind]


def reject_text(config: Config, reason: str, of: Letter | None = None) -> str:
    """The default text of a rejection (the `reply` of a reject step): the ground; for (2)/(4)
    the earlier letter by code and day; for (6) the body to go to, with address and phone."""
    text = f"您的来信不予受理：{GROUNDS[reason]}。"
    if of is not None:
        day = local_day(str(of.history[0]["at"]), config.tz).isoformat() if of.history else "此前"
        if reason == "duplicate":
            text += f"本信与此前 {day} 收到的来信 {of.code} 内容相同或相近，该信的办理结果请查阅该信。"
        elif reason == "answered":
            text += f"所反映的事项已在 {day} 收到的来信 {of.code} 中答复，本信未提出新的事项。"
    if reason == "discipline":
        body = config.body("discipline")
        text += f"请直接向{body.name}反映" + (f"（{body.contact}）" if body.contact else "") + "。"
    return text


def environment(root: Path | None) -> Environment:
    """The templates: the repository's `notice_templates/` first, then the package's. One
    environment per folder (compiled templates kept: a build renders them for every letter)."""
    folder = root / TEMPLATE_DIR if root is not None else None
    return _environment(str(folder) if folder is not None and folder.is_dir() else None)


@functools.lru_cache(maxsize=8)
def _environment(folder: str | None) -> Environment:
    loaders: list[Any] = []
    if folder is not None:
        loaders.append(FileSystemLoader(folder))
    loaders.append(PackageLoader("letterbox", "templates"))
    return Environment(loader=ChoiceLoader(loaders), autoescape=False, undefined=StrictUndefined,
                       keep_trailing_newline=False)


def notices(letter: Letter, config: Config, root: Path | None = None,
            cal: WorkCalendar | None = None) -> list[Notice]:
    """The notices of ``letter``, in the order of its history; with ``cal``, an extension
    notice gives the new due day (暂定 when the calendar of that year is not published yet)."""
    env = environment(root)
    history = letter.history
    if not history:
        return []
    tz = config.tz
    base = {"code": letter.code, "received": _zh_day(local_day(str(history[0]["at"]), tz)),
            "mailbox": config.mailbox_name, "office": config.office_name}
    out: list[Notice] = []
    accepted = False
    pending_extension: dict[str, Any] | None = None
    last_answer: dict[str, Any] | None = None
    mode = "ordinary"
    review_kind = ""
    for index, event in enumerate(history):
        action, details = event.get("action"), event.get("details") or {}
        day = local_day(str(event["at"]), tz)
        values = {**base, "day": _zh_day(day)}

        def add(kind: str, values: dict[str, Any] = values, day: date = day, index: int = index,
                **more: Any) -> None:
            try:
                text = env.get_template(f"notice_{kind}.j2").render(**values, **more).strip()
            except TemplateError as exc:  # a repository's override template (notice_templates/)
                raise LetterboxError(f"告知书模板 notice_{kind}.j2 有误，无法生成{KINDS[kind]}："
                                     f"{exc.message or exc.__class__.__name__}。请改正 {TEMPLATE_DIR}/ "
                                     f"下的同名文件（或删除它以使用默认模板）。") from None
            out.append(Notice(kind, day, _tidy(text), index))

        if action in ("transfer", "instruct") and details.get("units"):
            mode = str(details.get("mode") or mode)
            if not accepted:
                accepted = True
                add("accept", mode=mode, limit=_limit(config, mode), handled_by=_handled_by(config, details))
        elif action == "reject":
            reason = str(details.get("reason", ""))
            add("reject", reason=GROUNDS.get(reason, reason).removesuffix("。"),
                reply=_without_ground(str(details.get("reply") or ""), reason))
        elif action == "extend":
            pending_extension = details
        elif action == "grant" and pending_extension is not None:
            days = int(details.get("days") or pending_extension.get("days") or 0)
            add("extension", reason=str(pending_extension.get("reason", "")).rstrip("。"), days=days,
                unit="日" if mode == "petition" else "个工作日", due=_due_after(letter, config, cal, day))
            pending_extension = None
        elif action == "refuse":
            pending_extension = None
        elif action == "answer":
            last_answer = details
        elif action == "approve" and last_answer is not None:
            add("answer", text=str(last_answer.get("text", "")).strip(),
                unit=config.unit_name(str(last_answer.get("unit", ""))),
                timeframe=last_answer.get("timeframe"), petition=mode == "petition",
                review=config.body("review"))
        elif action == "review-request":
            review_kind = str(details.get("kind", ""))
        elif action == "review-decide" and review_kind in REVIEW_KINDS:
            add(REVIEW_KINDS[review_kind], outcome=str(details.get("outcome", "")),
                text=str(details.get("text", "")).strip(),
                body=str(details.get("body") or config.body("review").name))
            review_kind = ""
        elif action == "reply":
            add("answer", text=str(details.get("text", "")).strip(), unit=config.office_name,
                timeframe=None, petition=mode == "petition", review=config.body("review"))
    return out


def select(found: list[Notice], kind: str | None, code: str) -> list[Notice]:
    """The notices of one kind (all for None); refused with the kinds there are when none."""
    chosen = [n for n in found if kind in (None, n.kind)]
    if not chosen:
        there = "、".join(dict.fromkeys(f"{n.kind}（{n.title}）" for n in found)) or "无"
        wanted = f"“{KINDS[kind]}”" if kind else ""
        raise LetterboxError(f"信件 {code} 没有{wanted}告知书。本信已有的告知书：{there}。")
    return chosen


def render_html(chosen: list[Notice], code: str, root: Path | None = None) -> str:
    return environment(root).get_template("notice_page.html.j2").render(notices=chosen, code=code)


def render_pdf(chosen: list[Notice], code: str, root: Path | None = None) -> bytes:
    """The printable page (render_html) as a PDF, through WeasyPrint (the optional extra
    ``pdf``) with a CJK font of the machine (fontconfig: fonts-wqy-microhei or fonts-noto-cjk),
    embedded as a subset. Refused, nothing written, when WeasyPrint is not installed or when a
    character has no glyph in any installed font (WeasyPrint would print an empty box)."""
    try:
        import weasyprint  # optional and slow to import: only for --pdf
    except ImportError:
        raise LetterboxError("生成 PDF 需要 WeasyPrint：pip install 'quzhang-xinxiang[pdf]'"
                             "（或改用 --out 生成 HTML 后由浏览器打印）。") from None
    missing: list[str] = []

    class _Notdef(logging.Handler):  # WeasyPrint logs each character drawn as an empty box
        def emit(self, record: logging.LogRecord) -> None:
            if ".notdef glyph" in record.getMessage():
                args = record.args if isinstance(record.args, tuple) else ()
                missing.append(str(args[0]) if args else "?")

    logger = logging.getLogger("weasyprint")
    handler = _Notdef(logging.WARNING)
    logger.addHandler(handler)
    try:
        pdf = weasyprint.HTML(string=render_html(chosen, code, root)).write_pdf()
    finally:
        logger.removeHandler(handler)
    if missing:
        chars = "".join(dict.fromkeys(missing))[:20]
        raise LetterboxError(f"本机没有能显示这些字的字体：{chars}。请安装中文字体（Debian："
                             "apt-get install fonts-wqy-microhei 或 fonts-noto-cjk）后再生成 PDF。")
    return bytes(pdf)


def _due_after(letter: Letter, config: Config, cal: WorkCalendar | None, day: date) -> str | None:
    """The due day of the limit running at the end of ``day`` (None without a calendar or a clock)."""
    if cal is None:
        return None
    facts = fold(letter, config, cal, as_of=day)
    if facts is None or facts.clock is None:
        return None
    due = _zh_day(facts.clock.due)
    return f"{due}（暂定：当年节假日安排公布后可能调整）" if facts.clock.computation.provisional else due


def _zh_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _limit(config: Config, mode: str) -> int:
    rules = config.rules
    return {"ordinary": rules.ordinary_working_days, "complex": rules.complex_working_days}.get(
        mode, rules.petition_days)


def _handled_by(config: Config, details: dict[str, Any]) -> str:
    units = "、".join(config.unit_name(str(u)) for u in details["units"])
    co = "、".join(config.unit_name(str(u)) for u in details.get("coordinating") or ())
    if details.get("mode") == "petition":
        return f"转{units}作为信访事项办理" + (f"，{co}协同办理" if co else "")
    return f"转{units}办理（{MODES.get(str(details.get('mode')), '')}）" + (f"，{co}协办" if co else "")


def _without_ground(reply: str, reason: str) -> str:
    """The reply without the ground the notice states on its own line (the default text
    begins with it)."""
    head = f"您的来信不予受理：{GROUNDS.get(reason, reason)}。"
    old = f"您的来信不予受理：{REJECT_REASONS.get(reason, reason)}。"
    for prefix in (head, old):
        if reply.startswith(prefix):
            return reply[len(prefix):].strip()
    return reply.strip()


def _tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())
