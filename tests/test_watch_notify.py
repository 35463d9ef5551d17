"""The watcher's notifications, against real receivers on loopback: an SMTP
server (aiosmtpd, with STARTTLS from a local CA and a login) and HTTP
receivers that record what they are sent, or refuse, hang, fail or show a
certificate nobody trusts."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import logging
import os
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from importer.errors import ConfigError
from importer.sandbox import DEMO_SECRET, Sandbox, SandboxConfig
from importer.sandbox.process import demo_connection
from importer.watch.messages import duration
from importer.watch.notify import Notifier, NotifySettings
from importer.watch.outcome import FileOutcome

PASSWORD = "s3cret-Pa55word"
TOKEN = "T0000/B0000/XXXXsecretXXXX"

# ------------------------------------------------------------------ receivers


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """An HTTP server on loopback that records each request and answers
    ``status`` (optionally over TLS with a certificate of ``ca``)."""

    def __init__(self, status: int = 200, tls: trustme.CA | None = None) -> None:
        self.status = status
        self.requests: list[Request] = []
        self.errors: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver.requests.append(Request(self.command, self.path, dict(self.headers), body))
                self.send_response(receiver.status)
                if 300 <= receiver.status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = _record

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                receiver.errors.append(str(client_address))

        self.server = Server(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.issue_cert("127.0.0.1").configure_cert(context)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.base = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def paths(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def hanging() -> Iterator[str]:
    """An address that takes the connection and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.fixture
def refused() -> str:
    """An address where nothing listens: the connection is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"127.0.0.1:{port}"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    """A client's TLS context that trusts the local CA (as a company CA would be)."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


class _NoLoginDataWarning(logging.Filter):
    """aiosmtpd 1.4 logs its own deprecation of ``Session.login_data`` at
    every successful AUTH (its own code sets it): not ours to act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


@dataclass
class Mailbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str | None, list[str]]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)  # (user, mechanism)
    tls: list[bool] = field(default_factory=list)  # each message: came over TLS


class SmtpServer:
    """aiosmtpd on loopback, on an event loop of its own in a thread,
    bound to a port the system gives (aiosmtpd's Controller cannot use
    port 0). ``tls``: STARTTLS offered and required; ``user``: a login
    required, with :data:`PASSWORD`."""

    def __init__(self, ca: trustme.CA | None, user: str = "") -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.mailbox = Mailbox(self.sock.getsockname()[1])
        context = None
        if ca is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        box = self.mailbox

        class Handler:
            async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
                raw = envelope.original_content or b""
                parsed = email.message_from_bytes(raw, policy=email.policy.default)
                assert isinstance(parsed, EmailMessage)
                box.messages.append(parsed)
                box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                box.tls.append(session.ssl is not None)
                return "250 OK"

        def authenticate(
            server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
        ) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and data.login.decode() == user
                and data.password.decode() == PASSWORD
            )
            if ok:
                box.logins.append((user, mechanism))
            return AuthResult(success=ok, handled=False)

        self.loop = asyncio.new_event_loop()

        def factory() -> SMTP:
            return SMTP(
                Handler(),
                hostname="localhost",
                tls_context=context,
                require_starttls=context is not None,
                authenticator=authenticate if user else None,
                auth_required=bool(user),
                loop=self.loop,
            )

        self.filter = _NoLoginDataWarning()
        logging.getLogger("mail.log").addFilter(self.filter)
        self.server = self.loop.run_until_complete(self.loop.create_server(factory, sock=self.sock))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()
        logging.getLogger("mail.log").removeFilter(self.filter)


@pytest.fixture
def smtp_server(ca: trustme.CA) -> Iterator[Callable[..., Mailbox]]:
    started: list[SmtpServer] = []

    def start(tls: bool = True, user: str = "vnimport") -> Mailbox:
        server = SmtpServer(ca if tls else None, user)
        started.append(server)
        return server.mailbox

    yield start
    for server in started:
        server.close()


# ------------------------------------------------------------------ helpers


def settings(
    notify: dict[str, Any] | None = None,
    health: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> NotifySettings:
    table: dict[str, Any] = {"root": "/srv/drop", "target": "acme"}
    if notify is not None:
        table["notify"] = notify
    if health is not None:
        table["health"] = health
    return NotifySettings.from_config(
        table, "[watch] in /etc/vnimport/vnimport.toml", env or {"SMTP_PASSWORD": PASSWORD}
    )


def mail_keys(box: Mailbox, **more: Any) -> dict[str, Any]:
    keys = {
        "email_to": ["ops@acme.no", "lead@acme.no"],
        "email_from": "vnimport@acme.no",
        "smtp_host": "127.0.0.1",
        "smtp_port": box.port,
        "smtp_user": "vnimport",
        "smtp_password_env": "SMTP_PASSWORD",
    }
    keys.update(more)
    return {k: v for k, v in keys.items() if v is not None}


def failed_file(tmp_path: Path, **more: Any) -> FileOutcome:
    values: dict[str, Any] = {
        "file": "customers.xlsx",
        "folder": "customers",
        "doctype": "customer",
        "company": "acme",
        "status": "failed",
        "counts": {"created": 117, "failed": 2, "invalid": 1},
        "problems": [
            "row 4, Customer number: required",
            "row 9: http-400: Visma: the VAT zone is not valid",
            "row 17, Postal code: not a postal code",
        ],
        "run_id": "20250131-020001-7",
        "moved_to": tmp_path / "failed" / "2025-01" / "customers.7.xlsx",
        "reports": {
            "xlsx": tmp_path / "failed" / "2025-01" / "customers.7.report.xlsx",
            "json": tmp_path / "failed" / "2025-01" / "customers.7.report.json",
            "fixme": tmp_path / "failed" / "2025-01" / "customers.7.fixme.xlsx",
        },
    }
    values.update(more)
    return FileOutcome(**values)


class Said(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)


# ------------------------------------------------------------------ the acceptance


def test_a_failed_file_is_told_by_webhook_slack_teams_and_email(
    tmp_path: Path,
    receiver: Receiver,
    smtp_server: Callable[..., Mailbox],
    client_tls: ssl.SSLContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    box = smtp_server()
    found = settings(
        {
            "webhook": receiver.url("/hook/abc"),
            "slack": receiver.url(f"/services/{TOKEN}"),
            "teams": receiver.url("/workflows/123/triggers/manual/paths/invoke?sig=SIG"),
            **mail_keys(box),
        }
    )
    said = Said()
    notifier = Notifier(found, say=said, tls_context=client_tls)
    outcome = failed_file(tmp_path)
    notifier.file_done(outcome)

    assert said == []
    assert receiver.paths() == [
        ("POST", "/hook/abc"),
        ("POST", f"/services/{TOKEN}"),
        ("POST", "/workflows/123/triggers/manual/paths/invoke?sig=SIG"),
    ]
    webhook, slack, teams = (r.json() for r in receiver.requests)
    subject = "vnimport: customers.xlsx failed at acme: 3 of 120 rows"

    assert webhook["event"] == "file"
    assert webhook["summary"] == subject
    assert {k: webhook[k] for k in ("file", "folder", "type", "company", "status")} == {
        "file": "customers.xlsx",
        "folder": "customers",
        "type": "customer",
        "company": "acme",
        "status": "failed",
    }
    assert webhook["counts"] == {"created": 117, "invalid": 1, "failed": 2}
    assert (webhook["rows"], webhook["rows_not_fine"], webhook["failed"]) == (120, 3, True)
    assert webhook["problems"] == outcome.problems
    assert webhook["run_id"] == "20250131-020001-7"
    assert webhook["reports"]["xlsx"] == str(outcome.reports["xlsx"])
    assert webhook["moved_to"] == str(outcome.moved_to)

    text = slack["text"]
    assert list(slack) == ["text"]
    assert text.startswith(f"*{subject}*\n")
    for part in (
        "Type: customer",
        "Company: acme",
        "Rows: 120: created 117, invalid 1, failed 2",
        "- row 9: http-400: Visma: the VAT zone is not valid",
        f"Report: {outcome.reports['xlsx']}",
        f"Fix-me: {outcome.reports['fixme']}",
        "Run: 20250131-020001-7",
    ):
        assert part in text

    assert all(r.headers["Content-Type"] == "application/json" for r in receiver.requests)
    assert teams["type"] == "message"
    (attachment,) = teams["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["body"][0]["text"] == subject
    assert card["body"][0]["color"] == "Attention"
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts["File"] == "customers.xlsx"
    assert facts["Report"] == str(outcome.reports["xlsx"])
    assert any("row 4, Customer number: required" in b.get("text", "") for b in card["body"])

    (message,) = box.messages
    assert message["Subject"] == subject
    assert message["From"] == "vnimport@acme.no"
    assert message["To"] == "ops@acme.no, lead@acme.no"
    assert message["Auto-Submitted"] == "auto-generated"
    assert box.envelopes == [("vnimport@acme.no", ["ops@acme.no", "lead@acme.no"])]
    assert box.tls == [True]  # STARTTLS before anything was sent
    assert [user for user, _ in box.logins] == ["vnimport"]
    body = message.get_content()
    for part in (
        "File:     customers.xlsx",
        "Status:   failed",
        "Rows:     120: created 117, invalid 1, failed 2",
        "Problems:",
        "- row 17, Postal code: not a postal code",
        f"Report:   {outcome.reports['xlsx']}",
        "Run:      20250131-020001-7",
    ):
        assert part in body
    out = capsys.readouterr()
    assert PASSWORD not in out.out + out.err + repr(found) + repr(notifier.settings.mail)


def test_a_watch_pass_with_a_failed_file_is_told_to_the_receivers_and_calls_fail_not_success(
    tmp_path: Path, receiver: Receiver, smtp_server: Callable[..., Mailbox], ca: trustme.CA
) -> None:
    """The whole way: ``vnimport watch --once`` takes a file with a bad row
    into the sandbox; the webhook and the SMTP server get the message, the
    health check its start and fail (the CA of the SMTP server trusted as a
    company's own would be: ``SSL_CERT_FILE``)."""
    box = smtp_server()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with Sandbox(SandboxConfig(company="empty")) as sb:
        conn = demo_connection(sb.url)
        inbox = tmp_path / "drop" / "customers" / "inbox"
        inbox.mkdir(parents=True)
        rows = (
            "Customer number;Customer name;Credit limit\n10001;Alfa AS;1000\n10002;Beta AS;lots\n"
        )
        (inbox / "customers.csv").write_text(rows, encoding="utf-8")
        mail = mail_keys(box)
        (tmp_path / "vnimport.toml").write_text(
            f"""
[targets.acme]
base_url = "{conn.base_url}"
token_url = "{conn.token_url}"
client_id = "{conn.client_id}"
tenant_id = "{conn.tenant_id}"
client_secret_env = "ACME_SECRET"
journal = {json.dumps(str(tmp_path / "acme.sqlite"))}
kind = "test"

[watch]
root = {json.dumps(str(tmp_path / "drop"))}
target = "acme"
settle = 0

[watch.folders.customers]
type = "customer"

[watch.notify]
webhook = "{receiver.url("/hook/" + TOKEN)}"
email_to = {json.dumps(mail["email_to"])}
email_from = "{mail["email_from"]}"
smtp_host = "127.0.0.1"
smtp_port = {box.port}
smtp_user = "vnimport"
smtp_password_env = "SMTP_PASSWORD"

[watch.health]
start = "{receiver.url("/ping/UUID/start")}"
success = "{receiver.url("/ping/UUID")}"
fail = "{receiver.url("/ping/UUID/fail")}"
""",
            encoding="utf-8",
        )
        env = {
            **os.environ,
            "ACME_SECRET": DEMO_SECRET,
            "SMTP_PASSWORD": PASSWORD,
            "SSL_CERT_FILE": str(ca_file),
        }
        proc = subprocess.run(
            [sys.executable, "-m", "importer", "watch", "--once"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert proc.returncode == 1, proc.stderr
    assert "did not get through" not in proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr and TOKEN not in proc.stdout + proc.stderr
    assert receiver.paths() == [
        ("GET", "/ping/UUID/start"),
        ("POST", f"/hook/{TOKEN}"),
        ("POST", "/ping/UUID/fail"),
    ]
    told = receiver.requests[1].json()
    assert (told["file"], told["status"], told["company"], told["rows_not_fine"]) == (
        "customers.csv",
        "failed",
        "acme",
        1,
    )
    assert any("Credit limit" in p for p in told["problems"])
    assert Path(told["reports"]["xlsx"]).exists()
    (message,) = box.messages
    assert message["Subject"].startswith("vnimport: customers.csv failed at acme: 1 of 2 rows")
    assert box.tls == [True] and [u for u, _ in box.logins] == ["vnimport"]


def test_when_failures_tells_failed_and_refused_files_only_and_always_tells_each(
    tmp_path: Path, receiver: Receiver
) -> None:
    fine = failed_file(tmp_path, status="imported", counts={"created": 120}, problems=[])
    again = failed_file(
        tmp_path, status="duplicate", counts={}, problems=[], message="already imported in run 6"
    )
    refused = failed_file(
        tmp_path,
        status="refused",
        counts={},
        problems=["Visma.net cannot be reached: connection refused"],
        message="Visma.net cannot be reached: connection refused",
        run_id="",
    )
    failures = Notifier(settings({"webhook": receiver.url("/f")}), say=Said())
    for outcome in (fine, again, failed_file(tmp_path), refused):
        failures.file_done(outcome)
    assert [r.json()["status"] for r in receiver.requests] == ["failed", "refused"]
    told = receiver.requests[1].json()
    assert told["summary"] == (
        "vnimport: customers.xlsx refused at acme: Visma.net cannot be reached: connection refused"
    )
    assert told["message"] == "Visma.net cannot be reached: connection refused"

    receiver.requests.clear()
    always = Notifier(settings({"when": "always", "slack": receiver.url("/a")}), say=Said())
    for outcome in (fine, again, failed_file(tmp_path), refused):
        always.file_done(outcome)
    subjects = [r.json()["text"].splitlines()[0] for r in receiver.requests]
    assert subjects == [
        "*vnimport: customers.xlsx imported at acme: 120 rows*",
        "*vnimport: customers.xlsx already imported at acme*",
        "*vnimport: customers.xlsx failed at acme: 3 of 120 rows*",
        "*vnimport: customers.xlsx refused at acme: Visma.net cannot be reached: connection "
        "refused*",
    ]


def test_a_message_shows_the_first_five_problems_each_cut_and_nothing_can_break_its_form(
    tmp_path: Path, receiver: Receiver, smtp_server: Callable[..., Mailbox]
) -> None:
    box = smtp_server(tls=False, user="")
    long = "row 3, Name: " + "x" * 5000
    outcome = failed_file(
        tmp_path,
        file="<!channel> & <https://evil.example|click>.xlsx\nBcc: all@acme.no",
        problems=[long] + [f"row {n}: required" for n in range(4, 15)],
    )
    found = settings(
        {
            "webhook": receiver.url("/j"),
            "slack": receiver.url("/s"),
            **mail_keys(box, smtp_user=None, smtp_password_env=None, smtp_starttls=False),
        }
    )
    Notifier(found, say=Said()).file_done(outcome)

    webhook, slack = (r.json() for r in receiver.requests)
    assert len(webhook["problems"]) == 5
    assert webhook["more_problems"] == 7
    assert all(len(p) <= 200 for p in webhook["problems"])
    assert webhook["problems"][0].endswith("…")
    assert "(and 7 more: see the report)" in slack["text"]
    assert "<!channel>" not in slack["text"] and "<https:" not in slack["text"]
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;.xlsx" in slack["text"]

    (message,) = box.messages
    assert box.tls == [False]  # smtp_starttls = false: plain, as asked
    assert message["Bcc"] is None
    assert box.envelopes[0][1] == ["ops@acme.no", "lead@acme.no"]
    assert "\n" not in message["Subject"]
    body = message.get_content()
    assert body.count("\n- row ") == 5
    assert max(len(line) for line in body.splitlines()) < 250


# ------------------------------------------------------------------ the pass


def test_start_success_and_fail_addresses_are_called_as_a_health_check_expects(
    receiver: Receiver,
) -> None:
    health = {
        "start": receiver.url("/ping/UUID/start"),
        "success": receiver.url("/ping/UUID"),
        "fail": receiver.url("/ping/UUID/fail"),
    }
    notifier = Notifier(settings(health=health), say=Said())

    notifier.pass_started()
    notifier.pass_finished(True)
    assert receiver.paths() == [("GET", "/ping/UUID/start"), ("GET", "/ping/UUID")]

    receiver.requests.clear()
    notifier.pass_started()
    notifier.pass_finished(False, "Visma.net could not be reached: no answer within 30 s")
    assert receiver.paths() == [("GET", "/ping/UUID/start"), ("POST", "/ping/UUID/fail")]
    fail = receiver.requests[1]
    assert fail.body.decode() == "Visma.net could not be reached: no answer within 30 s"
    assert fail.headers["Content-Type"].startswith("text/plain")

    receiver.requests.clear()  # a pass that could not start (a second watcher): fail only
    notifier.pass_finished(False, "could not run: another watcher holds the root")
    assert receiver.paths() == [("POST", "/ping/UUID/fail")]


def test_a_failed_pass_is_told_once_through_the_channels_unless_a_failed_file_told_it(
    tmp_path: Path, receiver: Receiver
) -> None:
    notifier = Notifier(
        settings({"webhook": receiver.url("/hook")}, {"fail": receiver.url("/fail")}), say=Said()
    )
    for _ in range(3):  # the same reason, pass after pass: said once
        notifier.pass_started()
        notifier.pass_finished(False, "Visma.net could not be reached")
    told = [r.json() for r in receiver.requests if r.path == "/hook"]
    assert [(t["event"], t["reason"]) for t in told] == [
        ("pass-failed", "Visma.net could not be reached")
    ]
    assert "a pass failed: Visma.net could not be reached" in told[0]["summary"]
    assert [r.path for r in receiver.requests].count("/fail") == 3

    receiver.requests.clear()
    notifier.pass_started()
    notifier.pass_finished(True)  # a pass that worked: the next failure is news again
    notifier.pass_started()
    notifier.file_done(failed_file(tmp_path))
    notifier.pass_finished(False, "1 file failed")  # the file's message said it
    notifier.pass_started()
    notifier.pass_finished(False, "Visma.net could not be reached")
    events = [r.json()["event"] for r in receiver.requests if r.path == "/hook"]
    assert events == ["file", "pass-failed"]


def test_an_expected_file_that_did_not_come_is_told_through_every_channel(
    receiver: Receiver, smtp_server: Callable[..., Mailbox], client_tls: ssl.SSLContext
) -> None:
    box = smtp_server()
    found = settings(
        {
            "when": "failures",
            "webhook": receiver.url("/hook"),
            "slack": receiver.url("/slack"),
            "teams": receiver.url("/teams"),
            **mail_keys(box),
        }
    )
    notifier = Notifier(found, say=Said(), tls_context=client_tls)
    last = 1_738_285_200.0  # a fixed moment: nothing here reads the clock
    notifier.overdue("customers", "customer", last, 86400)
    notifier.overdue("invoices", "customer_invoice", None, 3600)

    hooks = [r.json() for r in receiver.requests if r.path == "/hook"]
    shown = datetime.fromtimestamp(last).astimezone().isoformat(timespec="minutes")
    assert hooks[0]["event"] == "overdue"
    assert hooks[0]["summary"] == "vnimport: no file in customers (customer) for more than 24 h"
    assert (hooks[0]["last"], hooks[0]["last_epoch"], hooks[0]["every_seconds"]) == (
        shown,
        last,
        86400,
    )
    assert hooks[1]["last"] is None
    slack = next(r.json()["text"] for r in receiver.requests if r.path == "/slack")
    assert "Expected: a file every 24 h" in slack and f"Last file: {shown}" in slack
    subjects = [m["Subject"] for m in box.messages]
    assert subjects == [
        "vnimport: no file in customers (customer) for more than 24 h",
        "vnimport: no file in invoices (customer_invoice) for more than 1 h",
    ]
    assert "Last file: none yet" in box.messages[1].get_content()


# ------------------------------------------------------------------ failing senders


def test_a_receiver_that_refuses_hangs_fails_redirects_or_is_not_trusted_never_raises(
    tmp_path: Path, refused: str, hanging: str, ca: trustme.CA, capsys: pytest.CaptureFixture[str]
) -> None:
    failing = Receiver(status=500)
    moved = Receiver(status=302)
    untrusted = Receiver(tls=ca)  # a certificate of a CA this client does not trust
    try:
        found = settings(
            {
                "webhook": f"http://{refused}/hook/{TOKEN}",
                "slack": f"http://{hanging}/services/{TOKEN}",
                "teams": failing.url(f"/workflows/{TOKEN}?sig=SIG"),
            },
            {
                "start": moved.url(f"/ping/{TOKEN}/start"),
                "fail": untrusted.url(f"/ping/{TOKEN}/fail"),
            },
        )
        said = Said()
        notifier = Notifier(found, timeout=0.5, say=said)
        notifier.pass_started()
        notifier.file_done(failed_file(tmp_path))
        notifier.pass_finished(False, "1 file failed")
    finally:
        for server in (failing, moved, untrusted):
            server.close()

    assert said == [
        f"the start ping to {moved.base} did not get through: answered 302 (a redirect: is "
        "the address right?)",
        f"the webhook notification to http://{refused} did not get through: cannot connect: "
        "Connection refused",
        f"the slack notification to http://{hanging} did not get through: no answer within 0.5 s",
        f"the teams notification to {failing.base} did not get through: answered 500 "
        "Internal Server Error",
        f"the fail ping to {untrusted.base} did not get through: TLS failed: the server's "
        "certificate: unable to get local issuer certificate",
    ]
    assert len(failing.requests) == 1 and untrusted.requests == []
    assert moved.paths() == [("GET", f"/ping/{TOKEN}/start")]  # the redirect not followed
    out = capsys.readouterr()
    for text in [*said, out.out, out.err, repr(found)]:
        assert "secret" not in text and "SIG" not in text


def test_an_smtp_server_that_refuses_the_login_or_the_tls_or_does_not_answer_never_raises(
    tmp_path: Path,
    smtp_server: Callable[..., Mailbox],
    client_tls: ssl.SSLContext,
    refused: str,
    hanging: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    box = smtp_server()
    plain = smtp_server(tls=False, user="")
    said = Said()

    def send(keys: dict[str, Any], env: dict[str, str], tls: ssl.SSLContext | None) -> None:
        found = settings(keys, env=env)
        Notifier(found, timeout=0.5, say=said, tls_context=tls).file_done(failed_file(tmp_path))

    wrong = {"SMTP_PASSWORD": "not-" + PASSWORD}
    send(mail_keys(box), wrong, client_tls)  # a wrong password
    send(mail_keys(box), {"SMTP_PASSWORD": PASSWORD}, None)  # the local CA not trusted
    send(mail_keys(plain), {"SMTP_PASSWORD": PASSWORD}, client_tls)  # no STARTTLS offered
    for address in (refused, hanging):
        host, port = address.split(":")
        keys = mail_keys(box, smtp_host=host, smtp_port=int(port))
        send(keys, {"SMTP_PASSWORD": PASSWORD}, client_tls)

    assert box.messages == [] and plain.messages == []
    where = f"the e-mail through 127.0.0.1:{box.port} did not get through"
    assert said[0] == f"{where}: login refused (535 5.7.8 Authentication credentials invalid)"
    assert said[1] == (
        f"{where}: TLS failed: the server's certificate: unable to get local issuer certificate"
    )
    assert said[2] == (
        f"the e-mail through 127.0.0.1:{plain.port} did not get through: the server does not "
        "offer STARTTLS"
    )
    assert said[3] == (
        f"the e-mail through {refused} did not get through: cannot connect: Connection refused"
    )
    assert said[4] == f"the e-mail through {hanging} did not get through: no answer within 0.5 s"
    out = capsys.readouterr()
    for text in [*said, out.out, out.err]:
        assert PASSWORD not in text


def test_a_say_that_fails_does_not_stop_the_watcher(refused: str) -> None:
    def say(line: str) -> None:
        raise RuntimeError("the log is full")

    notifier = Notifier(settings(health={"start": f"http://{refused}/x"}), say=say)
    notifier.pass_started()  # the ping is refused, and saying so fails: nothing raises


# ------------------------------------------------------------------ the settings


def test_no_notify_or_health_table_is_no_notification() -> None:
    found = settings()
    assert found == NotifySettings()
    assert found.describe() == "no notifications"
    Notifier(found, say=Said()).pass_finished(False, "why")  # nothing to call, nothing raised


def test_the_settings_say_what_is_told_where_without_a_secret(tmp_path: Path) -> None:
    secret_file = tmp_path / "smtp"
    secret_file.write_text(PASSWORD + "\n", encoding="utf-8")
    found = settings(
        {
            "when": "always",
            "slack": f"https://hooks.slack.com/services/{TOKEN}",
            "email_to": "ops@acme.no",  # one address as text
            "email_from": "vnimport <vnimport@acme.no>",
            "smtp_host": "smtp.acme.no",
            "smtp_user": "vnimport",
            "smtp_password_file": str(secret_file),
        },
        {"fail": "https://hc-ping.com/0000-1111/fail", "success": "https://hc-ping.com/0000-1111"},
    )
    assert found.mail is not None
    assert (found.mail.port, found.mail.starttls, found.mail.to) == (587, True, ("ops@acme.no",))
    assert found.mail.password == PASSWORD
    assert repr(found) == (
        "NotifySettings(notifications (always): slack (https://hooks.slack.com), e-mail "
        "(smtp.acme.no:587 to ops@acme.no); health checks: success, fail (https://hc-ping.com))"
    )
    assert PASSWORD not in repr(found.mail) and TOKEN not in repr(found)


@pytest.mark.parametrize(
    ("notify", "env", "said"),
    [
        ({"when": "sometimes"}, {}, 'when is "failures" or "always", not \'sometimes\''),
        ({"when": 1}, {}, 'when must be text in quotes (when = "..."), not a number'),
        (
            {"smtp_port": "587"},
            {},
            "smtp_port must be a whole number (smtp_port = 587), not text",
        ),
        ({"smtp_port": 70000}, {}, "smtp_port must be a port, 1 to 65535, not 70000"),
        ({"smtp_starttls": "yes"}, {}, "smtp_starttls is true or false, not text"),
        (
            {"smtp_password": PASSWORD},
            {},
            "the SMTP password cannot be written in the file (it is copied, backed up and "
            'shown): use smtp_password_env = "VARIABLE"',
        ),
        ({"slak": "https://x"}, {}, "unknown key 'slak' (did you mean 'slack'?)"),
        ({"slack": f"hooks.slack.com/services/{TOKEN}"}, {}, "slack is not a web address"),
        ({"email_to": ["ops at acme"]}, {}, "email_to: not an e-mail address: 'ops at acme'"),
        ({"email_to": []}, {}, "email_to must be a list of e-mail addresses"),
        (
            {"email_to": ["ops@acme.no"]},
            {},
            "e-mail needs email_to, email_from, smtp_host: email_from, smtp_host are missing",
        ),
        (
            {"smtp_user": "u", "smtp_password_env": "NOT_SET"},
            {},
            "the environment variable NOT_SET (smtp_password_env) is not set",
        ),
        ({"smtp_user": "u"}, {}, "smtp_user needs a password"),
        (
            {"smtp_user": "u", "smtp_password_env": "P", "smtp_starttls": False},
            {"P": PASSWORD},
            "a login without smtp_starttls would send the password unencrypted",
        ),
        (
            {"smtp_user": "u", "smtp_password_env": "P", "smtp_password_file": "/f"},
            {"P": PASSWORD},
            "give the SMTP password one way",
        ),
        (
            {"smtp_user": "u", "smtp_password_file": "/no/such/file"},
            {},
            "smtp_password_file /no/such/file cannot be read (No such file or directory)",
        ),
    ],
)
def test_a_wrong_notify_setting_is_refused_naming_the_key_and_what_is_allowed(
    notify: dict[str, Any], env: dict[str, str], said: str
) -> None:
    keys = {"email_to": ["ops@acme.no"], "email_from": "v@acme.no", "smtp_host": "mail"}
    if any(k.startswith("smtp_") for k in notify):
        notify = {**keys, **notify}
    with pytest.raises(ConfigError) as raised:
        settings(notify, env=env)
    message = str(raised.value)
    assert message.startswith("[watch.notify] in /etc/vnimport/vnimport.toml: ")
    assert said in message
    assert PASSWORD not in message and TOKEN not in message


def test_every_problem_of_both_tables_is_said_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        settings({"when": "never", "smtp_port": "x"}, {"fail": "ftp://x", "succes": "https://x"})
    message = str(raised.value)
    for part in (
        "[watch.notify] in /etc/vnimport/vnimport.toml: when is",
        "smtp_port must be a whole number",
        "[watch.health] in /etc/vnimport/vnimport.toml: fail is not a web address",
        "unknown key 'succes' (did you mean 'success'?)",
    ):
        assert part in message


def test_durations_read_as_a_person_says_them() -> None:
    assert [duration(s) for s in (30, 90, 2700, 3600, 5400, 86400, 172800, 36 * 3600)] == [
        "30 s",
        "90 s",
        "45 min",
        "1 h",
        "1 h 30 min",
        "24 h",
        "2 days",
        "36 h",
    ]
