"""Sealing where letters are written (issue 16): intake seals with public keys only, routing
re-wraps the data key in the same commit, the committed 《来信办理单》 names no writer, `validate`
and `check --base` judge sealed case files without any key and refuse forgeries. Real keys
(ssh-keygen), real age encryption, real git signing, real repositories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from letterbox.core import sealing
from letterbox.core.roster import fingerprint, normalise_key
from tests.conftest import WRITER, Repo, make_case_repo, ssh_key, submission

KEYS = ("office", "zzl", "wsj", "leader", "intake", "clerk")
SECRETS = (*WRITER.values(), "文昌大道路灯不亮", "夜间行人不便")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {name: ssh_key(tmp_path_factory.mktemp(f"key-{name}"), name) for name in KEYS}


class Sealed:
    """A case repository with a roster (office administrator, a member of zzl, one of wsj, the
    leader qz, the intake service) and `encryption` with a 2026 period key whose secret lies in a
    folder outside it (LETTERBOX_PERIOD_KEYS). `base`: the commit after the set-up."""

    def __init__(self, repo: Repo, keys: dict[str, Path], mp: pytest.MonkeyPatch, tmp: Path) -> None:
        self.repo, self.keys, self.mp = repo, keys, mp
        repo.run("key", "use", str(keys["office"]))
        for name, role, extra in (("信息中心 王静", "office-admin", ()), ("中州路 李强", "unit", ("--unit", "zzl")),
                                  ("卫健委 周敏", "unit", ("--unit", "wsj")), ("区长", "leader", ("--leader", "qz")),
                                  ("网上信箱", "intake", ())):
            key = {"office-admin": "office", "leader": "leader", "intake": "intake"}.get(role) or extra[1]
            repo.run("roster", "add", "--name", name, "--role", role, *extra, "--key", f"{keys[key]}.pub")
        self.secret, public = sealing.new_period_key()
        self.periods = tmp / "period-keys"
        self.periods.mkdir()
        (self.periods / "2026.key").write_text(self.secret + "\n", "ascii")
        config = repo.path / "letterbox.yaml"
        config.write_text(config.read_text("utf-8") + f"\nencryption:\n  periods:\n    '2026': {public}\n", "utf-8")
        self.hand_commit("office", "encryption on")
        mp.setenv("LETTERBOX_PERIOD_KEYS", str(self.periods))
        mp.delenv("LETTERBOX_IDENTITY", raising=False)
        self.empty_home = tmp / "home"
        self.empty_home.mkdir()
        self.base = repo.git("rev-parse", "HEAD").strip()

    def as_(self, who: str, action: Any) -> Any:
        self.mp.setenv("LETTERBOX_SIGNING_KEY", str(self.keys[who]))
        try:
            return action()
        finally:
            self.mp.delenv("LETTERBOX_SIGNING_KEY")

    def hand_commit(self, who: str, message: str = "hand edit") -> str:
        self.repo.git("add", "-A")
        self.repo.git("-c", "gpg.format=ssh", "-c", f"user.signingkey={self.keys[who]}", "commit", "-q", "-S",
                      "-m", message)
        return self.repo.git("rev-parse", "HEAD").strip()

    @contextmanager
    def intake_machine(self) -> Iterator[None]:
        """The intake service's machine: its own signing key is the only private key there is
        (every other one is moved away), no period key, no reading key named."""
        vault = self.periods.parent / "vault"
        vault.mkdir(exist_ok=True)
        moved = [(self.keys[n], vault / n) for n in KEYS if n != "intake"]
        for src, dst in moved:
            shutil.move(src, dst)
        self.mp.delenv("LETTERBOX_PERIOD_KEYS")
        home = os.environ.get("HOME", "")
        self.mp.setenv("HOME", str(self.empty_home))
        self.mp.setenv("LETTERBOX_SIGNING_KEY", str(self.keys["intake"]))
        try:
            yield
        finally:
            for src, dst in moved:
                shutil.move(dst, src)
            self.mp.delenv("LETTERBOX_SIGNING_KEY")
            self.mp.setenv("HOME", home)
            self.mp.setenv("LETTERBOX_PERIOD_KEYS", str(self.periods))

    def take_in(self, n: int = 1, **changes: Any) -> str:
        with self.intake_machine():
            return self.repo.new_letter(n, **changes)

    def keyring(self, *who: str, period: bool = True) -> sealing.Keyring:
        return sealing.Keyring(tuple(self.keys[w].read_bytes() for w in who),
                               (("2026", self.secret),) if period else ())

    def block(self, code: str) -> dict[str, Any]:
        return self.repo.letter(code)["sealed"]

    def opens(self, code: str, who: str) -> bool:
        try:
            fields = sealing.unseal(self.block(code), code, self.keyring(who))
        except sealing.SealError:
            return False
        assert fields["writer"]["name"] == WRITER["name"]
        return True

    def fp(self, who: str) -> str:
        return fingerprint(normalise_key(Path(f"{self.keys[who]}.pub").read_text("ascii")))

    def check(self) -> tuple[int, str]:
        result = self.repo.run("check", "--base", self.base, expect=None)
        return result.exit_code, result.stdout + result.stderr

    def every_object(self) -> str:
        """Every object of the repository (blobs of every commit, trees, commit messages)."""
        return subprocess.run(["git", "-C", str(self.repo.path), "cat-file", "--batch-all-objects", "--batch"],
                              check=True, capture_output=True).stdout.decode("utf-8", "replace")


@pytest.fixture
def sealed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: dict[str, Path]) -> Sealed:
    return Sealed(make_case_repo(tmp_path, monkeypatch), keys, monkeypatch, tmp_path)


# -- intake: public keys only ----------------------------------------------------------------

def test_intake_seals_with_public_keys_only(sealed: Sealed) -> None:
    code = sealed.take_in(1)
    path = sealed.repo.letter_file(code)
    text = path.read_text("utf-8")
    data = yaml.safe_load(text)
    assert "writer" not in data and "title" not in data and "body" not in data
    assert set(data["sealed"]["fields"]) == {"writer", "title", "body"}
    assert data["sealed"]["period"] == "2026"
    assert data["sealed"]["recipients"] == [sealed.fp("office")]  # the office only; never the intake
    for secret in SECRETS:
        assert secret not in text
        assert secret not in sealed.every_object()
    # the intake service cannot read what it stored; the office can, the units cannot yet
    with pytest.raises(sealing.SealError, match="不在这封信的收件人中"):
        sealing.unseal(data["sealed"], code, sealed.keyring("intake"))
    assert sealed.opens(code, "office")
    assert not sealed.opens(code, "zzl") and not sealed.opens(code, "wsj")
    fields = sealing.unseal(data["sealed"], code, sealed.keyring("office"))
    assert fields["title"].startswith("文昌大道路灯不亮") and "夜间行人不便" in fields["body"]
    assert fields["writer"] == WRITER
    # without the period key even the office reads nothing
    with pytest.raises(sealing.SealError, match="保存期 2026"):
        sealing.unseal(data["sealed"], code, sealed.keyring("office", period=False))
    assert sealed.check()[0] == 0, sealed.check()[1]
    result = sealed.repo.run("validate")  # no key at all is needed
    assert result.exit_code == 0


def test_intake_refuses_a_period_without_a_key(sealed: Sealed) -> None:
    with sealed.intake_machine():  # a letter of 2026 goes in (also the note on similar letters)
        ok = sealed.repo.run("intake", str(sealed.repo.write_submission("new.json", submission(1))))
        for secret in SECRETS:
            assert secret not in ok.stdout + ok.stderr
        before = sealed.repo.git("rev-parse", "HEAD")
        path = sealed.repo.write_submission("old.json", submission(1, submitted_at="2025-06-02T09:15:00+08:00"))
        result = sealed.repo.run("intake", str(path), expect=1)
    assert "请管理员先用 letterbox period new 2025 建立 2025 年的保存期密钥" in result.stderr
    assert sealed.repo.git("rev-parse", "HEAD") == before
    assert not list((sealed.repo.path / "cases").glob("2025/*/*.yaml"))
    for secret in SECRETS:
        assert secret not in result.stdout + result.stderr


# -- routing re-wraps in the same commit -----------------------------------------------------

def test_transfer_and_return_rewrap_for_the_units_that_held_it(sealed: Sealed) -> None:
    repo = sealed.repo
    code = sealed.take_in(1)
    data_before = sealed.block(code)["data"]
    repo.run("classify", code, "--category", "complaint")
    repo.run("transfer", code, "--unit", "zzl")
    # the re-wrap is part of the transfer's own commit
    assert repo.git("show", "--name-only", "--format=", "HEAD").split() == [
        str(repo.letter_file(code).relative_to(repo.path))]
    assert sealed.block(code)["recipients"] == sorted([sealed.fp("office"), sealed.fp("zzl")])
    assert sealed.block(code)["data"] == data_before  # only share A is wrapped again
    assert sealed.opens(code, "zzl") and not sealed.opens(code, "wsj") and sealed.opens(code, "office")
    sealed.as_("zzl", lambda: repo.run("return", code, "--reason", "不属本街道职责"))
    assert sealed.block(code)["recipients"] == sorted([sealed.fp("office"), sealed.fp("zzl")])
    repo.run("transfer", code, "--unit", "wsj")
    assert sealed.opens(code, "wsj") and sealed.opens(code, "zzl") and sealed.opens(code, "office")
    assert not sealed.opens(code, "leader")
    sealed.as_("wsj", lambda: repo.run("answer", code, "--text", "已安排检修。", "--head", "周主任"))
    assert sealed.check()[0] == 0, sealed.check()[1]
    for secret in SECRETS:
        assert secret not in sealed.every_object()


def test_escalate_form_names_no_writer_and_the_leader_instructs(sealed: Sealed, tmp_path: Path) -> None:
    repo = sealed.repo
    code = sealed.take_in(1)
    repo.run("classify", code, "--category", "complaint")
    repo.run("escalate", code, "--leader", "qz")
    assert sealed.opens(code, "leader") and not sealed.opens(code, "zzl")
    form = next((repo.path / "forms").rglob(f"{code}.html")).read_text("utf-8")
    assert "加密保存" in form and f"letterbox form {code}" in form
    for secret in SECRETS:
        assert secret not in form
    # the full form, locally, with the reader's own key
    out = tmp_path / "form.html"
    result = repo.run("form", code, "--out", str(out))
    full = out.read_text("utf-8")
    assert WRITER["name"] in full and WRITER["phone"] in full and "夜间行人不便" in full
    assert WRITER["name"] not in result.stdout + result.stderr
    inside = repo.run("form", code, "--out", str(repo.path / "form.html"), expect=1)
    assert "不能放在案卷库里" in inside.stderr and not (repo.path / "form.html").exists()
    # a reader who is not a recipient gets a clear refusal (the leader reads it, a unit does not yet)
    refused = sealed.as_("zzl", lambda: repo.run("form", code, "--out", str(tmp_path / "zzl.html"), expect=1))
    assert "无法用你的密钥打开" in refused.stderr and not (tmp_path / "zzl.html").exists()
    sealed.as_("leader", lambda: repo.run("form", code, "--out", str(tmp_path / "qz.html")))
    # the leader's instruction re-wraps for the unit, with the leader's own key
    sealed.as_("leader", lambda: repo.run("instruct", code, "--leader", "qz", "--text", "请中州路街道尽快处理。",
                                          "--unit", "zzl"))
    assert sealed.opens(code, "zzl") and sealed.opens(code, "leader") and not sealed.opens(code, "wsj")
    # the form as committed again with the instruction (issue 18): still no sealed field
    assert "请中州路街道尽快处理。" in (repo.path / "forms" / "2026" / f"{code}.html").read_text("utf-8")
    assert sealed.check()[0] == 0, sealed.check()[1]
    for secret in SECRETS:
        assert secret not in sealed.every_object()


def test_form_without_a_key_fails_clearly(sealed: Sealed, tmp_path: Path) -> None:
    repo = sealed.repo
    code = sealed.take_in(1)
    repo.run("classify", code, "--category", "complaint")
    repo.run("escalate", code, "--leader", "qz")
    repo.git("config", "--unset", "user.signingkey")
    result = repo.run("form", code, "--out", str(tmp_path / "f.html"), expect=1)
    assert "没有找到阅读密钥" in result.stderr and not (tmp_path / "f.html").exists()


def test_a_step_that_needs_a_rewrap_is_refused_without_a_readable_key(sealed: Sealed) -> None:
    repo = sealed.repo
    code = sealed.take_in(1)
    repo.run("classify", code, "--category", "complaint")
    repo.run("roster", "add", "--name", "信息中心 刘芳", "--role", "office", "--key", f"{sealed.keys['clerk']}.pub")
    before = repo.git("rev-parse", "HEAD")
    # a new office member was not among the readers when the letter came in: cannot wrap again
    result = sealed.as_("clerk", lambda: repo.run("transfer", code, "--unit", "zzl", expect=1))
    assert "重新封装" in result.stderr and "收件人" in result.stderr
    assert repo.git("rev-parse", "HEAD") == before and not repo.git("status", "--porcelain").strip()
    # the administrator can, and brings the new office member in
    repo.run("transfer", code, "--unit", "zzl")
    assert sealed.opens(code, "clerk") and sealed.opens(code, "zzl")
    assert sealed.check()[0] == 0, sealed.check()[1]


def test_a_unit_step_needs_no_reading_key_when_it_brings_no_new_reader(sealed: Sealed) -> None:
    repo = sealed.repo
    code = sealed.take_in(1)
    repo.run("classify", code, "--category", "complaint")
    repo.run("transfer", code, "--unit", "zzl")
    repo.run("roster", "add", "--name", "信息中心 刘芳", "--role", "office", "--key", f"{sealed.keys['clerk']}.pub")
    recipients = sealed.block(code)["recipients"]
    sealed.mp.setenv("LETTERBOX_IDENTITY", str(sealed.periods.parent / "no-such-key"))  # any read would fail
    sealed.as_("zzl", lambda: repo.run("return", code, "--reason", "不属本街道职责"))
    sealed.mp.delenv("LETTERBOX_IDENTITY")
    assert sealed.block(code)["recipients"] == recipients and not sealed.opens(code, "clerk")
    repo.run("transfer", code, "--unit", "wsj")  # the office brings the new member in as it routes
    assert all(sealed.opens(code, w) for w in ("office", "clerk", "zzl", "wsj"))
    assert sealed.check()[0] == 0, sealed.check()[1]


# -- validate and check need no key ----------------------------------------------------------

def _edit(sealed: Sealed, code: str, change: Any) -> None:
    path = sealed.repo.letter_file(code)
    data = yaml.safe_load(path.read_text("utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


def test_validate_judges_the_sealed_form_without_keys(sealed: Sealed) -> None:
    repo = sealed.repo
    code = sealed.take_in(1)
    with sealed.intake_machine():  # no reading key anywhere
        assert repo.run("validate").exit_code == 0

        def no_office(d: dict[str, Any]) -> None:
            d["sealed"]["recipients"] = [sealed.fp("zzl")]
            d["writer"] = dict(WRITER)
        _edit(sealed, code, no_office)
        result = repo.run("validate", expect=1)
    out = result.stdout + result.stderr
    assert "不能同时以明文保存" in out and "收件人中没有信箱办公室人员" in out
    # a recipients list that claims a reader the ciphertext was never wrapped to
    _edit(sealed, code, lambda d: (d.pop("writer"), d["sealed"].update(
        recipients=sorted([sealed.fp("office"), sealed.fp("wsj")]))))
    lying = repo.run("validate", expect=1)
    assert "收件人名单与密文实际封装给的密钥不符" in lying.stdout + lying.stderr
    _edit(sealed, code, lambda d: d["sealed"].update(recipients=[sealed.fp("office")]))
    assert repo.run("validate").exit_code == 0


def test_check_allows_sealing_a_clear_letter_only_to_an_administrator(sealed: Sealed) -> None:
    repo = sealed.repo
    config = repo.path / "letterbox.yaml"
    with_encryption = config.read_text("utf-8")
    config.write_text(with_encryption[: with_encryption.index("\nencryption:")] + "\n", "utf-8")
    sealed.hand_commit("office", "encryption off")
    code = sealed.take_in(1)  # in clear
    assert "writer" in repo.letter(code)
    config.write_text(with_encryption, "utf-8")
    repo.run("roster", "add", "--name", "信息中心 刘芳", "--role", "office", "--key", f"{sealed.keys['clerk']}.pub")
    sealed.base = repo.git("rev-parse", "HEAD").strip()
    public = yaml.safe_load(with_encryption)["encryption"]["periods"]["2026"]
    office = [normalise_key(Path(f"{sealed.keys[w]}.pub").read_text("ascii")) for w in ("office", "clerk")]

    def seal(d: dict[str, Any]) -> None:
        fields = {f: d.pop(f) for f in ("writer", "title", "body")}
        d["sealed"] = sealing.seal(fields, code, office, "2026", public)
    out = _forged(sealed, "clerk", code, seal)
    assert "只能由信箱办公室管理员" in out
    repo.git("reset", "-q", "--hard", sealed.base)
    _edit(sealed, code, seal)
    sealed.hand_commit("office", "encrypt")
    assert sealed.check()[0] == 0, sealed.check()[1]
    assert sealed.opens(code, "clerk")


def _forged(sealed: Sealed, who: str, code: str, change: Any) -> str:
    _edit(sealed, code, change)
    sealed.hand_commit(who)
    status, out = sealed.check()
    assert status == 1, out
    return out


def test_check_refuses_a_changed_ciphertext(sealed: Sealed) -> None:
    code = sealed.take_in(1)
    sealed.base = sealed.repo.git("rev-parse", "HEAD").strip()

    def flip(d: dict[str, Any]) -> None:
        raw = d["sealed"]["data"]
        d["sealed"]["data"] = raw[:10] + ("A" if raw[10] != "A" else "B") + raw[11:]
    assert "密文不得修改" in _forged(sealed, "office", code, flip)


def test_check_refuses_swapped_sealed_blocks(sealed: Sealed) -> None:
    one, two = sealed.take_in(1), sealed.take_in(2)
    sealed.base = sealed.repo.git("rev-parse", "HEAD").strip()
    a, b = sealed.block(one), sealed.block(two)
    _edit(sealed, one, lambda d: d.update(sealed=b))
    out = _forged(sealed, "office", two, lambda d: d.update(sealed=a))
    assert "密文不得修改" in out and one in out and two in out
    with pytest.raises(sealing.SealError, match="不属于这封信"):  # and it would not open anyway
        sealing.unseal(b, one, sealed.keyring("office"))


def test_check_refuses_a_unit_member_rewrapping_by_hand(sealed: Sealed) -> None:
    repo = sealed.repo
    code = sealed.take_in(1)
    repo.run("classify", code, "--category", "complaint")
    repo.run("transfer", code, "--unit", "zzl")
    sealed.base = repo.git("rev-parse", "HEAD").strip()
    # zzl's member can unwrap, and wraps it again for a colleague of another unit
    block = sealing.rewrap(sealed.block(code), sealed.keyring("zzl"),
                           [normalise_key(Path(f"{sealed.keys[w]}.pub").read_text("ascii")) for w in ("office", "zzl", "wsj")])
    out = _forged(sealed, "zzl", code, lambda d: d.update(sealed=block))
    assert "不能自行更改" in out
    assert sealed.opens(code, "wsj")  # what the forgery did: check is what refuses it


def test_check_refuses_decryption_back_to_clear(sealed: Sealed) -> None:
    code = sealed.take_in(1)
    sealed.base = sealed.repo.git("rev-parse", "HEAD").strip()
    fields = sealing.unseal(sealed.block(code), code, sealed.keyring("office"))

    def clear(d: dict[str, Any]) -> None:
        del d["sealed"]
        d.update(fields)
    out = _forged(sealed, "office", code, clear)
    assert "不得改回明文" in out


def test_check_refuses_a_new_letter_in_clear(sealed: Sealed) -> None:
    repo = sealed.repo
    code = sealed.take_in(1)
    fields = sealing.unseal(sealed.block(code), code, sealed.keyring("office"))
    sealed.base = repo.git("rev-parse", "HEAD").strip()
    path = repo.letter_file(code)
    data = yaml.safe_load(path.read_text("utf-8"))
    del data["sealed"]
    new_code = code[:-1] + str(int(code[-1]) + 1)
    data.update(fields, letter_code=new_code)
    path.with_name(f"{new_code}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    sealed.hand_commit("office")
    status, out = sealed.check()
    assert status == 1 and "新案卷却以明文写入" in out, out


def test_check_refuses_a_new_letter_wrapped_to_the_intake_too(sealed: Sealed) -> None:
    repo = sealed.repo
    code = sealed.take_in(1)
    fields = sealing.unseal(sealed.block(code), code, sealed.keyring("office"))
    sealed.base = repo.git("rev-parse", "HEAD").strip()
    data = repo.letter(code)
    new_code = code[:-1] + str(int(code[-1]) + 1)
    public = yaml.safe_load((repo.path / "letterbox.yaml").read_text("utf-8"))["encryption"]["periods"]["2026"]
    keys = [normalise_key(Path(f"{sealed.keys[w]}.pub").read_text("ascii")) for w in ("office", "intake")]
    data.update(letter_code=new_code, sealed=sealing.seal(fields, new_code, keys, "2026", public))
    repo.letter_file(code).with_name(f"{new_code}.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    sealed.hand_commit("intake")
    status, out = sealed.check()
    assert status == 1 and "收信服务自己也不能阅读" in out, out


# -- the web service -------------------------------------------------------------------------

def test_web_intake_seals_with_only_the_intake_key(sealed: Sealed) -> None:
    from tests.e2e.test_service import serving, web_submission

    with sealed.intake_machine(), serving(sealed.repo) as server:
        response = server.letter(web_submission(1), key="k-" + "x" * 30)
        assert response.status_code == 201, response.text
    code = response.json()["letter_code"]
    text = sealed.repo.letter_file(code).read_text("utf-8")
    for secret in SECRETS:
        assert secret not in text and secret not in sealed.every_object()
    assert sealed.opens(code, "office") and not sealed.opens(code, "intake")
    assert json.dumps(response.json(), ensure_ascii=False).count(WRITER["name"]) == 0
    assert sealed.check()[0] == 0, sealed.check()[1]


def test_web_intake_without_a_period_key_says_so(sealed: Sealed) -> None:
    from tests.e2e.test_service import serving, web_submission

    config = sealed.repo.path / "letterbox.yaml"
    config.write_text(config.read_text("utf-8").replace("'2026'", "'2024'"), "utf-8")
    sealed.hand_commit("office", "period moved")
    before = sealed.repo.git("rev-parse", "HEAD")
    with sealed.intake_machine(), serving(sealed.repo) as server:
        response = server.letter(web_submission(1))
        assert response.status_code == 503, response.text
        assert "letterbox period new 2026" in server.output()
    assert sealed.repo.git("rev-parse", "HEAD") == before
