"""`show CODE` finds the letters that follow up CODE through the letters index (the
`follows_up` column, store/index.py) and says exactly what a full read of every case file
says: after intake, after a hand edit not committed (a follow-up added, one taken away), with a
file that cannot be read, over an index file of the schema before; and on a sealed repository,
whose case files keep `follows_up` in clear."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import yaml

from letterbox.reports.views import followed_by
from letterbox.store import index
from letterbox.store.repository import Repository
from tests.conftest import Repo
from tests.e2e.test_sealing_read import Sealed, sealed  # noqa: F401  (the fixture)

TODAY = "2026-03-20"


def full_read(path: Path) -> tuple[dict[str, list[str]], list[str]]:
    """What `show` computed before the index: the followers of every letter from a fresh read
    of every case file (as stored), and the files that could not be read."""
    loaded = Repository(path).load(lines=False)
    return followed_by(loaded.letters), [str(p) for p in loaded.unreadable]


def assert_show_agrees(repo: Repo, code: str, *, run: Any = None) -> list[str]:
    run = run or repo.run
    followers, unreadable = full_read(repo.path)
    expected = followers.get(code, [])
    shown = run("show", code, "--json", "--today", TODAY)
    assert json.loads(shown.stdout)["followed_by"] == expected
    text = run("show", code, "--today", TODAY)
    lines = [x for x in text.stdout.splitlines() if x.startswith("后续来信：")]
    assert lines == ([f"后续来信：{'、'.join(expected)}"] if expected else [])
    for name in unreadable:
        assert name in text.stderr and name in shown.stderr
    return expected


def edit(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text("utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


def test_show_lists_the_followers_a_full_read_finds(case_repo: Repo) -> None:
    first, second, third = (case_repo.new_letter(n) for n in (1, 2, 3))
    later = "2026-03-03T10:00:00+08:00"
    a = case_repo.new_letter(4, follows_up=first, submitted_at=later)
    b = case_repo.new_letter(5, follows_up=second, submitted_at=later)
    c = case_repo.new_letter(6, follows_up=first, submitted_at=later)
    store = Repository(case_repo.path)
    db = index.index_path(store.git_dir)
    db.unlink(missing_ok=True)

    assert assert_show_agrees(case_repo, first) == [a, c]  # cold: the index is built
    assert assert_show_agrees(case_repo, first) == [a, c]  # warm
    assert assert_show_agrees(case_repo, second) == [b]
    assert assert_show_agrees(case_repo, third) == []
    with sqlite3.connect(db) as rows:  # the lookup is an indexed query
        plan = " ".join(str(r) for r in rows.execute(
            "EXPLAIN QUERY PLAN SELECT path FROM letters WHERE follows_up = ?", (first,)))
        kept = dict(rows.execute("SELECT code, follows_up FROM letters"))
    assert "letters_follows_up" in plan
    assert kept[a] == first and kept[b] == second and kept[third] is None

    # hand edits, not committed: the third letter now follows up the first, `c` no longer does
    edit(case_repo.letter_file(third), lambda d: d.update(follows_up=first))
    edit(case_repo.letter_file(c), lambda d: d.update(follows_up=None))
    assert case_repo.git("status", "--porcelain").strip()
    assert assert_show_agrees(case_repo, first) == [third, a]
    # a case file that cannot be read is named as a full read names it
    (case_repo.letter_file(a).parent / "LA-2026-99999.yaml").write_text("letter_code: [unclosed\n", "utf-8")
    assert assert_show_agrees(case_repo, first) == [third, a]
    # a follow-up of a letter named in another form than its code is no follow-up (as before)
    edit(case_repo.letter_file(b), lambda d: d.update(follows_up=second.lower()))
    assert assert_show_agrees(case_repo, second) == []


def test_an_index_of_the_schema_before_is_made_again(case_repo: Repo) -> None:
    first = case_repo.new_letter(1)
    follower = case_repo.new_letter(2, follows_up=first, submitted_at="2026-03-03T10:00:00+08:00")
    db = index.index_path(Repository(case_repo.path).git_dir)
    db.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db) as old:  # schema 3: no follows_up column, rows said current
        old.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        old.execute("CREATE TABLE letters (path TEXT PRIMARY KEY, blob TEXT NOT NULL, code TEXT, status TEXT, "
                    "open INTEGER, broken INTEGER, last_day TEXT, submitted TEXT, category TEXT, units TEXT, "
                    "holders TEXT, problems TEXT)")
        old.execute("CREATE TABLE docs (path TEXT PRIMARY KEY, blob TEXT NOT NULL, doc BLOB)")
        old.execute("PRAGMA user_version = 3")
    assert assert_show_agrees(case_repo, first) == [follower]
    with sqlite3.connect(db) as rows:
        assert rows.execute("PRAGMA user_version").fetchone()[0] == index.SCHEMA
        assert dict(rows.execute("SELECT code, follows_up FROM letters"))[follower] == first


def test_show_on_a_sealed_repository_finds_followers_in_clear(sealed: Sealed) -> None:  # noqa: F811
    repo, codes = sealed.repo, sealed.codes
    target, follower = codes["old"], codes["new"]
    path = repo.letter_file(follower)
    before = path.read_bytes()
    data = yaml.safe_load(before)
    assert "sealed" in data and "follows_up" in data  # follows_up is not among the sealed fields
    try:
        edit(path, lambda d: d.update(follows_up=target))  # by hand, not committed
        for key in (None, "office"):
            assert assert_show_agrees(repo, target, run=lambda *a, key=key: sealed.run(*a, key=key)) == [follower]
        assert assert_show_agrees(repo, follower, run=lambda *a: sealed.run(*a)) == []
    finally:
        path.write_bytes(before)


def test_year_codes_is_the_glob_of_the_year(tmp_path: Path) -> None:
    """`Repository.codes_in_year` from kept folder listings: the files the glob
    cases/<year>/*/<prefix>-<year>-*.yaml finds, a file added or removed seen at once."""
    root = tmp_path
    year = root / "cases" / "2026"
    for folder, names in {"03": ["LA-2026-00001.yaml", "LA-2026-00003.yaml", "LA-2026-00002.yml",
                                 "LB-2026-00009.yaml", "notes.txt"],
                          "04": ["LA-2026-00004.yaml", "LA-2025-00007.yaml"],
                          ".hidden": ["LA-2026-00050.yaml"], "05": []}.items():
        (year / folder).mkdir(parents=True)
        for name in names:
            (year / folder / name).write_text("x", "utf-8")
    (year / "LA-2026-00060.yaml").write_text("x", "utf-8")  # not in a month folder
    (year / "06").symlink_to(year / "05")  # a month folder through a link: the glob looks in
    (year / "05" / "LA-2026-00070.yaml").write_text("x", "utf-8")

    def glob() -> list[str]:
        return sorted(p.stem for p in year.glob("*/LA-2026-*.yaml"))

    assert index.year_codes(root, "LA", 2026) == glob() == [
        "LA-2026-00001", "LA-2026-00003", "LA-2026-00004", "LA-2026-00050", "LA-2026-00070", "LA-2026-00070"]
    assert index.year_codes(root, "LA", 2027) == []
    settled = time.time() - 3600
    for folder in [year, *year.iterdir()]:
        os.utime(folder, (settled, settled), follow_symlinks=False)
    assert index.year_codes(root, "LA", 2026) == glob()
    assert str(year / "04") in index._FOLDERS  # listed once, kept
    git_dir = root / "git"
    kept = git_dir / "letterbox" / index.SEQUENCE_FILE

    def last() -> int:
        """The numbering's largest sequence number, from a fresh process's point of view."""
        index._FOLDERS.clear()
        return index.last_sequence(root, git_dir, "LA", 2026)

    assert last() == 70 and kept.exists()  # settled folders: their largest number kept
    assert index.last_sequence(root, git_dir, "LA", 2027) == 0
    for _ in range(2):  # a file added or removed changes its folder's time: listed again
        (year / "04" / "LA-2026-00085.yaml").write_text("x", "utf-8")
        assert index.year_codes(root, "LA", 2026) == glob()
        assert last() == 85
        (year / "04" / "LA-2026-00085.yaml").unlink()
        assert index.year_codes(root, "LA", 2026) == glob()
        assert last() == 70
    (year / "04" / "LA-2026-00090.yaml").write_text("x", "utf-8")
    os.utime(year / "04", (settled + 1, settled + 1))  # settled: kept with its number
    assert last() == 90 and any(v[1] == 90 for v in json.loads(kept.read_text("utf-8")).values())
    saved = json.loads(kept.read_text("utf-8"))
    kept.write_text(json.dumps({k: [v[0], 95 if v[1] == 90 else v[1]] for k, v in saved.items()}), "utf-8")
    assert last() == 95  # the kept number is used: the folder is not listed again
    kept.write_text("not json", "utf-8")  # a damaged cache is made again
    assert last() == 90 and json.loads(kept.read_text("utf-8"))
