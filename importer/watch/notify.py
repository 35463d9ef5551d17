"""The watcher's notifications: a message per file, health-check pings per
pass, and a word when an expected file did not come.

::

    [watch.notify]
    when = "failures"        # or "always": which files are told (default failures)
    webhook = "https://example.com/hook"           # generic: the outcome as JSON
    slack = "https://hooks.slack.com/services/..."  # Slack-style: {"text": ...}
    teams = "https://prod-00.westeurope.logic.azure.com/workflows/..."  # an Adaptive Card
    email_to = ["ops@acme.no"]
    email_from = "vnimport@acme.no"
    smtp_host = "smtp.acme.no"
    smtp_port = 587          # default 587 with STARTTLS, else 25
    smtp_starttls = true     # default true
    smtp_user = "vnimport"   # a login (only over STARTTLS)
    smtp_password_env = "SMTP_PASSWORD"   # or smtp_password_file = "/etc/vnimport/smtp"
    [watch.health]
    start = "https://hc-ping.com/UUID/start"     # called before each pass
    success = "https://hc-ping.com/UUID"         # after a pass that ran, every file fine
    fail = "https://hc-ping.com/UUID/fail"       # else, the reason POSTed as the body

Each file message says the file, its folder and type, the company, what it
came to, the rows by status, the first problems (at most five, each cut),
where the report and the file are, the run's id and the host; never a
row's cells, never a secret. A pass that failed and had no failed file to
tell (it could not run: Visma, the journal or the folders out of reach, a
second watcher) is told through the same channels, once until a pass
succeeds or the reason changes. An expectation missed (a folder's
``expect_every``) is always told.

A sender that fails (refused, a timeout, a 500, a certificate not
trusted) never raises out of the :class:`Notifier`: it is said through
``say`` with the channel, ``scheme://host`` of the address (a webhook's
path is its password) and the reason. The SMTP password is read from the
environment or a file, never from ``vnimport.toml``, and never shown.
Certificates are checked against the system's trust store; a company's
own CA is added with ``SSL_CERT_FILE`` (SMTP) and ``REQUESTS_CA_BUNDLE``
(the web addresses).

Why requests and smtplib, not apprise: apprise (checked: 2.3.0) rebuilds
the addresses it is given. Its Slack sender posts to the fixed host
``https://hooks.slack.com/services/`` with the tokens cut out of the URL,
so a Slack-compatible address of Mattermost, Rocket.Chat or a proxy
cannot be used as pasted; its Teams workflow sender takes only hosts
matching ``logic.azure.*`` or ``*.powerplatform.*`` and always posts
``https://{host}/workflows/{id}/triggers/manual/paths/invoke``; its
generic ``json://`` sender posts apprise's own schema, not the outcome.
None of them can be pointed at a local receiver on loopback, so they
could not be tested as the rest of vnimport is (real sockets, no mocks).
It also reports a failure as ``False`` and a log line, where the watcher
needs the reason without the address, and it would bring click,
markdown, PyYAML and requests-oauthlib along. The three bodies here are
small; requests is a dependency already and smtplib is the standard
library's.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from importer.watch.messages import (
    Message,
    as_slack,
    as_teams,
    as_text,
    file_message,
    overdue_message,
    pass_message,
)
from importer.watch.notify_config import HEALTH_KEYS, NOTIFY_KEYS, WHEN, read_tables
from importer.watch.outcome import FileOutcome
from importer.watch.senders import Mail, SendError, call, send_mail, shown

__all__ = ["HEALTH_KEYS", "NOTIFY_KEYS", "WHEN", "Notifier", "NotifySettings"]

MAX_REASON = 2000  # characters of the reason POSTed to the fail address


@dataclass(frozen=True, repr=False)
class NotifySettings:
    """Where the notifications go (``[watch.notify]``) and which addresses
    a pass calls (``[watch.health]``); empty text: not used."""

    when: str = "failures"
    webhook: str = ""
    slack: str = ""
    teams: str = ""
    mail: Mail | None = None
    start: str = ""
    success: str = ""
    fail: str = ""

    @classmethod
    def from_config(
        cls, watch_table: Mapping[str, Any], where: str, env: Mapping[str, str]
    ) -> NotifySettings:
        """The settings of the ``[watch]`` table ``watch_table`` (``where``
        names it in messages: ``[watch] in PATH``); a :class:`ConfigError`
        naming every key that is wrong and what it may be."""
        return cls(**read_tables(watch_table, where, env))

    @property
    def channels(self) -> dict[str, str]:
        """The channels used, each with what may be shown of its address."""
        found = {
            k: shown(getattr(self, k)) for k in ("webhook", "slack", "teams") if getattr(self, k)
        }
        if self.mail:
            found["e-mail"] = f"{self.mail.host}:{self.mail.port} to {', '.join(self.mail.to)}"
        return found

    def describe(self) -> str:
        """One line: what is told where (no secret in it)."""
        told = ", ".join(f"{k} ({v})" for k, v in self.channels.items())
        pings = [k for k in ("start", "success", "fail") if getattr(self, k)]
        parts = [f"notifications ({self.when}): {told}" if told else "no notifications"]
        if pings:
            hosts = sorted({shown(getattr(self, k)) for k in pings})
            parts.append(f"health checks: {', '.join(pings)} ({', '.join(hosts)})")
        return "; ".join(parts)

    def __repr__(self) -> str:
        return f"NotifySettings({self.describe()})"


class Notifier:
    """Tells what the watcher does, through every channel of ``settings``.
    Nothing it does raises: a channel that fails is said through ``say``
    (default: standard error). ``timeout`` (seconds) bounds each connection
    and each answer; ``tls_context`` is STARTTLS's (default: the system's
    trust store, or the file ``SSL_CERT_FILE`` names). Safe to call from
    several threads."""

    def __init__(
        self,
        settings: NotifySettings,
        *,
        timeout: float = 10.0,
        say: Callable[[str], None] | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.timeout = timeout
        self._say = say if say is not None else _stderr
        self._tls = tls_context
        self._host = socket.gethostname()
        self._lock = threading.Lock()
        self._failed_files = 0  # failed files told during this pass
        self._last_said: str | None = None  # the failed pass last told, until one succeeds
        self._secrets = _secrets(settings)

    # ------------------------------------------------------------ the API

    def pass_started(self) -> None:
        with self._lock:
            self._failed_files = 0
        self._ping("start", self.settings.start)

    def pass_finished(self, ok: bool, reason: str = "") -> None:
        """After a pass: the success address when it ran and every file was
        fine; else the fail address with ``reason`` as the body (and no
        success), and, when no failed file told it already, a message."""
        with self._lock:
            told, self._failed_files = self._failed_files, 0
            repeat = not ok and self._last_said == reason
            self._last_said = None if ok else reason
        if ok:
            self._ping("success", self.settings.success)
            return
        why = (reason or "the pass failed")[:MAX_REASON]
        self._ping("fail", self.settings.fail, text=why)
        if not told and not repeat:
            self._send(partial(pass_message, reason, self._host))

    def file_done(self, outcome: FileOutcome) -> None:
        """A file finished: told when ``when`` is "always", or it failed."""
        if outcome.failed:
            with self._lock:
                self._failed_files += 1
        if self.settings.when == "always" or outcome.failed:
            self._send(partial(file_message, outcome, self._host))

    def overdue(self, folder: str, doctype: str, last: float | None, every: float) -> None:
        """No file came to ``folder`` within ``every`` seconds (``last``: the
        newest one's time, seconds since the epoch; ``None``: none yet)."""
        self._send(partial(overdue_message, folder, doctype, last, every, self._host))

    # ------------------------------------------------------------ sending

    def _send(self, write: Callable[[], Message]) -> None:
        s = self.settings
        if not (s.webhook or s.slack or s.teams or s.mail):
            return
        try:
            message = write()
        except Exception as exc:  # a bug must not stop the watcher
            self._tell(f"the notification could not be written: {type(exc).__name__}")
            return
        for channel, url, body in (
            ("webhook", s.webhook, message.data),
            ("slack", s.slack, as_slack(message)),
            ("teams", s.teams, as_teams(message)),
        ):
            if url:
                self._try(
                    f"the {channel} notification to {shown(url)}",
                    partial(call, url, timeout=self.timeout, json=body),
                )
        if s.mail:
            mail = s.mail
            self._try(
                f"the e-mail through {mail.host}:{mail.port}",
                lambda: send_mail(
                    mail, message.subject, as_text(message), timeout=self.timeout, context=self._tls
                ),
            )

    def _ping(self, which: str, url: str, *, text: str | None = None) -> None:
        if url:
            self._try(
                f"the {which} ping to {shown(url)}",
                lambda: call(url, timeout=self.timeout, text=text),
            )

    def _try(self, what: str, send: Callable[[], None]) -> None:
        try:
            send()
        except SendError as exc:
            self._tell(f"{what} did not get through: {exc}")
        except Exception as exc:  # a bug must not stop the watcher, nor show a secret
            self._tell(f"{what} did not get through: {type(exc).__name__}")

    def _tell(self, line: str) -> None:
        for secret in self._secrets:
            line = line.replace(secret, "***")
        with contextlib.suppress(Exception):  # say is the caller's; its failure is not ours
            self._say(line)


def _secrets(settings: NotifySettings) -> list[str]:
    """What must never be said: the password, each address whole and its path."""
    found = []
    if settings.mail and len(settings.mail.password) >= 3:
        found.append(settings.mail.password)
    for key in ("webhook", "slack", "teams", "start", "success", "fail"):
        url: str = getattr(settings, key)
        if url:
            found.append(url)
            rest = url.split("://", 1)[-1].partition("/")[2]
            if len(rest) >= 3:
                found.append("/" + rest)
    return sorted(set(found), key=len, reverse=True)


def _stderr(line: str) -> None:
    print(f"vnimport: {line}", file=sys.stderr)
