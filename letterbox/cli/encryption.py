"""Keys of sealed case files (docs/encryption.md): `period new`, `encrypt` (the migration),
`rewrap` and `shred`. Each is one signed commit; no private key ever enters the repository."""

from __future__ import annotations

from datetime import datetime

import click

from letterbox.cli.app import State_, cli, out, pass_state, print_json
from letterbox.core.errors import LetterboxError
from letterbox.ops import encryption as ops

NOT_COVERED = (
    "销毁不涵盖以下内容，请另行处理：",
    "  1. 保存期密钥在别处的副本（分发给办公室、承办单位人员的副本和备份）：须由持有人各自销毁，"
    "letterbox 无法替他们删除；只要还有一份副本，连同本人阅读密钥仍能读取该年的来信（包括历史提交中的）。",
    "  2. 有权阅读时有人复制、打印、导出或截图的来信内容（含纸质的来信办理单）。",
    "  3. 从未加密的部分：信件编码、办理记录（时间、步骤、办理人）、答复、领导批示、分类和承办单位，"
    "以及公开网站上已发布的（已隐去个人信息的）答复；这些照常保留。",
)


@cli.group()
def period() -> None:
    """保存期密钥：每个来信年份一把，私钥保存在案卷库之外（docs/encryption.md）。"""


@period.command("new")
@click.argument("year")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_state
def period_new(state: State_, year: str, as_json: bool) -> None:
    """生成保存期 YEAR 的密钥（信箱办公室管理员）：私钥写入保存期密钥目录，公钥写入 letterbox.yaml（一个签名提交）。"""
    made = ops.new_period(state.repo(), year)
    if as_json:
        print_json({"period": made.period, "public": made.public, "secret_file": str(made.secret_file),
                    "commit": made.commit})
        return
    out.print(f"已生成保存期 {made.period} 的密钥，提交 {made.commit[:10]}。")
    out.print(f"公钥已写入 letterbox.yaml：{made.public}")
    out.print(f"私钥在 {made.secret_file}（仅本人可读）。它不在案卷库中，也绝不能提交到案卷库。", markup=False)
    out.print("请通过安全渠道（当面、加密介质）把这个私钥文件交给需要阅读来信的人员（信箱办公室、承办单位），"
              "放在各自的保存期密钥目录中，并离线备份：丢失所有副本，该年的来信任何人都无法再读取。")


@cli.command()
@click.option("--new-periods", is_flag=True, help="缺少的保存期密钥一并生成（私钥写入本机的保存期密钥目录）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_state
def encrypt(state: State_, new_periods: bool, as_json: bool) -> None:
    """把所有未加密的来信改为加密保存（信箱办公室管理员；一个签名提交；已加密的不变）。

    收件人：信箱办公室全体、办理过这封信的承办单位、呈办过的领导；另加来信年份的保存期密钥。
    来信办理单（forms/）中的来信人信息和来信内容一并去除。出错或中断时案卷库保持原样。"""
    done = ops.encrypt(state.repo(), new_periods=new_periods)
    if as_json:
        print_json({"sealed": done.sealed, "already_sealed": done.already, "forms": done.forms,
                    "new_periods": [{"period": p.period, "public": p.public, "secret_file": str(p.secret_file)}
                                    for p in done.periods_created],
                    "commit": done.commit})
        return
    if done.commit is None:
        out.print(f"没有需要加密的来信（{done.already} 封已加密保存）。没有提交。")
        return
    out.print(f"已加密 {len(done.sealed)} 封来信，来信办理单 {len(done.forms)} 份去除了来信人信息，"
              f"提交 {done.commit[:10]}（此前已加密 {done.already} 封）。")
    for made in done.periods_created:
        out.print(f"新的保存期 {made.period}：私钥在 {made.secret_file}，请安全分发并备份，绝不能提交到案卷库。",
                  markup=False)
    out.print("注意：加密前的提交中仍有明文。需要彻底清除时，见 docs/encryption.md“迁移”一节。")


@cli.command()
@click.argument("codes", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="处理全部加密保存的来信。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_state
def rewrap(state: State_, codes: tuple[str, ...], everything: bool, as_json: bool) -> None:
    """按当前名册重新授权（信箱办公室人员，用能打开这些来信的本人密钥）：新成员加入、人员离开后运行。"""
    if everything and codes:
        raise LetterboxError("--all 与信件编码只能选一个。")
    done = ops.rewrap(state.repo(), codes, everything=everything)
    if as_json:
        print_json({"rewrapped": done.rewrapped, "unchanged": done.unchanged, "commit": done.commit})
        return
    if done.commit is None:
        out.print(f"收件人已经与当前名册一致（{done.unchanged} 封），没有提交。")
        return
    out.print(f"已重新授权 {len(done.rewrapped)} 封来信，提交 {done.commit[:10]}（{done.unchanged} 封无需改动）。")


@cli.command()
@click.option("--period", "periods", multiple=True, help="要销毁的保存期（年份，可重复）。")
@click.option("--due", is_flag=True, help="销毁超过保存年限（encryption.retention_years）的全部保存期。")
@click.option("--yes", is_flag=True, help="不再询问确认（销毁不可恢复）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_state
def shred(state: State_, periods: tuple[str, ...], due: bool, yes: bool, as_json: bool) -> None:
    """销毁保存期密钥（信箱办公室管理员）：该年来信的来信人信息和内容从此任何人都无法读取，包括历史提交中的。"""
    repo = state.repo()
    if due == bool(periods):
        raise LetterboxError("请用 --period 年份 指定保存期，或用 --due 销毁全部到期的保存期（二者选一）。")
    chosen = list(periods)
    if due:
        config = repo.config
        chosen = ops.due_periods(config, datetime.now(config.tz).date())
        if not chosen:
            out.print("没有到期的保存期。")
            return
    if not yes and not click.confirm(f"销毁保存期 {'、'.join(chosen)} 的密钥？该年来信的来信人信息和内容将永远无法读取。",
                                     err=True):
        raise LetterboxError("已取消，没有做任何修改。")
    done = ops.shred(repo, chosen)
    if as_json:
        print_json({"shredded": done.periods, "deleted": [str(p) for p in done.deleted],
                    "not_here": [str(p) for p in done.not_here], "commit": done.commit,
                    "not_covered": list(NOT_COVERED[1:])})
        return
    if done.commit:
        out.print(f"已在 letterbox.yaml 记录销毁保存期 {'、'.join(done.periods)}，提交 {done.commit[:10]}。")
    else:
        out.print("这些保存期此前已记录为销毁。")
    for path in done.deleted:
        out.print(f"已删除本机的保存期私钥 {path}。", markup=False)
    for path in done.not_here:
        out.print(f"本机没有 {path}。", markup=False)
    for line in NOT_COVERED:
        out.print(line, markup=False)
