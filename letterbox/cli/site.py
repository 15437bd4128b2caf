"""Public-site commands (build, serve, preview), registered on the main `letterbox` group."""

from __future__ import annotations

import functools
import http.server
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape
from rich.table import Table

from letterbox.cli.app import State_, cli, err, out, pass_state, print_json, warn_unreadable
from letterbox.core.errors import LetterboxError
from letterbox.core.process import PUBLICATIONS

if TYPE_CHECKING:
    from site_builder.held import Held


def _out_dir(state: State_, given: Path | None) -> Path:
    return given if given is not None else state.repo().root / "site"


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="输出目录（默认：案卷库下的 site/）。")
@pass_state
def build(state: State_, out_dir: Path | None) -> None:
    """生成公开网站：已办结且未决定不公开的来信（已脱敏）、分类与月份列表、统计和管理办法。"""
    from site_builder.build import build_site

    repo = state.repo()
    report = build_site(repo, _out_dir(state, out_dir), keyring=repo.keyring())
    warn_unreadable(report.unreadable)
    out.print(f"已生成网站：{report.out}（公开来信 {report.letters} 封，文件 {report.files} 个）",
              markup=False)
    if report.held:
        print_held(report.held)
        sys.exit(HELD_EXIT)


HELD_EXIT = 3  # the site is published, but some letters were held back


def print_held(held: Sequence[Held]) -> None:
    """The letters held back by the build, why, and what staff can do (on stderr: CI sees it)."""
    err.print(f"注意：{len(held)} 封信件未公开（网站的其余部分已发布）：", markup=False)
    for h in held:
        err.print(f"  {h.code}（{h.stage_label}）：{h.reason}", markup=False)
        for action in h.actions:
            err.print(f"      {action}", markup=False)


class BoardHandler(http.server.SimpleHTTPRequestHandler):
    """The board served as the nginx sample serves it (docs/deploy.md): the
    Content-Security-Policy header on every answer, and the site's 404 page (status 404) for a
    page that is not there, such as a letter taken down (`unpublish`)."""

    policy = ""

    def end_headers(self) -> None:
        if self.policy:
            self.send_header("Content-Security-Policy", self.policy)
        super().end_headers()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404, message)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (no visitor addresses)
        pass


def board_handler(site: Path, policy: str) -> Any:
    """A request handler class serving the built board in `site` with `policy`."""
    return functools.partial(type("Board", (BoardHandler,), {"policy": policy}), directory=str(site))


@cli.command()
@click.option("--port", default=8000, show_default=True, type=int, help="本机端口。")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="要预览的网站目录（默认：案卷库下的 site/）。")
@click.option("--no-build", is_flag=True, help="不重新生成，直接预览已有的目录。")
@pass_state
def serve(state: State_, port: int, out_dir: Path | None, no_build: bool) -> None:
    """在本机预览公开网站（先生成，再在 http://127.0.0.1:PORT/ 提供）。"""
    from site_builder.build import build_site

    target = _out_dir(state, out_dir)
    if not no_build:
        repo = state.repo()
        report = build_site(repo, target, keyring=repo.keyring())
        warn_unreadable(report.unreadable)
        if report.held:
            print_held(report.held)
    if not (target / "index.html").exists():
        raise LetterboxError(f"{target} 中没有网站，请先运行 `letterbox build`。")
    from site_builder.settings import content_security_policy

    handler = board_handler(target, content_security_policy(state.repo().config, header=True))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        out.print(f"预览：http://127.0.0.1:{port}/ （Ctrl+C 停止）", markup=False)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            out.print("已停止预览。")


@cli.command()
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_state
def preview(state: State_, code: str, as_json: bool) -> None:
    """预览一封信件公开后的样子：脱敏后的标题、内容和答复，以及隐去了什么、为什么（未办结的也可预览）。"""
    from site_builder.preview import preview_letter

    view = preview_letter(state.repo(), code)  # opened with this user's keys (a clear error without)
    if as_json:
        print_json(view)
        return
    _print_preview(view)


def _print_preview(v: dict[str, Any]) -> None:
    out.print(f"[bold]{v['letter_code']}[/]  公开预览（仅供办公室核对，勿外传）")
    decision = PUBLICATIONS.get(v['publication'] or '', '未决定')
    out.print(f"状态：{v['status_label']}    公开决定：{decision}    "
              f"答复：{v['reply_kind']}{'（' + v['reply_by'] + '）' if v['reply_by'] else ''}",
              markup=False)
    if v["unsafe"]:
        out.print(f"[bold red]不能公开：[/]{escape(str(v['unsafe']))}")
    elif v["on_board"]:
        out.print("[green]生成网站时将公开此信。[/]")
    else:
        out.print(f"目前不会公开：{v['not_public_reason'] or '尚无经审核的答复'}。", markup=False)
    mask, keep = v["redaction"]["mask"], v["redaction"]["keep"]
    if mask or keep:
        out.print(f"案卷的脱敏设置（redaction）：隐去 {'、'.join(mask) or '—'}；保留 {'、'.join(keep) or '—'}",
                  markup=False)
    for part, label in (("title", "标题"), ("body", "来信内容"), ("reply", "答复")):
        out.print(f"\n[bold]{label}[/]")
        out.print(v["public"][part] or "（无）", markup=False)
    if not v["masked"]:
        out.print("\n未隐去任何内容。")
        return
    table = Table(title=f"隐去 {len(v['masked'])} 处")
    for column in ("部分", "原文", "显示为", "原因", "依据"):
        table.add_column(column)
    for row in v["masked"]:
        table.add_row(row["part_label"], row["original"], row["mask"], row["reason"],
                      row["source_label"])
    out.print("")
    out.print(table)
    out.print("多隐去的文字可加入案卷 redaction.keep，漏掉的加入 redaction.mask（来信人信息总会隐去）。")
