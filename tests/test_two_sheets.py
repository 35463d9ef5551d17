"""A header sheet and a lines sheet, joined by the document key."""

from __future__ import annotations

import csv
from pathlib import Path

from conftest import write_workbook
from openpyxl import load_workbook
from records import preview_records

from importer.batch import check, validation_report
from importer.doctypes import DocType, Registry
from importer.report import write_report

ROOT = Path(__file__).resolve().parents[1]


def _sample(name: str) -> list[list[str]]:
    with (ROOT / "samples" / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh, delimiter=";"))


def split(
    doctype: DocType, rows: list[list[str]], key: str
) -> tuple[list[list[str]], list[list[str]]]:
    """The one-sheet rows as a header sheet (one row per document) and a
    lines sheet, both with the ``key`` column."""
    header = rows[0]
    fields = [doctype.resolve_header(h) for h in header]
    k = header.index(key)
    head_cols = [i for i, f in enumerate(fields) if f and not doctype.is_line_field(f)]
    line_cols = [k] + [i for i, f in enumerate(fields) if f and doctype.is_line_field(f)]
    heads: list[list[str]] = [[header[i] for i in head_cols]]
    seen: set[str] = set()
    lines: list[list[str]] = [[header[i] for i in line_cols]]
    for row in rows[1:]:
        if row[k] not in seen:
            seen.add(row[k])
            heads.append([row[i] for i in head_cols])
        lines.append([row[i] for i in line_cols])
    return heads, lines


def test_header_and_lines_sheets_preview_as_the_one_sheet_file(tmp_path: Path) -> None:
    doctype = Registry().get("customer_invoice")
    rows = _sample("customer_invoice")
    heads, lines = split(doctype, rows, "External reference")
    one = list(preview_records(check(ROOT / "samples" / "customer_invoice.csv", doctype)))
    for order in (("Invoices", "Lines"), ("Lines", "Invoices")):  # either sheet first
        sheets = {"Invoices": heads, "Lines": lines}
        path = write_workbook(tmp_path / f"{order[0]}.xlsx", {s: sheets[s] for s in order})
        prepared = check(path, doctype)
        two = list(preview_records(prepared))
        assert [(r["key"], r["body"]) for r in two] == [(r["key"], r["body"]) for r in one]
        assert {t.sheet for t in prepared.tables} == {"Invoices", "Lines"}
        report = validation_report(prepared)
        assert {r.sheet for r in report.results} == {"Invoices", "Lines"}
        assert all(r.status == "valid" for r in report.results)


def test_problems_are_reported_on_the_row_of_their_own_sheet(tmp_path: Path) -> None:
    doctype = Registry().get("customer_invoice")
    heads = [
        ["Invoice number", "Customer number", "Invoice date", "Currency"],
        ["1", "010104", "2025-03-03", "NOK"],
        ["2", "010104", "31.02.2025", "NOK"],  # an impossible date
        ["3", "010104", "2025-03-03", "NOKK"],  # breaks the currency rule
        ["4", "010104", "2025-03-03", "NOK"],  # no lines
        ["1", "010102", "2025-03-03", "NOK"],  # the same invoice twice
    ]
    lines = [
        ["Invoice no", "Item number", "Quantity"],
        ["1", "000123", "2"],
        ["2", "000123", "1"],
        ["3", "000123", "1"],
        ["3", "000124", "many"],  # not a number
        ["9", "000123", "1"],  # no such invoice
    ]
    path = write_workbook(tmp_path / "two.xlsx", {"Fakturaer": heads, "Linjer": lines})
    report = validation_report(check(path, doctype))
    found = {(r.sheet, r.row, i.column, i.code) for r in report.results for i in r.issues}
    assert found == {
        ("Fakturaer", 3, "Invoice date", "invalid-date"),
        ("Fakturaer", 4, "Currency", "pattern"),
        ("Fakturaer", 5, "Invoice number", "no-lines"),
        ("Fakturaer", 6, "Invoice number", "duplicate-key"),
        ("Linjer", 3, "", "document-invalid"),
        ("Linjer", 4, "", "document-invalid"),
        ("Linjer", 5, "Quantity", "type"),
        ("Linjer", 6, "Invoice no", "unknown-key"),
    }
    status = {(r.sheet, r.row): r.status for r in report.results}
    assert status[("Fakturaer", 2)] == status[("Linjer", 2)] == "valid"
    # every problem is said once, on one row
    assert sum(1 for r in report.results for i in r.issues if i.code == "pattern") == 1


def test_the_fixme_workbook_keeps_both_sheets_and_imports_again(tmp_path: Path) -> None:
    doctype = Registry().get("customer_invoice")
    heads = [
        ["Invoice number", "Customer number", "Invoice date"],
        ["1", "010104", "2025-03-03"],
        ["2", "010104", "2025-02-31"],
    ]
    lines = [["Invoice number", "Item number", "Quantity"], ["1", "A", "1"], ["2", "B", "1"]]
    path = write_workbook(tmp_path / "two.xlsx", {"Invoices": heads, "Lines": lines})
    paths = write_report(validation_report(check(path, doctype)), tmp_path / "out" / "report")
    results = load_workbook(paths["xlsx"])
    assert results.sheetnames[:2] == ["Invoices result", "Lines result"]
    fixme = load_workbook(paths["fixme"])
    assert fixme.sheetnames == ["Invoices", "Lines"]
    assert [list(r) for r in fixme["Invoices"].iter_rows(values_only=True)] == [
        heads[0],
        heads[2],
    ]
    assert [list(r) for r in fixme["Lines"].iter_rows(values_only=True)] == [lines[0], lines[2]]
    fixme["Invoices"]["C2"] = "2025-02-28"
    fixme.save(tmp_path / "fixed.xlsx")
    [again] = preview_records(check(tmp_path / "fixed.xlsx", doctype))
    assert again["key"] == "2" and again["body"]["documentDate"]["value"].startswith("2025-02-28")


def test_a_two_sheet_workbook_imports_into_the_sandbox_once(tmp_path: Path) -> None:
    from records import send_with
    from test_run import connection, customer

    from importer.sandbox import Sandbox
    from importer.targets.client import VismaClient
    from importer.targets.journal import Journal

    doctype = Registry().get("customer_invoice")
    heads = [["Invoice number", "Customer number", "Invoice date"], ["1", "10000", "2025-03-03"]]
    lines = [["Invoice number", "Description", "Quantity"], ["1", "A", "1"], ["1", "B", "2"]]
    path = write_workbook(tmp_path / "two.xlsx", {"Invoices": heads, "Lines": lines})
    journal = Journal(tmp_path / "journal.sqlite")
    with Sandbox() as sb:
        customer(sb)
        for expected in ("created", "unchanged"):  # a re-run sends nothing
            client = VismaClient(connection(sb), workers=2)
            report = send_with(check(path, doctype), client, journal, mode="create")
            assert {(r.sheet, r.row): r.status for r in report.results} == {
                ("Invoices", 2): expected,
                ("Lines", 2): expected,
                ("Lines", 3): expected,
            }
        [doc] = sb.documents("customer_invoice")
        assert [line["description"] for line in doc["invoiceLines"]] == ["A", "B"]
