"""The client against a hostile server over real sockets: redirects that
would send the secret or a document elsewhere, and answers that echo the
secret. (Issue 11, the start.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write_csv
from hostile import SECRET, TOKEN, Server, api_answer, connection, serve

from importer import RunAborted, VismaDestination, check, load_type, send
from importer.errors import AuthError
from importer.targets.client import VismaClient


def test_a_redirected_token_request_never_carries_the_secret_elsewhere(evil: Server) -> None:
    api = serve(lambda h, m, b: (307, {"Location": f"{evil.url}/steal"}, {}))
    try:
        with pytest.raises(AuthError, match=r"redirected to .*not followed") as caught:
            VismaClient(connection(api)).token()
        assert SECRET not in str(caught.value)
        assert evil.requests == []  # the secret reached no other host
        assert all(SECRET.encode() in body for _, path, body in api.requests)
    finally:
        api.close()


def test_an_error_that_echoes_the_secret_is_scrubbed(tmp_path: Path) -> None:
    api = serve(lambda h, m, b: (400, {}, {"error": "invalid_client", "message": b.decode()}))
    try:
        with pytest.raises(AuthError) as caught:
            VismaClient(connection(api)).token()
        assert "***" in str(caught.value) and SECRET not in str(caught.value)
    finally:
        api.close()


def test_a_redirected_create_is_not_followed_and_stops_the_run(
    tmp_path: Path, evil: Server
) -> None:
    api = serve(api_answer(lambda h: (307, {"Location": f"{evil.url}/v1/customer"}, {})))
    src = write_csv(tmp_path / "c.csv", [["Customer number", "Name"], ["10001", "A"]])
    try:
        with pytest.raises(RunAborted) as caught:
            send(check(src, load_type("customer")),
                 VismaDestination(connection(api), journal=tmp_path / "j.sqlite"))  # fmt: skip
        report = caught.value.report
        assert caught.value.code == "redirect" and report.exit_code == 2
        assert "not followed" in str(caught.value) and evil.url in str(caught.value)
        assert evil.requests == []  # the document went nowhere else
        assert report.results[0].status in ("unknown", "not sent")
        assert not report.results[0].number  # no made-up number journaled as created
    finally:
        api.close()


def test_a_read_follows_a_redirect_only_within_the_api(evil: Server) -> None:
    def answer(h: Any, method: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        if h.path.startswith("/connect/token"):
            return 200, {}, {"access_token": TOKEN, "expires_in": 3600}
        if h.path.startswith("/v1/moved"):
            return 200, {}, {"ok": True}
        if h.path.startswith("/v1/here"):
            return 301, {"Location": "/v1/moved"}, {}
        return 302, {"Location": f"{evil.url}/v1/elsewhere"}, {}

    api = serve(answer)
    try:
        client = VismaClient(connection(api))
        assert client.call("GET", "/v1/here").json() == {"ok": True}
        with pytest.raises(AuthError, match="not followed"):
            client.call("GET", "/v1/away")
        assert evil.requests == []  # the token went nowhere else either
    finally:
        api.close()


def test_a_number_that_would_change_the_address_is_a_row_error(tmp_path: Path) -> None:
    api = serve(api_answer(lambda h: (201, {"Location": f"{h.path}/1"}, {})))
    src = write_csv(tmp_path / "c.csv", [["Customer number", "Name"], ["..", "A"], ["10002", "B"]])
    try:
        report = send(check(src, load_type("customer")),
                      VismaDestination(connection(api), journal=tmp_path / "j.sqlite"),
                      mode="upsert")  # fmt: skip
        by_key = {r.key: r for r in report.results}
        assert (by_key[".."].status, by_key[".."].code) == ("failed", "bad-number")
        assert not any("/.." in path for _, path, _ in api.requests)
    finally:
        api.close()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30", 30.0),  # seconds to go
        ("1800000030", 30.0),  # an epoch time: not a wait of 57 years
        ("Fri, 15 Jan 2027 08:00:30 GMT", 30.0),  # an HTTP date
    ],
)
def test_a_reset_is_read_as_seconds_an_epoch_time_or_a_date(value: str, seconds: float) -> None:
    from datetime import UTC, datetime

    from importer.targets.client import RateLimiter, seconds_until

    now = 1800000000.0 if value[0] == "1" else datetime(2027, 1, 15, 8, 0, tzinfo=UTC).timestamp()
    assert seconds_until(value, now) == pytest.approx(seconds)
    clock = [100.0]
    limiter = RateLimiter(clock=lambda: clock[0], wall_clock=lambda: now)
    headers = {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": value}
    limiter.observe(headers)
    assert limiter.wait() == pytest.approx(seconds)  # the quota is spent: until the reset
