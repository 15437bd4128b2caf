"""The board's 按来信月份 lists group letters by the month they were received, as the statistics
do (issue 13: they grouped by the answer's month before), and say so."""

from __future__ import annotations

import json
from pathlib import Path

from letterbox.store.repository import Repository
from site_builder.build import build_site
from tests.conftest import Repo, submission

T = "T09:00:00+08:00"


def test_month_lists_follow_the_received_month(case_repo: Repo, tmp_path: Path) -> None:
    sub = submission(1, submitted_at="2026-02-26T08:30:00+08:00")
    code = case_repo.intake(sub, name="one-1.json")[0]["letter_code"]
    for action, day, *args in (
        ("classify", "2026-02-26", "--category", "complaint"),
        ("transfer", "2026-02-26", "--unit", "zjj"),
        ("answer", "2026-03-03", "--text", "已修复。", "--head", "李局长"),
        ("approve", "2026-03-04"),
    ):
        case_repo.run(action, code, *args, "--at", f"{day}{T}")
    site = tmp_path / "site"
    build_site(Repository(case_repo.path), site)

    assert (site / "months" / "2026-02" / "index.html").is_file()
    assert not (site / "months" / "2026-03").exists()  # the month of the answer
    listing = (site / "months" / "2026-02" / "index.html").read_text("utf-8")
    assert "2026年2月来信" in listing and "来信日期" in listing and "2026年2月26日" in listing
    index = (site / "months" / "index.html").read_text("utf-8")
    assert "按来信月份" in index
    stats = json.loads((site / "stats" / "stats.json").read_text("utf-8"))
    assert [row["key"] for row in stats["month"]] == ["2026-02"]
    request = json.loads((site / "requests.json").read_text("utf-8"))[0]
    assert request["extended_attributes"]["received"] == "2026-02-26"
    assert request["extended_attributes"]["answered"] == "2026-03-04"
