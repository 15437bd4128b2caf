"""`letterbox notify` (issue 19): the worker sends each committed outbox file once, through a real
SMTP server (aiosmtpd) and a local HTTP server that checks the Tencent Cloud SMS, DingTalk and
WeCom requests as those providers document them; retries with back-off; survives kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LETTERBOX_BIN, WRITER, Repo, submission
from tests.e2e.test_notify_outbox import with_rules
from tests.e2e.test_sealing_read import WRITERS, Sealed
from tests.e2e.test_sealing_read import sealed as sealed_fixture  # noqa: F401 (a fixture)
from tests.notify_fakes import (
    ALIYUN_SECRET,
    ProviderServer,
    SmtpServer,
    aliyun_sms,
    credentials_text,
    free_port,
)

T = "T10:00:00+08:00"
ALL_RULES = """
notify:
  lookup_url: https://xinxiang.example.gov.cn/lookup/
  rules:
    - {step: receive, to: writer, via: email}
    - {step: transfer, to: unit, via: email}
    - {step: remind, to: unit, via: dingtalk}
    - {step: flag-risk, to: office, via: wecom}
    - {step: approve, to: writer, via: [sms, email]}
"""


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def providers() -> Iterator[ProviderServer]:
    server = ProviderServer().start()
    yield server
    server.stop()


def creds_file(tmp_path: Path, smtp_port: int, http_port: int, **kw: str) -> Path:
    path = tmp_path / "etc" / "notify.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(credentials_text(smtp_port, http_port, **kw), "utf-8")
    return path


def personal(text: str) -> list[str]:
    return [v for v in WRITER.values() if v in text]


def test_each_notification_reaches_its_channel_once(case_repo: Repo, smtp: SmtpServer,
                                                     providers: ProviderServer, tmp_path: Path) -> None:
    repo = with_rules(case_repo, ALL_RULES)
    creds = creds_file(tmp_path, smtp.port, providers.port)
    code = repo.new_letter(1)
    repo.run("classify", code, "--category", "complaint", "--as", "王五", "--at", f"2026-03-02{T}")
    repo.run("transfer", code, "--unit", "zjj", "--co", "cgj", "--as", "王五", "--at", "2026-03-02T11:00:00+08:00")
    repo.run("remind", code, "--as", "王五", "--at", f"2026-03-03{T}")
    repo.run("flag-risk", code, "--note", "可能引发聚集", "--as", "王五", "--at", "2026-03-03T12:00:00+08:00")
    repo.run("answer", code, "--text", "路灯已修复。", "--head", "王主任", "--at", f"2026-03-05{T}")
    repo.run("approve", code, "--at", f"2026-03-06{T}")

    first = repo.run("notify", "--credentials", str(creds))
    assert personal(first.stdout + first.stderr) == []
    assert "发送 7 条" in first.stdout

    assert sorted(r[0] for r, _ in smtp.messages) == sorted(
        ["cgj@example.gov.cn", "xinfang@zjj.example.gov.cn", WRITER["email"], WRITER["email"]])
    writer_mails = [m for r, m in smtp.messages if r == [WRITER["email"]]]
    assert len(writer_mails) == 2
    received = next(m for m in writer_mails if m["X-Letterbox-Key"] == f"{code}-001")
    assert received["Message-ID"] == f"<{code}-001@longan.example.gov.cn>"
    assert code in str(received["Subject"]) and "收信" in str(received["Subject"])
    body = received.get_content()
    assert "https://xinxiang.example.gov.cn/lookup/" in body and WRITER["name"] not in body
    answered = next(m for m in writer_mails if m["X-Letterbox-Key"] != f"{code}-001")
    assert "路灯已修复" in answered.get_content()  # the 答复意见书 this step gives
    unit_mail = next(m for r, m in smtp.messages if r == ["xinfang@zjj.example.gov.cn"])
    assert "转办" in str(unit_mail["Subject"]) and "请于" in unit_mail.get_content()
    assert "文昌大道" not in unit_mail.get_content()  # never the letter's title or text
    assert [r for r, _ in smtp.messages].count(["cgj@example.gov.cn"]) == 1

    assert len(providers.dingtalk) == 1 and "催办" in providers.dingtalk[0]["text"]["content"]
    assert len(providers.wecom) == 1 and "风险预警" in providers.wecom[0]["text"]["content"]
    assert "聚集" not in providers.wecom[0]["text"]["content"]
    (sms,) = providers.sms
    assert sms["PhoneNumberSet"] == ["+86" + WRITER["phone"]]
    assert sms["SignName"] == "龙安区区长信箱" and sms["TemplateId"] == "2000001"
    assert sms["TemplateParamSet"] == [code, "审核通过、答复办结", "https://xinxiang.example.gov.cn/lookup/"]
    assert sms["SessionContext"].startswith(code) and sms["region"] == "ap-guangzhou"
    assert providers.refused == []

    again = repo.run("notify", "--credentials", str(creds))
    assert "发送 0 条" in again.stdout
    assert len(smtp.messages) == 4 and providers.accepted() == 3
    status = repo.json("notify", "--status")
    assert status["counts"]["sent"] == 7 and status["notifications"] == []
    assert personal(json.dumps(status, ensure_ascii=False)) == []


def test_a_wrong_signature_is_refused_by_the_provider_and_recorded(case_repo: Repo, smtp: SmtpServer,
                                                                   providers: ProviderServer, tmp_path: Path) -> None:
    repo = with_rules(case_repo, ALL_RULES.replace("{step: receive, to: writer, via: email}",
                                                   "{step: receive, to: writer, via: sms}"))
    creds = creds_file(tmp_path, smtp.port, providers.port, ding_secret="SECwrong", sms_key="wrongkey")
    code = repo.new_letter(1)
    repo.run("classify", code, "--category", "complaint", "--as", "王五", "--at", f"2026-03-02{T}")
    repo.run("transfer", code, "--unit", "zjj", "--as", "王五", "--at", "2026-03-02T11:00:00+08:00")
    repo.run("remind", code, "--as", "王五", "--at", f"2026-03-03{T}")
    repo.run("notify", "--credentials", str(creds))
    assert providers.sms == [] and providers.dingtalk == []
    assert sorted(providers.refused) == ["AuthFailure.SignatureFailure", "dingtalk-sign"]
    status = repo.json("notify", "--status")
    failed = {n["via"]: n["reason"] for n in status["notifications"] if n["state"] == "failed"}
    assert "AuthFailure.SignatureFailure" in failed["sms"] and "310000" in failed["dingtalk"]
    assert personal(json.dumps(status, ensure_ascii=False)) == []
    deadlines = repo.run("deadlines", "--today", "2026-03-04")
    assert "2 条通知发送失败" in deadlines.stdout + deadlines.stderr


def test_an_unreachable_server_is_retried_with_back_off_then_given_up(case_repo: Repo, tmp_path: Path) -> None:
    repo = with_rules(case_repo)
    dead = free_port()  # nothing listens there
    creds = creds_file(tmp_path, dead, dead, retry="retry: {max_attempts: 3, first_delay: 0, max_delay: 0}")
    code = repo.new_letter(1)
    repo.run("notify", "--credentials", str(creds))
    (row,) = repo.json("notify", "--status")["notifications"]
    assert (row["key"], row["state"], row["attempts"]) == (f"{code}-001", "pending", 1)
    assert "无法连接 SMTP 服务器" in row["reason"]
    repo.run("notify", "--credentials", str(creds))
    repo.run("notify", "--credentials", str(creds))
    (row,) = repo.json("notify", "--status")["notifications"]
    assert (row["state"], row["attempts"]) == ("failed", 3) and "不再重试" in row["reason"]
    # a long back-off keeps it waiting: retried, it is not due before its time
    slow = creds_file(tmp_path, dead, dead, retry="retry: {max_attempts: 5, first_delay: 3600}")
    repo.run("notify", "--retry", f"{code}-001")
    repo.run("notify", "--credentials", str(slow))
    repo.run("notify", "--credentials", str(slow))
    (row,) = repo.json("notify", "--status")["notifications"]
    assert (row["state"], row["attempts"]) == ("pending", 1)


def test_staff_without_a_contact_wait_with_the_reason(case_repo: Repo, smtp: SmtpServer,
                                                      providers: ProviderServer, tmp_path: Path) -> None:
    repo = with_rules(case_repo)
    creds = creds_file(tmp_path, smtp.port, providers.port)
    code = repo.new_letter(1)
    repo.run("classify", code, "--category", "complaint", "--as", "王五", "--at", f"2026-03-02{T}")
    repo.run("transfer", code, "--unit", "jyj", "--as", "王五", "--at", "2026-03-02T11:00:00+08:00")
    repo.run("notify", "--credentials", str(creds))
    rows = repo.json("notify", "--status")["notifications"]
    assert [(r["state"], r["ref"]) for r in rows] == [("pending", "jyj")]
    assert "contacts.jyj.email" in rows[0]["reason"]


def test_credentials_inside_the_repository_are_refused(case_repo: Repo) -> None:
    repo = with_rules(case_repo)
    inside = repo.path / "notify.yaml"
    inside.write_text("smtp: {host: x, from: a@b.cn, password: secret}\n", "utf-8")
    result = repo.run("notify", "--credentials", str(inside), expect=1)
    assert "案卷库之内" in result.stderr and "secret" not in result.stderr


def test_opt_out_skips_the_channel_and_deadlines_asks_for_the_notice(case_repo: Repo, smtp: SmtpServer,
                                                                     providers: ProviderServer, tmp_path: Path) -> None:
    repo = with_rules(case_repo, ALL_RULES)
    creds = creds_file(tmp_path, smtp.port, providers.port)
    code = repo.new_letter(1)
    repo.run("notify", "--opt-out", code, "--via", "sms")
    repo.run("classify", code, "--category", "complaint", "--as", "王五", "--at", f"2026-03-02{T}")
    repo.run("transfer", code, "--unit", "zjj", "--as", "王五", "--at", "2026-03-02T11:00:00+08:00")
    repo.run("answer", code, "--text", "路灯已修复。", "--head", "王主任", "--at", f"2026-03-05{T}")
    repo.run("approve", code, "--at", f"2026-03-06{T}")
    repo.run("notify", "--credentials", str(creds))
    assert providers.sms == []
    assert [r for r, _ in smtp.messages].count([WRITER["email"]]) == 2  # e-mail still goes
    status = repo.json("notify", "--status")
    assert [(n["via"], n["state"]) for n in status["notifications"]] == [("sms", "skipped")]
    assert status["opt_outs"][0]["letter"] == code
    out = repo.run("deadlines", "--today", "2026-03-07")
    assert "因退订未发送" in out.stdout + out.stderr and code in out.stdout + out.stderr
    repo.run("notify", "--opt-out", "LA-2026-99999", "--via", "sms", expect=1)


def run_worker(repo: Repo, creds: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LETTERBOX_REPO": str(repo.path)}
    return subprocess.Popen([LETTERBOX_BIN, "notify", "--credentials", str(creds)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until(predicate, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("channel", ["email", "wecom"])
def test_kill_9_mid_batch_neither_duplicates_nor_loses(case_repo: Repo, smtp: SmtpServer, providers: ProviderServer,
                                                       tmp_path: Path, channel: str) -> None:
    """The worker is killed while the provider holds the reply to the 3rd of 6 notifications
    (taken by the server, not yet recorded as sent). The rerun sends the other 3, never the 3rd
    again: it is `unknown` until staff confirm it. Every key reached the server exactly once."""
    rule = ("{step: receive, to: writer, via: email}" if channel == "email"
            else "{step: flag-risk, to: office, via: wecom}")
    repo = with_rules(case_repo, f"\nnotify:\n  rules:\n    - {rule}\n")
    creds = creds_file(tmp_path, smtp.port, providers.port)
    codes = [repo.new_letter(n) for n in range(1, 7)]
    if channel == "wecom":
        for code in codes:
            repo.run("flag-risk", code, "--note", "风险", "--as", "王五", "--at", f"2026-03-03{T}")
    server = smtp if channel == "email" else providers
    server.hold_at = 3

    def delivered() -> list[str]:
        if channel == "email":
            return smtp.keys()
        return [m["text"]["content"].rsplit("通知编号 ", 1)[1].rstrip("）\n") for m in providers.wecom]

    worker = run_worker(repo, creds)
    wait_until(lambda: len(delivered()) == 3)
    time.sleep(0.3)
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    assert worker.returncode == -signal.SIGKILL
    server.hold_at = None

    rerun = repo.run("notify", "--credentials", str(creds))
    assert "未确认" in rerun.stdout
    keys = delivered()
    assert len(keys) == 6 and Counter(keys).most_common(1)[0][1] == 1  # no duplicate, no loss
    status = repo.json("notify", "--status")
    assert status["counts"]["sent"] == 5 and status["counts"]["unknown"] == 1
    (unknown,) = status["notifications"]
    assert unknown["key"] == keys[2] and "中断" in unknown["reason"]
    repo.run("notify", "--credentials", str(creds))
    assert len(delivered()) == 6  # never resent by itself
    repo.run("notify", "--mark-sent", unknown["key"])
    assert repo.json("notify", "--status")["counts"] == {**status["counts"], "sent": 6, "unknown": 0}


def test_two_workers_do_not_run_at_once(case_repo: Repo, smtp: SmtpServer, providers: ProviderServer,
                                        tmp_path: Path) -> None:
    repo = with_rules(case_repo)
    creds = creds_file(tmp_path, smtp.port, providers.port)
    repo.new_letter(1)
    repo.new_letter(2)
    smtp.hold_at = 1
    smtp.hold_seconds = 5
    worker = run_worker(repo, creds)
    wait_until(lambda: len(smtp.messages) == 1)
    second = repo.run("notify", "--credentials", str(creds), expect=1)
    assert "另一个 letterbox notify 正在" in second.stderr
    worker.wait(30)
    assert worker.returncode == 0 and sorted(smtp.keys()) == sorted(set(smtp.keys())) and len(smtp.messages) == 2


def test_a_sealed_writer_is_reached_only_with_a_key(sealed_fixture: Sealed, smtp: SmtpServer,  # noqa: F811
                                                    providers: ProviderServer, tmp_path: Path) -> None:
    """The writer's address is read from the sealed block at send time: without this user's key
    the notification waits, with the reason; with the key it is sent. No datum in any output."""
    sealed = sealed_fixture
    repo, mp = sealed.repo, sealed.mp
    config = repo.path / "letterbox.yaml"
    config.write_text(config.read_text("utf-8") + "\nnotify:\n  rules:\n    - {step: remind, to: writer, via: [email, sms]}\n",
                      "utf-8")
    repo.git("commit", "-q", "-m", "notify rules", "--", "letterbox.yaml")
    code = sealed.codes["open"]
    mp.setenv("LETTERBOX_SIGNING_KEY", str(sealed.keys["office"]))
    sealed.run("remind", code, key="office")
    mp.delenv("LETTERBOX_SIGNING_KEY")
    outbox_text = "".join(p.read_text("utf-8") for p in (repo.path / "outbox").rglob("*.yaml"))
    assert personal_of("open", outbox_text) == []
    creds = creds_file(tmp_path, smtp.port, providers.port)

    first = sealed.run("notify", "--credentials", str(creds))
    assert smtp.messages == [] and providers.sms == []
    rows = json.loads(sealed.run("notify", "--status", "--json").stdout)["notifications"]
    assert [r["state"] for r in rows] == ["pending", "pending"]
    assert all("加密" in r["reason"] for r in rows)

    again = sealed.run("notify", "--credentials", str(creds), key="office")
    assert [r for r, _ in smtp.messages] == [[WRITERS["open"]["email"]]]
    assert providers.sms[0]["PhoneNumberSet"] == ["+86" + WRITERS["open"]["phone"]]
    status = sealed.run("notify", "--status", "--json")
    for text in (first.stdout, first.stderr, again.stdout, again.stderr, status.stdout):
        assert personal_of("open", text) == []


def personal_of(key: str, text: str) -> list[str]:
    return [v for v in WRITERS[key].values() if v in text]


def test_sigterm_lets_the_send_under_way_finish(case_repo: Repo, smtp: SmtpServer, providers: ProviderServer,
                                                tmp_path: Path) -> None:
    """systemd stops the service with SIGTERM: the message being sent is recorded as sent, the
    rest stays pending; nothing is left unknown."""
    repo = with_rules(case_repo)
    creds = creds_file(tmp_path, smtp.port, providers.port)
    repo.new_letter(1)
    repo.new_letter(2)
    smtp.hold_at, smtp.hold_seconds = 1, 2.0
    env = {**os.environ, "LETTERBOX_REPO": str(repo.path)}
    worker = subprocess.Popen([LETTERBOX_BIN, "notify", "--follow", "--interval", "1", "--credentials", str(creds)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: len(smtp.messages) == 1)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    counts = repo.json("notify", "--status")["counts"]
    assert (counts["sent"], counts["pending"], counts["unknown"]) == (1, 1, 0)
    repo.run("notify", "--credentials", str(creds))
    assert sorted(smtp.keys()) == sorted(set(smtp.keys())) and len(smtp.messages) == 2


def test_validate_refuses_a_credential_in_letterbox_yaml(case_repo: Repo) -> None:
    config = case_repo.path / "letterbox.yaml"
    webhook = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef"
    config.write_text(config.read_text("utf-8") + f"intake_url: {webhook}\n", "utf-8")
    result = case_repo.run("validate", expect=1)
    text = result.stdout + result.stderr
    assert "intake_url" in text and "凭据不得写进案卷库" in text and "0123456789abcdef" not in text


def test_a_risk_flag_reaches_the_office_group_within_a_minute(case_repo: Repo, smtp: SmtpServer,
                                                              providers: ProviderServer, tmp_path: Path) -> None:
    """The service as docs/deploy.md runs it (`--follow`, default interval): a risk flag
    committed while it runs reaches the office's WeCom group well within a minute."""
    repo = with_rules(case_repo)
    creds = creds_file(tmp_path, smtp.port, providers.port)
    code = repo.new_letter(1)
    env = {**os.environ, "LETTERBOX_REPO": str(repo.path)}
    worker = subprocess.Popen([LETTERBOX_BIN, "notify", "--follow", "--credentials", str(creds)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: len(smtp.messages) == 1)  # the receive e-mail: the worker is up
        repo.run("flag-risk", code, "--note", "可能引发聚集", "--as", "王五")
        committed = time.monotonic()
        wait_until(lambda: len(providers.wecom) == 1, seconds=60)
        took = time.monotonic() - committed
        assert took < 60 and code in providers.wecom[0]["text"]["content"]
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0


def test_skip_existing_on_first_deployment_sends_only_what_comes_after(case_repo: Repo, smtp: SmtpServer,
                                                                      providers: ProviderServer, tmp_path: Path) -> None:
    repo = with_rules(case_repo)
    creds = creds_file(tmp_path, smtp.port, providers.port)
    old = [repo.new_letter(n) for n in (1, 2)]
    result = repo.run("notify", "--skip-existing", "--credentials", str(creds))
    assert smtp.messages == [] and "2 条" in result.stdout
    new = repo.new_letter(3)
    repo.run("notify", "--credentials", str(creds))
    assert smtp.keys() == [f"{new}-001"]
    status = repo.json("notify", "--status")
    assert status["counts"]["skipped"] == 2 and status["notifications"] == []
    assert all(code not in json.dumps(status) for code in old)
    assert "退订" not in repo.run("deadlines", "--today", "2026-03-03").stdout


def test_a_bad_credentials_file_is_refused_before_anything_is_sent(case_repo: Repo, tmp_path: Path) -> None:
    repo = with_rules(case_repo)
    repo.new_letter(1)
    bad = tmp_path / "bad.yaml"
    for text, words in (("smtp: {host: x, port: 'twenty-five'}\n", "smtp.port"), ("smtp: [1, 2\n", "YAML"),
                        ("smtp: {host: x}\nfax: {}\n", "fax"), ("sms: {provider: twilio}\n", "sms.provider")):
        bad.write_text(text, "utf-8")
        result = repo.run("notify", "--credentials", str(bad), expect=1)
        assert words in result.stderr
    assert not (repo.path / ".git/letterbox/notify.sqlite").exists() or \
        repo.json("notify", "--status")["counts"]["sent"] == 0


def test_aliyun_sms_signed_as_documented(case_repo: Repo, smtp: SmtpServer, providers: ProviderServer,
                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Alibaba Cloud SendSms: the fake recomputes the HMAC-SHA1 signature, refuses a reused nonce
    or a stale time stamp; the template's variables carry the code and the link only."""
    repo = with_rules(case_repo, "\nnotify:\n  lookup_url: https://xinxiang.example.gov.cn/lookup/\n"
                                 "  rules:\n    - {step: receive, to: writer, via: sms}\n")
    creds = tmp_path / "aliyun.yaml"
    creds.write_text(credentials_text(smtp.port, providers.port, sms=aliyun_sms(providers.port)), "utf-8")
    codes = [repo.new_letter(n) for n in (1, 2)]
    monkeypatch.setenv("ALIYUN_SMS_SECRET", ALIYUN_SECRET)
    repo.run("notify", "--credentials", str(creds))
    assert providers.refused == [] and len(providers.aliyun) == 2
    first = providers.aliyun[0]
    assert first["PhoneNumbers"] == WRITER["phone"] and first["SignName"] == "龙安区区长信箱"
    assert first["TemplateCode"] == "SMS_000000001" and first["OutId"] == f"{codes[0]}-001"
    assert json.loads(first["TemplateParam"]) == {"code": codes[0], "link": "https://xinxiang.example.gov.cn/lookup/"}
    # a wrong secret: the provider refuses, the notification fails with the provider's code only
    repo.new_letter(3)
    monkeypatch.setenv("ALIYUN_SMS_SECRET", "wrong")
    repo.run("notify", "--credentials", str(creds))
    assert providers.refused == ["SignatureDoesNotMatch"] and len(providers.aliyun) == 2
    (row,) = repo.json("notify", "--status")["notifications"]
    assert row["state"] == "failed" and "SignatureDoesNotMatch" in row["reason"]
    # the secret's variable unset: held with the reason, nothing attempted
    repo.run("notify", "--retry", row["key"])
    monkeypatch.delenv("ALIYUN_SMS_SECRET")
    repo.run("notify", "--credentials", str(creds))
    (row,) = repo.json("notify", "--status")["notifications"]
    assert row["state"] == "pending" and "ALIYUN_SMS_SECRET" in row["reason"] and row["attempts"] == 0


def test_kill_9_at_random_moments_never_sends_twice_and_loses_nothing(case_repo: Repo, smtp: SmtpServer,
                                                                      providers: ProviderServer, tmp_path: Path) -> None:
    """Workers killed -9 at random moments of a batch (wherever the kill lands: between sends,
    mid-send, while recording), then a last run: every notification reached the server at most
    once, and each one that did not is `unknown` (visible), never silently dropped."""
    import random

    repo = with_rules(case_repo)
    creds = creds_file(tmp_path, smtp.port, providers.port)
    codes = [repo.new_letter(n) for n in range(1, 13)]
    smtp.delay = 0.15
    rng = random.Random(19)
    kills = 0
    for _ in range(4):
        before = len(smtp.messages)
        worker = run_worker(repo, creds)
        wait_until(lambda before=before, worker=worker: len(smtp.messages) > before or worker.poll() is not None)
        time.sleep(rng.uniform(0.0, 0.4))
        if worker.poll() is None:
            worker.send_signal(signal.SIGKILL)
            kills += 1
        worker.wait(10)
    smtp.delay = 0.0
    repo.run("notify", "--credentials", str(creds))
    keys = smtp.keys()
    assert Counter(keys).most_common(1)[0][1] == 1  # never twice
    status = repo.json("notify", "--status")
    unknown = {n["key"] for n in status["notifications"] if n["state"] == "unknown"}
    assert set(keys) | unknown == {f"{c}-001" for c in codes}  # nothing lost
    assert kills >= 2 and len(unknown) <= kills and status["counts"]["pending"] == 0


def test_a_repository_template_overrides_and_a_broken_one_holds(case_repo: Repo, smtp: SmtpServer,
                                                                providers: ProviderServer, tmp_path: Path) -> None:
    """notice_templates/notify_staff.j2 of the repository replaces the package's (like the
    notices); a broken one holds the notification with a Chinese reason naming the file."""
    repo = with_rules(case_repo)
    creds = creds_file(tmp_path, smtp.port, providers.port)
    folder = repo.path / "notice_templates"
    folder.mkdir()
    (folder / "notify_staff.j2").write_text("【龙安区】{{ label }} {{ code }}\n{{ name }}同志：请于{{ due }}前办结。\n", "utf-8")
    repo.commit_all("staff notification template")
    code = repo.new_letter(1)
    repo.run("classify", code, "--category", "complaint", "--as", "王五", "--at", f"2026-03-02{T}")
    repo.run("transfer", code, "--unit", "zjj", "--as", "王五", "--at", "2026-03-02T11:00:00+08:00")
    repo.run("notify", "--credentials", str(creds))
    unit_mail = next(m for r, m in smtp.messages if r == ["xinfang@zjj.example.gov.cn"])
    assert str(unit_mail["Subject"]) == f"【龙安区】转办 {code}"
    assert unit_mail.get_content().startswith("区住房和城乡建设局同志：请于2026年")
    (folder / "notify_staff.j2").write_text("{{ code }\n", "utf-8")
    repo.commit_all("broken template")
    repo.run("remind", code, "--as", "王五", "--at", f"2026-03-03{T}")
    (repo.path / "letterbox.yaml").write_text((repo.path / "letterbox.yaml").read_text("utf-8").replace(
        "{step: remind, to: unit, via: dingtalk}", "{step: remind, to: unit, via: email}"), "utf-8")
    repo.commit_all("remind by e-mail")
    repo.run("remind", code, "--as", "王五", "--at", f"2026-03-04{T}")
    repo.run("notify", "--credentials", str(creds))
    rows = {r["via"]: r for r in repo.json("notify", "--status")["notifications"]}
    assert rows["email"]["state"] == "pending" and "notify_staff.j2" in rows["email"]["reason"]
    assert "notice_templates/" in rows["email"]["reason"]


def test_daily_digest_once_a_day_to_each_unit_and_the_office(case_repo: Repo, smtp: SmtpServer,
                                                             providers: ProviderServer, tmp_path: Path) -> None:
    repo = with_rules(case_repo, "\nnotify:\n  rules: []\n  digest: {to: [unit, office], via: [email, wecom], within: 1}\n")
    creds = creds_file(tmp_path, smtp.port, providers.port)
    (creds.parent / "notify.yaml").write_text(creds.read_text("utf-8").replace(
        "  xxzx:\n", "  xxzx:\n    email: [xxzx@example.gov.cn]\n"), "utf-8")
    first, second, done = (repo.new_letter(n) for n in (1, 2, 3))
    for code, unit in ((first, "zjj"), (second, "cgj"), (done, "zjj")):
        repo.run("classify", code, "--category", "complaint", "--as", "王五", "--at", f"2026-03-02{T}")
        repo.run("transfer", code, "--unit", unit, "--as", "王五", "--at", "2026-03-02T11:00:00+08:00")
    repo.run("answer", done, "--text", "已修复。", "--head", "王主任", "--at", f"2026-03-05{T}")
    repo.run("approve", done, "--at", f"2026-03-06{T}")
    repo.run("notify", "--digest", "--today", "2026-04-01", "--credentials", str(creds))
    mails = {r[0]: m for r, m in smtp.messages}
    assert sorted(mails) == ["cgj@example.gov.cn", "xinfang@zjj.example.gov.cn", "xxzx@example.gov.cn"]
    unit_text = mails["xinfang@zjj.example.gov.cn"].get_content()
    assert first in unit_text and second not in unit_text and done not in unit_text and "已逾期" in unit_text
    assert "逾期 1 封" in str(mails["xinfang@zjj.example.gov.cn"]["Subject"])
    office_text = mails["xxzx@example.gov.cn"].get_content()
    assert first in office_text and second in office_text and done not in office_text
    assert "文昌大道" not in unit_text + office_text  # codes and limits only
    assert len(providers.wecom) == 1 and second in providers.wecom[0]["text"]["content"]
    assert providers.dingtalk == []  # zjj's robot is not a digest channel here (wecom: none for zjj)
    repo.run("notify", "--digest", "--today", "2026-04-01", "--credentials", str(creds))
    assert len(smtp.messages) == 3  # once a day
    repo.run("notify", "--digest", "--today", "2026-04-02", "--credentials", str(creds))
    assert len(smtp.messages) == 6
    status = repo.json("notify", "--status")
    states = {n["key"]: n["state"] for n in status["notifications"]}
    assert states == {**{f"digest-2026-04-02-{u}-wecom": "pending" for u in ("zjj", "cgj")},  # no robot configured
                      **{f"digest-2026-04-01-{u}-wecom": "failed" for u in ("zjj", "cgj")}}  # its day is over
    assert status["counts"]["sent"] == 8
    repo.run("notify", "--credentials", str(creds))  # an ordinary round leaves the digests alone
    assert len(smtp.messages) == 6
    import filelock  # the digest runs beside a --follow service holding the worker's lock

    with filelock.FileLock(str(repo.path / ".git/letterbox/notify.lock")):
        repo.run("notify", "--digest", "--today", "2026-04-03", "--credentials", str(creds))
    assert len(smtp.messages) == 9


def test_digest_without_settings_is_refused(case_repo: Repo, tmp_path: Path) -> None:
    repo = with_rules(case_repo)
    result = repo.run("notify", "--digest", "--credentials", str(creds_file(tmp_path, 1, 1)), expect=1)
    assert "digest" in result.stderr


def test_a_reissued_query_code_is_told_to_the_writer_without_the_code(case_repo: Repo, smtp: SmtpServer,
                                                                      providers: ProviderServer,
                                                                      tmp_path: Path) -> None:
    """Issue 22: the writer hears that a new query code was issued (so a reissue asked for by
    someone else does not go unnoticed), through the channels of the `notify:` rules; neither the
    old nor the new code travels by e-mail or SMS."""
    repo = with_rules(case_repo, """
notify:
  lookup_url: https://xinxiang.example.gov.cn/lookup/
  rules:
    - {step: reissue, to: writer, via: [sms, email]}
""")
    creds = creds_file(tmp_path, smtp.port, providers.port)
    accepted = repo.intake(submission(1), name="s1.json")[0]
    code, old = accepted["letter_code"], accepted["query_code"]
    new = json.loads(repo.run("reissue", code, "--verified-by", "电话核实", "--verifier", "信息中心 王静",
                              "--json").stdout)["query_code"]
    sent = repo.run("notify", "--credentials", str(creds))
    assert "发送 2 条" in sent.stdout, sent.stdout
    (mail,) = [m for r, m in smtp.messages if r == [WRITER["email"]]]
    (sms,) = providers.sms
    assert code in str(mail["Subject"]) and "查询码已重新发放" in str(mail["Subject"]) + mail.get_content()
    assert sms["PhoneNumberSet"] == ["+86" + WRITER["phone"]] and "查询码已重新发放" in sms["TemplateParamSet"]
    everything = json.dumps(sms, ensure_ascii=False) + str(mail["Subject"]) + mail.get_content()
    assert old not in everything and new not in everything
    assert "电话核实" not in everything and "王静" not in everything
    assert personal(sent.stdout + sent.stderr) == []


def test_a_burst_reaches_the_office_once_in_the_round_it_appears(case_repo: Repo, smtp: SmtpServer,
                                                                providers: ProviderServer,
                                                                tmp_path: Path) -> None:
    """Article 15(2), issue 19 point 1: the office hears of a burst (the early warning of
    `deadlines` and `analyse`) in the worker's round after the letter that makes it, once, with
    letter codes only; four letters are no burst, the fifth is."""
    from letterbox.store.repository import Repository
    from tests.e2e.test_analysis import burst_letters

    repo = with_rules(case_repo, """
notify:
  bursts: {via: wecom}
""")
    creds = creds_file(tmp_path, smtp.port, providers.port)
    store = Repository(repo.path)
    codes = burst_letters(store, ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19"])
    quiet = repo.run("notify", "--credentials", str(creds), "--today", "2026-11-20")
    assert "发送 0 条" in quiet.stdout and providers.wecom == [] and smtp.messages == []
    codes += burst_letters(Repository(repo.path), ["2026-11-20"])
    alerted = repo.run("notify", "--credentials", str(creds), "--today", "2026-11-20")
    assert "发送 1 条" in alerted.stdout, alerted.stdout
    (robot,) = providers.wecom
    text = robot["text"]["content"]
    assert "集中来信预警" in text and "文昌大道街道" in text and all(c in text for c in codes)
    for said in (text, alerted.stdout + alerted.stderr):
        assert personal(said) == [] and "暖气" not in said.replace("集中来信预警", "")  # no letter text
    again = repo.run("notify", "--credentials", str(creds), "--today", "2026-11-20")
    assert "发送 0 条" in again.stdout and len(providers.wecom) == 1 and smtp.messages == []
    # a burst that grows by a sixth letter is not told again
    burst_letters(Repository(repo.path), ["2026-11-21"])
    grown = repo.run("notify", "--credentials", str(creds), "--today", "2026-11-21")
    assert "发送 0 条" in grown.stdout and len(providers.wecom) == 1
    assert repo.json("notify", "--status")["counts"]["sent"] == 1
