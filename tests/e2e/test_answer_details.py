"""Articles 12 and 15 in detail (issue 18, point 6): the answer's time frame and the record of
explaining an unsolved problem to the writer (how, when, by whom); a named handler (专人) per
unit per letter; returns and send-backs per unit in the supervision report; risk flags in
`deadlines`, `show` and the staff's lookup. Real repositories, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import Repo, make_case_repo, refused, snapshot, ssh_key
from tests.e2e.test_roster import KEYS, Signed, stamp

CODE = "LA-2026-00001"


def at(day: int, hour: int, minute: int = 0) -> str:
    return f"2026-03-{day:02d}T{hour:02d}:{minute:02d}:00+08:00"


@pytest.fixture
def transferred(case_repo: Repo) -> Repo:
    """A complaint transferred to 区住建局 (zjj) with 区城管局 (cgj) co-handling, Monday 2026-03-02."""
    assert case_repo.new_letter(1) == CODE
    case_repo.run("classify", CODE, "--category", "complaint", "--at", at(2, 10))
    case_repo.run("transfer", CODE, "--unit", "zjj", "--co", "cgj", "--at", at(2, 11))
    return case_repo


# -- (a) the time frame and the contact record ---------------------------------------------------

def test_answer_records_time_frame_and_contact(transferred: Repo) -> None:
    repo = transferred
    repo.run("answer", CODE, "--text", "已列入维修计划。", "--head", "李局长", "--at", at(4, 15),
             "--timeframe", "2027年3月底前完成维修", "--contact-by", "电话",
             "--contact-at", "2026-03-04T10:00", "--contact-person", "张科长")
    details = repo.letter(CODE)["history"][-1]["details"]
    assert details["timeframe"] == "2027年3月底前完成维修"
    assert details["contact"] == {"by": "电话", "at": "2026-03-04T10:00:00+08:00", "person": "张科长"}
    assert "contacted" not in details
    repo.run("validate")


def test_contact_time_defaults_to_the_answer(transferred: Repo) -> None:
    transferred.run("answer", CODE, "--text", "已解释。", "--head", "李局长", "--at", at(4, 15),
                    "--contact-by", "面谈", "--contact-person", "王干事")
    assert transferred.letter(CODE)["history"][-1]["details"]["contact"]["at"] == at(4, 15)


def test_old_contacted_flag_still_accepted(transferred: Repo) -> None:
    transferred.run("answer", CODE, "--text", "已解释。", "--head", "李局长", "--contacted", "--at", at(4, 15))
    assert transferred.letter(CODE)["history"][-1]["details"]["contacted"] is True
    transferred.run("validate")


def test_hand_written_old_contacted_true_stays_valid(transferred: Repo) -> None:
    repo = transferred
    repo.run("answer", CODE, "--text", "已解释。", "--head", "李局长", "--at", at(4, 15))
    path = repo.letter_file(CODE)
    data = yaml.safe_load(path.read_text("utf-8"))
    data["history"][-1]["details"]["contacted"] = True
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    repo.run("validate")


def test_contact_in_the_future_refused(transferred: Repo) -> None:
    refused(transferred, "answer", CODE, "--text", "已解释。", "--head", "李局长", "--at", at(4, 15),
            "--contact-by", "电话", "--contact-at", "2026-03-05T09:00", "--contact-person", "张科长",
            words=["沟通时间", "晚于答复时间"])


def test_contact_without_person_refused(transferred: Repo) -> None:
    refused(transferred, "answer", CODE, "--text", "已解释。", "--head", "李局长", "--at", at(4, 15),
            "--contact-by", "电话", words=["--contact-person"])


def test_contact_way_from_the_list(transferred: Repo) -> None:
    result = transferred.run("answer", CODE, "--text", "已解释。", "--head", "李局长", "--at", at(4, 15),
                             "--contact-by", "飞鸽", "--contact-person", "张科长", expect=2)
    assert "--contact-by" in result.stderr


@pytest.mark.parametrize("bad", ["\x07\x08", "年底前\n完成", "\t"])
def test_timeframe_of_control_characters_refused(transferred: Repo, bad: str) -> None:
    refused(transferred, "answer", CODE, "--text", "已解释。", "--head", "李局长", "--at", at(4, 15),
            "--timeframe", bad, words=["解决时限"])


def test_hand_written_future_contact_and_control_characters_are_found(transferred: Repo) -> None:
    repo = transferred
    repo.run("answer", CODE, "--text", "已解释。", "--head", "李局长", "--at", at(4, 15),
             "--contact-by", "电话", "--contact-person", "张科长", "--timeframe", "年内")
    path = repo.letter_file(CODE)
    data = yaml.safe_load(path.read_text("utf-8"))
    data["history"][-1]["details"]["contact"]["at"] = at(6, 9)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    result = repo.run("validate", expect=1)
    assert "沟通时间晚于" in result.stdout + result.stderr
    data["history"][-1]["details"]["contact"]["at"] = at(4, 9)
    data["history"][-1]["details"]["timeframe"] = "年内\x1b"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    result = repo.run("validate", expect=1)
    assert "timeframe" in result.stdout + result.stderr


# -- (b) a named handler per unit per letter -----------------------------------------------------

def test_each_handling_unit_names_its_handler(transferred: Repo) -> None:
    repo = transferred
    repo.run("assign-handler", CODE, "--unit", "zjj", "--handler", "李明", "--at", at(2, 14))
    repo.run("assign-handler", CODE, "--unit", "cgj", "--handler", "周红", "--at", at(2, 15))
    events = [e for e in repo.letter(CODE)["history"] if e["action"] == "assign-handler"]
    assert [e["details"] for e in events] == [{"unit": "zjj", "handler": "李明"}, {"unit": "cgj", "handler": "周红"}]
    assert repo.git("log", "-1", "--format=%s").strip() == f"{CODE} 登记经办人 区城市管理局"
    assert repo.letter(CODE)["status"] == "transferred"
    repo.run("validate")


def test_handler_for_another_units_letter_refused(transferred: Repo) -> None:
    refused(transferred, "assign-handler", CODE, "--unit", "zzl", "--handler", "李明", "--at", at(2, 14),
            words=["登记经办人", "不是"])


def test_handler_before_transfer_refused(case_repo: Repo) -> None:
    case_repo.new_letter(1)
    case_repo.run("classify", CODE, "--category", "complaint", "--at", at(2, 10))
    refused(case_repo, "assign-handler", CODE, "--unit", "zjj", "--handler", "李明", "--at", at(2, 14),
            words=["登记经办人"])


def test_handler_of_control_characters_refused(transferred: Repo) -> None:
    refused(transferred, "assign-handler", CODE, "--unit", "zjj", "--handler", "李\n明", "--at", at(2, 14),
            words=["经办人", "控制字符"])


def test_assign_handler_json(transferred: Repo) -> None:
    result = transferred.run("assign-handler", CODE, "--unit", "zjj", "--handler", "李明", "--at", at(2, 14),
                             "--json")
    assert json.loads(result.stdout)["action"] == "assign-handler"


# -- (c) returns and send-backs per unit in the supervision report --------------------------------

def test_report_counts_returns_and_send_backs_per_unit(case_repo: Repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo = case_repo
    first, second = repo.new_letter(1), repo.new_letter(2)
    for code in (first, second):
        repo.run("classify", code, "--category", "complaint", "--at", at(2, 10))
    # first: 城管局 hands it back twice (after a second transfer), then 住建局 answers, sent back once
    repo.run("transfer", first, "--unit", "cgj", "--at", at(2, 11))
    repo.run("return", first, "--reason", "不属本局职责", "--at", at(3, 9))
    repo.run("transfer", first, "--unit", "cgj", "--at", at(3, 10))
    repo.run("return", first, "--reason", "仍不属本局职责", "--at", at(3, 11))
    repo.run("transfer", first, "--unit", "zjj", "--at", at(3, 14))
    repo.run("answer", first, "--text", "已处理。", "--head", "李局长", "--at", at(4, 9))
    repo.run("send-back", first, "--reason", "答复过于简单", "--at", at(4, 10))
    # second: 住建局 answer sent back; one return in April is not March's
    repo.run("transfer", second, "--unit", "zjj", "--at", at(2, 11))
    repo.run("answer", second, "--text", "已处理。", "--head", "李局长", "--at", at(4, 11))
    repo.run("send-back", second, "--reason", "未写时限", "--at", at(4, 12))
    repo.run("return", second, "--reason", "不属本局职责", "--at", "2026-04-01T09:00:00+08:00")
    data = json.loads(repo.run("report", "--month", "2026-03", "--format", "json", "--today", "2026-04-15").stdout)
    units = {u["unit"]: u for u in data["units"]}
    assert (units["cgj"]["returns"], units["cgj"]["send_backs"]) == (2, 0)
    assert units["cgj"]["returned_letters"] == [first, first]
    assert (units["zjj"]["returns"], units["zjj"]["send_backs"]) == (0, 2)
    assert sorted(units["zjj"]["sent_back_letters"]) == sorted([first, second])
    april = json.loads(repo.run("report", "--month", "2026-04", "--format", "json", "--today", "2026-04-15").stdout)
    assert {u["unit"]: u["returns"] for u in april["units"]}.get("zjj") == 1
    text = repo.run("report", "--month", "2026-03", "--today", "2026-04-15").stdout
    assert "退回与退回重办" in text
    assert "| 区城市管理局 | 2 | 0 |" in text
    assert "| 区住房和城乡建设局 | 0 | 2 |" in text
    target = tmp_path / "r.html"
    repo.run("report", "--month", "2026-03", "--format", "html", "--out", str(target), "--today", "2026-04-15")
    html = target.read_text("utf-8")
    assert '<table class="handbacks">' in html and "退回重办（答复未通过审核）" in html


def test_report_without_handbacks_says_so(transferred: Repo) -> None:
    text = transferred.run("report", "--month", "2026-03", "--today", "2026-04-15").stdout
    assert "本月没有承办单位退回信件，也没有答复被退回重办。" in text


# -- (d) risk flags in deadlines, show and the staff's lookup -------------------------------------

def test_risk_flags_in_deadlines_show_and_staff_lookup(case_repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = case_repo
    from tests.conftest import submission

    flagged_code, query = (lambda a: (a["letter_code"], a["query_code"]))(
        repo.intake(submission(1), name="one-1.json")[0])
    quiet = repo.new_letter(2)
    for code in (flagged_code, quiet):
        repo.run("classify", code, "--category", "complaint", "--at", at(2, 10))
        repo.run("transfer", code, "--unit", "zjj", "--at", at(2, 11))
    repo.run("flag-risk", flagged_code, "--note", "二十余户居民拟集体上访", "--at", at(3, 9))
    repo.run("flag-risk", flagged_code, "--note", "已有居民在小区门口聚集", "--at", at(4, 9))
    # deadlines --json: a field per row, as of the day asked (the second flag is after 03-03)
    rows = {r["letter_code"]: r for r in json.loads(
        repo.run("deadlines", "--json", "--fail-on", "never", "--today", "2026-03-03").stdout)}
    assert (rows[flagged_code]["risk_flags"], rows[quiet]["risk_flags"]) == (1, 0)
    rows = {r["letter_code"]: r for r in json.loads(
        repo.run("deadlines", "--json", "--fail-on", "never", "--today", "2026-03-04").stdout)}
    assert rows[flagged_code]["risk_flags"] == 2
    # the table: the flagged letter's row says so, the other's does not
    table = repo.run("deadlines", "--fail-on", "never", "--today", "2026-03-04").stdout
    lines = {c: next(line for line in table.splitlines() if c in line) for c in (flagged_code, quiet)}
    assert "风险预警 2 次" in lines[flagged_code] and "风险预警" not in lines[quiet]
    # show: the flags with their notes, in text and JSON
    text = repo.run("show", flagged_code).stdout
    assert "风险预警" in text and "已有居民在小区门口聚集" in text
    assert "风险预警（办法" not in repo.run("show", quiet).stdout
    assert [f["note"] for f in repo.show(flagged_code)["risk_flags"]] == ["二十余户居民拟集体上访", "已有居民在小区门口聚集"]
    # the staff's lookup (run in the case repository) lists them; the public index does not hold them
    repo.run("build")
    site = repo.path / "site"
    staff = repo.run("lookup", flagged_code, query, "--site", str(site)).stdout
    assert "风险预警（仅工作人员可见）" in staff and "二十余户居民拟集体上访" in staff
    staff_json = json.loads(repo.run("lookup", flagged_code, query, "--site", str(site), "--json").stdout)
    assert [f["note"] for f in staff_json["risk_flags"]][0] == "二十余户居民拟集体上访"
    from site_builder import lookup_index

    public = lookup_index.lookup(site, flagged_code, query)
    assert public is not None and "risk_flags" not in public
    assert "集体上访" not in json.dumps(public, ensure_ascii=False)
    # another case repository with a letter of the same code (its own query code): nothing of it shown
    other = make_case_repo(repo.path.parent / "other", monkeypatch)
    assert other.new_letter(1) == flagged_code
    other.run("classify", flagged_code, "--category", "complaint", "--at", at(2, 10))
    other.run("flag-risk", flagged_code, "--note", "另一库的预警", "--at", at(3, 9))
    elsewhere = other.run("lookup", flagged_code, query, "--site", str(site)).stdout
    assert "办理状态" in elsewhere and "风险预警" not in elsewhere
    assert "risk_flags" not in json.loads(other.run("lookup", flagged_code, query, "--site", str(site),
                                                    "--json").stdout)


# -- with a roster: the unit signs for itself ------------------------------------------------------

@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    return {name: ssh_key(folder, name) for name in KEYS}


def test_roster_handler_by_the_units_own_member(tmp_path, monkeypatch, keys) -> None:  # type: ignore[no-untyped-def]
    signed = Signed(make_case_repo(tmp_path, monkeypatch), keys, monkeypatch)
    repo = signed.repo
    # the letter zzl holds: its member names the handler, no --unit needed
    signed.as_("unit", lambda: repo.run("assign-handler", signed.code, "--handler", "李明"))
    assert repo.letter(signed.code)["history"][-1]["details"] == {"unit": "zzl", "handler": "李明"}
    # a letter of 区住建局 (zjj): zzl's member may not name its handler, for zjj or for zzl
    other = signed.as_("intake", lambda: repo.new_letter(2))
    repo.run("classify", other, "--category", "complaint")
    repo.run("transfer", other, "--unit", "zjj")
    for unit in ("zjj", "zzl"):
        before = snapshot(repo.path)
        result = signed.as_("unit", lambda u=unit: repo.run("assign-handler", other, "--unit", u,
                                                            "--handler", "李明", expect=1))
        assert snapshot(repo.path) == before
        assert "登记经办人" in result.stderr, result.stderr
    # as a co-handling unit it names its own handler
    third = signed.as_("intake", lambda: repo.new_letter(3))
    repo.run("classify", third, "--category", "complaint")
    repo.run("transfer", third, "--unit", "zjj", "--co", "zzl")
    signed.as_("unit", lambda: repo.run("assign-handler", third, "--handler", "周红"))
    assert repo.letter(third)["history"][-1]["details"] == {"unit": "zzl", "handler": "周红"}
    assert signed.check()[0] == 0
    # a hand-made event naming another unit, signed by zzl's member: check refuses it
    signed.append_event(third, {"at": stamp(), "actor": "中州路 李强", "action": "assign-handler",
                                "details": {"unit": "zjj", "handler": "王五"}})
    signed.hand_commit("unit")
    code, text = signed.check()
    assert code == 1 and "不能代" in text
