"""Report commands (deadlines, supervision report), registered on the main `letterbox` group."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import click
from rich.table import Table

from letterbox.cli.app import (
    State_,
    cli,
    err,
    letters_where,
    out,
    pass_state,
    print_json,
    readable_letters,
    reading_keys,
)
from letterbox.core.calendar import provisional_note
from letterbox.core.clock import work_calendar
from letterbox.core.errors import LetterboxError
from letterbox.core.process import STATUSES
from letterbox.core.textsafe import escape_unsafe_json
from letterbox.reports.deadline_table import (
    CLOCK_LABELS,
    FAIL_ON,
    DeadlineTable,
    days_left_text,
    deadline_table,
    needed,
    remarks_text,
    resolve_unit,
)
from letterbox.reports.monthly import monthly_report, render_report
from letterbox.reports.monthly import needed as month_needed
from letterbox.store.repository import Repository

FAIL_MESSAGES = {
    "overdue": "有逾期未办结的信件",
    "due-soon": "有逾期或 1 个工作日内到期的信件",
}


def _day(repo: Repository, value: datetime | None) -> date:
    return value.date() if value else datetime.now(repo.config.tz).date()


@cli.command()
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]),
              help="按指定日期生成（默认今天）；只计入该日及以前的办理记录，可重现以往某日的期限表。")
@click.option("--unit", help="只列某一承办单位（代码或名称；办公室代码列出分办、审核中的信件）。")
@click.option("--json", "as_json", is_flag=True,
              help="以 JSON 输出（信件列表：letter_code、units、deadline、days_left、overdue、provisional 等）。")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="overdue", show_default=True,
              help="何时以状态 1 退出：overdue 有逾期；due-soon 有逾期或 1 个工作日内到期；never 从不。")
@pass_state
def deadlines(state: State_, today: datetime | None, unit: str | None, as_json: bool,
              fail_on: str) -> None:
    """办理期限表：未办结信件按期限排列、逾期在前、按承办单位分组（供每日定时任务检查）。"""
    repo = state.repo()
    config = repo.config
    day = _day(repo, today)
    unit_code = resolve_unit(config, unit) if unit else None
    keys = None if as_json else reading_keys(repo)  # keys: for the alerts only
    letters = letters_where(repo, needed(day, config.burst_window_days), keys)
    table = deadline_table(letters, config, work_calendar(repo.root), day, unit_code)
    for warning in table.warnings:
        (err if as_json else out).print(f"警告：{warning}", markup=False)
    if as_json:
        print_json([r.to_json() for r in table.rows])
    else:
        from letterbox.cli.analysis import print_alerts
        from letterbox.reports.analysis import recent_alerts  # jieba: only when printed
        from letterbox.reports.similar import kept_vectors

        with kept_vectors(repo.git_dir):  # the window's text vectors, kept for the next run
            alerts = recent_alerts(letters, config, work_calendar(repo.root), day)
        print_alerts(alerts, config.burst_min_letters, config.burst_window_days)
        _print_table(table, config.office_code)
    from letterbox.ops.notify.state import attention  # the notify worker's record, if it ran here

    for line in attention(repo.git_dir):
        (err if as_json else out).print(f"通知：{line}（运行 letterbox notify --status 查看）", markup=False)
    if table.fails(fail_on):
        err.print(f"期限检查未通过：{FAIL_MESSAGES[fail_on]}（--fail-on {fail_on}）。", markup=False)
        sys.exit(1)


def _print_table(table: DeadlineTable, office_code: str) -> None:
    overdue = sum(r.overdue for r in table.rows)
    soon = sum(r.due_soon and not r.overdue for r in table.rows)
    out.print(f"[bold]办理期限表（{table.today.isoformat()}）[/]：未办结 {len(table.rows)} 封，"
              f"逾期 {overdue} 封，1 个工作日内到期 {soon} 封。")
    for code, name, rows in table.groups():
        late = sum(r.overdue for r in rows)
        title = f"{name}（{code}）{'：分办、审核、呈批、复查复核中的信件' if code == office_code else ''}"
        title += f"  共 {len(rows)} 封{f'，逾期 {late} 封' if late else ''}"
        grid = Table("信件编码", "状态", "期限类型", "到期日", "剩余/逾期", "备注", title=title,
                     title_justify="left")
        for column in (0, 3, 4):
            grid.columns[column].no_wrap = True
        for r in rows:
            left = days_left_text(r)
            if r.overdue:
                left = f"[bold red]{left}[/]"
            elif r.due_soon:
                left = f"[yellow]{left}[/]"
            deadline = r.deadline.isoformat() + ("（暂定）" if r.provisional else "") if r.deadline else "—"
            grid.add_row(r.letter_code, STATUSES.get(r.status, r.status),
                         CLOCK_LABELS.get(r.kind, r.kind), deadline, left, remarks_text(r))
        out.print(grid)
    years = table.provisional_years()
    if years:
        out.print(provisional_note(years), markup=False)


@cli.command()
@click.option("--month", required=True, help="统计月份，格式 YYYY-MM。")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md",
              show_default=True, help="md（Markdown）、html（含图表）或 json（统计数字）。")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="写入文件（默认输出到屏幕）。")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]),
              help="按指定日期生成（默认今天）；当月未结束时数据截至该日。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（同 --format json）。")
@pass_state
def report(state: State_, month: str, fmt: str, out_file: Path | None,
           today: datetime | None, as_json: bool) -> None:
    """督办月报（办法第十四、十六条）：收信、办结、按期与逾期情况、拟通报单位、催办、风险预警。"""
    fmt = "json" if as_json else fmt
    repo = state.repo()
    config = repo.config
    letters, _keys = readable_letters(repo, month_needed(month))
    from letterbox.reports.similar import kept_vectors  # the early warning's text vectors, kept

    with kept_vectors(repo.git_dir):
        figures = monthly_report(letters, config, work_calendar(repo.root), month, _day(repo, today))
    if fmt == "json":
        import json

        text = json.dumps(figures.to_json(), ensure_ascii=False, indent=2) + "\n"
    else:
        text = render_report(figures, fmt)
    if out_file is None:
        click.echo(escape_unsafe_json(text), nl=False)  # no control character to the terminal
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LetterboxError(f"无法写入 {out_file}（{exc.__class__.__name__}）。") from None
    for warning in figures.warnings:
        err.print(f"警告：{warning}", markup=False)
    out.print(f"已生成 {month} 督办月报：{out_file}", markup=False)


__all__ = ["deadlines", "report"]
