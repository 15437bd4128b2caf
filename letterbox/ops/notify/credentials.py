"""The worker's credentials file: where and how to send, outside the repository.

    # /etc/letterbox/notify.yaml   (chmod 600, owned by the worker's user)
    smtp:
      host: smtp.example.gov.cn
      port: 465
      security: ssl                # ssl | starttls | none
      user: xinxiang@example.gov.cn
      password_env: LETTERBOX_SMTP_PASSWORD      # or password: … (any secret: NAME or NAME_env)
      from: 龙安区区长信箱 <xinxiang@example.gov.cn>
    sms:                           # or provider: aliyun, with access_key_id(_env), access_key_secret(_env),
                                   # sign_name, template_code, params: {code: code, link: link} (var → value)
      provider: tencent            # Tencent Cloud SMS, through its official SDK
      secret_id_env: TENCENTCLOUD_SECRET_ID
      secret_key_env: TENCENTCLOUD_SECRET_KEY
      sdk_app_id: "1400000000"
      sign_name: 龙安区区长信箱
      template_id: "2000000"       # the approved template, e.g. 您的来信{1}有新进展：{2}。请凭信件编码和查询码在{3}查询。
      params: [code, event, link]  # the template's {1}, {2}, … (only these three exist)
      region: ap-guangzhou
    contacts:                      # staff: unit, office and leader codes of letterbox.yaml
      zjj: {email: [xinfang@zjj.example.gov.cn], dingtalk: {webhook: "https://oapi.dingtalk.com/robot/send?access_token=…", secret: SEC…}}
      xxzx: {email: [xxzx@example.gov.cn], wecom: {webhook: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"}}
      qz: {email: [leader-office@example.gov.cn]}
    retry: {max_attempts: 8, first_delay: 60, max_delay: 3600}   # seconds

Its path: `--credentials`, else the environment variable LETTERBOX_NOTIFY_CREDENTIALS, else
~/.config/letterbox/notify.yaml. A file inside the repository is refused (it would be committed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from letterbox.core.errors import LetterboxError

ENV = "LETTERBOX_NOTIFY_CREDENTIALS"
DEFAULT = Path("~/.config/letterbox/notify.yaml")
SECTIONS = ("smtp", "sms", "contacts", "retry")
SMS_PARAMS = ("code", "event", "link")


@dataclass(frozen=True)
class Retry:
    max_attempts: int = 8
    first_delay: float = 60.0
    max_delay: float = 3600.0

    def delay(self, attempt: int) -> float:
        """Seconds before attempt `attempt + 1`: doubling from first_delay, at most max_delay."""
        return float(min(self.max_delay, self.first_delay * 2 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class Credentials:
    path: Path | None
    smtp: dict[str, Any] | None = None
    sms: dict[str, Any] | None = None
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    retry: Retry = Retry()

    def where(self, what: str) -> str:
        return f"凭据文件 {self.path} 的 {what}" if self.path else f"凭据文件的 {what}"

    def secret(self, section: str, name: str) -> str | None:
        """section.name, or the environment variable section.name_env names."""
        data = getattr(self, section) or {}
        env = data.get(f"{name}_env")
        if env:
            value = os.environ.get(str(env))
            if not value:
                raise LetterboxError(f"{self.where(f'{section}.{name}_env')} 指定的环境变量 {env} 未设置。")
            return value
        value = data.get(name)
        return None if value is None else str(value)


def locate(given: Path | None) -> Path:
    if given is not None:
        return given
    env = os.environ.get(ENV)
    return Path(env) if env else DEFAULT.expanduser()


def load(given: Path | None, repo_root: Path) -> Credentials:
    """The credentials file read and checked; an absent file gives empty credentials (then only
    what needs none can be sent: nothing, so every notification waits with the reason)."""
    path = locate(given)
    try:
        resolved = path.resolve()
        resolved.relative_to(repo_root.resolve())
    except ValueError:
        pass
    else:
        raise LetterboxError(f"凭据文件 {path} 在案卷库之内：密码和密钥不得放进案卷库（会被提交、复制到每个副本）。"
                             f"请把它放在案卷库之外，如 /etc/letterbox/notify.yaml。")
    if not path.exists():
        if given is not None or os.environ.get(ENV):
            raise LetterboxError(f"找不到凭据文件 {path}。")
        return Credentials(None)
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise LetterboxError(f"无法读取凭据文件 {path}：{exc.__class__.__name__}。") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"第 {mark.line + 1} 行" if mark else ""
        raise LetterboxError(f"凭据文件 {path} {line}不是有效的 YAML。") from None
    if not isinstance(data, dict):
        raise LetterboxError(f"凭据文件 {path} 应为映射（{'、'.join(SECTIONS)}）。")
    unknown = sorted(map(str, set(data) - set(SECTIONS)))
    if unknown:
        raise LetterboxError(f"凭据文件 {path} 中有不认识的部分：{'、'.join(unknown)}（可用 {'、'.join(SECTIONS)}）。")
    for name in ("smtp", "sms", "contacts", "retry"):
        if data.get(name) is not None and not isinstance(data[name], dict):
            raise LetterboxError(f"凭据文件 {path} 的 {name} 应为映射。")
    contacts = {}
    for code, item in (data.get("contacts") or {}).items():
        if not isinstance(item, dict):
            raise LetterboxError(f"凭据文件 {path} 的 contacts.{code} 应为映射（email、dingtalk、wecom）。")
        bad = sorted(map(str, set(item) - {"email", "dingtalk", "wecom"}))
        if bad:
            raise LetterboxError(f"凭据文件 {path} 的 contacts.{code} 中有不认识的渠道：{'、'.join(bad)}。")
        contacts[str(code)] = item
    smtp = data.get("smtp")
    if smtp is not None:
        if smtp.get("security", "starttls") not in ("ssl", "starttls", "none"):
            raise LetterboxError(f"凭据文件 {path} 的 smtp.security 应为 ssl、starttls 或 none。")
        port = smtp.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
            raise LetterboxError(f"凭据文件 {path} 的 smtp.port 应为 1 到 65535 的整数。")
    sms = data.get("sms")
    if sms is not None:
        provider = sms.get("provider", "tencent")
        if provider not in ("tencent", "aliyun"):
            raise LetterboxError(f"凭据文件 {path} 的 sms.provider 应为 tencent（腾讯云短信）或 aliyun（阿里云短信）。")
        params = sms.get("params")
        if provider == "tencent" and params is not None and (
                not isinstance(params, list) or any(p not in SMS_PARAMS for p in params)):
            raise LetterboxError(f"凭据文件 {path} 的 sms.params 应为 {'、'.join(SMS_PARAMS)} 组成的列表（模板的 {{1}}、{{2}}……）。")
        if provider == "aliyun" and params is not None and (
                not isinstance(params, dict) or any(p not in SMS_PARAMS for p in params.values())):
            raise LetterboxError(f"凭据文件 {path} 的 sms.params 应为映射：模板变量名 → {'、'.join(SMS_PARAMS)} 之一。")
    retry_data = data.get("retry") or {}
    try:
        retry = Retry(int(retry_data.get("max_attempts", 8)), float(retry_data.get("first_delay", 60)),
                      float(retry_data.get("max_delay", 3600)))
    except (TypeError, ValueError):
        raise LetterboxError(f"凭据文件 {path} 的 retry 应为数字（max_attempts、first_delay、max_delay，秒）。") from None
    if retry.max_attempts < 1 or retry.first_delay < 0 or retry.max_delay < 0:
        raise LetterboxError(f"凭据文件 {path} 的 retry 应为正数。")
    return Credentials(path, data.get("smtp"), sms, contacts, retry)
