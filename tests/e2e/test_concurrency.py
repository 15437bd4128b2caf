"""Several `letterbox` processes at once (issues 2 and 3): no lost update, no gap, no duplicate."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import LETTERBOX_BIN, Repo, commit_count, porcelain, stray_files, submission

CODE = "LA-2026-00001"


def start(repo: Repo, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([LETTERBOX_BIN, "--repo", str(repo.path), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())


def finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        out.append((proc.returncode, stdout, stderr))
    return out


def test_twenty_intakes_at_once(case_repo: Repo) -> None:
    count = commit_count(case_repo.path)
    files: list[Path] = [case_repo.write_submission(f"s{n:02d}.json", submission(n)) for n in range(1, 21)]
    results = finish([start(case_repo, "intake", str(f), "--json", "--as", f"收信员{n}")
                      for n, f in enumerate(files, start=1)])
    assert [r[0] for r in results] == [0] * 20, [r[2] for r in results if r[0]]
    accepted = [json.loads(stdout)[0] for _, stdout, _ in results]
    codes = sorted(a["letter_code"] for a in accepted)
    assert codes == [f"LA-2026-{n:05d}" for n in range(1, 21)]
    assert len({a["query_code"] for a in accepted}) == 20
    assert commit_count(case_repo.path) == count + 20
    subjects = case_repo.git("log", "-20", "--format=%s").splitlines()
    assert sorted(subjects) == [f"{c} 收信" for c in codes]
    for n in range(20):  # each commit holds one letter file
        assert len(case_repo.git("show", "--name-only", "--format=", f"HEAD~{n}").split()) == 1
    # every process reported the letter it really stored
    for n, item in enumerate(accepted, start=1):
        assert case_repo.letter(item["letter_code"])["title"] == submission(n)["title"]
        assert case_repo.letter(item["letter_code"])["history"][0]["actor"] == f"收信员{n}"
    assert sorted(p.name for p in (case_repo.path / "cases").rglob("*.yaml")) == [f"{c}.yaml" for c in codes]
    assert porcelain(case_repo.path) == ""
    assert stray_files(case_repo.path) == []
    case_repo.run("validate")


def test_two_transfers_of_one_letter_at_once(case_repo: Repo) -> None:
    case_repo.new_letter(1)
    case_repo.run("classify", CODE, "--category", "complaint", "--at", "2026-03-02T10:00:00+08:00")
    count = commit_count(case_repo.path)
    results = finish([start(case_repo, "transfer", CODE, "--unit", unit, "--as", who,
                            "--at", "2026-03-02T11:00:00+08:00")
                      for unit, who in (("zjj", "甲"), ("cgj", "乙"), ("jtj", "丙"))])
    codes = sorted(r[0] for r in results)
    assert codes == [0, 1, 1], results
    for rc, _, stderr in results:
        if rc:
            assert "当前状态为“转办中”" in stderr and "不能执行“转办”" in stderr
    assert commit_count(case_repo.path) == count + 1
    data = case_repo.letter(CODE)
    assert [e["action"] for e in data["history"]] == ["receive", "classify", "transfer"]
    winner = data["history"][-1]
    assert data["units"] == winner["details"]["units"]
    assert case_repo.git("log", "-1", "--format=%an").strip() == winner["actor"]
    assert porcelain(case_repo.path) == ""
    case_repo.run("validate")


def test_steps_on_different_letters_at_once_all_land(case_repo: Repo) -> None:
    codes = [c["letter_code"] for c in case_repo.intake(*(submission(n) for n in range(1, 4)))]
    count = commit_count(case_repo.path)
    procs = [start(case_repo, "classify", code, "--category", "suggestion", "--at", "2026-03-02T10:00:00+08:00")
             for code in codes]
    procs += [start(case_repo, "remind", code, "--at", "2026-03-02T10:00:00+08:00") for code in codes]
    procs.append(start(case_repo, "intake", str(case_repo.write_submission("late.json", submission(4)))))
    results = finish(procs)
    assert [r[0] for r in results] == [0] * len(procs), [r[2] for r in results if r[0]]
    assert commit_count(case_repo.path) == count + 7
    for code in codes:  # no update lost: both events of each letter are there
        assert sorted(e["action"] for e in case_repo.letter(code)["history"]) == ["classify", "receive", "remind"]
    assert case_repo.letter("LA-2026-00004")["status"] == "received"
    assert porcelain(case_repo.path) == ""
    case_repo.run("validate")
