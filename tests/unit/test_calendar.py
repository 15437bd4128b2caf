"""Working-day calendar: library data checked against the State Council notices, overrides,
provisional years, and the calendar.yaml validator."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from letterbox.core.calendar import WorkCalendar, load_calendar_file

CAL = WorkCalendar()


def days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=k) for k in range((last - first).days + 1)}


def all_days(year: int) -> list[date]:
    return sorted(days(date(year, 1, 1), date(year, 12, 31)))


# 国务院办公厅关于2025年部分节假日安排的通知
NOTICE_2025_OFF = (
    days(date(2025, 1, 1), date(2025, 1, 1))  # 元旦
    | days(date(2025, 1, 28), date(2025, 2, 4))  # 春节
    | days(date(2025, 4, 4), date(2025, 4, 6))  # 清明节
    | days(date(2025, 5, 1), date(2025, 5, 5))  # 劳动节
    | days(date(2025, 5, 31), date(2025, 6, 2))  # 端午节
    | days(date(2025, 10, 1), date(2025, 10, 8))  # 国庆节、中秋节
)
NOTICE_2025_MAKEUP = {
    date(2025, 1, 26),
    date(2025, 2, 8),
    date(2025, 4, 27),
    date(2025, 9, 28),
    date(2025, 10, 11),
}

# What chinese_calendar 1.11.0 (and, for weekdays, holidays 0.109) hold for 2026.
LIBRARY_2026_OFF = (
    days(date(2026, 1, 1), date(2026, 1, 3))  # 元旦
    | days(date(2026, 2, 15), date(2026, 2, 23))  # 春节
    | days(date(2026, 4, 4), date(2026, 4, 6))  # 清明节
    | days(date(2026, 5, 1), date(2026, 5, 5))  # 劳动节
    | days(date(2026, 6, 19), date(2026, 6, 21))  # 端午节
    | days(date(2026, 9, 25), date(2026, 9, 27))  # 中秋节
    | days(date(2026, 10, 1), date(2026, 10, 7))  # 国庆节
)
LIBRARY_2026_MAKEUP = {
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
}


def expected_working(d: date, off: set[date], makeup: set[date]) -> bool:
    if d in makeup:
        return True
    return d.weekday() < 5 and d not in off


# --------------------------------------------------------------------------- library


@pytest.mark.parametrize(
    ("year", "off", "makeup"),
    [(2025, NOTICE_2025_OFF, NOTICE_2025_MAKEUP), (2026, LIBRARY_2026_OFF, LIBRARY_2026_MAKEUP)],
)
def test_library_matches_notice_day_by_day(year: int, off: set[date], makeup: set[date]) -> None:
    for d in all_days(year):
        assert chinese_calendar.is_workday(d) == expected_working(d, off, makeup), d
        assert CAL.is_working_day(d) == expected_working(d, off, makeup), d


@pytest.mark.parametrize(
    ("year", "off", "makeup"),
    [(2025, NOTICE_2025_OFF, NOTICE_2025_MAKEUP), (2026, LIBRARY_2026_OFF, LIBRARY_2026_MAKEUP)],
)
def test_day_kinds_match_notice(year: int, off: set[date], makeup: set[date]) -> None:
    kinds = {d: CAL.day_info(d).kind for d in all_days(year)}
    assert {d for d, k in kinds.items() if k == "holiday"} == off
    assert {d for d, k in kinds.items() if k == "makeup_workday"} == makeup
    assert not any(CAL.day_info(d).provisional for d in all_days(year))


def test_library_refuses_unknown_years() -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))
    assert CAL.is_known_year(2025)
    assert CAL.is_known_year(2026)
    assert not CAL.is_known_year(2027)
    assert not CAL.is_known_year(2028)
    assert CAL.year_source(2026) == "chinese_calendar"
    assert CAL.year_source(2028) is None


def test_day_info_names_and_kinds() -> None:
    assert CAL.day_info(date(2025, 1, 25)).kind == "weekend"
    assert CAL.day_info(date(2025, 1, 25)).reason == "周末"
    makeup = CAL.day_info(date(2025, 1, 26))
    assert (makeup.kind, makeup.name, makeup.provisional) == ("makeup_workday", "春节", False)
    assert CAL.day_info(date(2025, 1, 27)).kind == "workday"
    festival = CAL.day_info(date(2025, 1, 29))
    assert (festival.kind, festival.name) == ("holiday", "春节")
    assert CAL.day_info(date(2025, 10, 1)).name == "国庆节"


# --------------------------------------------------------------------------- provisional


def test_provisional_year_has_fixed_holidays_only() -> None:
    labour = CAL.day_info(date(2028, 5, 1))
    assert (labour.kind, labour.name, labour.provisional) == ("holiday", "劳动节", True)
    assert CAL.day_info(date(2028, 5, 2)).kind == "workday"  # no golden week assumed
    assert CAL.day_info(date(2028, 10, 3)).name == "国庆节"
    assert CAL.day_info(date(2028, 10, 4)).kind == "workday"
    assert CAL.day_info(date(2028, 1, 26)).kind == "workday"  # 春节 unknown: not guessed
    assert CAL.day_info(date(2028, 1, 1)).name == "元旦"
    assert CAL.day_info(date(2028, 1, 2)).kind == "weekend"


def test_provisional_computation_is_flagged() -> None:
    comp = CAL.add_working_days(date(2028, 9, 29), 3)
    assert comp.due == date(2028, 10, 6)
    assert comp.provisional
    assert comp.provisional_years == [2028]
    assert comp.skipped == [
        (date(2028, 9, 30), "周末"),
        (date(2028, 10, 1), "国庆节"),
        (date(2028, 10, 2), "国庆节"),
        (date(2028, 10, 3), "国庆节"),
    ]
    assert comp.explain()[-1].startswith("暂定：2028 年")


def test_crossing_into_unknown_year_is_provisional() -> None:
    comp = CAL.add_working_days(date(2026, 12, 30), 3)
    assert comp.due == date(2027, 1, 5)
    assert comp.provisional_years == [2027]
    assert (date(2027, 1, 1), "元旦") in comp.skipped


def test_computation_inside_known_year_is_not_provisional() -> None:
    comp = CAL.add_working_days(date(2026, 12, 1), 3)
    assert comp.due == date(2026, 12, 4)
    assert not comp.provisional
    assert comp.provisional_years == []


# --------------------------------------------------------------------------- arithmetic


def test_makeup_sunday_counts_before_spring_festival_2025() -> None:
    comp = CAL.add_working_days(date(2025, 1, 24), 3)  # Friday transfer
    # 1/25 Sat off, 1/26 Sun make-up (1), 1/27 Mon (2), 1/28-2/4 春节, 2/5 Wed (3)
    assert comp.due == date(2025, 2, 5)
    assert comp.clock_start == date(2025, 1, 25)
    assert comp.makeup_days_counted == [date(2025, 1, 26)]
    assert comp.skipped == [(date(2025, 1, 25), "周末")] + [
        (d, "春节") for d in sorted(days(date(2025, 1, 28), date(2025, 2, 4)))
    ]
    assert not comp.provisional


def test_spring_festival_2026() -> None:
    comp = CAL.add_working_days(date(2026, 2, 12), 3)  # Thursday transfer
    # 2/13 Fri (1), 2/14 Sat make-up (2), 2/15-2/23 春节, 2/24 Tue (3)
    assert comp.due == date(2026, 2, 24)
    assert comp.makeup_days_counted == [date(2026, 2, 14)]
    assert [d for d, _ in comp.skipped] == sorted(days(date(2026, 2, 15), date(2026, 2, 23)))


def test_national_day_2025() -> None:
    assert CAL.add_working_days(date(2025, 9, 26), 3).due == date(2025, 9, 30)
    comp = CAL.add_working_days(date(2025, 9, 29), 3)
    # 9/30 (1), 10/1-10/8 off, 10/9 (2), 10/10 (3)
    assert comp.due == date(2025, 10, 10)
    assert comp.makeup_days_counted == []
    assert comp.skipped[0] == (date(2025, 10, 1), "国庆节")
    assert (date(2025, 10, 6), "中秋") in comp.skipped


def test_zero_and_negative() -> None:
    assert CAL.add_working_days(date(2025, 1, 25), 0).due == date(2025, 1, 25)
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2025, 1, 25), -1)
    with pytest.raises(ValueError):
        CAL.add_calendar_days(date(2025, 1, 25), -1)


def test_working_days_between() -> None:
    assert CAL.working_days_between(date(2025, 1, 24), date(2025, 2, 5)) == 3
    assert CAL.working_days_between(date(2025, 2, 5), date(2025, 1, 24)) == -3
    assert CAL.working_days_between(date(2025, 2, 5), date(2025, 2, 5)) == 0
    assert CAL.working_days_between(date(2025, 1, 28), date(2025, 2, 4)) == 0
    assert CAL.working_days_between(date(2025, 10, 8), date(2025, 10, 11)) == 3


def test_add_calendar_days() -> None:
    comp = CAL.add_calendar_days(date(2025, 9, 20), 60)
    assert comp.due == date(2025, 11, 19)
    assert comp.clock_start == date(2025, 9, 21)
    assert comp.skipped == []
    assert comp.unit == "calendar_days"
    # Calendar-day results never depend on a holiday arrangement.
    assert not CAL.add_calendar_days(date(2027, 12, 1), 60).provisional


# --------------------------------------------------------------------------- warnings


WARNING_2027 = (
    "2027 年的法定节假日安排尚未录入：请按国务院办公厅通知更新 calendar.yaml；"
    "在此之前 2027 年的期限均为暂定。"
)


def test_missing_next_year_warning() -> None:
    assert CAL.missing_next_year_warning(date(2026, 11, 30), "calendar.yaml") is None
    assert CAL.missing_next_year_warning(date(2026, 12, 1), "calendar.yaml") == WARNING_2027
    assert CAL.missing_next_year_warning(date(2025, 12, 31), "calendar.yaml") is None
    later = CAL.missing_next_year_warning(date(2027, 3, 1), "config/calendar.yaml")
    assert later is not None and "2027 年" in later and "config/calendar.yaml" in later


# --------------------------------------------------------------------------- overrides

OVERRIDE_2027 = """\
# 国务院办公厅关于2027年部分节假日安排的通知（测试用虚构安排）
years:
  2027:
    source: "国办发明电〔2026〕X号"
    holidays: [2027-01-01, 2027-02-05, 2027-02-06, 2027-02-07, 2027-02-08,
               2027-02-09, 2027-02-10, 2027-02-11]
    workdays: [2027-01-31, 2027-02-20]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_override_file_makes_year_known(tmp_path: Path) -> None:
    cal = WorkCalendar.from_file(write(tmp_path, OVERRIDE_2027))
    assert cal.problems == []
    assert cal.is_known_year(2027)
    assert cal.year_source(2027) == "国办发明电〔2026〕X号"
    assert cal.day_info(date(2027, 1, 31)).kind == "makeup_workday"
    assert cal.day_info(date(2027, 2, 8)).kind == "holiday"
    comp = cal.add_working_days(date(2027, 2, 3), 3)
    # 2/4 Thu (1), 2/5-2/11 off, 2/12 Fri (2), 2/13-14 weekend, 2/15 Mon (3)
    assert comp.due == date(2027, 2, 15)
    assert not comp.provisional
    assert (date(2027, 2, 5), "法定节假日") in comp.skipped
    assert cal.missing_next_year_warning(date(2026, 12, 1), "calendar.yaml") is None


def test_override_mapping_form_gives_names(tmp_path: Path) -> None:
    text = """\
years:
  2027:
    source: 国办发明电〔2026〕X号
    holidays:
      2027-02-05: 春节
      2027-02-08: 春节
    workdays:
      2027-02-20: 春节
"""
    cal = WorkCalendar.from_file(write(tmp_path, text))
    assert cal.problems == []
    assert cal.day_info(date(2027, 2, 5)).name == "春节"
    assert cal.day_info(date(2027, 2, 20)).name == "春节"
    assert cal.day_info(date(2027, 2, 20)).kind == "makeup_workday"


def test_override_replaces_library_year(tmp_path: Path) -> None:
    text = 'years:\n  2026:\n    source: "更正"\n    holidays: [2026-01-01]\n'
    cal = WorkCalendar.from_file(write(tmp_path, text))
    assert cal.day_info(date(2026, 1, 2)).kind == "workday"
    assert cal.day_info(date(2026, 1, 4)).kind == "weekend"
    assert CAL.day_info(date(2026, 1, 4)).kind == "makeup_workday"


def test_missing_and_empty_files_mean_no_overrides(tmp_path: Path) -> None:
    assert load_calendar_file(tmp_path / "calendar.yaml") == ({}, [])
    assert load_calendar_file(write(tmp_path, "# nothing yet\n")) == ({}, [])
    assert WorkCalendar.from_file(tmp_path / "nope.yaml").calendar_file_name == "nope.yaml"


BAD_DATE = """\
years:
  2027:
    source: "国办发明电〔2026〕X号"
    holidays:
      - 2027-01-01
      - 2027-02-30
"""


def test_bad_date_reports_file_line_and_expectation(tmp_path: Path) -> None:
    overrides, problems = load_calendar_file(write(tmp_path, BAD_DATE))
    assert overrides == {}  # a year with problems is not used
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.file, problem.line) == ("calendar.yaml", 6)
    assert "2027-02-30" in problem.message and "YYYY-MM-DD" in problem.message
    assert str(problem).startswith("calendar.yaml:6:")
    cal = WorkCalendar.from_file(tmp_path / "calendar.yaml")
    assert not cal.is_known_year(2027)
    assert cal.problems == problems


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("years:\n  2027:\n    holidays: [2027-01-01]\n", 3, "source"),
        ("years:\n  2027:\n    source: x\n    holidays: [2028-01-01]\n", 4, "2027 年内"),
        ("years:\n  2027:\n    source: x\n    workdays: [2027-01-04]\n", 4, "周六或周日"),
        (
            "years:\n  2027:\n    source: x\n    holidays: [2027-01-31]\n    workdays: [2027-01-31]\n",
            5,
            "同时列在",
        ),
        ("years:\n  2027:\n    source: x\n    holiday: [2027-01-01]\n", 4, "未知的键"),
        ("years:\n  27:\n    source: x\n", 2, "四位数字"),
        ("years:\n  2027:\n    source: x\n  2027:\n    source: y\n", 4, "重复"),
        ("- 2027-01-01\n", 1, "顶层"),
        ("years:\n  2027:\n    source: x\n    holidays: 2027-01-01\n", 4, "日期列表"),
        ("years:\n  2027:\n    source: [x\n", 4, "YAML"),
    ],
)
def test_validation_messages_have_lines(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    _, problems = load_calendar_file(write(tmp_path, text))
    assert problems, text
    assert problems[0].file == "calendar.yaml"
    assert problems[0].line == line
    assert fragment in problems[0].message


# --------------------------------------------------------------------------- properties

any_day = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))


@settings(database=None, deadline=None, max_examples=300)
@given(start=any_day, n=st.integers(min_value=1, max_value=40))
def test_due_is_working_day_and_counts_back(start: date, n: int) -> None:
    comp = CAL.add_working_days(start, n)
    assert CAL.is_working_day(comp.due)
    assert CAL.working_days_between(start, comp.due) == n
    assert CAL.working_days_between(comp.due, start) == -n
    assert len(comp.skipped) + n == (comp.due - start).days
    assert comp.provisional == bool(CAL.provisional_years(start, comp.due))


@settings(database=None, deadline=None, max_examples=200)
@given(start=any_day, n=st.integers(min_value=0, max_value=40))
def test_add_working_days_is_strictly_monotonic(start: date, n: int) -> None:
    assert CAL.add_working_days(start, n).due < CAL.add_working_days(start, n + 1).due


@settings(database=None, deadline=None, max_examples=200)
@given(a=any_day, b=any_day, c=any_day)
def test_working_days_between_is_additive(a: date, b: date, c: date) -> None:
    total = CAL.working_days_between(a, b) + CAL.working_days_between(b, c)
    assert CAL.working_days_between(a, c) == total
