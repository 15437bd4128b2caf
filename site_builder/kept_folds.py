"""What the build derives from one letter's fold, kept between builds by case-file blob id.

The board folds every letter twice per build: once to select it (select.py: is it public,
its dates, its answer and timeliness) and once, as of the statistics' last day, for the
figures (figures.py). Both results depend only on the case file, the configuration, the
calendar and the code, so a build keeps them (JSON, one row per case file path, in
`.letterbox-cache/folds.sqlite3`) under a SHA-256 of:

- the case file's git blob id (`store.blobs`: what git knows without reading the file, else
  the file hashed), as `index.py`'s letters index keys its rows;
- `letterbox.yaml` and `calendar.yaml` as bytes, the chinesecalendar version and every file
  of the `letterbox` package and of `site_builder/` (`source_digest`: any code change);
- what the caller adds (the statistics: their first and last day).

A row of another key is computed again and replaced: a case file changed by hand, a pull, a
new configuration or a new day of statistics is never served stale. Sealed letters are never
kept (their clear fields depend on the keys at hand), nor is a fold that raised (the caller
then takes its usual path, which names the problem). Without a cache (`cache` off) nothing is
kept and every value is computed, through the same code: a build from scratch and an
incremental one read the same summaries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from letterbox.core.clock import CALENDAR_FILE
from letterbox.core.config import CONFIG_FILE
from letterbox.core.letter import Letter
from letterbox.store.blobs import blob_ids
from letterbox.store.cache import JsonCache

FOLDS_FILE = "folds.sqlite3"  # in .letterbox-cache/
PACKAGES = (Path(__file__).resolve().parent.parent / "letterbox", Path(__file__).resolve().parent)


@lru_cache(maxsize=1)
def source_digest() -> str:
    """Every file of the letterbox package and of the site builder (but bytecode), and the
    calendar library's version: a change of code is a change of every kept value."""
    h = hashlib.sha256()
    for root in PACKAGES:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(path.relative_to(root.parent).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    try:
        h.update(metadata.version("chinesecalendar").encode())
    except metadata.PackageNotFoundError:
        h.update(b"-")
    return h.hexdigest()


def context_digest(root: Path) -> str:
    """The code, the configuration and the calendar (as bytes)."""
    h = hashlib.sha256(source_digest().encode())
    for name in (CONFIG_FILE, CALENDAR_FILE):
        try:
            h.update(b"\0" + (root / name).read_bytes())
        except OSError:
            h.update(b"\0-")
    return h.hexdigest()


class KeptFolds:
    """Per-letter values of one kind (`table`), kept by blob id (see the module docstring).
    `cache`: the SQLite file, or None (nothing kept, `value` always computes)."""

    def __init__(self, cache: Path | None, root: Path, letters: Sequence[Letter], table: str,
                 blobs: dict[str, str] | None = None) -> None:
        self.store = JsonCache(cache, table)
        self.context = context_digest(root) if cache is not None else ""
        self.blobs = blobs if blobs is not None else (
            blob_ids(root, [x.path for x in letters if not x.sealed]) if cache is not None else {})
        self.known: dict[str, Any] = {}
        self.new: dict[str, Any] = {}
        self.salt = ""

    def load(self, letters: Sequence[Letter], salt: str = "") -> None:
        """Read the kept values of `letters` whose key is current (`salt`: what the caller adds)."""
        self.salt = salt
        if self.store.path is None:
            return
        keys = {str(x.path): self._key(x) for x in letters}
        rows = self.store.get([p for p, k in keys.items() if k is not None])
        self.known = {p: v[1] for p, v in rows.items()
                      if isinstance(v, list) and len(v) == 2 and v[0] == keys.get(p)}

    def _key(self, letter: Letter) -> str | None:
        if letter.sealed:
            return None
        blob = self.blobs.get(str(letter.path))
        if blob is None:
            return None
        return hashlib.sha256(f"{self.context}\0{self.salt}\0{blob}".encode()).hexdigest()

    def value(self, letter: Letter, compute: Callable[[], Any]) -> Any:
        """The kept value of `letter`, else `compute()` (kept when it returns, not when it raises)."""
        path = str(letter.path)
        if path in self.known:
            return self.known[path]
        made = compute()
        key = self._key(letter) if self.store.path is not None else None
        if key is not None:
            self.new[path] = [key, made]
            self.known[path] = made
        return made

    def save(self) -> None:
        if self.new:
            self.store.put(self.new)
            self.new = {}
