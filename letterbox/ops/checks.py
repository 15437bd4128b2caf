"""`validate` for the whole repository: case files plus calendar data and schema copies."""

from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath

from letterbox.core import schemas
from letterbox.core.clock import CALENDAR_FILE, work_calendar
from letterbox.core.errors import Problem
from letterbox.ops.validate import _wanted_files, validate_repository
from letterbox.store.repository import Repository


def calendar_problems(repo: Repository, today: date, strict: bool) -> list[Problem]:
    cal = work_calendar(repo.root)
    problems = list(cal.problems)
    warning = cal.missing_next_year_warning(today, CALENDAR_FILE)
    if warning:
        problems.append(Problem(file=CALENDAR_FILE, message=warning,
                                severity="error" if strict else "warning"))
    return problems


def schema_copy_problems(repo: Repository) -> list[Problem]:
    """The repository's schema/ copies must match what this version of letterbox validates with."""
    problems = []
    for name in schemas.SCHEMA_FILES:
        path = repo.root / "schema" / name
        if not path.exists():
            problems.append(Problem(file=f"schema/{name}", severity="warning",
                                    message="格式定义文件缺失；可从 letterbox 包重新生成（letterbox init 会写入）。"))
        elif path.read_text("utf-8") != schemas.schema_text(name):
            problems.append(Problem(file=f"schema/{name}", severity="warning",
                                    message="与当前 letterbox 版本的格式定义不一致；校验以程序自带的版本为准。"))
    return problems


def validate_all(repo: Repository, only: list[PurePosixPath] | None, today: date,
                 strict_calendar: bool = False,
                 stats: dict[str, int] | None = None) -> tuple[list[Problem], int]:
    stats = {} if stats is None else stats
    problems = validate_repository(repo, only, stats)
    if only is None:
        problems += calendar_problems(repo, today, strict_calendar) + schema_copy_problems(repo)
    if only is None and "files" in stats:
        return problems, stats["files"]
    all_paths = repo.letter_paths()
    checked = len(_wanted_files(repo, all_paths, only)[0]) if only is not None else len(all_paths)
    return problems, checked
