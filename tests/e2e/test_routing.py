"""Routing (issue 18, point 4): a leader's instruction keeps the letter's nature (joint handling
with a lead unit 主办 and co-handlers 协办 instead of a petition case), only the leader escalated
to (or one the office records as standing in) may instruct, `escalate --proposal`, and the
《来信办理单》 written again with the instruction and the result. Real repositories, the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import Repo, make_case_repo, refused, ssh_key
from tests.e2e.test_roster import Signed, stamp

CODE = "LA-2026-00001"
FORM = f"forms/2026/{CODE}.html"


def at(day: int, hour: int, minute: int = 0) -> str:
    return f"2026-03-{day:02d}T{hour:02d}:{minute:02d}:00+08:00"


def form(repo: Repo) -> str:
    return (repo.path / FORM).read_text("utf-8")


@pytest.fixture
def escalated(case_repo: Repo) -> Repo:
    """A 建言献策 suggestion escalated to the district head (区长, qz) on Monday 2026-03-02."""
    assert case_repo.new_letter(1) == CODE
    case_repo.run("classify", CODE, "--category", "suggestion", "--at", at(2, 10))
    case_repo.run("escalate", CODE, "--leader", "qz", "--at", at(2, 11),
                  "--proposal", "建议呈请区长阅示，由区住建局牵头研究。")
    return case_repo


# -- the instruction keeps the letter's nature --------------------------------------------------

def test_instruction_naming_two_units_is_joint_handling_not_a_petition_case(escalated: Repo) -> None:
    repo = escalated
    repo.run("instruct", CODE, "--leader", "qz", "--text", "请住建局牵头、城管局配合，尽快研究答复。",
             "--unit", "zjj", "--unit", "cgj", "--at", at(3, 9))
    data = repo.letter(CODE)
    assert (data["status"], data["category"], data["units"], data["mode"]) == (
        "transferred", "suggestion", ["zjj"], "ordinary")
    assert data["history"][-1]["details"]["coordinating"] == ["cgj"]
    assert repo.git("log", "-1", "--format=%s").strip() == (
        f"{CODE} 领导批示 主办 区住房和城乡建设局，协办 区城市管理局（一般问题）")
    # the letter's own limit: 3 working days from Tuesday 03-03, not 60 days at the petition bureau
    assert repo.show(CODE)["deadline"] == "2026-03-06"
    # the co-handler does not answer; the lead unit does
    refused(repo, "answer", CODE, "--unit", "cgj", "--text", "已研究", "--head", "陈局长", "--at", at(4, 9),
            words=["区城市管理局 是协办单位", "由主办单位办理"])
    repo.run("answer", CODE, "--unit", "zjj", "--text", "已会同城管局研究，年内增设。", "--head", "李局长",
             "--at", at(4, 10))
    repo.run("approve", CODE, "--at", at(4, 11))
    assert repo.letter(CODE)["status"] == "closed"
    # the history's answer row: one sentence end, not "。；"
    history = repo.run("show", CODE).stdout
    assert "答复内容：已会同城管局研究，年内增设；" in "".join(history.split()) and "。；" not in history
    repo.run("validate")


def test_complex_instruction_and_co_option(escalated: Repo) -> None:
    escalated.run("instruct", CODE, "--leader", "qz", "--text", "请研究", "--unit", "zjj", "--co", "cgj",
                  "--co", "zzl", "--complex", "--at", at(3, 9))
    data = escalated.letter(CODE)
    assert (data["units"], data["mode"]) == (["zjj"], "complex")
    assert data["history"][-1]["details"]["coordinating"] == ["cgj", "zzl"]
    # show names the co-handlers beside the lead unit (staff read the header, not only the history)
    head = escalated.run("show", CODE).stdout.splitlines()[1]
    assert "承办单位：区住房和城乡建设局（较复杂问题）    协办单位：区城市管理局、中州路街道办事处" in head
    assert escalated.show(CODE)["co_unit_names"] == ["区城市管理局", "中州路街道办事处"]


def test_instruction_to_the_petition_bureau_is_a_petition_case(escalated: Repo) -> None:
    escalated.run("instruct", CODE, "--leader", "qz", "--text", "请信访局牵头协调住建局办理",
                  "--unit", "xfj", "--unit", "zjj", "--at", at(3, 9))
    data = escalated.letter(CODE)
    assert (data["units"], data["mode"]) == (["xfj"], "petition")
    assert data["history"][-1]["details"]["coordinating"] == ["zjj"]


def test_office_transfer_joint_or_article_9(case_repo: Repo) -> None:
    repo = case_repo
    repo.new_letter(1)
    second = repo.new_letter(2)
    for code in (CODE, second):
        repo.run("classify", code, "--category", "complaint", "--at", at(2, 10))
    # a lead unit and a co-handler: joint handling, the letter's own limit
    repo.run("transfer", CODE, "--unit", "zjj", "--co", "cgj", "--at", at(2, 11))
    data = repo.letter(CODE)
    assert (data["units"], data["mode"]) == (["zjj"], "ordinary")
    assert data["history"][-1]["details"] == {"units": ["zjj"], "mode": "ordinary", "coordinating": ["cgj"]}
    # several units and no lead: article 9, the petition bureau
    repo.run("transfer", second, "--unit", "zjj", "--unit", "cgj", "--at", at(2, 11))
    assert (repo.letter(second)["units"], repo.letter(second)["mode"]) == (["xfj"], "petition")
    repo.run("validate")


@pytest.mark.parametrize(("args", "words"), [
    (["--unit", "zjj", "--unit", "zzl", "--co", "cgj"], ["只能有一个主办单位"]),
    (["--unit", "zjj", "--co", "zjj"], ["协办单位与主办单位相同"]),
    (["--unit", "zjj", "--co", "no-such-unit"], ["no-such-unit"]),
])
def test_transfer_joint_refusals(case_repo: Repo, args: list[str], words: list[str]) -> None:
    case_repo.new_letter(1)
    case_repo.run("classify", CODE, "--category", "complaint", "--at", at(2, 10))
    refused(case_repo, "transfer", CODE, *args, "--at", at(2, 11), words=[*words, "现在可以执行"])


# -- who may instruct ---------------------------------------------------------------------------

def test_only_the_leader_escalated_to_or_a_recorded_stand_in_instructs(escalated: Repo) -> None:
    repo = escalated
    refused(repo, "instruct", CODE, "--leader", "cwfqz", "--text", "请办理", "--unit", "zjj", "--at", at(3, 9),
            words=["呈送的领导不是常务副区长", "区长", "letterbox stand-in"])
    # stand-in: only while escalated, a reason, not the leader who may already instruct
    refused(repo, "stand-in", CODE, "--leader", "qz", "--reason", "外出", "--at", at(3, 9),
            words=["区长 已可批示这封信"])
    refused(repo, "stand-in", CODE, "--leader", "cwfqz", "--reason", " ", "--at", at(3, 9),
            words=["代批理由"])
    repo.run("stand-in", CODE, "--leader", "cwfqz", "--reason", "区长外出学习，由常务副区长代批。", "--at", at(3, 9))
    assert repo.letter(CODE)["status"] == "escalated"
    assert "由常务副区长代为批示" in form(repo)
    repo.run("instruct", CODE, "--leader", "cwfqz", "--text", "请住建局办理", "--unit", "zjj", "--at", at(3, 10))
    assert repo.letter(CODE)["history"][-1]["details"]["leader"] == "cwfqz"
    repo.run("validate")


def test_stand_in_refused_when_not_escalated(case_repo: Repo) -> None:
    case_repo.new_letter(1)
    case_repo.run("classify", CODE, "--category", "complaint", "--at", at(2, 10))
    refused(case_repo, "stand-in", CODE, "--leader", "cwfqz", "--reason", "外出", "--at", at(2, 11),
            words=["不能执行“登记代批领导”"])


def test_hand_made_instruction_by_another_leader_fails_validate(escalated: Repo) -> None:
    repo = escalated
    path = repo.letter_file(CODE)
    data = yaml.safe_load(path.read_text("utf-8"))
    data["history"].append({"at": at(3, 9), "actor": "王五", "action": "instruct",
                            "details": {"leader": "fqz-ny", "text": "请办理", "units": ["zjj"], "mode": "ordinary"}})
    data.update(status="transferred", units=["zjj"], mode="ordinary")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    result = repo.run("validate", expect=1)
    assert "批示领导 fqz-ny 不是这封信呈送的领导（qz）" in result.stdout + result.stderr


# -- the proposal and the form --------------------------------------------------------------------

def test_proposal_and_form_written_again_with_instruction_and_result(escalated: Repo) -> None:
    repo = escalated
    details = repo.letter(CODE)["history"][-1]["details"]
    assert details == {"leader": "qz", "form": FORM, "proposal": "建议呈请区长阅示，由区住建局牵头研究。"}
    assert "建议呈请区长阅示，由区住建局牵头研究。" in form(repo) and "呈请区长阅示。" not in form(repo)
    repo.run("instruct", CODE, "--leader", "qz", "--text", "同意，请住建局牵头办理。", "--unit", "zjj",
             "--unit", "cgj", "--at", at(3, 9))
    assert FORM in repo.git("show", "--name-only", "--format=", "HEAD").split()
    text = form(repo)
    assert "同意，请住建局牵头办理。" in text and "主办：区住房和城乡建设局；协办：区城市管理局；一般问题" in text
    repo.run("answer", CODE, "--text", "已研究，年内增设。", "--head", "李局长", "--at", at(4, 9))
    assert "区住房和城乡建设局答复（审核：李局长）：已研究，年内增设。" in form(repo)
    repo.run("approve", CODE, "--at", at(4, 10))
    assert "审核通过，办结" in form(repo)
    assert FORM in repo.git("show", "--name-only", "--format=", "HEAD").split()
    # a step outside the form's round (a reminder before, publishing after) leaves it alone
    repo.run("publish", CODE, "--at", at(4, 11))
    assert repo.git("show", "--name-only", "--format=", "HEAD").split() == [f"cases/2026/03/{CODE}.yaml"]
    repo.run("validate")


def test_default_proposal_and_empty_proposal_refused(case_repo: Repo) -> None:
    case_repo.new_letter(1)
    case_repo.run("classify", CODE, "--category", "suggestion", "--at", at(2, 10))
    refused(case_repo, "escalate", CODE, "--leader", "qz", "--proposal", "  ", "--at", at(2, 11),
            words=["拟办意见（--proposal）不能为空"])
    case_repo.run("escalate", CODE, "--leader", "qz", "--at", at(2, 11))
    assert "呈请区长阅示。" in form(case_repo)
    assert "proposal" not in case_repo.letter(CODE)["history"][-1]["details"]


# -- roster-signed: the command and check --base --------------------------------------------------

KEYS = ("office", "unit", "leader", "intake", "deputy", "cgj")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("routing-keys")
    return {name: ssh_key(folder, name) for name in KEYS}


@pytest.fixture
def signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: dict[str, Path]) -> Signed:
    """The roster of test_roster (office, zzl unit, 区长 qz, intake) plus 常务副区长 (cwfqz) and a
    城管局 (cgj) member; a second letter escalated to 区长 is `signed.esc`."""
    s = Signed(make_case_repo(tmp_path, monkeypatch), keys, monkeypatch)
    s.repo.run("roster", "add", "--name", "常务副区长", "--role", "leader", "--leader", "cwfqz",
               "--key", f"{keys['deputy']}.pub")
    s.repo.run("roster", "add", "--name", "城管局 赵敏", "--role", "unit", "--unit", "cgj",
               "--key", f"{keys['cgj']}.pub")
    s.esc = s.as_("intake", lambda: s.repo.new_letter(2))  # type: ignore[attr-defined]
    s.repo.run("classify", s.esc, "--category", "suggestion")  # type: ignore[attr-defined]
    s.repo.run("escalate", s.esc, "--leader", "qz")  # type: ignore[attr-defined]
    s.base = s.repo.git("rev-parse", "HEAD").strip()
    return s


def test_signed_other_leader_refused_by_command_and_check(signed: Signed) -> None:
    code = signed.esc  # type: ignore[attr-defined]
    before = signed.repo.git("rev-parse", "HEAD")
    result = signed.as_("deputy", lambda: signed.repo.run("instruct", code, "--leader", "cwfqz", "--text", "请办理",
                                                          "--unit", "zzl", expect=1))
    assert "呈送的领导不是常务副区长" in result.stderr
    assert signed.repo.git("rev-parse", "HEAD") == before
    # by hand, signed by the other leader: check --base refuses it
    signed.append_event(code, {"at": stamp(), "actor": "常务副区长", "action": "instruct",
                               "details": {"leader": "cwfqz", "text": "请办理", "units": ["zzl"], "mode": "ordinary"}},
                        status="transferred", units=["zzl"], mode="ordinary")
    signed.hand_commit("deputy", "instruct by hand")
    status, text = signed.check()
    assert status == 1 and "不是这封信呈送的领导" in text


def test_signed_stand_in_then_deputy_instructs_and_check_passes(signed: Signed) -> None:
    code = signed.esc  # type: ignore[attr-defined]
    # a leader cannot record a stand-in: that is the office's step
    result = signed.as_("deputy", lambda: signed.repo.run("stand-in", code, "--leader", "cwfqz", "--reason", "代批",
                                                          expect=1))
    assert "只能由信箱办公室管理员或信箱办公室办理" in result.stderr
    signed.repo.run("stand-in", code, "--leader", "cwfqz", "--reason", "区长外出，由常务副区长代批。")
    signed.as_("deputy", lambda: signed.repo.run("instruct", code, "--leader", "cwfqz", "--text", "请中州路街道牵头办理",
                                                 "--unit", "zzl", "--unit", "cgj"))
    data = signed.repo.letter(code)
    assert (data["units"], data["mode"]) == (["zzl"], "ordinary")
    # the leader's own commit wrote the form again; check accepts it as the step wrote it
    assert FORM.replace("00001", code[-5:]) in signed.repo.git("show", "--name-only", "--format=", "HEAD").split()
    assert signed.check()[0] == 0, signed.check()[1]
    # the co-handler may not answer: by the command, and by hand
    result = signed.as_("cgj", lambda: signed.repo.run("answer", code, "--text", "已办", "--head", "赵局长", expect=1))
    assert "区城市管理局 是协办单位" in result.stderr
    signed.as_("unit", lambda: signed.repo.run("answer", code, "--text", "已会同城管局办理", "--head", "李主任"))
    assert signed.check()[0] == 0, signed.check()[1]


def test_signed_form_changed_by_hand_by_a_leader_refused(signed: Signed) -> None:
    code = signed.esc  # type: ignore[attr-defined]
    signed.as_("leader", lambda: signed.repo.run("instruct", code, "--leader", "qz", "--text", "请办理",
                                                 "--unit", "zzl"))
    assert signed.check()[0] == 0, signed.check()[1]
    path = signed.repo.path / FORM.replace("00001", code[-5:])
    path.write_text(path.read_text("utf-8").replace("请办理", "请从速办理"), "utf-8")
    signed.hand_commit("leader", "form edited by hand")
    status, text = signed.check()
    assert status == 1 and "来信办理单只能由" in text


def test_signed_co_handler_answer_by_hand_refused_by_check(signed: Signed) -> None:
    code = signed.esc  # type: ignore[attr-defined]
    signed.as_("leader", lambda: signed.repo.run("instruct", code, "--leader", "qz", "--text", "请办理",
                                                 "--unit", "zzl", "--co", "cgj"))
    signed.base = signed.repo.git("rev-parse", "HEAD").strip()
    signed.append_event(code, {"at": stamp(), "actor": "城管局 赵敏", "action": "answer",
                               "details": {"text": "已办", "head": "赵局长", "unit": "cgj"}}, status="answered")
    signed.hand_commit("cgj", "answer by the co-handler")
    status, text = signed.check()
    assert status == 1 and "是这封信的协办单位" in text
