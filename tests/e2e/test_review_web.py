"""Issue 18, point 2: the writer asks for 复查 / 复核 through the intake service
(`POST /api/review`, used by the lookup page), authenticated with the letter code and the query
code, with the same windows and refusals as `letterbox review`. A real uvicorn server
(`letterbox serve-intake`) over a real git repository; dates relative to today, since the
service stamps the request with the real time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.conftest import Repo, commit_count, porcelain, submission
from tests.e2e.test_service import serving

CST = timezone(timedelta(hours=8))


def stamp(days_ago: int, hour: int = 9) -> str:
    day = datetime.now(CST).date() - timedelta(days=days_ago)
    return f"{day.isoformat()}T{hour:02d}:00:00+08:00"


def petition_closed(repo: Repo, n: int, received_ago: int, closed_ago: int) -> dict[str, str]:
    """A letter sent to two units (a 信访 case at the petition bureau), answered and closed."""
    made = repo.intake(submission(n, submitted_at=stamp(received_ago, 8)), name=f"one-{n}.json")[0]
    code = made["letter_code"]
    repo.run("classify", code, "--category", "complaint", "--at", stamp(received_ago, 9))
    repo.run("transfer", code, "--unit", "cgj", "--unit", "tc", "--at", stamp(received_ago, 10))
    repo.run("answer", code, "--text", "经调查，已责成整改。", "--head", "王局长", "--at", stamp(closed_ago, 10))
    repo.run("approve", code, "--at", stamp(closed_ago, 15))
    return {"letter_code": code, "query_code": made["query_code"]}


def test_writer_requests_recheck_then_reexamine(case_repo: Repo) -> None:
    a = petition_closed(case_repo, 1, 20, 10)
    late = petition_closed(case_repo, 2, 60, 45)  # closed 45 days ago: the window has passed
    with serving(case_repo) as server:
        before = commit_count(case_repo.path)
        wrong = server.post("/api/review", {**a, "query_code": "2345-6789-ABCD", "kind": "复查",
                                            "text": "对处理结果不满意"})
        assert wrong.status_code == 403 and "申请未提交" in wrong.json()["error"]
        bad = server.post("/api/review", {**a, "kind": "复议", "text": "", "extra": 1})
        assert bad.status_code == 422
        assert {p["field"] for p in bad.json()["problems"]} == {"kind", "text", "extra"}
        first_kind = server.post("/api/review", {**a, "kind": "复核", "text": "不服"})
        assert first_kind.status_code == 409 and "应先申请复查" in first_kind.json()["error"]
        too_late = server.post("/api/review", {**late, "kind": "复查", "text": "不服"})
        assert too_late.status_code == 409, too_late.text
        assert "已超过期限" in too_late.json()["error"] and "现在可以执行" not in too_late.json()["error"]
        assert commit_count(case_repo.path) == before

        done = server.post("/api/review", {**a, "letter_code": a["letter_code"].lower(), "kind": "复查",
                                           "text": "  整改没有落实，请求复查。 "})
        assert done.status_code == 201, done.text
        assert done.json() == {"letter_code": a["letter_code"], "kind": "复查"}
        assert commit_count(case_repo.path) == before + 1
        event = case_repo.letter(a["letter_code"])["history"][-1]
        assert event["action"] == "review-request" and event["actor"] == "来信人"
        assert event["details"]["kind"] == "复查" and event["details"]["text"] == "整改没有落实，请求复查。"
        assert case_repo.letter(a["letter_code"])["status"] == "reviewing"
        again = server.post("/api/review", {**a, "kind": "复查", "text": "再次申请"})
        assert again.status_code == 409 and "复查复核中" in again.json()["error"]

        case_repo.run("review-decide", a["letter_code"], "--outcome", "维持", "--text", "维持原处理意见。")
        second = server.post("/api/review", {**a, "kind": "复核", "text": "对复查意见不服"})
        assert second.status_code == 201, second.text
        assert case_repo.letter(a["letter_code"])["history"][-1]["details"]["kind"] == "复核"
    assert porcelain(case_repo.path) == ""
    case_repo.run("validate")


def test_ordinary_letter_has_no_review(case_repo: Repo) -> None:
    made = case_repo.intake(submission(1, submitted_at=stamp(5, 8)), name="one-1.json")[0]
    code = made["letter_code"]
    case_repo.run("classify", code, "--category", "consultation", "--at", stamp(5, 9))
    case_repo.run("reply", code, "--text", "已转告城管部门，路灯已修复。", "--at", stamp(4, 9))
    with serving(case_repo) as server:
        answer = server.post("/api/review", {"letter_code": code, "query_code": made["query_code"],
                                             "kind": "复查", "text": "不服"})
        assert answer.status_code == 409 and "不是作为信访事项办理" in answer.json()["error"]
    assert case_repo.letter(code)["history"][-1]["action"] == "reply"


def test_lookup_entry_offers_the_review_open_now(case_repo: Repo) -> None:
    """The lookup entry names the review the writer may ask for now (the page shows its panel
    from it): 复查 within 30 days of the closing, nothing once the window has passed, nothing for
    an ordinary letter, nothing while under review."""
    import json

    a = petition_closed(case_repo, 1, 20, 10)
    late = petition_closed(case_repo, 2, 80, 60)
    case_repo.run("build")
    site = str(case_repo.path / "site")

    def entry(who: dict[str, str]) -> dict:
        return json.loads(case_repo.run("lookup", who["letter_code"], who["query_code"], "--site", site,
                                        "--json").stdout)

    offer = entry(a)["review"]
    closed = datetime.fromisoformat(stamp(10)).date()
    assert offer["kind"] == "复查" and offer["until"] >= (closed + timedelta(days=30)).isoformat()
    assert offer["body"].endswith("人民政府")
    text = case_repo.run("lookup", a["letter_code"], a["query_code"], "--site", site).stdout
    assert "可申请：复查（" in text
    # the window of `late` ended 30 days ago; the lookup says nothing of a review
    assert entry(late)["review"]["until"] < datetime.now(CST).date().isoformat()  # the page hides it
    case_repo.run("review", a["letter_code"], "--kind", "复查")
    case_repo.run("build")
    assert entry(a)["review"] is None and entry(a)["status"] == "reviewing"
