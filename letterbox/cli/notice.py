"""`letterbox notice`: the notices to the writer (受理告知书, 不予受理告知书, 延期告知书, 答复意见书,
复查意见书, 复核意见书),
rendered from the letter's history (letterbox/ops/notices.py), as text or printable HTML."""

from __future__ import annotations

import errno
from pathlib import Path

import click

from letterbox.cli.app import State_, cli, out, pass_state
from letterbox.core.clock import work_calendar
from letterbox.core.errors import LetterboxError
from letterbox.ops import notices


@cli.command("notice")
@click.argument("code")
@click.option("--kind", type=click.Choice(list(notices.KINDS)),
              help="只要一种：" + "、".join(f"{k}（{v}）" for k, v in notices.KINDS.items()) + "。")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="写入可打印的 HTML 文件（不写则在屏幕上显示文字）。")
@click.option("--pdf", "pdf_file", type=click.Path(dir_okay=False, path_type=Path),
              help="写入 PDF 文件（需安装 WeasyPrint 与中文字体，见 README）。")
@pass_state
def notice_cmd(state: State_, code: str, kind: str | None, out_file: Path | None,
               pdf_file: Path | None) -> None:
    """告知来信人的文书：受理、不予受理、延期、答复、复查、复核意见书，按办理记录生成（不含来信人个人信息）。"""
    repo = state.repo()
    letter = repo.letter(code)
    try:
        found = notices.notices(letter, repo.config, repo.root, work_calendar(repo.root))
    except (ValueError, KeyError, TypeError, OverflowError):
        raise LetterboxError(f"{letter.path}：办理记录有误，无法生成告知书（运行 letterbox validate 查看原因）。") from None
    chosen = notices.select(found, kind, letter.code)
    titles = "、".join(n.title for n in chosen)
    # Everything is rendered before anything is written: a refusal leaves no file behind.
    pdf = notices.render_pdf(chosen, letter.code, repo.root) if pdf_file is not None else None
    html = notices.render_html(chosen, letter.code, repo.root) if out_file is not None else None
    if out_file is not None and html is not None:
        _write(out_file, html.encode("utf-8"))
        out.print(f"已生成 {out_file}：{letter.code} {titles}（可直接打印）。", markup=False)
    if pdf_file is not None and pdf is not None:
        _write(pdf_file, pdf)
        out.print(f"已生成 {pdf_file}：{letter.code} {titles}（PDF，可直接打印）。", markup=False)
    if out_file is not None or pdf_file is not None:
        return
    for n in chosen:
        out.print(f"【{n.title}】{n.day.isoformat()}", markup=False)
        out.print(n.text, markup=False)
        out.print("", markup=False)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as e:
        why = {errno.ENOENT: "所在的文件夹不存在", errno.EACCES: "没有写入权限",
               errno.EPERM: "没有写入权限", errno.ENOSPC: "磁盘空间不足",
               errno.EROFS: "文件系统只读"}.get(e.errno or 0, f"系统错误 {e.errno}")
        raise LetterboxError(f"无法写入 {path}：{why}，未生成文件。") from None
