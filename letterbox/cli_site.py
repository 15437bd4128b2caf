"""Public-site commands (build, serve), registered on the main `letterbox` group."""

from __future__ import annotations

import functools
import http.server
from pathlib import Path

import click

from letterbox.cli import State_, cli, out, pass_state
from letterbox.errors import LetterboxError


def _out_dir(state: State_, given: Path | None) -> Path:
    return given if given is not None else state.repo().root / "site"


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="输出目录（默认：案卷库下的 site/）。")
@pass_state
def build(state: State_, out_dir: Path | None) -> None:
    """生成公开网站：已办结且未决定不公开的来信（已脱敏）、分类与月份列表、统计和管理办法。"""
    from site_builder.build import build_site

    report = build_site(state.repo(), _out_dir(state, out_dir))
    out.print(f"已生成网站：{report.out}（公开来信 {report.letters} 封，文件 {report.files} 个）",
              markup=False)


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
        build_site(state.repo(), target)
    if not (target / "index.html").exists():
        raise LetterboxError(f"{target} 中没有网站，请先运行 `letterbox build`。")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(target))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        out.print(f"预览：http://127.0.0.1:{port}/ （Ctrl+C 停止）", markup=False)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            out.print("已停止预览。")
