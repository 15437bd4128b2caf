"""A case file that does not read is named, never dropped silently: the reading commands warn
on stderr (the file's path only) and go on; validate fails naming it."""

from __future__ import annotations

import json

from tests.conftest import WRITER, Repo


def break_one(case_repo: Repo) -> tuple[str, str]:
    good = case_repo.new_letter(1)
    bad = case_repo.new_letter(2)
    path = case_repo.letter_file(bad)
    # a hand edit gone wrong, with the writer's data still in the file
    path.write_text(path.read_text("utf-8").replace("title:", "title: [", 1), "utf-8")
    return good, str(path.relative_to(case_repo.path))


def test_list_warns_and_shows_the_rest(case_repo: Repo) -> None:
    good, bad = break_one(case_repo)
    result = case_repo.run("list", "--json")
    assert [r["letter_code"] for r in json.loads(result.stdout)] == [good]
    assert "1 个案卷文件无法读取" in result.stderr and bad in result.stderr
    assert not any(value in result.stderr + result.stdout for value in WRITER.values())


def test_reports_warn_too(case_repo: Repo) -> None:
    _, bad = break_one(case_repo)
    for args in (["deadlines", "--today", "2026-03-03"], ["report", "--month", "2026-03"],
                 ["reopen-list"]):
        result = case_repo.run(*args)
        assert bad in result.stderr, args
        assert not any(value in result.stderr for value in WRITER.values())


def test_validate_names_the_file(case_repo: Repo) -> None:
    _, bad = break_one(case_repo)
    result = case_repo.run("validate", expect=1)
    assert f"{bad}:" in result.stderr and "YAML 格式错误" in result.stderr


def test_a_case_file_that_is_a_symbolic_link_is_not_followed(case_repo: Repo, tmp_path) -> None:
    """A link in cases/ may point outside the repository (a pull request must not make CI or
    the board read the runner's files): it is named as a problem and its target never read."""
    good = case_repo.new_letter(1)
    source = case_repo.letter_file(good)
    outside = tmp_path / "outside.yaml"  # a whole, valid letter outside the repository
    outside.write_text(source.read_text("utf-8").replace(good, "LA-2026-00099"), "utf-8")
    link = source.with_name("LA-2026-00099.yaml")
    link.symlink_to(outside)
    rel = str(link.relative_to(case_repo.path))
    result = case_repo.run("validate", expect=1)
    assert f"{rel}: 错误: 案卷文件是一个符号链接" in result.stderr
    listed = case_repo.run("list", "--json")
    assert [r["letter_code"] for r in json.loads(listed.stdout)] == [good]
    assert rel in listed.stderr
    assert case_repo.run("show", "LA-2026-00099", expect=1).exit_code == 1
