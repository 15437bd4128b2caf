"""The git-backed case store: the only module that writes files in cases/ or touches git.

Every write is a transaction: under a lock, with termination signals held back, files are
written atomically, staged and committed as one commit; on any failure the files and the
index return to HEAD. A journal in .git/ lets the next transaction undo one that was killed.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

import git
from filelock import FileLock, Timeout

from letterbox.core import codes
from letterbox.core.config import Config, load_config
from letterbox.core.errors import LetterboxError, NotFound
from letterbox.core.letter import CASES_DIR, Letter
from letterbox.core.sealing import Keyring
from letterbox.store import index, keys, loader, signing

LOCK_TIMEOUT = 120.0
_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


@dataclass(frozen=True)
class Actor:
    name: str
    email: str = "letterbox@localhost"


def find_root(start: Path) -> Path:
    try:
        top = git.Repo(start, search_parent_directories=True).working_tree_dir
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise LetterboxError(
            f"{start} 不在 git 仓库中。请用 --repo 或环境变量 LETTERBOX_REPO 指定案卷库，"
            "或先用 `letterbox init 目录` 新建。"
        ) from None
    return Path(str(top))


class Repository:
    """A case repository: configuration, letters, and transactional writes."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        try:
            self.git = git.Repo(self.root)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise LetterboxError(f"{self.root} 不是 git 仓库。") from None

    @classmethod
    def discover(cls, start: Path | None = None) -> Repository:
        return cls(find_root(start or Path.cwd()))

    @cached_property
    def config(self) -> Config:
        return load_config(self.root)

    @property
    def git_dir(self) -> Path:
        return Path(self.git.git_dir)

    def default_actor(self) -> Actor:
        reader = self.git.config_reader()
        name = str(reader.get_value("user", "name", "")) or "letterbox"
        email = str(reader.get_value("user", "email", "")) or "letterbox@localhost"
        return Actor(name, email)

    def actor(self, typed: str | None = None) -> Actor:
        """Who takes a step. With a roster: the member whose key this user signs with (`--as`,
        when given, must name that member); without one: `--as`, else git's user name."""
        roster = self.config.roster
        if not roster:
            return Actor(typed) if typed else self.default_actor()
        member, _key = signing.acting_member(self.git, roster)
        if typed and typed.strip() != member.name:
            raise LetterboxError(
                f"--as 与签名密钥不符：这把密钥在名册中属于“{member.name}”"
                f"（{member.role_label}）。办理人由签名密钥决定，不必再写 --as。")
        return Actor(member.name, self.default_actor().email)

    # -- reading -----------------------------------------------------------------------
    def letter_paths(self) -> list[PurePosixPath]:
        """Every case file in cases/, also one at the wrong depth (validate names it)."""
        return loader.case_paths(self.root)

    def path_of(self, code: str) -> PurePosixPath:
        canonical = codes.normalise_letter_code(code)
        parsed = codes.parse_letter_code(canonical) if canonical else None
        if parsed:
            base = self.root / CASES_DIR / f"{parsed[1]:04d}"
            hits = sorted(base.glob(f"*/{canonical}.yaml")) if base.is_dir() else []
            if hits:
                return PurePosixPath(hits[0].relative_to(self.root).as_posix())
        raise NotFound(f"找不到信件 {code.strip()}：cases/ 中没有这个编码的案卷。")

    def letter(self, code: str, keyring: Keyring | None = None) -> Letter:
        """The letter `code` (opened with `keyring` when sealed; see `loader.open_letter`);
        LetterboxError naming the problems when its file does not read."""
        path = self.path_of(code)
        result = loader.read(self.root, path, keyring=keyring)
        if isinstance(result, Letter):
            return result
        raise LetterboxError(f"{path}: 无法读取案卷文件。", result)

    def load(self, **options: Any) -> loader.Loaded:
        """Every case file read: the letters and the problems of the files that are none
        (`loader.load`'s options: lines, cache, pool, workers, keyring)."""
        return loader.load(self.root, self.letter_paths(), **options)

    def indexed(self, want: index.Want = index.everything, keyring: Keyring | None = None) -> index.Indexed:
        """The letters whose index entry `want` accepts (sealed ones opened with `keyring`) and
        the problems of every case file that gives no letter, through the letters index
        (`store/index.py`: only files changed since they were last read are read)."""
        return index.load(self.root, self.git_dir, want, keyring=keyring)

    def letter_codes(self) -> frozenset[str]:
        """The codes the case files are named by."""
        return index.file_codes(self.root)

    def letters(self, keyring: Keyring | None = None) -> list[Letter]:
        """The letters of every case file that reads (sealed ones opened with `keyring`);
        `load()` also gives the problems."""
        return self.load(keyring=keyring).letters

    def keyring(self, required: bool = False) -> Keyring | None:
        """This user's reading keys (`keys.keyring`: where they are looked for) when the
        repository seals letters (an `encryption` section); None when it does not."""
        if self.config.encryption is None:
            return None
        return keys.keyring(self.git, self.config, required=required)

    def require_keys(self, letters: list[Letter], keyring: Keyring | None) -> None:
        """LetterboxError (where keys are looked for) when a letter is sealed and `keyring`
        holds no person's key or no period key at all: a command that needs the clear text
        stops before it writes anything. A letter that one present key cannot open (shredded
        period, not a recipient) is the caller's to hold back or skip."""
        if not any(x.sealed for x in letters):
            return
        if not keyring:
            keys.keyring(self.git, self.config, required=True)  # raises when no key is named
            raise LetterboxError(
                "案卷中有加密保存的信件，但 letterbox.yaml 没有 encryption 设置，无法解密。")
        if not keyring.period_keys:
            raise LetterboxError(
                "这项操作要读取加密保存的来信内容，但没有找到任何保存期密钥（<年份>.key）。请把"
                f"保存期密钥放在 {keys.period_folder(self.git, self.config)}，或用环境变量 "
                f"{keys.PERIODS_ENV} 指定所在目录。")

    def codes_in_year(self, year: int) -> list[str]:
        """The codes of the files cases/<year>/*/<prefix>-<year>-*.yaml, sorted (from kept folder
        listings: `index.year_codes`)."""
        return index.year_codes(self.root, self.config.prefix, year)

    def next_letter_code(self, year: int) -> str:
        """Next code in the year's gap-free sequence; call inside a transaction."""
        last = index.last_sequence(self.root, self.git_dir, self.config.prefix, year)  # of `codes_in_year`
        return codes.letter_code(self.config.prefix, year, last + 1)

    def exists(self, code: str) -> bool:
        try:
            self.path_of(code)
        except NotFound:
            return False
        return True

    def head(self) -> str:
        return self.git.head.commit.hexsha

    def close(self) -> None:
        """End the git helper processes GitPython keeps for this repository (`cat-file --batch`),
        which would otherwise live until garbage collection."""
        self.git.close()

    # -- writing -----------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Lock, hold back signals, recover a killed transaction, then yield a Transaction."""
        lock = FileLock(str(self.git_dir / "letterbox.lock"))
        try:
            lock.acquire(timeout=LOCK_TIMEOUT)
        except Timeout:
            raise LetterboxError("另一项操作正在修改案卷库，等待超时，请稍后重试。") from None
        try:
            with _signals_held():
                recover(self)
                tx = Transaction(self)
                try:
                    yield tx
                except BaseException:
                    tx.rollback()
                    raise
                if tx.pending:
                    tx.rollback()
                    raise LetterboxError("内部错误：写入的文件没有提交，已撤销。")
        finally:
            lock.release()


class Transaction:
    """Files written in one transaction and committed together as one commit."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.head_before = repo.head()
        self.backups: dict[str, str | None] = {}
        self.journal = repo.git_dir / "letterbox-txn.json"

    @property
    def pending(self) -> bool:
        return bool(self.backups)

    def write(self, path: PurePosixPath, text: str) -> None:
        key = str(path)
        target = self.repo.root / key
        if key not in self.backups:
            self.backups[key] = target.read_text("utf-8") if target.exists() else None
            self._write_journal()
        _atomic_write(target, text)

    def commit(self, message: str, actor: Actor) -> str:
        """Commit the written files as `actor`, signed with the user's key when one is set up;
        with a roster the key is required and the commit is its member's."""
        paths = list(self.backups)
        env = {
            "GIT_AUTHOR_NAME": actor.name, "GIT_AUTHOR_EMAIL": actor.email,
            "GIT_COMMITTER_NAME": actor.name, "GIT_COMMITTER_EMAIL": actor.email,
        }
        roster = self.repo.config.roster
        key: signing.SigningKey | None = None
        if roster:  # the commit is the signer's, whoever the event names (a writer's rating)
            member, key = signing.acting_member(self.repo.git, roster)
            env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = member.name
        else:
            with contextlib.suppress(LetterboxError):
                key = signing.configured_key(self.repo.git)
        sign = ["-S"] if key else []
        if key:
            env.update(signing.sign_env(key))
        self.repo.git.git.add("--", *paths)
        try:
            self.repo.git.git.commit("--no-verify", "-q", *sign, "-m", message, "--", *paths, env=env)
        except git.GitCommandError as exc:
            if not key:
                raise
            said = " ".join(str(exc.stderr or "").split())[:300]
            raise LetterboxError(
                f"用签名密钥 {key.path} 签名提交失败，未保存任何改动。请确认 ssh-keygen 可用、私钥文件只有本人可读"
                f"（chmod 600），有口令的密钥已加入 ssh-agent。git 的说明：{said}") from None
        sha = self.repo.head()
        self.backups.clear()
        self.journal.unlink(missing_ok=True)
        return sha

    def rollback(self) -> None:
        if self.repo.head() != self.head_before:  # the commit landed: nothing to undo
            self.backups.clear()
            self.journal.unlink(missing_ok=True)
            return
        _restore(self.repo, self.backups)
        self.backups.clear()
        self.journal.unlink(missing_ok=True)

    def _write_journal(self) -> None:
        record = {
            "head": self.head_before,
            "files": {
                k: None if v is None else base64.b64encode(v.encode("utf-8")).decode("ascii")
                for k, v in self.backups.items()
            },
        }
        _atomic_write(self.journal, json.dumps(record))


def _restore(repo: Repository, backups: dict[str, str | None]) -> None:
    # a git killed inside `git commit` leaves index.lock behind, and `git reset` needs it gone
    (repo.git_dir / "index.lock").unlink(missing_ok=True)
    for key, old in backups.items():
        target = repo.root / key
        if old is None:
            target.unlink(missing_ok=True)
        else:
            _atomic_write(target, old)
    if backups:
        with contextlib.suppress(git.GitCommandError):
            repo.git.git.reset("-q", "HEAD", "--", *backups)


def _remove_temp_files(folder: Path) -> None:
    """Half-written `_atomic_write` files of a killed process (only ever made under the lock)."""
    for stray in folder.glob(".tmp-*"):
        with contextlib.suppress(OSError):
            stray.unlink()


def recover(repo: Repository) -> None:
    """Clean up after a transaction that was killed: undo its files if its commit did not land;
    remove half-written temporary files and a stale index.lock either way. Call under the lock."""
    _remove_temp_files(repo.git_dir)
    journal = repo.git_dir / "letterbox-txn.json"
    if not journal.exists():
        return
    try:
        record = json.loads(journal.read_text("utf-8"))
        files = {
            k: None if v is None else base64.b64decode(v).decode("utf-8")
            for k, v in record.get("files", {}).items()
        }
    except (OSError, ValueError):
        journal.unlink(missing_ok=True)
        return
    for key in files:
        _remove_temp_files((repo.root / key).parent)
    if repo.head() == record.get("head"):
        _restore(repo, files)
    else:  # the commit landed; git may have died before it released the index
        (repo.git_dir / "index.lock").unlink(missing_ok=True)
        if files:
            with contextlib.suppress(git.GitCommandError):
                repo.git.git.reset("-q", "HEAD", "--", *files)
    journal.unlink(missing_ok=True)


def _atomic_write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP until the block ends (main thread only; children inherit)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
