"""Issue 18, point 3: calendar-day limits that end on a weekend or statutory holiday move to the
next working day; `show` counts them in calendar days; provisional deadlines are marked 暂定 for
the writer too. Real case repositories through the CLI, `--at` dates across the 2026 holidays."""

from __future__ import annotations

import json
from pathlib import Path

from letterbox.core.clock import work_calendar
from letterbox.store.repository import Repository
from site_builder.lookup_index import payload_of
from tests.conftest import Repo


def petition(repo: Repo, day: str, n: int = 1) -> str:
    """A letter sent to two units (so to the petition bureau, 60 calendar days) on ``day``."""
    code = repo.new_letter(n, submitted_at=f"{day}T08:30:00+08:00")
    repo.run("classify", code, "--category", "complaint", "--at", f"{day}T08:45:00+08:00")
    repo.run("transfer", code, "--unit", "cgj", "--unit", "tc", "--at", f"{day}T09:00:00+08:00")
    return code


def deadline_rows(repo: Repo, today: str) -> dict[str, dict]:
    result = repo.run("deadlines", "--json", "--fail-on", "never", "--today", today)
    return {r["letter_code"]: r for r in json.loads(result.stdout)}


def test_petition_due_on_national_day_moves_to_first_working_day(case_repo: Repo) -> None:
    code = petition(case_repo, "2026-08-03")
    view = case_repo.json("show", code, "--today", "2026-09-01")
    # 2026-08-03 + 60 days = Friday 2026-10-02, inside 国庆节 (10/1-10/7; 10/8 is a working day)
    assert view["deadline"] == "2026-10-08"
    assert view["deadline_kind"] == "petition"
    assert view["days_left"] == 37  # calendar days from 9/1 to 10/8
    assert any("2026-10-02（周五）是国庆节" in line for line in view["deadline_explained"])
    text = case_repo.run("show", code, "--today", "2026-09-01").stdout
    assert "期限：2026-10-08，剩余 37 天" in text
    assert "2026-10-08 剩 37 天" in case_repo.run("list", "--today", "2026-09-01").stdout
    assert "个工作日" not in text.split("期限：", 1)[1].splitlines()[0]
    # the deadline table counts calendar days too, and a petition is not overdue on 10/2..10/8
    row = deadline_rows(case_repo, "2026-10-05")[code]
    assert (row["deadline"], row["days_left"], row["overdue"]) == ("2026-10-08", 3, False)
    table = case_repo.run("deadlines", "--today", "2026-10-05", "--fail-on", "never").stdout
    assert "剩余 3 天" in table
    late = deadline_rows(case_repo, "2026-10-10")[code]
    assert (late["days_left"], late["overdue"]) == (-2, True)
    assert "已逾期 2 天" in case_repo.run("show", code, "--today", "2026-10-10").stdout


def test_extension_counted_from_the_period_then_rolled_off_a_sunday(case_repo: Repo) -> None:
    code = petition(case_repo, "2026-08-03")
    # asked on the rolled deadline itself (10/8): still within the limit
    case_repo.run("extend", code, "--days", "30", "--reason", "需多部门联合调查",
                  "--at", "2026-10-08T10:00:00+08:00")
    case_repo.run("grant", code, "--at", "2026-10-08T15:00:00+08:00")
    view = case_repo.json("show", code, "--today", "2026-10-09")
    # 10/2 + 30 days = Sunday 2026-11-01 -> Monday 2026-11-02
    assert view["deadline"] == "2026-11-02"
    assert view["days_left"] == 24
    explained = "\n".join(view["deadline_explained"])
    assert "自原期间届满日 2026-10-02（周五）次日起算，至 2026-11-01（周日）" in explained
    assert "2026-11-01（周日）是周末" in explained
    row = deadline_rows(case_repo, "2026-11-02")[code]
    assert (row["deadline"], row["days_left"], row["overdue"]) == ("2026-11-02", 0, False)
    assert "今日到期" in case_repo.run("show", code, "--today", "2026-11-02").stdout
    # the writer's lookup entry: the moved deadline, and the extension in calendar days
    repo = Repository(case_repo.path)
    payload = payload_of(repo.letter(code), repo.config, work_calendar(case_repo.path), published=False)
    assert (payload["deadline"], payload["extension_days"], payload["extension_unit"]) == ("2026-11-02", 30, "日")


def test_extension_after_the_rolled_deadline_is_refused(case_repo: Repo) -> None:
    code = petition(case_repo, "2026-08-03")
    before = case_repo.git("rev-parse", "HEAD")
    result = case_repo.run("extend", code, "--days", "10", "--reason", "需补充调查",
                           "--at", "2026-10-09T10:00:00+08:00", expect=1)
    assert "办理期限 2026-10-08 已过，不能再申请延期" in result.stderr
    assert case_repo.git("rev-parse", "HEAD") == before


def test_the_rule_is_a_setting(case_repo: Repo) -> None:
    code = petition(case_repo, "2026-08-03")
    config = case_repo.path / "letterbox.yaml"
    text = config.read_text("utf-8")
    assert "calendar_days_roll_forward: true" in text  # `letterbox init` writes the default
    config.write_text(text.replace("calendar_days_roll_forward: true",
                                   "calendar_days_roll_forward: false"), "utf-8")
    case_repo.git("commit", "-q", "-m", "no roll-forward", "--", "letterbox.yaml")
    view = case_repo.json("show", code, "--today", "2026-09-01")
    assert (view["deadline"], view["days_left"]) == ("2026-10-02", 31)
    assert not any("顺延" in line for line in view["deadline_explained"])
    case_repo.run("validate")
    config.write_text(text.replace("calendar_days_roll_forward: true",
                                   "calendar_days_roll_forward: 是"), "utf-8")
    result = case_repo.run("validate", expect=1)
    assert "calendar_days_roll_forward" in result.stdout + result.stderr


def test_working_day_limits_still_count_working_days(case_repo: Repo) -> None:
    code = case_repo.new_letter(1, submitted_at="2026-09-29T08:30:00+08:00")
    case_repo.run("classify", code, "--category", "complaint", "--at", "2026-09-29T08:45:00+08:00")
    case_repo.run("transfer", code, "--unit", "cgj", "--at", "2026-09-30T09:00:00+08:00")
    # 3 working days after 9/30: 10/8, 10/9, 10/10 (a make-up Saturday)
    view = case_repo.json("show", code, "--today", "2026-10-02")
    assert (view["deadline"], view["days_left"]) == ("2026-10-10", 3)
    assert "剩余 3 个工作日" in case_repo.run("show", code, "--today", "2026-10-02").stdout
    # a working-day limit due on Saturday 10/10 is overdue on Sunday with 0 working days past
    assert "已逾期（期限已过）" in case_repo.run("show", code, "--today", "2026-10-11").stdout


def test_provisional_deadline_marked_for_staff_and_writer(case_repo: Repo) -> None:
    # 2026-11-20 + 60 days = 2027-01-19: 2027's holidays are not in the library nor calendar.yaml
    code = petition(case_repo, "2026-11-20")
    view = case_repo.json("show", code, "--today", "2026-12-01")
    assert view["deadline"] == "2027-01-19" and view["provisional"] is True
    assert "2027-01-19（暂定）" in case_repo.run("show", code, "--today", "2026-12-01").stdout
    repo = Repository(case_repo.path)
    cal = work_calendar(case_repo.path)
    payload = payload_of(repo.letter(code), repo.config, cal, published=False)
    assert payload["deadline"] == "2027-01-19" and payload["deadline_provisional"] is True
    settled = petition(case_repo, "2026-08-03", n=2)
    payload = payload_of(repo.letter(settled), repo.config, cal, published=False)
    assert payload["deadline"] == "2026-10-08" and payload["deadline_provisional"] is False
    assert payload["extension_unit"] == "日"
    js = (Path(__file__).parents[2] / "site_builder" / "assets" / "lookup.js").read_text("utf-8")
    assert "entry.deadline_provisional" in js and "暂定" in js


def test_provisional_deadline_marked_on_the_board(case_repo: Repo) -> None:
    """The board shows a public letter's deadline only in requests.json: marked there too."""
    from site_builder.render import open311_requests
    from site_builder.select import entry_of

    late = petition(case_repo, "2026-11-20")  # due 2027-01-19 (暂定)
    settled = petition(case_repo, "2026-08-03", n=2)  # due 2026-10-08
    for code, day in ((late, "2026-11-25"), (settled, "2026-09-25")):
        case_repo.run("answer", code, "--text", "已协调处理。", "--head", "王局长", "--at", f"{day}T10:00:00+08:00")
        case_repo.run("approve", code, "--at", f"{day}T15:00:00+08:00")
        case_repo.run("publish", code, "--at", f"{day}T16:00:00+08:00")
    repo = Repository(case_repo.path)
    cal = work_calendar(case_repo.path)
    entries = [entry_of(repo.letter(code), repo.config, cal, {}) for code in (late, settled)]
    assert [(e.due.isoformat(), e.due_provisional) for e in entries if e] == [
        ("2027-01-19", True), ("2026-10-08", False)]
    requests = {r["service_request_id"]: r["extended_attributes"]
                for r in json.loads(open311_requests([e for e in entries if e]))}
    assert requests[late]["deadline_provisional"] is True
    assert requests[settled]["deadline_provisional"] is False
