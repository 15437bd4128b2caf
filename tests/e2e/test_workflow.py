"""The handling process (issue 3): every step commits once, authored by the acting person;
every refusal leaves HEAD, index and working tree as they were and says what is possible."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import (
    Repo,
    commit_count,
    head,
    porcelain,
    refused,
    stray_files,
    submission,
)

CODE = "LA-2026-00001"


def at(day: int, hour: int, minute: int = 0) -> str:
    return f"2026-03-{day:02d}T{hour:02d}:{minute:02d}:00+08:00"


def step(repo: Repo, *args: str, who: str = "王五", when: str, message: str | None = None,
         files: list[str] | None = None) -> dict[str, Any]:
    """Run one step; assert exactly one new commit by `who` with `message`, and a clean tree."""
    before, count = head(repo.path), commit_count(repo.path)
    result = json.loads(repo.run(*args, "--as", who, "--at", when, "--json").stdout)
    assert commit_count(repo.path) == count + 1
    assert repo.git("rev-parse", "HEAD~1").strip() == before
    assert result["commit"] == head(repo.path)
    assert repo.git("log", "-1", "--format=%an|%cn").strip() == f"{who}|{who}"
    if message is not None:
        assert repo.git("log", "-1", "--format=%s").strip() == message
    changed = repo.git("show", "--name-only", "--format=", "HEAD").split()
    code = args[1]
    assert changed == sorted(files or [f"cases/2026/03/{code}.yaml"])
    assert porcelain(repo.path) == ""
    assert stray_files(repo.path) == []
    event = repo.letter(code)["history"][-1]
    assert event["actor"] == who and event["at"] == when and event["action"] == args[0]
    return result


@pytest.fixture
def letter(case_repo: Repo) -> Repo:
    assert case_repo.new_letter(1) == CODE
    return case_repo


@pytest.fixture
def classified(letter: Repo) -> Repo:
    step(letter, "classify", CODE, "--category", "complaint", when=at(2, 10),
         message=f"{CODE} 分类 求助投诉")
    return letter


@pytest.fixture
def transferred(classified: Repo) -> Repo:
    step(classified, "transfer", CODE, "--unit", "zjj", when=at(2, 11),
         message=f"{CODE} 转办 区住房和城乡建设局（一般问题）")
    return classified


# -- happy paths ---------------------------------------------------------------------------


def test_transfer_extend_answer_send_back_approve_publish_archive(transferred: Repo) -> None:
    repo = transferred
    view = repo.show(CODE)
    assert (view["status"], view["category"], view["units"], view["deadline"]) == (
        "transferred", "complaint", ["zjj"], "2026-03-05")
    step(repo, "remind", CODE, "--note", "请尽快办理", who="李催办", when=at(3, 9), message=f"{CODE} 催办")
    assert repo.letter(CODE)["history"][-1]["details"] == {"units": ["zjj"], "note": "请尽快办理"}
    step(repo, "flag-risk", CODE, "--note", "多户居民准备集体上访", who="住建局张科长", when=at(3, 10),
         message=f"{CODE} 风险预警")
    step(repo, "extend", CODE, "--days", "2", "--reason", "需要协调供电公司", who="住建局张科长",
         when=at(4, 9), message=f"{CODE} 申请延期 2 天")
    assert repo.show(CODE)["pending_extension"] == 2
    step(repo, "grant", CODE, who="信息中心刘主任", when=at(4, 10), message=f"{CODE} 同意延期")
    view = repo.show(CODE)
    assert view["deadline"] == "2026-03-09" and view["pending_extension"] is None
    step(repo, "answer", CODE, "--text", "已更换路灯。", "--head", "住建局陈局长", who="住建局张科长",
         when=at(6, 9), message=f"{CODE} 答复 区住房和城乡建设局")
    assert repo.show(CODE)["status"] == "answered"
    assert repo.letter(CODE)["history"][-1]["details"] == {
        "text": "已更换路灯。", "head": "住建局陈局长", "unit": "zjj"}
    step(repo, "send-back", CODE, "--reason", "未说明更换时间", who="信息中心刘主任", when=at(6, 10),
         message=f"{CODE} 退回重办")
    assert repo.show(CODE)["status"] == "transferred"
    step(repo, "answer", CODE, "--text", "已于3月5日更换路灯，今后每月巡查。", "--head", "住建局陈局长",
         "--contacted", who="住建局张科长", when=at(9, 9))
    step(repo, "approve", CODE, who="信息中心刘主任", when=at(9, 10), message=f"{CODE} 审核通过")
    view = repo.show(CODE)
    assert (view["status"], view["deadline"], view["publication"]) == ("closed", None, None)
    step(repo, "publish", CODE, who="信息中心刘主任", when=at(9, 11), message=f"{CODE} 公开")
    assert repo.show(CODE)["publication"] == "public"
    step(repo, "flag-risk", CODE, "--note", "办结后仍有人聚集", who="信息中心刘主任", when=at(9, 12))
    step(repo, "archive", CODE, who="档案员", when=at(10, 9), message=f"{CODE} 归档")
    data = repo.letter(CODE)
    assert data["status"] == "archived"
    assert [e["action"] for e in data["history"]] == [
        "receive", "classify", "transfer", "remind", "flag-risk", "extend", "grant", "answer",
        "send-back", "answer", "approve", "publish", "flag-risk", "archive"]
    repo.run("validate")


def test_show_json_fields(transferred: Repo) -> None:
    view = transferred.show(CODE)
    for key in ("letter_code", "status", "category", "units", "deadline", "publication", "follows_up",
                "history", "followed_by"):
        assert key in view
    assert view["letter_code"] == CODE and view["follows_up"] is None
    assert [e["action"] for e in view["history"]] == ["receive", "classify", "transfer"]
    assert "writer" not in view
    for secret in ("赵卫东", "13937212345"):
        assert secret not in json.dumps(view, ensure_ascii=False)
        assert secret not in transferred.run("show", CODE).stdout
    # the writer only on request
    assert "赵卫东" in transferred.run("show", CODE, "--writer").stdout


def test_refuse_extension_and_extend_after_deadline(transferred: Repo) -> None:
    repo = transferred
    step(repo, "extend", CODE, "--days", "5", "--reason", "材料未齐", when=at(3, 9))
    refused(repo, "extend", CODE, "--days", "1", "--reason", "再申请", "--at", at(3, 10),
            words=["已有一项延期申请待审批", "当前状态为“转办中”", "现在可以执行："])
    step(repo, "refuse", CODE, "--note", "理由不足", who="信息中心刘主任", when=at(3, 11),
         message=f"{CODE} 不同意延期")
    view = repo.show(CODE)
    assert view["deadline"] == "2026-03-05" and view["pending_extension"] is None
    refused(repo, "grant", CODE, "--at", at(3, 12), words=["没有待审批的延期申请", "现在可以执行："])
    # the deadline is 2026-03-05: an application on the 6th comes too late (article 11)
    refused(repo, "extend", CODE, "--days", "2", "--reason", "来不及了", "--at", at(6, 9),
            words=["办理期限 2026-03-05 已过", "不能再申请延期"])
    # on the last day itself it is still in time
    step(repo, "extend", CODE, "--days", "2", "--reason", "最后一天申请", when=at(5, 17))


def test_complex_transfer_and_petition_for_two_units(classified: Repo, case_repo: Repo) -> None:
    step(classified, "transfer", CODE, "--unit", "区住房和城乡建设局", "--complex", when=at(2, 11),
         message=f"{CODE} 转办 区住房和城乡建设局（较复杂问题）")
    view = classified.show(CODE)
    assert (view["units"], view["deadline"]) == (["zjj"], "2026-03-30")
    assert classified.letter(CODE)["mode"] == "complex"
    # a second letter goes to two units → 区信访局 as a petition case (60 days)
    second = classified.new_letter(2)
    step(classified, "classify", second, "--category", "complaint", when=at(2, 10))
    step(classified, "transfer", second, "--unit", "zjj", "--unit", "cgj", when=at(2, 11),
         message=f"{second} 转办 区信访局（信访立案）")
    data = classified.letter(second)
    assert (data["units"], data["mode"], data["status"]) == (["xfj"], "petition", "transferred")
    assert data["history"][-1]["details"] == {"units": ["xfj"], "mode": "petition",
                                              "coordinating": ["zjj", "cgj"]}
    # 60 days end on 2026-05-01, in the Labour Day holiday (5/1-5/5): the next working day
    assert classified.show(second)["deadline"] == "2026-05-06"
    classified.run("validate")


def test_escalate_writes_form_in_same_commit_then_instruct(classified: Repo) -> None:
    repo = classified
    step(repo, "escalate", CODE, "--leader", "qz", who="信息中心刘主任", when=at(2, 11),
         message=f"{CODE} 呈办 区长", files=[f"cases/2026/03/{CODE}.yaml", f"forms/2026/{CODE}.html"])
    form = (repo.path / "forms" / "2026" / f"{CODE}.html").read_text("utf-8")
    assert "来信办理单" in form and CODE in form and "区长" in form
    assert submission(1)["title"] in form
    data = repo.letter(CODE)
    assert data["status"] == "escalated"
    assert data["history"][-1]["details"] == {"leader": "qz", "form": f"forms/2026/{CODE}.html"}
    refused(repo, "transfer", CODE, "--unit", "zjj", "--at", at(2, 12),
            words=["当前状态为“呈办中”", "instruct（领导批示）"])
    step(repo, "instruct", CODE, "--leader", "qz", "--text", "请住建局三日内办结", "--unit", "zjj",
         who="信息中心刘主任", when=at(3, 9), message=f"{CODE} 领导批示 区住房和城乡建设局（一般问题）",
         files=[f"cases/2026/03/{CODE}.yaml", f"forms/2026/{CODE}.html"])  # the form gets the 批示
    assert "请住建局三日内办结" in (repo.path / "forms" / "2026" / f"{CODE}.html").read_text("utf-8")
    data = repo.letter(CODE)
    assert (data["status"], data["units"], data["mode"]) == ("transferred", ["zjj"], "ordinary")
    assert data["history"][-1]["details"]["text"] == "请住建局三日内办结"
    repo.run("validate")


def test_return_then_transfer_elsewhere(transferred: Repo) -> None:
    step(transferred, "return", CODE, "--reason", "路灯归城管局管", who="住建局张科长", when=at(2, 15),
         message=f"{CODE} 退回 区住房和城乡建设局")
    data = transferred.letter(CODE)
    assert (data["status"], data["units"], data["mode"]) == ("classified", [], None)
    assert data["history"][-1]["details"] == {"unit": "zjj", "reason": "路灯归城管局管"}
    step(transferred, "transfer", CODE, "--unit", "cgj", when=at(2, 16),
         message=f"{CODE} 转办 区城市管理局（一般问题）")
    transferred.run("validate")


def test_reply_withhold_archive(classified: Repo, tmp_path) -> None:  # noqa: ANN001
    answer = tmp_path / "reply.txt"
    answer.write_text("根据《安阳市城市照明管理办法》，路灯由城管部门维护。\n", "utf-8")
    step(classified, "reply", CODE, "--file", str(answer), when=at(2, 11), message=f"{CODE} 直接回复")
    data = classified.letter(CODE)
    assert data["status"] == "closed"
    assert data["history"][-1]["details"] == {"text": "根据《安阳市城市照明管理办法》，路灯由城管部门维护。"}
    step(classified, "withhold", CODE, "--reason", "privacy", when=at(2, 12),
         message=f"{CODE} 不予公开 涉及个人隐私")
    assert classified.show(CODE)["publication"] == "withheld"
    # publication is reversible (issue 14): a withheld letter may be published later, but the
    # same decision twice is refused
    step(classified, "publish", CODE, when=at(2, 13), message=f"{CODE} 公开")
    refused(classified, "publish", CODE, "--at", at(2, 13), words=["公开决定已是“公开”", "当前状态为“已办结”",
                                                                  "unpublish（撤下公开）"])
    refused(classified, "remind", CODE, "--at", at(2, 13), words=["当前状态为“已办结”", "archive（归档）"])
    step(classified, "archive", CODE, when=at(3, 9))
    refused(classified, "archive", CODE, "--at", at(3, 10), words=["当前状态为“已归档”"])


REASONS = ["incomplete", "duplicate", "private-dispute", "answered", "legal-process", "discipline",
           "out-of-scope"]


@pytest.mark.parametrize("reason", REASONS)
def test_reject_with_each_reason(letter: Repo, reason: str) -> None:
    later = letter.new_letter(2)  # LA-2026-00002: for duplicate/answered it names the earlier CODE
    subject, extra = (later, ["--of", CODE.lower()]) if reason in ("duplicate", "answered") else (CODE, [])
    step(letter, "reject", subject, "--reason", reason, *extra, who="信息中心刘主任", when=at(2, 10),
         message=f"{subject} 不予受理 {reason}")
    data = letter.letter(subject)
    details = data["history"][-1]["details"]
    assert data["status"] == "rejected" and details["reason"] == reason
    assert details.get("of") == (CODE if extra else None)
    assert "办法第五条" in details["reply"]
    if reason == "discipline":
        assert "区纪委监委" in details["reply"]
    letter.run("validate")
    refused(letter, "classify", subject, "--category", "complaint", "--at", at(2, 11),
            words=["当前状态为“不予受理”", "archive（归档）"])
    step(letter, "archive", subject, when=at(2, 12))


def test_reject_from_classified_with_own_reply(classified: Repo) -> None:
    step(classified, "reject", CODE, "--reason", "discipline", "--reply", "您反映的问题请向区纪委监委反映。",
         when=at(2, 11))
    assert classified.letter(CODE)["history"][-1]["details"]["reply"] == "您反映的问题请向区纪委监委反映。"


def test_reject_argument_refusals(letter: Repo) -> None:
    for reason in ("duplicate", "answered"):
        refused(letter, "reject", CODE, "--reason", reason, words=["--of", "当前状态为“已收到”", "现在可以执行："])
    refused(letter, "reject", CODE, "--reason", "duplicate", "--of", CODE, words=["不能指向本信"])
    refused(letter, "reject", CODE, "--reason", "duplicate", "--of", "LA-2026-00042",
            words=["找不到信件 LA-2026-00042"])
    refused(letter, "reject", CODE, "--reason", "boring", words=["boring"], code=2)


def test_default_actor_is_git_user(letter: Repo) -> None:
    letter.git("config", "user.name", "值班员小周")
    letter.run("classify", CODE, "--category", "suggestion")
    assert letter.git("log", "-1", "--format=%an").strip() == "值班员小周"
    assert letter.letter(CODE)["history"][-1]["actor"] == "值班员小周"


def test_at_without_offset_is_local_time(letter: Repo) -> None:
    letter.run("classify", CODE, "--category", "suggestion", "--at", "2026-03-02T10:30")
    assert letter.letter(CODE)["history"][-1]["at"] == "2026-03-02T10:30:00+08:00"


def test_time_never_goes_backwards(classified: Repo) -> None:
    refused(classified, "transfer", CODE, "--unit", "zjj", "--at", at(2, 9, 59),
            words=["早于上一条办理记录", "2026-03-02T10:00:00+08:00", "当前状态为“已分类”"])
    refused(classified, "transfer", CODE, "--unit", "zjj", "--at", "上周三", words=["--at", "格式不对"])
    # the same minute as the last event is allowed
    step(classified, "transfer", CODE, "--unit", "zjj", when=at(2, 10))


# -- refusals ----------------------------------------------------------------------------------

WRONG_STATE = [
    # (fixture, args, Chinese state, a step that is possible now)
    ("letter", ["transfer", CODE, "--unit", "zjj"], "已收到", "classify（分类）"),
    ("letter", ["reply", CODE, "--text", "好的"], "已收到", "reject（不予受理）"),
    ("letter", ["approve", CODE], "已收到", "classify（分类）"),
    ("letter", ["answer", CODE, "--text", "已办", "--head", "陈局长"], "已收到", "classify（分类）"),
    ("letter", ["publish", CODE], "已收到", "remind（催办）"),
    ("letter", ["archive", CODE], "已收到", "classify（分类）"),
    ("letter", ["extend", CODE, "--days", "2", "--reason", "忙"], "已收到", "classify（分类）"),
    ("letter", ["return", CODE, "--reason", "不归我们管"], "已收到", "classify（分类）"),
    ("classified", ["instruct", CODE, "--leader", "qz", "--text", "办", "--unit", "zjj"], "已分类",
     "escalate（呈办）"),
    ("classified", ["send-back", CODE, "--reason", "重办"], "已分类", "transfer（转办）"),
    ("transferred", ["classify", CODE, "--category", "suggestion"], "转办中", "answer（答复）"),
    ("transferred", ["reject", CODE, "--reason", "incomplete"], "转办中", "return（退回）"),
    ("transferred", ["escalate", CODE, "--leader", "qz"], "转办中", "extend（申请延期）"),
    ("transferred", ["withhold", CODE, "--reason", "privacy"], "转办中", "answer（答复）"),
    ("transferred", ["grant", CODE], "转办中", "extend（申请延期）"),
]


@pytest.mark.parametrize(("fixture", "args", "state", "possible"), WRONG_STATE,
                         ids=[f"{w[1][0]}-on-{w[0]}" for w in WRONG_STATE])
def test_step_in_wrong_state_is_refused(request: pytest.FixtureRequest, fixture: str, args: list[str],
                                        state: str, possible: str) -> None:
    repo: Repo = request.getfixturevalue(fixture)
    message = refused(repo, *args, "--at", at(20, 9), words=[CODE, f"当前状态为“{state}”", "现在可以执行：",
                                                           possible])
    assert "Traceback" not in message


WRONG_ARGS = [
    (["transfer", CODE, "--unit", "nosuch"], ["nosuch", "letterbox units"]),
    (["transfer", CODE, "--unit", "zjj", "--unit", "nosuch"], ["nosuch"]),
    (["escalate", CODE, "--leader", "市长"], ["市长", "qz（区长）"]),
    (["reply", CODE, "--text", "   "], ["回复内容不能为空"]),
    (["reject", CODE, "--reason", "duplicate"], ["--of"]),
]


@pytest.mark.parametrize(("args", "words"), WRONG_ARGS, ids=[" ".join(a[0:1] + a[2:4]) for a, _ in WRONG_ARGS])
def test_wrong_arguments_are_refused_with_state(classified: Repo, args: list[str], words: list[str]) -> None:
    refused(classified, *args, words=[*words, "当前状态为“已分类”", "现在可以执行：", "transfer（转办）"])


def test_reply_without_text(classified: Repo) -> None:
    # checked by the command line before the letter is read, so the state is not named
    refused(classified, "reply", CODE, words=["--file", "--text"])


def test_wrong_arguments_on_transferred_letter(transferred: Repo) -> None:
    refused(transferred, "extend", CODE, "--days", "0", "--reason", "x",
            words=["延期天数应为正整数", "当前状态为“转办中”"])
    refused(transferred, "extend", CODE, "--days", "2", "--reason", " ", words=["延期理由不能为空"])
    refused(transferred, "answer", CODE, "--text", "已办", "--head", "陈局长", "--unit", "cgj",
            words=["当前承办单位是 zjj", "当前状态为“转办中”"])
    refused(transferred, "answer", CODE, "--text", "已办", "--head", " ", words=["审核负责人"])
    refused(transferred, "return", CODE, "--reason", "x", "--unit", "nosuch", words=["nosuch"])


def test_unknown_letter(case_repo: Repo) -> None:
    refused(case_repo, "classify", "LA-2026-00042", "--category", "complaint",
            words=["找不到信件 LA-2026-00042"])
    refused(case_repo, "show", "LA-2026-00042", words=["找不到信件 LA-2026-00042"])


def test_refusal_with_dirty_working_tree_keeps_other_edits(letter: Repo) -> None:
    """Staff half-way through a hand edit: a refused command must not touch it."""
    notes = letter.path / "notes.txt"
    notes.write_text("草稿\n", "utf-8")
    letter.git("add", "notes.txt")
    path = letter.letter_file(CODE)
    path.write_text(path.read_text("utf-8") + "# 手工备注\n", "utf-8")
    refused(letter, "approve", CODE, words=["当前状态为“已收到”"])


# -- reading ---------------------------------------------------------------------------------


def test_list_filters(transferred: Repo) -> None:
    second = transferred.new_letter(2, submitted_at="2026-04-01T08:00:00+08:00")
    rows = transferred.json("list")
    assert [r["letter_code"] for r in rows] == [CODE, second]
    assert [r["letter_code"] for r in transferred.json("list", "--status", "transferred")] == [CODE]
    assert [r["letter_code"] for r in transferred.json("list", "--status", "received")] == [second]
    assert [r["letter_code"] for r in transferred.json("list", "--unit", "区住房和城乡建设局")] == [CODE]
    assert [r["letter_code"] for r in transferred.json("list", "--category", "complaint")] == [CODE]
    assert [r["letter_code"] for r in transferred.json("list", "--month", "2026-04")] == [second]
    assert transferred.json("list", "--unit", "cgj") == []


def test_follow_ups_show_the_link_both_ways(letter: Repo) -> None:
    second = letter.new_letter(2, follows_up=CODE)
    third = letter.new_letter(3, follows_up=CODE)
    assert letter.show(CODE)["followed_by"] == [second, third]
    assert letter.show(second)["follows_up"] == CODE
    assert letter.show(second)["followed_by"] == []
    text = letter.run("show", CODE).stdout
    assert second in text and third in text
    assert CODE in letter.run("show", second).stdout


def test_step_commits_only_its_letter_and_keeps_staged_work(letter: Repo) -> None:
    notes = letter.path / "notes.txt"
    notes.write_text("草稿\n", "utf-8")
    letter.git("add", "notes.txt")
    letter.run("classify", CODE, "--category", "complaint", "--at", at(2, 10))
    assert letter.git("show", "--name-only", "--format=", "HEAD").split() == [f"cases/2026/03/{CODE}.yaml"]
    assert porcelain(letter.path) == "A  notes.txt\n"
    assert notes.read_text("utf-8") == "草稿\n"


def test_petition_case_extends_once_by_at_most_30_days(classified: Repo) -> None:
    step(classified, "transfer", CODE, "--unit", "zjj", "--unit", "cgj", when=at(2, 11))
    assert classified.show(CODE)["deadline"] == "2026-05-06"  # 5/1 is Labour Day: rolled forward
    refused(classified, "extend", CODE, "--days", "31", "--reason", "涉及多个部门", "--at", at(20, 9),
            words=["信访件延期不得超过 30 日", "当前状态为“转办中”"])
    step(classified, "extend", CODE, "--days", "30", "--reason", "涉及多个部门", when=at(20, 9))
    step(classified, "grant", CODE, when=at(20, 10))
    assert classified.show(CODE)["deadline"] == "2026-06-01"  # 5/1 + 30 = Sunday 5/31: rolled forward
    refused(classified, "extend", CODE, "--days", "5", "--reason", "还要时间", "--at", at(21, 9),
            words=["信访件只能延期一次"])


def test_reopen_after_unsatisfied_feedback(case_repo) -> None:  # noqa: ANN001
    """A 不满意 rating puts a closed letter on the reopen list; `reopen` sends it back to the
    unit with a fresh clock, takes it off the list, and allows a new rating later."""
    from letterbox.core.clock import work_calendar
    from letterbox.ops.workflow import take_step
    from letterbox.reports.reopen import reopen_list as reopen_rows
    from letterbox.store.repository import Actor, Repository

    def reopen_list(store: Repository) -> list[dict]:
        return reopen_rows(store.letters(), store.config, work_calendar(store.root))

    repo = case_repo
    code = repo.new_letter()
    for args in (["classify", code, "--category", "complaint", "--at", "2026-03-02T10:00:00+08:00"],
                 ["transfer", code, "--unit", "zjj", "--at", "2026-03-02T11:00:00+08:00"],
                 ["answer", code, "--text", "已处理。", "--head", "李局长", "--at", "2026-03-03T09:00:00+08:00"],
                 ["approve", code, "--at", "2026-03-03T15:00:00+08:00"]):
        repo.run(*args)
    store = Repository(repo.path)
    take_step(store, code, "feedback", {"rating": "不满意"}, Actor("来信人"), at="2026-03-05T09:00:00+08:00")
    assert [r["letter_code"] for r in reopen_list(store)] == [code]
    repo.run("reopen", code, "--reason", "来信人不满意，退回重办", "--at", "2026-03-05T10:00:00+08:00")
    shown = repo.show(code)
    assert shown["status"] == "transferred" and shown["units"] == ["zjj"]
    assert shown["deadline"] == "2026-03-10"
    assert reopen_list(Repository(repo.path)) == []
    repo.run("answer", code, "--text", "已再次处理。", "--head", "李局长", "--at", "2026-03-06T09:00:00+08:00")
    repo.run("approve", code, "--at", "2026-03-06T15:00:00+08:00")
    take_step(Repository(repo.path), code, "feedback", {"rating": "满意"}, Actor("来信人"),
              at="2026-03-07T09:00:00+08:00")


def test_brackets_in_a_message_are_shown_as_typed(case_repo: Repo) -> None:
    """An error message is text, not console markup: square brackets in what staff typed (or in
    a message such as pip install 'quzhang-xinxiang[pdf]') are printed, not eaten as styles."""
    refused(case_repo, "show", "LA-[bold]2026[/]", words=["找不到信件 LA-[bold]2026[/]"])
