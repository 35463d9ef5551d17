"""The sandbox's HTTP server: the contract of api.finance.visma.net on loopback.

Threaded, HTTP/1.1 with keep-alive. Every API call goes: the declared body
length (413 above ``max_body``) → authenticate (the bearer token of
``/connect/token``) → read the body (within ``connection_timeout`` of the
request's first byte) → rate limit (a fixed window per client and tenant,
``X-RateLimit-*`` on every answer) → the token's scope → injected faults → the
route. Every API call is then kept in the call record (:class:`Call`: tenant,
the job of its ``X-Vnimport-Job`` header, method, path, status, start and
end), read with :meth:`Sandbox.calls` or ``GET /sandbox/calls``. The
documents themselves are :mod:`importer.sandbox.documents`; request bodies
are checked by :mod:`importer.sandbox.dtos`; state is
:mod:`importer.sandbox.store`. Releases are done later, on a timer
(:meth:`SandboxServer.later`), as Visma does them in the background.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import io
import json
import math
import random
import secrets
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from importer.sandbox import balances, documents, references
from importer.sandbox.config import (
    DEMO_TENANT,
    JOB_HEADER,
    SCOPE_PREFIX,
    Client,
    ErrorBody,
    SandboxConfig,
    TenantKind,
)
from importer.sandbox.dtos import check_body
from importer.sandbox.store import Store

# Where each number series starts (Visma: per company, set up in the ERP).
SERIES_START = {
    "customer": 10001,
    "supplier": 50001,
    "customer_invoice": 100001,
    "customer_credit_note": 200001,
    "customer_debit_note": 300001,
    "supplier_invoice": 400001,
    "purchase_order": 500001,
}
V2_CREATE = {"customer_invoice", "customer_credit_note", "customer_debit_note"}
# Kinds whose release answers 202 and a background request (the spec lists only
# 202 and 412 for it); the others answer 200 with actionResult "Queued".
RELEASE_ACCEPTED = {"supplier_invoice"}
# Kinds also served as /v1/<collection>/{documentType}/{number} (GET, PUT,
# DELETE, actions): the spec's supplier invoice paths.
TYPED = {"supplier_invoice"}
# A credit note's application names the document it is applied to by its type.
APPLIED_KINDS = {"Invoice": "customer_invoice", "DebitNote": "customer_debit_note"}
# The scope a call needs, by method (visma-api-notes.md §4.2).
SCOPE_OF = {"GET": "read", "POST": "create", "PUT": "update", "DELETE": "delete"}
# A refused request's body is not read. Up to this much of it is then drained,
# so that the connection can be kept; a larger one is discarded for at most
# LINGER_SECONDS after the answer and the connection closed (closing with
# unread bytes would reset the connection before the client reads the answer).
DRAIN_LIMIT = 64 * 1024
LINGER_SECONDS = 2.0
BACKGROUND_HEADER = "erp-api-background"
BACKGROUND_TTL = 24 * 3600.0
DATETIME_CONDITIONS = {">", ">=", "<", "<="}
CALLS_PATH = "/sandbox/calls"  # the call record, read-only, outside the API's paths
CALLS_PAGE = 100_000  # the most calls one GET /sandbox/calls answers with
JOB_CAP = 200  # characters of a job header kept


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able, or bytes, or None for no body
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


class _Unanswered(Exception):
    """A fault: the request is left without an answer."""


class Refusal(Exception):
    """An error answer, raised from anywhere in a route."""

    def __init__(
        self, status: int, message: str, headers: dict[str, str] | None = None, body: Any = None
    ) -> None:
        super().__init__(message)
        self.reply = Reply(
            status, body if body is not None else {"message": message}, headers or {}
        )


def visma_error(status: int, text: str) -> Refusal:
    """Visma's ERP error body: ``{"message": "VismaId: <uuid>. <text>"}``."""
    return Refusal(status, f"VismaId: {uuid.uuid4()}. {text}")


def gateway_error(
    status: int, message: str, form: ErrorBody, headers: dict[str, str] | None = None
) -> Refusal:
    """An error answer in the form a gateway in front of Visma may give it:
    ``json`` ``{"message": message}``, an ``html`` page, ``text``, or ``empty``."""
    refusal = Refusal(status, message, headers)
    title = f"{status} {HTTPStatus(status).phrase}"
    if form == "html":
        page = (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n"
        )
        refusal.reply.body = page.encode()
        refusal.reply.headers["Content-Type"] = "text/html"
    elif form == "text":
        refusal.reply.body = title.encode()
        refusal.reply.headers["Content-Type"] = "text/plain; charset=utf-8"
    elif form == "empty":
        refusal.reply.body = None
    return refusal


@dataclass(frozen=True)
class Call:
    """One API call as the sandbox saw it (the token endpoint's are not
    kept). ``job`` is the caller's ``X-Vnimport-Job`` header ("" without
    one); ``tenant`` and ``client`` are the token's ("" when the token was
    missing or not valid); ``status`` is the answer's, 0 when none was sent
    (a dropped connection). ``start`` and ``end`` are ``time.monotonic()``
    on the sandbox's machine: the request's headers read, and the answer
    about to be written (a call is recorded before its answer is sent, so
    a client that has the answer finds the call in the record). ``seq``
    numbers the calls in the order they ended, from 1."""

    seq: int
    tenant: str
    client: str
    job: str
    method: str
    path: str
    query: str
    status: int
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "tenant": self.tenant,
            "client": self.client,
            "job": self.job,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "start": self.start,
            "end": self.end,
        }


def busy(calls: Iterable[Call]) -> list[tuple[float, float]]:
    """The stretches of time in which at least one of ``calls`` was under
    way, in order, overlapping calls merged."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted((c.start, c.end) for c in calls):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def overlap(a: Iterable[Call], b: Iterable[Call]) -> float:
    """Seconds during which a call of ``a`` and a call of ``b`` were both
    under way (e.g. two jobs' calls: 0.0 when they never ran at once)."""
    first, second = busy(a), busy(b)
    total, i, j = 0.0, 0, 0
    while i < len(first) and j < len(second):
        lo = max(first[i][0], second[j][0])
        hi = min(first[i][1], second[j][1])
        total += max(0.0, hi - lo)
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return total


@dataclass(frozen=True)
class Caller:
    client: str
    tenant: str
    tenant_kind: TenantKind
    scopes: frozenset[str] = frozenset()


class _DeadlineReader(io.RawIOBase):
    """The socket's reading side with a deadline per request: an idle
    connection waits ``timeout`` for a request; once its first byte has come,
    the whole request (request line, headers, body) must come within
    ``timeout``, however slowly it trickles. A read past it raises
    TimeoutError (http.server then closes the connection)."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        super().__init__()
        self.sock = sock
        self.timeout = timeout
        self.deadline: float | None = None  # None: between requests

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.deadline is None:
            wait = self.timeout
        else:
            wait = self.deadline - time.monotonic()
            if wait <= 0:
                raise TimeoutError("the request did not arrive in time")
        self.sock.settimeout(wait)
        n = self.sock.recv_into(buffer)
        if n and self.deadline is None:
            self.deadline = time.monotonic() + self.timeout
        return n


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], config: SandboxConfig, verbose: bool = False
    ) -> None:
        self.config = config
        self.verbose = verbose
        self.store = Store(config.db)
        for tenant in config.seeded_tenants:  # demo-company, company-1 ... company-N
            references.seed(self.store, tenant, config.company)
        self._references: dict[str, references.References] = {}
        self._tokens: dict[str, tuple[Caller, float]] = {}
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()
        self._rng = random.Random(config.faults.seed)
        self._jobs: set[threading.Timer] = set()
        self._closed = False
        self._calls: deque[Call] = deque(maxlen=config.max_calls)
        self._calls_seq = 0
        self._calls_lock = threading.Lock()
        super().__init__(address, _Handler)

    # ------------------------------------------------------ call record

    def record_call(
        self,
        tenant: str,
        client: str,
        job: str,
        method: str,
        path: str,
        query: str,
        status: int,
        start: float,
        end: float,
    ) -> Call:
        """Keep one API call in the record (the newest ``max_calls``)."""
        with self._calls_lock:
            self._calls_seq += 1
            call = Call(
                self._calls_seq, tenant, client, job, method, path, query, status, start, end
            )
            self._calls.append(call)
        return call

    def calls(
        self,
        tenant: str | None = None,
        *,
        job: str | None = None,
        since: int = 0,
        limit: int | None = None,
    ) -> list[Call]:
        """The recorded calls in the order they ended: of ``tenant`` and
        ``job`` when given, after call number ``since``, at most ``limit``."""
        with self._calls_lock:
            kept = list(self._calls)
        found: list[Call] = []
        for call in kept:
            if call.seq <= since:
                continue
            if tenant is not None and call.tenant != tenant:
                continue
            if job is not None and call.job != job:
                continue
            found.append(call)
            if limit is not None and len(found) >= limit:
                break
        return found

    # -------------------------------------------------------- later work

    def later(self, seconds: float, work: Callable[..., Any], *args: Any) -> None:
        """Do ``work(*args)`` in ``seconds``, on a timer thread (a release,
        a late commit). Work still waiting when the server closes is dropped."""

        def run() -> None:
            try:
                with self._lock:
                    if self._closed:
                        return
                work(*args)
            except Refusal:
                pass  # e.g. a late commit whose number was taken meanwhile: not stored
            except Exception:
                if not self._closed:
                    raise
            finally:
                with self._lock:
                    self._jobs.discard(timer)

        timer = threading.Timer(seconds, run)
        timer.daemon = True
        with self._lock:
            self._jobs.add(timer)
        timer.start()

    def server_close(self) -> None:
        with self._lock:
            self._closed = True
            jobs = list(self._jobs)
        for job in jobs:
            job.cancel()
        for job in jobs:
            job.join(timeout=5)
        super().server_close()

    # -------------------------------------------------------- references

    def references_for(self, tenant: str) -> references.References:
        """The tenant's reference lists, read once (no API call changes them)."""
        with self._lock:
            found = self._references.get(tenant)
            if found is None:
                found = references.References.load(
                    self.store, tenant, check=self.config.check_references
                )
                self._references[tenant] = found
            return found

    # ------------------------------------------------------------ tokens

    def issue_token(self, client: Client, tenant: str, scopes: frozenset[str]) -> tuple[str, float]:
        token = secrets.token_urlsafe(32)
        expires = self.config.clock() + self.config.token_lifetime
        with self._lock:
            self._tokens[token] = (
                Caller(client.client_id, tenant, client.tenants[tenant], scopes),
                expires,
            )
        return token, expires

    def caller_for(self, token: str) -> Caller | None:
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None:
                return None
            caller, expiry = entry
            if expiry <= self.config.clock():
                del self._tokens[token]
                return None
            return caller

    # -------------------------------------------------------- rate limit

    def count_call(self, caller: Caller) -> tuple[bool, dict[str, str]]:
        """Count one call in the caller's fixed window: (allowed, headers)."""
        limit, window = self.config.limits
        now = self.config.clock()
        start = math.floor(now / window) * window
        key = (caller.client, caller.tenant)
        with self._lock:
            seen_start, used = self._windows.get(key, (start, 0))
            if seen_start != start:
                used = 0
            allowed = used < limit
            if allowed:
                used += 1
            self._windows[key] = (start, used)
        end = max(start + window, now + 1)  # the window's end, at least a second away
        reset = math.ceil(end - now)
        form = self.config.faults.reset_format
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - used)),
            "X-RateLimit-Reset": (
                str(reset)
                if form == "seconds"
                else str(math.ceil(end))
                if form == "epoch"
                else _http_date(end)
            ),
            "X-RateLimit-Policy": "4-fixed-window",
        }
        if not allowed:
            headers["Retry-After"] = self.retry_after(reset, end)
        return allowed, headers

    def retry_after(self, seconds: int, at: float | None = None) -> str:
        """Retry-After: ``seconds``, or with reset_format "date" the HTTP date
        ``at`` (default: that many seconds from now), the two forms HTTP has
        (an epoch time is no Retry-After)."""
        if self.config.faults.reset_format == "date":
            return _http_date(self.config.clock() + seconds if at is None else at)
        return str(seconds)

    # ------------------------------------------------------------ faults

    def draw(self) -> float:
        with self._lock:
            return self._rng.random()

    # ---------------------------------------------------------- release

    def finish_release(
        self, tenant: str, kind: documents.Kind, number: str, bg_id: str | None
    ) -> None:
        """The background part of a release: the document becomes Open, or
        its errorInfo says why not (and a background request its state)."""
        fail_on = self.config.faults.release_fail_on
        error = None
        with self.store.transaction() as db:
            doc = self.store.get(tenant, kind.name, number)
            if doc is None:
                error = f"VismaId: {uuid.uuid4()}. Error: {kind.title} '{number}' not found."
            else:
                try:
                    if fail_on and fail_on in json.dumps(doc, ensure_ascii=False):
                        raise documents.BusinessError(
                            f"Error: {kind.title} '{number}' could not be released "
                            f"(the sandbox fails the release of documents holding '{fail_on}')."
                        )
                    doc = documents.release(kind, doc, now=_now())
                    doc = self._settle(db, tenant, kind, doc)
                except documents.BusinessError as exc:
                    error = f"VismaId: {uuid.uuid4()}. {exc}"
                    doc = {**doc, "errorInfo": error}
                self.store.put(db, tenant, kind.name, number, doc)
        if bg_id is not None:
            self._finish_background(bg_id, error)

    def _settle(
        self, db: Any, tenant: str, kind: documents.Kind, doc: dict[str, Any]
    ) -> dict[str, Any]:
        """A released credit note applied to documents (a reversal's): its
        applications take effect on them (inside the release's transaction)."""
        for doc_type, ref in documents.applied_to(doc):
            target_kind = documents.KINDS.get(APPLIED_KINDS.get(doc_type, ""))
            target = self.store.get(tenant, target_kind.name, ref) if target_kind else None
            if target_kind is not None and target is not None:
                doc, target = documents.settle(kind, doc, target_kind, target, now=_now())
                self.store.put(db, tenant, target_kind.name, ref, target)
        return doc

    def _finish_background(
        self, bg_id: str, error: str | None, content: dict[str, Any] | None = None
    ) -> None:
        found = self.store.background(bg_id)
        if found is None:
            return
        state = found[2]
        state.update(
            status="Failed" if error else "Finished",
            statusCode=400 if error else (200 if content else 204),
            finishedUtc=_now_iso(),
            errorMessage=error,
        )
        if content is not None:
            payload = json.dumps(content).encode()
            state.update(
                hasResponseContent=True,
                contentLocation=f"/v1/background/{bg_id}/content",
                _content=base64.b64encode(payload).decode(),
            )
        self.store.update_background(bg_id, state)

    def finish_action(
        self, tenant: str, kind: documents.Kind, number: str, action: str, bg_id: str
    ) -> None:
        """The background part of a supplier invoice's ``voidinvoice`` (the
        document becomes Voided) or ``reverse`` (a new debit adjustment, whose
        number the background request's content gives); a rule that no longer
        holds fails the background request, the document unchanged."""
        error = None
        content = None
        with self.store.transaction() as db:
            doc = self.store.get(tenant, kind.name, number)
            try:
                if doc is None:
                    raise documents.BusinessError(f"Error: {kind.title} '{number}' not found.")
                if action == "voidinvoice":
                    self.store.put(
                        db, tenant, kind.name, number, documents.void(kind, doc, now=_now())
                    )
                else:
                    made = self.new_number(db, tenant, kind)
                    note = documents.reverse(kind, doc, note_kind=kind, number=made, now=_now())
                    self.store.put(db, tenant, kind.name, made, note)
                    content = {"referenceNumber": made, "documentType": note["documentType"]}
            except documents.BusinessError as exc:
                error = f"VismaId: {uuid.uuid4()}. {exc}"
        self._finish_background(bg_id, error, content)

    def new_number(self, db: Any, tenant: str, kind: documents.Kind) -> str:
        """The next free number of the kind's series (inside a transaction)."""
        while True:
            number = str(self.store.next_number(db, tenant, kind.name, SERIES_START[kind.name]))
            if not self.store.exists(db, tenant, kind.name, number):
                return number


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxServer
    server_version = "vnimport-sandbox"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # ---------------------------------------------------------- dispatch

    def handle_one_request(self) -> None:
        self._record: tuple[str, str, str, float] | None = None  # an API call not yet recorded
        self._reader.deadline = None  # a new request: its clock starts at its first byte
        self._unread = 0
        self._linger = False
        super().handle_one_request()

    def _dispatch(self, method: str) -> None:
        started = time.monotonic()
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/") if p]
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        low = [p.lower() for p in parts]
        if low == ["connect", "token"] or low == CALLS_PATH.strip("/").split("/"):
            try:
                length = self._declared_length()
            except Refusal as refusal:
                self._send(refusal.reply)
                return
            if low[0] == "connect":
                self._send(self._guard(lambda: self._token(method, self._read_body(length))))
            else:
                self._send(self._guard(lambda: self._calls_answer(method, query)))
            return
        self._caller: Caller | None = None
        self._record = (method, url.path, url.query, started)
        try:
            self._api(method, parts, query)
        finally:
            self._recorded(0)  # no answer sent (a drop, a fault, the client gone)

    def _recorded(self, status: int) -> None:
        """Keep the API call in the call record, once: before its answer is
        written (so that whoever has the answer finds the call recorded),
        or with status 0 when none is sent."""
        if self._record is None:
            return
        method, path, query, started = self._record
        self._record = None
        caller = self._caller
        tenant, client = (caller.tenant, caller.client) if caller else self._token_owner()
        job = (self.headers.get(JOB_HEADER) or "")[:JOB_CAP]
        self.server.record_call(
            tenant, client, job, method, path, query, status, started, time.monotonic()
        )

    def _answer(self, reply: Reply) -> None:
        """An API call's answer: recorded, then sent."""
        self._recorded(reply.status)
        self._send(reply)

    def _token_owner(self) -> tuple[str, str]:
        """The tenant and client of the request's bearer token, when it is
        valid ("" and "" when not): for the record of a call refused before
        the token was checked."""
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        caller = self.server.caller_for(token.strip()) if scheme.lower() == "bearer" else None
        return (caller.tenant, caller.client) if caller else ("", "")

    def _calls_answer(self, method: str, query: dict[str, str]) -> Reply:
        """``GET /sandbox/calls``: the call record as JSON, for tests in
        other processes: ``?tenant=``, ``?job=`` select; ``?since=SEQ``
        gives the calls after that one; at most ``?limit=`` (and
        CALLS_PAGE) calls, ``more`` saying whether others follow (ask again
        with ``since`` = ``next``)."""
        if method != "GET":
            raise Refusal(405, f"{CALLS_PATH} is read-only: use GET", {"Allow": "GET"})
        since = _whole(query.get("since", "0"), "since", 0)
        limit = min(_whole(query.get("limit", str(CALLS_PAGE)), "limit", 1), CALLS_PAGE)
        found = self.server.calls(
            query.get("tenant"), job=query.get("job"), since=since, limit=limit + 1
        )
        more = len(found) > limit
        found = found[:limit]
        return Reply(
            200,
            {
                "clock": "monotonic",
                "now": time.monotonic(),
                "calls": [c.as_json() for c in found],
                "next": found[-1].seq if found else since,
                "more": more,
            },
        )

    def _api(self, method: str, parts: list[str], query: dict[str, str]) -> None:
        """An API call: its answer recorded and sent, or none."""
        try:
            length = self._declared_length()
        except Refusal as refusal:
            self._answer(refusal.reply)
            return
        limits: dict[str, str] = {}
        try:
            caller = self._authenticate()  # before the body is read
            raw = self._read_body(length)
            allowed, limits = self.server.count_call(caller)
            if not allowed:
                raise Refusal(429, "Rate limit is exceeded. Try again later.")
            self._check_scope(caller, method)
            faults = self.server.config.faults
            if faults.forbid_on and self._holds(faults.forbid_on, raw):
                raise visma_error(403, "You are not authorized to access this resource.")
            if faults.any:
                self._faults_before()
            if BACKGROUND_HEADER in {h.lower() for h in self.headers}:
                reply = self._background(caller, method, parts, query, raw)
            else:
                reply = self._route(caller, method, parts, query, raw)
                if faults.any and self._faults_after(method, parts, reply):
                    return
        except Refusal as refusal:
            reply = refusal.reply
        except _Unanswered:  # a fault, or the client went away: no answer
            self._drop()
            return
        except RecursionError:  # nested too deeply for a parser: the request's fault
            reply = visma_error(400, "The request is nested too deeply.").reply
        except Exception as exc:  # a bug in the sandbox: say so, as a 500
            reply = Reply(500, {"message": f"VismaId: {uuid.uuid4()}. Internal error: {exc!r}"})
        reply.headers.update(limits)
        self._answer(reply)

    def _declared_length(self) -> int:
        """The body's declared length, refused before any of it is read: no
        chunked bodies (411), a length that is no number (400), or above the
        cap (413). No Content-Length: no body."""
        cap = self.server.config.max_body
        if self.headers.get("Transfer-Encoding"):
            self._linger = True  # a body of unknown length follows: not read
            raise Refusal(411, "Length Required: send the body with a Content-Length.")
        given = self.headers.get_all("Content-Length") or []
        if not given:
            return 0
        try:
            lengths = {int(v.strip()) for v in given}
        except ValueError:
            lengths = set()
        if len(lengths) != 1 or min(lengths) < 0:
            self._linger = True
            raise Refusal(400, "Content-Length is not one whole number.")
        length = lengths.pop()
        self._unread = length
        if length > cap:
            raise Refusal(413, f"Payload Too Large: the request body is over {cap} bytes.")
        return length

    def _read_body(self, length: int) -> bytes:
        """The declared body, within the request's deadline (408 past it)."""
        if not length:
            return b""
        try:
            raw = self.rfile.read(length)
        except TimeoutError:
            self._unread = 0  # nothing more is read: the answer, then the connection closed
            self.close_connection = True
            seconds = self.server.config.connection_timeout
            raise Refusal(
                408, f"Request Timeout: the request did not arrive within {seconds:g} s."
            ) from None
        except OSError:
            raise _Unanswered() from None
        if len(raw) < length:  # the client went away
            raise _Unanswered()
        self._unread = 0
        return raw

    def _holds(self, text: str, raw: bytes) -> bool:
        return text in self.path or text in unquote(self.path) or text.encode() in raw

    def _guard(self, work: Callable[[], Reply]) -> Reply:
        try:
            return work()
        except Refusal as refusal:
            return refusal.reply

    def setup(self) -> None:
        super().setup()
        self._timeout = self.server.config.connection_timeout
        self.connection.settimeout(self._timeout)
        # Answers are small and written whole: without this, Nagle's algorithm
        # and the client's delayed ACK hold each answer back for tens of ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = _DeadlineReader(self.connection, self._timeout)
        self.rfile = io.BufferedReader(self._reader)
        self._unread = 0  # declared body bytes not read
        self._linger = False  # discard what the client still sends, then close

    def _send(self, reply: Reply) -> None:
        """Status line, headers and body in one write (send_response() and
        end_headers() would send the headers apart from the body). The body
        of a request refused before it was read is then drained (small) or
        discarded while the connection closes (large)."""
        payload = reply.payload()
        self.log_request(reply.status)
        headers = {"Server": self.version_string(), "Date": self.date_time_string()}
        if reply.body is not None and not isinstance(reply.body, bytes):
            headers["Content-Type"] = "application/json; charset=utf-8"
        headers.update(reply.headers)
        headers["Content-Length"] = str(len(payload))
        limit = min(DRAIN_LIMIT, self.server.config.max_body)
        drain = 0 < self._unread <= limit and not (self._linger or self.close_connection)
        if self._unread and not drain:
            self._linger = True
        if self._linger or self.close_connection:
            self.close_connection = True
            headers["Connection"] = "close"
        self.connection.settimeout(self._timeout)
        phrase = HTTPStatus(reply.status).phrase
        head = f"{self.protocol_version} {reply.status} {phrase}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        self.wfile.write((head + "\r\n").encode("latin-1") + payload)
        if drain:
            try:
                drained = len(self.rfile.read(self._unread))
            except OSError:  # TimeoutError included
                drained = -1
            if drained != self._unread:
                self.close_connection = True
            self._unread = 0
        elif self._linger:
            self._discard()

    def _discard(self) -> None:
        """Read and drop what the client still sends, for LINGER_SECONDS at
        most and never more than max_body, after the answer (a lingering close)."""
        left = self.server.config.max_body
        end = time.monotonic() + min(self._timeout, LINGER_SECONDS)
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
            while left > 0 and (wait := end - time.monotonic()) > 0:
                self.connection.settimeout(wait)
                chunk = self.connection.recv(min(65536, left))
                if not chunk:
                    break
                left -= len(chunk)

    # -------------------------------------------------------------- auth

    def _token(self, method: str, raw: bytes) -> Reply:
        if method != "POST":
            raise Refusal(405, "use POST")
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            raise Refusal(
                400,
                "unsupported_grant_type",
                body={
                    "error": "unsupported_grant_type",
                    "error_description": "only client_credentials is supported",
                },
            )
        client = self.server.config.client(form.get("client_id", ""))
        if client is None or not hmac.compare_digest(
            client.secret.encode(), form.get("client_secret", "").encode()
        ):
            raise Refusal(401, "invalid_client", body={"error": "invalid_client"})
        tenant = form.get("tenant_id", "")
        if tenant not in client.tenants:
            raise Refusal(
                400,
                "invalid_grant",
                body={
                    "error": "invalid_grant",
                    "error_description": f"the client has no access to tenant '{tenant}'",
                },
            )
        # The scopes asked for; none: all the client is registered for.
        scopes = form.get("scope", "").split() or list(client.scopes)
        refused = [s for s in scopes if s not in client.scopes]
        if refused:
            raise Refusal(
                400,
                "invalid_scope",
                body={
                    "error": "invalid_scope",
                    "error_description": f"the client may not ask for scope '{refused[0]}'",
                },
            )
        token, _ = self.server.issue_token(client, tenant, frozenset(scopes))
        return Reply(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": int(self.server.config.token_lifetime),
                "scope": " ".join(dict.fromkeys(scopes)),
            },
        )

    def _authenticate(self) -> Caller:
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        caller = self.server.caller_for(token.strip()) if scheme.lower() == "bearer" else None
        challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        if caller is None:
            raise Refusal(
                401, "Unauthorized. Access token is missing, invalid or expired.", challenge
            )
        self._caller = caller  # for the call record
        if caller.tenant_kind != "company":
            raise Refusal(401, "Unauthorized. The token's tenant is not an ERP company.", challenge)
        return caller

    def _check_scope(self, caller: Caller, method: str) -> None:
        """GET needs the read scope, POST (create, action, attachment) create,
        PUT update, DELETE delete."""
        needs = SCOPE_PREFIX + SCOPE_OF.get(method, "read")
        if needs not in caller.scopes:
            raise Refusal(
                403,
                f"Forbidden: insufficient scope: needs {needs}",
                {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{needs}"'},
            )

    # ------------------------------------------------------------ faults

    def _faults_before(self) -> None:
        faults = self.server.config.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        form = faults.error_body
        draw = self.server.draw()
        if draw < faults.throttle_429:
            raise gateway_error(
                429,
                "Rate limit is exceeded. Try again later.",
                form,
                {"Retry-After": self.server.retry_after(1)},
            )
        draw -= faults.throttle_429
        if draw < faults.error_500:
            raise gateway_error(
                500, f"VismaId: {uuid.uuid4()}. An unexpected error occurred.", form
            )
        draw -= faults.error_500
        if draw < faults.error_503:
            raise gateway_error(503, "Service Unavailable", form)
        draw -= faults.error_503
        if draw < faults.gateway_502:
            raise gateway_error(502, "Bad Gateway", form)

    def _drop(self) -> None:
        self._recorded(0)  # before the client can see the connection go
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _faults_after(self, method: str, parts: list[str], reply: Reply) -> bool:
        """After the work is done: drop the connection of a create, or answer
        late. Returns True when no answer is to be sent."""
        faults = self.server.config.faults
        draw = self.server.draw()
        if (
            method == "POST"
            and reply.status == 201
            and len(parts) == 2
            and draw < faults.drop_after_commit
        ):
            self._drop()
            return True
        if self.server.draw() < faults.slow:
            time.sleep(faults.slow_seconds)
        return False

    # ------------------------------------------------------- background

    def _background(
        self, caller: Caller, method: str, parts: list[str], query: dict[str, str], raw: bytes
    ) -> Reply:
        received = _now_iso()
        try:
            reply = self._route(caller, method, parts, query, raw)
        except Refusal as refusal:
            reply = refusal.reply
        if reply.status == 202:  # the route started a background request of its own
            return reply
        bg_id = str(uuid.uuid4())
        payload = reply.payload()
        state = {
            "id": bg_id,
            "status": "Finished" if reply.status < 400 else "Failed",
            "statusCode": reply.status,
            "receivedUtc": received,
            "startedUtc": received,
            "finishedUtc": _now_iso(),
            "webhookAddress": None,
            "errorMessage": reply.body.get("message")
            if reply.status >= 400 and isinstance(reply.body, dict)
            else None,
            "reference": self.headers.get(BACKGROUND_HEADER),
            "originalUri": self.path,
            "hasResponseContent": bool(payload),
            "hasRequestContent": bool(raw),
            "contentLocation": f"/v1/background/{bg_id}/content" if payload else None,
            "responseHeaders": reply.headers,
            "_content": base64.b64encode(payload).decode(),
        }
        self.server.store.save_background(bg_id, caller.tenant, caller.client, state)
        return Reply(202, {"id": bg_id, "stateLocation": f"/v1/background/{bg_id}"})

    def _background_state(self, caller: Caller, bg_id: str, content: bool) -> Reply:
        found = self.server.store.background(bg_id)
        if found is None:
            raise visma_error(404, f"Background request '{bg_id}' not found.")
        tenant, client, state, received = found
        if (tenant, client) != (caller.tenant, caller.client):
            raise visma_error(403, "The background request belongs to another company or user.")
        if time.time() - received > BACKGROUND_TTL:
            raise visma_error(410, "The background request has expired.")
        if content:
            return Reply(
                200,
                base64.b64decode(state["_content"]),
                {"Content-Type": "application/json; charset=utf-8"},
            )
        return Reply(200, {k: v for k, v in state.items() if not k.startswith("_")})

    # ------------------------------------------------------------ routes

    def _route(
        self, caller: Caller, method: str, parts: list[str], query: dict[str, str], raw: bytes
    ) -> Reply:
        low = [p.lower() for p in parts]
        if len(low) < 2 or low[0] not in ("v1", "v2"):
            raise Refusal(404, "Not found")
        if low[1] == "background" and len(low) in (3, 4) and method == "GET":
            return self._background_state(caller, parts[2], len(low) == 4 and low[3] == "content")
        listed = references.list_for_collection(low[1])
        if listed is not None and low[0] == "v1":
            if method == "GET" and len(low) == 2:
                return self._reference_list(caller, listed, query)
            if method == "GET" and len(low) == 3 and listed.one:
                return self._reference(caller, listed, parts[2])
            if method == "GET":
                raise Refusal(404, f"No resource at /{'/'.join(parts)}")
            raise Refusal(
                405,
                f"{method} is not supported on /{'/'.join(parts)} (the sandbox serves "
                "the company's lists read-only)",
            )
        try:  # the customers' and suppliers' balances (importer.sandbox.balances)
            balance = balances.answer(
                self.server.store, caller.tenant, method, parts, query,
                self.server.config.max_page_size,
            )  # fmt: skip
        except balances.Refused as refused:
            raise visma_error(refused.status, str(refused)) from None
        if balance is not None:
            return Reply(200, balance)
        try:
            kind = documents.kind_for_collection(low[1])
        except KeyError:
            raise Refusal(404, f"No resource at /{'/'.join(parts)}") from None
        if low[0] == "v2" and not (kind.name in V2_CREATE and len(low) == 2 and method == "POST"):
            raise Refusal(404, f"No resource at /{'/'.join(parts)}")
        if kind.name in TYPED and len(low) in (4, 6) and low[3] != "attachment":
            # /v1/supplierInvoice/{documentType}/{number}[/action/{action}]
            number = self._typed(caller, kind, parts[2], parts[3])
            low, parts = [*low[:2], *low[3:]], [*parts[:2], *parts[3:]]
            if len(low) == 5 and low[3] == "action" and method == "POST":
                return self._action(caller, kind, number, low[4], raw, typed=True)
        if len(low) == 2:
            if method == "POST":
                return self._create(caller, kind, raw)
            if method == "GET":
                return self._list(caller, kind, query)
        elif len(low) == 3:
            number = parts[2]
            if method == "GET":
                return self._get(caller, kind, number)
            if method == "PUT":
                return self._update(caller, kind, number, raw)
            if method == "DELETE" and kind.deletable:
                return self._delete(caller, kind, number)
        elif len(low) == 5 and low[3] == "action" and method == "POST":
            return self._action(caller, kind, parts[2], low[4], raw)
        elif len(low) == 4 and low[3] == "attachment" and method == "POST":
            return self._attach(caller, kind, parts[2], raw)
        raise Refusal(405, f"{method} is not supported on /{'/'.join(parts)}")

    def _typed(self, caller: Caller, kind: documents.Kind, doc_type: str, number: str) -> str:
        """The number of a document addressed with its type; 404 when the
        document is not of that type."""
        doc = self._stored(caller, kind, number)
        if str(doc.get("documentType", "")).lower() != doc_type.lower():
            raise visma_error(404, f"{kind.title} '{doc_type}' '{number}' not found.")
        return number

    def _delete(self, caller: Caller, kind: documents.Kind, number: str) -> Reply:
        """DELETE: a document on hold or balanced goes (204); a released one
        stays (400, as Visma refuses to delete it)."""
        store = self.server.store
        with store.transaction() as db:
            doc = self._stored(caller, kind, number)
            self._if_match(kind, doc)
            try:
                documents.delete(kind, doc)
            except documents.BusinessError as exc:
                raise visma_error(400, str(exc)) from None
            store.delete(db, caller.tenant, kind.name, number)
        return Reply(204, None)

    def _json_body(self, kind: documents.Kind, raw: bytes) -> dict[str, Any]:
        body = _json_object(raw, self.server.config.max_json_depth)
        problems = check_body(kind.update_dto, body)
        if problems:
            raise visma_error(400, "The request is invalid: " + "; ".join(problems[:10]))
        return body

    def _lookup(self, tenant: str) -> Callable[[str, str], dict[str, Any] | None]:
        def lookup(kind_name: str, number: str) -> dict[str, Any] | None:
            return self.server.store.get(tenant, kind_name, number)

        return lookup

    def _location(self, kind: documents.Kind, number: str) -> str:
        return f"{_base_url(self.server)}/v1/{kind.collection}/{quote(number, safe='')}"

    def _create(self, caller: Caller, kind: documents.Kind, raw: bytes) -> Reply:
        body = self._json_body(kind, raw)
        faults = self.server.config.faults
        if faults.error_500_on and faults.error_500_on.encode() in raw:
            raise visma_error(500, "An error has occurred.")
        if faults.late_commit and self.server.draw() < faults.late_commit:
            # Checked now (a refusal is answered), stored later, answered never.
            self._store_new(caller, kind, body, dry=True)
            self.server.later(faults.late_commit_seconds, self._store_new, caller, kind, body)
            raise _Unanswered()
        number, doc = self._store_new(caller, kind, body)
        headers = {"Location": self._location(kind, number)}
        if kind.etag:
            headers["ETag"] = _etag(doc)
        return Reply(201, None, headers)

    def _store_new(
        self, caller: Caller, kind: documents.Kind, body: dict[str, Any], dry: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """Number, check and store a new document (``dry``: all but the storing)."""
        store = self.server.store
        given = _unwrap(body.get(kind.number_field))
        if kind.line_number and _unwrap(body.get("overrideNumberSeries")) is not True:
            # Visma's rule for documents: without it, the number series numbers them.
            given = None
        with store.transaction() as db:
            if given not in (None, ""):
                number = str(given)
                if store.exists(db, caller.tenant, kind.name, number):
                    raise visma_error(
                        400,
                        f"Error creating document. Error: {kind.title} '{number}' already exists.",
                    )
            else:
                while True:
                    number = str(
                        store.next_number(db, caller.tenant, kind.name, SERIES_START[kind.name])
                    )
                    if not store.exists(db, caller.tenant, kind.name, number):
                        break
            try:
                doc = documents.create(
                    kind,
                    body,
                    number=number,
                    now=_now(),
                    lookup=self._lookup(caller.tenant),
                    check=self.server.references_for(caller.tenant).problems,
                )
            except documents.BusinessError as exc:
                raise visma_error(400, str(exc)) from None
            if not dry:
                store.put(db, caller.tenant, kind.name, number, doc)
        return number, doc

    def _stored(self, caller: Caller, kind: documents.Kind, number: str) -> dict[str, Any]:
        doc = self.server.store.get(caller.tenant, kind.name, number)
        if doc is None:
            raise visma_error(404, f"{kind.title} '{number}' not found.")
        return doc

    def _get(self, caller: Caller, kind: documents.Kind, number: str) -> Reply:
        doc = self._stored(caller, kind, number)
        return Reply(200, doc, {"ETag": _etag(doc)} if kind.etag else {})

    def _update(self, caller: Caller, kind: documents.Kind, number: str, raw: bytes) -> Reply:
        store = self.server.store
        with store.transaction() as db:
            doc = self._stored(caller, kind, number)
            self._if_match(kind, doc)
            body = self._json_body(kind, raw)
            try:
                doc = documents.update(
                    kind,
                    doc,
                    body,
                    now=_now(),
                    lookup=self._lookup(caller.tenant),
                    check=self.server.references_for(caller.tenant).problems,
                )
            except documents.BusinessError as exc:
                raise visma_error(400, str(exc)) from None
            store.put(db, caller.tenant, kind.name, number, doc)
        return Reply(204, None, {"ETag": _etag(doc)} if kind.etag else {})

    def _if_match(self, kind: documents.Kind, doc: dict[str, Any]) -> None:
        if_match = self.headers.get("If-Match")
        if kind.etag and if_match is not None and if_match.strip() not in ("*", _etag(doc)):
            raise Refusal(
                412,
                "Precondition Failed: the document has changed since it "
                "was read (ETag does not match If-Match).",
            )

    def _list(self, caller: Caller, kind: documents.Kind, query: dict[str, str]) -> Reply:
        lq = {k.lower(): v for k, v in query.items()}
        if ("lastmodifieddatetime" in lq) != ("lastmodifieddatetimecondition" in lq):
            raise visma_error(
                400,
                "lastModifiedDateTime and lastModifiedDateTimeCondition must be given together.",
            )
        condition = lq.get("lastmodifieddatetimecondition")
        if condition is not None and condition not in DATETIME_CONDITIONS:
            raise visma_error(
                400, f"lastModifiedDateTimeCondition '{condition}' is not one of > >= < <=."
            )
        try:
            conditions = documents.conditions(kind, query)
        except documents.BusinessError as exc:
            raise visma_error(400, str(exc)) from None
        max_size = self.server.config.max_page_size
        page_number = _positive(lq.get("pagenumber", "1"), "pageNumber")
        page_size = min(_positive(lq.get("pagesize", str(max_size)), "pageSize"), max_size)
        total, page = self.server.store.page(
            caller.tenant, kind.name, conditions, (page_number - 1) * page_size, page_size
        )
        meta = {"totalCount": total, "maxPageSize": max_size}
        return Reply(200, [{**d, "metadata": meta} for d in page])

    def _reference_list(
        self, caller: Caller, listed: references.RefList, query: dict[str, str]
    ) -> Reply:
        """A reference list as the spec serves it: a bare array (with
        ``metadata`` where the DTO has it), or the credit terms' envelope;
        paged where the spec takes pageNumber / pageSize."""
        rows = self.server.references_for(caller.tenant).records(listed.kind)
        try:
            rows = references.matching(listed, rows, query)
        except ValueError as exc:
            raise visma_error(400, str(exc)) from None
        total = len(rows)
        max_size = self.server.config.max_page_size
        page_number, page_size = 1, max(total, 1)
        if listed.paged:
            lq = {k.lower(): v for k, v in query.items()}
            page_number = _positive(lq.get("pagenumber", "1"), "pageNumber")
            page_size = min(_positive(lq.get("pagesize", str(max_size)), "pageSize"), max_size)
            rows = rows[(page_number - 1) * page_size : page_number * page_size]
        if listed.envelope:
            return Reply(
                200,
                {
                    "pageNumber": page_number,
                    "pageSize": page_size,
                    "totalCount": total,
                    "records": rows,
                },
            )
        if listed.metadata:
            meta = {"totalCount": total, "maxPageSize": max_size}
            return Reply(200, [{**r, "metadata": meta} for r in rows])
        return Reply(200, rows)

    def _reference(self, caller: Caller, listed: references.RefList, key: str) -> Reply:
        found = self.server.references_for(caller.tenant).find(listed.kind, key)
        if found is None:
            raise visma_error(404, f"{listed.title} '{key}' not found.")
        return Reply(200, found)

    def _action(
        self,
        caller: Caller,
        kind: documents.Kind,
        number: str,
        action: str,
        raw: bytes,
        typed: bool = False,
    ) -> Reply:
        if action == "release" and kind.releasable:
            return self._release(caller, kind, number)
        if action == "reverse" and kind.name == "customer_invoice":
            return self._reverse(caller, kind, number, raw)
        if action in ("reverse", "voidinvoice") and typed:
            return self._accept(caller, kind, number, action)
        if action == "createdunningletter" and kind.name == "customer":
            self._stored(caller, kind, number)
            _json_object(raw or b"{}", self.server.config.max_json_depth)
            return Reply(200, {"actionId": str(uuid.uuid4()), "actionResult": "Done"})
        raise Refusal(404, f"No action '{action}' on {kind.collection}")

    def _reverse(self, caller: Caller, kind: documents.Kind, number: str, raw: bytes) -> Reply:
        """``customerinvoice/{n}/action/reverse``: a credit note for the whole
        invoice, Balanced and applied to it, answered at once with its number
        (ReverseInvoiceActionResultDto: ``referenceNumber``, and with
        ``returnCreditNote`` the ``creditNoteDto``); an invoice that cannot be
        reversed (not released, or paid) answers 200 "Failed" with errorInfo,
        as a release does. [INFERRED: the spec does not say whether the
        reverse runs in the background like a release; the sandbox does it at
        once, and the credit note waits for its own release.]"""
        body = _json_object(raw or b"{}", self.server.config.max_json_depth)
        returned = body.get("returnCreditNote", False)
        if not isinstance(returned, bool):
            raise visma_error(400, "The request is invalid: returnCreditNote: expected a boolean.")
        note_kind = documents.KINDS["customer_credit_note"]
        store = self.server.store
        action_id = str(uuid.uuid4())
        with store.transaction() as db:
            doc = self._stored(caller, kind, number)
            self._if_match(kind, doc)
            try:  # refused before a number of the series is taken
                documents.reverse(kind, doc, note_kind=note_kind, number="", now=_now())
            except documents.BusinessError as exc:
                failed = f"VismaId: {uuid.uuid4()}. {exc}"
                return Reply(
                    200, {"actionId": action_id, "actionResult": "Failed", "errorInfo": failed}
                )
            made = self.server.new_number(db, caller.tenant, note_kind)
            note = documents.reverse(kind, doc, note_kind=note_kind, number=made, now=_now())
            store.put(db, caller.tenant, note_kind.name, made, note)
        answer: dict[str, Any] = {
            "referenceNumber": made,
            "actionId": action_id,
            "actionResult": "Done",
            "errorInfo": None,
        }
        if returned:  # CreditNoteDto names the lines invoiceLines
            shown = {k: v for k, v in note.items() if k not in ("lines", "timeStamp")}
            answer["creditNoteDto"] = {**shown, "invoiceLines": note.get("lines", [])}
        return Reply(200, answer)

    def _accept(self, caller: Caller, kind: documents.Kind, number: str, action: str) -> Reply:
        """A supplier invoice's ``voidinvoice`` or ``reverse`` (the spec lists
        only 202 and 412 for them): If-Match checked, a document the action
        cannot take refused at once (400, "Response Message has StatusCode
        BadRequest ... if POST operation failed"), the work done
        ``release_seconds`` later in the background."""
        doc = self._stored(caller, kind, number)
        self._if_match(kind, doc)
        try:
            if action == "voidinvoice":
                documents.void(kind, doc, now=_now())
            else:
                documents.reverse(kind, doc, note_kind=kind, number="-", now=_now())
        except documents.BusinessError as exc:
            raise visma_error(400, str(exc)) from None
        bg_id = self._background_started(caller)
        self.server.later(
            self.server.config.release_seconds,
            self.server.finish_action, caller.tenant, kind, number, action, bg_id,
        )  # fmt: skip
        return Reply(202, {"id": bg_id, "stateLocation": f"/v1/background/{bg_id}"})

    def _background_started(self, caller: Caller) -> str:
        """A new background request, Started, for work a route does later."""
        bg_id = str(uuid.uuid4())
        received = _now_iso()
        state = {
            "id": bg_id,
            "status": "Started",
            "statusCode": 0,
            "receivedUtc": received,
            "startedUtc": received,
            "finishedUtc": None,
            "webhookAddress": None,
            "errorMessage": None,
            "reference": self.headers.get(BACKGROUND_HEADER),
            "originalUri": self.path,
            "hasResponseContent": False,
            "hasRequestContent": False,
            "contentLocation": None,
            "responseHeaders": {},
            "_content": "",
        }
        self.server.store.save_background(bg_id, caller.tenant, caller.client, state)
        return bg_id

    def _release(self, caller: Caller, kind: documents.Kind, number: str) -> Reply:
        """Accept a release and do it ``release_seconds`` later, in the
        background, as Visma does: customer documents answer 200 "Queued" (or
        "Failed" at once for a document that cannot be released: on hold,
        already released), a supplier invoice 202 and a background request."""
        store = self.server.store
        with store.transaction() as db:
            doc = self._stored(caller, kind, number)
            self._if_match(kind, doc)
            if "errorInfo" in doc:  # a new attempt: the last one's error is gone
                doc = {k: v for k, v in doc.items() if k != "errorInfo"}
                store.put(db, caller.tenant, kind.name, number, doc)
        seconds = self.server.config.release_seconds
        if kind.name in RELEASE_ACCEPTED:
            bg_id = self._background_started(caller)
            self.server.later(
                seconds, self.server.finish_release, caller.tenant, kind, number, bg_id
            )
            return Reply(202, {"id": bg_id, "stateLocation": f"/v1/background/{bg_id}"})
        action_id = str(uuid.uuid4())
        try:
            documents.release(kind, doc, now=_now())  # refused now, or queued
        except documents.BusinessError as exc:
            return Reply(
                200,
                {
                    "actionId": action_id,
                    "actionResult": "Failed",
                    "errorInfo": f"VismaId: {uuid.uuid4()}. {exc}",
                },
            )
        self.server.later(seconds, self.server.finish_release, caller.tenant, kind, number, None)
        return Reply(200, {"actionId": action_id, "actionResult": "Queued", "errorInfo": None})

    def _attach(self, caller: Caller, kind: documents.Kind, number: str, raw: bytes) -> Reply:
        if not kind.attachable:
            raise Refusal(404, f"{kind.collection} has no attachments")
        content_type = self.headers.get("Content-Type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            raise visma_error(400, "Send the file as multipart/form-data.")
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
        )
        files = [p for p in message.iter_parts() if p.get_filename()]
        if not files:
            raise visma_error(400, "The request has no file.")
        store = self.server.store
        with store.transaction() as db:
            doc = self._stored(caller, kind, number)
            attachments = list(doc.get("attachments") or [])
            for part in files:
                name = str(part.get_filename())
                revision = 1 + max(
                    (a["revision"] for a in attachments if a["name"] == name), default=0
                )
                attachments.append({"name": name, "id": str(uuid.uuid4()), "revision": revision})
            doc = {**doc, "attachments": attachments}
            store.put(db, caller.tenant, kind.name, number, doc)
        return Reply(201, None)


# --------------------------------------------------------------- helpers


def _base_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"


def _json_object(raw: bytes, max_depth: int) -> dict[str, Any]:
    too_deep = visma_error(400, f"The request body is nested deeper than {max_depth} levels.")
    try:
        body = json.loads(raw or b"null")
    except RecursionError:
        raise too_deep from None
    except ValueError:
        raise visma_error(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise visma_error(400, "The request body must be a JSON object.")
    if _depth_over(body, max_depth):
        raise too_deep
    return body


def _depth_over(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest deeper than ``limit`` (without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def _http_date(moment: float) -> str:
    return formatdate(math.ceil(moment), usegmt=True)


def _unwrap(value: Any) -> Any:
    return value.get("value") if isinstance(value, dict) else value


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _etag(doc: dict[str, Any]) -> str:
    return f'"{doc.get("timeStamp", "")}"'


def _whole(text: str, name: str, least: int) -> int:
    """A query parameter of the call record: a whole number, ``least`` or more."""
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise Refusal(400, f"{name} must be a whole number, {least} or more.")
    return value


def _positive(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise visma_error(400, f"{name} must be a whole number.") from None
    if value < 1:
        raise visma_error(400, f"{name} must be 1 or more.")
    return value


# ------------------------------------------------------------- lifecycle


class Sandbox:
    """A sandbox in this process, on a free loopback port (tests, demo, benchmarks)."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        self.config = config or SandboxConfig()
        self._address = (host, port)
        self._verbose = verbose
        self.server: SandboxServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self.server is not None, "the sandbox is not running"
        return _base_url(self.server)

    @property
    def token_url(self) -> str:
        return f"{self.url}/connect/token"

    def count(self, kind: str, tenant: str = DEMO_TENANT) -> int:
        assert self.server is not None
        return self.server.store.count(tenant, kind)

    def documents(self, kind: str, tenant: str = DEMO_TENANT) -> list[dict[str, Any]]:
        assert self.server is not None
        return self.server.store.all(tenant, kind)

    def calls(self, tenant: str | None = None, *, job: str | None = None) -> list[Call]:
        """The API calls made so far (the newest ``max_calls``), in the order
        they ended: all, or a tenant's, or a job's (its ``X-Vnimport-Job``)."""
        assert self.server is not None
        return self.server.calls(tenant, job=job)

    def start(self) -> Sandbox:
        self.server = SandboxServer(self._address, self.config, self._verbose)
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="vnimport-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server.store.close()
            self.server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    config: SandboxConfig,
    host: str = "127.0.0.1",
    port: int = 8750,
    verbose: bool = False,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Run a sandbox in the foreground until interrupted (``vnimport sandbox``)."""
    server = SandboxServer((host, port), config, verbose)
    try:
        if ready is not None:
            ready(_base_url(server))
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        server.store.close()


__all__ = ["Call", "Reply", "Sandbox", "SandboxServer", "busy", "overlap", "serve"]
