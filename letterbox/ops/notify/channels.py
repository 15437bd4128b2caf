"""The channels: e-mail over SMTP (the standard library), SMS through Tencent Cloud's official
SDK (TC3-HMAC-SHA256 signed requests) or Alibaba Cloud's documented RPC request (HMAC-SHA1), and the DingTalk custom robot and WeCom group robot
webhooks over HTTPS (httpx, each as its provider documents: DingTalk's `timestamp` and `sign` =
Base64(HMAC-SHA256(secret, "timestamp\\nsecret")), WeCom's `key` in the webhook URL).

`apprise` would cover the robots too, but it builds the providers' public host names itself;
offices on 政务钉钉 / 政务微信 or a private deployment give a whole webhook URL, which is what the
credentials file holds, so the two small documented requests are sent directly.

Each `send` returns the provider's message id, or raises:
    Retry      not delivered, safe to try again later (connection refused, 4xx of SMTP, rate limit)
    Failed     not delivered and trying again will not help (refused address, bad signature)
    InDoubt    the request left and its answer did not come back: it may have been delivered
    NotConfigured  the credentials file lacks what the channel needs (nothing attempted)
Reasons name the channel and the provider's code, never the recipient's address or the text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import smtplib
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

import httpx

from letterbox.ops.notify.credentials import SMS_PARAMS, Credentials


class Outcome(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Retry(Outcome):
    pass


class Failed(Outcome):
    pass


class InDoubt(Outcome):
    pass


class NotConfigured(Outcome):
    """The credentials file lacks what this channel needs: nothing was attempted."""


@dataclass(frozen=True)
class Message:
    key: str  # the outbox key: the idempotency key given to each provider that takes one
    subject: str
    text: str
    sms_values: tuple[tuple[str, str], ...] = ()  # (code|event|link, value): what an SMS may carry

    def sms(self, name: str) -> str:
        return dict(self.sms_values)[name]


TIMEOUT = 30.0


def scrub(text: str, *secrets: str) -> str:
    """A provider's message for the record: the recipient and secrets removed, e-mail addresses
    and long digit runs (phones) masked, one line, at most 200 characters."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = re.sub(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", "<地址>", text)
    text = re.sub(r"\+?\d{7,}", "<号码>", text)
    return " ".join(text.split())[:200]


# -- e-mail ------------------------------------------------------------------------------------


def message_id(key: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "letterbox.invalid"
    return f"<{key}@{domain}>"


def send_email(creds: Credentials, to: list[str], message: Message) -> str:
    smtp = creds.smtp
    if not smtp or not smtp.get("host") or not smtp.get("from"):
        raise NotConfigured(f"{creds.where('smtp')} 未设置（需要 host、from）")
    sender = str(smtp["from"])
    mail = EmailMessage()
    name, addr = parseaddr(sender)
    mail["From"] = Address(display_name=name, addr_spec=addr) if name else addr
    mail["To"] = ", ".join(to)
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = message_id(message.key, sender)
    mail["X-Letterbox-Key"] = message.key
    mail.set_content(message.text)
    security = str(smtp.get("security", "starttls"))
    port = int(smtp.get("port") or (465 if security == "ssl" else 587 if security == "starttls" else 25))
    host = str(smtp["host"])
    password = creds.secret("smtp", "password")
    handed_over = False
    try:
        client: smtplib.SMTP
        if security == "ssl":
            client = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=TIMEOUT)
        with client:
            if security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.get("user") and password:
                client.login(str(smtp["user"]), password)
            handed_over = True  # from here the server may have taken the message
            refused = client.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        raise (Retry if all(400 <= c < 500 for c in codes) else Failed)(
            f"SMTP 服务器拒收收件人（{'/'.join(map(str, codes))}）") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise Failed(f"SMTP 登录失败（{exc.smtp_code}）：检查凭据文件的 smtp.user 和密码") from None
    except smtplib.SMTPResponseException as exc:
        kind = Retry if 400 <= exc.smtp_code < 500 else Failed
        raise kind(f"SMTP 服务器拒绝（{exc.smtp_code} {scrub(_text(exc.smtp_error), *to)}）") from None
    except (smtplib.SMTPServerDisconnected, TimeoutError) as exc:
        if handed_over:
            raise InDoubt(f"SMTP 连接在发送时中断（{exc.__class__.__name__}）") from None
        raise Retry(f"SMTP 连接中断（{exc.__class__.__name__}）") from None
    except (OSError, smtplib.SMTPException) as exc:
        if handed_over and not isinstance(exc, ConnectionRefusedError):
            raise InDoubt(f"SMTP 发送时出错（{exc.__class__.__name__}）") from None
        raise Retry(f"无法连接 SMTP 服务器 {host}:{port}（{exc.__class__.__name__}）") from None
    if refused:
        raise Failed(f"SMTP 服务器拒收 {len(refused)} 个收件人")
    return mail["Message-ID"]


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


# -- SMS: Tencent Cloud ----------------------------------------------------------------------


def send_sms(creds: Credentials, phone: str, message: Message) -> str:
    """The SMS through the provider of `sms.provider` (tencent, the default, or aliyun)."""
    if (creds.sms or {}).get("provider") == "aliyun":
        return send_aliyun_sms(creds, phone, message)
    return send_tencent_sms(creds, phone, message)


def send_tencent_sms(creds: Credentials, phone: str, message: Message) -> str:
    """SendSms (API 2021-01-11) through the official SDK; SessionContext = the outbox key."""
    from tencentcloud.common import credential
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.sms.v20210111 import models, sms_client

    sms = creds.sms
    if not sms:
        raise NotConfigured(f"{creds.where('sms')} 未设置")
    missing = [k for k in ("sdk_app_id", "sign_name", "template_id") if not sms.get(k)]
    secret_id, secret_key = creds.secret("sms", "secret_id"), creds.secret("sms", "secret_key")
    if missing or not secret_id or not secret_key:
        raise NotConfigured(f"{creds.where('sms')} 不完整（需要 secret_id、secret_key、sdk_app_id、sign_name、template_id）")
    http = HttpProfile(protocol=str(sms.get("scheme", "https")), endpoint=str(sms.get("endpoint", "sms.tencentcloudapi.com")),
                       reqTimeout=int(TIMEOUT))
    client = sms_client.SmsClient(credential.Credential(secret_id, secret_key), str(sms.get("region", "ap-guangzhou")),
                                  ClientProfile(httpProfile=http))
    request = models.SendSmsRequest()
    request.PhoneNumberSet = [phone]
    request.SmsSdkAppId = str(sms["sdk_app_id"])
    request.SignName = str(sms["sign_name"])
    request.TemplateId = str(sms["template_id"])
    request.TemplateParamSet = [message.sms(p) for p in sms.get("params") or SMS_PARAMS]
    request.SessionContext = message.key
    try:
        response = client.SendSms(request)
    except TencentCloudSDKException as exc:
        code = str(exc.get_code() or "")
        if code == "ClientNetworkError":
            text = str(exc.get_message() or "")
            if "timed out" in text.lower() or "read" in text.lower():
                raise InDoubt("短信接口请求已发出但未收到应答（超时）") from None
            raise Retry("无法连接短信接口（网络错误）") from None
        if code.startswith(("RequestLimitExceeded", "InternalError", "LimitExceeded")):
            raise Retry(f"腾讯云短信暂时不可用（{code}）") from None
        raise Failed(f"腾讯云短信拒绝（{code}）") from None
    statuses = response.SendStatusSet or []
    if not statuses:
        raise InDoubt("腾讯云短信应答中没有发送状态")
    status = statuses[0]
    if status.Code != "Ok":
        kind = Retry if str(status.Code).startswith("LimitExceeded") else Failed
        raise kind(f"腾讯云短信未发送（{status.Code}）")
    return str(status.SerialNo or response.RequestId)


# -- SMS: Alibaba Cloud -------------------------------------------------------------------------
# The official Python SDK (alibabacloud-dysmsapi20170525) pulls in aiohttp, APScheduler and a
# dozen more packages for one signed request; the request is sent as Alibaba Cloud documents
# its RPC API (SendSms 2017-05-25, signature version 1.0, HMAC-SHA1), which its SDKs also send.


def aliyun_encode(value: str) -> str:
    """Alibaba Cloud's percent-encoding: RFC 3986 unreserved characters kept, UTF-8, %20 for space."""
    return urllib.parse.quote(value, safe="-_.~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    canonical = "&".join(f"{aliyun_encode(k)}={aliyun_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{aliyun_encode('/')}&{aliyun_encode(canonical)}"
    return base64.b64encode(hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


# Alibaba Cloud SMS codes worth trying again later: flow control, the provider's own trouble.
ALIYUN_RETRY = ("isv.BUSINESS_LIMIT_CONTROL", "Throttling", "isp.SYSTEM_ERROR", "isp.RAM_PERMISSION_DENY_TEMP",
                "ServiceUnavailable", "InternalError")


def send_aliyun_sms(creds: Credentials, phone: str, message: Message) -> str:
    """SendSms: PhoneNumbers, SignName, TemplateCode, TemplateParam (a JSON object of the
    template's variables), OutId = the outbox key; signed with the AccessKey secret."""
    import json
    import uuid
    from datetime import UTC, datetime

    sms = creds.sms or {}
    key_id, secret = creds.secret("sms", "access_key_id"), creds.secret("sms", "access_key_secret")
    if not key_id or not secret or not sms.get("sign_name") or not sms.get("template_code"):
        raise NotConfigured(f"{creds.where('sms')} 不完整（阿里云需要 access_key_id、access_key_secret、sign_name、template_code）")
    names = sms.get("params") or {p: p for p in SMS_PARAMS}
    number = phone[3:] if phone.startswith("+86") else "00" + phone.lstrip("+")
    params = {
        "Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "RegionId": str(sms.get("region", "cn-hangzhou")),
        "AccessKeyId": key_id, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex, "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "PhoneNumbers": number, "SignName": str(sms["sign_name"]), "TemplateCode": str(sms["template_code"]),
        "TemplateParam": json.dumps({str(var): message.sms(str(what)) for var, what in names.items()},
                                    ensure_ascii=False, separators=(",", ":")),
        "OutId": message.key,
    }
    params["Signature"] = aliyun_signature(params, secret)
    url = str(sms.get("endpoint") or "https://dysmsapi.aliyuncs.com/")
    data = _post_form(url, params, "阿里云短信接口")
    code = str(data.get("Code") or "")
    if code == "OK":
        return str(data.get("BizId") or data.get("RequestId") or message.key)
    if code.startswith(ALIYUN_RETRY):
        raise Retry(f"阿里云短信暂时不可用（{code}）")
    if not code:
        raise InDoubt("阿里云短信应答中没有 Code")
    raise Failed(f"阿里云短信拒绝（{code}）")


# -- IM robots ---------------------------------------------------------------------------------


def dingtalk_url(webhook: str, secret: str | None, now_ms: int | None = None) -> str:
    """The webhook with `timestamp` and `sign` added (DingTalk custom robot, 加签)."""
    if not secret:
        return webhook
    stamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest).decode())
    return f"{webhook}{'&' if '?' in webhook else '?'}timestamp={stamp}&sign={sign}"


def _robot(creds: Credentials, channel: str, ref: str) -> dict[str, Any]:
    entry = (creds.contacts.get(ref) or {}).get(channel)
    if not isinstance(entry, dict) or not entry.get("webhook"):
        raise NotConfigured(f"{creds.where(f'contacts.{ref}.{channel}.webhook')} 未设置")
    return entry


def _post(url: str, body: dict[str, Any], name: str, secrets: tuple[str, ...]) -> dict[str, Any]:
    """POST a JSON body (the robots): anything but HTTP 200 is refused."""
    return _request(name, strict=True, url=url, json=body)


def _post_form(url: str, form: dict[str, str], name: str) -> dict[str, Any]:
    """POST a form (Alibaba's RPC API): a 4xx answer carries the provider's own JSON error."""
    return _request(name, strict=False, url=url, data=form)


def _request(name: str, strict: bool, **request: Any) -> dict[str, Any]:
    """One POST, its outcome told in the worker's terms: not sent (Retry), sent without a
    readable answer (InDoubt), refused (Failed), or the answer's JSON object."""
    try:
        response = httpx.post(timeout=TIMEOUT, **request)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise Retry(f"无法连接{name}（{exc.__class__.__name__}）") from None
    except httpx.HTTPError as exc:
        raise InDoubt(f"{name}请求已发出但未收到应答（{exc.__class__.__name__}）") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise Retry(f"{name}暂时不可用（HTTP {response.status_code}）")
    if strict and response.status_code != 200:
        raise Failed(f"{name}拒绝（HTTP {response.status_code}）")
    try:
        data = response.json()
    except ValueError:
        raise InDoubt(f"{name}应答不是 JSON" + ("" if strict else f"（HTTP {response.status_code}）")) from None
    return data if isinstance(data, dict) else {}


# DingTalk: 130101 / 660026 too many messages per minute; WeCom: 45009 / 45033 frequency limits.
RATE_LIMITED = {"dingtalk": {130101, 660026}, "wecom": {45009, 45033, -1}}


def send_robot(creds: Credentials, channel: str, ref: str, message: Message) -> str:
    entry = _robot(creds, channel, ref)
    webhook, secret = str(entry["webhook"]), entry.get("secret")
    secret = str(secret) if secret else None
    content = f"{message.subject}\n{message.text}"
    name = "钉钉机器人" if channel == "dingtalk" else "企业微信群机器人"
    url = dingtalk_url(webhook, secret) if channel == "dingtalk" else webhook
    data = _post(url, {"msgtype": "text", "text": {"content": content}}, name, (webhook, secret or ""))
    code = data.get("errcode")
    if code == 0:
        return f"{channel}:{message.key}"
    if code in RATE_LIMITED[channel]:
        raise Retry(f"{name}限流（errcode {code}）")
    raise Failed(f"{name}拒绝（errcode {code}）")
