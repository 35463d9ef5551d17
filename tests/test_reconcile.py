"""`vnimport reconcile RUN`: what a run created or updated, read back from
Visma over real sockets and compared with what the file stated; the
reconciliation workbook, the exit code, the read calls; and the sandbox's
balance endpoints it reads."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, TYPES, Api, write_csv
from openapi import operation, resolve, spec
from openpyxl import load_workbook
from test_api import env_for, vnimport

from importer import Journal, VismaDestination, check, load_type, send
from importer.reconciliation.compare import Facts, reconcile, same
from importer.reconciliation.workbook import write_reconciliation
from importer.register import find_run
from importer.sandbox import DEMO_SECRET, Sandbox, SandboxConfig, balances, documents
from importer.sandbox.config import DEMO_TENANT
from importer.sandbox.process import demo_connection
from importer.sandbox.store import Store
from importer.targets.client import VismaClient

INVOICES = ["External reference", "Customer number", "Invoice date", "Item number"]
INVOICES += ["Line description", "Quantity", "Unit price", "VAT code", "Account"]


def sheet(path: Path, name: str) -> list[tuple[Any, ...]]:
    wb = load_workbook(path, read_only=True)
    try:
        return [tuple(row) for row in wb[name].iter_rows(values_only=True)]
    finally:
        wb.close()


def summary(path: Path) -> dict[str, Any]:
    return {row[0]: row[1] for row in sheet(path, "Summary")}


def invoices(path: Path, count: int, *, lines: int = 1) -> Path:
    """``count`` invoices of two of the demo company's customers."""
    rows: list[list[object]] = [INVOICES]
    for n in range(count):
        for line in range(lines):
            customer = "11001" if n % 2 else "11002"
            item = ["000123", f"Kaffe {line + 1}", str(line + 2), "189.50", "31", "3000"]
            rows.append([f"R-{n:04d}", customer, "2025-03-10", *item])
    return write_csv(path, rows)


@dataclass
class Imported:
    sb: Sandbox
    env: dict[str, str]
    journal: Path
    folder: Path


@pytest.fixture
def imported(tmp_path: Path) -> Iterator[Imported]:
    """The sample customers, then the sample invoices, imported by `vnimport
    run` into a sandbox, with a journal file."""
    with Sandbox() as sb:
        env = env_for(sb)
        journal = tmp_path / "journal.sqlite"
        for name in ("customer", "customer_invoice"):
            sample = str(ROOT / "samples" / f"{name}.csv")
            proc = vnimport(
                "run", sample, "--type", name, "--journal", str(journal), env=env, cwd=tmp_path
            )
            assert proc.returncode == 0, proc.stderr
        yield Imported(sb, env, journal, tmp_path)


# ------------------------------------------------------------- the command


def test_a_run_as_visma_has_it_reconciles_clean(imported: Imported) -> None:
    out = imported.folder / "out" / "reconcile.xlsx"
    proc = vnimport(
        "reconcile", "last", "--journal", str(imported.journal), "--out", str(out),
        env=imported.env, cwd=imported.folder,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "clean: Visma has what the file states" in proc.stdout
    assert "4 document(s) read back" in proc.stdout
    # one list page for the four invoices, a balance for each of their three customers
    assert "4 read call(s): 1 list page(s), 0 document(s) read alone, 3 balance" in proc.stdout
    assert load_workbook(out, read_only=True).sheetnames == [
        "Summary", "Differences", "Documents", "By customer", "By currency",
    ]  # fmt: skip
    first = summary(out)
    assert first["Verdict"] == "clean: Visma has what the file states"
    assert first["Documents read back (created or updated by the run)"] == 4
    assert first["Lines in the file"] == first["Lines in Visma"] == 10
    assert first["Read calls"] == 4 and first["  list pages"] == 1
    assert sheet(out, "Differences")[1:] == []
    by_customer = {row[0]: row for row in sheet(out, "By customer")[1:]}
    assert set(by_customer) == {"010102", "010104", "010106"}
    assert by_customer["010104"][2:5] == (2, 4567.2, 4567.2)  # documents, file, Visma
    assert by_customer["010104"][6] == "same"
    currencies = {row[0]: row[1:6] for row in sheet(out, "By currency")[1:]}
    assert currencies == {"EUR": (1, 3337, 3337, 0, "same"), "NOK": (3, 7417.3, 7417.3, 0, "same")}


def test_a_document_changed_behind_vnimports_back_is_named_with_both_values(
    imported: Imported,
) -> None:
    (doc,) = [
        d
        for d in imported.sb.documents("customer_invoice")
        if d["externalReference"] == "ORD-2025-0412"
    ]
    number = doc["referenceNumber"]
    # 12 x 189.50 on its first line in the file; someone makes it 99 x 200 in Visma
    change = {"operation": "Update", "lineNumber": {"value": 1}, "quantity": {"value": 99}}
    change["unitPriceInCurrency"] = {"value": 200}
    reply = Api(imported.sb)(
        "PUT", f"/v1/customerinvoice/{number}", json={"invoiceLines": [change]}
    )
    assert reply.status_code == 204, reply.text
    out = imported.folder / "changed.xlsx"
    proc = vnimport(
        "reconcile", "last", "--journal", str(imported.journal), "--out", str(out),
        env=imported.env, cwd=imported.folder,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "differs: 1 of 4 document(s)" in proc.stdout
    said = proc.stdout.splitlines()
    assert f"  ORD-2025-0412 [{number}] line 1 quantity: file 12, Visma 99" in said
    assert f"  ORD-2025-0412 [{number}] line 1 price: file 189.5, Visma 200" in said
    assert f"  ORD-2025-0412 [{number}] total: file 3670.2, Visma 21196.2 (excluding VAT)" in said
    assert "Traceback" not in proc.stderr and DEMO_SECRET not in proc.stdout + proc.stderr
    # the list showed the difference; only that document was read alone to be sure
    assert "1 list page(s), 1 document(s) read alone" in proc.stdout
    found = {row[3]: row for row in sheet(out, "Differences")[1:]}
    assert set(found) == {"line 1 quantity", "line 1 price", "line 1 amount", "total"}
    assert found["line 1 quantity"][:6] == (
        "ORD-2025-0412",
        "2-4",
        number,
        "line 1 quantity",
        12,
        99,
    )
    assert found["line 1 price"][4:6] == (189.5, 200)
    assert found["line 1 amount"][4:6] == (2274, 19800)  # 12 x 189.50; 99 x 200
    assert found["total"][4:6] == (3670.2, 21196.2)
    assert summary(out)["Verdict"].startswith("differs: 1 of 4 document(s)")
    documents = {row[0]: row for row in sheet(out, "Documents")[1:]}
    assert documents["ORD-2025-0412"][6] == "read alone"
    assert documents["ORD-2025-0413"][6] == "list page"
    by_customer = {row[0]: row for row in sheet(out, "By customer")[1:]}
    assert by_customer["010104"][6] == "differs" and by_customer["010102"][6] == "same"


def test_the_calls_grow_with_list_pages_not_with_documents(tmp_path: Path) -> None:
    """Visma keeps pages to 10 records here: 4 invoices take one page, 25
    three; no document is read alone, and the two customers' balances are
    read once each whatever the count."""
    calls = {}
    for count in (4, 25):
        with Sandbox(SandboxConfig(max_page_size=10)) as sb:
            env = env_for(sb)
            journal = tmp_path / f"j{count}.sqlite"
            src = invoices(tmp_path / f"i{count}.csv", count, lines=2)
            argv = ("--type", "customer_invoice", "--journal", str(journal))
            ran = vnimport("run", str(src), *argv, env=env, cwd=tmp_path)
            assert ran.returncode == 0, ran.stderr
            out = tmp_path / f"r{count}.xlsx"
            proc = vnimport(
                "reconcile", "last", "--journal", str(journal), "--out", str(out),
                env=env, cwd=tmp_path,
            )  # fmt: skip
            assert proc.returncode == 0, proc.stdout + proc.stderr
            figures = summary(out)
            calls[count] = (
                figures["  list pages"],
                figures["  documents read alone"],
                figures["  balance calls"],
                figures["Read calls"],
            )
    assert calls == {4: (1, 0, 2, 3), 25: (3, 0, 2, 5)}


def test_no_run_another_companys_run_or_no_journal_stop_with_a_reason(
    imported: Imported, tmp_path: Path
) -> None:
    def reconcile_cli(*argv: str) -> subprocess.CompletedProcess[str]:
        return vnimport("reconcile", *argv, env=imported.env, cwd=imported.folder)

    proc = reconcile_cli("20990101", "--journal", str(imported.journal))
    assert proc.returncode == 2 and "no run '20990101' in the journal" in proc.stderr
    proc = reconcile_cli("last", "--journal", str(tmp_path / "none.sqlite"))
    assert proc.returncode == 2 and "there is no journal at" in proc.stderr
    proc = reconcile_cli("last", "--journal", str(imported.journal), "--target", "sandbox")
    assert proc.returncode == 2 and "new, empty sandbox" in proc.stderr
    # the journal's runs went to this sandbox, not to another company
    other = dict(imported.env, VNIMPORT_TENANT_ID="another-company")
    run_id = Journal(imported.journal).runs(limit=1)[0].id
    proc = vnimport("reconcile", run_id, "--journal", str(imported.journal), env=other,
                    cwd=imported.folder)  # fmt: skip
    assert proc.returncode == 2 and f"run {run_id} was made against" in proc.stderr
    proc = vnimport("reconcile", "last", "--journal", str(imported.journal), env=other,
                    cwd=imported.folder)  # fmt: skip
    assert proc.returncode == 2 and "has no runs against" in proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------- the library


def test_every_sample_reconciles_clean_in_one_list_page(tmp_path: Path) -> None:
    with Sandbox() as sb:
        conn = demo_connection(sb.url)
        journal = Journal(tmp_path / "j.sqlite")
        client = VismaClient(conn, workers=1)
        try:
            for name in TYPES:
                doctype = load_type(name)
                batch = check(ROOT / "samples" / f"{name}.csv", doctype)
                report = send(batch, VismaDestination(conn, journal=journal), workers=2)
                assert report.exit_code == 0, (name, report.counts())
                result = reconcile(journal, "last", client, doctype)
                assert result.ok, (name, result.differences, result.parties)
                assert len(result.documents) == report.documents
                assert (result.calls.list_pages, result.calls.documents) == (1, 0), name
                path = write_reconciliation(result, tmp_path / name)
                assert path.name == f"{name}.xlsx"
                assert summary(path)["Verdict"] == "clean: Visma has what the file states"
        finally:
            journal.close()
            client.session.close()


def test_what_visma_works_out_itself_is_shown_not_judged(tmp_path: Path) -> None:
    """VAT Visma adds after the import changes the total with VAT, which is
    shown; the total without VAT, which the file states, still agrees."""
    with Sandbox() as sb:
        conn = demo_connection(sb.url)
        journal = Journal(tmp_path / "j.sqlite")
        client = VismaClient(conn, workers=1)
        try:
            doctype = load_type("customer_invoice")
            batch = check(invoices(tmp_path / "i.csv", 2), doctype)
            send(batch, VismaDestination(conn, journal=journal), workers=1)
            number = journal.run_documents(journal.runs(limit=1)[0].id)[0].number
            vat = [{"taxId": {"value": "31"}, "taxableAmount": {"value": 379}}]
            vat[0]["vatAmount"] = {"value": 56.85}
            body = {"taxDetailLines": vat}
            assert Api(sb)("PUT", f"/v1/customerinvoice/{number}", json=body).status_code == 204
            result = reconcile(journal, "last", client, doctype)
        finally:
            journal.close()
            client.session.close()
    assert result.ok and result.exit_code == 0
    (shown,) = [d.shown for d in result.documents if d.number == number]
    assert shown["vatTotalInCurrency"] == 56.85 and shown["amountInCurrency"] == 435.85
    path = write_reconciliation(result, tmp_path / "r.xlsx")
    head, *rows = sheet(path, "Documents")
    row = dict(zip(head, next(r for r in rows if r[2] == number), strict=True))
    assert row["total (file)"] == row["total (Visma)"] == 379
    assert row["vatTotalInCurrency (shown)"] == 56.85


def test_a_document_the_journal_knows_and_visma_does_not_is_missing(tmp_path: Path) -> None:
    with Sandbox() as sb:
        conn = demo_connection(sb.url)
        journal = Journal(tmp_path / "j.sqlite")
        client = VismaClient(conn, workers=1)
        try:
            doctype = load_type("customer_invoice")
            send(
                check(invoices(tmp_path / "i.csv", 2), doctype),
                VismaDestination(conn, journal=journal),
            )
            run = journal.runs(limit=1)[0]
            # R-0000's body (customer 11002), whichever worker sent it first
            body = next(d.body for d in journal.run_documents(run.id) if d.key == "R-0000")
            journal.note(
                run.id, conn.target, doctype.name, "R-GONE", status="created", rows="9",
                number="199999", body=body,
            )  # fmt: skip
            result = reconcile(journal, run, client, doctype)
        finally:
            journal.close()
            client.session.close()
    assert result.exit_code == 1
    (gone,) = [d for d in result.documents if not d.found]
    assert gone.differences[0].note == "not in Visma"
    assert (gone.differences[0].field, gone.differences[0].number) == ("document", "199999")
    assert gone.total_visma == 0 and gone.total_file == 379
    # the customer's and the currency's totals miss it too
    assert [t.name for t in result.parties if t.differs] == ["11002"]
    # its currency is the customer's in Visma, which has no such document to say it
    assert [t.name for t in result.currencies if t.differs] == [""]
    assert result.calls.documents == 1  # not on the list page: looked for alone


def test_find_run_takes_an_id_its_start_or_last(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    try:
        first = journal.start_run(file="a.csv", sha256="", doctype="customer", mode="create",
                                  target="T")  # fmt: skip
        for spec in (first, first[:-3], "last"):
            assert find_run(journal, spec, target="T", against="reconcile").id == first
        with pytest.raises(Exception, match="has no runs against U yet"):
            find_run(journal, "last", target="U", against="reconcile")
        with pytest.raises(Exception, match="was made against T, not U: reconcile it"):
            find_run(journal, first, target="U", against="reconcile")
        assert find_run(journal, first, target="U").id == first  # only shown: any company
    finally:
        journal.close()


@pytest.mark.parametrize(
    ("file", "visma", "same_value"),
    [
        (12, 12.004, True),
        (12, 12.02, False),
        ("2025-03-03T00:00:00", "2025-03-03T00:00:00.000", True),
        ("2025-03-03", "2025-03-04T00:00:00", False),
        ("032025", "202503", True),  # a post period: MMYYYY sent, YYYYMM shown
        ("032025", "202504", False),
        ("NOK", "nok ", True),
        ("010104", "10104", False),  # codes are text: a leading zero counts
        (True, True, True),
        (None, "", True),
        ("x", None, False),
    ],
)
def test_values_compare_as_an_accountant_would(file: Any, visma: Any, same_value: bool) -> None:
    assert same(file, visma) is same_value


# ------------------------------------------------------------- the facts


def _record(node: Any, depth: int = 0) -> Any:
    """A made-up read record with every property of the spec's schema ``node``."""
    node = resolve(node)
    if node.get("type") == "array":
        return []
    props = node.get("properties")
    if not props:
        return "x"
    return {k: _record(v, depth + 1) for k, v in props.items()} if depth < 4 else {}


def _dto(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _request_paths(node: Any, prefix: str = "", depth: int = 0) -> list[str]:
    """Every scalar path of a request DTO of the spec, its values unwrapped."""
    node = resolve(node)
    props = node.get("properties") or {}
    if set(props) == {"value"}:
        return _request_paths(props["value"], prefix, depth)
    if node.get("type") == "array":
        return []  # lists are not compared
    if not props or depth > 3:
        return [prefix]
    out: list[str] = []
    for name, prop in props.items():
        out += _request_paths(prop, f"{prefix}.{name}" if prefix else name, depth + 1)
    return out


@pytest.mark.parametrize("name", TYPES)
def test_x_reconcile_finds_every_request_field_in_what_visma_gives_back(name: str) -> None:
    """Each field of the type's request DTO is found in its read DTO as
    x-reconcile renames it, or is declared as one Visma never shows; the
    line, total, shown and balance fields are the spec's."""
    doctype = load_type(name)
    facts = Facts.of(doctype)
    request = doctype.schema["x-dto"]
    read = request.removesuffix("UpdateDto") + "Dto"
    record = _record(_dto(read))
    lost = [
        path
        for path in _request_paths(_dto(request))
        if not facts.is_unread(path) and not facts.find(path, record)[0]
    ]
    assert lost == [], f"{name}: not in {read} and not declared unread"
    for path in facts.read:
        assert facts.find(path, record)[0], f"{name}: x-reconcile read {path!r}"
    for field in (facts.total, *facts.shown):
        if field:
            assert field in record, f"{name}: {field!r} is not in {read}"
    if doctype.lines:
        line = resolve(resolve(resolve(_dto(read))["properties"][doctype.lines])["items"])
        assert set(facts.line_read.values()) <= set(line["properties"]), name
    if facts.party:
        for path in (facts.party.one, facts.party.all):
            method, _, where = path.partition(" ")
            op = operation(method, where.replace("{number}", "X"))
            assert op is not None, path
            schema = op["responses"]["200"]["content"]["application/json"]["schema"]
            balance = _record(schema.get("items") or schema)
            for shown in (facts.party.key, *facts.party.shown):
                node: Any = balance
                for part in shown.split("."):
                    assert isinstance(node, dict) and part in node, (name, shown)
                    node = node[part]


# ------------------------------------------------------------- the sandbox's balances


def test_the_balance_endpoints_answer_as_the_spec_says(tmp_path: Path) -> None:
    with Sandbox() as sb:
        conn = demo_connection(sb.url)
        journal = Journal(":memory:")
        doctype = load_type("customer_invoice")
        send(
            check(invoices(tmp_path / "i.csv", 3), doctype), VismaDestination(conn, journal=journal)
        )
        api = Api(sb)
        one = api("GET", "/v1/customer/11001/balance")
        assert one.status_code == 200
        body = one.json()
        assert body["customer"]["number"] == "11001" and body["balance"] == 0.0  # not released
        listed = api("GET", "/v1/customer/balance", params={"pageNumber": 1, "pageSize": 5})
        assert len(listed.json()) == 5
        numbers = [r["customer"]["number"] for r in listed.json()]
        assert numbers == sorted(numbers)
        after = api("GET", "/v1/customer/balance", params={"greaterThanValue": numbers[-1]})
        assert all(r["customer"]["number"] > numbers[-1] for r in after.json())
        missing = api("GET", "/v1/customer/99999/balance")
        assert missing.status_code == 404 and "not found" in missing.json()["message"]
        supplier = api("GET", "/v1/supplier/balance").json()
        orders = api("GET", "/v1/supplier/POBalance").json()
        half = api("GET", "/v1/customer/balance", params={"lastModifiedDateTime": "2020-01-01"})
        assert half.status_code == 400 and "given together" in half.json()["message"]
    schemas = spec()["components"]["schemas"]
    for record, dto in ((body, "CustomerBalanceDto"), (supplier[0], "SupplierBalanceDto"),
                        (orders[0], "SupplierPOBalanceDto")):  # fmt: skip
        assert set(record) <= set(schemas[dto]["properties"]), dto


def test_a_balance_counts_released_documents_and_credit_notes_against_them() -> None:
    store = Store()
    now = datetime(2025, 3, 15)
    customer = {"number": "11001", "name": "Kaffe AS", "lastModifiedDateTime": "2025-01-01"}

    def lookup(kind: str, number: str) -> Any:
        return customer if (kind, number) == ("customer", "11001") else None

    def make(kind: str, number: str, price: float, *, released: bool) -> None:
        k = documents.KINDS[kind]
        lines = "invoiceLines" if kind == "customer_invoice" else "lines"
        body = {
            "customerNumber": {"value": "11001"},
            "documentDate": {"value": "2025-03-10"},
            lines: [{"description": {"value": "x"}, "quantity": {"value": 1},
                     "unitPriceInCurrency": {"value": price}}],
        }  # fmt: skip
        doc = documents.create(k, body, number=number, now=now, lookup=lookup)
        if released:
            doc = documents.release(k, doc, now=now)
        with store.transaction() as db:
            store.put(db, DEMO_TENANT, kind, number, doc)

    with store.transaction() as db:
        store.put(db, DEMO_TENANT, "customer", "11001", customer)
    make("customer_invoice", "1", 1000, released=True)
    make("customer_invoice", "2", 500, released=False)  # not in the ledger yet
    make("customer_credit_note", "3", 200, released=True)
    (found,) = balances.answer(store, DEMO_TENANT, "GET", ["v1", "customer", "balance"], {}, 100,
                               now=lambda: now)  # fmt: skip
    assert found["balance"] == 800.0
    assert found["totalSalePeriod"] == found["totalSaleYear"] == 800.0
    assert balances.answer(store, DEMO_TENANT, "GET", ["v1", "customer", "11001"], {}, 100) is None
    store.close()


def test_the_api_docs_example_runs_as_written(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = page.split("## Reconcile", 1)[1].split("\n## ", 1)[0]
    (example,) = re.findall(r"```py\n(.*?)```", section, flags=re.S)
    proc = subprocess.run(
        [sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "clean: Visma has what the file states - 2 read call(s)" in proc.stdout
    assert summary(tmp_path / "out" / "reconcile.xlsx")["Documents that differ"] == 0


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ([], "x-reconcile must be an object"),
        ({"unread": "note"}, "x-reconcile unread must be a list of texts"),
        ({"read": {"a": 1}}, "x-reconcile read must be an object of texts"),
        ({"line": {"amount": "invoiceLines.quantity", "read": {}}}, "x-control of kind"),
        ({"party": {"field": "customerNumber"}}, "party needs field, title, one, all and key"),
    ],
)
def test_a_malformed_x_reconcile_is_said_plainly(tmp_path: Path, given: Any, says: str) -> None:
    import json

    from importer.doctypes import Registry
    from importer.errors import DocTypeError

    schema = json.loads((ROOT / "schemas" / "customer_invoice.schema.json").read_text("utf-8"))
    schema["x-reconcile"] = given
    (tmp_path / "mine.schema.json").write_text(json.dumps(schema), "utf-8")
    template = (ROOT / "templates" / "customer_invoice.json.j2").read_text("utf-8")
    (tmp_path / "mine.json.j2").write_text(template, "utf-8")
    doctype = Registry([tmp_path]).get("mine")
    with pytest.raises(DocTypeError, match=re.escape(says)):
        Facts.of(doctype)
