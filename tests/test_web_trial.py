"""What a Norwegian accountant met trying the web app: a document the
company check flags is never sent, the result says why each document did
not go, in the reader's language, and the pages' counts and words agree."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import write_csv, write_xlsx

pytest.importorskip("flask")

from test_web_app import (  # noqa: F401 - the fixture
    EMPTY,
    PASSWORD,
    WITH_PROBLEMS,
    Held,
    Web,
    batch_id,
    csrf,
    toml_target,
    upload,
    web_fixture,
)

from importer.sandbox import Sandbox
from importer.web.app import create_app
from importer.web.users import add_user

INVOICE = ["External reference", "Customer number", "Invoice date", "Item number",
           "Quantity", "Unit price", "VAT code", "Account"]  # fmt: skip
NB = {"Accept-Language": "nb-NO,nb;q=0.9"}


@pytest.fixture(name="demo")
def demo_fixture(tmp_path: Path) -> Iterator[Web]:
    """The web app over the sandbox's demo company (customers 11001-11012)."""
    with Sandbox() as sb:
        config = tmp_path / "vnimport.toml"
        config.write_text(toml_target(sb, "acme", tmp_path / "acme.sqlite"), encoding="utf-8")
        held = Held()
        app = create_app(tmp_path / "data", config, max_upload=64 * 1024, spawn=held)
        web = Web(app, sb, tmp_path / "data", held)
        add_user(web.store, "kari", PASSWORD, "own", ["acme"])
        add_user(web.store, "per", PASSWORD, "company", ["acme"])
        yield web


def page(client: Any, url: str, **kw: Any) -> str:
    answer = client.get(url, **kw)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return str(answer.get_data(as_text=True))


def post(client: Any, url: str, data: dict[str, str], back: str) -> Any:
    return client.post(url, data={"csrf_token": csrf(client.get(back)), **data})


def run(web: Web, client: Any, bid: str) -> str:
    started = post(client, f"/batches/{bid}/run", {"mode": "create"}, f"/batches/{bid}")
    assert started.status_code == 303, started.get_data(as_text=True)
    web.held.release()
    return str(started.headers["Location"])


def three_invoices(tmp_path: Path) -> Path:
    rows: list[list[object]] = [
        INVOICE,
        ["A-1", "11001", "2025-03-10", "000123", 2, 189.5, "31", "3000"],
        ["A-2", "99999", "2025-03-10", "000123", 1, 100, "31", "3000"],  # no such customer
        ["A-3", "11002", "2025-03-10", "000123", 1, 100, "31", "3000"],
    ]
    return write_csv(tmp_path / "inv.csv", rows)


# ---------------------------------------------- 1. the company check holds


@pytest.mark.parametrize("checked_on_the_page", [True, False])
def test_a_document_the_company_check_flags_is_not_sent_in_a_small_batch(
    demo: Web, tmp_path: Path, checked_on_the_page: bool
) -> None:
    client = demo.client("kari")
    before = demo.sandbox.count("customer_invoice")
    bid = batch_id(upload(client, three_invoices(tmp_path), type="customer_invoice"))
    if checked_on_the_page:
        post(client, f"/batches/{bid}/preflight", {}, f"/batches/{bid}")
        batch = demo.store.batch(bid)
        assert batch is not None and batch.summary["valid_documents"] == 2
    run_url = run(demo, client, bid)
    assert demo.sandbox.count("customer_invoice") == before + 2  # A-2 never went
    record = demo.store.run(run_url.rsplit("/", 1)[-1])
    assert record is not None
    by_key = {d["key"]: d for d in record.summary["by_document"]}
    assert by_key["A-2"]["status"] == "invalid" and by_key["A-1"]["status"] == "created"
    assert "99999" in by_key["A-2"]["problem"]["en"]
    text = page(client, run_url)
    assert "Finished with problems" in text and "99999" in text


# ------------------------------------------- 2. why, on the result page


def test_the_result_says_why_each_document_is_not_in_visma_in_the_readers_language(
    demo: Web, tmp_path: Path
) -> None:
    client = demo.client("kari")
    bid = batch_id(upload(client, three_invoices(tmp_path), type="customer_invoice"))
    run_url = run(demo, client, bid)
    record = demo.store.run(run_url.rsplit("/", 1)[-1])
    assert record is not None
    by_key = {d["key"]: d for d in record.summary["by_document"]}
    assert by_key["A-1"]["problem"] == {}  # in Visma: nothing to say
    problem = by_key["A-2"]["problem"]
    assert problem["en"] != problem["nb"] and "99999" in problem["nb"]
    english = page(client, run_url)
    norsk = page(client, run_url, headers=NB)
    assert problem["en"].replace("'", "&#39;") in english
    assert problem["nb"].replace("'", "&#39;") in norsk


def test_a_document_invalid_in_the_file_says_its_own_cell(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    bid = batch_id(upload(client, write_xlsx(tmp_path / "c.xlsx", WITH_PROBLEMS)))
    run_url = run(web, client, bid)
    record = web.store.run(run_url.rsplit("/", 1)[-1])
    assert record is not None
    by_key = {d["key"]: d for d in record.summary["by_document"]}
    assert by_key["10002"]["problem"]["en"].startswith("Customer name")
    assert by_key["10003"]["problem"]["en"].startswith("Credit limit")


# ------------------------------------------ 3. Norwegian pages in Norwegian


def test_statuses_roles_and_refusals_are_in_the_pages_language(demo: Web, tmp_path: Path) -> None:
    client = demo.client("kari")
    bid = batch_id(upload(client, three_invoices(tmp_path), type="customer_invoice"))
    run_url = run(demo, client, bid)
    text = page(client, run_url, headers=NB)
    assert "Opprettet i Visma" in text and '<code class="status">created</code>' in text
    assert "Ugyldig: rett raden" in text
    assert "kari (egne bunter)" in text and "(own)" not in text
    assert "(ferdig)" in page(client, f"/batches/{bid}", headers=NB)
    runs = page(client, "/runs", headers=NB)
    assert "2 dokumenter: Opprettet i Visma" in runs
    missing = client.get("/batches/nope", headers=NB)
    body = missing.get_data(as_text=True)
    assert missing.status_code == 404
    assert "Denne bunten finnes ikke, eller du har ikke tilgang til den." in body
    nowhere = client.get("/no/such/page", headers=NB).get_data(as_text=True)
    assert "Det finnes ingenting på denne adressen" in nowhere
    assert "requested URL was not found" not in client.get("/no/such/page").get_data(as_text=True)


# ------------------------------------------------- 4. counts that agree


def test_every_count_says_rows_or_documents_and_the_pages_agree(web: Web, tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Customer number", "Customer name"],
        ["10001", "Alfa AS"],
        ["10002", ""],
    ]
    client = web.client("alice")
    bid = batch_id(upload(client, write_csv(tmp_path / "c.csv", rows)))
    run_url = run(web, client, bid)
    text = page(client, run_url)
    assert "Documents by result" in text and "Rows by result" in text
    runs = page(client, "/runs")
    assert "1 document: Created in Visma; 1 document: Invalid: fix the row" in runs
    carol = web.client("carol")  # role company: sees the journal
    journal = page(carol, "/journal")
    assert "Documents by result" in journal and "Rows by result" in journal
    assert "1 document: Created in Visma" in journal and "1 row: Created in Visma" in journal


# ------------------------------------------ 5. templates in the language


def test_the_template_links_give_the_pages_language(web: Web) -> None:
    client = web.client("alice")
    assert "/templates/customer.xlsx?lang=nb" in page(client, "/", headers=NB)
    assert "/templates/customer.xlsx?lang=en" in page(client, "/")
    norsk = client.get("/templates/customer.xlsx?lang=nb")
    english = client.get("/templates/customer.xlsx?lang=en")
    assert norsk.status_code == english.status_code == 200 and norsk.data != english.data
    norsk.close()
    english.close()


# ------------------------------------------ 6. a mapping file on the form

MAPPING = """header_row = 2
skip = ["Merknad"]

[columns]
"Kundenr" = "Customer number"
"Navn" = "Customer name"
"""


def upload_with(client: Any, path: Path, mapping: Path | None) -> Any:
    token = csrf(client.get("/"))
    files: dict[str, Any] = {"csrf_token": token, "target": "acme", "type": "customer"}
    with path.open("rb") as fh:
        files["file"] = (fh, path.name)
        if mapping is None:
            return client.post("/batches", data=files, content_type="multipart/form-data")
        with mapping.open("rb") as mh:
            files["mapping"] = (mh, mapping.name)
            return client.post("/batches", data=files, content_type="multipart/form-data")


def test_a_mapping_file_on_the_form_and_the_fixme_workbook_keeps_it(
    web: Web, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    client = web.client("alice")
    assert 'name="mapping"' in page(client, "/")
    mapping = tmp_path / "kunder.mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    rows: list[list[object]] = [
        ["Kundeliste mars"],  # a title: the header is on row 2
        ["Kundenr", "Navn", "Merknad"],
        ["10001", "Alfa AS", "x"],
        ["10002", "", "y"],
    ]
    src = write_xlsx(tmp_path / "kunder.xlsx", rows)
    bid = batch_id(upload_with(client, src, mapping))
    batch = web.store.batch(bid)
    assert batch is not None and batch.summary["valid_documents"] == 1, batch.summary
    assert batch.summary["problem_rows"] == 1

    got = client.get(f"/batches/{bid}/fixme.xlsx")
    fixme = tmp_path / "kunder.fixme.xlsx"
    fixme.write_bytes(got.data)
    got.close()
    book = load_workbook(fixme)
    ws = book.worksheets[0]
    assert [c.value for c in ws[1]] == ["Kundenr", "Navn", "Merknad"]  # on row 1
    ws.cell(2, 2).value = "Beta AS"
    book.save(fixme)
    book.close()

    again = batch_id(upload_with(client, fixme, None))
    batch = web.store.batch(again)
    assert batch is not None
    assert batch.summary["mapping_from"] == {"batch": bid, "file": "kunder.xlsx"}
    assert batch.summary["valid_documents"] == 1 and batch.summary["problem_rows"] == 0
    assert "A fix-me workbook of kunder.xlsx" in page(client, f"/batches/{again}")
    run(web, client, again)
    assert web.sandbox.count("customer") == 1


def test_a_fixme_named_workbook_of_other_columns_carries_nothing(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    rows: list[list[object]] = [["t"], ["Kundenr", "Navn", "Merknad"], ["10001", "", ""]]
    batch_id(upload_with(client, write_xlsx(tmp_path / "kunder.xlsx", rows), mapping))
    other = write_xlsx(tmp_path / "kunder.fixme.xlsx", [["Customer number", "Customer name"],
                                                          ["10001", "Alfa AS"]])  # fmt: skip
    again = web.store.batch(batch_id(upload_with(client, other, None)))
    assert again is not None and "mapping_from" not in again.summary
    assert again.summary["valid_documents"] == 1


# ------------------------------------ 7. in Visma already: a note, not a problem


def test_a_document_already_in_visma_is_a_note_not_an_error_to_edit(
    demo: Web, tmp_path: Path
) -> None:
    client = demo.client("kari")
    existing = demo.sandbox.documents("customer")[0]
    number = str(existing.get("number") or existing.get("id"))
    rows: list[list[object]] = [
        ["Customer number", "Customer name"],
        [number, "Old name AS"],
        ["99001", "Ny kunde AS"],
    ]
    bid = batch_id(upload(client, write_csv(tmp_path / "c.csv", rows)))
    post(client, f"/batches/{bid}/preflight", {}, f"/batches/{bid}")
    batch = demo.store.batch(bid)
    assert batch is not None
    s = batch.summary
    assert s["valid_documents"] == 2 and s["problem_rows"] == 0 and s["preflight"]["errors"] == 0
    [row] = s["problems"]
    [cell] = [c for c in row["cells"] if c["messages"]]
    assert not cell["error"] and cell["messages"][0]["severity"] == "note"
    text = page(client, f"/batches/{bid}")
    assert 'aria-invalid="true"' not in text and 'name="new"' not in text
    assert 'class="note"' in text and "Note:" in text
    assert "it is not sent again" in text
    assert "Ikke sendt igjen" not in text
    norsk = page(client, f"/batches/{bid}", headers=NB)
    assert "Merk:" in norsk and "sendes ikke på nytt" in norsk


def test_the_columns_page_maps_a_column_to_a_subaccount_segment_and_names_control_totals(
    web: Web, tmp_path: Path
) -> None:
    from test_web_inbound import page, post, summary

    client = web.client("alice")
    rows: list[list[object]] = [
        [*INVOICE, "Avdeling", "Line total"],
        ["A-1", "10000", "2025-03-03", "000123", 1, 100, "3", "3000", "0100", "100"],
    ]
    bid = batch_id(upload(client, write_csv(tmp_path / "f.csv", rows), type="customer_invoice"))
    back = f"/batches/{bid}/columns"
    text = page(client, back)
    assert '<option value="invoiceLines.subaccount.1"' in text and "Subaccount segment 1" in text
    assert "Line total (a control total: checked, not sent)" in text
    avdeling = len(INVOICE)
    answer = post(client, back, {f"col-{avdeling}": "invoiceLines.subaccount.1"}, back)
    assert answer.status_code == 303
    s = summary(web, bid)
    assert not s.get("error"), s.get("error")
    assert "Avdeling" not in str(s.get("warnings", ""))


def test_the_journal_says_the_web_user_ran_the_import(web: Web, tmp_path: Path) -> None:
    import sqlite3

    from test_api import CUSTOMERS

    client = web.client("alice")
    bid = batch_id(upload(client, write_csv(tmp_path / "c.csv", CUSTOMERS)))
    page = client.get(f"/batches/{bid}")
    answer = client.post(f"/batches/{bid}/run", data={"csrf_token": csrf(page)})
    assert answer.status_code == 303
    web.held.release()
    with sqlite3.connect(tmp_path / "acme.sqlite") as db:
        users = [row[0] for row in db.execute("SELECT run_user FROM runs")]
    assert users == ["alice"]
