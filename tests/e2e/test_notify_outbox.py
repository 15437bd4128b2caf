"""Notifications (issue 19), part 1: the outbox file is written in the same commit as the step
that causes it, by the rules of `notify:`; check --base and validate recompute it."""

from __future__ import annotations

import yaml

from tests.conftest import Repo, head, porcelain, stray_files, submission

RULES = """
notify:
  lookup_url: https://xinxiang.example.gov.cn/lookup/
  rules:
    - {step: receive, to: writer, via: email}
    - {step: transfer, to: unit, via: email}
    - {step: remind, to: unit, via: dingtalk}
    - {step: answer, to: writer, via: [sms, email]}
    - {step: flag-risk, to: office, via: wecom}
"""


def with_rules(repo: Repo, rules: str = RULES) -> Repo:
    config = repo.path / "letterbox.yaml"
    config.write_text(config.read_text("utf-8") + rules, "utf-8")
    repo.git("commit", "-q", "-m", "notify rules", "--", "letterbox.yaml")
    return repo


def changed(repo: Repo) -> list[str]:
    return sorted(repo.git("show", "--name-only", "--format=", "HEAD").split())


def outbox(repo: Repo, name: str) -> dict:
    return yaml.safe_load((repo.path / "outbox/2026/03" / name).read_text("utf-8"))


def test_without_notify_no_outbox_file(case_repo: Repo) -> None:
    code = case_repo.new_letter(1)
    case_repo.run("classify", code, "--category", "complaint", "--as", "王五", "--at", "2026-03-02T10:00:00+08:00")
    case_repo.run("transfer", code, "--unit", "zjj", "--as", "王五", "--at", "2026-03-02T11:00:00+08:00")
    assert changed(case_repo) == [f"cases/2026/03/{code}.yaml"]
    assert not (case_repo.path / "outbox").exists()


def test_each_step_commits_its_notifications(case_repo: Repo) -> None:
    repo = with_rules(case_repo)
    base = head(repo.path)
    code = repo.new_letter(1, email="writer@example.cn")
    assert changed(repo) == [f"cases/2026/03/{code}.yaml", f"outbox/2026/03/{code}-001.yaml"]
    assert outbox(repo, f"{code}-001.yaml") == {"key": f"{code}-001", "letter": code, "event": 0,
                                                "action": "receive", "to": "writer", "via": "email"}
    repo.run("classify", code, "--category", "complaint", "--as", "王五", "--at", "2026-03-02T10:00:00+08:00")
    repo.run("transfer", code, "--unit", "zjj", "--co", "cgj", "--as", "王五", "--at", "2026-03-02T11:00:00+08:00")
    assert changed(repo) == [f"cases/2026/03/{code}.yaml", f"outbox/2026/03/{code}-002.yaml",
                             f"outbox/2026/03/{code}-003.yaml"]
    assert [outbox(repo, f"{code}-00{n}.yaml")["ref"] for n in (2, 3)] == ["zjj", "cgj"]
    repo.run("remind", code, "--as", "王五", "--at", "2026-03-03T11:00:00+08:00")
    assert outbox(repo, f"{code}-004.yaml")["via"] == "dingtalk"
    repo.run("flag-risk", code, "--note", "可能引发聚集", "--as", "王五", "--at", "2026-03-03T12:00:00+08:00")
    note = outbox(repo, f"{code}-005.yaml")
    assert (note["to"], note["ref"], note["via"]) == ("office", "xxzx", "wecom")
    text = (repo.path / "outbox/2026/03" / f"{code}-005.yaml").read_text("utf-8")
    assert "聚集" not in text and "writer@example.cn" not in text  # references, never contents
    assert porcelain(repo.path) == "" and stray_files(repo.path) == []
    assert repo.run("check", "--base", base).exit_code == 0
    assert repo.run("validate").exit_code == 0


def test_check_refuses_a_hand_written_or_changed_notification(case_repo: Repo) -> None:
    repo = with_rules(case_repo)
    code = repo.new_letter(1)
    base = head(repo.path)
    forged = repo.path / "outbox/2026/03" / f"{code}-002.yaml"
    forged.write_text(yaml.safe_dump({"key": f"{code}-002", "letter": code, "event": 0, "action": "receive",
                                      "to": "unit", "ref": "zjj", "via": "email"}), "utf-8")
    repo.commit_all("hand-made notification")
    result = repo.run("check", "--base", base, expect=1)
    assert f"outbox/2026/03/{code}-002.yaml" in result.stdout + result.stderr
    assert "notify" in result.stdout + result.stderr
    base = head(repo.path)
    first = repo.path / "outbox/2026/03" / f"{code}-001.yaml"
    first.write_text(first.read_text("utf-8").replace("email", "sms"), "utf-8")
    repo.commit_all("changed notification")
    result = repo.run("check", "--base", base, expect=1)
    assert "不得修改或删除" in result.stdout + result.stderr


def test_validate_names_a_broken_notification_file(case_repo: Repo) -> None:
    repo = with_rules(case_repo)
    code = repo.new_letter(1)
    (repo.path / "outbox/2026/03" / f"{code}-009.yaml").write_text(
        f"key: {code}-009\nletter: {code}\nevent: 7\naction: answer\nto: writer\nvia: email\n", "utf-8")
    (repo.path / "outbox/2026/03" / f"{code}-010.yaml").write_text(
        f"key: {code}-010\nletter: {code}\nevent: 0\naction: receive\nto: writer\nvia: email\nphone: '13800000000'\n",
        "utf-8")
    result = repo.run("validate", expect=1)
    out = result.stdout + result.stderr
    assert f"{code}-009.yaml" in out and "第 7 条办理记录" in out
    assert f"{code}-010.yaml" in out and "phone" in out and "13800000000" not in out


def test_bad_rule_refused_in_chinese(case_repo: Repo) -> None:
    repo = with_rules(case_repo, "\nnotify:\n  rules:\n    - {step: transfer, to: writer, via: dingtalk}\n")
    code = repo.new_letter(1) if False else None
    assert code is None
    sub = repo.write_submission("one.json", submission(1))
    result = repo.run("intake", str(sub), expect=None)
    assert result.exit_code != 0
    assert "notify" in result.stderr and "来信人只能用 email 或 sms" in result.stderr
