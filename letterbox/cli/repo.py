"""Repository commands: set-up (init, units), checks (validate, check) and reading (show, list)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from letterbox.cli.app import (
    State_,
    cli,
    err,
    letters_of,
    letters_where,
    out,
    pass_state,
    print_json,
    reading_keys,
    relative,
    report_problems,
    today_of,
    warn_hidden,
)
from letterbox.core.clock import work_calendar
from letterbox.core.deadlines import counts_working_days, days_left_text
from letterbox.core.process import CATEGORIES, STATUSES
from letterbox.ops.scaffold import init_repository
from letterbox.reports.views import followed_by, letter_view, placeholder, row_view, with_status
from letterbox.store.index import follows

# -- set-up ------------------------------------------------------------------------------


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--tool-source", metavar="URL",
              help="CI 安装 letterbox 的来源，须固定到提交或哈希：git+https://…@<40 位提交号>，"
                   "或 https://…/文件.whl#sha256=<64 位十六进制>。默认取本机 letterbox 的安装来源。")
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="信箱办公室管理员本人的 SSH ed25519 私钥文件：名册以此人开始，以后的步骤自动用它签名。")
@click.option("--name", help="管理员姓名（与 --key 一起给出），写入名册和办理记录。")
def init(directory: Path, tool_source: str | None, key_file: Path | None, name: str | None) -> None:
    """新建一个空的案卷库（git 仓库、cases/、配置、格式定义和 CI 文件）。"""
    from letterbox.ops.toolsource import resolve_tool_source

    if (key_file is None) != (name is None):
        raise click.UsageError("--key 和 --name 要一起给出（管理员的密钥和姓名）。")
    source = resolve_tool_source(tool_source)
    admin = (name, key_file) if key_file is not None and name is not None else None
    target = init_repository(directory, tool_source=source, admin=admin)
    out.print(f"已新建案卷库：{target}")
    if admin:
        out.print(f"名册：{admin[0]}（信箱办公室管理员）；此后的步骤自动用 {key_file} 签名。"
                  "用 letterbox roster add 登记其他人员（docs/roster.md）。", markup=False)
    else:
        out.print("名册为空：办理步骤暂不要求签名。启用签名见 docs/roster.md"
                  "（letterbox key use 私钥文件，然后 letterbox roster add）。", markup=False)
    if source is None:
        err.print("注意：本机 letterbox 不是从固定的提交或文件安装的，CI 文件中的安装步骤会报错停止。"
                  "请按其中的说明改为固定的来源，或删除该目录后用 letterbox init --tool-source 重新新建。",
                  markup=False)
    else:
        out.print(f"CI 安装来源：{source}", markup=False)
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


# -- checks ------------------------------------------------------------------------------


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
    only = [relative(repo, p) for p in paths] if paths else None
    day = today.date() if today else datetime.now(repo.config.tz).date()
    stats: dict[str, int] = {}
    problems, checked = validate_all(repo, only, day, strict_calendar, stats)
    report_problems(problems, as_json, checked, {"cache": stats})


@cli.command()
@click.option("--base", required=True, help="比较的基准版本（如 origin/main 或提交号）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_state
def check(state: State_, base: str, as_json: bool) -> None:
    """检查自 BASE 以来对案卷的修改（含手工编辑）是否都是合法的办理步骤。"""
    from letterbox.ops.check import check_changes

    repo = state.repo()
    problems, checked = check_changes(repo, base)
    report_problems(problems, as_json, checked)


# -- reading -----------------------------------------------------------------------------


@cli.command()
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@click.option("--writer", is_flag=True, help="同时显示来信人姓名和联系方式（严格保密）。")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="按指定日期计算剩余期限。")
@pass_state
def show(state: State_, code: str, as_json: bool, writer: bool, today: datetime | None) -> None:
    """显示一封信件及其办理记录和期限计算过程。"""
    repo = state.repo()
    letter = repo.letter(code, reading_keys(repo))
    day = today_of(repo, today)
    view = letter_view(letter, repo.config, work_calendar(repo.root), day,
                       followed_by(letters_where(repo, follows(letter.code))).get(letter.code, []),
                       with_writer=writer)
    if view["problem"]:
        err.print(f"问题：{view['problem']}", markup=False)
    if view["hidden"]:
        err.print(f"注意：这封信加密保存，来信人信息、标题和内容未显示：{view['hidden']}", markup=False)
    if as_json:
        print_json(view)
        return
    _print_letter(view, writer, day)


def _print_letter(v: dict[str, Any], with_writer: bool = False, day: date | None = None) -> None:
    out.print(f"[bold]{v['letter_code']}[/]  {escape(str(v['title']))}")
    out.print(f"状态：{v['status_label']}    类别：{v['category_label'] or '未分类'}    "
              f"承办单位：{'、'.join(v['unit_names']) or '—'}{'（' + v['mode_label'] + '）' if v['mode_label'] else ''}"
              + (f"    协办单位：{'、'.join(v['co_unit_names'])}" if v.get("co_unit_names") else ""))
    out.print(f"提交时间：{v['submitted_at']}    渠道：{v.get('channel_label') or v['channel']}")
    if v.get("writer"):
        w = v["writer"]
        out.print(f"来信人（保密）：{w['name']}  {w['phone']}  {w['email']}  {w['address']}", markup=False)
    elif with_writer and v["hidden"]:
        out.print(f"来信人（保密）：{placeholder(v['hidden'])}", markup=False)
    if v["follows_up"]:
        out.print(f"前信：{v['follows_up']}")
    if v["followed_by"]:
        out.print(f"后续来信：{'、'.join(v['followed_by'])}")
    if v.get("merged_into"):
        out.print(f"合并办理：已并入主信 {v['merged_into']}，随主信办理")
    if v.get("merged"):
        out.print(f"合并办理：本信为主信，并入的来信 {'、'.join(v['merged'])}（共 {len(v['merged']) + 1} 封）")
    if v["deadline"]:
        overdue = day is not None and day > date.fromisoformat(v["deadline"])
        when = days_left_text(v["deadline_kind"], v["days_left"], overdue)
        mark = "（暂定）" if v["provisional"] else ""
        out.print(f"[bold]期限：{v['deadline']}{mark}，{when}[/]")
        for line in v["deadline_explained"]:
            out.print(f"  · {line}", markup=False)
    if v["pending_extension"]:
        out.print(f"待审批的延期申请：{v['pending_extension']} 天")
    for flag in v.get("risk_flags") or []:
        out.print(f"[bold red]风险预警[/]（办法第十五条第二项）：{escape(flag['at'][:16].replace('T', ' '))} "
                  f"{escape(flag['note'])}")
    out.print("")
    out.print(v["body"], markup=False)
    table = Table(title="办理记录")
    table.add_column("时间", no_wrap=True)
    table.add_column("办理人")
    table.add_column("步骤", no_wrap=True)
    table.add_column("内容")
    for e in v["history"]:
        # a value ending a sentence (an answer's text) loses its 。 before the next item's ；
        details = "；".join(f"{k}：{_short(val)}" for k, val in e.get("details_label") or [])
        details = details.replace("。；", "；")
        table.add_row(e["at"][:16].replace("T", " "), escape(str(e.get("actor", ""))), str(e["label"]),
                      escape(details))
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
    day = today_of(repo, today)
    keys = reading_keys(repo)
    letters = letters_where(repo, with_status(status), keys) if status else letters_of(repo, keys)
    rows = [row_view(x, config, cal, day) for x in letters]
    for row in rows:
        if row["problem"]:
            err.print(f"警告：{row['problem']}（列表中此信的状态按案卷所写，期限未计算）", markup=False)
    rows = [r for r in rows if (not status or r["status"] == status)
            and (not unit_code or unit_code in r["units"])
            and (not category or r["category"] == category)
            and (not month or r["submitted_at"][:7] == month)]
    shown = {r["letter_code"] for r in rows}
    warn_hidden(repo, [x for x in letters if x.code in shown])
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
                      "、".join(r["unit_names"]) or "—", _deadline_cell(r), escape(str(r["title"])))
    out.print(table)


def _deadline_cell(r: dict[str, Any]) -> str:
    if not r["deadline"]:
        return "—"
    left = r["days_left"]
    unit = "个工作日" if counts_working_days(r["deadline_kind"]) else "天"  # petition: calendar days
    text = f"{r['deadline']} 剩 {left} {unit}" if left >= 0 else f"{r['deadline']} [red]逾期 {-left} {unit}[/]"
    return text + ("（暂定）" if r["provisional"] else "")
