"""Receipts of a batch intake: each letter's codes written the moment its commit lands (issue 22).

`letterbox intake FILE --receipts OUT` appends one JSON line per letter to OUT
(`{"letter_code", "query_code", "path", "commit", "at"}`), created readable by its owner only
(0600), flushed and fsynced before the next letter is taken. The query code is shown once and
only its slow hash is kept in the case file, so a code that never reached anyone is lost for
good; the window between a letter's commit and its receipt is closed by a write-ahead record:

    under the repository lock, before the commit:  .git/letterbox/intake-pending/<code>.json
                                                   (0600: the code, the receipts file, the pid)
    after the commit, still under the lock:        the receipt line appended and fsynced, then
                                                   the pending record removed

Signals are held during the transaction (store.repository), so only SIGKILL or a power cut
can stop a batch between the two. The next `letterbox intake` (or `letterbox intake --recover`)
takes the lock and finds each pending record left behind: if the letter was committed with that
code's hash, the receipt is written (to the receipts file the record names, or shown on the
console when there was none; not again when that file already holds it: the run was killed
after its receipt, before removing its record) and the record removed; if the commit never landed, the record is
simply removed (its code was never valid). All of this happens under the lock, so a pending
record seen there always belongs to a process that is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from letterbox.core import codes
from letterbox.core.errors import LetterboxError
from letterbox.store.repository import Repository

PENDING = "intake-pending"


class ReceiptsFailed(LetterboxError):
    """The receipts file could not be written after a letter's commit: the batch stops."""


@dataclass(frozen=True)
class Receipt:
    letter_code: str
    query_code: str
    path: str
    commit: str | None = None

    def line(self) -> str:
        return json.dumps({"letter_code": self.letter_code, "query_code": self.query_code,
                           "path": self.path, "commit": self.commit,
                           "at": datetime.now(UTC).isoformat(timespec="seconds")}, ensure_ascii=False)


def _write_private(path: Path, text: str) -> None:
    """`text` into a new file readable by its owner only, on disk before this returns."""
    tmp = path.with_name(f".tmp-{path.name}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ReceiptFile:
    """The receipts file a batch appends to (created 0600; an existing one is made 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise LetterboxError(f"回执文件 {path} 无法写入（{exc.strerror}）：请指定一个可写的文件，"
                                 "来信未收，未保存任何内容。") from None
        info = os.fstat(self.fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(self.fd)
            raise LetterboxError(f"回执文件 {path} 不是普通文件：请指定一个文件路径。来信未收，未保存任何内容。")
        if info.st_mode & 0o077:
            os.fchmod(self.fd, 0o600)  # query codes: readable by the person who ran the intake only

    def holds(self, receipt: Receipt) -> bool:
        """Whether the file already has this letter's receipt with this query code: a run killed
        after writing it, before removing its pending record, must not get it written twice."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return False
        with os.fdopen(fd, "rb") as f:
            for raw in f:
                try:
                    row = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(row, dict) and row.get("letter_code") == receipt.letter_code \
                        and row.get("query_code") == receipt.query_code:
                    return True
        return False

    def append(self, receipt: Receipt) -> None:
        os.write(self.fd, (receipt.line() + "\n").encode("utf-8"))
        os.fsync(self.fd)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def pending_folder(repo: Repository) -> Path:
    return repo.git_dir / "letterbox" / PENDING


def write_pending(repo: Repository, letter_code: str, query_code: str,
                  receipts: ReceiptFile | None) -> Path:
    """The write-ahead record of a letter about to be committed (call under the lock)."""
    folder = pending_folder(repo)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = folder / f"{letter_code}.json"
    _write_private(target, json.dumps({
        "letter_code": letter_code, "query_code": query_code, "pid": os.getpid(),
        "receipts": str(receipts.path) if receipts is not None else None}))
    return target


def done_pending(record: Path) -> None:
    record.unlink(missing_ok=True)


def recover(repo: Repository, fallback: ReceiptFile | None = None) -> list[tuple[Receipt, str | None]]:
    """Write the receipts a killed intake left pending (see the module docstring); returns each
    recovered receipt with the receipts file it went to (None: only shown to the caller)."""
    folder = pending_folder(repo)
    if not folder.is_dir():
        return []
    found: list[tuple[Receipt, str | None]] = []
    with repo.transaction():  # the lock: no intake is between its pending record and its receipt
        for record in sorted(folder.glob("*.json")):
            try:
                data: dict[str, Any] = json.loads(record.read_text("utf-8"))
                code, query = str(data["letter_code"]), str(data["query_code"])
            except (OSError, ValueError, KeyError, TypeError):
                record.unlink(missing_ok=True)  # half-written: its commit never started
                continue
            try:
                letter = repo.letter(code)
                stored, where = letter.data.get("query_hash") or {}, str(letter.path)
            except LetterboxError:
                stored, where = {}, ""
            if stored and codes.verify_query_code(query, code, repo.config.salt, stored):
                receipt = Receipt(code, query, where)
                target = _receipts_for(data.get("receipts"), fallback)
                written = False  # by the killed run itself, after its commit
                if target is not None:
                    try:
                        written = target.holds(receipt)
                        if not written:
                            target.append(receipt)
                    finally:
                        if target is not fallback:
                            target.close()
                if not written:
                    found.append((receipt, str(target.path) if target is not None else None))
            record.unlink(missing_ok=True)
        for stray in folder.glob(".tmp-*"):
            stray.unlink(missing_ok=True)
    return found


def _receipts_for(named: Any, fallback: ReceiptFile | None) -> ReceiptFile | None:
    if isinstance(named, str) and named:
        if fallback is not None and Path(named) == fallback.path:
            return fallback
        try:
            return ReceiptFile(Path(named))
        except LetterboxError:
            return fallback  # moved away: the current receipts file, or the console
    return fallback
