"""Status lookup commands (`letterbox lookup`, `letterbox lookup-refresh`), registered on the
main `letterbox` group."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from letterbox.cli.app import State_, cli, err, out, pass_state, print_json
from letterbox.core.errors import LetterboxError


def _day(iso: str | None) -> str:
    if not iso:
        return ""
    year, month, day = iso.split("-")
    return f"{int(year)}年{int(month)}月{int(day)}日"


@cli.command()
@click.argument("letter_code")
@click.argument("query_code")
@click.option("--site", "site", required=True, type=click.Path(file_okay=False, exists=True,
                                                               path_type=Path),
              help="已生成的网站目录（含 lookup/）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_state
def lookup(state: State_, letter_code: str, query_code: str, site: Path, as_json: bool) -> None:
    """凭信件编码和查询码，在已生成的网站中查询办理进度（与网页“在线查询”相同的算法）。

    在案卷库中运行时，另外列出案卷中的风险预警（仅工作人员可见，不在网站的查询索引中）。"""
    from letterbox.core.codes import normalise_letter_code
    from site_builder.lookup_index import lookup as find

    entry = find(site, letter_code, query_code)
    if entry is None:
        if as_json:
            print_json({"status": "not-found", "message": "未找到"})
        err.print("未找到：请核对信件编码和查询码。", markup=False)
        sys.exit(1)
    flags = _staff_risk_flags(state, letter_code, query_code)
    if as_json:
        print_json(entry if flags is None else {**entry, "risk_flags": flags})
        return
    rows = [("信件编码", normalise_letter_code(letter_code)), ("办理状态", entry["status_zh"]),
            ("收信日期", _day(entry.get("received"))), ("承办单位", "、".join(entry.get("units") or [])),
            ("办理期限", _day(entry.get("deadline"))
             + ("（暂定：当年节假日安排公布后可能调整）" if entry.get("deadline") and entry.get("deadline_provisional") else "")),
            ("已同意延期", f"{entry['extension_days']} {entry.get('extension_unit') or '个工作日'}"
             if entry.get("extension_days") else ""),
            ("不予受理理由", entry.get("reject_reason") or ""), ("答复日期", _day(entry.get("answered"))),
            ("公开页面", entry.get("link") or ""),
            ("可申请", _review_line(entry.get("review")))]
    for label, value in rows:
        if value:
            out.print(f"{label}：{value}", markup=False)
    for day, step in entry.get("timeline") or []:
        out.print(f"  {_day(day)} {step}", markup=False)
    if entry.get("notices_omitted"):
        out.print(f"另有 {entry['notices_omitted']} 份较早的告知书未能在查询中显示。", markup=False)
    for day, title, text in entry.get("notices") or []:
        out.print(f"【{title}】{_day(day)}", markup=False)
        out.print(text, markup=False)
    for flag in flags or []:
        out.print(f"风险预警（仅工作人员可见）：{_day(flag['at'][:10])} {flag['note']}", markup=False)


def _review_line(review: object) -> str:
    """The review the writer may ask for (the page's panel), as one line."""
    if not isinstance(review, dict) or not review.get("kind"):
        return ""
    return f"{review['kind']}（{_day(review.get('until'))}前向{review.get('body') or '复查复核机关'}提出）"


def _staff_risk_flags(state: State_, letter_code: str, query_code: str) -> list[dict[str, str]] | None:
    """The letter's risk flags from the case file when run in the case repository the letter is
    in (staff; its query code checked against the case file, so another repository's letter of
    the same code is not shown), else None: the public lookup index never holds them (article 15(2))."""
    from letterbox.core.codes import verify_query_code
    from letterbox.reports.views import risk_flags

    try:
        repo = state.repo()
        letter = repo.letter(letter_code)
        if not verify_query_code(query_code, letter.code, repo.config.salt, letter.data.get("query_hash") or {}):
            return None
        return risk_flags(letter)
    except (LetterboxError, KeyError, TypeError):  # not in a case repository, or the letter is not there
        return None


@cli.command(name="lookup-refresh")
@click.option("--site", "site", type=click.Path(file_okay=False, path_type=Path),
              help="已生成的网站目录（默认：案卷库下的 site/）。")
@click.option("--letter", "letters", multiple=True,
              help="只更新这些信件（可重复；默认：上次更新以来改变的所有信件）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_state
def lookup_refresh(state: State_, site: Path | None, letters: tuple[str, ...], as_json: bool) -> None:
    """更新网站的在线查询索引：只改写有变化的信件所在的分片，不必重新生成网站。

    检查上次更新以来提交或尚未提交的案卷变化；可由 systemd 每分钟运行（docs/deploy.md）。"""
    from site_builder.lookup_index import refresh_lookup

    repo = state.repo()
    folder = site if site is not None else repo.root / "site"
    if not folder.is_dir():
        raise LetterboxError(f"网站目录 {folder} 不存在：请先运行 letterbox build（或用 --site 指定网站目录）。")
    done = refresh_lookup(repo, folder, list(letters) or None)
    if as_json:
        print_json({"mode": done.mode, "checked": done.checked, "changed": done.changed,
                    "shards": done.shards, "entries": done.entries, "reason": done.reason,
                    "seconds": done.seconds})
        return
    if done.mode == "full":
        out.print(f"已重新生成整个查询索引（{done.reason}）：{done.entries} 封信，{done.shards} 个分片，"
                  f"用时 {done.seconds:.1f} 秒。", markup=False)
    elif done.mode == "shards":
        out.print(f"已更新查询索引：{done.changed} 封信有变化，改写 {done.shards} 个分片，"
                  f"用时 {done.seconds:.1f} 秒。", markup=False)
    else:
        out.print(f"查询索引已是最新（检查 {done.checked} 封信，用时 {done.seconds:.1f} 秒）。", markup=False)
