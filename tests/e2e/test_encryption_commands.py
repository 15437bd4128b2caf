"""Key management of sealed case files (issue 16): `period new`, the migration `encrypt`,
`rewrap` and `shred`, on real repositories with real SSH keys (ssh-keygen), real git signing and
real age keys. Nothing here is mocked: the letters are opened with `sealing.unseal` and the keys
the commands wrote, and every blob is searched for the writers' data."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from letterbox.core import sealing
from letterbox.ops.encryption import replace_encryption_block
from letterbox.store import keys as store_keys
from letterbox.store import signing
from letterbox.store.repository import Repository
from tests.conftest import Repo, make_case_repo, ssh_key, submission

PEOPLE = ("admin", "office2", "zzl", "zjj", "leader")
NAMES = ("欧阳明远", "司马晓霞", "诸葛建华", "上官玉琴", "东方立国", "皇甫春生", "慕容秋菊", "长孙海涛",
         "宇文丽萍", "令狐志刚")
ADMIN = "信息中心 王静"


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("people")
    return {name: ssh_key(folder, name) for name in PEOPLE}


class Office:
    """A case repository with a roster (administrator, units zzl and zjj, leader qz) and ten clear
    letters of 2026 and 2024: routed to zzl or zjj, one escalated to qz (with its handling form)."""

    def __init__(self, repo: Repo, people: dict[str, Path], mp: pytest.MonkeyPatch, period_dir: Path) -> None:
        self.repo, self.people, self.mp, self.period_dir = repo, people, mp, period_dir
        mp.setenv("LETTERBOX_PERIOD_KEYS", str(period_dir))
        for name in ("LETTERBOX_IDENTITY", "LETTERBOX_SIGNING_KEY", "LETTERBOX_KEY_PASSPHRASE"):
            mp.delenv(name, raising=False)
        repo.run("key", "use", str(people["admin"]))
        repo.run("roster", "add", "--name", ADMIN, "--role", "office-admin", "--key", f"{people['admin']}.pub")
        repo.run("roster", "add", "--name", "中州路 李强", "--role", "unit", "--unit", "zzl",
                 "--key", f"{people['zzl']}.pub")
        repo.run("roster", "add", "--name", "住建局 赵敏", "--role", "unit", "--unit", "zjj",
                 "--key", f"{people['zjj']}.pub")
        repo.run("roster", "add", "--name", "区长", "--role", "leader", "--leader", "qz",
                 "--key", f"{people['leader']}.pub")
        subs = []
        for n, name in enumerate(NAMES, start=1):
            year = "2024" if n in (9, 10) else "2026"
            subs.append(submission(
                n, name=name, phone=f"1393721{n:04d}", email=f"writer{n:02d}@example.net",
                address=f"龙安区示例街道{n}号院{n + 2}号楼", title=f"示例来信标题第{n}封：巷口积水",
                body=f"第{n}封信的正文：巷口积水已经三周，老人出行困难，请尽快疏通。", submitted_at=f"{year}-05-0{n % 9 + 1}T09:15:00+08:00"))
        self.originals: dict[str, dict[str, Any]] = {}
        accepted = repo.intake(*subs)
        for item, sub in zip(accepted, subs, strict=True):
            self.originals[item["letter_code"]] = {
                "writer": {k: sub[k] for k in ("name", "phone", "email", "address")},
                "title": sub["title"], "body": sub["body"]}
        self.codes = [item["letter_code"] for item in accepted]
        self.unit_of: dict[str, str] = {}
        for index, code in enumerate(self.codes):
            repo.run("classify", code, "--category", "complaint")
            if index == 2:
                repo.run("escalate", code, "--leader", "qz")
                continue
            unit = "zzl" if index % 2 else "zjj"
            repo.run("transfer", code, "--unit", unit)
            self.unit_of[code] = unit
        self.escalated = self.codes[2]
        self.base = self.head()
        # every clear letter is in its file before the migration (the test must be able to fail)
        assert all(repo.letter(code).get("writer") for code in self.codes)

    def as_(self, who: str, *args: str, expect: int | None = 0) -> Any:
        self.mp.setenv("LETTERBOX_SIGNING_KEY", str(self.people[who]))
        try:
            return self.repo.run(*args, expect=expect)
        finally:
            self.mp.delenv("LETTERBOX_SIGNING_KEY")

    def head(self) -> str:
        return self.repo.git("rev-parse", "HEAD").strip()

    def config(self) -> dict[str, Any]:
        return yaml.safe_load((self.repo.path / "letterbox.yaml").read_text("utf-8"))

    def keyring(self, who: str, period_dir: Path | None = None) -> sealing.Keyring:
        return sealing.Keyring((self.people[who].read_bytes(),),
                               store_keys.period_keys(period_dir or self.period_dir))

    def block(self, code: str, rev: str | None = None) -> dict[str, Any]:
        if rev is None:
            return self.repo.letter(code)["sealed"]
        path = self.repo.letter_file(code).relative_to(self.repo.path).as_posix()
        return yaml.safe_load(self.repo.git("show", f"{rev}:{path}"))["sealed"]

    def secrets(self) -> list[str]:
        """Every writer datum, title and body of the letters."""
        found = []
        for original in self.originals.values():
            found += list(original["writer"].values()) + [original["title"], original["body"]]
        return found


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, people: dict[str, Path]) -> Office:
    return Office(make_case_repo(tmp_path, monkeypatch), people, monkeypatch, tmp_path / "period-keys")


def blobs(repo: Path, rev: str) -> dict[str, str]:
    listing = subprocess.run(["git", "ls-tree", "-r", rev], cwd=repo, check=True, capture_output=True,
                             text=True).stdout
    out = {}
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        sha = meta.split()[2]
        out[path] = subprocess.run(["git", "cat-file", "blob", sha], cwd=repo, check=True,
                                   capture_output=True).stdout.decode("utf-8", "replace")
    return out


def signer(repo: Path, sha: str) -> str:
    git_repo = Repository(repo).git
    parent = git_repo.commit(sha).parents[0].hexsha
    return signing.commit_signature(git_repo, sha, signing.roster_at(git_repo, parent)).label


def check_passes(office: Office, base: str) -> None:
    """`check --base` (CI) accepts every key-management commit since `base` (signed, by the
    right role, case files still well-formed and wrapped to the office)."""
    result = office.repo.run("check", "--base", base, expect=None)
    assert result.exit_code == 0, result.stdout + result.stderr


def run_migration(office: Office) -> str:
    office.base = office.head()
    office.repo.run("period", "new", "2024")
    office.repo.run("period", "new", "2026")
    before = office.head()
    office.repo.run("encrypt")
    assert office.repo.git("rev-parse", "HEAD~1").strip() == before
    return office.head()


# -- period new ---------------------------------------------------------------------------------

def test_period_new_keeps_the_secret_outside_and_commits_the_public_key(office: Office) -> None:
    repo = office.repo
    text_before = (repo.path / "letterbox.yaml").read_text("utf-8")
    before = office.head()
    result = repo.run("period", "new", "2026")
    secret_file = office.period_dir / "2026.key"
    assert str(secret_file) in result.stdout and "绝不能提交" in result.stdout and "安全渠道" in result.stdout
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text("ascii").strip()
    public = office.config()["encryption"]["periods"]["2026"]
    assert str(sealing.period_identity(secret).to_public()) == public
    # one commit, of letterbox.yaml only, signed by the administrator; only the block was added
    assert repo.git("rev-parse", "HEAD~1").strip() == before
    assert repo.git("show", "--name-only", "--format=", "HEAD").split() == ["letterbox.yaml"]
    assert signer(repo.path, office.head()) == f"{ADMIN}（信箱办公室管理员）"
    text_after = (repo.path / "letterbox.yaml").read_text("utf-8")
    assert text_after.startswith(text_before.rstrip("\n"))
    assert "AGE-SECRET-KEY" not in repo.git("log", "-p", "--all")
    # the second period keeps the first; the same period again is refused and changes nothing
    repo.run("period", "new", "2025")
    assert set(office.config()["encryption"]["periods"]) == {"2025", "2026"}
    head = office.head()
    again = repo.run("period", "new", "2026", expect=1)
    assert "已有公钥" in again.stderr and office.head() == head
    assert secret_file.read_text("ascii").strip() == secret


def test_period_new_refuses_a_unit_member_and_an_existing_file(office: Office) -> None:
    head = office.head()
    refused = office.as_("zzl", "period", "new", "2026", expect=1)
    assert "只能由信箱办公室管理员办理" in refused.stderr
    assert office.head() == head and not (office.period_dir / "2026.key").exists()
    office.period_dir.mkdir(parents=True)
    (office.period_dir / "2027.key").write_text("AGE-SECRET-KEY-1 kept\n")
    kept = office.repo.run("period", "new", "2027", expect=1)
    assert "不会覆盖" in kept.stderr and office.head() == head
    assert (office.period_dir / "2027.key").read_text() == "AGE-SECRET-KEY-1 kept\n"


def test_block_rewrite_touches_nothing_else() -> None:
    text = "a: 1\nencryption:\n  suite: x\n  periods: {}\n\n# next\nroster:\n  - {name: x}\n"
    new = replace_encryption_block(text, {"periods": {"2026": "age1" + "q" * 58}, "shredded": ["2019"]})
    assert new.startswith("a: 1\nencryption:\n") and new.endswith("\n\n# next\nroster:\n  - {name: x}\n")
    assert yaml.safe_load(new)["encryption"]["shredded"] == ["2019"]


# -- encrypt (the migration) ----------------------------------------------------------------------

def test_encrypt_refuses_without_period_keys_and_leaves_the_repository(office: Office) -> None:
    before, status = office.head(), office.repo.git("status", "--porcelain")
    refused = office.repo.run("encrypt", expect=1)
    assert "letterbox period new 2024" in refused.stderr and "letterbox period new 2026" in refused.stderr
    assert office.head() == before and office.repo.git("status", "--porcelain") == status
    unit = office.as_("zzl", "encrypt", expect=1)
    assert "只能由信箱办公室管理员办理" in unit.stderr and office.head() == before


def test_encrypt_seals_every_letter_in_one_commit(office: Office) -> None:
    repo = office.repo
    form = repo.path / "forms" / "2026" / f"{office.escalated}.html"
    assert office.originals[office.escalated]["writer"]["phone"] in form.read_text("utf-8")
    sha = run_migration(office)
    assert signer(repo.path, sha) == f"{ADMIN}（信箱办公室管理员）"
    changed = sorted(repo.git("show", "--name-only", "--format=", "HEAD").split())
    assert len([p for p in changed if p.startswith("cases/")]) == len(office.codes)
    assert f"forms/2026/{office.escalated}.html" in changed
    # no writer datum, title or body anywhere in the working tree nor in the new commit's blobs
    tree = {p.relative_to(repo.path).as_posix(): p.read_text("utf-8", "replace")
            for p in repo.path.rglob("*") if p.is_file() and ".git" not in p.parts}
    for where in (tree, blobs(repo.path, "HEAD")):
        leaks = [(path, secret) for path, text in where.items() for secret in office.secrets() if secret in text]
        assert leaks == []
    assert "来信办理单" in form.read_text("utf-8") and "letterbox form" in form.read_text("utf-8")
    repo.run("validate")  # needs no key
    check_passes(office, office.base)
    # the office key and the period keys give back exactly the original fields
    for code, original in office.originals.items():
        block = office.block(code)
        assert block["period"] == ("2024" if original["writer"]["name"] in NAMES[8:] else "2026")
        assert sealing.unseal(block, code, office.keyring("admin")) == original
        assert set(repo.letter(code)) >= {"history", "status", "sealed"}
    # a unit reads its own letters only; the leader the escalated one only
    for code, unit in office.unit_of.items():
        other = "zjj" if unit == "zzl" else "zzl"
        assert sealing.unseal(office.block(code), code, office.keyring(unit)) == office.originals[code]
        with pytest.raises(sealing.SealError):
            sealing.unseal(office.block(code), code, office.keyring(other))
        with pytest.raises(sealing.SealError):
            sealing.unseal(office.block(code), code, office.keyring("leader"))
    assert sealing.unseal(office.block(office.escalated), office.escalated,
                          office.keyring("leader"))["title"] == office.originals[office.escalated]["title"]
    # without the period key nobody reads, the office neither
    with pytest.raises(sealing.SealError, match="保存期"):
        sealing.unseal(office.block(office.codes[0]), office.codes[0],
                       office.keyring("admin", office.period_dir.parent / "nowhere"))
    # idempotent: a second run makes no commit and changes no file
    again = repo.run("encrypt")
    assert "没有需要加密的来信" in again.stdout and office.head() == sha
    assert repo.git("status", "--porcelain") == ""


def test_encrypt_makes_missing_period_keys_in_the_same_commit(office: Office) -> None:
    before = office.head()
    result = office.repo.run("encrypt", "--new-periods")
    assert office.repo.git("rev-parse", "HEAD~1").strip() == before
    assert sorted(office.config()["encryption"]["periods"]) == ["2024", "2026"]
    assert "letterbox.yaml" in office.repo.git("show", "--name-only", "--format=", "HEAD").split()
    assert str(office.period_dir / "2026.key") in result.stdout
    code = office.codes[0]
    assert sealing.unseal(office.block(code), code, office.keyring("admin")) == office.originals[code]


def test_a_failed_encrypt_leaves_everything_as_before(office: Office) -> None:
    before = office.head()
    files = {p: p.read_bytes() for p in office.repo.path.rglob("*") if p.is_file() and ".git" not in p.parts}
    office.repo.git("config", "gpg.ssh.program", "false")  # signing the commit fails
    failed = office.repo.run("encrypt", "--new-periods", expect=1)
    assert "签名提交失败，未保存任何改动" in failed.stderr
    office.repo.git("config", "--unset", "gpg.ssh.program")
    assert office.head() == before and office.repo.git("status", "--porcelain") == ""
    assert {p: p.read_bytes() for p in files} == files
    assert not office.period_dir.exists() or list(office.period_dir.iterdir()) == []


# -- rewrap ---------------------------------------------------------------------------------------

def test_rewrap_gives_a_new_office_member_the_old_letters(office: Office) -> None:
    repo = office.repo
    run_migration(office)
    repo.run("roster", "add", "--name", "信息中心 刘芳", "--role", "office", "--key", f"{office.people['office2']}.pub")
    code = office.codes[0]
    with pytest.raises(sealing.SealError, match="收件人"):
        sealing.unseal(office.block(code), code, office.keyring("office2"))
    # the newcomer cannot grant herself access: she opens none of them
    head = office.head()
    refused = office.as_("office2", "rewrap", "--all", expect=1)
    assert "不在其收件人中" in refused.stderr and office.head() == head
    assert office.as_("zzl", "rewrap", "--all", expect=1).exit_code == 1
    done = repo.json("rewrap", "--all")
    assert sorted(done["rewrapped"]) == sorted(office.codes) and office.head() != head
    assert repo.git("rev-parse", "HEAD~1").strip() == head
    assert signer(repo.path, office.head()) == f"{ADMIN}（信箱办公室管理员）"
    for c, original in office.originals.items():
        assert sealing.unseal(office.block(c), c, office.keyring("office2")) == original
        assert sealing.unseal(office.block(c), c, office.keyring("admin")) == original
    # the data is not re-encrypted, only share A
    assert office.block(code, "HEAD")["data"] == office.block(code, "HEAD~1")["data"]
    assert repo.json("rewrap", "--all")["commit"] is None
    check_passes(office, office.base)


def test_a_member_who_leaves_reads_nothing_new_but_keeps_old_commits(office: Office) -> None:
    repo = office.repo
    run_migration(office)
    zzl_letter = next(c for c, u in office.unit_of.items() if u == "zzl")
    sealed_at = office.head()
    repo.run("roster", "remove", "中州路 李强")
    repo.run("rewrap", zzl_letter)
    with pytest.raises(sealing.SealError, match="收件人"):
        sealing.unseal(office.block(zzl_letter), zzl_letter, office.keyring("zzl"))
    # the documented limit: an earlier commit stays readable with their key while the period key exists
    assert sealing.unseal(office.block(zzl_letter, sealed_at), zzl_letter,
                          office.keyring("zzl")) == office.originals[zzl_letter]


# -- shred ----------------------------------------------------------------------------------------

def test_shred_makes_a_period_unreadable_in_every_commit(office: Office) -> None:
    repo = office.repo
    run_migration(office)
    old = [c for c, o in office.originals.items() if o["writer"]["name"] in NAMES[8:]]
    assert len(old) == 2
    # a copy of the folder as it was: the key material still held elsewhere would open them
    copy = office.period_dir.parent / "copy"
    copy.mkdir()
    for path in office.period_dir.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    assert sealing.unseal(office.block(old[0]), old[0], office.keyring("admin", copy)) == office.originals[old[0]]
    head = office.head()
    refused = office.as_("zzl", "shred", "--period", "2024", "--yes", expect=1)
    assert "只能由信箱办公室管理员办理" in refused.stderr and office.head() == head
    now = repo.run("shred", "--period", "2026", "--yes", expect=1)
    assert "还没有结束" in now.stderr and office.head() == head
    result = repo.run("shred", "--period", "2024", "--yes")
    for phrase in ("别处的副本", "复制", "办理记录", "从未加密"):
        assert phrase in result.stdout
    assert not (office.period_dir / "2024.key").exists() and (office.period_dir / "2026.key").exists()
    assert repo.git("rev-parse", "HEAD~1").strip() == head
    assert repo.git("show", "--name-only", "--format=", "HEAD").split() == ["letterbox.yaml"]
    assert office.config()["encryption"]["shredded"] == ["2024"]
    assert signer(repo.path, office.head()) == f"{ADMIN}（信箱办公室管理员）"
    # no key held here opens a 2024 letter in any commit; 2026 letters still open
    revs = repo.git("rev-list", "HEAD").split()
    checked = 0
    for rev in revs:
        for code in office.codes:
            path = repo.letter_file(code).relative_to(repo.path).as_posix()
            shown = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=repo.path, capture_output=True, text=True)
            if shown.returncode or "sealed:" not in shown.stdout:
                continue
            block = yaml.safe_load(shown.stdout)["sealed"]
            for who in PEOPLE:
                if code in old:
                    with pytest.raises(sealing.SealError):
                        sealing.unseal(block, code, office.keyring(who))
                    checked += 1
            if code not in old:
                assert sealing.unseal(block, code, office.keyring("admin")) == office.originals[code]
    assert checked == 2 * len(old) * len(PEOPLE)  # the migration commit and the shred commit
    # shredding again records nothing new; --due needs the retention years
    again = repo.run("shred", "--period", "2024", "--yes")
    assert "此前已记录为销毁" in again.stdout and repo.git("rev-parse", "HEAD~1").strip() == head
    due = repo.run("shred", "--due", "--yes", expect=1)
    assert "retention_years" in due.stderr
    refused_new = repo.run("period", "new", "2024", expect=1)
    assert "已经销毁" in refused_new.stderr
    check_passes(office, office.base)


def test_secret_file_mode_and_folder(office: Office) -> None:
    office.repo.run("period", "new", "2026")
    assert stat.S_IMODE(os.stat(office.period_dir).st_mode) & 0o077 == 0


# -- the demo repository of this checkout ships sealed ------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_ships_sealed_and_opens_with_the_demo_keys() -> None:
    demo = Repository(ROOT)
    assert demo.config.encryption is not None and demo.config.roster
    files = sorted((ROOT / "cases").rglob("*.yaml"))
    assert len(files) == 67
    for path in files:
        data = yaml.safe_load(path.read_text("utf-8"))
        assert "writer" not in data and "body" not in data and isinstance(data.get("sealed"), dict), path
    for path in (ROOT / "forms").rglob("*.html"):
        assert "@example.com" not in path.read_text("utf-8") and "1380372" not in path.read_text("utf-8")
    ring = sealing.Keyring(((ROOT / "demo-keys" / "office-admin").read_bytes(),),
                           store_keys.period_keys(ROOT / "demo-keys" / "period-keys"))
    opened = [sealing.opened(demo.letter(p.stem).data, p.stem, ring) for p in files]
    assert all(x["writer"]["email"].endswith("@example.com") and x["body"] for x in opened)
    unit = sealing.Keyring(((ROOT / "demo-keys" / "unit-zjj").read_bytes(),), ring.period_keys)
    readable = []
    for path in files:
        try:
            sealing.unseal(demo.letter(path.stem).data["sealed"], path.stem, unit)
            readable.append(path.stem)
        except sealing.SealError:
            pass
    held = [p.stem for p in files if "zjj" in sealing.held_by(yaml.safe_load(p.read_text("utf-8"))["history"])[0]]
    assert readable == held and 0 < len(held) < len(files)
    assert "DEMO" in (ROOT / "demo-keys" / "README.md").read_text("utf-8")
