"""The 《来信办理单》 handling form (article 10), rendered as a printable HTML page."""

from __future__ import annotations

from pathlib import PurePosixPath

from letterbox.core.config import Config, Leader
from letterbox.core.letter import Letter
from letterbox.core.process import CATEGORIES, parse_time
from letterbox.reports.rendering import environment

FORMS_DIR = "forms"



def handling_form_path(letter: Letter) -> PurePosixPath:
    return PurePosixPath(FORMS_DIR, letter.code[-10:-6], f"{letter.code}.html")


def render_handling_form(config: Config, letter: Letter, leader: Leader, clerk: str, at: str) -> str:
    """Internal document for the leader: it names the writer, so it is never published."""
    data = letter.data
    return environment().get_template("handling_form.html.j2").render(
        config=config,
        letter=data,
        category=CATEGORIES.get(data.get("category") or "", "未分类"),
        submitted=parse_time(data["submitted_at"]).strftime("%Y年%m月%d日 %H:%M"),
        filled=parse_time(at).strftime("%Y年%m月%d日"),
        leader=leader,
        clerk=clerk,
    )
