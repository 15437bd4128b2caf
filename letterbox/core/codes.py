"""Letter codes (LA-2026-00042) and query codes (7KQ4-M2XD-9PW3) with their slow hash.

Query-code hash (documented in docs/lookup.md so another implementation can follow it):
    normalised = query code upper-cased, spaces and dashes removed
    salt       = bytes.fromhex(repository salt) + letter_code.encode("ascii")
    hash       = PBKDF2-HMAC-SHA256(normalised.encode("ascii"), salt, iterations, 32 bytes)
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date
from random import Random

# No 0/O, 1/I/L: 31 symbols, 12 symbols per code = 59.4 bits of entropy.
QUERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_LENGTH = 12
QUERY_GROUP = 4
HASH_ALGORITHM = "pbkdf2-sha256"

LETTER_CODE_RE = re.compile(r"^(?P<prefix>[A-Z]{2,6})-(?P<year>[0-9]{4})-(?P<seq>[0-9]{5})$")


def letter_code(prefix: str, year: int, seq: int) -> str:
    if not 1 <= seq <= 99999:
        raise ValueError(f"sequence {seq} out of range")
    return f"{prefix}-{year:04d}-{seq:05d}"


def parse_letter_code(code: str) -> tuple[str, int, int] | None:
    m = LETTER_CODE_RE.match(code.strip().upper())
    if not m:
        return None
    return m["prefix"], int(m["year"]), int(m["seq"])


def received_before(earlier: str, later: str, earlier_day: date | None = None,
                    later_day: date | None = None) -> bool:
    """True when letter ``earlier`` was received before letter ``later``: a link (a follow-up's
    earlier letter, the letter a duplicate or an already-answered rejection names) may only
    point back in time. With both letters' days of receipt (their submitted_at, local), by day
    first, then by code; without them by code alone (article 6: the year, then the number
    within it; the order of intake, which a batch of paper letters entered late does not
    follow). Day then code is also the order `letterbox similar` calls earlier. False when
    either is not a letter code."""
    a, b = parse_letter_code(earlier), parse_letter_code(later)
    if a is None or b is None:
        return False
    if earlier_day is not None and later_day is not None and earlier_day != later_day:
        return earlier_day < later_day
    return (a[1], a[2]) < (b[1], b[2])


def normalise_letter_code(code: str) -> str:
    """Accept `la-2026-00042`, ` LA202600042 ` and the like; return the canonical form or ''."""
    raw = re.sub(r"[\s\-－—_]", "", code).upper()
    m = re.fullmatch(r"([A-Z]{2,6})([0-9]{4})([0-9]{5})", raw)
    return f"{m[1]}-{m[2]}-{m[3]}" if m else ""


def new_query_code(rng: Random | None = None) -> str:
    """A fresh query code, grouped for reading. rng is only for deterministic demo data."""
    pick = rng.choice if rng is not None else secrets.choice
    raw = "".join(pick(QUERY_ALPHABET) for _ in range(QUERY_LENGTH))
    return format_query_code(raw)


def format_query_code(raw: str) -> str:
    return "-".join(raw[i : i + QUERY_GROUP] for i in range(0, len(raw), QUERY_GROUP))


def normalise_query_code(code: str) -> str:
    """Upper-case, without spaces or dashes; '' when it cannot be a query code."""
    raw = re.sub(r"[\s\-－—_]", "", code).upper()
    if len(raw) != QUERY_LENGTH or any(c not in QUERY_ALPHABET for c in raw):
        return ""
    return raw


def hash_query_code(query_code: str, letter_code: str, salt_hex: str, iterations: int) -> str:
    normalised = normalise_query_code(query_code)
    if not normalised:
        raise ValueError("not a query code")
    salt = bytes.fromhex(salt_hex) + letter_code.encode("ascii")
    return hashlib.pbkdf2_hmac("sha256", normalised.encode("ascii"), salt, iterations, 32).hex()


def query_hash_record(query_code: str, letter_code: str, salt_hex: str, iterations: int) -> dict:
    return {
        "algorithm": HASH_ALGORITHM,
        "iterations": iterations,
        "hash": hash_query_code(query_code, letter_code, salt_hex, iterations),
    }


def hash_tag(record: dict) -> str:
    """A short digest of a stored query-code hash: a `reissue` event names the hash it put in
    place with it, so `validate` and `check` can tell a reissue from a hand edit of `query_hash`."""
    return hashlib.sha256(str(record.get("hash", "")).encode("ascii", "replace")).hexdigest()[:16]


def verify_query_code(query_code: str, letter_code: str, salt_hex: str, record: dict) -> bool:
    try:
        digest = hash_query_code(query_code, letter_code, salt_hex, int(record["iterations"]))
    except ValueError:
        return False
    return secrets.compare_digest(digest, str(record["hash"]))
