"""Kept state is only a saving of time: every SQLite file letterbox keeps beside the case files
(`.letterbox-cache/*.sqlite3`, `.git/letterbox/*.sqlite`) may be found damaged — a disk that
filled up, a copy cut short, an editor that opened it — and the commands must then work as if it
were missing: the same output, exit 0, the file made again (not left broken for every later run).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from letterbox.store.cache import CACHE_DIR
from letterbox.store.repository import Repository
from site_builder.build import build_site
from site_builder.incremental import MANIFEST, STATE_DIR
from tests.e2e import test_site_incremental
from tests.e2e.test_site import run
from tests.e2e.test_site_incremental import files_of

board = test_site_incremental.board  # its board repository (three letters), the fixture reused

GARBAGE = {  # how a kept file is damaged: its bytes → the damaged bytes
    "not a database": lambda data: b"\x00garbage, not SQLite\n" * 300,
    "header cut short": lambda data: b"SQLite format 3\x00" + b"\xff" * 40,
    "pages overwritten": lambda data: data[:100] + b"\xa5" * (len(data) - 100),
}


def kept_files(root: Path) -> list[Path]:
    found = [*(root / ".letterbox-cache").glob("*.sqlite3"), *(root / ".git" / "letterbox").glob("*.sqlite"),
             *(root / ".git" / "letterbox" / "lookup").glob("*.sqlite")]
    return sorted(p for p in found if p.is_file())


def is_database(path: Path) -> bool:
    try:
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA schema_version").fetchone()
        return True
    except sqlite3.DatabaseError:
        return False


def commands(root: Path) -> dict[str, str]:
    """What each reading command prints (the parts that do not depend on timing)."""
    return {
        "validate": run(root, "validate", "--json"),
        "deadlines": run(root, "deadlines", "--json", "--today", "2026-01-08", "--fail-on", "never"),
        "list": run(root, "list", "--json"),
        "similar": run(root, "similar", "LA-2026-00002", "--json"),
    }


def built_copy(board: Path, tmp_path: Path) -> tuple[Path, Path, dict]:
    """A copy of the board repository, its board built once: (repository, site, the site's files)."""
    root = tmp_path / "repo"
    shutil.copytree(board, root, symlinks=True)
    site = tmp_path / "site"
    build_site(Repository(root), site)
    return root, site, files_of(site)


@pytest.mark.parametrize("damage", sorted(GARBAGE))
def test_damaged_kept_files_are_made_again(board: Path, tmp_path: Path, damage: str) -> None:
    root, site, reference = built_copy(board, tmp_path)
    expected = commands(root)
    kept = kept_files(root)
    names = {p.name for p in kept}
    # the caches of the loader, the redaction stage, validate, the letters index and similar
    assert {"letters.sqlite3", "redaction.sqlite3", "validate.sqlite", "letters.sqlite"} <= names, names
    assert {"folds.sqlite3", "similar.sqlite"} <= names, names
    assert any(p.parent.name == "lookup" for p in kept)  # the lookup index's manifest
    for path in kept:
        path.write_bytes(GARBAGE[damage](path.read_bytes()))
    assert commands(root) == expected
    report = build_site(Repository(root), site)
    assert report.letters >= 1
    assert files_of(site) == reference
    for path in kept_files(root):
        assert is_database(path), f"{path.name} left damaged"


def test_damaged_notify_record_is_said_and_kept(board: Path, tmp_path: Path) -> None:
    """The notify worker's delivery record is not a cache: remade, it would send the outbox
    again. Damaged, it is left as it is, `deadlines` still prints its table with a line about it
    and `notify` stops with what to do."""
    from click.testing import CliRunner

    from letterbox.cli.main import cli

    root = tmp_path / "repo"
    shutil.copytree(board, root, symlinks=True)
    record = root / ".git" / "letterbox" / "notify.sqlite"
    record.write_bytes(b"SQLite format 3\x00" + b"\xff" * 40)
    table = run(root, "deadlines", "--today", "2026-01-08", "--fail-on", "never")
    assert "LA-2026-00003" in table and "通知发送记录 .git/letterbox/notify.sqlite 已损坏" in table
    result = CliRunner().invoke(cli, ["--repo", str(root), "notify", "--status"])
    assert result.exit_code == 1
    assert "已损坏" in result.output and "--skip-existing" in result.output and "Traceback" not in result.output
    assert record.read_bytes() == b"SQLite format 3\x00" + b"\xff" * 40


MANIFEST_DAMAGE = {  # the board's manifest (JSON, not SQLite): its bytes → the damaged bytes
    "cut short": lambda data: data[: len(data) // 2],
    "not JSON": lambda data: b"\xff\xfe garbage",
    "a JSON list": lambda data: b"[1, 2, 3]",
    "a JSON string": lambda data: b'"version"',
    "unknown fields": lambda data: b'{"version": "x", "surprise": 1}',
}


@pytest.mark.parametrize("damage", sorted(MANIFEST_DAMAGE))
def test_damaged_board_manifest_makes_a_build_from_scratch(board: Path, tmp_path: Path, damage: str) -> None:
    root, site, reference = built_copy(board, tmp_path)
    manifest = root / CACHE_DIR / STATE_DIR / MANIFEST
    manifest.write_bytes(MANIFEST_DAMAGE[damage](manifest.read_bytes()))
    report = build_site(Repository(root), site)
    assert report.letters >= 1
    assert report.changed == report.files  # every file made again: nothing of the kept state trusted
    assert files_of(site) == reference
    assert json.loads(manifest.read_text("utf-8"))["out"] == str(site.resolve())
