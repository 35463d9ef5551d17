"""How the notifications go out: an HTTP call (a webhook, a chat message, a
health check's ping) with requests, and an e-mail with smtplib.

Each sender raises :class:`SendError` with a reason a person can act on
("answered 500", "no answer within 10 s", "login refused (535 ...)") and
never with the address it called: a webhook's path is its password, and
requests' own messages carry the whole URL. :func:`shown` is the part of
an address that may be shown (``scheme://host[:port]``).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import requests

__all__ = ["Mail", "SendError", "call", "send_mail", "shown"]

USER_AGENT = "vnimport-notify"


class SendError(Exception):
    """A notification that did not get through; ``str()`` says why, with no
    address and no secret in it."""


def shown(url: str) -> str:
    """The part of ``url`` that may be shown: its scheme, host and port."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an address that cannot be read)"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{port}"


def call(
    url: str,
    *,
    timeout: float,
    json: Any = None,
    text: str | None = None,
) -> None:
    """GET ``url`` (nothing to send), or POST ``json`` or ``text`` to it; any
    2xx answer is success. A redirect is not followed: requests would turn
    a redirected POST into a GET and the message would be lost unseen."""
    headers = {"User-Agent": USER_AGENT}
    try:
        if json is None and text is None:
            answer = requests.get(
                url, headers=headers, timeout=(timeout, timeout), allow_redirects=False
            )
        elif json is not None:
            answer = requests.post(
                url, json=json, headers=headers, timeout=(timeout, timeout), allow_redirects=False
            )
        else:
            headers["Content-Type"] = "text/plain; charset=utf-8"
            answer = requests.post(
                url,
                data=(text or "").encode("utf-8"),
                headers=headers,
                timeout=(timeout, timeout),
                allow_redirects=False,
            )
    except requests.exceptions.ConnectTimeout:
        raise SendError(f"no connection within {timeout:g} s") from None
    except requests.exceptions.ReadTimeout:
        raise SendError(f"no answer within {timeout:g} s") from None
    except requests.exceptions.SSLError as exc:
        raise SendError(f"TLS failed: {_tls_reason(exc)}") from None
    except requests.exceptions.ConnectionError as exc:
        raise SendError(f"cannot connect: {_os_reason(exc)}") from None
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, ValueError):
        raise SendError("the address cannot be used") from None
    except requests.exceptions.RequestException as exc:
        raise SendError(type(exc).__name__) from None
    with answer:
        if 200 <= answer.status_code < 300:
            return
        if 300 <= answer.status_code < 400:
            raise SendError(f"answered {answer.status_code} (a redirect: is the address right?)")
        raise SendError(f"answered {answer.status_code} {answer.reason or ''}".rstrip())


@dataclass(frozen=True, repr=False)
class Mail:
    """Where and how e-mail goes: an SMTP server, STARTTLS, a login."""

    host: str
    port: int
    starttls: bool
    user: str
    password: str
    sender: str
    to: tuple[str, ...]

    def __repr__(self) -> str:
        tls = ", STARTTLS" if self.starttls else ""
        login = f", login {self.user}" if self.user else ""
        return f"Mail({self.host}:{self.port}{tls}{login}, to {', '.join(self.to)})"


def send_mail(
    mail: Mail,
    subject: str,
    body: str,
    *,
    timeout: float,
    context: ssl.SSLContext | None = None,
) -> None:
    """Send one plain-text e-mail. ``context``: the TLS context of STARTTLS
    (default: the system's trust store; ``SSL_CERT_FILE`` names another)."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = mail.sender
    message["To"] = ", ".join(mail.to)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    message.set_content(body)
    try:
        with smtplib.SMTP(mail.host, mail.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if mail.starttls:
                smtp.starttls(context=context or ssl.create_default_context())
                smtp.ehlo()
            if mail.user:
                smtp.login(mail.user, mail.password)
            smtp.send_message(message)
    except smtplib.SMTPNotSupportedError as exc:
        what = "STARTTLS" if "STARTTLS" in str(exc) else "a login (AUTH)"
        raise SendError(f"the server does not offer {what}") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(f"login refused ({_smtp_answer(exc.smtp_code, exc.smtp_error)})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(
            f"{to} ({_smtp_answer(code, text)})" for to, (code, text) in exc.recipients.items()
        )
        raise SendError(f"recipients refused: {refused}") from None
    except smtplib.SMTPSenderRefused as exc:
        raise SendError(
            f"sender {exc.sender} refused ({_smtp_answer(exc.smtp_code, exc.smtp_error)})"
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"the server said {_smtp_answer(exc.smtp_code, exc.smtp_error)}") from None
    except smtplib.SMTPServerDisconnected as exc:
        # smtplib reports a read that timed out as a disconnection
        if isinstance(exc.__context__, TimeoutError):
            raise SendError(f"no answer within {timeout:g} s") from None
        raise SendError("the server closed the connection") from None
    except smtplib.SMTPException as exc:
        raise SendError(str(exc) or type(exc).__name__) from None
    except TimeoutError:
        raise SendError(f"no answer within {timeout:g} s") from None
    except ssl.SSLCertVerificationError as exc:
        raise SendError(f"TLS failed: the server's certificate: {exc.verify_message}") from None
    except ssl.SSLError as exc:
        raise SendError(f"TLS failed: {exc.reason or exc}") from None
    except OSError as exc:
        raise SendError(f"cannot connect: {exc.strerror or type(exc).__name__}") from None


def _smtp_answer(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(said.split())}"[:200]


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception behind it: causes, contexts, and the ones
    requests and urllib3 keep in ``args`` and ``reason``."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        found = todo.pop(0)
        if id(found) in seen:
            continue
        seen.add(id(found))
        yield found
        inner: Sequence[object] = (
            *found.args,
            getattr(found, "reason", None),
            found.__cause__,
            found.__context__,
        )
        todo.extend(e for e in inner if isinstance(e, BaseException))


def _tls_reason(exc: BaseException) -> str:
    for found in _causes(exc):
        if isinstance(found, ssl.SSLCertVerificationError):
            return f"the server's certificate: {found.verify_message}"
    for found in _causes(exc):
        if isinstance(found, ssl.SSLError) and found.reason:
            return str(found.reason)
    return "the secure connection could not be made"


def _os_reason(exc: BaseException) -> str:
    for found in _causes(exc):
        if isinstance(found, OSError) and found.errno is not None and found.strerror:
            return found.strerror
    return "the connection failed"
