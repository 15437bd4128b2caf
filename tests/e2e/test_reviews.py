"""Issue 18, point 2: 复查 and 复核 of a 信访 case (《信访工作条例》第三十五、三十六条).

`letterbox review CODE --kind 复查|复核` records the writer's request within 30 calendar days of
the 处理意见 (the closing) or of the 复查意见 (rolled forward off a weekend or holiday);
`letterbox review-decide CODE --outcome 维持|撤销|变更 --text …` records the reviewing body's
opinion. Each review runs its own 30-day clock, shown by `deadlines`. Real repositories through
the CLI, `--at` dates across the 2026 holidays."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import Repo, refused


def petition_closed(repo: Repo, n: int, closed_day: str, received_day: str) -> str:
    """A letter sent to two units (so a 信访 case at the petition bureau), answered and closed
    (the 处理意见) on ``closed_day``."""
    code = repo.new_letter(n, submitted_at=f"{received_day}T08:30:00+08:00")
    repo.run("classify", code, "--category", "complaint", "--at", f"{received_day}T08:45:00+08:00")
    repo.run("transfer", code, "--unit", "cgj", "--unit", "tc", "--at", f"{received_day}T09:00:00+08:00")
    repo.run("answer", code, "--text", "经调查，已责成整改。", "--head", "王局长",
             "--at", f"{closed_day}T10:00:00+08:00")
    repo.run("approve", code, "--at", f"{closed_day}T15:00:00+08:00")
    return code


def deadline_rows(repo: Repo, today: str) -> dict[str, dict]:
    result = repo.run("deadlines", "--json", "--fail-on", "never", "--today", today)
    return {r["letter_code"]: r for r in json.loads(result.stdout)}


def test_recheck_window_day_30_accepted_day_31_refused(case_repo: Repo) -> None:
    late = petition_closed(case_repo, 1, "2026-03-02", "2026-02-26")
    ok = petition_closed(case_repo, 2, "2026-03-02", "2026-02-26")
    # 2026-03-02 + 30 days = Wednesday 2026-04-01, a working day: the last day to ask
    refused(case_repo, "review", late, "--kind", "复查", "--at", "2026-04-02T09:00:00+08:00",
            words=["复查申请已超过期限", "2026-03-02", "2026-04-01", "2026-04-02"])
    result = case_repo.run("review", ok, "--kind", "复查", "--text", "对处理结果不满意",
                           "--at", "2026-04-01T16:00:00+08:00")
    assert f"已完成：{ok} 申请复查复核 复查 → 当前状态：复查复核中" in result.stdout
    event = case_repo.letter(ok)["history"][-1]
    assert event["action"] == "review-request"
    # no `bodies.review` in letterbox.yaml: the district government reviews
    government = yaml.safe_load((case_repo.path / "letterbox.yaml").read_text("utf-8"))
    assert event["details"] == {"kind": "复查", "body": government.get("government")
                                or f"{government['district']}人民政府", "text": "对处理结果不满意"}
    assert case_repo.letter(ok)["status"] == "reviewing"
    # the review's own clock: 2026-04-01 + 30 = 2026-05-01, 劳动节 (5/1-5/5) -> 2026-05-06
    row = deadline_rows(case_repo, "2026-04-10")[ok]
    assert (row["deadline"], row["deadline_kind"], row["overdue"]) == ("2026-05-06", "recheck", False)
    assert late not in deadline_rows(case_repo, "2026-04-10")
    table = case_repo.run("deadlines", "--today", "2026-04-10", "--fail-on", "never").stdout
    assert "复查" in table
    case_repo.run("validate")


def test_window_ending_on_a_holiday_rolls_forward(case_repo: Repo) -> None:
    a = petition_closed(case_repo, 1, "2026-09-02", "2026-08-31")
    b = petition_closed(case_repo, 2, "2026-09-02", "2026-08-31")
    # 2026-09-02 + 30 days = 2026-10-02, 国庆节 (10/1-10/7): the window ends on 10/8
    case_repo.run("review", a, "--kind", "复查", "--at", "2026-10-08T17:00:00+08:00")
    refused(case_repo, "review", b, "--kind", "复查", "--at", "2026-10-09T09:00:00+08:00",
            words=["已超过期限", "2026-10-08", "顺延"])


def test_recheck_then_reexamine_and_each_refusal(case_repo: Repo) -> None:
    code = petition_closed(case_repo, 1, "2026-03-02", "2026-02-26")
    refused(case_repo, "review", code, "--kind", "复核", "--at", "2026-03-10T09:00:00+08:00",
            words=["还没有复查意见", "应先申请复查"])
    case_repo.run("review", code, "--kind", "复查", "--at", "2026-03-10T09:00:00+08:00")
    refused(case_repo, "review", code, "--kind", "复查", "--at", "2026-03-11T09:00:00+08:00",
            words=["复查复核中"])  # already under review
    refused(case_repo, "review-decide", code, "--outcome", "维持", "--at", "2026-03-20T09:00:00+08:00",
            words=["复查复核意见不能为空"])
    result = case_repo.run("review-decide", code, "--outcome", "维持", "--text", "维持原处理意见。",
                           "--at", "2026-03-20T09:00:00+08:00")
    assert "复查维持" in result.stdout and "当前状态：已办结" in result.stdout
    assert case_repo.letter(code)["history"][-1]["details"]["outcome"] == "维持"
    refused(case_repo, "review", code, "--kind", "复查", "--at", "2026-03-25T09:00:00+08:00",
            words=["已经办理过复查", "可申请复核"])
    # 复核: within 30 days of the 复查意见 (2026-03-20 + 30 = Sunday 4/19 -> Monday 4/20)
    case_repo.run("review", code, "--kind", "复核", "--at", "2026-04-20T09:00:00+08:00")
    row = deadline_rows(case_repo, "2026-04-21")[code]
    assert (row["deadline_kind"], row["deadline"]) == ("reexamine", "2026-05-20")
    case_repo.run("review-decide", code, "--outcome", "变更", "--text", "变更为：限期一个月内修复。",
                  "--at", "2026-05-10T09:00:00+08:00")
    refused(case_repo, "review", code, "--kind", "复核", "--at", "2026-05-12T09:00:00+08:00",
            words=["已经办理过复核", "最终意见"])
    show = case_repo.run("show", code).stdout
    assert "复查复核结论" in show and "变更" in show
    case_repo.run("validate")


def test_reexamine_window_from_the_recheck_opinion(case_repo: Repo) -> None:
    code = petition_closed(case_repo, 1, "2026-03-02", "2026-02-26")
    case_repo.run("review", code, "--kind", "复查", "--at", "2026-03-10T09:00:00+08:00")
    case_repo.run("review-decide", code, "--outcome", "撤销", "--text", "撤销原处理意见，重新办理。",
                  "--at", "2026-03-20T09:00:00+08:00")
    refused(case_repo, "review", code, "--kind", "复核", "--at", "2026-04-21T09:00:00+08:00",
            words=["复核申请已超过期限", "复查意见", "2026-04-20"])


def test_not_a_petition_case_unless_configured(case_repo: Repo) -> None:
    code = case_repo.new_letter(1, submitted_at="2026-03-02T08:30:00+08:00")
    case_repo.run("classify", code, "--category", "complaint", "--at", "2026-03-02T08:45:00+08:00")
    case_repo.run("transfer", code, "--unit", "cgj", "--at", "2026-03-02T09:00:00+08:00")
    case_repo.run("answer", code, "--text", "已修复。", "--head", "张局长", "--at", "2026-03-03T10:00:00+08:00")
    case_repo.run("approve", code, "--at", "2026-03-04T10:00:00+08:00")
    refused(case_repo, "review", code, "--kind", "复查", "--at", "2026-03-10T09:00:00+08:00",
            words=["不是作为信访事项办理", "reviews_for_all_letters"])
    config = case_repo.path / "letterbox.yaml"
    data = yaml.safe_load(config.read_text("utf-8"))
    data["deadlines"]["reviews_for_all_letters"] = True
    data.setdefault("bodies", {})["review"] = {"name": "测试区人民政府"}
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    case_repo.git("commit", "-q", "-m", "reviews for all letters", "--", "letterbox.yaml")
    case_repo.run("review", code, "--kind", "复查", "--at", "2026-03-10T09:00:00+08:00")
    assert case_repo.letter(code)["history"][-1]["details"]["body"] == "测试区人民政府"


def test_validate_catches_a_hand_made_review_outside_its_window(case_repo: Repo) -> None:
    code = petition_closed(case_repo, 1, "2026-03-02", "2026-02-26")
    case_repo.run("validate")
    path = case_repo.letter_file(code)
    data = yaml.safe_load(path.read_text("utf-8"))
    data["history"].append({"at": "2026-04-10T09:00:00+08:00", "actor": "测试员", "action": "review-request",
                            "details": {"kind": "复查"}})
    data["status"] = "reviewing"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    result = case_repo.run("validate", expect=1)
    assert "复查申请已超过期限" in result.stdout + result.stderr
    # within the window the same hand edit is accepted
    data["history"][-1]["at"] = "2026-03-30T09:00:00+08:00"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    case_repo.run("validate")


def test_monthly_report_counts_requests_and_outcomes_per_kind(case_repo: Repo) -> None:
    decided = petition_closed(case_repo, 1, "2026-03-02", "2026-02-26")
    pending = petition_closed(case_repo, 2, "2026-03-02", "2026-02-26")
    case_repo.run("review", decided, "--kind", "复查", "--at", "2026-03-10T09:00:00+08:00")
    case_repo.run("review-decide", decided, "--outcome", "撤销", "--text", "撤销原处理意见。",
                  "--at", "2026-03-20T09:00:00+08:00")
    case_repo.run("review", pending, "--kind", "复查", "--at", "2026-03-25T09:00:00+08:00")
    case_repo.run("review", decided, "--kind", "复核", "--at", "2026-04-02T09:00:00+08:00")
    march = json.loads(case_repo.run("report", "--month", "2026-03", "--format", "json",
                                     "--today", "2026-04-15").stdout)
    assert march["reviews"]["复查"] == {"requested": 2, "维持": 0, "撤销": 1, "变更": 0, "pending": 1}
    assert march["reviews"]["复核"] == {"requested": 0, "维持": 0, "撤销": 0, "变更": 0, "pending": 0}
    april = json.loads(case_repo.run("report", "--month", "2026-04", "--format", "json",
                                     "--today", "2026-04-15").stdout)
    assert april["reviews"]["复查"]["requested"] == 0 and april["reviews"]["复查"]["pending"] == 1
    assert april["reviews"]["复核"] == {"requested": 1, "维持": 0, "撤销": 0, "变更": 0, "pending": 1}
    text = case_repo.run("report", "--month", "2026-03", "--today", "2026-04-15").stdout
    assert ("复查（《信访工作条例》第三十五、三十六条）：申请 2 件；作出意见 1 件（维持 0，撤销 1，变更 0）；"
            "期末尚在办理 1 件。") in text
    html = case_repo.run("report", "--month", "2026-03", "--format", "html", "--today", "2026-04-15").stdout
    assert "复查（《信访工作条例》第三十五、三十六条）：申请 2 件" in html


def test_a_published_letter_stays_on_the_board_while_under_review(case_repo: Repo) -> None:
    """The 处理意见 stands while a 复查 is pending: the letter keeps its place on the board (and
    Open311 says it is open again); a letter never published does not appear because of it."""
    from letterbox.core.clock import work_calendar
    from letterbox.store.repository import Repository
    from site_builder.select import select

    code = petition_closed(case_repo, 1, "2026-03-02", "2026-02-26")
    case_repo.run("review", code, "--kind", "复查", "--at", "2026-03-10T09:00:00+08:00")
    repo = Repository(case_repo.path)
    try:
        entries = select(repo.letters(), repo.config, work_calendar(repo.root))
    finally:
        repo.close()
    [entry] = [e for e in entries if e.code == code]
    assert entry.status == "reviewing"
    assert entry.reply == "经调查，已责成整改。"
    assert entry.answered.isoformat() == "2026-03-02"


def test_the_writer_is_given_the_review_opinions(case_repo: Repo) -> None:
    """Each review opinion is a notice to the writer (复查意见书 with the right to 复核 within
    30 days; 复核意见书 final), printed by `letterbox notice` and carried in the lookup entry."""
    from letterbox.core.clock import work_calendar
    from letterbox.store.repository import Repository
    from site_builder.lookup_index import payload_of

    code = petition_closed(case_repo, 1, "2026-03-02", "2026-02-26")
    case_repo.run("review", code, "--kind", "复查", "--at", "2026-03-10T09:00:00+08:00")
    refused(case_repo, "notice", code, "--kind", "recheck", words=["答复意见书"])
    case_repo.run("review-decide", code, "--outcome", "维持", "--text", "经复查，原处理意见正确。",
                  "--at", "2026-03-20T09:00:00+08:00")
    recheck = case_repo.run("notice", code, "--kind", "recheck").stdout
    assert "【复查意见书】" in recheck and "决定维持原处理意见" in recheck
    assert "经复查，原处理意见正确。" in recheck and "30 日内" in recheck and "请求复核" in recheck
    case_repo.run("review", code, "--kind", "复核", "--at", "2026-04-01T09:00:00+08:00")
    case_repo.run("review-decide", code, "--outcome", "变更", "--text", "变更为限期十日整改。",
                  "--at", "2026-04-10T09:00:00+08:00")
    final = case_repo.run("notice", code, "--kind", "reexamine").stdout
    assert "【复核意见书】" in final and "决定变更复查意见" in final and "最终意见" in final
    repo = Repository(case_repo.path)
    try:
        [letter] = [x for x in repo.letters() if x.code == code]
        payload = payload_of(letter, repo.config, work_calendar(repo.root), False, repo.root)
    finally:
        repo.close()
    shown = json.dumps(payload, ensure_ascii=False)
    assert "复查意见书" in shown and "复核意见书" in shown


def test_analysis_counts_reviews_per_kind_in_the_period(case_repo: Repo, tmp_path: Path) -> None:
    """`letterbox analyse` (article 14(3)): 复查/复核 asked for and decided in the period, by
    outcome, and pending at its end, as the monthly report counts them; in JSON, the summary
    line and the HTML report."""
    decided = petition_closed(case_repo, 1, "2026-03-02", "2026-02-26")
    pending = petition_closed(case_repo, 2, "2026-03-02", "2026-02-26")
    case_repo.run("review", decided, "--kind", "复查", "--at", "2026-03-10T09:00:00+08:00")
    case_repo.run("review-decide", decided, "--outcome", "变更", "--text", "变更为限期整改。",
                  "--at", "2026-03-20T09:00:00+08:00")
    case_repo.run("review", pending, "--kind", "复查", "--at", "2026-03-25T09:00:00+08:00")
    case_repo.run("review", decided, "--kind", "复核", "--at", "2026-04-02T09:00:00+08:00")
    march = case_repo.json("analyse", "--from", "2026-03-01", "--to", "2026-03-31")
    assert march["reviews"]["复查"] == {"requested": 2, "维持": 0, "撤销": 0, "变更": 1, "pending": 1}
    assert march["reviews"]["复核"] == {"requested": 0, "维持": 0, "撤销": 0, "变更": 0, "pending": 0}
    april = case_repo.json("analyse", "--from", "2026-04-01", "--to", "2026-04-30")
    assert april["reviews"]["复查"] == {"requested": 0, "维持": 0, "撤销": 0, "变更": 0, "pending": 1}
    assert april["reviews"]["复核"] == {"requested": 1, "维持": 0, "撤销": 0, "变更": 0, "pending": 1}
    # the figures agree with the monthly report's
    report = json.loads(case_repo.run("report", "--month", "2026-03", "--format", "json",
                                      "--today", "2026-04-15").stdout)
    assert report["reviews"] == march["reviews"]
    text = case_repo.run("analyse", "--from", "2026-03-01", "--to", "2026-03-31",
                         "--out", str(tmp_path / "a")).stdout
    assert "复查、复核：复查申请 2 件，维持 0、撤销 0、变更 1，办理中 1；复核申请 0 件" in text
    html = (tmp_path / "a" / "analysis.html").read_text("utf-8")
    assert "八、复查和复核" in html
    assert ('<tr><td>复查</td><td class="n">2</td><td class="n">0</td><td class="n">0</td>'
            '<td class="n">1</td><td class="n">1</td></tr>') in html
    quiet = case_repo.run("analyse", "--from", "2026-02-01", "--to", "2026-02-28").stdout
    assert "复查、复核" not in quiet  # nothing to say: no line


def test_public_statistics_count_reviews_of_published_letters(case_repo: Repo) -> None:
    """The 统计 page, stats.json and stats.csv: per unit and in total, the 复查/复核 asked for on
    the published letters, the answers revoked or changed, and those pending; counts only."""
    changed = petition_closed(case_repo, 1, "2026-03-02", "2026-02-26")
    pending = petition_closed(case_repo, 2, "2026-03-02", "2026-02-26")
    petition_closed(case_repo, 3, "2026-03-02", "2026-02-26")
    case_repo.run("review", changed, "--kind", "复查", "--at", "2026-03-10T09:00:00+08:00")
    case_repo.run("review-decide", changed, "--outcome", "撤销", "--text", "撤销原处理意见。",
                  "--at", "2026-03-20T09:00:00+08:00")
    case_repo.run("review", changed, "--kind", "复核", "--at", "2026-03-25T09:00:00+08:00")
    case_repo.run("review-decide", changed, "--outcome", "维持", "--text", "维持复查意见。",
                  "--at", "2026-04-10T09:00:00+08:00")
    case_repo.run("review", pending, "--kind", "复查", "--at", "2026-03-25T09:00:00+08:00")
    case_repo.run("build")
    site = case_repo.path / "site"
    stats = json.loads((site / "stats" / "stats.json").read_text("utf-8"))
    [total] = stats["total"]
    assert (total["letters"], total["reviews"], total["reviews_changed"], total["reviews_pending"]) \
        == (3, 3, 1, 1)
    units = {r["key"]: r for r in stats["unit"]}
    assert units  # the 信访 cases' unit rows carry the same counts
    assert all((r["reviews"], r["reviews_changed"], r["reviews_pending"]) == (3, 1, 1)
               for r in units.values()), units
    header = (site / "stats" / "stats.csv").read_text("utf-8").splitlines()[0]
    assert header.endswith(",reviews,reviews_changed,reviews_pending")
    page = (site / "stats" / "index.html").read_text("utf-8")
    assert "复查复核：申请 / 撤销或变更 / 办理中" in page and "3 / 1 / 1" in page
    assert changed not in page and pending not in page
