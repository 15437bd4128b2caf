"""Workflow commands: intake, then one command per step of the process (reject … archive).

Each step command takes the letter code, --as, --at and --json (`step_command`), calls the
matching `ops.workflow` function and prints the result one way.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from letterbox.cli.app import State_, cli, err, out, pass_state, print_json
from letterbox.core.errors import LetterboxError
from letterbox.core.process import (
    CATEGORIES,
    RATINGS,
    REASON_LABELS,
    REJECT_REASONS,
    REVIEW_KINDS,
    REVIEW_OUTCOMES,
    STATUSES,
    WITHHOLD_REASONS,
)
from letterbox.core.textsafe import escape_unsafe_json
from letterbox.ops import workflow
from letterbox.ops.intake import Accepted, IntakeReport, intake_files

# -- intake ------------------------------------------------------------------------------


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "actor", help="收信人员（案卷库有名册时由签名密钥决定，不必填写；否则默认 git 配置的用户名）。")
@click.option("--receipts", "receipts_path", type=click.Path(dir_okay=False, path_type=Path),
              help="回执文件：每封信提交成功即追加一行（信件编码、查询码），仅本人可读（0600）。")
@click.option("--recover", "recover_only", is_flag=True,
              help="只补写上次被强行终止的收信遗留的回执，不收新信。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（letter_code、query_code、path 的列表）。")
@pass_state
def intake(state: State_, files: tuple[Path, ...], actor: str | None, receipts_path: Path | None,
           recover_only: bool, as_json: bool) -> None:
    """收信：读取 JSON、JSON Lines 或 YAML 格式的来信，编号并各提交一次。查询码只显示这一次。

    每封信提交成功即输出它的信件编码和查询码（有 --receipts 时同时写入回执文件），中途被终止也不会
    丢失已保存来信的查询码；被强行终止（kill -9、断电）时，下次运行 intake 会先补写遗留的回执。"""
    from letterbox.ops import receipt_file

    if not files and not recover_only:
        raise click.UsageError("请给出来信文件（或用 --recover 只补写遗留的回执）。")
    repo = state.repo()
    who = repo.actor(actor)
    receipts = receipt_file.ReceiptFile(receipts_path) if receipts_path is not None else None
    try:
        for receipt, where in receipt_file.recover(repo, receipts):
            err.print(f"补写上次中断遗留的回执：{receipt.letter_code}  查询码 {receipt.query_code}"
                      + (f"（已写入 {where}）" if where else "（原回执文件不可用，请立即抄送来信人）"), markup=False)
        if recover_only:
            return
        report = IntakeReport()
        stream = _AcceptedStream(as_json)
        interrupted = False
        try:
            intake_files(repo, list(files), who, report=report, receipts=receipts, on_accepted=stream.add)
        except KeyboardInterrupt:
            interrupted = True
        stream.close()
    finally:
        if receipts is not None:
            receipts.close()
    _print_refused(report)
    if not as_json and (report.accepted or receipts is not None):  # --json: stdout is the document
        where = f"；回执已逐封写入 {receipts.path}（仅本人可读，请妥善保管，转交后删除）" if receipts else ""
        err.print(f"收信完毕：{len(report.accepted)} 封已收入{where}。", markup=False)
    if report.accepted and not as_json and not interrupted:
        from letterbox.cli.analysis import print_intake_notes

        print_intake_notes(repo, [a.letter_code for a in report.accepted])
    if interrupted:
        err.print("已中断：上面列出的来信已保存，其余未处理。")
        sys.exit(130)
    if report.refused:
        sys.exit(1)


class _AcceptedStream:
    """Each accepted letter printed the moment its commit lands: a line for people, or the
    elements of one JSON array (closed by `close`, also after an interruption)."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.count = 0

    def add(self, accepted: Accepted) -> None:
        if self.as_json:
            item = escape_unsafe_json(json.dumps(accepted.to_json(), ensure_ascii=False, indent=2))
            click.echo(("[\n" if self.count == 0 else ",\n") + textwrap.indent(item, "  "), nl=False)
        else:
            if self.count == 0:
                out.print("已收来信（查询码只显示这一次，请告知来信人妥善保管）：", markup=False)
            out.print(f"  {accepted.letter_code}  查询码 {accepted.query_code}  {accepted.path}", markup=False)
        sys.stdout.flush()
        self.count += 1

    def close(self) -> None:
        if self.as_json:
            click.echo("\n]" if self.count else "[]")


def _print_refused(report: IntakeReport) -> None:
    for problem in report.refused:
        err.print(str(problem), markup=False)
    if report.refused:
        err.print(f"{len(report.accepted)} 封已收，{sum(1 for p in report.refused)} 处问题导致来信未收（未保存任何内容）。")


# -- workflow steps ----------------------------------------------------------------------


def done_text(action: str, message: str) -> str:
    """What a step did, for people: the commit message with a reason code from a closed list
    (`reject private-dispute`) given by its Chinese label (the step table's)."""
    reasons = REASON_LABELS.get(action, {})
    head, _, last = message.rpartition(" ")
    return f"{head} {reasons[last]}" if head and last in reasons else message


def step_command(name: str, help_text: str) -> Callable[[Callable[..., Any]], click.Command]:
    """A workflow command: CODE argument, --as, --at and --json, result printed one way."""

    def decorate(func: Callable[..., Any]) -> click.Command:
        @wraps(func)
        def run(state: State_, code: str, actor: str | None, at: str | None, as_json: bool, **kw: Any) -> None:
            repo = state.repo()
            who = repo.actor(actor)
            result = func(repo, code, who, at, **kw)
            if as_json:
                print_json({"letter_code": result.letter_code, "action": result.action,
                            "status": result.status, "commit": result.commit})
            else:
                out.print(f"已完成：{done_text(result.action, result.message)} → 当前状态：{STATUSES[result.status]}"
                          f"（提交 {result.commit[:8]}）", markup=False)

        command: Any = click.argument("code")(run)
        command = click.option("--as", "actor", help="办理人员（案卷库有名册时由签名密钥决定，不必填写；否则默认 git 配置的用户名）。")(command)
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


@click.option("--of", "of", help="duplicate、answered 时前一封信件的编码（须是比本信更早收到的来信）。")
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


@click.option("--co", "co_units", multiple=True,
              help="协办单位（可写多个）：与 --unit 写的一个主办单位联合办理，由主办单位答复，期限按本信（一般或较复杂）。")
@click.option("--complex", "complex_", is_flag=True, help="较复杂问题（20 个工作日）。")
@click.option("--unit", "units", multiple=True, required=True,
              help="承办单位代码或名称；不写 --co 而写两个以上单位，则按办法第九条转区信访局（信访立案，60 日）。")
@step_command("transfer", "转办（办法第九条）：一般 3 个工作日，--complex 20 个工作日；--co 协办单位与主办单位联合办理；"
              "多个单位协调而不定主办单位的转区信访局（60 日）。")
def transfer_cmd(repo, code, who, at, units, complex_, co_units):  # type: ignore[no-untyped-def]
    return workflow.transfer(repo, code, list(units), who, complex_=complex_, at=at, co_units=list(co_units))


@click.option("--proposal", help="拟办意见（写入《来信办理单》；默认“呈请某领导阅示。”）。")
@click.option("--leader", required=True, help="区政府领导代码。")
@step_command("escalate", "呈办（办法第十条）：生成《来信办理单》（拟办意见），提请领导批示；批示和办理结果随后写入办理单。")
def escalate_cmd(repo, code, who, at, leader, proposal):  # type: ignore[no-untyped-def]
    return workflow.escalate(repo, code, leader, who, at=at, proposal=proposal)


@click.option("--reason", required=True, help="代批的理由（如呈送的领导外出，或事项改由其分管）。")
@click.option("--leader", required=True, help="代为批示的区政府领导代码。")
@step_command("stand-in", "登记代批领导（办法第十条）：呈送的领导不能批示时，由信箱办公室登记另一位领导代为批示；"
              "只有呈送的领导和登记的代批领导可以批示。")
def stand_in_cmd(repo, code, who, at, leader, reason):  # type: ignore[no-untyped-def]
    return workflow.stand_in(repo, code, leader, reason, who, at=at)


@cli.command("form")
@click.argument("code")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="写入的 HTML 文件（含来信人信息，属内部资料：打印后请删除，切勿提交到案卷库）。")
@pass_state
def form_cmd(state: State_, code: str, out_file: Path) -> None:
    """生成完整的《来信办理单》供打印：加密保存的来信用本人的阅读密钥打开（案卷库中的办理单不含来信人信息）。"""
    from letterbox.ops.forms import full_handling_form

    repo = state.repo()
    if out_file.resolve().is_relative_to(repo.root.resolve()):
        raise LetterboxError(f"{out_file} 在案卷库中：完整的办理单含来信人信息，不能放在案卷库里（可能被提交），"
                             "请写到案卷库之外，如 --out ~/办理单.html。")
    html = full_handling_form(repo, code)
    fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(html)
    out.print(f"已生成 {out_file}（含来信人信息，属内部资料，严格保密；打印后请删除）。", markup=False)


@click.option("--co", "co_units", multiple=True, help="批示的协办单位（可写多个）。")
@click.option("--complex", "complex_", is_flag=True, help="较复杂问题（20 个工作日）。")
@click.option("--unit", "units", multiple=True, required=True,
              help="批示交办的承办单位；写几个时第一个为主办单位、其余为协办单位。写区信访局则作为信访件（60 日）。")
@click.option("--text", "text", required=True, help="批示内容。")
@click.option("--leader", required=True, help="批示的领导代码（须是呈送的领导或登记的代批领导）。")
@step_command("instruct", "记录领导批示并按批示交办（办法第十条）：信件保持原有性质和期限（一般或 --complex 较复杂），"
              "几个单位时第一个主办、其余协办；只有批示交区信访局时才作为信访件。")
def instruct_cmd(repo, code, who, at, leader, text, units, complex_, co_units):  # type: ignore[no-untyped-def]
    return workflow.instruct(repo, code, leader, text, list(units), who, complex_=complex_, at=at,
                             co_units=list(co_units))


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


@click.option("--contact-person", "contact_person", help="与来信人沟通的工作人员。")
@click.option("--contact-at", "contact_at",
              help="沟通的时间（如 2026-12-01T10:00；默认为答复时间，不能晚于答复时间）。")
@click.option("--contact-by", "contact_by", type=click.Choice(list(workflow.CONTACT_WAYS)),
              help="暂时解决不了的问题，与来信人沟通解释的方式（办法第十二条）：电话、面谈、短信、上门、视频、其他。")
@click.option("--timeframe", help="问题解决的时限（办法第十二条），如“2027年3月底前完成维修”。")
@click.option("--contacted", is_flag=True,
              help="（旧写法）已与来信人电话或当面沟通；请改用 --contact-by、--contact-at、--contact-person 写明沟通记录。")
@click.option("--unit", help="答复单位（默认为当前承办单位）。")
@click.option("--head", required=True, help="审核把关的单位主要负责人。")
@_text_opt
@_file_opt
@step_command("answer", "承办单位答复，经主要负责人审核（办法第十二条）→ 已答复待审核；写明解决时限，"
              "暂时解决不了的问题写明与来信人沟通的方式、时间和沟通人。")
def answer_cmd(repo, code, who, at, file, text, head, unit, contacted, timeframe,  # type: ignore[no-untyped-def]
               contact_by, contact_at, contact_person):
    return workflow.answer(repo, code, _read_text(file, text, "答复"), head, who, unit=unit,
                           contacted=contacted, at=at, timeframe=timeframe, contact_by=contact_by,
                           contact_at=contact_at, contact_person=contact_person)


@click.option("--unit", help="登记经办人的单位（默认为本人所在单位或当前承办单位；须是主办或协办单位）。")
@click.option("--handler", required=True, help="本单位办理这封信的经办人（专人）姓名。")
@step_command("assign-handler", "承办或协办单位登记办理这封信的经办人（专人，办法第十五条第一项）；可重新登记。")
def assign_handler_cmd(repo, code, who, at, handler, unit):  # type: ignore[no-untyped-def]
    return workflow.assign_handler(repo, code, handler, who, unit=unit, at=at)


@click.option("--note", help="审核意见。")
@step_command("approve", "办公室审核通过答复（办法第十二条）→ 已办结。")
def approve_cmd(repo, code, who, at, note):  # type: ignore[no-untyped-def]
    return workflow.approve(repo, code, who, note=note, at=at)


@click.option("--reason", required=True, help="审核不通过、退回重办的理由。")
@step_command("send-back", "审核不通过，退回承办单位重办 → 转办中（重新计算期限）。")
def send_back_cmd(repo, code, who, at, reason):  # type: ignore[no-untyped-def]
    return workflow.send_back(repo, code, reason, who, at=at)


@step_command("publish", "决定公开已办结或已归档的信件（办法第十三条）；不公开或撤下的信件也可重新公开。")
def publish_cmd(repo, code, who, at):  # type: ignore[no-untyped-def]
    return workflow.publish(repo, code, who, at=at)


@click.option("--reason", required=True, type=click.Choice(list(WITHHOLD_REASONS)),
              help="state-secret 国家秘密、trade-secret 商业秘密、privacy 个人隐私、sensitive 敏感。")
@step_command("withhold", "决定不公开已办结或已归档的信件（办法第十三条），已公开的也可改为不公开。")
def withhold_cmd(repo, code, who, at, reason):  # type: ignore[no-untyped-def]
    return workflow.withhold(repo, code, reason, who, at=at)


@click.option("--reason", required=True, help="撤下的理由（只记入案卷，不进提交说明）。")
@step_command("unpublish", "撤下已公开的信件（取消公开）：下次生成网站时页面、列表和搜索中都不再有这封信；"
              "来信人在线查询仍可看到办理状态。之后可用 publish 重新公开。")
def unpublish_cmd(repo, code, who, at, reason):  # type: ignore[no-untyped-def]
    return workflow.unpublish(repo, code, reason, who, at=at)


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


@click.option("--note", help="回访记录：来信人在电话中的意见（如不满意的原因）。")
@click.option("--rating", required=True, type=click.Choice(list(RATINGS)), help="来信人的评价。")
@click.option("--by-phone", "by_phone", is_flag=True,
              help="电话回访：由信箱办公室登记来信人在电话中给出的评价（必填）。")
@step_command("feedback", "登记电话回访的评价（办法第十四条）：已办结或已归档的信件，与网上评价一并统计，"
              "每次办结只记一次评价。来信人在网上的评价由在线服务记录。")
def feedback_cmd(repo, code, who, at, by_phone, rating, note):  # type: ignore[no-untyped-def]
    if not by_phone:
        raise LetterboxError("工作人员登记评价须加 --by-phone（电话回访）；来信人在网上的评价由在线写信服务记录，"
                             "不能在命令行代为填写。")
    return workflow.phone_feedback(repo, code, rating, who, note=note, at=at)


# -- 合并办理 (issue 20) -------------------------------------------------------------------------


def _group_command(name: str, help_text: str, short: str | None = None) -> Callable[[Callable[..., Any]], click.Command]:
    """A step on several letters at once (CODES…), committed once: --as, --at, --json."""

    def decorate(func: Callable[..., Any]) -> click.Command:
        @wraps(func)
        def run(state: State_, codes: tuple[str, ...], actor: str | None, at: str | None, as_json: bool,
                **kw: Any) -> None:
            repo = state.repo()
            result = func(repo, list(codes), repo.actor(actor), at, **kw)
            if as_json:
                print_json({"letter_code": result.letter_code, "action": result.action, "status": result.status,
                            "commit": result.commit, "members": list(_members(repo, result.letter_code))})
            else:
                out.print(f"已完成：{result.message}（提交 {result.commit[:8]}）", markup=False)

        command: Any = click.argument("codes", nargs=-1, required=True)(run)
        command = click.option("--as", "actor", help="办理人员（案卷库有名册时由签名密钥决定，不必填写；否则默认 git 配置的用户名）。")(command)
        command = click.option("--at", help="办理时间（补录纸质记录时用，如 2026-03-02T09:15:00+08:00；默认现在）。")(command)
        command = click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果。")(command)
        command = pass_state(command)
        return cli.command(name=name, help=help_text, short_help=short)(command)

    return decorate


def _members(repo: Any, code: str) -> tuple[str, ...]:
    from letterbox.core.process import replay

    return replay(repo.letter(code).history).members


@click.option("--into", "into", required=True, help="主信的信件编码：并入的来信随主信办理。")
@_group_command("merge", "合并办理（办法第五条第二项）：把反映同一事项的来信并入一封主信，一次提交。此后主信的"
                "分类、转办、延期、答复、审核等步骤同时记入每封并入的来信：一个承办单位、一个期限、同一答复"
                "送达每位来信人；每位来信人的信息仍只在自己的案卷中，可各自查询、评价。主信和并入的来信都须为"
                "“已收到”或“已分类”。合并有误用 unmerge 撤销。",
                short="合并办理：反映同一事项的来信并入一封主信，随主信一并办理、一个答复（办法第五条第二项）。")
def merge_cmd(repo, codes, who, at, into):  # type: ignore[no-untyped-def]
    return workflow.merge(repo, codes, into, who, at=at)


@click.option("--reason", required=True, help="撤销合并的理由（如反映的并非同一事项）。")
@_group_command("unmerge", "撤销合并办理：写并入主信的来信编码，这些来信退出合并，保持现在的状态、承办单位和期限，"
                "此后单独办理；一次提交。")
def unmerge_cmd(repo, codes, who, at, reason):  # type: ignore[no-untyped-def]
    return workflow.unmerge(repo, codes, reason, who, at=at)


# -- 复查 and 复核 (《信访工作条例》第三十五、三十六条) ------------------------------------------


@click.option("--text", help="来信人请求的内容或理由（可不填）。")
@click.option("--kind", required=True, type=click.Choice(list(REVIEW_KINDS)),
              help="复查：对处理意见不服；复核：对复查意见不服。")
@step_command("review", "登记来信人的复查或复核请求（《信访工作条例》第三十五、三十六条）：信访件办结后 30 日内"
              "可申请复查，收到复查意见后 30 日内可申请复核（期限届满日遇节假日顺延）；复查、复核各一次，"
              "复查复核机关（letterbox.yaml 的 bodies.review）自收到请求之日起 30 日内提出意见。")
def review_cmd(repo, code, who, at, kind, text):  # type: ignore[no-untyped-def]
    from letterbox.ops import reviews

    return reviews.request_review(repo, code, kind, who, text=text, at=at)


@_text_opt
@_file_opt
@click.option("--outcome", required=True, type=click.Choice(list(REVIEW_OUTCOMES)),
              help="复查复核结论：维持、撤销或变更原处理意见。")
@step_command("review-decide", "登记复查复核机关的意见（维持、撤销或变更）和意见书内容 → 已办结；"
              "复查意见作出后来信人可在 30 日内申请复核，复核意见为最终意见。")
def review_decide_cmd(repo, code, who, at, outcome, file, text):  # type: ignore[no-untyped-def]
    from letterbox.ops import reviews

    return reviews.decide_review(repo, code, outcome, _read_text(file, text, "复查复核意见"), who, at=at)


# -- a lost query code (article 6) ---------------------------------------------------------------


@cli.command()
@click.argument("code")
@click.option("--verified-by", "verified_by", required=True, type=click.Choice(list(workflow.VERIFICATIONS)),
              help="如何核实了来信人的身份：电话核实（按案卷中的联系方式回拨）、现场核实或书面申请。")
@click.option("--verifier", required=True, help="核实来信人身份的工作人员。")
@click.option("--site", "site", type=click.Path(file_okay=False, path_type=Path),
              help="已生成的网站目录（默认：案卷库下的 site/，存在时即更新这封信的查询索引）。")
@click.option("--as", "actor", help="办理人员（案卷库有名册时由签名密钥决定，不必填写；否则默认 git 配置的用户名）。")
@click.option("--at", help="办理时间（补录纸质记录时用，如 2026-03-02T09:15:00+08:00；默认现在）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（含新查询码）。")
@pass_state
def reissue(state: State_, code: str, verified_by: str, verifier: str, site: Path | None,
            actor: str | None, at: str | None, as_json: bool) -> None:
    """来信人遗失查询码：核实身份后重新发放查询码（办法第六条，仅限信箱办公室）。

    新查询码只显示这一次；旧查询码在查询索引更新后失效（网站目录存在时本命令即更新）。"""
    repo = state.repo()
    done = workflow.reissue(repo, code, verified_by, verifier, repo.actor(actor), at=at)
    result = done.result
    folder = site if site is not None else repo.root / "site"
    refreshed = False
    if (folder / "lookup").is_dir():
        from site_builder.lookup_index import refresh_lookup

        try:
            refresh_lookup(repo, folder, [result.letter_code])
            refreshed = True
        except (LetterboxError, OSError, ValueError) as exc:
            err.print(f"查询索引未能更新（{exc.__class__.__name__}）：请运行 letterbox lookup-refresh，"
                      "在此之前旧查询码仍可查询、新查询码查不到。", markup=False)
    if as_json:
        print_json({"letter_code": result.letter_code, "action": result.action, "status": result.status,
                    "commit": result.commit, "query_code": done.query_code, "lookup_refreshed": refreshed})
        return
    out.print(f"已完成：{result.message}（提交 {result.commit[:8]}）", markup=False)
    out.print(f"信件编码 {result.letter_code}  新查询码 {done.query_code}", markup=False)
    out.print("新查询码只显示这一次，请按核实过的联系方式告知来信人；旧查询码"
              + ("已失效。" if refreshed else "在查询索引更新（letterbox lookup-refresh 或下次生成网站）后失效。"),
              markup=False)
