"""Letters held back from the board: one letter's problem never takes the board down.

Every stage of the build (select, redact, scan) may hold back a letter it cannot publish
safely: a history that does not replay, a date that makes no sense, a public version that
still holds its own writer's data. The rest of the board is published; `build_site` returns
the held letters and `letterbox build` prints them and exits non-zero.

A reason never quotes the letter's text or its writer's data: it names the code, the stage,
the field or file, and what staff can do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from letterbox.core.facts import broken_reason

STAGES: dict[str, str] = {
    "select": "选取",
    "redact": "脱敏",
    "scan": "发布前检查",
    "open": "解密",
}


@dataclass(frozen=True)
class Held:
    """A letter left off the board by one stage of the build, why, and what staff can do."""

    code: str
    stage: str  # select, redact, scan
    reason: str  # plain Chinese, no writer data
    actions: tuple[str, ...]

    @property
    def stage_label(self) -> str:
        return STAGES.get(self.stage, self.stage)

    def to_json(self) -> dict[str, Any]:
        return {"letter_code": self.code, "stage": self.stage, "stage_label": self.stage_label,
                "reason": self.reason, "actions": list(self.actions)}


def privacy_actions(code: str) -> tuple[str, ...]:
    return (f"letterbox preview {code}  # 核对公开版本，看哪里仍有来信人信息",
            "把漏掉的字词加入该案卷的 redaction.mask，提交后重新生成网站",
            f"letterbox withhold {code} --reason privacy  # 或决定不公开")


def record_actions(code: str) -> tuple[str, ...]:
    return ("letterbox validate  # 查看并改正案卷中的错误（日期、办理记录）",
            f"letterbox show {code}",
            f"letterbox withhold {code} --reason privacy  # 或决定不公开（办理记录能回放时）")


def broken(code: str, exc: BaseException) -> Held:
    """A letter whose history does not replay or whose dates cannot be computed."""
    return Held(code, "select", f"办理记录无法处理：{broken_reason(exc)}", record_actions(code))


def bad_date(code: str, problem: str) -> Held:
    return Held(code, "select", f"日期不合理：{problem}", record_actions(code))


def unsafe(code: str, count: int = 0) -> Held:
    where = f"（{count} 处）" if count else ""
    return Held(code, "redact", f"脱敏后的公开版本仍含本信来信人的个人信息{where}", privacy_actions(code))


def failed(code: str, stage: str, error: str) -> Held:
    """Any other error of one letter in a stage (the error's type only: a message may quote
    the letter's text)."""
    return Held(code, stage, f"处理时出错（{error}）", record_actions(code))


def sealed(code: str, reason: str, shredded: bool = False) -> Held:
    """A public letter stored encrypted that the build's keys do not open (its period shredded,
    the key not among its readers, the period's key not here)."""
    if shredded:
        actions: tuple[str, ...] = (f"letterbox withhold {code} --reason privacy  # 保存期已销毁，此信无法再公开",)
    else:
        actions = ("用信箱办公室人员的密钥生成网站（LETTERBOX_IDENTITY 或 letterbox key use）",
                   "把该信保存期的密钥（<年份>.key）放入 LETTERBOX_PERIOD_KEYS 所指目录",
                   f"letterbox withhold {code} --reason privacy  # 或决定不公开")
    return Held(code, "open", f"加密保存，无法解密：{reason}", actions)


def leaked(code: str, files: list[str], shared: bool) -> Held:
    where = "、".join(files[:3]) + (f" 等 {len(files)} 个文件" if len(files) > 3 else "")
    what = ("公共页面（列表、首页、搜索索引、requests.json 等）中出现本信来信人的个人信息，"
            "且不是其他公开来信原文中的字词" if shared else
            "本信的页面或搜索记录中出现本信来信人的个人信息（或任何来信人的电话、邮箱）")
    return Held(code, "scan", f"{what}（{where}）", privacy_actions(code))
