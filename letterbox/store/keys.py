"""Where this user's reading keys are (docs/encryption.md):

- the person's SSH ed25519 private key (the roster key they also sign with): the file named by
  LETTERBOX_IDENTITY, else by LETTERBOX_SIGNING_KEY, else git's `user.signingkey` (set by
  `letterbox key use`); a passphrase-protected key is opened with LETTERBOX_KEY_PASSPHRASE
  (ssh-agent cannot decrypt: age needs the key itself);
- the retention-period keys (`AGE-SECRET-KEY-1…`, one file `<period>.key` each), held outside
  the repository: the folder named by LETTERBOX_PERIOD_KEYS, else git's `letterbox.periodkeys`,
  else ~/.config/letterbox/period-keys/<letter code prefix>/.

Nothing is cached on disk and no private key ever enters the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import git
from cryptography.hazmat.primitives import serialization

from letterbox.core.config import Config
from letterbox.core.errors import LetterboxError
from letterbox.core.sealing import Keyring
from letterbox.store import signing

IDENTITY_ENV = "LETTERBOX_IDENTITY"
PASSPHRASE_ENV = "LETTERBOX_KEY_PASSPHRASE"
PERIODS_ENV = "LETTERBOX_PERIOD_KEYS"
PERIOD_SUFFIX = ".key"


def identity_file(repo: git.Repo) -> Path | None:
    """The SSH private key file this user reads with, if one is named."""
    for name in (IDENTITY_ENV, signing.KEY_ENV):
        value = os.environ.get(name, "").strip()
        if value:
            return Path(os.path.expanduser(value))
    reader = repo.config_reader()
    named = str(reader.get_value("user", "signingkey", "")).strip()
    if named and not named.startswith("key::"):
        path = Path(os.path.expanduser(named))
        return path if path.suffix != ".pub" else path.with_suffix("")
    return None


def _private_key_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError:
        raise LetterboxError(f"无法读取阅读密钥 {path}：请确认文件存在且本人可读"
                             f"（{IDENTITY_ENV} 或 letterbox key use 所设的私钥）。") from None
    passphrase = os.environ.get(PASSPHRASE_ENV)
    try:
        key = serialization.load_ssh_private_key(raw, password=passphrase.encode() if passphrase else None)
    except (ValueError, TypeError) as exc:
        if "password" in str(exc).lower() or "encrypted" in str(exc).lower():
            raise LetterboxError(f"阅读密钥 {path} 有口令保护：请在环境变量 {PASSPHRASE_ENV} 中提供口令"
                                 "（或使用无口令的专用密钥）。") from None
        raise LetterboxError(f"{path} 不是 SSH ed25519 私钥。") from None
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                             serialization.NoEncryption())


def period_folder(repo: git.Repo, config: Config) -> Path:
    value = os.environ.get(PERIODS_ENV, "").strip()
    if not value:
        value = str(repo.config_reader().get_value("letterbox", "periodkeys", "")).strip()
    if value:
        return Path(os.path.expanduser(value))
    return Path.home() / ".config" / "letterbox" / "period-keys" / config.prefix


def period_keys(folder: Path) -> tuple[tuple[str, str], ...]:
    if not folder.is_dir():
        return ()
    found = []
    for path in sorted(folder.glob(f"*{PERIOD_SUFFIX}")):
        try:
            secret = path.read_text("ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if secret.startswith("AGE-SECRET-KEY-1"):
            found.append((path.name[: -len(PERIOD_SUFFIX)], secret))
    return tuple(found)


def keyring(repo: git.Repo, config: Config, required: bool = False) -> Keyring:
    """This user's keyring; empty when no key is named (`required`: a clear error instead)."""
    path = identity_file(repo)
    if path is None:
        if required:
            raise LetterboxError(
                "这项操作要读取加密保存的来信内容，但没有找到阅读密钥。请用 letterbox key use 私钥文件 "
                f"设置本人密钥（或设置环境变量 {IDENTITY_ENV}），并确认保存期密钥在 "
                f"{period_folder(repo, config)}（或环境变量 {PERIODS_ENV} 所指目录）。")
        return Keyring()
    return Keyring((_private_key_bytes(path),), period_keys(period_folder(repo, config)))
