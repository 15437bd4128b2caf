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

Between builds, `refresh_lookup` keeps the index current in place (`letterbox lookup-refresh`,
and the intake service for its own letter): the letters changed since the last refresh (git:
the commit it recorded vs HEAD, plus uncommitted case files) are encrypted again with the
index's build salt, and only their shards are rewritten whole (all their real entries with
fresh nonces, fresh dummies; temp file + os.replace). Which letter is in which shard is kept
in a manifest outside the site (`Manifest`: `.git/letterbox/lookup/<build salt>.sqlite`). A
shard that would overflow, a changed configuration or a missing manifest means a whole new
index with a fresh build salt. Comparing two refreshes shows which shards changed (not which
entry in them, nor whether one was added, changed or removed): docs/lookup.md.

An incremental build refreshes the published index the same way (`refresh_for_build`): into
its own staging folder, on a copy of the manifest that replaces the published index's only
once the build has published its site.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import hmac
import json
import math
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from letterbox.core import codes
from letterbox.core.clock import work_calendar
from letterbox.core.config import Config
from letterbox.core.errors import LetterboxError
from letterbox.core.facts import fold
from letterbox.core.letter import Letter
from letterbox.core.process import REJECT_REASONS
from letterbox.ops import notices, reviews
from letterbox.store import loader
from letterbox.store.cache import drop_damaged, is_damaged

FORMAT = "letterbox-lookup"
VERSION = 3  # 3: 4096-byte plaintext (2: 1024 bytes; 1: no build salt)
ID_INFO = b"letterbox-lookup-id"
KEY_INFO = b"letterbox-lookup-key"
ID_BYTES = 16
BUILD_SALT_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
PLAINTEXT_BYTES = 4096  # notices in full for typical letters (docs/lookup.md)
ENTRY_BYTES = ID_BYTES + NONCE_BYTES + PLAINTEXT_BYTES + TAG_BYTES
MIN_PREFIX_BITS = 4
MAX_PREFIX_BITS = 20
MEAN_LOAD = 16  # at most this many real entries per shard on average
SHARD_LIMIT = 160_000  # bytes; a visitor downloads one shard of at most 160 KB
LOOKUP_DIR = "lookup"
PUBLIC_FILE, PUBLIC_FOLDER = 0o644, 0o755  # a refresh may run under the intake service's umask 0077

# --------------------------------------------------------------------------- derivation


def hkdf(secret: bytes, info: bytes, length: int, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)


def _expand(slow_hash: bytes, build_salt: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 (RFC 5869) for one output block, by hmac.digest: the same bytes as `hkdf`
    (tests/unit/test_lookup_hkdf.py) at a fraction of the cost for 100 000 entries."""
    prk = hmac.digest(build_salt, slow_hash, "sha256")
    return hmac.digest(prk, info + b"\x01", "sha256")[:length]


def entry_id(slow_hash: bytes, build_salt: bytes) -> bytes:
    return _expand(slow_hash, build_salt, ID_INFO, ID_BYTES)


def entry_key(slow_hash: bytes, build_salt: bytes) -> bytes:
    return _expand(slow_hash, build_salt, KEY_INFO, 32)


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


def payload_of(letter: Letter, config: Config, cal: Any, published: bool,
               root: Path | None = None) -> dict[str, Any]:
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
        "extension_unit": "日" if facts.state.mode == "petition" else "个工作日",  # petition: calendar days
        "reject_reason": REJECT_REASONS.get(facts.reject_reason or "", "") if rejected else None,
        "answered": closed.isoformat() if closed else None,
        "link": f"../letters/{page_code(letter)}/" if published else None,
        "timeline": [[item.day.isoformat(), item.label] for item in facts.timeline],
        "notices": [[n.day.isoformat(), n.title, lookup_text(n.text)] for n in notices.notices(letter, config, root, cal)],
        "review": reviews.review_offer(facts, config, cal),
    }


def page_code(letter: Letter) -> str:
    """The letter whose board page answers ``letter``: its lead while merged (合并办理: the group
    is one matter on the board, under its lead), else itself."""
    lead = None
    for event in letter.history:
        details = event.get("details") if isinstance(event, dict) else None
        if isinstance(details, dict) and event.get("action") in ("merge", "unmerge") and details.get("into"):
            lead = str(details["into"]) if event.get("action") == "merge" else None
    return lead or letter.code


def lookup_text(text: str) -> str:
    """A notice as the lookup shows it: without the salutation and the signature lines (the
    office and the day), which the page gives around it."""
    lines = text.splitlines()
    if lines and lines[0].startswith("来信人"):
        lines = lines[1:]
    return "\n".join(lines[:-2] if len(lines) > 2 else lines)


SHORTENED = "……（未完，全文请向信箱办公室索取）"


def encode_plaintext(payload: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON padded with spaces. What does not fit is shortened, never silently:
    first the middle of a long timeline is dropped; then the notices' texts, the earlier ones
    first, are cut and end with SHORTENED; then the earliest notices are left out and counted
    in `notices_omitted` (docs/lookup.md, "Notices in the lookup")."""
    data = dict(payload)
    timeline = list(data.get("timeline") or [])
    notes = [list(n) for n in data.get("notices") or []]
    while True:
        raw = json.dumps({**data, "timeline": timeline, "notices": notes}, ensure_ascii=False,
                         separators=(",", ":")).encode("utf-8")
        if len(raw) <= PLAINTEXT_BYTES:
            return raw + b" " * (PLAINTEXT_BYTES - len(raw))
        if len(timeline) > 2:
            del timeline[len(timeline) // 2]
            continue
        if _shorten(notes, len(raw) - PLAINTEXT_BYTES):
            continue
        if not notes:
            raise ValueError("lookup entry too large")
        del notes[0]  # the earliest notice goes; the page says how many are not shown
        data["notices_omitted"] = int(data.get("notices_omitted") or 0) + 1


def _shorten(notes: list[list[str]], excess: int) -> bool:
    """Cut the earliest notice text that can still be cut by about ``excess`` bytes (at least
    to its first few characters); False when none can."""
    for note in notes:
        text = note[2]
        body = text.removesuffix(SHORTENED)
        if len(body) <= 8:
            continue
        keep = max(8, len(body) - max(1, excess // 3 + 1) - (0 if text.endswith(SHORTENED) else len(SHORTENED)))
        note[2] = body[:keep] + SHORTENED
        return True
    return False


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class Record:
    """One letter for the index: its stored slow hash, iteration count and public payload
    (`code`: the letter's code, kept only in the private manifest, never in the site)."""

    slow_hash: bytes
    iterations: int
    payload: dict[str, Any]
    code: str = ""

    @functools.cached_property
    def plaintext(self) -> bytes:
        """The entry's padded plaintext (encoded once per record)."""
        return encode_plaintext(self.payload)

    def digest(self) -> str:
        """What the entry says, as one hash: the refresh rewrites an entry when this changes."""
        return hashlib.sha256(self.slow_hash + b"|%d|" % self.iterations + self.plaintext).hexdigest()


def _encrypt(record: Record, build_salt: bytes) -> tuple[bytes, bytes]:
    ident = entry_id(record.slow_hash, build_salt)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(entry_key(record.slow_hash, build_salt)).encrypt(nonce, record.plaintext, ident)
    return ident, ident + nonce + sealed


def _dummy(index: int, prefix_bits: int) -> tuple[bytes, bytes]:
    head = int.from_bytes(os.urandom(4), "big") & ((1 << (32 - prefix_bits)) - 1)
    ident = ((index << (32 - prefix_bits)) | head).to_bytes(4, "big") + os.urandom(ID_BYTES - 4)
    return ident, ident + os.urandom(ENTRY_BYTES - ID_BYTES)


def _shard_body(index: int, bits: int, per_shard: int, entries: list[tuple[bytes, bytes]]) -> bytes:
    """A shard's bytes: its real entries and fresh dummies up to `per_shard`, sorted by id."""
    entries = list(entries)
    while len(entries) < per_shard:
        entries.append(_dummy(index, bits))
    return b"".join(blob for _, blob in sorted(entries))


def _layout(sealed: Sequence[tuple[bytes, bytes]]) -> tuple[int, int, dict[int, list[tuple[bytes, bytes]]]]:
    """Prefix bits, entries per shard and the real entries of each shard."""
    bits = prefix_bits_for(len(sealed))
    while True:
        shards: dict[int, list[tuple[bytes, bytes]]] = {i: [] for i in range(1 << bits)}
        for ident, blob in sealed:
            shards[shard_index(ident, bits)].append((ident, blob))
        load = max((len(v) for v in shards.values()), default=0)
        per_shard = max(8, -(-load // 4) * 4)
        if per_shard * ENTRY_BYTES <= SHARD_LIMIT or bits >= MAX_PREFIX_BITS:
            return bits, per_shard, shards
        bits += 1


def _meta(salt_hex: str, build_salt: bytes, iterations: Iterable[int], bits: int,
          per_shard: int) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "kdf": {"algorithm": codes.HASH_ALGORITHM, "hash": "SHA-256", "salt": salt_hex,
                "salt_suffix": "letter-code", "iterations": sorted(set(iterations)),
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


def _replace(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all: a temporary file beside it, then os.replace (a reader
    sees the old bytes or the new ones, never a part)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else PUBLIC_FILE
    except OSError:
        mode = PUBLIC_FILE
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)  # the web server reads it, whatever our umask
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _install(site: Path, meta: dict[str, Any], bodies: dict[str, bytes]) -> None:
    """A whole new index into `site`: the shards into a new folder that replaces `shards/` by two
    renames, then meta.json by os.replace. Between the two a lookup that read the old meta.json
    may fetch a new shard and answer 未找到 (a few milliseconds; a second try finds it)."""
    root = site / LOOKUP_DIR
    root.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=".shards-new-", dir=root))
    for name, body in bodies.items():
        (fresh / name).write_bytes(body)
        (fresh / name).chmod(PUBLIC_FILE)  # the web server reads them, whatever our umask
    fresh.chmod(PUBLIC_FOLDER)  # mkdtemp makes it 0700
    current, old = root / "shards", None
    if current.exists():
        old = root / f".shards-old-{os.urandom(6).hex()}"
        current.rename(old)
    fresh.rename(current)
    _replace(root / "meta.json", (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode())
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@dataclass(frozen=True)
class Placed:
    """Where a record went in a written index: its id and shard."""

    record: Record
    ident: bytes
    shard: int


def _write_full(site: Path, records: Sequence[Record], salt_hex: str) -> tuple[dict[str, Any], list[Placed]]:
    build_salt = os.urandom(BUILD_SALT_BYTES)
    sealed = [_encrypt(r, build_salt) for r in records]
    bits, per_shard, shards = _layout(sealed)
    meta = _meta(salt_hex, build_salt, (r.iterations for r in records), bits, per_shard)
    bodies = {shard_name(i, bits): _shard_body(i, bits, per_shard, entries)
              for i, entries in shards.items()}
    _install(site, meta, bodies)
    placed = [Placed(r, ident, shard_index(ident, bits)) for r, (ident, _) in zip(records, sealed, strict=True)]
    return meta, placed


def write_index(site: Path, records: Sequence[Record], salt_hex: str) -> dict[str, Any]:
    """Write lookup/meta.json and every shard under `site`; return the metadata. Every call
    draws a new build salt: no id, real or dummy, is the same in two builds."""
    return _write_full(site, records, salt_hex)[0]


def record_of(letter: Letter, config: Config, cal: Any, shown: bool, root: Path | None = None) -> Record | None:
    """The index record of `letter`, or None when it has none (no stored hash of this
    algorithm, a history that does not replay, a date beyond reckoning, a hand-edited hash)."""
    record = letter.data.get("query_hash") or {}
    if not isinstance(record, dict) or record.get("algorithm") != codes.HASH_ALGORITHM:
        return None
    try:
        payload = payload_of(letter, config, cal, shown, root)
        entry = Record(bytes.fromhex(str(record["hash"])), int(record["iterations"]), payload, letter.code)
        entry.digest()  # a payload that cannot be encoded has no entry
    except (ValueError, KeyError, TypeError, OverflowError):
        return None
    return entry


def _on_site(site: Path, code: str) -> bool:
    return site.joinpath("letters", code, "index.html").is_file()


def records_of(letters: Iterable[Letter], config: Config, cal: Any, site: Path,
               published: Collection[str] | None = None, root: Path | None = None) -> list[Record]:
    """Index records of `letters`; a letter is published when its code is in `published` or,
    without it, when the built `site` has its page."""
    out = []
    for letter in letters:  # one at a time: `letters` may be a generator over 100 000 files
        page = page_code(letter)
        shown = page in published if published is not None else _on_site(site, page)
        entry = record_of(letter, config, cal, shown, root)
        if entry is not None:
            out.append(entry)
    return sorted(out, key=lambda r: r.code)


def write_lookup_index(repo: Any, site: Path, letters: Sequence[Letter] | None = None,
                       published: Collection[str] | None = None) -> dict[str, Any]:
    """The build step: the index of every letter of `repo` (`letters`, when already read) into
    `site`; `published`: the codes of the letters on the board, when the site has no pages yet.
    Also writes the index's manifest (outside the site, see `Manifest`) so that
    `refresh_lookup` can later rewrite only the shards of the letters that changed."""
    config = repo.config
    head, dirty = _head_and_dirty(repo)  # before the case files are read, when we read them
    records = records_of(repo.letters() if letters is None else letters, config,
                         work_calendar(repo.root), site, published, repo.root)
    meta, placed = _write_full(site, records, config.salt)
    # letters read by the caller may be older than HEAD now: the first refresh looks back
    Manifest.create(manifest_folder(repo), meta, placed,
                    {"commit": head, "dirty": dirty, "config": _config_digest(repo.root),
                     "margin": "1" if letters is not None else "0", "written": str(int(time.time())),
                     "payload": payload_key(repo.root), "salted": str(int(time.time()))})
    return meta


# --------------------------------------------------------------------------- the manifest


MANIFEST_FOLDER = ("letterbox", "lookup")  # under the case repository's .git
MANIFEST_KEEP = 86_400  # seconds an index's manifest is kept once no site uses it
MARGIN = 900  # seconds a refresh looks back before a build's recorded commit
CONFIG_FILES = ("letterbox.yaml", "calendar.yaml")
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree: every file is new
BULK = 1000  # more letters to look at than this: read them all at once
CHUNK = 5000  # case files read at a time when reading them all


def manifest_folder(repo: Any) -> Path:
    return Path(repo.git_dir).joinpath(*MANIFEST_FOLDER)


class Manifest:
    """Which letter has which entry in one index (the one whose build salt names the file):
    `<.git>/letterbox/lookup/<build salt>.sqlite`, a SQLite file outside the public site, in
    the case repository's git folder (never pushed, as confidential as the case files it is
    made from: it holds each letter's stored hash and public status, never a query code).

    rows: code, shard, id, slow hash, iterations, payload (JSON), digest.
    state: commit (HEAD when the letters were read), dirty (case files then uncommitted, JSON
    list of codes), config (hash of letterbox.yaml and calendar.yaml), margin ("1" when the
    letters were read before the commit was taken: a build), written (Unix time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("BEGIN")

    @staticmethod
    def path_for(folder: Path, meta: dict[str, Any]) -> Path:
        salt = str(meta.get("hkdf", {}).get("salt", ""))
        return folder / f"{salt}.sqlite"

    @classmethod
    def open(cls, folder: Path, meta: dict[str, Any]) -> Manifest | None:
        path = cls.path_for(folder, meta)
        if not re.fullmatch(r"[0-9a-f]{32}\.sqlite", path.name) or not path.is_file():
            return None
        manifest = None
        try:
            manifest = cls(path)
            manifest.state()
        except sqlite3.Error as exc:
            if manifest is not None:
                manifest.close()
            if is_damaged(exc):  # a new index is made; the damaged file is not left behind
                drop_damaged(path)
            return None
        return manifest

    @classmethod
    def create(cls, folder: Path, meta: dict[str, Any], placed: Iterable[Placed],
               state: dict[str, str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        target = cls.path_for(folder, meta)
        tmp = folder / f".{target.name}.{os.getpid()}-{os.urandom(4).hex()}.tmp"
        try:
            db = sqlite3.connect(tmp)
            db.executescript(
                "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")  # a new file, renamed when whole
            db.executescript(
                "CREATE TABLE rows (code TEXT PRIMARY KEY, shard INTEGER NOT NULL, id BLOB NOT NULL,"
                " slow BLOB NOT NULL, iterations INTEGER NOT NULL, payload TEXT NOT NULL,"
                " digest TEXT NOT NULL);"
                "CREATE INDEX rows_shard ON rows (shard);"
                "CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);")
            db.executemany("INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (_row(p) for p in placed))
            db.executemany("INSERT INTO state VALUES (?, ?)", state.items())
            db.commit()
            db.close()
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        cls.prune(folder, keep=target)

    @staticmethod
    def prune(folder: Path, keep: Path) -> None:
        """Remove the manifests of indexes no longer used (older than MANIFEST_KEEP)."""
        limit = time.time() - MANIFEST_KEEP
        for path in folder.glob("*.sqlite"):
            with contextlib.suppress(OSError):
                if path != keep and path.stat().st_mtime < limit:
                    path.unlink()

    def state(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM state").fetchall())

    def set_state(self, values: dict[str, str]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)", values.items())

    def digest(self, code: str) -> tuple[int, str] | None:
        row = self.db.execute("SELECT shard, digest FROM rows WHERE code = ?", (code,)).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def remove(self, code: str) -> None:
        self.db.execute("DELETE FROM rows WHERE code = ?", (code,))

    def put(self, placed: Placed) -> None:
        self.db.execute("INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?, ?, ?)", _row(placed))

    def count(self, shard: int) -> int:
        return int(self.db.execute("SELECT count(*) FROM rows WHERE shard = ?", (shard,)).fetchone()[0])

    def records(self, shard: int | None = None) -> list[Record]:
        query = "SELECT code, slow, iterations, payload FROM rows"
        rows = (self.db.execute(query + " WHERE shard = ? ORDER BY code", (shard,)) if shard is not None
                else self.db.execute(query + " ORDER BY code"))
        return [Record(bytes(slow), int(n), json.loads(payload), code) for code, slow, n, payload in rows]

    def iterations(self) -> set[int]:
        return {int(n) for (n,) in self.db.execute("SELECT DISTINCT iterations FROM rows")}

    def commit(self) -> None:
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("ROLLBACK")
        self.db.close()


def _row(p: Placed) -> tuple[Any, ...]:
    r = p.record
    # the payload as the entry holds it: the compact JSON of the plaintext, without its padding
    return (r.code, p.shard, p.ident, r.slow_hash, r.iterations,
            r.plaintext.rstrip(b" ").decode("utf-8"), r.digest())


# --------------------------------------------------------------------------- refresh in place


@dataclass
class Refreshed:
    """What a refresh did. mode: "current" (no entry changed), "shards" (the changed entries'
    shards rewritten in place, same build salt), "full" (a whole new index, fresh build salt:
    no manifest for the site's index, the configuration changed, or a shard would overflow) or
    "skipped" (named letters only, but the index needs every case file read: left to the next
    `lookup-refresh`); `reason` says why a full index was written or nothing was done."""

    mode: str
    checked: int = 0
    changed: int = 0
    shards: int = 0
    entries: int = 0
    reason: str = ""
    seconds: float = 0.0


def _git(repo: Any, *args: str) -> str:
    """git's output in the case repository; CalledProcessError when git fails. No optional
    lock: `git status` must not take index.lock while the intake service commits."""
    return subprocess.run(["git", "-C", str(repo.root), *args], capture_output=True, check=True,
                          text=True, encoding="utf-8",
                          env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}).stdout


def _head_and_dirty(repo: Any) -> tuple[str, str]:
    """HEAD and the codes of the case files that differ from it now (JSON list)."""
    head = repo.head()
    status = _git(repo, "status", "--porcelain=v1", "-z", "--no-renames", "--untracked-files=all",
                  "--", "cases")
    return head, json.dumps(sorted(_codes_of(p[3:] for p in status.split("\0") if len(p) > 3)))


def _codes_of(paths: Iterable[str]) -> set[str]:
    found = set()
    for path in paths:
        pure = PurePosixPath(path)
        if pure.parts[:1] == ("cases",) and pure.suffix == ".yaml":
            found.add(pure.stem)
    return found


def _config_digest(root: Path) -> str:
    h = hashlib.sha256()
    for name in CONFIG_FILES:
        path = Path(root) / name
        h.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"-") + b"\0")
    return h.hexdigest()


def _changed_since(repo: Any, state: dict[str, str]) -> set[str] | None:
    """The codes of the case files changed since the manifest's commit (committed since, or
    uncommitted now or then); None when that cannot be told (the commit is gone)."""
    recorded = state.get("commit", "")
    base = recorded
    try:
        if state.get("margin") == "1":  # a build: its letters may be older than its commit
            before = int(state.get("written", "0")) - MARGIN
            base = _git(repo, "rev-list", "-1", f"--before={before}", recorded).strip() or EMPTY_TREE
        names = _git(repo, "diff", "--name-only", "-z", "--no-renames", base, "HEAD", "--", "cases")
    except Exception:  # noqa: BLE001 - an unknown commit (history rewritten): start again
        return None
    found = _codes_of(names.split("\0"))
    found |= set(json.loads(state.get("dirty", "[]")))
    return found


def _read_meta(site: Path) -> dict[str, Any] | None:
    path = site / LOOKUP_DIR / "meta.json"
    try:
        meta = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
        return None
    return meta


@contextlib.contextmanager
def _refresh_lock(folder: Path) -> Iterator[None]:
    """One refresh at a time per case repository (processes and threads alike: flock)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "refresh.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _letter_record(repo: Any, code: str, config: Config, cal: Any, site: Path) -> Record | None:
    try:
        letter = repo.letter(code)
    except LetterboxError:  # removed, or a file that does not read: no entry (as in a build)
        return None
    if letter.code != code:
        return None
    return record_of(letter, config, cal, _on_site(site, page_code(letter)), repo.root)


def _every_letter(repo: Any, wanted: Collection[str] | None = None) -> Iterator[Letter]:
    """The letters of every case file (or of the codes `wanted`), read a chunk at a time
    without line maps: only the records are kept, not 100 000 letters at once."""
    paths = [p for p in repo.letter_paths() if wanted is None or p.stem in wanted]
    for start in range(0, len(paths), CHUNK):
        yield from loader.load(repo.root, paths[start:start + CHUNK], lines=False).letters


def _from_cases(repo: Any, site: Path, reason: str) -> Refreshed:
    """A whole new index from every case file (fresh build salt) and its manifest."""
    config = repo.config
    head, dirty = _head_and_dirty(repo)
    records = records_of(_every_letter(repo), config, work_calendar(repo.root), site, root=repo.root)
    meta, placed = _write_full(site, records, config.salt)
    Manifest.create(manifest_folder(repo), meta, placed,
                    {"commit": head, "dirty": dirty, "config": _config_digest(repo.root),
                     "margin": "0", "written": str(int(time.time())), "payload": payload_key(repo.root),
                     "salted": str(int(time.time()))})
    return Refreshed("full", checked=len(records), changed=len(records), shards=int(meta["shards"]),
                     entries=len(records), reason=reason)


def refresh_lookup(repo: Any, site: Path, letter_codes: Iterable[str] | None = None) -> Refreshed:
    """Bring the lookup index of the built `site` up to date with the case files, in place.

    `letter_codes`: the letters to look at (the intake service's own letter); None: every
    letter changed since the last refresh or build (git: the commit it recorded vs HEAD, plus
    the case files uncommitted then or now). Each changed entry is encrypted again with the
    index's build salt; only its shard is rewritten (its real entries with fresh nonces, fresh
    dummies), whole, by os.replace. A new letter takes a dummy's place; a removed one (or one
    without an entry now) leaves a dummy in its place. A whole new index (fresh build salt) is
    written when the site has no index or it has no manifest, when letterbox.yaml or
    calendar.yaml changed, when a shard would hold more real entries than `entries_per_shard`,
    or when a new iteration count appears."""
    started = time.perf_counter()
    folder = manifest_folder(repo)
    wanted = None if letter_codes is None else list(letter_codes)
    with _refresh_lock(folder):
        try:
            result = _refresh(repo, site, folder, wanted)
        except RefreshRaced:  # a build replaced the index meanwhile: once more against it
            result = _refresh(repo, site, folder, wanted)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _refresh(repo: Any, site: Path, folder: Path, letter_codes: Iterable[str] | None) -> Refreshed:
    meta = _read_meta(site)
    if meta is None:
        return _whole(repo, site, letter_codes, "网站中还没有查询索引")
    manifest = Manifest.open(folder, meta)
    if manifest is None:
        return _whole(repo, site, letter_codes, "没有这个查询索引的清单（由旧版本或另一台机器生成）")
    try:
        state = manifest.state()
        if state.get("config") != _config_digest(repo.root) or meta["kdf"]["salt"] != repo.config.salt:
            manifest.close()
            return _whole(repo, site, letter_codes, "letterbox.yaml 或 calendar.yaml 已改变")
        update: dict[str, str] = {}
        if letter_codes is None:
            head, dirty = _head_and_dirty(repo)
            wanted = _changed_since(repo, state)
            if wanted is None:
                manifest.close()
                return _from_cases(repo, site, "上次记录的提交已不在历史中")
            wanted |= set(json.loads(dirty))
            update = {"commit": head, "dirty": dirty, "margin": "0"}
        else:
            wanted = {c for c in (codes.normalise_letter_code(x) for x in letter_codes) if c}
        result = _apply(repo, site, folder, meta, manifest, sorted(wanted), update)
    finally:
        manifest.close()
    return result


def _whole(repo: Any, site: Path, letter_codes: Iterable[str] | None, reason: str) -> Refreshed:
    """A whole index from every case file; not for a few named letters (the intake service:
    reading every case file is `lookup-refresh`'s job, the timer's next run)."""
    if letter_codes is not None:
        return Refreshed("skipped", reason=reason)
    return _from_cases(repo, site, reason)


def _apply(repo: Any, site: Path, folder: Path, meta: dict[str, Any], manifest: Manifest,
           wanted: list[str], update: dict[str, str]) -> Refreshed:
    config, cal = repo.config, work_calendar(repo.root)
    bits, per_shard = int(meta["prefix_bits"]), int(meta["entries_per_shard"])
    build_salt = bytes.fromhex(str(meta["hkdf"]["salt"]))
    iterations = {int(n) for n in meta["kdf"]["iterations"]}
    touched: set[int] = set()
    changed = 0
    bulk = {x.code: x for x in _every_letter(repo, set(wanted))} if len(wanted) > BULK else None
    for code in wanted:
        if bulk is None:
            record = _letter_record(repo, code, config, cal, site)
        else:
            letter = bulk.get(code)
            record = record_of(letter, config, cal, _on_site(site, page_code(letter)), repo.root) if letter else None
        before = manifest.digest(code)
        if (before[1] if before else None) == (record.digest() if record else None):
            continue
        changed += 1
        if before:
            manifest.remove(code)
            touched.add(before[0])
        if record:
            ident = entry_id(record.slow_hash, build_salt)
            manifest.put(Placed(record, ident, shard_index(ident, bits)))
            touched.add(shard_index(ident, bits))
            iterations.add(record.iterations)
    overflow = [i for i in touched if manifest.count(i) > per_shard]
    if overflow or iterations != {int(n) for n in meta["kdf"]["iterations"]}:
        records = manifest.records()
        new_meta, placed = _write_full(site, records, config.salt)
        Manifest.create(folder, new_meta, placed, {**manifest.state(), **update, "salted": str(int(time.time()))})
        manifest.close()
        manifest.path.unlink(missing_ok=True)
        reason = "有分片超出容量" if overflow else "出现新的查询码迭代次数"
        return Refreshed("full", checked=len(wanted), changed=changed, shards=int(new_meta["shards"]),
                         entries=len(records), reason=reason)
    shards = site / LOOKUP_DIR / "shards"
    for index in sorted(touched):
        entries = [_encrypt(r, build_salt) for r in manifest.records(index)]
        _replace(shards / shard_name(index, bits), _shard_body(index, bits, per_shard, entries))
    now = _read_meta(site)
    if touched and (now is None or now["hkdf"]["salt"] != meta["hkdf"]["salt"]):
        # a build replaced the index while we wrote: our shards may have landed in the new
        # one; put the new index's own shards back, then refresh against it
        _repair(folder, site, now, {shard_name(i, bits) for i in touched})
        raise RefreshRaced
    manifest.set_state(update)
    manifest.commit()
    return Refreshed("shards" if touched else "current", checked=len(wanted), changed=changed,
                     shards=len(touched), entries=sum(manifest.count(i) for i in touched))


class RefreshRaced(Exception):
    """A build replaced the index during the refresh; refreshing again fixes it."""


def _repair(folder: Path, site: Path, meta: dict[str, Any] | None, names: set[str]) -> None:
    manifest = Manifest.open(folder, meta) if meta is not None else None
    if meta is None or manifest is None:
        return  # no manifest for the new index: the next refresh writes a whole one
    bits, per_shard = int(meta["prefix_bits"]), int(meta["entries_per_shard"])
    build_salt = bytes.fromhex(str(meta["hkdf"]["salt"]))
    shards = site / LOOKUP_DIR / "shards"
    try:
        for index in range(1 << bits):
            name = shard_name(index, bits)
            if name not in names:
                continue
            records = manifest.records(index)
            _replace(shards / name, _shard_body(index, bits, per_shard,
                                                [_encrypt(r, build_salt) for r in records]))
    finally:
        manifest.close()


def refresh_letters(root: Path, site: Path, letter_codes: Iterable[str]) -> Refreshed:
    """The intake service's hook: refresh the entries of `letter_codes` of the case repository
    at `root` in the built `site` (a build racing it: tried once more)."""
    from letterbox.store.repository import Repository

    repo = Repository(root)
    try:
        return refresh_lookup(repo, site, list(letter_codes))
    finally:
        repo.close()


# --------------------------------------------------------------------------- a build's refresh


SALT_MAX_AGE = 7 * 86_400  # seconds: an index whose salt is older than this: a build writes a whole new one
PAYLOAD_CODE = ("site_builder/lookup_index.py", "letterbox/core", "letterbox/ops/notices.py",
                "letterbox/ops/reviews.py", "letterbox/templates/notice_*")  # what a payload is made by


def payload_key(root: Path) -> str:
    """Digest of what makes an entry's payload besides its letter: the code (PAYLOAD_CODE) and
    the repository's notice templates. A build refreshes an index in place only when it is
    the one its entries were made with (`refresh_for_build`)."""
    top = Path(__file__).resolve().parent.parent
    h = hashlib.blake2b(digest_size=16)
    files = []
    for name in PAYLOAD_CODE:
        path = top / name
        files += sorted(path.parent.glob(path.name)) if "*" in name else (
            sorted(path.rglob("*")) if path.is_dir() else [path])
    templates = Path(root) / notices.TEMPLATE_DIR
    if templates.is_dir():
        files += sorted(templates.rglob("*"))
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


@dataclass
class Pending:
    """An index refreshed in place by a build in its staging folder (the published index's
    files hard-linked, the changed shards replaced) and its manifest as a copy: moved over the
    published index's manifest by `publish`, once the build has published its site; removed
    by `discard` when the build does not publish."""

    folder: Path
    target: Path  # the manifest of the published index (same build salt)
    copy: Path
    refreshed: Refreshed

    def publish(self) -> None:
        with _refresh_lock(self.folder):
            os.replace(self.copy, self.target)

    def discard(self) -> None:
        self.copy.unlink(missing_ok=True)


def refresh_for_build(repo: Any, published_site: Path, staging: Path, letters: Sequence[Letter],
                      published: Collection[str]) -> Pending | None:
    """The build's lookup index as the published one (`published_site`) refreshed in place:
    its files hard-linked into `staging`, the entries of the letters changed since its
    manifest's commit (git, as `refresh_lookup`), of the case files uncommitted then or now and
    of the letters that came on or left the board (`published`) encrypted again from
    `letters` (the build's), only their shards written anew. The published index and its
    manifest are left as they are: the manifest's refreshed copy is moved into place by
    `Pending.publish`. None (nothing written) when the index cannot be refreshed in place and
    the build writes a whole one: no published index or manifest, another configuration,
    notice templates or code, a history the manifest cannot follow, a shard that would
    overflow, a new iteration count, or a build salt drawn more than SALT_MAX_AGE ago (so
    that watching the shards links a shard to its letters for a week at most)."""
    meta = _read_meta(published_site)
    if meta is None:
        return None
    folder = manifest_folder(repo)
    key = payload_key(repo.root)
    target = Manifest.path_for(folder, meta)
    copy = folder / f".{target.name}.build-{os.getpid()}-{os.urandom(4).hex()}"
    with _refresh_lock(folder):  # no refresh of the published index while it is copied
        manifest = Manifest.open(folder, meta)
        if manifest is None:
            return None
        try:
            state = manifest.state()
            shown = {code for (code,) in manifest.db.execute(
                "SELECT code FROM rows WHERE json_extract(payload, '$.link') IS NOT NULL")}
        finally:
            manifest.close()
        salted = int(state["salted"]) if state.get("salted", "").isdigit() else 0
        if (state.get("config") != _config_digest(repo.root) or state.get("payload") != key
                or meta["kdf"]["salt"] != repo.config.salt or time.time() - salted > SALT_MAX_AGE):
            return None
        shutil.copyfile(target, copy)
        staging.mkdir(parents=True, exist_ok=True)
        shutil.copytree(published_site / LOOKUP_DIR, staging / LOOKUP_DIR, copy_function=os.link)
    try:
        head, dirty = _head_and_dirty(repo)
        wanted = _changed_since(repo, state)
        if wanted is None:
            raise _Whole
        wanted |= set(json.loads(dirty)) | (shown ^ set(published))
        pending = Pending(folder, target, copy, Refreshed("shards"))
        pending.refreshed = _apply_build(repo, staging, copy, meta, sorted(wanted), letters, published,
                                         {"commit": head, "dirty": dirty, "margin": "1",
                                          "written": str(int(time.time())), "payload": key})
        return pending
    except _Whole:
        copy.unlink(missing_ok=True)
        shutil.rmtree(staging / LOOKUP_DIR, ignore_errors=True)
        return None
    except BaseException:
        copy.unlink(missing_ok=True)
        raise


class _Whole(Exception):
    """The index cannot be refreshed in place: a whole one is written."""


def _apply_build(repo: Any, staging: Path, copy: Path, meta: dict[str, Any], wanted: list[str],
                 letters: Sequence[Letter], published: Collection[str], update: dict[str, str]) -> Refreshed:
    config, cal = repo.config, work_calendar(repo.root)
    bits, per_shard = int(meta["prefix_bits"]), int(meta["entries_per_shard"])
    build_salt = bytes.fromhex(str(meta["hkdf"]["salt"]))
    iterations = {int(n) for n in meta["kdf"]["iterations"]}
    by_code = {x.code: x for x in letters}
    shown = set(published)
    manifest = Manifest(copy)
    try:
        touched: set[int] = set()
        changed = 0
        for code in wanted:
            letter = by_code.get(code)
            record = record_of(letter, config, cal, code in shown, repo.root) if letter else None
            before = manifest.digest(code)
            if (before[1] if before else None) == (record.digest() if record else None):
                continue
            changed += 1
            if before:
                manifest.remove(code)
                touched.add(before[0])
            if record:
                ident = entry_id(record.slow_hash, build_salt)
                manifest.put(Placed(record, ident, shard_index(ident, bits)))
                touched.add(shard_index(ident, bits))
                if record.iterations not in iterations:
                    raise _Whole
        if any(manifest.count(i) > per_shard for i in touched):
            raise _Whole
        shards = staging / LOOKUP_DIR / "shards"
        for index in sorted(touched):  # replaced: the published index shares the other files
            entries = [_encrypt(r, build_salt) for r in manifest.records(index)]
            _replace(shards / shard_name(index, bits), _shard_body(index, bits, per_shard, entries))
        manifest.set_state(update)
        manifest.commit()
        return Refreshed("shards" if touched else "current", checked=len(wanted), changed=changed,
                         shards=len(touched), entries=sum(manifest.count(i) for i in touched))
    finally:
        manifest.close()


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
