"""Real servers standing in for the notification providers (issue 19, point 5).

`SmtpServer`: aiosmtpd on 127.0.0.1, keeping each message it accepted (and able to hold one
message's reply, so a worker can be killed after the server took it and before it heard back).

`ProviderServer`: one local HTTP server that checks each request exactly as the providers
document it, and refuses what they would refuse:
  - Tencent Cloud SMS `SendSms` 2021-01-11 (POST /, JSON): the TC3-HMAC-SHA256 Authorization
    header recomputed from the secret key, the X-TC-* headers, the required parameters;
  - DingTalk custom robot (POST /robot/send?access_token=…&timestamp=…&sign=…): sign =
    urlencode(base64(HMAC-SHA256(secret, timestamp + "\\n" + secret))), timestamp within an hour;
  - WeCom group robot (POST /cgi-bin/webhook/send?key=…): the key, msgtype text.
Each accepted request is recorded; the tests count deliveries there.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

SMS_SECRET_ID = "AKIDtestSecretId0001"
SMS_SECRET_KEY = "testSecretKeyForTc3Signature0001"
SMS_APP_ID = "1400000001"
DING_TOKEN = "dingtoken0001"
DING_SECRET = "SECdingsecret0001"
WECOM_KEY = "wecom-key-0001"
ALIYUN_KEY_ID = "LTAItestKeyId0001"
ALIYUN_SECRET = "testAliyunSecret0001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- SMTP --------------------------------------------------------------------------------------


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.server.lock:
            self.server.messages.append((list(envelope.rcpt_tos), mail))
            count = len(self.server.messages)
        if self.server.hold_at is not None and count == self.server.hold_at:
            await asyncio.sleep(self.server.hold_seconds)  # taken, but the client hears nothing yet
        elif self.server.delay:
            await asyncio.sleep(self.server.delay)
        return "250 OK"


@dataclass
class SmtpServer:
    port: int = 0
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    hold_at: int | None = None
    hold_seconds: float = 60.0
    delay: float = 0.0  # before each reply: a slow server, so that a kill lands mid-batch
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.port = free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def keys(self) -> list[str]:
        return [str(m["X-Letterbox-Key"]) for _, m in self.messages]


# -- HTTP providers ------------------------------------------------------------------------------


def tc3_signature(secret_key: str, headers: dict[str, str], payload: bytes, host: str) -> tuple[str, str]:
    """(credential scope date, signature) of a POST / request, as Tencent Cloud documents TC3."""
    timestamp = int(headers["x-tc-timestamp"])
    day = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    canonical = "\n".join(["POST", "/", "", f"content-type:{headers['content-type']}\nhost:{host}\n",
                           "content-type;host", hashlib.sha256(payload).hexdigest()])
    scope = f"{day}/sms/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()])

    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    signing = mac(mac(mac(("TC3" + secret_key).encode(), day), "sms"), "tc3_request")
    return day, hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class ProviderServer:
    port: int = 0
    sms: list[dict[str, Any]] = field(default_factory=list)
    aliyun: list[dict[str, str]] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)
    dingtalk: list[dict[str, Any]] = field(default_factory=list)
    wecom: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    hold_at: int | None = None  # hold the reply to the n-th accepted request (all kinds counted)
    hold_seconds: float = 60.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    httpd: ThreadingHTTPServer | None = None

    def start(self) -> ProviderServer:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()

    def accepted(self) -> int:
        return len(self.sms) + len(self.dingtalk) + len(self.wecom) + len(self.aliyun)


def _make_handler(server: ProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def reply(self, data: dict[str, Any], status: int = 200) -> None:
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def accept(self, bucket: list[dict[str, Any]], item: dict[str, Any]) -> None:
            with server.lock:
                bucket.append(item)
                count = server.accepted()
            if server.hold_at is not None and count == server.hold_at:
                time.sleep(server.hold_seconds)

        def do_POST(self) -> None:
            payload = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/" and self.headers.get("X-TC-Action"):
                return self.tencent(payload)
            if url.path == "/aliyun/":
                return self.aliyun(dict(urllib.parse.parse_qsl(payload.decode(), keep_blank_values=True)))
            data = json.loads(payload)
            if url.path == "/robot/send":
                return self.ding(query, data)
            if url.path == "/cgi-bin/webhook/send":
                if query.get("key") != WECOM_KEY:
                    server.refused.append("wecom-key")
                    return self.reply({"errcode": 93000, "errmsg": "invalid webhook url"})
                if data.get("msgtype") != "text" or not data.get("text", {}).get("content"):
                    return self.reply({"errcode": 40008, "errmsg": "invalid message type"})
                self.accept(server.wecom, data)
                return self.reply({"errcode": 0, "errmsg": "ok"})
            self.reply({"error": "not found"}, 404)

        def ding(self, query: dict[str, str], data: dict[str, Any]) -> None:
            if query.get("access_token") != DING_TOKEN:
                server.refused.append("dingtalk-token")
                return self.reply({"errcode": 300001, "errmsg": "token is not exist"})
            stamp = query.get("timestamp", "0")
            expected = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(),
                                                 hashlib.sha256).digest()).decode()
            # parse_qsl has already undone the URL encoding of `sign`
            if query.get("sign") != expected or abs(time.time() * 1000 - int(stamp)) > 3600_000:
                server.refused.append("dingtalk-sign")
                return self.reply({"errcode": 310000, "errmsg": "sign not match"})
            if data.get("msgtype") != "text" or not data.get("text", {}).get("content"):
                return self.reply({"errcode": 400105, "errmsg": "不支持的消息类型"})
            self.accept(server.dingtalk, data)
            self.reply({"errcode": 0, "errmsg": "ok"})

        def aliyun(self, form: dict[str, str]) -> None:
            """SendSms 2017-05-25 as Alibaba Cloud documents its RPC signature (version 1.0)."""
            def error(code: str) -> None:
                server.refused.append(code)
                self.reply({"Code": code, "Message": code, "RequestId": "req"})

            def enc(value: str) -> str:  # the documented percent-encoding
                return urllib.parse.quote_plus(value).replace("+", "%20").replace("*", "%2A").replace("%7E", "~")

            given = form.pop("Signature", "")
            canonical = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(form.items()))
            to_sign = "POST&%2F&" + enc(canonical)
            expected = base64.b64encode(hmac.new(f"{ALIYUN_SECRET}&".encode(), to_sign.encode(),
                                                 hashlib.sha1).digest()).decode()
            if form.get("AccessKeyId") != ALIYUN_KEY_ID:
                return error("InvalidAccessKeyId.NotFound")
            if given != expected or form.get("SignatureMethod") != "HMAC-SHA1" or form.get("SignatureVersion") != "1.0":
                return error("SignatureDoesNotMatch")
            stamp = time.mktime(time.strptime(form.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
            if abs(time.time() - stamp) > 900:
                return error("InvalidTimeStamp.Expired")
            if form.get("SignatureNonce") in server.nonces:
                return error("SignatureNonceUsed")
            server.nonces.add(form.get("SignatureNonce", ""))
            if (form.get("Action"), form.get("Version"), form.get("Format")) != ("SendSms", "2017-05-25", "JSON"):
                return error("InvalidAction")
            for name in ("PhoneNumbers", "SignName", "TemplateCode"):
                if not form.get(name):
                    return error(f"MissingParameter.{name}")
            try:
                json.loads(form.get("TemplateParam") or "{}")
            except ValueError:
                return error("isv.INVALID_JSON_PARAM")
            self.accept(server.aliyun, form)
            self.reply({"Code": "OK", "Message": "OK", "BizId": f"biz-{len(server.aliyun)}", "RequestId": "req"})

        def tencent(self, payload: bytes) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            auth = headers.get("authorization", "")
            request_id = f"req-{len(server.sms) + 1}"

            def error(code: str, message: str) -> None:
                server.refused.append(code)
                self.reply({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}})

            if headers.get("x-tc-action") != "SendSms" or headers.get("x-tc-version") != "2021-01-11":
                return error("InvalidAction", "action or version")
            try:
                parts = dict(p.strip().split("=", 1) for p in auth.split(" ", 1)[1].split(","))
            except (IndexError, ValueError):
                return error("AuthFailure.SignatureFailure", "no authorization")
            day, signature = tc3_signature(SMS_SECRET_KEY, headers, payload, headers["host"])
            if not auth.startswith("TC3-HMAC-SHA256 ") or parts.get("Credential") != f"{SMS_SECRET_ID}/{day}/sms/tc3_request" \
                    or parts.get("SignedHeaders") != "content-type;host" or parts.get("Signature") != signature:
                return error("AuthFailure.SignatureFailure", "signature mismatch")
            data = json.loads(payload)
            for name in ("PhoneNumberSet", "SmsSdkAppId", "SignName", "TemplateId"):
                if not data.get(name):
                    return error("MissingParameter", name)
            if data["SmsSdkAppId"] != SMS_APP_ID:
                return error("FailedOperation.SmsSdkAppIdVerifyFail", "app id")
            self.accept(server.sms, {**data, "region": headers.get("x-tc-region")})
            self.reply({"Response": {"SendStatusSet": [{
                "SerialNo": f"serial-{len(server.sms)}", "PhoneNumber": data["PhoneNumberSet"][0], "Fee": 1,
                "SessionContext": data.get("SessionContext", ""), "Code": "Ok", "Message": "send success",
                "IsoCode": "CN"}], "RequestId": request_id}})

    return Handler


def aliyun_sms(http_port: int, secret: str = ALIYUN_SECRET) -> str:
    """The `sms:` section for Alibaba Cloud, pointing at the fake (the secret by environment:
    ALIYUN_SMS_SECRET must be set to `secret`)."""
    return f"""sms:
  provider: aliyun
  access_key_id: {ALIYUN_KEY_ID}
  access_key_secret_env: ALIYUN_SMS_SECRET
  sign_name: 龙安区区长信箱
  template_code: SMS_000000001
  params: {{code: code, link: link}}
  endpoint: http://127.0.0.1:{http_port}/aliyun/
"""


def credentials_text(smtp_port: int, http_port: int, *, ding_secret: str = DING_SECRET,
                     sms_key: str = SMS_SECRET_KEY, retry: str = "", sms: str | None = None) -> str:
    """A worker credentials file pointing at the fakes (`sms`: another `sms:` section)."""
    base = f"http://127.0.0.1:{http_port}"
    tencent = f"""sms:
  provider: tencent
  secret_id: {SMS_SECRET_ID}
  secret_key: {sms_key}
  sdk_app_id: "{SMS_APP_ID}"
  sign_name: 龙安区区长信箱
  template_id: "2000001"
  params: [code, event, link]
  region: ap-guangzhou
  endpoint: 127.0.0.1:{http_port}
  scheme: http
"""
    return f"""
smtp:
  host: 127.0.0.1
  port: {smtp_port}
  security: none
  from: 龙安区区长信箱 <xinxiang@longan.example.gov.cn>
{sms or tencent}contacts:
  zjj:
    email: [xinfang@zjj.example.gov.cn]
    dingtalk: {{webhook: "{base}/robot/send?access_token={DING_TOKEN}", secret: {ding_secret}}}
  cgj:
    email: [cgj@example.gov.cn]
  xxzx:
    wecom: {{webhook: "{base}/cgi-bin/webhook/send?key={WECOM_KEY}"}}
{retry}
"""
