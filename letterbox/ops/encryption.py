"""Key management of sealed case files (docs/encryption.md): `period new`, the migration
`encrypt`, `rewrap` and `shred`. Each change is one signed commit through the repository's
transaction; only the `encryption:` block of letterbox.yaml is rewritten.

- `new_period(year)`: an age X25519 key for the retention period; the secret goes to the
  period-key folder (`store.keys.period_folder`, file `<year>.key`, mode 0600, never
  overwritten), the public key to `encryption.periods`.
- `encrypt()`: every clear letter sealed to its readers (office, units that hold or held it,
  leaders it was escalated to) and its period's key, the handling forms replaced by forms
  without the writer's data, in one commit; already sealed letters are left as they are.
- `rewrap(codes)`: share A of sealed letters wrapped again to the current readers (a new office
  member, someone who left).
- `shred(period)`: the period recorded in `encryption.shredded` and its local key file deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from letterbox.core import sealing
from letterbox.core.config import CONFIG_FILE, Config, parse_config
from letterbox.core.errors import LetterboxError
from letterbox.core.letter import Letter, read_letter
from letterbox.core.process import parse_time
from letterbox.core.roster import ADMIN_ROLES, Member
from letterbox.ops import forms
from letterbox.store import keys, signing
from letterbox.store.repository import Actor, Repository, Transaction, _atomic_write

OFFICE_ROLES = frozenset({"office", "office-admin"})
_BLOCK_START = re.compile(r"^encryption\s*:")
_YEAR = re.compile(r"^[0-9]{4}$")
BLOCK_COMMENT = ("  # 加密保存（docs/encryption.md）。保存期私钥不在本库中，由 letterbox period new 生成；\n"
                 "  # retention_years：保存年限，到期后 letterbox shred --due 销毁该年的保存期密钥")


# -- the encryption block of letterbox.yaml ---------------------------------------------------

def _block_lines(section: dict[str, Any]) -> list[str]:
    lines = ["encryption:", *BLOCK_COMMENT.split("\n")]
    lines.append(f"  suite: {section.get('suite') or sealing.SUITE}")
    fields = section.get("fields") or list(sealing.DEFAULT_FIELDS)
    lines.append(f"  fields: [{', '.join(fields)}]")
    if section.get("retention_years") is not None:
        lines.append(f"  retention_years: {int(section['retention_years'])}")
    periods = section.get("periods") or {}
    if periods:
        lines.append("  periods:")
        lines.extend(f'    "{year}": {periods[year]}' for year in sorted(periods, key=str))
    else:
        lines.append("  periods: {}")
    shredded = section.get("shredded") or []
    if shredded:
        lines.append(f"  shredded: [{', '.join(json.dumps(str(y)) for y in sorted(shredded))}]")
    return lines


def replace_encryption_block(text: str, section: dict[str, Any]) -> str:
    """`text` with its top-level `encryption:` block replaced by `section` (appended when absent);
    every other line of the file stays as it is."""
    lines = text.splitlines()
    block = _block_lines(section)
    start = next((i for i, line in enumerate(lines) if _BLOCK_START.match(line)), None)
    if start is None:
        while lines and not lines[-1].strip():
            lines.pop()
        return "\n".join([*lines, "", *block]) + "\n"
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t-"):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():  # keep the blank lines after the block
        end -= 1
    return "\n".join([*lines[:start], *block, *lines[end:]]) + "\n"


def _section(config: Config) -> dict[str, Any]:
    raw = config.raw.get("encryption") or {}
    return {"suite": raw.get("suite", sealing.SUITE), "fields": list(raw.get("fields") or sealing.DEFAULT_FIELDS),
            "retention_years": raw.get("retention_years"),
            "periods": {str(k): str(v) for k, v in (raw.get("periods") or {}).items()},
            "shredded": [str(x) for x in raw.get("shredded") or ()]}


def _config_text(repo: Repository, section: dict[str, Any]) -> str:
    text = replace_encryption_block((repo.root / CONFIG_FILE).read_text("utf-8"), section)
    parse_config(text, CONFIG_FILE)  # a refused change is said before anything is written
    return text


# -- who acts -----------------------------------------------------------------------------------

def _member(repo: Repository, roles: frozenset[str], what: str) -> Member:
    roster = repo.config.roster
    if not any(m.role in OFFICE_ROLES for m in roster.members):
        raise LetterboxError(
            f"{what}需要名册，且名册中至少有一位信箱办公室人员（他们的密钥是阅读密钥）："
            "请先用 letterbox roster add 登记（docs/roster.md）。")
    member, _key = signing.acting_member(repo.git, roster)
    if member.role not in roles:
        who = "信箱办公室管理员" if roles == ADMIN_ROLES else "信箱办公室人员"
        raise LetterboxError(f"{what}只能由{who}办理；{member.name} 是{member.role_label}。")
    return member


# -- whose keys a letter is wrapped to -----------------------------------------------------------

def letter_readers(config: Config, data: dict[str, Any]) -> list[str]:
    """The SSH keys a letter is wrapped to now (`sealing.letter_readers`: the office, the units
    that hold or held it, the leaders it was escalated to), by the roster in force."""
    return sealing.letter_readers(config.roster.members, data.get("history") or ())


def period_of(config: Config, data: dict[str, Any]) -> str:
    """The retention period of a letter: the year of its submission, local time."""
    return f"{parse_time(str(data['submitted_at'])).astimezone(config.tz).year:04d}"


# -- period keys --------------------------------------------------------------------------------

def _check_year(year: str) -> str:
    year = str(year).strip()
    if not _YEAR.match(year):
        raise LetterboxError(f"保存期应是四位年份（如 2026），而不是 {year!r}。")
    return year


def _write_secret(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise LetterboxError(f"{path} 已存在：不会覆盖已有的保存期密钥（覆盖会让该年的来信再也无法读取）。") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o600)


@contextlib.contextmanager
def _new_key_files(repo: Repository) -> Iterator[Callable[[Path, str], None]]:
    """Write new period key files; they are removed again unless the commit lands."""
    written: list[Path] = []
    head = repo.head()

    def write(path: Path, secret: str) -> None:
        _write_secret(path, secret)
        written.append(path)

    try:
        yield write
    except BaseException:
        if repo.head() == head:
            for path in written:
                path.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class NewPeriod:
    period: str
    public: str
    secret_file: Path
    commit: str


def new_period(repo: Repository, year: str) -> NewPeriod:
    year = _check_year(year)
    member = _member(repo, ADMIN_ROLES, "生成保存期密钥")
    config = repo.config
    section = _section(config)
    if year in section["shredded"]:
        raise LetterboxError(f"保存期 {year} 已经销毁（encryption.shredded），不能再为它生成密钥。")
    if year in section["periods"]:
        raise LetterboxError(f"保存期 {year} 已有公钥（encryption.periods）：不会替换，否则持有旧密钥的人无法再读该年的来信。")
    path = keys.period_folder(repo.git, config) / f"{year}{keys.PERIOD_SUFFIX}"
    if path.exists():
        raise LetterboxError(f"{path} 已存在：不会覆盖已有的保存期密钥。")
    secret, public = sealing.new_period_key()
    section["periods"][year] = public
    text = _config_text(repo, section)
    with _new_key_files(repo) as write, repo.transaction() as tx:
        write(path, secret)
        tx.write(PurePosixPath(CONFIG_FILE), text)
        sha = tx.commit(f"Encryption: period {year} key {public}", Actor(member.name))
    return NewPeriod(year, public, path, sha)


# -- the migration ------------------------------------------------------------------------------

def _form_for(repo: Repository, letter: Letter, sealed: dict[str, Any]) -> str | None:
    """The committed handling form of a letter being sealed, rendered again as a sealed letter's
    form (`ops.forms`: without the writer's data and the letter's text; `letterbox form` prints
    the full one locally). None when the letter has no form."""
    path = forms.handling_form_path(letter)
    event = letter.last_event("escalate")
    details = event.get("details") if event else None
    if not (repo.root / path).exists() or not isinstance(details, dict) or not details.get("leader"):
        return None
    return forms.render_handling_form(repo.config, Letter(letter.path, sealing.sealed_form(sealed)))


@dataclass(frozen=True)
class Migration:
    sealed: list[str]
    already: int
    forms: list[str]
    periods_created: list[NewPeriod]
    commit: str | None


def encrypt(repo: Repository, new_periods: bool = False) -> Migration:
    """Seal every clear letter in one commit (nothing when all are sealed already)."""
    member = _member(repo, ADMIN_ROLES, "加密迁移（letterbox encrypt）")
    config = repo.config
    section = _section(config)
    loaded = [read_letter(repo.root, p) for p in repo.letter_paths()]
    clear = [letter for letter in loaded if not letter.sealed]
    already = len(loaded) - len(clear)
    if not clear:
        return Migration([], already, [], [], None)
    wanted = sorted({period_of(config, letter.data) for letter in clear})
    gone = [y for y in wanted if y in section["shredded"]]
    if gone:
        raise LetterboxError(f"保存期 {'、'.join(gone)} 已销毁，不能再把该年的来信加密到它。")
    missing = [y for y in wanted if y not in section["periods"]]
    folder = keys.period_folder(repo.git, config)
    if missing and not new_periods:
        raise LetterboxError(
            f"以下保存期还没有密钥：{'、'.join(missing)}。请先运行 "
            + "；".join(f"letterbox period new {y}" for y in missing)
            + "（或 letterbox encrypt --new-periods 一并生成）。")
    for year in missing:
        if (folder / f"{year}{keys.PERIOD_SUFFIX}").exists():
            raise LetterboxError(f"{folder / (year + keys.PERIOD_SUFFIX)} 已存在，但 letterbox.yaml 中没有它的公钥："
                                 "不会覆盖。请核对后移走该文件，或把它的公钥写入 encryption.periods。")
    created = {year: sealing.new_period_key() for year in missing}
    for year, (_secret, public) in created.items():
        section["periods"][year] = public
    text = _config_text(repo, section) if (created or not config.encryption) else None
    fields = list(section["fields"])
    files: list[tuple[PurePosixPath, str]] = []
    form_paths: list[str] = []
    codes: list[str] = []
    for letter in clear:
        data = letter.data
        period = period_of(config, data)
        people = letter_readers(config, data)
        block = sealing.seal({f: data[f] for f in fields if f in data}, letter.code, people, period,
                             section["periods"][period])
        sealed = Letter(letter.path, {**data, "sealed": block})
        files.append((letter.path, sealed.to_yaml()))
        codes.append(letter.code)
        form = _form_for(repo, letter, sealed.data)
        if form is not None:
            path = forms.handling_form_path(letter)
            files.append((path, form))
            form_paths.append(str(path))
    message = f"Encryption: seal {len(codes)} letters (migration to sealed case files)"
    with _new_key_files(repo) as write, repo.transaction() as tx:
        for year, (secret, _public) in created.items():
            write(folder / f"{year}{keys.PERIOD_SUFFIX}", secret)
        if text is not None:
            tx.write(PurePosixPath(CONFIG_FILE), text)
        _write_all(tx, files)
        sha = tx.commit(message, Actor(member.name))
    made = [NewPeriod(y, p, folder / f"{y}{keys.PERIOD_SUFFIX}", sha) for y, (_s, p) in created.items()]
    return Migration(codes, already, form_paths, made, sha)


def _write_all(tx: Transaction, files: Iterable[tuple[PurePosixPath, str]]) -> None:
    """Write many files in the transaction with ONE journal record of their old contents.
    (`Transaction.write` rewrites the journal for each file: quadratic for a migration of
    10 000 letters.) Uses `Transaction.write_many` when the store offers it."""
    files = list(files)
    many = getattr(tx, "write_many", None)
    if many is not None:
        many(files)
        return
    for path, _text in files:
        key = str(path)
        if key not in tx.backups:
            target = tx.repo.root / key
            tx.backups[key] = target.read_text("utf-8") if target.exists() else None
    tx._write_journal()  # before any file changes: a killed run is undone from it
    for path, text in files:
        _atomic_write(tx.repo.root / str(path), text)


# -- rewrap -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rewrap:
    rewrapped: list[str]
    unchanged: int
    commit: str | None


def rewrap(repo: Repository, codes: Iterable[str] = (), everything: bool = False) -> Rewrap:
    """Wrap share A of the chosen sealed letters to their current readers, in one commit. A letter
    whose readers are already its recipients is left as it is."""
    member = _member(repo, OFFICE_ROLES, "重新授权（letterbox rewrap）")
    config = repo.config
    if config.encryption is None:
        raise LetterboxError("本案卷库没有启用加密保存（letterbox.yaml 没有 encryption 一节）。")
    chosen = [code.strip() for code in codes]
    if not everything and not chosen:
        raise LetterboxError("请给出信件编码，或用 --all 处理全部加密的来信。")
    paths = repo.letter_paths() if everything else [repo.path_of(code) for code in chosen]
    keyring = keys.keyring(repo.git, config, required=True)
    shredded = set(config.encryption.shredded)
    files: list[tuple[PurePosixPath, str]] = []
    done: list[str] = []
    unchanged = 0
    refused: list[str] = []
    for path in paths:
        letter = read_letter(repo.root, path)
        block = letter.data.get("sealed")
        if not isinstance(block, dict):
            if not everything:
                raise LetterboxError(f"信件 {letter.code} 没有加密保存，无需重新授权（可先运行 letterbox encrypt）。")
            continue
        if str(block.get("period")) in shredded:
            unchanged += 1
            continue
        people = letter_readers(config, letter.data)
        if sealing.recipients_of(people) == sorted(block.get("recipients") or ()):
            unchanged += 1
            continue
        try:
            new = sealing.rewrap(block, keyring, people)
        except sealing.SealError:
            refused.append(letter.code)
            continue
        files.append((letter.path, Letter(letter.path, {**letter.data, "sealed": new}).to_yaml()))
        done.append(letter.code)
    if refused:
        shown = "、".join(refused[:10]) + (f" 等 {len(refused)} 封" if len(refused) > 10 else "")
        raise LetterboxError(f"你的密钥不能打开 {shown}（不在其收件人中），没有做任何修改。"
                             "请由能阅读这些来信的信箱办公室人员运行 letterbox rewrap。")
    if not files:
        return Rewrap([], unchanged, None)
    with repo.transaction() as tx:
        _write_all(tx, files)
        sha = tx.commit(f"Encryption: rewrap {len(done)} letters to their current readers", Actor(member.name))
    return Rewrap(done, unchanged, sha)


# -- shredding ----------------------------------------------------------------------------------

def due_periods(config: Config, today: date) -> list[str]:
    """The periods past `retention_years`: a letter of year Y is kept through year Y + N."""
    enc = config.encryption
    if enc is None:
        return []
    if not enc.retention_years:
        raise LetterboxError("letterbox.yaml 的 encryption 一节没有 retention_years（保存年限），"
                             "无法判断哪些保存期到期：请写明年限，或用 --period 指定年份。")
    return sorted(y for y in enc.periods if y not in enc.shredded and int(y) + enc.retention_years < today.year)


@dataclass(frozen=True)
class Shredded:
    periods: list[str]
    deleted: list[Path]
    not_here: list[Path]
    commit: str | None


def shred(repo: Repository, periods: Iterable[str], today: date | None = None) -> Shredded:
    member = _member(repo, ADMIN_ROLES, "销毁保存期密钥（letterbox shred）")
    config = repo.config
    if config.encryption is None:
        raise LetterboxError("本案卷库没有启用加密保存（letterbox.yaml 没有 encryption 一节）。")
    today = today or datetime.now(config.tz).date()
    section = _section(config)
    chosen = sorted({_check_year(p) for p in periods})
    for year in chosen:
        if year not in section["periods"]:
            raise LetterboxError(f"没有保存期 {year}（encryption.periods 中没有它）。")
        if int(year) >= today.year:
            raise LetterboxError(f"保存期 {year} 还没有结束（今年是 {today.year} 年），不能销毁：该年的来信可能仍在办理。")
    fresh = [y for y in chosen if y not in section["shredded"]]
    folder = keys.period_folder(repo.git, config)
    files = [folder / f"{y}{keys.PERIOD_SUFFIX}" for y in chosen]
    if not fresh:
        deleted = _destroy([f for f in files if f.exists()])
        return Shredded([], deleted, [], None)
    section["shredded"] = sorted({*section["shredded"], *fresh})
    text = _config_text(repo, section)
    with repo.transaction() as tx:
        tx.write(PurePosixPath(CONFIG_FILE), text)
        sha = tx.commit(f"Encryption: shred period {', '.join(fresh)} (period key destroyed)", Actor(member.name))
    present = [f for f in files if f.exists()]
    return Shredded(fresh, _destroy(present), [f for f in files if f not in present], sha)


def _destroy(paths: list[Path]) -> list[Path]:
    """Overwrite, then delete, each key file (the overwrite is a courtesy: a copy-on-write file
    system or a backup may keep the old blocks, which is why docs/encryption.md asks holders to
    destroy their copies)."""
    for path in paths:
        with contextlib.suppress(OSError):
            size = path.stat().st_size
            with open(path, "r+b") as handle:
                handle.write(b"\0" * size)
                handle.flush()
                os.fsync(handle.fileno())
        path.unlink(missing_ok=True)
    return paths
