"""The client against the sandbox behaving as the real API does (issue 11):
background releases, a release that fails, scopes, a 403 on one document,
gateway error bodies, X-RateLimit-Reset in its other forms, and a test
client's small quota. Real sockets, the sandbox in this process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write_csv

from importer import VismaDestination, check, load_type, send
from importer.report import BatchReport
from importer.sandbox import Faults, Sandbox, SandboxConfig
from importer.sandbox.process import demo_connection
from importer.targets import Event
from importer.targets.client import VismaClient

HEADER = ["External reference", "Customer number", "Invoice date", "Invoice text",
          "Item number", "Quantity", "Unit price"]  # fmt: skip
CUSTOMERS = [["Customer number", "Name"], ["10001", "Fjord AS"], ["10002", "Fisk AS"]]


def invoices(tmp_path: Path, *refs: str) -> Path:
    rows = [[ref, "10000", "2025-03-03", f"Text {ref}", "000123", "1", "10"] for ref in refs]
    return write_csv(tmp_path / "i.csv", [HEADER, *rows])


def with_customer(sb: Sandbox) -> None:
    client = VismaClient(demo_connection(sb.url))
    reply = client.call("POST", "/v1/customer", json={"number": {"value": "10000"},
                                                       "name": {"value": "Kunde AS"}})  # fmt: skip
    assert reply.status_code == 201


def go(sb: Sandbox, src: Path, doctype: str, tmp_path: Path, **options: Any) -> BatchReport:
    mode = options.pop("mode", "create")
    progress = options.pop("progress", None)
    connection = demo_connection(sb.url)
    if "scope" in options:
        from dataclasses import replace

        connection = replace(connection, scope=options.pop("scope"))
    destination = VismaDestination(
        connection, journal=tmp_path / "j.sqlite", unknown_grace=0.0, release_poll=0.05, **options
    )
    return send(check(src, load_type(doctype)), destination, mode=mode, progress=progress)


def test_a_release_queued_in_the_background_is_reported_when_it_is_done(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(release_seconds=0.3)) as sb:
        with_customer(sb)
        report = go(sb, invoices(tmp_path, "R-1", "R-2"), "customer_invoice", tmp_path,
                    release=True)  # fmt: skip
        assert {d["status"] for d in sb.documents("customer_invoice")} == {"Open"}
    assert {(r.status, r.message) for r in report.results} == {("created", "released: status Open")}


def test_a_release_that_fails_in_the_background_is_never_called_released(tmp_path: Path) -> None:
    config = SandboxConfig(release_seconds=0.2, faults=Faults(release_fail_on="Text R-2"))
    with Sandbox(config) as sb:
        with_customer(sb)
        report = go(sb, invoices(tmp_path, "R-1", "R-2"), "customer_invoice", tmp_path,
                    release=True)  # fmt: skip
    rows = {r.key: r for r in report.results}
    assert rows["R-1"].message == "released: status Open"
    assert (rows["R-2"].status, rows["R-2"].code) == ("created", "release-refused")
    assert "the release failed: VismaId:" in rows["R-2"].message


def test_a_release_still_queued_after_release_wait_is_pending(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(release_seconds=30)) as sb:
        with_customer(sb)
        report = go(sb, invoices(tmp_path, "R-1"), "customer_invoice", tmp_path,
                    release=True, release_wait=0.2)  # fmt: skip
    (row,) = report.results
    assert (row.status, row.code) == ("created", "release-pending")
    assert "status Balanced" in row.message


def test_a_supplier_invoice_release_is_followed_through_its_background_state(
    tmp_path: Path,
) -> None:
    with Sandbox(SandboxConfig(release_seconds=0.2)) as sb:
        client = VismaClient(demo_connection(sb.url))
        assert client.call("POST", "/v1/supplier", json={"number": {"value": "50000"},
                           "name": {"value": "Lev AS"}}).status_code == 201  # fmt: skip
        src = write_csv(tmp_path / "s.csv", [
            ["Supplier number", "Supplier invoice number", "Invoice date", "Line text",
             "Quantity", "Unit cost", "Account"],
            ["50000", "F-77", "2025-03-03", "Kaffe", "1", "10", "4000"],
        ])  # fmt: skip
        report = go(sb, src, "supplier_invoice", tmp_path, release=True)
        (row,) = report.results
        assert (row.status, row.message) == ("created", "released: status Open"), row.message


def test_a_token_without_a_scope_fails_rows_with_vismas_words(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    with Sandbox() as sb:
        report = go(sb, src, "customer", tmp_path, scope="vismanet_erp_service_api:read")
    assert {(r.status, r.http_status) for r in report.results} == {("failed", 403)}
    assert all("insufficient scope" in r.message for r in report.results)


def test_a_403_on_one_document_in_the_sandbox_fails_only_that_row(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    # an empty company: the customers counted are the run's
    with Sandbox(SandboxConfig(company="empty", faults=Faults(forbid_on="Fisk AS"))) as sb:
        report = go(sb, src, "customer", tmp_path)
        assert sb.count("customer") == 1
    rows = {r.key: r for r in report.results}
    assert rows["10001"].status == "created"
    assert (rows["10002"].status, rows["10002"].http_status) == ("failed", 403)
    assert "You are not authorized to access this resource" in rows["10002"].message


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("html", "an HTML page (502 Bad Gateway) came back instead of Visma's answer"),
        ("text", "502 Bad Gateway"),
        ("empty", "with an empty answer"),
    ],
)
def test_gateway_error_bodies_read_as_a_clear_message(body: str, says: str) -> None:
    faults = Faults(gateway_502=1.0, error_body=body)  # type: ignore[arg-type]
    with Sandbox(SandboxConfig(faults=faults)) as sb:
        client = VismaClient(demo_connection(sb.url), retries=0)
        reply = client.call("GET", "/v1/customer")
        assert reply.status_code == 502
        assert says in client.explain(reply)


@pytest.mark.parametrize("form", ["seconds", "epoch", "date"])
def test_a_spent_quota_is_waited_out_in_whatever_form_reset_comes(form: str) -> None:
    now = [1_800_000_000.0]  # the sandbox's wall clock, and the client's
    config = SandboxConfig(rate_limit=2, rate_window=60, clock=lambda: now[0],
                           faults=Faults(reset_format=form))  # type: ignore[arg-type]  # fmt: skip
    with Sandbox(config) as sb:
        waits: list[float] = []

        def sleep(seconds: float) -> None:  # the wait, on the shared clock
            waits.append(seconds)
            now[0] += seconds

        client = VismaClient(demo_connection(sb.url), sleep=sleep)
        client.limiter._wall_clock = lambda: now[0]
        for _ in range(2):
            assert client.call("GET", "/v1/customer").status_code == 200
        now[0] += 0.5
        client.call("GET", "/v1/customer")  # the quota is spent: to the next window
    assert waits and 50 <= waits[-1] <= 61  # not 49 years


def test_a_test_clients_quota_gives_a_run_its_estimate(tmp_path: Path) -> None:
    rows = [CUSTOMERS[0], *[[str(20000 + i), f"Kunde {i}"] for i in range(150)]]
    src = write_csv(tmp_path / "c.csv", rows)
    events: list[Event] = []
    with Sandbox(SandboxConfig(quota="test")) as sb:
        go(sb, src, "customer", tmp_path, progress=events.append)
    (estimate,) = [e for e in events if e.phase == "estimate"]
    assert estimate.total == 150
    assert estimate.waiting_s == 0.0  # 500 calls an hour hold them
