"""Checks an accountant would make, declared in the schemas (importer.checks):
control totals (a line total, a document total, a name beside a number)
are understood and never sent; enum values typed in Norwegian or Swedish
reach Visma in its own words; dates, signs and e-mail addresses are checked
on the cell they concern. Files are real csv and xlsx files written here."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, TYPES, write_csv, write_workbook
from records import preview_records

from importer import check, load_type
from importer.batch import Batch, validation_report
from importer.codes import CODES, MESSAGES, render_issue
from importer.doctypes import DocType, Registry, load_doctype
from importer.errors import DocTypeError
from importer.group import group_rows
from importer.issues import RowIssue
from importer.mapping import map_table
from importer.sources import open_table
from importer.validate import validate_rows

# The message keys of the declared checks (every one is reached below).
KEYS = {k for k in MESSAGES["en"] if k.partition(".")[0] in ("control-total", "not-before")}
KEYS |= {k for k in MESSAGES["en"] if k.partition(".")[0] in ("negative", "emails")}


def _issues(batch: Batch) -> list[RowIssue]:
    return [i for row in batch.rows for i in row.issues if i.code != "document-invalid"]


def _found(batch: Batch) -> set[tuple[int, str, str, str]]:
    """(row, column, code, severity) of every issue of the batch's rows."""
    return {(i.row, i.column, i.code, i.severity) for i in _issues(batch)}


def _invoice_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """Customer invoices of one row each: number, customer, date and text
    before the given columns."""
    head = ["Fakturanummer", "Kundenummer", "Fakturadato", "Beskrivelse", *header]
    body = [[str(n), "10000", "2025-03-03", f"Linje {n}", *r] for n, r in enumerate(rows, 2)]
    return write_csv(path, [head, *body])


def _bodies(batch: Batch) -> list[dict[str, Any]]:
    return [r["body"] for r in preview_records(batch)]


# ------------------------------------------------------------ line totals


def test_a_line_total_is_checked_against_quantity_price_and_discount(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["12", "189.50", "5", "", "2160.30"],  # 2274.00 less 5 %: agrees
        ["3", "33.333", "", "", "99.99"],  # 99.999 is 100.00 to the cent: 0.01 is rounding
        ["3", "33.333", "", "", "99.98"],  # 0.02 off
        ["2", "100", "", "15", "185.00"],  # less a discount amount: agrees
        ["2", "100", "10", "20", "180"],  # percent and amount agree; the amount is what counts
        ["2", "100", "10", "25", "175"],  # they disagree: said on the discount amount
        ["40", "24.90", "", "", "1000"],  # 996.00
    ]
    path = _invoice_csv(
        tmp_path / "lines.csv", ["Antall", "Pris", "Rabatt %", "Rabattbeløp", "Beløp"], rows
    )
    batch = check(path, load_type("customer_invoice"))
    assert _found(batch) == {
        (4, "Beløp", "control-total", "error"),
        (7, "Rabattbeløp", "control-total", "error"),
        (8, "Beløp", "control-total", "error"),
    }
    by_row = {i.row: i.message for i in _issues(batch)}
    assert by_row[4] == "Line total 99.98 does not agree with the line: 3 x 33.333 = 100.00"
    assert by_row[7] == (
        "Discount amount 25 is not 10 % of 200.00 (20.00); give the discount one way, "
        "or make the two agree"
    )
    assert by_row[8] == "Line total 1000 does not agree with the line: 40 x 24.9 = 996.00"
    statuses = {r.row: r.status for r in validation_report(batch).results}
    assert statuses[3] == "valid" and statuses[4] == "invalid"


def test_a_line_total_is_checked_against_the_line_amount_when_one_is_given(
    tmp_path: Path,
) -> None:
    header = ["Antall", "Pris", "Linjebeløp", "Beløp"]
    rows: list[list[object]] = [
        ["", "", "500", "500"],  # an amount-only line, and its control total
        ["", "", "500", "450"],
        ["2", "100", "190", "190"],  # the line amount is itself checked
    ]
    batch = check(_invoice_csv(tmp_path / "a.csv", header, rows), load_type("customer_invoice"))
    assert _found(batch) == {
        (3, "Beløp", "control-total", "error"),
        (4, "Linjebeløp", "control-total", "error"),
    }
    (issue,) = [i for i in _issues(batch) if i.row == 3]
    assert issue.message == "Line total 450 does not agree with Line amount 500 on the same line"


def test_a_line_total_nothing_can_check_is_never_silently_dropped(tmp_path: Path) -> None:
    header = ["Antall", "Pris", "Beløp"]
    rows: list[list[object]] = [["", "", "500"], ["2", "", "300"]]
    batch = check(_invoice_csv(tmp_path / "a.csv", header, rows), load_type("customer_invoice"))
    assert _found(batch) == {
        (2, "Beløp", "control-total", "error"),  # its amount would be lost
        (3, "Beløp", "control-total", "warning"),  # Visma takes the item's price
    }
    messages = {i.row: i.message for i in _issues(batch)}
    assert messages[2] == (
        "Line total 500 is only a control total, not sent to Visma, and the line has no "
        "Quantity and Unit price to check it against, so the amount would be lost: fill "
        "Quantity and Unit price, or put the amount in Line amount to import it"
    )
    assert "Visma takes the item's own price" in messages[3]


def _with_control_columns(doctype: DocType, rows: list[list[str]]) -> list[list[str]]:
    """The sample's rows with a line total, a lines total and the party's name
    added, each agreeing with the rest of the row."""
    header = rows[0]
    fields = [doctype.resolve_header(h) for h in header]
    lines = doctype.lines
    assert lines is not None
    total = doctype.fields.get(f"{lines}.lineTotal")

    def number(row: list[str], *names: str) -> Decimal | None:
        for name in names:
            if name in fields and row[fields.index(name)]:
                return Decimal(row[fields.index(name)])
        return None

    amounts: list[Decimal] = []
    for row in rows[1:]:
        qty = number(row, f"{lines}.quantity", f"{lines}.orderQty")
        price = number(
            row, f"{lines}.unitPriceInCurrency", f"{lines}.unitCostInCurrency", f"{lines}.unitCost"
        )
        pct = number(row, f"{lines}.discountPercent") or Decimal(0)
        typed = number(row, f"{lines}.costInCurrency")
        if typed is None:
            assert qty is not None and price is not None
            gross = (qty * price).quantize(Decimal("0.01"), ROUND_HALF_UP)
            typed = gross - (gross * pct / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        amounts.append(typed)
    key = fields.index(next(k for k in doctype.key_fields if k in fields))
    sums: dict[str, Decimal] = {}
    for row, amount in zip(rows[1:], amounts, strict=True):
        sums[row[key]] = sums.get(row[key], Decimal(0)) + amount
    name = next(iter(doctype.cross_checks))
    out = [[*header, doctype.fields[name].title, "Lines total"]]
    if total is not None:
        out[0].append(total.title)
    for row, amount in zip(rows[1:], amounts, strict=True):
        extra = ["Kaffe & Co AS", str(sums[row[key]])]
        out.append([*row, *extra, *([str(amount)] if total is not None else [])])
    return out


DOCUMENT_TYPES = [n for n in TYPES if load_type(n).lines]


@pytest.mark.parametrize("name", DOCUMENT_TYPES)
def test_control_columns_are_understood_and_never_sent(name: str, tmp_path: Path) -> None:
    """The sample with a line total, a lines total and the party's name beside
    its number: no issue, no unknown column, and the very same requests."""
    doctype = load_type(name)
    with (ROOT / "samples" / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    path = write_csv(tmp_path / f"{name}.csv", _with_control_columns(doctype, rows))
    batch = check(path, doctype)
    assert _issues(batch) == [] and batch.warnings == []
    assert _bodies(batch) == _bodies(check(ROOT / "samples" / f"{name}.csv", doctype))


@pytest.mark.parametrize("name", TYPES)
def test_no_template_names_a_field_that_is_never_sent(name: str) -> None:
    doctype = load_type(name)
    never = set(doctype.cross_checks)
    never |= {c.field for c in doctype.declared.controls if c.kind != "line-amount"}
    text = doctype.template_path.read_text(encoding="utf-8")
    for field in never:
        assert not re.search(rf"\b{re.escape(field.rsplit('.', 1)[-1])}\b", text), field
        assert doctype.fields[field].description.startswith(
            ("Control total, never sent", "Never sent")
        )


# Per type, what the amount headers mean: the line's amount, imported (Visma
# takes it as an input: supplier invoice lines of freight or fees have no
# quantity or cost), or a control total (Visma computes the amount from
# quantity x price: customer documents and purchase orders), never sent.
AMOUNT_HEADERS = [
    "Amount",
    "Beløp",
    "Linjesum",
    "Belopp",
    "Radsumma",
    "Sum",
    "Line total",
    "Totalt",
]
DECISIONS = {
    "customer_invoice": ("invoiceLines.lineTotal", "invoiceLines.manualAmountInCurrency"),
    "customer_credit_note": ("lines.lineTotal", "lines.manualAmountInCurrency"),
    "customer_debit_note": ("lines.lineTotal", "lines.manualAmountInCurrency"),
    "purchase_order": ("lines.lineTotal", "lines.amount"),
    "supplier_invoice": ("invoiceLines.costInCurrency", "invoiceLines.costInCurrency"),
}


@pytest.mark.parametrize("name", sorted(DECISIONS))
def test_each_type_says_whether_an_amount_column_is_imported_or_a_control_total(
    name: str,
) -> None:
    doctype = load_type(name)
    amount_field, line_amount_field = DECISIONS[name]
    for header in AMOUNT_HEADERS:
        assert doctype.resolve_header(header) == amount_field, header
    for header in ("Line amount", "Linjebeløp", "Radbelopp"):
        assert doctype.resolve_header(header) == line_amount_field, header
    control = doctype.declared.control(amount_field)
    assert control is not None
    description = doctype.fields[amount_field].description
    if control.kind == "line-total":
        assert description.startswith("Control total, never sent")
    else:
        assert control.kind == "line-amount" and description.startswith("Imported")
    assert doctype.fields[line_amount_field].description.startswith("Imported")


def test_an_amount_only_line_is_imported_where_visma_takes_the_amount(tmp_path: Path) -> None:
    header = ["Supplier number", "Invoice date", "Supplier invoice number", "Line text", "Beløp"]
    path = write_csv(tmp_path / "si.csv", [header, ["50000", "2025-11-03", "F-1", "Frakt", "149"]])
    batch = check(path, load_type("supplier_invoice"))
    assert _issues(batch) == []
    assert _bodies(batch)[0]["invoiceLines"][0]["costInCurrency"] == {"value": 149}
    header = ["Customer number", "Invoice date", "Invoice number", "Description", "Linjebeløp"]
    path = write_csv(tmp_path / "ci.csv", [header, ["10000", "2025-03-03", "1", "Honorar", "500"]])
    batch = check(path, load_type("customer_invoice"))
    assert _issues(batch) == []
    assert _bodies(batch)[0]["invoiceLines"][0]["manualAmountInCurrency"] == {"value": 500}


def test_the_name_beside_a_number_is_a_declared_cross_check() -> None:
    expected = {
        "customer_invoice": {"customerName": "customerNumber"},
        "customer_credit_note": {"customerName": "customerNumber"},
        "customer_debit_note": {"customerName": "customerNumber"},
        "supplier_invoice": {"supplierName": "supplierNumber"},
        "purchase_order": {"supplierName": "supplier"},
    }
    for name, cross in expected.items():
        doctype = load_type(name)
        assert dict(doctype.cross_checks) == cross
        for header in (
            "Customer name",
            "Kundenavn",
            "Kundnamn",
            "Supplier name",
            "Leverandørnavn",
            "Leverantörsnamn",
        ):
            found = doctype.resolve_header(header)
            assert found is None or found in cross, (name, header)


# ------------------------------------------------------- document totals


def _invoices_on_two_sheets(path: Path, totals: list[object], third: list[object]) -> Path:
    """Two invoices, a header sheet with a lines total, a lines sheet."""
    heads: list[list[object]] = [
        ["Invoice number", "Customer number", "Invoice date", "Lines total"],
        ["1", "10000", "2025-03-03", totals[0]],
        ["2", "10000", "2025-03-03", totals[1]],
    ]
    lines: list[list[object]] = [
        ["Invoice number", "Description", "Quantity", "Unit price", "Discount %", "Line amount"],
        ["1", "Kaffe", 12, 189.5, 5, ""],  # 2160.30
        ["1", "Filter", 3, 33.333, "", ""],  # 100.00
        ["2", "Honorar", "", "", "", 500],
        ["2", *third],
    ]
    return write_workbook(path, {"Invoices": heads, "Lines": lines})


def test_a_document_total_is_checked_against_its_lines_in_awrite_workbook(tmp_path: Path) -> None:
    doctype = load_type("customer_invoice")
    good = _invoices_on_two_sheets(tmp_path / "good.xlsx", [2260.3, 750], ["Te", 2, 125, "", ""])
    assert _issues(check(good, doctype)) == []
    # 0.01 a line is rounding; more is not
    near = _invoices_on_two_sheets(tmp_path / "near.xlsx", [2260.32, 750], ["Te", 2, 125, "", ""])
    assert _issues(check(near, doctype)) == []
    bad = _invoices_on_two_sheets(tmp_path / "bad.xlsx", [2260.3, 800], ["Te", 2, 125, "", ""])
    batch = check(bad, doctype)
    assert _found(batch) == {(3, "Lines total", "control-total", "error")}
    (issue,) = _issues(batch)
    assert issue.sheet == "Invoices"
    assert issue.message == (
        "Lines total 800 does not agree with the sum of the document's 2 lines, "
        "750.00 (excluding VAT)"
    )
    # A line whose price comes from the item: the total cannot be checked, and says so.
    unsure = _invoices_on_two_sheets(tmp_path / "unsure.xlsx", [2260.3, 750], ["Te", 2, "", "", ""])
    batch = check(unsure, doctype)
    assert _found(batch) == {(3, "Lines total", "control-total", "warning")}
    assert "the line on row 5 has no amount" in _issues(batch)[0].message


def test_a_document_total_on_one_sheet_is_checked_with_the_grouping(tmp_path: Path) -> None:
    """validate_rows checks document totals when given the grouping (what
    importer.batch.check passes it once it does: see test below)."""
    doctype = load_type("supplier_invoice")
    header = ["Supplier number", "Invoice date", "Supplier invoice number", "Line text"]
    header += ["Quantity", "Unit cost", "Line amount", "Lines total"]
    rows: list[list[object]] = [
        header,
        ["50000", "2025-11-03", "F-1", "Papir", "20", "54.50", "", "1239"],  # 1090.00
        ["50000", "2025-11-03", "F-1", "Frakt", "", "", "149", ""],
        ["50000", "2025-11-03", "F-2", "Papir", "2", "10", "", "25"],
    ]
    table = open_table(write_csv(tmp_path / "si.csv", rows))
    mapped = map_table(table, doctype)
    grouping = group_rows(doctype, mapped.colmap, mapped.rows)
    validate_rows(doctype, mapped.colmap, mapped.rows, grouping)
    found = {(r.number, i.column, i.code) for r in mapped.rows for i in r.issues}
    assert found == {(4, "Lines total", "control-total")}


def test_a_document_total_on_one_sheet_is_checked_by_check(tmp_path: Path) -> None:
    header = ["Invoice number", "Customer number", "Invoice date", "Description"]
    header += ["Quantity", "Unit price", "Lines total"]
    rows: list[list[object]] = [
        header,
        ["1", "10000", "2025-03-03", "Kaffe", "2", "100", "250"],
        ["1", "10000", "2025-03-03", "Te", "1", "100", "250"],
    ]
    batch = check(write_csv(tmp_path / "ci.csv", rows), load_type("customer_invoice"))
    assert _found(batch) == {(2, "Lines total", "control-total", "error")}


# ------------------------------------------------------------- enum words


def test_every_enum_field_has_norwegian_and_swedish_words() -> None:
    for name in TYPES:
        doctype = load_type(name)
        for field, prop in doctype.schema["properties"].items():
            if "enum" not in prop:
                continue
            aliases = prop.get("x-enum-aliases", {})
            for lang in ("nb", "sv"):
                meant = set(aliases.get(lang, {}).values())
                # A code such as IBAN is the same word in every language.
                missing = {v for v in prop["enum"] if v not in meant and not v.isupper()}
                assert not missing, f"{name}: {field} has no {lang} word for {sorted(missing)}"


@pytest.mark.parametrize(
    ("name", "field", "typed", "sent"),
    [
        ("customer", "status", "Aktiv", "Active"),
        ("customer", "status", "inaktiv", "Inactive"),
        ("customer", "status", "På vent", "OnHold"),
        ("customer", "status", "Kreditspärr", "CreditHold"),
        ("customer", "status", "on hold", "OnHold"),  # Visma's own word, loosely
        ("customer", "creditVerification", "Kredittgrense", "CreditLimit"),
        ("customer", "statementType", "Öppna poster", "OpenItem"),
        ("supplier", "status", "Betalingsstopp", "HoldPayments"),
        ("supplier", "paymentBy", "Förfallodatum", "DueDate"),
        ("supplier", "chargeBearer", "Delt", "Shared"),
        ("supplier", "accountUsedForPayment", "Bankgiro", "BANKGIRO"),
        ("supplier_invoice", "documentType", "Faktura", "Invoice"),
        ("supplier_invoice", "documentType", "kreditnota", "CreditAdj"),
        ("supplier_invoice", "taxCalculationMode", "Brutto", "Gross"),
        ("purchase_order", "orderType", "Rammeordre", "Blanket"),
        ("purchase_order", "shippingDestinationType", "Leverantör", "Vendor"),
        ("purchase_order", "lines.lineType", "Tjänst", "Service"),
    ],
)
def test_an_enum_word_is_read_as_visma_s_value(
    name: str, field: str, typed: str, sent: str
) -> None:
    assert load_type(name).enum_value(field, typed) == sent


def _body_value(body: dict[str, Any], field: str) -> Any:
    node: Any = body
    for part in field.split("."):
        node = node[part][0] if isinstance(node[part], list) else node[part]
    return node["value"] if isinstance(node, dict) and "value" in node else node


@pytest.mark.parametrize(
    ("name", "rows", "field", "sent"),
    [
        (
            "customer",
            [["Kundenummer", "Kundenavn", "Status"], ["10000", "Kaffe AS", "aktiv"]],
            "status",
            "Active",
        ),
        (
            "supplier_invoice",
            [
                ["Leverandørnummer", "Fakturadato", "Dokumenttype", "Tekst", "Beløp"],
                ["50000", "03.11.2025", "Kreditnota", "Retur", "149"],
            ],
            "documentType",
            "CreditAdj",
        ),
        (
            "purchase_order",
            [
                ["Leverantörsnummer", "Orderdatum", "Ordertyp", "Radtyp", "Radtext", "Antal"],
                ["50000", "2025-11-10", "Vanlig order", "Tjänst", "Montering", "2"],
            ],
            "lines.lineType",
            "Service",
        ),
    ],
)
def test_the_request_carries_visma_s_word(
    name: str, rows: list[list[object]], field: str, sent: str, tmp_path: Path
) -> None:
    batch = check(write_csv(tmp_path / "f.csv", rows), load_type(name))
    assert _issues(batch) == []
    (body,) = _bodies(batch)
    assert _body_value(body, field) == sent


def test_a_header_sheet_s_enum_words_reach_the_request_too(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "po.xlsx",
        {
            "Ordrer": [
                ["Document ID", "Leverandørnummer", "Ordredato", "Ordretype"],
                ["PO-1", "50000", "2025-11-10", "Rammeordre"],
            ],
            "Linjer": [
                ["Document ID", "Linjetype", "Linjetekst", "Antall"],
                ["PO-1", "Frakt", "Frakt", 1],
            ],
        },
    )
    batch = check(path, load_type("purchase_order"))
    assert _issues(batch) == []
    (body,) = _bodies(batch)
    assert body["orderType"] == {"value": "Blanket"}
    assert body["lines"][0]["lineType"] == {"value": "Freight"}


def test_an_unknown_word_is_still_refused_with_visma_s_values(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Kundenummer", "Kundenavn", "Status"],
        ["1", "Kaffe AS", "Sovende"],
    ]
    batch = check(write_csv(tmp_path / "c.csv", rows), load_type("customer"))
    (issue,) = _issues(batch)
    assert (issue.column, issue.code) == ("Status", "enum")
    assert issue.message == (
        "'Sovende' is not allowed; use one of: Active, OnHold, CreditHold, Inactive, OneTime"
    )


# --------------------------------------------------------- business checks


def test_a_due_date_before_the_document_date_is_an_error_on_its_cell(tmp_path: Path) -> None:
    header = ["Forfallsdato", "Kontantrabattdato", "Antall", "Pris"]
    rows: list[list[object]] = [
        ["2025-03-03", "", "1", "10"],  # the same day is fine
        ["2025-03-01", "", "1", "10"],
    ]
    path = _invoice_csv(tmp_path / "due.csv", header, [rows[0]])
    assert _issues(check(path, load_type("customer_invoice"))) == []
    head = ["Fakturanummer", "Kundenummer", "Fakturadato", "Beskrivelse", *header]
    path = write_csv(
        tmp_path / "due2.csv",
        [
            head,
            ["1", "10000", "2025-03-03", "a", *rows[0]],
            ["2", "10000", "2025-03-03", "b", *rows[1]],
            ["3", "10000", "2025-03-03", "c", "", "2025-03-02", "1", "10"],
        ],
    )
    batch = check(path, load_type("customer_invoice"))
    assert _found(batch) == {
        (3, "Forfallsdato", "not-before", "error"),
        (4, "Kontantrabattdato", "not-before", "warning"),
    }
    messages = {i.row: i.message for i in _issues(batch)}
    assert messages[3] == (
        "Due date 2025-03-01 is before Invoice date 2025-03-03; Visma refuses such a document"
    )
    statuses = {r.row: r.status for r in validation_report(batch).results}
    assert statuses == {2: "valid", 3: "invalid", 4: "valid"}  # a warning holds nothing back


@pytest.mark.parametrize(
    ("name", "header", "level", "words"),
    [
        (
            "customer_invoice",
            ["Fakturanummer", "Kundenummer", "Fakturadato", "Beskrivelse", "Antall", "Pris"],
            "warning",
            "use a credit note",
        ),
        (
            "customer_debit_note",
            ["Debetnotanummer", "Kundenummer", "Debetnotadato", "Beskrivelse", "Antall", "Pris"],
            "warning",
            "use a credit note",
        ),
        (
            "customer_credit_note",
            ["Kreditnotanummer", "Kundenummer", "Kreditnotadato", "Beskrivelse", "Antall", "Pris"],
            "warning",
            "use an invoice or a debit note",
        ),
        (
            "supplier_invoice",
            ["Bilagsnummer", "Leverandørnummer", "Fakturadato", "Tekst", "Antall", "Enhetspris"],
            "warning",
            "CreditAdj",
        ),
        (
            "purchase_order",
            ["Ordrenummer", "Leverandørnummer", "Ordredato", "Tekst", "Antall", "Enhetspris"],
            "error",
            "refuses",
        ),
    ],
)
def test_a_negative_quantity_is_said_on_its_cell(
    name: str, header: list[str], level: str, words: str, tmp_path: Path
) -> None:
    rows: list[list[object]] = [
        header,
        ["1", "10000", "2025-03-03", "a", "2", "10"],
        ["1", "10000", "2025-03-03", "b", "-2", "10"],
    ]
    batch = check(write_csv(tmp_path / "neg.csv", rows), load_type(name))
    assert _found(batch) == {(3, "Antall", "negative", level)}
    assert words in _issues(batch)[0].message


def test_a_credit_note_before_its_invoice_is_a_warning(tmp_path: Path) -> None:
    header = [
        "Kreditnotanummer",
        "Kundenummer",
        "Kreditnotadato",
        "Opprinnelig fakturadato",
        "Beskrivelse",
        "Antall",
        "Pris",
    ]
    rows: list[list[object]] = [
        header,
        ["1", "10000", "2025-03-01", "2025-03-05", "Retur", "1", "10"],
    ]
    batch = check(write_csv(tmp_path / "cn.csv", rows), load_type("customer_credit_note"))
    assert _found(batch) == {(2, "Kreditnotadato", "not-before", "warning")}


def test_several_e_mail_addresses_where_the_field_takes_them(tmp_path: Path) -> None:
    header = ["E-post"]
    rows: list[list[object]] = [
        ["ola@kaffe.no; kari@kaffe.no , regnskap@kaffe.no"],
    ]
    batch = check(_invoice_csv(tmp_path / "ok.csv", header, rows), load_type("customer_invoice"))
    assert _issues(batch) == []
    (body,) = _bodies(batch)
    assert body["invoiceContact"]["value"]["email"] == {
        "value": "ola@kaffe.no;kari@kaffe.no;regnskap@kaffe.no"
    }
    rows = [["ola@kaffe.no; kari(at)kaffe.no"], ["nope"]]
    batch = check(_invoice_csv(tmp_path / "bad.csv", header, rows), load_type("customer_invoice"))
    assert [(i.row, i.column, i.code, i.message) for i in _issues(batch)] == [
        (2, "E-post", "format", "'kari(at)kaffe.no' is not a valid email"),
        (3, "E-post", "format", "'nope' is not a valid email"),
    ]


def test_several_e_mail_addresses_where_the_field_takes_one(tmp_path: Path) -> None:
    header = ["Kundenummer", "Kundenavn", "E-post", "Faktura e-post"]
    both = "post@kaffe.no, faktura@kaffe.no"
    rows: list[list[object]] = [header, ["1", "Kaffe AS", both, both]]
    batch = check(write_csv(tmp_path / "c.csv", rows), load_type("customer"))
    (issue,) = _issues(batch)
    assert (issue.column, issue.code, issue.severity) == ("E-post", "emails", "error")
    assert issue.message == "Email takes one e-mail address, and the cell has 2; keep one"


# ------------------------------------------------------ malformed keywords


def _broken(tmp_path: Path, change: Any) -> DocType:
    schema = json.loads((ROOT / "schemas" / "customer_invoice.schema.json").read_text("utf-8"))
    change(schema)
    folder = tmp_path / "types"
    folder.mkdir(exist_ok=True)
    (folder / "broken.schema.json").write_text(json.dumps(schema), "utf-8")
    shutil.copy(ROOT / "templates" / "customer_invoice.json.j2", folder / "broken.json.j2")
    return load_doctype("broken", folder / "broken.schema.json", folder / "broken.json.j2")


def _prop(name: str, **changes: Any) -> Any:
    def change(schema: dict[str, Any]) -> None:
        for key, value in changes.items():
            key = key.replace("_", "-")
            if value is None:
                schema["properties"][name].pop(key, None)
            else:
                schema["properties"][name][key] = value

    return change


def _top(**changes: Any) -> Any:
    def change(schema: dict[str, Any]) -> None:
        schema.update({k.replace("_", "-"): v for k, v in changes.items()})

    return change


LINE_TOTAL = "invoiceLines.lineTotal"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_prop(LINE_TOTAL, x_control={"kind": "line-sum"}), "has no kind it knows"),
        (
            _prop(
                LINE_TOTAL,
                x_control={"kind": "line-total", "price": "invoiceLines.unitPriceInCurrency"},
            ),
            "lacks 'quantity'",
        ),
        (
            _prop(
                LINE_TOTAL,
                x_control={
                    "kind": "line-total",
                    "quantity": "invoiceLines.qty",
                    "price": "invoiceLines.unitPriceInCurrency",
                },
            ),
            "not another number field",
        ),
        (
            _prop(
                LINE_TOTAL,
                x_control={
                    "kind": "line-amount",
                    "quantity": "invoiceLines.quantity",
                    "price": "exchangeRate",
                },
            ),
            "the other part of the document",
        ),
        (
            _prop(
                LINE_TOTAL,
                x_control={
                    "kind": "line-amount",
                    "quantity": "invoiceLines.quantity",
                    "price": "invoiceLines.unitPriceInCurrency",
                    "amount": "invoiceLines.manualAmountInCurrency",
                },
            ),
            "does not take (amount)",
        ),
        (_prop("note", x_control={"kind": "document-total", "of": LINE_TOTAL}), "not a number"),
        (
            _prop(
                "linesTotal", x_control={"kind": "document-total", "of": "invoiceLines.quantity"}
            ),
            "'of' must name a line field with an x-control",
        ),
        (
            _prop("linesTotal", x_contrl={"kind": "document-total", "of": LINE_TOTAL}),
            "did you mean 'x-control'",
        ),
        (_prop("customerName", x_cross_check="customerNumbr"), "x-cross-check of 'customerName'"),
        (_prop("hold", x_enum_aliases={"nb": {"Ja": "Yes"}}), "needs an enum of texts beside it"),
        (
            _prop("documentDueDate", type="string", enum=["A"], x_enum_aliases={"nb": {"B": "C"}}),
            "which is not one of A",
        ),
        (
            _prop(
                "documentDueDate",
                type="string",
                enum=["A", "B"],
                x_enum_aliases={"nb": {"x-y": "A"}, "sv": {"XY": "B"}},
            ),
            "would mean both 'A' and 'B'",
        ),
        (_top(x_checks={"rule": "not-before"}), "x-checks must be"),
        (_top(x_checks=[{"rule": "after", "field": "documentDate"}]), "has no rule it knows"),
        (
            _top(x_checks=[{"rule": "not-before", "field": "documentDate", "than": "note"}]),
            "must compare two date fields",
        ),
        (_top(x_checks=[{"rule": "not-negative", "field": "note"}]), "not a number"),
        (
            _top(x_checks=[{"rule": "not-negative", "field": "exchangeRate", "level": "fatal"}]),
            "a level other than",
        ),
        (
            _top(
                x_checks=[
                    {"rule": "not-negative", "field": "exchangeRate", "message": "not-before"}
                ]
            ),
            "names a message that is not one of 'negative'",
        ),
        (
            _top(
                x_checks=[{"rule": "not-negative", "field": "exchangeRate", "than": "documentDate"}]
            ),
            "has members a not-negative rule does not take",
        ),
        (
            _top(x_checks=[{"rule": "emails", "field": "invoiceContact.email", "several": "yes"}]),
            "several true or false",
        ),
        (_top(x_check=[]), "did you mean 'x-checks'"),
    ],
)
def test_a_malformed_keyword_stops_the_type_at_load(
    change: Any, words: str, tmp_path: Path
) -> None:
    with pytest.raises(DocTypeError, match=re.escape(words)):
        _broken(tmp_path, change)


# --------------------------------------------------------------- messages


def declared_checks(folder: Path) -> Iterable[Batch]:
    """Files that reach every message of the declared checks."""
    header = ["Forfallsdato", "Kontantrabattdato", "Antall", "Pris", "Rabatt %"]
    header += ["Rabattbeløp", "Linjebeløp", "Beløp", "E-post"]
    rows: list[list[object]] = [
        ["2025-03-01", "2025-03-02", "-1", "10", "", "", "", "", "a@b.no;c"],
        ["", "", "2", "10", "", "", "", "21", ""],  # control-total.line
        ["", "", "", "", "", "", "500", "450", ""],  # control-total.amount
        ["", "", "2", "100", "10", "25", "", "", ""],  # control-total.discount
        ["", "", "", "", "", "", "", "450", ""],  # control-total.no-basis
        ["", "", "2", "", "", "", "", "450", ""],  # control-total.unchecked
    ]
    yield check(_invoice_csv(folder / "checks.csv", header, rows), load_type("customer_invoice"))
    yield check(
        _invoices_on_two_sheets(folder / "totals.xlsx", [1, 2], ["Te", 2, "", "", ""]),
        load_type("customer_invoice"),
    )
    negative = {
        "customer_credit_note": ["Kreditnotanummer", "Kundenummer", "Kreditnotadato"],
        "customer_debit_note": ["Debetnotanummer", "Kundenummer", "Debetnotadato"],
        "supplier_invoice": ["Bilagsnummer", "Leverandørnummer", "Fakturadato"],
        "purchase_order": ["Ordrenummer", "Leverandørnummer", "Ordredato"],
    }
    for name, head in negative.items():
        path = write_csv(
            folder / f"{name}.csv",
            [[*head, "Tekst", "Antall"], ["1", "1", "2025-03-03", "a", "-1"]],
        )
        yield check(path, load_type(name))
    both = "a@b.no, c@d.no"
    rows = [["Kundenummer", "Kundenavn", "E-post"], ["1", "Kaffe AS", both]]
    yield check(write_csv(folder / "customer.csv", rows), load_type("customer"))
    # A type of the user's own: the rules' own messages, a line total without a line amount.
    schema = json.loads((ROOT / "schemas" / "customer_invoice.schema.json").read_text("utf-8"))
    schema["properties"][LINE_TOTAL]["x-control"].pop("amount")
    schema["x-checks"] = [{"rule": "not-negative", "field": "invoiceLines.quantity"}]
    (folder / "own_checks.schema.json").write_text(json.dumps(schema), "utf-8")
    shutil.copy(ROOT / "templates" / "customer_invoice.json.j2", folder / "own_checks.json.j2")
    own = Registry([folder]).get("own_checks")
    rows = [["Fakturanummer", "Kundenummer", "Fakturadato", "Beskrivelse", "Antall", "Beløp"]]
    rows.append(["1", "1", "2025-03-03", "a", "-1", ""])
    rows.append(["1", "1", "2025-03-03", "b", "", "450"])
    yield check(write_csv(folder / "own.csv", rows), own)


def test_every_message_of_the_declared_checks_is_reached_and_renders(tmp_path: Path) -> None:
    issues = [i for batch in declared_checks(tmp_path) for i in _issues(batch)]
    assert {i.key for i in issues} >= KEYS
    for issue in issues:
        assert issue.code in CODES and CODES[issue.code].stage == "row"
        assert render_issue(issue) == issue.message
        fields = {n for n, _ in issue.params}
        assert all(f"{{{n}" in MESSAGES["en"][issue.key] for n in fields), issue
