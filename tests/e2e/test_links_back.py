"""Issue 18, point 5: a duplicate, an already-answered rejection and a follow-up may only name a
letter received earlier (by day of receipt, then code). Refused by the
command before anything is written, and by `validate` / `check` for hand edits."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Repo, snapshot, submission

FIRST, SECOND = "LA-2026-00001", "LA-2026-00002"


@pytest.fixture
def two(case_repo: Repo) -> Repo:
    case_repo.intake(submission(1, submitted_at="2026-09-30T09:00:00+08:00"),
                     submission(2, submitted_at="2026-10-08T09:00:00+08:00"))
    return case_repo


def errors(repo: Repo, *args: str) -> list[dict]:
    result = repo.run(*args, "--json", expect=1)
    return [p for p in json.loads(result.stdout)["problems"] if p["severity"] == "error"]


@pytest.mark.parametrize("reason", ["duplicate", "answered"])
def test_reject_naming_a_later_letter_is_refused(two: Repo, reason: str) -> None:
    before = snapshot(two.path)
    result = two.run("reject", FIRST, "--reason", reason, "--of", SECOND,
                     "--at", "2026-10-09T10:00:00+08:00", expect=1)
    assert f"--of 所写的信件 {SECOND} 不比本信 {FIRST} 收到得早" in result.stderr
    assert "只能是更早收到的来信" in result.stderr
    assert snapshot(two.path) == before  # nothing written, nothing committed
    # the other way round is what the Measures mean: the later letter repeats the earlier one
    two.run("reject", SECOND, "--reason", reason, "--of", FIRST.lower(), "--at", "2026-10-09T10:00:00+08:00")
    assert two.letter(SECOND)["history"][-1]["details"]["of"] == FIRST
    two.run("validate")


def test_hand_edited_forward_links_are_refused_by_validate_and_check(two: Repo) -> None:
    base = two.git("rev-parse", "HEAD").strip()
    two.run("reject", SECOND, "--reason", "duplicate", "--of", FIRST, "--at", "2026-10-09T10:00:00+08:00")
    two.run("classify", FIRST, "--category", "complaint", "--at", "2026-10-09T11:00:00+08:00")
    two.run("reject", FIRST, "--reason", "private-dispute", "--at", "2026-10-09T12:00:00+08:00")
    # by hand: the earlier letter made a follow-up of the later one and a duplicate of it
    path = two.letter_file(FIRST)
    text = path.read_text("utf-8")
    text = text.replace("follows_up: null", f"follows_up: {SECOND}", 1)
    line = next(x for x in text.splitlines() if x.strip() == "reason: private-dispute")
    indent = line[: len(line) - len(line.lstrip())]
    text = text.replace(line, f"{indent}reason: duplicate\n{indent}of: {SECOND}", 1)
    path.write_text(text, "utf-8")
    found = errors(two, "validate")
    fields = {p["field"]: p for p in found if p["file"].endswith(f"{FIRST}.yaml")}
    assert "follows_up" in fields and "后续来信只能指向更早收到的来信" in fields["follows_up"]["message"]
    of_field = next(f for f in fields if f.endswith(".details.of") or f.endswith("details.of"))
    assert "不予受理所指的前信只能是更早收到的来信" in fields[of_field]["message"]
    assert fields["follows_up"]["line"]  # located in the file
    messages = " ".join(p["message"] for p in errors(two, "check", "--base", base))
    assert "后续来信只能指向更早收到的来信" in messages and "不予受理所指的前信只能是更早收到的来信" in messages
    # the later letter's own links back stay valid
    assert not [p for p in found if p["file"].endswith(f"{SECOND}.yaml")]


def test_follow_up_received_before_the_letter_it_names_is_refused(case_repo: Repo) -> None:
    first = case_repo.new_letter(1, submitted_at="2026-01-05T09:00:00+08:00")
    before = snapshot(case_repo.path)
    # a paper letter dated 2025 gets a 2025 code, earlier than the 2026 letter it claims to follow
    late_paper = submission(2, submitted_at="2025-12-30T09:00:00+08:00", follows_up=first)
    result = case_repo.run("intake", str(case_repo.write_submission("paper.json", late_paper)), expect=1)
    assert "后续来信只能指向更早收到的来信" in result.stdout + result.stderr
    assert snapshot(case_repo.path) == before
    case_repo.new_letter(3, submitted_at="2026-01-06T09:00:00+08:00", follows_up=first)  # a real follow-up
    case_repo.run("validate")


def test_a_paper_letter_entered_late_counts_by_its_day_of_receipt(case_repo: Repo) -> None:
    """One intake batch, out of order: the web letter of 31 July gets the first code, the paper
    letter of 2 April the second. The later letter repeats the earlier one, whatever their codes:
    `reject` (and the intake's own similarity hint), `validate` and `check` agree."""
    base = case_repo.git("rev-parse", "HEAD").strip()
    made = case_repo.intake(submission(1, submitted_at="2026-07-31T09:00:00+08:00"),
                            submission(2, submitted_at="2026-04-02T09:00:00+08:00", channel="post"))
    july, april = made[0]["letter_code"], made[1]["letter_code"]
    assert (july, april) == (FIRST, SECOND)
    before = snapshot(case_repo.path)
    result = case_repo.run("reject", april, "--reason", "duplicate", "--of", july,
                           "--at", "2026-08-03T10:00:00+08:00", expect=1)
    assert f"--of 所写的信件 {july} 不比本信 {april} 收到得早" in result.stderr
    assert "按收信日期先后，同一天收到的按信件编码" in result.stderr
    assert snapshot(case_repo.path) == before
    case_repo.run("reject", july, "--reason", "duplicate", "--of", april, "--at", "2026-08-03T10:00:00+08:00")
    case_repo.run("validate")
    case_repo.run("check", "--base", base)
    # a follow-up of 1 April naming the paper letter of 2 April points forward: refused
    result = case_repo.run("intake", str(case_repo.write_submission(
        "later.json", submission(3, submitted_at="2026-04-01T09:00:00+08:00", follows_up=april))),
        expect=1)
    assert "后续来信只能指向更早收到的来信" in result.stdout + result.stderr
