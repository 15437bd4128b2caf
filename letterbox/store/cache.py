"""A persistent key → JSON cache in one table of an SQLite file of `.letterbox-cache/`.

Used by the loader (parsed case files, by path, size and modification time) and by the site's
redaction stage (public texts, by a hash of everything they depend on).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, TypeVar

CACHE_DIR = ".letterbox-cache"

PRUNE_SLACK = 1000  # rows a table keyed by content may hold beyond twice those in use (`JsonCache.prune`)
_DAMAGED = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB: the file is no (whole) SQLite database
_T = TypeVar("_T")


def is_damaged(exc: BaseException) -> bool:
    """A damaged or foreign file, not a locked or busy one (those are left alone)."""
    return isinstance(exc, sqlite3.DatabaseError) and (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _DAMAGED


def drop_damaged(path: Path) -> None:
    """Remove a damaged kept-state file and its journals: it is made again from the case files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def remade_when_damaged(method: Callable[..., _T]) -> Callable[..., _T]:
    """For a method of a store of kept state (an object with `path`): when its SQLite file is
    damaged (cut short, overwritten, not SQLite), the file is removed and the call made once more
    on a new one, so a damaged cache costs time, never a command (tests/e2e/test_kept_state_damaged.py)."""

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if not is_damaged(exc) or getattr(self, "path", None) is None:
                raise
            drop_damaged(self.path)
            return method(self, *args, **kwargs)

    return call


class JsonCache:
    """key → a JSON value in one table of an SQLite file of `.letterbox-cache/`; a no-op when
    `path` is None. The folder holds a `.gitignore` of `*`: never committed."""

    def __init__(self, path: Path | None, table: str) -> None:
        assert table.isidentifier()
        self.path, self.table = path, table

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ignore = self.path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# letterbox build cache: never commit\n*\n", encoding="utf-8")
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (key TEXT PRIMARY KEY, parts TEXT)")
            yield db

    @remade_when_damaged
    def get(self, keys: Sequence[str]) -> dict[str, Any]:
        if self.path is None or not keys:
            return {}
        found: dict[str, Any] = {}
        with self._db() as db:
            for k in range(0, len(keys), 500):
                chunk = list(keys[k:k + 500])
                rows = db.execute(f"SELECT key, parts FROM {self.table} "
                                  f"WHERE key IN ({','.join('?' * len(chunk))})", chunk)
                found.update((key, json.loads(parts)) for key, parts in rows)
        return found

    @remade_when_damaged
    def put(self, items: dict[str, Any]) -> None:
        if self.path is None or not items:
            return
        rows = []
        for key, value in items.items():
            try:
                rows.append((key, json.dumps(value, ensure_ascii=False)))
            except (TypeError, ValueError):  # not JSON (a YAML date, say): not kept
                continue
        with self._db() as db, db:
            db.executemany(f"INSERT OR REPLACE INTO {self.table} VALUES (?, ?)", rows)

    @remade_when_damaged
    def prune(self, used: Collection[str]) -> int:
        """Remove the rows whose key is not in `used` once the table holds more than twice as
        many rows as `used` (and PRUNE_SLACK more): a table keyed by what its values are made
        from keeps about one build's rows, not one more row per letter at every change (the
        other writers' names of every letter are keyed anew by each new writer's name).
        Returns the rows removed."""
        if self.path is None or not self.path.exists():
            return 0
        with self._db() as db, db:
            (count,) = db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()
            if count <= 2 * len(used) + PRUNE_SLACK:
                return 0
            db.execute("CREATE TEMP TABLE used (key TEXT PRIMARY KEY)")
            db.executemany("INSERT OR IGNORE INTO used VALUES (?)", ((k,) for k in used))
            return db.execute(f"DELETE FROM {self.table} WHERE key NOT IN (SELECT key FROM used)").rowcount
