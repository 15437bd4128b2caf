"""Repository configuration (letterbox.yaml): district, office, units, leaders, deadline rules."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from letterbox.core import schemas, yamlio
from letterbox.core.deadlines import DeadlineRules
from letterbox.core.errors import LetterboxError, NotFound
from letterbox.core.roster import Roster, parse_roster

CONFIG_FILE = "letterbox.yaml"

UNIT_KINDS = ("镇/乡", "街道办事处", "工作部门", "分局", "直属机构")
CLOCK_SKEW = timedelta(minutes=10)  # how far ahead of this machine's clock a time may be
MAILBOX_SINCE = date(2015, 1, 1)  # `mailbox_since` when letterbox.yaml does not say


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    role: str | None = None


@dataclass(frozen=True)
class Leader:
    code: str
    title: str
    name: str | None = None

    @property
    def label(self) -> str:
        return f"{self.title}{self.name}" if self.name else self.title


@dataclass(frozen=True)
class PublicContact:
    """A public number or place (public_contacts): left in place by the redaction."""

    name: str
    phone: str | None = None
    place: str | None = None


@dataclass(frozen=True)
class Body:
    """letterbox.yaml `bodies`: a body the notices direct the writer to (name, address, phone)."""

    name: str
    address: str | None = None
    phone: str | None = None

    @property
    def contact(self) -> str:
        """地址：…，电话：… (empty when neither is configured)."""
        parts = [f"地址：{self.address}" if self.address else "", f"电话：{self.phone}" if self.phone else ""]
        return "，".join(p for p in parts if p)


@dataclass(frozen=True)
class Encryption:
    """letterbox.yaml `encryption`: sealed case files (core/sealing.py, docs/encryption.md)."""

    suite: str
    fields: tuple[str, ...]
    periods: dict[str, str]  # period ("2026") -> its age public key
    shredded: tuple[str, ...] = ()
    retention_years: int | None = None


@dataclass(frozen=True)
class Config:
    district: str
    government: str
    mailbox_name: str
    office_code: str
    office_name: str
    prefix: str
    time_zone: str
    iterations: int
    salt: str
    rules: DeadlineRules
    units: tuple[Unit, ...]
    leaders: tuple[Leader, ...]
    intake_url: str | None = None
    site_url: str | None = None
    burst_min_letters: int = 5
    burst_window_days: int = 7
    mailbox_since: date = MAILBOX_SINCE  # no letter or step is dated before this day
    public_contacts: tuple[PublicContact, ...] = ()
    roster: Roster = Roster()
    clock_skew: timedelta = CLOCK_SKEW  # how much later than its commit a step's time may be
    encryption: Encryption | None = None  # None: case files in clear
    bodies: dict[str, Body] = field(default_factory=dict, compare=False)  # `bodies`: discipline, review
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def public_words(self) -> tuple[str, ...]:
        """The public numbers and places of `public_contacts`, for the redaction's keep list."""
        return (tuple(v for c in self.public_contacts for v in (c.phone, c.place) if v)
                + tuple(v for b in self.bodies.values() for v in (b.phone, b.address) if v))

    @property
    def office_contact(self) -> str:
        """How the public reaches the office: its `public_contacts` entry (same name) as
        "电话 …，地址 …", or "" when letterbox.yaml lists none."""
        for c in self.public_contacts:
            if c.name == self.office_name:
                parts = [f"电话 {c.phone}" if c.phone else "", f"地址 {c.place}" if c.place else ""]
                return "，".join(p for p in parts if p)
        return ""

    def body(self, key: str) -> Body:
        """The body of `bodies` (discipline, review); without one, the unit with that role
        (discipline) or the government (review), without address or phone."""
        if key in self.bodies:
            return self.bodies[key]
        if key == "review":
            return Body(self.government)
        return Body(self.role_unit(key).name)

    def time_problem(self, moment: datetime, now: datetime | None = None) -> str | None:
        """What is wrong with ``moment`` as the time of a letter or a step, in plain Chinese
        (None: nothing): without a time zone, later than now (beyond CLOCK_SKEW), or before the
        mailbox existed (`mailbox_since`)."""
        if moment.tzinfo is None:
            return "没有时区（应如 2026-03-02T09:15:00+08:00）"
        now = now or datetime.now(UTC)
        if moment > now + CLOCK_SKEW:
            shown = now.astimezone(self.tz).isoformat(timespec="minutes")
            return f"晚于现在（{shown}），不能是将来的时间"
        try:
            day = moment.astimezone(self.tz).date()
        except OverflowError:
            day = moment.date()
        if day < self.mailbox_since:
            return (f"早于信箱开通日期 {self.mailbox_since.isoformat()}"
                    f"（{CONFIG_FILE} 的 mailbox_since）")
        return None

    def unit(self, key: str) -> Unit:
        """A unit by code or by its Chinese name."""
        for unit in self.units:
            if key in (unit.code, unit.name):
                return unit
        known = "、".join(u.code for u in self.units[:8])
        raise NotFound(f"没有代码或名称为“{key}”的承办单位。可用 `letterbox units` 查看名录（如 {known} 等）。")

    def unit_name(self, code: str) -> str:
        """The name of a unit, or of the office for the office code (an unknown code names itself)."""
        if code == self.office_code:
            return self.office_name
        return next((u.name for u in self.units if u.code == code), code)

    def role_unit(self, role: str) -> Unit:
        for unit in self.units:
            if unit.role == role:
                return unit
        raise LetterboxError(f"配置文件 {CONFIG_FILE} 的 units 中没有 role 为 {role} 的单位。")

    def leader(self, key: str) -> Leader:
        for leader in self.leaders:
            if key in (leader.code, leader.title, leader.label):
                return leader
        known = "、".join(f"{x.code}（{x.title}）" for x in self.leaders)
        raise NotFound(f"没有代码为“{key}”的区政府领导。可选：{known}。")


def default_config_text(salt: str | None = None) -> str:
    text = resources.files("letterbox").joinpath("data", "letterbox.default.yaml").read_text("utf-8")
    return text.replace("REPLACED_BY_INIT", salt or secrets.token_hex(16))


def parse_config(text: str, filename: str = CONFIG_FILE) -> Config:
    data, lines = yamlio.load(text, filename)
    problems = schemas.check(schemas.CONFIG_SCHEMA, data, filename, lines)
    if problems:
        raise LetterboxError(f"配置文件 {filename} 有误，请改正后重试。", problems)
    codes = [u["code"] for u in data["units"]]
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise LetterboxError(f"配置文件 {filename} 中承办单位代码重复：{'、'.join(dup)}。")
    since = str(data.get("mailbox_since") or MAILBOX_SINCE.isoformat())
    try:
        mailbox_since = date.fromisoformat(since)
    except ValueError:
        raise LetterboxError(f"配置文件 {filename} 的 mailbox_since 应为存在的日期，"
                             f"格式 YYYY-MM-DD（如 2015-01-01），而不是 {since!r}。") from None
    roster = _roster(data, filename)
    d = data["deadlines"]
    rules = DeadlineRules(**{k: v for k, v in d.items() if k != "clock_starts"})
    warn = data.get("early_warning") or {}
    return Config(
        district=data["district"],
        government=data.get("government") or f"{data['district']}人民政府",
        mailbox_name=data.get("mailbox_name") or "区长信箱",
        office_code=data["office"]["code"],
        office_name=data["office"]["name"],
        prefix=data["letter_code_prefix"],
        time_zone=data["time_zone"],
        iterations=data["query_code"]["iterations"],
        salt=data["query_code"]["salt"],
        rules=rules,
        units=tuple(Unit(u["code"], u["name"], u["kind"], u.get("role")) for u in data["units"]),
        leaders=tuple(Leader(x["code"], x["title"], x.get("name")) for x in data["leaders"]),
        intake_url=data.get("intake_url"),
        site_url=data.get("site_url"),
        burst_min_letters=warn.get("min_letters", 5),
        burst_window_days=warn.get("window_days", 7),
        mailbox_since=mailbox_since,
        public_contacts=tuple(PublicContact(str(c["name"]), c.get("phone"), c.get("place"))
                              for c in data.get("public_contacts") or ()),
        roster=roster,
        clock_skew=timedelta(minutes=data.get("clock_skew_minutes", CLOCK_SKEW.seconds // 60)),
        encryption=_encryption(data.get("encryption")),
        bodies={k: Body(str(b["name"]), b.get("address"), b.get("phone"))
                for k, b in (data.get("bodies") or {}).items()},
        raw=data,
    )


def _encryption(data: dict | None) -> Encryption | None:
    if not data:
        return None
    return Encryption(suite=data.get("suite", "age-chacha20poly1305-v1"),
                      fields=tuple(data.get("fields") or ("writer", "title", "body")),
                      periods={str(k): str(v) for k, v in (data.get("periods") or {}).items()},
                      shredded=tuple(str(x) for x in data.get("shredded") or ()),
                      retention_years=data.get("retention_years"))


def _roster(data: dict, filename: str) -> Roster:
    """The roster, its units and leaders checked against the configuration; no key or name twice."""
    petition = next((u["code"] for u in data["units"] if u.get("role") == "petition"), None)
    roster = parse_roster(data.get("roster"), petition)
    units = {u["code"] for u in data["units"]}
    leaders = {x["code"] for x in data["leaders"]}
    for index, member in enumerate(roster.members):
        where = f"配置文件 {filename} 的 roster 第 {index + 1} 项（{member.name}）"
        if member.role in ("unit", "petition") and member.unit not in units:
            raise LetterboxError(f"{where}：单位代码“{member.unit}”不在 units 中。")
        if member.role == "leader" and member.leader not in leaders:
            raise LetterboxError(f"{where}：领导代码“{member.leader}”不在 leaders 中。")
        for other in roster.members[:index]:
            if other.key == member.key:
                raise LetterboxError(f"{where}：签名公钥与“{other.name}”的相同；每人一把密钥。")
            if other.name == member.name:
                raise LetterboxError(f"{where}：姓名与前面一项相同；名册中的姓名不能重复。")
    return roster


def load_config(root: Path) -> Config:
    path = root / CONFIG_FILE
    if not path.exists():
        raise LetterboxError(
            f"{root} 不是 letterbox 案卷库：找不到配置文件 {CONFIG_FILE}。"
            "请用 `letterbox init 目录` 新建案卷库，或用 --repo 指定案卷库。"
        )
    return parse_config(path.read_text(encoding="utf-8"), CONFIG_FILE)
