"""The outbox: one small YAML file per notification, written in the same commit as the step that
causes it (`files_for_step`), so a notification exists exactly when its step does.

    outbox/<YYYY>/<MM>/<letter-code>-<NNN>.yaml   (the case file's year and month folder)

    key: LA-2026-00012-003       # the idempotency key: the file's name, never reused
    letter: LA-2026-00012
    event: 4                     # the step's index in the letter's history
    action: transfer
    to: unit                     # writer | unit | office | leader
    ref: zjj                     # the unit, office or leader code; none for the writer
    via: email                   # email | sms | dingtalk | wecom

A file holds references, never a contact: the writer's address is read from the (possibly
sealed) writer block when the worker sends; staff addresses and IM robots come from the
worker's credentials file, outside the repository. `expected` recomputes what a step should
write: `check --base` and `validate` compare the files with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from letterbox.core.config import Config
from letterbox.core.errors import LetterboxError, Problem
from letterbox.core.letter import Letter
from letterbox.ops.notify import rules as rules_

OUTBOX_DIR = "outbox"
FILE = re.compile(r"^outbox/([0-9]{4})/([0-9]{2})/([A-Za-z0-9]+-[0-9]{4}-[0-9]+)-([0-9]{3,})\.yaml$")
FIELDS = ("key", "letter", "event", "action", "to", "ref", "via")


@dataclass(frozen=True)
class Entry:
    letter: str
    event: int
    action: str
    to: str
    ref: str | None
    via: str

    def identity(self) -> tuple[Any, ...]:
        return (self.letter, self.event, self.action, self.to, self.ref, self.via)


@dataclass(frozen=True)
class Notification:
    key: str
    path: str
    entry: Entry


def folder(letter_path: PurePosixPath | str) -> PurePosixPath:
    """outbox/<YYYY>/<MM> beside the case file cases/<YYYY>/<MM>/<code>.yaml."""
    parts = PurePosixPath(letter_path).parts
    return PurePosixPath(OUTBOX_DIR, parts[-3], parts[-2])


def expected(config: Config, letter: Letter, start: int) -> list[Entry]:
    """The notifications the events history[start:] cause under the configuration's rules."""
    settings = rules_.settings(config)
    if settings is None:
        return []
    out: list[Entry] = []
    for index in range(start, len(letter.history)):
        event = letter.history[index]
        if not isinstance(event, dict):
            continue
        action = str(event.get("action"))
        units = [str(u) for u in letter.data.get("units") or []]
        for rule in settings.rules_for(action):
            for ref in rules_.recipients(config, rule, event, units):
                out.extend(Entry(letter.code, index, action, rule.to, ref, via) for via in rule.via)
    return out


def existing_numbers(root: Path, letter: Letter) -> list[int]:
    where = root / folder(letter.path)
    if not where.is_dir():
        return []
    return sorted(int(p.stem.rsplit("-", 1)[1]) for p in where.glob(f"{letter.code}-*.yaml")
                  if p.stem.rsplit("-", 1)[1].isdigit())


def render(key: str, entry: Entry) -> str:
    data = {"key": key, "letter": entry.letter, "event": entry.event, "action": entry.action,
            "to": entry.to, **({"ref": entry.ref} if entry.ref is not None else {}), "via": entry.via}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def files_for_step(root: Path, config: Config, letter: Letter, start: int) -> dict[str, str]:
    """path -> text of the outbox files for the events history[start:] (numbered after the
    letter's files already there); {} without `notify:`. Call inside the step's transaction."""
    entries = expected(config, letter, start)
    if not entries:
        return {}
    numbers = existing_numbers(root, letter)
    nxt = (numbers[-1] if numbers else 0) + 1
    out = {}
    for offset, entry in enumerate(entries):
        key = f"{letter.code}-{nxt + offset:03d}"
        out[str(folder(letter.path) / f"{key}.yaml")] = render(key, entry)
    return out


def parse(path: str, text: str) -> tuple[Notification | None, list[Problem]]:
    """A file of the outbox read and checked for form: (notification, []) or (None, problems)."""
    match = FILE.match(path)
    if not match:
        return None, [Problem(file=path, message="outbox/ 下只能有通知文件（outbox/年/月/信件编码-序号.yaml）。")]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(file=path, line=mark.line + 1 if mark else None,
                              message="不是有效的 YAML，无法读取。")]
    if not isinstance(data, dict):
        return None, [Problem(file=path, message="通知文件应为映射（key、letter、event、action、to、via）。")]
    problems = []
    extra = sorted(set(map(str, data)) - set(FIELDS))
    if extra:
        problems.append(Problem(file=path, field=extra[0], message="通知文件不应有这个字段（只记引用，不记联系方式）。"))
    key, code = f"{match.group(3)}-{match.group(4)}", match.group(3)
    if data.get("key") != key:
        problems.append(Problem(file=path, field="key", message=f"key 应与文件名一致：{key}。"))
    if data.get("letter") != code:
        problems.append(Problem(file=path, field="letter", message=f"letter 应与文件名中的信件编码一致：{code}。"))
    event = data.get("event")
    if not isinstance(event, int) or isinstance(event, bool) or event < 0:
        problems.append(Problem(file=path, field="event", message="event 应为办理记录的序号（从 0 起的整数）。"))
    if data.get("to") not in rules_.AUDIENCES:
        problems.append(Problem(file=path, field="to", message=f"to 应为 {'、'.join(rules_.AUDIENCES)} 之一。"))
    if data.get("via") not in rules_.CHANNELS:
        problems.append(Problem(file=path, field="via", message=f"via 应为 {'、'.join(rules_.CHANNELS)} 之一。"))
    ref = data.get("ref")
    if (data.get("to") == "writer") != (ref is None) or (ref is not None and not isinstance(ref, str)):
        problems.append(Problem(file=path, field="ref", message="ref 写单位、办公室或领导的代码；通知来信人时不写。"))
    if problems:
        return None, problems
    entry = Entry(code, int(str(event)), str(data.get("action")), str(data["to"]), ref, str(data["via"]))
    return Notification(key, path, entry), []


def paths(root: Path) -> list[str]:
    base = root / OUTBOX_DIR
    if not base.is_dir():
        return []
    return sorted(p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file() or p.is_symlink())


def read_all(root: Path) -> Iterator[tuple[Notification | None, list[Problem]]]:
    for path in paths(root):
        try:
            text = (root / path).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            yield None, [Problem(file=path, message="无法以 UTF-8 读取。")]
            continue
        yield parse(path, text)


def outbox_problems(root: Path, config: Config, letter_of: Callable[[str], Letter | None]) -> list[Problem]:
    """validate: every outbox file of form, its letter and event there, the event's step the
    file says, and the notification one the rules then in force would have written (a rule
    removed later is a warning)."""
    problems: list[Problem] = []
    try:
        rules_.settings(config)
    except LetterboxError as exc:
        problems.append(Problem(file="letterbox.yaml", field="notify", message=exc.message))
    for note, found in read_all(root):
        problems.extend(found)
        if note is None:
            continue
        e = note.entry
        letter = letter_of(e.letter)
        if letter is None:
            problems.append(Problem(file=note.path, field="letter", message=f"案卷中没有信件 {e.letter}。"))
            continue
        if str(folder(letter.path)) != str(PurePosixPath(note.path).parent):
            problems.append(Problem(file=note.path, message=f"通知文件应在 {folder(letter.path)}/ 下（与案卷同年同月）。"))
        history = letter.history
        if e.event >= len(history) or not isinstance(history[e.event], dict) \
                or history[e.event].get("action") != e.action:
            problems.append(Problem(file=note.path, field="event", message=(
                f"信件 {e.letter} 的第 {e.event} 条办理记录不是“{e.action}”：通知与办理记录对不上。")))
            continue
        try:
            wanted = {x.identity() for x in expected(config, letter, e.event) if x.event == e.event}
        except LetterboxError:
            continue  # the configuration's own problem is reported by validate
        if e.identity() not in wanted:
            problems.append(Problem(file=note.path, severity="warning", message=(
                "按现在 letterbox.yaml 的 notify 规则，这一步不会发出这条通知（规则可能已改）。")))
    return problems
