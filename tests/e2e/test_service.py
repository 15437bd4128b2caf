"""The online intake service (issue 8) as a real uvicorn server on loopback, over a real git
repository: `letterbox serve-intake` runs as a subprocess and is spoken to with httpx."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from letterbox.core import codes
from tests.conftest import (
    LETTERBOX_BIN,
    WRITER,
    Repo,
    commit_count,
    head,
    porcelain,
    stray_files,
    submission,
)


def web_submission(n: int = 1, **changes: Any) -> dict[str, Any]:
    """What the 写信 page sends: the exchange format without time and channel (the server stamps them)."""
    return submission(n, submitted_at=None, channel=None, **changes)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, repo: Path, *args: str) -> None:
        self.repo = repo
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(repo.parent / f"server-{self.port}.log", "w+", encoding="utf-8")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [LETTERBOX_BIN, "--repo", str(repo), "serve-intake", "--port", str(self.port), *args],
            stdout=self.log, stderr=subprocess.STDOUT, env=os.environ.copy())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
            assert self.proc.poll() is None, self.output()
        raise AssertionError("server did not start\n" + self.output())

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return Path(self.log.name).read_text("utf-8")

    def post(self, path: str, data: Any, **kw: Any) -> httpx.Response:
        return httpx.post(self.url + path, json=data, timeout=60, **kw)

    def letter(self, data: dict[str, Any], key: str | None = None, **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", {})
        if key:
            headers["Idempotency-Key"] = key
        return self.post("/api/letters", data, headers=headers, **kw)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()


@contextmanager
def serving(repo: Repo, *args: str) -> Iterator[Server]:
    server = Server(repo.path, *args)
    try:
        yield server
    finally:
        server.stop()
    assert "Traceback" not in server.output(), server.output()
    for value in WRITER.values():  # no personal data in the server's output
        assert value not in server.output()


@pytest.fixture
def server(case_repo: Repo) -> Iterator[Server]:
    with serving(case_repo) as s:
        yield s


def salt(repo: Repo) -> str:
    return yaml.safe_load((repo.path / "letterbox.yaml").read_text("utf-8"))["query_code"]["salt"]


def holds(repo: Repo, code: str, query_code: str) -> bool:
    """The letter is committed and its stored hash matches the query code given to the client."""
    data = repo.letter(code)
    return codes.verify_query_code(query_code, code, salt(repo), data["query_hash"])


# --------------------------------------------------------------------------- letters


def test_letter_is_accepted_and_committed(case_repo: Repo, server: Server) -> None:
    before = commit_count(case_repo.path)
    answer = server.letter(web_submission(1))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert set(body) == {"letter_code", "query_code"}
    assert body["letter_code"] == "LA-2026-00001" or body["letter_code"].startswith("LA-")
    assert codes.normalise_query_code(body["query_code"])
    assert holds(case_repo, body["letter_code"], body["query_code"])
    data = case_repo.letter(body["letter_code"])
    assert data["channel"] == "web" and data["writer"]["name"] == WRITER["name"]
    assert data["history"][0]["actor"] == "网上信箱"
    assert commit_count(case_repo.path) == before + 1
    assert case_repo.git("log", "-1", "--format=%s").strip() == f"{body['letter_code']} 收信"
    assert porcelain(case_repo.path) == "" and stray_files(case_repo.path) == []
    for value in WRITER.values():
        assert value not in answer.text
    case_repo.run("validate")


BAD = [
    ("name", None), ("name", "赵"), ("name", "赵卫东123"), ("phone", None), ("phone", "99887"),
    ("email", None), ("email", "zhaoweidong-at-example.com"), ("address", ""), ("address", None),
    ("title", ""), ("body", "   "), ("follows_up", "LA-2026-09999"), ("name", 42),
]


@pytest.mark.parametrize(("field", "value"), BAD, ids=[f"{f}={v!r}" for f, v in BAD])
def test_each_field_error_names_the_field(case_repo: Repo, server: Server, field: str, value: Any) -> None:
    before = head(case_repo.path)
    data = web_submission(1)
    if value is None:
        data.pop(field)
    else:
        data[field] = value
    answer = server.letter(data)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert "未保存" in body["error"]
    assert [p["field"] for p in body["problems"]] == [field]
    problem = body["problems"][0]
    label = {"name": "姓名", "phone": "电话", "email": "电子邮箱", "address": "地址", "title": "标题",
             "body": "正文", "follows_up": "前信编码"}[field]
    assert problem["label"] == label and problem["message"].startswith(label)
    if isinstance(value, str) and value.strip() and field != "follows_up":
        assert value not in answer.text  # never echoes what the writer typed
    for other in WRITER.values():
        assert other not in answer.text
    assert head(case_repo.path) == before and porcelain(case_repo.path) == ""


def test_several_errors_and_unknown_fields_at_once(case_repo: Repo, server: Server) -> None:
    data = web_submission(1, phone="1", email="x", nmae="赵卫东")
    data["13937212345"] = "a key that is personal data"
    answer = server.letter(data)
    assert answer.status_code == 422
    fields = [p["field"] for p in answer.json()["problems"]]
    assert set(fields) == {"nmae", "（无法显示的字段名）", "phone", "email"}
    assert "13937212345" not in answer.text
    assert commit_count(case_repo.path) == 2


def test_malformed_requests(case_repo: Repo, server: Server) -> None:
    before = head(case_repo.path)
    bad_json = httpx.post(server.url + "/api/letters", content=b"{not json",
                          headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and "JSON" in bad_json.json()["error"]
    not_object = server.post("/api/letters", [web_submission(1)])
    assert not_object.status_code == 400
    form = httpx.post(server.url + "/api/letters", data={"name": "x"})
    assert form.status_code == 415
    assert httpx.get(server.url + "/api/letters").status_code == 405
    for path in ("/", "/cases/", "/letterbox.yaml", "/.git/HEAD", "/api/letters/LA-2026-00001"):
        assert httpx.get(server.url + path).status_code == 404, path
    assert head(case_repo.path) == before


def test_size_limit(case_repo: Repo, server: Server) -> None:
    before = head(case_repo.path)
    answer = server.letter(web_submission(1, body="长" * 70_000))  # 210 KB as UTF-8
    assert answer.status_code == 413
    assert "过大" in answer.json()["error"]
    # the same without Content-Length (chunked)
    payload = json.dumps(web_submission(1, body="长" * 70_000), ensure_ascii=False).encode("utf-8")
    chunked = httpx.post(server.url + "/api/letters", content=iter([payload[i:i + 8192]
                                                                    for i in range(0, len(payload), 8192)]),
                         headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    # the longest body the intake allows still fits
    fits = server.letter(web_submission(1, body="长" * 20_000))
    assert fits.status_code == 201, fits.text
    assert commit_count(case_repo.path) == int(case_repo.git("rev-list", "--count", before)) + 1


def test_rate_limit_per_address(case_repo: Repo) -> None:
    with serving(case_repo, "--rate-limit", "3/60") as server:
        one = {"X-Forwarded-For": "203.0.113.7"}
        answers = [server.letter(web_submission(n), headers=dict(one)) for n in range(1, 5)]
        assert [a.status_code for a in answers] == [201, 201, 201, 429]
        assert int(answers[3].headers["Retry-After"]) > 0
        assert "频繁" in answers[3].json()["error"]
        other = server.letter(web_submission(5), headers={"X-Forwarded-For": "203.0.113.8"})
        assert other.status_code == 201
    assert len(list((case_repo.path / "cases").rglob("*.yaml"))) == 4


def test_idempotent_retry_makes_one_letter(case_repo: Repo, server: Server) -> None:
    key = str(uuid.uuid4())
    first = server.letter(web_submission(1), key)
    again = server.letter(web_submission(1), key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    # the key in the body works the same
    in_body = server.letter({**web_submission(1), "idempotency_key": key})
    assert in_body.json() == first.json()
    # the same key with other content: the stored letter's codes, the edit is not stored
    other = server.letter(web_submission(2), key)
    assert other.status_code == 409 and "未提交" in other.json()["error"]
    assert {k: other.json()[k] for k in ("letter_code", "query_code")} == first.json()
    # a double click: two requests at once with one key
    key2 = str(uuid.uuid4())
    with ThreadPoolExecutor(4) as pool:
        clicks = list(pool.map(lambda _: server.letter(web_submission(3), key2), range(4)))
    assert {c.status_code for c in clicks} == {201}
    assert len({json.dumps(c.json()) for c in clicks}) == 1
    assert len(list((case_repo.path / "cases").rglob("*.yaml"))) == 2
    # the query code is not stored in clear anywhere
    receipts = list((case_repo.path / ".git" / "letterbox-intake" / "receipts").glob("*.json"))
    assert len(receipts) == 2
    for path in receipts:
        text = path.read_text("utf-8")
        for answer in (first, clicks[0]):
            qc = answer.json()["query_code"]
            assert qc not in text and codes.normalise_query_code(qc) not in text
        assert key not in text and key2 not in text
    short = server.letter(web_submission(4), "short")
    assert short.status_code == 400


def test_retry_after_restart_returns_same_codes(case_repo: Repo) -> None:
    key = str(uuid.uuid4())
    with serving(case_repo) as server:
        first = server.letter(web_submission(1), key).json()
    with serving(case_repo) as server:
        again = server.letter(web_submission(1), key)
    assert again.status_code == 201 and again.json() == first
    assert len(list((case_repo.path / "cases").rglob("*.yaml"))) == 1


def test_honeypot_pretends_and_stores_nothing(case_repo: Repo, server: Server) -> None:
    before = snapshot_head(case_repo)
    answer = server.letter({**web_submission(1), "website": "http://spam.example"})
    assert answer.status_code == 201
    assert set(answer.json()) == {"letter_code", "query_code"}
    assert snapshot_head(case_repo) == before
    assert not list((case_repo.path / "cases").rglob("*.yaml"))


def snapshot_head(repo: Repo) -> tuple[str, str]:
    return head(repo.path), porcelain(repo.path)


def test_cors_only_for_the_site_origin(case_repo: Repo) -> None:
    site = "https://xzxx.example.gov.cn"
    with serving(case_repo, "--allow-origin", site) as server:
        pre = httpx.options(server.url + "/api/letters", headers={
            "Origin": site, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,idempotency-key"})
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == site
        evil = httpx.options(server.url + "/api/letters", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in evil.headers
        posted = server.letter(web_submission(1), headers={"Origin": "https://evil.example"})
        assert posted.status_code == 403
        ok = server.letter(web_submission(1), headers={"Origin": site})
        assert ok.status_code == 201 and ok.headers["access-control-allow-origin"] == site


# --------------------------------------------------------------------------- feedback


def close(repo: Repo, code: str, at: str | None = None) -> None:
    extra = ["--at", at] if at else []
    repo.run("classify", code, "--category", "consultation", *extra)
    repo.run("reply", code, "--text", "已转告城管部门，路灯已修复。", *extra)


def test_feedback_once_and_reopen_list(case_repo: Repo, server: Server) -> None:
    a = server.letter(web_submission(1)).json()
    b = server.letter(web_submission(2)).json()
    code, query = a["letter_code"], a["query_code"]

    early = server.post("/api/feedback", {"letter_code": code, "query_code": query, "rating": "满意"})
    assert early.status_code == 409 and "办结后" in early.json()["error"]

    close(case_repo, code)
    close(case_repo, b["letter_code"])
    before = commit_count(case_repo.path)
    wrong = server.post("/api/feedback", {"letter_code": code, "query_code": "2345-6789-ABCD",
                                          "rating": "不满意"})
    assert wrong.status_code == 403
    unknown = server.post("/api/feedback", {"letter_code": "LA-2026-09999", "query_code": query,
                                            "rating": "不满意"})
    assert unknown.status_code == 403 and unknown.json() == wrong.json()
    bad = server.post("/api/feedback", {"letter_code": code, "query_code": query, "rating": "还行"})
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "rating"
    assert commit_count(case_repo.path) == before

    lower = query.lower().replace("-", "")  # either case, with or without dashes
    done = server.post("/api/feedback", {"letter_code": code.lower(), "query_code": lower,
                                         "rating": "不满意", "comment": "路灯修了两天又坏了。"})
    assert done.status_code == 201, done.text
    assert done.json() == {"letter_code": code, "rating": "不满意", "reopen": True}
    assert commit_count(case_repo.path) == before + 1
    assert case_repo.git("log", "-1", "--format=%s").strip() == f"{code} 评价 不满意"
    event = case_repo.letter(code)["history"][-1]
    assert event["action"] == "feedback" and event["actor"] == "来信人"
    assert event["details"] == {"rating": "不满意", "comment": "路灯修了两天又坏了。"}

    twice = server.post("/api/feedback", {"letter_code": code, "query_code": query, "rating": "满意"})
    assert twice.status_code == 409
    happy = server.post("/api/feedback", {"letter_code": b["letter_code"], "query_code": b["query_code"],
                                          "rating": "满意"})
    assert happy.status_code == 201 and happy.json()["reopen"] is False

    rows = case_repo.json("reopen-list")
    assert [r["letter_code"] for r in rows] == [code]
    assert rows[0]["days_after_closing"] == 0 and rows[0]["comment"] == "路灯修了两天又坏了。"
    text = case_repo.run("reopen-list").stdout
    assert code in text and "退回重办" in text
    assert porcelain(case_repo.path) == ""
    case_repo.run("validate")


def test_dissatisfied_long_after_closing_is_not_reopened(case_repo: Repo, server: Server) -> None:
    accepted = case_repo.intake(submission(1, submitted_at="2026-03-02T09:15:00+08:00"))[0]
    close(case_repo, accepted["letter_code"], "2026-03-03T10:00:00+08:00")
    answer = server.post("/api/feedback", {**{k: accepted[k] for k in ("letter_code", "query_code")},
                                           "rating": "不满意"})
    assert answer.status_code == 201 and answer.json()["reopen"] is False
    assert case_repo.json("reopen-list") == []


# --------------------------------------------------------------------------- load and faults


def test_twenty_posts_at_once(case_repo: Repo, server: Server) -> None:
    before = commit_count(case_repo.path)
    barrier = threading.Barrier(20)

    def send(n: int) -> httpx.Response:
        barrier.wait()
        return server.letter(web_submission(n), str(uuid.uuid4()))

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(send, range(1, 21)))
    assert [a.status_code for a in answers] == [201] * 20, [a.text for a in answers]
    got = sorted(a.json()["letter_code"] for a in answers)
    assert got == [f"LA-2026-{n:05d}" for n in range(1, 21)]
    assert len({a.json()["query_code"] for a in answers}) == 20
    assert commit_count(case_repo.path) == before + 20
    for n, a in enumerate(answers, start=1):
        body = a.json()
        assert holds(case_repo, body["letter_code"], body["query_code"])
        assert case_repo.letter(body["letter_code"])["title"] == submission(n)["title"]
    times = [case_repo.letter(c)["submitted_at"] for c in got]
    assert times == sorted(times)  # sequence order is time order
    assert porcelain(case_repo.path) == "" and stray_files(case_repo.path) == []
    case_repo.run("validate")


def test_kill_during_load_loses_no_acknowledged_letter(case_repo: Repo) -> None:
    total = 60
    keys = [str(uuid.uuid4()) for _ in range(total)]
    acknowledged: dict[int, dict[str, str]] = {}
    lock = threading.Lock()
    server = Server(case_repo.path, "--rate-limit", "0/0")

    def send(n: int) -> None:
        try:
            answer = server.letter(web_submission(n), keys[n])
        except httpx.TransportError:
            return
        if answer.status_code == 201:
            with lock:
                acknowledged[n] = answer.json()

    with ThreadPoolExecutor(10) as pool:
        futures = [pool.submit(send, n) for n in range(total)]
        deadline = time.monotonic() + 60
        while len(acknowledged) < 15 and time.monotonic() < deadline:
            time.sleep(0.005)
        server.kill()  # SIGKILL in the middle of the load
        for f in futures:
            f.result()
    assert 15 <= len(acknowledged) < total, len(acknowledged)
    for n, body in acknowledged.items():
        assert holds(case_repo, body["letter_code"], body["query_code"]), n

    with serving(case_repo, "--rate-limit", "0/0") as again:  # restart: recovery, then every client retries
        assert porcelain(case_repo.path) == "" and stray_files(case_repo.path) == []
        for n in range(total):
            answer = again.letter(web_submission(n), keys[n])
            assert answer.status_code == 201, answer.text
            if n in acknowledged:
                assert answer.json() == acknowledged[n]
            acknowledged[n] = answer.json()
    letters = sorted(p.stem for p in (case_repo.path / "cases").rglob("*.yaml"))
    assert letters == [f"LA-2026-{n:05d}" for n in range(1, total + 1)]  # one per key, no gap
    assert sorted(a["letter_code"] for a in acknowledged.values()) == letters
    for n, body in acknowledged.items():
        assert holds(case_repo, body["letter_code"], body["query_code"])
        assert case_repo.letter(body["letter_code"])["title"] == submission(n)["title"]
    assert porcelain(case_repo.path) == "" and stray_files(case_repo.path) == []
    case_repo.run("validate")


def test_sequencer_reanchors_after_a_wrong_prediction() -> None:
    from datetime import datetime
    from types import SimpleNamespace
    from zoneinfo import ZoneInfo

    from letterbox.ops.sequencer import Sequencer

    class Disk:
        config = SimpleNamespace(prefix="LA")
        next = 1

        def next_letter_code(self, year: int) -> str:
            return codes.letter_code("LA", year, self.next)

    disk = Disk()
    seq = Sequencer(disk)  # type: ignore[arg-type]
    now = lambda: datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Asia/Shanghai"))  # noqa: E731
    assert [seq.ticket(now)[2] for _ in range(3)] == ["LA-2026-00001", "LA-2026-00002", "LA-2026-00003"]
    seq.done(0, "LA-2026-00001")
    seq.done(1, None)  # refused under the lock: 00002 stays free
    assert seq.ticket(now)[2] == "LA-2026-00004"  # issued before anyone knew
    seq.done(2, "LA-2026-00002")  # predicted 00003, got 00002: the next ones follow the commit
    assert seq.ticket(now)[2] == "LA-2026-00004"
    seq.done(3, "LA-2026-00003")
    seq.done(4, "LA-2026-00004")
    disk.next = 9  # idle: the next ticket reads the files again
    assert seq.ticket(now)[2] == "LA-2026-00009"


def test_command_line_intake_during_service_load(case_repo: Repo, server: Server) -> None:
    files = [case_repo.write_submission(f"cli{n}.json", submission(100 + n)) for n in range(3)]
    with ThreadPoolExecutor(8) as pool:
        posts = [pool.submit(server.letter, web_submission(n), str(uuid.uuid4())) for n in range(12)]
        procs = [subprocess.Popen([LETTERBOX_BIN, "--repo", str(case_repo.path), "intake", str(f), "--json"],
                                  stdout=subprocess.PIPE, text=True) for f in files]
        answers = [f.result() for f in posts]
        outputs = [json.loads(p.communicate(timeout=120)[0])[0] for p in procs]
    assert [a.status_code for a in answers] == [201] * 12
    given = [a.json() for a in answers] + outputs
    letters = sorted(p.stem for p in (case_repo.path / "cases").rglob("*.yaml"))
    assert letters == [f"LA-2026-{n:05d}" for n in range(1, 16)]
    assert sorted(g["letter_code"] for g in given) == letters
    for g in given:
        assert holds(case_repo, g["letter_code"], g["query_code"])
    assert porcelain(case_repo.path) == ""
    case_repo.run("validate")
