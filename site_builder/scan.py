"""The leak scan: every file of the built site searched for every writer's data.

Each file is read as text (HTML unescaped, JSON decoded, gzip and Pagefind files
decompressed), cut at every `<` and each piece squashed (`redact.squash`) and searched with
one prefix-factored regex of all needles; pieces already searched (the theme's markup
repeated on every page) are not searched again, so the scan stays linear in the letters' own
text. With many letters the files are searched in a pool of processes, as they are written.
"""

from __future__ import annotations

import gzip
import html
import json
import multiprocessing
import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

from letterbox.core.letter import Letter
from letterbox.privacy.redact import Writer, needles, squash
from letterbox.store.repository import Repository
from site_builder.tools import lower_priority

T = TypeVar("T")
R = TypeVar("R")


def _trie_regex(words: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any of `words`, prefix-factored so it stays fast for many words."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict[str, dict]) -> str:
        alts = [(ch if ch.isalnum() else re.escape(ch)) + pattern(child)
                for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 and "" not in node else "(?:" + "|".join(alts) + ")"
        return body + "?" if "" in node and alts else body

    return re.compile(pattern(trie)) if trie else None


def _readable(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":  # also Pagefind's .pf_* files
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            pass
    text = data.decode("utf-8", errors="ignore")
    if path.suffix == ".json":
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return html.unescape(text)


class _Searcher:
    """The needles' regex and the pieces already searched (one per process)."""

    def __init__(self, needles: Iterable[str]) -> None:
        needles = list(needles)
        self.regex = _trie_regex(needles)
        self.cut = not any("<" in n for n in needles)
        self.searched: set[str] = set()  # every piece searched so far
        self.hits: dict[str, tuple[str, ...]] = {}  # those holding needles → the needles

    def file(self, site: Path, path: Path) -> tuple[str, ...]:
        """The needles found in the file's name or its readable text."""
        regex = self.regex
        if regex is None:
            return ()
        names = {m.group() for m in regex.finditer(squash(path.relative_to(site).as_posix()))}
        text = _readable(path)
        pieces = set(text.split("<")) if self.cut else {text}
        for piece in pieces.intersection(self.hits):
            names.update(self.hits[piece])
        new = pieces - self.searched
        # the pieces not seen before, squashed and searched at once (no needle holds a "<", so
        # none spans two pieces); one by one only when something is found, to remember which
        if new and regex.search(squash("<".join(new))):
            for piece in new:
                found = {m.group() for m in regex.finditer(squash(piece))}
                if found:
                    self.hits[piece] = tuple(found)
                    names.update(found)
        self.searched |= new
        return tuple(sorted(names))


_WORKER: dict[str, _Searcher] = {}


def _scan_init(needles: list[str]) -> None:
    lower_priority()
    _WORKER["searcher"] = _Searcher(needles)


def _scan_chunk(site: Path, paths: list[Path]) -> list[tuple[Path, tuple[str, ...]]]:
    searcher = _WORKER["searcher"]
    return [(path, searcher.file(site, path)) for path in paths]


SCAN_CHUNK = 250  # files per task of the scan pool
SCAN_POOL_MIN = 2000  # fewer letters than this: scan in this process


class Scanner:
    """Searches files for needles (squashed writer data) → (file, letter code) hits.

    Each file is read as text and cut at every `<` (no needle holds one, so none can span a
    cut); each piece is squashed and searched once per process (see the module's docstring).

    With `workers` > 1 the files are searched in a pool of processes (`submit` returns at once,
    `result` waits). `files()` lists the files not yet submitted or changed since (size and time
    as they were when submitted), so files written later are scanned by a second `submit`.
    """

    def __init__(self, site: Path, owners: dict[str, str], workers: int = 1) -> None:
        self.site, self.owners = site, owners
        self.found: set[tuple[str, str]] = set()
        self.seen: dict[str, tuple[int, int]] = {}  # file path → (size, mtime) when submitted
        self.pending: list[tuple[Path, Future[list[tuple[Path, tuple[str, ...]]]]]] = []
        self.pool: ProcessPoolExecutor | None = None
        self.local: _Searcher | None = None
        if workers > 1 and owners:
            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_scan_init, initargs=(list(owners),))
        else:
            self.local = _Searcher(owners)

    def files(self, under: Path | None = None) -> list[Path]:
        """Files under the site (or `under`) not submitted yet, or changed since."""
        found = []
        for folder, _, names in os.walk(under or self.site):
            for name in names:
                path = os.path.join(folder, name)
                st = os.stat(path)
                if stat.S_ISREG(st.st_mode):
                    found.append((path, (st.st_size, st.st_mtime_ns)))
        found.sort()
        return [Path(path) for path, stamp in found if self.seen.get(path) != stamp]

    def submit(self, paths: list[Path], root: Path | None = None) -> None:
        """Search `paths`, named by their path from `root` (by default the site: another root
        for files still being written elsewhere that will be moved into the site)."""
        root = root or self.site
        for path in paths:
            st = path.stat()
            self.seen[str(path)] = (st.st_size, st.st_mtime_ns)
        if self.pool is None:
            assert self.local is not None
            self._add(root, [(path, self.local.file(root, path)) for path in paths])
            return
        for k in range(0, len(paths), SCAN_CHUNK):
            self.pending.append((root, self.pool.submit(_scan_chunk, root, paths[k:k + SCAN_CHUNK])))

    def moved(self, old: Path, new: Path) -> None:
        """The files under `old` are now under `new` (renamed as they were: not searched again)."""
        prefix = os.path.join(old, "")
        for path in [p for p in self.seen if p.startswith(prefix)]:
            self.seen[os.path.join(new, path[len(prefix):])] = self.seen.pop(path)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn`` over ``items`` in the scan's pool (niced, as the scan), when there is one:
        other work of the build done in the processes that wait for files to search."""
        if self.pool is None:
            return [fn(x) for x in items]
        return list(self.pool.map(fn, items))

    def _add(self, root: Path, results: list[tuple[Path, tuple[str, ...]]]) -> None:
        for path, names in results:
            rel = path.relative_to(root).as_posix()
            self.found.update((rel, self.owners[n]) for n in names)

    def settle(self) -> None:
        """Wait for the files submitted so far."""
        for root, future in self.pending:
            self._add(root, future.result())
        self.pending = []

    def result(self) -> list[tuple[str, str]]:
        self.settle()
        return sorted(self.found)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scan(site: Path, owners: dict[str, str], workers: int = 1) -> list[tuple[str, str]]:
    """(file, letter code) for each file of `site` where a needle (squashed writer datum) occurs."""
    with Scanner(site, owners, workers) as scanner:
        scanner.submit(scanner.files())
        return scanner.result()


def writer_needles(repo: Repository, letters: list[Letter] | None = None) -> dict[str, str]:
    """Every writer's data in the repository (public or not), squashed → letter code.

    A needle that holds another needle of the same writer is left out: wherever it occurs the
    shorter one does too (the full address holds its 3号楼2单元501室 tail, the e-mail address
    its user name), and a smaller trie keeps the scan fast at 10 000 letters.
    """
    owners: dict[str, str] = {}
    for letter in sorted(repo.letters() if letters is None else letters, key=lambda x: x.code):
        mine = needles(Writer.from_data(letter.data.get("writer")))
        for needle in mine:
            if not any(other != needle and other in needle for other in mine):
                owners.setdefault(needle, letter.code)
    return owners
