"""`letterbox notify`: send the outbox once (cron, systemd timer) or keep sending (`--follow`),
show the delivery record (`--status`), retry or confirm one notification, and record a writer's
opt-out of a channel. The worker is letterbox/ops/notify/worker.py; docs/notify.md."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from letterbox.cli.app import State_, cli, err, out, pass_state, print_json, today_of
from letterbox.core.errors import LetterboxError
from letterbox.ops.notify import credentials, worker
from letterbox.ops.notify.rules import CHANNELS
from letterbox.ops.notify.state import STATE_LABELS


@cli.command("notify")
@click.option("--follow", is_flag=True, help="持续运行：每隔 --interval 秒发送一轮（systemd 服务用）。")
@click.option("--interval", type=click.FloatRange(min=1), default=20.0, show_default=True,
              help="--follow 时两轮之间的秒数。")
@click.option("--limit", type=click.IntRange(min=1), help="一轮最多发送几条。")
@click.option("--credentials", "creds_path", type=click.Path(dir_okay=False, path_type=Path),
              help="凭据文件（默认：环境变量 LETTERBOX_NOTIFY_CREDENTIALS，或 ~/.config/letterbox/notify.yaml）。")
@click.option("--status", "show_status", is_flag=True, help="只显示待发送、失败、未确认的通知，不发送。")
@click.option("--retry", "retry_key", metavar="KEY", help="把一条失败或未确认的通知重新列入待发送。")
@click.option("--mark-sent", "sent_key", metavar="KEY", help="确认一条未确认的通知已经送达（不再发送）。")
@click.option("--opt-out", "opt_out", metavar="CODE", help="记录来信人退订这封信的某一渠道通知（与 --via 一起用）。")
@click.option("--opt-in", "opt_in", metavar="CODE", help="撤销来信人的退订（与 --via 一起用）。")
@click.option("--via", type=click.Choice(["email", "sms"]), help="退订或撤销退订的渠道。")
@click.option("--skip-existing", is_flag=True,
              help="首次部署时用：把已提交、从未发送的通知记为跳过，不补发旧通知（之后的通知照常发送）。")
@click.option("--digest", is_flag=True,
              help="发每日期限提醒（letterbox.yaml 的 notify.digest）：各单位逾期或即将到期的信件；每天每个收件人一次。")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="--digest 的日期和集中来信预警检查的日期（默认今天）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_state
def notify_cmd(state: State_, follow: bool, interval: float, limit: int | None, creds_path: Path | None,
               show_status: bool, retry_key: str | None, sent_key: str | None, opt_out: str | None,
               opt_in: str | None, via: str | None, skip_existing: bool, digest: bool, today: datetime | None,
               as_json: bool) -> None:
    """发送通知：把 outbox/ 中已提交的通知用邮件、短信、钉钉或企业微信机器人发出，每条只发一次。"""
    repo = state.repo()
    modes = [m for m in (show_status, retry_key, sent_key, opt_out, opt_in, follow, skip_existing, digest) if m]
    if len(modes) > 1:
        raise LetterboxError("--status、--retry、--mark-sent、--opt-out、--opt-in、--follow、--skip-existing、--digest 一次只能用一个。")
    if (opt_out or opt_in) and not via:
        raise LetterboxError(f"--opt-out 和 --opt-in 需要 --via（{'、'.join(c for c in CHANNELS if c in ('email', 'sms'))}）。")
    record = worker.open_state(repo)
    try:
        if show_status:
            _show_status(worker.status(record), as_json)
            return
        if opt_out or opt_in:
            code = repo.letter(opt_out or opt_in or "").code  # the letter must exist
            assert via is not None
            (record.opt_out if opt_out else record.opt_in)(code, via)
            done = {"letter": code, "via": via, "opted_out": bool(opt_out)}
            if as_json:
                print_json(done)
            else:
                out.print(f"已记录：信件 {code} 的来信人{'退订' if opt_out else '恢复接收'} {via} 通知。", markup=False)
            return
        if retry_key or sent_key:
            key = retry_key or sent_key or ""
            ok = record.retry(key) if retry_key else record.mark_sent(key)
            if not ok:
                found = record.row(key)
                raise LetterboxError(f"没有通知 {key}。" if found is None else
                                     f"通知 {key} 的状态是“{STATE_LABELS[found.state]}”，不能这样改。")
            if as_json:
                print_json({"key": key, "state": "pending" if retry_key else "sent"})
            else:
                out.print(f"通知 {key} 已{'重新列入待发送（下一轮发送）' if retry_key else '记为已送达'}。", markup=False)
            return
        creds = credentials.load(creds_path, repo.root)
        with worker.worker_lock(repo, digest=digest):
            run = worker.Worker(repo, creds, record, log=(lambda line: None) if as_json else
                                (lambda line: out.print(line, markup=False)))
            run.today = today.date() if today else None  # else each round: today in the repository's zone
            if follow:
                worker.follow(run, interval, limit, on_round=lambda s: print_json(s.to_json()) if as_json else None)
                return
            with worker.graceful(run):
                if digest:
                    summary = worker.send_digest(run, today_of(repo, today))
                else:
                    summary = run.run(limit, skip_existing=skip_existing)
        if as_json:
            print_json(summary.to_json())
            return
        if summary.bad_files:
            err.print(f"警告：{summary.bad_files} 个通知文件格式不对，未发送（运行 letterbox validate 查看）。", markup=False)
        out.print(f"本轮：新增 {summary.added} 条，发送 {len(summary.sent)} 条，稍后重试 {len(summary.retry)} 条，"
                  f"暂缓 {len(summary.held)} 条，失败 {len(summary.failed)} 条，未确认 {len(summary.unknown) + len(summary.orphans)} 条。",
                  markup=False)
    finally:
        record.close()


def _show_status(data: dict, as_json: bool) -> None:
    if as_json:
        print_json(data)
        return
    counts = data["counts"]
    out.print("通知：" + "，".join(f"{STATE_LABELS[s]} {n}" for s, n in counts.items() if n or s in ("pending", "sent")),
              markup=False)
    for item in data["notifications"]:
        to = item["to"] + (f":{item['ref']}" if item["ref"] else "")
        reason = f"：{item['reason']}" if item["reason"] else ""
        out.print(f"  {item['key']}  {STATE_LABELS[item['state']]}  {to}  {item['via']}  "
                  f"已尝试 {item['attempts']} 次{reason}", markup=False)
    for item in data["opt_outs"]:
        out.print(f"  退订：{item['letter']} {item['via']}（{item['at']}）", markup=False)
