"""The board entry and the lookup record of literal histories, both read from the one fold."""

from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath
from typing import Any

from letterbox.core.calendar import WorkCalendar
from letterbox.core.config import default_config_text, parse_config
from letterbox.core.letter import Letter
from site_builder.lookup_index import payload_of
from site_builder.select import draft_answer, entry_of

CONFIG = parse_config(default_config_text("ab" * 16))
CAL = WorkCalendar()
UNIT = CONFIG.units[0].code


def event(day: str, action: str, **details: Any) -> dict[str, Any]:
    return {"at": f"{day}T09:00:00+08:00", "actor": "办公室", "action": action, "details": details}


def letter(*history: dict[str, Any]) -> Letter:
    data = {"letter_code": "LA-2026-00001", "title": "路灯不亮", "body": "小区路灯坏了。",
            "submitted_at": "2026-02-26T08:30:00+08:00", "writer": {"name": "王建国"},
            "history": list(history)}
    return Letter(PurePosixPath("cases/2026/02/LA-2026-00001.yaml"), data)


# received 2/26 (Thu); transferred 3/2, due 3/5; 2 days granted → 3/9; answered 3/9
EXTENDED = (
    event("2026-02-26", "receive", channel="web"),
    event("2026-03-02", "classify", category="complaint"),
    event("2026-03-02", "transfer", units=[UNIT], mode="ordinary"),
    event("2026-03-04", "extend", days=2, reason="需现场勘查"),
    event("2026-03-04", "grant"),
    event("2026-03-09", "answer", unit=UNIT, text="已修复。", head="李局长"),
    event("2026-03-10", "approve"),
)


def test_entry_counts_an_answer_within_the_extension_on_time() -> None:
    entry = entry_of(letter(*EXTENDED), CONFIG, CAL, {})
    assert entry is not None
    assert (entry.received, entry.answered, entry.month) == (date(2026, 2, 26), date(2026, 3, 10),
                                                              "2026-02")
    assert (entry.outcome, entry.on_time, entry.due) == ("extended", True, date(2026, 3, 9))
    assert entry.reply == "已修复。" and entry.reply_by == CONFIG.unit_name(UNIT)
    assert entry.working_days == CAL.working_days_between(date(2026, 2, 26), date(2026, 3, 10))


def test_lookup_record_of_a_letter_reopened_is_open_again() -> None:
    reopened = letter(*EXTENDED, event("2026-03-12", "reopen", units=[UNIT], reason="未修好"))
    record = payload_of(reopened, CONFIG, CAL, published=False)
    assert record["status"] == "transferred" and record["answered"] is None
    assert record["extension_days"] == 2 and record["reject_reason"] is None
    assert record["units"] == [CONFIG.unit_name(UNIT)]
    assert [label for _, label in record["timeline"]][-3:] == ["承办单位答复", "审核通过、答复办结",
                                                              "重新办理"]
    closed = payload_of(letter(*EXTENDED), CONFIG, CAL, published=True)
    assert closed["answered"] == "2026-03-10" and closed["deadline"] is None
    assert closed["link"] == "../letters/LA-2026-00001/"
    assert entry_of(reopened, CONFIG, CAL, {}) is None  # open again: off the board


def test_draft_answer_before_and_after_approval() -> None:
    pending = letter(*EXTENDED[:-1])
    assert draft_answer(pending, CONFIG, CAL) == ("已修复。", CONFIG.unit_name(UNIT), "待审核的答复")
    assert draft_answer(letter(*EXTENDED), CONFIG, CAL)[2] == "最终答复"
    assert draft_answer(letter(*EXTENDED[:3]), CONFIG, CAL) == ("", "", "尚无答复")
