"""Signed commits: the key a user signs with, and who signed a commit.

Commands sign with git's own SSH signing (`gpg.format=ssh`, `user.signingkey`; git runs
`ssh-keygen -Y sign`). The key is the one named by the environment variable
LETTERBOX_SIGNING_KEY (the intake service, CI jobs) or by git's `user.signingkey`
(`letterbox key use PATH` writes it into the repository's git config). Signatures are checked
in Python (`sshsig`, a port of `ssh-keygen -Y check-novalidate`) against the roster in force
before the commit (`roster_at` of its parent).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import git
import sshsig

from letterbox.core.authority import role_refusal, time_refusal
from letterbox.core.config import CONFIG_FILE, Config, parse_config
from letterbox.core.errors import LetterboxError, StepRefused
from letterbox.core.process import State
from letterbox.core.roster import Member, Roster, fingerprint, normalise_key

KEY_ENV = "LETTERBOX_SIGNING_KEY"


@dataclass(frozen=True)
class SigningKey:
    path: Path  # the private key file git hands to ssh-keygen (or a .pub file with ssh-agent)
    public: str  # "ssh-ed25519 AAAA…"


def public_key_of(path: Path) -> str:
    """The public key line of a key file: the file itself (.pub), its `.pub` sibling, or what
    `ssh-keygen -y` derives from the private key."""
    candidates = [path] if path.suffix == ".pub" else [Path(f"{path}.pub"), path]
    for candidate in candidates:
        try:
            head = candidate.read_text("utf-8", errors="replace")[:4096].strip()
        except OSError:
            continue
        if head.startswith("ssh-"):
            return normalise_key(head.splitlines()[0])
    try:
        st = path.stat()
    except OSError:
        raise LetterboxError(f"找不到签名密钥文件 {path}。") from None
    return _derived_public_key(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=16)
def _derived_public_key(path: str, _mtime_ns: int, _size: int) -> str:
    """`ssh-keygen -y` once per key file version (a step asks for the signer several times)."""
    result = subprocess.run(["ssh-keygen", "-y", "-f", path], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=30, check=False)
    if result.returncode != 0 or not result.stdout.startswith("ssh-"):
        raise LetterboxError(f"无法从 {path} 读出公钥：请确认这是 SSH ed25519 私钥"
                             "（用 ssh-keygen -t ed25519 生成），或在同一目录放好对应的 .pub 文件。")
    return normalise_key(result.stdout)


def configured_key(repo: git.Repo) -> SigningKey | None:
    """The signing key this user has set up (LETTERBOX_SIGNING_KEY, else git's user.signingkey
    when gpg.format is ssh); None when none is."""
    named = os.environ.get(KEY_ENV, "").strip()
    if not named:
        reader = repo.config_reader()
        if str(reader.get_value("gpg", "format", "")) != "ssh":
            return None
        named = str(reader.get_value("user", "signingkey", "")).strip()
        if not named or named.startswith("key::"):
            return None
    path = Path(os.path.expanduser(named))
    return SigningKey(path, public_key_of(path))


def sign_env(key: SigningKey) -> dict[str, str]:
    """Environment that makes `git commit -S` sign with `key` through SSH, whatever the user's
    own git configuration says."""
    settings = {"gpg.format": "ssh", "user.signingkey": str(key.path)}
    env = {"GIT_CONFIG_COUNT": str(len(settings))}
    for index, (name, value) in enumerate(settings.items()):
        env[f"GIT_CONFIG_KEY_{index}"] = name
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def acting_member(repo: git.Repo, roster: Roster) -> tuple[Member, SigningKey]:
    """The roster member whose key this user signs with; a clear error when there is none."""
    key = configured_key(repo)
    if key is None:
        raise LetterboxError(
            "本案卷库启用了名册，每个办理步骤都要用本人的密钥签名，但还没有设置签名密钥。"
            "请运行一次 `letterbox key use ~/.ssh/id_ed25519`（或设置环境变量 "
            f"{KEY_ENV}），并请管理员把对应的公钥登记到名册（docs/roster.md）。")
    member = roster.by_key(key.public)
    if member is None:
        raise LetterboxError(
            f"签名密钥 {key.path}（{fingerprint(key.public)}）不在名册中：请管理员用 "
            "`letterbox roster add` 登记这把公钥后再办理（docs/roster.md）。")
    return member, key


# -- who signed a commit ---------------------------------------------------------------------

@dataclass(frozen=True)
class Signature:
    status: str  # good | unsigned | invalid | unknown-key
    member: Member | None = None
    key_fingerprint: str | None = None

    @property
    def label(self) -> str:
        if self.status == "good" and self.member:
            return f"{self.member.name}（{self.member.role_label}）"
        return {"unsigned": "未签名", "invalid": "签名无效",
                "unknown-key": f"名册外的密钥 {self.key_fingerprint}"}.get(self.status, self.status)


def split_signature(raw: bytes) -> tuple[bytes, bytes | None]:
    """A commit object's signed payload (the object without its gpgsig header) and signature."""
    head, sep, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    kept: list[bytes] = []
    signature: list[bytes] = []
    inside = False
    for line in lines:
        if line.startswith(b"gpgsig "):
            inside = True
            signature.append(line[len(b"gpgsig "):])
        elif inside and line.startswith(b" "):
            signature.append(line[1:])
        else:
            inside = False
            kept.append(line)
    payload = b"\n".join(kept) + sep + body
    return payload, (b"\n".join(signature) + b"\n") if signature else None


def commit_signature(repo: git.Repo, sha: str, roster: Roster) -> Signature:
    raw = repo.odb.stream(bytes.fromhex(sha)).read()
    payload, armored = split_signature(raw)
    if armored is None:
        return Signature("unsigned")
    try:
        key = sshsig.check_signature(payload, armored, namespace="git")
    except (sshsig.InvalidSignature, NotImplementedError, ValueError):
        return Signature("invalid")
    public = normalise_key(key.openssh_str())
    member = roster.by_key(public)
    return Signature("good" if member else "unknown-key", member, fingerprint(public))


@lru_cache(maxsize=256)
def _config_from_text(text: str) -> Config | None:
    try:
        return parse_config(text, CONFIG_FILE)
    except LetterboxError:
        return None


def config_at(repo: git.Repo, rev: str) -> Config | None:
    """letterbox.yaml as it was at `rev` (None: missing or not valid there)."""
    try:
        blob = repo.commit(rev).tree / CONFIG_FILE
    except (KeyError, ValueError, git.BadName):
        return None
    return _config_from_text(blob.data_stream.read().decode("utf-8", errors="replace"))


def roster_at(repo: git.Repo, rev: str) -> Roster:
    config = config_at(repo, rev)
    return config.roster if config else Roster()


def authorise(repo: git.Repo, config: Config, event: dict, state: State,
              history: Sequence[dict] = ()) -> None:
    """Refuse (StepRefused) a step this user's roster entry may not take now, before anything is
    written: the same rules `check --base` applies to the commit afterwards. No roster: no rule."""
    if not config.roster:
        return
    member, _key = acting_member(repo, config.roster)
    refusal = role_refusal(member, event, state, config, history)
    if refusal:
        raise StepRefused(refusal[1])
    timing = time_refusal(member, event, datetime.now(UTC), config)
    if timing:
        raise StepRefused(timing)
