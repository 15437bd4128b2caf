"""Idempotency receipts of the online intake, kept in `.git/letterbox-intake/receipts/`.

Idempotency. A client sends `Idempotency-Key` (header) or `idempotency_key` (field), a random
string it makes once per letter (the 写信 page uses crypto.randomUUID()). Under the lock, just
before the commit, the service writes a receipt to `.git/letterbox-intake/receipts/`:

    file name   SHA-256("letterbox-idempotency\\0" ‖ key)          (the key is not on disk)
    letter      the letter code and the stored query-code hash (already in the case file)
    sealed      the query code XOR HMAC-SHA256(key, "receipt\\0" ‖ letter code)[:12], with a tag
    fingerprint HMAC-SHA256(key, the submission's fields), to refuse a key reused for another letter

A retry with the same key finds the receipt, checks that the letter exists with that hash (a
receipt left by a commit that never landed is ignored) and unseals the query code with the key
only the client holds: the same two codes come back, and no second letter is made, also after a
crash or restart. The same key with different content (the answer was lost, then the writer
edited the form) gets 409 with the stored letter's codes, and the edit is not stored. The query code is never on disk in clear; the receipt is only as strong as
the key, so keys shorter than 16 characters are refused. Receipts are deleted after
`receipt_ttl` seconds (default one day); a retry after that would make a new letter.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from letterbox.core import codes
from letterbox.core.errors import LetterboxError
from letterbox.store.repository import Repository

RECEIPT_TTL = 24 * 3600.0
WRITER_FIELDS = ("name", "phone", "email", "address", "title", "body", "follows_up")


@dataclass(frozen=True)
class Receipt:
    letter_code: str
    query_code: str
    fingerprint: str


def _key_bytes(key: str) -> bytes:
    return key.encode("utf-8")


def fingerprint(key: str, data: dict[str, Any]) -> str:
    canonical = json.dumps({k: data.get(k) for k in WRITER_FIELDS}, ensure_ascii=False, sort_keys=True)
    return hmac.new(_key_bytes(key), b"fingerprint\0" + canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def _pad(key: str, letter_code: str) -> bytes:
    return hmac.new(_key_bytes(key), b"receipt\0" + letter_code.encode("ascii"), hashlib.sha256).digest()


class ReceiptStore:
    """Idempotency receipts in `.git/letterbox-intake/receipts/` (see the module docstring)."""

    def __init__(self, folder: Path, ttl: float = RECEIPT_TTL) -> None:
        self.folder = folder
        self.ttl = ttl

    def _path(self, key: str) -> Path:
        name = hashlib.sha256(b"letterbox-idempotency\0" + _key_bytes(key)).hexdigest()
        return self.folder / f"{name}.json"

    def put(self, key: str, letter_code: str, query_code: str, query_hash: str, fprint: str) -> None:
        raw = codes.normalise_query_code(query_code).encode("ascii")
        pad = _pad(key, letter_code)
        sealed = bytes(a ^ b for a, b in zip(raw, pad[: len(raw)], strict=True))
        tag = hmac.new(pad, b"tag\0" + sealed, hashlib.sha256).hexdigest()[:32]
        record = {"letter_code": letter_code, "query_hash": query_hash, "sealed": sealed.hex(),
                  "tag": tag, "fingerprint": fprint, "at": time.time()}
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._path(key)
        tmp = target.with_name(f".tmp-{target.name}-{secrets.token_hex(4)}")
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(record))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_dir(self.folder)

    def get(self, key: str, repo: Repository) -> Receipt | None:
        """The receipt for `key` if its letter was really committed; None otherwise."""
        path = self._path(key)
        try:
            record = json.loads(path.read_text("utf-8"))
            code = str(record["letter_code"])
            sealed = bytes.fromhex(record["sealed"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if time.time() - float(record.get("at", 0)) > self.ttl:
            return None
        pad = _pad(key, code)
        tag = hmac.new(pad, b"tag\0" + sealed, hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(tag, str(record.get("tag"))):
            return None
        try:
            stored = repo.letter(code).data.get("query_hash") or {}
        except LetterboxError:
            return None
        if not hmac.compare_digest(str(stored.get("hash")), str(record.get("query_hash"))):
            return None  # the commit never landed and the code went to another letter
        raw = bytes(a ^ b for a, b in zip(sealed, pad[: len(sealed)], strict=True)).decode("ascii")
        return Receipt(code, codes.format_query_code(raw), str(record.get("fingerprint")))

    def prune(self) -> int:
        """Delete expired receipts and half-written ones (call under the repository lock)."""
        if not self.folder.is_dir():
            return 0
        removed = 0
        limit = time.time() - self.ttl
        for path in self.folder.iterdir():
            try:
                if path.name.startswith(".tmp-") or path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
        return removed


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
