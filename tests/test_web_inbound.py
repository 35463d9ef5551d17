"""The way in, in the web app: the file as it is (sheet and header row),
its columns (mapped by hand, skipped, saved as a mapping file the command
line reads), the check against the company, and a bad cell fixed in the
page (recorded, and shown in the run's report); and the library's own
pieces under them (a header row chosen, the mapping file's sheet and
header_row, a job's edits in its report)."""

from __future__ import annotations

import io
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import write_csv, write_workbook, write_xlsx
from test_api import CUSTOMERS

pytest.importorskip("flask")

from openpyxl import load_workbook
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

from importer import Job, check, load_type, run_job
from importer.cli import main
from importer.errors import FileError
from importer.mapping.rules import load_rules, mapping_text
from importer.sandbox import Sandbox
from importer.sources import open_table
from importer.web.app import create_app
from importer.web.users import add_user

SKIP = "__skip__"


def page(client: Any, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return str(answer.get_data(as_text=True))


def post(client: Any, url: str, data: dict[str, str], back: str) -> Any:
    return client.post(url, data={"csrf_token": csrf(client.get(back)), **data})


def summary(web: Web, bid: str) -> dict[str, Any]:
    batch = web.store.batch(bid)
    assert batch is not None
    return batch.summary


# ------------------------------------------------------------- the library


def test_a_header_row_given_is_the_header_in_csv_and_xlsx(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Customer number", "Customer name"],  # a legend that looks like a header
        ["", ""],
        ["Customer number", "Customer name", "Credit limit"],
        ["10001", "Alfa AS", "100"],
    ]
    for path in (write_csv(tmp_path / "c.csv", rows), write_xlsx(tmp_path / "c.xlsx", rows)):
        table = open_table(path, header_row=3)
        assert table.header == ["Customer number", "Customer name", "Credit limit"]
        assert [(r.number, r.cells[1]) for r in table.rows] == [(4, "Alfa AS")]
        assert open_table(path).header_row == 1  # found: the first filled row
        with pytest.raises(FileError, match=r"row 2 .* is empty"):
            open_table(path, header_row=2)


def test_the_mapping_file_says_the_sheet_and_the_header_row(tmp_path: Path) -> None:
    book = write_workbook(
        tmp_path / "two.xlsx",
        {
            "Notes": [["Read me first"]],
            "Data": [
                ["Customer number", "Customer name"],
                [""],
                ["Customer number", "Customer name", "Credit limit"],
                ["10001", "Alfa AS", "100"],
                ["10002", "Beta AS", "200"],
            ],
        },
    )
    mapping = tmp_path / "m.toml"
    mapping.write_text(mapping_text(sheet="Data", header_row=3), encoding="utf-8")
    rules = load_rules(mapping)
    assert rules is not None and (rules.sheet, rules.header_row) == ("Data", 3)
    batch = check(book, load_type("customer"), mapping=mapping)
    assert len(batch.valid_documents) == 2 and batch.table.header_row == 3
    bad = tmp_path / "bad.toml"
    bad.write_text("header_row = 0\n", encoding="utf-8")
    with pytest.raises(Exception, match="header_row is a row number"):
        load_rules(bad)


def test_mapping_text_reads_back_as_written(tmp_path: Path) -> None:
    text = mapping_text(
        sheet='Ordrer "2025"',
        skip=["Saksbehandler", "column H"],
        columns={"Antall stk": "Quantity", 'Pris\\"x': "Unit price"},
        constants={"Branch": "1"},
        values={"VAT code": {"Høy sats": "3"}},
        comment="two\nlines",
    )
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    data = tomllib.loads(text)
    assert data["sheet"] == 'Ordrer "2025"' and data["skip"] == ["Saksbehandler", "column H"]
    assert data["columns"] == {"Antall stk": "Quantity", 'Pris\\"x': "Unit price"}
    assert data["values"] == {"VAT code": {"Høy sats": "3"}}
    assert load_rules(path) is not None


def test_a_jobs_edits_are_in_its_report(tmp_path: Path, sandbox: Sandbox) -> None:
    from importer.sandbox.process import demo_connection

    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    edit = {"who": "anna", "sheet": "", "row": 2, "column": "Customer name", "old": "Alfa",
            "new": "Alfa AS", "when": "2025-01-01T00:00:00Z"}  # fmt: skip
    job = Job(src, "customer", report=tmp_path / "out" / "report", edits=(edit,))
    result = run_job(job, connection=demo_connection(sandbox.url))
    assert result.exit_code == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["edits"] == [edit]
    book = load_workbook(tmp_path / "out" / "report.xlsx", read_only=True)
    rows = list(book["Edits"].iter_rows(values_only=True))
    assert rows[0][:6] == ("who", "sheet", "row", "column", "old", "new")
    assert rows[1][:6] == ("anna", None, 2, "Customer name", "Alfa", "Alfa AS")
    book.close()
    plain = run_job(Job(src, "customer", report=tmp_path / "plain" / "report"),
                    connection=demo_connection(sandbox.url))  # fmt: skip
    assert "edits" not in plain.report.summary()
    book = load_workbook(tmp_path / "plain" / "report.xlsx", read_only=True)
    assert "Edits" not in book.sheetnames
    book.close()


# ------------------------------------------------------ sheet, header row


def test_a_second_sheet_and_a_header_on_row_3_are_what_the_check_and_the_cli_read(
    web: Web, tmp_path: Path
) -> None:
    client = web.client("alice")
    book = write_workbook(
        tmp_path / "export.xlsx",
        {
            "Notes": [["Exported from the old system"], ["Read me first"]],
            "Data": [
                ["Customer number", "Customer name"],
                [""],
                ["Customer number", "Customer name", "Credit limit"],
                ["10001", "Alfa AS", "100"],
                ["10002", "Beta AS", "200"],
            ],
        },
    )
    bid = batch_id(upload(client, book))  # the first sheet names no field: kept, not checked
    text = page(client, f"/batches/{bid}")
    assert "cannot be checked as it is" in text and "choose the type" in text
    sheet = page(client, f"/batches/{bid}/file")
    assert "Exported from the old system" in sheet and '<option value="Data"' in sheet
    data = page(client, f"/batches/{bid}/file?sheet=Data")
    assert "Alfa AS" in data and 'class="header-row"' in data  # the rows as they are

    answer = post(client, f"/batches/{bid}/file",
                  {"type": "customer", "sheet": "Data", "header_row": "3"},
                  f"/batches/{bid}/file")  # fmt: skip
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/batches/{bid}")
    s = summary(web, bid)
    assert s["read"] == {"sheet": "Data", "header_row": 3}
    assert s["rows"] == 2 and s["valid_documents"] == 2 and not s.get("error")
    text = page(client, f"/batches/{bid}")
    assert "Read from sheet Data, the header on row 3." in text
    mapping = client.get(f"/batches/{bid}/mapping.toml")
    assert mapping.status_code == 200
    saved = tmp_path / "export.mapping.toml"
    saved.write_bytes(mapping.data)
    mapping.close()
    assert tomllib.loads(saved.read_text(encoding="utf-8"))["header_row"] == 3
    assert main(["validate", str(book), "--type", "customer", "--mapping", str(saved)]) == 0
    assert main(["validate", str(book), "--type", "customer"]) != 0  # without it: Notes


def test_a_header_row_that_is_empty_is_said_on_the_page(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    bid = batch_id(upload(client, write_csv(tmp_path / "c.csv", CUSTOMERS)))
    answer = post(client, f"/batches/{bid}/file", {"type": "customer", "header_row": "9"},
                  f"/batches/{bid}/file")  # fmt: skip
    assert answer.status_code == 303
    text = page(client, f"/batches/{bid}")
    assert "row 9 of the file is empty" in text and 'role="alert"' in text
    wrong = post(client, f"/batches/{bid}/file", {"type": "customer", "header_row": "x"},
                 f"/batches/{bid}/file")  # fmt: skip
    assert wrong.status_code == 400 and "row number" in wrong.get_data(as_text=True)


# ----------------------------------------------------------------- columns


def test_columns_mapped_by_hand_and_skipped_are_a_mapping_file_the_cli_reads(
    web: Web, tmp_path: Path
) -> None:
    client = web.client("alice")
    rows: list[list[object]] = [
        ["Klientkode", "Firma", "Saksbehandler", "Credit limit"],
        ["10001", "Alfa AS", "call first", "100"],
        ["10002", "Beta AS", "", "200"],
    ]
    src = write_csv(tmp_path / "kunder.csv", rows)
    bid = batch_id(upload(client, src, type="customer"))
    assert "required column missing" in summary(web, bid)["error"]["message"]
    text = page(client, f"/batches/{bid}/columns")
    assert "10001 · 10002" in text and "call first" in text  # sample values
    assert 'for="col-0"' in text and "Field for column Klientkode" in text
    assert text.count('aria-invalid="true"') == 3  # three columns with values and no field
    assert '<option value="creditLimit" selected>' in text  # known by its header

    back = f"/batches/{bid}/columns"
    answer = post(client, back, {"col-0": "number", "col-1": "name", "col-2": "",
                                 "col-3": "creditLimit"}, back)  # fmt: skip
    assert answer.status_code == 303
    s = summary(web, bid)
    assert (
        "Saksbehandler" in s["error"]["message"]
    )  # mapped to nothing, not skipped: still an error
    answer = post(client, back, {"col-0": "number", "col-1": "name", "col-2": SKIP,
                                 "col-3": "creditLimit"}, back)  # fmt: skip
    assert answer.status_code == 303
    s = summary(web, bid)
    assert not s.get("error") and s["valid_documents"] == 2
    again = page(client, back)
    assert '<option value="number" selected>' in again and f'value="{SKIP}" selected' in again

    got = client.get(f"/batches/{bid}/mapping.toml")
    assert got.status_code == 200 and "kunder.mapping.toml" in got.headers["Content-Disposition"]
    saved = tmp_path / "kunder.mapping.toml"
    saved.write_bytes(got.data)
    got.close()
    data = tomllib.loads(saved.read_text(encoding="utf-8"))
    assert data["skip"] == ["Saksbehandler"] and set(data["columns"]) == {"Klientkode", "Firma"}
    assert main(["validate", str(src), "--type", "customer", "--mapping", str(saved)]) == 0
    assert main(["validate", str(src), "--type", "customer"]) == 2  # the columns unknown

    bad = post(client, back, {"col-0": "no.such.field"}, back)
    assert bad.status_code == 400 and "not a field" in bad.get_data(as_text=True)


def test_the_pages_of_another_users_batch_are_not_found(web: Web, tmp_path: Path) -> None:
    bid = batch_id(upload(web.client("alice"), write_csv(tmp_path / "c.csv", CUSTOMERS)))
    bob = web.client("bob")
    for path in ("file", "columns", "mapping.toml"):
        assert bob.get(f"/batches/{bid}/{path}").status_code == 404, path
    token = csrf(bob.get("/"))
    for path in ("file", "columns", "preflight", "cells"):
        answer = bob.post(f"/batches/{bid}/{path}", data={"csrf_token": token, "row": "2",
                                                          "col": "1"})  # fmt: skip
        assert answer.status_code == 404, path


# ------------------------------------------------------- a cell fixed here


def edit(client: Any, bid: str, row: int, col: int, old: str, new: str, sheet: str = "") -> Any:
    return post(client, f"/batches/{bid}/cells",
                {"sheet": sheet, "row": str(row), "col": str(col), "old": old, "new": new},
                "/")  # fmt: skip


def test_a_cell_fixed_in_the_page_is_checked_recorded_and_in_the_runs_report(
    web: Web, tmp_path: Path
) -> None:
    client = web.client("alice")
    src = write_xlsx(tmp_path / "customers.xlsx", WITH_PROBLEMS)
    bid = batch_id(upload(client, src))
    text = page(client, f"/batches/{bid}")
    assert 'aria-label="Rows with problems"' in text
    assert "New value for Customer name, row 3" in text and 'name="old"' in text
    assert 'aria-describedby="c1-1-1-m"' in text and 'id="c1-1-1-m"' in text

    assert edit(client, bid, 3, 1, "", "Beta AS", sheet="Sheet1").status_code == 303
    assert summary(web, bid)["valid_documents"] == 2
    stale = edit(client, bid, 3, 1, "", "Other AS", sheet="Sheet1")  # a second tab
    assert stale.status_code == 409
    assert "changed since the page was shown" in stale.get_data(as_text=True)
    assert edit(client, bid, 4, 2, "<b>lots</b>", "2000", sheet="Sheet1").status_code == 303
    s = summary(web, bid)
    assert s["valid_documents"] == 3 and not s["problems"]

    original = load_workbook(io.BytesIO(web.files.get(f"uploads/{bid}.xlsx").data))
    assert original.active["B3"].value is None  # the upload itself is kept as it came
    original.close()
    text = page(client, f"/batches/{bid}")
    assert "Edited in the page" in text and "Beta AS" in text and "&lt;b&gt;lots&lt;/b&gt;" in text
    assert [(e["row"], e["column"], e["old"], e["new"], e["who"])
            for e in web.app.extensions["vnimport"].edits.of_batch(bid)] == [
        (3, "Customer name", "", "Beta AS", "alice"),
        (4, "Credit limit", "<b>lots</b>", "2000", "alice"),
    ]  # fmt: skip

    run_url = post(client, f"/batches/{bid}/run", {"mode": "create"},
                   f"/batches/{bid}").headers["Location"]  # fmt: skip
    late = edit(client, bid, 2, 1, "Alfa AS", "Alfa ASA", sheet="Sheet1")
    assert late.status_code == 409 and "was imported" in late.get_data(as_text=True)
    web.held.release()
    assert web.sandbox.count("customer") == 3
    report = client.get(f"{run_url}/report.xlsx")
    path = tmp_path / "report.xlsx"
    path.write_bytes(report.data)
    report.close()
    book = load_workbook(path, read_only=True)
    result = {r[0]: r for r in book["Result"].iter_rows(min_row=2, values_only=True)}
    assert result["10002"][1] == "Beta AS" and result["10003"][2] == "2000"
    edits = list(book["Edits"].iter_rows(values_only=True))
    assert [e[:6] for e in edits[1:]] == [
        ("alice", "Sheet1", 3, "Customer name", None, "Beta AS"),
        ("alice", "Sheet1", 4, "Credit limit", "<b>lots</b>", "2000"),
    ]
    book.close()
    got = client.get(f"{run_url}/report.json")
    assert [e["new"] for e in json.loads(got.data)["edits"]] == ["Beta AS", "2000"]
    got.close()


def test_a_csv_cell_fixed_keeps_the_files_encoding_and_delimiter(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    rows: list[list[object]] = [
        ["Customer number", "Customer name", "Credit limit"],
        ["10001", "Ærø Bakeri", "100"],
        ["10002", "Østre AS", "mye"],
    ]
    src = write_csv(tmp_path / "c.csv", rows, encoding="cp1252")
    bid = batch_id(upload(client, src))
    assert summary(web, bid)["valid_documents"] == 1
    assert edit(client, bid, 3, 2, "mye", "1 500").status_code == 303
    assert summary(web, bid)["valid_documents"] == 2
    edited = web.files.get(f"uploads/{bid}.edited.csv").data
    assert edited.decode("cp1252").splitlines() == [
        "Customer number;Customer name;Credit limit",
        "10001;Ærø Bakeri;100",
        "10002;Østre AS;1 500",
    ]
    assert web.files.get(f"uploads/{bid}.csv").data == src.read_bytes()


# ------------------------------------------------------------- the company


@pytest.fixture(name="demo")
def demo_fixture(tmp_path: Path) -> Iterator[Web]:
    """A web app whose company acme is the sandbox's demo company (Bryggen
    Kaffehandel AS: customers 11001-11012), and whose company beta refuses
    the app's credentials."""
    with Sandbox() as sb, Sandbox(EMPTY) as other:
        refused = toml_target(other, "beta", tmp_path / "beta.sqlite").replace(
            'client_secret = "', 'client_secret = "wrong-'
        )
        config = tmp_path / "vnimport.toml"
        config.write_text(toml_target(sb, "acme", tmp_path / "acme.sqlite") + refused,
                          encoding="utf-8")  # fmt: skip
        app = create_app(tmp_path / "data", config, max_upload=64 * 1024, spawn=Held())
        web = Web(app, sb, tmp_path / "data", Held())
        add_user(web.store, "alice", PASSWORD, "own", ["acme", "beta"])
        yield web


INVOICE = ["External reference", "Customer number", "Invoice date", "Item number",
           "Quantity", "Unit price", "VAT code", "Account"]  # fmt: skip


def test_the_check_against_the_company_marks_an_unknown_customer_and_vat_code(
    demo: Web, tmp_path: Path
) -> None:
    client = demo.client("alice")
    rows: list[list[object]] = [
        INVOICE,
        ["A-1", "11001", "2025-03-10", "000123", 2, 189.5, "31", "3000"],
        ["A-2", "99999", "2025-03-10", "000123", 1, 100, "97", "3000"],
    ]
    bid = batch_id(upload(client, write_csv(tmp_path / "inv.csv", rows), type="customer_invoice"))
    text = page(client, f"/batches/{bid}")
    assert "Check against acme" in text and summary(demo, bid)["valid_documents"] == 2
    answer = post(client, f"/batches/{bid}/preflight", {}, f"/batches/{bid}")
    assert answer.status_code == 303
    s = summary(demo, bid)
    assert s["preflight"]["target"] == "acme" and s["preflight"]["errors"] >= 2
    assert s["valid_documents"] == 1
    [bad] = s["problems"]
    assert bad["row"] == 3
    marked = {INVOICE[i] for i, c in enumerate(bad["cells"]) if c["messages"]}
    assert marked == {"Customer number", "VAT code"}
    text = page(client, f"/batches/{bid}")
    assert "Checked against acme" in text and text.count('aria-invalid="true"') == 2
    assert "New value for Customer number, row 3" in text

    # fixed in the page: checked against the company again, as the last check was
    assert edit(client, bid, 3, 1, "99999", "11002").status_code == 303
    assert edit(client, bid, 3, 6, "97", "31").status_code == 303
    s = summary(demo, bid)
    assert s["preflight"]["errors"] == 0 and s["valid_documents"] == 2


def test_a_company_that_refuses_the_check_is_said_plainly(demo: Web, tmp_path: Path) -> None:
    client = demo.client("alice")
    bid = batch_id(upload(client, write_csv(tmp_path / "c.csv", CUSTOMERS), target="beta"))
    assert post(client, f"/batches/{bid}/preflight", {}, f"/batches/{bid}").status_code == 303
    s = summary(demo, bid)
    assert s["preflight"]["error"]["code"] == "auth-error"
    assert s["valid_documents"] == 3  # the file's own check stands
    text = page(client, f"/batches/{bid}")
    assert "The check against beta could not be done" in text and 'role="alert"' in text


# ------------------------------------------------ the fix-me workbook again


def test_the_fixme_workbook_fixed_in_excel_and_uploaded_again_imports(
    web: Web, tmp_path: Path
) -> None:
    client = web.client("alice")
    bid = batch_id(upload(client, write_xlsx(tmp_path / "customers.xlsx", WITH_PROBLEMS)))
    got = client.get(f"/batches/{bid}/fixme.xlsx")
    fixme = tmp_path / "customers.fixme.xlsx"
    fixme.write_bytes(got.data)
    got.close()
    book = load_workbook(fixme)
    ws = book.worksheets[0]
    assert [c.value for c in ws[1]] == WITH_PROBLEMS[0]
    by_number = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(by_number["10002"], 2).value = "Beta AS"
    ws.cell(by_number["10003"], 3).value = 750
    book.save(fixme)
    book.close()

    again = batch_id(upload(client, fixme))
    s = summary(web, again)
    assert s["type"] == "customer" and s["rows"] == 2 and s["valid_documents"] == 2
    post(client, f"/batches/{again}/run", {"mode": "create"}, f"/batches/{again}")
    web.held.release()
    assert web.sandbox.count("customer") == 2


# ------------------------------------------------------------------- upload


def test_the_upload_form_takes_a_dropped_file_and_works_without_script(web: Web) -> None:
    client = web.client("alice")
    home = page(client, "/")
    assert 'type="file"' in home and "data-dropzone" in home and "upload.js" in home
    assert "<script>" not in home and "style=" not in home and "hx-on" not in home
    script = client.get("/static/upload.js")
    assert script.status_code == 200 and b"dataTransfer" in script.data
    script.close()
