"""The sandbox as the real Visma.net API behaves where a client must cope,
and the server's defences, over real sockets: quotas and the forms of
X-RateLimit-Reset, background releases, "contains" list filters, gateway
error bodies, 403s (a fault, and scopes), ETags on customers and customer
documents, body and time limits, and list filters through the index."""

from __future__ import annotations

import argparse
import re
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import VISMA_ERROR, Api, token_for

from importer.sandbox import Faults, Sandbox, SandboxConfig
from importer.sandbox import documents as D
from importer.sandbox.config import SCOPES, Client
from importer.sandbox.options import add_arguments, config_from
from importer.sandbox.store import Store

READ, CREATE, UPDATE, DELETE = SCOPES
LONG = 60.0  # an interval no test waits for: what it guards has not happened yet


def w(value: Any) -> dict[str, Any]:
    return {"value": value}


def until(check: Callable[[], Any], what: str, seconds: float = 10.0) -> Any:
    """Poll ``check`` until it gives something true (a generous bound, never a speed)."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


@pytest.fixture
def started() -> Iterator[Callable[..., Sandbox]]:
    """Sandboxes with a config of the test's, all stopped at the end."""
    running: list[Sandbox] = []

    def start(**config: Any) -> Sandbox:
        running.append(Sandbox(SandboxConfig(**config)).start())
        return running[-1]

    yield start
    for sb in running:
        sb.stop()


def customer(api: Api, number: str = "10000", name: str = "Kunde AS") -> None:
    reply = api("POST", "/v1/customer", json={"number": w(number), "name": w(name)})
    assert reply.status_code == 201, reply.text


AR_PATHS = {
    "customer_invoice": ("/v2/customerinvoice", "/v1/customerinvoice", "invoiceLines"),
    "customer_credit_note": ("/v2/customerCreditNote", "/v1/customerCreditNote", "lines"),
    "customer_debit_note": ("/v2/customerDebitNote", "/v1/customerDebitNote", "lines"),
}


def ar_document(api: Api, kind: str = "customer_invoice", **header: Any) -> str:
    """A customer document of one line for customer 10000; its number."""
    create, _, lines = AR_PATHS[kind]
    if api("GET", "/v1/customer/10000").status_code == 404:
        customer(api)
    body = {
        "customerNumber": w("10000"),
        "documentDate": w("2025-03-03"),
        lines: [
            {
                "operation": "Insert",
                "inventoryNumber": w("000123"),
                "quantity": w(2),
                "unitPriceInCurrency": w(10),
            }
        ],
        **{k: w(v) for k, v in header.items()},
    }
    reply = api("POST", create, json=body)
    assert reply.status_code == 201, reply.text
    return str(reply.headers["Location"].rsplit("/", 1)[-1])


def supplier_invoice(api: Api, **header: Any) -> str:
    if api("GET", "/v1/supplier/50000").status_code == 404:
        reply = api("POST", "/v1/supplier", json={"number": w("50000"), "name": w("Lev AS")})
        assert reply.status_code == 201, reply.text
    body = {
        "supplierNumber": w("50000"),
        "date": w("2025-03-03"),
        "invoiceLines": [
            {
                "operation": "Insert",
                "inventoryNumber": w("000123"),
                "quantity": w(1),
                "unitCostInCurrency": w(50),
            }
        ],
        **{k: w(v) for k, v in header.items()},
    }
    reply = api("POST", "/v1/supplierInvoice", json=body)
    assert reply.status_code == 201, reply.text
    return str(reply.headers["Location"].rsplit("/", 1)[-1])


def parse(*argv: str) -> SandboxConfig:
    p = argparse.ArgumentParser()
    add_arguments(p)
    return config_from(p.parse_args(list(argv)))


# ------------------------------------------------------- 1. quotas, reset


def test_the_default_quota_is_a_production_clients(sandbox: Sandbox) -> None:
    assert SandboxConfig().limits == (15_000, 3600.0)
    reply = Api(sandbox)("GET", "/v1/customer")
    assert reply.headers["X-RateLimit-Limit"] == "15000"
    assert reply.headers["X-RateLimit-Policy"] == "4-fixed-window"


def test_a_test_clients_quota_is_500_calls_an_hour(started: Callable[..., Sandbox]) -> None:
    sb = started(quota="test", clock=lambda: 7200.0 + 600)  # 10 minutes into an hour
    api = Api(sb)
    seen = [api("GET", "/v1/customer") for _ in range(501)]
    assert [r.status_code for r in seen] == [200] * 500 + [429]
    assert seen[0].headers["X-RateLimit-Limit"] == "500"
    assert seen[0].headers["X-RateLimit-Remaining"] == "499"
    assert seen[-1].headers["Retry-After"] == "3000"  # 50 minutes to the next hour


def test_rate_limit_and_window_override_the_quota() -> None:
    assert SandboxConfig(quota="test", rate_limit=300, rate_window=60).limits == (300, 60)
    assert SandboxConfig(quota="test", rate_limit=7).limits == (7, 3600.0)
    assert parse().limits == (15_000, 3600.0)
    assert parse("--quota", "test").limits == (500, 3600.0)
    assert parse("--quota", "test", "--rate-limit", "300", "--rate-window", "60").limits == (
        300,
        60.0,
    )


@pytest.mark.parametrize(
    ("form", "reset", "retry"),
    [
        ("seconds", "40", "40"),
        ("epoch", "6060", "40"),
        ("date", formatdate(6060, usegmt=True), formatdate(6060, usegmt=True)),
    ],
)
def test_x_ratelimit_reset_in_other_forms(
    started: Callable[..., Sandbox], form: str, reset: str, retry: str
) -> None:
    sb = started(
        rate_limit=1, rate_window=60, clock=lambda: 6020.0, faults=Faults(reset_format=form)
    )
    api = Api(sb)
    first, second = api("GET", "/v1/customer"), api("GET", "/v1/customer")
    assert first.headers["X-RateLimit-Reset"] == reset
    assert (second.status_code, second.headers["Retry-After"]) == (429, retry)


def test_the_reset_is_the_windows_end_on_a_fractional_clock(
    started: Callable[..., Sandbox],
) -> None:
    seen = {}
    for form in ("seconds", "epoch", "date"):
        sb = started(rate_window=60, clock=lambda: 6020.5, faults=Faults(reset_format=form))
        seen[form] = Api(sb)("GET", "/v1/customer").headers["X-RateLimit-Reset"]
    assert seen == {"seconds": "40", "epoch": "6060", "date": formatdate(6060, usegmt=True)}


def test_an_injected_429_follows_the_reset_format(started: Callable[..., Sandbox]) -> None:
    sb = started(clock=lambda: 6020.0, faults=Faults(throttle_429=1.0, reset_format="date"))
    reply = Api(sb)("GET", "/v1/customer")
    assert reply.status_code == 429
    assert reply.headers["Retry-After"] == formatdate(6021, usegmt=True)
    assert parse("--reset-format", "epoch").faults.reset_format == "epoch"


# ------------------------------------------------------ 2. release, later


@pytest.mark.parametrize("kind", list(AR_PATHS))
def test_a_release_is_queued_and_done_in_the_background(
    started: Callable[..., Sandbox], kind: str
) -> None:
    _, read, _ = AR_PATHS[kind]

    def release(api: Api) -> str:
        number = ar_document(api, kind)
        reply = api("POST", f"{read}/{number}/action/release", json={})
        assert reply.status_code == 200
        body = reply.json()
        assert body["actionResult"] == "Queued" and body["errorInfo"] is None
        assert re.fullmatch(r"[0-9a-f-]{36}", body["actionId"])
        return f"{read}/{number}"

    slow = Api(started(release_seconds=LONG))
    doc = slow("GET", release(slow)).json()
    assert doc["status"] == "Balanced" and "errorInfo" not in doc  # a 200 is no proof
    fast = Api(started(release_seconds=0.05))
    path = release(fast)
    until(lambda: fast("GET", path).json()["status"] == "Open", "released")


def test_a_document_on_hold_fails_its_release_at_once(api_fast: Api) -> None:
    number = ar_document(api_fast, hold=True)
    reply = api_fast("POST", f"/v1/customerinvoice/{number}/action/release", json={})
    assert reply.status_code == 200
    body = reply.json()
    assert body["actionResult"] == "Failed"
    assert re.match(VISMA_ERROR, body["errorInfo"]) and "on hold" in body["errorInfo"]
    assert api_fast("GET", f"/v1/customerinvoice/{number}").json()["status"] == "Hold"
    missing = api_fast("POST", "/v1/customerinvoice/999999/action/release", json={})
    assert missing.status_code == 404


@pytest.fixture
def api_fast(started: Callable[..., Sandbox]) -> Api:
    return Api(started(release_seconds=0.05, faults=Faults(release_fail_on="KAPUTT")))


def test_a_failed_background_release_sets_error_info(api_fast: Api) -> None:
    number = ar_document(api_fast, invoiceText="KAPUTT vare")
    path = f"/v1/customerinvoice/{number}"
    reply = api_fast("POST", f"{path}/action/release", json={})
    assert reply.json()["actionResult"] == "Queued"
    doc = until(lambda: (d := api_fast("GET", path).json()).get("errorInfo") and d, "failed")
    assert doc["status"] == "Balanced"
    assert re.match(VISMA_ERROR + "Error: ", doc["errorInfo"])
    # Mended and released again: the old error is gone at once, the release done later.
    assert api_fast("PUT", path, json={"invoiceText": w("hel vare")}).status_code == 204
    assert api_fast("POST", f"{path}/action/release", json={}).json()["actionResult"] == "Queued"
    until(lambda: api_fast("GET", path).json()["status"] == "Open", "released")
    assert "errorInfo" not in api_fast("GET", path).json()


def test_a_supplier_invoice_release_is_a_background_request(
    started: Callable[..., Sandbox],
) -> None:
    slow = Api(started(release_seconds=LONG))
    number = supplier_invoice(slow)
    reply = slow("POST", f"/v1/supplierInvoice/{number}/action/release", json={})
    assert reply.status_code == 202
    accepted = reply.json()
    assert set(accepted) == {"id", "stateLocation"}
    assert accepted["stateLocation"] == f"/v1/background/{accepted['id']}"
    state = slow("GET", accepted["stateLocation"]).json()
    assert (state["status"], state["statusCode"], state["errorMessage"]) == ("Started", 0, None)
    assert slow("GET", f"/v1/supplierInvoice/{number}").json()["status"] == "Balanced"

    fast = Api(started(release_seconds=0.05, faults=Faults(release_fail_on="KAPUTT")))
    good, bad, held = (
        supplier_invoice(fast),
        supplier_invoice(fast, description="KAPUTT"),
        supplier_invoice(fast, hold=True),
    )
    states = {}
    for number in (good, bad, held):
        reply = fast("POST", f"/v1/supplierInvoice/{number}/action/release", json={})
        assert reply.status_code == 202
        where = reply.json()["stateLocation"]
        states[number] = until(
            lambda w=where: (s := fast("GET", w).json())["status"] != "Started" and s, "done"
        )
    assert (states[good]["status"], states[good]["statusCode"]) == ("Finished", 204)
    assert fast("GET", f"/v1/supplierInvoice/{good}").json()["status"] == "Open"
    for number, says, status in ((bad, "KAPUTT", "Balanced"), (held, "on hold", "Hold")):
        assert states[number]["status"] == "Failed" and states[number]["statusCode"] == 400
        assert re.match(VISMA_ERROR, states[number]["errorMessage"])
        assert says in states[number]["errorMessage"]
        doc = fast("GET", f"/v1/supplierInvoice/{number}").json()
        assert doc["status"] == status and doc["errorInfo"] == states[number]["errorMessage"]


def test_a_supplier_invoice_release_takes_if_match(started: Callable[..., Sandbox]) -> None:
    api = Api(started(release_seconds=LONG))
    number = supplier_invoice(api)
    path = f"/v1/supplierInvoice/{number}/action/release"
    stale = api("POST", path, json={}, headers={"If-Match": '"bm90IHRoaXM="'})
    assert stale.status_code == 412
    etag = api("GET", f"/v1/supplierInvoice/{number}").headers["ETag"]
    assert api("POST", path, json={}, headers={"If-Match": etag}).status_code == 202
    # With erp-api-background, the 202 is the release's own (not a request about a 202).
    again = api("POST", path, json={}, headers={"erp-api-background": "none"})
    state = api("GET", again.json()["stateLocation"]).json()
    assert (again.status_code, state["status"]) == (202, "Started")


def test_stopping_with_releases_pending_is_quiet() -> None:
    # Warnings are errors: a release timer running into a closed store would fail this.
    for seconds in (0.0, 0.01, LONG):
        with Sandbox(SandboxConfig(release_seconds=seconds)) as sb:
            api = Api(sb)
            number = ar_document(api)
            api("POST", f"/v1/customerinvoice/{number}/action/release", json={})


def test_release_options() -> None:
    config = parse("--release-seconds", "0.5", "--release-fail-on", "X1")
    assert (config.release_seconds, config.faults.release_fail_on) == (0.5, "X1")
    assert SandboxConfig().release_seconds == 1.0


# --------------------------------------------------- 3. "contains" filters


def test_a_customer_name_filter_finds_names_that_contain_it(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    for name in ("Norwegian Wood AS", "Fly norwegian", "Svensk AB", "NORWEGIAN"):
        assert api("POST", "/v1/customer", json={"name": w(name)}).status_code == 201
    found = api("GET", "/v1/customer", params={"name": "Norwegian", "pageSize": 2}).json()
    assert [c["name"] for c in found] == ["Norwegian Wood AS", "Fly norwegian"]
    assert found[0]["metadata"]["totalCount"] == 3
    assert len(api("GET", "/v1/customer", params={"name": "wood"}).json()) == 1
    # Suppliers: neither the spec nor Visma's docs say "contains": the whole name.
    for name in ("Norsk Stål AS", "Stål"):
        api("POST", "/v1/supplier", json={"name": w(name)})
    assert [s["name"] for s in api("GET", "/v1/supplier", params={"name": "stål"}).json()] == [
        "Stål"
    ]


# ---------------------------------------------------- 4. gateway error bodies


@pytest.mark.parametrize(
    ("faults", "status"),
    [
        ({"error_500": 1.0}, 500),
        ({"error_503": 1.0}, 503),
        ({"throttle_429": 1.0}, 429),
        ({"gateway_502": 1.0}, 502),
    ],
)
@pytest.mark.parametrize("form", ["json", "html", "text", "empty"])
def test_injected_errors_in_a_gateways_forms(
    started: Callable[..., Sandbox], faults: dict[str, float], status: int, form: str
) -> None:
    # an empty company: "nothing done" is no customer at all
    sb = started(company="empty", faults=Faults(error_body=form, **faults))  # type: ignore[arg-type]
    reply = Api(sb)("POST", "/v1/customer", json={"name": w("Aldri AS")})
    assert reply.status_code == status
    kind = reply.headers.get("Content-Type", "")
    if form == "json":
        assert kind.startswith("application/json") and reply.json()["message"]
    elif form == "html":
        assert kind.startswith("text/html")
        assert f"<title>{status} {reply.reason}</title>" in reply.text
    elif form == "text":
        assert kind.startswith("text/plain") and reply.text == f"{status} {reply.reason}"
    else:
        assert reply.content == b"" and reply.headers["Content-Length"] == "0"
    assert sb.count("customer") == 0  # nothing done


def test_the_quotas_own_429_stays_json(started: Callable[..., Sandbox]) -> None:
    sb = started(rate_limit=1, faults=Faults(error_body="html"))
    api = Api(sb)
    api("GET", "/v1/customer")
    assert api("GET", "/v1/customer").json()["message"].startswith("Rate limit")


def test_error_body_options() -> None:
    faults = parse("--error-body", "html", "--gateway-502", "0.25").faults
    assert (faults.error_body, faults.gateway_502) == ("html", 0.25)


# ------------------------------------------------------- 5. 403, scopes


def test_a_call_holding_the_forbidden_text_is_403(started: Callable[..., Sandbox]) -> None:
    sb = started(company="empty", faults=Faults(forbid_on="HEMMELIG"))
    api = Api(sb)
    refused = api("POST", "/v1/customer", json={"name": w("HEMMELIG AS")})
    assert refused.status_code == 403
    assert re.match(
        VISMA_ERROR + "You are not authorized to access this resource\\.$",
        refused.json()["message"],
    )
    assert sb.count("customer") == 0  # nothing done
    assert api("GET", "/v1/customer/HEMMELIG").status_code == 403
    assert api("GET", "/v1/customer", params={"name": "HEMMELIG"}).status_code == 403
    assert api("POST", "/v1/customer", json={"name": w("Åpen AS")}).status_code == 201
    assert parse("--forbid-on", "X").faults.forbid_on == "X"


def token(sb: Sandbox, scope: str | None, client: str = "demo", secret: str = "demo-secret") -> Any:
    form = {
        "grant_type": "client_credentials",
        "client_id": client,
        "client_secret": secret,
        "tenant_id": "demo-company",
    }
    if scope is not None:
        form["scope"] = scope
    return requests.post(sb.token_url, data=form, timeout=10)


def call(sb: Sandbox, bearer: str, method: str, path: str, **kw: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {bearer}"}
    return requests.request(method, sb.url + path, headers=headers, timeout=10, **kw)


def test_a_token_carries_the_scopes_asked_for(started: Callable[..., Sandbox]) -> None:
    sandbox = started(company="empty")  # "nothing done" is no customer at all
    for scope in (None, ""):  # none asked: all four, as a client registered for them gets
        granted = token(sandbox, scope).json()["scope"]
        assert granted.split() == list(SCOPES)
    reader = token(sandbox, READ).json()
    assert reader["scope"] == READ
    bearer = reader["access_token"]
    assert call(sandbox, bearer, "GET", "/v1/customer").status_code == 200
    refused = call(sandbox, bearer, "POST", "/v1/customer", json={"name": w("A")})
    assert refused.status_code == 403
    assert refused.json()["message"].endswith(f"insufficient scope: needs {CREATE}")
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    assert sandbox.count("customer") == 0

    writer = token(sandbox, f"{CREATE} {READ}").json()["access_token"]
    assert call(sandbox, writer, "POST", "/v1/customer", json={"number": w("1"), "name": w("A")})
    put = call(sandbox, writer, "PUT", "/v1/customer/1", json={"name": w("B")})
    assert put.status_code == 403 and put.json()["message"].endswith(f"needs {UPDATE}")
    gone = call(sandbox, writer, "DELETE", "/v1/customer/1")
    assert gone.status_code == 403 and gone.json()["message"].endswith(f"needs {DELETE}")
    creator = token(sandbox, CREATE).json()["access_token"]
    assert call(sandbox, creator, "GET", "/v1/customer").status_code == 403
    release = call(sandbox, creator, "POST", "/v1/customerinvoice/1/action/release", json={})
    assert release.status_code == 404  # an action is a create: allowed, and no such invoice


def test_scopes_a_client_is_not_registered_for_are_refused() -> None:
    config = SandboxConfig(
        clients=(Client("reader", "s", {"demo-company": "company"}, scopes=(READ,)),)
    )
    with Sandbox(config) as sb:
        refused = token(sb, f"{READ} {CREATE}", client="reader", secret="s")
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_scope")
        assert token(sb, None, client="reader", secret="s").json()["scope"] == READ
    with Sandbox() as sb:
        assert token(sb, "openid").json()["error"] == "invalid_scope"


# ------------------------------------------------------ 6. ETag, If-Match


@pytest.mark.parametrize("kind", ["customer", *AR_PATHS])
def test_etags_on_customers_and_customer_documents(sandbox: Sandbox, kind: str) -> None:
    api = Api(sandbox)
    if kind == "customer":
        reply = api("POST", "/v1/customer", json={"number": w("10000"), "name": w("K AS")})
        path, change = "/v1/customer/10000", {"name": w("K2 AS")}
        assert reply.headers["ETag"]
    else:
        path = f"{AR_PATHS[kind][1]}/{ar_document(api, kind)}"
        change = {"note": w("ny")}
    got = api("GET", path)
    etag = got.headers["ETag"]
    assert etag == f'"{got.json()["timeStamp"]}"'
    stale = api("PUT", path, json=change, headers={"If-Match": '"bm90IHRoaXM="'})
    assert stale.status_code == 412
    assert api("GET", path).headers["ETag"] == etag  # nothing changed
    ok = api("PUT", path, json=change, headers={"If-Match": etag})
    assert ok.status_code == 204 and ok.headers["ETag"] != etag
    assert api("PUT", path, json=change, headers={"If-Match": etag}).status_code == 412
    assert api("PUT", path, json=change).status_code == 204  # If-Match is optional


# ------------------------------------------------------------ 7. hardening


def raw_exchange(sb: Sandbox, data: bytes, wait: float = 10.0) -> tuple[bytes, bool]:
    """Send ``data`` on a fresh connection; (what came back, whether the server
    closed the connection) within ``wait`` seconds."""
    host, port = sb.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as s:
        s.sendall(data)
        got = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                return got, False
            except ConnectionResetError:
                return got, True
            if not chunk:
                return got, True
            got += chunk
            head, _, rest = got.partition(b"\r\n\r\n")
            length = re.search(rb"Content-Length: (\d+)", head)
            if length and len(rest) >= int(length.group(1)) and b"Connection: close" not in head:
                return got, False
        return got, False


def bearer(sb: Sandbox) -> bytes:
    return f"Authorization: Bearer {token_for(sb)}\r\n".encode()


def test_the_token_is_checked_before_the_body_is_read(started: Callable[..., Sandbox]) -> None:
    sb = started(connection_timeout=LONG)  # a server that waited for the body would not answer
    head = b"POST /v1/customer HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
    got, closed = raw_exchange(sb, head)
    assert got.startswith(b"HTTP/1.1 401 ") and b"Connection: close" in got and closed


def test_a_refused_small_body_is_drained_and_the_connection_kept(sandbox: Sandbox) -> None:
    # A client posting with an expired token reads the 401, not a reset connection.
    http = requests.Session()
    http.headers["Authorization"] = "Bearer expired"
    for _ in range(3):
        reply = http.post(sandbox.url + "/v1/customer", json={"name": w("A" * 5000)}, timeout=10)
        assert reply.status_code == 401 and "Connection" not in reply.headers


def test_a_body_over_the_cap_is_413_unread(started: Callable[..., Sandbox]) -> None:
    sb = started(max_body=1000, connection_timeout=LONG)
    for path, auth in ((b"/v1/customer", bearer(sb)), (b"/connect/token", b"")):
        head = (
            b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Length: 1001\r\n\r\n"
        )
        got, closed = raw_exchange(sb, head)
        assert got.startswith(b"HTTP/1.1 413 ") and b"over 1000 bytes" in got and closed
    api = Api(sb)
    too_big = api("POST", "/v1/customer", json={"name": w("A" * 2000)})
    assert too_big.status_code == 413  # what requests sent was discarded: the answer came
    assert api("POST", "/v1/customer", json={"name": w("A" * 900)}).status_code == 201
    assert SandboxConfig().max_body == 16 * 1024 * 1024
    assert parse("--max-body", "5").max_body == 5


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (b"Transfer-Encoding: chunked\r\n", 411),
        (b"Content-Length: lots\r\n", 400),
        (b"Content-Length: 5\r\nContent-Length: 6\r\n", 400),
        (b"Content-Length: -1\r\n", 400),
    ],
)
def test_a_body_without_one_clear_length_is_refused(
    sandbox: Sandbox, header: bytes, status: int
) -> None:
    head = b"POST /v1/customer HTTP/1.1\r\nHost: x\r\n" + bearer(sandbox) + header + b"\r\n"
    got, closed = raw_exchange(sandbox, head + b"5\r\nhello\r\n0\r\n\r\n")
    assert got.startswith(b"HTTP/1.1 %d " % status) and closed


def trickle(sb: Sandbox, first: bytes, drip: bytes, seconds: float = 10.0) -> tuple[bytes, float]:
    """Send ``first``, then ``drip`` a byte at a time every 0.05 s until the
    server answers or closes: (what came back, seconds it took). Fails after
    ``seconds`` (a bound, not a measure)."""
    host, port = sb.url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=0.05) as s:
        s.sendall(first)
        got = b""
        for i in range(10**6):
            assert time.monotonic() - started < seconds, "the server kept the connection"
            try:
                s.send(drip[i % len(drip) : i % len(drip) + 1])
            except OSError:
                break
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            got += chunk
    return got, time.monotonic() - started


def test_slow_headers_are_cut_off(started: Callable[..., Sandbox]) -> None:
    sb = started(connection_timeout=0.3)
    got, _ = trickle(sb, b"GET /v1/customer HTTP/1.1\r\n", b"X-Slow: aaaaaaaaaaaaaaaa")
    assert got == b""  # no answer: the connection was closed
    assert Api(sb)("GET", "/v1/customer").status_code == 200  # the server still serves


def test_a_trickling_body_is_cut_off(started: Callable[..., Sandbox]) -> None:
    sb = started(connection_timeout=0.3, company="empty")
    head = (
        b"POST /v1/customer HTTP/1.1\r\nHost: x\r\n"
        + bearer(sb)
        + b"Content-Length: 100000\r\n\r\n"
    )
    got, _ = trickle(sb, head, b"{")
    assert got.startswith(b"HTTP/1.1 408 ") and b"Connection: close" in got
    assert sb.count("customer") == 0


def test_an_idle_connection_is_closed(started: Callable[..., Sandbox]) -> None:
    sb = started(connection_timeout=0.2)
    got, closed = raw_exchange(sb, b"")
    assert (got, closed) == (b"", True)
    assert SandboxConfig().connection_timeout == 30.0
    assert parse("--connection-timeout", "7").connection_timeout == 7.0


def test_a_slow_but_steady_client_is_answered(started: Callable[..., Sandbox]) -> None:
    # The deadline is per request: a keep-alive connection lives on across requests.
    sb = started(connection_timeout=0.5)
    api = Api(sb)
    for _ in range(3):
        assert api("GET", "/v1/customer").status_code == 200
        time.sleep(0.1)


@pytest.mark.parametrize("depth", [65, 100, 100_000])
def test_json_nested_too_deep_is_400(sandbox: Sandbox, depth: int) -> None:
    body = '{"name": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
    reply = Api(sandbox)(
        "POST", "/v1/customer", data=body, headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 400, reply.text[:200]
    assert re.match(
        VISMA_ERROR + "The request body is nested deeper than 64 levels", reply.json()["message"]
    )


def test_json_as_deep_as_the_limit_is_read(sandbox: Sandbox) -> None:
    body = '{"name": ' + "[" * 63 + "]" * 63 + "}"
    reply = Api(sandbox)(
        "POST", "/v1/customer", data=body, headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 400 and "nested" not in reply.json()["message"]  # a list name


# ----------------------------------------------- 8. list filters in the index


def test_list_filters_through_the_index_agree_with_matches(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    numbers = [ar_document(api, externalReference=f"WEB-{i % 3}", hold=i == 4) for i in range(6)]
    docs = {d["referenceNumber"]: d for d in sandbox.documents("customer_invoice")}
    kind = D.KINDS["customer_invoice"]
    queries: list[dict[str, str]] = [
        {"externalReference": "web-1"},
        {"externalReference": "WEB-2", "status": "Balanced"},
        {"status": "Hold"},
        {"released": "0"},
        {"documentDate": "2025-03-03", "documentDateCondition": ">"},
        {"documentDate": "2025-03-03", "documentDateCondition": "<="},
        {"customer": "10000", "pageSize": "2", "pageNumber": "2"},
        {"lastModifiedDateTime": "2000-01-01", "lastModifiedDateTimeCondition": ">"},
    ]
    for query in queries:
        reply = api("GET", "/v1/customerinvoice", params=query)
        assert reply.status_code == 200, reply.text
        found = [d["referenceNumber"] for d in reply.json()]
        expected = [n for n in numbers if D.matches(kind, docs[n], query)]
        if "pageSize" in query:
            assert found == expected[2:4]
        else:
            assert found == expected, query
        if found:
            assert reply.json()[0]["metadata"]["totalCount"] == len(expected)


def test_a_store_from_before_the_index_is_indexed_when_opened(tmp_path: Path) -> None:
    path = str(tmp_path / "old.db")
    with Sandbox(SandboxConfig(db=path)) as sb:
        ar_document(Api(sb), externalReference="GAMMEL")
    db = sqlite3.connect(path)
    db.execute("DELETE FROM doc_index")
    db.execute("PRAGMA user_version = 0")
    db.commit()
    db.close()
    with Sandbox(SandboxConfig(db=path)) as sb:
        found = Api(sb)("GET", "/v1/customerinvoice", params={"externalReference": "gammel"})
        assert [d["externalReference"] for d in found.json()] == ["GAMMEL"]


def test_a_filtered_page_reads_only_its_documents() -> None:
    kind = D.KINDS["customer_invoice"]
    store = Store()
    now = datetime(2025, 5, 1, 12, 0, 0)
    party = D.create(D.KINDS["customer"], {"name": w("K")}, number="1", now=now, lookup=_none)
    body = {"customerNumber": w("1"), "invoiceLines": []}
    base = D.create(kind, body, number="0", now=now, lookup=lambda k, n: party)
    with store.transaction() as db:
        for i in range(3000):
            doc = {**base, "referenceNumber": str(i), "externalReference": f"R{i}"}
            store.put(db, "t", kind.name, str(i), doc)
    total, page = store.page(
        "t", kind.name, D.conditions(kind, {"externalReference": "r2999"}), 0, 10
    )
    assert (total, [d["referenceNumber"] for d in page]) == (1, ["2999"])
    total, page = store.page("t", kind.name, [], 2990, 100)
    assert total == 3000 and [d["referenceNumber"] for d in page] == [
        str(i) for i in range(2990, 3000)
    ]
    store.close()


def _none(kind: str, number: str) -> None:
    return None


def test_every_document_kind_indexes_its_filters() -> None:
    for kind in D.KINDS.values():
        names = {n.lower() for n in D.list_filters(kind)}
        doc: dict[str, Any] = {}
        assert {n for n, _ in D.index_entries(kind, doc)} <= names
        with pytest.raises(D.BusinessError):
            D.conditions(kind, {"lastModifiedDateTime": "then"})
    assert set(D.OPERATORS) == {"=", "contains", ">", ">=", "<", "<="}
