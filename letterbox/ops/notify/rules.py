"""`notify:` in letterbox.yaml: which step notifies whom through which channel.

    notify:
      lookup_url: https://xinxiang.example.gov.cn/lookup/   # the writer's lookup link
      rules:
        - {step: transfer, to: unit, via: email}
        - {step: remind, to: unit, via: dingtalk}
        - {step: answer, to: writer, via: [sms, email]}
        - {step: flag-risk, to: office, via: wecom}
        - {step: escalate, to: leader, via: email}

`to` is one of writer, unit (every unit the step concerns), office, leader (the leader the step
names). A repository without `notify:` writes no outbox file: every step commits as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from letterbox.core.config import CONFIG_FILE, Config
from letterbox.core.errors import LetterboxError
from letterbox.core.process import STEP_BY_ACTION

AUDIENCES = ("writer", "unit", "office", "leader")
CHANNELS = ("email", "sms", "dingtalk", "wecom")
AUDIENCE_LABELS = {"writer": "来信人", "unit": "承办单位", "office": "信箱办公室", "leader": "区政府领导"}


@dataclass(frozen=True)
class Rule:
    on: str
    to: str
    via: tuple[str, ...]


@dataclass(frozen=True)
class Bursts:
    """Burst alerts (article 15(2)): each round of the worker looks at the recent letters and
    tells the office of a burst the early warning finds, once per burst, through `via`."""
    via: tuple[str, ...]


@dataclass(frozen=True)
class Digest:
    """The daily digest (`letterbox notify --digest`, a daily timer): to each unit its open
    letters overdue or due within `within` working days, to the office all of them."""
    to: tuple[str, ...]
    via: tuple[str, ...]
    within: int


@dataclass(frozen=True)
class NotifySettings:
    rules: tuple[Rule, ...]
    lookup_url: str | None
    digest: Digest | None = None
    bursts: Bursts | None = None

    def rules_for(self, action: str) -> list[Rule]:
        return [r for r in self.rules if r.on == action]


def settings(config: Config) -> NotifySettings | None:
    """The `notify:` section parsed; None when there is none (nothing is ever written)."""
    data = config.raw.get("notify")
    if not data:
        return None
    where = f"配置文件 {CONFIG_FILE} 的 notify"
    if not isinstance(data, dict):
        raise LetterboxError(f"{where} 应为映射（rules、lookup_url）。")
    unknown = sorted(map(str, set(data) - {"rules", "lookup_url", "digest", "bursts"}))
    if unknown:
        raise LetterboxError(f"{where} 中有不认识的设置：{'、'.join(unknown)}（可用 rules、lookup_url、digest、bursts）。")
    rules = []
    for i, item in enumerate(data.get("rules") or []):
        at = f"{where}.rules 第 {i + 1} 项"
        if not isinstance(item, dict):
            raise LetterboxError(f"{at} 应为映射，如 {{step: transfer, to: unit, via: email}}。")
        on, to, via = item.get("step"), item.get("to"), item.get("via")
        if on not in STEP_BY_ACTION:
            raise LetterboxError(f"{at}：step 应为一个办理步骤（如 transfer、remind、answer、flag-risk），而不是 {on!r}。")
        if to not in AUDIENCES:
            raise LetterboxError(f"{at}：to 应为 {'、'.join(AUDIENCES)} 之一，而不是 {to!r}。")
        channels = (via,) if isinstance(via, str) else tuple(via or ())
        bad = [c for c in channels if c not in CHANNELS]
        if not channels or bad:
            raise LetterboxError(f"{at}：via 应为 {'、'.join(CHANNELS)} 中的一个或几个，而不是 {via!r}。")
        if to == "writer" and set(channels) & {"dingtalk", "wecom"}:
            raise LetterboxError(f"{at}：来信人只能用 email 或 sms 通知（钉钉、企业微信群是单位的工作群）。")
        rules.append(Rule(str(on), str(to), channels))
    url = data.get("lookup_url") or (f"{config.site_url.rstrip('/')}/lookup/" if config.site_url else None)
    return NotifySettings(tuple(rules), url, _digest(data.get("digest"), f"{where}.digest"),
                          _bursts(data.get("bursts"), f"{where}.bursts"))


def _bursts(data: Any, at: str) -> Bursts | None:
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) - {"via"}:
        raise LetterboxError(f"{at} 应为映射，只有 via 一项，如 {{via: wecom}}。")
    via = (data.get("via"),) if isinstance(data.get("via"), str) else tuple(data.get("via") or ())
    if not via or any(v not in ("email", "dingtalk", "wecom") for v in via):
        raise LetterboxError(f"{at}：via 应为 email、dingtalk、wecom 中的一个或几个，而不是 {data.get('via')!r}。")
    return Bursts(tuple(map(str, via)))


def _digest(data: Any, at: str) -> Digest | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise LetterboxError(f"{at} 应为映射，如 {{to: [unit, office], via: email, within: 1}}。")
    to = (data.get("to"),) if isinstance(data.get("to"), str) else tuple(data.get("to") or ("unit", "office"))
    via = (data.get("via"),) if isinstance(data.get("via"), str) else tuple(data.get("via") or ())
    within = data.get("within", 1)
    if not to or any(t not in ("unit", "office") for t in to):
        raise LetterboxError(f"{at}：to 应为 unit、office 中的一个或两个，而不是 {data.get('to')!r}。")
    if not via or any(v not in ("email", "dingtalk", "wecom") for v in via):
        raise LetterboxError(f"{at}：via 应为 email、dingtalk、wecom 中的一个或几个，而不是 {data.get('via')!r}。")
    if isinstance(within, bool) or not isinstance(within, int) or not 0 <= within <= 20:
        raise LetterboxError(f"{at}：within 应为 0 到 20 的整数（还剩几个工作日到期时提醒），而不是 {within!r}。")
    return Digest(tuple(map(str, to)), tuple(map(str, via)), within)


def recipients(config: Config, rule: Rule, event: dict[str, Any], units: list[str]) -> list[str | None]:
    """The references a rule's audience stands for at this event: unit codes, the leader's code,
    the office's code, or None for the writer (read from the letter's writer block at send time)."""
    details = event.get("details") or {}
    if rule.to == "writer":
        return [None]
    if rule.to == "office":
        return [config.office_code]
    if rule.to == "leader":
        leader = details.get("leader")
        return [str(leader)] if leader else []
    named = list(details.get("units") or ([details["unit"]] if details.get("unit") else []))
    named += list(details.get("coordinating") or [])
    return [str(u) for u in dict.fromkeys(named or units)]


# What a credential looks like, wherever it was put in letterbox.yaml: a robot's webhook with its
# token or key, a DingTalk signing secret, a Tencent Cloud SecretId, an Alibaba Cloud AccessKey ID,
# an SMTP URL with a password. The worker's credentials belong in a file outside the repository.
SECRET_PATTERNS = (
    re.compile(r"access_token=[0-9A-Za-z]{8,}"),
    re.compile(r"/webhook/send\?key=[0-9A-Za-z-]{8,}"),
    re.compile(r"\bSEC[0-9a-f]{32,}\b"),
    re.compile(r"\bAKID[0-9A-Za-z]{16,}\b"),
    re.compile(r"\bLTAI[0-9A-Za-z]{12,}\b"),
    re.compile(r"smtps?://[^\s/:@]+:[^\s/@]+@"),
)
SECRET_NAMES = re.compile(r"(password|passwd|secret|token|access_?key|webhook)", re.IGNORECASE)


def secret_problems(raw: Any, where: str = "") -> list[tuple[str, str]]:
    """(field path, what it looks like) for every value of letterbox.yaml that looks like a
    credential; the value itself is never repeated."""
    out: list[tuple[str, str]] = []
    if isinstance(raw, dict):
        for key, value in raw.items():
            path = f"{where}.{key}" if where else str(key)
            if SECRET_NAMES.search(str(key)) and isinstance(value, (str, int)) and str(value):
                out.append((path, "字段名表明这是密码、密钥或机器人地址"))
            else:
                out.extend(secret_problems(value, path))
    elif isinstance(raw, list):
        for i, value in enumerate(raw):
            out.extend(secret_problems(value, f"{where}[{i}]"))
    elif isinstance(raw, str) and any(p.search(raw) for p in SECRET_PATTERNS):
        out.append((where, "内容像机器人地址、签名密钥或访问密钥"))
    return out
