"""`letterbox validate` keeps each case file's findings by git blob id (issue 17, point 1):
a file whose content, path and context did not change is not read again; anything else is."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.conftest import Repo, submission


def counts(repo: Repo, *args: str) -> tuple[dict[str, int], list[dict[str, Any]]]:
    report = repo.run("validate", *args, "--json", expect=None)
    data = json.loads(report.stdout)
    return data["cache"], data["problems"]


def errors(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in problems if p["severity"] == "error"]


@pytest.fixture


def three(case_repo: Repo) -> Repo:
    case_repo.intake(submission(1), submission(2))
    case_repo.intake(submission(3, follows_up="LA-2026-00001"), name="three.json")
    return case_repo


def test_nothing_changed_reads_no_file(three: Repo) -> None:
    first, problems = counts(three)
    assert first == {"files": 3, "cached": 0, "judged": 3}
    assert errors(problems) == []
    again, same = counts(three)
    assert again == {"files": 3, "cached": 3, "judged": 0}
    assert same == problems
    # a file touched but not changed (new modification time, same blob) is still not read
    path = three.letter_file("LA-2026-00002")
    os.utime(path, (1, 1))
    assert counts(three)[0]["judged"] == 0
    # nor a file changed back to what it was (its blob is kept)
    text = path.read_text("utf-8")
    path.write_text(text + "\n", "utf-8")
    assert counts(three)[0]["judged"] == 1
    path.write_text(text, "utf-8")
    assert counts(three)[0]["judged"] == 0


def test_edited_file_is_checked_again(three: Repo) -> None:
    counts(three)
    path = three.letter_file("LA-2026-00002")
    path.write_text(path.read_text("utf-8").replace("title:", "titel:", 1), "utf-8")
    stats, problems = counts(three)
    assert stats["judged"] == 1 and stats["cached"] == 2
    assert {p["file"] for p in errors(problems)} == {str(path.relative_to(three.path))}
    assert "titel" in {p["field"] for p in errors(problems)}


def test_bad_file_stays_reported_with_the_same_message(three: Repo) -> None:
    bad = three.letter_file("LA-2026-00002")
    bad.write_text(bad.read_text("utf-8").replace("title:", "titel:", 1), "utf-8")
    broken = three.letter_file("LA-2026-00001")
    broken.write_text(broken.read_text("utf-8") + "history: [\n", "utf-8")
    first = three.run("validate", expect=1)
    _, problems = counts(three)
    stats, again = counts(three)
    assert stats == {"files": 3, "cached": 3, "judged": 0}
    assert again == problems
    assert {p["file"] for p in errors(again)} >= {str(bad.relative_to(three.path)), str(broken.relative_to(three.path))}
    assert three.run("validate", expect=1).stderr == first.stderr


@pytest.mark.parametrize("name", ["letterbox.yaml", "calendar.yaml"])


def test_configuration_change_invalidates(three: Repo, name: str) -> None:
    counts(three)
    config = three.path / name
    config.write_text(config.read_text("utf-8") + "\n# edited\n", "utf-8")
    assert counts(three)[0] == {"files": 3, "cached": 0, "judged": 3}


def test_unit_removed_from_configuration_is_reported(three: Repo) -> None:
    three.run("classify", "LA-2026-00002", "--category", "complaint", "--at", "2026-03-02T10:00:00+08:00")
    three.run("transfer", "LA-2026-00002", "--unit", "zjj", "--at", "2026-03-02T10:30:00+08:00")
    assert errors(counts(three)[1]) == []
    config = three.path / "letterbox.yaml"
    text = config.read_text("utf-8")
    assert "code: zjj" in text
    config.write_text(text.replace("code: zjj", "code: zjj2"), "utf-8")
    stats, problems = counts(three)
    assert stats["cached"] == 0
    assert any("zjj" in p["message"] and "单位名录" in p["message"] for p in errors(problems))


def test_follow_up_target_deleted_is_judged_again(three: Repo) -> None:
    assert errors(counts(three)[1]) == []
    target = three.letter_file("LA-2026-00001")
    text = target.read_text("utf-8")
    target.unlink()
    stats, problems = counts(three)
    assert stats == {"files": 2, "cached": 2, "judged": 0}  # the follow-up's findings are kept ...
    follower = three.letter_file("LA-2026-00003")
    assert [(p["file"], p["field"]) for p in errors(problems)] == [
        (str(follower.relative_to(three.path)), "follows_up")]  # ... but judged with the letters there are
    assert "LA-2026-00001" in errors(problems)[0]["message"]
    target.write_text(text, "utf-8")
    assert errors(counts(three)[1]) == []


def test_duplicate_code_is_reported_from_the_cache(three: Repo) -> None:
    source = three.letter_file("LA-2026-00002")
    copy = source.with_name("LA-2026-00099.yaml")
    copy.write_text(source.read_text("utf-8"), "utf-8")
    _, problems = counts(three)
    stats, again = counts(three)
    assert stats["judged"] == 0 and again == problems
    assert any("重复" in p["message"] and p["line"] for p in again)


def test_check_reads_only_changed_files_and_says_the_same(three: Repo) -> None:
    broken = three.letter_file("LA-2026-00001")
    broken.write_text(broken.read_text("utf-8") + "history: [\n", "utf-8")
    base = three.commit_all("a broken file, unchanged since the base")
    three.run("classify", "LA-2026-00002", "--category", "complaint", "--at", "2026-03-02T10:00:00+08:00")
    cold = three.run("check", "--base", base, "--json", expect=1).stdout
    three.run("validate", expect=1)
    warm = three.run("check", "--base", base, "--json", expect=1).stdout
    assert warm == cold
    name = str(broken.relative_to(three.path))
    # unreadable now (an error) and at the base (a warning: not compared)
    assert sorted(p["severity"] for p in json.loads(warm)["problems"] if p["file"] == name) == ["error", "warning"]


def test_a_configuration_changed_back_finds_its_findings_kept(three: Repo) -> None:
    counts(three)
    config = three.path / "letterbox.yaml"
    text = config.read_text("utf-8")
    config.write_text(text + "\n# edited\n", "utf-8")
    assert counts(three)[0]["judged"] == 3
    config.write_text(text, "utf-8")
    assert counts(three)[0] == {"files": 3, "cached": 3, "judged": 0}  # the last contexts are kept


def test_only_the_last_contexts_are_kept(three: Repo) -> None:
    config = three.path / "letterbox.yaml"
    text = config.read_text("utf-8")
    counts(three)
    for k in range(5):  # five other contexts after the first: the first is dropped
        config.write_text(text + f"\n# edit {k}\n", "utf-8")
        counts(three)
    config.write_text(text, "utf-8")
    assert counts(three)[0]["judged"] == 3


def test_a_run_with_nothing_changed_gives_the_same_problems(three: Repo) -> None:
    bad = three.letter_file("LA-2026-00002")
    bad.write_text(bad.read_text("utf-8").replace("title:", "titel:", 1), "utf-8")
    first = three.run("validate", "--json", expect=1).stdout
    again = three.run("validate", "--json", expect=1).stdout  # the whole run's problems, kept
    assert json.loads(again)["problems"] == json.loads(first)["problems"]
    assert json.loads(again)["cache"] == {"files": 3, "cached": 3, "judged": 0}
    bad.write_text(bad.read_text("utf-8").replace("titel:", "title:", 1), "utf-8")  # fixed: not the kept run
    assert errors(counts(three)[1]) == []
