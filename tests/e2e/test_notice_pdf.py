"""Issue 18, point 1: `letterbox notice CODE --pdf FILE` prints the notices as a PDF through
WeasyPrint with the machine's CJK font (scripts/test.sh installs fonts-wqy-microhei). The PDF is
read back with pypdf: its text holds the Chinese of the notice and its fonts include an embedded
CJK font. Without a font that has the characters the command refuses and writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

from tests.conftest import WRITER, Repo, refused


def at(day: int, hour: int, month: int = 3) -> str:
    return f"2026-{month:02d}-{day:02d}T{hour:02d}:00:00+08:00"


def flat(text: str) -> str:
    """Text without white space (the PDF breaks lines and spaces the title's letters)."""
    return "".join(text.split())


def fonts(reader: PdfReader) -> dict[str, bool]:
    """Base font name -> whether its program is embedded (FontFile/FontFile2/FontFile3)."""
    found: dict[str, bool] = {}
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            inner = descendants[0].get_object() if descendants else font
            descriptor = inner["/FontDescriptor"].get_object()
            found[str(font["/BaseFont"])] = any(
                k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return found


def test_pdf_holds_the_chinese_text_in_an_embedded_cjk_font(case_repo: Repo, tmp_path: Path) -> None:
    code = case_repo.new_letter(1)
    case_repo.run("classify", code, "--category", "complaint", "--at", at(2, 10))
    case_repo.run("transfer", code, "--unit", "cgj", "--complex", "--at", at(2, 11))
    case_repo.run("answer", code, "--text", "路灯线路已更换，现已恢复照明。", "--head", "张局长",
                  "--timeframe", "2026年4月10日前完成全部更换", "--at", at(25, 10))
    case_repo.run("approve", code, "--at", at(26, 10))
    pdf = tmp_path / "告知书.pdf"
    html = tmp_path / "告知书.html"
    result = case_repo.run("notice", code, "--pdf", str(pdf), "--out", str(html))
    assert f"已生成 {pdf}：{code} 受理告知书、答复意见书（PDF，可直接打印）。" in result.stdout
    assert html.read_text("utf-8").startswith("<!doctype html>")
    reader = PdfReader(pdf)
    assert len(reader.pages) == 2  # one notice a page
    first, second = (flat(p.extract_text()) for p in reader.pages)
    assert "受理告知书" in first and "转区城市管理局办理（较复杂问题）" in first
    assert flat("自转办次日起 20 个工作日内办结") in first
    assert "答复意见书" in second and "路灯线路已更换，现已恢复照明。" in second
    assert "解决时限：2026年4月10日前完成全部更换" in second
    for value in WRITER.values():
        assert value not in first + second
    embedded = fonts(reader)
    cjk = [name for name, inside in embedded.items() if inside and any(
        family in name for family in ("WenQuanYi", "NotoSansCJK", "NotoSerifCJK", "Noto-Sans-CJK",
                                      "Noto-Serif-CJK", "SourceHan"))]
    assert cjk, embedded
    assert all(embedded.values()), embedded  # every font travels with the file


def test_pdf_of_a_single_kind(case_repo: Repo, tmp_path: Path) -> None:
    code = case_repo.new_letter(1)
    case_repo.run("reject", code, "--reason", "private-dispute", "--at", at(2, 10))
    pdf = tmp_path / "reject.pdf"
    case_repo.run("notice", code, "--kind", "reject", "--pdf", str(pdf))
    text = flat(PdfReader(pdf).pages[0].extract_text())
    assert "不予受理告知书" in text and "纯属个人之间恩怨纠纷" in text
    missing = tmp_path / "none.pdf"
    refused(case_repo, "notice", code, "--kind", "answer", "--pdf", str(missing),
            words=[code, "答复意见书"])
    assert not missing.exists()
    nowhere = tmp_path / "no-such-folder" / "x.pdf"
    refused(case_repo, "notice", code, "--pdf", str(nowhere), words=[str(nowhere), "所在的文件夹不存在"])


def test_without_a_cjk_font_the_pdf_is_refused_and_nothing_written(case_repo: Repo,
                                                                  tmp_path: Path) -> None:
    """fontconfig limited to DejaVu (no CJK glyphs): WeasyPrint would draw empty boxes; the
    command refuses in Chinese, names the font packages, writes no file."""
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    assert dejavu.is_dir(), "fonts-dejavu-core (fontconfig's default fonts) expected"
    code = case_repo.new_letter(1)
    case_repo.run("reject", code, "--reason", "private-dispute", "--at", at(2, 10))
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    f"<dir>{dejavu}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>",
                    encoding="utf-8")
    pdf = tmp_path / "out.pdf"
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    result = subprocess.run(
        [sys.executable, "-c", "from letterbox.cli.main import main; main()",
         "--repo", str(case_repo.path), "notice", code, "--pdf", str(pdf)],
        env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1, result.stderr
    assert "请安装中文字体" in result.stderr and "fonts-wqy-microhei" in result.stderr
    assert "Traceback" not in result.stderr
    assert not pdf.exists()
