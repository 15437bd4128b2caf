"""The worker's delivery record: `.git/letterbox/notify.sqlite`, beside the repository, never in
a commit (docs/notify.md, "Delivery record").

One row per notification (its outbox key), in one of these states:

    pending   waiting to be sent (again): new, a transient failure waiting its back-off, or held
              (the writer's key is absent, a staff contact is missing) with the reason why
    sending   written, and synced to disk, *before* the send is attempted
    sent      the provider accepted it (its message id kept)
    failed    given up: refused for good, or too many attempts; the reason, no personal data
    unknown   found in `sending` by a later run: the worker died between the send and its record,
              so whether it went out is not known. Never sent again by itself (that could send it
              twice): staff look (`--status`) and `--retry KEY` or `--mark-sent KEY`.
    skipped   the writer opted out of this channel (`--opt-out`), or it was in the outbox before
              the worker was deployed (`--skip-existing`)

"Exactly once" is therefore: at most once by the worker's own decision, and never silently lost
— each notification ends `sent`, or stays visible as pending, failed or unknown. The providers
that accept a key get the outbox key (SMTP Message-ID, the SMS SessionContext), so a manual retry
of an `unknown` one can be recognised as the same message.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from letterbox.core.errors import LetterboxError

# The steps whose notice the writer must receive (不予受理告知, 受理, 延期, 答复, 复查复核意见):
# an opt-out stops the message, and `deadlines` asks the office to deliver the notice otherwise.
REQUIRED_FOR_WRITER = frozenset({"reject", "transfer", "grant", "reply", "approve", "review-decide"})
OPT_OUT_REASON = "来信人已退订这一渠道的通知。"
STATES = ("pending", "sending", "sent", "failed", "unknown", "skipped")
STATE_LABELS = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败",
                "unknown": "未确认（发送时中断）", "skipped": "跳过（退订或部署前）"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS notes(
  key TEXT PRIMARY KEY, path TEXT NOT NULL, letter TEXT NOT NULL, event INTEGER NOT NULL,
  action TEXT NOT NULL, audience TEXT NOT NULL, ref TEXT, via TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL DEFAULT 0, reason TEXT, message_id TEXT, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS notes_state ON notes(state, next_at);
CREATE TABLE IF NOT EXISTS optout(letter TEXT NOT NULL, via TEXT NOT NULL, at TEXT NOT NULL,
  PRIMARY KEY(letter, via));
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT);
"""


@dataclass(frozen=True)
class Row:
    key: str
    path: str
    letter: str
    event: int
    action: str
    audience: str
    ref: str | None
    via: str
    state: str
    attempts: int
    next_at: float
    reason: str | None
    message_id: str | None
    updated_at: str


DAMAGED = ("通知发送记录 .git/letterbox/notify.sqlite 已损坏，无法读取。它记录哪些通知已经发出，不能自动重建"
           "（重建会把发件箱中的通知再发一遍）：请从备份恢复这个文件；没有备份时，把它改名保存（如 "
           "notify.sqlite.damaged），运行 letterbox notify --skip-existing 把发件箱中已有的通知记为不再发送，"
           "再用 letterbox notify --retry KEY 补发确实没有送达的通知（docs/notify.md）。")


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class State:
    """The record, opened with full synchronous writes: a row says `sending` on disk before the
    provider is called, and `sent` on disk before the next notification is taken."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            self.db.close()
            from letterbox.store.cache import is_damaged

            if not is_damaged(exc):
                raise
            # the record says what was sent: never remade by itself (that could send it all again)
            raise LetterboxError(DAMAGED) from None

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- meta
    def meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        with self.tx() as db:
            db.execute("INSERT OR REPLACE INTO meta(name, value) VALUES(?, ?)", (name, value))

    # -- rows
    def add(self, rows: list[tuple[str, str, str, int, str, str, str | None, str]]) -> int:
        """New notifications (key, path, letter, event, action, audience, ref, via) as pending;
        a key already recorded is left as it is. Returns how many were new."""
        stamp = now_text()
        with self.tx() as db:
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO notes(key, path, letter, event, action, audience, ref, via,"
                           " updated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)", [(*r, stamp) for r in rows])
            return db.total_changes - before

    def row(self, key: str) -> Row | None:
        found = self.db.execute("SELECT * FROM notes WHERE key=?", (key,)).fetchone()
        return Row(*found) if found else None

    def rows(self, states: tuple[str, ...] = STATES) -> list[Row]:
        marks = ",".join("?" * len(states))
        return [Row(*r) for r in self.db.execute(
            f"SELECT * FROM notes WHERE state IN ({marks}) ORDER BY key", states)]

    def due(self, at: float | None = None) -> list[Row]:
        at = time.time() if at is None else at
        return [Row(*r) for r in self.db.execute(
            "SELECT * FROM notes WHERE state='pending' AND next_at<=? AND event>=0 ORDER BY key", (at,))]

    def counts(self) -> dict[str, int]:
        found = dict(self.db.execute("SELECT state, count(*) FROM notes GROUP BY state").fetchall())
        return {s: int(found.get(s, 0)) for s in STATES}

    def orphans(self, digests: bool = False) -> list[str]:
        """Rows a dead worker left in `sending`: now `unknown` (never sent again by themselves).
        The outbox's rows, or (`digests`) the daily digests': each kind under its own lock."""
        which = "action='digest'" if digests else "action!='digest'"  # burst alerts: the worker's
        with self.tx() as db:
            keys = [k for (k,) in db.execute(f"SELECT key FROM notes WHERE state='sending' AND {which}")]
            db.execute(f"UPDATE notes SET state='unknown', reason=?, updated_at=? WHERE state='sending' AND {which}",
                       ("发送时 notify 进程中断（如被强行结束）：无法确定是否已发出，为免重复不再自动发送。",
                        now_text()))
        return keys

    def claim(self, key: str, message_id: str) -> int:
        """`sending`, attempts + 1, on disk before the send; returns the attempt number."""
        with self.tx() as db:
            db.execute("UPDATE notes SET state='sending', attempts=attempts+1, message_id=?, updated_at=?"
                       " WHERE key=?", (message_id, now_text(), key))
            (attempts,) = db.execute("SELECT attempts FROM notes WHERE key=?", (key,)).fetchone()
        return int(attempts)

    def finish(self, key: str, state: str, reason: str | None = None, next_at: float = 0.0,
               message_id: str | None = None, undo_attempt: bool = False) -> None:
        with self.tx() as db:
            db.execute("UPDATE notes SET state=?, reason=?, next_at=?, message_id=coalesce(?, message_id),"
                       " attempts=attempts-?, updated_at=? WHERE key=?",
                       (state, reason, next_at, message_id, 1 if undo_attempt else 0, now_text(), key))

    def hold(self, key: str, reason: str, next_at: float) -> None:
        """Still pending, with the reason it cannot be sent now (no attempt counted); tried again
        in the next round (a key or a contact may have been added meanwhile)."""
        self.finish(key, "pending", reason, next_at)

    def skip_unsent(self, reason: str) -> list[str]:
        """Every notification never attempted → skipped (a first deployment on a repository
        whose outbox already holds old notifications: `--skip-existing`)."""
        with self.tx() as db:
            keys = [k for (k,) in db.execute("SELECT key FROM notes WHERE state='pending' AND attempts=0 ORDER BY key")]
            db.execute("UPDATE notes SET state='skipped', reason=?, updated_at=? WHERE state='pending' AND attempts=0",
                       (reason, now_text()))
        return keys

    def expire_digests(self, day: str) -> list[str]:
        """Earlier days' digests still pending → failed: a digest is only worth its own day."""
        with self.tx() as db:
            keys = [k for (k,) in db.execute("SELECT key FROM notes WHERE action='digest' AND state='pending'"
                                             " AND key NOT LIKE ?", (f"digest-{day}-%",))]
            db.executemany("UPDATE notes SET state='failed', reason=?, updated_at=? WHERE key=?",
                           [("过期的每日期限提醒（当天未能发出），不再发送。", now_text(), k) for k in keys])
        return keys

    def retry(self, key: str) -> bool:
        """A failed or unknown notification back to pending, its attempts counted afresh."""
        with self.tx() as db:
            done = db.execute("UPDATE notes SET state='pending', attempts=0, next_at=0, reason=?, updated_at=?"
                              " WHERE key=? AND state IN ('failed', 'unknown', 'skipped', 'pending')",
                              ("工作人员要求重新发送。", now_text(), key))
            return done.rowcount > 0

    def mark_sent(self, key: str) -> bool:
        with self.tx() as db:
            done = db.execute("UPDATE notes SET state='sent', reason=?, updated_at=? WHERE key=?"
                              " AND state IN ('unknown', 'failed', 'pending')",
                              ("工作人员确认已送达。", now_text(), key))
            return done.rowcount > 0

    # -- opt-out
    def opted_out(self, letter: str, via: str) -> bool:
        return self.db.execute("SELECT 1 FROM optout WHERE letter=? AND via=?", (letter, via)).fetchone() is not None

    def opt_out(self, letter: str, via: str) -> None:
        with self.tx() as db:
            db.execute("INSERT OR REPLACE INTO optout(letter, via, at) VALUES(?, ?, ?)", (letter, via, now_text()))

    def opt_in(self, letter: str, via: str) -> None:
        with self.tx() as db:
            db.execute("DELETE FROM optout WHERE letter=? AND via=?", (letter, via))

    def optouts(self) -> list[tuple[str, str, str]]:
        return [tuple(r) for r in self.db.execute("SELECT letter, via, at FROM optout ORDER BY letter, via")]


def state_path(git_dir: Path) -> Path:
    return git_dir / "letterbox" / "notify.sqlite"


def existing(git_dir: Path) -> State | None:
    """The record when a worker has run here; None otherwise (nothing created by a reader)."""
    path = state_path(git_dir)
    return State(path) if path.exists() else None


def attention(git_dir: Path) -> list[str]:
    """Lines for `deadlines`: failed and unconfirmed notifications, held ones, and the writers'
    required notices an opt-out stopped. [] when no worker ever ran here."""
    path = state_path(git_dir)
    if not path.exists():
        return []
    try:
        state = State(path)
    except LetterboxError as exc:  # a damaged record: said, and the table still printed
        return [exc.message]
    try:
        counts = state.counts()
        lines = []
        if counts["failed"]:
            lines.append(f"{counts['failed']} 条通知发送失败")
        if counts["unknown"]:
            lines.append(f"{counts['unknown']} 条通知发送时中断、未确认是否送达")
        held = [r for r in state.rows(("pending",)) if r.reason and r.attempts == 0]
        if held:
            lines.append(f"{len(held)} 条通知暂缓发送（如缺少密钥或联系方式）")
        stopped = [r for r in state.rows(("skipped",)) if r.action in REQUIRED_FOR_WRITER
                   and r.reason == OPT_OUT_REASON]
        if stopped:
            lines.append(f"{len(stopped)} 条应告知来信人的通知因退订未发送，请以其他方式送达告知书："
                         + "、".join(sorted({r.letter for r in stopped})[:10]))
        return lines
    finally:
        state.close()
