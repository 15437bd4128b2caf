"""Dates that make sense (core/config.py: Config.time_problem), from literal times."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from letterbox.core.config import default_config_text, parse_config

CONFIG = parse_config(default_config_text("ab" * 16))
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def test_a_time_now_or_a_little_ahead_is_fine() -> None:
    assert CONFIG.time_problem(datetime.fromisoformat("2026-12-01T09:05:00+08:00"), NOW) is None
    assert CONFIG.time_problem(datetime.fromisoformat("2026-12-01T09:09:00+08:00"), NOW) is None


def test_the_future_is_refused() -> None:
    problem = CONFIG.time_problem(datetime.fromisoformat("2026-12-01T09:11:00+08:00"), NOW)
    assert problem and "将来" in problem
    assert "将来" in (CONFIG.time_problem(datetime.fromisoformat("9999-12-31T23:00:00-05:00"), NOW) or "")


def test_before_the_mailbox_existed_is_refused() -> None:
    assert CONFIG.mailbox_since == date(2015, 1, 1)
    problem = CONFIG.time_problem(datetime.fromisoformat("0001-01-01T00:00:00+08:00"), NOW)
    assert problem and "mailbox_since" in problem and "2015-01-01" in problem
    later = replace(CONFIG, mailbox_since=date(2026, 1, 1))
    assert later.time_problem(datetime.fromisoformat("2025-12-31T23:00:00+08:00"), NOW)
    assert later.time_problem(datetime.fromisoformat("2025-12-31T17:00:00+00:00"), NOW) is None  # 1 Jan in Shanghai


def test_a_time_without_zone_is_refused() -> None:
    assert "时区" in (CONFIG.time_problem(datetime.fromisoformat("2026-03-02T09:00:00"), NOW) or "")


def test_mailbox_since_from_the_configuration() -> None:
    import pytest

    from letterbox.core.errors import LetterboxError

    text = default_config_text("ab" * 16)
    assert "mailbox_since: 2015-01-01" in text
    assert parse_config(text.replace("2015-01-01", "2020-06-01")).mailbox_since == date(2020, 6, 1)
    with pytest.raises(LetterboxError) as info:
        parse_config(text.replace("2015-01-01", "2020-02-30"))
    assert "mailbox_since" in str(info.value.message)
