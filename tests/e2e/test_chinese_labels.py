"""Issue 18, point 8: what staff read is Chinese. `show` (its history), `preview` and the step
commands' success lines give every action, detail key and value by the step table's labels
(`core.process`); `--json` keeps the machine keys and values. A table piped (not a terminal)
is not cut at 80 columns. Real repositories through the CLI; every step of the table taken."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from letterbox.core import process
from letterbox.core.config import load_config
from letterbox.ops.intake import CHANNELS
from letterbox.ops.workflow import take_step
from letterbox.store.repository import Actor, Repository
from tests.conftest import Repo, make_case_repo

A, B, C, D, E, F, G = (f"LA-2026-0000{n}" for n in range(1, 8))


def forbidden(repo: Path) -> set[str]:
    """The machine words of the step table a person should never read: actions, detail keys,
    and the codes of every closed list (statuses, categories, modes, reasons, publication,
    channels), and the configuration's unit and leader codes."""
    config = load_config(repo)
    words = {*process.STEP_BY_ACTION, *process.DETAIL_LABELS, *process.STATUSES, *process.CATEGORIES,
             *process.MODES, *process.REJECT_REASONS, *process.WITHHOLD_REASONS, *process.PUBLICATIONS,
             *process.CHANNELS, *process.CONTACT_LABELS, *(u.code for u in config.units), *(x.code for x in config.leaders)}
    return {w for w in words if not w.isdigit()}


def english(text: str, words: set[str]) -> list[str]:
    """The forbidden words standing alone in ``text`` (not inside a longer word or a path, nor
    a command to type: `letterbox publish`)."""
    return sorted(w for w in words
                  if re.search(rf"(?<![\w./-])(?<!letterbox ){re.escape(w)}(?![\w-])", text, re.ASCII))


@pytest.fixture(scope="module")
def every_step(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Repo, list[str]]]:
    """Letters that between them take every step of the table; the text of each success line.
    Read-only for the tests that use it (one repository for the module)."""
    patch = pytest.MonkeyPatch()
    repo = make_case_repo(tmp_path_factory.mktemp("labels"), patch)
    for n in range(1, 8):
        repo.new_letter(n)
    lines = []

    def run(*args: str) -> None:
        lines.append(repo.run(*args).stdout)

    run("classify", A, "--category", "complaint")
    run("escalate", A, "--leader", "qz", "--proposal", "建议呈请区长阅示。")
    run("stand-in", A, "--leader", "fqz-cj", "--reason", "区长外出")
    run("instruct", A, "--leader", "fqz-cj", "--text", "请住建局牵头办理。", "--unit", "zjj", "--unit", "cgj")
    run("assign-handler", A, "--handler", "李明", "--unit", "cgj")
    run("extend", A, "--days", "5", "--reason", "需要现场勘查")
    run("refuse", A, "--note", "期限内可以办完")
    run("extend", A, "--days", "3", "--reason", "仍需勘查")
    run("grant", A, "--days", "3", "--note", "同意")
    run("remind", A, "--note", "请抓紧")
    run("flag-risk", A, "--note", "多名居民拟集体上访")
    run("return", A, "--reason", "不属本单位职责")
    run("transfer", A, "--unit", "cgj", "--co", "zjj", "--complex")
    run("answer", A, "--text", "已修复。", "--head", "张局长", "--contacted", "--timeframe", "三个月内",
        "--contact-by", "电话", "--contact-person", "王科长")
    run("send-back", A, "--reason", "答复过于简单")
    run("answer", A, "--text", "已修复路灯三盏。", "--head", "张局长")
    run("approve", A, "--note", "同意")
    run("withhold", A, "--reason", "privacy")
    run("publish", A)
    run("unpublish", A, "--reason", "来信人要求")
    run("feedback", A, "--by-phone", "--rating", "不满意", "--note", "又坏了")
    run("reopen", A, "--reason", "来信人不满意")
    run("answer", A, "--text", "已更换灯具。", "--head", "张局长")
    run("approve", A)
    run("archive", A)
    take_step(Repository(repo.path), A, "feedback", {"rating": "满意"}, Actor("网上信箱"))  # the web service's step
    run("reject", B, "--reason", "private-dispute")
    run("archive", B)
    run("reissue", B, "--verified-by", "电话核实", "--verifier", "王静")
    run("classify", C, "--category", "consultation")
    run("reply", C, "--text", "请拨打 12345 咨询。")
    run("reject", D, "--reason", "duplicate", "--of", A)
    run("classify", E, "--category", "suggestion")
    run("transfer", E, "--unit", "zjj", "--unit", "cgj")
    run("answer", E, "--text", "已协调处理。", "--head", "王局长")  # a 信访 case: 复查 may follow
    run("approve", E)
    run("review", E, "--kind", "复查", "--text", "对处理意见不服")
    run("review-decide", E, "--outcome", "维持", "--text", "维持原处理意见。")
    run("merge", G, "--into", F)
    run("classify", F, "--category", "complaint")  # recorded in G too
    run("unmerge", G, "--reason", "反映的不是同一事项")
    run("reply", F, "--text", "已转告物业。")
    run("reply", G, "--text", "已转告物业。")
    path = repo.letter_file(C)  # staff mask a word of C by hand: preview's table of what is hidden
    path.write_text(path.read_text("utf-8").replace("history:\n", "redaction:\n  mask:\n  - 中州路\n"
                                                    "  keep:\n  - 文昌大道\n" + "history:\n", 1), "utf-8")
    repo.commit_all("Mask a street name by hand")
    yield repo, lines
    patch.undo()


def test_every_step_is_taken_and_every_detail_key_has_a_label(every_step: tuple[Repo, list[str]]) -> None:
    repo, _ = every_step
    history = [e for code in (A, B, C, D, E, F, G) for e in repo.letter(code)["history"]]
    assert {e["action"] for e in history} == set(process.STEP_BY_ACTION)  # a new step: add it above
    keys = {k for e in history for k in e.get("details") or {}}
    assert keys <= set(process.DETAIL_LABELS), keys - set(process.DETAIL_LABELS)
    parts = {k for e in history for v in (e.get("details") or {}).values() if isinstance(v, dict) for k in v}
    assert parts and parts <= set(process.CONTACT_LABELS), parts
    assert set(CHANNELS) == set(process.CHANNELS)


def test_show_preview_and_success_lines_have_no_machine_words(every_step: tuple[Repo, list[str]]) -> None:
    repo, lines = every_step
    words = forbidden(repo.path)
    assert {"private-dispute", "withheld", "coordinating", "proposal", "complaint", "xfj"} <= words
    for line in lines:
        assert line.startswith("已完成："), line
        assert english(line, words) == [], line
    assert "不予受理 纯属个人之间恩怨纠纷（办法第五条第三项）" in "".join(lines)
    for code in (A, B, C, D, E, F, G):
        text = repo.run("show", code).stdout
        assert english(text, words) == [], (code, english(text, words), text)
        preview = repo.run("preview", code).stdout
        assert english(preview, words) == [], (code, english(preview, words), preview)
    shown = repo.run("show", A).stdout
    for phrase in ("类别：求助投诉", "拟办意见：建议呈请区长阅示。", "呈送领导：区长", "代批领导：分管城建副区长",
                   "协办单位：区住房和城乡建设局", "已联系来信人：是", "不公开理由：涉及个人隐私",
                   "评价：不满意", "回访记录：又坏了", "经办人：李明", "解决时限：三个月内",
                   "沟通记录：方式 电话，时间 20", "沟通人 王科长", "来信渠道：网上信箱", "渠道：网上信箱"):
        assert phrase in shown, phrase
    assert re.search(r"时间 \d{4}-\d\d-\d\d \d\d:\d\d，沟通人 王科长", shown)  # not an ISO stamp
    assert "承办单位：区信访局" in repo.run("show", E).stdout
    assert "问题性质：信访立案" in repo.run("show", E).stdout
    assert "复查或复核：复查" in repo.run("show", E).stdout and "复查复核结论：维持" in repo.run("show", E).stdout
    assert "不予受理理由：纯属个人之间恩怨纠纷" in repo.run("show", B).stdout
    assert "前信：" + A in repo.run("show", D).stdout
    assert "主信：" + F in repo.run("show", G).stdout and "合并办理的来信：" + G in repo.run("show", F).stdout
    assert "撤销合并理由：反映的不是同一事项" in repo.run("show", G).stdout
    assert "公开决定：不予公开" not in repo.run("preview", A).stdout  # taken down since
    assert "公开决定：已撤下" in repo.run("preview", A).stdout
    preview = repo.run("preview", C).stdout
    assert "案卷的脱敏设置（redaction）：隐去 中州路；保留 文昌大道" in preview and "办公室指定隐去" in preview


def test_json_keeps_the_machine_keys_and_values(every_step: tuple[Repo, list[str]]) -> None:
    repo, _ = every_step
    view = repo.json("show", B)
    assert view["history"][1]["action"] == "reject"
    assert view["history"][1]["details"]["reason"] == "private-dispute"
    assert view["channel"] == "web"
    assert repo.json("list")[0]["status"] in process.STATUSES
    assert repo.json("preview", A)["publication"] == "taken-down"


def test_a_piped_deadline_row_is_not_cut(case_repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """CliRunner's output is not a terminal: the table is as wide as its longest row (here over
    200 columns), every cell whole on its row's one line, however narrow COLUMNS says."""
    monkeypatch.setenv("COLUMNS", "80")
    code = case_repo.new_letter(1)
    done = case_repo.json("classify", code, "--category", "complaint", "--at", "2026-03-02T10:00:00+08:00")
    assert (done["action"], done["status"]) == ("classify", "classified")  # --json: the machine words
    case_repo.run("transfer", code, "--unit", "cgj", "--at", "2026-03-02T11:00:00+08:00")
    days = "9" * 150  # a pending extension of a 150-digit number of days: a row over 200 columns
    case_repo.run("extend", code, "--days", days, "--reason", "需要勘查", "--at", "2026-03-03T09:00:00+08:00")
    text = case_repo.run("deadlines", "--today", "2026-03-03").stdout
    row = next(line for line in text.splitlines() if code in line)
    assert len(row) > 200, row
    assert f"延期申请 {days} 天待审批" in row and "…" not in text
    assert "2026-03-05" in row and "一般问题" in row and "转办中" in row


@pytest.mark.parametrize("args", [("deadlines",), ("list",), ("reopen-list",), ("report", "--month", "{month}"),
                                  ("analyse",), ("who", A), ("similar", A)])
def test_reports_have_no_machine_words(every_step: tuple[Repo, list[str]], args: tuple[str, ...]) -> None:
    repo, _ = every_step
    month = repo.letter(A)["history"][-1]["at"][:7]
    text = repo.run(*(a.format(month=month) for a in args)).stdout
    assert text.strip()
    for unit in load_config(repo.path).units:  # a unit's code after its name: what `--unit` takes
        text = text.replace(f"{unit.name}（{unit.code}）", unit.name)
    assert english(text, forbidden(repo.path)) == [], (english(text, forbidden(repo.path)), text)
