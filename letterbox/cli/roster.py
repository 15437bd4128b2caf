"""Who may act: `key use/show` (the one-time setup of one's signing key), `roster add/remove`
(office administrators) and `who` (the roster; for a letter, who signed each step)."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.table import Table

from letterbox.cli.app import State_, cli, out, pass_state, print_json
from letterbox.core.errors import LetterboxError
from letterbox.core.roster import ROLE_LABELS, fingerprint
from letterbox.ops import roster as roster_ops
from letterbox.store import signing


@cli.group()
def key() -> None:
    """签名密钥：每个办理步骤都用本人的 SSH 密钥签名（一次设置，以后自动签名）。"""


@key.command("use")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_state
def key_use(state: State_, path: Path) -> None:
    """设置本人的签名密钥（SSH ed25519 私钥文件，如 ~/.ssh/id_ed25519），写入本案卷库的 git 配置。"""
    repo = state.repo()
    full = path.expanduser().resolve()
    public = signing.public_key_of(full)
    if not public.startswith("ssh-ed25519 "):
        raise LetterboxError(f"{path} 不是 ed25519 密钥：请用 ssh-keygen -t ed25519 生成。")
    with repo.git.config_writer("repository") as writer:
        writer.set_value("gpg", "format", "ssh")
        writer.set_value("user", "signingkey", str(full))
    member = repo.config.roster.by_key(public)
    out.print(f"已设置签名密钥 {full}（{fingerprint(public)}）。以后 letterbox 的每个步骤都用它签名。")
    if member:
        out.print(f"名册中：{member.name}（{member.role_label}）。")
    else:
        out.print("这把密钥还不在名册中：请把下面的公钥交给信箱办公室管理员登记（letterbox roster add）：")
        out.print(public)


@key.command("show")
@pass_state
def key_show(state: State_) -> None:
    """显示本人当前的签名密钥，以及它在名册中是谁。"""
    repo = state.repo()
    current = signing.configured_key(repo.git)
    if current is None:
        out.print(f"尚未设置签名密钥。请运行 letterbox key use 私钥文件（或设置环境变量 {signing.KEY_ENV}）。")
        return
    member = repo.config.roster.by_key(current.public)
    who = f"{member.name}（{member.role_label}）" if member else "不在名册中"
    source = signing.KEY_ENV if os.environ.get(signing.KEY_ENV) else "git 配置 user.signingkey"
    out.print(f"签名密钥：{current.path}（{fingerprint(current.public)}，来自 {source}）：{who}。")
    out.print(current.public)


@cli.group()
def roster() -> None:
    """名册：登记和移除可以办理的人员（只有信箱办公室管理员可以修改）。"""


@roster.command("add")
@click.option("--name", required=True, help="姓名（写入办理记录），如“信息中心 王静”。")
@click.option("--role", required=True, type=click.Choice(list(ROLE_LABELS)),
              help="角色：" + "；".join(f"{k}={v}" for k, v in ROLE_LABELS.items()))
@click.option("--unit", help="承办单位代码（角色为 unit 时必填）。")
@click.option("--leader", help="领导代码（角色为 leader 时必填）。")
@click.option("--key", "key_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="此人的公钥文件（.pub）。")
@pass_state
def roster_add(state: State_, name: str, role: str, unit: str | None, leader: str | None,
               key_file: Path) -> None:
    """登记一位人员（一个签名提交）。"""
    repo = state.repo()
    public = signing.public_key_of(key_file)
    member, sha = roster_ops.add_member(repo, name, role, public, unit=unit, leader=leader)
    out.print(f"已登记 {member.name}（{member.role_label}，{member.fingerprint}），提交 {sha[:10]}。")


@roster.command("remove")
@click.argument("name")
@pass_state
def roster_remove(state: State_, name: str) -> None:
    """从名册移除一位人员（离职、调岗）。此前由他签名的提交仍然有效；他的密钥不能再办理。"""
    repo = state.repo()
    member, sha = roster_ops.remove_member(repo, name)
    out.print(f"已移除 {member.name}（{member.role_label}，{member.fingerprint}），提交 {sha[:10]}。"
              "此前由他签名的办理记录仍然有效。")


@cli.command()
@click.argument("code", required=False)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_state
def who(state: State_, code: str | None, as_json: bool) -> None:
    """名册；给出信件编码时，列出这封信每个办理步骤由谁签名。"""
    repo = state.repo()
    if code is None:
        members = repo.config.roster.members
        if as_json:
            print_json([{"name": m.name, "role": m.role, "unit": m.unit, "leader": m.leader,
                         "fingerprint": m.fingerprint} for m in members])
            return
        if not members:
            out.print("名册为空：办理步骤不要求签名（docs/roster.md 说明如何启用）。")
            return
        table = Table("姓名", "角色", "单位/领导", "密钥指纹", title="名册")
        for m in members:
            where = repo.config.unit_name(m.unit) if m.unit else (m.leader or "")
            table.add_row(m.name, m.role_label, where, m.fingerprint)
        out.print(table)
        return
    rows = roster_ops.signed_steps(repo, code)
    if as_json:
        print_json([{"commit": r.commit, "at": r.at, "steps": list(r.steps), "actor": r.actor,
                     "signed_by": r.signed_by} for r in rows])
        return
    table = Table("时间", "步骤", "办理人（记录）", "签名人", "提交", title=f"信件 {code.strip()} 的签名")
    for r in rows:
        table.add_row(r.at[:16].replace("T", " "), "、".join(r.steps) or "（未增加办理记录）", r.actor,
                      r.signed_by, r.commit[:10])
    out.print(table)
