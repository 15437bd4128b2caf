"""Merged handling (issue 20, point 3) with sealed case files: the lead's routing re-wraps every
member's data key in the same commit, so the unit can read each writer's letter; an escalation
writes each member's own 《来信办理单》 (never the lead's file twice, never a sealed field);
`check --base` accepts every commit. Real keys, real age encryption, real signing."""

from __future__ import annotations

from tests.e2e.test_sealing_write import SECRETS, Sealed, keys, sealed  # noqa: F401 - fixtures


def test_routing_the_lead_rewraps_each_member_and_escalation_writes_each_form(sealed: Sealed) -> None:  # noqa: F811
    repo = sealed.repo
    lead, b, c = (sealed.take_in(n) for n in (1, 2, 3))
    repo.run("merge", b, c, "--into", lead)
    repo.run("classify", lead, "--category", "complaint")
    repo.run("escalate", lead, "--leader", "qz")
    forms = sorted(str(p.relative_to(repo.path)) for p in (repo.path / "forms").rglob("*.html"))
    assert forms == sorted(f"forms/2026/{x}.html" for x in (lead, b, c))
    for code in (lead, b, c):
        assert sealed.opens(code, "leader") and not sealed.opens(code, "zzl")
        escalation = repo.letter(code)["history"][-1]
        assert escalation["details"]["form"] == f"forms/2026/{code}.html"
    sealed.as_("leader", lambda: repo.run("instruct", lead, "--leader", "qz", "--text", "请中州路街道办理。",
                                          "--unit", "zzl"))
    for code in (lead, b, c):
        assert sealed.opens(code, "zzl") and not sealed.opens(code, "wsj")
    sealed.as_("zzl", lambda: repo.run("answer", lead, "--text", "已安排检修。", "--head", "李主任"))
    repo.run("approve", lead)
    assert {repo.letter(x)["status"] for x in (lead, b, c)} == {"closed"}
    status, text = sealed.check()
    assert status == 0, text
    everything = sealed.every_object()
    for secret in SECRETS:
        assert secret not in everything
    for form in (repo.path / "forms").rglob("*.html"):
        assert "加密保存" in form.read_text("utf-8")
