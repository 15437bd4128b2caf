"""`letterbox report` (issue 4, item 4): figures against a hand-computed fixed set of letters.

March 2026 has no statutory holiday, so the ordinary limit (3 working days from the day after
the transfer) is easy to check by hand: a transfer on Monday 3/2 is due Thursday 3/5.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from letterbox.core.calendar import WorkCalendar
from letterbox.core.config import default_config_text, parse_config
from letterbox.reports.charts import bar_chart
from letterbox.reports.monthly import CHART_COLOURS, month_bounds
from tests.conftest import WRITER, Repo

T = "T09:00:00+08:00"


class Builder:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.n = 0

    def receive(self, day: str) -> str:
        self.n += 1
        return self.repo.new_letter(self.n, submitted_at=f"{day}T08:30:00+08:00")

    def step(self, action: str, code: str, day: str, *args: str, hour: str = T) -> None:
        self.repo.run(action, code, *args, "--at", f"{day}{hour}")

    def transferred(self, received: str, unit: str, transfer: str | None = None) -> str:
        code = self.receive(received)
        self.step("classify", code, received, "--category", "complaint", hour="T08:45:00+08:00")
        self.step("transfer", code, transfer or received, "--unit", unit)
        return code

    def answer(self, code: str, day: str) -> None:
        self.step("answer", code, day, "--text", "已办理。", "--head", "王主任")


@pytest.fixture
def march(case_repo: Repo) -> dict[str, str]:
    """The fixed set. Letters A..I; see the expected figures in the tests below."""
    b = Builder(case_repo)
    s: dict[str, str] = {}
    # A: cgj, due 3/5, answered 3/5 -> on time
    s["A"] = b.transferred("2026-03-02", "cgj")
    b.answer(s["A"], "2026-03-05")
    b.step("approve", s["A"], "2026-03-06")
    # B: cgj, due 3/5, extension of 2 working days granted (-> 3/9), answered 3/9 -> late, extended
    s["B"] = b.transferred("2026-03-02", "cgj")
    b.step("extend", s["B"], "2026-03-04", "--days", "2", "--reason", "需现场勘查")
    b.step("grant", s["B"], "2026-03-04", hour="T10:00:00+08:00")
    b.answer(s["B"], "2026-03-09")
    b.step("approve", s["B"], "2026-03-10")
    # C: jyj, due 3/6, answered 3/11 without extension -> late, circular
    s["C"] = b.transferred("2026-03-03", "jyj")
    b.answer(s["C"], "2026-03-11")
    b.step("approve", s["C"], "2026-03-12")
    # D: jyj, due 3/9, reminded 3/10, still open at month end -> overdue unexplained, circular
    s["D"] = b.transferred("2026-03-04", "jyj")
    b.step("remind", s["D"], "2026-03-10", "--note", "请尽快办理")
    # E: rejected
    s["E"] = b.receive("2026-03-05")
    b.step("reject", s["E"], "2026-03-05", "--reason", "incomplete")
    # F: the office replies directly the next day (triage limit 1 working day) -> office on time
    s["F"] = b.receive("2026-03-05")
    b.step("classify", s["F"], "2026-03-05", "--category", "consultation")
    b.step("reply", s["F"], "2026-03-06", "--text", "政策如下……")
    # G: zjj, due 3/12; risk flag 3/10; extension asked 3/11, still pending at month end
    s["G"] = b.transferred("2026-03-09", "zjj")
    b.step("flag-risk", s["G"], "2026-03-10",
           "--note", f"{WRITER['name']}等三十余户居民拟集体到区政府反映，电话{WRITER['phone']}")
    b.step("extend", s["G"], "2026-03-11", "--days", "5", "--reason", "涉及多户")
    # H: zjj, due 3/13, answered 3/13, sent back 3/16 (clock restarts, due 3/19), answered 3/20
    #    -> late; the worst round counts
    s["H"] = b.transferred("2026-03-10", "zjj")
    b.answer(s["H"], "2026-03-13")
    b.step("send-back", s["H"], "2026-03-16", "--reason", "答复不完整")
    b.answer(s["H"], "2026-03-20")
    b.step("approve", s["H"], "2026-03-23")
    # I: received 3/30, transferred and closed in April: counts as received in March only
    s["I"] = b.receive("2026-03-30")
    b.step("classify", s["I"], "2026-03-31", "--category", "complaint")
    b.step("transfer", s["I"], "2026-04-01", "--unit", "cgj")
    b.answer(s["I"], "2026-04-02")
    b.step("approve", s["I"], "2026-04-03")
    b.step("remind", s["D"], "2026-04-02")
    return s


def report_json(repo: Repo, month: str = "2026-03", today: str = "2026-04-15") -> dict[str, Any]:
    result = repo.run("report", "--month", month, "--format", "json", "--today", today)
    return json.loads(result.stdout)


def test_figures_match_hand_count(case_repo: Repo, march: dict[str, str]) -> None:
    r = report_json(case_repo)
    assert (r["received"], r["rejected"], r["closed"]) == (9, 1, 5)
    assert (r["on_time"], r["late_with_extension"], r["late_without_extension"]) == (2, 1, 2)
    assert r["open_overdue"] == 2  # D and G
    assert r["on_time_rate"] == pytest.approx(3 / 5)  # (on time + within an extension) / closed
    units = {u["unit"]: u for u in r["units"]}
    assert list(units) == ["jyj", "zjj", "cgj", "xxzx"]  # configuration order, office last

    def figures(code: str) -> tuple[int, ...]:
        u = units[code]
        return (u["assigned"], u["closed"], u["on_time"], u["late_with_extension"],
                u["late_without_extension"], u["open_overdue"], u["reminders"])

    assert figures("cgj") == (2, 2, 1, 1, 0, 0, 0)
    assert figures("jyj") == (2, 1, 0, 0, 1, 1, 1)
    assert figures("zjj") == (2, 1, 0, 0, 1, 1, 0)
    assert figures("xxzx") == (0, 1, 1, 0, 0, 0, 0)
    assert units["jyj"]["late_letters"] == [march["C"]]
    assert units["jyj"]["overdue_unexplained"] == [march["D"]]
    assert units["zjj"]["late_letters"] == [march["H"]]
    assert units["zjj"]["overdue_unexplained"] == []  # G has a pending extension request
    assert r["circular"] == ["jyj", "zjj"]
    assert [(m["letter_code"], m["date"], m["units"]) for m in r["reminders"]] == [
        (march["D"], "2026-03-10", ["jyj"])]
    assert [(f["letter_code"], f["date"], f["units"]) for f in r["risk_flags"]] == [
        (march["G"], "2026-03-10", ["zjj"])]


def test_april_sees_april_events_only(case_repo: Repo, march: dict[str, str]) -> None:
    r = report_json(case_repo, "2026-04", "2026-04-30")
    assert (r["received"], r["closed"], r["on_time"]) == (0, 1, 1)  # I: due 4/3 (清明 4/4-4/6 after)
    assert [m["letter_code"] for m in r["reminders"]] == [march["D"]]
    assert r["risk_flags"] == []


def test_running_month_is_reported_up_to_today(case_repo: Repo, march: dict[str, str]) -> None:
    r = report_json(case_repo, "2026-03", "2026-03-06")
    # by 3/6: A closed on time, F closed on time; C (due 3/6) not late yet; nothing else closed
    assert (r["as_of"], r["received"], r["closed"], r["on_time"]) == ("2026-03-06", 6, 2, 2)
    assert r["late_without_extension"] == 0 and r["circular"] == []


def test_markdown_report(case_repo: Repo, march: dict[str, str]) -> None:
    text = case_repo.run("report", "--month", "2026-03", "--today", "2026-04-15").stdout
    assert text.startswith("# 龙安区区长信箱来信办理督办月报（2026年3月）")
    # risk flags come first
    sections = [text.index(h) for h in ("## 一、风险预警", "## 二、总体情况", "## 三、各单位办理情况",
                                        "## 四、拟通报单位", "## 五、催办情况")]
    assert sections == sorted(sections)
    assert march["G"] in text[sections[0]:sections[1]]
    assert "| 区教育局 | 2 | 1 | 0 | 0 | 1 | 0.0% | 1 | 1 |" in text
    assert "| 区城市管理局 | 2 | 2 | 1 | 1 | 0 | 100.0% | 0 | 0 |" in text
    assert "| **合计** | 6 | 5 | 2 | 1 | 2 | 60.0% | 2 | 1 |" in text
    circular = text[sections[3]:sections[4]]
    assert "**区教育局**" in circular and march["C"] in circular and march["D"] in circular
    assert "**区住房和城乡建设局**" in circular and march["H"] in circular
    assert "区城市管理局" not in circular and march["G"] not in circular


def test_html_report_has_svg_charts(case_repo: Repo, march: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    result = case_repo.run("report", "--month", "2026-03", "--format", "html", "--out", str(target),
                           "--today", "2026-04-15")
    assert str(target) in result.stdout
    html = target.read_text("utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in html
    assert html.count("<svg") == 2
    assert "各单位办结情况" in html and "<rect" in html
    assert html.index("风险预警") < html.index("总体情况")


def test_no_writer_data_in_any_report(case_repo: Repo, march: dict[str, str]) -> None:
    outputs = [case_repo.run("report", "--month", "2026-03", "--format", fmt,
                             "--today", "2026-04-15").stdout for fmt in ("md", "html", "json")]
    for text in outputs:
        for value in WRITER.values():
            assert value not in text, value
    # the risk note copied the writer's name and phone: they are blanked, the rest is kept
    assert "〔姓名〕等三十余户居民拟集体到区政府反映，电话〔电话〕" in outputs[0]


def rate(repo: Repo, code: str, rating: str, day: str) -> None:
    from letterbox.ops.workflow import take_step
    from letterbox.store.repository import Actor, Repository

    take_step(Repository(repo.path), code, "feedback", {"rating": rating}, Actor("来信人"),
              at=f"{day}T20:00:00+08:00")


def test_satisfaction_per_unit(case_repo: Repo, march: dict[str, str]) -> None:
    b = Builder(case_repo)
    b.n = 20
    # J: transferred to jyj, returned by jyj, transferred to cgj, answered by cgj -> cgj's rating
    s = {**march, "J": b.transferred("2026-03-16", "jyj")}
    b.step("return", s["J"], "2026-03-16", "--reason", "不属本单位职责", hour="T15:00:00+08:00")
    b.step("transfer", s["J"], "2026-03-17", "--unit", "cgj")
    b.answer(s["J"], "2026-03-18")
    b.step("approve", s["J"], "2026-03-19")
    rate(case_repo, s["A"], "满意", "2026-03-09")  # cgj
    rate(case_repo, s["B"], "不满意", "2026-03-11")  # cgj
    rate(case_repo, s["C"], "基本满意", "2026-03-13")  # jyj
    rate(case_repo, s["F"], "满意", "2026-03-07")  # the office replied directly
    rate(case_repo, s["H"], "不满意", "2026-03-25")  # zjj (answered twice, both by zjj)
    rate(case_repo, s["J"], "基本满意", "2026-03-20")  # cgj, not jyj
    rate(case_repo, s["I"], "满意", "2026-04-05")  # April
    r = report_json(case_repo)
    ratings = {u["unit"]: (u["satisfied"], u["basically_satisfied"], u["dissatisfied"], u["rated"],
                           u["satisfaction_rate"]) for u in r["units"]}
    assert ratings["cgj"] == (1, 1, 1, 3, pytest.approx(2 / 3))
    assert ratings["jyj"] == (0, 1, 0, 1, 1.0)
    assert ratings["zjj"] == (0, 0, 1, 1, 0.0)
    assert ratings["xxzx"] == (1, 0, 0, 1, 1.0)
    assert (r["satisfied"], r["basically_satisfied"], r["dissatisfied"], r["rated"]) == (2, 2, 2, 6)
    assert r["satisfaction_rate"] == pytest.approx(4 / 6)
    april = report_json(case_repo, "2026-04", "2026-04-30")
    assert (april["satisfied"], april["rated"]) == (1, 1)
    assert [(u["unit"], u["rated"]) for u in april["units"] if u["rated"]] == [("cgj", 1)]
    # before any rating: no rate at all, not 0 %
    early = report_json(case_repo, "2026-03", "2026-03-06")
    assert early["rated"] == 0 and early["satisfaction_rate"] is None
    assert all(u["satisfaction_rate"] is None for u in early["units"])

    text = case_repo.run("report", "--month", "2026-03", "--today", "2026-04-15").stdout
    table = text[text.index("### 来信人评价"):text.index("## 四、拟通报单位")]
    assert "| 区城市管理局 | 3 | 1 | 1 | 1 | 66.7% |" in table
    assert "| 区教育局 | 1 | 0 | 1 | 0 | 100.0% |" in table
    assert "| 区住房和城乡建设局 | 1 | 0 | 0 | 1 | 0.0% |" in table
    assert "| **合计** | 6 | 2 | 2 | 2 | 66.7% |" in table
    assert "来信人评价 6 次：满意 2，基本满意 2，不满意 2；满意率 66.7%。" in text
    html = case_repo.run("report", "--month", "2026-03", "--format", "html",
                         "--today", "2026-04-15").stdout
    assert ('<tr><td>区城市管理局</td><td class="n">3</td><td class="n">1</td><td class="n">1</td>'
            '<td class="n">1</td><td class="n">66.7%</td></tr>') in html
    assert "本月无来信人评价" in case_repo.run("report", "--month", "2026-02", "--today",
                                          "2026-04-15").stdout


def test_empty_month_and_bad_month(case_repo: Repo) -> None:
    text = case_repo.run("report", "--month", "2026-01", "--today", "2026-02-01").stdout
    assert "本月无风险预警" in text and "收到来信 0 封" in text and "本月没有无正当理由逾期的单位" in text
    assert "<svg" not in case_repo.run("report", "--month", "2026-01", "--format", "html",
                                       "--today", "2026-02-01").stdout
    for bad in ("2026-13", "202603", "March"):
        assert "YYYY-MM" in case_repo.run("report", "--month", bad, expect=1).stderr
    assert "尚未开始" in case_repo.run("report", "--month", "2026-05", "--today", "2026-04-15",
                                      expect=1).stderr


def test_report_warns_about_missing_next_year(case_repo: Repo) -> None:
    text = case_repo.run("report", "--month", "2026-12", "--today", "2026-12-15").stdout
    assert "2027 年的法定节假日安排尚未录入" in text


# -- pure helpers ------------------------------------------------------------------------------


def test_month_bounds() -> None:
    assert month_bounds("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert month_bounds("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))


def test_bar_chart_geometry() -> None:
    chart = bar_chart([("甲", [("on_time", 2), ("late", 2)]), ("乙", [("on_time", 1)])], width=450,
                      label_width=100, colours=CHART_COLOURS)
    first, second = chart["bars"]
    assert [s["width"] for s in first["segments"]] == [150.0, 150.0]
    assert first["segments"][1]["x"] == 250.0
    assert [s["width"] for s in second["segments"]] == [75.0]
    assert chart["height"] == 2 * (22 + 8) + 8
    assert re.fullmatch(r"#[0-9a-f]{6}", first["segments"][1]["colour"])


def test_config_defaults_are_usable() -> None:
    # guards the assumption that the office is not a unit in the registry
    config = parse_config(default_config_text("ab" * 16))
    assert config.office_code not in {u.code for u in config.units}
    assert WorkCalendar().is_known_year(2026)
