"""The sandbox's contract, checked with plain HTTP requests over loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import TYPES, Api
from records import preview_records

from importer.batch import check
from importer.demo import REFERENCES
from importer.doctypes import Registry
from importer.sandbox import Faults, Sandbox, SandboxConfig
from importer.sandbox.config import DEMO_CUSTOMER_TENANT, Client


def previews(name: str, samples_dir: Path) -> list[dict[str, Any]]:
    return list(preview_records(check(samples_dir / f"{name}.csv", Registry().get(name))))


def parties(api: Api, samples_dir: Path) -> None:
    """Customers and suppliers the sample documents refer to."""
    for record in previews("customer", samples_dir) + previews("supplier", samples_dir):
        api(record["method"], record["path"], json=record["body"]).raise_for_status()
    for name, (party, field) in REFERENCES.items():
        _, path = Registry().get(party).endpoint("list")
        for record in previews(name, samples_dir):
            number = record["body"][field]["value"]
            if api("GET", f"{path}/{number}").status_code == 404:
                api(
                    "POST",
                    path,
                    json={"number": {"value": number}, "name": {"value": f"Part {number}"}},
                ).raise_for_status()


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox)


@pytest.fixture
def empty_api() -> Iterator[Api]:
    """A sandbox of an empty company: the customers a test lists are its own."""
    with Sandbox(SandboxConfig(company="empty")) as sb:
        yield Api(sb)


# ------------------------------------------------------------------- auth


def test_token_endpoint_issues_bearer_tokens(sandbox: Sandbox) -> None:
    reply = requests.post(
        sandbox.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": "demo",
            "client_secret": "demo-secret",
            "tenant_id": "demo-company",
            "scope": "vismanet_erp_service_api:read",
        },
        timeout=10,
    )
    assert reply.status_code == 200
    body = reply.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert len(body["access_token"]) > 20


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "nobody"}, 401, "invalid_client"),
        ({"tenant_id": "other-company"}, 400, "invalid_grant"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
def test_token_errors(sandbox: Sandbox, form: dict[str, str], status: int, error: str) -> None:
    data = {
        "grant_type": "client_credentials",
        "client_id": "demo",
        "client_secret": "demo-secret",
        "tenant_id": "demo-company",
        **form,
    }
    reply = requests.post(sandbox.token_url, data=data, timeout=10)
    assert (reply.status_code, reply.json()["error"]) == (status, error)


def test_api_calls_need_a_valid_token(sandbox: Sandbox) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
        reply = requests.get(sandbox.url + "/v1/customer", headers=headers, timeout=10)
        assert reply.status_code == 401
        assert "invalid_token" in reply.headers["WWW-Authenticate"]
        assert "message" in reply.json()


def test_a_customer_tenant_token_is_refused_by_the_api(sandbox: Sandbox) -> None:
    api = Api(sandbox, tenant=DEMO_CUSTOMER_TENANT)  # the token itself is issued
    assert api("GET", "/v1/customer").status_code == 401


def test_tokens_expire() -> None:
    with Sandbox(SandboxConfig(token_lifetime=0.3)) as sb:
        api = Api(sb)
        assert api("GET", "/v1/customer").status_code == 200
        time.sleep(0.4)
        assert api("GET", "/v1/customer").status_code == 401


# ------------------------------------------------------- the seven types


def test_every_type_is_created_from_preview_payloads_and_read_back(
    api: Api, samples_dir: Path
) -> None:
    parties(api, samples_dir)  # creates the customer and supplier samples first
    for name in TYPES:
        if name in ("customer", "supplier"):
            for record in previews(name, samples_dir):
                number = record["body"]["number"]["value"]
                assert api("GET", f"{record['path']}/{number}").json()["number"] == number
            continue
        for record in previews(name, samples_dir):
            reply = api(record["method"], record["path"], json=record["body"])
            assert reply.status_code == 201, (name, reply.text)
            assert reply.content == b""
            location = reply.headers["Location"]
            number = location.rsplit("/", 1)[-1]
            collection = location.rsplit("/", 2)[-2]
            doc = api("GET", f"/v1/{collection}/{number}")
            assert doc.status_code == 200, (name, doc.text)
            body = doc.json()
            assert "value" not in json.dumps(body).replace('"value":', "")  # sanity
            assert not any(isinstance(v, dict) and set(v) == {"value"} for v in body.values())


def test_create_answers_201_with_location_and_numbers_itself(api: Api) -> None:
    reply = api("POST", "/v1/customer", json={"name": {"value": "Fjord AS"}})
    assert reply.status_code == 201
    number = reply.headers["Location"].rsplit("/", 1)[-1]
    assert reply.headers["Location"] == f"{api.sb.url}/v1/customer/{number}"
    second = api("POST", "/v1/customer", json={"name": {"value": "Fjell AS"}})
    assert int(second.headers["Location"].rsplit("/", 1)[-1]) == int(number) + 1
    assert api("GET", f"/v1/customer/{number}").json()["name"] == "Fjord AS"


def test_a_number_that_exists_is_a_visma_error(api: Api) -> None:
    body = {"number": {"value": "10000"}, "name": {"value": "Fjord AS"}}
    assert api("POST", "/v1/customer", json=body).status_code == 201
    again = api("POST", "/v1/customer", json=body)
    assert again.status_code == 400
    assert again.json()["message"].startswith("VismaId: ")
    assert "10000" in again.json()["message"]


def test_get_a_missing_document_is_404(api: Api) -> None:
    reply = api("GET", "/v1/customerinvoice/999999")
    assert reply.status_code == 404 and reply.json()["message"].startswith("VismaId: ")


ITEMS = ("000123", "000245", "000555", "000871")  # items of the demo company


def _invoice(api: Api, lines: int = 2, **header: Any) -> str:
    api("POST", "/v1/customer", json={"number": {"value": "10000"}, "name": {"value": "K"}})
    body = {
        "customerNumber": {"value": "10000"},
        "documentDate": {"value": "2025-01-27"},
        "invoiceLines": [
            {
                "operation": "Insert",
                "inventoryNumber": {"value": ITEMS[i]},
                "quantity": {"value": i + 1},
                "unitPriceInCurrency": {"value": 10},
            }
            for i in range(lines)
        ],
        **{k: {"value": v} for k, v in header.items()},
    }
    reply = api("POST", "/v2/customerinvoice", json=body)
    assert reply.status_code == 201, reply.text
    return reply.headers["Location"].rsplit("/", 1)[-1]


def test_update_is_partial_and_lines_follow_their_operation(api: Api) -> None:
    number = _invoice(api, lines=2, invoiceText="Mars")
    before = api("GET", f"/v1/customerinvoice/{number}").json()
    assert [line["lineNumber"] for line in before["invoiceLines"]] == [1, 2]
    reply = api(
        "PUT",
        f"/v1/customerinvoice/{number}",
        json={
            "invoiceText": {"value": "April"},
            "invoiceLines": [
                {"operation": "Update", "lineNumber": {"value": 1}, "quantity": {"value": 7}},
                {"operation": "Delete", "lineNumber": {"value": 2}},
                {
                    "operation": "Insert",
                    "inventoryNumber": {"value": "FRAKT"},
                    "quantity": {"value": 1},
                },
            ],
        },
    )
    assert reply.status_code == 204 and reply.content == b""
    after = api("GET", f"/v1/customerinvoice/{number}").json()
    assert after["invoiceText"] == "April"
    assert after["customer"]["number"] == "10000"  # not sent, unchanged
    lines = {line["lineNumber"]: line for line in after["invoiceLines"]}
    assert sorted(lines) == [1, 3]
    assert lines[1]["quantity"] == 7 and lines[1]["inventoryNumber"] == "000123"
    assert lines[3]["inventoryNumber"] == "FRAKT"


def test_an_unknown_line_number_is_a_visma_error(api: Api) -> None:
    number = _invoice(api, lines=1)
    reply = api(
        "PUT",
        f"/v1/customerinvoice/{number}",
        json={
            "invoiceLines": [
                {"operation": "Update", "lineNumber": {"value": 9}, "quantity": {"value": 1}}
            ]
        },
    )
    assert reply.status_code == 400 and "9" in reply.json()["message"]


# --------------------------------------------------------- request bodies


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"name": {"value": "A"}, "colour": {"value": "red"}}, "colour"),
        ({"name": {"value": "A"}, "creditLimit": {"value": "lots"}}, "creditLimit"),
        ({"name": "A"}, "name"),
        ({"name": {"value": "A"}, "status": {"value": "Sleeping"}}, "status"),
    ],
)
def test_bodies_are_checked_against_the_request_dto(
    api: Api, body: dict[str, Any], names: str
) -> None:
    reply = api("POST", "/v1/customer", json=body)
    assert reply.status_code == 400
    message = reply.json()["message"]
    assert message.startswith("VismaId: ") and names in message


def test_a_line_field_error_names_the_line(api: Api) -> None:
    api("POST", "/v1/customer", json={"number": {"value": "10000"}, "name": {"value": "K"}})
    reply = api(
        "POST",
        "/v2/customerinvoice",
        json={
            "customerNumber": {"value": "10000"},
            "invoiceLines": [
                {"operation": "Insert", "inventoryNumber": {"value": "A"}},
                {"operation": "Insert", "quantity": {"value": "many"}},
            ],
        },
    )
    assert reply.status_code == 400 and "invoiceLines[1].quantity" in reply.json()["message"]


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        (
            "/v2/customerinvoice",
            {
                "customerNumber": {"value": "10099"},
                "invoiceLines": [{"operation": "Insert", "inventoryNumber": {"value": "A"}}],
            },
            "10099",
        ),
        (
            "/v1/supplierInvoice",
            {
                "supplierNumber": {"value": "50099"},
                "invoiceLines": [{"operation": "Insert", "inventoryNumber": {"value": "A"}}],
            },
            "50099",
        ),
        (
            "/v1/purchaseorder",
            {
                "supplier": {"value": "50099"},
                "lines": [{"operation": "Insert", "inventory": {"value": "A"}}],
            },
            "50099",
        ),
        (
            "/v2/customerinvoice",
            {
                "customerNumber": {"value": "10000"},
                "invoiceLines": [{"operation": "Insert", "quantity": {"value": 1}}],
            },
            "line",
        ),
    ],
)
def test_business_rules_are_visma_errors(
    api: Api, path: str, body: dict[str, Any], says: str
) -> None:
    api("POST", "/v1/customer", json={"number": {"value": "10000"}, "name": {"value": "K"}})
    reply = api("POST", path, json=body)
    assert reply.status_code == 400, reply.text
    message = reply.json()["message"]
    assert message.startswith("VismaId: ") and says in message.lower() + message


def test_v1_create_and_v2_paths_as_the_spec_has_them(api: Api) -> None:
    assert api("POST", "/v2/customer", json={"name": {"value": "A"}}).status_code == 404
    assert api("GET", "/v2/customerinvoice").status_code == 404
    assert api("GET", "/v1/CustomerInvoice").status_code == 200  # segments ignore case


# ----------------------------------------------------------------- lists


def test_paging_arithmetic() -> None:
    with Sandbox(SandboxConfig(max_page_size=5, company="empty")) as sb:
        api = Api(sb)
        for i in range(12):
            api("POST", "/v1/customer", json={"name": {"value": f"Kunde {i:02d}"}})

        def page(n: int, size: int) -> list[dict[str, Any]]:
            reply = api("GET", "/v1/customer", params={"pageNumber": n, "pageSize": size})
            assert reply.status_code == 200
            return list(reply.json())

        assert [len(page(n, 5)) for n in (1, 2, 3, 4)] == [5, 5, 2, 0]
        assert len(page(1, 50)) == 5  # capped at maxPageSize
        assert [len(page(n, 4)) for n in (1, 2, 3)] == [4, 4, 4]
        first = page(1, 5)
        assert all(r["metadata"] == {"totalCount": 12, "maxPageSize": 5} for r in first)
        names = [r["name"] for n in (1, 2, 3) for r in page(n, 5)]
        assert names == [f"Kunde {i:02d}" for i in range(12)]
        assert api("GET", "/v1/customer", params={"pageNumber": 0}).status_code == 400


def test_last_modified_filter(empty_api: Api) -> None:
    api = empty_api
    api("POST", "/v1/customer", json={"name": {"value": "Old"}})
    time.sleep(1.1)
    cut = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    time.sleep(1.1)
    api("POST", "/v1/customer", json={"name": {"value": "New"}})

    def names(condition: str) -> list[str]:
        reply = api(
            "GET",
            "/v1/customer",
            params={"lastModifiedDateTime": cut, "lastModifiedDateTimeCondition": condition},
        )
        assert reply.status_code == 200, reply.text
        return [r["name"] for r in reply.json()]

    assert names(">") == names(">=") == ["New"]
    assert names("<") == names("<=") == ["Old"]
    alone = api("GET", "/v1/customer", params={"lastModifiedDateTime": cut})
    assert alone.status_code == 400


def test_list_filters_find_a_document_again(empty_api: Api) -> None:
    api = empty_api
    _invoice(api, lines=1, externalReference="WEB-1", customerRefNumber="PO-77")
    _invoice(api, lines=1, externalReference="WEB-2")
    found = api("GET", "/v1/customerinvoice", params={"externalReference": "WEB-2"}).json()
    assert [d["externalReference"] for d in found] == ["WEB-2"]
    found = api("GET", "/v1/customerinvoice", params={"customerRefNumber": "PO-77"}).json()
    assert [d["externalReference"] for d in found] == ["WEB-1"]
    assert [d["name"] for d in api("GET", "/v1/customer", params={"name": "K"}).json()] == ["K"]


# -------------------------------------------------------- ETag, If-Match


def test_etag_and_if_match_on_suppliers(api: Api) -> None:
    reply = api(
        "POST", "/v1/supplier", json={"number": {"value": "50000"}, "name": {"value": "Lev AS"}}
    )
    assert reply.status_code == 201 and reply.headers["ETag"]
    got = api("GET", "/v1/supplier/50000")
    etag = got.headers["ETag"]
    assert etag == f'"{got.json()["timeStamp"]}"'
    stale = api(
        "PUT",
        "/v1/supplier/50000",
        json={"name": {"value": "X"}},
        headers={"If-Match": '"bm90IHRoaXM="'},
    )
    assert stale.status_code == 412
    assert api("GET", "/v1/supplier/50000").json()["name"] == "Lev AS"
    ok = api(
        "PUT",
        "/v1/supplier/50000",
        json={"name": {"value": "Lev 2 AS"}},
        headers={"If-Match": etag},
    )
    assert ok.status_code == 204 and ok.headers["ETag"] != etag
    assert (
        api(
            "PUT", "/v1/supplier/50000", json={"name": {"value": "Y"}}, headers={"If-Match": etag}
        ).status_code
        == 412
    )


# ------------------------------------------------------------ rate limit


def test_rate_limit_headers_and_429() -> None:
    # A clock standing still 20 s into a window: the six calls share it.
    with Sandbox(SandboxConfig(rate_limit=5, rate_window=60, clock=lambda: 6020.0)) as sb:
        api = Api(sb)
        seen = [api("GET", "/v1/customer") for _ in range(6)]
        assert [r.status_code for r in seen] == [200] * 5 + [429]
        assert [int(r.headers["X-RateLimit-Remaining"]) for r in seen] == [4, 3, 2, 1, 0, 0]
        assert all(r.headers["X-RateLimit-Limit"] == "5" for r in seen)
        assert int(seen[0].headers["X-RateLimit-Reset"]) == 40
        assert int(seen[-1].headers["Retry-After"]) == 40
        other = Api(sb)  # same client and tenant: the same window
        assert other("GET", "/v1/customer").status_code == 429


def test_rate_limit_window_resets() -> None:
    now = [1000.0]
    with Sandbox(SandboxConfig(rate_limit=2, rate_window=60, clock=lambda: now[0])) as sb:
        api = Api(sb)
        while api("GET", "/v1/customer").status_code != 429:
            pass
        now[0] += 60.0  # the next window
        assert api("GET", "/v1/customer").status_code == 200


# ------------------------------------------------------------ background


def test_background_api(api: Api) -> None:
    reply = api(
        "POST",
        "/v1/customer",
        json={"name": {"value": "Bakgrunn AS"}},
        headers={"erp-api-background": "none"},
    )
    assert reply.status_code == 202
    accepted = reply.json()
    assert accepted["stateLocation"] == f"/v1/background/{accepted['id']}"
    state = api("GET", accepted["stateLocation"]).json()
    assert (state["status"], state["statusCode"]) == ("Finished", 201)
    number = state["responseHeaders"]["Location"].rsplit("/", 1)[-1]
    assert api("GET", f"/v1/customer/{number}").json()["name"] == "Bakgrunn AS"
    got = api("GET", f"/v1/customer/{number}", headers={"erp-api-background": "none"}).json()
    content = api("GET", f"/v1/background/{got['id']}/content")
    assert content.status_code == 200 and content.json()["name"] == "Bakgrunn AS"
    assert api("GET", "/v1/background/00000000-0000-0000-0000-000000000000").status_code == 404


def test_background_state_belongs_to_its_company() -> None:
    config = SandboxConfig(
        clients=(
            Client("demo", "demo-secret", {"demo-company": "company"}),
            Client("other", "other-secret", {"other-company": "company"}),
        )
    )
    with Sandbox(config) as sb:
        mine = Api(sb)
        theirs = Api(sb, client="other", secret="other-secret", tenant="other-company")
        accepted = mine("GET", "/v1/customer", headers={"erp-api-background": "none"}).json()
        assert theirs("GET", accepted["stateLocation"]).status_code == 403


# ---------------------------------------------------- actions, attachments


def test_release_changes_the_status() -> None:
    # Visma releases in the background: 200 "Queued" now, Open a little later.
    with Sandbox(SandboxConfig(release_seconds=0.05)) as sb:
        api = Api(sb)
        number = _invoice(api)
        assert api("GET", f"/v1/customerinvoice/{number}").json()["status"] == "Balanced"
        reply = api("POST", f"/v1/customerinvoice/{number}/action/release", json={})
        assert reply.status_code == 200 and reply.json()["actionResult"] == "Queued"
        deadline = time.monotonic() + 10
        while api("GET", f"/v1/customerinvoice/{number}").json()["status"] != "Open":
            assert time.monotonic() < deadline, "never released"
            time.sleep(0.02)
        held = _invoice(api, hold=True)
        again = api("POST", f"/v1/customerinvoice/{held}/action/release", json={})
        assert again.status_code == 200 and again.json()["actionResult"] == "Failed"
        assert "on hold" in again.json()["errorInfo"]


def test_create_dunning_letter(api: Api) -> None:
    api("POST", "/v1/customer", json={"number": {"value": "10000"}, "name": {"value": "K"}})
    reply = api(
        "POST",
        "/v1/customer/10000/action/createDunningLetter",
        json={"dunningLetterDate": "2025-01-21T09:39:48.538Z", "levelFrom": 1, "levelTo": 2},
    )
    assert reply.status_code == 200 and reply.json()["actionResult"] == "Done"
    assert api("POST", "/v1/customer/99/action/createDunningLetter", json={}).status_code == 404


def test_attachments(api: Api) -> None:
    number = _invoice(api)
    for _ in range(2):
        reply = api(
            "POST",
            f"/v1/customerinvoice/{number}/attachment",
            files={"file": ("faktura.pdf", b"%PDF-1.4 ...", "application/pdf")},
        )
        assert reply.status_code == 201
    listed = api("GET", f"/v1/customerinvoice/{number}").json()["attachments"]
    assert [(a["name"], a["revision"]) for a in listed] == [("faktura.pdf", 1), ("faktura.pdf", 2)]
    no_file = api(
        "POST",
        f"/v1/customerinvoice/{number}/attachment",
        data=b"x",
        headers={"Content-Type": "text/plain"},
    )
    assert no_file.status_code == 400


# ----------------------------------------------------------------- state


def test_state_in_a_file_survives_a_restart(tmp_path: Path) -> None:
    config = SandboxConfig(db=str(tmp_path / "sandbox.db"))
    with Sandbox(config) as sb:
        Api(sb)(
            "POST",
            "/v1/customer",
            json={"number": {"value": "10000"}, "name": {"value": "Varig AS"}},
        )
    with Sandbox(config) as sb:
        assert Api(sb)("GET", "/v1/customer/10000").json()["name"] == "Varig AS"


def test_in_memory_state_starts_empty() -> None:
    empty = SandboxConfig(company="empty")
    with Sandbox(empty) as sb:
        Api(sb)("POST", "/v1/customer", json={"name": {"value": "A"}})
    with Sandbox(empty) as sb:
        assert Api(sb)("GET", "/v1/customer").json() == []


# ---------------------------------------------------------------- faults


def _statuses(config: SandboxConfig, n: int) -> list[int]:
    with Sandbox(config) as sb:
        api = Api(sb)
        return [api("GET", "/v1/customer").status_code for _ in range(n)]


def test_injected_500_503_and_429_are_seeded_and_repeatable() -> None:
    faults = Faults(error_500=0.2, error_503=0.1, throttle_429=0.1, seed=7)
    first = _statuses(SandboxConfig(faults=faults), 200)
    assert first == _statuses(SandboxConfig(faults=faults), 200)
    share = {code: first.count(code) / 200 for code in (200, 429, 500, 503)}
    assert 0.12 < share[500] < 0.28 and 0.04 < share[503] < 0.17
    assert 0.04 < share[429] < 0.17 and 0.45 < share[200] < 0.75


def test_an_injected_429_says_when_to_retry() -> None:
    with Sandbox(SandboxConfig(faults=Faults(throttle_429=1.0))) as sb:
        reply = Api(sb)("GET", "/v1/customer")
        assert reply.status_code == 429 and reply.headers["Retry-After"] == "1"


def test_injected_latency() -> None:
    with Sandbox(SandboxConfig(faults=Faults(latency_ms=150))) as sb:
        api = Api(sb)
        started = time.perf_counter()
        api("GET", "/v1/customer")
        assert time.perf_counter() - started >= 0.15


def test_a_dropped_create_is_stored_but_unanswered() -> None:
    with Sandbox(SandboxConfig(company="empty", faults=Faults(drop_after_commit=1.0))) as sb:
        api = Api(sb)
        with pytest.raises(requests.ConnectionError):
            api("POST", "/v1/customer", json={"name": {"value": "Borte AS"}})
        assert [d["name"] for d in sb.documents("customer")] == ["Borte AS"]
        assert api("GET", "/v1/customer").status_code == 200  # reads are answered


def test_a_slow_answer_passes_the_client_timeout_but_the_work_is_done() -> None:
    config = SandboxConfig(company="empty", faults=Faults(slow=1.0, slow_seconds=1.0))
    with Sandbox(config) as sb:
        api = Api(sb)
        with pytest.raises(requests.Timeout):
            api("POST", "/v1/customer", json={"name": {"value": "Sen AS"}}, timeout=0.3)
        time.sleep(0.8)
        assert [d["name"] for d in sb.documents("customer")] == ["Sen AS"]


# ------------------------------------------------------------------- CLI


def test_vnimport_sandbox_runs_in_the_foreground(tmp_path: Path) -> None:
    from importer.sandbox.process import SandboxProcess

    with SandboxProcess("--db", str(tmp_path / "s.db"), "--company", "empty") as sb:
        assert f"http://127.0.0.1:{sb.port}" in sb.banner
        assert sb.post("/v1/customer", {"name": {"value": "Prosess AS"}}) == 201
    with SandboxProcess("--db", str(tmp_path / "s.db")) as sb:  # the state is in the file
        token = requests.post(
            sb.connection.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": "demo",
                "client_secret": "demo-secret",
                "tenant_id": "demo-company",
            },
            timeout=10,
        ).json()
        reply = requests.get(
            f"{sb.url}/v1/customer",
            timeout=10,
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        assert [c["name"] for c in reply.json()] == ["Prosess AS"]


def test_the_walkthrough_in_the_docs_runs_against_a_sandbox(sandbox: Sandbox) -> None:
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "examples/sandbox_walkthrough.py", sandbox.url],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "update a line: 204" in proc.stdout
    assert "a Visma error: 400 VismaId: " in proc.stdout
