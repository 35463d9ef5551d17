"""Post stage: talking to Visma.net, each document exactly once.

:class:`VismaClient` is one authenticated HTTP session shared by the
workers: the token is cached and renewed before it expires (and once on a
401); a rate limiter spreads calls over what ``X-RateLimit-*`` says is left,
so that 429s are rare; a 429 waits ``Retry-After``; 5xx answers and timeouts
of safe calls are retried with exponential backoff and jitter, a bounded
number of times.

A create is not safe to repeat: Visma has no idempotency key. When a POST
gets no answer (timeout, dropped connection, 5xx after sending), the client
does not send it again blindly: :meth:`VismaClient.create` asks the caller's
``find`` function whether the document is in Visma and re-sends only when it
is absent.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from importer.codes import http_code
from importer.errors import AuthError
from importer.settings import Connection

RETRIABLE = {500, 502, 503, 504}
RENEW_BEFORE = 60.0  # seconds before expiry that a token is renewed


MAX_REDIRECTS = 3


class RedirectRefused(AuthError):
    """Visma.net answered with a redirect vnimport does not follow: the
    configured address is not the API (a proxy, a moved endpoint); the run
    stops rather than send documents elsewhere."""

    code = "redirect"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


class OutcomeUnknown(Exception):
    """A request was sent and no usable answer came back (``status``: the
    5xx Visma answered, if it answered; ``detail``: its words)."""

    def __init__(self, message: str, status: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


@dataclass
class Outcome:
    """What happened to one document."""

    status: str  # a status of importer.codes.STATUSES: created, updated, failed ...
    number: str = ""
    http_status: int | None = None
    message: str = ""
    code: str = ""  # why, when it did not go as asked (importer.codes.CODES)


def visma_message(reply: requests.Response) -> str:
    """Visma's own words from an error answer (JSON ``message`` or
    ``ExceptionMessage``, or the plain text), verbatim."""
    try:
        body = reply.json()
    except ValueError:
        return reply.text.strip()[:2000] or reply.reason
    if isinstance(body, dict):
        for key in ("message", "Message", "ExceptionMessage", "error_description", "error"):
            if body.get(key):
                return str(body[key])
    return reply.text.strip()[:2000]


class RateLimiter:
    """Lets calls go while the window's quota lasts, then holds them until
    the window resets.

    Visma's limit is a fixed window per client and company:
    ``X-RateLimit-Limit`` calls, ``-Remaining`` left, ``-Reset`` seconds to
    go. Each call is counted against the quota as it leaves; an answer's
    ``Remaining`` can only lower the count (other clients of the same company
    use the quota too). When the quota is spent, calls wait for the next
    window instead of earning 429s; a 429 that comes anyway pauses every
    worker for its ``Retry-After``. (Spreading the quota evenly over the
    window was measured to cap a batch at quota / window, whatever the
    number of workers.)"""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._wall_clock = wall_clock  # for a Reset given as an epoch time or a date
        self._limit: int | None = None
        self._window = 0.0  # the longest Reset seen: about the window's length
        self._remaining: int | None = None  # None: nothing known yet
        self._reset_at = 0.0
        self._opens_at = 0.0  # calls wait for this once a window's quota is spent
        self._paused_until = 0.0

    def wait(self) -> float:
        """Seconds to wait before the next call; the call is counted."""
        with self._lock:
            now = self._clock()
            start = max(now, self._paused_until, self._opens_at)
            if self._remaining is None:
                return start - now
            if start >= self._reset_at:  # the window we counted in is over
                self._remaining = self._limit or 1
                self._reset_at = start + (self._window or 1.0)
            if self._remaining <= 0:  # spent: this call opens the next window
                start = max(start, self._reset_at)
                self._opens_at = self._reset_at
                self._remaining = self._limit or 1
                self._reset_at = start + (self._window or 1.0)
            self._remaining -= 1
            return start - now

    def observe(self, headers: Any) -> None:
        try:
            limit = int(headers["X-RateLimit-Limit"])
            remaining = int(headers["X-RateLimit-Remaining"])
            seconds = seconds_until(headers["X-RateLimit-Reset"], self._wall_clock())
        except (KeyError, ValueError):
            return
        with self._lock:
            now = self._clock()
            self._limit = limit
            self._window = max(self._window, seconds)
            reset_at = now + seconds
            if self._remaining is None or reset_at > self._reset_at + 1.0:
                # the first answer, or one from a window later than ours
                self._remaining = remaining
                self._reset_at = reset_at
            else:
                self._remaining = min(self._remaining, remaining)
                self._reset_at = min(self._reset_at, reset_at)

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


class VismaClient:
    def __init__(
        self,
        connection: Connection,
        *,
        workers: int = 4,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.connection = connection
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(workers, 1))
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
            reply = self.session.post(
                c.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "tenant_id": c.tenant_id,
                    "scope": c.scope,
                },
                timeout=self.timeout,
                allow_redirects=False,  # the secret goes to the token endpoint and nowhere else
            )
        except requests.RequestException as exc:
            raise AuthError(
                self.scrub(f"cannot reach the token endpoint {c.token_url}: {exc}")
            ) from None
        if reply.is_redirect:
            raise AuthError(
                f"the token endpoint {c.token_url} redirected to "
                f"{reply.headers.get('Location', '?')}; not followed (the client secret is "
                "sent to the configured token endpoint only): check VNIMPORT_TOKEN_URL"
            )
        if reply.status_code != 200:
            raise AuthError(
                self.scrub(
                    f"the token endpoint refused client {c.client_id!r} for tenant "
                    f"{c.tenant_id!r}: {reply.status_code} {visma_message(reply)}; check the "
                    "client id and secret, and that the tenant id is the company's"
                )
            )
        body = reply.json()
        return str(body["access_token"]), float(body.get("expires_in", 3600))

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
        :class:`OutcomeUnknown`. A 401/403 that persists is :class:`AuthError`."""
        safe = method == "GET" if safe is None else safe
        renewed = False
        failures = 0
        while True:
            delay = self.limiter.wait()
            if delay > 0:
                if delay >= 1.0 and self.on_wait is not None:
                    self.on_wait(delay)
                self._sleep(delay)
            send_headers = {"Authorization": f"Bearer {self.token()}", **(headers or {})}
            with self._count_lock:
                self.calls += 1
            try:
                reply = self._request(method, path, json, params, send_headers)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if not safe:
                    raise OutcomeUnknown(f"no answer from Visma: {type(exc).__name__}") from None
                failures += 1
                if failures > self.retries:
                    raise OutcomeUnknown(f"no answer from Visma after {failures} tries") from None
                self._sleep(self._backoff(failures))
                continue
            self.limiter.observe(reply.headers)
            if reply.status_code == 429:
                self.limiter.pause(_retry_after(reply))
                continue
            if reply.status_code in (401, 403):
                if not renewed:
                    renewed = True
                    self.token(renew=True)
                    continue
                raise AuthError(self.scrub(_auth_advice(self.connection, reply)))
            if reply.status_code in RETRIABLE:
                if not safe:
                    detail = visma_message(reply)
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
        url = self.url(path)
        for _ in range(MAX_REDIRECTS + 1):
            reply = self.session.request(
                method,
                url,
                json=json,
                params=params,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
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

    def create(self, path: str, body: Any) -> Outcome:
        """POST a new document once. Without a clear answer (no answer, a
        dropped connection, a 5xx) the outcome is ``unknown``: Visma may have
        created it, so the caller looks it up (later: a create may commit
        after the client has given up) before anything is sent again."""
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
            return Outcome("created", number_from_location(reply.headers.get("Location", "")), 201)
        return Outcome(
            "failed",
            http_status=reply.status_code,
            message=visma_message(reply),
            code=http_code(reply.status_code),
        )


def number_from_location(location: str) -> str:
    """The new document's number: the last path segment of ``Location``."""
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
    if number > EPOCH_FROM:  # an epoch time, not a number of seconds
        return max(0.0, number - now)
    return max(0.0, number)


EPOCH_FROM = 1_000_000_000.0  # 2001-09-09: larger "seconds" are an epoch time


def _retry_after(reply: requests.Response, now: float | None = None) -> float:
    try:
        return seconds_until(reply.headers.get("Retry-After", "1"), now or time.time())
    except ValueError:
        return 1.0


def _auth_advice(connection: Connection, reply: requests.Response) -> str:
    return (
        f"Visma.net refused the call ({reply.status_code}): {visma_message(reply)}. "
        f"The token for tenant {connection.tenant_id!r} is not accepted: check that the "
        "tenant id is the company's tenant (Visma Admin > Company > Configuration), not "
        "the customer's, and that the client has the ERP API roles for this company"
    )
