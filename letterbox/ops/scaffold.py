"""`letterbox init`: a new, empty case repository with configuration, schema and CI files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import git

from letterbox import __version__
from letterbox.core import schemas
from letterbox.core.config import CONFIG_FILE, default_config_text
from letterbox.core.errors import LetterboxError
from letterbox.ops.toolsource import (
    install_command,
    resolve_tool_source,
    unpinned_installs,
    workflow_scripts,
)
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


def _template(name: str, install: str = "") -> str:
    """A data file with the version and, in the CI files, the pinned install line filled in."""
    text = resources.files("letterbox").joinpath("data", name).read_text("utf-8")
    return text.replace("LETTERBOX_VERSION", __version__).replace("LETTERBOX_INSTALL", install)


def _workflow(name: str, install: str) -> str:
    """A CI file; refused if any `pip install` in it is not pinned (letterbox.ops.toolsource)."""
    text = _template(name, install)
    bad = [p for script in workflow_scripts(text) for p in unpinned_installs(script)]
    if bad:
        raise LetterboxError(f"CI 文件 {name} 的安装步骤未固定到提交或哈希：" + "；".join(bad))
    return text


def scaffold_files(salt: str | None = None, tool_source: str | None = None) -> dict[str, str]:
    """Relative path -> content of every file a new case repository starts with. The CI files
    install letterbox from `tool_source`, else from where it was installed; without a pinned
    source their install step fails with an explanation (letterbox.ops.toolsource)."""
    install = install_command(resolve_tool_source(tool_source))
    files = {
        CONFIG_FILE: default_config_text(salt),
        "calendar.yaml": CALENDAR_TEMPLATE,
        "cases/.gitkeep": "",
        ".gitignore": GITIGNORE,
        ".github/workflows/letterbox.yml": _workflow("github-workflow.yml", install),
        ".github/workflows/letterbox-daily.yml": _workflow("github-daily.yml", install),
        ".gitlab-ci.yml": _workflow("gitlab-ci.yml", install),
        "mkdocs.yml": _template("mkdocs.yml"),  # the public board's look (site_builder/settings.py)
    }
    for name in schemas.SCHEMA_FILES:
        files[f"schema/{name}"] = schemas.schema_text(name)
    return files


def init_repository(target: Path, actor: Actor | None = None, salt: str | None = None,
                    tool_source: str | None = None) -> Path:
    target = target.resolve()
    if target.exists() and any(target.iterdir()):
        raise LetterboxError(f"目录 {target} 已存在且不为空：请指定一个新目录或空目录。")
    files = scaffold_files(salt, tool_source)  # a refused --tool-source leaves no folder behind
    target.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(target, initial_branch="main")
    for rel, content in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    who = actor or Actor("letterbox")
    env = {"GIT_AUTHOR_NAME": who.name, "GIT_AUTHOR_EMAIL": who.email,
           "GIT_COMMITTER_NAME": who.name, "GIT_COMMITTER_EMAIL": who.email}
    repo.git.add("-A")
    repo.git.commit("--no-verify", "-q", "-m", "Create case repository", env=env)
    return target
