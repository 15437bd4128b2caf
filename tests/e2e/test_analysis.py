"""Analysis: figures against a hand-computed fixed set, bursts, and the commands that show them.

Everything runs on a real temporary case repository: intake through `intake_one`, steps
through `letterbox.ops.workflow` with `at=` timestamps. March 2026 has no statutory holiday.
"""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from letterbox.core.clock import work_calendar
from letterbox.ops import workflow
from letterbox.ops.intake import Submission, intake_one
from letterbox.reports.analysis import analyse, median, p90, recent_alerts, render_html
from letterbox.reports.similar import intake_notes
from letterbox.store.repository import Actor, Repository
from tests.conftest import Repo

STAFF = Actor("信息中心 测试员")
HEATING = "入冬供暖以来，文昌大道街道示例花园室内温度一直只有十四五度，老人孩子受冻，请求督促供热公司检修管网。"


def submit(repo: Repository, n: int, day: str, title: str, body: str,
           address: str = "龙安区示例路8号") -> str:
    data = {"name": f"王{'一二三四五六七八九十'[n % 10]}明", "phone": f"139372{n:05d}",
            "email": f"writer{n}@example.com", "address": address, "title": title, "body": body,
            "submitted_at": f"{day}T09:00:00+08:00"}
    return intake_one(repo, Submission("test", None, f"第 {n} 条", data), STAFF).letter_code


def at(day: str, hour: str = "10:00") -> str:
    return f"{day}T{hour}:00+08:00"


@pytest.fixture
def fixed(case_repo: Repo) -> tuple[Repository, dict[str, str]]:
    repo = Repository(case_repo.path)
    s: dict[str, str] = {}
    # A: heating in 文昌大道街道, transferred to that street (due 3/5), answered 3/4, closed 3/5
    s["A"] = submit(repo, 1, "2026-03-02", "小区供暖温度不达标", HEATING)
    workflow.classify(repo, s["A"], "complaint", STAFF, at=at("2026-03-02"))
    workflow.transfer(repo, s["A"], ["wcdd"], STAFF, at=at("2026-03-02", "11:00"))
    workflow.answer(repo, s["A"], "已督促检修。", "李主任", STAFF, at=at("2026-03-04"))
    workflow.approve(repo, s["A"], STAFF, at=at("2026-03-05"))
    # B: road in 龙泉镇 (named in the body), transport bureau, due 3/6, answered 3/10: late
    s["B"] = submit(repo, 2, "2026-03-03", "道路坑洼", "龙泉镇通往西山村的道路坑洼不平，雨天积水。")
    workflow.classify(repo, s["B"], "complaint", STAFF, at=at("2026-03-03"))
    workflow.transfer(repo, s["B"], ["jtj"], STAFF, at=at("2026-03-03", "11:00"))
    workflow.answer(repo, s["B"], "已安排修补。", "张局长", STAFF, at=at("2026-03-10"))
    workflow.approve(repo, s["B"], STAFF, at=at("2026-03-11"))
    # C: a policy question; the place only in the writer's address; office replies next day
    s["C"] = submit(repo, 3, "2026-03-04", "咨询医保缴费", "想咨询城乡居民医保缴费标准。",
                    address="龙安区马家镇马家村5号")
    workflow.classify(repo, s["C"], "consultation", STAFF, at=at("2026-03-04"))
    workflow.reply(repo, s["C"], "缴费标准如下……", STAFF, at=at("2026-03-05"))
    # D: no place anywhere; city management, due 3/12, +2 working days granted (3/16), answered 3/16
    s["D"] = submit(repo, 4, "2026-03-09", "建议增加公共厕所", "建议在公园附近增加公共厕所。")
    workflow.classify(repo, s["D"], "suggestion", STAFF, at=at("2026-03-09"))
    workflow.transfer(repo, s["D"], ["cgj"], STAFF, at=at("2026-03-09", "11:00"))
    workflow.extend(repo, s["D"], 2, "需现场选址", STAFF, at=at("2026-03-11"))
    workflow.grant(repo, s["D"], STAFF, at=at("2026-03-11", "15:00"))
    workflow.answer(repo, s["D"], "已纳入规划。", "赵局长", STAFF, at=at("2026-03-16"))
    workflow.approve(repo, s["D"], STAFF, at=at("2026-03-17"))
    # F: the same heating complaint again, rejected as a duplicate of A
    s["F"] = submit(repo, 6, "2026-03-20", "示例花园暖气不热", HEATING)
    workflow.reject(repo, s["F"], "duplicate", STAFF, of=s["A"], at=at("2026-03-20"))
    # E: April, heating again, only received
    s["E"] = submit(repo, 5, "2026-04-01", "供暖不热", HEATING)
    return repo, s


def test_median_and_p90_by_hand() -> None:
    assert (median([3, 6, 1, 6]), p90([3, 6, 1, 6])) == (4.5, 6)
    assert (median([5]), p90(list(range(1, 11)))) == (5.0, 9)
    assert (median([]), p90([])) == (None, None)


def test_figures_match_hand_count(fixed: tuple[Repository, dict[str, str]]) -> None:
    repo, s = fixed
    a = analyse(repo.letters(), repo.config, work_calendar(repo.root), date(2026, 3, 1),
                date(2026, 4, 30))
    d = a.to_json()
    counts = {k: {c["key"]: c["letters"] for c in d[k]}
              for k in ("by_category", "by_unit", "by_place", "by_month")}
    assert d["received"] == 6
    assert counts["by_category"] == {"complaint": 2, "consultation": 1, "suggestion": 1, "none": 2}
    assert counts["by_unit"] == {"wcdd": 1, "jtj": 1, "cgj": 1, "xxzx": 1, "（未交办）": 2}
    assert counts["by_place"] == {"文昌大道街道": 3, "龙泉镇": 1, "马家镇": 1, "未识别": 1}
    assert counts["by_month"] == {"2026-03": 5, "2026-04": 1}
    # closed: A 3 working days (on time), B 6 (late), C 1 (office, on time), D 6 (extended)
    assert (d["closed"], d["on_time"], d["late_with_extension"], d["late_without_extension"]) == (4, 2, 1, 1)
    assert d["on_time_rate"] == pytest.approx(0.75)  # (on time + within an extension) / closed
    assert (d["median_working_days"], d["p90_working_days"]) == (4.5, 6)
    heat = next(h for h in d["hot_topics"] if h["word"] == "供暖")
    assert heat["letters"] == 3 and heat["by_month"] == {"2026-03": 2, "2026-04": 1}
    assert heat["change"] == -1
    assert d["alerts"] == []
    # the same figures as the supervision report for March
    march = analyse(repo.letters(), repo.config, work_calendar(repo.root), date(2026, 3, 1),
                    date(2026, 3, 31))
    assert (march.closed, march.on_time, march.received) == (4, 2, 5)


def test_report_has_no_personal_data(fixed: tuple[Repository, dict[str, str]], case_repo: Repo,
                                     tmp_path: Path) -> None:
    out = tmp_path / "analysis"
    result = case_repo.run("analyse", "--from", "2026-03-01", "--to", "2026-04-30", "--out", str(out))
    html = (out / "analysis.html").read_text("utf-8")
    data = json.loads((out / "analysis.json").read_text("utf-8"))
    assert "<svg" in html and "来信分析报告" in html and data["received"] == 6
    for text in (html, result.stdout, json.dumps(data, ensure_ascii=False)):
        assert not re.search(r"139372\d{5}|writer\d@example|马家村5号|示例路8号|王.明", text)


def burst_letters(repo: Repository, days: list[str]) -> list[str]:
    return [submit(repo, 20 + i, day, "小区暖气不热", HEATING.replace("十四五", "十三四" if i % 2 else "十四五"))
            for i, day in enumerate(days)]


def test_burst_within_a_week_is_detected(case_repo: Repo) -> None:
    repo = Repository(case_repo.path)
    codes = burst_letters(repo, ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"])
    alerts = recent_alerts(repo.letters(), repo.config, work_calendar(repo.root), date(2026, 11, 20))
    assert len(alerts) == 1
    assert (alerts[0].kind, alerts[0].place, alerts[0].letters) == ("place", "文昌大道街道", tuple(codes))
    assert "供暖" in alerts[0].topic
    # shown first by the daily deadline job and at the top of the supervision report
    text = case_repo.run("deadlines", "--today", "2026-11-20", "--fail-on", "never").stdout
    assert text.index("预警") < text.index("办理期限表")
    assert codes[0] in text.split("办理期限表")[0]
    report = case_repo.run("report", "--month", "2026-11", "--today", "2026-11-30").stdout
    assert report.index("集中来信预警") < report.index("一、风险预警") and codes[4] in report
    figures = json.loads(case_repo.run("report", "--month", "2026-11", "--format", "json",
                                       "--today", "2026-11-30").stdout)
    assert [b["letters"] for b in figures["bursts"]] == [codes]
    html = render_html(analyse(repo.letters(), repo.config, work_calendar(repo.root),
                               date(2026, 11, 1), date(2026, 11, 30)))
    assert html.index("集中出现") < html.index("二、总体情况")
    # similar and the intake notes name the earlier letters and the reject command
    found = case_repo.json("similar", codes[4])
    assert [m["letter_code"] for m in found] == codes[3::-1] or {m["letter_code"] for m in found} == set(codes[:4])
    assert found[0]["score"] >= 0.9 and "same_place_topic" in found[0]["reasons"]
    text = case_repo.run("similar", codes[4]).stdout
    assert f"letterbox reject {codes[4]} --reason duplicate --of" in text
    notes = intake_notes(repo.letters(), repo.config, [codes[4]])
    assert len(notes) == 1 and codes[0] in notes[0] and "--reason duplicate" in notes[0]
    assert not re.search(r"139372|example\.com|王.明", notes[0] + text)


def test_same_letters_spread_over_two_months_are_no_burst(case_repo: Repo) -> None:
    repo = Repository(case_repo.path)
    burst_letters(repo, ["2026-10-20", "2026-10-28", "2026-11-05", "2026-11-13", "2026-11-21"])
    a = analyse(repo.letters(), repo.config, work_calendar(repo.root), date(2026, 10, 1),
                date(2026, 11, 30))
    assert a.alerts == []
    assert recent_alerts(repo.letters(), repo.config, work_calendar(repo.root), date(2026, 11, 21)) == []


def test_four_in_a_week_are_no_burst_by_default_but_are_with_min_four(case_repo: Repo) -> None:
    repo = Repository(case_repo.path)
    burst_letters(repo, ["2026-11-16", "2026-11-18", "2026-11-20", "2026-11-22", "2026-11-23"])
    # 11/16..11/22 holds four; 11/18..11/23 holds four: no window of 7 days has five
    cal = work_calendar(repo.root)
    assert analyse(repo.letters(), repo.config, cal, date(2026, 11, 1), date(2026, 11, 30)).alerts == []
    alerts = analyse(repo.letters(), repo.config, cal, date(2026, 11, 1), date(2026, 11, 30),
                     min_letters=4).alerts
    assert len(alerts) == 1 and len(alerts[0].letters) == 5  # two overlapping windows, one alert


def test_analyse_json_and_text(fixed: tuple[Repository, dict[str, str]], case_repo: Repo) -> None:
    data: dict[str, Any] = case_repo.json("analyse", "--from", "2026-03-01", "--to", "2026-03-31")
    assert data["received"] == 5 and data["alerts"] == []
    text = case_repo.run("analyse", "--from", "2026-03-01", "--to", "2026-03-31").stdout
    assert "按期办结率 75.0%" in text and "中位数 4.5" in text


def test_intake_notes_printed_for_accepted_letters(case_repo: Repo,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from letterbox.cli.analysis import print_intake_notes

    repo = Repository(case_repo.path)
    codes = burst_letters(repo, ["2026-11-16", "2026-11-17"])
    print_intake_notes(repo, codes)
    text = capsys.readouterr().out.replace("\n", "")
    assert codes[0] in text and f"letterbox reject {codes[1]} --reason duplicate --of {codes[0]}" in text


SEWAGE = [  # one problem told five ways by five writers; only the first names a topic word
    ("滨河公园东门污水外冒", "文明大道街道滨河公园东门外的井盖往外冒污水，臭味很大。"),
    ("公园门口脏水横流", "滨河公园东门那里井盖一直冒脏水，臭得晨练的人都绕着走。"),
    ("东门井盖冒污水", "滨河公园东门口的井盖下面堵了，污水冒出来淌了一地，很臭。"),
    ("滨河公园东门太臭了", "滨河公园东门外面井里的废水溢出来，气味难闻，孩子们不敢去玩。"),
    ("反映滨河公园东门污水问题", "反映滨河公园东门外井盖冒污水的问题，已经一个星期没人管，臭不可闻。"),
]
OTHER_MATTERS_IN_THE_PARK = [
    ("滨河公园健身器材坏了", "滨河公园的健身器材坏了，孩子玩的时候被划伤。"),
    ("滨河公园晚上有人飙车", "滨河公园边上晚上有人骑摩托飙车，声音刺耳。"),
    ("滨河公园厕所没人打扫", "滨河公园的公厕没人打扫，脏得进不去。"),
    ("滨河公园广场舞太吵", "滨河公园每晚广场舞音响开得很大，到十点还不停。"),
]


def test_one_problem_told_five_ways_is_one_burst(case_repo: Repo) -> None:
    """Article 15(2): five writers, five wordings, no topic shared by five: one `matter` alert."""
    repo = Repository(case_repo.path)
    codes = [submit(repo, 40 + i, f"2026-11-{16 + i}", title, body) for i, (title, body) in enumerate(SEWAGE)]
    others = [submit(repo, 50 + i, f"2026-11-{16 + i}", title, body)
              for i, (title, body) in enumerate(OTHER_MATTERS_IN_THE_PARK)]
    alerts = recent_alerts(repo.letters(), repo.config, work_calendar(repo.root), date(2026, 11, 21))
    assert [(a.kind, a.letters) for a in alerts] == [("matter", tuple(codes))]
    assert "同一事项" in alerts[0].title and "5 封" in alerts[0].title
    assert not set(others) & set(alerts[0].letters)
    # four of them are no burst at the default of five
    fewer = [x for x in repo.letters() if x.code != codes[2]]
    assert recent_alerts(fewer, repo.config, work_calendar(repo.root), date(2026, 11, 21)) == []
    text = case_repo.run("deadlines", "--today", "2026-11-21", "--fail-on", "never").stdout
    assert "同一事项" in text and codes[0] in text.split("办理期限表")[0]
    kept = case_repo.path / ".git" / "letterbox" / "similar.sqlite"  # the window's vectors, kept
    with closing(sqlite3.connect(kept)) as db:
        assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] >= len(codes) + len(others)
