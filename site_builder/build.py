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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from letterbox.clock import work_calendar
from letterbox.errors import LetterboxError
from letterbox.repository import Repository
from site_builder.lookup_index import write_lookup_index
from site_builder.redact import UnsafeLetter, Writer, needles, redact_entry, squash
from site_builder.render import mkdocs_yaml, render
from site_builder.select import Entry, select


@dataclass(frozen=True)
class BuildReport:
    out: Path
    letters: int
    files: int
    epoch: int


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


def redact_all(entries: Iterable[Entry], keep: list[str]) -> list[Entry]:
    try:
        return [redact_entry(e, keep) for e in entries]
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
        alts = [re.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 and "" not in node else "(?:" + "|".join(alts) + ")"
        return body + "?" if "" in node and alts else body

    return re.compile(pattern(trie)) if trie else None


def _readable(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    text = data.decode("utf-8", errors="ignore")
    if path.suffix == ".json":
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return html.unescape(text)


def scan(site: Path, owners: dict[str, str]) -> list[tuple[str, str]]:
    """(file, letter code) for each file where a needle (squashed writer datum) occurs."""
    regex = _trie_regex(owners)
    if regex is None:
        return []
    found = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site).as_posix()
        flat = squash(rel) + "\n" + squash(_readable(path))
        for m in regex.finditer(flat):
            found.append((rel, owners[m.group()]))
    return sorted(set(found))


def writer_needles(repo: Repository) -> dict[str, str]:
    """Every writer's data in the repository (public or not), squashed → letter code."""
    owners: dict[str, str] = {}
    for letter in sorted(repo.letters(), key=lambda x: x.code):
        for needle in needles(Writer.from_data(letter.data.get("writer"))):
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


def build_site(repo: Repository, out: Path) -> BuildReport:
    """Build the public board of `repo` into `out` (replaced only when the build is clean)."""
    epoch = source_epoch(repo)
    today = datetime.fromtimestamp(epoch, UTC).astimezone(repo.config.tz).date()
    entries = select(repo.letters(), repo.config, work_calendar(repo.root))
    public = redact_all(entries, keep_words(repo))
    site = render(public, repo.config, today)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".site-", dir=out.parent) as tmp:
        project, built = Path(tmp) / "project", Path(tmp) / "site"
        write_project(project, site.files, mkdocs_yaml(site.mkdocs))
        run_mkdocs(project, built, epoch)
        write_lookup_index(repo, built)  # lookup/: fresh nonces, so not byte-reproducible
        leaked = scan(built, writer_needles(repo))
        if leaked:
            where = "；".join(f"{code} → {file}" for file, code in leaked[:10])
            raise LeakFound(f"构建结果中仍有来信人的个人信息，已停止发布（信件 → 文件）：{where}")
        if out.exists():
            shutil.rmtree(out)
        built.rename(out)
    files = sum(1 for p in out.rglob("*") if p.is_file())
    return BuildReport(out=out, letters=len(public), files=files, epoch=epoch)
