"""`letterbox deadlines` (issue 4, item 3) through the real CLI on real git repositories."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import WRITER, Repo, submission

T = "T09:00:00+08:00"


def receive(repo: Repo, n: int, day: str) -> str:
    """A letter submitted (and so received) at 09:00 on ``day``."""
    return repo.new_letter(n, submitted_at=f"{day}T08:30:00+08:00")


def transferred(repo: Repo, n: int, day: str, unit: str = "cgj", *extra: str,
                received: str | None = None) -> str:
    code = receive(repo, n, received or day)
    repo.run("classify", code, "--category", "complaint", "--at", f"{received or day}T08:45:00+08:00")
    repo.run("transfer", code, "--unit", unit, *extra, "--at", f"{day}{T}")
    return code


def rows(repo: Repo, *args: str, expect: int = 0) -> list[dict[str, Any]]:
    import json

    result = repo.run("deadlines", "--json", "--fail-on", "never", *args, expect=expect)
    return json.loads(result.stdout)


def by_code(table: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["letter_code"]: r for r in table}


# -- deadlines across real holiday periods -----------------------------------------------------


@pytest.mark.parametrize(
    ("received", "day", "extra", "due", "today", "left"),
    [
        # Spring Festival 2026: off 2/15-2/23, Saturday 2/14 is a make-up working day.
        ("2026-02-10", "2026-02-12", (), "2026-02-24", "2026-02-13", 2),
        # complex, 20 working days, both make-up Saturdays 2/14 and 2/28 count
        ("2026-02-05", "2026-02-06", ("--complex",), "2026-03-12", "2026-02-24", 13),
        # National Day 2025: off 10/1-10/8, 9/28 (Sun) and 10/11 (Sat) are make-up days
        ("2025-09-26", "2025-09-29", (), "2025-10-10", "2025-09-30", 2),
        ("2025-09-25", "2025-09-26", ("--complex",), "2025-10-30", "2025-10-08", 17),
    ],
)
def test_deadline_across_holidays(case_repo: Repo, received: str, day: str, extra: tuple[str, ...],
                                  due: str, today: str, left: int) -> None:
    code = transferred(case_repo, 1, day, "cgj", *extra, received=received)
    row = by_code(rows(case_repo, "--today", today))[code]
    assert row["deadline"] == due
    assert row["days_left"] == left
    assert row["overdue"] is False
    assert row["provisional"] is False
    assert row["units"] == ["cgj"]
    assert case_repo.json("show", code, "--today", today)["deadline"] == due


def test_spring_festival_holidays_are_not_working_days_left(case_repo: Repo) -> None:
    code = transferred(case_repo, 1, "2026-02-12", received="2026-02-10")
    # during the holiday no working day passes: still 1 working day left on 2/23
    assert by_code(rows(case_repo, "--today", "2026-02-16"))[code]["days_left"] == 1
    assert by_code(rows(case_repo, "--today", "2026-02-23"))[code]["days_left"] == 1
    on_due = by_code(rows(case_repo, "--today", "2026-02-24"))[code]
    assert (on_due["days_left"], on_due["overdue"], on_due["due_soon"]) == (0, False, True)
    late = by_code(rows(case_repo, "--today", "2026-02-26"))[code]
    assert (late["days_left"], late["overdue"]) == (-2, True)


# -- exit status -------------------------------------------------------------------------------


def test_fail_on_overdue_and_due_soon(case_repo: Repo) -> None:
    transferred(case_repo, 1, "2026-03-02")  # due Thursday 2026-03-05
    base = ("deadlines", "--today")
    # two working days left: nothing fails
    for mode in ("overdue", "due-soon", "never"):
        case_repo.run(*base, "2026-03-03", "--fail-on", mode, expect=0)
    # one working day left: due-soon fails, overdue does not
    case_repo.run(*base, "2026-03-04", expect=0)
    result = case_repo.run(*base, "2026-03-04", "--fail-on", "due-soon", expect=1)
    assert "1 个工作日内到期" in result.stderr
    # the day after the deadline: overdue (the default) fails, never does not
    result = case_repo.run(*base, "2026-03-06", expect=1)
    assert "逾期" in result.stderr
    case_repo.run(*base, "2026-03-06", "--fail-on", "due-soon", expect=1)
    case_repo.run(*base, "2026-03-06", "--fail-on", "never", expect=0)
    assert case_repo.run(*base, "2026-03-06", "--json", expect=1).stdout.startswith("[")


def test_weekend_after_deadline_is_overdue_with_zero_working_days(case_repo: Repo) -> None:
    code = transferred(case_repo, 1, "2026-03-03")  # due Friday 2026-03-06
    row = by_code(rows(case_repo, "--today", "2026-03-07"))[code]
    assert (row["overdue"], row["days_left"]) == (True, 0)
    case_repo.run("deadlines", "--today", "2026-03-07", expect=1)


def test_closed_and_rejected_letters_are_not_listed(case_repo: Repo) -> None:
    done = transferred(case_repo, 1, "2026-03-02")
    case_repo.run("answer", done, "--text", "已修复。", "--head", "王主任", "--at", f"2026-03-04{T}")
    case_repo.run("approve", done, "--at", "2026-03-04T10:00:00+08:00")
    rejected = receive(case_repo, 2, "2026-03-02")
    case_repo.run("reject", rejected, "--reason", "incomplete", "--at", f"2026-03-02{T}")
    assert rows(case_repo, "--today", "2026-03-20") == []
    case_repo.run("deadlines", "--today", "2026-03-20", expect=0)


# -- --today reproduces a past day -------------------------------------------------------------


def test_today_reproduces_a_past_day(case_repo: Repo) -> None:
    code = transferred(case_repo, 1, "2026-03-02")
    case_repo.run("answer", code, "--text", "已修复。", "--head", "王主任", "--at", f"2026-03-09{T}")
    case_repo.run("approve", code, "--at", f"2026-03-10{T}")
    later = receive(case_repo, 2, "2026-03-11")
    # on 2026-03-06 the letter was with the unit and one working day late; `later` did not exist
    past = rows(case_repo, "--today", "2026-03-06")
    assert [r["letter_code"] for r in past] == [code]
    assert past[0]["status"] == "transferred"
    assert (past[0]["deadline"], past[0]["days_left"], past[0]["overdue"]) == ("2026-03-05", -1, True)
    case_repo.run("deadlines", "--today", "2026-03-06", expect=1)
    # on 2026-03-09 it was answered: the office's review clock runs (2 working days)
    review = by_code(rows(case_repo, "--today", "2026-03-09"))[code]
    assert (review["status"], review["deadline_kind"], review["deadline"]) == (
        "answered", "review", "2026-03-11")
    assert review["units"] == ["xxzx"]
    # on 2026-03-11 only the new letter is open (triage, due the next working day)
    now = rows(case_repo, "--today", "2026-03-11")
    assert [(r["letter_code"], r["deadline_kind"], r["deadline"]) for r in now] == [
        (later, "triage", "2026-03-12")]


# -- grouping, filtering, ordering -------------------------------------------------------------


def test_grouped_per_unit_overdue_first(case_repo: Repo) -> None:
    a = transferred(case_repo, 1, "2026-03-02", "cgj")  # due 03-05
    b = transferred(case_repo, 2, "2026-03-04", "jyj")  # due 03-09, overdue on 03-10
    c = transferred(case_repo, 3, "2026-03-09", "cgj")  # due 03-12
    d = transferred(case_repo, 4, "2026-03-10", "jyj", "--complex")  # due 04-07
    e = receive(case_repo, 5, "2026-03-10")  # triage with the office, due 03-11
    table = rows(case_repo, "--today", "2026-03-10")
    assert [r["letter_code"] for r in table] == [a, b, e, c, d]
    assert [r["overdue"] for r in table] == [True, True, False, False, False]
    assert by_code(table)[e]["units"] == ["xxzx"]

    text = case_repo.run("deadlines", "--today", "2026-03-10", expect=1).stdout
    cgj, jyj, office = (text.index(h) for h in ("区城市管理局（cgj）", "区教育局（jyj）", "区信息中心（xxzx）"))
    assert cgj < jyj < office  # the most overdue unit first
    assert text.index(a) < text.index(c) < jyj < text.index(b) < text.index(d) < office < text.index(e)
    assert "已逾期 3 个工作日" in text and "已逾期 1 个工作日" in text

    assert [r["letter_code"] for r in rows(case_repo, "--today", "2026-03-10", "--unit", "jyj")] == [b, d]
    assert [r["letter_code"] for r in rows(case_repo, "--today", "2026-03-10",
                                           "--unit", "区城市管理局")] == [a, c]
    assert [r["letter_code"] for r in rows(case_repo, "--today", "2026-03-10", "--unit", "xxzx")] == [e]
    # only jyj's letters count for its exit status
    case_repo.run("deadlines", "--today", "2026-03-06", "--unit", "jyj", expect=0)
    case_repo.run("deadlines", "--today", "2026-03-06", "--unit", "cgj", expect=1)
    result = case_repo.run("deadlines", "--unit", "nosuch", expect=1)
    assert "nosuch" in result.stderr


def test_escalated_letter_is_listed_without_deadline(case_repo: Repo) -> None:
    code = receive(case_repo, 1, "2026-03-02")
    case_repo.run("classify", code, "--category", "suggestion", "--at", f"2026-03-02{T}")
    case_repo.run("escalate", code, "--leader", "qz", "--at", f"2026-03-03{T}")
    row = by_code(rows(case_repo, "--today", "2026-03-20"))[code]
    assert (row["deadline"], row["days_left"], row["overdue"], row["deadline_kind"]) == (
        None, None, False, "escalated")
    assert "待领导批示" in case_repo.run("deadlines", "--today", "2026-03-20").stdout


# -- extensions, send-back ---------------------------------------------------------------------


def test_extension_pending_then_granted_moves_deadline(case_repo: Repo) -> None:
    code = transferred(case_repo, 1, "2026-03-02")  # due 03-05
    case_repo.run("extend", code, "--days", "3", "--reason", "需现场勘查", "--at", f"2026-03-04{T}")
    row = by_code(rows(case_repo, "--today", "2026-03-04"))[code]
    assert (row["pending_extension"], row["deadline"]) == (3, "2026-03-05")
    assert "延期申请 3 天待审批" in case_repo.run("deadlines", "--today", "2026-03-04").stdout
    case_repo.run("grant", code, "--at", f"2026-03-05{T}")
    row = by_code(rows(case_repo, "--today", "2026-03-06"))[code]
    assert (row["pending_extension"], row["extension_days"], row["deadline"], row["days_left"]) == (
        None, 3, "2026-03-10", 2)
    case_repo.run("deadlines", "--today", "2026-03-06", expect=0)


def test_send_back_restarts_the_clock(case_repo: Repo) -> None:
    code = transferred(case_repo, 1, "2026-03-02")
    case_repo.run("answer", code, "--text", "已处理。", "--head", "王主任", "--at", f"2026-03-05{T}")
    case_repo.run("send-back", code, "--reason", "答复过于简单", "--at", f"2026-03-06{T}")
    row = by_code(rows(case_repo, "--today", "2026-03-06"))[code]
    assert (row["deadline_kind"], row["deadline"], row["units"]) == ("ordinary", "2026-03-11", ["cgj"])


# -- calendar data -------------------------------------------------------------------------------


def test_missing_next_year_warning_before_table_from_1_december(case_repo: Repo) -> None:
    code = transferred(case_repo, 1, "2026-11-30")
    november = case_repo.run("deadlines", "--today", "2026-11-30").stdout
    assert "2027 年" not in november
    text = case_repo.run("deadlines", "--today", "2026-12-01").stdout
    assert "警告：2027 年的法定节假日安排尚未录入" in text and "calendar.yaml" in text
    assert text.index("警告") < text.index(code)
    # --json keeps stdout parseable: the warning goes to stderr
    result = case_repo.run("deadlines", "--today", "2026-12-01", "--json")
    assert "2027" in result.stderr and result.stdout.startswith("[")


def test_provisional_deadline_in_unknown_year(case_repo: Repo) -> None:
    # Steps cannot be dated in the future, and the library announces 2004-2026: a paper letter
    # of December 2003 (mailbox_since moved back for it) has a deadline counted partly in 2003.
    config = case_repo.path / "letterbox.yaml"
    config.write_text(config.read_text("utf-8").replace("mailbox_since: 2015-01-01",
                                                         "mailbox_since: 2000-01-01"), "utf-8")
    case_repo.git("commit", "-q", "-m", "mailbox_since for paper records", "--", "letterbox.yaml")
    code = transferred(case_repo, 1, "2003-12-30")  # 3 working days: 12/31 (2003), then 2004
    row = by_code(rows(case_repo, "--today", "2003-12-30"))[code]
    assert row["provisional"] is True and row["provisional_years"] == [2003]
    assert row["deadline"] == "2004-01-05"  # 12/31, (1/1 元旦), 1/2, 1/5
    text = case_repo.run("deadlines", "--today", "2003-12-30").stdout
    assert "2004-01-05（暂定）" in text and "暂定：2003" in text


def test_output_never_shows_writer_data(case_repo: Repo) -> None:
    transferred(case_repo, 1, "2026-03-02")
    case_repo.intake(submission(2, submitted_at="2026-03-02T08:00:00+08:00"), name="two.json")
    for args in (("--today", "2026-03-10"), ("--today", "2026-03-10", "--json")):
        result = case_repo.run("deadlines", *args, expect=1)
        for value in WRITER.values():
            assert value not in result.stdout + result.stderr
