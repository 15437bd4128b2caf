"""Problems in case files: schema, then cross-field rules. Every problem has a file and a line.

Rules are small functions in LETTER_RULES, each returning a list of problems (beancount's
BASIC_VALIDATIONS); validation never stops at the first problem.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from functools import lru_cache
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import yaml

from letterbox.core import codes, schemas
from letterbox.core.clock import work_calendar
from letterbox.core.config import Config, load_config
from letterbox.core.errors import LetterboxError, Problem
from letterbox.core.facts import fold
from letterbox.core.letter import Letter, letter_path
from letterbox.core.process import FOLLOWED, IllegalStep, action_label, parse_time, replay
from letterbox.core.roster import STEP_ROLES, Roster
from letterbox.core.sealing import DEFAULT_FIELDS, recipient_tag, wrapped_tags
from letterbox.core.yamlio import locate, path_str
from letterbox.ops.notify import outbox
from letterbox.store.blobs import blob_id, blob_ids, start_clean_ids
from letterbox.store.cache import remade_when_damaged
from letterbox.store.loader import POOL_MIN, case_bytes, case_names, decode, read
from letterbox.store.repository import Repository


@dataclass(frozen=True)
class Context:
    config: Config
    known_codes: frozenset[str]
    root: Path | None = None  # the repository, for rules that need its calendar (reviews) or
    # the day a linked letter was received (links back only)


def _at(letter: Letter, path: tuple[str | int, ...], message: str, severity: str = "error") -> Problem:
    line, col = locate(letter.lines, path)
    return Problem(file=str(letter.path), line=line, column=col, field=path_str(path),
                   message=message, severity=severity)  # type: ignore[arg-type]


def rule_path(letter: Letter, ctx: Context) -> list[Problem]:
    code = letter.code
    if not code.startswith(f"{ctx.config.prefix}-"):
        return [_at(letter, ("letter_code",), f"信件编码应以本库前缀 {ctx.config.prefix}- 开头。")]
    try:
        moment = parse_time(letter.data["submitted_at"])
        problem = ctx.config.time_problem(moment)
        local = moment.astimezone(ZoneInfo(ctx.config.time_zone))
    except (ValueError, TypeError):
        return [_at(letter, ("submitted_at",), "不是有效的时间，应如 2026-03-02T09:15:00+08:00。")]
    except OverflowError:
        problem = "超出可计算的范围（如 9999 年）"
    if problem:  # a placeholder date (9999-12-31, 1900-01-01) or a clock set wrong
        return [_at(letter, ("submitted_at",), f"提交时间{problem}。")]
    problems = []
    expected = letter_path(code, local)
    if letter.path != expected:
        problems.append(_at(letter, ("letter_code",),
                            f"文件位置与信件编码、提交时间不符：应为 {expected}。"))
    if code[len(ctx.config.prefix) + 1 :][:4] != f"{local.year:04d}":
        problems.append(_at(letter, ("letter_code",), f"信件编码中的年份应为提交年份 {local.year}。"))
    return problems


ORDER_NOTE = "按收信日期先后，同一天收到的按信件编码"


def received_day(root: Path, code: str, config: Config) -> date | None:
    """The local day letter ``code`` of the repository at ``root`` was received (submitted_at),
    or None when its file is missing or unreadable. Its folder is cases/<year>/<month>/."""
    parsed = codes.parse_letter_code(code)
    if parsed is None:
        return None
    for path in sorted((root / "cases" / f"{parsed[1]:04d}").glob(f"*/{code}.yaml")):
        try:
            letter = decode(path.read_bytes(), PurePosixPath(path.relative_to(root).as_posix()),
                            lines=False)
            if not isinstance(letter, Letter):
                return None
            return letter.submitted_at.astimezone(ZoneInfo(config.time_zone)).date()
        except (OSError, KeyError, TypeError, ValueError, OverflowError):
            return None
    return None


def _days(ctx: Context, target: str, letter: Letter) -> tuple[date | None, date | None]:
    """The days of receipt of the linked letter and of ``letter`` (None when unknown: the
    comparison then falls back to the codes)."""
    if ctx.root is None:
        return None, None
    try:
        own = letter.submitted_at.astimezone(ZoneInfo(ctx.config.time_zone)).date()
    except (KeyError, TypeError, ValueError, OverflowError):
        return None, None
    return received_day(ctx.root, target, ctx.config), own


def rule_links(letter: Letter, ctx: Context) -> list[Problem]:
    problems = []
    target = letter.data.get("follows_up")
    if target and (target == letter.code or target not in ctx.known_codes):
        problems.append(_at(letter, ("follows_up",), f"前信编码 {target} 在案卷库中不存在（或指向本信）。"))
    elif target and not codes.received_before(str(target), letter.code,
                                              *_days(ctx, str(target), letter)):
        problems.append(_at(letter, ("follows_up",), f"前信 {target} 不比本信收到得早：后续来信只能指向更早收到的来信"
                                                     f"（{ORDER_NOTE}）。"))
    for i, event in enumerate(letter.history):
        details = event.get("details") or {}
        of = details.get("of")
        if of and of not in ctx.known_codes:
            problems.append(_at(letter, ("history", i, "details", "of"), f"信件 {of} 不存在。"))
        elif of and not codes.received_before(str(of), letter.code, *_days(ctx, str(of), letter)):
            problems.append(_at(letter, ("history", i, "details", "of"),
                                f"信件 {of} 不比本信收到得早：不予受理所指的前信只能是更早收到的来信"
                                f"（{ORDER_NOTE}）。"))
        for path, ref in _group_refs(event):
            if ref == letter.code:
                problems.append(_at(letter, ("history", i, *path), f"合并办理不能指向本信 {ref}。"))
            elif ref not in ctx.known_codes:
                problems.append(_at(letter, ("history", i, *path), f"合并办理所写的信件 {ref} 不存在。"))
        for j, unit in enumerate(details.get("units") or []):
            if unit not in {u.code for u in ctx.config.units}:
                problems.append(_at(letter, ("history", i, "details", "units", j),
                                    f"承办单位代码 {unit} 不在 letterbox.yaml 的单位名录中。"))
        leader = details.get("leader")
        if leader and leader not in {x.code for x in ctx.config.leaders}:
            problems.append(_at(letter, ("history", i, "details", "leader"),
                                f"领导代码 {leader} 不在 letterbox.yaml 的领导名单中。"))
    return problems


def _group_refs(event: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """The letter codes an event names for merged handling (合并办理), with their paths."""
    if not isinstance(event, dict):
        return []
    raw = event.get("details")
    details: dict[str, Any] = raw if isinstance(raw, dict) else {}
    found: list[tuple[tuple[str | int, ...], Any]] = [(("lead",), event.get("lead")),
                                                      (("details", "into"), details.get("into"))]
    members = details.get("members")
    if isinstance(members, list):
        found += [(("details", "members", j), m) for j, m in enumerate(members)]
    return [(path, str(ref)) for path, ref in found if ref is not None]


def group_problems(letter: Letter, letter_of: Callable[[str], Letter | None]) -> list[Problem]:
    """A merged group (合并办理) agrees across its files: a member names a lead that names it
    back, and records exactly the handling steps the lead took while it was a member (same
    time, step and details, its own handling form); a lead's members name it. For `check`
    (hand edits): each file alone is judged by validate."""
    try:
        state = replay(letter.history)
    except IllegalStep:
        return []  # validate names it
    problems: list[Problem] = []
    leads = {str(e.get("lead")) for e in letter.history if e.get("lead")}
    leads |= {str((e.get("details") or {}).get("into")) for e in letter.history
              if e.get("action") in ("merge", "unmerge") and (e.get("details") or {}).get("into")}
    for lead_code in sorted(leads):
        lead = letter_of(lead_code)
        if lead is None:
            continue  # validate names a missing letter
        if lead_code == state.lead:
            try:
                takes = letter.code in replay(lead.history).members
            except IllegalStep:
                takes = True  # validate names the lead's own problem
            if not takes:
                problems.append(_at(letter, ("history",), (
                    f"合并办理的记录与 {lead.path} 不一致：本信的记录中已并入 {lead_code}，而该信的记录中"
                    "没有本信（合并须由 letterbox merge 在同一提交中记入双方）。")))
                continue
        problems += _member_against_lead(letter, lead)
    named = {str(m) for e in letter.history if e.get("action") in ("merge", "unmerge")
             for m in (e.get("details") or {}).get("members") or ()}
    for member_code in sorted(named):
        member = letter_of(member_code)
        if member is None:
            continue
        try:
            member_state = replay(member.history)
        except IllegalStep:
            continue
        if (member_code in state.members) != (member_state.lead == letter.code):
            problems.append(_at(letter, ("history",), (
                f"合并办理的记录与 {member.path} 不一致：本信的记录中 {member_code} "
                f"{'已' if member_code in state.members else '未'}并入本信，而该信的记录中"
                f"{'已' if member_state.lead == letter.code else '未'}并入本信。")))
        else:
            problems += _member_against_lead(member, letter)
    return problems


def _member_against_lead(member: Letter, lead: Letter) -> list[Problem]:
    """The steps a member records from ``lead`` are those the lead took while it was a member."""
    expected: list[tuple[Any, ...]] = []
    inside = False
    for event in lead.history:
        action = event.get("action")
        names = (event.get("details") or {}).get("members") or ()
        if action == "merge" and member.code in names:
            inside = True
        elif action == "unmerge" and member.code in names:
            inside = False
        elif inside and action in FOLLOWED:
            expected.append(_comparable(event))
    got = [_comparable(e) for e in member.history if e.get("lead") == lead.code]
    for index, (want, have) in enumerate(zip(expected, got, strict=False)):
        if want != have:
            where = next(i for i, e in enumerate(member.history) if e.get("lead") == lead.code
                         and _comparable(e) == have)
            return [_at(member, ("history", where), (
                f"随主信 {lead.code} 办理的第 {index + 1} 条记录与主信不一致：应为主信 {want[0]} 的"
                f"“{action_label(str(want[1]))}”，这里是 {have[0]} 的“{action_label(str(have[1]))}”（或内容不同）。"
                "并入的来信只记录主信办理的步骤，不能单独改写。"))]
    if len(expected) != len(got):
        missing = len(expected) > len(got)
        return [_at(member, ("history",), (
            f"随主信 {lead.code} 办理的记录{'少' if missing else '多'}了 {abs(len(expected) - len(got))} 条："
            f"主信在本信并入期间办理了 {len(expected)} 步，本信记录了 {len(got)} 步"
            "（主信的每一步由同一提交记入并入的来信）。"))]
    return []


def _comparable(event: dict[str, Any]) -> tuple[Any, ...]:
    details = {k: v for k, v in (event.get("details") or {}).items() if k != "form"}
    return (str(event.get("at")), event.get("action"), json.dumps(details, sort_keys=True, ensure_ascii=False))


def rule_history_order(letter: Letter, ctx: Context) -> list[Problem]:
    problems, last = [], None
    for i, event in enumerate(letter.history):
        try:
            at = parse_time(str(event.get("at")))
        except (ValueError, TypeError):
            problems.append(_at(letter, ("history", i, "at"), "不是有效的时间。"))
            continue
        if problem := ctx.config.time_problem(at):
            problems.append(_at(letter, ("history", i, "at"), f"办理时间{problem}。"))
        if last is not None and at < last:
            problems.append(_at(letter, ("history", i, "at"), "办理记录的时间早于上一条：记录须按时间顺序。"))
        last = at
        contact = (event.get("details") or {}).get("contact") if isinstance(event.get("details"), dict) else None
        if isinstance(contact, dict) and contact.get("at"):
            try:
                later = parse_time(str(contact["at"])) > at
            except (ValueError, TypeError):
                later = False  # the schema names a malformed time
            if later:
                problems.append(_at(letter, ("history", i, "details", "contact", "at"),
                                    "沟通时间晚于这条答复的时间：只能记录答复前已经进行的沟通（办法第十二条）。"))
    if letter.history and letter.history[0].get("action") != "receive":
        problems.append(_at(letter, ("history", 0, "action"), "第一条办理记录应为 receive（收信）。"))
    return problems


def rule_process(letter: Letter, ctx: Context) -> list[Problem]:
    try:
        state = replay(letter.history)
    except IllegalStep as exc:
        return [_at(letter, ("history",), f"办理记录不符合办理流程：{exc}")]
    problems = []
    for key, value in state.summary().items():
        recorded = letter.data.get(key)
        if key == "units":
            recorded = list(recorded or [])
        if recorded != value:
            problems.append(_at(letter, (key,),
                                f"与办理记录不一致：按办理记录应为 {value!r}，文件中为 {recorded!r}。"))
    return problems


@lru_cache(maxsize=16)
def office_fingerprints(roster: Roster) -> frozenset[str]:
    """The fingerprints of the office's keys (office and office administrators)."""
    return frozenset(m.fingerprint for m in roster.members if m.role in STEP_ROLES["office"])


def rule_sealed(letter: Letter, ctx: Context) -> list[Problem]:
    """A sealed letter's form, checked without any key: the sealed fields are not also in clear,
    the others are; its retention period is the repository's; the office can read it. A letter in
    clear in a repository that seals letters is refused (`letterbox encrypt` seals it)."""
    enc = ctx.config.encryption
    block = letter.data.get("sealed")
    if not isinstance(block, dict):
        if enc is None:
            return []
        return [_at(letter, ("writer",), "本案卷库加密保存来信（letterbox.yaml 的 encryption 一节），"
                                          "这封信的来信人信息和来信内容却是明文：请管理员运行 letterbox encrypt 加密。")]
    problems = []
    fields = [str(f) for f in block.get("fields") or ()]
    for name in fields:
        if name in letter.data:
            problems.append(_at(letter, (name,), f"字段 {name} 已加密保存（sealed.fields），不能同时以明文保存：请删除明文。"))
    for name in DEFAULT_FIELDS:
        if name not in fields and name not in letter.data:
            problems.append(_at(letter, ("sealed", "fields"), f"缺少字段 {name}：它既不在明文中，也不在加密的字段中。"))
    period = str(block.get("period"))
    try:
        year = str(parse_time(letter.data["submitted_at"]).astimezone(ctx.config.tz).year)
    except (ValueError, TypeError, OverflowError, KeyError):
        year = period  # rule_path names the time
    if period != year:
        problems.append(_at(letter, ("sealed", "period"), f"保存期 {period} 应为来信的提交年份 {year}。"))
    elif enc is None:
        problems.append(_at(letter, ("sealed",), "这封信加密保存，但 letterbox.yaml 没有 encryption 一节（保存期密钥）："
                                                 "请管理员恢复加密配置。"))
    elif period not in enc.periods and period not in enc.shredded:
        problems.append(_at(letter, ("sealed", "period"), f"保存期 {period} 不在 letterbox.yaml 的 encryption.periods 中"
                                                          "（也未登记为已销毁）。"))
    recipients = [str(r) for r in block.get("recipients") or ()]
    office = office_fingerprints(ctx.config.roster)
    if not office.intersection(recipients):
        problems.append(_at(letter, ("sealed", "recipients"), "收件人中没有信箱办公室人员的密钥：信箱办公室将无法阅读这封信"
                                                              "（应由信箱办公室用 letterbox rewrap 重新封装）。"))
    tags = wrapped_tags(block)
    if tags is None:
        problems.append(_at(letter, ("sealed", "people"), "人员密钥封装不是有效的 age 密文（已损坏或被改动）。"))
    elif set(tags) != _tags(tuple(recipients)):
        problems.append(_at(letter, ("sealed", "recipients"), "收件人名单与密文实际封装给的密钥不符（名单或密文被改动）："
                                                              "应由信箱办公室用 letterbox rewrap 重新封装。"))
    return problems


@lru_cache(maxsize=1024)
def _tags(recipients: tuple[str, ...]) -> frozenset[str]:
    try:
        return frozenset(recipient_tag(r) for r in recipients)
    except ValueError:  # the schema names a malformed fingerprint
        return frozenset()


def rule_reviews(letter: Letter, ctx: Context) -> list[Problem]:
    """复查 / 复核 requests within their 30-day windows and for 信访 cases only (unless configured
    otherwise): rules that need the calendar, checked by folding (core.facts)."""
    if ctx.root is None or not any(e.get("action") == "review-request" for e in letter.history
                                  if isinstance(e, dict)):
        return []
    try:
        replay(letter.history)
    except (IllegalStep, KeyError, TypeError, ValueError):
        return []  # rule_process names it
    try:
        fold(letter, ctx.config, work_calendar(ctx.root))  # read only for a letter with a review
    except IllegalStep as exc:
        return [_at(letter, ("history",), f"办理记录不符合办理流程：{exc}")]
    except (KeyError, TypeError, ValueError):
        return []  # rule_process and the schema name these
    return []


def rule_reissue(letter: Letter, ctx: Context) -> list[Problem]:
    """After a `reissue`, the stored query hash is the one that step put in place (its
    `hash_tag`): a hash changed by hand, with or without a reissue event, is refused."""
    tags = [i for i, e in enumerate(letter.history) if isinstance(e, dict) and e.get("action") == "reissue"]
    if not tags:
        return []
    last = tags[-1]
    tag = str((letter.history[last].get("details") or {}).get("hash_tag", ""))
    if tag != codes.hash_tag(letter.data.get("query_hash") or {}):
        return [_at(letter, ("query_hash",),
                    f"查询码哈希与第 {last + 1} 条办理记录（重新发放查询码）所发放的不一致：查询码只能用 "
                    "letterbox reissue 重新发放，不得手工修改。")]
    return []


LETTER_RULES: tuple[Callable[[Letter, Context], list[Problem]], ...] = (
    rule_path, rule_links, rule_history_order, rule_process, rule_sealed, rule_reviews, rule_reissue,
)


def validate_letter(letter: Letter, ctx: Context) -> list[Problem]:
    problems = schemas.check(schemas.LETTER_SCHEMA, letter.data, str(letter.path), letter.lines)
    if problems:  # cross-field rules assume the shape is right
        return problems
    for rule in LETTER_RULES:
        problems.extend(rule(letter, ctx))
    return problems


def duplicate_codes(letters: list[Letter]) -> list[Problem]:
    seen: dict[str, Letter] = {}
    problems = []
    for letter in letters:
        if letter.code in seen:
            problems.append(_at(letter, ("letter_code",),
                                f"信件编码 {letter.code} 与 {seen[letter.code].path} 重复。"))
        else:
            seen[letter.code] = letter
    return problems


def validate_repository(repo: Repository, only: list[PurePosixPath] | None = None,
                        stats: dict[str, int] | None = None) -> list[Problem]:
    """All problems of the repository (or of some of its files), errors and warnings.

    Each case file's findings are kept in `.git/letterbox/validate.sqlite` by its blob id, its
    path and everything else they depend on (`context_key`); a file whose key is kept is not
    read again. The one finding that depends on other files, a link to a letter that does not
    exist (`rule_links`), is kept judged as if every linked letter existed: a file whose links
    do not all exist now is judged again. `stats` (when given) receives the counts: files,
    cached (taken from the cache), judged (read now)."""
    try:
        config = repo.config
    except LetterboxError as exc:
        return exc.problems or [Problem(file="letterbox.yaml", message=exc.message)]
    pending = start_clean_ids(repo.root)  # git reads its index while the case files are listed
    all_names = case_names(repo.root)
    wanted, missing = (_wanted_files(repo, [PurePosixPath(n) for n in all_names], only) if only is not None
                       else (None, []))
    ids = blob_ids(repo.root, all_names, known=pending())
    run = _Runs(repo.git_dir / CACHE_FILE, _run_key(repo.root, all_names, ids)) if only is None else None
    kept = run.get() if run is not None else None
    if kept is not None:  # no file, path or context changed since a run that kept its problems
        if stats is not None:
            stats.update(files=len(all_names), cached=len(all_names), judged=0)
        return kept + extra_checks(repo)
    judged = judge_files(repo, all_names, config, stats, ids=ids)
    codes = [(name, j.code) for name, j in judged.items()]
    known = frozenset(code for _, code in codes if code is not None)
    problems: list[Problem] = [p for j in judged.values() if j.code is None for p in j.problems]
    for name, j in judged.items():
        if j.code is None or not (j.problems or j.refs) or (wanted is not None and name not in wanted):
            continue
        if not j.refs or all(ref in known for ref in j.refs):
            problems.extend(j.problems)
        else:  # a linked letter is missing: judged with the letters there are
            letter = read(repo.root, PurePosixPath(name), lines=True)
            problems.extend(validate_letter(letter, Context(config, known, repo.root)) if isinstance(letter, Letter)
                            else letter)
    problems.extend(_duplicates(repo.root, codes))
    problems.extend(_groups(repo, judged, wanted))
    if run is not None and not any(TIME_DEPENDENT in p.message for p in problems):
        run.put(problems)
    if wanted is not None:
        problems = [p for p in problems if p.file in wanted] + missing
    problems.extend(extra_checks(repo))
    return problems


def _groups(repo: Repository, judged: dict[str, Judged], wanted: set[str] | None) -> list[Problem]:
    """Merged groups (合并办理) agree across their files (`group_problems`): read are only the
    files that link to another letter (their links are kept with their findings), and of those
    the ones with a merge. A problem found from both sides is named once."""
    at = {j.code: name for name, j in judged.items() if j.code is not None}
    read_: dict[str, Letter | None] = {}

    def letter_of(code: str) -> Letter | None:
        if code not in read_:
            found = read(repo.root, PurePosixPath(at[code]), lines=True) if code in at else None
            read_[code] = found if isinstance(found, Letter) else None
        return read_[code]

    problems: list[Problem] = []
    for name, j in judged.items():
        if j.code is None or j.problems or not j.refs or (wanted is not None and name not in wanted):
            continue
        try:  # most linking files are follow-ups: parsed only when a merge's keys are in them
            raw = case_bytes(repo.root / name)
        except OSError:
            continue
        if not any(key in raw for key in (b"into:", b"members:", b"lead:")):
            continue
        letter = letter_of(j.code)
        if letter is not None and any(_group_refs(e) for e in letter.history):
            problems.extend(p for p in group_problems(letter, letter_of) if p not in problems)
    return problems


# -- findings kept by blob id ----------------------------------------------------------------

CACHE_FILE = Path("letterbox") / "validate.sqlite"  # inside .git/
CACHE_TABLE = "findings_by_blob"
CONTEXT_TABLE = "contexts"
RUNS_TABLE = "runs"  # whole runs: their problems
NOT_A_REF = "\0"  # a link that is not text: the file is judged again each time
TIME_DEPENDENT = "晚于现在"  # time_problem: a time later than now (true today, maybe not tomorrow)
_SOURCES = ("core/*.py", "data/*", "ops/validate.py", "store/loader.py", "store/blobs.py")


class Judged(NamedTuple):
    """One case file judged: its letter code (None: not a letter, `problems` say why), its
    problems (as if every letter it links to existed) and the codes it links to. (A named
    tuple: a warm run makes 100 000 of them.)"""

    code: str | None
    problems: list[Problem]
    refs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "refs": list(self.refs), "problems": [asdict(p) for p in self.problems]}

    @classmethod
    def from_json(cls, value: Any) -> Judged:
        found = value["problems"]
        return cls(code=value["code"], refs=tuple(value["refs"]) if value["refs"] else (),
                   problems=[Problem(**p) for p in found] if found else [])


@lru_cache(maxsize=1)
def _source_digest() -> str:
    import letterbox

    root = Path(letterbox.__file__).parent
    digest = hashlib.sha256(f"{letterbox.__version__}|{sys.version}|{yaml.__version__}|"
                            f"{metadata.version('jsonschema')}".encode())
    for pattern in _SOURCES:
        for path in sorted(root.glob(pattern)):
            if path.is_file():
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def context_key(root: Path) -> str:
    """What a case file's findings depend on besides its content and path: this letterbox (its
    version, rules and schemas), letterbox.yaml and calendar.yaml."""
    digest = hashlib.sha256(_source_digest().encode())
    for name in ("letterbox.yaml", "calendar.yaml"):
        try:
            digest.update(b"|" + (root / name).read_bytes())
        except OSError:
            digest.update(b"|-")
    return digest.hexdigest()


def _refs(letter: Letter) -> tuple[str, ...]:
    """The letter codes a letter links to (follows_up, history details.of)."""
    found: list[Any] = []
    try:
        found.append(letter.data.get("follows_up"))
        for event in letter.history:
            found.append((event.get("details") or {}).get("of"))
            found.extend(ref for _, ref in _group_refs(event))
    except (AttributeError, TypeError):
        return (NOT_A_REF,)
    refs = {r if isinstance(r, str) else NOT_A_REF for r in found if r}
    return tuple(sorted(refs))


def judge(root: Path, path: PurePosixPath, config: Config) -> tuple[Judged, str | None]:
    """One case file judged (see Judged), and the blob id of the content judged (None when
    it could not be read). Read without line maps; a file with problems is read again with
    them, so that each problem names its line."""
    try:
        raw = case_bytes(root / path)
    except OSError:
        result = read(root, path, lines=False)
        return Judged(None, result if isinstance(result, list) else []), None
    letter = decode(raw, path, lines=False)
    if not isinstance(letter, Letter):
        return Judged(None, letter), blob_id(raw)
    refs = _refs(letter)
    ctx = Context(config, frozenset(refs), root)
    problems = validate_letter(letter, ctx)
    if problems:
        located = decode(raw, path, lines=True)
        if isinstance(located, Letter):
            problems = validate_letter(located, ctx)
    return Judged(letter.code, problems, refs), blob_id(raw)


def _judge_chunk(root: Path, paths: Sequence[PurePosixPath]) -> list[tuple[Judged, str | None]]:
    config = _worker_config(root, context_key(root))
    return [judge(root, path, config) for path in paths]


@lru_cache(maxsize=4)
def _worker_config(root: Path, context: str) -> Config:
    """A worker's configuration, read once per pool (not once per chunk); `context` (which
    covers letterbox.yaml) keys it."""
    return load_config(root)


def judge_files(repo: Repository, paths: Sequence[PurePosixPath | str], config: Config,
                stats: dict[str, int] | None = None, ids: dict[str, str] | None = None) -> dict[str, Judged]:
    """Every file of `paths` judged, by path (in the order of `paths`): from the cache when its
    blob id and context are kept, else read now (in worker processes when there are many).
    `ids`: the blob ids of `paths` when known (`blob_ids`)."""
    ids = blob_ids(repo.root, paths) if ids is None else ids
    names = [str(path) for path in paths]
    store = _Findings(repo.git_dir / CACHE_FILE, context_key(repo.root))
    out = store.get(ids)
    todo = [PurePosixPath(name) for name in names if name not in out]
    workers = min(os.cpu_count() or 1, 8)
    if workers > 1 and len(todo) >= POOL_MIN:
        from letterbox.store.loader import _spawn_pool

        pool = _spawn_pool(workers)
        try:
            # small enough that no worker is left with a long last chunk while the others wait
            size = max(250, -(-len(todo) // (workers * 16)))
            chunks = [todo[k:k + size] for k in range(0, len(todo), size)]
            fresh = [x for part in pool.map(_judge_chunk, [repo.root] * len(chunks), chunks) for x in part]
        finally:
            pool.shutdown()
    else:
        fresh = [judge(repo.root, path, config) for path in todo]
    keep = []
    for path, (judged, blob) in zip(todo, fresh, strict=True):
        name = str(path)
        out[name] = judged
        if blob is not None and blob == ids.get(name) and not any(TIME_DEPENDENT in p.message for p in judged.problems):
            keep.append((name, blob, judged))
    store.put(keep, ids)
    if stats is not None:
        stats.update(files=len(names), cached=len(names) - len(todo), judged=len(todo))
    return {name: out[name] for name in names}


class _Findings:
    """The kept findings of one context (`context_key`): (path, blob id) → letter code and, for
    a file with problems or links, the rest as JSON (most files have neither: their row is read
    without any JSON). All of a context's rows are read in one query; the rows of the
    MAX_CONTEXTS contexts used last are kept, and a context's rows of blobs no longer in the
    working tree are dropped once they outnumber the files."""

    MAX_CONTEXTS = 4

    def __init__(self, path: Path, context: str) -> None:
        self.path = path
        self.context = context

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.executescript(
                f"CREATE TABLE IF NOT EXISTS {CONTEXT_TABLE} (id INTEGER PRIMARY KEY, key TEXT UNIQUE, used INTEGER);"
                f"CREATE TABLE IF NOT EXISTS {CACHE_TABLE} (ctx INTEGER, path TEXT, blob TEXT, code TEXT, rest TEXT, "
                "PRIMARY KEY (ctx, path, blob)) WITHOUT ROWID;"
                "DROP TABLE IF EXISTS findings;")  # the first layout (a hashed key per file)
            yield db

    def _context_id(self, db: sqlite3.Connection, create: bool) -> int | None:
        row = db.execute(f"SELECT id FROM {CONTEXT_TABLE} WHERE key = ?", (self.context,)).fetchone()
        if row is not None or not create:
            return None if row is None else int(row[0])
        db.execute(f"INSERT OR IGNORE INTO {CONTEXT_TABLE} (key, used) VALUES (?, 0)", (self.context,))
        return self._context_id(db, create=False)

    @remade_when_damaged
    def get(self, ids: dict[str, str]) -> dict[str, Judged]:
        """The kept findings of the files whose blob id `ids` gives, by path."""
        found: dict[str, Judged] = {}
        if not ids:
            return found
        with self._db() as db:
            ctx = self._context_id(db, create=False)
            if ctx is None:
                return found
            get = ids.get
            for path, blob, code, rest in db.execute(
                    f"SELECT path, blob, code, rest FROM {CACHE_TABLE} WHERE ctx = ?", (ctx,)):
                if get(path) != blob:
                    continue
                if rest is None:
                    found[path] = Judged(code, [])
                    continue
                try:
                    found[path] = Judged.from_json(json.loads(rest))
                except (KeyError, TypeError, ValueError):
                    continue
        return found

    @remade_when_damaged
    def put(self, items: list[tuple[str, str, Judged]], ids: dict[str, str]) -> None:
        """Keep the findings of (path, blob id, judged); `ids`: every file's blob id now."""
        with self._db() as db, db:
            ctx = self._context_id(db, create=bool(items))
            if ctx is None:
                return
            latest = db.execute(f"SELECT id FROM {CONTEXT_TABLE} ORDER BY used DESC LIMIT 1").fetchone()
            if not items and latest is not None and latest[0] == ctx:
                return  # nothing to write (a write would wait for the disk)
            used = db.execute(f"SELECT COALESCE(MAX(used), 0) + 1 FROM {CONTEXT_TABLE}").fetchone()[0]
            db.execute(f"UPDATE {CONTEXT_TABLE} SET used = ? WHERE id = ?", (used, ctx))
            for (old,) in db.execute(f"SELECT id FROM {CONTEXT_TABLE} ORDER BY used DESC LIMIT -1 OFFSET ?",
                                     (self.MAX_CONTEXTS,)).fetchall():
                db.execute(f"DELETE FROM {CACHE_TABLE} WHERE ctx = ?", (old,))
                db.execute(f"DELETE FROM {CONTEXT_TABLE} WHERE id = ?", (old,))
            if not items:
                return
            db.executemany(f"INSERT OR REPLACE INTO {CACHE_TABLE} VALUES (?, ?, ?, ?, ?)", [
                (ctx, path, blob, j.code, None if j.code is not None and not j.problems and not j.refs
                 else json.dumps(j.to_json(), ensure_ascii=False)) for path, blob, j in items])
            rows = db.execute(f"SELECT COUNT(*) FROM {CACHE_TABLE} WHERE ctx = ?", (ctx,)).fetchone()[0]
            if rows > 2 * len(ids) + 1000:  # blobs no longer in the working tree
                stale = [(ctx, path, blob) for path, blob in db.execute(
                    f"SELECT path, blob FROM {CACHE_TABLE} WHERE ctx = ?", (ctx,)).fetchall() if ids.get(path) != blob]
                db.executemany(f"DELETE FROM {CACHE_TABLE} WHERE ctx = ? AND path = ? AND blob = ?", stale)


def _run_key(root: Path, names: Sequence[str], ids: dict[str, str]) -> str | None:
    """What a whole run's problems depend on: the context and every case file's path and blob
    id (None when a file has no blob id: it could not be read)."""
    if len(ids) != len(names):
        return None
    digest = hashlib.sha256(context_key(root).encode())
    digest.update("\n".join(f"{name}\0{ids[name]}" for name in names).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


class _Runs:
    """The problems of the last few whole runs (`validate` of every file), by `_run_key`: when
    nothing changed, the next run gives them again without a look at each file's findings."""

    KEEP = 4

    def __init__(self, path: Path, key: str | None) -> None:
        self.path = path
        self.key = key

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute(f"CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (n INTEGER PRIMARY KEY, key TEXT UNIQUE, problems TEXT)")
            yield db

    @remade_when_damaged
    def get(self) -> list[Problem] | None:
        if self.key is None:
            return None
        with self._db() as db:
            row = db.execute(f"SELECT problems FROM {RUNS_TABLE} WHERE key = ?", (self.key,)).fetchone()
        if row is None:
            return None
        try:
            return [Problem(**p) for p in json.loads(row[0])]
        except (TypeError, ValueError):
            return None

    @remade_when_damaged
    def put(self, problems: list[Problem]) -> None:
        if self.key is None:
            return
        text = json.dumps([asdict(p) for p in problems], ensure_ascii=False)
        with self._db() as db, db:
            db.execute(f"DELETE FROM {RUNS_TABLE} WHERE key = ?", (self.key,))
            db.execute(f"INSERT INTO {RUNS_TABLE} (key, problems) VALUES (?, ?)", (self.key, text))
            db.execute(f"DELETE FROM {RUNS_TABLE} WHERE n NOT IN (SELECT n FROM {RUNS_TABLE} ORDER BY n DESC LIMIT ?)",
                       (self.KEEP,))


def _duplicates(root: Path, codes: Sequence[tuple[str, str | None]]) -> list[Problem]:
    """duplicate_codes over (path, code) pairs: only a duplicate is read again (for its line)."""
    seen: dict[str, str] = {}
    problems = []
    for path, code in codes:
        if code is None:
            continue
        if code not in seen:
            seen[code] = path
            continue
        message = f"信件编码 {code} 与 {seen[code]} 重复。"
        letter = read(root, PurePosixPath(path), lines=True)
        problems.append(_at(letter, ("letter_code",), message) if isinstance(letter, Letter)
                        else Problem(file=path, field="letter_code", message=message))
    return problems


def _wanted_files(repo: Repository, all_paths: list[PurePosixPath],
                  only: list[PurePosixPath]) -> tuple[set[str], list[Problem]]:
    """The case files named by `only` (a folder stands for the case files in it)."""
    wanted: set[str] = set()
    missing = []
    for item in only:
        rel = str(item).rstrip("/")
        inside = {str(p) for p in all_paths if rel in (".", "") or str(p) == rel or str(p).startswith(f"{rel}/")}
        if inside:
            wanted |= inside
        elif (repo.root / rel).is_dir():
            continue  # a folder without case files
        else:
            missing.append(Problem(file=rel, message="不是案卷文件：cases/ 下没有这个文件（或它不是 .yaml 文件）。"))
    return wanted, missing


# Further repository-wide checks (calendar data, schema copies) register here.
EXTRA_CHECKS: list[Callable[[Repository], list[Problem]]] = []


def _outbox_check(repo: Repository) -> list[Problem]:
    """outbox/ (issue 19): each notification file of form, naming a step of its letter that the
    rules notify (ops/notify/outbox.py); nothing read when there is no outbox/ folder."""
    if not (repo.root / outbox.OUTBOX_DIR).is_dir():
        return []

    @lru_cache(maxsize=4096)
    def letter_of(code: str) -> Letter | None:
        try:
            return repo.letter(code)
        except LetterboxError:
            return None

    return outbox.outbox_problems(repo.root, repo.config, letter_of)


EXTRA_CHECKS.append(_outbox_check)


def _secrets_check(repo: Repository) -> list[Problem]:
    """No credential in letterbox.yaml (issue 19): the notify worker's passwords, keys and robot
    webhooks go in its credentials file outside the repository (docs/notify.md)."""
    from letterbox.ops.notify.rules import secret_problems

    return [Problem(file="letterbox.yaml", field=path, message=(
        f"{why}：凭据不得写进案卷库（会被提交并复制到每个副本）。请删除，并放到 letterbox notify 的凭据文件中"
        "（如 /etc/letterbox/notify.yaml，见 docs/notify.md）。")) for path, why in secret_problems(repo.config.raw)]


EXTRA_CHECKS.append(_secrets_check)


def extra_checks(repo: Repository) -> list[Problem]:
    out: list[Problem] = []
    for check in EXTRA_CHECKS:
        out.extend(check(repo))
    return out
