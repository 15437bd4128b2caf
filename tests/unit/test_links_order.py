"""`codes.received_before`: by day of receipt, then by letter code (numbered in order of intake) (issue 18, point 5)."""

from __future__ import annotations

from datetime import date

import pytest

from letterbox.core.codes import received_before


@pytest.mark.parametrize(("earlier", "later", "expected"), [
    ("LA-2026-00001", "LA-2026-00002", True),
    ("LA-2026-00002", "LA-2026-00001", False),
    ("LA-2026-00002", "LA-2026-00002", False),  # not before itself
    ("LA-2025-00310", "LA-2026-00001", True),  # the year first, then the number
    ("LA-2026-00001", "LA-2025-99999", False),
    ("la-2026-00001", "LA-2026-00002", True),  # any case
    ("LA-2026-1", "LA-2026-00002", False),  # not a letter code
    ("", "LA-2026-00002", False),
])
def test_received_before(earlier: str, later: str, expected: bool) -> None:
    assert received_before(earlier, later) is expected


D1, D2 = date(2026, 4, 2), date(2026, 7, 31)


@pytest.mark.parametrize(("earlier", "later", "days", "expected"), [
    # a paper letter of 2 April entered after a web letter of 31 July: received first all the same
    ("LA-2026-00004", "LA-2026-00001", (D1, D2), True),
    ("LA-2026-00001", "LA-2026-00004", (D2, D1), False),
    ("LA-2026-00001", "LA-2026-00004", (D1, D1), True),  # the same day: by code
    ("LA-2026-00004", "LA-2026-00001", (D1, D1), False),
    ("LA-2026-00004", "LA-2026-00001", (None, D2), False),  # a day unknown: by code
    ("LA-2026-1", "LA-2026-00002", (D1, D2), False),  # not a letter code
])
def test_received_before_by_day_then_code(earlier: str, later: str,
                                          days: tuple[date | None, date | None],
                                          expected: bool) -> None:
    assert received_before(earlier, later, *days) is expected
