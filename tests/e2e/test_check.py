"""`letterbox check --base REV` (issue 3): hand edits get the same protection as the commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Repo, head, submission

A, B = "LA-2026-00001", "LA-2026-00002"


def at(day: int, hour: int) -> str:
    return f"2026-03-{day:02d}T{hour:02d}:00:00+08:00"


@pytest.fixture
def base(case_repo: Repo) -> tuple[Repo, str]:
    """Two letters (A received, B transferred), committed; returns the repo and the base sha."""
    case_repo.intake(submission(1), submission(2))
    case_repo.run("classify", B, "--category", "complaint", "--at", at(2, 10))
    case_repo.run("transfer", B, "--unit", "zjj", "--at", at(2, 11))
    return case_repo, head(case_repo.path)


def errors_by_file(repo: Repo, base_sha: str) -> dict[str, list[dict]]:
    report = json.loads(repo.run("check", "--base", base_sha, "--json", expect=1).stdout)
    out: dict[str, list[dict]] = {}
    for problem in report["problems"]:
        if problem["severity"] == "error":
            out.setdefault(problem["file"], []).append(problem)
    assert report["errors"] == sum(len(v) for v in out.values())
    return out


def path_of(code: str) -> str:
    return f"cases/2026/03/{code}.yaml"


def edit(repo: Repo, code: str, old: str, new: str) -> None:
    path = repo.letter_file(code)
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), "utf-8")


def append_event(repo: Repo, code: str, event: str) -> None:
    path = repo.letter_file(code)
    path.write_text(path.read_text("utf-8") + event, "utf-8")


# -- legal changes pass ---------------------------------------------------------------------


def test_no_changes_pass(base: tuple[Repo, str]) -> None:
    repo, sha = base
    result = repo.run("check", "--base", sha)
    assert "共检查 0 封信件" in result.stdout


def test_command_made_changes_pass(base: tuple[Repo, str], tmp_path: Path) -> None:
    repo, sha = base
    repo.run("classify", A, "--category", "suggestion", "--at", at(2, 12))
    repo.run("escalate", A, "--leader", "qz", "--at", at(2, 13))
    repo.run("instruct", A, "--leader", "qz", "--text", "请办理", "--unit", "zjj", "--unit", "cgj",
             "--at", at(2, 14))
    repo.run("extend", B, "--days", "2", "--reason", "协调中", "--at", at(3, 9))
    repo.run("grant", B, "--at", at(3, 10))
    repo.run("answer", B, "--text", "已修复", "--head", "陈局长", "--at", at(4, 9))
    repo.run("approve", B, "--at", at(4, 10))
    repo.run("withhold", B, "--reason", "privacy", "--at", at(4, 11))
    repo.run("archive", B, "--at", at(4, 12))
    repo.intake(submission(3, follows_up=A))
    report = repo.json("check", "--base", sha)
    # this repository has no roster: the one warning says signatures were not checked
    assert [p["message"] for p in report["problems"]] == [p["message"] for p in report["problems"]
                                                          if "名册为空" in p["message"]]
    assert (report["checked"], report["errors"], report["warnings"]) == (3, 0, 1)


def test_legal_hand_edit_passes(base: tuple[Repo, str]) -> None:
    """Staff append a correct event and update the summary fields by hand."""
    repo, sha = base
    edit(repo, A, "status: received", "status: classified")
    edit(repo, A, "category: null", "category: consultation")
    append_event(repo, A, f"- at: '{at(3, 9)}'\n  actor: 信息中心刘主任\n  action: classify\n"
                          "  details:\n    category: consultation\n")
    edit(repo, B, "status: transferred", "status: answered")
    append_event(repo, B, f"- at: '{at(3, 9)}'\n  actor: 住建局张科长\n  action: answer\n  details:\n"
                          "    text: 已于3月3日修复。\n    head: 住建局陈局长\n    unit: zjj\n")
    repo.run("validate")
    assert "共检查 2 封信件，全部符合" in repo.run("check", "--base", sha).stdout  # working tree
    repo.commit_all("手工补录纸质办理记录")
    repo.run("check", "--base", sha)  # and committed
    repo.run("check", "--base", "HEAD~1")


# -- illegal changes fail, one message per letter ---------------------------------------------

Mistake = Callable[[Repo], tuple[str, str, str]]  # → (code, field, words)


def illegal_status_change(repo: Repo) -> tuple[str, str, str]:
    edit(repo, A, "status: received", "status: closed")
    return A, "status", "与办理记录不一致"


def illegal_step_appended(repo: Repo) -> tuple[str, str, str]:
    edit(repo, A, "status: received", "status: closed")
    append_event(repo, A, f"- at: '{at(3, 9)}'\n  actor: 某人\n  action: approve\n  details: {{}}\n")
    return A, "history", "不能执行“审核通过”"


def history_rewritten(repo: Repo) -> tuple[str, str, str]:
    edit(repo, B, "  action: transfer\n  details:\n    units:\n    - zjj",
         "  action: transfer\n  details:\n    units:\n    - cgj")
    edit(repo, B, "units:\n- zjj\n", "units:\n- cgj\n")
    return B, "history[2]", "办理记录只能追加"


def history_time_rewritten(repo: Repo) -> tuple[str, str, str]:
    edit(repo, B, f"- at: '{at(2, 11)}'", f"- at: '{at(2, 12)}'")
    return B, "history[2]", "办理记录只能追加"


def history_shortened(repo: Repo) -> tuple[str, str, str]:
    path = repo.letter_file(B)
    text = path.read_text("utf-8")
    cut = text.index(f"- at: '{at(2, 11)}'")
    text = text[:cut].replace("status: transferred", "status: classified")
    text = text.replace("units:\n- zjj\n", "units: []\n").replace("mode: ordinary", "mode: null")
    path.write_text(text, "utf-8")
    return B, "history[1]", "第 3 条与基准版本不同或被删除"


def letter_code_changed(repo: Repo) -> tuple[str, str, str]:
    edit(repo, A, f"letter_code: {A}", "letter_code: LA-2026-00009")
    return A, "letter_code", "信件编码不得修改"


def query_hash_changed(repo: Repo) -> tuple[str, str, str]:
    path = repo.letter_file(A)
    text = path.read_text("utf-8")
    start = text.index("  hash: ") + len("  hash: ")
    digit = "0" if text[start] != "0" else "1"
    path.write_text(text[:start] + digit + text[start + 1 :], "utf-8")
    return A, "query_hash", "查询码哈希不得修改"


def body_changed(repo: Repo) -> tuple[str, str, str]:
    edit(repo, A, "夜间行人不便", "夜间行人很不便")
    return A, "body", "来信正文不得修改"


def schema_violation(repo: Repo) -> tuple[str, str, str]:
    edit(repo, A, "channel: web", "channel: web\nremark: 已电话联系")
    return A, "remark", "不在格式规定之内"


def extend_after_deadline(repo: Repo) -> tuple[str, str, str]:
    append_event(repo, B, f"- at: '{at(20, 9)}'\n  actor: 住建局张科长\n  action: extend\n  details:\n"
                          "    days: 3\n    reason: 来不及\n")
    return B, "history[3]", "晚于办理期限 2026-03-05"


MISTAKES = [illegal_status_change, illegal_step_appended, history_rewritten, history_time_rewritten,
            history_shortened, letter_code_changed, query_hash_changed, body_changed,
            schema_violation, extend_after_deadline]


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.__name__ for m in MISTAKES])
@pytest.mark.parametrize("committed", [False, True], ids=["working-tree", "committed"])
def test_illegal_hand_edit_fails(base: tuple[Repo, str], mistake: Mistake, committed: bool) -> None:
    repo, sha = base
    code, field, words = mistake(repo)
    if committed:
        repo.commit_all("手工修改")
    found = errors_by_file(repo, sha)
    assert list(found) == [path_of(code)], found
    [problem] = found[path_of(code)]  # exactly one message for the letter
    assert problem["field"] == field, problem
    assert words in problem["message"], problem
    text = repo.run("check", "--base", sha, expect=1).stderr
    assert f"{path_of(code)}:" in text and "发现 1 处错误" in text


def test_letter_deleted(base: tuple[Repo, str]) -> None:
    repo, sha = base
    repo.letter_file(A).unlink()
    found = errors_by_file(repo, sha)
    assert list(found) == [path_of(A)]
    [problem] = found[path_of(A)]
    assert f"信件 {A} 被删除" in problem["message"]
    repo.commit_all("删除信件")
    assert list(errors_by_file(repo, sha)) == [path_of(A)]


def test_letter_moved_is_not_a_new_letter(base: tuple[Repo, str]) -> None:
    repo, sha = base
    old = repo.letter_file(A)
    new = repo.path / "cases" / "2026" / "04" / old.name
    new.parent.mkdir()
    old.rename(new)
    found = errors_by_file(repo, sha)
    assert list(found) == [f"cases/2026/04/{A}.yaml"]
    assert "文件位置" in found[f"cases/2026/04/{A}.yaml"][0]["message"]


def test_one_message_for_each_bad_letter(base: tuple[Repo, str]) -> None:
    repo, sha = base
    body_changed(repo)
    history_time_rewritten(repo)
    repo.intake(submission(3))  # a legal change alongside
    found = errors_by_file(repo, sha)
    assert sorted(found) == [path_of(A), path_of(B)]
    assert [len(v) for v in found.values()] == [1, 1]


def test_unknown_base(base: tuple[Repo, str]) -> None:
    repo, _ = base
    result = repo.run("check", "--base", "no-such-branch", expect=1)
    assert "找不到基准版本 no-such-branch" in result.stderr


def test_ci_files_run_validate_and_check(case_repo: Repo) -> None:
    github = (case_repo.path / ".github" / "workflows" / "letterbox.yml").read_text("utf-8")
    gitlab = (case_repo.path / ".gitlab-ci.yml").read_text("utf-8")
    for text in (github, gitlab):
        assert "letterbox validate" in text
        assert "letterbox check --base" in text
    assert "pull_request" in github and "push" in github


def test_several_problems_in_one_letter_make_one_message(base: tuple[Repo, str]) -> None:
    repo, sha = base
    letter_code_changed(repo)  # also puts the file at the wrong place for its code
    body_changed(repo)
    [problem] = errors_by_file(repo, sha)[path_of(A)]
    assert problem["field"] == "letter_code"
    assert "信件编码不得修改" in problem["message"]
    assert "另有 2 处问题" in problem["message"]
    assert "来信正文不得修改" in problem["message"] and "文件位置" in problem["message"]


def test_broken_yaml_is_one_message(base: tuple[Repo, str]) -> None:
    repo, sha = base
    edit(repo, A, "title: ", "title: [")
    [problem] = errors_by_file(repo, sha)[path_of(A)]
    assert "YAML 格式错误" in problem["message"]
    assert isinstance(problem["line"], int)


@pytest.mark.parametrize(("seq", "ok"), [(3, True), (5, False)])
def test_hand_added_letter_must_continue_the_sequence(base: tuple[Repo, str], seq: int, ok: bool) -> None:
    repo, sha = base
    code = f"LA-2026-{seq:05d}"
    text = repo.letter_file(A).read_text("utf-8").replace(A, code)
    (repo.path / path_of(code)).write_text(text, "utf-8")
    if ok:
        repo.run("check", "--base", sha)
        return
    [problem] = errors_by_file(repo, sha)[path_of(code)]
    assert problem["field"] == "letter_code"
    assert "信件编码不连续" in problem["message"] and "LA-2026-00003" in problem["message"]
