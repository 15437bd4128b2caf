"""The one loader: the case files of a repository read into letters, and what could not be read.

Every reader goes through `load` (or `load_texts`, for files read from a git revision): a file
is either a letter or a located problem (YAML that does not parse, a key written twice, a
document that is not a mapping, a file that cannot be read), never dropped silently.

Options for the callers that need them: `lines` keeps the line map of each field (for the
problems of `validate` and `check`); `cache` keeps the parsed documents in an SQLite file, by
path, size and modification time (the build's cache; letters from it have no line map);
`pool` parses in worker processes when there are at least `pool_min` files to parse (the build
passes its own pool, which then redacts); `keyring` opens the sealed letters (core/sealing.py)
where they are parsed, in the workers too: a letter that cannot be opened keeps its sealed form
with `Letter.hidden` saying why (its structure is still read). The cache keeps the sealed form
as stored, never the opened fields; letters taken from it are opened after it is read.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from letterbox.core import yamlio
from letterbox.core.errors import LetterboxError, Problem
from letterbox.core.letter import CASES_DIR, Letter
from letterbox.core.memory import collector_paused
from letterbox.core.sealing import Keyring, SealError, is_sealed, opened, sealed_form, unseal
from letterbox.store.cache import JsonCache

POOL_MIN = 2000  # fewer case files than this to parse: parse in this process
CACHE_TABLE = "case_files"  # path → [size:mtime, the YAML document]

NOT_A_MAPPING = ("文件内容不是一封信件：案卷文件应为键值表（如 letter_code: …、history: …），"
                 "请检查文件是否被截断或误写。")


@dataclass(frozen=True)
class Loaded:
    """The letters read (in path order) and the problems of the files that could not be read."""

    letters: list[Letter]
    problems: list[Problem] = field(default_factory=list)
    parsed: int = 0  # files parsed now (not taken from the cache)
    pooled: bool = False  # parsed in worker processes

    @property
    def unreadable(self) -> list[str]:
        """The files that gave no letter, each once, in order."""
        return list(dict.fromkeys(p.file for p in self.problems))


def case_paths(root: Path) -> list[PurePosixPath]:
    """Every case file in cases/ (.yaml or .yml, not hidden), also one at the wrong depth, in
    path order (symbolic links to folders are not followed)."""
    return [PurePosixPath(name) for name in case_names(root)]


def case_names(root: Path) -> list[str]:
    """`case_paths` as text ("cases/2026/03/LA-2026-00001.yaml"): what `validate` needs of
    100 000 files, without a path object each."""
    base = root / CASES_DIR
    if not base.is_dir():
        return []
    found: list[tuple[str, ...]] = []
    folders: list[tuple[str, tuple[str, ...]]] = [(str(base), ())]
    while folders:
        folder, parts = folders.pop()
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError:
            continue
        for entry in listed:
            try:
                if entry.is_dir() and not entry.is_symlink():
                    folders.append((entry.path, (*parts, entry.name)))
                elif (entry.name.endswith((".yaml", ".yml")) and not entry.name.startswith(".")
                      and entry.is_file()):
                    found.append((*parts, entry.name))
            except OSError:
                continue
    found.sort()
    return ["/".join((CASES_DIR, *parts)) for parts in found]


def parse(text: str, path: PurePosixPath, lines: bool = True) -> Letter | list[Problem]:
    """One case file's text: its letter, or the located problems why it is none."""
    try:
        data, line_map = yamlio.load(text, str(path), lines=lines)
    except LetterboxError as exc:
        return exc.problems or [Problem(file=str(path), message=exc.message)]
    if not isinstance(data, dict):
        return [Problem(file=str(path), line=1 if data is not None else None, message=NOT_A_MAPPING)]
    return Letter(path=path, data=data, lines=line_map if lines else {})


def decode(raw: bytes, path: PurePosixPath, lines: bool = True) -> Letter | list[Problem]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return [Problem(file=str(path), message="不是 UTF-8 编码的文本文件，无法读取。")]
    return parse(text, path, lines)


DAMAGED = "加密块格式不对，无法解密（运行 letterbox validate 查看原因）。"


def open_letter(letter: Letter, keyring: Keyring | None) -> Letter:
    """`letter` with its sealed fields in clear when `keyring` opens them; else, for a sealed
    letter, `hidden` says why (no key, not a recipient, period shredded, damaged). Without a
    keyring (None) the letter is left as read."""
    if keyring is None or not letter.sealed or letter.hidden is not None:
        return letter
    try:
        letter.data = opened(letter.data, letter.code, keyring)
    except SealError as exc:
        letter.hidden = str(exc)
    except (TypeError, ValueError, KeyError):  # a hand-damaged block: validate names it
        letter.hidden = DAMAGED
    return letter


SYMLINK = ("案卷文件是一个符号链接：案卷必须是 cases/ 中的普通文件（链接可能指向案卷库以外的文件，不会被读取）。"
           "请删除这个链接，把信件内容直接写在这个文件中。")


def case_bytes(file: Path) -> bytes:
    """A case file's bytes. A symbolic link is refused (OSError, errno ELOOP): its target may
    lie outside the repository, and a pull request must not make CI or the board read it."""
    fd = os.open(file, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def read(root: Path, path: PurePosixPath, lines: bool = True,
         keyring: Keyring | None = None) -> Letter | list[Problem]:
    """One case file of the working tree: its letter (opened with `keyring` when sealed), or
    its problems."""
    try:
        raw = case_bytes(root / path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return [Problem(file=str(path), message=SYMLINK)]
        return [Problem(file=str(path), message=f"无法读取文件（{exc.strerror or exc.__class__.__name__}）。")]
    result = decode(raw, path, lines)
    return open_letter(result, keyring) if isinstance(result, Letter) else result


def _read_chunk(root: Path, paths: Sequence[PurePosixPath], lines: bool,
                keyring: Keyring | None = None) -> list[Letter | list[Problem]]:
    return [read(root, path, lines, keyring) for path in paths]


def _unseal_chunk(items: Sequence[tuple[str, dict[str, Any]]], keyring: Keyring) -> list[dict[str, Any] | str]:
    """The opened fields of each (letter code, sealed block), or why not. Only the blocks cross to
    a worker and only the fields come back (whole letters would cost more to send than to open)."""
    out: list[dict[str, Any] | str] = []
    for code, block in items:
        try:
            out.append(unseal(block, code, keyring))
        except SealError as exc:
            out.append(str(exc))
        except (TypeError, ValueError, KeyError):
            out.append(DAMAGED)
    return out


def _gather(results: Iterable[Letter | list[Problem]], parsed: int = 0, pooled: bool = False) -> Loaded:
    letters: list[Letter] = []
    problems: list[Problem] = []
    for result in results:
        if isinstance(result, Letter):
            letters.append(result)
        else:
            problems.extend(result)
    return Loaded(letters, problems, parsed, pooled)


def load_texts(items: Iterable[tuple[PurePosixPath, bytes]], lines: bool = True,
               keyring: Keyring | None = None) -> Loaded:
    """Files given as (path, content), e.g. read from a git revision, by the same parse (and
    opened with `keyring`, when given)."""
    results = [open_letter(r, keyring) if isinstance(r, Letter) else r
               for r in (decode(raw, path, lines) for path, raw in items)]
    return _gather(results, parsed=len(results))


@collector_paused()  # 100 000 letters made: letterbox/core/memory.py
def load(root: Path, paths: Sequence[PurePosixPath] | None = None, *, lines: bool = True,
         cache: Path | None = None, pool: Executor | None = None, workers: int = 1,
         pool_min: int = POOL_MIN, keyring: Keyring | None = None) -> Loaded:
    """The case files of the repository at `root` (all of them, or `paths`), in path order.

    `lines`: keep each letter's line map (not with a `cache`: cached letters have none).
    `cache`: an SQLite file keeping the parsed documents by path, size and modification time.
    `pool`/`workers`: parse in worker processes (`pool`, else a pool of `workers` of its own)
    when `workers` > 1 and at least `pool_min` files are not in the cache.
    `keyring`: open the sealed letters (where they are parsed; those from the cache likewise,
    in the pool when there are `pool_min` of them); None: leave them sealed, `hidden` unset.
    """
    if lines and cache is not None:
        raise ValueError("a cache keeps no line maps: load with lines=False")
    paths = case_paths(root) if paths is None else list(paths)
    store = JsonCache(cache, CACHE_TABLE)
    stamps: dict[str, str] = {}
    if cache is not None:
        for path in paths:
            try:
                st = (root / path).stat()
            except OSError:
                continue  # read below, which names the problem
            stamps[str(path)] = f"{st.st_size}:{st.st_mtime_ns}"
    known = {key: value[1] for key, value in store.get(list(stamps)).items()
             if isinstance(value, list) and len(value) == 2 and value[0] == stamps[key]
             and isinstance(value[1], dict)}
    todo = [p for p in paths if str(p) not in known]
    sealed_known = [(key, data) for key, data in known.items() if keyring is not None and is_sealed(data)]
    pooled = workers > 1 and len(todo) >= pool_min
    open_pooled = workers > 1 and len(sealed_known) >= pool_min
    own = pool is None and (pooled or open_pooled)
    runner = pool if pool is not None or not own else _spawn_pool(workers)
    try:
        if not pooled:
            fresh = _read_chunk(root, todo, lines, keyring)
        else:
            assert runner is not None
            chunks = _chunks(todo, workers)
            fresh = [x for chunk in runner.map(_read_chunk, [root] * len(chunks), chunks,
                                               [lines] * len(chunks), [keyring] * len(chunks))
                     for x in chunk]
        unsealed: list[dict[str, Any] | str] = []
        if sealed_known and keyring is not None:
            blocks = [(str(data.get("letter_code", "")), data["sealed"]) for _key, data in sealed_known]
            if open_pooled and runner is not None:
                parts = _chunks(blocks, workers)
                unsealed = [x for part in runner.map(_unseal_chunk, parts, [keyring] * len(parts))
                            for x in part]
            else:
                unsealed = _unseal_chunk(blocks, keyring)
    finally:
        if own and runner is not None:
            runner.shutdown()
    by_path: dict[str, Letter | list[Problem]] = {str(p): r for p, r in zip(todo, fresh, strict=True)}
    store.put({key: [stamps[key], sealed_form(result.data)] for key, result in by_path.items()
               if isinstance(result, Letter) and key in stamps})
    for key, data in known.items():
        by_path[key] = Letter(path=PurePosixPath(key), data=data)
    for (key, data), result in zip(sealed_known, unsealed, strict=True):
        letter = by_path[key]
        assert isinstance(letter, Letter)
        if isinstance(result, dict):
            letter.data = {**data, **result}
        else:
            letter.hidden = result
    return _gather((by_path[str(p)] for p in paths), parsed=len(todo), pooled=pooled or open_pooled)


def _chunks(items: Sequence[Any], workers: int) -> list[Sequence[Any]]:
    size = -(-len(items) // (workers * 4))
    return [items[k:k + size] for k in range(0, len(items), size)]


def _spawn_pool(workers: int) -> ProcessPoolExecutor:
    import multiprocessing

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
