"""The sandbox's demo company (issue 12), over real sockets: its lists on the
spec's paths in the spec's shapes, documents that refer to what the company
lacks or to a closed period refused with Visma's words, the company and its
documents kept by --db across a restart, and a user's own file imported into
``--target sandbox`` without creating its customers first."""

from __future__ import annotations

import argparse
import csv
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from conftest import ROOT, TYPES, VISMA_ERROR, Api, write_csv
from openapi import dto_errors, resolve, spec
from records import preview_records

from importer.batch import check
from importer.doctypes import Registry
from importer.sandbox import DEMO_TENANT, Sandbox, SandboxConfig, journal_beside
from importer.sandbox import company as C
from importer.sandbox import documents as D
from importer.sandbox.config import Client
from importer.sandbox.options import add_arguments, config_from
from importer.sandbox.process import SandboxProcess
from importer.sandbox.references import LISTS, References
from importer.sandbox.store import Store

REFUSED = VISMA_ERROR + (
    r"Error (creating|updating|inserting) (document|the customer|the supplier)\. Error: "
)


def w(value: Any) -> dict[str, Any]:
    return {"value": value}


@pytest.fixture(scope="module")
def demo() -> Iterator[Sandbox]:
    """One demo-company sandbox for the read-only tests of this module."""
    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def api(demo: Sandbox) -> Api:
    return Api(demo)


def invoice(customer: str = "11001", **line: Any) -> dict[str, Any]:
    """A customer invoice of one line, of the demo company's, with ``line`` overriding."""
    fields = {
        "inventoryNumber": "000123",
        "quantity": 2,
        "unitPriceInCurrency": 189.5,
        "accountNumber": "3000",
        "vatCodeId": "31",
        **line,
    }
    body_line: dict[str, Any] = {"operation": "Insert"}
    for key, value in fields.items():
        body_line[key] = value if key == "subaccount" else w(value)
    return {
        "customerNumber": w(customer),
        "documentDate": w("2025-03-10"),
        "invoiceLines": [body_line],
    }


def note(**line: Any) -> dict[str, Any]:
    """A credit or debit note of one line: as an invoice, with ``lines``."""
    body = invoice(**line)
    body["lines"] = body.pop("invoiceLines")
    return body


def supplier_invoice(**line: Any) -> dict[str, Any]:
    fields = {
        "inventoryNumber": "000457",
        "quantity": 1,
        "unitCostInCurrency": 1149,
        "accountNumber": "6800",
        "vatCodeId": "1",
        **line,
    }
    return {
        "supplierNumber": w("51002"),
        "supplierReference": w("F-1"),
        "date": w("2025-11-03"),
        "invoiceLines": [{"operation": "Insert", **{k: w(v) for k, v in fields.items()}}],
    }


# ------------------------------------------------------------ the lists


def _list_schema(path: str) -> dict[str, Any]:
    op = spec()["paths"][path]["get"]
    return resolve(op["responses"]["200"]["content"]["application/json"]["schema"])


@pytest.mark.parametrize("kind", sorted(LISTS))
def test_each_list_is_on_the_spec_s_paths_in_the_spec_s_shape(api: Api, kind: str) -> None:
    ref = LISTS[kind]
    paths = {p.lower(): p for p in spec()["paths"]}
    list_path = paths[f"/v1/{ref.collection}".lower()]
    one_paths = [
        p
        for low, p in paths.items()
        if re.fullmatch(rf"/v1/{ref.collection.lower()}/\{{[^}}/]+\}}", low)
    ]
    assert len(one_paths) == int(ref.one)
    schema = _list_schema(list_path)
    reply = api("GET", list_path, params={"pageSize": 100})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    if ref.envelope:  # BasePaginationDtoOf...: {pageNumber, pageSize, totalCount, records}
        assert schema["properties"]["records"]["items"]["$ref"].endswith(f"/{ref.dto}")
        assert set(body) == set(schema["properties"])
        assert body["totalCount"] == len(body["records"]) > 0
        records = body["records"]
    else:  # a bare array of the read DTO
        assert schema["type"] == "array" and schema["items"]["$ref"].endswith(f"/{ref.dto}")
        records = body
    assert records, f"the demo company has no {kind}"
    dto = resolve({"$ref": f"#/components/schemas/{ref.dto}"})
    has_metadata = not ref.envelope and "metadata" in dto["properties"]
    assert has_metadata is ref.metadata
    for record in records:
        assert not dto_errors(ref.dto, record), (kind, dto_errors(ref.dto, record)[:3])
        assert ("metadata" in record) is has_metadata
        if has_metadata:
            assert record["metadata"] == {"totalCount": len(records), "maxPageSize": 100}
    # one record by the path's {id}, without the list's metadata (where the spec has the path)
    first = records[0]
    key = str(first[ref.key])
    if not ref.one:
        assert api("GET", f"{list_path}/{key}").status_code == 404
        return
    one_path = one_paths[0]
    one = api("GET", one_path.split("{")[0] + quote(key, safe=""))
    assert one.status_code == 200, one.text
    assert one.json() == {k: v for k, v in first.items() if k != "metadata"}
    missing = api("GET", one_path.split("{")[0] + "NO-SUCH-ID")
    assert missing.status_code == 404
    assert re.match(
        VISMA_ERROR + f"{ref.title} 'NO-SUCH-ID' not found\\.$", missing.json()["message"]
    )


def test_customers_and_suppliers_of_the_company_are_read_dtos(api: Api) -> None:
    customers = api("GET", "/v1/customer").json()
    suppliers = api("GET", "/v1/supplier").json()
    assert [c["number"] for c in customers] == [f"{n}" for n in range(11001, 11013)]
    assert [s["number"] for s in suppliers] == [f"{n}" for n in range(51000, 51011)]
    for record, dto in [(c, "CustomerDto") for c in customers] + [
        (s, "SupplierDto") for s in suppliers
    ]:
        record = {k: v for k, v in record.items() if k != "timeStamp"}  # the live API has it
        assert not dto_errors(dto, record), dto_errors(dto, record)[:3]
    assert customers[0]["name"] == "Fjellbekk Kafé AS" and customers[0]["currencyId"] == "NOK"
    assert {c["currencyId"] for c in customers} == {"NOK", "SEK", "EUR"}


def test_the_company_is_norwegian(api: Api) -> None:
    vat = {v["vatId"]: v for v in api("GET", "/v1/vat").json()}
    rates = {k: v["schedules"][0]["vatRate"] for k, v in vat.items()}
    assert rates["3"] == 25.0 and rates["31"] == 15.0 and rates["33"] == 12.0
    assert rates["5"] == rates["6"] == rates["52"] == 0.0
    assert rates["1"] == 25.0 and vat["1"]["deductibleVat"] and not vat["3"]["deductibleVat"]
    accounts = {a["accountCD"]: a for a in api("GET", "/v1/account").json()}
    assert {"1500", "1920", "2400", "2700", "3000", "4000", "4300"} <= set(accounts)
    assert accounts["3000"]["type"] == "Income" and accounts["1920"]["cashAccount"] is True
    [base] = [c for c in api("GET", "/v1/currency").json() if c["isBaseCurrency"]]
    assert base["id"] == "NOK"
    periods = api("GET", "/v1/financialPeriod").json()
    closed = [p["period"] for p in periods if p["closedInCustomerLedger"]]
    assert closed == ["202412"] and len(periods) == 36


def test_list_filters_and_paging_of_the_company_s_lists(api: Api) -> None:
    def get(path: str, **params: Any) -> Any:
        reply = api("GET", path, params=params)
        assert reply.status_code == 200, reply.text
        return reply.json()

    items = get("/v1/inventory", pageSize=100)
    pages = [get("/v1/inventory", pageNumber=n, pageSize=10) for n in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [10, 10, len(items) - 20, 0]
    assert [i["inventoryNumber"] for p in pages for i in p] == [i["inventoryNumber"] for i in items]
    assert pages[0][0]["metadata"] == {"totalCount": len(items), "maxPageSize": 100}
    coffee = get("/v1/inventory", description="KAFFE")  # contains, any case
    assert coffee and all("kaffe" in i["description"].lower() for i in coffee)
    assert [i["inventoryNumber"] for i in get("/v1/inventory", inventoryNumber="frakt")] == [
        "FRAKT"
    ]
    assert all(a["accountCD"] > "7000" for a in get("/v1/account", greaterThanValue="7000"))
    later = get("/v1/financialPeriod", greaterThanValue="2025")
    assert [p["period"] for p in later] == [f"2026{m:02d}" for m in range(1, 13)]
    assert [p["period"] for p in get("/v1/financialPeriod", greaterThanValue="202610")] == [
        "202611",
        "202612",
    ]
    terms = get("/v1/creditTerm", pageNumber=2, pageSize=4)
    assert (terms["pageNumber"], terms["pageSize"], terms["totalCount"]) == (2, 4, 9)
    assert len(terms["records"]) == 4
    assert [t["termsId"] for t in get("/v1/creditTerm", termsId="30d")["records"]] == ["30D"]
    assert [p["projectID"] for p in get("/v1/project", status="Completed")] == ["P2001"]
    since = {"lastModifiedDateTime": "2025-01-03", "lastModifiedDateTimeCondition": ">"}
    assert get("/v1/inventory", **since) == []  # the company was made before
    assert len(get("/v1/vat", **{**since, "lastModifiedDateTimeCondition": "<"})) == 11
    alone = api("GET", "/v1/inventory", params={"lastModifiedDateTime": "2025-01-03"})
    assert alone.status_code == 400
    assert api("GET", "/v1/account", params={"active": "kanskje"}).status_code == 400


def test_the_lists_are_read_only(api: Api) -> None:
    for method, path in (("POST", "/v1/inventory"), ("PUT", "/v1/vat/3"), ("POST", "/v1/vat/3")):
        reply = api(method, path, json={"description": w("x")})
        assert reply.status_code == 405, (method, path)
    assert api("GET", "/v1/vat/3").json()["description"].startswith("Utgående")


# ---------------------------------------------------- what the samples use


def test_the_company_has_everything_the_samples_refer_to_but_their_parties(
    samples_dir: Path,
) -> None:
    """Every sample document, with the samples' own customers and suppliers,
    passes the company's checks; and those customers and suppliers are not
    the company's, so that ``vnimport demo`` creates them."""
    records = C.records()
    refs = References({k: v for k, v in records.items() if k in LISTS})
    parties = {r["number"] for r in records["customer"] + records["supplier"]}
    registry = Registry()
    for name in (n for n in TYPES if n in D.KINDS):  # the kinds the sandbox serves
        kind = D.KINDS[name]
        for record in preview_records(check(samples_dir / f"{name}.csv", registry.get(name))):
            body = record["body"]
            number = str((body.get(kind.number_field) or {}).get("value") or "1")
            doc = D.create(  # BusinessError if the company lacks anything it names
                kind,
                body,
                number=number,
                now=C.SEEDED,
                lookup=lambda k, n: {"number": n, "name": "Part"},
                check=refs.problems,
            )
            assert doc[kind.read_number] == number
            if name in ("customer", "supplier"):
                assert number not in parties


# --------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        (
            "/v2/customerinvoice",
            invoice(inventoryNumber="000999"),
            "Line 1: Item '000999' cannot be found in the system.",
        ),
        (
            "/v2/customerinvoice",
            invoice(vatCodeId="Høy sats"),
            "Line 1: VAT code 'Høy sats' cannot be found in the system.",
        ),
        (
            "/v2/customerinvoice",
            invoice(accountNumber="9999"),
            "Line 1: Account '9999' cannot be found in the system.",
        ),
        (
            "/v2/customerinvoice",
            invoice(subaccount=[{"segmentId": 1, "segmentValue": "99"}]),
            "Line 1: Subaccount '99': Avdeling '99' (segment 1) does not exist.",
        ),
        (
            "/v2/customerinvoice",
            invoice(branchNumber="7"),
            "Line 1: Branch '7' cannot be found in the system.",
        ),
        (
            "/v2/customerinvoice",
            {**invoice(), "currencyId": w("XYZ"), "project": w("P9999")},
            "Currency 'XYZ' cannot be found in the system. "
            "Project 'P9999' cannot be found in the system.",
        ),
        (
            "/v2/customerinvoice",
            {**invoice(), "creditTermsId": w("90"), "customerVatZoneId": w("99")},
            "Credit terms '90' cannot be found in the system. "
            "VAT zone '99' cannot be found in the system.",
        ),
        (
            "/v2/customerinvoice",
            {**invoice(), "taxDetailLines": [{"taxId": w("25")}]},
            "VAT details: VAT code '25' cannot be found in the system.",
        ),
        (
            "/v2/customerCreditNote",
            note(inventoryNumber="X1"),
            "Line 1: Item 'X1' cannot be found in the system.",
        ),
        (
            "/v2/customerDebitNote",
            note(vatCodeId="99"),
            "Line 1: VAT code '99' cannot be found in the system.",
        ),
        (
            "/v1/supplierInvoice",
            supplier_invoice(inventoryNumber="000999", accountNumber="6801"),
            "Line 1: Item '000999' cannot be found in the system. "
            "Line 1: Account '6801' cannot be found in the system.",
        ),
        (
            "/v1/supplierInvoice",
            supplier_invoice(vatCodeId="3x", projectId="P0"),
            "Line 1: VAT code '3x' cannot be found in the system. "
            "Line 1: Project 'P0' cannot be found in the system.",
        ),
        (
            "/v1/purchaseorder",
            {
                "supplier": w("51001"),
                "date": w("2025-11-10"),
                "lines": [
                    {
                        "operation": "Insert",
                        "inventory": w("000999"),
                        "account": w("4301"),
                        "orderQty": w(1),
                        "unitCost": w(10),
                    }
                ],
            },
            "Line 1: Item '000999' cannot be found in the system. "
            "Line 1: Account '4301' cannot be found in the system.",
        ),
        (
            "/v1/customer",
            {"name": w("Ny Kunde AS"), "currencyId": w("NKR"), "creditTermsId": w("31")},
            "Currency 'NKR' cannot be found in the system. "
            "Credit terms '31' cannot be found in the system.",
        ),
        (
            "/v1/supplier",
            {"name": w("Ny Lev AS"), "glAccounts": w({"expenseAccount": w("6999")})},
            "glAccounts.expenseAccount: Account '6999' cannot be found in the system.",
        ),
        (
            "/v2/customerinvoice",
            invoice(customer="10099"),
            "Customer '10099' cannot be found in the system.",
        ),
    ],
)
def test_an_unknown_reference_is_refused_with_vismas_words(
    path: str, body: dict[str, Any], says: str
) -> None:
    with Sandbox() as sb:
        before = {name: sb.count(name) for name in TYPES}
        reply = Api(sb)("POST", path, json=body)
        assert reply.status_code == 400, reply.text
        message = reply.json()["message"]
        assert re.match(REFUSED, message), message
        assert message.endswith("Error: " + says), message
        assert {name: sb.count(name) for name in TYPES} == before  # nothing stored


def test_what_the_company_has_is_taken_in_any_case(api: Api) -> None:
    line = {"inventoryNumber": "frakt", "vatCodeId": "3", "accountNumber": "3010"}
    subaccount = [{"segmentId": 1, "segmentValue": "10"}, {"segmentId": 2, "segmentValue": "200"}]
    body = {
        **invoice(**line, subaccount=subaccount, branchNumber="1"),
        "currencyId": w("nok"),
        "creditTermsId": w("30d"),
        "project": w("prj-0042"),
    }
    reply = api("POST", "/v2/customerinvoice", json=body)
    assert reply.status_code == 201, reply.text


def test_an_update_is_checked_too_and_changes_nothing_when_refused(api: Api) -> None:
    created = api("POST", "/v2/customerinvoice", json=invoice())
    number = created.headers["Location"].rsplit("/", 1)[-1]
    put = api(
        "PUT",
        f"/v1/customerinvoice/{number}",
        json={
            "invoiceLines": [
                {"operation": "Update", "lineNumber": w(1), "inventoryNumber": w("NOPE")}
            ]
        },
    )
    assert put.status_code == 400
    assert put.json()["message"].endswith(
        "Error updating document. Error: Line 1: Item 'NOPE' cannot be found in the system."
    )
    doc = api("GET", f"/v1/customerinvoice/{number}").json()
    assert doc["invoiceLines"][0]["inventoryNumber"] == "000123"


def test_every_problem_of_a_document_is_named_header_first(api: Api) -> None:
    body = invoice(inventoryNumber="A", vatCodeId="B")
    body["invoiceLines"].append({**body["invoiceLines"][0], "inventoryNumber": w("000123")})
    body["currencyId"] = w("ABC")
    message = api("POST", "/v2/customerinvoice", json=body).json()["message"]
    assert message.split("Error: ", 1)[1] == (
        "Currency 'ABC' cannot be found in the system. "
        "Line 1: Item 'A' cannot be found in the system. "
        "Line 1: VAT code 'B' cannot be found in the system. "
        "Line 2: VAT code 'B' cannot be found in the system."
    )


# --------------------------------------------------------- closed period


def test_a_date_in_a_closed_period_is_refused(api: Api) -> None:
    ar = {**invoice(), "documentDate": w("2024-12-20")}
    reply = api("POST", "/v2/customerinvoice", json=ar)
    assert reply.status_code == 400
    assert reply.json()["message"].endswith(
        "Error: The financial period 12-2024 is closed in the customer ledger."
    )
    # a post period given is the one that counts; a closed one is refused whatever the date
    posted = api("POST", "/v2/customerinvoice", json={**invoice(), "postPeriod": w("122024")})
    assert posted.status_code == 400 and "12-2024 is closed" in posted.json()["message"]
    moved = {**ar, "postPeriod": w("012025"), "financialPeriod": w("202501")}
    assert api("POST", "/v2/customerinvoice", json=moved).status_code == 201
    ap = {**supplier_invoice(), "date": w("2024-12-05")}
    reply = api("POST", "/v1/supplierInvoice", json=ap)
    assert reply.status_code == 400
    assert reply.json()["message"].endswith(
        "Error: The financial period 12-2024 is closed in the supplier ledger."
    )
    # the periods around it are open; a period the company has not set up is taken
    for day in ("2024-11-30", "2025-01-01", "2031-06-01", "2019-10-30"):
        ok = api("POST", "/v2/customerinvoice", json={**invoice(), "documentDate": w(day)})
        assert ok.status_code == 201, (day, ok.text)
    # a purchase order posts nothing: its date is not checked
    po = {
        "supplier": w("51001"),
        "date": w("2024-12-20"),
        "lines": [{"operation": "Insert", "inventory": w("000560"), "orderQty": w(1)}],
    }
    assert api("POST", "/v1/purchaseorder", json=po).status_code == 201


# ----------------------------------------------------------- the switches


def test_without_reference_checks_only_customers_and_suppliers_are_checked() -> None:
    with Sandbox(SandboxConfig(check_references=False)) as sb:
        api = Api(sb)
        odd = {
            **invoice(inventoryNumber="V0", vatCodeId="Høy sats"),
            "documentDate": w("2024-12-01"),
        }
        assert api("POST", "/v2/customerinvoice", json=odd).status_code == 201
        assert api("POST", "/v2/customerinvoice", json=invoice(customer="10099")).status_code == 400
        assert len(api("GET", "/v1/inventory").json()) == len(C.records()["inventory"])


def test_an_empty_company_has_no_lists_and_checks_only_parties() -> None:
    with Sandbox(SandboxConfig(company="empty")) as sb:
        api = Api(sb)
        for ref in LISTS.values():
            body = api("GET", f"/v1/{ref.collection}").json()
            assert (body["records"] if ref.envelope else body) == []
        assert sb.count("customer") == sb.count("supplier") == 0
        assert api("POST", "/v2/customerinvoice", json=invoice()).status_code == 400  # no 11001
        api("POST", "/v1/customer", json={"number": w("11001"), "name": w("Egen AS")})
        odd = invoice(inventoryNumber="V0", vatCodeId="Høy sats", accountNumber="1")
        assert api("POST", "/v2/customerinvoice", json=odd).status_code == 201


def test_another_company_tenant_starts_empty() -> None:
    clients = (
        *SandboxConfig().clients,
        Client("app", "app-secret", {"acme": "company"}),
    )
    with Sandbox(SandboxConfig(clients=clients)) as sb:
        acme = Api(sb, client="app", secret="app-secret", tenant="acme")
        assert acme("GET", "/v1/inventory").json() == []
        assert acme("GET", "/v1/customer").json() == []
        assert sb.count("customer", tenant="acme") == 0
        assert len(Api(sb)("GET", "/v1/customer").json()) == 12
        assert sb.count("customer") == 12  # the demo company's, in demo-company


def test_the_options_of_vnimport_sandbox() -> None:
    def parse(*argv: str) -> SandboxConfig:
        p = argparse.ArgumentParser()
        add_arguments(p)
        return config_from(p.parse_args(list(argv)))

    assert (parse().company, parse().check_references) == ("demo", True)
    config = parse("--company", "empty", "--no-reference-checks")
    assert (config.company, config.check_references) == ("empty", False)
    assert (SandboxConfig().company, SandboxConfig().check_references) == ("demo", True)


def test_two_sandboxes_hold_the_same_company() -> None:
    with Sandbox() as one, Sandbox() as two:
        for kind in ("customer", "supplier", *LISTS):
            assert one.documents(kind) == two.documents(kind), kind
    assert C.records() == C.records()


# ----------------------------------------------------------- kept state


def _token(url: str) -> str:
    reply = requests.post(
        f"{url}/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "demo",
            "client_secret": "demo-secret",
            "tenant_id": DEMO_TENANT,
        },
        timeout=10,
    )
    return str(reply.json()["access_token"])


def _http(url: str) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {_token(url)}"
    return http


def test_db_keeps_the_company_and_its_documents_across_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "sb.db")
    with SandboxProcess("--db", db) as sb:
        http = _http(sb.url)
        assert http.post(f"{sb.url}/v2/customerinvoice", json=invoice(), timeout=10).ok
        renamed = http.put(
            f"{sb.url}/v1/customer/11002",
            json={"name": w("Nordkapp Hotell Holding AS")},
            timeout=10,
        )
        assert renamed.status_code == 204
        assert http.post(f"{sb.url}/v1/customer", json={"name": w("Ny AS")}, timeout=10).ok
    # restarted, even asked for an empty company: the file keeps its own
    with SandboxProcess("--db", db, "--company", "empty") as sb:
        http = _http(sb.url)
        customers = http.get(f"{sb.url}/v1/customer", timeout=10).json()
        assert len(customers) == 13 and customers[-1]["name"] == "Ny AS"
        assert http.get(f"{sb.url}/v1/customer/11002", timeout=10).json()["name"] == (
            "Nordkapp Hotell Holding AS"  # not given again over the change
        )
        [doc] = http.get(f"{sb.url}/v1/customerinvoice", timeout=10).json()
        assert doc["customer"] == {"number": "11001", "name": "Fjellbekk Kafé AS"}
        assert len(http.get(f"{sb.url}/v1/vat", timeout=10).json()) == 11
        refused = http.post(
            f"{sb.url}/v2/customerinvoice", json=invoice(inventoryNumber="000999"), timeout=10
        )
        assert refused.status_code == 400  # the kept company is still checked
    # and an empty state file stays empty
    empty = str(tmp_path / "empty.db")
    with SandboxProcess("--db", empty, "--company", "empty") as sb:
        assert _http(sb.url).get(f"{sb.url}/v1/customer", timeout=10).json() == []
    with SandboxProcess("--db", empty) as sb:
        assert _http(sb.url).get(f"{sb.url}/v1/inventory", timeout=10).json() == []


def test_a_state_file_from_before_the_company_gets_what_it_lacks(tmp_path: Path) -> None:
    db = str(tmp_path / "old.db")
    store = Store(db)
    with store.transaction() as conn:  # a customer of the user's, under a demo number
        store.put(conn, DEMO_TENANT, "customer", "11001", {"number": "11001", "name": "Min AS"})
    store.close()
    with sqlite3.connect(db) as conn:  # as a file from before: no company recorded
        conn.execute("DROP TABLE meta")
    with Sandbox(SandboxConfig(db=db)) as sb:
        api = Api(sb)
        assert api("GET", "/v1/customer/11001").json()["name"] == "Min AS"  # kept
        assert api("GET", "/v1/customer/11002").json()["name"] == "Nordkapp Hotell AS"  # added
        assert sb.count("customer") == 12
        assert api("GET", "/v1/inventory/000123").status_code == 200


def test_the_journal_beside_a_kept_sandbox() -> None:
    assert journal_beside("sb.db") == Path("sb.journal.sqlite")
    assert journal_beside(Path("/srv/state/sandbox.sqlite")) == Path(
        "/srv/state/sandbox.journal.sqlite"
    )
    assert journal_beside("state") == Path("state.journal.sqlite")
    assert journal_beside("a.b/state") == Path("a.b/state.journal.sqlite")
    for nothing in (":memory:", ""):
        with pytest.raises(ValueError, match="keeps nothing"):
            journal_beside(nothing)


# ------------------------------------------------------ a user's own file


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "importer", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


HEADER: list[object] = [
    "Fakturanummer",
    "Kundenummer",
    "Fakturadato",
    "Varenummer",
    "Beskrivelse",
    "Antall",
    "Enhetspris",
    "MVA-kode",
    "Konto",
]


def test_a_new_user_s_own_file_imports_into_target_sandbox_without_creating_customers(
    tmp_path: Path,
) -> None:
    rows: list[list[object]] = [
        list(HEADER),
        [
            "F-1",
            "11001",
            "2025-03-10",
            "000123",
            "Kaffe, hele bønner",
            "12",
            "189.50",
            "31",
            "3000",
        ],
        ["F-1", "11001", "2025-03-10", "FRAKT", "Frakt Bergen", "1", "450", "3", "3010"],
        ["F-2", "11007", "2025-03-11", "SERVICE", "Service, 2 timer", "2", "1250", "3", "3100"],
        ["F-3", "11011", "2025-03-12", "000990", "Kaffekvern", "1", "14900", "52", "3200"],
    ]
    src = write_csv(tmp_path / "mine.csv", rows)
    proc = _run(
        "run", str(src), "--type", "customer_invoice", "--target", "sandbox",
        "--report", str(tmp_path / "out" / "mine"), cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((tmp_path / "out" / "mine.json").read_text(encoding="utf-8"))
    assert summary["counts"] == {"created": 4}, summary


def test_a_new_user_s_mistakes_come_back_in_vismas_words(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        list(HEADER),
        ["F-1", "11001", "2025-03-10", "000123", "Kaffe", "1", "189.50", "31", "3000"],
        ["F-2", "11001", "2025-03-10", "000999", "Ukjent vare", "1", "10", "Høy sats", "3000"],
        ["F-3", "11002", "2024-12-20", "000123", "Kaffe i desember", "1", "10", "31", "3000"],
        ["F-4", "99999", "2025-03-10", "000123", "Kaffe", "1", "10", "31", "3000"],
    ]
    src = write_csv(tmp_path / "mine.csv", rows)
    report = tmp_path / "out" / "mine"
    proc = _run(
        "run", str(src), "--type", "customer_invoice", "--target", "sandbox",
        "--report", str(report), cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr

    with report.with_suffix(".csv").open(encoding="utf-8-sig", newline="") as fh:
        by_key = {r["key"]: r for r in csv.DictReader(fh)}
    assert by_key["F-1"]["status"] == "created"
    assert {by_key[k]["status"] for k in ("F-2", "F-3", "F-4")} == {"failed"}
    assert "Item '000999' cannot be found in the system." in by_key["F-2"]["message"]
    assert "VAT code 'Høy sats' cannot be found in the system." in by_key["F-2"]["message"]
    assert "financial period 12-2024 is closed" in by_key["F-3"]["message"]
    assert "Customer '99999' cannot be found in the system." in by_key["F-4"]["message"]


def test_the_readme_shows_how_to_try_a_file_of_one_s_own() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("#### Try your own file", 1)[1].split("\n## ", 1)[0]
    assert "--target sandbox" in section and "11001" in section
    assert f"--journal {journal_beside('try.db')}" in section  # what `vnimport sandbox` prints
