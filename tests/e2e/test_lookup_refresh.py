"""Issue 17 point 4: the lookup index refreshed in place, without a build.

A real case repository (git), a real `letterbox build`, letters submitted through the real
intake service (Starlette's TestClient over `create_app`, and `letterbox serve-intake` as a
real uvicorn process), steps taken by the CLI, then `letterbox lookup-refresh`. After every
refresh: the letters are found with their codes (the same algorithm as the page), every entry
the manifest lists decrypts in its shard, the shards are all the same size, and only the
changed letters' shards were rewritten, with the same build salt.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from letterbox.cli.main import cli
from letterbox.store.repository import Repository
from letterbox.web.service import create_app
from site_builder import lookup_index as li
from tests.conftest import GIT_ENV, WRITER, make_case_repo, submission
from tests.e2e.test_service import Server, web_submission

with warnings.catch_warnings():  # this Starlette wants httpx2 for its TestClient; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

Codes = dict[str, str]  # letter code -> query code


def run(root: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--repo", str(root), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    return result.output


def refresh(root: Path, *args: str) -> dict[str, Any]:
    return json.loads(run(root, "lookup-refresh", "--json", *args))


def meta(site: Path) -> dict[str, Any]:
    return json.loads((site / "lookup" / "meta.json").read_text("utf-8"))


def shards(site: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((site / "lookup" / "shards").iterdir())}


def check_index(root: Path, site: Path) -> int:
    """Every shard the same size, no stray file; every entry the manifest lists is in its shard
    and decrypts to the payload it lists; as many real entries as letters with an entry.
    Returns the number of real entries."""
    m = meta(site)
    files = shards(site)
    assert len(files) == m["shards"] == 1 << m["prefix_bits"]
    assert {len(b) for b in files.values()} == {m["entries_per_shard"] * m["entry_bytes"]}
    assert sorted(p.name for p in (site / "lookup").iterdir()) == ["index.html", "meta.json", "shards"]
    for path in [site / "lookup" / "meta.json", *(site / "lookup" / "shards").iterdir()]:
        assert path.stat().st_mode & 0o777 == 0o644, path  # the web server (another user) reads them
    repo = Repository(root)
    manifest = li.Manifest.open(li.manifest_folder(repo), m)
    assert manifest is not None
    salt = bytes.fromhex(m["hkdf"]["salt"])
    size = m["entry_bytes"]
    try:
        records = manifest.records()
        for record in records:
            ident = li.entry_id(record.slow_hash, salt)
            data = files[li.shard_name(li.shard_index(ident, m["prefix_bits"]), m["prefix_bits"])]
            found = [data[i:i + size] for i in range(0, len(data), size) if data[i:i + li.ID_BYTES] == ident]
            assert len(found) == 1, record.code
            plain = AESGCM(li.entry_key(record.slow_hash, salt)).decrypt(
                found[0][li.ID_BYTES:li.ID_BYTES + li.NONCE_BYTES], found[0][li.ID_BYTES + li.NONCE_BYTES:], ident)
            assert json.loads(plain) == record.payload
        with_entry = {x.code for x in repo.letters() if x.data.get("query_hash")}
        assert {r.code for r in records} == with_entry
        return len(records)
    finally:
        manifest.close()
        repo.close()


def assert_found(site: Path, known: Codes) -> None:
    for letter, query in known.items():
        assert li.lookup(site, letter, query) is not None, letter


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Codes]]:
    """A case repository with the online service configured, three letters (one replied to and
    published) and its built site."""
    patch = pytest.MonkeyPatch()
    case = make_case_repo(tmp_path_factory.mktemp("refresh"), patch)
    root = case.path
    config = root / "letterbox.yaml"  # the service exists: the board has its 写信 page
    config.write_text(config.read_text("utf-8") + "intake_url: https://xzxx.example.gov.cn/\n", "utf-8")
    case.commit_all("intake_url")
    known: Codes = {}
    for n in (1, 2, 3):
        accepted = case.intake(submission(n), name=f"s{n}.json")[0]
        known[accepted["letter_code"]] = accepted["query_code"]
    first = sorted(known)[0]
    run(root, "classify", first, "--category", "consultation")
    run(root, "reply", first, "--text", "已列入本周维修计划。")
    run(root, "publish", first)
    run(root, "build")
    yield root, root / "site", known
    patch.undo()


def test_a_letter_submitted_online_is_found_without_a_build(board: tuple[Path, Path, Codes],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    root, site, known = board
    assert check_index(root, site) == 3
    before, salt = shards(site), meta(site)["hkdf"]["salt"]
    app = create_app(root, rate_limit=(0, 0),
                     lookup_refresh=functools.partial(li.refresh_letters, root, site))
    umask = os.umask(0o077)  # the intake service's systemd unit (docs/deploy.md)
    try:
        with TestClient(app) as client, caplog.at_level(logging.INFO):
            answer = client.post("/api/letters", json=web_submission(7))
            assert answer.status_code == 201, answer.text
    finally:
        os.umask(umask)
    letter, query = answer.json()["letter_code"], answer.json()["query_code"]
    assert letter not in known
    assert run(root, "show", letter, "--json")  # committed in the real repository
    entry = li.lookup(site, letter, query)  # no build ran
    assert entry is not None and entry["status"] == "received" and entry["link"] is None
    assert meta(site)["hkdf"]["salt"] == salt  # refreshed in place
    after = shards(site)
    assert [n for n in after if after[n] != before[n]] == [li.shard_name(
        li.shard_index(li.entry_id(bytes.fromhex(Repository(root).letter(letter).data["query_hash"]["hash"]),
                                   bytes.fromhex(salt)), meta(site)["prefix_bits"]), meta(site)["prefix_bits"])]
    known[letter] = query
    assert check_index(root, site) == 4
    assert_found(site, known)
    assert "查询索引未能即时更新" not in caplog.text
    # nothing left to do for the timer's refresh
    assert refresh(root)["mode"] == "current"
    assert shards(site) == after


def test_a_step_by_a_command_then_lookup_refresh(board: tuple[Path, Path, Codes]) -> None:
    root, site, known = board
    letter = sorted(known)[1]
    assert li.lookup(site, letter, known[letter])["status"] == "received"
    run(root, "classify", letter, "--category", "complaint")
    run(root, "transfer", letter, "--unit", "zjj")
    salt, before = meta(site)["hkdf"]["salt"], shards(site)
    assert li.lookup(site, letter, known[letter])["status"] == "received"  # not yet
    done = refresh(root)
    assert (done["mode"], done["changed"], done["shards"]) == ("shards", 1, 1)
    entry = li.lookup(site, letter, known[letter])
    assert entry is not None and entry["status"] == "transferred" and entry["deadline"]
    assert [label for _, label in entry["timeline"]][-1] != "收信"
    assert meta(site)["hkdf"]["salt"] == salt
    after = shards(site)
    assert sum(after[n] != before[n] for n in after) == 1
    check_index(root, site)
    assert_found(site, known)


def test_removed_and_hand_edited_letters_leave_dummies(board: tuple[Path, Path, Codes]) -> None:
    root, site, known = board
    repo = Repository(root)
    gone = sorted(known)[2]
    path = repo.path_of(gone)
    repo.close()
    # an uncommitted hand edit that drops the stored hash: no entry while it lasts
    text = (root / path).read_text("utf-8")
    (root / path).write_text(text.replace("query_hash:", "query_hash_dropped:"), "utf-8")
    assert refresh(root)["changed"] == 1
    assert li.lookup(site, gone, known[gone]) is None
    check_index(root, site)
    (root / path).write_text(text, "utf-8")  # undone: the entry comes back (the dirty list)
    assert refresh(root)["changed"] == 1
    assert li.lookup(site, gone, known[gone]) is not None
    # removed and committed
    count = check_index(root, site)
    run_git(root, "rm", "-q", str(path))
    run_git(root, "commit", "-q", "-m", "remove a letter")
    done = refresh(root)
    assert (done["mode"], done["changed"]) == ("shards", 1)
    assert li.lookup(site, gone, known.pop(gone)) is None
    assert check_index(root, site) == count - 1
    assert_found(site, known)


def run_git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, env={**os.environ, **GIT_ENV})


def test_a_full_shard_means_a_whole_new_index(board: tuple[Path, Path, Codes]) -> None:
    root, site, known = board
    m = meta(site)
    capacity = m["shards"] * m["entries_per_shard"]
    path = root.parent / "many.jsonl"
    path.write_text("".join(json.dumps(submission(100 + n), ensure_ascii=False) + "\n"
                            for n in range(capacity + 1)), "utf-8")
    accepted = json.loads(run(root, "intake", str(path), "--json"))
    known.update((a["letter_code"], a["query_code"]) for a in accepted)
    done = refresh(root)
    assert done["mode"] == "full" and done["reason"] == "有分片超出容量"
    assert meta(site)["hkdf"]["salt"] != m["hkdf"]["salt"]
    assert check_index(root, site) == len(known)
    assert_found(site, known)
    assert refresh(root)["mode"] == "current"


def test_a_refresh_that_fails_never_fails_the_intake(board: tuple[Path, Path, Codes],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    root, site, known = board
    broken = root.parent / "broken-site"  # the same index, but its shards cannot be written
    shutil.copytree(site, broken)
    shutil.rmtree(broken / "lookup" / "shards")
    (broken / "lookup" / "shards").write_text("x", "utf-8")
    app = create_app(root, rate_limit=(0, 0),
                     lookup_refresh=functools.partial(li.refresh_letters, root, broken))
    with TestClient(app) as client, caplog.at_level(logging.INFO):
        answer = client.post("/api/letters", json=web_submission(8))
    assert answer.status_code == 201, answer.text
    letter, query = answer.json()["letter_code"], answer.json()["query_code"]
    assert "查询索引未能即时更新" in caplog.text and letter in caplog.text
    for value in WRITER.values():
        assert value not in caplog.text
    assert li.lookup(site, letter, query) is None
    # a site with no index: the service never reads every case file itself
    empty = root.parent / "empty-site"
    empty.mkdir()
    assert li.refresh_letters(root, empty, [letter]).mode == "skipped"
    assert not list(empty.iterdir())
    assert refresh(root)["changed"] == 1  # the next refresh catches up
    known[letter] = query
    assert_found(site, known)
    check_index(root, site)


def test_serve_intake_refreshes_the_default_site(board: tuple[Path, Path, Codes]) -> None:
    root, site, known = board
    server = Server(root, "--rate-limit", "0/0")
    try:
        assert "收信后即更新查询索引" in server.output()
        answer = server.letter(web_submission(9))
        assert answer.status_code == 201, answer.text
        letter, query = answer.json()["letter_code"], answer.json()["query_code"]
        deadline = time.monotonic() + 20
        while li.lookup(site, letter, query) is None:  # the refresh runs once the answer is sent
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
    finally:
        server.proc.terminate()
        server.proc.wait(30)
        server.log.close()
    known[letter] = query
    assert_found(site, known)
    check_index(root, site)


def test_manifest_is_outside_the_site(board: tuple[Path, Path, Codes]) -> None:
    root, site, _ = board
    assert not [p for p in site.rglob("*") if p.suffix in (".sqlite", ".tmp") or p.name.startswith(".")]
    repo = Repository(root)
    folder = li.manifest_folder(repo)
    repo.close()
    assert (folder / f"{meta(site)['hkdf']['salt']}.sqlite").is_file()
    assert str(folder).startswith(str(root / ".git"))


def test_lookup_refresh_without_a_site_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = make_case_repo(tmp_path, monkeypatch)
    result = case.run("lookup-refresh", expect=1)
    assert "网站目录" in result.stderr and "letterbox build" in result.stderr


def test_the_write_page_says_when_the_letter_can_be_looked_up(board: tuple[Path, Path, Codes]) -> None:
    _, site, _ = board
    page = (site / "write" / "index.html").read_text("utf-8")
    receipt = page[page.index('id="write-receipt"'):]
    assert "约 1 分钟后" in receipt[:receipt.index("</section>")]


def test_deploy_units_run_real_commands() -> None:
    """docs/deploy.md's units start commands and options that exist."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text("utf-8")
    assert "PathChanged=/srv/letterbox/repo/.git/refs/heads/main" in text
    assert "PathModified=/srv/letterbox/repo/.git/logs/HEAD" in text
    assert "OnUnitActiveSec=1min" in text
    for command, option in (("lookup-refresh", "--site"), ("serve-intake", "--site")):
        assert f"letterbox {command} " in text
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0 and option in result.output
