"""The text of a notification, rendered at send time from the letter's history.

Templates: letterbox/templates/notify_writer.j2 (the writer's e-mail) and notify_staff.j2 (a
unit's, the office's or a leader's e-mail or IM message), overridden like the notices by a
file of the same name in the repository's `notice_templates/` folder. The first line is the
subject. The writer's SMS is the provider's approved template, filled with the parameters of
`sms.params` (the letter code, the step, the lookup link: nothing else).

No text holds a writer's datum, nor the letter's title or body: the writer's e-mail may carry
the notice this step gives (受理/不予受理/延期告知书, 答复意见书…), which is written for the writer.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from jinja2 import TemplateError

from letterbox.core.calendar import WorkCalendar
from letterbox.core.config import Config
from letterbox.core.errors import LetterboxError
from letterbox.core.facts import fold
from letterbox.core.letter import Letter
from letterbox.core.process import STEP_BY_ACTION, local_day
from letterbox.ops import notices
from letterbox.ops.notify.channels import Message
from letterbox.ops.notify.outbox import Entry


def label(action: str, audience: str) -> str:
    step = STEP_BY_ACTION.get(action)
    if step is None:
        return action
    return (step.writer_label or step.label) if audience == "writer" else step.label


def _zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def compose(key: str, entry: Entry, letter: Letter, config: Config, root: Path, cal: WorkCalendar,
            lookup_url: str | None) -> Message:
    """The message for one notification (LetterboxError: a repository template is broken)."""
    event = letter.history[entry.event]
    day = local_day(str(event["at"]), config.tz)
    step_label = label(entry.action, entry.to)
    env = notices.environment(root)
    values = {"key": key, "code": letter.code, "action": entry.action, "label": step_label,
              "day": _zh(day), "mailbox": config.mailbox_name, "office": config.office_name,
              "lookup_url": lookup_url}
    try:
        if entry.to == "writer":
            found = [n for n in notices.notices(letter, config, root, cal) if n.step == entry.event]
            values["notice"] = found[0].text if found else None
            name = "notify_writer.j2"
        else:
            facts = fold(letter, config, cal, as_of=day)  # the limit as the step left it
            values["due"] = _zh(facts.clock.due) if facts is not None and facts.clock is not None else None
            values["name"] = _recipient_name(config, entry)
            name = "notify_staff.j2"
    except (ValueError, KeyError, TypeError, OverflowError):
        raise LetterboxError(f"信件 {letter.code} 的办理记录有误，无法生成通知（运行 letterbox validate 查看原因）。") from None
    try:
        text = env.get_template(name).render(**values)
    except TemplateError as exc:
        raise LetterboxError(f"通知模板 {name} 有误：{exc.message or exc.__class__.__name__}。请改正 "
                             f"{notices.TEMPLATE_DIR}/ 下的同名文件（或删除它以使用默认模板）。") from None
    lines = text.strip("\n").split("\n")
    subject = lines[0].strip()
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines[1:])).strip("\n") + "\n"
    sms = (("code", letter.code), ("event", step_label), ("link", lookup_url or ""))
    return Message(key, subject, body, sms)


def _recipient_name(config: Config, entry: Entry) -> str:
    if entry.to == "leader" and entry.ref:
        try:
            return config.leader(entry.ref).title
        except LetterboxError:
            return entry.ref
    return config.unit_name(entry.ref) if entry.ref else ""
