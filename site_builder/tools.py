"""The build's outside tools: MkDocs (the site's pages) and Pagefind (the search index).

Both run as subprocesses beside the build's own work: `start_*` returns at once, `finish_*`
waits and raises a LetterboxError with the tool's message when it failed. MkDocs runs with
SOURCE_DATE_EPOCH and a fixed hash seed (the same repository gives the same bytes) and, like
the leak scan's workers, at a lower priority: Pagefind is the longest stage.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from letterbox.core.errors import LetterboxError
from site_builder.shell import SHELL_DIR

BACKGROUND_NICE = 10  # scan workers and MkDocs yield the CPU to Pagefind, the longest stage
PAGEFIND_DIR = "pagefind"  # the index of a board without letters (its own pages)
PAGEFIND_PARTS = "pagefind-parts.json"  # the site's list of its Pagefind bundles (assets/search.js)
# The search index is made in parts, one Pagefind bundle each (docs/site.md, "Parts"): a changed
# letter makes its part's bundle again (Pagefind ~1.75 ms a page: 1.8 s for 1 000, 3.5 s for
# 2 000), and every search loads each bundle's metadata and an index chunk of ~20 KB whatever its
# size. So parts of SEARCH_PART letters, doubled while the board would have more than
# SEARCH_BUNDLES of them: 1 000 up to 50 000 letters, 2 000 up to 100 000, 4 000 up to 200 000.
SEARCH_PART = 1000
SEARCH_BUNDLES = 50
_CODE_NUMBER = re.compile(r"(.*?)(\d+)")
_PART_SIZE = re.compile(r"[1-9][0-9]{0,8}")


def search_part_size(letters: int) -> int:
    """Letters per part of the search index for a board of `letters` public letters:
    SEARCH_PART doubled until SEARCH_BUNDLES parts hold them, or LETTERBOX_SEARCH_PART when set
    (the tests use 1: a bundle per letter)."""
    value = os.environ.get("LETTERBOX_SEARCH_PART", "").strip()
    if value:
        if _PART_SIZE.fullmatch(value) is None:
            raise LetterboxError(f"环境变量 LETTERBOX_SEARCH_PART 应为 1 到 999999999 之间的整数"
                                 f"（每个检索分片的来信数），现为 {value[:40]!r}。")
        return int(value)
    size = SEARCH_PART
    while letters > SEARCH_BUNDLES * size:
        size *= 2
    return size


def search_part(code: str, size: int) -> str:
    """The part of the search index a letter belongs to: its code's prefix (unit and year) and
    the range of `size` numbers its number is in, e.g. LA-2025-00001 → LA-2025-0 (size 1 000).
    Stable while the size is: a letter stays in its part, and new letters fill the last part of
    their year. The build records the size (`Manifest.search_part`): another size files every
    search page anew and indexes every part again."""
    m = _CODE_NUMBER.fullmatch(code)
    if m is None:
        return "x"
    return f"{m.group(1)}{(int(m.group(2)) - 1) // size}"


def part_dir(part: str) -> str:
    """The site folder of a part's Pagefind bundle."""
    return f"{PAGEFIND_DIR}-{part}"


def lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # os.nice: POSIX only
        os.nice(BACKGROUND_NICE)


# --------------------------------------------------------------------------- MkDocs


def write_project(project: Path, files: dict[str, str], mkdocs: str) -> None:
    docs = project / "docs"
    for rel, text in files.items():
        target = docs / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (project / "mkdocs.yml").write_text(mkdocs, encoding="utf-8")


def start_mkdocs(project: Path, site: Path, epoch: int, dirty: bool = False) -> subprocess.Popen[str]:
    """MkDocs builds `project` into `site`; `dirty`: only the pages whose Markdown is newer than
    their HTML (the site's other files as they are: the build keeps them, build.py)."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch), "PYTHONHASHSEED": "0",
           "PYTHONWARNINGS": "ignore"}
    run = (f"import os, runpy; os.nice({BACKGROUND_NICE}) if hasattr(os, 'nice') else None; "
           "runpy.run_module('mkdocs', run_name='__main__', alter_sys=True)")
    cmd = [sys.executable, "-c", run, "build", "-q", "-f", str(project / "mkdocs.yml"), "-d", str(site)]
    if dirty:
        cmd.append("--dirty")
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_mkdocs(proc: subprocess.Popen[str]) -> None:
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise LetterboxError(f"MkDocs 构建失败：{err.strip()[-2000:]}")


def run_mkdocs(project: Path, site: Path, epoch: int) -> None:
    finish_mkdocs(start_mkdocs(project, site, epoch))


# --------------------------------------------------------------------------- Pagefind


def write_search_source(root: Path, pages: dict[str, str], size: int,
                        kept: dict[str, str] | None = None) -> None:
    """<part>/letters/<code>.html: each letter's searchable text alone (render.search_pages),
    in the folder of its part (`search_part`), which Pagefind indexes on its own.

    Pagefind reads these rather than the built pages, so it can index while MkDocs builds. One
    folder for all (a folder per letter doubled the cost of writing them); Pagefind records
    their URLs as /letters/<code>.html, which the search page (assets/search.js) turns into
    the letter pages' /letters/<code>/.
    """
    for code, text in pages.items():
        d = hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
        if kept is None or kept.get(code) != d:  # `kept`: code → digest of the page written
            folder = root / search_part(code, size) / SHELL_DIR
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{code}.html").write_text(text, encoding="utf-8")
            if kept is not None:
                kept[code] = d


def drop_search_source(root: Path, public: set[str], kept: dict[str, str], size: int) -> None:
    """Remove the pages of the letters no longer public (kept: code → digest)."""
    for code in [c for c in kept if c not in public]:
        (root / search_part(code, size) / SHELL_DIR / f"{code}.html").unlink(missing_ok=True)
        del kept[code]


def start_pagefind(site: Path, output: Path) -> subprocess.Popen[str]:
    """Index the pages under `site` into `output` with Pagefind (extended build: segments
    Chinese), offline."""
    cmd = [sys.executable, "-m", "pagefind", "--site", str(site), "--output-path", str(output)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PAGEFIND_SITE": str(site)})


def ended(proc: subprocess.Popen[str], seconds: float) -> bool:
    """Whether `proc` ended within `seconds`."""
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


PAGEFIND_JOBS = 2  # Pagefind runs at once (LETTERBOX_PAGEFIND_JOBS overrides; at most the cores)


def pagefind_jobs() -> int:
    """How many Pagefind runs go at once: one run keeps ~1.3 cores busy (its Chinese word
    splitting is one thread), so two use a 2-core machine fully during a build of many parts;
    each takes ~550 MB for a part of 2 000 letters."""
    value = os.environ.get("LETTERBOX_PAGEFIND_JOBS", "")
    wanted = int(value) if value.isdigit() and int(value) > 0 else PAGEFIND_JOBS
    return max(1, min(wanted, os.cpu_count() or 1))


class PagefindParts:
    """Pagefind run on each part's source folder (`pagefind_jobs` at a time), in threads beside
    the build's other work. `finish` waits for all and raises the first failure; `kill` stops
    the runs under way and starts no other."""

    def __init__(self, jobs: list[tuple[Path, Path]], workers: int | None = None) -> None:
        self.jobs = list(jobs)
        self.todo = list(reversed(self.jobs))  # popped from the end: in the order given
        self.procs: list[subprocess.Popen[str]] = []
        self.error: LetterboxError | None = None
        self.stopped = False
        self.lock = threading.Lock()
        count = max(1, min(workers or pagefind_jobs(), len(self.jobs)))
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(count)]
        for thread in self.threads:
            thread.start()

    def _run(self) -> None:
        while True:
            with self.lock:
                if self.stopped or self.error is not None or not self.todo:
                    return
                site, output = self.todo.pop()
                try:
                    proc = start_pagefind(site, output)
                except OSError as exc:  # no Python to run it, too many processes …
                    if self.error is None:
                        self.error = LetterboxError(f"Pagefind 无法启动：{exc}")
                    return
                self.procs.append(proc)
            try:
                finish_pagefind(proc, output)
            except LetterboxError as exc:
                with self.lock:
                    if self.error is None:
                        self.error = exc
                return
            finally:
                with self.lock:
                    self.procs.remove(proc)

    def finish(self) -> None:
        for thread in self.threads:
            thread.join()
        if self.error is not None and not self.stopped:
            raise self.error

    def kill(self) -> None:
        with self.lock:
            self.stopped = True
            for proc in self.procs:
                proc.kill()
        for thread in self.threads:
            thread.join()


@contextlib.contextmanager
def ended_on_error(proc: subprocess.Popen[str] | PagefindParts | None) -> Iterator[None]:
    """Stop a subprocess of the build when the work done beside it fails."""
    try:
        yield
    except BaseException:
        if proc is None:
            raise
        proc.kill()
        if isinstance(proc, subprocess.Popen):
            proc.communicate()
        raise
