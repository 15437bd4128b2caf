"""Analysis commands (similar, analyse), registered on the main `letterbox` group."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from letterbox.cli.app import (
    State_,
    cli,
    err,
    letters_of,
    out,
    pass_state,
    print_json,
    readable_letters,
    warn_hidden,
)
from letterbox.core.clock import work_calendar
from letterbox.core.config import Config
from letterbox.core.errors import LetterboxError
from letterbox.core.letter import Letter
from letterbox.store.repository import Repository

if TYPE_CHECKING:  # the analysis modules load jieba and scipy: only when a command needs them
    from letterbox.reports.analysis import Alert, Analysis


@cli.command()
@click.argument("code")
@click.option("--all", "include_later", is_flag=True, help="同时列出比这封信晚收到的来信。")
@click.option("--limit", default=10, show_default=True, help="最多列出几封。")
@click.option("--json", "as_json", is_flag=True,
              help="以 JSON 输出：[{letter_code, score, reasons, text_score, meaning_score, place, phrases}]，最相近的在前。")
@pass_state
def similar(state: State_, code: str, include_later: bool, limit: int, as_json: bool) -> None:
    """列出与这封信内容相同或相近的来信（办法第五条第二项），最相近的在前。"""
    from letterbox.reports.similar import DUPLICATE_SCORE, next_step, reason_text, similar_letters

    repo = state.repo()
    target = repo.letter(code)
    letters, _keys = readable_letters(repo)
    found = similar_letters(letters, repo.config, target.code, limit, not include_later, repo.git_dir)
    warn_hidden(repo, letters, "这些信件未参与比较。")
    if as_json:
        print_json([m.to_json() for m in found])
        return
    if not found:
        out.print(f"没有发现与 {target.code} 内容相同或相近的{'' if include_later else '较早'}来信。")
        return
    titles = {x.code: str(x.data.get("title") or "") for x in letters}
    table = Table("信件编码", "相似度", "理由", "共同地点", "共同词语", "标题",
                  title=f"与 {target.code} 相近的来信")
    for m in found:
        table.add_row(m.letter_code, f"{m.score:.2f}",
                      reason_text(m), m.place or "—",
                      "、".join(m.phrases) or "—", titles.get(m.letter_code, ""))
    out.print(table)
    best = found[0]
    if best.score >= DUPLICATE_SCORE and target.status in ("received", "classified"):
        out.print(next_step(target.code, best, {x.code: x for x in letters}), markup=False)


@cli.command()
@click.option("--from", "from_", type=click.DateTime(["%Y-%m-%d"]),
              help="起始日期（默认：最早一封来信的收信日）。")
@click.option("--to", "to", type=click.DateTime(["%Y-%m-%d"]), help="结束日期（默认今天）。")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="把报告写入此目录（analysis.html 含图表，analysis.json 为统计数字）。")
@click.option("--min-letters", type=int, help="预警：至少几封（默认按 letterbox.yaml early_warning）。")
@click.option("--window-days", type=int, help="预警：几日之内（默认按 letterbox.yaml early_warning）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出统计数字和预警。")
@pass_state
def analyse(state: State_, from_: datetime | None, to: datetime | None, out_dir: Path | None,
            min_letters: int | None, window_days: int | None, as_json: bool) -> None:
    """来信分析（办法第十四条）：类别、单位、镇街、月份、办理用时、按期率、热点问题和集中来信预警。"""
    from letterbox.reports import analysis

    repo = state.repo()
    config = repo.config
    letters, _keys = readable_letters(repo)
    warn_hidden(repo, letters, "这些信件计入各项统计，其内容未参与热点问题、地点和集中来信预警。")
    last = to.date() if to else datetime.now(config.tz).date()
    first = from_.date() if from_ else _earliest(letters, config, last)
    from letterbox.reports.similar import kept_vectors

    with kept_vectors(repo.git_dir):  # the early warning's text vectors, kept for the next run
        result = analysis.analyse(letters, config, work_calendar(repo.root), first, last,
                                  min_letters, window_days)
    if as_json:
        print_json(result.to_json())
    else:
        _print_summary(result)
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "analysis.html").write_text(analysis.render_html(result), "utf-8")
            (out_dir / "analysis.json").write_text(
                json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n", "utf-8")
        except OSError as exc:
            raise LetterboxError(f"无法写入 {out_dir}（{exc.__class__.__name__}）。") from None
        (err if as_json else out).print(f"已生成分析报告：{out_dir / 'analysis.html'}", markup=False)


def _earliest(letters: Sequence[Letter], config: Config, last: date) -> date:
    days = []
    for x in letters:
        try:
            days.append(x.submitted_at.astimezone(config.tz).date())
        except (KeyError, ValueError, TypeError, OverflowError):  # a hand-edited date: the
            continue  # analysis counts from the fold, which names the letter
    return min(days, default=last)


def _print_summary(a: Analysis) -> None:
    print_alerts(a.alerts, a.min_letters, a.window_days)
    rate = "—" if a.on_time_rate is None else f"{a.on_time_rate * 100:.1f}%"
    out.print(f"[bold]来信分析（{a.first.isoformat()} 至 {a.last.isoformat()}）[/]：收信 {a.received} 封，"
              f"办结 {a.closed} 封"
              + (f"（另有 {a.merged_closed} 封随主信合并办结，合并办理的一组来信按一件计入办结和按期情况）"
                 if a.merged_closed else "")
              + f"，按期办结率 {rate}，办理用时中位数 "
              f"{'—' if a.median_days is None else f'{a.median_days:g}'} 个工作日、第 90 百分位 "
              f"{'—' if a.p90_days is None else a.p90_days} 个工作日。")
    for title, rows in (("按类别", a.by_category), ("按镇（乡）、街道", a.by_place), ("按月份", a.by_month)):
        out.print(f"{title}：" + "，".join(f"{c.label} {c.letters}" for c in rows), markup=False)
    if any(any(r.values()) for r in a.reviews.values()):
        out.print("复查、复核：" + "；".join(
            f"{kind}申请 {r['requested']} 件，维持 {r['维持']}、撤销 {r['撤销']}、变更 {r['变更']}，"
            f"办理中 {r['pending']}" for kind, r in a.reviews.items()), markup=False)
    if a.hot_topics:
        out.print("热点问题：" + "，".join(f"{h.word} {h.letters}（{h.trend}）" for h in a.hot_topics),
                  markup=False)


def print_alerts(alerts: Sequence[Alert], min_letters: int, window_days: int) -> None:
    """The alerts block printed first by `analyse` and `deadlines`."""
    if not alerts:
        return
    out.print(f"[bold red]预警：{window_days} 日内集中出现 {min_letters} 封以上同一地点或同一事项的来信[/]")
    for x in alerts:
        out.print(f"  · {x.title}：{'、'.join(x.letters)}", markup=False)


__all__ = ["analyse", "print_alerts", "print_intake_notes", "similar"]


def print_intake_notes(repo: Repository, codes: Sequence[str]) -> None:
    """After `letterbox intake`: earlier letters close to each accepted one (for article 5(2))."""
    from letterbox.core.errors import LetterboxError
    from letterbox.reports.similar import intake_notes

    try:  # sealed letters are compared when this user's keys open them; without keys, not
        keyring = repo.keyring()
    except LetterboxError:
        keyring = None
    for line in intake_notes(letters_of(repo, keyring), repo.config, codes, repo.git_dir):
        out.print(line, markup=False)
