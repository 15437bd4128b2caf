"""The Letter record: one YAML file in cases/, with line numbers kept for error reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from letterbox.core import yamlio
from letterbox.core.process import State, parse_time, replay
from letterbox.core.sealing import sealed_form

SCHEMA_VERSION = 1
CASES_DIR = "cases"
FIELD_ORDER = (
    "schema_version", "letter_code", "query_hash", "submitted_at", "channel", "writer", "title",
    "body", "sealed", "follows_up", "status", "category", "units", "mode", "publication", "redaction",
    "history",
)


@dataclass
class Letter:
    """A letter as stored: `data` is the YAML document, `path` is relative to the repository."""

    path: PurePosixPath
    data: dict[str, Any]
    lines: yamlio.LineMap = field(default_factory=dict)
    hidden: str | None = None  # sealed and not opened here: why (no key, not a recipient, shredded)

    @property
    def sealed(self) -> bool:
        """Stored encrypted (core/sealing.py); opened when `hidden` is None."""
        return isinstance(self.data.get("sealed"), dict)

    @property
    def code(self) -> str:
        return str(self.data.get("letter_code", ""))

    @property
    def status(self) -> str:
        return str(self.data.get("status", ""))

    @property
    def history(self) -> list[dict[str, Any]]:
        return list(self.data.get("history") or [])

    @property
    def submitted_at(self) -> datetime:
        return parse_time(self.data["submitted_at"])

    def state(self) -> State:
        return replay(self.history)

    def events(self, action: str) -> list[dict[str, Any]]:
        return [e for e in self.history if e.get("action") == action]

    def last_event(self, action: str) -> dict[str, Any] | None:
        found = self.events(action)
        return found[-1] if found else None

    def to_yaml(self) -> str:
        """The file's text; a sealed letter's opened fields are never written back in clear."""
        data = sealed_form(self.data)
        ordered = {k: data[k] for k in FIELD_ORDER if k in data}
        ordered.update({k: v for k, v in data.items() if k not in ordered})
        return yamlio.dump(ordered)


def letter_path(code: str, submitted_at: datetime) -> PurePosixPath:
    """cases/<YEAR>/<MM>/<code>.yaml, by the submission date in local time."""
    return PurePosixPath(CASES_DIR, f"{submitted_at.year:04d}", f"{submitted_at.month:02d}", f"{code}.yaml")


def parse_letter(text: str, path: PurePosixPath) -> Letter:
    data, lines = yamlio.load(text, str(path))
    return Letter(path=path, data=data if isinstance(data, dict) else {}, lines=lines)


def read_letter(root: Path, path: PurePosixPath) -> Letter:
    return parse_letter((root / path).read_text(encoding="utf-8"), path)
