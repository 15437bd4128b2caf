"""The roster and signed commits (issue 15): commands sign with the user's key and take the actor
from the roster; `check --base` refuses every forgery commit by commit, and passes legal hand
edits signed by the right role. Real keys (ssh-keygen), real git signing, real repositories."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import LETTERBOX_BIN, Repo, make_case_repo, ssh_key, submission

KEYS = ("office", "unit", "leader", "intake", "stranger", "clerk")
TZ_NOW = datetime.now().astimezone()


def stamp(delta: timedelta = timedelta()) -> str:
    return (datetime.now().astimezone() + delta).isoformat(timespec="seconds")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    return {name: ssh_key(folder, name) for name in KEYS}


class Signed:
    """A case repository with a roster of office, unit (zzl), leader (qz) and intake keys, one
    letter taken in and transferred to zzl; `base` is the commit a pull request starts from."""

    def __init__(self, repo: Repo, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
        self.repo, self.keys, self.mp = repo, keys, monkeypatch
        repo.run("key", "use", str(keys["office"]))
        repo.run("roster", "add", "--name", "信息中心 王静", "--role", "office-admin", "--key", f"{keys['office']}.pub")
        repo.run("roster", "add", "--name", "中州路 李强", "--role", "unit", "--unit", "zzl", "--key", f"{keys['unit']}.pub")
        repo.run("roster", "add", "--name", "区长", "--role", "leader", "--leader", "qz", "--key", f"{keys['leader']}.pub")
        repo.run("roster", "add", "--name", "网上信箱", "--role", "intake", "--key", f"{keys['intake']}.pub")
        self.code = self.as_("intake", lambda: repo.new_letter(1))
        repo.run("classify", self.code, "--category", "complaint")
        repo.run("transfer", self.code, "--unit", "zzl")
        self.base = repo.git("rev-parse", "HEAD").strip()

    def as_(self, who: str, action: Any) -> Any:
        """Run `action` signing with `who`'s key (LETTERBOX_SIGNING_KEY)."""
        self.mp.setenv("LETTERBOX_SIGNING_KEY", str(self.keys[who]))
        try:
            return action()
        finally:
            self.mp.delenv("LETTERBOX_SIGNING_KEY")

    def hand_commit(self, who: str | None, message: str = "hand edit") -> str:
        """Commit the working tree as a staff member would by hand (`git commit -S`), or
        unsigned when `who` is None."""
        self.repo.git("add", "-A")
        sign = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={self.keys[who]}"] if who else []
        cmd = [*sign, "commit", "-q", *(["-S"] if who else ["--no-gpg-sign"]), "-m", message]
        self.repo.git(*cmd)
        return self.repo.git("rev-parse", "HEAD").strip()

    def append_event(self, code: str, event: dict[str, Any], **summary: Any) -> None:
        path = self.repo.letter_file(code)
        data = yaml.safe_load(path.read_text("utf-8"))
        data["history"].append(event)
        data.update(summary)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")

    def check(self) -> tuple[int, str]:
        result = self.repo.run("check", "--base", self.base, expect=None)
        return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: dict[str, Path]) -> Signed:
    return Signed(make_case_repo(tmp_path, monkeypatch), keys, monkeypatch)


def answer_event(actor: str = "中州路 李强", unit: str = "zzl", at: str | None = None) -> dict[str, Any]:
    return {"at": at or stamp(), "actor": actor, "action": "answer",
            "details": {"text": "经核实，路灯已修复。", "head": "李主任", "unit": unit}}


# -- commands sign, and the actor comes from the key -----------------------------------------

def test_commands_sign_and_name_the_signer(signed: Signed) -> None:
    repo = signed.repo
    signed.as_("unit", lambda: repo.run("answer", signed.code, "--text", "已修复", "--head", "李主任"))
    repo.run("approve", signed.code)
    rows = repo.json("who", signed.code)
    assert [r["steps"] for r in rows] == [["收信"], ["分类"], ["转办"], ["答复"], ["审核通过"]]
    assert [r["signed_by"] for r in rows] == [
        "网上信箱（网上收信服务）", "信息中心 王静（信箱办公室管理员）", "信息中心 王静（信箱办公室管理员）",
        "中州路 李强（承办单位）", "信息中心 王静（信箱办公室管理员）"]
    assert repo.letter(signed.code)["history"][3]["actor"] == "中州路 李强"
    assert signed.check() == (0, signed.check()[1])
    assert repo.git("log", "-1", "--format=%an").strip() == "信息中心 王静"


def test_typed_as_cannot_name_someone_else(signed: Signed) -> None:
    before = signed.repo.git("rev-parse", "HEAD")
    result = signed.as_("unit", lambda: signed.repo.run("extend", signed.code, "--days", "2", "--reason", "协调中",
                                                         "--as", "信息中心张三", expect=1))
    assert "--as 与签名密钥不符" in result.stderr and "中州路 李强" in result.stderr
    assert signed.repo.git("rev-parse", "HEAD") == before


def test_command_refuses_a_step_of_another_role(signed: Signed) -> None:
    signed.as_("unit", lambda: signed.repo.run("extend", signed.code, "--days", "2", "--reason", "协调中"))
    before = signed.repo.git("rev-parse", "HEAD")
    result = signed.as_("unit", lambda: signed.repo.run("grant", signed.code, expect=1))
    assert "只能由信箱办公室管理员或信箱办公室办理" in result.stderr
    assert signed.repo.git("rev-parse", "HEAD") == before


def test_no_key_set_up_is_a_clear_error(signed: Signed) -> None:
    signed.repo.git("config", "--unset", "user.signingkey")
    result = signed.repo.run("approve", signed.code, expect=1)
    assert "还没有设置签名密钥" in result.stderr and "letterbox key use" in result.stderr


def test_a_key_not_on_the_roster_is_refused(signed: Signed) -> None:
    result = signed.as_("stranger", lambda: signed.repo.run("remind", signed.code, expect=1))
    assert "不在名册中" in result.stderr


# -- check --base: each forgery refused --------------------------------------------------------

def test_legal_hand_edit_signed_by_the_unit_passes(signed: Signed) -> None:
    signed.append_event(signed.code, answer_event(), status="answered")
    signed.hand_commit("unit")
    code, text = signed.check()
    assert code == 0, text


def test_unsigned_commit_refused(signed: Signed) -> None:
    signed.append_event(signed.code, answer_event(), status="answered")
    sha = signed.hand_commit(None)
    code, text = signed.check()
    assert code == 1 and f"提交 {sha[:10]}" in text and "没有签名" in text


def test_key_not_on_roster_refused(signed: Signed) -> None:
    signed.append_event(signed.code, answer_event(), status="answered")
    signed.hand_commit("stranger")
    code, text = signed.check()
    assert code == 1 and "不在此前的名册中" in text


def test_tampered_signed_commit_refused(signed: Signed) -> None:
    """A signed commit whose content was changed afterwards (same signature header) fails."""
    signed.append_event(signed.code, answer_event(), status="answered")
    sha = signed.hand_commit("unit")
    raw = subprocess.run(["git", "cat-file", "commit", sha], cwd=signed.repo.path, capture_output=True,
                         check=True).stdout
    forged = raw.replace(b"hand edit", b"hand edjt")
    new = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=signed.repo.path,
                         input=forged, capture_output=True, check=True).stdout.decode().strip()
    signed.repo.git("reset", "-q", "--hard", new)
    code, text = signed.check()
    assert code == 1 and "签名无效" in text


def test_unit_granting_its_own_extension_refused(signed: Signed) -> None:
    signed.as_("unit", lambda: signed.repo.run("extend", signed.code, "--days", "2", "--reason", "协调中"))
    signed.append_event(signed.code, {"at": stamp(), "actor": "中州路 李强", "action": "grant", "details": {}})
    signed.hand_commit("unit")
    code, text = signed.check()
    assert code == 1 and "“同意延期”只能由信箱办公室管理员或信箱办公室办理" in text
    assert "history[4].action" in text  # located: line and field


def test_actor_naming_someone_else_refused(signed: Signed) -> None:
    signed.append_event(signed.code, answer_event(actor="纪委联络员"), status="answered")
    signed.hand_commit("unit")
    code, text = signed.check()
    assert code == 1 and "办理人应为签名人本人“中州路 李强”" in text


def test_unit_answering_a_letter_it_does_not_hold_refused(signed: Signed) -> None:
    signed.repo.run("roster", "add", "--name", "卫健委 周敏", "--role", "unit", "--unit", "wsj",
                    "--key", f"{signed.keys['clerk']}.pub")
    signed.append_event(signed.code, answer_event(actor="卫健委 周敏", unit="wsj"), status="answered")
    signed.hand_commit("clerk")
    code, text = signed.check()
    assert code == 1 and "此时没有承办这封信" in text


def test_rewritten_writer_block_refused(signed: Signed) -> None:
    path = signed.repo.letter_file(signed.code)
    data = yaml.safe_load(path.read_text("utf-8"))
    data["writer"]["name"], data["writer"]["phone"] = "钱七", "13900000000"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    signed.hand_commit("office")
    code, text = signed.check()
    assert code == 1 and "来信人信息不得修改" in text
    assert "钱七" not in text and "13900000000" not in text  # no personal data in the message


def test_writer_block_changed_and_changed_back_is_still_refused(signed: Signed) -> None:
    path = signed.repo.letter_file(signed.code)
    original = path.read_text("utf-8")
    data = yaml.safe_load(original)
    data["writer"]["phone"] = "13900000000"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    forged = signed.hand_commit("office", "forge")
    path.write_text(original, "utf-8")
    signed.hand_commit("office", "restore")
    code, text = signed.check()
    assert code == 1 and f"提交 {forged[:10]}" in text and "来信人信息不得修改" in text


def test_hand_made_closed_letter_refused(signed: Signed) -> None:
    template = yaml.safe_load(signed.repo.letter_file(signed.code).read_text("utf-8"))
    code2 = signed.code[:-1] + "2"
    template.update(letter_code=code2, status="closed", category="complaint", units=["zzl"], mode="ordinary")
    template["history"] += [answer_event(), {"at": stamp(), "actor": "信息中心 王静", "action": "approve",
                                             "details": {}}]
    path = signed.repo.letter_file(signed.code).with_name(f"{code2}.yaml")
    path.write_text(yaml.safe_dump(template, allow_unicode=True, sort_keys=False), "utf-8")
    signed.hand_commit("office")
    code, text = signed.check()
    assert code == 1 and "新案卷只能以“收信”一条办理记录进入案卷库" in text


def test_new_letter_by_a_unit_refused(signed: Signed) -> None:
    signed.as_("intake", lambda: signed.repo.new_letter(2))
    signed.repo.git("reset", "-q", "--soft", "HEAD~1")  # same file, committed by the unit instead
    signed.hand_commit("unit")
    code, text = signed.check()
    assert code == 1 and "新案卷只能由收信登记" in text


def test_event_dated_2099_refused(signed: Signed) -> None:
    signed.append_event(signed.code, answer_event(at="2099-01-01T09:00:00+08:00"), status="answered")
    signed.hand_commit("unit")
    code, text = signed.check()
    assert code == 1 and "晚于提交这条记录的时间" in text


def test_backdated_extension_request_refused(signed: Signed) -> None:
    """A unit's extension request dated before the deadline, committed after it has passed."""
    signed.append_event(signed.code, {"at": stamp(-timedelta(hours=3)), "actor": "中州路 李强",
                                      "action": "extend", "details": {"days": 2, "reason": "协调中"}})
    signed.hand_commit("unit")
    code, text = signed.check()
    assert code == 1 and "补录过去的纸质记录只能由信箱办公室管理员或信箱办公室办理" in text


def test_office_may_enter_a_paper_record(signed: Signed) -> None:
    code2 = signed.as_("intake", lambda: signed.repo.new_letter(5))
    signed.repo.run("classify", code2, "--category", "complaint", "--at", stamp(-timedelta(hours=30)))
    code, text = signed.check()
    assert code == 0, text


def test_stray_file_under_cases_refused(signed: Signed) -> None:
    (signed.repo.path / "cases" / "notes.txt").write_text("备忘", "utf-8")
    signed.hand_commit("office")
    code, text = signed.check()
    assert code == 1 and "cases/notes.txt" in text and "cases/ 下只能有案卷文件" in text


def test_configuration_changed_by_a_non_admin_refused(signed: Signed) -> None:
    config = signed.repo.path / "letterbox.yaml"
    config.write_text(config.read_text("utf-8").replace("ordinary_working_days: 3", "ordinary_working_days: 30"),
                      "utf-8")
    signed.hand_commit("unit")
    code, text = signed.check()
    assert code == 1 and "letterbox.yaml" in text and "只能由信箱办公室管理员修改" in text


# -- roster changes --------------------------------------------------------------------------------

def test_unit_member_cannot_make_themselves_admin(signed: Signed) -> None:
    result = signed.as_("unit", lambda: signed.repo.run(
        "roster", "add", "--name", "冒充者", "--role", "office-admin", "--key", f"{signed.keys['stranger']}.pub",
        expect=1))
    assert "名册只能由信箱办公室管理员修改" in result.stderr
    config = signed.repo.path / "letterbox.yaml"
    public = Path(f"{signed.keys['stranger']}.pub").read_text("utf-8").split()[:2]
    config.write_text(config.read_text("utf-8") + f'  - {{name: 冒充者, role: office-admin, key: "{" ".join(public)}"}}\n',
                      "utf-8")
    signed.hand_commit("unit")
    code, text = signed.check()
    assert code == 1 and "只能由信箱办公室管理员修改" in text


def test_removed_member_keeps_old_steps_but_signs_nothing_new(signed: Signed) -> None:
    signed.as_("unit", lambda: signed.repo.run("extend", signed.code, "--days", "2", "--reason", "协调中"))
    signed.repo.run("roster", "remove", "中州路 李强")
    assert signed.check()[0] == 0  # the extension signed before the removal stays legal
    rows = signed.repo.json("who", signed.code)
    assert rows[-1]["signed_by"] == "中州路 李强（承办单位）"
    signed.append_event(signed.code, answer_event(), status="answered")
    signed.hand_commit("unit")
    code, text = signed.check()
    assert code == 1 and "不在此前的名册中" in text
    result = signed.as_("unit", lambda: signed.repo.run("remind", signed.code, expect=1))
    assert "不在名册中" in result.stderr


def test_last_admin_cannot_be_removed(signed: Signed) -> None:
    result = signed.repo.run("roster", "remove", "信息中心 王静", expect=1)
    assert "至少要保留一位信箱办公室管理员" in result.stderr


def test_leader_instructs_only_their_own_letters(signed: Signed) -> None:
    code2 = signed.as_("intake", lambda: signed.repo.new_letter(3))
    signed.repo.run("classify", code2, "--category", "suggestion")
    signed.repo.run("escalate", code2, "--leader", "cwfqz")
    result = signed.as_("leader", lambda: signed.repo.run("instruct", code2, "--leader", "qz", "--text", "请办理",
                                                          "--unit", "zzl", expect=1))
    assert "呈送的领导不是区长" in result.stderr
    signed.repo.run("roster", "add", "--name", "常务副区长", "--role", "leader", "--leader", "cwfqz",
                    "--key", f"{signed.keys['clerk']}.pub")
    signed.as_("clerk", lambda: signed.repo.run("instruct", code2, "--leader", "cwfqz", "--text", "请办理",
                                                "--unit", "zzl"))
    assert signed.check()[0] == 0


# -- merges ------------------------------------------------------------------------------------------

def test_clean_merge_passes_and_hand_changed_merge_refused(signed: Signed) -> None:
    repo = signed.repo
    repo.git("checkout", "-q", "-b", "pr")
    signed.append_event(signed.code, answer_event(), status="answered")
    signed.hand_commit("unit", "answer by hand")
    repo.git("checkout", "-q", "main")
    signed.as_("intake", lambda: repo.new_letter(4))
    repo.git("merge", "-q", "--no-edit", "--no-gpg-sign", "pr")  # unsigned, like GitHub's merge commits
    assert signed.check() == (0, signed.check()[1]), signed.check()[1]
    config = repo.path / "letterbox.yaml"
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.git("merge", "-q", "--no-commit", "pr")
    config.write_text(config.read_text("utf-8").replace("ordinary_working_days: 3", "ordinary_working_days: 30"),
                      "utf-8")
    signed.hand_commit("office", "merge with a change")
    code, text = signed.check()
    assert code == 1 and "合并提交改动了文件" in text


def test_repository_without_roster_warns(case_repo: Repo) -> None:
    base = case_repo.git("rev-parse", "HEAD").strip()
    case_repo.new_letter(1)
    report = case_repo.json("check", "--base", base)
    assert report["errors"] == 0 and any("名册为空" in p["message"] for p in report["problems"])


def test_submission_personal_data_never_in_roster_messages(signed: Signed) -> None:
    signed.append_event(signed.code, answer_event(actor="纪委联络员"), status="answered")
    signed.hand_commit("unit")
    _code, text = signed.check()
    for value in submission(1).values():
        if isinstance(value, str) and len(value) > 3 and value not in ("web",):
            assert value not in text


# -- init and the intake service ------------------------------------------------------------------

def test_init_with_key_starts_a_signed_roster(tmp_path: Path, keys: dict[str, Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from letterbox.cli.main import cli
    from letterbox.store import signing

    monkeypatch.delenv("LETTERBOX_SIGNING_KEY", raising=False)
    target = tmp_path / "new"
    sha = "0" * 39 + "1"
    result = CliRunner().invoke(cli, ["init", str(target), "--key", str(keys["office"]), "--name", "信息中心 王静",
                                      "--tool-source", f"git+https://example.org/letterbox.git@{sha}"])
    assert result.exit_code == 0, result.output
    repo = Repo(target, CliRunner())
    assert repo.json("who") == [{"name": "信息中心 王静", "role": "office-admin", "unit": None, "leader": None,
                                 "fingerprint": signing.fingerprint(Path(f"{keys['office']}.pub").read_text())}]
    import git as gitpython

    from letterbox.core.roster import Roster
    status = signing.commit_signature(gitpython.Repo(target), repo.git("rev-parse", "HEAD").strip(),
                                      Roster(signing.roster_at(gitpython.Repo(target), "HEAD").members))
    assert status.status == "good" and status.member and status.member.name == "信息中心 王静"
    repo.run("roster", "add", "--name", "网上信箱", "--role", "intake", "--key", f"{keys['intake']}.pub")
    half = CliRunner().invoke(cli, ["init", str(tmp_path / "other"), "--key", str(keys["office"])])
    assert half.exit_code != 0 and "--key 和 --name 要一起给出" in half.output
    assert not (tmp_path / "other").exists()


def test_intake_service_signs_with_its_own_key(signed: Signed, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.e2e.test_service import serving, web_submission

    monkeypatch.setenv("LETTERBOX_SIGNING_KEY", str(signed.keys["office"]))
    wrong = subprocess.run([LETTERBOX_BIN, "--repo", str(signed.repo.path),
                            "serve-intake", "--port", "1"], capture_output=True, text=True, timeout=60)
    assert wrong.returncode != 0 and "应为收信服务（intake）自己的密钥" in wrong.stderr
    monkeypatch.setenv("LETTERBOX_SIGNING_KEY", str(signed.keys["intake"]))
    with serving(signed.repo) as server:
        answer = server.letter(web_submission(7))
        assert answer.status_code == 201, answer.text
        code = answer.json()["letter_code"]
    monkeypatch.delenv("LETTERBOX_SIGNING_KEY")
    rows = signed.repo.json("who", code)
    assert rows[0]["signed_by"] == "网上信箱（网上收信服务）" and rows[0]["actor"] == "网上信箱"
    assert signed.check()[0] == 0


def test_merge_that_brings_back_an_old_roster_refused(signed: Signed) -> None:
    """A merge with a side branch that takes the side's (old) letterbox.yaml, which still lists
    a removed member: the side never changed that file, so the merge did, by hand."""
    repo = signed.repo
    repo.git("branch", "side")
    repo.run("roster", "remove", "中州路 李强")
    repo.git("checkout", "-q", "side")
    signed.as_("intake", lambda: repo.new_letter(6))
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-commit", "--no-ff", "side")
    repo.git("checkout", "side", "--", "letterbox.yaml")
    signed.hand_commit(None, "merge an old roster back")
    code, text = signed.check()
    assert code == 1 and "合并提交改动了文件" in text and "letterbox.yaml" in text


def test_symlink_under_cases_refused(signed: Signed) -> None:
    target = signed.repo.letter_file(signed.code)
    (target.parent / "LA-2026-00099.yaml").symlink_to("/etc/passwd")
    signed.hand_commit("office")
    code, text = signed.check()
    assert code == 1 and "不能是符号链接" in text


def test_a_key_git_cannot_sign_with_is_a_clear_error(signed: Signed) -> None:
    """ssh-keygen refuses a private key others may read: a Chinese message, nothing changed."""
    before = (signed.repo.git("rev-parse", "HEAD"), signed.repo.git("status", "--porcelain"))
    signed.keys["office"].chmod(0o644)
    try:
        result = signed.repo.run("remind", signed.code, expect=1)
    finally:
        signed.keys["office"].chmod(0o600)
    assert "签名提交失败，未保存任何改动" in result.stderr and "Traceback" not in result.stderr
    assert (signed.repo.git("rev-parse", "HEAD"), signed.repo.git("status", "--porcelain")) == before
