"""`letterbox report` on the one fold: risk notes get the site's redaction, and 当前状态 is the
status on the report's last day (issue 13)."""

from __future__ import annotations

import json
import re

from tests.conftest import Repo

T = "T09:00:00+08:00"
NAME, PHONE = "钱秀英", "13812345678"


def step(repo: Repo, action: str, code: str, day: str, *args: str, hour: str = T) -> None:
    repo.run(action, code, *args, "--at", f"{day}{hour}")


def transferred(repo: Repo, n: int, day: str, unit: str, **writer: str) -> str:
    code = repo.new_letter(n, submitted_at=f"{day}T08:30:00+08:00", **writer)
    step(repo, "classify", code, day, "--category", "complaint", hour="T08:45:00+08:00")
    step(repo, "transfer", code, day, "--unit", unit)
    return code


def reports(repo: Repo, today: str = "2026-04-15") -> dict[str, str]:
    base = ("report", "--month", "2026-03", "--today", today)
    return {"md": repo.run(*base, "--format", "md").stdout,
            "html": repo.run(*base, "--format", "html").stdout,
            "json": repo.run(*base, "--json").stdout}


def test_risk_notes_get_the_sites_redaction(case_repo: Repo) -> None:
    code = transferred(case_repo, 1, "2026-03-02", "cgj", name=NAME, phone=PHONE)
    note = (f"{NAME}称三十余户居民拟集体到区政府反映，留电话 138-1234-5678，"
            f"又称可打 138 1234 5678 找{NAME}")
    step(case_repo, "flag-risk", code, "2026-03-03", "--note", note)
    outputs = reports(case_repo)
    for fmt, text in outputs.items():
        for shown in (NAME, PHONE, "138-1234-5678", "138 1234 5678"):
            assert shown not in text, (fmt, shown)
        assert PHONE not in re.sub(r"[\s\-]", "", text), fmt
        assert "三十余户居民拟集体到区政府反映" in text, fmt  # the rest of the note is kept
    flag = json.loads(outputs["json"])["risk_flags"][0]
    assert flag["note"].count("〔电话〕") == 2 and "〔姓名〕" in flag["note"]


def test_current_status_is_as_of_the_reports_end(case_repo: Repo) -> None:
    code = transferred(case_repo, 1, "2026-03-02", "cgj")
    step(case_repo, "flag-risk", code, "2026-03-03", "--note", "多户居民情绪较大")
    step(case_repo, "answer", code, "2026-03-05", "--text", "已办理。", "--head", "王主任")
    step(case_repo, "approve", code, "2026-03-06")
    end = reports(case_repo)
    assert [(f["status"], f["status_label"]) for f in json.loads(end["json"])["risk_flags"]] == [
        ("closed", "已办结")]  # flagged while 转办中, closed three days later
    assert f"| 2026-03-03 | {code} | 区城市管理局 | 已办结 |" in end["md"]
    early = reports(case_repo, "2026-03-04")
    assert [f["status_label"] for f in json.loads(early["json"])["risk_flags"]] == ["转办中"]
