"""Pagefind run on the search parts two at a time (`tools.PagefindParts`): every part's bundle
made, byte for byte what one run at a time makes; a failing part fails the whole; `kill` stops
the runs under way. Real Pagefind (the extended binary from the pagefind package)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from letterbox.core.errors import LetterboxError
from site_builder.tools import PagefindParts, pagefind_jobs

PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main data-pagefind-body><h1>{title}</h1><p>{body}</p></main></body></html>"""


def sources(root: Path, parts: int, pages: int = 3) -> list[tuple[Path, Path]]:
    jobs = []
    for p in range(parts):
        folder = root / "src" / f"part{p}" / "letters"
        folder.mkdir(parents=True)
        for k in range(pages):
            (folder / f"LA-2026-{p:02d}{k:03d}.html").write_text(
                PAGE.format(title=f"第{p}部分第{k}封：小区电梯停运", body=f"电梯停运{p}{k}天，老人上下楼困难。"), "utf-8")
        jobs.append((folder.parent, root / "out" / f"pagefind-part{p}"))
    return jobs


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_at_a_time_make_what_one_at_a_time_makes(tmp_path: Path) -> None:
    one, two = sources(tmp_path / "one", 5), sources(tmp_path / "two", 5)
    PagefindParts(one, workers=1).finish()
    started = time.perf_counter()
    parts = PagefindParts(two, workers=2)
    assert len(parts.threads) == 2
    parts.finish()
    assert time.perf_counter() - started < 120
    for (_, a), (_, b) in zip(one, two, strict=True):
        assert (b / "pagefind.js").is_file()
        assert files_of(a) == files_of(b), b.name


def test_a_failing_part_fails_the_whole(tmp_path: Path) -> None:
    jobs = sources(tmp_path, 3)
    (jobs[1][0] / "letters").rename(jobs[1][0] / "gone")  # no page: Pagefind still runs …
    jobs[1] = (tmp_path / "no such folder", jobs[1][1])  # … but not on a missing folder
    with pytest.raises(LetterboxError, match="Pagefind"):
        PagefindParts(jobs, workers=2).finish()


def test_kill_stops_the_runs(tmp_path: Path) -> None:
    parts = PagefindParts(sources(tmp_path, 6, pages=40), workers=2)
    parts.kill()
    assert parts.procs == [] or all(p.poll() is not None for p in parts.procs)
    assert all(not t.is_alive() for t in parts.threads)
    parts.finish()  # a killed run raises nothing


def test_jobs_bounded_by_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LETTERBOX_PAGEFIND_JOBS", "64")
    assert 1 <= pagefind_jobs() <= 64
    monkeypatch.setenv("LETTERBOX_PAGEFIND_JOBS", "0")
    assert pagefind_jobs() >= 1
    monkeypatch.setenv("LETTERBOX_PAGEFIND_JOBS", "1")
    assert pagefind_jobs() == 1


def test_a_part_that_cannot_start_fails_the_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    # Pagefind is started by this Python (`python -m pagefind`): a missing interpreter is a real
    # OSError from the system, which must fail the whole with a message, not end a thread quietly
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    with pytest.raises(LetterboxError, match="Pagefind 无法启动"):
        PagefindParts(sources(tmp_path, 3), workers=2).finish()
