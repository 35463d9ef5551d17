"""What comes back, against a hostile or broken server over real sockets
(issue 11): deadlines that hold while an answer trickles in, waits Visma
asks for that are too long, answers too large, not JSON, HTML, empty, a
Location that is not the new document's, 403s, scopes, releases that run
in the background, If-Match, a proxy; and the secret never reaches any host
but the token endpoint, whatever the servers answer."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from conftest import write_csv
from hostile import SECRET, TOKEN, Server, Trickle, api_answer, connection, serve

from importer import RunAborted, VismaDestination, check, load_type, send
from importer.errors import VismaError
from importer.report import BatchReport
from importer.targets.client import (
    BadAnswer,
    OutcomeUnknown,
    RateLimiter,
    VismaClient,
    json_of,
)

CUSTOMERS = [["Customer number", "Name"], ["10001", "A"], ["10002", "B"]]
VISMA_ID = "0f3c2a9e-1111-2222-3333-444455556666"
HANG_GUARD = 300  # seconds: a run that takes this long has hung (the deadlines are seconds)


def customers(tmp_path: Path, rows: list[list[str]] = CUSTOMERS) -> Path:
    return write_csv(tmp_path / "c.csv", rows)


def run_on(api: Server, tmp_path: Path, mode: str = "create", **options: Any) -> BatchReport:
    """A library run of the customers file against ``api``."""
    destination = VismaDestination(
        connection(api), journal=tmp_path / "j.sqlite", unknown_grace=0.0, **options
    )
    return send(check(customers(tmp_path), load_type("customer")), destination, mode=mode)


def by_key(report: BatchReport) -> dict[str, Any]:
    return {r.key: r for r in report.results}


def vnimport(api: Server, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``vnimport run`` in its own process against ``api``, with a hang guard."""
    env = {
        **os.environ,
        "VNIMPORT_BASE_URL": api.url,
        "VNIMPORT_TOKEN_URL": f"{api.url}/connect/token",
        "VNIMPORT_CLIENT_ID": "client",
        "VNIMPORT_CLIENT_SECRET": SECRET,
        "VNIMPORT_TENANT_ID": "tenant",
    }
    command = [sys.executable, "-m", "importer", "run", str(customers(tmp_path))]
    command += ["--type", "customer", "--journal", str(tmp_path / "j.sqlite")]
    command += ["--report", str(tmp_path / "r"), "--unknown-grace", "0", *args]
    return subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=HANG_GUARD
    )


def report_rows(tmp_path: Path) -> dict[str, dict[str, str]]:
    """The rows of the run's report (r.csv), by key."""
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {r["key"]: r for r in csv.DictReader(fh)}


def journal_states(tmp_path: Path) -> dict[str, str]:
    with sqlite3.connect(tmp_path / "j.sqlite") as db:
        return dict(db.execute("SELECT key, state FROM entries").fetchall())


# ------------------------------------------------------------- deadlines


def slow_api(trickle: Trickle, on: str = "GET") -> Server:
    """Tokens at once; every ``on`` call of the API answered by ``trickle``."""

    def answer(h: Any, method: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        if h.path.startswith("/connect/token"):
            return 200, {}, {"access_token": TOKEN, "expires_in": 3600}
        if method == on:
            return 200, {}, trickle
        if method == "GET":  # the list is empty, and no document is there
            return (404, {}, {"message": "not found"}) if "/10" in h.path else (200, {}, [])
        return 201, {"Location": f"{h.path}/10001"}, b""

    return serve(answer)


@pytest.mark.parametrize(
    "trickle",
    [
        Trickle(b"[" + b" " * 300 + b"]", every=1.0),  # the body, a byte a second
        Trickle(b"[]", every=1.0, headers_too=True),  # the headers too
        Trickle(b"[]", delay=30.0),  # nothing at all for 30 s
    ],
    ids=["body", "headers", "silent"],
)
def test_a_run_against_a_trickling_server_ends_at_its_deadline(
    tmp_path: Path, trickle: Trickle
) -> None:
    with slow_api(trickle) as api:
        done = vnimport(api, tmp_path, "--timeout", "3")
    assert done.returncode == 2, done.stderr
    assert "within 3 s (--timeout)" in done.stderr and "nothing was sent" in done.stderr
    assert "Traceback" not in done.stderr
    rows = report_rows(tmp_path)  # the report is written
    assert {r["status"] for r in rows.values()} == {"not sent"}


def test_a_create_whose_answer_trickles_is_unknown_and_looked_up(tmp_path: Path) -> None:
    with slow_api(Trickle(b" " * 300, every=1.0), on="POST") as api:
        done = vnimport(api, tmp_path, "--timeout", "2", "--workers", "1")
        posts = [p for m, p, _ in api.requests if m == "POST" and "token" not in p]
    assert done.returncode == 1, done.stderr
    rows = report_rows(tmp_path)
    assert {r["status"] for r in rows.values()} == {"unknown"}
    assert all("check in Visma" in r["message"] for r in rows.values())
    # each sent a second and last time only after a lookup found nothing
    assert len(posts) == 4


def test_a_slow_read_is_tried_twice_then_given_up(tmp_path: Path) -> None:
    with slow_api(Trickle(b"[]", delay=5.0)) as api:
        client = VismaClient(connection(api), timeout=1.0, backoff=0.01)
        with pytest.raises(OutcomeUnknown, match=r"after 2 tries: .*within 1 s"):
            client.call("GET", "/v1/customer")


# ------------------------------------------------------------ rate limits


def test_a_wait_longer_than_max_wait_ends_the_run_with_its_report(tmp_path: Path) -> None:
    refused = serve(api_answer(lambda h: (429, {"Retry-After": "86400"}, {"message": "slow"})))
    with refused as api:
        done = vnimport(api, tmp_path, "--max-wait", "5", "--workers", "1")
        posts = [p for m, p, _ in api.requests if m == "POST" and "token" not in p]
    assert done.returncode == 1, done.stderr
    rows = report_rows(tmp_path)
    assert {r["status"] for r in rows.values()} == {"not sent"}
    assert all(
        r["message"].startswith("not sent: rate limit: try again after ") for r in rows.values()
    )
    assert len(posts) == 1  # the second document was not tried
    assert journal_states(tmp_path).get("10001") != "sending"  # Visma did nothing with it


def test_a_quota_spent_by_others_past_max_wait_sends_nothing_more(tmp_path: Path) -> None:
    spent = {"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "7200"}
    api = serve(api_answer(lambda h: (201, {"Location": f"{h.path}/1"}, b""),
                           get=lambda h: (200, spent, [])))  # fmt: skip
    with api:
        report = run_on(api, tmp_path, max_wait=5)
        posts = [p for m, p, _ in api.requests if m == "POST" and "token" not in p]
    assert posts == []
    assert {r.code for r in report.results} == {"rate-limited"}


def test_the_limiters_own_pacing_is_not_a_wait_visma_asked_for() -> None:
    clock = [0.0]
    limiter = RateLimiter(clock=lambda: clock[0])
    limiter.wait()
    limiter.observe({"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1",
                     "X-RateLimit-Reset": "100"})  # fmt: skip
    assert limiter.wait() == 0.0  # the last call of the window
    limiter.observe({"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0",
                     "X-RateLimit-Reset": "100"})  # fmt: skip
    assert limiter.wait() == pytest.approx(100.0)  # paced to the next window
    assert limiter.asked() == 0.0  # which is not Visma asking


def test_a_window_is_never_opened_early() -> None:
    """The first answer comes mid-window (Reset 20 of a 60 s window): the
    next window's end is learned from its answers, not guessed as 20 s."""
    clock = [0.0]
    limiter = RateLimiter(clock=lambda: clock[0])

    def answer(remaining: int, reset: int) -> None:
        limiter.observe({"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": str(remaining),
                         "X-RateLimit-Reset": str(reset)})  # fmt: skip

    limiter.wait()
    answer(0, 20)  # spent in the window that ends at 20
    assert limiter.wait() == pytest.approx(20.0)  # opens the window 20..80
    clock[0] = 20.0
    answer(2, 60)
    assert limiter.wait() == 0.0 and limiter.wait() == 0.0  # the quota of 3 is spent
    clock[0] = 41.0  # a guess of "20 s windows" would open a new one here
    answer(0, 39)
    answer(5, 5)  # a stale answer of an earlier window changes nothing
    assert limiter.wait() == pytest.approx(39.0)  # until 80, the window's real end


# ---------------------------------------------------------- what comes back


@pytest.mark.parametrize(
    ("headers", "body", "says"),
    [
        ({"Content-Type": "text/html"},
         b"<html><head><title>502 Bad Gateway</title></head><body><h1>x</h1></body></html>",
         "an HTML page (502 Bad Gateway) came back instead of Visma's answer"),
        ({"Content-Type": "text/plain"}, b"upstream connect error\n", "upstream connect error"),
        ({}, b"", "400 X, with an empty answer"),
        ({"X-Request-Id": "req-77"},
         json.dumps({"message": f"VismaId: {VISMA_ID}. Error: no"}).encode(),
         f"VismaId: {VISMA_ID}. Error: no [X-Request-Id: req-77]"),
        ({}, json.dumps({"ExceptionType": "IPPException", "ExceptionMessage": "No license for "
                         "this company.", "ExceptionFaultCode": "12027"}).encode(),
         "No license for this company. (fault code 12027)"),
    ],
    ids=["html", "plain", "empty", "ids", "licence"],
)  # fmt: skip
def test_an_error_answer_of_any_shape_is_a_clear_message(
    tmp_path: Path, headers: dict[str, str], body: bytes, says: str
) -> None:
    with serve(api_answer(lambda h: (400, headers, body))) as api:
        report = run_on(api, tmp_path)
    assert {(r.status, r.http_status) for r in report.results} == {("failed", 400)}
    assert all(r.message.startswith(says) for r in report.results), report.results[0].message


def test_a_huge_error_answer_is_read_only_in_part(tmp_path: Path) -> None:
    huge = json.dumps({"message": "VismaId: 0f3c2a9e-1111. Error: " + "x" * 8_000_000}).encode()
    with serve(api_answer(lambda h: (400, {}, huge))) as api:
        report = run_on(api, tmp_path)
    first = report.results[0]
    assert first.status == "failed" and len(first.message) < 1200
    assert "only the first 64 KiB of the answer were read" in first.message
    assert "VismaId: 0f3c2a9e-1111" in first.message
    assert (tmp_path / "j.sqlite").stat().st_size < 1_000_000  # not written whole


def test_a_success_answer_too_large_or_not_json_is_not_guessed_at() -> None:
    with serve(
        api_answer(lambda h: (201, {}, b""), get=lambda h: (200, {}, b"<html>ok</html>"))
    ) as api:
        client = VismaClient(connection(api))
        reply = client.call("GET", "/v1/customer")
        with pytest.raises(BadAnswer, match="is not JSON"):
            json_of(reply, list, "the list")
    with serve(api_answer(lambda h: (201, {}, b""), get=lambda h: (200, {}, {"a": 1}))) as api:
        reply = VismaClient(connection(api)).call("GET", "/v1/customer")
        with pytest.raises(BadAnswer, match="a JSON dict, not the list"):
            json_of(reply, list, "the list")


def test_a_lookup_answered_with_a_web_page_stops_cleanly_with_a_report(tmp_path: Path) -> None:
    page = b"<html><title>Sign in</title></html>"
    api = serve(api_answer(lambda h: (201, {"Location": f"{h.path}/1"}, b""),
                           get=lambda h: (200, {"Content-Type": "text/html"}, page)))  # fmt: skip
    with api, pytest.raises(RunAborted) as caught:
        run_on(api, tmp_path)
    assert "is not JSON" in str(caught.value) and "nothing was sent" in str(caught.value)
    assert {r.status for r in caught.value.report.results} == {"not sent"}
    assert not [m for m, p, _ in api.requests if m == "POST" and "token" not in p]


def test_an_update_read_that_is_not_json_fails_that_document_only(tmp_path: Path) -> None:
    def get(h: Any) -> tuple[int, dict[str, str], Any]:
        if h.path.startswith("/v1/customer/10001"):
            return 200, {}, b"not json"
        return 200, {}, {"number": "10002", "name": "B"}

    with serve(api_answer(lambda h: (204, {}, b""), get=get)) as api:
        report = run_on(api, tmp_path, mode="update")
    rows = by_key(report)
    assert (rows["10001"].status, rows["10001"].code) == ("failed", "bad-answer")
    assert "is not JSON" in rows["10001"].message
    assert rows["10002"].status == "updated"


@pytest.mark.parametrize(
    "location",
    [
        "{evil}/v1/customer/10001",  # another host
        "/v1/supplier/10001",  # another type's collection
        "/v1/customer/10001/lines",  # more than one segment
        "/v1/customer/..",  # not a number
        "/v1/customer/",  # no number
        "",  # none at all
        "/v1/customer/" + "9" * 11,  # longer than a customer number may be
    ],
)
def test_a_create_whose_location_is_not_the_new_document_is_looked_up(
    tmp_path: Path, evil: Server, location: str
) -> None:
    where = location.format(evil=evil.url)
    with serve(api_answer(lambda h: (201, {"Location": where} if where else {}, b""),
                          get=lambda h: (404, {}, {"message": "not found"}) if "/10" in h.path
                          else (200, {}, []))) as api:  # fmt: skip
        report = run_on(api, tmp_path)
    assert {r.status for r in report.results} == {"unknown"}
    assert all(not r.number for r in report.results)  # no made-up number taken
    assert evil.requests == []
    assert set(journal_states(tmp_path).values()) == {"sending"}  # looked up before any resend


def test_a_403_on_one_document_fails_that_row_and_the_run_goes_on(tmp_path: Path) -> None:
    def answer(h: Any, method: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        if h.path.startswith("/connect/token"):
            return 200, {}, {"access_token": TOKEN, "expires_in": 3600}
        if method == "GET":
            return 200, {}, []
        if b"10001" in body:
            return (
                403,
                {},
                {"message": "VismaId: 1a2b3c4d-0000. You may not use this customer class."},
            )
        return 201, {"Location": f"{h.path}/10002"}, b""

    with serve(answer) as api:
        report = run_on(api, tmp_path)
        tokens = [p for _, p, _ in api.requests if "token" in p]
    rows = by_key(report)
    assert (rows["10001"].status, rows["10001"].http_status) == ("failed", 403)
    assert "You may not use this customer class" in rows["10001"].message
    assert rows["10002"].status == "created"
    assert len(tokens) == 1  # a 403 is not the token's fault: not renewed


def test_a_refused_token_stops_the_run_with_advice(tmp_path: Path) -> None:
    answer = api_answer(lambda h: (401, {}, {"message": "Unauthorized"}))
    with serve(answer) as api, pytest.raises(RunAborted) as caught:
        run_on(api, tmp_path)
    assert "tenant id is the company's tenant" in str(caught.value)
    assert caught.value.report.exit_code == 2


# ------------------------------------------------------------------ scopes


def asked_scopes(api: Server) -> list[str]:
    return [
        parse_qs(body.decode())["scope"][0] for _, path, body in api.requests if "token" in path
    ]


@pytest.mark.parametrize(
    ("mode", "release", "scope"),
    [
        ("create", False, "read create"),
        ("update", False, "read update"),
        ("upsert", False, "read create update"),
        ("update", True, "read create update"),
    ],
)
def test_a_run_asks_only_for_the_scopes_it_needs(
    tmp_path: Path, mode: str, release: bool, scope: str
) -> None:
    with serve(api_answer(lambda h: (201, {"Location": f"{h.path}/1"}, b""))) as api:
        run_on(api, tmp_path, mode=mode, release=release)
    words = " ".join(f"vismanet_erp_service_api:{w}" for w in scope.split())
    assert asked_scopes(api) == [words]


def test_scopes_are_configurable_and_a_refusal_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def answer(h: Any, method: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        if b"delete" in body:
            return 400, {}, {"error": "invalid_scope"}
        return 200, {}, {"access_token": TOKEN, "expires_in": 3600}

    monkeypatch.setenv("VNIMPORT_SCOPES", "read create update delete")
    with serve(answer) as api:
        done = vnimport(api, tmp_path)
        assert asked_scopes(api) == [
            "vismanet_erp_service_api:read vismanet_erp_service_api:create "
            "vismanet_erp_service_api:update vismanet_erp_service_api:delete"
        ]
    assert done.returncode == 2
    assert "not granted the scopes asked for" in done.stderr and "--scopes" in done.stderr
    assert SECRET not in done.stderr
    monkeypatch.setenv("VNIMPORT_SCOPES", "read writ")
    with serve(answer) as api:
        done = vnimport(api, tmp_path)
    assert done.returncode == 2 and "'writ' is not a Visma.net API scope" in done.stderr


# ------------------------------------------------------------------ release

INVOICES = [
    ["External reference", "Customer number", "Invoice date", "Invoice text", "Item number",
     "Quantity", "Unit price"],
    ["R-1", "10000", "2025-03-03", "Text", "A", "1", "10"],
]  # fmt: skip


def release_api(statuses: list[str], action: tuple[int, Any], error: str = "") -> Server:
    """A Visma that creates invoices, answers their release with ``action``
    and then shows ``statuses`` one GET at a time (the last one after)."""
    shown = list(statuses)

    def answer(h: Any, method: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        if h.path.startswith("/connect/token"):
            return 200, {}, {"access_token": TOKEN, "expires_in": 3600}
        if h.path.startswith("/v1/background/"):
            return 200, {}, {"id": "bg1", "status": "Finished", "statusCode": 204}
        if method == "POST" and h.path.endswith("/action/release"):
            return action[0], {}, action[1]
        if method == "POST":
            return 201, {"Location": f"{api.url}/v1/customerinvoice/R-1"}, b""
        if h.path.startswith("/v1/customerinvoice/R-1"):
            status = shown.pop(0) if len(shown) > 1 else shown[0]
            return 200, {}, {"referenceNumber": "R-1", "status": status, "errorInfo": error or None}
        return 200, {}, []

    api = serve(answer)
    return api


def release_run(api: Server, tmp_path: Path, wait: float = 5.0) -> Any:
    src = write_csv(tmp_path / "i.csv", INVOICES)
    destination = VismaDestination(
        connection(api), journal=tmp_path / "j.sqlite", release=True, release_wait=wait,
        release_poll=0.05,
    )  # fmt: skip
    (row,) = send(check(src, load_type("customer_invoice")), destination).results
    return row


QUEUED = (200, {"actionId": "a1", "actionResult": "Queued", "errorInfo": None})


def test_a_queued_release_is_followed_until_it_is_done(tmp_path: Path) -> None:
    with release_api(["Balanced", "Balanced", "Open"], QUEUED) as api:
        row = release_run(api, tmp_path)
    assert (row.status, row.message, row.code) == ("created", "released: status Open", "")


def test_a_failed_release_says_why_and_is_never_called_released(tmp_path: Path) -> None:
    failed = (200, {"actionId": "a1", "actionResult": "Failed", "errorInfo": "Period closed"})
    with release_api(["Balanced"], failed) as api:
        row = release_run(api, tmp_path)
    assert (row.status, row.code) == ("created", "release-refused")
    assert "the release failed: Period closed" in row.message and "released:" not in row.message
    with release_api(["Balanced"], QUEUED, error="VismaId: 9. Error: Period closed") as api:
        (tmp_path / "2").mkdir()
        row = release_run(api, tmp_path / "2")
    assert row.code == "release-refused" and "Error: Period closed" in row.message


def test_a_release_still_queued_after_the_wait_is_reported_as_pending(tmp_path: Path) -> None:
    with release_api(["Balanced"], QUEUED) as api:
        row = release_run(api, tmp_path, wait=0.2)
    assert (row.status, row.code) == ("created", "release-pending")
    assert "still queued in Visma after 0.2 s (--release-wait), status Balanced" in row.message


def test_a_release_taken_as_a_background_request_is_followed(tmp_path: Path) -> None:
    accepted = (202, {"id": "bg1", "stateLocation": "/v1/background/bg1"})
    with release_api(["Balanced", "Open"], accepted) as api:
        row = release_run(api, tmp_path)
        followed = [p for m, p, _ in api.requests if p.startswith("/v1/background/bg1")]
    assert row.message == "released: status Open" and followed


def test_a_release_state_elsewhere_is_not_followed(tmp_path: Path, evil: Server) -> None:
    accepted = (202, {"id": "bg1", "stateLocation": f"{evil.url}/v1/background/bg1"})
    with release_api(["Open"], accepted) as api:
        row = release_run(api, tmp_path)
    assert evil.requests == []
    assert row.status == "created" and row.code == "release-pending"


# --------------------------------------------------------------------- ETag


def test_an_update_sends_if_match_and_a_412_is_that_rows_failure(tmp_path: Path) -> None:
    def answer(h: Any, method: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        if h.path.startswith("/connect/token"):
            return 200, {}, {"access_token": TOKEN, "expires_in": 3600}
        number = h.path.rsplit("/", 1)[-1]
        if method == "GET":
            return 200, {"ETag": f'"v-{number}"'}, {"number": number, "name": "old"}
        if number == "10001":
            return 412, {}, {"message": "Precondition failed"}
        return 204, {}, b""

    with serve(answer) as api:
        report = run_on(api, tmp_path, mode="update")
        puts = [
            (p, hd.get("If-Match"))
            for (m, p, _), hd in zip(api.requests, api.headers, strict=True)
            if m == "PUT"
        ]
    rows = by_key(report)
    assert (rows["10001"].status, rows["10001"].http_status) == ("failed", 412)
    assert "changed in Visma since it was read" in rows["10001"].message
    assert rows["10002"].status == "updated"
    assert sorted(puts) == [
        ("/v1/customer/10001", '"v-10001"'),
        ("/v1/customer/10002", '"v-10002"'),
    ]
    assert report.extra["update_reads"] == 2  # the GETs an update costs, reported


# ------------------------------------------------------------- the secret


@pytest.mark.parametrize(
    "answer",
    [
        lambda h: (307, {"Location": "{evil}/v1/customer"}, b""),
        lambda h: (400, {}, {"message": "you sent: " + str(dict(h.headers))}),
        lambda h: (500, {"Content-Type": "text/html"}, b"<title>oops</title>"),
        lambda h: (201, {"Location": "{evil}/v1/customer/1"}, b""),
        lambda h: (429, {"Retry-After": "86400"}, b""),
    ],
    ids=["redirect", "echo", "html", "location", "429"],
)
def test_the_secret_reaches_no_host_but_the_token_endpoint(
    tmp_path: Path, evil: Server, answer: Any
) -> None:
    def api_side(h: Any, method: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        status, headers, reply = answer(h)
        return status, {k: v.format(evil=evil.url) for k, v in headers.items()}, reply

    tokens = serve(lambda h, m, b: (200, {}, {"access_token": TOKEN, "expires_in": 3600}))
    with tokens, serve(api_side) as api:
        link = connection(api, token_url=f"{tokens.url}/connect/token")
        client = VismaClient(link, max_wait=1, backoff=0.01)
        destination = VismaDestination(
            link, journal=tmp_path / "j.sqlite", unknown_grace=0.0, client=client
        )
        try:
            report = send(check(customers(tmp_path), load_type("customer")), destination)
        except RunAborted as aborted:
            report = aborted.report
        assert tokens.saw_secret()
        assert not api.saw_secret() and not evil.saw_secret()
        assert evil.requests == []
    text = json.dumps([r.message for r in report.results])
    assert SECRET not in text and TOKEN not in text
    with sqlite3.connect(tmp_path / "j.sqlite") as db:
        dump = "\n".join(db.iterdump())
    assert SECRET not in dump and TOKEN not in dump


# -------------------------------------------------------------------- proxy


def forward_proxy() -> Server:
    """A plain HTTP forward proxy: it relays absolute-URI requests as they are."""
    import http.client
    from urllib.parse import urlsplit

    def relay(h: Any, method: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        target = urlsplit(h.path)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        headers = {
            k: v
            for k, v in h.headers.items()
            if k.lower() not in ("proxy-connection", "connection")
        }
        conn.request(
            method,
            target.path + (f"?{target.query}" if target.query else ""),
            body or None,
            headers,
        )
        reply = conn.getresponse()
        data = reply.read()
        conn.close()
        keep = {
            k: v for k, v in reply.getheaders() if k.lower() in ("location", "content-type", "etag")
        }
        return reply.status, keep, data

    return serve(relay)


def test_the_proxy_of_the_environment_is_used_and_redirects_are_refused_through_it(
    tmp_path: Path, evil: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with forward_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        with serve(api_answer(lambda h: (201, {"Location": f"{h.path}/10001"}, b""))) as api:
            client = VismaClient(connection(api))
            assert client.call("GET", "/v1/customer").status_code == 200
            assert any(path.startswith(api.url) for _, path, _ in proxy.requests)
        with serve(api_answer(lambda h: (307, {"Location": f"{evil.url}/x"}, b""))) as api:
            with pytest.raises(RunAborted) as caught:
                run_on(api, tmp_path)
            assert caught.value.code == "redirect"
    assert evil.requests == []


def test_a_deadline_holds_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with forward_proxy() as proxy, slow_api(Trickle(b"[]", delay=10.0)) as api:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        client = VismaClient(connection(api), timeout=1.0, backoff=0.01)
        started = time.monotonic()
        with pytest.raises(OutcomeUnknown, match="within 1 s"):
            client.call("GET", "/v1/customer")
    assert time.monotonic() - started < HANG_GUARD


def test_a_token_endpoint_that_trickles_is_a_clear_error(tmp_path: Path) -> None:
    slow = serve(lambda h, m, b: (200, {}, Trickle(b'{"access_token": "x"}', every=1.0)))
    with slow as api, pytest.raises(VismaError, match=r"cannot reach .*within 2 s"):
        VismaClient(connection(api), timeout=2.0).token()


def test_a_refused_token_with_many_workers_stops_and_nobody_waits_forever(tmp_path: Path) -> None:
    rows = [CUSTOMERS[0], *[[str(10001 + i), "A"] for i in range(20)]]
    refused = serve(lambda h, m, b: (400, {}, {"error": "invalid_grant"}))
    with refused as api, pytest.raises(RunAborted) as caught:
        destination = VismaDestination(connection(api), journal=tmp_path / "j.sqlite", workers=8)
        send(check(customers(tmp_path, rows), load_type("customer")), destination, workers=8)
    assert "tenant id 'tenant' is the company's" in str(caught.value)
    assert {r.status for r in caught.value.report.results} == {"not sent"}


def test_a_company_ca_bundle_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTPS with a certificate from the company's own CA: trusted once
    REQUESTS_CA_BUNDLE names the CA, and a clear message until then."""
    import ssl

    import trustme

    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    tokens = lambda h, m, b: (200, {}, {"access_token": TOKEN, "expires_in": 3600})  # noqa: E731
    with Server(tokens, tls=context) as api:
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        with pytest.raises(VismaError, match=r"certificate is not trusted .*REQUESTS_CA_BUNDLE"):
            VismaClient(connection(api)).token()
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        assert VismaClient(connection(api)).token() == TOKEN
