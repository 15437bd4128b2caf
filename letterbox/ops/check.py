"""`letterbox check --base REV`: every change to a case file since REV must be a legal step.

Compares the letters in REV with those in the working tree (= HEAD in CI), matched by letter
code. Legal: new events appended to the history, each allowed by the process, with the summary
fields following them. Illegal: deleted letters, rewritten or shortened history, changed codes,
query hashes or letter content, steps the process does not allow, schema violations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import PurePosixPath

from letterbox.core import codes, yamlio
from letterbox.core.clock import current_clock, work_calendar
from letterbox.core.errors import Problem
from letterbox.core.letter import Letter
from letterbox.core.process import IllegalStep, State, apply, parse_time
from letterbox.ops.legality import commit_problems, sealed_changes
from letterbox.ops.validate import Context, group_problems, judge_files, validate_letter
from letterbox.store.blobs import blob_ids, start_clean_ids
from letterbox.store.loader import case_names, decode, read
from letterbox.store.repository import Repository
from letterbox.store.revisions import load_revision, read_blob, revision_blobs

IMMUTABLE = {
    "letter_code": "信件编码",
    "query_hash": "查询码哈希",
    "submitted_at": "提交时间",
    "channel": "来信渠道",
    "title": "来信标题",
    "body": "来信正文",
    "follows_up": "前信编码",
}


def base_letters(repo: Repository, base: str) -> tuple[dict[str, Letter], list[Problem]]:
    """The letters at `base` by code, and warnings for its files that did not read (they
    cannot be compared: their letters count as new)."""
    loaded = load_revision(repo, base)
    out = {letter.code or str(letter.path): letter for letter in loaded.letters}
    warnings = [Problem(file=file, severity="warning",
                        message="基准版本中的这个案卷文件无法读取，未与基准版本比较。")
                for file in loaded.unreadable]
    return out, warnings


def _problem(letter: Letter, path: tuple[str | int, ...], message: str) -> Problem:
    line, col = yamlio.locate(letter.lines, path)
    return Problem(file=str(letter.path), line=line, column=col, field=yamlio.path_str(path),
                   message=message)


def compare(repo: Repository, old: Letter, new: Letter) -> list[Problem]:
    problems = []
    # sealing a letter in clear (`letterbox encrypt`) moves its fields into the sealed block
    moved = set(new.data["sealed"].get("fields") or ()) if new.sealed and not old.sealed else set()
    # a `reissue` appended since the base replaces the query hash (validate ties the two)
    reissued = any(isinstance(e, dict) and e.get("action") == "reissue" for e in new.history[len(old.history):])
    for key, label in IMMUTABLE.items():
        if key == "query_hash" and reissued:
            continue
        if key not in moved and old.data.get(key) != new.data.get(key):
            problems.append(_problem(new, (key,), f"{label}不得修改（与基准版本不同）。"))
    problems.extend(_problem(new, field, message) for field, message in sealed_changes(old, new))
    old_h, new_h = old.history, new.history
    if len(new_h) < len(old_h) or new_h[: len(old_h)] != old_h:
        index = next((i for i, (a, b) in enumerate(zip(old_h, new_h, strict=False)) if a != b), len(new_h))
        problems.append(_problem(new, ("history", min(index, max(len(new_h) - 1, 0))),
                                 f"办理记录只能追加，不能改写或删除：第 {index + 1} 条与基准版本不同或被删除。"))
        return problems
    problems.extend(_check_new_events(repo, new, len(old_h)))
    return problems


def _check_new_events(repo: Repository, letter: Letter, start: int) -> list[Problem]:
    """Deadline rules for appended events (the process table itself is checked by validate)."""
    config, cal = repo.config, work_calendar(repo.root)
    state = State()
    problems = []
    for i, event in enumerate(letter.history):
        if i >= start and event.get("action") == "extend":
            clock = current_clock(letter, config, cal, state)
            day = parse_time(str(event.get("at"))).astimezone(config.tz).date()
            if clock is not None and day > clock.due:
                problems.append(_problem(letter, ("history", i),
                                         f"延期申请晚于办理期限 {clock.due.isoformat()}（办法第十一条：应在期限内申请）。"))
        try:
            state = apply(state, event)
        except IllegalStep:
            break  # reported by validate
    return problems


def check_changes(repo: Repository, base: str) -> tuple[list[Problem], int]:
    """Problems of every letter changed since `base`: one message per letter.

    Only the case files that differ from the base (by git blob id: changed, added, deleted,
    renamed, untracked) are read, at both revisions; what the others hold (letter code, or
    why they do not read) comes from validate's findings kept by blob id (`judge_files`), the
    same at the base as now."""
    base_ids = revision_blobs(repo, base)
    config = repo.config
    pending = start_clean_ids(repo.root)  # git reads its index while the case files are listed
    paths = case_names(repo.root)  # as text: 100 000 path objects cost a second
    now_ids = blob_ids(repo.root, paths, known=pending())
    judged = judge_files(repo, paths, config, ids=now_ids)
    unchanged: set[str] = set()
    base_read: dict[str, Letter] = {}
    base_code: dict[str, str | None] = {}
    now_blob = now_ids.get
    for path, blob in base_ids.items():
        if now_blob(path) == blob:
            unchanged.add(path)
            base_code[path] = judged[path].code
            continue
        result = decode(read_blob(repo, blob), PurePosixPath(path), lines=True)
        if isinstance(result, Letter):
            base_read[path] = result
        base_code[path] = result.code if isinstance(result, Letter) else None
    before = {code or path: path for path, code in base_code.items() if code is not None}  # key → path
    key_at = {path: key for key, path in before.items()}
    problems = [p for j in judged.values() if j.code is None for p in j.problems]
    problems += [Problem(file=path, severity="warning", message="基准版本中的这个案卷文件无法读取，未与基准版本比较。")
                 for path, code in base_code.items() if code is None]
    now: dict[str, str] = {}
    for each, j in judged.items():  # in the order of paths
        if j.code is not None:
            now[j.code] = each
    read_now: dict[str, Letter | list[Problem]] = {}

    def letter_now(path: str) -> Letter | list[Problem]:
        if path not in read_now:
            read_now[path] = read(repo.root, PurePosixPath(path), lines=True)
        return read_now[path]

    ctx = Context(config, frozenset(now), repo.root)

    def partner(code: str) -> Letter | None:  # the other letters of a merged group, as they are now
        found = letter_now(now[code]) if code in now else None
        return found if isinstance(found, Letter) else None

    changed = 0
    matched: set[str] = set()
    added: list[Letter] = []
    for code, path in now.items():
        old_path = before.get(code)
        if old_path is None and path in key_at and base_code[path] not in now:
            old_path = path  # same file, other code inside: the letter code was edited
        if old_path is not None:
            matched.add(str(base_code[old_path]))
            if old_path == path and path in unchanged:
                continue
        letter = letter_now(path)
        if not isinstance(letter, Letter):  # changed while being read
            problems.extend(letter)
            continue
        old: Letter | None = None
        if old_path is None:
            added.append(letter)
        else:
            found = base_read.get(old_path) or letter_now(old_path)
            if not isinstance(found, Letter):
                problems.extend(found)
                continue
            old = found
            if old.data == letter.data and old.path == letter.path:
                continue
        changed += 1
        own = validate_letter(letter, ctx)
        if old is not None:
            own = compare(repo, old, letter) + own
        if not own:  # a group's problem is found from either side: named once
            own = [p for p in group_problems(letter, partner) if p not in problems]
        problems.extend(own)
    problems.extend(_sequence_gaps(before, added))
    problems.extend(commit_problems(repo, base))
    for key, old_path in before.items():
        if key not in matched:
            changed += 1
            problems.append(Problem(file=old_path, field="letter_code",
                                    message=f"信件 {key} 被删除：案卷不得删除（不予受理或办结后应归档）。"))
    return one_per_letter(problems), changed


def _sequence_gaps(before: Iterable[str], added: list[Letter]) -> list[Problem]:
    """Letters added since the base must continue their year's gap-free sequence."""
    groups: dict[tuple[str, int], list[tuple[int, Letter]]] = {}
    for letter in added:
        if parsed := codes.parse_letter_code(letter.code):
            groups.setdefault(parsed[:2], []).append((parsed[2], letter))
    if not groups:  # nothing added: the letters there were need not be read
        return []
    last: dict[tuple[str, int], int] = {}
    for code in before:
        if parsed := codes.parse_letter_code(code):
            last[parsed[:2]] = max(last.get(parsed[:2], 0), parsed[2])
    problems = []
    for (prefix, year), items in groups.items():
        start = last.get((prefix, year), 0) + 1
        expected = range(start, start + len(items))
        for seq, letter in items:
            if seq not in expected:
                problems.append(_problem(letter, ("letter_code",), (
                    f"信件编码不连续：{year} 年的新信件应接着 {codes.letter_code(prefix, year, start)} 依次编号"
                    "（用 letterbox intake 收信会自动编号）。")))
    return problems


def one_per_letter(problems: list[Problem]) -> list[Problem]:
    """Merge the errors found in one file into one message: the first, then the others."""
    by_file: dict[str, list[Problem]] = {}
    for problem in problems:
        by_file.setdefault(problem.file, []).append(problem)
    out = []
    for items in by_file.values():
        errors = [p for p in items if p.severity == "error"]
        if len(errors) > 1:
            first, rest = errors[0], errors[1:]
            others = "；".join(
                f"{f'第 {p.line} 行' if p.line else ''}{f'字段 {p.field}' if p.field else ''}"
                f"{'：' if p.line or p.field else ''}{p.message}" for p in rest)
            errors = [replace(first, message=f"{first.message}（另有 {len(rest)} 处问题：{others}）")]
        out.extend(errors + [p for p in items if p.severity != "error"])
    return out
