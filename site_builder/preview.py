"""Preview: the public version of one letter and what was masked in it, and why.

`letterbox preview CODE` lets the office check a letter before `publish`. It runs the same
redaction as the build (same keep words, the letter's own `redaction` block) on the title,
the body and the answer a reader would see, also for letters not yet closed.
"""

from __future__ import annotations

from typing import Any

from letterbox.core.clock import work_calendar
from letterbox.core.errors import LetterboxError
from letterbox.core.process import STATUSES
from letterbox.core.sealing import Keyring
from letterbox.privacy.redact import (
    MASKS,
    PARTS,
    SOURCES,
    Redacted,
    UnsafeLetter,
    Writer,
    check_no_leak,
    keep_words,
    redact,
)
from letterbox.reports.views import hidden_reason
from letterbox.store.repository import Repository
from site_builder.select import draft_answer, not_public_reason, redaction_lists

PART_LABELS = {"title": "标题", "body": "来信内容", "reply": "答复"}


def _span_rows(part: str, original: str, result: Redacted) -> list[dict[str, Any]]:
    return [{"part": part, "part_label": PART_LABELS[part], "start": s.start, "end": s.end,
             "original": original[s.start:s.end], "mask": MASKS[s.kind], "kind": s.kind,
             "reason": s.reason, "source": s.source, "source_label": SOURCES.get(s.source, "")}
            for s in result.spans]


def preview_letter(repo: Repository, code: str, keyring: Keyring | None = None) -> dict[str, Any]:
    """Everything `letterbox preview` shows, as plain data (the same for text and --json).

    A sealed letter is opened with `keyring` (default: this user's keys); without a key, or
    when the keys do not open it, a clear error (there is nothing to preview)."""
    keyring = repo.keyring() if keyring is None else keyring
    letter = repo.letter(code, keyring)
    repo.require_keys([letter], keyring)
    config = repo.config
    if (why := hidden_reason(letter, config)) is not None:
        raise LetterboxError(f"{letter.code} 加密保存，无法预览：{why}")
    writer = Writer.from_data(letter.data.get("writer"))
    mask, keep = redaction_lists(letter)
    reply, reply_by, reply_kind = draft_answer(letter, config, work_calendar(repo.root))
    originals = {"title": str(letter.data.get("title") or ""),
                 "body": str(letter.data.get("body") or ""), "reply": reply}
    words = (*keep_words(config), *keep)
    done = {k: redact(originals[k], writer, mask=mask, keep=words) for k in PARTS}
    try:
        check_no_leak(letter.code, [r.text for r in done.values()], writer)
        unsafe = None
    except UnsafeLetter as exc:
        unsafe = str(exc)
    try:
        status = letter.state().status
    except ValueError:
        status = letter.status
    why_not = not_public_reason(letter)
    return {
        "letter_code": letter.code,
        "status": status,
        "status_label": STATUSES.get(status, status),
        "publication": letter.data.get("publication"),
        "on_board": why_not is None and reply_kind == "最终答复" and unsafe is None,
        "not_public_reason": why_not,
        "unsafe": unsafe,
        "reply_kind": reply_kind,
        "reply_by": reply_by,
        "public": {k: done[k].text for k in PARTS},
        "masked": [row for k in PARTS for row in _span_rows(k, originals[k], done[k])],
        "redaction": {"mask": list(mask), "keep": list(keep)},
    }
