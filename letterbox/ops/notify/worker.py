"""`letterbox notify`: the worker that sends the outbox (docs/notify.md).

One run: take the worker's lock (one worker per repository), mark what a dead worker left in
`sending` as `unknown`, add the outbox files committed since the last run (read from HEAD, never
from the working tree: a file of a step still in its transaction is not a notification yet),
then send each pending notification whose time has come, one at a time:

    read the letter → the recipient's address (the writer's from the writer block, opened with
    this user's key when sealed; staff's from the credentials file) → the message → record
    `sending` (synced) → send → record `sent`, or `pending` with a back-off, `failed`, `unknown`.

Nothing of the writer's data is printed or recorded: lines name the notification key, the
audience and the channel; reasons name the channel and the provider's code.
"""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import filelock
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from jinja2 import TemplateError

from letterbox.core.clock import work_calendar
from letterbox.core.errors import LetterboxError
from letterbox.core.letter import Letter
from letterbox.core.sealing import Keyring
from letterbox.ops import notices
from letterbox.ops.notify import channels, messages, outbox
from letterbox.ops.notify import rules as rules_
from letterbox.ops.notify.credentials import Credentials
from letterbox.ops.notify.state import OPT_OUT_REASON, Row, State, state_path
from letterbox.reports.deadline_table import DeadlineRow
from letterbox.store.repository import Repository


@dataclass
class Summary:
    added: int = 0
    sent: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    bad_files: int = 0

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


class Hold(Exception):
    """Cannot be sent now, nothing attempted: stays pending with this reason."""


class Refuse(Exception):
    """Can never be sent as it stands: failed with this reason, nothing attempted."""


@contextmanager
def worker_lock(repo: Repository, digest: bool = False) -> Iterator[None]:
    """One worker per repository (and one digest run: it has a lock of its own, so the daily
    digest runs beside a `--follow` service)."""
    lock = filelock.FileLock(str(repo.git_dir / "letterbox" / ("notify-digest.lock" if digest else "notify.lock")))
    (repo.git_dir / "letterbox").mkdir(parents=True, exist_ok=True)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise LetterboxError("另一个 letterbox notify 正在这个案卷库上运行（如 systemd 服务），本次不发送。") from None
    try:
        yield
    finally:
        lock.release()


def open_state(repo: Repository) -> State:
    return State(state_path(repo.git_dir))


# -- the outbox at HEAD -------------------------------------------------------------------------


def _git(repo: Repository, *args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(["git", "--no-optional-locks", *args], cwd=repo.root, input=stdin,
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise LetterboxError(f"git {args[0]} 失败：{done.stderr.decode('utf-8', 'replace').strip()[:200]}")
    return done.stdout


def sync(repo: Repository, state: State, summary: Summary) -> None:
    """Record as pending every outbox file committed since the last sync (all of them the first
    time, or when the history was rewritten under the worker)."""
    try:
        head = repo.head()
    except ValueError:
        return  # no commit yet
    last = state.meta("head")
    if last == head:
        return
    if last and subprocess.run(["git", "merge-base", "--is-ancestor", last, head], cwd=repo.root,
                               capture_output=True).returncode == 0:
        listed = _git(repo, "diff", "--name-only", "--no-renames", "--diff-filter=A", "-z", last, head,
                      "--", f"{outbox.OUTBOX_DIR}/")
    else:
        listed = _git(repo, "ls-tree", "-r", "--name-only", "-z", head, "--", f"{outbox.OUTBOX_DIR}/")
    paths = [p.decode("utf-8", "surrogateescape") for p in listed.split(b"\0") if p]
    rows = []
    if paths:
        batch = _git(repo, "cat-file", "--batch", stdin="".join(f"{head}:{p}\n" for p in paths).encode())
        for path, text in zip(paths, _batch_texts(batch), strict=True):
            note, problems = outbox.parse(path, text) if text is not None else (None, ["unreadable"])
            if note is None or problems:
                summary.bad_files += 1  # `letterbox validate` names the file and the problem
                continue
            e = note.entry
            rows.append((note.key, path, e.letter, e.event, e.action, e.to, e.ref, e.via))
    summary.added += state.add(rows)
    state.set_meta("head", head)


def _batch_texts(data: bytes) -> Iterator[str | None]:
    at = 0
    while at < len(data):
        end = data.index(b"\n", at)
        header = data[at:end].split(b" ")
        at = end + 1
        if len(header) < 3 or header[-1] == b"missing":
            yield None
            continue
        size = int(header[2])
        body = data[at:at + size]
        at += size + 1
        try:
            yield body.decode("utf-8")
        except UnicodeDecodeError:
            yield None


# -- one notification ---------------------------------------------------------------------------


class Worker:
    def __init__(self, repo: Repository, creds: Credentials, state: State,
                 log: Callable[[str], None] = lambda line: None) -> None:
        self.repo, self.creds, self.state, self.log = repo, creds, state, log
        self.config = repo.config
        self.settings = rules_.settings(self.config)
        self.cal = work_calendar(repo.root)
        self._keyring: Keyring | None = None
        self._keyring_error: str | None = None
        self._keyring_read = False
        self.stop = False
        self.today: date | None = None  # the day of the burst check (default: today in the repository's zone)

    def keyring(self) -> Keyring | None:
        if not self._keyring_read:
            self._keyring_read = True
            try:
                self._keyring = self.repo.keyring()
            except LetterboxError as exc:
                self._keyring_error = exc.message
        return self._keyring

    def run(self, limit: int | None = None, skip_existing: bool = False) -> Summary:
        summary = Summary()
        summary.orphans = self.state.orphans()
        for key in summary.orphans:
            self.log(f"未确认：{key}（上次发送时进程中断，不再自动发送；用 --status 查看）")
        sync(self.repo, self.state, summary)
        if skip_existing:
            summary.skipped = self.state.skip_unsent("部署 notify 之前已有的通知：按 --skip-existing 未补发。")
            self.log(f"已有的 {len(summary.skipped)} 条未发通知记为跳过（不补发）。")
            return summary
        for row in self.state.due():
            if self.stop or (limit is not None and len(summary.sent) >= limit):
                break
            self.one(row, summary)
        if self.settings and self.settings.bursts and not self.stop:
            send_bursts(self, self.today or datetime.now(self.config.tz).date(), summary)
        return summary

    def one(self, row: Row, summary: Summary) -> None:
        what = f"{row.key}（{rules_.AUDIENCE_LABELS.get(row.audience, row.audience)}，{row.via}）"
        if row.audience == "writer" and self.state.opted_out(row.letter, row.via):
            self.state.finish(row.key, "skipped", OPT_OUT_REASON)
            summary.skipped.append(row.key)
            self.log(f"跳过：{what}，来信人已退订")
            return
        try:
            entry = outbox.Entry(row.letter, row.event, row.action, row.audience, row.ref, row.via)
            letter = self._letter(entry)
            address = self._address(entry, letter)
            message = messages.compose(row.key, entry, letter, self.config, self.repo.root, self.cal,
                                       self.settings.lookup_url if self.settings else None)
        except Hold as exc:
            self.state.hold(row.key, str(exc), time.time())
            summary.held.append(row.key)
            self.log(f"暂缓：{what}：{exc}")
            return
        except Refuse as exc:
            self.state.finish(row.key, "failed", str(exc))
            summary.failed.append(row.key)
            self.log(f"失败：{what}：{exc}")
            return
        except LetterboxError as exc:  # a broken template of the repository: staff fix it
            self.state.hold(row.key, exc.message, time.time())
            summary.held.append(row.key)
            self.log(f"暂缓：{what}：{exc.message}")
            return
        self.deliver(row, entry, message, summary, address)

    def deliver(self, row: Row, entry: outbox.Entry, message: channels.Message, summary: Summary,
                address: Any = None) -> None:
        """Record `sending`, send, record the outcome (the one path every message takes)."""
        what = f"{row.key}（{rules_.AUDIENCE_LABELS.get(row.audience, row.audience)}，{row.via}）"
        if address is None:
            try:
                address = self._address(entry, None)
            except (Hold, Refuse) as exc:
                self.state.hold(row.key, str(exc), time.time())
                summary.held.append(row.key)
                self.log(f"暂缓：{what}：{exc}")
                return
        sender = str((self.creds.smtp or {}).get("from") or "")
        attempt = self.state.claim(row.key, channels.message_id(row.key, sender) if row.via == "email" else row.key)
        try:
            provider_id = self._send(entry, address, message)
        except channels.NotConfigured as exc:
            self.state.finish(row.key, "pending", exc.reason, time.time(), undo_attempt=True)
            summary.held.append(row.key)
            self.log(f"暂缓：{what}：{exc.reason}")
            return
        except channels.Retry as exc:
            if attempt >= self.creds.retry.max_attempts:
                self.state.finish(row.key, "failed", f"{exc.reason}；已尝试 {attempt} 次，不再重试。")
                summary.failed.append(row.key)
                self.log(f"失败：{what}：{exc.reason}（第 {attempt} 次）")
                return
            delay = self.creds.retry.delay(attempt) * random.uniform(0.9, 1.1)
            self.state.finish(row.key, "pending", f"{exc.reason}（第 {attempt} 次，稍后重试）", time.time() + delay)
            summary.retry.append(row.key)
            self.log(f"重试：{what}：{exc.reason}，{int(delay)} 秒后再试")
            return
        except channels.Failed as exc:
            self.state.finish(row.key, "failed", exc.reason)
            summary.failed.append(row.key)
            self.log(f"失败：{what}：{exc.reason}")
            return
        except channels.InDoubt as exc:
            self.state.finish(row.key, "unknown", f"{exc.reason}：可能已发出，为免重复不再自动发送。")
            summary.unknown.append(row.key)
            self.log(f"未确认：{what}：{exc.reason}")
            return
        except LetterboxError as exc:  # a secret's environment variable not set
            self.state.finish(row.key, "pending", exc.message, time.time(),
                              undo_attempt=True)
            summary.held.append(row.key)
            self.log(f"暂缓：{what}：{exc.message}")
            return
        except Exception as exc:  # unforeseen: it may have gone out, so never again by itself
            self.state.finish(row.key, "unknown", f"发送时出现意外错误（{exc.__class__.__name__}）：可能已发出，为免重复不再自动发送。")
            summary.unknown.append(row.key)
            self.log(f"未确认：{what}：意外错误 {exc.__class__.__name__}")
            return
        self.state.finish(row.key, "sent", None, message_id=provider_id)
        summary.sent.append(row.key)
        self.log(f"已发送：{what}")

    def _letter(self, entry: outbox.Entry) -> Letter:
        try:
            letter = self.repo.letter(entry.letter, self.keyring() if entry.to == "writer" else None)
        except LetterboxError:
            raise Refuse(f"读不出信件 {entry.letter} 的案卷（运行 letterbox validate 查看原因）。") from None
        if entry.event >= len(letter.history) or letter.history[entry.event].get("action") != entry.action:
            raise Refuse(f"信件 {entry.letter} 的第 {entry.event} 条办理记录不是“{entry.action}”（运行 letterbox validate）。")
        return letter

    def _address(self, entry: outbox.Entry, letter: Letter | None) -> Any:
        if entry.to == "writer":
            assert letter is not None
            if letter.sealed and (letter.hidden or not isinstance(letter.data.get("writer"), dict)):
                why = self._keyring_error or letter.hidden or "没有找到阅读密钥"
                raise Hold(f"来信人联系方式加密保存，本机无法解密：{why}")
            writer = letter.data.get("writer") or {}
            if entry.via == "email":
                try:
                    return [validate_email(str(writer.get("email") or ""), check_deliverability=False).normalized]
                except EmailNotValidError:
                    raise Refuse("来信人没有留下有效的电子邮箱。") from None
            try:
                number = phonenumbers.parse(str(writer.get("phone") or ""), "CN")
            except phonenumbers.NumberParseException:
                number = None
            if number is None or not phonenumbers.is_valid_number(number) \
                    or phonenumbers.number_type(number) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
                raise Refuse("来信人没有留下有效的手机号码，无法发短信。")
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        ref = entry.ref or ""
        contact = self.creds.contacts.get(ref) or {}
        if entry.via == "email":
            found = contact.get("email")
            found = [found] if isinstance(found, str) else list(found or [])
            if not found:
                raise Hold(f"{self.creds.where(f'contacts.{ref}.email')} 未设置：不知道发给谁。")
            return [str(x) for x in found]
        if entry.via == "sms":
            raise Refuse("短信只发给来信人；单位、办公室和领导请用 email、dingtalk 或 wecom。")
        if not isinstance(contact.get(entry.via), dict) or not contact[entry.via].get("webhook"):
            raise Hold(f"{self.creds.where(f'contacts.{ref}.{entry.via}.webhook')} 未设置。")
        return ref

    def _send(self, entry: outbox.Entry, address: Any, message: channels.Message) -> str:
        if entry.via == "email":
            return channels.send_email(self.creds, address, message)
        if entry.via == "sms":
            return channels.send_sms(self.creds, address, message)
        return channels.send_robot(self.creds, entry.via, address, message)


@contextmanager
def graceful(worker: Worker) -> Iterator[None]:
    """SIGTERM and SIGINT (systemd's stop, Ctrl-C) let the send under way finish and be
    recorded, then the round ends: stopping the worker never leaves an `unknown` behind."""
    def stop(signum: int, frame: Any) -> None:
        worker.stop = True

    old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def follow(worker: Worker, interval: float, limit: int | None = None,
           on_round: Callable[[Summary], None] = lambda s: None) -> None:
    """Run rounds every `interval` seconds until SIGTERM or SIGINT (`graceful`)."""
    with graceful(worker):
        while not worker.stop:
            on_round(worker.run(limit))
            waited = 0.0
            while waited < interval and not worker.stop:
                time.sleep(min(0.2, interval - waited))
                waited += 0.2


# -- the daily digest ---------------------------------------------------------------------------


def digest_rows(repo: Repository, day: date, within: int) -> list[DeadlineRow]:
    """The open letters overdue or due within `within` working days on `day` (the deadline
    table's rows; sealed letters need no key: the history is in clear)."""
    from letterbox.reports.deadline_table import deadline_table, needed

    letters = repo.indexed(needed(day, 1)).loaded.letters
    table = deadline_table(letters, repo.config, work_calendar(repo.root), day)
    return [r for r in table.rows if r.overdue or (r.days_left is not None and r.days_left <= within)]


def send_digest(worker: Worker, day: date) -> Summary:
    """Today's digest to each unit with letters overdue or falling due, and to the office: one
    message per recipient and channel a day (key `digest-<day>-<code>-<via>`: a second run the
    same day sends nothing again; a failed one is retried by the next run that day)."""
    summary = Summary()
    settings = worker.settings.digest if worker.settings else None
    if settings is None:
        raise LetterboxError("letterbox.yaml 的 notify 中没有 digest 设置（如 digest: {to: [unit, office], via: email, "
                             "within: 1}），不发每日期限提醒。")
    summary.orphans = worker.state.orphans(digests=True)
    summary.failed.extend(worker.state.expire_digests(day.isoformat()))
    rows = digest_rows(worker.repo, day, settings.within)
    config = worker.config
    wanted: dict[tuple[str, str], list[DeadlineRow]] = {}
    if "unit" in settings.to:
        for row in rows:
            for unit in row.units:
                wanted.setdefault(("unit", unit), []).append(row)
    if "office" in settings.to and rows:
        wanted[("office", config.office_code)] = rows
    env = notices.environment(worker.repo.root)
    for (audience, ref), found in sorted(wanted.items()):
        for via in settings.via:
            key = f"digest-{day.isoformat()}-{ref}-{via}"
            worker.state.add([(key, "", ref, -1, "digest", audience, ref, via)])
            note = worker.state.row(key)
            if note is None or note.state != "pending" or worker.stop:
                continue
            message = _staff_message(
                worker, env, "notify_digest.j2", key, summary,
                day=f"{day.year}年{day.month}月{day.day}日", mailbox=config.mailbox_name,
                name=config.unit_name(ref), ref=ref, office=audience == "office", within=settings.within,
                rows=[{"code": r.letter_code, "due": r.deadline.isoformat() if r.deadline else "—",
                       "overdue": r.overdue, "days_left": r.days_left,
                       "units": "、".join(r.unit_names)} for r in found])
            if message is None:
                continue
            entry = outbox.Entry(ref, -1, "digest", audience, ref, via)
            worker.deliver(note, entry, message, summary)
    return summary


def _staff_message(worker: Worker, env: Any, template: str, key: str, summary: Summary,
                   **context: Any) -> channels.Message | None:
    """A message to staff from a notify template: its first line the subject, the rest the text.
    A template error holds the notification (with the template's name) and gives None."""
    try:
        text = env.get_template(template).render(key=key, **context)
    except TemplateError as exc:
        worker.state.hold(key, f"通知模板 {template} 有误：{exc.message or exc.__class__.__name__}。", time.time())
        summary.held.append(key)
        return None
    lines = text.strip("\n").split("\n")
    return channels.Message(key, lines[0].strip(), "\n".join(lines[1:]).strip("\n") + "\n")


# -- burst alerts (article 15(2)) ---------------------------------------------------------------


def burst_key(alert: Any, via: str) -> str:
    """One key per burst and channel: its kind, what it is about and its first letter, so a burst
    that grows by more letters is not told again; a burst that forms anew later is."""
    about = hashlib.sha256(f"{alert.kind}|{alert.topic}|{alert.place or ''}".encode()).hexdigest()[:10]
    return f"burst-{alert.first.isoformat()}-{about}-{alert.letters[0]}-{via}"


def send_bursts(worker: Worker, day: date, summary: Summary) -> None:
    """Tell the office of each burst the early warning finds among the letters of the window
    ending on `day` (the same alerts as `deadlines` and `analyse`), once per burst and channel
    (`burst_key`); a failed send is retried with back-off by the next rounds while the burst
    lasts. Letter codes, the place and the matter only: never a title, a text or a writer."""
    from letterbox.reports.analysis import recent_alerts  # jieba: only when bursts are asked for
    from letterbox.reports.deadline_table import needed
    from letterbox.reports.similar import kept_vectors

    assert worker.settings is not None and worker.settings.bursts is not None
    config = worker.config
    try:
        letters = worker.repo.indexed(needed(day, config.burst_window_days), worker.keyring()).loaded.letters
        with kept_vectors(worker.repo.git_dir):
            alerts = recent_alerts(letters, config, worker.cal, day)
    except LetterboxError as exc:
        worker.log(f"集中来信预警未能检查：{exc.message}")
        return
    except Exception as exc:  # one odd letter must not stop the sending of everything else
        worker.log(f"集中来信预警未能检查（{exc.__class__.__name__}），本轮其余通知照常发送。")
        return
    office = config.office_code
    env = notices.environment(worker.repo.root)
    now = time.time()
    for alert in alerts:
        for via in worker.settings.bursts.via:
            if worker.stop:
                return
            key = burst_key(alert, via)
            summary.added += worker.state.add([(key, "", office, -1, "burst", "office", office, via)])
            note = worker.state.row(key)
            if note is None or note.state != "pending" or note.next_at > now:
                continue
            message = _staff_message(
                worker, env, "notify_burst.j2", key, summary,
                mailbox=config.mailbox_name, name=config.unit_name(office), title=alert.title,
                letters=list(alert.letters), window=config.burst_window_days, min_letters=config.burst_min_letters)
            if message is None:
                continue
            worker.deliver(note, outbox.Entry(office, -1, "burst", "office", office, via), message, summary)


# -- status -------------------------------------------------------------------------------------


def status(state: State) -> dict[str, Any]:
    """Counts by state and every notification that needs a look (no personal datum: keys,
    letter codes, audience, channel, reasons)."""
    rows = [r for r in state.rows(("pending", "failed", "unknown", "skipped", "sending"))
            if r.state != "skipped" or r.reason == OPT_OUT_REASON]  # not the --skip-existing ones
    items = [{"key": r.key, "letter": r.letter, "action": r.action, "to": r.audience, "ref": r.ref,
              "via": r.via, "state": r.state, "attempts": r.attempts, "reason": r.reason,
              "updated_at": r.updated_at} for r in rows]
    return {"counts": state.counts(), "notifications": items,
            "opt_outs": [{"letter": a, "via": b, "at": c} for a, b, c in state.optouts()]}
