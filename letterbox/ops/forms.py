"""The 《来信办理单》 handling form (article 10), rendered as a printable HTML page."""

from __future__ import annotations

from pathlib import PurePosixPath

from letterbox.core import sealing
from letterbox.core.config import Config, Leader
from letterbox.core.errors import LetterboxError
from letterbox.core.letter import Letter
from letterbox.core.process import CATEGORIES, parse_time
from letterbox.reports.rendering import environment
from letterbox.store import keys
from letterbox.store.repository import Repository

FORMS_DIR = "forms"
SEALED_NOTE = "加密保存，打印时用 letterbox form {code} --out 文件名 生成"


def handling_form_path(letter: Letter) -> PurePosixPath:
    return PurePosixPath(FORMS_DIR, letter.code[-10:-6], f"{letter.code}.html")


def render_handling_form(config: Config, letter: Letter, leader: Leader, clerk: str, at: str,
                         full: bool = False) -> str:
    """Internal document for the leader: it names the writer, so it is never published.

    A sealed letter's form as committed (`full` False) holds none of its sealed fields, only a
    note where they would be; `letterbox form` renders the full one locally (`full`, the letter
    opened with the user's keys)."""
    data = letter.data
    withheld: set[str] = set()
    if letter.sealed and not full:
        withheld = set(data["sealed"].get("fields") or ())
        data = {k: v for k, v in data.items() if k not in withheld}
    return environment().get_template("handling_form.html.j2").render(
        config=config,
        letter=data,
        withheld=withheld,
        sealed_note=SEALED_NOTE.format(code=letter.code),
        category=CATEGORIES.get(data.get("category") or "", "未分类"),
        submitted=parse_time(data["submitted_at"]).strftime("%Y年%m月%d日 %H:%M"),
        filled=parse_time(at).strftime("%Y年%m月%d日"),
        leader=leader,
        clerk=clerk,
    )


def full_handling_form(repo: Repository, code: str) -> str:
    """The letter's 《来信办理单》 as escalated, with the writer's data and the letter's text (a
    sealed letter opened with this user's keys: `store/keys.py`), for printing; never committed."""
    config = repo.config
    letter = repo.letter(code)
    event = letter.last_event("escalate")
    details = event.get("details") if event else None
    if not isinstance(details, dict) or not details.get("leader"):
        raise LetterboxError(f"信件 {letter.code} 尚未呈办领导（letterbox escalate），没有《来信办理单》。")
    if letter.sealed and any(f not in letter.data for f in letter.data["sealed"].get("fields") or ()):
        keyring = keys.keyring(repo.git, config, required=True)
        try:
            data = sealing.opened(letter.data, letter.code, keyring)
        except sealing.SealError as exc:
            raise LetterboxError(f"信件 {letter.code} 加密保存，无法用你的密钥打开：{exc}") from None
        letter = Letter(letter.path, data, letter.lines)
    assert event is not None
    return render_handling_form(config, letter, config.leader(str(details["leader"])),
                                str(event.get("actor", "")), str(event.get("at")), full=True)
