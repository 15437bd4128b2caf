"""The one loader: letters and located problems, never a file dropped silently."""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath

import pytest

from letterbox.core.errors import LetterboxError
from letterbox.store.loader import NOT_A_MAPPING, load
from letterbox.store.repository import Repository
from letterbox.store.revisions import load_revision

GOOD = "letter_code: LA-2026-00001\ntitle: 路灯不亮\nhistory: []\n"
BROKEN = "letter_code: LA-2026-00002\ntitle: [不成对\n"
LIST = "- letter_code: LA-2026-00003\n"


def write_cases(root: Path) -> None:
    folder = root / "cases" / "2026" / "03"
    folder.mkdir(parents=True)
    (folder / "LA-2026-00001.yaml").write_text(GOOD, "utf-8")
    (folder / "LA-2026-00002.yaml").write_text(BROKEN, "utf-8")
    (folder / "LA-2026-00003.yaml").write_text(LIST, "utf-8")


def test_one_letter_and_two_problems_naming_the_files(tmp_path: Path) -> None:
    write_cases(tmp_path)
    loaded = load(tmp_path)
    assert [x.code for x in loaded.letters] == ["LA-2026-00001"]
    assert loaded.letters[0].lines[("title",)] == (2, 1)
    assert loaded.unreadable == ["cases/2026/03/LA-2026-00002.yaml", "cases/2026/03/LA-2026-00003.yaml"]
    broken, listed = loaded.problems
    assert broken.line == 3 and "YAML 格式错误" in broken.message
    assert listed.line == 1 and listed.message == NOT_A_MAPPING


def test_lines_can_be_left_out(tmp_path: Path) -> None:
    write_cases(tmp_path)
    assert load(tmp_path, lines=False).letters[0].lines == {}


def test_cache_keeps_letters_and_rereads_changed_files(tmp_path: Path) -> None:
    write_cases(tmp_path)
    db = tmp_path / ".letterbox-cache" / "letters.sqlite3"
    with pytest.raises(ValueError):
        load(tmp_path, cache=db)
    first = load(tmp_path, lines=False, cache=db)
    assert first.parsed == 3 and len(first.problems) == 2
    again = load(tmp_path, lines=False, cache=db)
    assert again.parsed == 2  # the good file from the cache; the others read again
    assert [(x.path, x.data) for x in again.letters] == [(x.path, x.data) for x in first.letters]
    assert again.problems == first.problems
    good = tmp_path / "cases" / "2026" / "03" / "LA-2026-00001.yaml"
    good.write_text(GOOD.replace("路灯不亮", "路灯又不亮了"), "utf-8")
    assert load(tmp_path, lines=False, cache=db).letters[0].data["title"] == "路灯又不亮了"
    assert (db.parent / ".gitignore").read_text("utf-8").strip().endswith("*")


def test_pool_gives_the_same_result(tmp_path: Path) -> None:
    write_cases(tmp_path)
    pooled = load(tmp_path, lines=False, workers=2, pool_min=0)
    plain = load(tmp_path, lines=False)
    assert pooled.pooled and not plain.pooled
    assert [(x.path, x.data) for x in pooled.letters] == [(x.path, x.data) for x in plain.letters]
    assert pooled.problems == plain.problems


def test_a_revision_reads_by_the_same_parse(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write_cases(tmp_path)
    env = ["-c", "user.name=测试员", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "-C", str(tmp_path), "add", "cases"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), *env, "commit", "-q", "-m", "cases"], check=True)
    repo = Repository(tmp_path)
    at_head = load_revision(repo, "HEAD")
    assert at_head.letters[0].path == PurePosixPath("cases/2026/03/LA-2026-00001.yaml")
    assert at_head.problems == load(tmp_path).problems
    assert [x.code for x in repo.letters()] == ["LA-2026-00001"]
    with pytest.raises(LetterboxError, match="无法读取"):
        repo.letter("LA-2026-00002")
    with pytest.raises(LetterboxError, match="找不到基准版本"):
        load_revision(repo, "no-such-branch")
