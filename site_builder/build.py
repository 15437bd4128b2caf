"""Build: select → redact → render → MkDocs → leak scan → move into place.

The same repository gives the same bytes: letters are iterated in code order and MkDocs runs
with SOURCE_DATE_EPOCH (from the environment, else the time of the repository's HEAD commit).
A build whose output still contains any writer's data fails and leaves the old site as it was.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import html
import json
import multiprocessing
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from letterbox.core.clock import work_calendar
from letterbox.core.errors import LetterboxError
from letterbox.core.letter import Letter, read_letter
from letterbox.privacy.redact import UnsafeLetter, Writer, needles, squash
from letterbox.reports.analysis import Group, breakdown, collect_facts
from letterbox.store.repository import Repository
from site_builder.lookup_index import LOOKUP_DIR, write_lookup_index
from site_builder.redact_stage import (
    CACHE_DIR,
    CACHE_FILE,
    LETTERS_FILE,
    JsonCache,
    Redaction,
    default_workers,
    warm_up,
    worker_pool,
)
from site_builder.render import FIELDS, letter_markdown, mkdocs_yaml, render, search_pages
from site_builder.select import Entry, select
from site_builder.shell import (
    SHELL_DIR,
    SHELLS,
    LetterContent,
    convert,
    converter,
    fill,
    fix_sitemap,
    load_shell,
)


@dataclass(frozen=True)
class BuildReport:
    out: Path
    letters: int
    files: int
    epoch: int
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage


class LeakFound(LetterboxError):
    """A writer's data is in the built output."""


def source_epoch(repo: Repository) -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value and value.isdigit():
        return int(value)
    return int(repo.git.head.commit.committed_date)


def keep_words(repo: Repository) -> list[str]:
    """Public names the name finder must not mask: units, the office, the government."""
    config = repo.config
    words = [u.name for u in config.units] + [config.office_name, config.government,
                                               config.district, config.mailbox_name]
    # longest first, then by text: the order (part of the redaction cache key) must not
    # depend on the process's hash seed, or every build in a new process misses the cache
    return sorted(set(words), key=lambda w: (-len(w), w))


# --------------------------------------------------------------------------- reading

READ_POOL_MIN = 2000  # fewer case files than this: read in this process


def _read_chunk(root: Path, paths: list[PurePosixPath]) -> list[Letter]:
    out = []
    for path in paths:
        with contextlib.suppress(LetterboxError):
            letter = read_letter(root, path)
            out.append(Letter(path=letter.path, data=letter.data))  # no line map: not needed here
    return out


def read_letters(repo: Repository, workers: int | None = None, cache: Path | None = None,
                 pool: Executor | None = None) -> list[Letter]:
    """`repo.letters()` (without line maps): the YAML parsed in a pool of processes when there
    are many (`pool`, else one of its own), and kept in `cache` (SQLite, by path, size and
    modification time) when given."""
    paths = repo.letter_paths()
    stamps = {}
    for path in paths:
        st = (repo.root / path).stat()
        stamps[str(path)] = f"{st.st_size}:{st.st_mtime_ns}"
    store = JsonCache(cache, "letters")
    known = {k: v[1] for k, v in store.get(list(stamps)).items() if v[0] == stamps[k]}
    todo = [p for p in paths if str(p) not in known]
    workers = workers or default_workers()
    if workers <= 1 or len(todo) < READ_POOL_MIN:
        fresh = _read_chunk(repo.root, todo)
    else:
        size = -(-len(todo) // (workers * 4))
        chunks = [todo[k:k + size] for k in range(0, len(todo), size)]
        with contextlib.ExitStack() as stack:
            shared = pool is not None
            if pool is None:
                pool = stack.enter_context(ProcessPoolExecutor(
                    workers, mp_context=multiprocessing.get_context("spawn")))
            fresh = [x for chunk in pool.map(_read_chunk, [repo.root] * len(chunks), chunks) for x in chunk]
            if shared:  # many files new to the cache: the pool will redact them next, its
                for _ in range(workers):  # workers load the tagger meanwhile
                    pool.submit(warm_up)
    store.put({str(x.path): [stamps[str(x.path)], x.data] for x in fresh})
    by_path = {**{str(x.path): x for x in fresh},
               **{k: Letter(path=PurePosixPath(k), data=v) for k, v in known.items()}}
    return [by_path[str(p)] for p in paths if str(p) in by_path]


# --------------------------------------------------------------------------- leak scan


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
    _lower_priority()
    _WORKER["searcher"] = _Searcher(needles)


BACKGROUND_NICE = 10  # scan workers and MkDocs yield the CPU to Pagefind, the longest stage


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # os.nice: POSIX only
        os.nice(BACKGROUND_NICE)


def _scan_chunk(site: Path, paths: list[Path]) -> list[tuple[Path, tuple[str, ...]]]:
    searcher = _WORKER["searcher"]
    return [(path, searcher.file(site, path)) for path in paths]


def _convert_chunk(extensions: tuple[str, ...], items: list[tuple[str, str, str]]
                   ) -> list[tuple[str, tuple[str, str, tuple]]]:
    """Letter Markdown → (code, (shell key, content HTML, toc shape)), one converter per process."""
    md = _CONVERTERS.get(extensions)
    if md is None:
        md = _CONVERTERS[extensions] = converter(extensions)
    return [(code, (key, *convert(md, text))) for code, key, text in items]


_CONVERTERS: dict[tuple[str, ...], Any] = {}
CONVERT_CHUNK = 500  # letters per task

SCAN_CHUNK = 250  # files per task of the scan pool
SCAN_POOL_MIN = 2000  # fewer letters than this: scan in this process


class Scanner:
    """Searches files for needles (squashed writer data) → (file, letter code) hits.

    Each file is read as text (HTML unescaped, JSON decoded, gzip and Pagefind files
    decompressed), cut at every `<` (no needle holds one, so none can span a cut) and each piece
    is squashed and searched once: the theme's markup repeated on every page is searched once
    for the whole site (per process), so the scan stays linear in the letters' own text.

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

    def convert(self, extensions: Sequence[str], letters: dict[str, tuple[str, str]]
                ) -> dict[str, tuple[str, str, tuple]]:
        """Each letter's Markdown converted (in the pool, when there is one), in code order."""
        items = [(code, key, text) for code, (key, text) in letters.items()]
        chunks = [items[k:k + CONVERT_CHUNK] for k in range(0, len(items), CONVERT_CHUNK)]
        if self.pool is None:
            return dict(x for chunk in chunks for x in _convert_chunk(tuple(extensions), chunk))
        done = self.pool.map(_convert_chunk, [tuple(extensions)] * len(chunks), chunks)
        return dict(x for chunk in done for x in chunk)

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


# --------------------------------------------------------------------------- build


def write_project(project: Path, files: dict[str, str], mkdocs: str) -> None:
    docs = project / "docs"
    for rel, text in files.items():
        target = docs / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (project / "mkdocs.yml").write_text(mkdocs, encoding="utf-8")


def start_mkdocs(project: Path, site: Path, epoch: int) -> subprocess.Popen[str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch), "PYTHONHASHSEED": "0",
           "PYTHONWARNINGS": "ignore"}
    run = (f"import os, runpy; os.nice({BACKGROUND_NICE}) if hasattr(os, 'nice') else None; "
           "runpy.run_module('mkdocs', run_name='__main__', alter_sys=True)")
    cmd = [sys.executable, "-c", run, "build", "-q", "-f", str(project / "mkdocs.yml"), "-d", str(site)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_mkdocs(proc: subprocess.Popen[str]) -> None:
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise LetterboxError(f"MkDocs 构建失败：{err.strip()[-2000:]}")


def run_mkdocs(project: Path, site: Path, epoch: int) -> None:
    finish_mkdocs(start_mkdocs(project, site, epoch))


class _Stopwatch:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.times[stage] = round(self.times.get(stage, 0) + now - self._last, 3)
        self._last = now


PAGEFIND_DIR = "pagefind"


def write_search_source(root: Path, pages: dict[str, str]) -> None:
    """letters/<code>.html: each letter's searchable text alone (render.search_pages).

    Pagefind reads these rather than the built pages, so it can index while MkDocs builds. One
    folder for all (a folder per letter doubled the cost of writing them); Pagefind records
    their URLs as /letters/<code>.html, which the search page (assets/search.js) turns into
    the letter pages' /letters/<code>/.
    """
    folder = root / SHELL_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for code, text in pages.items():
        (folder / f"{code}.html").write_text(text, encoding="utf-8")


def start_pagefind(site: Path, output: Path) -> subprocess.Popen[str]:
    """Index the pages under `site` into `output` with Pagefind (extended build: segments
    Chinese), offline."""
    cmd = [sys.executable, "-m", "pagefind", "--site", str(site), "--output-path", str(output)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PAGEFIND_SITE": str(site)})


PAGEFIND_POLL = 2.0  # seconds between looks at Pagefind's new files


def _ended(proc: subprocess.Popen[str], seconds: float) -> bool:
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def finish_pagefind(proc: subprocess.Popen[str], output: Path) -> None:
    out, err = proc.communicate()
    if proc.returncode != 0 or not (output / "pagefind.js").exists():
        raise LetterboxError(f"Pagefind 建立搜索索引失败：{(err or out).strip()[-2000:]}")


def run_pagefind(site: Path) -> None:
    """Index a built site in place (its pages with data-pagefind-body, else all of them)."""
    finish_pagefind(start_pagefind(site, site / PAGEFIND_DIR), site / PAGEFIND_DIR)


@contextlib.contextmanager
def _ended_on_error(proc: subprocess.Popen[str] | None) -> Iterator[None]:
    """Stop a subprocess of the build when the work done beside it fails."""
    try:
        yield
    except BaseException:
        if proc is None:
            raise
        proc.kill()
        proc.communicate()
        raise


def published_figures(letters: Sequence[Letter], public: Sequence[Entry], repo: Repository,
                      today: date) -> dict[str, list[Group]]:
    """`letterbox analyse`'s figures (analysis.breakdown) over the letters on the board only,
    so that the statistics tell nothing about withheld, rejected or open letters."""
    shown = {e.code for e in public}
    mine = [x for x in letters if x.code in shown]
    days = [x.submitted_at.astimezone(repo.config.tz).date() for x in mine]
    first = min(days, default=today)
    facts = collect_facts(mine, repo.config, work_calendar(repo.root), first, today, timing_only=True)
    return breakdown(facts, repo.config)


def _redact_and_prepare(repo: Repository, letters: list[Letter], entries: list[Entry], today: date,
                        staging: Path, source: Path, cache: Path | None, pool: Executor | None = None
                        ) -> tuple[list[Entry], dict[str, list[Group]], dict[str, str]]:
    """Redact the entries in worker processes while this one writes what needs no redacted text
    (the statistics, the writers' data to scan for, the lookup index into `staging`), then the
    pages Pagefind indexes (into `source`) for each batch as it comes back."""
    try:
        with Redaction(entries, keep_words(repo), cache, pool=pool) as redaction:
            figures = published_figures(letters, entries, repo, today)
            owners = writer_needles(repo, letters)
            # lookup/: fresh nonces, not byte-reproducible
            write_lookup_index(repo, staging, letters, published={e.code for e in entries})
            done: dict[int, Entry] = {}
            for batch in redaction.batches():
                write_search_source(source, search_pages([e for _, e in batch]))
                done.update(batch)
    except UnsafeLetter as exc:
        raise LetterboxError(str(exc)) from None
    return [done[i] for i in range(len(entries))], figures, owners


def build_site(repo: Repository, out: Path, *, cache: bool = True) -> BuildReport:
    """Build the public board of `repo` into `out` (replaced only when the build is clean).

    Redaction results are cached per letter in `.letterbox-cache/` of the repository unless
    `cache` is False or the environment sets LETTERBOX_NO_CACHE=1.
    """
    watch = _Stopwatch()
    epoch = source_epoch(repo)
    today = datetime.fromtimestamp(epoch, UTC).astimezone(repo.config.tz).date()
    use_cache = cache and os.environ.get("LETTERBOX_NO_CACHE") != "1"
    with worker_pool() as pool:  # reads the case files, then redacts
        letters = read_letters(repo, cache=repo.root / CACHE_DIR / LETTERS_FILE if use_cache else None,
                               pool=pool)
        gc.freeze()  # the letters stay to the end: not walked again by every collection
        try:
            return _build(repo, out, letters, today, epoch, use_cache, pool, watch)
        finally:
            gc.unfreeze()


def _build(repo: Repository, out: Path, letters: list[Letter], today: date, epoch: int,
           use_cache: bool, pool: Executor, watch: _Stopwatch) -> BuildReport:
    entries = select(letters, repo.config, work_calendar(repo.root))
    watch.lap("select")
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".site-", dir=out.parent) as tmp:
        project, built, search = Path(tmp) / "project", Path(tmp) / "site", Path(tmp) / "search"
        staging = Path(tmp) / "staging"
        public, figures, owners = _redact_and_prepare(
            repo, letters, entries, today, staging, search / "site",
            repo.root / CACHE_DIR / CACHE_FILE if use_cache else None, pool)
        pool.shutdown()
        watch.lap("redact")
        # Pagefind, the longest stage, indexes the letters' text while the rest is built
        pagefind = start_pagefind(search / "site", search / PAGEFIND_DIR) if public else None
        with _ended_on_error(pagefind):
            leaked, files = _build_pages(repo, letters, public, figures, owners, today, epoch,
                                         project, built, staging, search, pagefind, watch)
        if leaked:
            where = "；".join(f"{code} → {file}" for file, code in leaked[:10])
            raise LeakFound(f"构建结果中仍有来信人的个人信息，已停止发布（信件 → 文件）：{where}")
        if out.exists():
            shutil.rmtree(out)
        built.rename(out)
    return BuildReport(out=out, letters=len(public), files=files, epoch=epoch, timings=watch.times)


def _build_pages(repo: Repository, letters: list[Letter], public: list[Entry],
                 figures: dict[str, list[Group]], owners: dict[str, str], today: date, epoch: int,
                 project: Path, built: Path, staging: Path, search: Path,
                 pagefind: subprocess.Popen[str] | None, watch: _Stopwatch
                 ) -> tuple[list[tuple[str, str]], int]:
    """MkDocs pages, letter pages, lookup index and search index into `built`; the leak scan's
    hits (file, letter code) and the number of files (all of them searched)."""
    site = render(public, repo.config, today, figures)
    workers = default_workers() if len(letters) >= SCAN_POOL_MIN else 1
    watch.lap("render")
    with Scanner(built, owners, workers) as scanner:  # its pool starts meanwhile
        write_project(project, site.files, mkdocs_yaml(site.mkdocs))
        mkdocs = start_mkdocs(project, built, epoch)
        with _ended_on_error(mkdocs):  # while MkDocs builds the other pages: the letters'
            md = converter(site.mkdocs["markdown_extensions"])
            pages = scanner.convert(site.mkdocs["markdown_extensions"], site.letters)
            if site.plain:
                fast = LetterContent(md, letter_markdown, FIELDS)
                pages.update((code, ("plain", fast.content(f), fast.toc))
                             for code, f in site.plain.items())
        watch.lap("render")
        finish_mkdocs(mkdocs)
        if pages:
            shells = {key: load_shell(built, name, site.files[f"{SHELL_DIR}/{name}.md"], md)
                      for key, name in SHELLS.items()}
            fill(built, shells, pages)
            fix_sitemap(built, sorted(pages), epoch)
        (built / LOOKUP_DIR).mkdir(exist_ok=True)
        for part in (staging / LOOKUP_DIR).iterdir():  # meta.json, shards/ beside the lookup page
            part.rename(built / LOOKUP_DIR / part.name)
        watch.lap("mkdocs")
        scanner.submit(scanner.files())
        if pagefind is None:  # no letters: Pagefind indexes the site's pages, so that the
            run_pagefind(built)  # search page still finds its (empty) index
        else:  # its files searched as Pagefind writes them (those changed later, again)
            index = search / PAGEFIND_DIR
            while not _ended(pagefind, PAGEFIND_POLL):
                scanner.submit(scanner.files(index), search)
            finish_pagefind(pagefind, index)
            scanner.submit(scanner.files(index), search)
            scanner.settle()  # every look at the index done before it moves
            index.rename(built / PAGEFIND_DIR)
            scanner.moved(index, built / PAGEFIND_DIR)
        watch.lap("pagefind")
        scanner.submit(scanner.files())  # pagefind/, and any file changed meanwhile
        leaked = scanner.result()
        watch.lap("scan")
        return leaked, len(scanner.seen)
