"""Status lookup command (`letterbox lookup`), registered on the main `letterbox` group."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from letterbox.cli.app import cli, err, out, print_json


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
def lookup(letter_code: str, query_code: str, site: Path, as_json: bool) -> None:
    """凭信件编码和查询码，在已生成的网站中查询办理进度（与网页“在线查询”相同的算法）。"""
    from letterbox.core.codes import normalise_letter_code
    from site_builder.lookup_index import lookup as find

    entry = find(site, letter_code, query_code)
    if entry is None:
        if as_json:
            print_json({"status": "not-found", "message": "未找到"})
        err.print("未找到：请核对信件编码和查询码。", markup=False)
        sys.exit(1)
    if as_json:
        print_json(entry)
        return
    rows = [("信件编码", normalise_letter_code(letter_code)), ("办理状态", entry["status_zh"]),
            ("收信日期", _day(entry.get("received"))), ("承办单位", "、".join(entry.get("units") or [])),
            ("办理期限", _day(entry.get("deadline"))
             + ("（暂定：当年节假日安排公布后可能调整）" if entry.get("deadline") and entry.get("deadline_provisional") else "")),
            ("已同意延期", f"{entry['extension_days']} 个工作日" if entry.get("extension_days") else ""),
            ("不予受理理由", entry.get("reject_reason") or ""), ("答复日期", _day(entry.get("answered"))),
            ("公开页面", entry.get("link") or "")]
    for label, value in rows:
        if value:
            out.print(f"{label}：{value}", markup=False)
    for day, step in entry.get("timeline") or []:
        out.print(f"  {_day(day)} {step}", markup=False)
