"""One rule for timeliness: the letter page, requests.json and the statistics agree with the
supervision report. Answered within an approved extension is 经批准延期后办结, listed apart, and
on time (articles 11 and 16: not overdue), so it counts in every on-time rate."""

from __future__ import annotations

import json
from pathlib import Path

from letterbox.store.repository import Repository
from site_builder.build import build_site
from tests.conftest import Repo


def close_with_extension(repo: Repo, code: str) -> None:
    steps = [
        ["classify", code, "--category", "complaint", "--at", "2026-03-02T10:00:00+08:00"],
        ["transfer", code, "--unit", "zjj", "--at", "2026-03-02T11:00:00+08:00"],  # due 03-05
        ["extend", code, "--days", "3", "--reason", "需现场勘查", "--at", "2026-03-04T09:00:00+08:00"],
        ["grant", code, "--at", "2026-03-04T10:00:00+08:00"],  # due 03-10
        ["answer", code, "--text", "已修复。", "--head", "李局长", "--at", "2026-03-09T09:00:00+08:00"],
        ["approve", code, "--at", "2026-03-09T15:00:00+08:00"],
    ]
    for args in steps:
        repo.run(*args)


def test_extended_letter_reads_the_same_everywhere(case_repo: Repo, tmp_path: Path) -> None:
    late = case_repo.new_letter(1)
    close_with_extension(case_repo, late)
    site = tmp_path / "site"
    build_site(Repository(case_repo.path), site)

    page = (site / "letters" / late / "index.html").read_text("utf-8")
    assert "经批准延期后办结" in page and "按期办结" not in page

    request = json.loads((site / "requests.json").read_text("utf-8"))[0]
    assert request["extended_attributes"]["timeliness"] == "extended"
    assert request["extended_attributes"]["on_time"] is True

    stats = json.loads((site / "stats" / "stats.json").read_text("utf-8"))
    total = stats["total"][0]
    assert (total["closed"], total["on_time"], total["late_with_extension"]) == (1, 0, 1)
    assert total["on_time_rate"] == 1.0
    assert [row["key"] for row in stats["month"]] == ["2026-03"]  # the month received

    report = case_repo.json("report", "--month", "2026-03", "--today", "2026-03-31")
    assert report["late_with_extension"] == 1 and report["on_time"] == 0
