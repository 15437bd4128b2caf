"""Online intake service (article 6): `POST /api/letters`, `POST /api/feedback` and `POST /api/review`.

A small Starlette app run by uvicorn (`letterbox serve-intake`). It serves nothing of the case
repository: three POST endpoints and `GET /api/health`. A submission goes through the same
`intake.intake_one` as the `letterbox intake` command (same checks, same file, same commit).

Throughput: each request takes a ticket of `ops.sequencer.Sequencer` that predicts its letter
code, hashes the query code outside the repository lock (hashlib releases the GIL, so two cores
hash at once), then commits in ticket order; nothing is reserved on disk, so a crash leaves no
gap. Idempotency: a client's `Idempotency-Key` (header) or `idempotency_key` (field) finds the
receipt `ops.receipts.ReceiptStore` wrote under the lock, and the same two codes come back, also
after a crash or restart; the same key with different content gets 409.

Rate limit (`web.ratelimit`), size limit, honeypot (`website`), CORS for the site's origin only, and no personal
data in any answer or log line: errors name the field and what was expected, never the value.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from letterbox.core import codes
from letterbox.core.clock import work_calendar
from letterbox.core.errors import LetterboxError, NotFound, StepRefused
from letterbox.core.process import RATINGS, REVIEW_KINDS
from letterbox.ops.intake import (
    FIELDS,
    LABELS,
    PeriodRefused,
    Submission,
    check_submission,
    intake_one,
    known_codes,
    period_refusal,
    prepare,
)
from letterbox.ops.receipts import RECEIPT_TTL, WRITER_FIELDS, Receipt, ReceiptStore, fingerprint
from letterbox.ops.reviews import request_review
from letterbox.ops.sequencer import Sequencer
from letterbox.ops.workflow import take_step
from letterbox.reports.reopen import reopen_entry
from letterbox.store import signing
from letterbox.store.repository import Actor, Repository
from letterbox.web.ratelimit import RateLimiter

MAX_BODY_BYTES = 128 * 1024  # the body may be 20 000 characters: 60 KB as UTF-8, 120 KB \u-escaped
RATE_LIMIT = (30, 600.0)  # requests per address per window (seconds)
MAX_COMMENT = 500
HONEYPOT = "website"
KEY_FIELD = "idempotency_key"
KEY_RE = re.compile(r"^[A-Za-z0-9_\-:.]{16,128}$")
SERVICE_FIELDS = frozenset(FIELDS) | {HONEYPOT, KEY_FIELD}
FEEDBACK_FIELDS = ("letter_code", "query_code", "rating", "comment")
FEEDBACK_LABELS = {"letter_code": "信件编码", "query_code": "查询码", "rating": "评价", "comment": "评价意见"}
REVIEW_FIELDS = ("letter_code", "query_code", "kind", "text")
REVIEW_LABELS = {"letter_code": "信件编码", "query_code": "查询码", "kind": "申请事项", "text": "申请理由"}
MAX_REVIEW_TEXT = 2000
RECORD = "来信"
LOG = logging.getLogger("uvicorn.error")


# --------------------------------------------------------------------------- answers


def _error(status: int, message: str, problems: list[dict[str, str]] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if problems:
        body["problems"] = problems
    return JSONResponse(body, status_code=status, headers=headers)


def _field_problem(field: str, message: str, labels: dict[str, str] | None = None) -> dict[str, str]:
    label = (labels or LABELS).get(field, field)
    return {"field": field, "label": label, "message": message}


def _safe_name(key: Any) -> str:
    """A field name fit to repeat: a client could put anything, even personal data, in a key."""
    text = str(key)
    return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,39}", text) else "（无法显示的字段名）"


class BodyTooLarge(Exception):
    pass


async def _read_json(request: Request, limit: int) -> Any:
    """The request's JSON; BodyTooLarge past `limit` bytes; ValueError when it is not JSON."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return json.loads(b"".join(chunks).decode("utf-8"))


# --------------------------------------------------------------------------- the service


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


class IntakeService:
    def __init__(self, root: Path, *, max_body: int, rate_limit: tuple[int, float], receipt_ttl: float,
                 actor: str, origins: list[str], now: Callable[[], datetime] | None,
                 lookup_refresh: Callable[[list[str]], object] | None = None) -> None:
        self.repo = Repository(root)
        self.lookup_refresh = lookup_refresh
        self.config = self.repo.config
        self.max_body = max_body
        self.limiter = RateLimiter(int(rate_limit[0]), float(rate_limit[1]))
        self.receipts = ReceiptStore(self.repo.git_dir / "letterbox-intake" / "receipts", receipt_ttl)
        self.sequencer = Sequencer(self.repo)
        self.actor = self._service_actor(actor)
        self.writer = Actor("来信人", "letterbox-intake@localhost")
        self.origins = origins
        self.now = now or (lambda: datetime.now(self.config.tz))
        self.threads = anyio.CapacityLimiter(4)
        self.verify_threads = anyio.CapacityLimiter(2)
        self.inflight: dict[str, asyncio.Event] = {}
        self.stats = {"letters": 0, "rehashed": 0, "replayed": 0, "honeypot": 0, "feedback": 0,
                      "reviews": 0}

    # -- shared checks ------------------------------------------------------------------

    def _service_actor(self, name: str) -> Actor:
        """The service's own roster entry when the repository has a roster (its key is named by
        LETTERBOX_SIGNING_KEY or git's user.signingkey; role intake), else `name`."""
        roster = self.config.roster
        if not roster:
            return Actor(name, "letterbox-intake@localhost")
        member, _key = signing.acting_member(self.repo.git, roster)
        if member.role != "intake":
            raise LetterboxError(f"收信服务的签名密钥在名册中属于“{member.name}”（{member.role_label}），"
                                 "应为收信服务（intake）自己的密钥（docs/roster.md）。")
        return Actor(member.name, "letterbox-intake@localhost")
    def _address(self, request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def _guard(self, request: Request) -> JSONResponse | None:
        origin = request.headers.get("origin")
        if origin and origin not in self.origins and _origin(str(request.base_url)) != origin:
            return _error(403, "此服务只接受本网站写信页面的提交。")
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return _error(415, "请求格式应为 JSON（Content-Type: application/json）。")
        wait = self.limiter.check(self._address(request))
        if wait is not None:
            return _error(429, f"提交过于频繁，请 {int(wait // 60) + 1} 分钟后再试。",
                          headers={"Retry-After": str(int(wait) + 1)})
        return None

    async def _request(self, request: Request) -> dict[str, Any] | JSONResponse:
        """Origin and rate checks, then the JSON object of the body; or the error response."""
        refused = self._guard(request)
        return refused if refused else await self._body(request)

    async def _body(self, request: Request) -> dict[str, Any] | JSONResponse:
        try:
            data = await _read_json(request, self.max_body)
        except BodyTooLarge:
            return _error(413, f"提交的内容过大（上限 {self.max_body // 1024} KB）。正文不超过 20000 字。")
        except (ValueError, UnicodeDecodeError):
            return _error(400, "提交的内容不是有效的 JSON（应为 UTF-8 编码的 JSON 对象）。")
        if not isinstance(data, dict):
            return _error(400, "提交的内容应为一个 JSON 对象（键值表）。")
        return data

    # -- POST /api/letters ---------------------------------------------------------------
    async def letters(self, request: Request) -> JSONResponse:
        data = await self._request(request)
        if isinstance(data, JSONResponse):
            return data
        if data.get(HONEYPOT):  # a bot filled the hidden field: pretend, store nothing
            self.stats["honeypot"] += 1
            await asyncio.sleep(0.2)
            year = self.now().year
            fake = self.repo.next_letter_code(year)
            return JSONResponse({"letter_code": fake, "query_code": codes.new_query_code()}, status_code=201)
        key = request.headers.get("idempotency-key") or data.get(KEY_FIELD)
        if key is not None and (not isinstance(key, str) or not KEY_RE.match(key)):
            return _error(400, "幂等键（Idempotency-Key）格式不对：应为 16 到 128 位的字母、数字或 - _ : .，"
                               "每封信随机生成一次。",
                          [_field_problem(KEY_FIELD, "格式不对。", {KEY_FIELD: "幂等键"})])
        allowed = "、".join(f for f in FIELDS if f not in ("submitted_at", "channel"))
        unknown = [_field_problem(_safe_name(k), f"未知字段（可能是拼写错误）。可用字段：{allowed}。")
                   for k in data if k not in SERVICE_FIELDS]
        fields = {k: v for k, v in data.items() if k in WRITER_FIELDS and v is not None}
        if key is None:
            return await self._intake(fields, None, unknown)
        while key in self.inflight:  # a double click: wait for the first request, then replay
            await self.inflight[key].wait()
        event = self.inflight[key] = asyncio.Event()
        try:
            return await self._intake(fields, key, unknown)
        finally:
            del self.inflight[key]
            event.set()

    async def _intake(self, fields: dict[str, Any], key: str | None,
                      unknown: list[dict[str, str]]) -> JSONResponse:
        print_fp = fingerprint(key, fields) if key else ""
        if key and not unknown:
            receipt = await anyio.to_thread.run_sync(self.receipts.get, key, self.repo)
            if receipt is not None:
                return self._replay(receipt, print_fp)
        stamp = self.now().isoformat(timespec="seconds")
        problems = unknown + await anyio.to_thread.run_sync(self._precheck, fields, stamp)
        if problems:
            return _error(422, "来信未收，未保存任何内容。请按提示改正后重新提交。", problems)
        try:
            outcome = await anyio.to_thread.run_sync(self._store, fields, key, print_fp,
                                                     limiter=self.threads)
        except PeriodRefused as exc:  # the administrator's to fix; the message names no writer datum
            LOG.error("在线写信未能保存：%s", exc.message)
            return _error(503, "案卷库暂时无法保存来信（加密保存的密钥尚未配置），请稍后重试或致电信箱办公室。",
                          headers={"Retry-After": "600"})
        except LetterboxError as exc:
            if exc.problems and all(p.field for p in exc.problems):
                return _error(422, "来信未收，未保存任何内容。请按提示改正后重新提交。",
                              [self._problem(p.field, p.message) for p in exc.problems])
            return _error(503, "案卷库暂时无法保存来信，请稍后重试（用同一页面重试不会重复提交）。",
                          headers={"Retry-After": "10"})
        if isinstance(outcome, Receipt):
            return self._replay(outcome, print_fp)
        return JSONResponse({"letter_code": outcome[0], "query_code": outcome[1]}, status_code=201,
                            background=self._after_commit(outcome[0]))

    def _after_commit(self, code: str) -> BackgroundTask | None:
        """Once the answer is sent: the letter's entry of the site's lookup index refreshed
        (`lookup_refresh`, given by `serve-intake --site`), so that the writer finds it within
        seconds. A failure is logged (the code and the kind of error only) and never fails the
        intake: the next `letterbox lookup-refresh` (docs/deploy.md's timer) catches up."""
        return BackgroundTask(self._refresh_lookup, code) if self.lookup_refresh else None

    def _refresh_lookup(self, code: str) -> None:
        if self.lookup_refresh is None:
            return
        try:
            done = self.lookup_refresh([code])
            if getattr(done, "mode", None) == "skipped":
                LOG.warning("查询索引未即时更新（%s）：%s；将由下一次 letterbox lookup-refresh 补上。",
                            code, getattr(done, "reason", ""))
        except Exception as exc:  # noqa: BLE001 - the letter is stored; the timer catches up
            LOG.warning("查询索引未能即时更新（%s，%s），将由下一次 letterbox lookup-refresh 补上。",
                        code, type(exc).__name__)

    def _replay(self, receipt: Receipt, print_fp: str) -> JSONResponse:
        if not hmac.compare_digest(receipt.fingerprint, print_fp):
            # the same page stored a letter before (e.g. the answer was lost), then was edited:
            # the key holder gets that letter's codes, and the edit is not stored
            return JSONResponse({"error": "此前用同一页面提交的来信已保存，与本次内容不同，本次修改未提交。"
                                          "请保存下面的编码；如需补充，请再写一封并在“前信编码”中写明。",
                                 "letter_code": receipt.letter_code, "query_code": receipt.query_code},
                                status_code=409)
        self.stats["replayed"] += 1
        return JSONResponse({"letter_code": receipt.letter_code, "query_code": receipt.query_code},
                            status_code=201, headers={"Idempotent-Replayed": "true"})

    @staticmethod
    def _problem(field: str, message: str) -> dict[str, str]:
        prefix = f"{RECORD}："
        return _field_problem(field, message[len(prefix):] if message.startswith(prefix) else message)

    def _submission(self, fields: dict[str, Any], stamp: str) -> Submission:
        return Submission("在线写信", None, RECORD, {**fields, "submitted_at": stamp, "channel": "web"})

    def _precheck(self, fields: dict[str, Any], stamp: str) -> list[dict[str, str]]:
        found = check_submission(self._submission(fields, stamp), known_codes(self.repo))
        return [self._problem(p.field, p.message) for p in found]

    def _store(self, fields: dict[str, Any], key: str | None, print_fp: str) -> tuple[str, str] | Receipt:
        """Runs in a worker thread: ticket, hash outside the lock, commit in ticket order."""
        number, moment, predicted = self.sequencer.ticket(self.now)
        captured: dict[str, Any] = {}
        committed: str | None = None
        try:
            prepared = prepare(self.repo, predicted)
            self.sequencer.wait_turn(number)
            if key:  # another process may have stored this key meanwhile
                receipt = self.receipts.get(key, self.repo)
                if receipt is not None:
                    return receipt
            sub = self._submission(fields, moment.isoformat(timespec="seconds"))

            def before_commit(code: str, query_code: str, query_hash: dict[str, Any]) -> None:
                captured.update(code=code, query_code=query_code, hash=query_hash["hash"])
                if key:
                    self.receipts.put(key, code, query_code, query_hash["hash"], print_fp)

            try:
                accepted = intake_one(self.repo, sub, self.actor, prepared=prepared,
                                      before_commit=before_commit)
            except Exception:
                # never report a committed letter as failed
                if captured and self._committed(captured["code"], captured["hash"]):
                    committed = captured["code"]
                    return captured["code"], captured["query_code"]
                raise
            committed = accepted.letter_code
            self.stats["letters"] += 1
            if accepted.query_code != prepared.query_code:
                self.stats["rehashed"] += 1
            return accepted.letter_code, accepted.query_code
        finally:
            self.sequencer.done(number, committed)

    def _committed(self, code: str, query_hash: str) -> bool:
        """Whether HEAD holds the letter `code` with this query-code hash."""
        try:
            path = str(self.repo.path_of(code))
            text = self.repo.git.git.show(f"HEAD:{path}")
        except Exception:  # noqa: BLE001 - any doubt means not committed
            return False
        return query_hash in text

    # -- POST /api/feedback --------------------------------------------------------------
    async def feedback(self, request: Request) -> JSONResponse:
        data = await self._request(request)
        if isinstance(data, JSONResponse):
            return data
        problems = []
        for k in data:
            if k not in FEEDBACK_FIELDS:
                problems.append(_field_problem(_safe_name(k), "未知字段。可用字段：letter_code、query_code、rating、comment。",
                                               FEEDBACK_LABELS))
        code = codes.normalise_letter_code(str(data.get("letter_code") or ""))
        if not code:
            problems.append(_field_problem("letter_code", "信件编码不对：应如 LA-2026-00001。", FEEDBACK_LABELS))
        query = str(data.get("query_code") or "")
        if not codes.normalise_query_code(query):
            problems.append(_field_problem("query_code", "查询码不对：应为 12 位字母和数字，如 7KQ4-M2XD-9PW3。",
                                           FEEDBACK_LABELS))
        rating = data.get("rating")
        if rating not in RATINGS:
            problems.append(_field_problem("rating", f"评价应为：{'、'.join(RATINGS)}。", FEEDBACK_LABELS))
        comment = data.get("comment")
        if comment is not None and (not isinstance(comment, str) or len(comment.strip()) > MAX_COMMENT):
            problems.append(_field_problem("comment", f"评价意见应为不超过 {MAX_COMMENT} 字的文字。", FEEDBACK_LABELS))
        if problems:
            return _error(422, "评价未保存。请按提示改正后重新提交。", problems)
        details: dict[str, Any] = {"rating": rating}
        if isinstance(comment, str) and comment.strip():
            details["comment"] = comment.strip()
        if not await anyio.to_thread.run_sync(self._verify, code, query, limiter=self.verify_threads):
            return _error(403, "信件编码或查询码不对，评价未保存。")
        try:
            result = await anyio.to_thread.run_sync(self._record_feedback, code, details,
                                                    limiter=self.threads)
        except StepRefused:
            return _error(409, "这封信现在不能评价：办结后才能评价，且每封信只能评价一次。")
        except NotFound:
            return _error(403, "信件编码或查询码不对，评价未保存。")
        except LetterboxError:
            return _error(503, "案卷库暂时无法保存评价，请稍后重试。", headers={"Retry-After": "10"})
        return JSONResponse({"letter_code": result[0], "rating": rating, "reopen": result[1]}, status_code=201,
                            background=self._after_commit(result[0]))

    def _verify(self, code: str, query: str) -> bool:
        try:
            record = self.repo.letter(code).data.get("query_hash") or {}
        except LetterboxError:
            codes.hash_query_code(codes.new_query_code(), code, self.config.salt, self.config.iterations)
            return False  # same time as a wrong query code
        return codes.verify_query_code(query, code, self.config.salt, record)

    def _record_feedback(self, code: str, details: dict[str, Any]) -> tuple[str, bool]:
        take_step(self.repo, code, "feedback", details, self.writer, summary=details["rating"])
        letter = self.repo.letter(code)
        self.stats["feedback"] += 1
        return letter.code, reopen_entry(letter, self.config, work_calendar(self.repo.root)) is not None

    # -- POST /api/review ----------------------------------------------------------------
    async def review(self, request: Request) -> JSONResponse:
        """The writer asks for 复查 or 复核 from the lookup page (《信访工作条例》第三十五、三十六
        条): the two codes, the kind and the reason; the same step and checks (30-day windows,
        信访 cases only, once each) as `letterbox review`, recorded as asked by the writer."""
        data = await self._request(request)
        if isinstance(data, JSONResponse):
            return data
        problems = []
        for k in data:
            if k not in REVIEW_FIELDS:
                problems.append(_field_problem(_safe_name(k), "未知字段。可用字段：letter_code、query_code、kind、text。",
                                               REVIEW_LABELS))
        code = codes.normalise_letter_code(str(data.get("letter_code") or ""))
        if not code:
            problems.append(_field_problem("letter_code", "信件编码不对：应如 LA-2026-00001。", REVIEW_LABELS))
        query = str(data.get("query_code") or "")
        if not codes.normalise_query_code(query):
            problems.append(_field_problem("query_code", "查询码不对：应为 12 位字母和数字，如 7KQ4-M2XD-9PW3。",
                                           REVIEW_LABELS))
        kind = data.get("kind")
        if kind not in REVIEW_KINDS:
            problems.append(_field_problem("kind", f"申请事项应为：{'或'.join(REVIEW_KINDS)}。", REVIEW_LABELS))
        text = data.get("text")
        if not isinstance(text, str) or not text.strip() or len(text.strip()) > MAX_REVIEW_TEXT:
            problems.append(_field_problem("text", f"请写明申请理由（不超过 {MAX_REVIEW_TEXT} 字）。", REVIEW_LABELS))
        if problems:
            return _error(422, "申请未提交。请按提示改正后重新提交。", problems)
        assert isinstance(kind, str) and isinstance(text, str)
        if not await anyio.to_thread.run_sync(self._verify, code, query, limiter=self.verify_threads):
            return _error(403, "信件编码或查询码不对，申请未提交。")
        try:
            letter_code = await anyio.to_thread.run_sync(self._record_review, code, kind, text.strip(),
                                                         limiter=self.threads)
        except StepRefused as exc:
            return _error(409, f"这封信现在不能申请{kind}：{_writer_reason(str(exc))}")
        except NotFound:
            return _error(403, "信件编码或查询码不对，申请未提交。")
        except LetterboxError:
            return _error(503, "案卷库暂时无法保存申请，请稍后重试。", headers={"Retry-After": "10"})
        return JSONResponse({"letter_code": letter_code, "kind": kind}, status_code=201,
                            background=self._after_commit(letter_code))

    def _record_review(self, code: str, kind: str, text: str) -> str:
        result = request_review(self.repo, code, kind, self.writer, text)
        self.stats["reviews"] += 1
        return result.letter_code

    # -- lifecycle -----------------------------------------------------------------------
    def startup(self) -> None:
        """Undo a transaction a killed server left behind, and forget old receipts."""
        with self.repo.transaction():
            self.receipts.prune()  # receipts are written under the same lock
        year = str(self.now().year)
        if refusal := period_refusal(self.config, year):
            LOG.warning("在线写信服务：%s", refusal)


def _writer_reason(message: str) -> str:
    """A refusal as the writer reads it: without the letter code it starts with and without the
    staff's hint (the commands possible now)."""
    text = re.sub(r"^信件 [A-Z0-9-]+：", "", message.strip())
    text = re.split(r"信件 [A-Z0-9-]+ 当前状态|现在可以执行", text)[0].rstrip("，,；; ")
    return text or "不符合申请条件。"


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return _error(404, "没有这个地址。本服务只提供 POST /api/letters、POST /api/feedback 和 POST /api/review。")


async def _not_allowed(request: Request, exc: Exception) -> JSONResponse:
    return _error(405, "不支持这种请求方法。")


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    return _error(500, "服务内部错误，来信可能未保存。请用同一页面重试（不会重复提交），或致电信箱办公室。")


def create_app(repo_root: Path | str, *, allow_origins: list[str] | None = None,
               max_body: int = MAX_BODY_BYTES, rate_limit: tuple[int, float] = RATE_LIMIT,
               receipt_ttl: float = RECEIPT_TTL, actor: str = "网上信箱",
               now: Callable[[], datetime] | None = None,
               lookup_refresh: Callable[[list[str]], object] | None = None) -> Starlette:
    """The intake service for the case repository at `repo_root`.

    `lookup_refresh`: called with [letter code] after each stored letter or rating, once the
    answer is sent (the command line passes `site_builder.lookup_index.refresh_letters` bound to
    the site folder; this layer does not import the site builder).

    `allow_origins`: origins allowed by CORS (default: the origin of `site_url` in
    letterbox.yaml). `rate_limit`: (requests, seconds) per client address; (0, 0) turns it off.
    """
    root = Path(repo_root)
    config = Repository(root).config
    origins = list(allow_origins or [o for o in [_origin(config.site_url)] if o])
    service = IntakeService(root, max_body=max_body, rate_limit=rate_limit, receipt_ttl=receipt_ttl,
                            actor=actor, origins=origins, now=now, lookup_refresh=lookup_refresh)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(service.startup)
        yield
        s = service.stats
        LOG.info("在线写信服务停止：收信 %d 封（其中 %d 封在锁内重算查询码），重复提交 %d 次，"
                 "蜜罐拦截 %d 次，评价 %d 次，复查复核申请 %d 次。", s["letters"], s["rehashed"], s["replayed"],
                 s["honeypot"], s["feedback"], s["reviews"])

    middleware = [Middleware(CORSMiddleware, allow_origins=origins, allow_methods=["POST"],
                             allow_headers=["Content-Type", "Idempotency-Key"], max_age=600)]
    app = Starlette(
        routes=[Route("/api/letters", service.letters, methods=["POST"]),
                Route("/api/feedback", service.feedback, methods=["POST"]),
                Route("/api/review", service.review, methods=["POST"]),
                Route("/api/health", _health, methods=["GET"])],
        middleware=middleware,
        exception_handlers={404: _not_found, 405: _not_allowed, 500: _server_error},
        lifespan=lifespan,
    )
    app.state.service = service
    return app
