"""Letter pages without MkDocs rendering each one: a page shell, filled in Python.

MkDocs with Material renders ~250 pages/s; at 10 000 letters that was most of the build. Every
letter page has the same theme HTML around it, so MkDocs builds one *shell* page per shape of
letter (with and without the 相关来信 section: the table of contents differs), whose title and
URL are placeholders; each letter's Markdown is converted by Python-Markdown with the very
extensions MkDocs uses (its built-ins `toc`, `tables`, `fenced_code` and the site's
`markdown_extensions`) and put in place of the shell's content.

Fail closed: the shell's own content, converted here, must be found verbatim in the HTML MkDocs
made of it, and each letter's table of contents (headings and their ids, fixed by the letter
template) must be the shell's, or the build stops.
"""

from __future__ import annotations

import functools
import gzip
import html
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import markdown

from letterbox.core.errors import LetterboxError

SHELL_DIR = "letters"
SHELLS = {"related": "LBXSHELLRELATED0", "plain": "LBXSHELLPLAIN0"}  # page name per shape
TITLE = "LBXSHELLTITLE0"
_FRONT = re.compile(r"\A---\n.*?\n---\n", re.S)


def clean(text: str) -> str:
    """What Python-Markdown would change before reading: tabs (expanded by column) become one
    space, its placeholder marks \\x02 \\x03 are dropped. Applied to every value first, so the
    fast letter pages (LetterContent) equal Python-Markdown's."""
    return str(text).replace("\t", " ").replace("\x02", "").replace("\x03", "")


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a letter's text: its non-blank lines, stripped."""
    return [line.strip() for line in clean(text).splitlines() if line.strip()]


def converter(extensions: Sequence[str]) -> markdown.Markdown:
    return markdown.Markdown(extensions=["toc", "tables", "fenced_code", *extensions])




def _shape(tokens: list[dict[str, Any]]) -> tuple:
    """The table of contents as the theme shows it, without ids; level-1 names (the letter's
    title) left out."""
    return tuple((t["level"], "" if t["level"] == 1 else t["name"], _shape(t["children"]))
                 for t in tokens)


def _ids(tokens: list[dict[str, Any]]) -> list[str]:
    return [x for t in tokens for x in (t["id"], *_ids(t["children"]))]


def convert(md: markdown.Markdown, text: str) -> tuple[str, tuple]:
    """(content HTML, (toc shape, heading ids in order))."""
    md.reset()
    body = md.convert(text)
    tokens = getattr(md, "toc_tokens", [])
    return body, (_shape(tokens), tuple(_ids(tokens)))


def shell_markdown(letter_md: str) -> str:
    """The Markdown of a shell page: a letter's, with the placeholder title (its headings keep
    the fixed ids the letter template gives them)."""
    return f"---\ntitle: {TITLE}\n---\n\n" + letter_md


@dataclass
class Shell:
    before: str  # HTML up to the content (title and URL still placeholders)
    after: str
    shape: tuple
    name: str

    def page(self, code: str, content: str) -> str:
        """The letter's page: its title (the <title> and the header's) is the letter's own, the
        text of the content's first heading (already redacted and escaped), else its code."""
        heading = _HEADING.search(content)
        text = _TAGS.sub("", heading.group(1)).strip() if heading else ""
        title = text or html.escape(code)
        before, after = (part.replace(TITLE, title).replace(self.name, code)
                         for part in (self.before, self.after))
        return before + content + after


def load_shell(site: Path, name: str, source_md: str, md: markdown.Markdown) -> Shell:
    path = site / SHELL_DIR / name / "index.html"
    built = path.read_text("utf-8")
    content, shape = convert(md, _FRONT.sub("", source_md))
    if built.count(content) != 1:
        raise LetterboxError("信件页面模板与 MkDocs 的输出不一致，已停止构建。")
    before, after = built.split(content)
    return Shell(before=before, after=after, shape=shape, name=name)


_HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)
_TAGS = re.compile(r"<[^>]*>")
FIELD = re.compile(r"<p>LBXFIELD(BODY|REPLY)X</p>|LBXFIELD([A-Z_]+)X")


class LetterContent:
    """A letter's content HTML without Python-Markdown (1 ms a letter, most of a build's CPU).

    The letter template (render.letter_markdown) is converted once, with a token for each field
    of render.letter_fields; a letter's content is that HTML with the fields put in, HTML
    escaped, one <p> per line for the letter and the reply. Every field is `render.clean`ed and
    escaped for Markdown by the template, so Python-Markdown gives exactly this: the property
    test in tests/test_site.py holds the two to the same bytes on arbitrary text.
    """

    def __init__(self, md: markdown.Markdown, page: Callable[[dict[str, str]], str],
                 fields: Sequence[str]) -> None:
        self.html, self.toc = convert(md, page({k: f"LBXFIELD{k.upper()}X" for k in fields}))
        found = [m.group(1) or m.group(2) for m in FIELD.finditer(self.html)]
        if sorted(found) != sorted(k.upper() for k in fields):
            raise LetterboxError("信件页面模板的字段与页面生成不一致，已停止构建。")

    def content(self, fields: dict[str, str]) -> str:
        def value(m: re.Match[str]) -> str:
            if m.group(1):
                lines = paragraphs(fields[m.group(1).lower()])
                return "\n".join(f"<p>{html.escape(x, quote=False)}</p>" for x in lines) or "<p>（无）</p>"
            return html.escape(fields[m.group(2).lower()], quote=False)

        return FIELD.sub(value, self.html)


_CONVERTERS: dict[tuple[str, ...], markdown.Markdown] = {}
CONVERT_CHUNK = 500  # letters per task


def _convert_chunk(extensions: tuple[str, ...], items: list[tuple[str, str, str]]
                   ) -> list[tuple[str, tuple[str, str, tuple]]]:
    """Letter Markdown → (code, (shell key, content HTML, toc shape)), one converter per process."""
    md = _CONVERTERS.get(extensions)
    if md is None:
        md = _CONVERTERS[extensions] = converter(extensions)
    return [(code, (key, *convert(md, text))) for code, key, text in items]


def convert_letters(extensions: Sequence[str], letters: dict[str, tuple[str, str]],
                    run: Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]] | None = None
                    ) -> dict[str, tuple[str, str, tuple]]:
    """code → (shell key, Markdown) converted to code → (shell key, content HTML, toc shape), in
    chunks; ``run(fn, chunks)`` maps them (a process pool's map, say), else done here."""
    items = [(code, key, text) for code, (key, text) in letters.items()]
    chunks = [items[k:k + CONVERT_CHUNK] for k in range(0, len(items), CONVERT_CHUNK)]
    work = functools.partial(_convert_chunk, tuple(extensions))
    done = run(work, chunks) if run is not None else [work(c) for c in chunks]
    return dict(x for chunk in done for x in chunk)


def fill(site: Path, shells: dict[str, Shell], pages: dict[str, tuple[str, str, tuple]]) -> None:
    """Write letters/<code>/index.html for each code → (shape key, content HTML, toc shape)."""
    for code, (key, content, toc) in pages.items():
        shell = shells[key]
        if toc != shell.shape:
            raise LetterboxError(f"信件 {code} 的页面结构与模板不同，已停止构建。")
        target = site / SHELL_DIR / code / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)  # never written into: a kept site's files are hard links
        target.write_text(shell.page(code, content), encoding="utf-8")


def fix_sitemap(site: Path, codes: Sequence[str], epoch: int) -> None:
    """Put the letters in sitemap.xml (and .gz) in place of the shells' entries (with site_url)."""
    path = site / "sitemap.xml"
    if not path.exists():
        return
    text = path.read_text("utf-8")
    entry = re.compile(r"\n?[ \t]*<url>\s*<loc>[^<]*?(" + "|".join(SHELLS.values()) + r")/</loc>.*?</url>", re.S)
    found = list(entry.finditer(text))
    if not found:
        return
    template = found[0].group()
    start = found[0].start()
    for m in reversed(found):
        text = text[:m.start()] + text[m.end():]
    name = found[0].group(1)
    text = text[:start] + "".join(template.replace(name, c) for c in codes) + text[start:]
    path.unlink()  # new files, not written into (hard links of the published site)
    path.write_text(text, encoding="utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, filename="sitemap.xml", mode="wb", mtime=epoch) as gz:
        gz.write(text.encode("utf-8"))
    (site / "sitemap.xml.gz").unlink(missing_ok=True)
    (site / "sitemap.xml.gz").write_bytes(buf.getvalue())
