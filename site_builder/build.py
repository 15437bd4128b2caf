"""Build: select → redact → render → MkDocs → leak scan → move into place.

The same repository gives the same bytes: letters are iterated in code order and MkDocs runs
with SOURCE_DATE_EPOCH (from the environment, else the time of the repository's HEAD commit).
A build whose output still contains any writer's data fails and leaves the old site as it was.
"""

from __future__ import annotations

import gzip
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from letterbox.clock import work_calendar
from letterbox.errors import LetterboxError
from letterbox.letter import Letter
from letterbox.repository import Repository
from site_builder.lookup_index import write_lookup_index
from site_builder.redact import UnsafeLetter, Writer, needles, squash
from site_builder.redact_stage import CACHE_DIR, CACHE_FILE, redact_entries
from site_builder.render import mkdocs_yaml, render
from site_builder.select import Entry, select


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
    return sorted(set(words), key=len, reverse=True)


def redact_all(entries: Iterable[Entry], keep: list[str], cache: Path | None = None) -> list[Entry]:
    """Redacted entries; results cached per letter in `cache` (an SQLite file) when given."""
    try:
        return redact_entries(list(entries), keep, cache)[0]
    except UnsafeLetter as exc:
        raise LetterboxError(str(exc)) from None


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


def scan(site: Path, owners: dict[str, str]) -> list[tuple[str, str]]:
    """(file, letter code) for each file where a needle (squashed writer datum) occurs.

    Each file is read as text (HTML unescaped, JSON decoded, gzip and Pagefind files
    decompressed), cut at every `<` (no needle holds one, so none can span a cut) and each piece
    is squashed and searched once: the theme's markup repeated on every page is searched once
    for the whole site, so the scan stays linear in the letters' own text.
    """
    regex = _trie_regex(owners)
    if regex is None:
        return []
    cut = not any("<" in n for n in owners)
    hits: dict[str, tuple[str, ...]] = {}
    found = set()
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site).as_posix()
        names = {m.group() for m in regex.finditer(squash(rel))}
        for piece in _readable(path).split("<") if cut else [_readable(path)]:
            known = hits.get(piece)
            if known is None:
                known = hits[piece] = tuple({m.group() for m in regex.finditer(squash(piece))})
            names.update(known)
        found.update((rel, owners[n]) for n in names)
    return sorted(found)


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


def run_mkdocs(project: Path, site: Path, epoch: int) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch), "PYTHONHASHSEED": "0",
           "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(project / "mkdocs.yml"),
           "-d", str(site)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LetterboxError(f"MkDocs 构建失败：{done.stderr.strip()[-2000:]}")


class _Stopwatch:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.times[stage] = round(now - self._last, 3)
        self._last = now


def run_pagefind(site: Path) -> None:
    """Index the built site with Pagefind (extended build: segments Chinese), offline."""
    cmd = [sys.executable, "-m", "pagefind", "--site", str(site), "--output-subdir", "pagefind"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env={**os.environ, "PAGEFIND_SITE": str(site)})
    if done.returncode != 0 or not (site / "pagefind" / "pagefind.js").exists():
        raise LetterboxError(f"Pagefind 建立搜索索引失败：{(done.stderr or done.stdout).strip()[-2000:]}")


def build_site(repo: Repository, out: Path, *, cache: bool = True) -> BuildReport:
    """Build the public board of `repo` into `out` (replaced only when the build is clean).

    Redaction results are cached per letter in `.letterbox-cache/` of the repository unless
    `cache` is False or the environment sets LETTERBOX_NO_CACHE=1.
    """
    watch = _Stopwatch()
    epoch = source_epoch(repo)
    today = datetime.fromtimestamp(epoch, UTC).astimezone(repo.config.tz).date()
    letters = repo.letters()
    entries = select(letters, repo.config, work_calendar(repo.root))
    watch.lap("select")
    use_cache = cache and os.environ.get("LETTERBOX_NO_CACHE") != "1"
    public = redact_all(entries, keep_words(repo), repo.root / CACHE_DIR / CACHE_FILE if use_cache else None)
    watch.lap("redact")
    site = render(public, repo.config, today)
    watch.lap("render")
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".site-", dir=out.parent) as tmp:
        project, built = Path(tmp) / "project", Path(tmp) / "site"
        write_project(project, site.files, mkdocs_yaml(site.mkdocs))
        run_mkdocs(project, built, epoch)
        watch.lap("mkdocs")
        run_pagefind(built)
        watch.lap("pagefind")
        write_lookup_index(repo, built)  # lookup/: fresh nonces, so not byte-reproducible
        watch.lap("lookup")
        leaked = scan(built, writer_needles(repo, letters))
        watch.lap("scan")
        if leaked:
            where = "；".join(f"{code} → {file}" for file, code in leaked[:10])
            raise LeakFound(f"构建结果中仍有来信人的个人信息，已停止发布（信件 → 文件）：{where}")
        if out.exists():
            shutil.rmtree(out)
        built.rename(out)
    files = sum(1 for p in out.rglob("*") if p.is_file())
    return BuildReport(out=out, letters=len(public), files=files, epoch=epoch, timings=watch.times)
