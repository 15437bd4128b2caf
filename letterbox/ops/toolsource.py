"""Where the CI of a case repository gets letterbox from: one exact commit or file hash, never a name.

The CI files `letterbox init` writes guard the writers' personal data, so they must install this
project's own code and nothing else. The name `letterbox` on the public package registry belongs
to an unrelated project, and even our own distribution name (`DISTRIBUTION`) could be taken there
by anyone; a name or `name==version` is therefore never enough. The install line is always
`pip install "quzhang-xinxiang @ <source>"` with a source pinned to content:

- `git+https://…@<40-hex commit>` (also `git+ssh://` and `git+file://`), or
- `https://…/<file>.whl#sha256=<64 hex>` (pip checks the hash).

The source is given explicitly (`letterbox init --tool-source …`) or read from how letterbox
itself was installed (PEP 610 `direct_url.json`: a git install's `vcs_info.commit_id`, or a
wheel URL with its sha256). When neither gives a pinned source (an install from a local folder,
editable or not, or from a package index by name), the install step is written as a step that
fails with a Chinese explanation instead of guessing. We chose that over using the source
folder's git HEAD and remote: the folder may hold uncommitted edits (the code that ran `init` is
then at no commit), HEAD may never have been pushed, and the remote may be a path or a mirror
the CI cannot reach; each guess would give a CI that installs something other than what the
office tested, or fails for a reason nobody reads. A step that fails loudly on its first run
and says how to fix it (one line to edit) is the safe default.

`unpinned_installs` is the check the tests (and `scaffold` on every file it writes) use: it
reads shell scripts and names every `pip install` whose requirement is not pinned this way.
"""

from __future__ import annotations

import json
import re
import shlex
from importlib import metadata
from typing import Any

import yaml

from letterbox.core.errors import LetterboxError

DISTRIBUTION = "quzhang-xinxiang"  # the name `letterbox` on the public registry is someone else's

_URL_CHARS = r"[A-Za-z0-9._~:/%+=@,-]"  # no spaces, quotes, `$`, `#`, `;`, `&`: safe in YAML and sh
GIT_SOURCE = re.compile(rf"git\+(?:https|ssh|file)://{_URL_CHARS}+@[0-9a-f]{{40}}")
WHEEL_SOURCE = re.compile(rf"https://{_URL_CHARS}+\.whl#sha256=[0-9a-f]{{64}}")
_NAMED = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*(?:\[[A-Za-z0-9._,-]*\])?)\s*@\s*(\S+)")

EXAMPLE = "git+https://…/letterbox.git@<40 位提交号>"
UNPINNED_STEP = (
    'echo "CI 未固定 letterbox 的安装来源，已停止（只写包名或版本号可能装到别人的同名包）。'
    f"请把本步骤改为 pip install '{DISTRIBUTION} @ {EXAMPLE}'，"
    "或新建案卷库时用 letterbox init --tool-source 指定来源。\" >&2; exit 1"
)


def pinned(source: str) -> bool:
    """True for a git URL ending in @<40-hex commit> or an https wheel URL with #sha256=."""
    return bool(GIT_SOURCE.fullmatch(source) or WHEEL_SOURCE.fullmatch(source))


def validate_tool_source(text: str) -> str:
    """The `--tool-source` value, checked; a clear Chinese refusal otherwise."""
    source = text.strip()
    named = _NAMED.fullmatch(source)
    if named and named.group(1).lower().replace("_", "-") == DISTRIBUTION:
        source = named.group(2)  # `quzhang-xinxiang @ <url>` is accepted too
    if source.startswith("git+file:///"):  # pip refuses `name @` a URL without a host
        source = "git+file://localhost/" + source.removeprefix("git+file:///")
    if pinned(source):
        return source
    raise LetterboxError(
        f"--tool-source 必须固定到某一提交或文件哈希：{EXAMPLE}（也可用 git+ssh:// 或 "
        "git+file://，提交号为 40 位小写十六进制），或 https://…/文件.whl#sha256=<64 位十六进制>。"
        f"收到的是“{text}”。不接受包名、版本号、分支名或标签，以免 CI 安装到别人的同名包或未经审查的代码。")


def installed_tool_source() -> str | None:
    """The pinned source letterbox itself was installed from (PEP 610), or None."""
    for dist in metadata.distributions(name=DISTRIBUTION):
        text = dist.read_text("direct_url.json")
        if not text:
            continue
        try:
            info: dict[str, Any] = json.loads(text)
        except ValueError:
            continue
        source = _source_of(info)
        if source and pinned(source):
            return source
    return None


def _source_of(info: dict[str, Any]) -> str | None:
    url = str(info.get("url", ""))
    if info.get("subdirectory"):
        return None
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git":
        return f"git+{url}@{vcs.get('commit_id', '')}"
    archive = info.get("archive_info")
    if isinstance(archive, dict):
        digest = (archive.get("hashes") or {}).get("sha256")
        if not digest and str(archive.get("hash", "")).startswith("sha256="):
            digest = str(archive["hash"]).removeprefix("sha256=")
        if digest:
            return f"{url.split('#')[0]}#sha256={digest}"
    return None  # dir_info: a local folder, pinned to nothing


def resolve_tool_source(explicit: str | None = None) -> str | None:
    """The explicit source (validated), else the installed one, else None (see the module doc)."""
    if explicit is not None:
        return validate_tool_source(explicit)
    return installed_tool_source()


def install_command(source: str | None) -> str:
    """The shell line of the CI's install step (a failing step when there is no pinned source)."""
    if source is None:
        return UNPINNED_STEP
    if not pinned(source):
        raise LetterboxError(f"安装来源未固定到提交或哈希：{source}")
    return f'pip install "{DISTRIBUTION} @ {source}"'


# -- the check -----------------------------------------------------------------------------

# pip install options that take a value (the value is not a requirement).
_VALUED = {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target",
           "--prefix", "--root", "--platform", "--python-version", "--implementation", "--abi",
           "--upgrade-strategy", "--progress-bar", "--src", "--trusted-host", "--cache-dir",
           "--log", "--proxy", "--retries", "--timeout", "--exists-action", "--cert",
           "--client-cert", "--global-option", "--config-settings", "-C", "--no-binary",
           "--only-binary", "--report", "--python", "--keyring-provider"}
_UNCHECKABLE = {"-r", "--requirement", "-c", "--constraint", "-e", "--editable"}
_PIP = re.compile(r"pip(?:3(?:\.\d+)?)?")
_PYTHON = re.compile(r"python(?:3(?:\.\d+)?)?")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*")


def _commands(script: str) -> list[list[str]]:
    """Simple commands of a shell script (lines split at ; & | ( ), comments dropped)."""
    commands: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError:  # an unclosed quote: keep the raw words so nothing hides in it
            tokens = line.split()
        current: list[str] = []
        for token in tokens:
            if token and set(token) <= set(";&|()"):
                if current:
                    commands.append(current)
                current = []
            else:
                current.append(token)
        if current:
            commands.append(current)
    return commands


def _pip_install_args(argv: list[str]) -> list[str] | None:
    """The arguments after `install` when argv runs pip install, else None."""
    words = list(argv)
    while words and (_ASSIGNMENT.fullmatch(words[0]) or words[0] in ("sudo", "command", "exec")):
        words.pop(0)
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1]
    if _PIP.fullmatch(program):
        rest = words[1:]
    elif _PYTHON.fullmatch(program) and words[1:3] == ["-m", "pip"]:
        rest = words[3:]
    elif program == "uv" and words[1:2] == ["pip"]:
        rest = words[2:]
    else:
        return None
    while rest and rest[0].startswith("-") and rest[0] not in ("install",):
        rest = rest[1:]  # pip's general options before the subcommand (-q, --isolated, …)
    if not rest or rest[0] != "install":
        return None
    return rest[1:]


def _requirement_problem(requirement: str) -> str | None:
    if "$" in requirement or "`" in requirement:
        return "安装来源取自变量，无法确认已固定"
    named = _NAMED.fullmatch(requirement)
    url = named.group(2) if named else requirement
    if pinned(url):
        return None
    if url.startswith("git+"):
        return "git 地址未以 @<40 位提交号> 结尾（分支、标签或短提交号都会变）"
    if "://" in url:
        return "地址未固定到提交号或 #sha256= 哈希"
    if url.startswith((".", "/", "~")):
        return "本地目录未固定到提交"
    return "只写包名或版本号，未固定到提交或哈希（可能装到别人的同名包）"


def unpinned_installs(script: str) -> list[str]:
    """One Chinese problem per `pip install` requirement in `script` not pinned to a commit/hash."""
    problems: list[str] = []
    for argv in _commands(script):
        args = _pip_install_args(argv)
        if args is None:
            continue
        shown = " ".join(argv)
        i = 0
        while i < len(args):
            word = args[i]
            option = word.split("=", 1)[0]
            if option in _UNCHECKABLE:
                problems.append(f"{shown}：{option} 的内容无法在此确认已固定")
                i += 1 if "=" in word else 2
                continue
            if word.startswith("-"):
                i += 2 if option in _VALUED and "=" not in word else 1
                continue
            if i + 2 < len(args) and args[i + 1] == "@":  # name @ url, unquoted
                word = f"{word} @ {args[i + 2]}"
                i += 2
            problem = _requirement_problem(word)
            if problem:
                problems.append(f"{shown}：{word}：{problem}")
            i += 1
    return problems


def workflow_scripts(text: str) -> list[str]:
    """Every shell script of a GitHub Actions workflow or a GitLab CI file, in order."""
    data = yaml.safe_load(text) or {}
    scripts: list[str] = []

    def gitlab_lines(value: Any) -> None:
        if isinstance(value, str):
            scripts.append(value)
        elif isinstance(value, list):
            scripts.extend(str(v) for v in value)

    if isinstance(data.get("jobs"), dict):  # GitHub Actions
        for job in data["jobs"].values():
            for step in job.get("steps") or []:
                if isinstance(step, dict) and "run" in step:
                    scripts.append(str(step["run"]))
        return scripts
    for key in ("before_script", "script", "after_script"):
        gitlab_lines(data.get(key))
    default = data.get("default")
    if isinstance(default, dict):
        for key in ("before_script", "script", "after_script"):
            gitlab_lines(default.get(key))
    for value in data.values():
        if isinstance(value, dict):
            for key in ("before_script", "script", "after_script"):
                gitlab_lines(value.get(key))
    return scripts
