"""`letterbox init`: a new, empty case repository with configuration, schema and CI files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import git

from letterbox import __version__
from letterbox.core import schemas
from letterbox.core.config import CONFIG_FILE, default_config_text
from letterbox.core.errors import LetterboxError
from letterbox.store.repository import Actor

CALENDAR_TEMPLATE = """\
# 法定节假日及调休安排的补充数据。
# 程序自带的节假日数据（chinese-calendar）不含的年份，在国务院办公厅发布通知后按下例录入；
# 未录入的年份，期限只按周末和固定日期节日暂定计算，并在报告中标明“暂定”。
#
# years:
#   2027:
#     source: "国务院办公厅关于2027年部分节假日安排的通知"
#     holidays: [2027-01-01]
#     workdays: []
years: {}
"""

GITIGNORE = "/site/\n/.venv/\n__pycache__/\n"


def _template(name: str) -> str:
    text = resources.files("letterbox").joinpath("data", name).read_text("utf-8")
    return text.replace("LETTERBOX_VERSION", __version__)


def scaffold_files(salt: str | None = None) -> dict[str, str]:
    """Relative path -> content of every file a new case repository starts with."""
    files = {
        CONFIG_FILE: default_config_text(salt),
        "calendar.yaml": CALENDAR_TEMPLATE,
        "cases/.gitkeep": "",
        ".gitignore": GITIGNORE,
        ".github/workflows/letterbox.yml": _template("github-workflow.yml"),
        ".github/workflows/letterbox-daily.yml": _template("github-daily.yml"),
        ".gitlab-ci.yml": _template("gitlab-ci.yml"),
        "mkdocs.yml": _template("mkdocs.yml"),  # the public board's look (site_builder/settings.py)
    }
    for name in schemas.SCHEMA_FILES:
        files[f"schema/{name}"] = schemas.schema_text(name)
    return files


def init_repository(target: Path, actor: Actor | None = None, salt: str | None = None) -> Path:
    target = target.resolve()
    if target.exists() and any(target.iterdir()):
        raise LetterboxError(f"目录 {target} 已存在且不为空：请指定一个新目录或空目录。")
    target.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(target, initial_branch="main")
    for rel, content in scaffold_files(salt).items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    who = actor or Actor("letterbox")
    env = {"GIT_AUTHOR_NAME": who.name, "GIT_AUTHOR_EMAIL": who.email,
           "GIT_COMMITTER_NAME": who.name, "GIT_COMMITTER_EMAIL": who.email}
    repo.git.add("-A")
    repo.git.commit("--no-verify", "-q", "-m", "Create case repository", env=env)
    return target
