"""The roster (letterbox.yaml `roster`): who may take which step, and the key each one signs with.

A member has a name (written into the history as the event's actor), a role and a public SSH
ed25519 key. Which roles may take a step comes from the step table's `by` column
(`process.Step.by`) through `STEP_ROLES`; unit members act only for their own unit. An empty
roster means the repository does not use signatures yet (commands and `check` say so).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ROLE_LABELS: dict[str, str] = {
    "office-admin": "信箱办公室管理员",
    "office": "信箱办公室",
    "unit": "承办单位",
    "leader": "区政府领导",
    "petition": "区信访局",
    "intake": "网上收信服务",
}

# step table's `by` column -> the roster roles that may take such a step
STEP_ROLES: dict[str, frozenset[str]] = {
    "office": frozenset({"office", "office-admin"}),
    "unit": frozenset({"unit", "petition"}),
    "leader": frozenset({"leader"}),
    "writer": frozenset({"intake"}),  # a writer's rating arrives through the intake service
}
# who may register a letter (the receive step): the intake service and the office (paper, phone)
RECEIVE_ROLES = frozenset({"intake", "office", "office-admin"})
# who may enter a paper record dated earlier than the commit (`--at` in the past)
PAPER_ROLES = frozenset({"office", "office-admin"})
# who may change the configuration, the roster, the calendar, the schemas and the CI files
ADMIN_ROLES = frozenset({"office-admin"})


@dataclass(frozen=True)
class Member:
    name: str
    role: str
    key: str  # "ssh-ed25519 <base64>", without the comment
    unit: str | None = None  # the unit code a unit member (or the petition bureau) acts for
    leader: str | None = None  # the leader code of a district leader

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)

    def may_take(self, action: str, by: str) -> bool:
        """May this member take step `action`, whose table role is `by`?"""
        if action == "receive":
            return self.role in RECEIVE_ROLES
        return self.role in STEP_ROLES.get(by, frozenset())


@dataclass(frozen=True)
class Roster:
    members: tuple[Member, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.members)

    def by_key(self, key: str) -> Member | None:
        wanted = normalise_key(key)
        return next((m for m in self.members if m.key == wanted), None)

    def keys(self) -> list[str]:
        return [m.key for m in self.members]


def normalise_key(line: str) -> str:
    """The algorithm and base64 blob of an OpenSSH public key line (comment dropped)."""
    parts = line.strip().split()
    return " ".join(parts[:2])


def fingerprint(key: str) -> str:
    """OpenSSH's SHA256 fingerprint (as `ssh-keygen -l` prints it)."""
    parts = key.split()
    try:
        blob = base64.b64decode(parts[1], validate=True) if len(parts) > 1 else b""
    except ValueError:
        blob = b""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def parse_roster(items: Iterable[Mapping[str, Any]] | None, petition_unit: str | None) -> Roster:
    """Roster entries of a schema-checked letterbox.yaml; the petition bureau acts for the unit
    whose role is `petition`."""
    members = []
    for item in items or ():
        role = str(item["role"])
        unit = item.get("unit")
        if role == "petition" and not unit:
            unit = petition_unit
        members.append(Member(name=str(item["name"]), role=role, key=normalise_key(str(item["key"])),
                              unit=str(unit) if unit else None,
                              leader=str(item["leader"]) if item.get("leader") else None))
    return Roster(tuple(members))
