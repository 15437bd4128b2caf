"""The `letterbox` click group and what every command module shares: the state object (the
repository given by --repo), output, error reporting, and reading the letters with a warning
for the case files that could not be read.

Command modules import this module and register their commands on `cli`; `cli.main` imports
the command modules and defines the console entry `main`. Nothing here imports a command module.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import click
from rich.console import Console, ConsoleDimensions
from rich.markup import escape

from letterbox import __version__
from letterbox.core.errors import LetterboxError, Problem, errors_only
from letterbox.core.letter import Letter
from letterbox.core.sealing import Keyring
from letterbox.core.textsafe import escape_unsafe, escape_unsafe_json
from letterbox.store.index import Want
from letterbox.store.loader import Loaded
from letterbox.store.repository import Repository


class SafeConsole(Console):
    """A console that never passes a control or bidi-override character of the data to the
    terminal: every string it prints (tables and titles included) has them shown as \\uXXXX
    (`letterbox.core.textsafe`). A writer's text could otherwise move the cursor, recolour or
    clear the staff's terminal, or reorder what they read. Rich's own styling is unaffected."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._asked_width = kwargs.get("width")  # a width given here is kept, piped or not

    def render_str(self, text: str, **kwargs: Any) -> Any:
        return super().render_str(escape_unsafe(text), **kwargs)

    @property  # type: ignore[override]
    def size(self) -> ConsoleDimensions:
        """The terminal's size; piped (a file, `grep`, a test's runner) wide enough that no table
        is cut at 80 columns (nor at a COLUMNS a shell exported): a table is as wide as its
        cells, each row on one line. On a terminal, rich fits the table to it, wrapping cells."""
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        if self.is_terminal or self._asked_width is not None:
            return size  # type: ignore[no-any-return]
        return ConsoleDimensions(max(size.width, PIPED_WIDTH), size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


PIPED_WIDTH = 4000  # columns of output that is not a terminal: wider than any row


out = SafeConsole(highlight=False, soft_wrap=True)
err = SafeConsole(stderr=True, highlight=False, soft_wrap=True)


class LetterboxGroup(click.Group):
    """Turns core errors into one clear Chinese message and a non-zero exit status, and imports
    a command's module only when that command is run (`lazy`: command name → module, filled by
    `cli.main`): `validate` does not pay for the analysis, the site or the encryption commands'
    imports (~0.3 s of every run's start-up)."""

    lazy: dict[str, str] = {}

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            import importlib

            importlib.import_module(self.lazy[cmd_name])
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        import importlib

        for module in dict.fromkeys(self.lazy.values()):
            importlib.import_module(module)
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LetterboxError as exc:
            err.print(f"[bold red]错误：[/]{escape(exc.message)}", markup=True)  # the message is text, not markup
            for problem in exc.problems:
                err.print(f"  {problem}", markup=False)
            ctx.exit(1)
        except KeyboardInterrupt:
            err.print("已中断。未完成的操作已撤销，案卷库保持原样。")
            ctx.exit(130)


def print_json(data: Any) -> None:
    """JSON on stdout: the same data, with control and bidi-override characters as JSON escapes."""
    click.echo(escape_unsafe_json(json.dumps(data, ensure_ascii=False, indent=2)))


class State_:
    def __init__(self, repo: Path | None) -> None:
        self.repo_path = repo

    def repo(self) -> Repository:
        """The repository; its git helper processes end with the command (`Repository.close`)."""
        repo = Repository(self.repo_path) if self.repo_path is not None else Repository.discover()
        ctx = click.get_current_context(silent=True)
        if ctx is not None:
            ctx.call_on_close(repo.close)
        return repo


pass_state = click.make_pass_decorator(State_)


@click.group(cls=LetterboxGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), envvar="LETTERBOX_REPO",
              help="案卷库目录（默认：环境变量 LETTERBOX_REPO，或当前目录所在的 git 仓库）。")
@click.version_option(__version__, prog_name="letterbox")
@click.pass_context
def cli(ctx: click.Context, repo: Path | None) -> None:
    """letterbox：区长信箱来信办理系统。每封来信是 cases/ 下的一个 YAML 文件，每一步办理是一次 git 提交。"""
    ctx.obj = State_(repo)


# -- shared helpers ------------------------------------------------------------------------


def letters_of(repo: Repository, keyring: Keyring | None = None) -> list[Letter]:
    """Every letter of the repository (sealed ones opened with `keyring`); the case files that
    could not be read are named on stderr (path only: a file's content may hold a writer's
    data) and left out."""
    loaded = repo.load(lines=False, keyring=keyring)
    warn_unreadable(loaded)
    return loaded.letters


def letters_where(repo: Repository, want: Want, keyring: Keyring | None = None) -> list[Letter]:
    """The letters whose entry in the letters index `want` accepts (store/index.py: only the
    case files changed since they were last read are read), sealed ones opened with `keyring`;
    like `letters_of`, every case file that could not be read is named on stderr."""
    loaded = repo.indexed(want, keyring).loaded
    warn_unreadable(loaded)
    return loaded.letters


def reading_keys(repo: Repository) -> Keyring | None:
    """The keys `show` and `list` open sealed letters with, if this user has any: these work
    without keys (a key that cannot be read is named on stderr, and the letters stay hidden)."""
    try:
        return repo.keyring()
    except LetterboxError as exc:
        err.print(f"警告：{exc.message}（加密的信件不显示内容）", markup=False)
        return Keyring()


def readable_letters(repo: Repository, want: Want | None = None) -> tuple[list[Letter], Keyring | None]:
    """Every letter (or those whose index entry `want` accepts: `letters_where`) opened with
    this user's keys, for the commands that need the clear text (similar, analyse, report): a
    clear error, before anything is written, when letters are sealed and no key is found. A
    letter the keys still cannot open is the caller's to skip."""
    keyring = repo.keyring()
    letters = letters_of(repo, keyring) if want is None else letters_where(repo, want, keyring)
    repo.require_keys(letters, keyring)
    return letters, keyring


def warn_hidden(repo: Repository, letters: list[Letter], what: str = "") -> None:
    """One line on stderr: how many letters could not be opened, and why."""
    from letterbox.reports.views import hidden_note

    note = hidden_note(letters, repo.config)
    if note:
        err.print(note + what, markup=False)


def warn_unreadable(loaded: Loaded | list[str] | tuple[str, ...]) -> None:
    files = loaded.unreadable if isinstance(loaded, Loaded) else list(loaded)
    if not files:
        return
    err.print(f"警告：{len(files)} 个案卷文件无法读取，未计入结果（运行 letterbox validate 查看原因）：",
              markup=False)
    for file in files:
        err.print(f"  {file}", markup=False)


def report_problems(problems: list[Problem], as_json: bool, checked: int,
                    extra: dict[str, Any] | None = None) -> None:
    """Print the problems of `validate` or `check`; exit 1 when there are errors. `extra`:
    further keys of the JSON output (validate's cache counts)."""
    errors = errors_only(problems)
    if as_json:
        print_json({"checked": checked, "errors": len(errors), "warnings": len(problems) - len(errors),
                    "problems": [p.to_json() for p in problems], **(extra or {})})
    else:
        for problem in problems:
            (err if problem.severity == "error" else out).print(str(problem), markup=False)
        if errors:
            err.print(f"共检查 {checked} 封信件，发现 {len(errors)} 处错误。")
        else:
            out.print(f"共检查 {checked} 封信件，全部符合格式和办理流程。")
    if errors:
        sys.exit(1)


def today_of(repo: Repository, value: datetime | None) -> date:
    """The day given by --today, else today in the repository's time zone."""
    return value.date() if value else datetime.now(repo.config.tz).date()


def relative(repo: Repository, path: Path) -> PurePosixPath:
    """A path given on the command line, relative to the repository root."""
    full = path.resolve()
    if not path.is_absolute() and not full.exists() and (repo.root / path).exists():
        full = (repo.root / path).resolve()  # relative to the repository given by --repo
    try:
        return PurePosixPath(full.relative_to(repo.root).as_posix())
    except ValueError:
        raise LetterboxError(f"{path} 不在案卷库 {repo.root} 之内。") from None
