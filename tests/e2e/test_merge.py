"""Issue 20, point 3: merged handling (合并办理). `letterbox merge CODE... --into CODE` groups
letters about one matter in one commit; the lead's handling steps are recorded in every member by
the same commit (one unit, one deadline, one answer to every writer); each writer's data stays in
its own file and each writer rates alone; `unmerge` undoes a mistaken merge; `check --base`
refuses hand edits that break a group. Real repositories through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from letterbox.core.clock import work_calendar
from letterbox.store.repository import Repository
from site_builder.lookup_index import payload_of
from tests.conftest import Repo, commit_count, head, make_case_repo, refused, submission
from tests.e2e.test_roster import Signed, keys  # noqa: F401 - `keys` is the roster tests' key fixture

WRITERS = [
    {"name": "赵卫东", "phone": "13937212345", "email": "zhaoweidong@example.com",
     "address": "龙安区文昌大道街道梧桐小区3号楼2单元"},
    {"name": "钱秀英", "phone": "13837254321", "email": "qianxiuying@example.com",
     "address": "龙安区文昌大道街道梧桐小区5号楼1单元"},
    {"name": "孙建国", "phone": "13637267890", "email": "sunjianguo@example.com",
     "address": "龙安区文昌大道街道梧桐小区7号楼3单元"},
]
TEXTS = [("梧桐小区电梯经常停运", "小区电梯经常停运，老人上下楼困难。"),
         ("楼里的电梯三天两头坏", "我们楼里的电梯三天两头坏，物业不管。"),
         ("梧桐小区电梯坏了没人修", "电梯坏了一个星期没人修。")]


def three(repo: Repo, day: str = "2026-03-02") -> list[str]:
    """Three letters about one lift, from three writers, received on ``day``."""
    codes = []
    for n, (writer, (title, body)) in enumerate(zip(WRITERS, TEXTS, strict=True), start=1):
        sub = submission(n, **writer, title=title, body=body, submitted_at=f"{day}T{n + 7:02d}:00:00+08:00")
        codes.append(repo.intake(sub, name=f"w{n}.json")[0]["letter_code"])
    return codes


def files_in(repo: Repo, sha: str) -> list[str]:
    return sorted(p for p in repo.git("show", "--name-only", "--format=", sha).splitlines() if p)


def payload(repo: Repo, code: str) -> dict[str, Any]:
    r = Repository(repo.path)
    return payload_of(r.letter(code), r.config, work_calendar(repo.path), True, repo.path)


def test_merge_is_one_commit_and_members_follow_the_lead_to_one_answer(case_repo: Repo) -> None:
    lead, b, c = three(case_repo)
    case_repo.run("classify", lead, "--category", "complaint", "--at", "2026-03-02T11:00:00+08:00")
    before = commit_count(case_repo.path)
    done = case_repo.json("merge", b, c, "--into", lead, "--at", "2026-03-02T11:30:00+08:00")
    assert done["letter_code"] == lead and done["members"] == [b, c]
    assert commit_count(case_repo.path) == before + 1
    assert files_in(case_repo, done["commit"]) == sorted(
        str(case_repo.letter_file(x).relative_to(case_repo.path)) for x in (lead, b, c))
    message = case_repo.git("log", "-1", "--format=%B")
    assert f"{lead} 合并办理：{b}、{c} 并入本信" in message
    for writer in WRITERS:  # no personal data in the commit message
        assert all(v not in message for v in writer.values())
    # the members take the lead's classification; the lead names its members
    assert case_repo.letter(b)["status"] == "classified" and case_repo.letter(b)["category"] == "complaint"
    assert case_repo.letter(b)["history"][-1]["details"] == {"into": lead, "category": "complaint"}
    assert case_repo.letter(lead)["history"][-1]["details"] == {"members": [b, c]}

    # every handling step on the lead: one commit, recorded in each member
    sha = case_repo.json("transfer", lead, "--unit", "cgj", "--at", "2026-03-02T14:00:00+08:00")["commit"]
    assert len(files_in(case_repo, sha)) == 3
    case_repo.run("extend", lead, "--days", "2", "--reason", "需更换曳引机", "--at", "2026-03-04T10:00:00+08:00")
    case_repo.run("grant", lead, "--days", "2", "--at", "2026-03-04T15:00:00+08:00")
    shows = {x: case_repo.show(x) for x in (lead, b, c)}
    assert {s["status"] for s in shows.values()} == {"transferred"}
    assert len({json.dumps(s["deadline"], sort_keys=True) for s in shows.values()}) == 1  # one deadline
    assert {tuple(s["units"]) for s in shows.values()} == {("cgj",)}  # one unit
    for member in (b, c):
        event = case_repo.letter(member)["history"][-1]
        assert event["lead"] == lead and event["action"] == "grant"
    case_repo.run("answer", lead, "--text", "已更换电梯曳引机并完成检测，电梯恢复运行。", "--head", "张局长",
                  "--at", "2026-03-06T10:00:00+08:00")
    case_repo.run("approve", lead, "--at", "2026-03-06T16:00:00+08:00")
    # one answer sent to every writer: each writer's own lookup and notice carry it
    for code in (lead, b, c):
        entry = payload(case_repo, code)
        assert entry["status"] == "closed" and entry["answered"] == "2026-03-06"
        assert "与反映同一事项的来信合并办理" in [label for _, label in entry["timeline"]]
        assert any("已更换电梯曳引机" in text for _, _, text in entry["notices"]), entry["notices"]
    # each writer's own data stays in its own file
    for code, writer in zip((lead, b, c), WRITERS, strict=True):
        text = case_repo.letter_file(code).read_text("utf-8")
        assert writer["name"] in text
        assert all(other["phone"] not in text for other in WRITERS if other is not writer)
    # each writer rates alone
    case_repo.run("feedback", b, "--by-phone", "--rating", "不满意", "--at", "2026-03-09T10:00:00+08:00")
    assert case_repo.letter(b)["history"][-1]["action"] == "phone-feedback"
    assert case_repo.letter(lead)["history"][-1]["action"] == "approve"
    case_repo.run("feedback", lead, "--by-phone", "--rating", "满意", "--at", "2026-03-09T11:00:00+08:00")
    assert case_repo.letter(c)["history"][-1]["action"] == "approve"
    case_repo.run("validate")


def test_refusals_leave_the_repository_as_it_was(case_repo: Repo) -> None:
    lead, b, c = three(case_repo)
    refused(case_repo, "merge", lead, "--into", lead, words=["不能把信件", "合并到它自己"])
    refused(case_repo, "merge", b, "--into", "LA-2026-09999", words=["找不到信件 LA-2026-09999"])
    refused(case_repo, "merge", "LA-2026-09998", "--into", lead, words=["找不到信件 LA-2026-09998"])
    case_repo.run("merge", b, "--into", lead)
    refused(case_repo, "merge", c, "--into", b, words=[f"{b} 已合并到 {lead} 办理，不能作为主信"])
    refused(case_repo, "merge", lead, "--into", b, words=["形成循环"])
    refused(case_repo, "merge", b, "--into", lead, words=[f"{b} 已经并入 {lead}"])
    # a member takes no handling step of its own
    refused(case_repo, "classify", b, "--category", "complaint", words=[f"已合并到 {lead} 办理", "unmerge"])
    # a closed letter is not merged, nor merged into
    d = case_repo.new_letter(9)
    case_repo.run("classify", d, "--category", "consultation")
    case_repo.run("reply", d, "--text", "请拨打 12345。")
    refused(case_repo, "merge", d, "--into", lead, words=[f"信件 {d}", "已办结", "不能合并办理"])
    refused(case_repo, "merge", c, "--into", d, words=[f"主信 {d}", "已办结", "不能再并入"])
    # an ongoing lead takes no new members (merging is decided at triage)
    case_repo.run("classify", lead, "--category", "complaint")
    case_repo.run("transfer", lead, "--unit", "cgj")
    refused(case_repo, "merge", c, "--into", lead, words=["转办中", "不能再并入"])
    refused(case_repo, "unmerge", c, "--reason", "误并", words=[f"信件 {c} 没有合并办理"])
    refused(case_repo, "unmerge", lead, "--reason", "误并", words=["是合并办理的主信", b])


def test_unmerge_lets_a_member_go_on_alone(case_repo: Repo) -> None:
    lead, b, c = three(case_repo)
    case_repo.run("merge", b, c, "--into", lead, "--at", "2026-03-02T11:00:00+08:00")
    case_repo.run("classify", lead, "--category", "complaint", "--at", "2026-03-02T12:00:00+08:00")
    case_repo.run("transfer", lead, "--unit", "cgj", "--at", "2026-03-02T14:00:00+08:00")
    before = commit_count(case_repo.path)
    sha = case_repo.json("unmerge", c, "--reason", "反映的是另一栋楼的电梯，不属同一事项",
                         "--at", "2026-03-03T09:00:00+08:00")["commit"]
    assert commit_count(case_repo.path) == before + 1 and len(files_in(case_repo, sha)) == 2
    assert "另一栋楼" not in case_repo.git("log", "-1", "--format=%B")  # the reason stays in the files
    assert case_repo.show(c)["status"] == "transferred"  # keeps where it stands
    case_repo.run("answer", lead, "--text", "已修复。", "--head", "张局长", "--at", "2026-03-03T10:00:00+08:00")
    assert case_repo.letter(b)["history"][-1]["action"] == "answer"
    assert case_repo.letter(c)["history"][-1]["action"] == "unmerge"
    case_repo.run("answer", c, "--text", "另一栋楼的电梯已报修。", "--head", "张局长",
                  "--at", "2026-03-03T11:00:00+08:00")
    assert case_repo.letter(lead)["history"][-1]["details"]["text"] == "已修复。"
    case_repo.run("validate")


def test_check_base_refuses_hand_edits_that_break_a_group(case_repo: Repo) -> None:
    lead, b, c = three(case_repo)
    case_repo.run("merge", b, c, "--into", lead, "--at", "2026-03-02T11:00:00+08:00")
    case_repo.run("classify", lead, "--category", "complaint", "--at", "2026-03-02T12:00:00+08:00")
    base = head(case_repo.path)
    case_repo.run("transfer", lead, "--unit", "cgj", "--at", "2026-03-02T14:00:00+08:00")
    assert case_repo.run("check", "--base", base).exit_code == 0  # the command's own commit passes

    def hand_edit(code: str, change: Any) -> Path:
        path = case_repo.letter_file(code)
        data = yaml.safe_load(path.read_text("utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
        return path

    start = head(case_repo.path)
    # a member steps on its own (no `lead`): refused by the process
    hand_edit(b, lambda d: d["history"].append(
        {"at": "2026-03-03T09:00:00+08:00", "actor": "某人", "action": "remind", "details": {}}) or None)
    case_repo.commit_all("Hand edit: a reminder on a member (allowed: not a handling step)")
    assert case_repo.run("check", "--base", start).exit_code == 0

    def own_answer(d: dict[str, Any]) -> None:
        d["history"].append({"at": "2026-03-03T10:00:00+08:00", "actor": "某人", "action": "answer",
                             "details": {"text": "单独答复", "head": "张局长", "unit": "cgj"}})
        d["status"] = "answered"

    hand_edit(b, own_answer)
    case_repo.commit_all("Hand edit: a member answered on its own")
    report = json.loads(case_repo.run("check", "--base", start, "--json", expect=1).stdout)
    assert any(f"已合并到 {lead} 办理" in p["message"] for p in report["problems"]), report
    case_repo.git("reset", "-q", "--hard", start)

    def mirrored_without_lead(d: dict[str, Any]) -> None:  # the lead answered, the member not told
        d["history"].append({"at": "2026-03-03T10:00:00+08:00", "actor": "某人", "action": "answer",
                             "details": {"text": "已修复。", "head": "张局长", "unit": "cgj"}})
        d["status"] = "answered"

    hand_edit(lead, mirrored_without_lead)
    case_repo.commit_all("Hand edit: the lead answered, members not")
    report = json.loads(case_repo.run("check", "--base", start, "--json", expect=1).stdout)
    messages = " ".join(p["message"] for p in report["problems"])
    assert f"随主信 {lead} 办理的记录少了 1 条" in messages, messages
    case_repo.git("reset", "-q", "--hard", start)

    hand_edit(lead, lambda d: d["history"].append(  # the lead drops a member, the member not told
        {"at": "2026-03-03T10:00:00+08:00", "actor": "某人", "action": "unmerge",
         "details": {"members": [c], "reason": "误并"}}) or None)
    case_repo.commit_all("Hand edit: one-sided unmerge")
    report = json.loads(case_repo.run("check", "--base", start, "--json", expect=1).stdout)
    assert any("合并办理的记录与" in p["message"] and c in p["message"] for p in report["problems"]), report


def test_show_names_the_group(case_repo: Repo) -> None:
    lead, b, c = three(case_repo)
    case_repo.run("merge", b, c, "--into", lead)
    case_repo.run("classify", lead, "--category", "complaint")
    shown = case_repo.run("show", b).stdout
    assert f"合并办理：已并入主信 {lead}，随主信办理" in shown
    assert f"分类（随主信 {lead} 办理）" in shown
    assert f"并入的来信 {b}、{c}（共 3 封）" in case_repo.run("show", lead).stdout
    view = case_repo.show(b)
    assert view["merged_into"] == lead and view["history"][-1]["lead"] == lead


def grouped_and_single(repo: Repo) -> tuple[list[str], list[str], str]:
    """A group of three writers answered on time in March 2026 (one answer), and another
    letter answered late; returns (codes, query codes, the single letter)."""
    accepted = []
    for n, (writer, (title, body)) in enumerate(zip(WRITERS, TEXTS, strict=True), start=1):
        sub = submission(n, **writer, title=title, body=body, submitted_at=f"2026-03-02T{n + 7:02d}:00:00+08:00")
        accepted.append(repo.intake(sub, name=f"w{n}.json")[0])
    codes = [a["letter_code"] for a in accepted]
    lead, *members = codes
    repo.run("merge", *members, "--into", lead, "--at", "2026-03-02T11:00:00+08:00")
    repo.run("classify", lead, "--category", "complaint", "--at", "2026-03-02T11:30:00+08:00")
    repo.run("transfer", lead, "--unit", "cgj", "--at", "2026-03-02T14:00:00+08:00")
    repo.run("answer", lead, "--text", "已更换电梯曳引机并完成检测，电梯恢复运行。", "--head", "张局长",
             "--at", "2026-03-04T10:00:00+08:00")
    repo.run("approve", lead, "--at", "2026-03-04T16:00:00+08:00")
    single = repo.new_letter(7, submitted_at="2026-03-02T12:00:00+08:00")
    repo.run("classify", single, "--category", "complaint", "--at", "2026-03-02T12:30:00+08:00")
    repo.run("transfer", single, "--unit", "cgj", "--at", "2026-03-02T15:00:00+08:00")
    repo.run("answer", single, "--text", "路灯已修复。", "--head", "张局长", "--at", "2026-03-12T10:00:00+08:00")
    repo.run("approve", single, "--at", "2026-03-12T16:00:00+08:00")
    return codes, [a["query_code"] for a in accepted], single


def test_report_counts_the_group_once_for_timeliness_and_each_letter_for_volume(case_repo: Repo) -> None:
    (lead, b, c), _, single = grouped_and_single(case_repo)
    r = json.loads(case_repo.run("report", "--month", "2026-03", "--format", "json", "--today", "2026-04-15").stdout)
    assert r["received"] == 4  # volume: every letter
    assert (r["merged"], r["merged_closed"]) == (2, 2)
    assert (r["closed"], r["on_time"], r["late_without_extension"]) == (2, 1, 1)  # the group once
    assert r["on_time_rate"] == 0.5  # per letter it would read 3 of 4
    cgj = next(u for u in r["units"] if u["unit"] == "cgj")
    assert (cgj["assigned"], cgj["closed"], cgj["late_letters"]) == (4, 2, [single])
    text = case_repo.run("report", "--month", "2026-03", "--today", "2026-04-15").stdout
    assert "另有 2 封来信与主信合并办理、随主信办结" in text
    assert "本月 2 封来信并入反映同一事项的来信合并办理" in text


def test_board_shows_one_matter_with_its_count_and_each_writer_finds_the_answer(case_repo: Repo,
                                                                               tmp_path: Path) -> None:
    (lead, b, c), queries, single = grouped_and_single(case_repo)
    out = tmp_path / "site"
    case_repo.run("build", "--out", str(out))
    letters = out / "letters"
    assert (letters / lead / "index.html").is_file() and (letters / single / "index.html").is_file()
    assert not (letters / b).exists() and not (letters / c).exists()  # one matter, under its lead
    page = (letters / lead / "index.html").read_text("utf-8")
    assert "合并办理：共有 3 封来信反映此事，合并办理、统一答复" in page
    assert "合并办理" not in (letters / single / "index.html").read_text("utf-8")
    listing = (out / "months" / "2026-03" / "index.html").read_text("utf-8")
    assert "（3 封来信合并办理）" in listing
    requests = json.loads((out / "requests.json").read_text("utf-8"))
    ids = {x["service_request_id"]: x for x in requests}
    assert set(ids) == {lead, single} and ids[lead]["extended_attributes"]["letters"] == 3
    texts = "".join(p.read_text("utf-8", errors="ignore") for p in out.rglob("*") if p.is_file())
    for writer in WRITERS:  # no writer of the group on the board (the lead's own is redacted)
        assert writer["name"] not in texts and writer["phone"] not in texts
    assert TEXTS[1][1] not in texts  # a member's own text is not published
    # every writer's own lookup shows the answer and links to the group's page
    for code, query in zip((lead, b, c), queries, strict=True):
        entry = json.loads(case_repo.run("lookup", code, query, "--site", str(out), "--json").stdout)
        assert entry["status"] == "closed" and entry["link"] == f"../letters/{lead}/"
        assert any("已更换电梯曳引机" in text for _, _, text in entry["notices"])
        shown = case_repo.run("lookup", code, query, "--site", str(out)).stdout
        assert "与反映同一事项的来信合并办理" in shown and "已更换电梯曳引机" in shown


def test_with_a_roster_the_office_merges_and_the_unit_answers_for_the_group(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: dict[str, Path]) -> None:  # noqa: F811
    """Signed steps: only the office may merge; the unit's answer on the lead (signed with the
    unit member's key) is recorded in each member; `check --base` accepts every commit."""
    signed = Signed(make_case_repo(tmp_path, monkeypatch), keys, monkeypatch)
    repo = signed.repo
    b = signed.as_("intake", lambda: repo.new_letter(2))
    c = signed.as_("intake", lambda: repo.new_letter(3))
    lead = signed.as_("intake", lambda: repo.new_letter(4))
    signed.base = repo.git("rev-parse", "HEAD").strip()
    refused_merge = signed.as_("unit", lambda: repo.run("merge", b, c, "--into", lead, expect=1))
    assert "信箱办公室" in refused_merge.stderr
    repo.run("merge", b, c, "--into", lead)  # the office's key (key use)
    repo.run("classify", lead, "--category", "complaint")
    repo.run("transfer", lead, "--unit", "zzl")
    signed.as_("unit", lambda: repo.run("answer", lead, "--text", "已修复。", "--head", "李主任"))
    assert {repo.letter(x)["history"][-1]["actor"] for x in (b, c)} == {"中州路 李强"}
    repo.run("approve", lead)
    assert {repo.letter(x)["status"] for x in (lead, b, c)} == {"closed"}
    status, text = signed.check()
    assert status == 0, text


def test_the_answer_is_sent_to_every_writer_of_the_group(case_repo: Repo) -> None:
    """With notification rules, the lead's answer writes one outbox file per writer in the same
    commit, each in its own letter's name (the notify worker reads each letter's own writer)."""
    config = case_repo.path / "letterbox.yaml"
    config.write_text(config.read_text("utf-8") + "\nnotify:\n  rules:\n    - {step: answer, to: writer, via: email}\n",
                      "utf-8")
    case_repo.git("commit", "-q", "-m", "notify rules", "--", "letterbox.yaml")
    lead, b, c = three(case_repo)
    case_repo.run("merge", b, c, "--into", lead, "--at", "2026-03-02T11:00:00+08:00")
    case_repo.run("classify", lead, "--category", "complaint", "--at", "2026-03-02T12:00:00+08:00")
    case_repo.run("transfer", lead, "--unit", "cgj", "--at", "2026-03-02T14:00:00+08:00")
    sha = case_repo.json("answer", lead, "--text", "已修复。", "--head", "张局长",
                         "--at", "2026-03-03T10:00:00+08:00")["commit"]
    sent = [p for p in files_in(case_repo, sha) if p.startswith("outbox/")]
    found = {yaml.safe_load((case_repo.path / p).read_text("utf-8"))["letter"] for p in sent}
    assert found == {lead, b, c} and len(sent) == 3
    for path in sent:  # the outbox names the letter, never a writer
        text = (case_repo.path / path).read_text("utf-8")
        assert all(w["email"] not in text and w["phone"] not in text for w in WRITERS)
    case_repo.run("validate")


def test_a_step_a_member_cannot_follow_is_refused_for_the_whole_group(case_repo: Repo) -> None:
    """A member asked for 复查 on its own (each writer's right); the lead's reopen cannot be
    recorded in it, so the reopen is refused and no file of the group changes."""
    lead, b, _ = three(case_repo)
    case_repo.run("merge", b, "--into", lead, "--at", "2026-03-02T11:00:00+08:00")
    case_repo.run("classify", lead, "--category", "complaint", "--at", "2026-03-02T12:00:00+08:00")
    case_repo.run("transfer", lead, "--unit", "xfj", "--at", "2026-03-02T14:00:00+08:00")
    case_repo.run("answer", lead, "--text", "已协调处理。", "--head", "王局长", "--at", "2026-03-10T10:00:00+08:00")
    case_repo.run("approve", lead, "--at", "2026-03-10T16:00:00+08:00")
    case_repo.run("review", b, "--kind", "复查", "--at", "2026-03-12T09:00:00+08:00")
    assert case_repo.letter(lead)["status"] == "closed" and case_repo.letter(b)["status"] == "reviewing"
    refused(case_repo, "reopen", lead, "--reason", "来信人不满意", "--at", "2026-03-13T09:00:00+08:00",
            words=[f"同时记入并入的来信 {b}", "复查复核中", f"letterbox unmerge {b}"])


def test_check_base_refuses_a_member_its_lead_does_not_name(case_repo: Repo) -> None:
    lead, b, c = three(case_repo)
    case_repo.run("classify", lead, "--category", "complaint", "--at", "2026-03-02T10:00:00+08:00")
    base = head(case_repo.path)
    path = case_repo.letter_file(c)  # c claims to follow the lead, written by hand
    data = yaml.safe_load(path.read_text("utf-8"))
    data["history"].append({"at": "2026-03-02T11:00:00+08:00", "actor": "某人", "action": "merge",
                            "details": {"into": lead}})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    case_repo.commit_all("Hand edit: one-sided merge")
    report = json.loads(case_repo.run("check", "--base", base, "--json", expect=1).stdout)
    assert any(f"本信的记录中已并入 {lead}" in p["message"] for p in report["problems"]), report


def test_deadline_table_shows_the_group_with_one_deadline(case_repo: Repo) -> None:
    lead, b, c = three(case_repo)
    case_repo.run("merge", b, c, "--into", lead, "--at", "2026-03-02T11:00:00+08:00")
    case_repo.run("classify", lead, "--category", "complaint", "--at", "2026-03-02T12:00:00+08:00")
    case_repo.run("transfer", lead, "--unit", "cgj", "--at", "2026-03-02T14:00:00+08:00")
    rows = {r["letter_code"]: r for r in case_repo.json("deadlines", "--today", "2026-03-03")}
    assert {rows[x]["deadline"] for x in (lead, b, c)} == {"2026-03-05"}
    assert (rows[lead]["merged"], rows[b]["merged_into"], rows[c]["merged_into"]) == (2, lead, lead)
    text = case_repo.run("deadlines", "--today", "2026-03-03").stdout
    assert f"随主信 {lead} 合并办理" in text and "主信，2 封来信并入" in text


def test_validate_finds_a_broken_group_without_a_base(case_repo: Repo) -> None:
    """`validate` (no base revision) also judges groups across files: a lead's step missing in a
    member written by hand, named once in the member's file."""
    lead, b, c = three(case_repo)
    case_repo.run("merge", b, c, "--into", lead, "--at", "2026-03-02T11:00:00+08:00")
    case_repo.run("classify", lead, "--category", "complaint", "--at", "2026-03-02T12:00:00+08:00")
    case_repo.run("validate")
    path = case_repo.letter_file(lead)
    data = yaml.safe_load(path.read_text("utf-8"))
    data["history"].append({"at": "2026-03-02T14:00:00+08:00", "actor": "某人", "action": "transfer",
                            "details": {"units": ["cgj"], "mode": "ordinary"}})
    data.update(status="transferred", units=["cgj"], mode="ordinary")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    report = json.loads(case_repo.run("validate", "--json", expect=1).stdout)
    found = [p for p in report["problems"] if "随主信" in p["message"]]
    assert sorted(Path(p["file"]).stem for p in found) == sorted([b, c]), report
    assert all("少了 1 条" in p["message"] for p in found)


def test_analyse_and_report_count_a_late_group_once_for_timeliness(case_repo: Repo) -> None:
    """A group of three letters answered late is one late answer in `report` and in `analyse`
    (the shared rule, `core.facts.Facts.timed_closing`), and three letters in their volume."""
    lead, b, c = three(case_repo)
    case_repo.run("merge", b, c, "--into", lead, "--at", "2026-03-02T11:00:00+08:00")
    case_repo.run("classify", lead, "--category", "complaint", "--at", "2026-03-02T11:30:00+08:00")
    case_repo.run("transfer", lead, "--unit", "cgj", "--at", "2026-03-02T14:00:00+08:00")
    case_repo.run("answer", lead, "--text", "电梯已修复。", "--head", "张局长", "--at", "2026-03-20T10:00:00+08:00")
    case_repo.run("approve", lead, "--at", "2026-03-20T16:00:00+08:00")
    single = case_repo.new_letter(7, submitted_at="2026-03-02T12:00:00+08:00")
    case_repo.run("classify", single, "--category", "complaint", "--at", "2026-03-02T12:30:00+08:00")
    case_repo.run("transfer", single, "--unit", "cgj", "--at", "2026-03-02T15:00:00+08:00")
    case_repo.run("answer", single, "--text", "路灯已修复。", "--head", "张局长", "--at", "2026-03-04T10:00:00+08:00")
    case_repo.run("approve", single, "--at", "2026-03-04T16:00:00+08:00")

    r = json.loads(case_repo.run("report", "--month", "2026-03", "--format", "json", "--today", "2026-04-15").stdout)
    a = case_repo.json("analyse", "--from", "2026-03-01", "--to", "2026-03-31")
    for figures in (r, a):  # timeliness: the group once, late; the single letter on time
        assert (figures["received"], figures["merged_closed"]) == (4, 2), figures
        assert (figures["closed"], figures["on_time"], figures["late_without_extension"]) == (2, 1, 1), figures
        assert figures["on_time_rate"] == 0.5  # per letter it would read 1 of 4
    # volume: every letter of the group, by category, unit, place and month
    assert [(x["key"], x["letters"]) for x in a["by_category"]] == [("complaint", 4)]
    assert [(x["key"], x["letters"]) for x in a["by_unit"]] == [("cgj", 4)]
    assert sum(x["letters"] for x in a["by_place"]) == 4 and a["by_month"][0]["letters"] == 4
    # handling time: two answers (the group's 14 working days, the single letter's 2)
    assert (a["median_working_days"], a["p90_working_days"]) == (8.0, 14), a
    cgj = next(u for u in r["units"] if u["unit"] == "cgj")
    assert (cgj["assigned"], cgj["closed"], cgj["late_letters"]) == (4, 2, [lead])
    text = case_repo.run("analyse", "--from", "2026-03-01", "--to", "2026-03-31").stdout
    assert "办结 2 封（另有 2 封随主信合并办结" in text


def test_intake_notes_propose_merging_into_the_group_while_it_is_at_the_office(case_repo: Repo) -> None:
    """A new letter like an earlier one: the note proposes `merge … --into` the group's lead (the
    earlier letter's lead when that one is merged already) while the group is received or
    classified; once the group is transferred only the refusal of a repeated letter is proposed."""
    from letterbox.reports.similar import intake_notes

    lead, b, c = three(case_repo)
    r = Repository(case_repo.path)
    notes = intake_notes(r.letters(), r.config, [b])
    assert len(notes) == 1 and f"letterbox merge {b} --into {lead}" in notes[0]
    assert f"letterbox reject {b} --reason duplicate --of {lead}" in notes[0]
    shown = case_repo.run("similar", b).stdout.replace("\n", "")
    assert f"letterbox merge {b} --into {lead}" in shown  # `similar` proposes the same
    case_repo.run("merge", b, "--into", lead, "--at", "2026-03-02T11:30:00+08:00")
    r = Repository(case_repo.path)
    note = intake_notes(r.letters(), r.config, [c])[0]
    assert f"letterbox merge {c} --into {lead}" in note  # into the lead, whichever member is closest
    assert not any(w[k] in note for w in WRITERS for k in ("name", "phone", "email"))
    case_repo.run("classify", lead, "--category", "complaint", "--at", "2026-03-02T11:40:00+08:00")
    case_repo.run("transfer", lead, "--unit", "wcdd", "--at", "2026-03-02T11:50:00+08:00")
    r = Repository(case_repo.path)
    note = intake_notes(r.letters(), r.config, [c])[0]
    assert "letterbox merge" not in note and f"letterbox reject {c} --reason duplicate --of" in note
