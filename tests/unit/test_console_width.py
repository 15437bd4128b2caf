"""The CLI's console (issue 18, point 8): a table on a terminal fits it, wrapping its cells; piped
(not a terminal) it is not cut at 80 columns, whatever COLUMNS says."""

from __future__ import annotations

import io

import pytest
from rich.table import Table

from letterbox.cli.app import SafeConsole


def table() -> Table:
    grid = Table("信件编码", "备注")
    grid.columns[0].no_wrap = True
    grid.add_row("LA-2026-00001", REMARK)
    return grid


REMARK = "；".join(f"已延期 {n} 个工作日" for n in range(1, 13))  # over 150 columns


def test_piped_table_is_whole_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    buffer = io.StringIO()  # not a terminal
    SafeConsole(file=buffer, highlight=False, soft_wrap=True).print(table())
    row = next(line for line in buffer.getvalue().splitlines() if "LA-2026-00001" in line)
    assert REMARK in row and len(row) > 150


def test_terminal_table_fits_and_wraps() -> None:
    buffer = io.StringIO()
    SafeConsole(file=buffer, force_terminal=True, width=60, color_system=None, soft_wrap=True).print(table())
    lines = buffer.getvalue().splitlines()
    assert all(len(line) <= 60 for line in lines), lines
    assert len(lines) > 5 and "…" not in "".join(lines)  # wrapped, nothing cut
    assert "".join(lines).count("个工作日") == 12
    assert any("LA-2026-00001" in line for line in lines)
