"""Every figure that appears in more than one place comes from the one fold (issue 13).

One set of March 2026 letters (no holiday that month; the ordinary limit is 3 working days
from the day after the transfer), seen through every reader: the monthly supervision report,
`letterbox analyse --json`, the public statistics (stats.json and its page), Open311
`requests.json`, the status lookup and `letterbox show`. They must agree on what was closed,
when, how timely (an answer within an approved extension is on time: articles 11 and 16), the
on-time rate, the month a letter counts in, its status and its unit's name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Repo, make_case_repo, submission

T = "T09:00:00+08:00"
MONTH = "2026-03"


class Letters:
    """Letters driven through the real CLI with dated steps (`--at`)."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.n = 0
        self.query: dict[str, str] = {}

    def receive(self, day: str) -> str:
        self.n += 1
        sub = submission(self.n, submitted_at=f"{day}T08:30:00+08:00")
        got = self.repo.intake(sub, name=f"one-{self.n}.json")[0]
        self.query[got["letter_code"]] = got["query_code"]
        return got["letter_code"]

    def step(self, action: str, code: str, day: str, *args: str, hour: str = T) -> None:
        self.repo.run(action, code, *args, "--at", f"{day}{hour}")

    def transferred(self, day: str, unit: str) -> str:
        code = self.receive(day)
        self.step("classify", code, day, "--category", "complaint", hour="T08:45:00+08:00")
        self.step("transfer", code, day, "--unit", unit)
        return code

    def answered(self, code: str, answer: str, approve: str) -> None:
        self.step("answer", code, answer, "--text", "已办理。", "--head", "王主任")
        self.step("approve", code, approve)


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The letters, and what every reader says of them."""
    mp = pytest.MonkeyPatch()
    repo = make_case_repo(tmp_path_factory.mktemp("fold"), mp)
    b = Letters(repo)
    s: dict[str, str] = {}
    s["on_time"] = b.transferred("2026-03-02", "cgj")  # due 3/5, answered 3/5
    b.answered(s["on_time"], "2026-03-05", "2026-03-06")
    s["extended"] = b.transferred("2026-03-02", "cgj")  # due 3/5, +2 granted → 3/9, answered 3/9
    b.step("extend", s["extended"], "2026-03-04", "--days", "2", "--reason", "需现场勘查")
    b.step("grant", s["extended"], "2026-03-04", hour="T10:00:00+08:00")
    b.answered(s["extended"], "2026-03-09", "2026-03-10")
    s["late"] = b.transferred("2026-03-03", "jyj")  # due 3/6, answered 3/11, no extension
    b.step("flag-risk", s["late"], "2026-03-05", "--note", "多户居民情绪较大")
    b.answered(s["late"], "2026-03-11", "2026-03-12")
    s["direct"] = b.receive("2026-03-05")  # the office replies the next working day
    b.step("classify", s["direct"], "2026-03-05", "--category", "consultation")
    b.step("reply", s["direct"], "2026-03-06", "--text", "政策如下……")
    s["reopened"] = b.transferred("2026-03-02", "zjj")  # closed 3/4, reopened, closed again 3/10
    b.answered(s["reopened"], "2026-03-03", "2026-03-04")
    b.step("reopen", s["reopened"], "2026-03-05", "--reason", "来信人不满意")
    b.answered(s["reopened"], "2026-03-06", "2026-03-10")
    s["rejected"] = b.receive("2026-03-05")
    b.step("reject", s["rejected"], "2026-03-05", "--reason", "incomplete")
    s["open"] = b.transferred("2026-03-04", "jyj")  # overdue since 3/9
    # February: closed 2/4, reopened 2/20, open since: in no March figure, not on the board
    s["open_after_closing"] = b.transferred("2026-02-02", "zjj")
    b.answered(s["open_after_closing"], "2026-02-03", "2026-02-04")
    b.step("reopen", s["open_after_closing"], "2026-02-20", "--reason", "来信人不满意")

    out = repo.path.parent / "site"
    mp.setenv("SOURCE_DATE_EPOCH", "1775001600")  # 2026-04-01 00:00 UTC
    repo.run("build", "--out", str(out))
    lookups = {}
    for code, query in b.query.items():
        lookups[code] = repo.json("lookup", code, query, "--site", str(out))
    data = {
        "s": s,
        "repo": repo,
        "report": repo.json("report", "--month", MONTH, "--today", "2026-04-15"),
        "analyse": repo.json("analyse", "--from", "2026-03-01", "--to", "2026-03-31"),
        "stats": json.loads((out / "stats" / "stats.json").read_text("utf-8")),
        "stats_page": (out / "stats" / "index.html").read_text("utf-8"),
        "requests": {r["service_request_id"]: r
                     for r in json.loads((out / "requests.json").read_text("utf-8"))},
        "lookup": lookups,
        "show": {code: repo.show(code) for code in s.values()},
        "site": out,
    }
    yield data
    mp.undo()


CLOSED = ("on_time", "extended", "late", "direct", "reopened")


def test_the_same_letters_are_closed_everywhere(board: dict[str, Any]) -> None:
    s = board["s"]
    closed = {s[k] for k in CLOSED}
    assert set(board["requests"]) == closed
    assert board["report"]["closed"] == len(closed)
    assert board["analyse"]["closed"] == len(closed)
    total = board["stats"]["total"][0]
    assert total["closed"] == len(closed)
    for name, code in s.items():
        status = board["show"][code]["status"]
        assert board["lookup"][code]["status"] == status, name
        if code in board["requests"]:
            assert board["requests"][code]["extended_attributes"]["status"] == status, name
    assert board["lookup"][s["open_after_closing"]]["answered"] is None  # open again
    assert board["show"][s["open_after_closing"]]["status"] == "transferred"


def test_timeliness_and_on_time_rate_agree(board: dict[str, Any]) -> None:
    s, requests = board["s"], board["requests"]
    expected = {"on_time": "on_time", "extended": "extended", "late": "late",
                "direct": "on_time", "reopened": "on_time"}
    for name, outcome in expected.items():
        attrs = requests[s[name]]["extended_attributes"]
        assert attrs["timeliness"] == outcome, name
        assert attrs["on_time"] is (outcome != "late"), name  # within an approved extension: on time
    rate = 4 / 5
    assert board["report"]["on_time_rate"] == pytest.approx(rate)
    assert board["analyse"]["on_time_rate"] == pytest.approx(rate)
    assert board["stats"]["total"][0]["on_time_rate"] == pytest.approx(rate)
    assert "80%（5 封中 4 封）" in board["stats_page"]
    for source in (board["report"], board["analyse"]):
        assert source["late_without_extension"] == 1
        assert source["late_with_extension"] == 1
    assert board["report"]["units"] and [u["late_letters"] for u in board["report"]["units"]
                                         if u["late_letters"]] == [[s["late"]]]


def test_dates_and_months_agree(board: dict[str, Any]) -> None:
    s, requests = board["s"], board["requests"]
    for name in CLOSED:
        code = s[name]
        attrs = requests[code]["extended_attributes"]
        assert board["lookup"][code]["answered"] == attrs["answered"], name
        assert board["lookup"][code]["received"] == attrs["received"], name
    assert requests[s["reopened"]]["extended_attributes"]["answered"] == "2026-03-10"
    months = {r["key"]: r["letters"] for r in board["stats"]["month"]}
    assert months == {MONTH: len(CLOSED)}  # by the month received, as in `analyse`
    by_month = {r["key"]: r["letters"] for r in board["analyse"]["by_month"]}
    march = len(s) - 1  # all but the February letter, public or not
    assert by_month == {MONTH: march}
    assert board["analyse"]["received"] == board["report"]["received"] == march


def test_unit_names_agree(board: dict[str, Any]) -> None:
    s, requests = board["s"], board["requests"]
    repo: Repo = board["repo"]
    office = repo.json("units")
    names = {u["code"]: u["name"] for u in (office if isinstance(office, list) else office["units"])}
    assert requests[s["late"]]["agency_responsible"] == names["jyj"]
    assert board["lookup"][s["open"]]["units"] == [names["jyj"]]
    assert board["show"][s["open"]]["unit_names"] == [names["jyj"]]
    report_units = {u["unit"]: u["unit_name"] for u in board["report"]["units"]}
    assert report_units["jyj"] == names["jyj"]
    by_unit = {r["key"]: r["label"] for r in board["stats"]["unit"]}
    assert by_unit["jyj"] == names["jyj"]
    assert by_unit["cgj"] == names["cgj"]


def test_the_report_shows_status_as_of_its_end(board: dict[str, Any]) -> None:
    """当前状态 in the report is the status on the report's last day, from the same fold."""
    s = board["s"]
    flags = board["report"]["risk_flags"]
    assert [(f["letter_code"], f["status"], f["status_label"]) for f in flags] == [
        (s["late"], "closed", "已办结")]  # flagged 3/5 while transferred, closed 3/12
    early = board["repo"].json("report", "--month", MONTH, "--today", "2026-03-06")
    assert [f["status"] for f in early["risk_flags"]] == ["transferred"]
    assert early["closed"] == 3  # on_time 3/6, direct 3/6, reopened 3/4 (closed then)
    # February's reopened letter (due 2/26) is overdue on both days; `late` (due 3/6) is not
    # overdue on 3/6 and answered by 3/31; `open` (due 3/9) is overdue at the month's end
    assert early["open_overdue"] == 1
    assert board["report"]["open_overdue"] == 2


def test_every_reader_sees_the_same_letter_counted_once(board: dict[str, Any]) -> None:
    page_dir: Path = board["site"]
    letters = sorted(p.parent.name for p in (page_dir / "letters").glob("*/index.html"))
    assert letters == sorted(board["requests"])
