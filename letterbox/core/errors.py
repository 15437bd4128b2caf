"""Problems (validation findings with a source) and the exceptions the core raises."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding in one file: where it is and, in plain Chinese, what was expected."""

    file: str
    message: str
    field: str = ""
    line: int | None = None
    column: int | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" 字段 {self.field}：" if self.field else " "
        label = "错误" if self.severity == "error" else "警告"
        return f"{where}: {label}:{field}{self.message}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def errors_only(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


class LetterboxError(Exception):
    """An error meant for staff: the message is plain Chinese and names what to fix."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []

    def __str__(self) -> str:
        lines = [self.message] + [f"  {p}" for p in self.problems]
        return "\n".join(lines)


class StepRefused(LetterboxError):
    """A workflow step that is not allowed now; the repository is untouched."""


class NotFound(LetterboxError):
    """A letter, unit or leader that does not exist."""
