"""Handling deadlines per mode, extensions, explanations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from letterbox.core.calendar import WorkCalendar
from letterbox.core.deadlines import WORKING_DAY_MODES, DeadlineRules, due_date

CAL = WorkCalendar()
RULES = DeadlineRules()


def test_default_rules() -> None:
    assert RULES == DeadlineRules(
        ordinary_working_days=3,
        complex_working_days=20,
        petition_days=60,
        petition_max_extension_days=30,
        triage_working_days=1,
        review_working_days=2,
    )
    assert RULES.rule_text("ordinary") == "一般问题：3 个工作日，自转办次日起算"
    assert RULES.rule_text("complex") == "复杂问题：20 个工作日，自转办次日起算"


def test_ordinary_across_spring_festival_2025() -> None:
    comp = due_date(CAL, RULES, date(2025, 1, 24), "ordinary")
    assert comp.due == date(2025, 2, 5)
    assert comp.rule == "一般问题：3 个工作日，自转办次日起算"
    assert comp.extension_days == 0
    assert comp.explain() == [
        "适用规则：一般问题：3 个工作日，自转办次日起算",
        "起算：2025-01-24（周五），自次日 2025-01-25（周六）起计算",
        "期限：3 个工作日（周末、法定节假日不计，调休上班日计入）",
        "跳过 2025-01-25（周六）：周末",
        "跳过 2025-01-28（周二）至 2025-02-04（周二）：春节（8 天）",
        "调休上班日按工作日计入：2025-01-26（周日）",
        "到期日：2025-02-05（周三）",
    ]


def test_complex_across_national_day_2025() -> None:
    comp = due_date(CAL, RULES, date(2025, 9, 26), "complex")
    # make-up days 9/28 (Sun) and 10/11 (Sat) count; 10/1-10/8 do not.
    assert comp.due == date(2025, 10, 30)
    assert comp.makeup_days_counted == [date(2025, 9, 28), date(2025, 10, 11)]


def test_complex_spring_festival_2026() -> None:
    comp = due_date(CAL, RULES, date(2026, 2, 6), "complex")
    # 2/9-2/13 (5), 2/14 Sat make-up (6), 2/15-2/23 off, 2/24-2/27 (10),
    # 2/28 Sat make-up (11), 3/2-3/6 (16), 3/9-3/12 (20)
    assert comp.due == date(2026, 3, 12)
    assert comp.makeup_days_counted == [date(2026, 2, 14), date(2026, 2, 28)]


def test_triage_and_review() -> None:
    assert due_date(CAL, RULES, date(2025, 1, 27), "triage").due == date(2025, 2, 5)
    assert due_date(CAL, RULES, date(2025, 9, 30), "review").due == date(2025, 10, 10)


def test_working_day_extension_starts_after_original_due() -> None:
    comp = due_date(CAL, RULES, date(2025, 9, 29), "ordinary", extension_days=2)
    # original due 10/10 Fri; 10/11 Sat make-up (1), 10/12 Sun off, 10/13 Mon (2)
    assert comp.original_due == date(2025, 10, 10)
    assert comp.due == date(2025, 10, 13)
    assert comp.extension_days == 2
    assert date(2025, 10, 11) in comp.makeup_days_counted
    assert "延期：2 个工作日，自原到期日 2025-10-10（周五）次日起算，延至 2025-10-13（周一）" in (
        comp.explain()
    )


def test_petition_is_calendar_days_with_capped_extension() -> None:
    comp = due_date(CAL, RULES, date(2025, 9, 20), "petition")
    assert comp.due == date(2025, 11, 19)
    assert comp.unit == "calendar_days"
    assert due_date(CAL, RULES, date(2025, 9, 20), "petition", 30).due == date(2025, 12, 19)
    with pytest.raises(ValueError, match="30"):
        due_date(CAL, RULES, date(2025, 9, 20), "petition", 31)


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="期限类型"):
        due_date(CAL, RULES, date(2025, 9, 20), "urgent")
    with pytest.raises(ValueError):
        due_date(CAL, RULES, date(2025, 9, 20), "ordinary", -1)


def test_provisional_note_in_explanation() -> None:
    comp = due_date(CAL, RULES, date(2026, 12, 15), "complex")
    assert comp.provisional and comp.provisional_years == [2027]
    assert comp.explain()[-1].startswith("暂定：2027 年的法定节假日安排尚未公布")


def test_extension_into_provisional_year_is_flagged() -> None:
    comp = due_date(CAL, RULES, date(2026, 12, 25), "ordinary", extension_days=5)
    assert comp.original_due == date(2026, 12, 30)
    assert comp.provisional_years == [2027]


def test_custom_rules() -> None:
    rules = DeadlineRules(ordinary_working_days=5)
    comp = due_date(CAL, rules, date(2025, 1, 24), "ordinary")
    assert comp.rule.startswith("一般问题：5 个工作日")
    assert CAL.working_days_between(date(2025, 1, 24), comp.due) == 5


# --------------------------------------------------------------------------- properties

any_day = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
working_mode = st.sampled_from(WORKING_DAY_MODES)


@settings(database=None, deadline=None, max_examples=300)
@given(start=any_day, mode=working_mode, ext=st.integers(min_value=0, max_value=20))
def test_working_day_modes_land_on_working_days(start: date, mode: str, ext: int) -> None:
    comp = due_date(CAL, RULES, start, mode, ext)
    assert CAL.is_working_day(comp.due)
    if not comp.provisional:
        assert CAL.working_days_between(start, comp.due) == RULES.days_for(mode) + ext


@settings(database=None, deadline=None, max_examples=200)
@given(start=any_day, mode=working_mode, ext=st.integers(min_value=0, max_value=20))
def test_due_date_is_monotonic_in_extension(start: date, mode: str, ext: int) -> None:
    shorter = due_date(CAL, RULES, start, mode, ext)
    longer = due_date(CAL, RULES, start, mode, ext + 1)
    assert shorter.due < longer.due


@settings(database=None, deadline=None, max_examples=200)
@given(start=any_day, n=st.integers(min_value=1, max_value=30))
def test_monotonic_in_rule_days(start: date, n: int) -> None:
    short = due_date(CAL, DeadlineRules(ordinary_working_days=n), start, "ordinary")
    long = due_date(CAL, DeadlineRules(ordinary_working_days=n + 1), start, "ordinary")
    assert short.due < long.due


@settings(database=None, deadline=None, max_examples=200)
@given(start=any_day, ext=st.integers(min_value=0, max_value=30))
def test_petition_counts_calendar_days(start: date, ext: int) -> None:
    end = start + timedelta(days=60 + ext)  # the period's own last day
    exact = due_date(CAL, DeadlineRules(calendar_days_roll_forward=False), start, "petition", ext)
    assert exact.due == end
    assert not exact.provisional
    comp = due_date(CAL, RULES, start, "petition", ext)
    # rolled forward: the first working day on or after the last day, never earlier
    assert comp.due >= end
    assert CAL.is_working_day(comp.due)
    assert all(not CAL.is_working_day(end + timedelta(days=k)) for k in range((comp.due - end).days))
    assert (comp.rolled_from is not None) == (comp.due != end)
    assert comp.provisional == bool(CAL.provisional_years(end, comp.due))
