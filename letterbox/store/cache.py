"""A persistent key → JSON cache in one table of an SQLite file of `.letterbox-cache/`.

Used by the loader (parsed case files, by path, size and modification time) and by the site's
redaction stage (public texts, by a hash of everything they depend on).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

CACHE_DIR = ".letterbox-cache"


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
