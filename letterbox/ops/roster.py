"""The roster's changes (`letterbox roster add/remove`) and who signed each step of a letter
(`letterbox who CODE`).

A roster change is one commit of letterbox.yaml, signed by an office administrator (the first
entry of an empty roster is the administrator who sets it up, with the key they sign with).
Only the `roster:` block of the file is rewritten; the rest, comments included, stays as it is.
Removing a member keeps every commit they signed before: `check` verifies a commit against the
roster in force before it, so their past steps stay legal and their key signs nothing new.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from letterbox.core.config import CONFIG_FILE, parse_config
from letterbox.core.errors import LetterboxError
from letterbox.core.process import STEP_BY_ACTION
from letterbox.core.roster import ADMIN_ROLES, ROLE_LABELS, Member, fingerprint, normalise_key
from letterbox.store import signing
from letterbox.store.loader import decode
from letterbox.store.repository import Actor, Repository

_BLOCK_START = re.compile(r"^roster\s*:")


def _entry_line(member: dict[str, Any]) -> str:
    fields = ", ".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in member.items() if v)
    return f"  - {{{fields}}}"


def replace_roster_block(text: str, members: list[dict[str, Any]]) -> str:
    """`text` with its top-level `roster:` block replaced by `members` (appended when absent)."""
    lines = text.splitlines()
    block = ["roster:", *(_entry_line(m) for m in members)] if members else ["roster: []"]
    start = next((i for i, line in enumerate(lines) if _BLOCK_START.match(line)), None)
    if start is None:
        while lines and not lines[-1].strip():
            lines.pop()
        return "\n".join([*lines, "# 名册：可以办理的人员和他们的签名公钥（docs/roster.md）", *block]) + "\n"
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t-"):  # a top-level comment heads the next key
        end += 1
    while end > start + 1 and not lines[end - 1].strip():  # keep the blank lines after the block
        end -= 1
    return "\n".join([*lines[:start], *block, *lines[end:]]) + "\n"


def _as_entry(member: Member) -> dict[str, Any]:
    return {"name": member.name, "role": member.role, "unit": member.unit if member.role == "unit" else None,
            "leader": member.leader, "key": member.key}


def _change(repo: Repository, members: list[dict[str, Any]], message: str, actor: Actor) -> str:
    path = repo.root / CONFIG_FILE
    text = replace_roster_block(path.read_text("utf-8"), members)
    parse_config(text, CONFIG_FILE)  # a refused roster is said before anything is written
    with repo.transaction() as tx:
        tx.write(PurePosixPath(CONFIG_FILE), text)
        return tx.commit(message, actor)


def _admin(repo: Repository) -> Actor:
    member, _key = signing.acting_member(repo.git, repo.config.roster)
    if member.role not in ADMIN_ROLES:
        raise LetterboxError(f"名册只能由信箱办公室管理员修改；{member.name} 是{member.role_label}。")
    return Actor(member.name)


def add_member(repo: Repository, name: str, role: str, key_text: str, unit: str | None = None,
               leader: str | None = None) -> tuple[Member, str]:
    """Add one member; the commit's sha."""
    key = normalise_key(key_text)
    if role not in ROLE_LABELS:
        raise LetterboxError(f"角色应为 {'、'.join(ROLE_LABELS)} 之一，而不是 {role!r}。")
    roster = repo.config.roster
    if roster:
        actor = _admin(repo)
    else:  # setting the roster up: the first entry is the administrator doing it, with their key
        own = signing.configured_key(repo.git)
        if role not in ADMIN_ROLES or own is None or own.public != key:
            raise LetterboxError(
                "名册还是空的：第一位登记的应是信箱办公室管理员本人（--role office-admin），"
                "公钥就是本人签名用的密钥（先运行 letterbox key use 私钥文件）。")
        actor = Actor(name)
    entry = {"name": name.strip(), "role": role, "unit": unit, "leader": leader, "key": key}
    members = [_as_entry(m) for m in roster.members] + [entry]
    sha = _change(repo, members, f"Roster: add {fingerprint(key)} ({role})", actor)
    added = repo.__class__(repo.root).config.roster.by_key(key)
    assert added is not None
    return added, sha


def remove_member(repo: Repository, name: str) -> tuple[Member, str]:
    roster = repo.config.roster
    actor = _admin(repo)
    gone = next((m for m in roster.members if m.name == name.strip()), None)
    if gone is None:
        raise LetterboxError(f"名册中没有“{name.strip()}”。可用 letterbox who 查看名册。")
    left = [m for m in roster.members if m is not gone]
    if not any(m.role in ADMIN_ROLES for m in left):
        raise LetterboxError("名册中至少要保留一位信箱办公室管理员，否则名册再也不能修改。")
    sha = _change(repo, [_as_entry(m) for m in left], f"Roster: remove {gone.fingerprint} ({gone.role})", actor)
    return gone, sha


@dataclass(frozen=True)
class SignedStep:
    commit: str
    at: str
    steps: tuple[str, ...]  # the step labels the commit added
    actor: str  # the name the events give
    signed_by: str  # the signature's label


def signed_steps(repo: Repository, code: str) -> list[SignedStep]:
    """Each commit that changed the letter's file, oldest first, with its steps and signer."""
    path = str(repo.path_of(code))
    shas = repo.git.git.log("--reverse", "--format=%H", "--", path).split()
    out = []
    seen = 0
    for sha in shas:
        try:
            raw = (repo.git.commit(sha).tree / path).data_stream.read()
        except KeyError:
            continue
        data = _history_of(raw)
        added = data[seen:]
        seen = len(data)
        parent = repo.git.commit(sha).parents
        roster = signing.roster_at(repo.git, parent[0].hexsha) if parent else signing.roster_at(repo.git, sha)
        signature = signing.commit_signature(repo.git, sha, roster)
        label = signature.label if roster or signature.status != "unknown-key" else (
            f"签名密钥 {signature.key_fingerprint}（当时名册为空）")
        steps = tuple(STEP_BY_ACTION[str(e.get("action"))].label if str(e.get("action")) in STEP_BY_ACTION
                      else str(e.get("action")) for e in added)
        out.append(SignedStep(sha, str(added[-1].get("at", "")) if added else "", steps,
                              "、".join(sorted({str(e.get("actor", "")) for e in added})), label))
    return out


def _history_of(raw: bytes) -> list[dict[str, Any]]:
    result = decode(raw, PurePosixPath("x.yaml"), lines=False)
    history = getattr(result, "history", None)
    return [e for e in history if isinstance(e, dict)] if isinstance(history, list) else []
