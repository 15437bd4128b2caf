"""`letterbox validate` (issue 2, item 6): every hand-edit mistake named by file, line and field."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable

import pytest

from tests.conftest import Repo, submission


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line containing needle."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in file")


@pytest.fixture
def two_letters(case_repo: Repo) -> Repo:
    case_repo.intake(submission(1), submission(2))
    case_repo.run("classify", "LA-2026-00002", "--category", "complaint",
                  "--at", "2026-03-02T10:00:00+08:00")
    return case_repo


def test_clean_repository_passes(two_letters: Repo) -> None:
    result = two_letters.run("validate")
    assert "共检查 2 封信件，全部符合格式和办理流程" in result.stdout
    report = two_letters.json("validate")
    assert report["checked"] == 2
    assert report["errors"] == 0
    assert [p for p in report["problems"] if p["severity"] == "error"] == []
    one = two_letters.letter_file("LA-2026-00001")
    assert two_letters.json("validate", str(one))["checked"] == 1


def test_empty_repository_passes(case_repo: Repo) -> None:
    assert "共检查 0 封信件" in case_repo.run("validate").stdout


def edit(repo: Repo, code: str, old: str, new: str) -> str:
    path = repo.letter_file(code)
    text = path.read_text("utf-8")
    assert old in text, old
    text = text.replace(old, new, 1)
    path.write_text(text, "utf-8")
    return text


# Each case: a hand edit of LA-2026-00002 → (field path, needle for the expected line, words).
Edit = Callable[[Repo], tuple[str, str, str]]


def typo_field(repo: Repo) -> tuple[str, str, str]:
    edit(repo, "LA-2026-00002", "title:", "titel:")
    return "titel", "titel:", "不在格式规定之内"


def typo_in_event(repo: Repo) -> tuple[str, str, str]:
    edit(repo, "LA-2026-00002", "    category: complaint", "    categroy: complaint")
    return "history[1].details.categroy", "categroy:", "不在格式规定之内"


def wrong_enum(repo: Repo) -> tuple[str, str, str]:
    edit(repo, "LA-2026-00002", "channel: web", "channel: fax")
    return "channel", "channel: fax", "取值 'fax' 不允许"


def wrong_category(repo: Repo) -> tuple[str, str, str]:
    edit(repo, "LA-2026-00002", "category: complaint\n", "category: complain\n")
    return "category", "category: complain", "complaint"


def missing_field(repo: Repo) -> tuple[str, str, str]:
    text = edit(repo, "LA-2026-00002", "  email: zhaoweidong@example.com\n", "")
    assert "email" not in text
    return "writer", "writer:", "缺少必填字段 “email”"


def unknown_follows_up(repo: Repo) -> tuple[str, str, str]:
    edit(repo, "LA-2026-00002", "follows_up: null", "follows_up: LA-2026-00077")
    return "follows_up", "follows_up:", "LA-2026-00077 在案卷库中不存在"


def history_out_of_order(repo: Repo) -> tuple[str, str, str]:
    edit(repo, "LA-2026-00002", "- at: '2026-03-02T10:00:00+08:00'", "- at: '2026-03-01T10:00:00+08:00'")
    return "history[1].at", "2026-03-01T10:00:00", "早于上一条"


def status_inconsistent(repo: Repo) -> tuple[str, str, str]:
    edit(repo, "LA-2026-00002", "status: classified", "status: closed")
    return "status", "status: closed", "与办理记录不一致"


def illegal_step(repo: Repo) -> tuple[str, str, str]:
    path = repo.letter_file("LA-2026-00002")
    path.write_text(path.read_text("utf-8") + "- at: '2026-03-03T10:00:00+08:00'\n  actor: 王五\n"
                    "  action: archive\n  details: {}\n", "utf-8")
    return "history", "history:", "不符合办理流程：办理记录第 3 条（archive）"


def wrong_time_format(repo: Repo) -> tuple[str, str, str]:
    edit(repo, "LA-2026-00002", "submitted_at: '2026-03-02T09:15:00+08:00'",
         "submitted_at: '2026-03-02 09:15'")
    return "submitted_at", "submitted_at:", "格式不对"


def wrong_code_in_file(repo: Repo) -> tuple[str, str, str]:
    edit(repo, "LA-2026-00002", "letter_code: LA-2026-00002", "letter_code: LA-2026-00003")
    return "letter_code", "letter_code:", "文件位置与信件编码、提交时间不符"


CASES = [typo_field, typo_in_event, wrong_enum, wrong_category, missing_field, unknown_follows_up,
         history_out_of_order, status_inconsistent, illegal_step, wrong_time_format, wrong_code_in_file]


@pytest.mark.parametrize("mistake", CASES, ids=[c.__name__ for c in CASES])
def test_hand_edit_mistake_is_located(two_letters: Repo, mistake: Edit) -> None:
    field, needle, words = mistake(two_letters)
    path = two_letters.letter_file("LA-2026-00002")
    rel = path.relative_to(two_letters.path).as_posix()
    line = line_of(path.read_text("utf-8"), needle)
    result = two_letters.run("validate", expect=1)
    errors = [x for x in result.stderr.splitlines() if x.startswith(f"{rel}:")]
    assert errors, result.stderr
    located = [x for x in errors if x.startswith(f"{rel}:{line}:") and f"字段 {field}：" in x]
    assert located, (line, field, result.stderr)
    assert any(words in x for x in located), result.stderr
    assert "发现" in result.stderr and "处错误" in result.stderr
    # the other letter is fine and is not blamed
    assert "LA-2026-00001.yaml" not in result.stderr
    report = json.loads(two_letters.run("validate", "--json", expect=1).stdout)
    assert report["errors"] >= 1
    found = [p for p in report["problems"] if p["file"] == rel and p["field"] == field]
    assert found and found[0]["line"] == line and found[0]["column"] >= 1
    # validating only the other file passes
    two_letters.run("validate", str(two_letters.letter_file("LA-2026-00001")))


def test_yaml_syntax_error(two_letters: Repo) -> None:
    path = two_letters.letter_file("LA-2026-00002")
    text = path.read_text("utf-8").replace("title: ", "title: [未闭合的括号 ", 1)
    path.write_text(text, "utf-8")
    rel = path.relative_to(two_letters.path).as_posix()
    result = two_letters.run("validate", expect=1)
    assert f"{rel}:" in result.stderr
    assert "YAML 格式错误" in result.stderr
    problem = json.loads(two_letters.run("validate", "--json", expect=1).stdout)["problems"][0]
    assert problem["file"] == rel
    assert isinstance(problem["line"], int) and problem["line"] >= line_of(text, "title:")
    # other commands name the broken file instead of crashing
    result = two_letters.run("show", "LA-2026-00002", expect=1)
    assert "YAML" in result.stderr and rel in result.stderr


def test_wrong_file_location(two_letters: Repo) -> None:
    old = two_letters.letter_file("LA-2026-00002")
    new = two_letters.path / "cases" / "2026" / "04" / old.name
    new.parent.mkdir()
    shutil.move(old, new)
    result = two_letters.run("validate", expect=1)
    line = line_of(new.read_text("utf-8"), "letter_code:")
    assert f"cases/2026/04/LA-2026-00002.yaml:{line}:" in result.stderr
    assert "应为 cases/2026/03/LA-2026-00002.yaml" in result.stderr


def test_duplicate_codes(two_letters: Repo) -> None:
    src = two_letters.letter_file("LA-2026-00001")
    copy = src.with_name("LA-2026-00003.yaml")
    shutil.copy(src, copy)  # a copy-and-paste that kept the code inside
    result = two_letters.run("validate", expect=1)
    line = line_of(copy.read_text("utf-8"), "letter_code:")
    assert f"cases/2026/03/LA-2026-00003.yaml:{line}:" in result.stderr
    assert "LA-2026-00001 与 cases/2026/03/LA-2026-00001.yaml 重复" in result.stderr


def test_several_mistakes_are_all_reported(two_letters: Repo) -> None:
    wrong_enum(two_letters)
    edit(two_letters, "LA-2026-00001", "title:", "titel:")
    report = json.loads(two_letters.run("validate", "--json", expect=1).stdout)
    fields = {(p["file"].rsplit("/", 1)[1], p["field"]) for p in report["problems"] if p["severity"] == "error"}
    assert ("LA-2026-00002.yaml", "channel") in fields
    assert ("LA-2026-00001.yaml", "titel") in fields


def test_path_outside_repository(two_letters: Repo, tmp_path) -> None:  # noqa: ANN001
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("x: 1\n", "utf-8")
    result = two_letters.run("validate", str(outside), expect=1)
    assert "不在案卷库" in result.stderr


@pytest.mark.parametrize("where", ["cases/2026/LA-2026-00002.yaml", "cases/LA-2026-00002.yaml",
                                   "cases/2026/03/x/LA-2026-00002.yaml", "cases/2026/03/LA-2026-00002.yml"])
def test_letter_at_wrong_depth_is_not_ignored(two_letters: Repo, where: str) -> None:
    old = two_letters.letter_file("LA-2026-00002")
    new = two_letters.path / where
    new.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(old, new)
    result = two_letters.run("validate", expect=1)
    assert f"{where}:" in result.stderr
    assert "应为 cases/2026/03/LA-2026-00002.yaml" in result.stderr


def test_duplicate_key_in_hand_edit(two_letters: Repo) -> None:
    path = two_letters.letter_file("LA-2026-00001")
    text = path.read_text("utf-8")
    first = line_of(text, "title:")
    path.write_text(text + "title: 改过的标题\n", "utf-8")
    rel = path.relative_to(two_letters.path).as_posix()
    result = two_letters.run("validate", expect=1)
    last = len(text.splitlines()) + 1
    assert f"{rel}:{last}:1: 错误: 字段 title：" in result.stderr
    assert f"第 {first} 行已有" in result.stderr


def test_named_paths(two_letters: Repo) -> None:
    # a folder stands for the case files in it
    typo_field(two_letters)
    result = two_letters.run("validate", str(two_letters.path / "cases" / "2026"), expect=1)
    assert "titel" in result.stderr
    two_letters.run("validate", str(two_letters.letter_file("LA-2026-00001")))
    # a file that is not there is an error, not a pass
    result = two_letters.run("validate", str(two_letters.path / "cases/2026/03/LA-2026-00099.yaml"), expect=1)
    assert "cases/2026/03/LA-2026-00099.yaml" in result.stderr
    assert "不是案卷文件" in result.stderr
