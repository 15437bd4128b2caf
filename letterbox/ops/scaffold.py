"""`letterbox init`: a new, empty case repository with configuration, schema and CI files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import git

from letterbox import __version__
from letterbox.core import schemas
from letterbox.core.config import CONFIG_FILE, default_config_text, parse_config
from letterbox.core.errors import LetterboxError
from letterbox.ops.roster import replace_roster_block
from letterbox.ops.toolsource import (
    install_command,
    resolve_tool_source,
    unpinned_installs,
    workflow_scripts,
)
from letterbox.store import signing
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
                    tool_source: str | None = None, admin: tuple[str, Path] | None = None) -> Path:
    """Make a new case repository at `target`. `admin` (name, private key file): the roster
    starts with this office administrator, the repository's git config signs with the key, and
    the first commit is signed by it."""
    target = target.resolve()
    if target.exists() and any(target.iterdir()):
        raise LetterboxError(f"目录 {target} 已存在且不为空：请指定一个新目录或空目录。")
    files = scaffold_files(salt, tool_source)  # a refused --tool-source leaves no folder behind
    key: signing.SigningKey | None = None
    if admin is not None:
        name, key_file = admin
        key_file = key_file.expanduser().resolve()
        key = signing.SigningKey(key_file, signing.public_key_of(key_file))
        if not key.public.startswith("ssh-ed25519 "):
            raise LetterboxError(f"{key_file} 不是 ed25519 密钥：请用 ssh-keygen -t ed25519 生成。")
        entry = {"name": name.strip(), "role": "office-admin", "key": key.public}
        files[CONFIG_FILE] = replace_roster_block(files[CONFIG_FILE], [entry])
        parse_config(files[CONFIG_FILE])  # a refused name leaves no folder behind
        actor = Actor(name.strip())
    target.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(target, initial_branch="main")
    for rel, content in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    who = actor or Actor("letterbox")
    env = {"GIT_AUTHOR_NAME": who.name, "GIT_AUTHOR_EMAIL": who.email,
           "GIT_COMMITTER_NAME": who.name, "GIT_COMMITTER_EMAIL": who.email}
    sign = []
    if key is not None:
        with repo.config_writer("repository") as writer:
            writer.set_value("gpg", "format", "ssh")
            writer.set_value("user", "signingkey", str(key.path))
        env.update(signing.sign_env(key))
        sign = ["-S"]
    repo.git.add("-A")
    repo.git.commit("--no-verify", "-q", *sign, "-m", "Create case repository", env=env)
    return target
