"""The one loader: the case files of a repository read into letters, and what could not be read.

Every reader goes through `load` (or `load_texts`, for files read from a git revision): a file
is either a letter or a located problem (YAML that does not parse, a key written twice, a
document that is not a mapping, a file that cannot be read), never dropped silently.

Options for the callers that need them: `lines` keeps the line map of each field (for the
problems of `validate` and `check`); `cache` keeps the parsed documents in an SQLite file, by
path, size and modification time (the build's cache; letters from it have no line map);
`pool` parses in worker processes when there are at least `pool_min` files to parse (the build
passes its own pool, which then redacts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from letterbox.core import yamlio
from letterbox.core.errors import LetterboxError, Problem
from letterbox.core.letter import CASES_DIR, Letter
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
    """Every case file in cases/ (.yaml or .yml, not hidden), also one at the wrong depth."""
    base = root / CASES_DIR
    if not base.is_dir():
        return []
    found = sorted(p for ext in ("*.yaml", "*.yml") for p in base.rglob(ext)
                   if p.is_file() and not p.name.startswith("."))
    return [PurePosixPath(p.relative_to(root).as_posix()) for p in found]


def parse(text: str, path: PurePosixPath, lines: bool = True) -> Letter | list[Problem]:
    """One case file's text: its letter, or the located problems why it is none."""
    try:
        data, line_map = yamlio.load(text, str(path))
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


def read(root: Path, path: PurePosixPath, lines: bool = True) -> Letter | list[Problem]:
    """One case file of the working tree: its letter, or its problems."""
    try:
        raw = (root / path).read_bytes()
    except OSError as exc:
        return [Problem(file=str(path), message=f"无法读取文件（{exc.strerror or exc.__class__.__name__}）。")]
    return decode(raw, path, lines)


def _read_chunk(root: Path, paths: Sequence[PurePosixPath], lines: bool) -> list[Letter | list[Problem]]:
    return [read(root, path, lines) for path in paths]


def _gather(results: Iterable[Letter | list[Problem]], parsed: int = 0, pooled: bool = False) -> Loaded:
    letters: list[Letter] = []
    problems: list[Problem] = []
    for result in results:
        if isinstance(result, Letter):
            letters.append(result)
        else:
            problems.extend(result)
    return Loaded(letters, problems, parsed, pooled)


def load_texts(items: Iterable[tuple[PurePosixPath, bytes]], lines: bool = True) -> Loaded:
    """Files given as (path, content), e.g. read from a git revision, by the same parse."""
    results = [decode(raw, path, lines) for path, raw in items]
    return _gather(results, parsed=len(results))


def load(root: Path, paths: Sequence[PurePosixPath] | None = None, *, lines: bool = True,
         cache: Path | None = None, pool: Executor | None = None, workers: int = 1,
         pool_min: int = POOL_MIN) -> Loaded:
    """The case files of the repository at `root` (all of them, or `paths`), in path order.

    `lines`: keep each letter's line map (not with a `cache`: cached letters have none).
    `cache`: an SQLite file keeping the parsed documents by path, size and modification time.
    `pool`/`workers`: parse in worker processes (`pool`, else a pool of `workers` of its own)
    when `workers` > 1 and at least `pool_min` files are not in the cache.
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
    pooled = workers > 1 and len(todo) >= pool_min
    if not pooled:
        fresh = _read_chunk(root, todo, lines)
    else:
        size = -(-len(todo) // (workers * 4))
        chunks = [todo[k:k + size] for k in range(0, len(todo), size)]
        own = pool is None
        runner = pool if pool is not None else _spawn_pool(workers)
        try:
            fresh = [x for chunk in runner.map(_read_chunk, [root] * len(chunks), chunks,
                                               [lines] * len(chunks)) for x in chunk]
        finally:
            if own:
                runner.shutdown()
    by_path: dict[str, Letter | list[Problem]] = {str(p): r for p, r in zip(todo, fresh, strict=True)}
    store.put({key: [stamps[key], result.data] for key, result in by_path.items()
               if isinstance(result, Letter) and key in stamps})
    for key, data in known.items():
        by_path[key] = Letter(path=PurePosixPath(key), data=data)
    return _gather((by_path[str(p)] for p in paths), parsed=len(todo), pooled=pooled)


def _spawn_pool(workers: int) -> ProcessPoolExecutor:
    import multiprocessing

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
