"""Reversible publication (issue 14): publish, withhold and take down (`unpublish`) in any
order on answered letters, archived ones included; a takedown leaves the next build without
the letter's page, list rows, search record and requests.json entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from site_builder import lookup_index as li
from tests.conftest import Repo, commit_count, head, porcelain, site_texts, submission

A, B, C = "LA-2026-00001", "LA-2026-00002", "LA-2026-00003"
REASON = "页面上能认出邻居的车牌，先撤下核实"


def at(day: int, hour: int) -> str:
    return f"2026-03-{day:02d}T{hour:02d}:00:00+08:00"


def reply(repo: Repo, code: str, day: int, text: str) -> None:
    repo.run("classify", code, "--category", "consultation", "--at", at(day, 10))
    repo.run("reply", code, "--text", text, "--at", at(day, 11))


@pytest.fixture
def answered(case_repo: Repo) -> Repo:
    """A and B answered (no publication decision yet), C still open."""
    case_repo.intake(submission(1, title="文昌大道路灯不亮"), submission(2, title="中州路井盖缺失"),
                     submission(3, title="光明小区电梯故障"))
    reply(case_repo, A, 2, "路灯已于3月3日修复。")
    reply(case_repo, B, 2, "井盖已补齐。")
    return case_repo



def where(site: Path, code: str) -> set[str]:
    """Every file of the built site that names the letter (pages, lists, search, requests.json)."""
    return {rel for rel, text in site_texts(site).items()
            if code in text and rel != "lookup/index.html"}  # its example code is LA-2026-00001


def test_takedown_end_to_end(answered: Repo) -> None:
    repo, site = answered, answered.path / "site"
    repo.run("publish", A, "--at", at(3, 9))
    repo.run("build")
    found = where(site, A)
    assert f"letters/{A}/index.html" in found and "requests.json" in found
    assert any(rel.startswith("categories/consultation/") for rel in found)
    assert any(rel.startswith("months/") and rel != "months/index.html" for rel in found)
    assert any(rel.startswith("pagefind-") and "/fragment/" in rel for rel in found)  # the search record
    before = commit_count(repo.path)
    result = repo.run("unpublish", A, "--reason", REASON, "--as", "信息中心刘主任", "--at", at(3, 10))
    assert "撤下公开" in result.stdout
    assert commit_count(repo.path) == before + 1 and porcelain(repo.path) == ""
    message = repo.git("log", "-1", "--format=%an|%s").strip()
    assert message == f"信息中心刘主任|{A} 撤下公开"  # the reason stays in the case file only
    data = repo.letter(A)
    assert data["publication"] == "taken-down"
    assert data["history"][-1] == {"at": at(3, 10), "actor": "信息中心刘主任", "action": "unpublish",
                                   "details": {"reason": REASON}}
    repo.run("validate")
    repo.run("build")
    assert where(site, A) == set()  # page, list rows, search record, requests.json entry: gone
    assert not (site / "letters" / A).exists()
    assert f"letters/{B}/index.html" in where(site, B)  # the rest of the board stays
    requests = json.loads((site / "requests.json").read_text("utf-8"))
    assert [r["service_request_id"] for r in requests] == [B]
    preview = repo.json("preview", A)
    assert preview["publication"] == "taken-down" and "撤下" in preview["not_public_reason"]
    # published again later: back on the board
    repo.run("publish", A, "--at", at(4, 9))
    repo.run("build")
    assert f"letters/{A}/index.html" in where(site, A)


def test_writer_still_sees_the_status_without_a_link(answered: Repo) -> None:
    repo, site = answered, answered.path / "site"
    query = repo.json("intake", str(repo.write_submission("d.json", submission(4, title="路面坑洼"))))
    code, secret = query[0]["letter_code"], query[0]["query_code"]
    reply(repo, code, 3, "已修补。")
    repo.run("unpublish", code, "--reason", REASON, "--at", at(3, 12))
    repo.run("build")
    entry = li.lookup(site, code, secret)
    assert entry is not None and entry["status"] == "closed" and entry["status_zh"] == "已办结"
    assert entry["link"] is None
    assert [label for _, label in entry["timeline"]][-1] == "公开页面已撤下"
    assert not (site / "letters" / code).exists()


def test_any_order_on_answered_letters_archived_included(answered: Repo) -> None:
    repo = answered
    repo.run("publish", A, "--at", at(3, 9))
    repo.run("withhold", A, "--reason", "privacy", "--at", at(3, 10))  # withhold after publish
    repo.run("publish", A, "--at", at(3, 11))  # a withheld letter published later
    repo.run("unpublish", A, "--reason", REASON, "--at", at(3, 12))
    repo.run("withhold", A, "--reason", "sensitive", "--at", at(3, 13))
    assert repo.letter(A)["publication"] == "withheld"
    repo.run("archive", B, "--at", at(3, 9))  # archived without a decision: not public for good
    repo.run("unpublish", B, "--reason", REASON, "--at", at(3, 10))
    repo.run("publish", B, "--at", at(3, 11))
    repo.run("withhold", B, "--reason", "privacy", "--at", at(3, 12))
    assert repo.show(B)["status"] == "archived" and repo.letter(B)["publication"] == "withheld"
    repo.run("validate")


@pytest.mark.parametrize(("args", "words"), [
    (["unpublish", C, "--reason", REASON], ["当前状态为“已收到”"]),  # not answered yet
    (["publish", C], ["当前状态为“已收到”"]),
])
def test_open_letters_have_no_publication_decision(answered: Repo, args: list[str],
                                                   words: list[str]) -> None:
    repo = answered
    sha = head(repo.path)
    result = repo.run(*args, "--at", at(3, 9), expect=1)
    assert all(w in result.stderr for w in words), result.stderr
    assert head(repo.path) == sha and porcelain(repo.path) == ""


def test_the_same_decision_twice_is_refused(answered: Repo) -> None:
    repo = answered
    repo.run("unpublish", A, "--reason", REASON, "--at", at(3, 9))
    sha = head(repo.path)
    result = repo.run("unpublish", A, "--reason", REASON, "--at", at(3, 10), expect=1)
    assert "已撤下" in result.stderr and "publish（公开）" in result.stderr
    result = repo.run("unpublish", A, "--reason", "  ", "--at", at(3, 10), expect=1)
    assert head(repo.path) == sha and porcelain(repo.path) == ""


def test_rejected_letters_get_no_publication_decision(case_repo: Repo) -> None:
    repo = case_repo
    repo.intake(submission(1))
    repo.run("reject", A, "--reason", "incomplete", "--at", at(2, 10))
    repo.run("archive", A, "--at", at(2, 11))
    for args in (["publish", A], ["unpublish", A, "--reason", REASON],
                 ["withhold", A, "--reason", "privacy"]):
        result = repo.run(*args, "--at", at(2, 12), expect=1)
        assert "没有答复" in result.stderr, result.stderr


def test_hand_edited_takedown_passes_check(answered: Repo) -> None:
    repo = answered
    repo.run("publish", A, "--at", at(3, 9))
    sha = head(repo.path)
    path = repo.letter_file(A)
    text = path.read_text("utf-8")
    assert "publication: public" in text
    text = text.replace("publication: public", "publication: taken-down", 1)
    text += (f"- at: '{at(3, 10)}'\n  actor: 信息中心刘主任\n  action: unpublish\n  details:\n"
             f"    reason: {REASON}\n")
    path.write_text(text, "utf-8")
    repo.run("validate")
    assert "全部符合" in repo.run("check", "--base", sha).stdout
    # the same event again is not a legal step
    path.write_text(text + (f"- at: '{at(3, 11)}'\n  actor: 信息中心刘主任\n  action: unpublish\n"
                            f"  details:\n    reason: {REASON}\n"), "utf-8")
    result = repo.run("check", "--base", sha, expect=1)
    assert "unpublish" in result.stdout + result.stderr
