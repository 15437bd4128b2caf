"""Intake: submissions in the exchange format become letters with a letter code and query code.

Exchange format (one object, a JSON list, or JSON Lines):
    {"name", "phone", "email", "address", "title", "body", "submitted_at", "channel"?, "follows_up"?}
A submission missing the writer's real name, phone, address or e-mail is invalid and is not
kept (article 6(2)). Error messages never repeat the writer's data.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from random import Random
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from letterbox.core import codes, sealing, yamlio
from letterbox.core.config import Config
from letterbox.core.errors import LetterboxError, Problem
from letterbox.core.letter import SCHEMA_VERSION, Letter, letter_path
from letterbox.core.process import State, replay
from letterbox.ops import receipt_file
from letterbox.ops.notify import outbox
from letterbox.ops.receipt_file import ReceiptFile
from letterbox.ops.validate import Context, validate_letter
from letterbox.store import signing
from letterbox.store.repository import Actor, Repository

FIELDS = ("name", "phone", "email", "address", "title", "body", "submitted_at", "channel", "follows_up")
REQUIRED = ("name", "phone", "email", "address", "title", "body", "submitted_at")
CHANNELS = ("web", "email", "post", "hotline", "visit", "other")
LABELS = {
    "name": "姓名", "phone": "电话", "email": "电子邮箱", "address": "地址", "title": "标题",
    "body": "正文", "submitted_at": "提交时间", "channel": "来信渠道", "follows_up": "前信编码",
}
MAX_TITLE = 100
MAX_BODY = 20000


@dataclass(frozen=True)
class Submission:
    """One record read from an intake file, with where it came from."""

    source: str
    line: int | None
    record: str  # "第 3 条" etc., for messages
    data: Any


@dataclass(frozen=True)
class Accepted:
    letter_code: str
    query_code: str
    path: str
    commit: str

    def to_json(self) -> dict[str, str]:
        return {"letter_code": self.letter_code, "query_code": self.query_code, "path": self.path}


@dataclass
class IntakeReport:
    accepted: list[Accepted] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)


def _problem(sub: Submission, field_name: str, message: str) -> Problem:
    label = LABELS.get(field_name, field_name)
    return Problem(file=sub.source, line=sub.line, field=field_name,
                   message=f"{sub.record}：{label}{message}")


DEEP_JSON = "JSON 嵌套过深（括号套了上千层）：一条来信应是一个键值表，各项为文字，请检查括号。"


def read_submissions(path: Path) -> tuple[list[Submission], list[Problem]]:
    """Parse an intake file: JSON object or list, JSON Lines, or YAML."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # files saved by Windows tools start with a BOM
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(file=name, message=f"无法读取文件（{exc.__class__.__name__}）。应为 UTF-8 编码的 JSON、JSON Lines 或 YAML 文件。")]
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return _read_json_lines(name, text)
    try:
        data = json.loads(text)
    except RecursionError:  # brackets nested thousands deep: the parser gives up, so do we
        return [], [Problem(file=name, line=1, message=DEEP_JSON)]
    except json.JSONDecodeError as exc:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if path.suffix.lower() == ".json" and len(lines) > 1 and lines[0].lstrip().startswith("{"):
            return _read_json_lines(name, text)
        if path.suffix.lower() == ".json":
            return [], [Problem(file=name, line=exc.lineno, column=exc.colno,
                                message=f"JSON 格式错误（{exc.msg}）。")]
        try:
            data, _ = yamlio.load(text, name, text_only=True)
        except LetterboxError as yexc:
            return [], yexc.problems
    if isinstance(data, list):
        return [Submission(name, None, f"第 {i + 1} 条", d) for i, d in enumerate(data)], []
    return [Submission(name, None, "第 1 条", data)], []


def _read_json_lines(name: str, text: str) -> tuple[list[Submission], list[Problem]]:
    subs, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            subs.append(Submission(name, number, f"第 {number} 行", json.loads(line)))
        except RecursionError:
            problems.append(Problem(file=name, line=number, message=f"第 {number} 行：{DEEP_JSON}此条未收。"))
        except json.JSONDecodeError as exc:
            problems.append(Problem(file=name, line=number, column=exc.colno,
                                    message=f"第 {number} 行：JSON 格式错误（{exc.msg}），此条未收。"))
    return subs, problems


def _text(sub: Submission, key: str, min_len: int = 1, max_len: int = 200) -> list[Problem]:
    value = sub.data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return [_problem(sub, key, "不能为空（办法第六条第二项：须如实填写真实姓名、电话、地址、电子邮箱）。"
                         if key in ("name", "phone", "email", "address") else "不能为空。")]
    if not isinstance(value, str):
        return [_problem(sub, key, "应为文字。")]
    if not min_len <= len(value.strip()) <= max_len:
        return [_problem(sub, key, f"长度应在 {min_len} 到 {max_len} 个字之间。")]
    return []


def _check_name(sub: Submission) -> list[Problem]:
    problems = _text(sub, "name", 2, 30)
    if not problems and re.search(r"[0-9@#<>/\\]", sub.data["name"]):
        problems.append(_problem(sub, "name", "应为真实姓名，不能含数字或符号。"))
    return problems


def _check_phone(sub: Submission) -> list[Problem]:
    problems = _text(sub, "phone", 1, 30)
    if problems:
        return problems
    try:
        number = phonenumbers.parse(sub.data["phone"], "CN")
        ok = phonenumbers.is_valid_number(number)
    except phonenumbers.NumberParseException:
        ok = False
    if not ok:
        return [_problem(sub, "phone", "不是有效的电话号码：应为 11 位手机号码或带区号的固定电话（如 0372-5123456）。")]
    return []


def _check_email(sub: Submission) -> list[Problem]:
    problems = _text(sub, "email", 3, 254)
    if problems:
        return problems
    try:
        validate_email(sub.data["email"], check_deliverability=False)
    except EmailNotValidError:
        return [_problem(sub, "email", "不是有效的电子邮箱地址（应如 name@example.com）。")]
    return []


def _check_time(sub: Submission, config: Config | None = None, now: datetime | None = None) -> list[Problem]:
    value = sub.data.get("submitted_at")
    if not isinstance(value, str) or not value.strip():
        return [_problem(sub, "submitted_at", "不能为空：应为带时区的 ISO 8601 时间，如 2026-03-02T09:15:00+08:00。")]
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        return [_problem(sub, "submitted_at", "格式不对：应为带时区的 ISO 8601 时间，如 2026-03-02T09:15:00+08:00。")]
    if config is not None and (problem := config.time_problem(moment, now)):
        return [_problem(sub, "submitted_at", f" {value.strip()} {problem}（占位日期如 9999-12-31 请改为真实的提交时间）。")]
    return []


def check_submission(sub: Submission, known: frozenset[str], config: Config | None = None,
                     now: datetime | None = None) -> list[Problem]:
    """Everything wrong with one submission, before anything is written; with `config`, also a
    submission time in the future or before the mailbox existed (`Config.time_problem`)."""
    if not isinstance(sub.data, dict):
        return [Problem(file=sub.source, line=sub.line, message=f"{sub.record}：应为一个 JSON 对象（键值表）。")]
    problems = [_problem(sub, k, "：未知字段（可能是拼写错误）。可用字段：" + "、".join(FIELDS) + "。")
                for k in sub.data if k not in FIELDS]
    problems += _check_name(sub) + _check_phone(sub) + _check_email(sub)
    problems += _text(sub, "address", 4, 200) + _text(sub, "title", 1, MAX_TITLE)
    problems += _text(sub, "body", 1, MAX_BODY) + _check_time(sub, config, now)
    channel = sub.data.get("channel", "web")
    if channel not in CHANNELS:
        problems.append(_problem(sub, "channel", f"取值不允许，可选：{'、'.join(CHANNELS)}。"))
    target = sub.data.get("follows_up")
    if target is not None:
        canonical = codes.normalise_letter_code(str(target))
        if canonical not in known:
            shown = f" {canonical}" if canonical else ""  # echo only a well-formed code, never free text
            problems.append(_problem(sub, "follows_up", f"所写的前信编码{shown}在案卷库中不存在（应为如 LA-2026-00042 的信件编码）。"))
    return problems


def build_letter(repo: Repository, sub: Submission, code: str, query_code: str, actor: Actor,
                 query_hash: dict[str, Any] | None = None) -> Letter:
    config = repo.config
    d = sub.data
    submitted = datetime.fromisoformat(d["submitted_at"].strip().replace("Z", "+00:00"))
    local = submitted.astimezone(config.tz)
    stamp = local.isoformat(timespec="seconds")
    channel = d.get("channel", "web")
    target = d.get("follows_up")
    history = [{"at": stamp, "actor": actor.name, "action": "receive", "details": {"channel": channel}}]
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "letter_code": code,
        "query_hash": query_hash or codes.query_hash_record(query_code, code, config.salt, config.iterations),
        "submitted_at": stamp,
        "channel": channel,
        "writer": {k: d[k].strip() for k in ("name", "phone", "address", "email")},
        "title": d["title"].strip(),
        "body": d["body"].strip(),
        "follows_up": codes.normalise_letter_code(str(target)) if target else None,
        **replay(history).summary(),
        "history": history,
    }
    if config.encryption is not None:
        data = seal_new(config, data, str(local.year))
    return Letter(path=letter_path(code, local), data=data)


class PeriodRefused(LetterboxError):
    """No key to seal a letter of this period with: the administrator must act (not the writer)."""


def period_refusal(config: Config, period: str) -> str | None:
    """Why a letter of `period` cannot be sealed here (no public key for it, or shredded)."""
    enc = config.encryption
    if enc is None:
        return None
    if period in enc.shredded:
        return (f"{period} 年的保存期密钥已销毁（已按保存期限销毁），不能再收入该年的来信；"
                "请确认来信的提交时间。")
    if not enc.periods.get(period):
        return (f"本案卷库加密保存来信，但还没有 {period} 年的保存期密钥：来信未收，未保存任何内容。"
                f"请管理员先用 letterbox period new {period} 建立 {period} 年的保存期密钥。")
    if not sealing.readers(config.roster.members, (), ()):
        return "本案卷库加密保存来信，但名册中没有信箱办公室人员，来信无人可读：请管理员先登记名册。"
    return None


def seal_new(config: Config, data: dict[str, Any], period: str) -> dict[str, Any]:
    """A new letter's data with its confidential fields sealed for the office (public keys only:
    intake never holds a private key) and the period's key; the clear fields removed."""
    enc = config.encryption
    assert enc is not None
    if refusal := period_refusal(config, period):
        raise PeriodRefused(refusal)
    fields = {f: data[f] for f in enc.fields if f in data}
    try:
        block = sealing.seal(fields, str(data["letter_code"]), sealing.readers(config.roster.members, (), ()),
                             period, enc.periods[period])
    except (sealing.SealError, ValueError) as exc:  # a malformed key in letterbox.yaml
        raise LetterboxError(f"来信未收：无法加密保存（{exc}）。请管理员检查 letterbox.yaml 的名册与保存期密钥。") from None
    return {**{k: v for k, v in data.items() if k not in fields}, "sealed": block}


@dataclass(frozen=True)
class Prepared:
    """A query code hashed outside the lock for the letter code it expects to get.

    Used only if, under the lock, the next code in the sequence is still `letter_code` (and the
    iterations are still the configured ones); otherwise the hash is made again under the lock.
    Nothing is reserved, so a crash can leave no gap in the sequence.
    """

    letter_code: str
    query_code: str
    query_hash: dict[str, Any]


def prepare(repo: Repository, letter_code: str, rng: Random | None = None) -> Prepared:
    config = repo.config
    query_code = codes.new_query_code(rng)
    record = codes.query_hash_record(query_code, letter_code, config.salt, config.iterations)
    return Prepared(letter_code, query_code, record)


def known_codes(repo: Repository) -> frozenset[str]:
    """The codes of the letters the repository holds (by their files' names; a folder not
    changed since the last call is not listed again: `store.index.file_codes`)."""
    return repo.letter_codes()


def _links(sub: Submission) -> bool:
    """Whether the submission names an earlier letter (`follows_up`): only then do the checks
    look at the codes the repository holds (a new letter's history links to no other)."""
    return isinstance(sub.data, dict) and sub.data.get("follows_up") is not None


def intake_one(repo: Repository, sub: Submission, actor: Actor, rng: Random | None = None,
               sink: list[Accepted] | None = None, prepared: Prepared | None = None,
               before_commit: Callable[[str, str, dict[str, Any]], None] | None = None,
               after_commit: Callable[[Accepted], None] | None = None) -> Accepted:
    """Check, number, hash, write and commit one submission; raise LetterboxError if refused.

    The result goes into `sink` before signals are released, so a Ctrl-C right after the
    commit cannot lose the query code of a letter that was stored. `prepared` carries a hash
    made outside the lock; `before_commit(letter_code, query_code, query_hash)` runs under the
    lock just before the commit (the intake service records its idempotency receipt there);
    `after_commit(accepted)` runs under the lock, signals still held, right after it (a batch
    intake's receipt: ops.receipt_file).
    """
    links = _links(sub)  # else the 100 000 case files' names are not listed at all
    problems = check_submission(sub, known_codes(repo) if links else frozenset(), repo.config)
    if problems:
        raise LetterboxError(f"{sub.source} {sub.record}：来信未收，未保存任何内容。", problems)
    submitted = datetime.fromisoformat(sub.data["submitted_at"].strip().replace("Z", "+00:00"))
    year = submitted.astimezone(repo.config.tz).year
    if refusal := period_refusal(repo.config, str(year)):
        raise PeriodRefused(f"{sub.source} {sub.record}：{refusal}")
    with repo.transaction() as tx:
        code = repo.next_letter_code(year)
        if (prepared is not None and prepared.letter_code == code
                and prepared.query_hash.get("iterations") == repo.config.iterations):
            query_code, query_hash = prepared.query_code, prepared.query_hash
        else:
            query_code, query_hash = codes.new_query_code(rng), None
        letter = build_letter(repo, sub, code, query_code, actor, query_hash)
        reparsed = Letter(letter.path, *yamlio.load(letter.to_yaml(), str(letter.path)))
        bad = validate_letter(reparsed, Context(repo.config, (known_codes(repo) if links else frozenset()) | {code},
                                                repo.root))
        if bad:
            raise LetterboxError(f"{sub.source} {sub.record}：生成的案卷未通过校验，未保存。", bad)
        signing.authorise(repo.git, repo.config, letter.history[0], State())
        if before_commit is not None:
            before_commit(code, query_code, letter.data["query_hash"])
        tx.write(letter.path, letter.to_yaml())
        for path, text in outbox.files_for_step(repo.root, repo.config, reparsed, 0).items():
            tx.write(PurePosixPath(path), text)  # the writer told of the letter's code (issue 19)
        sha = tx.commit(f"{code} 收信", actor)
        accepted = Accepted(code, query_code, str(letter.path), sha)
        if sink is not None:
            sink.append(accepted)
        if after_commit is not None:
            after_commit(accepted)
        return accepted


def intake_files(repo: Repository, paths: list[Path], actor: Actor,
                 rng: Random | None = None, report: IntakeReport | None = None,
                 receipts: ReceiptFile | None = None,
                 on_accepted: Callable[[Accepted], None] | None = None) -> IntakeReport:
    """Intake every record of every file; valid ones go in, refused ones are reported.

    Pass `report` to keep what was done so far when the run is interrupted. Each letter's codes
    go to `receipts` (write-ahead, ops.receipt_file) and to `on_accepted` as its commit lands.
    """
    report = report if report is not None else IntakeReport()
    pending: list[Path] = []

    def before(code: str, query_code: str, query_hash: dict[str, Any]) -> None:
        pending.append(receipt_file.write_pending(repo, code, query_code, receipts))

    def after(accepted: Accepted) -> None:
        if on_accepted is not None:
            on_accepted(accepted)
        if receipts is not None:
            try:
                receipts.append(receipt_file.Receipt(accepted.letter_code, accepted.query_code,
                                                     accepted.path, accepted.commit))
            except OSError as exc:  # its pending record stays: the next intake writes it
                raise receipt_file.ReceiptsFailed(
                    f"回执文件 {receipts.path} 写入失败（{exc.strerror}）：{accepted.letter_code} 已保存，"
                    "其查询码已显示在上面；其余来信未处理。腾出空间后再次运行 letterbox intake --recover "
                    "会把这封信的回执补写进回执文件。") from None
        while pending:
            receipt_file.done_pending(pending.pop())

    with _stop_signals_interrupt():
        for path in paths:
            subs, problems = read_submissions(path)
            report.refused.extend(problems)
            for sub in subs:
                try:
                    intake_one(repo, sub, actor, rng, sink=report.accepted, before_commit=before,
                               after_commit=after)
                except receipt_file.ReceiptsFailed:
                    raise
                except LetterboxError as exc:
                    while pending:  # refused under the lock after its record: never committed
                        receipt_file.done_pending(pending.pop())
                    report.refused.extend(exc.problems or [Problem(file=sub.source, message=exc.message)])
    return report


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP stop a batch between letters like Ctrl-C does, so the caller still
    prints the query codes of the letters already stored (otherwise they are lost for good)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, _raise_interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
