"""Shared fixtures: a fresh case repository in a temporary folder, the CLI, and submissions.

The tests follow the layers: `unit/` (one module, literal inputs), `e2e/` (the real CLI, real
git repositories, real MkDocs and Pagefind builds, a real uvicorn server) and `browser/`
(Debian chromium through Playwright; marked `browser`, so `pytest -m "not browser"` skips them).

Everything is real: `letterbox.ops.scaffold.init_repository` makes a git repository, the CLI runs
through click's CliRunner (or as a subprocess for the concurrency and signal tests), and the
assertions look at HEAD, `git status --porcelain` and the files themselves.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from letterbox.cli.main import cli
from letterbox.ops.scaffold import init_repository

FAST_ITERATIONS = 1000
LETTERBOX_BIN = str(Path(sys.executable).with_name("letterbox"))
GIT_ENV = {
    "GIT_AUTHOR_NAME": "测试员", "GIT_AUTHOR_EMAIL": "tester@example.invalid",
    "GIT_COMMITTER_NAME": "测试员", "GIT_COMMITTER_EMAIL": "tester@example.invalid",
}

# Personal data used in submissions; tests check none of it leaks into commits or messages.
WRITER = {
    "name": "赵卫东",
    "phone": "13937212345",
    "email": "zhaoweidong@example.com",
    "address": "龙安区文昌大道街道梧桐小区3号楼2单元",
}


def submission(n: int = 1, **changes: Any) -> dict[str, Any]:
    """A valid submission in the exchange format; keyword None removes a field."""
    data: dict[str, Any] = {
        **WRITER,
        "title": f"文昌大道路灯不亮（第 {n} 封）",
        "body": f"文昌大道与中州路交叉口往东约两百米的路灯已经连续一周不亮，夜间行人不便。编号 {n}。",
        "submitted_at": "2026-03-02T09:15:00+08:00",
        "channel": "web",
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


BROWSER_DIR = Path(__file__).parent / "browser"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser/ is marked `browser`."""
    for item in items:
        if BROWSER_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def site_texts(site: Path) -> dict[str, str]:
    """Every file of a built site as text (by path), gzipped files (Pagefind's) decompressed;
    files named .gz are left out (their content is another file's)."""
    out = {}
    for path in sorted(p for p in site.rglob("*") if p.is_file() and p.suffix != ".gz"):
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        out[path.relative_to(site).as_posix()] = data.decode("utf-8", errors="ignore")
    return out


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True,
                          env={**os.environ, **GIT_ENV})
    return done.stdout


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def porcelain(repo: Path) -> str:
    return git(repo, "status", "--porcelain", "--untracked-files=all")


def commit_count(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "HEAD"))


@dataclass(frozen=True)
class Snapshot:
    """HEAD, index and working tree: what a refused command must leave as it was."""

    head: str
    status: str
    index: str
    files: dict[str, bytes]


def snapshot(repo: Path) -> Snapshot:
    files = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if rel == ".git" or rel.startswith(".git/") or not path.is_file():
            continue
        files[rel] = path.read_bytes()
    return Snapshot(head(repo), porcelain(repo), git(repo, "ls-files", "--stage"), files)


def stray_files(repo: Path) -> list[str]:
    """Temporary or lock files a transaction must never leave behind."""
    found = [p.relative_to(repo).as_posix() for p in repo.rglob(".tmp-*")]
    for name in ("index.lock", "letterbox-txn.json"):
        if (repo / ".git" / name).exists():
            found.append(f".git/{name}")
    return found


@dataclass
class Repo:
    """A case repository under test, with the CLI bound to it."""

    path: Path
    runner: CliRunner

    def run(self, *args: str, expect: int | None = 0) -> Result:
        result = self.runner.invoke(cli, ["--repo", str(self.path), *args], catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, (
                f"letterbox {' '.join(args)} → {result.exit_code}\nstdout:\n{result.stdout}\n"
                f"stderr:\n{result.stderr}"
            )
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def write_submission(self, name: str, content: Any, fmt: str | None = None) -> Path:
        """Write an intake file outside the repository (json, jsonl, yaml, or raw text)."""
        folder = self.path.parent / "inbox"
        folder.mkdir(exist_ok=True)
        target = folder / name
        fmt = fmt or target.suffix.lstrip(".")
        if isinstance(content, str):
            text = content
        elif fmt == "jsonl":
            text = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in content)
        elif fmt in ("yaml", "yml"):
            text = yaml.safe_dump(content, allow_unicode=True, sort_keys=False)
        else:
            text = json.dumps(content, ensure_ascii=False, indent=2)
        target.write_text(text, encoding="utf-8")
        return target

    def intake(self, *subs: dict[str, Any], name: str | None = None) -> list[dict[str, str]]:
        """Intake valid submissions; return the `--json` list of accepted letters."""
        name = name or ("one.json" if len(subs) == 1 else "batch.jsonl")
        content = subs[0] if len(subs) == 1 and not name.endswith(".jsonl") else list(subs)
        return self.json("intake", str(self.write_submission(name, content)))

    def new_letter(self, n: int = 1, **changes: Any) -> str:
        return self.intake(submission(n, **changes), name=f"one-{n}.json")[0]["letter_code"]

    def letter_file(self, code: str) -> Path:
        hits = list((self.path / "cases").glob(f"*/*/{code}.yaml"))
        assert len(hits) == 1, hits
        return hits[0]

    def letter(self, code: str) -> dict[str, Any]:
        return yaml.safe_load(self.letter_file(code).read_text("utf-8"))

    def show(self, code: str) -> dict[str, Any]:
        return self.json("show", code)

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def commit_all(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return head(self.path)


def ssh_key(folder: Path, name: str) -> Path:
    """A fresh SSH ed25519 key pair `folder/name` (+ .pub), made by ssh-keygen, no passphrase."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(folder / name)],
                   check=True)
    return folder / name


def lower_iterations(path: Path, iterations: int = FAST_ITERATIONS) -> None:
    config = path / "letterbox.yaml"
    text = config.read_text("utf-8")
    assert "iterations: 600000" in text
    config.write_text(text.replace("iterations: 600000", f"iterations: {iterations}"), "utf-8")
    git(path, "commit", "-q", "-m", f"Lower query-code iterations to {iterations} for tests", "--",
        "letterbox.yaml")


@pytest.fixture
def case_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A fresh case repository made by `letterbox init` at tmp_path/"repo", with fast hashes."""
    return make_case_repo(tmp_path, monkeypatch)


def make_case_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """`case_repo` for fixtures of a wider scope (pass a `pytest.MonkeyPatch()` of theirs)."""
    path = tmp_path / "repo"
    init_repository(path)
    lower_iterations(path)
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("LETTERBOX_REPO", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return Repo(path, CliRunner())


def refused(repo: Repo, *args: str, words: list[str], code: int = 1) -> str:
    """Run a command that must be refused; assert nothing changed (HEAD, index, working tree,
    no stray temporary or lock file) and the message names each of `words`; return it."""
    before = snapshot(repo.path)
    result = repo.run(*args, expect=code)
    assert snapshot(repo.path) == before
    assert stray_files(repo.path) == []
    message = result.stderr
    for word in words:
        assert word in message, (word, message)
    return message
