"""Issue 16's acceptance test: a clone of a sealed repository with 30 letters holds no writer
datum and no sentence of any letter, in any blob of any commit, in any spelling the redaction
tests use; a unit member's key reads exactly its unit's letters and the office key reads all.

The letters' bodies are the redaction evaluation sets' texts (tuning, held-out and blind), which
write the writer's own phone, name, e-mail and address with other separators, full-width
digits, traditional characters and so on; every blob is compared in the redaction's comparison
form (`squash`), against every needle the leak scan uses for each writer (`redact.needles`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from letterbox.core import sealing
from letterbox.privacy.redact import Writer, needles, squash
from tests.conftest import Repo, make_case_repo, submission
from tests.e2e.test_sealing_write import Sealed, keys  # noqa: F401  (the module's key fixture)

DATA = Path(__file__).resolve().parents[1] / "data"
SETS = ("redaction_set.jsonl", "redaction_heldout.jsonl", "redaction_blind.jsonl")


def writers_and_texts(count: int) -> list[tuple[dict[str, str], str]]:
    """`count` (writer, text) pairs from the redaction sets (a writer may come back with another
    text), the texts that spell the writer's own data first."""
    seen: dict[str, tuple[dict[str, str], str]] = {}
    for name in SETS:
        for line in (DATA / name).read_text("utf-8").splitlines():
            item = json.loads(line)
            writer = item.get("writer") or {}
            own = any(span.get("group") == "writer" for span in item.get("spans") or ())
            if writer.get("name") and writer.get("phone") and own and item["text"] not in seen:
                seen[item["text"]] = (writer, item["text"])
    chosen = list(seen.values())[:count]
    assert len(chosen) == count, f"the redaction sets have only {len(chosen)} such texts"
    return chosen


def all_blobs(clone: Path) -> list[bytes]:
    """Every blob of every commit (git rev-list --all --objects, then git cat-file)."""
    listed = subprocess.run(["git", "rev-list", "--all", "--objects"], cwd=clone, capture_output=True,
                            text=True, check=True).stdout.split("\n")
    shas = [line.split(" ", 1)[0] for line in listed if line.strip()]
    batch = subprocess.run(["git", "cat-file", "--batch"], cwd=clone, input="\n".join(shas).encode() + b"\n",
                           capture_output=True, check=True).stdout
    blobs, pos = [], 0
    while pos < len(batch):
        header_end = batch.index(b"\n", pos)
        _sha, kind, size = batch[pos:header_end].split()
        body = batch[header_end + 1: header_end + 1 + int(size)]
        pos = header_end + 1 + int(size) + 1
        if kind == b"blob":
            blobs.append(body)
    return blobs


@pytest.fixture
def sealed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: dict[str, Path]) -> Sealed:  # noqa: F811
    return Sealed(make_case_repo(tmp_path, monkeypatch), keys, monkeypatch, tmp_path)


def test_a_clone_of_thirty_sealed_letters_holds_no_writer_datum(sealed: Sealed, tmp_path: Path) -> None:
    repo: Repo = sealed.repo
    pairs = writers_and_texts(30)
    codes, units = [], {}
    for n, (writer, text) in enumerate(pairs, start=1):
        body = f"{text}（第 {n} 封来信，请核实处理。）"
        sub = submission(n, **{k: writer.get(k) or submission(n)[k] for k in ("name", "phone", "email", "address")},
                         title=f"关于第 {n} 件事的反映", body=body)
        code = sealed.take_in(n, **{k: v for k, v in sub.items() if k != "submitted_at"})
        codes.append(code)
        repo.run("classify", code, "--category", "complaint")
        unit = "zzl" if n % 2 else "wsj"
        repo.run("transfer", code, "--unit", unit)
        units[code] = unit
        if n % 3 == 0:  # some are answered, approved and published
            sealed.as_(unit, lambda code=code, unit=unit: repo.run(
                "answer", code, "--text", "经核实，已安排处理。", "--head", "负责人"))
            repo.run("approve", code)
            repo.run("publish", code)

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo.path), str(clone)], check=True)
    blobs = [squash(b.decode("utf-8", errors="replace")) for b in all_blobs(clone)]
    assert len(blobs) > 30 * 4  # every version of every case file is there
    haystack = "\n".join(blobs)
    found = []
    for n, (writer, text) in enumerate(pairs, start=1):
        data = {k: writer.get(k) or submission(n)[k] for k in ("name", "phone", "email", "address")}
        wanted = set(needles(Writer.from_data(data)))
        wanted |= {squash(s) for s in text.replace("！", "。").replace("，", "。").split("。") if len(s) >= 6}
        wanted.add(squash(f"关于第 {n} 件事的反映"))
        found += [(n, needle) for needle in sorted(wanted) if needle and needle in haystack]
        # the control: the same search finds the writer's data in the letter as it was sent
        assert any(needle in squash(text) for needle in needles(Writer.from_data(data))), n
    assert found == []

    # who reads what, at HEAD
    for who, expected in (("zzl", {c for c in codes if units[c] == "zzl"}),
                          ("wsj", {c for c in codes if units[c] == "wsj"}),
                          ("office", set(codes)), ("leader", set()), ("intake", set())):
        opened = set()
        for code in codes:
            try:
                sealing.unseal(sealed.block(code), code, sealed.keyring(who))
            except sealing.SealError:
                continue
            opened.add(code)
        assert opened == expected, who
    # and without the period key nobody reads anything
    assert not any(_opens(sealed, code, "office", period=False) for code in codes)


def _opens(sealed: Sealed, code: str, who: str, period: bool) -> bool:
    try:
        sealing.unseal(sealed.block(code), code, sealed.keyring(who, period=period))
    except sealing.SealError:
        return False
    return True
