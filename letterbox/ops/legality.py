"""Every commit since the base, one by one: was it a legal step, by someone allowed to take it?

`check --base` compares the letters at the base with those now (`ops/check.py`); this module
walks the commits between them, so that nothing done and undone in between escapes, and proves
for each:

- it is signed, the signature is valid and the signer is on the roster in force before it
  (the roster at its parent; a roster change needs an office administrator);
- it changes nothing but case files under cases/ (forms/ by the office; every other file —
  configuration, roster, calendar, schemas, CI — by an office administrator);
- a new case file enters only by registering a letter (`receive` by the intake service or the
  office), with exactly the received state;
- a changed case file keeps its writer block and its history, and each appended event may be
  taken by the signer (`core.authority`), at a time not later than the commit (nor a commit time
  later than now);
- a merge commit changes no file by hand (then it need not be signed: every change it brings
  was checked as its own commit; GitHub's merge commits are signed by GitHub's key).

Without a roster (in force before a commit) signatures and roles cannot be checked; the rest
still is, and one warning says so. Each refusal names the commit, the file, line and field, and
the rule.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import PurePosixPath

import git

from letterbox.core import sealing, yamlio
from letterbox.core.authority import role_refusal, time_refusal
from letterbox.core.config import CONFIG_FILE, Config
from letterbox.core.errors import LetterboxError, Problem
from letterbox.core.letter import Letter
from letterbox.core.process import IllegalStep, State, apply
from letterbox.core.roster import (
    ADMIN_ROLES,
    PAPER_ROLES,
    RECEIVE_ROLES,
    ROLE_LABELS,
    STEP_ROLES,
    Roster,
)
from letterbox.ops.forms import render_handling_form
from letterbox.ops.notify import outbox
from letterbox.ops.notify import rules as notify_rules
from letterbox.store import signing
from letterbox.store.loader import decode
from letterbox.store.repository import Repository

CASE_FILE = re.compile(r"^cases/[0-9]{4}/[0-9]{2}/[A-Za-z0-9-]+\.yaml$")
KEEP_FILE = "cases/.gitkeep"
FORMS_DIR = "forms/"
OUTBOX_PREFIX = "outbox/"
RECEIVED_STATE: dict[str, object] = {"status": "received", "category": None, "units": [], "mode": None, "publication": None}


SEALED_FIXED = {
    "suite": "加密方式",
    "period": "保存期",
    "fields": "加密的字段",
    "retention": "保存期密钥封装的数据密钥",
    "data": "密文",
}


def sealed_changes(old: Letter, new: Letter) -> list[tuple[tuple[str | int, ...], str]]:
    """(field, message) for each change a sealed block may never have: back to clear, or its
    cipher suite, period, fields, retention share or ciphertext changed (only `people` and
    `recipients` are re-wrapped). Shared with `check` (base against now)."""
    if not old.sealed:
        return []
    if not new.sealed:
        return [(("sealed",), "加密保存的来信不得改回明文（加密块被删除）。")]
    before, after = old.data["sealed"], new.data["sealed"]
    return [(("sealed", key), f"加密块的{label}不得修改（只能由转办或信箱办公室重新封装阅读人员）。")
            for key, label in SEALED_FIXED.items() if before.get(key) != after.get(key)]



@dataclass
class _Commit:
    sha: str
    parents: list[str]
    committed: datetime
    roster: Roster
    config: Config
    signature: signing.Signature | None  # None: no roster in force, not checked

    def who(self) -> str:
        return f"提交 {self.sha[:10]}（{self.signature.label}）" if self.signature else f"提交 {self.sha[:10]}"


def commits_since(repo: Repository, base: str) -> list[str]:
    try:
        out = repo.git.git.rev_list("--reverse", "--topo-order", f"{base}..HEAD")
    except git.GitCommandError:
        raise LetterboxError(f"找不到基准版本 {base}：请确认提交号或分支名（CI 中需要完整的 git 历史）。") from None
    return [line for line in out.splitlines() if line]


def commit_problems(repo: Repository, base: str, now: datetime | None = None) -> list[Problem]:
    """The refusals of every commit in base..HEAD, oldest first."""
    now = now or datetime.now(UTC)
    problems: list[Problem] = []
    unchecked: list[str] = []
    for sha in commits_since(repo, base):
        commit = repo.git.commit(sha)
        parents = [p.hexsha for p in commit.parents]
        if not parents:
            problems.append(Problem(file="(git)", message=f"提交 {sha[:10]} 没有上一版本，不能作为基准之后的改动。"))
            continue
        config = signing.config_at(repo.git, parents[0]) or repo.config
        roster = config.roster
        info = _Commit(sha, parents, commit.committed_datetime, roster, config,
                       signing.commit_signature(repo.git, sha, roster) if roster else None)
        if not roster:
            unchecked.append(sha[:10])
        problems.extend(_commit_problems(repo, info, now))
    if unchecked:
        problems.append(Problem(file=CONFIG_FILE, severity="warning", message=(
            f"{len(unchecked)} 个提交（{'、'.join(unchecked[:3])}{'等' if len(unchecked) > 3 else ''}）之前"
            "名册为空：这些提交的签名和办理权限没有检查。请在 letterbox.yaml 中登记名册（docs/roster.md）。")))
    return problems


def _commit_problems(repo: Repository, c: _Commit, now: datetime) -> Iterator[Problem]:
    if c.committed > now + c.config.clock_skew:
        yield Problem(file="(git)", message=f"{c.who()}：提交时间 {c.committed.isoformat()} 晚于现在，不可信。")
    if len(c.parents) > 1:  # unsigned is fine (GitHub's merge commits): it may change nothing itself
        yield from _merge_problems(repo, c)
        return
    sig = c.signature
    if sig is not None and sig.status != "good":
        reason = {"unsigned": "没有签名", "invalid": "签名无效（内容在签名后被改动，或签名损坏）",
                  "unknown-key": f"签名密钥 {sig.key_fingerprint} 不在此前的名册中"}[sig.status]
        yield Problem(file="(git)", message=f"{c.who()}：{reason}。每个提交都必须由名册中的人员用本人密钥签名"
                                              "（docs/roster.md）。")
        return  # nothing else of an unsigned commit can be attributed
    member = sig.member if sig else None
    changes = _changes(repo, c.parents[0], c.sha)
    if any(path.startswith(OUTBOX_PREFIX) for _, path in changes) or _notifies(c.config):
        yield from _outbox_problems(repo, c, changes)
    for status, path in changes:
        if path.startswith(OUTBOX_PREFIX):
            continue
        if path.startswith("cases/"):
            if path == KEEP_FILE:
                continue
            if status == "L":
                yield Problem(file=path, message=f"{c.who()}：cases/ 下只能有普通文件，不能是符号链接或子模块。")
            elif not CASE_FILE.match(path):
                yield Problem(file=path, message=f"{c.who()}：cases/ 下只能有案卷文件"
                                                 "（cases/年/月/信件编码.yaml），不能放其他文件。")
            elif status == "D":
                yield Problem(file=path, message=f"{c.who()}：案卷不得删除（不予受理或办结后应归档）。")
            elif status == "A":
                yield from _added(repo, c, path)
            else:
                yield from _changed(repo, c, path)
        elif member is not None:
            needed = PAPER_ROLES if path.startswith(FORMS_DIR) else ADMIN_ROLES
            if member.role not in needed and not _form_as_written(repo, c, path):
                what = "来信办理单" if path.startswith(FORMS_DIR) else "配置、名册、日历、格式定义和 CI 文件"
                yield Problem(file=path, message=(
                    f"{c.who()}：{what}只能由{'或'.join(ROLE_LABELS[r] for r in ROLE_LABELS if r in needed)}"
                    "修改。"))


def _notifies(config: Config) -> bool:
    try:
        return notify_rules.settings(config) is not None
    except LetterboxError:
        return False


def _outbox_problems(repo: Repository, c: _Commit, changes: list[tuple[str, str]]) -> Iterator[Problem]:
    """The outbox files a commit adds are exactly those its steps cause under the rules in force
    before it (ops/notify/outbox.py), and no outbox file is ever changed or removed (the worker
    keys its deliveries by them)."""
    wanted: list[tuple[object, ...]] = []
    for status, path in changes:
        if not CASE_FILE.match(path) or status not in ("A", "M"):
            continue
        new = _read(repo, c.sha, path)
        if new is None:
            continue
        old = _read(repo, c.parents[0], path) if status == "M" else None
        start = len(old.history) if old is not None else 0
        try:
            wanted += [e.identity() for e in outbox.expected(c.config, new, start)]
        except LetterboxError:
            continue
    found: list[tuple[object, ...]] = []
    for status, path in changes:
        if not path.startswith(OUTBOX_PREFIX):
            continue
        if status != "A":
            yield Problem(file=path, message=f"{c.who()}：通知文件一经写入不得修改或删除（发送记录以它为准）。")
            continue
        done = subprocess.run(["git", "--no-optional-locks", "cat-file", "blob", f"{c.sha}:{path}"],
                              cwd=repo.root, capture_output=True, check=False)
        note, problems = outbox.parse(path, done.stdout.decode("utf-8", "replace"))
        for problem in problems:
            yield replace(problem, message=f"{c.who()}：{problem.message}")
        if note is None:
            continue
        if note.entry.identity() in wanted:
            wanted.remove(note.entry.identity())
            found.append(note.entry.identity())
        else:
            yield Problem(file=path, message=(f"{c.who()}：这个通知文件不是本提交的办理步骤按 letterbox.yaml 的 notify "
                                              "规则应写的通知（通知只能由 letterbox 在办理时写入）。"))
    for missing in wanted:
        yield Problem(file="outbox/", message=(
            f"{c.who()}：信件 {missing[0]} 的“{missing[2]}”按 notify 规则应写通知文件"
            f"（通知{missing[3]}，{missing[5]}），提交中却没有。"))


def _form_as_written(repo: Repository, c: _Commit, path: str) -> bool:
    """The 《来信办理单》 exactly as the step taken in this commit writes it again (a leader's
    instruction, a unit's answer: ops/forms.py `FORM_ACTIONS`), by anyone who may take the step."""
    if not path.startswith(FORMS_DIR) or not path.endswith(".html"):
        return False
    code = PurePosixPath(path).stem
    letters = [p for _, p in _changes(repo, c.parents[0], c.sha) if PurePosixPath(p).stem == code
               and CASE_FILE.match(p)]
    letter = _read(repo, c.sha, letters[0]) if len(letters) == 1 else None
    event = letter.last_event("escalate") if letter is not None else None
    if letter is None or event is None or (event.get("details") or {}).get("form") != path:
        return False
    done = subprocess.run(["git", "--no-optional-locks", "cat-file", "blob", f"{c.sha}:{path}"], cwd=repo.root,
                          capture_output=True, check=False)
    try:
        return done.returncode == 0 and done.stdout.decode("utf-8") == render_handling_form(c.config, letter)
    except (LetterboxError, UnicodeDecodeError, KeyError, TypeError, ValueError):
        return False


def _changes(repo: Repository, parent: str, sha: str) -> list[tuple[str, str]]:
    """(status, path) of each file the commit changes; a symbolic link or submodule counts as
    status "L" (refused under cases/, where only plain files may be)."""
    out = repo.git.git.diff_tree("-r", "--no-renames", "--raw", "-z", parent, sha)
    parts = out.split("\0")
    changes = []
    for i in range(0, len(parts) - 1, 2):
        meta, path = parts[i], parts[i + 1]
        fields = meta.lstrip(":").split()
        if len(fields) < 5:
            continue
        new_mode, status = fields[1], fields[4][0]
        changes.append(("L" if new_mode in ("120000", "160000") else status, path))
    return changes


def _read(repo: Repository, rev: str, path: str) -> Letter | None:
    # git itself finds the blob: walking a month's tree of thousands of files in Python costs ~0.2 s
    done = subprocess.run(["git", "--no-optional-locks", "cat-file", "blob", f"{rev}:{path}"], cwd=repo.root,
                          capture_output=True, check=False)
    if done.returncode != 0:  # not in that commit
        return None
    result = decode(done.stdout, PurePosixPath(path))
    return result if isinstance(result, Letter) else None


def _at(letter: Letter, path: tuple[str | int, ...], c: _Commit, message: str) -> Problem:
    line, col = yamlio.locate(letter.lines, path)
    return Problem(file=str(letter.path), line=line, column=col, field=yamlio.path_str(path),
                   message=f"{c.who()}：{message}")


def _added(repo: Repository, c: _Commit, path: str) -> Iterator[Problem]:
    letter = _read(repo, c.sha, path)
    if letter is None:
        return  # validate names what does not read
    member = c.signature.member if c.signature else None
    if member is not None and member.role not in RECEIVE_ROLES:
        yield _at(letter, ("letter_code",), c, (
            f"新案卷只能由收信登记（letterbox intake 或网上收信服务）加入，{member.name}"
            f"（{member.role_label}）无权登记来信。"))
    history = letter.history
    if len(history) != 1 or not isinstance(history[0], dict) or history[0].get("action") != "receive":
        yield _at(letter, ("history",), c, "新案卷只能以“收信”一条办理记录进入案卷库，不能带着其他办理记录加入。")
        return
    wrong = [key for key, value in RECEIVED_STATE.items() if letter.data.get(key) != value]
    if wrong:
        yield _at(letter, (wrong[0],), c, "新案卷应处于刚收信的状态（status: received，尚未分类、转办或公开）。")
    if c.config.encryption is not None and not letter.sealed:
        yield _at(letter, ("writer",), c, "本案卷库加密保存来信，新案卷却以明文写入了来信人信息和来信内容"
                                          "（一经提交就留在 git 历史中）：应由 letterbox intake 或网上收信服务加密收信。")
    yield from _in_clear(letter, c)
    if letter.sealed and c.roster:
        wanted = sealing.recipients_of(sealing.letter_readers(c.roster.members, history))
        if sorted(str(r) for r in letter.data["sealed"].get("recipients") or ()) != wanted:
            yield _at(letter, ("sealed", "recipients"), c, (
                "新案卷只能封装给信箱办公室人员阅读（按此前的名册；收信服务自己也不能阅读）。"))
    yield from _events(letter, 0, c, State())


def _changed(repo: Repository, c: _Commit, path: str) -> Iterator[Problem]:
    new = _read(repo, c.sha, path)
    old = _read(repo, c.parents[0], path)
    if new is None or old is None:
        return  # validate names what does not read; check compares with the base
    member = c.signature.member if c.signature else None
    if new.sealed and not old.sealed:  # `letterbox encrypt`: the clear fields move into the block
        if member is not None and member.role not in ADMIN_ROLES:
            yield _at(new, ("sealed",), c, f"把明文保存的来信改为加密保存只能由信箱办公室管理员（letterbox encrypt）办理，"
                                           f"{member.name}（{member.role_label}）无权办理。")
    elif new.data.get("writer") != old.data.get("writer"):
        yield _at(new, ("writer",), c, "来信人信息不得修改（办法第十四条、第十五条：来信人信息按原件保存）。")
    for field, message in sealed_changes(old, new):
        yield _at(new, field, c, message)
    yield from _in_clear(new, c)
    old_h, new_h = old.history, new.history
    if len(new_h) < len(old_h) or new_h[: len(old_h)] != old_h:
        index = next((i for i, (a, b) in enumerate(zip(old_h, new_h, strict=False)) if a != b), len(new_h))
        yield _at(new, ("history", min(index, max(len(new_h) - 1, 0))), c,
                  f"办理记录只能追加，不能改写或删除：第 {index + 1} 条被改动。")
        return
    if old.sealed and new.sealed:
        yield from _rewrapped(old, new, c, len(old_h))
    state = State()
    try:
        for event in old_h:
            state = apply(state, event)
    except IllegalStep:
        return  # the old file's own problem
    yield from _events(new, len(old_h), c, state)


def _in_clear(letter: Letter, c: _Commit) -> Iterator[Problem]:
    """A sealed letter's fields written in clear as well (they would stay in the git history)."""
    if letter.sealed:
        for name in letter.data["sealed"].get("fields") or ():
            if name in letter.data:
                yield _at(letter, (str(name),), c, f"字段 {name} 已加密保存，提交中却又以明文写入（一经提交就留在 git 历史中）。")


def _rewrapped(old: Letter, new: Letter, c: _Commit, start: int) -> Iterator[Problem]:
    """Who may re-wrap a sealed letter's data key (`people`, `recipients`): the office, or the
    routing step taken in the same commit (a leader's instruction too), and then exactly to the
    readers the history names (core/sealing.py `letter_readers`, by the roster in force)."""
    before, after = old.data["sealed"], new.data["sealed"]
    if before.get("people") == after.get("people") and before.get("recipients") == after.get("recipients"):
        return
    member = c.signature.member if c.signature else None
    if member is None or member.role in STEP_ROLES["office"]:
        return
    routed = any(isinstance(e, dict) and e.get("action") in sealing.ROUTING_ACTIONS for e in new.history[start:])
    if not routed:
        yield _at(new, ("sealed", "recipients"), c, (
            f"加密来信的阅读人员只能由信箱办公室或随转办步骤重新封装，{member.name}（{member.role_label}）"
            "不能自行更改（名册规则）。"))
        return
    wanted = sealing.recipients_of(sealing.letter_readers(c.roster.members, new.history))
    if sorted(str(r) for r in after.get("recipients") or ()) != wanted:
        yield _at(new, ("sealed", "recipients"), c, (
            "重新封装后的阅读人员与办理记录不符：应为信箱办公室、办理过这封信的单位和呈送的领导（按此前的名册）。"))


def _events(letter: Letter, start: int, c: _Commit, state: State) -> Iterator[Problem]:
    """Each event from `start` on: allowed for the signer, at a believable time."""
    sig = c.signature
    history = letter.history
    for i in range(start, len(history)):
        event = history[i]
        if not isinstance(event, dict):
            return
        member = sig.member if sig else None
        if member is not None:
            refusal = role_refusal(member, event, state, c.config, history[:i])
            if refusal:
                field, message = refusal
                yield _at(letter, ("history", i, *field.split(".")), c, message)
        timing = time_refusal(member, event, c.committed, c.config)
        if timing:
            yield _at(letter, ("history", i, "at"), c, timing)
        try:
            state = apply(state, event)
        except IllegalStep:
            return  # validate names it


def _merge_problems(repo: Repository, c: _Commit) -> Iterator[Problem]:
    """A merge brings in the other side's commits (checked one by one); it changes nothing itself."""
    first, *others = c.parents
    bases = {other: repo.git.git.merge_base(first, other).strip() for other in others}
    for _status, path in _changes(repo, first, c.sha):
        mine = _blob(repo, c.sha, path)
        # brought in from a side that changed it since the fork (not the other side's old copy)
        if all(_blob(repo, other, path) != mine or _blob(repo, bases[other], path) == mine
               for other in others):
            yield Problem(file=path, message=(f"{c.who()}：合并提交改动了文件（两边都改了同一文件，或合并时手工修改）。"
                                              "请先把分支变基到最新版本再合并，让每处改动都是签名的办理步骤。"))


def _blob(repo: Repository, rev: str, path: str) -> str | None:
    try:
        return (repo.git.commit(rev).tree / path).hexsha
    except KeyError:
        return None
