"""Issue 18, point 7: `letterbox feedback CODE --by-phone --rating … [--note …]` records a rating
the office took by phone (回访); it counts with the ratings given on the web in the monthly
report and the reopen list; one rating per handling either way; only the office may record it.
Real repositories through the CLI; a web rating through the same step the intake service takes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from letterbox.core.clock import work_calendar
from letterbox.ops.workflow import take_step
from letterbox.store.repository import Actor, Repository
from site_builder.lookup_index import payload_of
from tests.conftest import Repo, make_case_repo, snapshot
from tests.e2e.test_roster import Signed, keys  # noqa: F401 - `keys` is the roster tests' key fixture


def closed(repo: Repo, n: int, unit: str = "cgj") -> str:
    """A letter received 2026-09-28, answered by ``unit`` and closed on 2026-09-30."""
    code = repo.new_letter(n, submitted_at="2026-09-28T08:30:00+08:00")
    repo.run("classify", code, "--category", "complaint", "--at", "2026-09-28T09:00:00+08:00")
    repo.run("transfer", code, "--unit", unit, "--at", "2026-09-28T10:00:00+08:00")
    repo.run("answer", code, "--text", "已修复。", "--head", "张局长", "--at", "2026-09-29T10:00:00+08:00")
    repo.run("approve", code, "--at", "2026-09-30T10:00:00+08:00")
    return code


def web_rating(repo: Repo, code: str, rating: str, at: str) -> None:
    """What `POST /api/feedback` does once the query code is verified (web/service.py)."""
    take_step(Repository(repo.path), code, "feedback", {"rating": rating}, Actor("网上信箱"), at=at)


def report(repo: Repo, month: str = "2026-10") -> dict[str, Any]:
    result = repo.run("report", "--month", month, "--format", "json", "--today", "2026-11-15")
    return json.loads(result.stdout)


def test_phone_rating_recorded_and_counted_with_web_ratings(case_repo: Repo) -> None:
    phoned, webbed = closed(case_repo, 1), closed(case_repo, 2)
    # during the National Day holiday: the office calls back on 10/8, the first working day
    result = case_repo.run("feedback", phoned, "--by-phone", "--rating", "不满意",
                           "--note", "路灯修好后又坏了", "--at", "2026-10-08T15:00:00+08:00")
    assert f"已完成：{phoned} 电话回访评价 不满意 → 当前状态：已办结" in result.stdout
    event = case_repo.letter(phoned)["history"][-1]
    assert event["action"] == "phone-feedback"
    assert event["details"] == {"rating": "不满意", "comment": "路灯修好后又坏了"}
    assert "路灯修好后又坏了" not in case_repo.git("log", "-1", "--format=%B")  # the note stays in the file
    web_rating(case_repo, webbed, "满意", "2026-10-09T20:00:00+08:00")
    case_repo.run("validate")
    r = report(case_repo)
    assert (r["satisfied"], r["dissatisfied"], r["rated"]) == (1, 1, 2)
    assert r["satisfaction_rate"] == pytest.approx(0.5)
    cgj = next(u for u in r["units"] if u["unit"] == "cgj")
    assert (cgj["satisfied"], cgj["dissatisfied"], cgj["rated"]) == (1, 1, 2)
    text = case_repo.run("report", "--month", "2026-10", "--today", "2026-11-15").stdout
    assert "来信人评价 2 次：满意 1，基本满意 0，不满意 1；满意率 50.0%。" in text
    assert report(case_repo, "2026-09")["rated"] == 0  # counted in the month of the call
    # a dissatisfied phone rating puts the letter on the reopen list like a web one
    reopen = json.loads(case_repo.run("reopen-list", "--json").stdout)
    assert [(r["letter_code"], r["rating"], r["comment"]) for r in reopen] == [(phoned, "不满意", "路灯修好后又坏了")]
    # the writer's lookup timeline shows the rating
    repo = Repository(case_repo.path)
    payload = payload_of(repo.letter(phoned), repo.config, work_calendar(case_repo.path), published=False)
    assert ["2026-10-08", "来信人评价（电话回访）"] in payload["timeline"]


def test_one_rating_per_handling_either_way(case_repo: Repo) -> None:
    code = closed(case_repo, 1)
    # a refusal names the steps possible now by the command to type
    hint = case_repo.run("remind", code, "--at", "2026-10-08T10:00:00+08:00", expect=1).stderr
    assert "feedback --by-phone（电话回访评价）" in hint and "phone-feedback" not in hint
    web_rating(case_repo, code, "满意", "2026-10-08T20:00:00+08:00")
    before = snapshot(case_repo.path)
    result = case_repo.run("feedback", code, "--by-phone", "--rating", "满意",
                           "--at", "2026-10-09T10:00:00+08:00", expect=1)
    assert "已评价过" in result.stderr and "不能执行“电话回访评价”" in result.stderr
    assert snapshot(case_repo.path) == before
    other = closed(case_repo, 2)
    case_repo.run("feedback", other, "--by-phone", "--rating", "基本满意", "--at", "2026-10-09T10:00:00+08:00")
    with pytest.raises(Exception, match="已评价过"):
        web_rating(case_repo, other, "满意", "2026-10-09T20:00:00+08:00")
    # a reopening allows a new rating
    case_repo.run("reopen", other, "--reason", "回访不满意", "--at", "2026-10-10T10:00:00+08:00")
    case_repo.run("answer", other, "--text", "已再次修复。", "--head", "张局长", "--at", "2026-10-12T10:00:00+08:00")
    case_repo.run("approve", other, "--at", "2026-10-12T11:00:00+08:00")
    case_repo.run("feedback", other, "--by-phone", "--rating", "满意", "--at", "2026-10-13T10:00:00+08:00")


def test_refusals(case_repo: Repo) -> None:
    code = case_repo.new_letter(1, submitted_at="2026-09-28T08:30:00+08:00")
    before = snapshot(case_repo.path)
    # not closed yet
    result = case_repo.run("feedback", code, "--by-phone", "--rating", "满意",
                           "--at", "2026-09-28T10:00:00+08:00", expect=1)
    assert "当前状态为“已收到”" in result.stderr and "不能执行“电话回访评价”" in result.stderr
    # the web rating is the writer's own: staff record only phone ratings
    result = case_repo.run("feedback", code, "--rating", "满意", expect=1)
    assert "须加 --by-phone" in result.stderr
    # a rating outside the three
    result = case_repo.run("feedback", code, "--by-phone", "--rating", "还行", expect=2)
    assert "还行" in result.stderr
    assert snapshot(case_repo.path) == before


def test_a_hand_edited_phone_rating_is_checked(case_repo: Repo) -> None:
    code = closed(case_repo, 1)
    path = case_repo.letter_file(code)
    text = path.read_text("utf-8")
    path.write_text(text + "- at: '2026-10-08T15:00:00+08:00'\n  actor: 信息中心刘主任\n  action: phone-feedback\n"
                           "  details:\n    rating: 还算满意\n", "utf-8")
    result = case_repo.run("validate", "--json", expect=1)
    problems = [p for p in json.loads(result.stdout)["problems"] if p["severity"] == "error"]
    assert any("rating" in p["field"] for p in problems), problems


def test_only_the_office_records_a_phone_rating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 keys: dict[str, Path]) -> None:  # noqa: F811
    signed = Signed(make_case_repo(tmp_path, monkeypatch), keys, monkeypatch)
    repo, code = signed.repo, signed.code
    signed.as_("unit", lambda: repo.run("answer", code, "--text", "已修复", "--head", "李主任"))
    repo.run("approve", code)
    before = repo.git("rev-parse", "HEAD")
    result = signed.as_("unit", lambda: repo.run("feedback", code, "--by-phone", "--rating", "满意", expect=1))
    assert "“电话回访评价”只能由信箱办公室管理员或信箱办公室办理" in result.stderr
    assert repo.git("rev-parse", "HEAD") == before
    repo.run("feedback", code, "--by-phone", "--rating", "满意")  # the office (admin) key
    assert repo.letter(code)["history"][-1]["actor"] == "信息中心 王静"
    assert signed.check()[0] == 0


def test_check_refuses_a_phone_rating_hand_written_by_a_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             keys: dict[str, Path]) -> None:  # noqa: F811
    signed = Signed(make_case_repo(tmp_path, monkeypatch), keys, monkeypatch)
    repo, code = signed.repo, signed.code
    signed.as_("unit", lambda: repo.run("answer", code, "--text", "已修复", "--head", "李主任"))
    repo.run("approve", code)
    signed.base = repo.git("rev-parse", "HEAD").strip()
    event = {"at": datetime.now().astimezone().isoformat(timespec="seconds"), "actor": "中州路 李强",
             "action": "phone-feedback", "details": {"rating": "满意"}}
    signed.append_event(code, event)
    signed.hand_commit("unit", "补录电话回访")
    status, text = signed.check()
    assert status == 1 and "“电话回访评价”只能由信箱办公室管理员或信箱办公室办理" in text
