"""The letters index (store/index.py, issue 17 point 2): `deadlines`, `list --status` and
`report` read only the letters they can show, and say exactly what a fresh read of every case
file says: on a generated repository, cold and warm, after a hand edit not committed, a deleted
file, files that cannot be read, a history that does not fold; and on a sealed repository, whose
index keeps no writer datum."""

from __future__ import annotations

import json
import sqlite3
import sys
import zlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from letterbox.core.clock import work_calendar
from letterbox.core.sealing import Keyring
from letterbox.reports.deadline_table import deadline_table
from letterbox.reports.monthly import monthly_report
from letterbox.reports.views import row_view
from letterbox.store import index
from letterbox.store.repository import Repository
from tests.conftest import Repo, make_case_repo
from tests.e2e.test_sealing_read import Sealed, every_datum, sealed  # noqa: F401  (the fixture)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from scale import make_scale_repo  # noqa: E402

TODAY = "2026-11-20"


def expected(repo: Repository, day: date, keyring: Keyring | None = None) -> dict[str, Any]:
    """What every reader says from a fresh read of every case file (no index)."""
    loaded = repo.load(lines=False, keyring=keyring)
    config, cal = repo.config, work_calendar(repo.root)
    table = deadline_table(loaded.letters, config, cal, day)
    rows = [row_view(x, config, cal, day) for x in loaded.letters]
    return {"loaded": loaded, "deadlines": [r.to_json() for r in table.rows], "warnings": table.warnings,
            "rows": rows}


def same_json(data: Any) -> Any:
    return json.loads(json.dumps(data, ensure_ascii=False))


def assert_readers_agree(repo: Repo, months: list[str], *, key_env: dict[str, str] | None = None) -> None:
    store = Repository(repo.path)
    day = date.fromisoformat(TODAY)
    ref = expected(store, day)
    result = repo.run("deadlines", "--json", "--today", TODAY, "--fail-on", "never")
    assert json.loads(result.stdout) == same_json(ref["deadlines"])
    unreadable = ref["loaded"].unreadable
    lines = ([f"警告：{len(unreadable)} 个案卷文件无法读取，未计入结果（运行 letterbox validate 查看原因）：",
              *(f"  {f}" for f in unreadable)] if unreadable else [])
    lines += [f"警告：{w}" for w in ref["warnings"]]
    assert result.stderr.splitlines() == lines
    for status in ("transferred", "closed", "classified"):
        listed = repo.run("list", "--status", status, "--today", TODAY, "--json")
        assert json.loads(listed.stdout) == same_json([r for r in ref["rows"] if r["status"] == status])
        for r in ref["rows"]:
            if r["problem"]:
                assert r["problem"] in listed.stderr
        assert all(f in listed.stderr for f in unreadable)
    for month in months:
        report = json.loads(repo.run("report", "--month", month, "--today", TODAY, "--format", "json").stdout)
        figures = monthly_report(ref["loaded"].letters, store.config, work_calendar(store.root), month, day)
        assert report == same_json(figures.to_json())
    text = [repo.run(*args).stdout for args in (("deadlines", "--today", TODAY, "--fail-on", "never"),
                                                ("list", "--status", "transferred", "--today", TODAY))]
    again = [repo.run(*args).stdout for args in (("deadlines", "--today", TODAY, "--fail-on", "never"),
                                                 ("list", "--status", "transferred", "--today", TODAY))]
    assert text == again


@pytest.fixture
def scaled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    repo = make_case_repo(tmp_path, monkeypatch)
    path = tmp_path / "scaled"
    make_scale_repo(path, 160, open_count=25, today=datetime.fromisoformat(f"{TODAY}T12:00:00+08:00"))
    return Repo(path, repo.runner)


def files(repo: Repo) -> list[Path]:
    return sorted((repo.path / "cases").rglob("*.yaml"))


def edit(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text("utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


def test_readers_through_the_index_say_what_a_full_read_says(scaled: Repo) -> None:
    months = ["2026-11", "2026-10"]
    store = Repository(scaled.path)
    db = index.index_path(store.git_dir)
    assert not db.exists()
    assert_readers_agree(scaled, months)  # cold, then warm
    assert db.exists()
    warm = store.indexed()
    assert warm.read == 0 and warm.files == len(files(scaled)) and warm.kept
    wanted = store.indexed(lambda e: e.open)
    assert 0 < len(wanted.loaded.letters) < warm.files  # only what was asked for is returned
    assert [x.code for x in warm.loaded.letters] == [x.code for x in store.load(lines=False).letters]

    everything = files(scaled)
    by_status: dict[str, list[Path]] = {}
    for path in everything:
        status = yaml.safe_load(path.read_text("utf-8"))["status"]
        by_status.setdefault(status, []).append(path)
    open_one, other_open = by_status["transferred"][0], by_status["transferred"][1]
    old_closed, broken = by_status["closed"][0], by_status["closed"][1]
    # a hand edit, not committed: an open letter loses its transfer (back to classified)
    edit(open_one, lambda d: d.update(history=d["history"][:-1], status="classified"))
    # an old closed letter's last event moved into the report's month (it becomes active there)
    edit(old_closed, lambda d: d["history"][-1].update(at="2026-11-03T10:00:00+08:00"))
    # a history that does not fold, its events long past (named by every reader all the same)
    edit(broken, lambda d: d["history"][1].update(action="bogus"))
    other_open.unlink()  # a deleted file
    (open_one.parent / "LA-2026-99998.yaml").write_text("letter_code: [unclosed\n", "utf-8")
    (open_one.parent / "LA-2026-99999.yaml").write_bytes(b"letter_code: \xff\xfe\n")
    assert_readers_agree(scaled, months)
    after = store.indexed()
    assert after.read == 0  # a file that does not parse keeps its problems by blob id too
    assert {Path(p).name for p in after.loaded.unreadable} == {"LA-2026-99998.yaml", "LA-2026-99999.yaml"}
    assert str(other_open.relative_to(scaled.path)) not in {x.path.as_posix() for x in after.loaded.letters}
    with sqlite3.connect(db) as rows:  # the deleted file's row is gone, each file has one
        kept = {path for (path,) in rows.execute("SELECT path FROM letters")}
        documents = rows.execute("SELECT count(*) FROM docs").fetchone()[0]
    assert kept == {p.relative_to(scaled.path).as_posix() for p in files(scaled)}
    assert 0 < documents < len(kept) - 20  # old closed letters are read from their files
    # a broken index file is rebuilt, never trusted
    db.write_bytes(b"not a database")
    assert_readers_agree(scaled, months)
    # a configuration change empties the index: every row is derived again
    config = scaled.path / "letterbox.yaml"
    config.write_text(config.read_text("utf-8") + "\n# changed\n", "utf-8")
    assert store.indexed().read == len(files(scaled))


def test_the_index_of_a_sealed_repository_keeps_no_writer_datum(sealed: Sealed) -> None:  # noqa: F811
    repo = sealed.repo
    store = Repository(repo.path)
    ring = Keyring((sealed.keys["zzl"].read_bytes(),),
                   tuple((p.stem, p.read_text().strip()) for p in sealed.periods.glob("*.key")))
    day = date.fromisoformat(TODAY)
    full = store.load(lines=False, keyring=ring)
    for args in (("deadlines", "--json", "--today", TODAY, "--fail-on", "never"),
                 ("list", "--status", "transferred", "--today", TODAY, "--json")):
        first = sealed.run(*args, key="zzl")
        second = sealed.run(*args, key="zzl")
        assert first.stdout == second.stdout and first.stderr == second.stderr
    cal = work_calendar(store.root)
    rows = [row_view(x, store.config, cal, day) for x in full.letters]
    listed = sealed.run("list", "--status", "transferred", "--today", TODAY, "--json", key="zzl")
    assert json.loads(listed.stdout) == same_json([r for r in rows if r["status"] == "transferred"])
    assert any(r["title"] and "已加密" not in str(r["title"]) for r in json.loads(listed.stdout))  # opened
    report = sealed.run("report", "--month", "2026-01", "--format", "json", key="zzl")
    figures = monthly_report(full.letters, store.config, cal, "2026-01", day)
    assert json.loads(report.stdout) == same_json(figures.to_json())
    with sqlite3.connect(index.index_path(store.git_dir)) as db:
        kept = [zlib.decompress(doc).decode("utf-8") for (doc,) in db.execute("SELECT doc FROM docs")
                if doc is not None]
    assert kept and all('"sealed"' in doc for doc in kept)
    assert all(datum not in doc for doc in kept for datum in every_datum())
