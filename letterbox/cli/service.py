"""Online intake service command (serve-intake) and the office's reopen list, registered on the
main `letterbox` group. The web stack is imported only when serve-intake runs."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import click
from rich.table import Table

from letterbox.cli.app import State_, cli, err, letters_of, out, pass_state, print_json
from letterbox.core.clock import work_calendar
from letterbox.core.errors import LetterboxError
from letterbox.reports.reopen import reopen_list as reopen_rows


def _rate(value: str) -> tuple[int, float]:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*", value)
    if not m:
        raise LetterboxError(f"--rate-limit {value!r} 格式不对：应为“次数/秒数”，如 30/600；0/0 表示不限。")
    return int(m[1]), float(m[2])


@cli.command(name="serve-intake")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址（应放在 nginx 之后）。")
@click.option("--port", default=8081, show_default=True, type=int, help="监听端口。")
@click.option("--allow-origin", "origins", multiple=True,
              help="允许跨域提交的网站来源，如 https://xzxx.example.gov.cn（默认取配置 site_url 的来源）。")
@click.option("--rate-limit", "rate", default="30/600", show_default=True,
              help="每个地址在若干秒内最多的请求次数；0/0 表示不限。")
@click.option("--max-body", default=128, show_default=True, type=int, help="单次提交的大小上限（KB）。")
@click.option("--trusted-proxy", default="127.0.0.1", show_default=True,
              help="信任其 X-Forwarded-For 的反向代理地址（逗号分隔）。")
@click.option("--access-log", is_flag=True, help="记录访问日志（含来访地址；默认不记录）。")
@click.option("--site", "site", type=click.Path(file_okay=False, path_type=Path),
              help="收信后立即更新其在线查询索引的网站目录（默认：案卷库下的 site/，若存在）。")
@pass_state
def serve_intake(state: State_, host: str, port: int, origins: tuple[str, ...], rate: str,
                 max_body: int, trusted_proxy: str, access_log: bool, site: Path | None) -> None:
    """运行在线写信服务：POST /api/letters 收信，POST /api/feedback 评价（部署见 docs/deploy.md）。"""
    import uvicorn

    from letterbox.web.service import create_app

    repo = state.repo()
    folder = site if site is not None else repo.root / "site"
    if site is not None and not folder.is_dir():
        raise LetterboxError(f"网站目录 {folder} 不存在：请先运行 letterbox build，或改正 --site。")
    refresh = None
    if folder.is_dir():
        from site_builder.lookup_index import refresh_letters

        refresh = functools.partial(refresh_letters, repo.root, folder)
    app = create_app(repo.root, allow_origins=list(origins) or None, rate_limit=_rate(rate),
                     max_body=max_body * 1024, lookup_refresh=refresh)
    err.print(f"在线写信服务：http://{host}:{port}/api/letters （案卷库 {repo.root}；Ctrl+C 停止）",
              markup=False)
    err.print(f"收信后即更新查询索引：{folder}" if refresh else
              "未找到网站目录：收信后不更新查询索引（用 --site 指定，或由 lookup-refresh 定时更新）。", markup=False)
    uvicorn.run(app, host=host, port=port, access_log=access_log, proxy_headers=True,
                forwarded_allow_ips=trusted_proxy, server_header=False, date_header=True,
                timeout_graceful_shutdown=60, log_level="info")


@cli.command(name="reopen-list")
@click.option("--days", default=30, show_default=True, type=int, help="办结后多少天内的“不满意”评价列入。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_state
def reopen_list(state: State_, days: int, as_json: bool) -> None:
    """列出来信人在办结后 30 天内评价“不满意”、应退回重办的信件。"""
    repo = state.repo()
    rows = reopen_rows(letters_of(repo), repo.config, work_calendar(repo.root), days)
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print(f"没有办结后 {days} 天内评价“不满意”的信件。")
        return
    table = Table(title=f"退回重办名单（办结后 {days} 天内评价不满意）{len(rows)} 封")
    table.add_column("信件编码", no_wrap=True)
    table.add_column("标题")
    table.add_column("承办单位")
    table.add_column("办结", no_wrap=True)
    table.add_column("评价", no_wrap=True)
    table.add_column("评价意见")
    for r in rows:
        table.add_row(r["letter_code"], r["title"], "、".join(repo.config.unit_name(u) for u in r["units"]) or "—",
                      r["closed_at"][:10], f"{r['feedback_at'][:10]}（第 {r['days_after_closing']} 天）",
                      r["comment"] or "—")
    out.print(table)
