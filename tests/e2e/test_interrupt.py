"""Ctrl-C and kill -9 (issue 2, item 5): no half-written file, no partial commit, no gap.

SIGINT is held back while a transaction runs, so an interrupted batch stops between letters.
A transaction killed outright leaves a journal in .git/letterbox-txn.json; the next command
that writes undoes what it left behind.
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import (
    LETTERBOX_BIN,
    Repo,
    commit_count,
    git,
    head,
    porcelain,
    stray_files,
    submission,
)

SLOW_ITERATIONS = 150000
BATCH = 30


def slow_down(repo: Repo) -> None:
    """Raise the hash iterations so that a batch of 30 takes a few seconds."""
    config = repo.path / "letterbox.yaml"
    text = config.read_text("utf-8")
    config.write_text(text.replace("iterations: 1000", f"iterations: {SLOW_ITERATIONS}"), "utf-8")
    repo.git("commit", "-q", "-m", "Slow hashes for the interrupt tests", "--", "letterbox.yaml")


def letter_codes(repo: Repo) -> list[str]:
    return sorted(p.stem for p in (repo.path / "cases").rglob("*.yaml"))


def committed_codes(repo: Repo) -> list[str]:
    files = repo.git("ls-tree", "-r", "--name-only", "HEAD", "cases").split()
    return sorted(Path(f).stem for f in files if f.endswith(".yaml"))


def start_batch(repo: Repo) -> tuple[subprocess.Popen[str], int]:
    batch = repo.write_submission("batch.jsonl", [submission(n) for n in range(1, BATCH + 1)])
    count = commit_count(repo.path)
    proc = subprocess.Popen([LETTERBOX_BIN, "--repo", str(repo.path), "intake", str(batch), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy())
    return proc, count


def wait_for_letters(repo: Repo, proc: subprocess.Popen[str], count: int, letters: int) -> None:
    deadline = time.monotonic() + 60
    while commit_count(repo.path) < count + letters:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)


def assert_consistent(repo: Repo, count: int) -> list[str]:
    """Clean tree, every letter committed once, codes gap-free, validate clean."""
    assert porcelain(repo.path) == ""
    assert stray_files(repo.path) == []
    codes = letter_codes(repo)
    assert codes == committed_codes(repo)
    assert codes == [f"LA-2026-{n:05d}" for n in range(1, len(codes) + 1)]
    assert commit_count(repo.path) == count + len(codes)
    repo.run("validate")
    return codes


@pytest.mark.parametrize(("seed", "sig"), [(1, signal.SIGINT), (2, signal.SIGINT), (3, signal.SIGTERM)],
                         ids=["SIGINT-1", "SIGINT-2", "SIGTERM"])
def test_ctrl_c_during_batch_intake(case_repo: Repo, seed: int, sig: signal.Signals) -> None:
    slow_down(case_repo)
    proc, count = start_batch(case_repo)
    wait_for_letters(case_repo, proc, count, 1)
    time.sleep(random.Random(seed).uniform(0.0, 0.8))  # a random moment in the middle of the batch
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "已中断" in stderr
    assert "Traceback" not in stderr
    codes = assert_consistent(case_repo, count)
    assert 1 <= len(codes) < BATCH
    # the query code of every stored letter was shown, and of no other
    reported = json.loads(stdout)
    assert sorted(r["letter_code"] for r in reported) == codes
    # a later run carries on with the next code
    more = case_repo.write_submission("more.json", submission(99))
    assert case_repo.json("intake", str(more))[0]["letter_code"] == f"LA-2026-{len(codes) + 1:05d}"


def test_kill_during_batch_intake_then_next_command_recovers(case_repo: Repo) -> None:
    slow_down(case_repo)
    proc, count = start_batch(case_repo)
    wait_for_letters(case_repo, proc, count, 2)
    time.sleep(random.Random(4).uniform(0.0, 0.3))
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    stored = committed_codes(case_repo)
    assert len(stored) >= 2
    # the next command that writes recovers whatever the killed one left
    more = case_repo.write_submission("more.json", submission(99))
    accepted = case_repo.json("intake", str(more))
    assert accepted[0]["letter_code"] == f"LA-2026-{len(stored) + 1:05d}"
    codes = assert_consistent(case_repo, count)
    assert codes == [*stored, accepted[0]["letter_code"]]


# -- a killed transaction, reproduced exactly ------------------------------------------------
#
# The states below are what `Transaction` leaves on disk when the process dies at each point:
# they are made with real files and real git, then the next command must clean them up.


def journal(repo: Repo, files: dict[str, str | None], head_sha: str | None = None) -> None:
    record = {"head": head_sha or head(repo.path),
              "files": {k: None if v is None else base64.b64encode(v.encode()).decode() for k, v in files.items()}}
    (repo.path / ".git" / "letterbox-txn.json").write_text(json.dumps(record), "utf-8")


NEW = "cases/2026/03/LA-2026-00002.yaml"


def half_written_letter(repo: Repo) -> None:
    """Killed after the journal, during the atomic write of the new letter."""
    journal(repo, {NEW: None})
    (repo.path / "cases/2026/03/.tmp-k1ll3d.yaml").write_text("schema_version: 1\nletter_code: LA-20", "utf-8")


def written_not_staged(repo: Repo) -> None:
    journal(repo, {NEW: None})
    src = repo.letter_file("LA-2026-00001").read_text("utf-8")
    (repo.path / NEW).write_text(src.replace("LA-2026-00001", "LA-2026-00002"), "utf-8")


def staged_not_committed(repo: Repo) -> None:
    written_not_staged(repo)
    repo.git("add", NEW)


def killed_inside_git_commit(repo: Repo) -> None:
    staged_not_committed(repo)
    (repo.path / ".git" / "index.lock").write_bytes((repo.path / ".git" / "index").read_bytes())


def killed_while_writing_journal(repo: Repo) -> None:
    (repo.path / ".git" / ".tmp-j0urn4l.json").write_text('{"head": "', "utf-8")


def step_written_not_committed(repo: Repo) -> None:
    """A step on an existing letter: the new text is written, the commit never happened."""
    path = repo.letter_file("LA-2026-00001")
    old = path.read_text("utf-8")
    journal(repo, {"cases/2026/03/LA-2026-00001.yaml": old})
    path.write_text(old.replace("status: received", "status: classified"), "utf-8")
    repo.git("add", "cases/2026/03/LA-2026-00001.yaml")


def commit_landed_journal_left(repo: Repo) -> None:
    """Killed after the commit, before the journal was removed: nothing to undo."""
    before = head(repo.path)
    repo.intake(submission(2))
    journal(repo, {NEW: None}, head_sha=before)


def commit_landed_index_lock_left(repo: Repo) -> None:
    """Killed inside `git commit` after the ref moved, before the lock file was renamed."""
    before = head(repo.path)
    repo.intake(submission(2))
    journal(repo, {NEW: None}, head_sha=before)
    (repo.path / ".git" / "index.lock").write_bytes((repo.path / ".git" / "index").read_bytes())


KILLED = [half_written_letter, written_not_staged, staged_not_committed, killed_inside_git_commit,
          killed_while_writing_journal, step_written_not_committed, commit_landed_journal_left,
          commit_landed_index_lock_left]


@pytest.mark.parametrize("killed", KILLED, ids=[k.__name__ for k in KILLED])
@pytest.mark.parametrize("next_command", ["intake", "step"])
def test_next_command_recovers_killed_transaction(case_repo: Repo, killed, next_command: str) -> None:  # noqa: ANN001
    case_repo.new_letter(1)
    killed(case_repo)
    landed = committed_codes(case_repo)
    count = commit_count(case_repo.path)
    if next_command == "intake":
        more = case_repo.write_submission("more.json", submission(3))
        assert case_repo.json("intake", str(more))[0]["letter_code"] == f"LA-2026-{len(landed) + 1:05d}"
    else:
        case_repo.run("classify", "LA-2026-00001", "--category", "complaint")
        assert [e["action"] for e in case_repo.letter("LA-2026-00001")["history"]] == ["receive", "classify"]
    assert commit_count(case_repo.path) == count + 1
    assert case_repo.git("show", "--name-only", "--format=", "HEAD").count(".yaml") == 1
    assert not (case_repo.path / ".git" / "letterbox-txn.json").exists()
    assert list((case_repo.path / ".git").glob(".tmp-*")) == []
    assert_consistent(case_repo, commit_count(case_repo.path) - len(letter_codes(case_repo)))
    git(case_repo.path, "fsck", "--no-progress")
