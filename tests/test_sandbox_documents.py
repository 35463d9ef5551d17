"""The sandbox's document model (importer/sandbox/documents.py): the read DTO
it builds from each bundled sample, partial updates, line operations,
business rules, release and list filters."""

from __future__ import annotations

import copy
import functools
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import TYPES
from openapi import dto_errors, resolve, spec
from records import preview_records

from importer.batch import check
from importer.doctypes import Registry
from importer.sandbox import documents as D
from importer.sandbox.documents import KINDS, BusinessError, Kind

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
NOW = datetime(2025, 5, 1, 12, 0, 0)
LATER = NOW + timedelta(minutes=5)
PARTY_FIELD = {"customerNumber": "customer", "supplierNumber": "supplier"}
# The live API has ETags (timeStamp) on these too (visma-api-notes.md §7, release
# notes 10.64-10.73); the 2025 spec's read DTOs do not have the field yet.
LIVE_ETAG = {"customer", "customer_invoice", "customer_credit_note", "customer_debit_note"}


@functools.cache
def sample_bodies(name: str) -> list[dict[str, Any]]:
    doctype = Registry().get(name)
    return [rec["body"] for rec in preview_records(check(SAMPLES / f"{name}.csv", doctype))]


class Store:
    """A dict-backed store with the lookup the server passes."""

    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}

    def lookup(self, kind: str, number: str) -> dict[str, Any] | None:
        return self.docs.get((kind, number))

    def party(self, kind: str, number: str, **extra: Any) -> dict[str, Any]:
        if (kind, number) not in self.docs:
            body = {"name": {"value": f"{kind.title()} {number}"}, **extra}
            self.docs[(kind, number)] = D.create(
                KINDS[kind], body, number=number, now=NOW, lookup=self.lookup
            )
        return self.docs[(kind, number)]

    def create(self, name: str, body: dict[str, Any], number: str) -> dict[str, Any]:
        """Create the customers/suppliers the body names, then the document."""
        kind = KINDS[name]
        for field, party in PARTY_FIELD.items():
            if field in body and name not in ("customer", "supplier"):
                self.party(party, body[field]["value"])
        if name == "purchase_order" and "supplier" in body:
            self.party("supplier", body["supplier"]["value"])
        doc = D.create(kind, body, number=number, now=NOW, lookup=self.lookup)
        self.docs[(name, number)] = doc
        return doc

    def update(self, name: str, number: str, body: dict[str, Any]) -> dict[str, Any]:
        doc = D.update(KINDS[name], self.docs[(name, number)], body, now=LATER, lookup=self.lookup)
        self.docs[(name, number)] = doc
        return doc


def created(name: str) -> tuple[Store, list[dict[str, Any]]]:
    store = Store()
    docs = [store.create(name, body, f"D{i}") for i, body in enumerate(sample_bodies(name))]
    return store, docs


def w(value: Any) -> dict[str, Any]:
    return {"value": value}


# ------------------------------------------------ the read DTO of the spec


def unknown_keys(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """Every key of ``value`` (at any depth) that the schema does not declare."""
    schema = resolve(schema)
    if isinstance(value, dict):
        props = schema.get("properties")
        assert props is not None, f"{path or '(root)'}: an object where the spec has none"
        out = []
        for key, sub in value.items():
            if key not in props:
                out.append(f"{path}/{key}")
            else:
                out += unknown_keys(props[key], sub, f"{path}/{key}")
        return out
    if isinstance(value, list):
        assert schema.get("type") == "array", f"{path}: a list where the spec has none"
        return [
            k for i, v in enumerate(value) for k in unknown_keys(schema["items"], v, f"{path}[{i}]")
        ]
    return []


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((depth(v) for v in value), default=0)
    return 0


@pytest.mark.parametrize("name", TYPES)
def test_every_key_of_every_sample_document_is_in_the_read_dto(name: str) -> None:
    kind = KINDS[name]
    _, docs = created(name)
    assert docs
    root = {"$ref": f"#/components/schemas/{kind.read_dto}"}
    for doc in docs:
        if name in LIVE_ETAG:
            assert doc["timeStamp"]
            doc = {k: v for k, v in doc.items() if k != "timeStamp"}
        assert unknown_keys(root, doc) == []
        assert dto_errors(kind.read_dto, doc) == []  # types, enums and formats too
        assert depth(doc) >= 2  # nested objects were walked, not only the top level
        if kind.read_lines:
            assert doc[kind.read_lines], "every sample has lines"


@pytest.mark.parametrize("name", TYPES)
def test_kinds_name_the_spec_paths_and_schemas(name: str) -> None:
    kind = KINDS[name]
    paths = spec()["paths"]
    schemas = spec()["components"]["schemas"]
    assert f"/v1/{kind.collection}" in paths
    assert D.kind_for_collection(kind.collection.upper()) is kind
    assert kind.read_dto in schemas and kind.update_dto in schemas
    request = schemas[kind.update_dto]["properties"]
    read = schemas[kind.read_dto]["properties"]
    assert kind.number_field in request and kind.read_number in read
    assert ("timeStamp" in read or name in LIVE_ETAG) == kind.etag
    prefix = f"/v1/{kind.collection}/".lower()
    below = {
        re.sub(r"\{\w+\}", "{}", p.lower()[len(prefix) :])
        for p in paths
        if p.lower().startswith(prefix)
    }
    assert ("{}/attachment" in below) == kind.attachable  # .../{number}/attachment
    if kind.lines:
        assert kind.lines in request and kind.read_lines in read
        line_schema = resolve(read[kind.read_lines]["items"])
        assert kind.read_line_number in line_schema["properties"]
        request_line = resolve(request[kind.lines]["items"])
        assert kind.line_number in request_line["properties"]
    with pytest.raises(KeyError):
        D.kind_for_collection("nosuchthing")


def test_a_customer_invoice_reads_as_visma_shows_it() -> None:
    _, docs = created("customer_invoice")
    doc = docs[0]
    assert doc["referenceNumber"] == "D0"
    assert doc["customer"] == {"number": "010104", "name": "Customer 010104"}
    assert doc["documentType"] == "Invoice"
    assert doc["status"] == "Balanced" and doc["hold"] is False
    assert doc["documentDate"] == "2025-03-03T00:00:00"
    assert doc["financialPeriod"] == "202503"
    assert doc["attachments"] == []
    assert doc["createdDateTime"] == doc["lastModifiedDateTime"] == "2025-05-01T12:00:00.000"
    assert doc["timeStamp"]  # the live API's ETag
    first, second, third = doc["invoiceLines"]
    assert first["vatCode"] == {"id": "3"} and first["account"] == {"number": "3000"}
    assert first["subaccount"]["subaccountNumber"] == "00-0100"
    assert first["amountInCurrency"] == 2274.0  # 12 x 189.50
    assert second["discountAmountInCurrency"] == 49.8  # 5 % of 40 x 24.90
    assert second["amountInCurrency"] == 946.2
    assert third["amountInCurrency"] == 450.0
    assert doc["detailTotalInCurrency"] == doc["amountInCurrency"] == 3670.2
    assert doc["balanceInCurrency"] == doc["balance"] == 3670.2
    assert doc["vatTotal"] == 0.0  # no VAT codes in the sandbox


def test_amounts_in_base_currency_use_the_exchange_rate() -> None:
    _, docs = created("customer_debit_note")
    sek = docs[3]
    assert sek["currencyId"] == "SEK" and sek["exchangeRate"] == 0.9875
    assert sek["amountInCurrency"] == 6 * 420 + 850
    assert sek["amount"] == round((6 * 420 + 850) * 0.9875, 2)
    assert sek["invoiceAddress"]["country"] == {"id": "SE"}
    assert sek["invoiceAddress"]["overrideAddress"] is True


def test_read_names_differ_from_the_request_where_the_spec_says_so() -> None:
    _, invoices = created("customer_invoice")
    store = Store()
    body = copy.deepcopy(sample_bodies("customer_invoice")[0])
    body["billingAddress"] = w(
        {"overrideAddress": w(True), "city": w("Bergen"), "countryId": w("NO")}
    )
    body["invoiceContact"] = w(
        {"overrideContact": w(True), "name": w("Kari"), "email": w("k@x.no")}
    )
    doc = store.create("customer_invoice", body, "1")
    assert doc["invoiceAddress"] == {
        "overrideAddress": True,
        "city": "Bergen",
        "country": {"id": "NO"},
    }
    assert doc["invoiceContact"] == {
        "overrideContact": True,
        "businessName": "Kari",
        "email": "k@x.no",
    }
    assert "billingAddress" not in doc and "customerNumber" not in doc

    _, credit = created("customer_credit_note")
    assert credit[0]["postPeriod"] == "202503"  # sent as MMYYYY "032025"
    assert credit[0]["documentType"] == "CreditNote" and "lines" in credit[0]

    _, orders = created("purchase_order")
    po = orders[0]
    assert po["orderNbr"] == "D0" and "orderNumber" not in po
    assert [line["lineNbr"] for line in po["lines"]] == [1, 2, 3]
    assert po["lines"][0]["inventory"] == {"number": "000123"}
    assert po["lines"][0]["warehouse"] == {"id": "1"}
    assert po["currency"] == "NOK" and po["terms"] == {"id": "30D"}
    assert po["supplier"] == {"number": "050014", "name": "Supplier 050014"}
    assert po["status"] == "Open"
    assert po["lines"][2]["extCost"] == 3840.0 and po["lines"][2]["amount"] == 3648.0
    assert po["lineTotal"] == 25 * 189 + 100 * 39.9 + 3648
    assert "createdDateTime" not in po and "attachments" not in po
    assert orders[1]["shippingAddress"]["overrideAddress"] is True

    _, bills = created("supplier_invoice")
    bill = bills[0]
    assert bill["supplier"]["number"] == "050010"
    assert bill["postPeriod"] == "112025"  # the supplier ledger keeps MMYYYY
    assert bill["invoiceLines"][2]["costInCurrency"] == 149.0  # sent as an amount
    assert bill["amount"] == 20 * 54.5 + 2068.2 + 149
    assert bills[2]["documentType"] == "CreditAdj"
    assert bills[3]["status"] == "Hold"
    assert bill["timeStamp"] and bill["attachments"] == []

    _, customers = created("customer")
    assert customers[0]["customerClass"] == {"id": "1"}
    assert customers[0]["mainAddress"]["country"] == {"id": "NO"}
    assert customers[3]["status"] == "OnHold"
    assert "note" not in customers[1]  # CustomerDto has no note
    _, suppliers = created("supplier")
    assert suppliers[0]["glAccounts"] == {"expenseAccount": {"number": "6800"}}
    assert suppliers[2]["note"] == "Fraktavtale 2025"
    assert suppliers[0]["timeStamp"] and "createdDateTime" not in suppliers[0]
    assert invoices[0]["invoiceLines"][0]["lineNumber"] == 1


def test_defaults_when_the_request_leaves_things_out() -> None:
    store = Store()
    store.party("customer", "C1", currencyId=w("EUR"), creditTermsId=w("14"))
    doc = store.create(
        "customer_invoice",
        {"customerNumber": w("C1"), "invoiceLines": [{"description": w("Work")}]},
        "9",
    )
    assert doc["documentDate"] == "2025-05-01T00:00:00"  # the business date
    assert doc["postPeriod"] == doc["financialPeriod"] == "202505"
    assert doc["currencyId"] == "EUR" and doc["creditTerms"] == {"id": "14"}
    assert doc["invoiceLines"][0]["lineNumber"] == 1
    assert doc["invoiceLines"][0]["amountInCurrency"] == 0.0
    assert store.docs[("customer", "C1")]["status"] == "Active"


# ------------------------------------------------------------------ lines


def test_lines_are_numbered_from_one_or_as_given() -> None:
    for name in TYPES:
        kind = KINDS[name]
        if not kind.read_lines:
            continue
        _, docs = created(name)
        for doc in docs:
            numbers = [line[kind.read_line_number] for line in doc[kind.read_lines]]
            assert numbers == list(range(1, len(numbers) + 1)), name
    store = Store()
    body = copy.deepcopy(sample_bodies("customer_invoice")[0])
    first, second, third = body["invoiceLines"]
    first["lineNumber"] = w(5)
    third["lineNumber"] = w(5)  # taken: goes after the highest
    del second["operation"]  # absent means Insert
    doc = store.create("customer_invoice", body, "1")
    assert [line["lineNumber"] for line in doc["invoiceLines"]] == [5, 6, 7]


def test_create_accepts_only_insert() -> None:
    store = Store()
    body = copy.deepcopy(sample_bodies("customer_invoice")[0])
    body["invoiceLines"][1]["operation"] = "Update"
    with pytest.raises(BusinessError, match="'Update' cannot be used when creating"):
        store.create("customer_invoice", body, "1")


def test_a_partial_update_changes_only_what_it_sends() -> None:
    store, docs = created("customer_credit_note")
    before = copy.deepcopy(store.docs[("customer_credit_note", "D2")])
    after = store.update(
        "customer_credit_note",
        "D2",
        {"externalReference": w("KN-NEW"), "invoiceAddress": w({"city": w("Bremen")})},
    )
    assert after["externalReference"] == "KN-NEW"
    assert after["invoiceAddress"] == {**before["invoiceAddress"], "city": "Bremen"}
    assert after["lastModifiedDateTime"] == "2025-05-01T12:05:00.000"
    assert after["timeStamp"] != before["timeStamp"]
    unchanged = {"externalReference", "invoiceAddress", "lastModifiedDateTime", "timeStamp"}
    assert {k: v for k, v in after.items() if k not in unchanged} == {
        k: v for k, v in before.items() if k not in unchanged
    }
    assert store.docs[("customer_credit_note", "D2")] is after
    assert docs[2] == before  # the stored document was not mutated


def test_update_insert_and_delete_lines() -> None:
    store, _ = created("customer_invoice")
    doc = store.update(
        "customer_invoice",
        "D0",
        {
            "invoiceLines": [
                {"operation": "Update", "lineNumber": w(2), "quantity": w(10)},
                {"operation": "Delete", "lineNumber": w(3)},
                {
                    "operation": "Insert",
                    "description": w("Extra"),
                    "quantity": w(2),
                    "unitPriceInCurrency": w("12.50"),
                },
            ]
        },
    )
    lines = {line["lineNumber"]: line for line in doc["invoiceLines"]}
    # 3 is deleted, and the insert takes 4: a number deleted in the same request
    # is not reused.
    assert sorted(lines) == [1, 2, 4]
    assert lines[2]["quantity"] == 10.0
    assert lines[2]["description"] == "Filterpapir nr. 4"  # not sent, unchanged
    assert lines[2]["discountAmountInCurrency"] == 12.45  # 5 % of 10 x 24.90
    assert lines[2]["amountInCurrency"] == 236.55
    assert lines[4]["description"] == "Extra" and lines[4]["amountInCurrency"] == 25.0
    assert doc["amountInCurrency"] == 2274 + 236.55 + 25


def test_update_and_delete_need_a_line_that_exists() -> None:
    store, _ = created("customer_debit_note")
    for op in ("Update", "Delete"):
        with pytest.raises(BusinessError) as err:
            store.update(
                "customer_debit_note",
                "D0",
                {"lines": [{"operation": op, "lineNumber": w(7), "quantity": w(1)}]},
            )
        assert str(err.value) == (
            "Error updating document. Error: Line number 7 cannot be found in the document."
        )


def test_a_line_needs_an_item_or_a_description() -> None:
    store = Store()
    for name, line in [
        ("customer_invoice", {"quantity": w(1)}),
        ("supplier_invoice", {"quantity": w(1), "description": w("not a line field")}),
        ("purchase_order", {"orderQty": w(1)}),
    ]:
        body = copy.deepcopy(sample_bodies(name)[0])
        body[KINDS[name].lines or ""].append({"operation": "Insert", **line})
        with pytest.raises(BusinessError, match="must be specified"):
            store.create(name, body, "1")
    po = copy.deepcopy(sample_bodies("purchase_order")[0])
    po["lines"] = [{"operation": "Insert", "inventory": w("000123"), "orderQty": w(1)}]
    assert store.create("purchase_order", po, "2")["lines"][0]["inventory"] == {"number": "000123"}


# ---------------------------------------------------------- business rules


def test_the_customer_or_supplier_must_exist() -> None:
    store = Store()
    cases = [
        ("customer_invoice", "customerNumber", "Customer"),
        ("customer_credit_note", "customerNumber", "Customer"),
        ("customer_debit_note", "customerNumber", "Customer"),
        ("supplier_invoice", "supplierNumber", "Supplier"),
        ("purchase_order", "supplier", "Supplier"),
    ]
    for name, field, label in cases:
        body = copy.deepcopy(sample_bodies(name)[0])
        body[field] = w("10099")
        with pytest.raises(BusinessError) as err:
            D.create(KINDS[name], body, number="1", now=NOW, lookup=store.lookup)
        assert str(err.value) == (
            f"Error creating document. Error: {label} '10099' cannot be found in the system."
        )
        del body[field]
        with pytest.raises(BusinessError, match=f"'{label}' cannot be empty"):
            D.create(KINDS[name], body, number="1", now=NOW, lookup=store.lookup)
    created_store, _ = created("customer_invoice")
    with pytest.raises(BusinessError, match="Customer '77' cannot be found"):
        created_store.update("customer_invoice", "D0", {"customerNumber": w("77")})


def test_customers_and_suppliers_need_a_name() -> None:
    store = Store()
    with pytest.raises(BusinessError) as err:
        D.create(
            KINDS["customer"], {"status": w("Active")}, number="1", now=NOW, lookup=store.lookup
        )
    assert str(err.value) == "Error inserting the customer. Error: 'Customer name' cannot be empty."
    store.party("supplier", "S1")
    with pytest.raises(BusinessError, match="'Supplier name' cannot be empty"):
        store.update("supplier", "S1", {"name": w(None)})


def test_bad_values_are_business_errors() -> None:
    store = Store()
    body = copy.deepcopy(sample_bodies("customer_invoice")[0])
    body["invoiceLines"][0]["quantity"] = w("twelve")
    with pytest.raises(BusinessError, match="'quantity' must be a number"):
        store.create("customer_invoice", body, "1")
    body = copy.deepcopy(sample_bodies("customer_invoice")[0])
    body["documentDate"] = w("27.01.2025")
    with pytest.raises(BusinessError, match="'documentDate' is not a valid date"):
        store.create("customer_invoice", body, "1")


def test_nothing_passed_in_is_mutated() -> None:
    store = Store()
    body = sample_bodies("supplier_invoice")[0]
    frozen = copy.deepcopy(body)
    doc = store.create("supplier_invoice", body, "1")
    assert body == frozen
    kept = copy.deepcopy(doc)
    D.update(KINDS["supplier_invoice"], doc, {"hold": w(True)}, now=LATER, lookup=store.lookup)
    D.release(KINDS["supplier_invoice"], doc, now=LATER)
    assert doc == kept


# ------------------------------------------------ status, release, ETags


@pytest.mark.parametrize("name", [n for n in TYPES if Registry().get(n).releasable])
def test_release_moves_balanced_to_open_and_refuses_hold(name: str) -> None:
    kind = KINDS[name]
    store, docs = created(name)
    assert kind.releasable
    held = store.update(name, "D0", {"hold": w(True)})
    assert held["status"] == "Hold"
    with pytest.raises(BusinessError, match="is on hold and cannot be released"):
        D.release(kind, held, now=LATER)
    balanced = store.update(name, "D0", {"hold": w(False)})
    assert balanced["status"] == "Balanced"
    released = D.release(kind, balanced, now=LATER + timedelta(seconds=1))
    assert released["status"] == "Open"
    assert released["balanceInCurrency"] == balanced["balanceInCurrency"]
    assert released["lastModifiedDateTime"] == "2025-05-01T12:05:01.000"
    with pytest.raises(BusinessError, match="has status 'Open' and cannot be released"):
        D.release(kind, released, now=LATER)
    with pytest.raises(BusinessError, match="status 'Open' and cannot be changed"):
        D.update(kind, released, {"note": w("x")}, now=LATER, lookup=store.lookup)
    if kind.etag:
        stamps = {docs[0]["timeStamp"], held["timeStamp"], balanced["timeStamp"]}
        assert len(stamps | {released["timeStamp"]}) == 4


def test_kinds_without_release() -> None:
    store, docs = created("purchase_order")
    assert not KINDS["purchase_order"].releasable
    with pytest.raises(ValueError):
        D.release(KINDS["purchase_order"], docs[0], now=LATER)
    held = store.update("purchase_order", "D0", {"hold": w(True)})
    assert held["status"] == "Hold"
    assert store.update("purchase_order", "D0", {"hold": w(False)})["status"] == "Open"


def test_the_timestamp_changes_on_every_change_even_within_one_tick() -> None:
    store, docs = created("supplier")
    stamps = [docs[0]["timeStamp"]]
    for i in range(3):
        doc = D.update(
            KINDS["supplier"],
            store.docs[("supplier", "D0")],
            {"note": w(str(i))},
            now=NOW,
            lookup=store.lookup,
        )
        store.docs[("supplier", "D0")] = doc
        stamps.append(doc["timeStamp"])
    assert len(set(stamps)) == 4
    _, customers = created("customer")
    assert customers[0]["timeStamp"]  # the live API's ETag on customers too


# ----------------------------------------------------------------- lists


@pytest.mark.parametrize("name", TYPES)
def test_every_filter_is_a_query_parameter_of_the_spec(name: str) -> None:
    kind = KINDS[name]
    params = {
        p["name"] for p in spec()["paths"][f"/v1/{kind.collection}"]["get"].get("parameters", [])
    }
    assert set(D.list_filters(kind)) <= params


def find(kind: Kind, docs: list[dict[str, Any]], **query: str) -> list[str]:
    return [d[kind.read_number] for d in docs if D.matches(kind, d, query)]


def test_customer_document_filters() -> None:
    kind = KINDS["customer_invoice"]
    store, docs = created("customer_invoice")
    filters = D.list_filters(kind)
    assert {"externalReference", "customerRefNumber", "customer", "status", "documentDate"} <= set(
        filters
    )
    assert [
        d["referenceNumber"] for d in docs if filters["externalReference"](d, "ord-2025-0413")
    ] == ["D1"]
    assert find(kind, docs, customer="010104") == ["D0", "D3"]
    assert find(kind, docs, customerRefNumber="Kari Nordmann", status="Balanced") == ["D0", "D3"]
    assert find(kind, docs, documentDate="2025-03-05") == ["D2", "D3"]  # alone: on or after
    assert find(kind, docs, documentDate="2025-03-05", documentDateCondition="<") == ["D0", "D1"]
    assert find(kind, docs, documentdate="2025-03-04T00:00:00", DocumentDateCondition="<=") == [
        "D0",
        "D1",
    ]
    assert find(kind, docs, pageNumber="1", pageSize="10") == ["D0", "D1", "D2", "D3"]
    released = D.release(kind, docs[1], now=LATER)
    assert find(kind, [*docs[:1], released], released="1") == ["D1"]
    assert find(kind, [*docs[:1], released], status="Open") == ["D1"]
    with pytest.raises(BusinessError, match="must be given together"):
        D.matches(kind, docs[0], {"documentDateCondition": ">"})
    with pytest.raises(BusinessError, match="not one of"):
        D.matches(kind, docs[0], {"documentDate": "2025-01-01", "documentDateCondition": "=="})
    with pytest.raises(BusinessError, match="not a valid date"):
        D.matches(kind, docs[0], {"documentDate": "yesterday"})
    assert store.docs[("customer_invoice", "D1")]["status"] == "Balanced"


def test_other_filters() -> None:
    si = KINDS["supplier_invoice"]
    _, bills = created("supplier_invoice")
    assert find(si, bills, supplier="050010") == ["D0", "D2"]
    assert find(si, bills, status="Hold") == ["D3"]
    assert find(si, bills, documentType="CreditAdj") == ["D2"]
    assert find(si, bills, item="000457") == ["D0", "D2"]
    assert find(si, bills, docDate="2025-11-12", docDateCondition=">=") == ["D2", "D3"]

    po = KINDS["purchase_order"]
    _, orders = created("purchase_order")
    assert find(po, orders, supplier="050011") == ["D1"]
    assert find(po, orders, orderStatus="Open", orderType="RegularOrder") == [
        "D0",
        "D1",
        "D2",
        "D3",
    ]
    assert find(po, orders, orderStatus="Hold") == []

    cu = KINDS["customer"]
    _, customers = created("customer")
    assert find(cu, customers, name="blåbær design as") == ["D1"]
    assert find(cu, customers, vatRegistrationId="934567892") == ["D2"]
    assert find(cu, customers, status="Inactive") == ["D7"]
    assert find(cu, customers, email="hei@aerligkaffe.no") == ["D4"]

    su = KINDS["supplier"]
    _, suppliers = created("supplier")
    assert find(su, suppliers, name="Svenska Verktyg AB") == ["D5"]
    assert find(su, suppliers, status="HoldPayments") == ["D6"]
