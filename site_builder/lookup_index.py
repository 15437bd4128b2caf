"""Status lookup index: encrypted, sharded entries keyed by the slow query-code hash.

Built from the case files alone (the stored `query_hash`), into `<site>/lookup/`:

    lookup/meta.json          parameters (no secret; a fresh build salt every build)
    lookup/shards/<hex>.bin   every shard: the same number of fixed-size binary entries

For a letter with stored hash H (32 bytes, PBKDF2-HMAC-SHA256 of the normalised query code) and
the build salt S (16 random bytes drawn by each build, `hkdf.salt` in meta.json):

    id    = HKDF-SHA256(ikm=H, salt=S, info="letterbox-lookup-id",  L=16)
    key   = HKDF-SHA256(ikm=H, salt=S, info="letterbox-lookup-key", L=32)
    shard = first `prefix_bits` bits of id (big-endian), file name in lower-case hex
    entry = id ‖ nonce (12 random bytes) ‖ AES-256-GCM(key, nonce, plaintext, aad=id)
    plaintext = UTF-8 JSON of the public status, right-padded with spaces to PLAINTEXT_BYTES

Every shard is padded with random dummy entries (random id inside the shard's prefix, random
nonce and ciphertext bytes) to the same count, entries sorted by id. The build salt, nonces
and dummies are fresh at every build: two builds share no id, real or dummy, so comparing them
tells neither how many letters there are nor which entries changed; meta.json and the shards
differ between builds by design (the rest of the site stays byte-reproducible). The algorithm
is documented in docs/lookup.md.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from letterbox.core import codes
from letterbox.core.clock import work_calendar
from letterbox.core.config import Config
from letterbox.core.facts import fold
from letterbox.core.letter import Letter
from letterbox.core.process import REJECT_REASONS

FORMAT = "letterbox-lookup"
VERSION = 2  # 2: ids and keys salted with a fresh build salt (1: no salt)
ID_INFO = b"letterbox-lookup-id"
KEY_INFO = b"letterbox-lookup-key"
ID_BYTES = 16
BUILD_SALT_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
PLAINTEXT_BYTES = 1024
ENTRY_BYTES = ID_BYTES + NONCE_BYTES + PLAINTEXT_BYTES + TAG_BYTES
MIN_PREFIX_BITS = 4
MAX_PREFIX_BITS = 20
MEAN_LOAD = 16  # at most this many real entries per shard on average
SHARD_LIMIT = 60_000  # bytes; keeps every shard under 64 KB
LOOKUP_DIR = "lookup"

# --------------------------------------------------------------------------- derivation


def hkdf(secret: bytes, info: bytes, length: int, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)


def entry_id(slow_hash: bytes, build_salt: bytes) -> bytes:
    return hkdf(slow_hash, ID_INFO, ID_BYTES, build_salt)


def entry_key(slow_hash: bytes, build_salt: bytes) -> bytes:
    return hkdf(slow_hash, KEY_INFO, 32, build_salt)


def shard_index(ident: bytes, prefix_bits: int) -> int:
    return int.from_bytes(ident[:4], "big") >> (32 - prefix_bits)


def shard_name(index: int, prefix_bits: int) -> str:
    return f"{index:0{math.ceil(prefix_bits / 4)}x}.bin"


def prefix_bits_for(count: int) -> int:
    """Smallest prefix with at most MEAN_LOAD real entries per shard on average."""
    bits = MIN_PREFIX_BITS
    while bits < MAX_PREFIX_BITS and count > MEAN_LOAD * (1 << bits):
        bits += 1
    return bits


# --------------------------------------------------------------------------- payload


def payload_of(letter: Letter, config: Config, cal: Any, published: bool) -> dict[str, Any]:
    """What the writer sees: status, dates, units, deadline, extension, reason, timeline.

    All of it from the one fold (`letterbox.core.facts`): `answered` is the day of the closing
    that holds now (None while open, also after a reopening); the timeline holds the steps
    whose `writer_label` the step table gives. Raises ValueError (also KeyError, TypeError for
    a malformed file) when the history does not replay."""
    facts = fold(letter, config, cal)
    if facts is None:
        raise ValueError(f"{letter.code}: 没有办理记录")
    rejected = bool(facts.happened("reject"))
    closed = facts.closed
    return {
        "status": facts.status,
        "status_zh": facts.status_label,
        "received": facts.received.isoformat(),
        "units": [config.unit_name(u) for u in facts.units],
        "deadline": facts.clock.due.isoformat() if facts.clock else None,
        "deadline_provisional": bool(facts.clock and facts.clock.computation.provisional),
        "extension_days": facts.extension_days,
        "reject_reason": REJECT_REASONS.get(facts.reject_reason or "", "") if rejected else None,
        "answered": closed.isoformat() if closed else None,
        "link": f"../letters/{letter.code}/" if published else None,
        "timeline": [[item.day.isoformat(), item.label] for item in facts.timeline],
    }


def encode_plaintext(payload: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON padded with spaces; the middle of a long timeline is dropped."""
    data = dict(payload)
    timeline = list(data.get("timeline") or [])
    while True:
        raw = json.dumps({**data, "timeline": timeline}, ensure_ascii=False,
                         separators=(",", ":")).encode("utf-8")
        if len(raw) <= PLAINTEXT_BYTES:
            return raw + b" " * (PLAINTEXT_BYTES - len(raw))
        if len(timeline) <= 2:
            raise ValueError("lookup entry too large")
        del timeline[len(timeline) // 2]


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class Record:
    """One letter for the index: its stored slow hash, iteration count and public payload."""

    slow_hash: bytes
    iterations: int
    payload: dict[str, Any]


def _encrypt(record: Record, build_salt: bytes) -> tuple[bytes, bytes]:
    ident = entry_id(record.slow_hash, build_salt)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(entry_key(record.slow_hash, build_salt)).encrypt(
        nonce, encode_plaintext(record.payload), ident)
    return ident, ident + nonce + sealed


def _dummy(index: int, prefix_bits: int) -> tuple[bytes, bytes]:
    head = int.from_bytes(os.urandom(4), "big") & ((1 << (32 - prefix_bits)) - 1)
    ident = ((index << (32 - prefix_bits)) | head).to_bytes(4, "big") + os.urandom(ID_BYTES - 4)
    return ident, ident + os.urandom(ENTRY_BYTES - ID_BYTES)


def write_index(site: Path, records: Sequence[Record], salt_hex: str) -> dict[str, Any]:
    """Write lookup/meta.json and every shard under `site`; return the metadata. Every call
    draws a new build salt: no id, real or dummy, is the same in two builds."""
    build_salt = os.urandom(BUILD_SALT_BYTES)
    sealed = [_encrypt(r, build_salt) for r in records]
    bits = prefix_bits_for(len(sealed))
    while True:
        shards: dict[int, list[tuple[bytes, bytes]]] = {i: [] for i in range(1 << bits)}
        for ident, blob in sealed:
            shards[shard_index(ident, bits)].append((ident, blob))
        load = max((len(v) for v in shards.values()), default=0)
        per_shard = max(8, -(-load // 4) * 4)
        if per_shard * ENTRY_BYTES <= SHARD_LIMIT or bits >= MAX_PREFIX_BITS:
            break
        bits += 1
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "kdf": {"algorithm": codes.HASH_ALGORITHM, "hash": "SHA-256", "salt": salt_hex,
                "salt_suffix": "letter-code", "iterations": sorted({r.iterations for r in records}),
                "length": 32},
        "hkdf": {"hash": "SHA-256", "salt": build_salt.hex(), "id_info": ID_INFO.decode(),
                 "key_info": KEY_INFO.decode(), "id_bytes": ID_BYTES, "key_bytes": 32},
        "cipher": {"algorithm": "AES-256-GCM", "nonce_bytes": NONCE_BYTES, "tag_bytes": TAG_BYTES,
                   "aad": "id", "plaintext_bytes": PLAINTEXT_BYTES},
        "prefix_bits": bits,
        "shards": 1 << bits,
        "entries_per_shard": per_shard,
        "entry_bytes": ENTRY_BYTES,
        "shard_path": "shards/{index:hex, zero-padded to ceil(prefix_bits/4) digits}.bin",
    }
    root = site / LOOKUP_DIR
    if (root / "shards").exists():
        shutil.rmtree(root / "shards")
    (root / "shards").mkdir(parents=True)
    for index, entries in shards.items():
        while len(entries) < per_shard:
            entries.append(_dummy(index, bits))
        body = b"".join(blob for _, blob in sorted(entries))
        (root / "shards" / shard_name(index, bits)).write_bytes(body)
    (root / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n",
                                    encoding="utf-8")
    return meta


def records_of(letters: Iterable[Letter], config: Config, cal: Any, site: Path,
               published: Collection[str] | None = None) -> list[Record]:
    """Index records of `letters`; a letter is published when its code is in `published` or,
    without it, when the built `site` has its page."""
    out = []
    pages = site / "letters"
    for letter in sorted(letters, key=lambda x: x.code):
        record = letter.data.get("query_hash") or {}
        if record.get("algorithm") != codes.HASH_ALGORITHM:
            continue
        try:
            shown = (letter.code in published if published is not None
                     else pages.joinpath(letter.code, "index.html").is_file())
            payload = payload_of(letter, config, cal, shown)
            entry = Record(bytes.fromhex(str(record["hash"])), int(record["iterations"]), payload)
        except (ValueError, KeyError, TypeError, OverflowError):  # a history that does not
            # replay, a date beyond reckoning, a hand-edited hash: no entry, the others go on
            continue
        out.append(entry)
    return out


def write_lookup_index(repo: Any, site: Path, letters: Sequence[Letter] | None = None,
                       published: Collection[str] | None = None) -> dict[str, Any]:
    """The build step: the index of every letter of `repo` (`letters`, when already read) into
    `site`; `published`: the codes of the letters on the board, when the site has no pages yet."""
    config = repo.config
    records = records_of(repo.letters() if letters is None else letters, config,
                         work_calendar(repo.root), site, published)
    return write_index(site, records, config.salt)


# --------------------------------------------------------------------------- reading


def lookup(site: Path, letter_code: str, query_code: str) -> dict[str, Any] | None:
    """The decrypted entry for the two codes in the built `site`, or None (not found)."""
    letter = codes.normalise_letter_code(letter_code)
    query = codes.normalise_query_code(query_code)
    meta_path = site / LOOKUP_DIR / "meta.json"
    if not letter or not query or not meta_path.is_file():
        return None
    meta = json.loads(meta_path.read_text("utf-8"))
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        return None
    bits, size = int(meta["prefix_bits"]), int(meta["entry_bytes"])
    build_salt = bytes.fromhex(str(meta["hkdf"]["salt"]))
    for iterations in meta["kdf"]["iterations"]:
        slow = bytes.fromhex(codes.hash_query_code(query, letter, meta["kdf"]["salt"],
                                                   int(iterations)))
        ident = entry_id(slow, build_salt)
        path = site / LOOKUP_DIR / "shards" / shard_name(shard_index(ident, bits), bits)
        if not path.is_file():
            continue
        data = path.read_bytes()
        for start in range(0, len(data) - size + 1, size):
            if data[start:start + ID_BYTES] != ident:
                continue
            nonce = data[start + ID_BYTES:start + ID_BYTES + NONCE_BYTES]
            try:
                plain = AESGCM(entry_key(slow, build_salt)).decrypt(nonce, data[start + ID_BYTES + NONCE_BYTES:
                                                                    start + size], ident)
            except InvalidTag:
                continue
            return json.loads(plain.decode("utf-8"))
    return None
