"""`codes.received_before`: letter codes are numbered in order of receipt (issue 18, point 5)."""

from __future__ import annotations

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
