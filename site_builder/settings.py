"""The site's MkDocs settings: the staff's part from `mkdocs.yml` at the top of the case
repository (the packaged default, `letterbox/data/mkdocs.yml`, when there is none), the build's
part set on top of it by `render.mkdocs_config`; and the site's Content-Security-Policy.

Staff choose the look: the theme's palette, features, logo, icons and language, more Markdown
extensions (by name: the letter pages are converted with the same list, shell.py), and their
own style sheets or scripts (files of the case repository, copied into the site). The build
owns what makes the board work and keeps it safe: the site's name and URL, the pages and their
navigation, no MkDocs plugin, the theme override that moves Material's inline scripts to files
(`theme/`, so that the policy needs no 'unsafe-inline' for scripts) and no web font from
another site.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import yaml

from letterbox.core.config import Config
from letterbox.core.errors import LetterboxError

SETTINGS_FILE = "mkdocs.yml"
THEME_DIR = Path(__file__).parent / "theme"  # custom_dir: Material's inline scripts as files
REQUIRED_EXTENSIONS = ("tables", "attr_list", "md_in_html")  # the letter template needs them
BOARD_CSS = "assets/board.css"
BUILT_ASSETS = frozenset({BOARD_CSS, "assets/lookup.js", "assets/search.js", "assets/write.js"})
# Set by the build whatever mkdocs.yml says (render.mkdocs_config); listed in docs/site.md.
BUILD_OWNED = frozenset({"site_name", "site_url", "docs_dir", "site_dir", "nav", "not_in_nav",
                         "validation", "plugins", "use_directory_urls", "hooks", "exclude_docs",
                         "draft_docs", "INHERIT", "strict", "watch", "dev_addr"})
LISTS = ("markdown_extensions", "extra_css", "extra_javascript")


@dataclass(frozen=True)
class SiteSettings:
    """The staff's MkDocs settings (checked) and the files they name (site path → text)."""

    mkdocs: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)


def default_text() -> str:
    return resources.files("letterbox").joinpath("data", SETTINGS_FILE).read_text("utf-8")


def load_settings(root: Path | None) -> SiteSettings:
    """The settings of the case repository at ``root`` (its mkdocs.yml), else the default."""
    path = root / SETTINGS_FILE if root is not None else None
    if path is not None and path.is_file():
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LetterboxError(f"无法读取 {SETTINGS_FILE}（{exc.__class__.__name__}），应为 UTF-8 文本文件。") from None
        return parse_settings(text, SETTINGS_FILE, root)
    return parse_settings(default_text(), f"程序自带的 {SETTINGS_FILE}", None)


def parse_settings(text: str, name: str, root: Path | None) -> SiteSettings:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark is not None else "某处"
        raise LetterboxError(f"{name}：{where}不是有效的 YAML（只能用普通的 YAML，不能用 !!python 标签）。") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise LetterboxError(f"{name}：应为“键: 值”的设置表（如 theme:、extra_css:）。")
    theme = data.get("theme", {"name": "material"})
    theme = {"name": theme} if isinstance(theme, str) else theme
    if not isinstance(theme, dict) or theme.get("name", "material") != "material":
        raise LetterboxError(f"{name}：theme.name 应为 material（公开网站基于 Material for MkDocs 主题）。")
    for key in LISTS:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise LetterboxError(f"{name}：{key} 应为名称或文件路径的列表，每项一行，如“- admonition”"
                                 f"（扩展不能带参数）。")
    extra = data.get("extra", {})
    if not isinstance(extra, dict):
        raise LetterboxError(f"{name}：extra 应为“键: 值”的设置表。")
    _refuse_what_breaks_the_board(name, data, theme, extra)
    _check_footer(name, extra.get("footer"))
    files: dict[str, str] = {}
    for key in ("extra_css", "extra_javascript"):
        for entry in data.get(key, []):
            files.update(_own_file(name, key, entry, root))
    return SiteSettings(mkdocs={**data, "theme": {"name": "material", **theme}}, files=files)


def _refuse_what_breaks_the_board(name: str, data: dict[str, Any], theme: dict[str, Any],
                                  extra: dict[str, Any]) -> None:
    """Settings MkDocs would accept but the board cannot: plugins (they may fetch from the
    internet at build time, and the built-in search would replace Pagefind), a web font or
    analytics from another site (refused by the site's Content-Security-Policy, and every
    visitor would be reported to that site)."""
    if data.get("plugins"):
        raise LetterboxError(
            f"{name}：不能设置 plugins（MkDocs 插件）。公开网站不使用插件：插件可能在生成网站时从互联网下载内容，"
            "站内搜索由 Pagefind 在本站完成。请删除 plugins 一节。")
    if theme.get("font") not in (None, False):
        raise LetterboxError(
            f"{name}：theme.font 不能设置字体名称：字体会从其他网站下载，网站的内容安全策略只允许本站文件。"
            "请删除 theme.font（页面使用访问者设备上的字体）。")
    if extra.get("analytics"):
        raise LetterboxError(
            f"{name}：不能设置 extra.analytics（访问统计）：统计脚本来自其他网站，会把每位访问者报告给该网站，"
            "网站的内容安全策略也不允许。请删除 extra.analytics。")


FOOTER_TEXT = ("sponsor", "organiser", "phone", "address", "site_code", "icp", "police")


def _check_footer(name: str, footer: Any) -> None:
    """extra.footer: the page footer's texts (FOOTER_TEXT) and links ({name, url}, http(s))."""
    if footer is None:
        return
    if not isinstance(footer, dict):
        raise LetterboxError(f"{name}：extra.footer 应为“键: 值”的设置表（如 icp: 豫ICP备12345678号）。")
    for key, value in footer.items():
        if key == "links":
            if not isinstance(value, list):
                raise LetterboxError(f"{name}：extra.footer.links 应为链接列表，每项如“- {{name: 龙安区人民政府, url: https://…}}”。")
            for n, link in enumerate(value, 1):
                ok = isinstance(link, dict) and isinstance(link.get("name"), str) and link["name"].strip() \
                    and isinstance(link.get("url"), str) and origin(link["url"]) is not None
                if not ok:
                    raise LetterboxError(f"{name}：extra.footer.links 第 {n} 项应有 name（链接文字）和 url"
                                         "（以 http:// 或 https:// 开头的完整网址）。")
        elif key in FOOTER_TEXT:
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise LetterboxError(f"{name}：extra.footer.{key} 应为一行文字。")
        else:
            raise LetterboxError(f"{name}：extra.footer 中没有 {key} 这一项；可以设置：{'、'.join(FOOTER_TEXT)}、links。")


def _own_file(name: str, key: str, entry: str, root: Path | None) -> dict[str, str]:
    """A style sheet or script of the case repository, named in extra_css/extra_javascript."""
    if entry in BUILT_ASSETS:
        return {}
    rel = PurePosixPath(entry)
    if "://" in entry or entry.startswith("//") or rel.is_absolute() or ".." in rel.parts:
        raise LetterboxError(f"{name}：{key} 中的 {entry} 应为本案卷库中的文件（如 assets/local.css），"
                             "不能引用其他网站（网站的内容安全策略只允许本站文件）。")
    path = root / rel if root is not None else None
    if path is None or not path.is_file():
        raise LetterboxError(f"{name}：{key} 中的文件 {entry} 在案卷库中找不到。")
    try:
        return {rel.as_posix(): path.read_text("utf-8")}
    except (OSError, UnicodeDecodeError) as exc:
        raise LetterboxError(f"{name}：无法读取 {key} 中的文件 {entry}（{exc.__class__.__name__}），应为 UTF-8 文本文件。") from None


def merged(settings: SiteSettings, owned: dict[str, Any]) -> dict[str, Any]:
    """The staff's settings with the build's (``owned``) on top; the extensions the letter
    template needs and the board's style sheet are always there."""
    staff = {k: v for k, v in settings.mkdocs.items() if k not in BUILD_OWNED}
    theme = {**staff.pop("theme"), "custom_dir": str(THEME_DIR), "font": False}
    extensions = list(dict.fromkeys([*staff.pop("markdown_extensions", []), *REQUIRED_EXTENSIONS]))
    css = list(dict.fromkeys([BOARD_CSS, *staff.pop("extra_css", [])]))
    extra = {**staff.pop("extra", {}), **owned.pop("extra", {})}
    return {**owned, "theme": theme, "markdown_extensions": extensions, "extra_css": css,
            **staff, "extra": extra}


# --------------------------------------------------------------------------- the policy


def origin(url: str | None) -> str | None:
    """scheme://host[:port] of an absolute http(s) URL, else None."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(config: Config, header: bool = False) -> str:
    """The site's Content-Security-Policy: scripts, styles, images and fonts of the site only
    (no inline script; Pagefind's WebAssembly is allowed), requests to the site and to the
    intake service (`intake_url`: the 写信 page and the rating form). ``header``: the form for
    an HTTP header, which may also forbid framing (a <meta> policy cannot)."""
    intake = origin(config.intake_url)
    connect = "'self'" + (f" {intake}" if intake else "")
    parts = ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'",
             "style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "font-src 'self' data:",
             f"connect-src {connect}", "object-src 'none'", "base-uri 'self'", "form-action 'self'"]
    if header:
        parts.append("frame-ancestors 'none'")
    return "; ".join(parts)
