"""The sandbox serving several companies (``--companies N``), and its record
of every API call with the job that made it (issue 16)."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import Api, write_xlsx

from importer import Job, run_job
from importer.sandbox import (
    DEMO_TENANT,
    JOB_HEADER,
    Call,
    Faults,
    Sandbox,
    SandboxConfig,
    overlap,
)
from importer.sandbox.options import config_from
from importer.sandbox.process import SandboxProcess, demo_connection
from importer.sandbox.server import busy
from importer.settings import Connection
from importer.targets import client as client_module
from importer.targets.client import VismaClient

COMPANIES = ("company-1", "company-2", "company-3")


def customers(first: int, count: int) -> list[list[object]]:
    return [
        ["Customer number", "Customer name", "Credit limit"],
        *([str(n), f"Kunde {n} AS", "1000"] for n in range(first, first + count)),
    ]


def connection(sb: Sandbox, tenant: str, job: str = "") -> Connection:
    return replace(demo_connection(sb.url), tenant_id=tenant, job=job)


def token_reply(sb: Sandbox, tenant: str) -> requests.Response:
    return requests.post(
        sb.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": "demo",
            "client_secret": "demo-secret",
            "tenant_id": tenant,
        },
        timeout=10,
    )


# ------------------------------------------------------------ tenants


def test_the_demo_client_gets_a_token_for_each_company() -> None:
    with Sandbox(SandboxConfig(companies=3)) as sb:
        for tenant in (DEMO_TENANT, *COMPANIES):
            api = Api(sb, tenant=tenant)
            listed = api("GET", "/v1/customer")
            assert listed.status_code == 200, tenant
            assert len(listed.json()) == 12  # each the demo company
        refused = token_reply(sb, "company-4")
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
        assert token_reply(sb, "demo-customer").status_code == 200  # still there
    with Sandbox() as sb:  # without --companies: only demo-company
        assert token_reply(sb, "company-1").status_code == 400


def test_the_config_names_the_companies_and_refuses_a_negative_count() -> None:
    config = SandboxConfig(companies=2)
    assert config.company_tenants == ("company-1", "company-2")
    assert config.seeded_tenants == (DEMO_TENANT, "company-1", "company-2")
    demo = config.client("demo")
    assert demo is not None and demo.tenants["company-2"] == "company"
    assert SandboxConfig().company_tenants == ()
    with pytest.raises(ValueError):
        SandboxConfig(companies=-1)


def test_each_company_has_its_own_documents_and_reference_data() -> None:
    with Sandbox(SandboxConfig(companies=3)) as sb:
        two, three = Api(sb, tenant="company-2"), Api(sb, tenant="company-3")
        made = two("POST", "/v1/customer", json={"name": {"value": "Bare i to AS"}})
        assert made.status_code == 201
        number = made.headers["Location"].rsplit("/", 1)[1]
        assert two("GET", f"/v1/customer/{number}").json()["name"] == "Bare i to AS"
        assert three("GET", f"/v1/customer/{number}").status_code == 404
        assert sb.count("customer", "company-2") == 13
        assert sb.count("customer", "company-3") == 12
        assert sb.count("customer") == 12  # demo-company
        for tenant in COMPANIES:  # the demo company's lists, in each
            api = Api(sb, tenant=tenant)
            assert api("GET", "/v1/inventory/000123").status_code == 200
            assert {v["vatId"] for v in api("GET", "/v1/vat").json()} >= {"3", "31", "1"}
        # a reference check is the company's own: an unknown item refused in each
        line = {"operation": "Insert", "inventoryNumber": {"value": "NO-SUCH"}}
        body = {"customerNumber": {"value": "11001"}, "invoiceLines": [line]}
        refused = three("POST", "/v2/customerinvoice", json=body)
        assert refused.status_code == 400 and "NO-SUCH" in refused.json()["message"]


def test_each_company_starts_as_the_configured_company() -> None:
    with Sandbox(SandboxConfig(companies=2, company="empty")) as sb:
        for tenant in (DEMO_TENANT, "company-1", "company-2"):
            assert sb.count("customer", tenant) == 0
            assert Api(sb, tenant=tenant)("GET", "/v1/inventory").json() == []


def test_a_kept_state_gives_new_companies_their_start(tmp_path: Path) -> None:
    db = str(tmp_path / "sb.db")
    with Sandbox(SandboxConfig(db=db)) as sb:
        assert token_reply(sb, "company-1").status_code == 400
    with Sandbox(SandboxConfig(db=db, companies=1)) as sb:
        assert sb.count("customer", "company-1") == 12
        assert sb.count("customer") == 12


def test_each_company_has_its_own_quota() -> None:
    config = SandboxConfig(companies=2, rate_limit=3, rate_window=3600.0)
    with Sandbox(config) as sb:
        one, two = Api(sb, tenant="company-1"), Api(sb, tenant="company-2")
        demo = Api(sb, tenant=DEMO_TENANT)
        spent = [one("GET", "/v1/customer").status_code for _ in range(4)]
        assert spent == [200, 200, 200, 429]
        answer = two("GET", "/v1/customer")
        assert answer.status_code == 200
        assert answer.headers["X-RateLimit-Remaining"] == "2"  # company-2's window untouched
        assert demo("GET", "/v1/customer").headers["X-RateLimit-Remaining"] == "2"
        assert one("GET", "/v1/customer").status_code == 429  # company-1's stays spent
        statuses = [c.status for c in sb.calls("company-1")]
        assert statuses == [200, 200, 200, 429, 429]


def test_spending_one_companys_quota_does_not_slow_another(tmp_path: Path) -> None:
    """A real run into company-2 while company-1's quota is spent: it never waits."""
    config = SandboxConfig(companies=2, rate_limit=5, rate_window=3600.0, company="empty")
    with Sandbox(config) as sb:
        one = Api(sb, tenant="company-1")
        while one("GET", "/v1/customer").status_code != 429:
            pass
        waits: list[float] = []
        client = VismaClient(connection(sb, "company-2"), max_wait=1.0)
        client.on_wait = waits.append
        try:
            assert client.call("GET", "/v1/customer").status_code == 200
            assert client.call("GET", "/v1/customer").status_code == 200
        finally:
            client.session.close()
        assert waits == [] and client.limiter.asked() == 0


# ------------------------------------------------------- the call record


def test_every_api_call_is_recorded_with_its_tenant_and_job() -> None:
    with Sandbox(SandboxConfig(companies=2)) as sb:
        one = Api(sb, tenant="company-1")
        one.http.headers[JOB_HEADER] = "job-7"
        one("GET", "/v1/customer", params={"pageSize": "5"})
        one("GET", "/v1/customer/NOPE")
        Api(sb, tenant="company-2")("GET", "/v1/vat")
        requests.get(sb.url + "/v1/customer", timeout=10)  # no token
        everything = sb.calls()
        assert len(everything) == 4  # the token endpoint's calls are not kept
        first, missing, other, anonymous = everything
        assert (first.tenant, first.client, first.job) == ("company-1", "demo", "job-7")
        assert (first.method, first.path, first.query, first.status) == (
            "GET",
            "/v1/customer",
            "pageSize=5",
            200,
        )
        assert (missing.path, missing.status) == ("/v1/customer/NOPE", 404)
        assert (other.tenant, other.job, other.status) == ("company-2", "", 200)
        assert (anonymous.tenant, anonymous.client, anonymous.status) == ("", "", 401)
        assert [c.seq for c in everything] == [1, 2, 3, 4]
        assert all(c.start <= c.end for c in everything)
        assert first.end <= missing.start  # one after the other, on one connection
        assert sb.calls("company-1") == [first, missing]
        assert sb.calls(job="job-7") == [first, missing]
        assert sb.calls("company-2", job="job-7") == []
        with pytest.raises(AttributeError):
            first.status = 500  # type: ignore[misc]


def test_the_record_keeps_the_newest_calls() -> None:
    with Sandbox(SandboxConfig(max_calls=3)) as sb:
        api = Api(sb)
        for _ in range(5):
            api("GET", "/v1/vat")
        assert [c.seq for c in sb.calls()] == [3, 4, 5]


def test_a_dropped_answer_is_recorded_with_status_0() -> None:
    config = SandboxConfig(company="empty", faults=Faults(drop_after_commit=1.0))
    with Sandbox(config) as sb:
        with pytest.raises(requests.ConnectionError):
            Api(sb)("POST", "/v1/customer", json={"name": {"value": "X AS"}})
        (call,) = sb.calls()
        assert (call.method, call.status) == ("POST", 0)
        assert sb.count("customer") == 1


def test_the_client_sends_its_job_on_api_calls_never_to_the_token_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert client_module.JOB_HEADER == JOB_HEADER  # the two sides agree
    with Sandbox(SandboxConfig(companies=1)) as sb:
        client = VismaClient(connection(sb, "company-1", job="job-42"))
        sent: list[tuple[str, dict[str, Any]]] = []
        request = client.session.request

        def spy(method: str, url: str, **kwargs: Any) -> requests.Response:
            sent.append((url, dict(kwargs.get("headers") or {})))
            return request(method, url, **kwargs)

        monkeypatch.setattr(client.session, "request", spy)
        try:
            client.call("GET", "/v1/customer")
            client.call("GET", "/v1/vat")
        finally:
            client.session.close()
        token_calls = [h for url, h in sent if url == sb.token_url]
        api_calls = [h for url, h in sent if url != sb.token_url]
        assert len(token_calls) == 1 and JOB_HEADER not in token_calls[0]
        assert [h[JOB_HEADER] for h in api_calls] == ["job-42", "job-42"]
        assert [c.job for c in sb.calls("company-1")] == ["job-42", "job-42"]
        # the argument wins over the connection's; none: no header
        assert VismaClient(connection(sb, "company-1", job="a"), job="b").job == "b"
        plain = VismaClient(demo_connection(sb.url))
        try:
            plain.call("GET", "/v1/vat")
        finally:
            plain.session.close()
        assert sb.calls(DEMO_TENANT)[-1].job == ""
    with pytest.raises(ValueError):
        VismaClient(demo_connection("http://127.0.0.1:1"), job="two\nlines")


def test_a_connections_job_does_not_make_it_another_connection() -> None:
    conn = demo_connection("http://127.0.0.1:1")
    assert replace(conn, job="j") == conn and replace(conn, job="j").target == conn.target


def _run(sb: Sandbox, tmp_path: Path, tenant: str, job: str, first: int, count: int) -> None:
    name = f"{job}.xlsx"
    src = write_xlsx(tmp_path / name, customers(first, count))
    work = Job(src, "customer", journal=str(tmp_path / f"{job}.sqlite"), preflight=False)
    result = run_job(work, connection=connection(sb, tenant, job=job))
    assert result.exit_code == 0, result.problems()
    assert result.counts == {"created": count}


def test_a_jobs_calls_are_recorded_and_two_jobs_overlap_is_computable(tmp_path: Path) -> None:
    config = SandboxConfig(companies=2, company="empty", faults=Faults(latency_ms=20))
    with Sandbox(config) as sb:
        # one after the other: no overlap
        _run(sb, tmp_path, "company-1", "first", 30001, 3)
        _run(sb, tmp_path, "company-2", "second", 30001, 3)
        first, second = sb.calls(job="first"), sb.calls(job="second")
        assert first and {c.tenant for c in first} == {"company-1"}
        assert second and {c.tenant for c in second} == {"company-2"}
        assert {(c.method, c.path, c.status) for c in first} >= {("POST", "/v1/customer", 201)}
        assert sum(c.method == "POST" for c in first) == 3
        assert max(c.end for c in first) <= min(c.start for c in second)
        assert overlap(first, second) == 0.0
        # at once, each into its own company: their calls overlap
        ready = threading.Barrier(2)
        failures: list[BaseException] = []

        def run(tenant: str, job: str) -> None:
            try:
                ready.wait(timeout=10)
                _run(sb, tmp_path, tenant, job, 40001, 10)
            except BaseException as exc:  # reported below, in the test's thread
                failures.append(exc)

        threads = [
            threading.Thread(target=run, args=("company-1", "left")),
            threading.Thread(target=run, args=("company-2", "right")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not failures, failures
        left, right = sb.calls(job="left"), sb.calls(job="right")
        assert {c.tenant for c in left} == {"company-1"}
        assert {c.tenant for c in right} == {"company-2"}
        assert overlap(left, right) > 0.0
        assert sb.count("customer", "company-1") == 13 == sb.count("customer", "company-2")


def test_overlap_is_the_time_both_had_a_call_under_way() -> None:
    def call(start: float, end: float) -> Call:
        return Call(0, "t", "c", "j", "GET", "/v1/vat", "", 200, start, end)

    a = [call(0, 2), call(1, 3), call(10, 11)]
    b = [call(2.5, 4), call(10.5, 12)]
    assert busy(a) == [(0, 3), (10, 11)]
    assert overlap(a, b) == pytest.approx(1.0)  # 2.5-3 and 10.5-11
    assert overlap(b, a) == pytest.approx(1.0)
    assert overlap(a, []) == 0.0
    assert call(1, 3.5).seconds == 2.5


# ------------------------------------------------- the standalone server


def test_the_record_endpoint_answers_json() -> None:
    with Sandbox(SandboxConfig(companies=2)) as sb:
        two = Api(sb, tenant="company-2")
        two.http.headers[JOB_HEADER] = "job-x"
        for _ in range(3):
            two("GET", "/v1/vat")
        Api(sb, tenant="company-1")("GET", "/v1/vat")
        answer = requests.get(f"{sb.url}/sandbox/calls", params={"tenant": "company-2"}, timeout=10)
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith("application/json")
        body = answer.json()
        assert body["clock"] == "monotonic" and body["more"] is False
        assert [c["tenant"] for c in body["calls"]] == ["company-2"] * 3
        assert body["calls"][0] == sb.calls("company-2")[0].as_json()
        assert all(c["job"] == "job-x" and c["end"] <= body["now"] for c in body["calls"])
        assert body["next"] == body["calls"][-1]["seq"]
        # paged: since and limit
        page = requests.get(f"{sb.url}/sandbox/calls?limit=2", timeout=10).json()
        assert [c["seq"] for c in page["calls"]] == [1, 2] and page["more"] is True
        rest = requests.get(f"{sb.url}/sandbox/calls?since={page['next']}", timeout=10).json()
        assert [c["seq"] for c in rest["calls"]] == [3, 4] and rest["more"] is False
        by_job = requests.get(f"{sb.url}/sandbox/calls?job=job-x", timeout=10).json()
        assert len(by_job["calls"]) == 3
        # reading the record is no API call: not recorded, no token, no quota
        assert len(sb.calls()) == 4
        assert requests.post(f"{sb.url}/sandbox/calls", timeout=10).status_code == 405
        assert requests.get(f"{sb.url}/sandbox/calls?since=x", timeout=10).status_code == 400
        assert requests.get(f"{sb.url}/sandbox/calls?limit=0", timeout=10).status_code == 400


def test_vnimport_sandbox_companies_starts_and_serves_them() -> None:
    with SandboxProcess("--companies", "3", "--company", "empty") as proc:
        tokens = {}
        for tenant in COMPANIES:
            reply = requests.post(
                f"{proc.url}/connect/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "demo",
                    "client_secret": "demo-secret",
                    "tenant_id": tenant,
                },
                timeout=10,
            )
            assert reply.status_code == 200, tenant
            tokens[tenant] = reply.json()["access_token"]
        headers = {"Authorization": f"Bearer {tokens['company-3']}", JOB_HEADER: "proc-job"}
        made = requests.post(
            f"{proc.url}/v1/customer",
            json={"name": {"value": "Tre AS"}},
            headers=headers,
            timeout=10,
        )
        assert made.status_code == 201
        other = {"Authorization": f"Bearer {tokens['company-1']}"}
        assert requests.get(f"{proc.url}/v1/customer", headers=other, timeout=10).json() == []
        record = requests.get(f"{proc.url}/sandbox/calls?tenant=company-3", timeout=10).json()
        ((call,),) = (record["calls"],)
        assert (call["job"], call["method"], call["path"], call["status"]) == (
            "proc-job",
            "POST",
            "/v1/customer",
            201,
        )


def test_the_companies_option_makes_the_config() -> None:
    import argparse

    from importer.sandbox.options import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert config_from(parser.parse_args(["--companies", "4"])).companies == 4
    assert config_from(parser.parse_args([])).companies == 0
    with pytest.raises(SystemExit):
        parser.parse_args(["--companies", "-1"])
