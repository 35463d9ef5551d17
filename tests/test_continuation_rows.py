"""Continuation rows, as Odoo and Frappe read them (issue 12): a row whose
key and header cells are blank is one more line of the document above; a
blank key beside a filled header cell is an error there, and the document
above is then not sent with fewer lines. A file with no key column at all
is read the same way. Real csv and xlsx files."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from conftest import write_csv
from records import preview_records

from importer import check, load_type, validation_report

HEADER = ["External reference", "Customer number", "Invoice date", "Line text", "Quantity",
          "Unit price"]  # fmt: skip


def test_a_row_with_no_key_and_no_header_values_continues_the_document_above(
    tmp_path: Path,
) -> None:
    rows = [
        HEADER,
        ["R-1", "10000", "2025-03-03", "Kaffe", "1", "10"],
        ["", "", "", "Te", "2", "20"],
        ["", "", "", "Brød", "3", "30"],
        ["R-2", "10000", "2025-03-04", "Melk", "4", "40"],
        ["", "", "", "Ost", "5", "50"],
    ]
    batch = check(write_csv(tmp_path / "i.csv", rows), load_type("customer_invoice"))
    records = {r["key"]: r["body"] for r in preview_records(batch)}
    texts = {k: [line["description"]["value"] for line in body["invoiceLines"]]
             for k, body in records.items()}  # fmt: skip
    assert texts == {"R-1": ["Kaffe", "Te", "Brød"], "R-2": ["Melk", "Ost"]}
    assert records["R-2"]["customerNumber"] == {"value": "10000"}


def test_a_blank_key_beside_a_header_value_is_an_error_and_the_document_waits(
    tmp_path: Path,
) -> None:
    rows = [
        HEADER,
        ["R-1", "10000", "2025-03-03", "Kaffe", "1", "10"],
        ["", "10001", "", "Te", "2", "20"],  # a sorted sheet: which invoice is this?
        ["R-2", "10000", "2025-03-04", "Melk", "4", "40"],
    ]
    batch = check(write_csv(tmp_path / "i.csv", rows), load_type("customer_invoice"))
    report = validation_report(batch)
    by_row = {r.row: r for r in report.results}
    (issue,) = by_row[3].errors
    assert (issue.code, issue.column) == ("continuation-header", "Customer number")
    assert "continues customer invoice 'R-1' above, but Customer number is filled" in issue.message
    assert by_row[2].status == "invalid"  # R-1 is not sent with fewer lines
    assert [r["key"] for r in preview_records(batch)] == ["R-2"]


def test_a_document_whose_lines_come_again_further_down_is_held_back(tmp_path: Path) -> None:
    """An invoice exported twice into one file is not one invoice with every
    line doubled: its key coming again apart from its lines is an error."""
    rows = [
        HEADER,
        ["R-1", "10000", "2025-03-03", "Kaffe", "1", "10"],
        ["R-1", "10000", "2025-03-03", "Te", "2", "20"],
        ["R-2", "10000", "2025-03-04", "Melk", "4", "40"],
        ["R-1", "10000", "2025-03-03", "Kaffe", "1", "10"],
        ["R-1", "10000", "2025-03-03", "Te", "2", "20"],
    ]
    batch = check(write_csv(tmp_path / "i.csv", rows), load_type("customer_invoice"))
    report = validation_report(batch)
    by_row = {r.row: r for r in report.results}
    (issue,) = by_row[5].errors
    assert (issue.code, issue.column) == ("duplicate-key", "External reference")
    assert (
        "'R-1' comes again here, apart from its rows 2-3 above, with the same line as row 2"
        in issue.message
    )
    assert {by_row[n].status for n in (2, 3, 5, 6)} == {"invalid"}
    assert [r["key"] for r in preview_records(batch)] == ["R-2"]


def test_a_blank_key_on_the_first_row_has_no_document_to_continue(tmp_path: Path) -> None:
    rows = [HEADER, ["", "", "", "Te", "2", "20"], ["R-1", "10000", "2025-03-03", "K", "1", "1"]]
    report = validation_report(
        check(write_csv(tmp_path / "i.csv", rows), load_type("customer_invoice"))
    )
    assert report.results[0].errors[0].code == "missing-key"


def test_a_file_without_a_key_column_is_read_in_blocks(tmp_path: Path) -> None:
    rows = [
        HEADER[1:],
        ["10000", "2025-03-03", "Kaffe", "1", "10"],
        ["", "", "Te", "2", "20"],
        ["10001", "2025-03-04", "Melk", "4", "40"],
    ]
    batch = check(write_csv(tmp_path / "i.csv", rows), load_type("customer_invoice"))
    records = preview_records(batch)
    assert [len(r["body"]["invoiceLines"]) for r in records] == [2, 1]
    keys = [r["key"] for r in records]
    assert all(k.startswith("content:") for k in keys)
    # known by what it holds, not by where it is: rows above it change nothing
    moved = [rows[0], rows[3], *rows[1:3]]
    again = preview_records(
        check(write_csv(tmp_path / "j.csv", moved), load_type("customer_invoice"))
    )
    assert sorted(r["key"] for r in again) == sorted(keys)


def test_a_purchase_order_as_vismas_documentation_writes_it(tmp_path: Path) -> None:
    """The POST PurchaseOrder example of Visma's own documentation (seed
    004): order type, date, supplier and one line, no number."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Order type", "Order date", "Supplier number", "Item number", "Line type",
               "Warehouse", "Unit", "Order quantity", "Unit cost"])  # fmt: skip
    ws.append(["RegularOrder", "2019-12-27", "50000", "teststock", "GoodsForInventory", "2",
               "PALL", 2, 2000])  # fmt: skip
    wb.save(tmp_path / "po.xlsx")
    (record,) = preview_records(check(tmp_path / "po.xlsx", load_type("purchase_order")))
    example = {
        "orderType": {"value": "RegularOrder"},
        "date": {"value": "2019-12-27T00:00:00"},  # the example's own time is 09:46:11.202Z
        "supplier": {"value": "50000"},
        "lines": [
            {
                "operation": "Insert",
                "inventory": {"value": "teststock"},
                "lineType": {"value": "GoodsForInventory"},
                "warehouse": {"value": "2"},
                "uom": {"value": "PALL"},
                "orderQty": {"value": 2},
                "unitCost": {"value": 2000},
            }
        ],
    }
    assert record["body"] == example


def test_a_total_row_at_the_bottom_is_checked_and_never_imported(tmp_path: Path) -> None:
    rows = [
        HEADER,
        ["R-1", "10000", "2025-03-03", "Kaffe", "1", "10"],
        ["R-1", "10000", "2025-03-03", "Te", "2", "20"],
        ["R-2", "10000", "2025-03-04", "Melk", "4", "40"],
        ["Totalt", "", "", "", "7", "70"],
    ]
    batch = check(write_csv(tmp_path / "i.csv", rows), load_type("customer_invoice"))
    report = validation_report(batch)
    assert [d.key for d in batch.documents] == ["R-1", "R-2"]  # no document "Totalt"
    assert {r.status for r in report.results} == {"valid"} and len(report.results) == 3
    assert [w.message for w in batch.warnings] == [
        "row 5 is a total row ('Totalt'); its amounts agree with the rows above, and it is "
        "not imported"
    ]
    rows[-1] = ["Sum", "", "", "", "7", "700"]  # a price read as ten times itself somewhere
    src = write_csv(tmp_path / "j.csv", rows)
    report = validation_report(check(src, load_type("customer_invoice")))
    (total,) = [r for r in report.results if r.row == 5]
    (issue,) = total.errors
    assert (issue.code, issue.column) == ("total-row", "Unit price")
    assert "700 in the total row is not the sum of the column above, 70" in issue.message
    assert [r.key for r in report.results if r.status == "valid"] == ["R-1", "R-1", "R-2"]
    assert report.document_counts() == {"valid": 2}  # the total row is no document
