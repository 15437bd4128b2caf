"""Issue 22, point 1: a batch intake killed outright loses no query code of a committed letter.

`letterbox intake FILE --receipts OUT` appends each letter's codes to OUT the moment its commit
lands; a write-ahead record under .git/letterbox/ covers the instant between the two, and the
next `letterbox intake` (or `intake --recover`) writes what a killed run left pending. Real
processes, real SIGKILL; the one instant a random kill rarely hits (after the commit, before
the receipt) is reached with a real git post-commit hook that sleeps.
"""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import time
from pathlib import Path

from letterbox.core import codes
from letterbox.store.repository import Repository
from tests.conftest import LETTERBOX_BIN, WRITER, Repo, submission
from tests.e2e.test_interrupt import slow_down

BATCH = 40


def committed(repo: Repo) -> list[str]:
    files = repo.git("ls-tree", "-r", "--name-only", "HEAD", "cases").split()
    return sorted(Path(f).stem for f in files if f.endswith(".yaml"))


def receipts(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    out: dict[str, str] = {}
    for row in rows:
        assert row["letter_code"] not in out, "a receipt written twice"
        out[row["letter_code"]] = row["query_code"]
    return out


def start(repo: Repo, out: Path, *extra: str) -> subprocess.Popen[str]:
    batch = repo.write_submission("batch.jsonl", [submission(n) for n in range(1, BATCH + 1)])
    return subprocess.Popen([LETTERBOX_BIN, "--repo", str(repo.path), "intake", str(batch),
                             "--receipts", str(out), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy(), start_new_session=True)


def wait_for(condition, proc: subprocess.Popen[str], seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)


def assert_every_committed_letter_has_its_code(repo: Repo, out: Path) -> dict[str, str]:
    done = committed(repo)
    got = receipts(out)
    assert sorted(got) == done
    config = Repository(repo.path).config
    for code, query in got.items():
        assert codes.verify_query_code(query, code, config.salt, repo.letter(code)["query_hash"]), code
    return got


def test_sigkill_in_the_middle_of_a_40_letter_batch(case_repo: Repo) -> None:
    slow_down(case_repo)  # a batch of 40 takes several seconds
    out = case_repo.path.parent / "receipts.jsonl"
    before = len(committed(case_repo))
    proc = start(case_repo, out)
    wait_for(lambda: len(committed(case_repo)) >= before + 5, proc)
    time.sleep(random.Random(22).uniform(0.0, 0.5))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    # what the killed run printed before it died: each line a letter whose commit had landed
    recovered = case_repo.run("intake", "--recover", "--receipts", str(out))
    got = assert_every_committed_letter_has_its_code(case_repo, out)
    assert 5 <= len(got) < BATCH
    for value in WRITER.values():
        assert value not in recovered.stdout + recovered.stderr
    # the batch goes on with the next code; its receipts follow in the same file
    rest = case_repo.write_submission("rest.jsonl", [submission(n) for n in range(1, 4)])
    case_repo.run("intake", str(rest), "--receipts", str(out))
    assert len(assert_every_committed_letter_has_its_code(case_repo, out)) == len(got) + 3


def test_killed_after_the_commit_before_the_receipt(case_repo: Repo) -> None:
    """The post-commit hook of the 3rd letter sleeps: the commit has landed, the receipt is not
    written yet; kill -9 there, and the next intake writes it from the pending record."""
    out = case_repo.path.parent / "receipts.jsonl"
    marker = case_repo.path.parent / "in-hook"
    hook = case_repo.path / ".git" / "hooks" / "post-commit"
    base = len(case_repo.git("rev-list", "HEAD").split())
    hook.write_text(f"#!/bin/sh\nif [ \"$(git rev-list --count HEAD)\" = \"{base + 3}\" ]; then\n"
                    f"  touch '{marker}'; sleep 60\nfi\n", "utf-8")
    hook.chmod(0o755)
    proc = start(case_repo, out, "--json")
    wait_for(marker.exists, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    stdout, _ = proc.communicate(timeout=30)
    hook.unlink()
    assert len(committed(case_repo)) == 3
    assert sorted(receipts(out)) == committed(case_repo)[:2]  # the third is only pending
    printed = [line for line in stdout.splitlines() if '"letter_code"' in line]
    assert len(printed) == 2  # streamed as each commit landed, before the kill
    # the next intake (a new batch) first writes the receipt the killed run owed
    more = case_repo.write_submission("more.json", submission(99))
    result = case_repo.run("intake", str(more), "--receipts", str(out))
    assert "补写上次中断遗留的回执：LA-2026-00003" in result.stderr
    got = assert_every_committed_letter_has_its_code(case_repo, out)
    assert sorted(got) == [f"LA-2026-{n:05d}" for n in range(1, 5)]
    assert not list((case_repo.path / ".git" / "letterbox" / "intake-pending").glob("*.json"))


def test_pending_record_of_a_commit_that_never_landed_is_dropped(case_repo: Repo) -> None:
    """A record whose letter was never committed (killed before the commit): dropped, no receipt."""
    folder = case_repo.path / ".git" / "letterbox" / "intake-pending"
    folder.mkdir(parents=True)
    (folder / "LA-2026-00001.json").write_text(json.dumps(
        {"letter_code": "LA-2026-00001", "query_code": "AAAA-BBBB-CCCC", "pid": 1, "receipts": None}), "utf-8")
    (folder / "LA-2026-00002.json").write_text("{half", "utf-8")
    result = case_repo.run("intake", "--recover")
    assert "补写" not in result.stderr
    assert not list(folder.glob("*.json"))


def test_receipts_file_refusals(case_repo: Repo, tmp_path: Path) -> None:
    sub = case_repo.write_submission("one.json", submission(1))
    head = case_repo.git("rev-parse", "HEAD")
    result = case_repo.run("intake", str(sub), "--receipts", str(tmp_path / "no-such-dir" / "r.jsonl"), expect=1)
    assert "回执文件" in result.stderr and "未保存任何内容" in result.stderr
    assert case_repo.git("rev-parse", "HEAD") == head
    result = case_repo.run("intake", expect=2)
    assert "--recover" in result.stderr
    # an existing receipts file readable by others is made private before any code is written
    shared = tmp_path / "shared.jsonl"
    shared.write_text("", "utf-8")
    shared.chmod(0o644)
    case_repo.run("intake", str(sub), "--receipts", str(shared))
    assert stat.S_IMODE(shared.stat().st_mode) == 0o600
    assert list(receipts(shared)) == ["LA-2026-00001"]


def test_killed_after_the_receipt_before_its_record_was_removed(case_repo: Repo) -> None:
    """The last instant of a letter's transaction: its receipt appended and on disk, its pending
    record not yet removed (a kill there was seen in CI). The next intake finds the record, sees
    the receipt already in the file and only removes the record: no receipt written twice."""
    from letterbox.ops import receipt_file

    out = case_repo.path.parent / "receipts.jsonl"
    batch = case_repo.write_submission("two.jsonl", [submission(n) for n in range(1, 3)])
    case_repo.run("intake", str(batch), "--receipts", str(out))
    got = receipts(out)
    code = sorted(got)[-1]
    repo = Repository(case_repo.path)
    receipt_file.write_pending(repo, code, got[code], receipt_file.ReceiptFile(out))  # as left by the kill
    recovered = case_repo.run("intake", "--recover", "--receipts", str(out))
    assert code not in recovered.stdout + recovered.stderr  # nothing to recover: it was written
    assert assert_every_committed_letter_has_its_code(case_repo, out) == got  # once each
    assert not list(receipt_file.pending_folder(repo).glob("*.json"))
    # a record whose receipt the file lacks is still written (the instant before the receipt)
    lines = out.read_text("utf-8").splitlines()
    out.write_text("\n".join(lines[:-1]) + "\n", "utf-8")
    receipt_file.write_pending(repo, code, got[code], receipt_file.ReceiptFile(out))
    recovered = case_repo.run("intake", "--recover", "--receipts", str(out))
    assert code in recovered.stdout + recovered.stderr
    assert assert_every_committed_letter_has_its_code(case_repo, out) == got
