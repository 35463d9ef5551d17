"""Post stage: talking to Visma.net, each document exactly once.

:class:`VismaClient` is one authenticated HTTP session shared by the
workers: the token is cached and renewed before it expires (and once on a
401); a rate limiter spreads calls over what ``X-RateLimit-*`` says is left,
so that 429s are rare; a 429 waits ``Retry-After``; 5xx answers and timeouts
of safe calls are retried with exponential backoff and jitter, a bounded
number of times.

What the network does is never trusted: every request has a total deadline
(connect, headers and body, cut while the body still trickles in), what is
read of an answer is capped, no redirect is followed on a write or to
another host, the client secret and tokens are scrubbed from every message,
and a wait Visma asks for that is longer than ``max_wait`` ends the run's
sending (:class:`RateLimited`) instead of hanging it.

A create is not safe to repeat: Visma has no idempotency key. When a POST
gets no answer (timeout, dropped connection, 5xx after sending), the client
does not send it again blindly: it is ``unknown``, and the caller looks the
document up before anything is sent again.
"""

from __future__ import annotations

import html
import random
import re
import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from importer.codes import http_code
from importer.errors import AuthError, VismaError, VnimportError
from importer.settings import Connection

RETRIABLE = {500, 502, 503, 504}
RENEW_BEFORE = 60.0  # seconds before expiry that a token is renewed
TIMEOUT = 120.0  # seconds: a request's total deadline (--timeout)
MAX_WAIT = 3600.0  # seconds: the longest wait Visma may ask for (--max-wait)
ERROR_CAP = 64 * 1024  # bytes read of an error answer
BODY_CAP = 32 * 1024 * 1024  # bytes read of any other answer (a full list page is far less)
MESSAGE_CAP = 1000  # characters of Visma's words kept in a message
MAX_REDIRECTS = 3
INF = float("inf")
SCOPE_PREFIX = "vismanet_erp_service_api:"
# The job that made a call (VismaClient.job, Connection.job): sent on every
# API call, never to the token endpoint; the sandbox keeps it with the call.
JOB_HEADER = "X-Vnimport-Job"
# Headers an answer may carry that Visma's support asks for.
SUPPORT_HEADERS = ("X-Request-Id", "Request-Id", "X-Correlation-Id", "Ocp-Apim-Request-Id")


def scopes(*needs: str) -> str:
    """The token scopes for what a command does (``read``, ``create``,
    ``update``, ``delete``), as the token endpoint takes them."""
    order = ("read", "create", "update", "delete")
    return " ".join(SCOPE_PREFIX + need for need in order if need in needs)


DEFAULT_SCOPE = scopes("read", "create", "update")  # never delete, unless asked


class RedirectRefused(AuthError):
    """Visma.net answered with a redirect vnimport does not follow: the
    configured address is not the API (a proxy, a moved endpoint); the run
    stops rather than send documents elsewhere."""

    code = "redirect"


class RateLimited(VnimportError):
    """Visma asked for a wait (a 429's ``Retry-After``, or a quota spent
    until ``X-RateLimit-Reset``) longer than ``max_wait``: what is left is
    not sent. ``until`` is the epoch time to try again after."""

    code = "rate-limited"

    def __init__(self, until: float) -> None:
        self.until = until
        super().__init__(f"rate limit: try again after {clock_time(until)}")


class OutcomeUnknown(Exception):
    """A request was sent and no usable answer came back (``status``: the
    5xx Visma answered, if it answered; ``detail``: its words)."""

    def __init__(self, message: str, status: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class BadAnswer(Exception):
    """Visma answered, and the answer is not what the spec promises (not
    JSON, a field missing, too large): the document it was about fails,
    nothing is guessed."""


@dataclass
class Outcome:
    """What happened to one document."""

    status: str  # a status of importer.codes.STATUSES: created, updated, failed ...
    number: str = ""
    http_status: int | None = None
    message: str = ""
    code: str = ""  # why, when it did not go as asked (importer.codes.CODES)
    etag: str = ""  # the document's ETag as Visma answered it (types with x-etag)


def clock_time(epoch: float, now: float | None = None) -> str:
    """``epoch`` as local ``HH:MM``, with the date when it is not today."""
    when = time.localtime(epoch)
    today = time.localtime(time.time() if now is None else now)
    if when[:3] == today[:3]:
        return time.strftime("%H:%M", when)
    return time.strftime("%Y-%m-%d %H:%M", when)


# ------------------------------------------------------------ answers

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.I | re.S)
_VISMA_ID = re.compile(r"VismaId:\s*[0-9A-Fa-f-]{8,}")


def _squeeze(text: str, limit: int = MESSAGE_CAP) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def visma_message(reply: requests.Response) -> str:
    """Visma's own words from an error answer, short enough for a report:
    the JSON ``message`` (or ``ExceptionMessage`` with its fault code), the
    text of a plain answer, the title of an HTML page (a proxy or gateway
    answered, not Visma), or what an empty answer means; with the VismaId
    and the request id support asks for."""
    text = reply.text if reply.content else ""
    words = ""
    try:
        body = reply.json() if text.strip() else None
    except ValueError:
        body = None
        if "html" in reply.headers.get("Content-Type", "").lower() or text.lstrip()[:1] == "<":
            found = _TITLE.search(text) or _HEADING.search(text)
            page = found.group(1) if found else _TAG.sub(" ", _SCRIPT.sub(" ", text))
            words = (
                f"an HTML page ({_squeeze(html.unescape(_TAG.sub(' ', page)), 200)}) came "
                "back instead of Visma's answer: a proxy or gateway between vnimport and "
                "Visma answered"
            )
        else:
            words = _squeeze(text)
    if isinstance(body, dict):
        for key in ("message", "Message", "ExceptionMessage", "error_description", "error"):
            if body.get(key):
                words = _squeeze(str(body[key]))
                if body.get("ExceptionFaultCode"):
                    words += f" (fault code {body['ExceptionFaultCode']})"
                break
        else:
            words = _squeeze(text)
    elif body is not None:
        words = _squeeze(text)
    if not words:
        words = f"{reply.status_code} {reply.reason or ''}".strip() + ", with an empty answer"
    ids = [m for m in _VISMA_ID.findall(text) if m not in words][:1]
    ids += [f"{h}: {reply.headers[h]}" for h in SUPPORT_HEADERS if reply.headers.get(h)]
    if ids:
        words += f" [{'; '.join(ids)}]"
    if was_cut(reply):
        words += f" (only the first {len(reply.content) // 1024} KiB of the answer were read)"
    return words


def json_of(reply: requests.Response, kind: type, what: str) -> Any:
    """The JSON of a successful answer, of the ``kind`` expected (list or
    dict); :class:`BadAnswer` naming ``what`` it answered otherwise."""
    if was_cut(reply):
        raise BadAnswer(f"Visma's answer to {what} is larger than {BODY_CAP // 2**20} MiB")
    try:
        body = reply.json()
    except ValueError:
        raise BadAnswer(f"Visma's answer to {what} is not JSON ({visma_message(reply)})") from None
    if not isinstance(body, kind):
        raise BadAnswer(
            f"Visma's answer to {what} is a JSON {type(body).__name__}, "
            f"not the {kind.__name__} the API gives"
        )
    return body


def was_cut(reply: requests.Response) -> bool:
    """Whether only the first part of the answer's body was read."""
    return bool(getattr(reply, "_vnimport_cut", False))


def _read_body(reply: requests.Response) -> None:
    """Read the body, no more than the cap of its kind; the rest is left
    unread and the connection dropped."""
    cap = ERROR_CAP if reply.status_code >= 400 else BODY_CAP
    chunks, size = [], 0
    for chunk in reply.iter_content(64 * 1024):
        if size + len(chunk) > cap:
            chunks.append(chunk[: cap - size])
            reply._vnimport_cut = True  # type: ignore[attr-defined]
            reply.close()
            break
        chunks.append(chunk)
        size += len(chunk)
    reply._content = b"".join(chunks)


# ---------------------------------------------------------- deadlines


class DeadlineExceeded(requests.Timeout):
    """A request took longer than its total deadline."""


class _Watch:
    """One request's deadline and the connection it uses."""

    __slots__ = ("conn", "fired", "until")

    def __init__(self, until: float) -> None:
        self.until = until
        self.conn: HTTPConnection | None = None
        self.fired = False


_current = threading.local()  # the watch of the request this thread is making


class _Watchdog:
    """One thread that cuts the connection of any request past its deadline:
    requests' own timeout is per socket read, so a body trickled a byte at a
    time, or headers dribbled out, would never trip it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._watches: set[_Watch] = set()
        self._thread: threading.Thread | None = None

    def start(self, seconds: float) -> _Watch:
        watch = _Watch(time.monotonic() + seconds)
        with self._cond:
            self._watches.add(watch)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="vnimport-deadlines", daemon=True
                )
                self._thread.start()
            self._cond.notify()
        _current.watch = watch
        return watch

    def stop(self, watch: _Watch) -> None:
        _current.watch = None
        with self._cond:
            self._watches.discard(watch)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for watch in [w for w in self._watches if w.until <= now]:
                    self._watches.discard(watch)
                    watch.fired = True
                    conn = watch.conn
                    # only while it still serves this request (a pooled
                    # connection may have gone on to another)
                    if conn is not None and getattr(conn, "_vnimport_watch", None) is watch:
                        sock = getattr(conn, "sock", None)
                        if sock is not None:
                            with suppress(OSError):
                                sock.shutdown(socket.SHUT_RDWR)
                soonest = min((w.until for w in self._watches), default=None)
                self._cond.wait(None if soonest is None else max(soonest - now, 0.001))


_WATCHDOG = _Watchdog()


def _watched(cls: type[HTTPConnection]) -> type[HTTPConnection]:
    class Watched(cls):  # type: ignore[valid-type,misc]
        """A connection that tells the current request's watch it serves it."""

        def request(self, *args: Any, **kwargs: Any) -> None:
            watch = getattr(_current, "watch", None)
            self._vnimport_watch = watch
            if watch is not None:
                watch.conn = self
            super().request(*args, **kwargs)

    Watched.__name__ = f"Watched{cls.__name__}"
    return Watched


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _watched(HTTPConnection)


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _watched(HTTPSConnection)  # type: ignore[assignment]


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _Adapter(HTTPAdapter):
    """requests' adapter with connections the watchdog can cut, directly
    and through a proxy (``HTTPS_PROXY``)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):  # a SOCKS proxy keeps its own connections
            manager.pool_classes_by_scheme = _POOLS
        return manager


# ---------------------------------------------------------- the limiter


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


class RateLimiter:
    """Lets calls go while the window's quota lasts, then holds them until
    the window resets.

    Visma's limit is a fixed window per client and company:
    ``X-RateLimit-Limit`` calls, ``-Remaining`` left, ``-Reset`` until the
    window ends. Each call is counted against the quota as it leaves; an
    answer's ``Remaining`` can only lower the count (other clients of the
    same company use the quota too). The window's end is learned from the
    answers only (the tightest ``Reset`` of the window; an answer from an
    earlier window is ignored), never guessed from a length, so a new window
    is never opened early: that is where 429s came from. When the quota is
    spent, calls wait for the next window instead of earning 429s; a 429
    that comes anyway pauses every worker for its ``Retry-After``.

    :meth:`asked` is how long Visma itself asked to wait (a 429, or a quota
    spent by someone else); the pacing of the limiter's own count is not."""

    SAME_WINDOW = 1.5  # seconds: two Reset instants this close are one window's end

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._wall_clock = wall_clock  # for a Reset given as an epoch time or a date
        self.limit: int | None = None
        self.window = 0.0  # the longest Reset seen: about the window's length
        self._remaining: int | None = None  # None: nothing known yet
        self._reset_at = INF  # the current window's end; INF: not told yet
        self._previous = -INF  # the end of the window before
        self._opens_at = 0.0  # calls wait for this once a window's quota is spent
        self._paused_until = 0.0
        self._asked_until = 0.0
        self._in_flight = 0  # calls sent and not answered
        self._probing = False  # the first call is out alone, to learn the quota
        self._told = threading.Event()  # an answer has come: the others may go

    def wait(self) -> float:
        """Seconds to wait before the next call; the call is counted. The
        very first call goes alone: its answer tells the quota."""
        while True:
            with self._lock:
                if self._remaining is not None or self._told.is_set() or not self._probing:
                    self._probing = self._probing or self._remaining is None
                    self._in_flight += 1
                    return self._next()
            self._told.wait(1.0)

    def _next(self) -> float:
        now = self._clock()
        start = max(now, self._paused_until, self._opens_at)
        if self._remaining is None:
            return start - now
        if start >= self._reset_at:  # the window we counted in is over
            self._open()
        if self._remaining <= 0:  # spent: this call waits for the next window
            if self._reset_at == INF:  # its end not told yet: about a window's length
                self._reset_at = start + max(self.window, 1.0)
            start = max(start, self._reset_at)
            self._opens_at = self._reset_at
            self._open()
        self._remaining -= 1
        return start - now

    def _open(self) -> None:
        """A new window: the full quota; its end is not known until Visma answers."""
        self._previous = self._reset_at
        self._remaining = self.limit or 1
        self._reset_at = INF

    def lost(self) -> None:
        """A call got no answer."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            if self._remaining is None:
                self._probing = False  # another call learns the quota

    def observe(self, headers: Any) -> None:
        """An answer came, with or without the rate-limit headers."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            self._told.set()
            try:
                limit = int(headers["X-RateLimit-Limit"])
                remaining = int(headers["X-RateLimit-Remaining"])
                seconds = seconds_until(headers["X-RateLimit-Reset"], self._wall_clock())
            except (KeyError, ValueError):
                return
            now = self._clock()
            self.limit = limit
            self.window = max(self.window, seconds)
            ends = now + seconds  # never before the window's real end: Reset is rounded up
            if ends <= self._previous + self.SAME_WINDOW:
                return  # an answer from a window that is over
            ours = self._remaining
            if (
                ours is None
                or self._reset_at == INF
                or abs(ends - self._reset_at) <= self.SAME_WINDOW
            ):
                # this window: every call this client sent is in its own count
                self._reset_at = min(self._reset_at, ends)
                self._remaining = remaining if ours is None else min(ours, remaining)
            elif ends > self._reset_at:
                # a later window than ours: Visma's count, less the calls it
                # may not have counted yet
                self._previous = self._reset_at
                self._reset_at = ends
                self._remaining = remaining - self._in_flight
            else:
                return
            if remaining <= 0 and (ours is None or ours > 0):
                # spent, and not by this client's own count: Visma asks for the wait
                self._asked_until = max(self._asked_until, self._reset_at)

    def pause(self, seconds: float) -> None:
        """Visma answered 429: every call waits ``seconds``."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self._asked_until = max(self._asked_until, self._paused_until)

    def asked(self) -> float:
        """Seconds still to wait of what Visma asked for (0: nothing)."""
        with self._lock:
            return max(0.0, self._asked_until - self._clock())

    def time_for(self, calls: int) -> float | None:
        """About how long ``calls`` more calls take at the quota (0: this
        window's quota holds them); ``None`` before an answer has told it."""
        quota = self.quota()
        if quota is None:
            return None
        limit, left, resets_in = quota
        if calls <= left:
            return 0.0
        windows = -(-(calls - left) // max(limit, 1))  # more windows, rounded up
        return resets_in + (windows - 1) * max(self.window, resets_in)

    def quota(self) -> tuple[int, int, float] | None:
        """(calls per window, calls left in this one, seconds until it ends),
        once an answer has said."""
        with self._lock:
            if self.limit is None or self._remaining is None:
                return None
            ends = self._reset_at if self._reset_at != INF else self._clock()
            return self.limit, max(self._remaining, 0), max(0.0, ends - self._clock())


# ------------------------------------------------------------ the client


class VismaClient:
    def __init__(
        self,
        connection: Connection,
        *,
        workers: int = 4,
        timeout: float = TIMEOUT,
        max_wait: float = MAX_WAIT,
        scope: str = "",
        retries: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        job: str = "",
    ) -> None:
        self.connection = connection
        self.job = job or connection.job  # sent as X-Vnimport-Job; empty: not sent
        if not (self.job.isascii() and self.job.isprintable()):
            raise ValueError(f"a job id is printable ASCII (a header's value): {self.job!r}")
        self.timeout = timeout  # seconds: each request's total deadline
        self.max_wait = max_wait  # seconds: the longest wait Visma may ask for
        self.scope = scope or connection.scope or DEFAULT_SCOPE
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self.session = requests.Session()
        adapter = _Adapter(pool_connections=2, pool_maxsize=max(workers, 1))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.limiter = RateLimiter()
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self.calls = 0
        # Told how long the rate limit holds the next call, when it does.
        self.on_wait: Callable[[float], None] | None = None

    # -------------------------------------------------------------- token

    def token(self, *, renew: bool = False) -> str:
        with self._token_lock:
            if renew or self._token is None or time.monotonic() > self._token_expires:
                self._token, lifetime = self._fetch_token()
                self._token_expires = time.monotonic() + max(lifetime - RENEW_BEFORE, lifetime / 2)
            return self._token

    def _fetch_token(self) -> tuple[str, float]:
        c = self.connection
        try:
            reply = self._exchange(
                "POST",
                c.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "tenant_id": c.tenant_id,
                    "scope": self.scope,
                },
            )  # no redirect: the secret goes to the token endpoint and nowhere else
        except requests.RequestException as exc:  # an outage, not refused credentials
            raise VismaError(
                self.scrub(f"cannot reach the token endpoint {c.token_url}: {_why(exc)}")
            ) from None
        if reply.is_redirect:
            raise AuthError(
                f"the token endpoint {c.token_url} redirected to "
                f"{reply.headers.get('Location', '?')}; not followed (the client secret is "
                "sent to the configured token endpoint only): check VNIMPORT_TOKEN_URL"
            )
        if reply.status_code != 200:
            raise AuthError(self.scrub(_token_advice(c, self.scope, reply)))
        try:
            body = json_of(reply, dict, "the token request")
            return str(body["access_token"]), float(body.get("expires_in", 3600))
        except (BadAnswer, KeyError, TypeError, ValueError) as exc:
            what = exc if isinstance(exc, BadAnswer) else "it has no access_token"
            raise AuthError(
                self.scrub(
                    f"the token endpoint {c.token_url} answered 200, but not with a token "
                    f"({what}): check VNIMPORT_TOKEN_URL"
                )
            ) from None

    # --------------------------------------------------------------- calls

    def url(self, path: str) -> str:
        return self.connection.base_url.rstrip("/") + path

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        safe: bool | None = None,
    ) -> requests.Response:
        """One logical call. A 429 waits and is sent again (Visma did nothing);
        so is a 401 once, with a new token. 5xx and network failures are sent
        again only when ``safe`` (GET by default); otherwise they raise
        :class:`OutcomeUnknown`. A 401 that persists is :class:`AuthError`; a
        403 is the caller's (a document the client may not touch). A wait
        Visma asks for beyond ``max_wait`` raises :class:`RateLimited`."""
        safe = method == "GET" if safe is None else safe
        renewed = False
        failures = 0
        late = 0
        while True:
            asked = self.limiter.asked()
            if asked > self.max_wait:
                raise RateLimited(time.time() + asked)
            delay = self.limiter.wait()
            try:
                if delay > 0:
                    if delay >= 1.0 and self.on_wait is not None:
                        self.on_wait(delay)
                    self._sleep(delay)
                send_headers = {"Authorization": f"Bearer {self.token()}", **(headers or {})}
                if self.job:
                    send_headers[JOB_HEADER] = self.job
                with self._count_lock:
                    self.calls += 1
                reply = self._request(method, path, json, params, send_headers)
            except BaseException as exc:  # the limiter counted a call that got no answer
                self.limiter.lost()
                if not isinstance(exc, (requests.ConnectionError, requests.Timeout)):
                    raise
                if not safe:
                    raise OutcomeUnknown(f"no answer from Visma: {_why(exc)}") from None
                failures += 1
                late += isinstance(exc, DeadlineExceeded)
                # a deadline passed twice: the server is slow, not blinking
                if failures > self.retries or late >= 2:
                    raise OutcomeUnknown(
                        f"no answer from Visma after {failures} tries: {_why(exc)}"
                    ) from None
                self._sleep(self._backoff(failures))
                continue
            self.limiter.observe(reply.headers)
            if reply.status_code == 429:
                self.limiter.pause(_retry_after(reply))
                continue
            if reply.status_code == 401:
                if not renewed:
                    renewed = True
                    self.token(renew=True)
                    continue
                raise AuthError(self.scrub(_auth_advice(self.connection, reply)))
            if reply.status_code in RETRIABLE:
                if not safe:
                    detail = self.explain(reply)
                    raise OutcomeUnknown(
                        f"Visma answered {reply.status_code}: {detail}", reply.status_code, detail
                    )
                failures += 1
                if failures > self.retries:
                    return reply
                self._sleep(self._backoff(failures))
                continue
            return reply

    def _request(
        self,
        method: str,
        path: str,
        json: Any,
        params: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> requests.Response:
        """One HTTP request. No redirect is followed on a write (it would send
        the document, and journal what another host answered); a GET follows
        one only to the same origin (scheme, host and port) as the API."""
        url = path if path.startswith(("http://", "https://")) else self.url(path)
        if _origin(url) != _origin(self.connection.base_url):
            raise RedirectRefused(f"{method} {url}: not an address of the API; not sent")
        for _ in range(MAX_REDIRECTS + 1):
            reply = self._exchange(method, url, json=json, params=params, headers=headers)
            if not reply.is_redirect:
                return reply
            target = urljoin(url, reply.headers.get("Location", ""))
            if method != "GET" or _origin(target) != _origin(self.connection.base_url):
                raise RedirectRefused(
                    f"Visma.net answered {method} {path} with a redirect to {target}; "
                    "not followed (a write is never redirected, a read only within "
                    f"{_origin(self.connection.base_url)}): check VNIMPORT_BASE_URL"
                )
            url, params = target, None
        raise RedirectRefused(f"{method} {path}: more than {MAX_REDIRECTS} redirects")

    def _exchange(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request and its (capped) answer, within :attr:`timeout` in all."""
        watch = _WATCHDOG.start(self.timeout)
        try:
            reply = self.session.request(
                method,
                url,
                timeout=(min(self.timeout, 30.0), self.timeout),
                allow_redirects=False,
                stream=True,
                **kwargs,
            )
            _read_body(reply)
            return reply
        except requests.RequestException as exc:
            if watch.fired:
                raise DeadlineExceeded(
                    f"no complete answer within {self.timeout:g} s (--timeout)"
                ) from None
            raise exc
        finally:
            _WATCHDOG.stop(watch)

    def explain(self, reply: requests.Response) -> str:
        """Visma's words for an error answer, scrubbed of secrets."""
        return self.scrub(visma_message(reply))

    def scrub(self, text: str) -> str:
        """``text`` without the client secret or the access token in it."""
        for secret in (self.connection.client_secret, self._token):
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    def _backoff(self, failures: int) -> float:
        base: float = self.backoff * 2 ** (failures - 1)
        return min(base, 30.0) * random.uniform(0.5, 1.5)

    # ------------------------------------------------------------- create

    def create(self, path: str, body: Any, number: re.Pattern[str] | None = None) -> Outcome:
        """POST a new document once. Without a clear answer (no answer, a
        dropped connection, a 5xx, a 201 whose ``Location`` is not the new
        document's address) the outcome is ``unknown``: Visma may have
        created it, so the caller looks it up (later: a create may commit
        after the client has given up) before anything is sent again.
        ``number`` is what a number of the type looks like."""
        try:
            reply = self.call("POST", path, json=body, safe=False)
        except OutcomeUnknown as unknown:
            return Outcome(
                "unknown",
                http_status=unknown.status,
                message=unknown.detail or str(unknown),
                code="outcome-unknown",
            )
        if reply.status_code == 201:
            location = reply.headers.get("Location", "")
            made = self.number_at(location, path, number)
            if made is None:
                return Outcome(
                    "unknown",
                    http_status=201,
                    code="outcome-unknown",
                    message=f"Visma answered 201, but its Location {location[:200]!r} is not "
                    "the address of a new document of this type",
                )
            return Outcome("created", made, 201, etag=reply.headers.get("ETag", ""))
        if reply.status_code < 400:
            return Outcome(
                "unknown",
                http_status=reply.status_code,
                code="outcome-unknown",
                message=f"Visma answered {reply.status_code} to a create, not 201 with the new "
                "document's address",
            )
        return Outcome(
            "failed",
            http_status=reply.status_code,
            message=self.explain(reply),
            code=http_code(reply.status_code),
        )

    def number_at(
        self, location: str, create_path: str, number: re.Pattern[str] | None = None
    ) -> str | None:
        """The new document's number from a create's ``Location``: the API's
        origin, ``/v<n>/<the type's collection>/<number>``, one segment of
        the characters a number may have; ``None`` for anything else."""
        target = urljoin(self.url(create_path), location)
        if not location or _origin(target) != _origin(self.connection.base_url):
            return None
        base = urlsplit(self.connection.base_url).path.rstrip("/")
        path = urlsplit(target).path
        if not path.startswith(base + "/"):
            return None
        parts = path[len(base) + 1 :].split("/")
        collection = create_path.rstrip("/").rsplit("/", 1)[-1].lower()
        if len(parts) != 3 or not re.fullmatch(r"v\d+", parts[0]):
            return None
        made = unquote(parts[2])
        if parts[1].lower() != collection or made.strip() in ("", ".", ".."):
            return None
        if not (number or _NUMBER).fullmatch(made):
            return None
        return made


_NUMBER = re.compile(r"[\w][\w .\-]{0,39}")  # a number's characters, when its type says none


def number_from_location(location: str) -> str:
    """The last path segment of ``Location`` (for the demo's own calls;
    :meth:`VismaClient.number_at` checks it)."""
    return unquote(urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1])


def seconds_until(value: str, now: float) -> float:
    """A reset or retry time as Visma and proxies write it: seconds to go,
    an epoch time (read as seconds it would be 49 years), or an HTTP date.
    ValueError when it is none of these."""
    from email.utils import parsedate_to_datetime

    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"not a time: {value!r}") from None
        return max(0.0, when.timestamp() - now)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"not a time: {value!r}")
    if number > EPOCH_FROM:  # an epoch time, not a number of seconds
        return max(0.0, number - now)
    return max(0.0, number)


EPOCH_FROM = 1_000_000_000.0  # 2001-09-09: larger "seconds" are an epoch time


def _retry_after(reply: requests.Response, now: float | None = None) -> float:
    try:
        return seconds_until(reply.headers.get("Retry-After", "1"), now or time.time())
    except ValueError:
        return 1.0


def _why(exc: Exception) -> str:
    """A network failure in a few words (not urllib3's nested reprs)."""
    if isinstance(exc, DeadlineExceeded):
        return str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        return (
            "its TLS certificate is not trusted (behind a company proxy or CA, set "
            "REQUESTS_CA_BUNDLE to the CA's PEM file)"
        )
    if isinstance(exc, requests.Timeout):
        return "timed out"
    text = str(exc)
    for known in ("Connection refused", "Name or service not known", "Connection reset"):
        if known in text:
            return known.lower()
    return type(exc).__name__


def _token_advice(c: Connection, scope: str, reply: requests.Response) -> str:
    """What the token endpoint's refusal means, and what to do."""
    said = visma_message(reply)
    try:
        error = str(reply.json().get("error", ""))
    except (ValueError, AttributeError):
        error = ""
    if error == "invalid_scope" or "scope" in said.lower():
        advice = (
            f"the client is not granted the scopes asked for ({scope}): grant them to the "
            "application in the Visma Developer Portal, or ask for fewer with --scopes"
        )
    elif error == "invalid_grant" or "tenant" in said.lower():
        advice = (
            f"check that the tenant id {c.tenant_id!r} is the company's and that the client "
            "is connected to it"
        )
    else:
        advice = "check the client id and secret"
    return (
        f"the token endpoint refused client {c.client_id!r} for tenant {c.tenant_id!r}: "
        f"{reply.status_code} {said}; {advice}"
    )


def _auth_advice(connection: Connection, reply: requests.Response) -> str:
    return (
        f"Visma.net refused the call ({reply.status_code}): {visma_message(reply)}. "
        f"The token for tenant {connection.tenant_id!r} is not accepted: check that the "
        "tenant id is the company's tenant (Visma Admin > Company > Configuration), not "
        "the customer's, and that the client has the ERP API roles for this company"
    )
