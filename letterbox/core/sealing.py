"""Envelope encryption of a letter's confidential fields (articles 14(4), 15(5)).

A sealed letter keeps the writer block and (by default) its own title and body in one
`sealed` block instead of in clear:

    sealed:
      suite: age-chacha20poly1305-v1     # the cipher suite (one setting; room for a 国密 profile)
      period: "2026"                     # the retention period (its key is held outside the repository)
      fields: [writer, title, body]
      recipients: ["SHA256:…", …]        # fingerprints of the roster keys share A is wrapped to
      people: <base64 age file>          # share A, wrapped to the people who may read the letter
      retention: <base64 age file>       # share B, wrapped to the retention period's key
      data: <base64 nonce ‖ ciphertext>  # ChaCha20-Poly1305 of the fields, bound to the letter code

The data key is HKDF-SHA256(A ‖ B): reading needs a person's key (for A) *and* the period's key
(for B). Destroying a period's key makes every letter of that period unreadable in every commit
(shredding, `letterbox shred`); re-wrapping A for new holders (routing, a new office member)
changes `people`/`recipients` only, never `data`. Age (pyrage) takes SSH ed25519 public keys as
recipients, so the roster's signing keys are also the reading keys; the period keys are age
X25519 keys. Nothing here reads files: identities are handed in (`store/keys.py` finds them).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyrage
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from letterbox.core.roster import fingerprint

SUITE = "age-chacha20poly1305-v1"
SUITES = (SUITE,)  # a 国密 profile (SM2 key wrap, SM4-GCM) would be a second entry here
DEFAULT_FIELDS = ("writer", "title", "body")
SHARE_BYTES = 32
NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed block that cannot be opened: no key for it, a wrong key, or damaged data."""


@dataclass(frozen=True)
class Keyring:
    """What this user can open with: their SSH private keys (OpenSSH, unencrypted bytes) and the
    retention-period keys they hold. Plain data, so it crosses into worker processes."""

    ssh_keys: tuple[bytes, ...] = ()
    period_keys: tuple[tuple[str, str], ...] = ()  # (period, "AGE-SECRET-KEY-1…")

    def __bool__(self) -> bool:
        return bool(self.ssh_keys)

    @property
    def people(self) -> list[Any]:
        return [_ssh_identity(key) for key in self.ssh_keys]

    def period(self, name: str) -> Any | None:
        secret = dict(self.period_keys).get(name)
        return _period_identity(secret) if secret else None


@lru_cache(maxsize=64)
def _ssh_identity(key: bytes) -> Any:
    return ssh_identity(key)


@lru_cache(maxsize=256)
def _period_identity(secret: str) -> Any:
    return period_identity(secret)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except ValueError:
        raise SealError("密文不是有效的 base64。") from None


def _data_key(share_a: bytes, share_b: bytes, code: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"letterbox sealed v1 {code}".encode())
    return hkdf.derive(share_a + share_b)


def _people_recipients(keys: Sequence[str]) -> list[Any]:
    if not keys:
        raise SealError("没有可以阅读这封信的人员（名册中至少要有一位信箱办公室人员）。")
    return [pyrage.ssh.Recipient.from_str(key) for key in keys]


def seal(fields: dict[str, Any], code: str, people: Sequence[str], period: str,
         period_key: str) -> dict[str, Any]:
    """The `sealed` block for `fields` of letter `code`, readable by `people` (SSH public keys)
    together with the key of retention `period` (`period_key`: its age public key)."""
    share_a, share_b = os.urandom(SHARE_BYTES), os.urandom(SHARE_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    plain = json.dumps(fields, ensure_ascii=False, sort_keys=True).encode("utf-8")
    cipher = ChaCha20Poly1305(_data_key(share_a, share_b, code)).encrypt(nonce, plain, code.encode())
    return {
        "suite": SUITE,
        "period": period,
        "fields": list(fields),
        "recipients": sorted({fingerprint(k) for k in people}),
        "people": _b64(pyrage.encrypt(share_a, _people_recipients(people))),
        "retention": _b64(pyrage.encrypt(share_b, [pyrage.x25519.Recipient.from_str(period_key)])),
        "data": _b64(nonce + cipher),
    }


def share_a(block: dict[str, Any], keyring: Keyring) -> bytes:
    if not keyring.ssh_keys:
        raise SealError("没有阅读密钥。")
    try:
        return pyrage.decrypt(_unb64(block.get("people")), keyring.people)
    except pyrage.DecryptError:
        raise SealError("你的密钥不在这封信的收件人中（无权阅读）。") from None


def unseal(block: dict[str, Any], code: str, keyring: Keyring) -> dict[str, Any]:
    """The sealed fields; SealError saying why not (no key, not a recipient, period shredded or
    its key not held here, damaged)."""
    if block.get("suite") not in SUITES:
        raise SealError(f"未知的加密方式 {block.get('suite')!r}。")
    a = share_a(block, keyring)
    period = str(block.get("period"))
    held = keyring.period(period)
    if held is None:
        raise SealError(f"没有保存期 {period} 的密钥（已销毁，或本机未配置）。")
    try:
        b = pyrage.decrypt(_unb64(block.get("retention")), [held])
    except pyrage.DecryptError:
        raise SealError(f"保存期 {period} 的密钥与这封信不符。") from None
    raw = _unb64(block.get("data"))
    try:
        plain = ChaCha20Poly1305(_data_key(a, b, code)).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                                                code.encode())
    except Exception:  # cryptography's InvalidTag: tampered, or moved from another letter
        raise SealError("密文已损坏或被改动（或不属于这封信）。") from None
    fields = json.loads(plain.decode("utf-8"))
    if not isinstance(fields, dict):
        raise SealError("密文内容格式不对。")
    return fields


def rewrap(block: dict[str, Any], keyring: Keyring, people: Sequence[str]) -> dict[str, Any]:
    """The block with share A wrapped to `people` instead (routing, roster changes); the data,
    the period and share B are unchanged. Needs a key among the current recipients."""
    a = share_a(block, keyring)
    return {**block, "recipients": sorted({fingerprint(k) for k in people}),
            "people": _b64(pyrage.encrypt(a, _people_recipients(people)))}


def new_period_key() -> tuple[str, str]:
    """A fresh retention-period key: (secret "AGE-SECRET-KEY-1…", public "age1…")."""
    identity = pyrage.x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def period_identity(secret: str) -> Any:
    return pyrage.x25519.Identity.from_str(secret.strip())


def ssh_identity(private_key: bytes) -> Any:
    """A pyrage identity from an OpenSSH ed25519 private key file's bytes (unencrypted; see
    `store/keys.py` for passphrase-protected keys)."""
    try:
        return pyrage.ssh.Identity.from_buffer(private_key)
    except pyrage.IdentityError as exc:
        raise SealError(f"无法读取阅读密钥：{exc}") from None


def is_sealed(data: dict[str, Any]) -> bool:
    return isinstance(data.get("sealed"), dict)


def opened(data: dict[str, Any], code: str, keyring: Keyring) -> dict[str, Any]:
    """The letter data with its sealed fields in clear (the `sealed` block kept as is)."""
    return {**data, **unseal(data["sealed"], code, keyring)}


def sealed_form(data: dict[str, Any]) -> dict[str, Any]:
    """The letter data as stored: the fields of its `sealed` block removed from clear."""
    block = data.get("sealed")
    if not isinstance(block, dict):
        return data
    hidden = set(block.get("fields") or DEFAULT_FIELDS)
    return {k: v for k, v in data.items() if k not in hidden}


def readers(roster_members: Iterable[Any], units: Iterable[str], leaders: Iterable[str]) -> list[str]:
    """The SSH keys share A is wrapped to: the office (all of it), the members of every unit that
    holds or held the letter, and the leaders it was escalated to. The intake service is none of
    them: it reads only what it receives."""
    units, leaders = set(units), set(leaders)
    keys = []
    for member in roster_members:
        if (member.role in ("office", "office-admin")
                or (member.role in ("unit", "petition") and member.unit in units)
                or (member.role == "leader" and member.leader in leaders)):
            keys.append(member.key)
    return keys


ROUTING_ACTIONS = frozenset({"transfer", "instruct", "escalate", "return", "reopen"})


def held_by(history: Iterable[Any]) -> tuple[set[str], set[str]]:
    """(units, leaders) a letter's history ever sent it to: every unit a transfer or an
    instruction named (the coordinating units of a petition-bureau case included; a return keeps
    the unit that held it) and every leader it was escalated to. `readers` takes these."""
    units: set[str] = set()
    leaders: set[str] = set()
    for event in history:
        if not isinstance(event, dict):
            continue
        details = event.get("details")
        if not isinstance(details, dict):
            continue
        if event.get("action") in ("transfer", "instruct"):
            for key in ("units", "coordinating"):
                units.update(str(u) for u in details.get(key) or [] if u)
        if event.get("action") in ("escalate", "instruct") and details.get("leader"):
            leaders.add(str(details["leader"]))
        if event.get("action") == "return" and details.get("unit"):
            units.add(str(details["unit"]))
    return units, leaders


def letter_readers(roster_members: Iterable[Any], history: Iterable[Any]) -> list[str]:
    """The SSH keys a letter with this history is wrapped to (`readers` over `held_by`)."""
    units, leaders = held_by(history)
    return readers(roster_members, units, leaders)


def recipients_of(keys: Iterable[str]) -> list[str]:
    """The `recipients` list a block wrapped to `keys` records."""
    return sorted({fingerprint(k) for k in keys})


def wrapped_tags(block: dict[str, Any]) -> list[str] | None:
    """The recipient tags in the header of the `people` age file, read without any key: for an
    ssh-ed25519 recipient the tag is the first 4 bytes of the SHA-256 of its public key, so it
    shows whether `recipients` tells the truth (`recipient_tag`). None: not an age file."""
    try:
        raw = base64.b64decode(str(block.get("people")), validate=True)
    except ValueError:
        return None
    head, sep, _ = raw.partition(b"\n---")
    lines = head.split(b"\n")
    if not sep or not lines or lines[0] != b"age-encryption.org/v1":
        return None
    tags = []
    for line in lines[1:]:  # other stanzas (age's random "grease" ones) name no recipient
        parts = line.split(b" ")
        if len(parts) > 2 and parts[0] == b"->" and parts[1] == b"ssh-ed25519":
            tags.append(parts[2].decode("ascii", "replace"))
    return tags


def recipient_tag(recipient_fingerprint: str) -> str:
    """The age ssh-ed25519 stanza tag of a key with this fingerprint ("SHA256:…")."""
    digest = base64.b64decode(recipient_fingerprint.removeprefix("SHA256:") + "=")
    return base64.b64encode(digest[:4]).decode("ascii").rstrip("=")
