"""The `letterbox` command: thin click commands over the core; text for people, --json for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from letterbox import __version__
from letterbox.core.clock import work_calendar
from letterbox.core.errors import LetterboxError, Problem, errors_only
from letterbox.core.process import CATEGORIES, REJECT_REASONS, STATUSES, WITHHOLD_REASONS
from letterbox.ops import workflow
from letterbox.ops.intake import IntakeReport, intake_files
from letterbox.ops.scaffold import init_repository
from letterbox.reports.views import followed_by, letter_view, row_view
from letterbox.store.repository import Actor, Repository

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class LetterboxGroup(click.Group):
    """Turns core errors into one clear Chinese message and a non-zero exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LetterboxError as exc:
            err.print(f"[bold red]错误：[/]{exc.message}", markup=True)
            for problem in exc.problems:
                err.print(f"  {problem}", markup=False)
            ctx.exit(1)
        except KeyboardInterrupt:
            err.print("已中断。未完成的操作已撤销，案卷库保持原样。")
            ctx.exit(130)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


class State_:
    def __init__(self, repo: Path | None) -> None:
        self.repo_path = repo

    def repo(self) -> Repository:
        if self.repo_path is not None:
            return Repository(self.repo_path)
        return Repository.discover()


pass_state = click.make_pass_decorator(State_)


@click.group(cls=LetterboxGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), envvar="LETTERBOX_REPO",
              help="案卷库目录（默认：环境变量 LETTERBOX_REPO，或当前目录所在的 git 仓库）。")
@click.version_option(__version__, prog_name="letterbox")
@click.pass_context
def cli(ctx: click.Context, repo: Path | None) -> None:
    """letterbox：区长信箱来信办理系统。每封来信是 cases/ 下的一个 YAML 文件，每一步办理是一次 git 提交。"""
    ctx.obj = State_(repo)


def main() -> None:
    cli(prog_name="letterbox")


# -- set-up and reading --------------------------------------------------------------------


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """新建一个空的案卷库（git 仓库、cases/、配置、格式定义和 CI 文件）。"""
    target = init_repository(directory)
    out.print(f"已新建案卷库：{target}")
    out.print("下一步：编辑 letterbox.yaml 核对单位名录，然后用 `letterbox intake 文件` 收信。")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_state
def units(state: State_, as_json: bool) -> None:
    """列出承办单位名录。"""
    config = state.repo().config
    rows = [{"code": u.code, "name": u.name, "kind": u.kind, "role": u.role} for u in config.units]
    if as_json:
        print_json(rows)
        return
    table = Table("代码", "名称", "类别", "特殊职能", title=f"{config.district}承办单位名录")
    roles = {"petition": "信访（多单位协调件）", "discipline": "纪检监察"}
    for r in rows:
        table.add_row(r["code"], r["name"], r["kind"], roles.get(r["role"] or "", ""))
    out.print(table)


def _report_problems(problems: list[Problem], as_json: bool, checked: int) -> None:
    errors = errors_only(problems)
    if as_json:
        print_json({"checked": checked, "errors": len(errors), "warnings": len(problems) - len(errors),
                    "problems": [p.to_json() for p in problems]})
    else:
        for problem in problems:
            (err if problem.severity == "error" else out).print(str(problem), markup=False)
        if errors:
            err.print(f"共检查 {checked} 封信件，发现 {len(errors)} 处错误。")
        else:
            out.print(f"共检查 {checked} 封信件，全部符合格式和办理流程。")
    if errors:
        sys.exit(1)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@click.option("--strict-calendar", is_flag=True, help="缺少下一年节假日数据时按错误处理（供每日定时任务使用）。")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="按指定日期检查（默认今天）。")
@pass_state
def validate(state: State_, paths: tuple[Path, ...], as_json: bool, strict_calendar: bool,
             today: datetime | None) -> None:
    """校验案卷：格式、文件位置、编码唯一、前信存在、办理记录合法且按时间顺序。"""
    from letterbox.ops.checks import validate_all

    repo = state.repo()
    only = [_relative(repo, p) for p in paths] if paths else None
    day = today.date() if today else datetime.now(repo.config.tz).date()
    problems, checked = validate_all(repo, only, day, strict_calendar)
    _report_problems(problems, as_json, checked)


def _relative(repo: Repository, path: Path) -> Any:
    from pathlib import PurePosixPath

    full = path.resolve()
    if not path.is_absolute() and not full.exists() and (repo.root / path).exists():
        full = (repo.root / path).resolve()  # relative to the repository given by --repo
    try:
        return PurePosixPath(full.relative_to(repo.root).as_posix())
    except ValueError:
        raise LetterboxError(f"{path} 不在案卷库 {repo.root} 之内。") from None


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "actor", help="收信人员（默认：git 配置的用户名）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（letter_code、query_code、path 的列表）。")
@pass_state
def intake(state: State_, files: tuple[Path, ...], actor: str | None, as_json: bool) -> None:
    """收信：读取 JSON、JSON Lines 或 YAML 格式的来信，编号并各提交一次。查询码只显示这一次。"""
    repo = state.repo()
    who = Actor(actor) if actor else repo.default_actor()
    report = IntakeReport()
    interrupted = False
    try:
        intake_files(repo, list(files), who, report=report)
    except KeyboardInterrupt:
        interrupted = True
    _print_intake(report, as_json)
    if report.accepted and not as_json and not interrupted:
        from letterbox.cli.analysis import print_intake_notes

        print_intake_notes(repo, [a.letter_code for a in report.accepted])
    if interrupted:
        err.print("已中断：上面列出的来信已保存，其余未处理。")
        sys.exit(130)
    if report.refused:
        sys.exit(1)


def _print_intake(report: IntakeReport, as_json: bool) -> None:
    if as_json:
        print_json([a.to_json() for a in report.accepted])
    else:
        if report.accepted:
            table = Table("信件编码", "查询码", "文件", title="已收来信（查询码只显示这一次，请告知来信人妥善保管）")
            for a in report.accepted:
                table.add_row(a.letter_code, a.query_code, a.path)
            out.print(table)
    for problem in report.refused:
        err.print(str(problem), markup=False)
    if report.refused:
        err.print(f"{len(report.accepted)} 封已收，{sum(1 for p in report.refused)} 处问题导致来信未收（未保存任何内容）。")


def _today(repo: Repository, value: datetime | None) -> date:
    return value.date() if value else datetime.now(repo.config.tz).date()


@cli.command()
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@click.option("--writer", is_flag=True, help="同时显示来信人姓名和联系方式（严格保密）。")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="按指定日期计算剩余期限。")
@pass_state
def show(state: State_, code: str, as_json: bool, writer: bool, today: datetime | None) -> None:
    """显示一封信件及其办理记录和期限计算过程。"""
    repo = state.repo()
    letter = repo.letter(code)
    view = letter_view(letter, repo.config, work_calendar(repo.root), _today(repo, today),
                       followed_by(repo.letters()).get(letter.code, []), with_writer=writer)
    if as_json:
        print_json(view)
        return
    _print_letter(view)


def _print_letter(v: dict[str, Any]) -> None:
    out.print(f"[bold]{v['letter_code']}[/]  {v['title']}")
    out.print(f"状态：{v['status_label']}    类别：{v['category_label'] or '未分类'}    "
              f"承办单位：{'、'.join(v['unit_names']) or '—'}{'（' + v['mode_label'] + '）' if v['mode_label'] else ''}")
    out.print(f"提交时间：{v['submitted_at']}    渠道：{v['channel']}")
    if v.get("writer"):
        w = v["writer"]
        out.print(f"来信人（保密）：{w['name']}  {w['phone']}  {w['email']}  {w['address']}", markup=False)
    if v["follows_up"]:
        out.print(f"前信：{v['follows_up']}")
    if v["followed_by"]:
        out.print(f"后续来信：{'、'.join(v['followed_by'])}")
    if v["deadline"]:
        left = v["days_left"]
        when = f"剩余 {left} 个工作日" if left >= 0 else f"已逾期 {-left} 个工作日"
        mark = "（暂定）" if v["provisional"] else ""
        out.print(f"[bold]期限：{v['deadline']}{mark}，{when}[/]")
        for line in v["deadline_explained"]:
            out.print(f"  · {line}", markup=False)
    if v["pending_extension"]:
        out.print(f"待审批的延期申请：{v['pending_extension']} 天")
    out.print("")
    out.print(v["body"], markup=False)
    table = Table(title="办理记录")
    table.add_column("时间", no_wrap=True)
    table.add_column("办理人")
    table.add_column("步骤", no_wrap=True)
    table.add_column("内容")
    for e in v["history"]:
        details = "；".join(f"{k}: {_short(val)}" for k, val in (e.get("details") or {}).items())
        table.add_row(e["at"][:16].replace("T", " "), e["actor"], e["label"], details)
    out.print(table)


def _short(value: Any) -> str:
    text = "、".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 60 else text[:58] + "…"


@cli.command(name="list")
@click.option("--status", type=click.Choice(list(STATUSES)), help="按状态筛选。")
@click.option("--unit", help="按承办单位（代码或名称）筛选。")
@click.option("--category", type=click.Choice(list(CATEGORIES)), help="按类别筛选。")
@click.option("--month", help="按提交月份筛选，格式 YYYY-MM。")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="按指定日期计算剩余期限。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_state
def list_(state: State_, status: str | None, unit: str | None, category: str | None, month: str | None,
          today: datetime | None, as_json: bool) -> None:
    """列出信件（可按状态、单位、类别、月份筛选），显示剩余或逾期的工作日。"""
    repo = state.repo()
    config = repo.config
    unit_code = config.unit(unit).code if unit else None
    cal = work_calendar(repo.root)
    day = _today(repo, today)
    rows = [row_view(x, config, cal, day) for x in repo.letters()]
    rows = [r for r in rows if (not status or r["status"] == status)
            and (not unit_code or unit_code in r["units"])
            and (not category or r["category"] == category)
            and (not month or r["submitted_at"][:7] == month)]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"信件 {len(rows)} 封")
    table.add_column("信件编码", no_wrap=True)
    table.add_column("状态", no_wrap=True)
    for name in ("类别", "承办单位", "期限", "标题"):
        table.add_column(name)
    for r in rows:
        table.add_row(r["letter_code"], r["status_label"], CATEGORIES.get(r["category"] or "", "—"),
                      "、".join(r["unit_names"]) or "—", _deadline_cell(r), r["title"])
    out.print(table)


def _deadline_cell(r: dict[str, Any]) -> str:
    if not r["deadline"]:
        return "—"
    left = r["days_left"]
    text = f"{r['deadline']} 剩 {left} 日" if left >= 0 else f"{r['deadline']} [red]逾期 {-left} 日[/]"
    return text + ("（暂定）" if r["provisional"] else "")


# -- workflow steps ----------------------------------------------------------------------


def step_command(name: str, help_text: str) -> Callable[[Callable[..., Any]], click.Command]:
    """A workflow command: CODE argument, --as, --at and --json, result printed one way."""

    def decorate(func: Callable[..., Any]) -> click.Command:
        @wraps(func)
        def run(state: State_, code: str, actor: str | None, at: str | None, as_json: bool, **kw: Any) -> None:
            repo = state.repo()
            who = Actor(actor) if actor else repo.default_actor()
            result = func(repo, code, who, at, **kw)
            if as_json:
                print_json({"letter_code": result.letter_code, "action": result.action,
                            "status": result.status, "commit": result.commit})
            else:
                out.print(f"已完成：{result.message} → 当前状态：{STATUSES[result.status]}（提交 {result.commit[:8]}）",
                          markup=False)

        command: Any = click.argument("code")(run)
        command = click.option("--as", "actor", help="办理人员（默认：git 配置的用户名）。")(command)
        command = click.option("--at", help="办理时间（补录纸质记录时用，如 2026-03-02T09:15:00+08:00；默认现在）。")(command)
        command = click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果。")(command)
        command = pass_state(command)
        return cli.command(name=name, help=help_text)(command)

    return decorate


def _read_text(file: Path | None, text: str | None, what: str) -> str:
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LetterboxError(f"无法读取{what}文件 {file}（{exc.__class__.__name__}），应为 UTF-8 文本文件。") from None
    return text or ""  # empty: the step refuses, naming the letter's state


_file_opt = click.option("--file", "file", type=click.Path(dir_okay=False, path_type=Path), help="内容所在的文本文件。")
_text_opt = click.option("--text", "text", help="直接写出内容。")


@click.option("--of", "of", help="duplicate、answered 时前一封信件的编码。")
@click.option("--reply", "reply_text", help="告知来信人的文字（默认按理由生成）。")
@click.option("--reason", required=True, type=click.Choice(list(REJECT_REASONS)), help="办法第五条的理由。")
@step_command("reject", "不予受理（办法第五条），从“已收到”或“已分类”。")
def reject_cmd(repo, code, who, at, reason, reply_text, of):  # type: ignore[no-untyped-def]
    return workflow.reject(repo, code, reason, who, reply=reply_text, of=of, at=at)


@click.option("--category", required=True, type=click.Choice(list(CATEGORIES)),
              help="consultation 政策咨询、complaint 求助投诉、suggestion 建言献策。")
@step_command("classify", "分类（办法第七条）。")
def classify_cmd(repo, code, who, at, category):  # type: ignore[no-untyped-def]
    return workflow.classify(repo, code, category, who, at=at)


@_text_opt
@_file_opt
@step_command("reply", "办公室直接回复（办法第八条）→ 已办结。")
def reply_cmd(repo, code, who, at, file, text):  # type: ignore[no-untyped-def]
    return workflow.reply(repo, code, _read_text(file, text, "回复"), who, at=at)


@click.option("--complex", "complex_", is_flag=True, help="较复杂问题（20 个工作日）。")
@click.option("--unit", "units", multiple=True, required=True, help="承办单位代码或名称；写两个以上则转区信访局。")
@step_command("transfer", "转办（办法第九条）：一般 3 个工作日，--complex 20 个工作日，多单位转区信访局（60 日）。")
def transfer_cmd(repo, code, who, at, units, complex_):  # type: ignore[no-untyped-def]
    return workflow.transfer(repo, code, list(units), who, complex_=complex_, at=at)


@click.option("--leader", required=True, help="区政府领导代码。")
@step_command("escalate", "呈办（办法第十条）：生成《来信办理单》，提请领导批示。")
def escalate_cmd(repo, code, who, at, leader):  # type: ignore[no-untyped-def]
    return workflow.escalate(repo, code, leader, who, at=at)


@click.option("--complex", "complex_", is_flag=True, help="较复杂问题（20 个工作日）。")
@click.option("--unit", "units", multiple=True, required=True, help="批示交办的承办单位。")
@click.option("--text", "text", required=True, help="批示内容。")
@click.option("--leader", required=True, help="批示的领导代码。")
@step_command("instruct", "记录领导批示并按批示转办（办法第十条）。")
def instruct_cmd(repo, code, who, at, leader, text, units, complex_):  # type: ignore[no-untyped-def]
    return workflow.instruct(repo, code, leader, text, list(units), who, complex_=complex_, at=at)


@click.option("--unit", help="退回的承办单位（默认为当前承办单位）。")
@click.option("--reason", required=True, help="不属本单位职责范围的说明。")
@step_command("return", "承办单位退回不属本单位职责的信件（办法第十五条第四项）→ 已分类，待重新转办。")
def return_cmd(repo, code, who, at, reason, unit):  # type: ignore[no-untyped-def]
    return workflow.return_letter(repo, code, reason, who, unit=unit, at=at)


@click.option("--reason", required=True, help="书面说明的延期理由。")
@click.option("--days", required=True, type=int, help="申请延长的天数。")
@step_command("extend", "申请延期（办法第十一条）：只能在期限内，须写明理由。")
def extend_cmd(repo, code, who, at, days, reason):  # type: ignore[no-untyped-def]
    return workflow.extend(repo, code, days, reason, who, at=at)


@click.option("--note", help="批准意见。")
@click.option("--days", type=int, help="批准的天数（默认按申请）。")
@step_command("grant", "同意延期申请。")
def grant_cmd(repo, code, who, at, days, note):  # type: ignore[no-untyped-def]
    return workflow.grant(repo, code, who, days=days, note=note, at=at)


@click.option("--note", help="不同意的理由。")
@step_command("refuse", "不同意延期申请。")
def refuse_cmd(repo, code, who, at, note):  # type: ignore[no-untyped-def]
    return workflow.refuse(repo, code, who, note=note, at=at)


@click.option("--contacted", is_flag=True, help="暂时解决不了的问题，已与当事人电话或当面沟通（办法第十二条）。")
@click.option("--unit", help="答复单位（默认为当前承办单位）。")
@click.option("--head", required=True, help="审核把关的单位主要负责人。")
@_text_opt
@_file_opt
@step_command("answer", "承办单位答复，经主要负责人审核（办法第十二条）→ 已答复待审核。")
def answer_cmd(repo, code, who, at, file, text, head, unit, contacted):  # type: ignore[no-untyped-def]
    return workflow.answer(repo, code, _read_text(file, text, "答复"), head, who, unit=unit,
                           contacted=contacted, at=at)


@click.option("--note", help="审核意见。")
@step_command("approve", "办公室审核通过答复（办法第十二条）→ 已办结。")
def approve_cmd(repo, code, who, at, note):  # type: ignore[no-untyped-def]
    return workflow.approve(repo, code, who, note=note, at=at)


@click.option("--reason", required=True, help="审核不通过、退回重办的理由。")
@step_command("send-back", "审核不通过，退回承办单位重办 → 转办中（重新计算期限）。")
def send_back_cmd(repo, code, who, at, reason):  # type: ignore[no-untyped-def]
    return workflow.send_back(repo, code, reason, who, at=at)


@step_command("publish", "决定公开已办结的信件（办法第十三条）。")
def publish_cmd(repo, code, who, at):  # type: ignore[no-untyped-def]
    return workflow.publish(repo, code, who, at=at)


@click.option("--reason", required=True, type=click.Choice(list(WITHHOLD_REASONS)),
              help="state-secret 国家秘密、trade-secret 商业秘密、privacy 个人隐私、sensitive 敏感。")
@step_command("withhold", "决定不公开已办结的信件（办法第十三条）。")
def withhold_cmd(repo, code, who, at, reason):  # type: ignore[no-untyped-def]
    return workflow.withhold(repo, code, reason, who, at=at)


@click.option("--note", help="催办说明。")
@step_command("remind", "催办未办结的信件（办法第十四条）。")
def remind_cmd(repo, code, who, at, note):  # type: ignore[no-untyped-def]
    return workflow.remind(repo, code, who, note=note, at=at)


@click.option("--note", required=True, help="可能引发群体性事件的情况。")
@step_command("flag-risk", "报告可能引发群体性事件的风险（办法第十五条第二项）。")
def flag_risk_cmd(repo, code, who, at, note):  # type: ignore[no-untyped-def]
    return workflow.flag_risk(repo, code, note, who, at=at)


@click.option("--reason", required=True, help="重新办理的理由（如来信人回访评价不满意）。")
@step_command("reopen", "已办结的信件重新办理（如来信人评价不满意，退回重办）→ 转办中（原承办单位，重新计算期限）。")
def reopen_cmd(repo, code, who, at, reason):  # type: ignore[no-untyped-def]
    return workflow.reopen(repo, code, reason, who, at=at)


@step_command("archive", "归档已办结或不予受理的信件（办法第十四条）。")
def archive_cmd(repo, code, who, at):  # type: ignore[no-untyped-def]
    return workflow.archive(repo, code, who, at=at)


@cli.command()
@click.option("--base", required=True, help="比较的基准版本（如 origin/main 或提交号）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_state
def check(state: State_, base: str, as_json: bool) -> None:
    """检查自 BASE 以来对案卷的修改（含手工编辑）是否都是合法的办理步骤。"""
    from letterbox.ops.check import check_changes

    repo = state.repo()
    problems, checked = check_changes(repo, base)
    _report_problems(problems, as_json, checked)


# Command groups kept in their own modules register themselves on `cli` when imported.
from letterbox.cli import analysis as _cli_analysis  # noqa: E402,F401
from letterbox.cli import lookup as _cli_lookup  # noqa: E402,F401
from letterbox.cli import reports as _cli_reports  # noqa: E402,F401
from letterbox.cli import service as _cli_service  # noqa: E402,F401
from letterbox.cli import site as _cli_site  # noqa: E402,F401
