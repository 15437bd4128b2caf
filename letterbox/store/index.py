"""The letters index: what the readers filter on, per case file, kept by git blob id.

`deadlines`, `list --status`, `report` need a few hundred of 100 000 letters: the open ones,
those with events in a recent window, one status. Reading and parsing every case file to find
them costs a minute. This index keeps, in `.git/letterbox/letters.sqlite` (beside validate's
kept findings; never committed), one row per case file path with the file's git blob id
(`store.blobs`): the letter code, its status (as `list` shows it), whether it is open, whether
its history folds, the day of its last event, submission time, category, units, holders and
the code its `follows_up` names (indexed: `show` asks which letters follow up one, `follows`);
and, for the letters open, broken or active in the last `DOC_DAYS` days (what the daily readers
need), the parsed document as stored (zlib-compressed JSON; for a sealed letter only the sealed
form: letters are opened with the keyring after they are read, `loader.open_letter`); the
others are read from their files when asked for. A file
that cannot be read or parsed keeps its located problems instead.

A row is current when its blob id is the file's: a file changed by hand, by a pull or by a
checkout has another id and is simply read again, so the index cannot be stale. The derived
columns also depend on the configuration and the calendar (the fold); a change of
`letterbox.yaml`, `calendar.yaml` or of letterbox itself empties the index.

The tables' layout is the SQLite `user_version` (`SCHEMA`): a file of another schema is emptied
and made again. `file_codes` and `year_codes` (intake's numbering) list the case folders and
keep each settled folder's listing by its modification time.

`load(root, want, ...)` returns what `loader.load` returns for the letters whose entry `want`
accepts (in path order), and the problems of EVERY file that could not be read (a reader
names them all, as before). A reader's `want` must accept every letter that could change its
output; the reader then computes exactly what it computed from every letter.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import zlib
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from letterbox import __version__
from letterbox.core.calendar import WorkCalendar
from letterbox.core.clock import CALENDAR_FILE, work_calendar
from letterbox.core.codes import parse_letter_code
from letterbox.core.config import CONFIG_FILE, Config, load_config
from letterbox.core.errors import Problem
from letterbox.core.facts import fold
from letterbox.core.letter import CASES_DIR, Letter
from letterbox.core.process import STATUSES, State, local_day
from letterbox.core.sealing import Keyring
from letterbox.store import loader
from letterbox.store.blobs import blob_id, blob_ids
from letterbox.store.cache import drop_damaged

INDEX_FILE = "letters.sqlite"  # in .git/letterbox/
SCHEMA = 4  # bump when a column's meaning or the tables change: the index is then rebuilt
POOL_MIN = loader.POOL_MIN  # fewer files than this to read: read them in this process
BROKEN = (ValueError, KeyError, TypeError, OverflowError)  # what `fold` of a bad history raises


class Entry(NamedTuple):
    """What the readers filter on, for one case file that is a letter (a named tuple: 100 000
    of them are made from the rows at every read)."""

    path: str
    code: str
    status: str  # the status `list` shows: the fold's, else the one the file states
    open: bool  # open now (the fold of the whole history)
    broken: bool  # the history does not fold (or a date cannot be read): always read
    last_day: date | None  # the local day of the latest event (None: no event)
    submitted: str  # submitted_at as written
    category: str | None
    units: tuple[str, ...]
    holders: tuple[str, ...]
    follows_up: str | None = None  # the letter code its `follows_up` names, as stored (in clear when sealed)

    def active_since(self, day: date) -> bool:
        """Open now, broken, or an event on or after `day`: what a reader of the letters as of
        any day from `day` on must read (a letter closed before `day` is closed then too)."""
        return self.open or self.broken or (self.last_day is not None and self.last_day >= day)


Want = Callable[[Entry], bool]


def everything(_entry: Entry) -> bool:
    return True


@dataclass(frozen=True)
class Where:
    """A `Want` that also says, in SQL over the index's columns, a condition every entry it
    accepts meets: only the rows that meet it are made into entries (not 100 000 of them)."""

    test: Callable[[Entry], bool]
    sql: str
    args: tuple[Any, ...] = ()

    def __call__(self, entry: Entry) -> bool:
        return self.test(entry)


def active_since(day: date) -> Where:
    """The letters open now, broken, or with an event on or after `day` (`Entry.active_since`)."""
    return Where(lambda e: e.active_since(day), "open = 1 OR broken = 1 OR last_day >= ?", (day.isoformat(),))


def with_status(status: str) -> Where:
    """The letters whose status (as `list` shows it) is `status`, and every broken one."""
    return Where(lambda e: e.broken or e.status == status, "broken = 1 OR status = ?", (status,))


def follows(code: str) -> Where:
    """The letters whose `follows_up` is `code` (what `show` lists as the letters that follow
    up this one), through the index on that column."""
    return Where(lambda e: e.follows_up == code, "follows_up = ?", (code,))


def summarise(letter: Letter, config: Config, cal: WorkCalendar) -> Entry:
    """The entry of a letter read from its file (as stored, not opened)."""
    broken = False
    status = State().status
    is_open = False
    units: tuple[str, ...] = ()
    holders: tuple[str, ...] = ()
    category: str | None = None
    try:
        facts = fold(letter, config, cal)
    except BROKEN:
        broken, facts = True, None
        status = letter.status if letter.status in STATUSES else status
    if facts is not None:
        status, is_open = facts.state.status, facts.is_open
        units, holders, category = tuple(facts.state.units), tuple(facts.holders), facts.state.category
    last: date | None = None
    try:
        for event in letter.history:
            if isinstance(event, dict) and "at" in event:
                day = local_day(event["at"], config.tz)
                last = day if last is None or day > last else last
    except BROKEN:
        broken = True
    target = letter.data.get("follows_up")
    return Entry(str(letter.path), letter.code, status, is_open, broken, last,
                 str(letter.data.get("submitted_at") or ""), category if isinstance(category, str) else None,
                 tuple(map(str, units)), tuple(map(str, holders)),
                 target if isinstance(target, str) and target else None)


# -- reading files -------------------------------------------------------------------------

Row = tuple[str, str | None, Entry | None, bytes | None, list[dict[str, Any]]]  # path, blob, entry, doc, problems


@lru_cache(maxsize=4)
def _context(root: str, digest: str) -> tuple[Config, WorkCalendar]:
    """The configuration and calendar (`digest`: their fingerprint, so a long-running service
    sees a changed file)."""
    path = Path(root)
    return load_config(path), work_calendar(path)


def _pack(data: dict[str, Any]) -> bytes | None:
    """The document as compressed JSON, or None when JSON would not give it back the same (a
    YAML date, a number as a key): such a file is read from disk when needed."""
    try:
        text = json.dumps(data, ensure_ascii=False)
    except (TypeError, ValueError):
        return None
    if json.loads(text) != data:
        return None
    return zlib.compress(text.encode("utf-8"), 1)


DOC_DAYS = 100  # the documents kept: of the letters open, broken, or active in these last days


def _worth_keeping(entry: Entry) -> bool:
    """Whether to keep the document with the row: the letters the daily readers need (open,
    broken, recently active; a report of an older month reads its letters' files)."""
    recent = date.today() - timedelta(days=DOC_DAYS)  # noqa: DTZ011 (a day's margin is nothing here)
    return entry.active_since(recent) or entry.last_day is None


def _unpack(doc: bytes) -> dict[str, Any]:
    data = json.loads(zlib.decompress(doc))
    assert isinstance(data, dict)
    return data


def _read_rows(root: Path, paths: Sequence[str], digest: str) -> list[tuple[Row, Letter | None]]:
    config, cal = _context(str(root), digest)
    out: list[tuple[Row, Letter | None]] = []
    for key in paths:
        path = PurePosixPath(key)
        try:
            raw = loader.case_bytes(root / path)
        except OSError:
            result = loader.read(root, path, lines=False)  # names the problem
            problems = result if isinstance(result, list) else []
            out.append(((key, None, None, None, [p.to_json() for p in problems]), None))
            continue
        result = loader.decode(raw, path, lines=False)
        if isinstance(result, Letter):
            entry = summarise(result, config, cal)
            row: Row = (key, blob_id(raw), entry, _pack(result.data) if _worth_keeping(entry) else None, [])
            out.append((row, result))
        else:
            out.append(((key, blob_id(raw), None, None, [p.to_json() for p in result]), None))
    return out


def _read_chunk(root: Path, paths: Sequence[str], digest: str) -> list[tuple[Row, Letter | None]]:
    """In a worker: the rows only (the letters are rebuilt from the documents here)."""
    return [(row, None) for row, _letter in _read_rows(root, paths, digest)]


# -- the store -----------------------------------------------------------------------------


def index_path(git_dir: Path) -> Path:
    return git_dir / "letterbox" / INDEX_FILE


def fingerprint(root: Path) -> str:
    """What every row's derived columns depend on besides the file: letterbox, the
    configuration and the calendar."""
    digest = hashlib.sha1(f"{SCHEMA}:{__version__}".encode())
    for name in (CONFIG_FILE, CALENDAR_FILE):
        try:
            digest.update(b"\0" + (root / name).read_bytes())
        except OSError:
            digest.update(b"\0-")
    return digest.hexdigest()


_SEP = "\x1f"  # between the unit codes of a row (a code holds no control character)
_COLUMNS = ("path, blob, code, status, open, broken, last_day, submitted, category, units, holders, problems, "
            "follows_up")


def _connect(file: Path) -> sqlite3.Connection:
    file.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(file, timeout=30)
    if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA:  # tables of another schema: made again
        with db:
            for table in ("meta", "letters", "docs"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
            db.execute(f"PRAGMA user_version = {SCHEMA}")
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS letters (path TEXT PRIMARY KEY, blob TEXT NOT NULL, "
               "code TEXT, status TEXT, open INTEGER, broken INTEGER, last_day TEXT, submitted TEXT, "
               "category TEXT, units TEXT, holders TEXT, problems TEXT, follows_up TEXT)")
    db.execute("CREATE INDEX IF NOT EXISTS letters_follows_up ON letters (follows_up)")
    # the documents apart: a scan of the rows above does not read them
    db.execute("CREATE TABLE IF NOT EXISTS docs (path TEXT PRIMARY KEY, blob TEXT NOT NULL, doc BLOB)")
    return db


def _entry_of(values: Sequence[Any]) -> Entry:
    path, _blob, code, status, is_open, broken, last_day, submitted, category, units, holders = values[:11]
    return Entry(path, code, status, bool(is_open), bool(broken),
                 date.fromisoformat(last_day) if last_day else None, submitted, category,
                 tuple(units.split(_SEP)) if units else (), tuple(holders.split(_SEP)) if holders else (),
                 values[12])


def _values(row: Row) -> tuple[Any, ...]:
    key, blob, entry, doc, problems = row
    if entry is None:
        return (key, blob, None, None, 0, 0, None, None, None, "", "", json.dumps(problems, ensure_ascii=False),
                None)
    return (key, blob, entry.code, entry.status, int(entry.open), int(entry.broken),
            entry.last_day.isoformat() if entry.last_day else None, entry.submitted, entry.category,
            _SEP.join(entry.units), _SEP.join(entry.holders), "", entry.follows_up)


@dataclass(frozen=True)
class Indexed:
    """`loader.Loaded` for the letters wanted, and how the index did."""

    loaded: loader.Loaded
    files: int  # case files listed
    read: int  # files read now (their row was missing or not current)
    kept: bool  # the index was written (False: it could not be, the letters are right anyway)


def load(root: Path, git_dir: Path, want: Want = everything, *, keyring: Keyring | None = None,
         paths: Sequence[str] | None = None, workers: int | None = None) -> Indexed:
    """The letters whose entry `want` accepts, opened with `keyring`, in path order, and the
    problems of every case file that gives no letter. Files whose row is missing or not current
    are read (in `workers` processes when there are `POOL_MIN` of them) and their rows kept."""
    names = _case_files(root) if paths is None else list(paths)  # in no order: sorted below
    ids = blob_ids(root, names)
    current: dict[str, tuple[Any, ...] | None] = {}  # the rows of the current files (None: not wanted)
    gone: set[str] = set()
    file = index_path(git_dir)
    digest = fingerprint(root)
    db: sqlite3.Connection | None
    try:
        db = _connect(file)
    except sqlite3.DatabaseError:  # not an SQLite file (damaged): start again
        db = _fresh(file)
    except (sqlite3.Error, OSError):
        db = None
    try:
        if db is not None:
            try:
                current, gone = _current(db, digest, ids, want)
            except sqlite3.DatabaseError:  # a damaged file: start again
                db.close()
                db = _fresh(file)
                current = {}
        stale = sorted((key for key in names if key not in current), key=_order)
        fresh = _read(root, stale, digest, workers)
        if paths is not None:
            gone = set()  # only some files were listed: the others are not gone
        elif gone:
            gone = gone.difference(names)  # a file listed without a blob id could not be read now
        kept = db is not None and _keep(db, digest, [row for row, _letter in fresh], gone)
    finally:
        if db is not None:
            db.close()
    by_path: dict[str, tuple[Entry | None, list[dict[str, Any]]]] = {}
    letters_now: dict[str, Letter] = {}
    docs_now: dict[str, bytes | None] = {}
    for (key, _blob, entry, doc, problems), letter in fresh:
        by_path[key] = (entry, problems)
        docs_now[key] = doc
        if letter is not None:
            letters_now[key] = letter
    for key, values in current.items():
        if values is not None:
            by_path[key] = (_entry_of(values) if values[2] is not None else None,
                            json.loads(values[11]) if values[11] else [])
    wanted = sorted((key for key, (e, _p) in by_path.items() if e is not None and want(e)), key=_order)
    stored = [key for key in wanted if key not in letters_now and key not in docs_now]
    docs = dict(docs_now)
    if stored and db is not None:
        docs.update(_docs(file, stored, ids))
    letters: list[Letter] = []
    for key in wanted:
        letter = letters_now.get(key)
        if letter is None:
            doc = docs.get(key)
            if doc is not None:
                letter = Letter(path=PurePosixPath(key), data=_unpack(doc))
            else:  # kept without its document: read the file again
                result = loader.read(root, PurePosixPath(key), lines=False)
                if not isinstance(result, Letter):
                    by_path[key] = (None, [p.to_json() for p in result])
                    continue
                letter = result
        letters.append(loader.open_letter(letter, keyring))
    unreadable = [Problem(**p) for key in sorted((k for k, (_e, found) in by_path.items() if found), key=_order)
                  for p in by_path[key][1]]
    return Indexed(loader.Loaded(letters, unreadable, parsed=len(stale)), len(names), len(stale), kept)


def _order(name: str) -> list[str]:
    """`loader.case_names`'s order: by the path's parts."""
    return name.split("/")


def _case_files(root: Path) -> list[str]:
    """`loader.case_names` (the same files: .yaml or .yml, not hidden, at any depth, folders
    reached through a symbolic link not followed), in no particular order: the index sorts only
    the few it returns."""
    found: list[str] = []
    folders = [(str(root / CASES_DIR), CASES_DIR + "/")]
    while folders:
        folder, prefix = folders.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    name = entry.name
                    try:
                        if name.endswith((".yaml", ".yml")) and name[0] != "." and entry.is_file():
                            found.append(prefix + name)
                        elif entry.is_dir(follow_symlinks=False):
                            folders.append((entry.path, prefix + name + "/"))
                    except OSError:
                        continue
        except OSError:
            continue
    return found


def _current(db: sqlite3.Connection, digest: str, ids: dict[str, str],
             want: Want) -> tuple[dict[str, tuple[Any, ...] | None], set[str]]:
    """The files whose row is current (blob id the file's; none when the fingerprint changed):
    their row when `want` may accept it or it holds problems, else None; and the paths of the
    rows kept for files that are gone."""
    found = db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
    if found is None or found[0] != digest:
        return {}, set()
    current: dict[str, tuple[Any, ...] | None] = {}
    gone = set()
    for path, blob in db.execute("SELECT path, blob FROM letters"):
        now = ids.get(path)
        if now == blob:
            current[path] = None
        elif now is None:
            gone.add(path)
    where, args = (want.sql, want.args) if isinstance(want, Where) else ("1", ())
    for values in db.execute(f"SELECT {_COLUMNS} FROM letters WHERE code IS NULL OR ({where})", args):
        if values[0] in current and ids.get(values[0]) == values[1]:
            current[values[0]] = values
    return current, gone


def _fresh(file: Path) -> sqlite3.Connection | None:
    try:
        drop_damaged(file)  # with its journals: a hot journal left would be played into the new file
        return _connect(file)
    except (sqlite3.Error, OSError):
        return None


def _read(root: Path, stale: list[str], digest: str, workers: int | None) -> list[tuple[Row, Letter | None]]:
    workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
    if workers < 2 or len(stale) < POOL_MIN:
        return _read_rows(root, stale, digest)
    pool = loader._spawn_pool(workers)
    try:
        chunks = loader._chunks(stale, workers)
        return [x for chunk in pool.map(_read_chunk, [root] * len(chunks), chunks,
                                                     [digest] * len(chunks)) for x in chunk]
    finally:
        pool.shutdown()


def _keep(db: sqlite3.Connection, digest: str, rows: list[Row], gone: set[str]) -> bool:
    """Write the rows read now; forget the files that are gone. False when the index cannot be
    written (read-only, locked too long): the reader's letters are right anyway."""
    try:
        with db:
            old = db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
            if old is None or old[0] != digest:
                db.execute("DELETE FROM letters")
                db.execute("DELETE FROM docs")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (digest,))
            db.executemany("INSERT OR REPLACE INTO letters VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           [_values(row) for row in rows if row[1] is not None])
            db.executemany("INSERT OR REPLACE INTO docs VALUES (?,?,?)",
                           [(row[0], row[1], row[3]) for row in rows if row[1] is not None and row[3] is not None])
            if gone:
                db.executemany("DELETE FROM letters WHERE path = ?", [(p,) for p in gone])
                db.executemany("DELETE FROM docs WHERE path = ?", [(p,) for p in gone])
        return True
    except sqlite3.Error:
        return False


def _docs(file: Path, keys: list[str], ids: dict[str, str]) -> dict[str, bytes | None]:
    """The kept documents of `keys` that are those of the files now (by blob id)."""
    found: dict[str, bytes | None] = {}
    try:
        with closing(sqlite3.connect(file, timeout=30)) as db:
            for k in range(0, len(keys), 500):
                chunk = keys[k:k + 500]
                rows = db.execute(f"SELECT path, blob, doc FROM docs WHERE path IN ({','.join('?' * len(chunk))})",
                                  chunk)
                found.update((path, doc) for path, blob, doc in rows if ids.get(path) == blob)
    except sqlite3.Error:
        return {}
    return found


_FOLDERS: dict[str, tuple[int, list[str], list[str]]] = {}  # folder → (mtime, case file names, sub-folders)
_SETTLED_NS = 2_000_000_000  # a folder's listing is kept once its last change is this much older


def _listing(folder: str, now: int, seen: list[tuple[str, int]] | None = None) -> tuple[list[str], list[str]] | None:
    """The case file names (.yaml or .yml, not hidden) and the sub-folders (paths; not through a
    symbolic link) of `folder`, None when it cannot be listed. A folder unchanged since it was
    last listed (its modification time, settled for two seconds, as git trusts a file's stat) is
    not listed again: a file added, removed or renamed in it changes that time."""
    try:
        mtime = os.stat(folder).st_mtime_ns
    except OSError:
        return None
    kept = _FOLDERS.get(folder)
    if kept is not None and kept[0] == mtime:
        if seen is not None:
            seen.append((folder, mtime))
        return kept[1], kept[2]
    names: list[str] = []
    subs: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                try:
                    if entry.is_dir() and not entry.is_symlink():
                        subs.append(entry.path)
                    elif name.endswith((".yaml", ".yml")) and not name.startswith(".") and entry.is_file():
                        names.append(name)
                except OSError:
                    continue
    except OSError:
        return None
    if now - mtime > _SETTLED_NS:
        _FOLDERS[folder] = (mtime, names, subs)
    else:
        _FOLDERS.pop(folder, None)
    if seen is not None:  # the folder's time when its listing is kept (settled), else -1
        seen.append((folder, mtime if now - mtime > _SETTLED_NS else -1))
    return names, subs


def file_codes(root: Path) -> frozenset[str]:
    """The letter codes the case files are named by (a case file's name without its suffix, at
    any depth of cases/, as `loader.case_names` finds them). A folder unchanged since it was last
    listed is not listed again (`_listing`): intake asks twice per letter, the intake service
    once per request."""
    codes: set[str] = set()
    folders = [str(root / CASES_DIR)]
    now = time.time_ns()
    seen: list[tuple[str, int]] = []  # (folder, its time when its listing is kept, else -1)
    lists: list[list[str]] = []
    while folders:
        listed = _listing(folders.pop(), now, seen)
        if listed is None:
            seen.append(("", -1))
            continue
        lists.append(listed[0])
        folders.extend(listed[1])
    settled = all(mtime >= 0 for _folder, mtime in seen)
    last = _CODES.get(str(root))
    if settled and last is not None and last[0] == seen:  # every folder as when last listed
        return last[1]
    for names in lists:
        codes.update(name.rsplit(".", 1)[0] for name in names)
    found = frozenset(codes)
    if settled:
        _CODES[str(root)] = (seen, found)
    else:
        _CODES.pop(str(root), None)
    return found


_CODES: dict[str, tuple[list[tuple[str, int]], frozenset[str]]] = {}  # root → (folders seen, codes)


def year_codes(root: Path, prefix: str, year: int) -> list[str]:
    """`Repository.codes_in_year`: the codes of the files `cases/<year>/*/<prefix>-<year>-*.yaml`
    (pathlib's glob: hidden folders and folders reached through a symbolic link included),
    sorted. The year folder is listed (a dozen entries); each month folder's names come from the
    kept listings (`_listing`): at 100 000 letters the glob listed and matched a year's tens of
    thousands of names for every letter numbered."""
    start = f"{prefix}-{year:04d}-"
    now = time.time_ns()
    found: list[str] = []
    try:
        with os.scandir(root / CASES_DIR / f"{year:04d}") as entries:
            months = [entry.path for entry in entries if _is_dir(entry)]
    except OSError:
        return []
    for month in months:
        listed = _listing(month, now)
        if listed is not None:
            found.extend(name[:-5] for name in listed[0] if name.startswith(start) and name.endswith(".yaml"))
    return sorted(found)


SEQUENCE_FILE = "sequence.json"  # in .git/letterbox/: per month folder, its largest sequence number


def last_sequence(root: Path, git_dir: Path, prefix: str, year: int) -> int:
    """The largest sequence number of the files `year_codes` names (0: none), what intake
    numbers from. A fresh process would list a year's tens of thousands of names; instead each
    month folder's largest number is kept in `.git/letterbox/sequence.json` with the folder's
    modification time (and inode), once settled (`_listing`): only the folders changed since
    (the one the last letter went into) are listed again. The file is a cache: unreadable, it is
    made again; not writable, the folders are listed."""
    start = f"{prefix}-{year:04d}-"
    file = git_dir / "letterbox" / SEQUENCE_FILE
    try:
        kept = json.loads(file.read_text("utf-8"))
    except (OSError, ValueError):
        kept = {}
    if not isinstance(kept, dict):
        kept = {}
    now = time.time_ns()
    try:
        with os.scandir(root / CASES_DIR / f"{year:04d}") as entries:
            months = [entry.path for entry in entries if _is_dir(entry)]
    except OSError:
        return 0
    best, changed = 0, False
    for month in months:
        try:
            st = os.stat(month)
        except OSError:
            continue
        key = f"{month}/{start}"
        sign = [st.st_mtime_ns, st.st_ino, st.st_dev]
        entry = kept.get(key)
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == sign and isinstance(entry[1], int):
            best = max(best, entry[1])
            continue
        listed = _listing(month, now)
        if listed is None:
            continue
        found = 0
        for name in sorted((n for n in listed[0] if n.startswith(start) and n.endswith(".yaml")), reverse=True):
            if parsed := parse_letter_code(name[:-5]):  # five digits: the first that parses is the largest
                found = parsed[2]
                break
        best = max(best, found)
        if now - st.st_mtime_ns > _SETTLED_NS:
            kept[key], changed = [sign, found], True
        elif kept.pop(key, None) is not None:
            changed = True
    if changed:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            spare = file.with_name(f"{SEQUENCE_FILE}.{os.getpid()}.tmp")
            spare.write_text(json.dumps(kept), "utf-8")
            os.replace(spare, file)
        except OSError:
            pass
    return best


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


__all__ = ["Entry", "Indexed", "everything", "file_codes", "fingerprint", "follows", "index_path",
           "last_sequence", "load", "summarise", "year_codes"]
