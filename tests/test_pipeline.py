"""read → map → validate → group → render, on real files, as users see it."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_csv, write_xlsx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from records import preview_records

from importer.batch import check, validation_report
from importer.doctypes import Registry
from importer.errors import ColumnError

INJECTION = 'x", "customerNumber": {"value": "99999"}, "y": "'
JINJA = "{{ 7*7 }}"
HEADER = [
    "Invoice number",
    "Customer number",
    "Invoice date",
    "Item number",
    "Line description",
    "Quantity",
    "Unit price",
    "Invoice text",
]


def _both(tmp_path: Path, rows: list[list[object]]) -> list[Path]:
    text_rows = [[v.isoformat() if isinstance(v, dt.date) else v for v in r] for r in rows]
    return [write_xlsx(tmp_path / "in.xlsx", rows), write_csv(tmp_path / "in.csv", text_rows)]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_cell_values_cannot_change_the_json_structure(
    tmp_path: Path, registry: Registry, fmt: str
) -> None:
    rows = [
        HEADER,
        ["1001", "10000", dt.date(2025, 1, 27), "222", INJECTION, 1, 2, JINJA],
        ["1001", "10000", dt.date(2025, 1, 27), "{% raw %}", "}}{{", 1, 2, JINJA],
    ]
    path = _both(tmp_path, rows)[0 if fmt == "xlsx" else 1]
    [record] = preview_records(check(path, registry.get("customer_invoice")))
    body = record["body"]
    assert body["customerNumber"] == {"value": "10000"}
    assert body["invoiceText"] == {"value": JINJA}
    assert body["invoiceLines"][0]["description"] == {"value": INJECTION}
    assert body["invoiceLines"][1]["inventoryNumber"] == {"value": "{% raw %}"}
    assert body["invoiceLines"][1]["description"] == {"value": "}}{{"}
    assert set(body) == {
        "referenceNumber",
        "overrideNumberSeries",  # the template's: the file gives the number
        "customerNumber",
        "documentDate",
        "invoiceText",
        "invoiceLines",
    }
    assert set(body["invoiceLines"][0]) == {
        "operation",
        "inventoryNumber",
        "description",
        "quantity",
        "unitPriceInCurrency",
    }


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_leading_zeros_survive(tmp_path: Path, registry: Registry, fmt: str) -> None:
    rows = [
        [
            "Debit note number",
            "Customer number",
            "Date",
            "Item number",
            "Quantity",
            "Post period",
            "Financial period",
        ],
        ["000050", "010023", dt.date(2025, 1, 16), "0101", 2, "012025", "202501"],
    ]
    path = _both(tmp_path, rows)[0 if fmt == "xlsx" else 1]
    [record] = preview_records(check(path, registry.get("customer_debit_note")))
    body = record["body"]
    assert record["key"] == "000050"
    assert body["referenceNumber"] == {"value": "000050"}
    assert body["customerNumber"] == {"value": "010023"}
    assert body["postPeriod"] == {"value": "012025"}
    assert body["lines"][0]["inventoryNumber"] == {"value": "0101"}
    assert body["documentDate"]["value"].startswith("2025-01-16")


def test_every_error_of_a_row_is_reported_on_its_column(tmp_path: Path, registry: Registry) -> None:
    src = write_csv(
        tmp_path / "in.csv",
        [
            [
                "invoice NUMBER",
                "customer_number",
                "Invoice date",
                "Quantity",
                "Unit price",
                "Currency",
                "Post period",
                "Discount %",
            ],
            ["1001", "", "2025-13-01", "ten", "1,5", "kroner", "132025", "150"],
        ],
    )
    prepared = check(src, registry.get("customer_invoice"))
    [result] = validation_report(prepared).results
    got = [(i.row, i.column, i.code) for i in result.issues]
    assert got == [
        (2, "", "incomplete"),  # a line needs an item or a description: no column for either
        (2, "customer_number", "required"),
        (2, "Invoice date", "invalid-date"),
        (2, "Quantity", "type"),
        (2, "Currency", "pattern"),
        (2, "Post period", "pattern"),
        (2, "Discount %", "too-large"),
    ]
    messages = {i.column: i.message for i in result.issues}
    assert messages["Post period"] == "the post period is month and year as MMYYYY, e.g. 012025"
    assert messages["customer_number"] == "Customer number is empty; a value is required"
    assert result.status == "invalid"


def test_unknown_columns_with_values_stop_and_headers_match_loosely(
    tmp_path: Path, registry: Registry
) -> None:
    src = write_csv(
        tmp_path / "in.csv",
        [
            ["  INVOICE-NUMBER ", "customer no.", "invoicedate", "Item", "QTY", "Farge", ""],
            ["1", "10000", "2025-01-01", "A", "1", "rød", "x"],
        ],
    )
    with pytest.raises(ColumnError, match=r"column F 'Farge' holds values.*column G holds"):
        check(src, registry.get("customer_invoice"))  # their values would be lost
    prepared = check(src, registry.get("customer_invoice"), skip=["Farge", "column G"])
    assert [i.code for i in prepared.warnings] == ["skipped-column", "skipped-column"]
    assert "'Farge'" in prepared.warnings[0].message
    [record] = preview_records(prepared)
    assert record["body"]["invoiceLines"][0]["quantity"] == {"value": 1}


def test_missing_required_column_stops_the_file_before_any_row(
    tmp_path: Path, registry: Registry
) -> None:
    src = write_csv(tmp_path / "in.csv", [["Invoice number", "Item number"], ["1", "A"]])
    with pytest.raises(ColumnError, match="required column missing"):
        check(src, registry.get("customer_invoice"))


def test_two_columns_for_one_field_is_a_file_error(tmp_path: Path, registry: Registry) -> None:
    src = write_csv(
        tmp_path / "in.csv",
        [
            ["Invoice number", "Customer number", "Kundenummer", "Invoice date", "Item"],
            ["1", "10000", "10000", "2025-01-01", "A"],
        ],
    )
    with pytest.raises(ColumnError, match="'Customer number' and 'Kundenummer'"):
        check(src, registry.get("customer_invoice"))


def test_conflicting_header_holds_back_the_whole_document(
    tmp_path: Path, registry: Registry
) -> None:
    src = write_csv(
        tmp_path / "in.csv",
        [
            [
                "Invoice number",
                "Customer number",
                "Invoice date",
                "Item",
                "Quantity",
                "Invoice text",
            ],
            ["1001", "10000", "2025-01-27", "A", "1", "Mars"],
            ["1001", "10000", "2025-01-27", "B", "1", ""],  # blank = same as above
            ["1001", "10099", "2025-01-28", "C", "1", "Mars"],
            ["1002", "10001", "2025-01-28", "A", "1", ""],
        ],
    )
    prepared = check(src, registry.get("customer_invoice"))
    results = {r.row: r for r in validation_report(prepared).results}
    assert {(i.column, i.code) for i in results[4].issues} == {
        ("Customer number", "conflicting-header"),
        ("Invoice date", "conflicting-header"),
    }
    assert "is '10099' here but '10000' on row 2" in results[4].issues[0].message
    for row in (2, 3):
        assert results[row].status == "invalid"
        assert [i.code for i in results[row].issues] == ["document-invalid"]
        assert "row 4" in results[row].issues[0].message
    assert results[5].status == "valid"
    assert [r["key"] for r in preview_records(prepared)] == ["1002"]


def test_automatic_numbering_groups_by_the_declared_reference(
    tmp_path: Path, registry: Registry
) -> None:
    src = write_csv(
        tmp_path / "in.csv",
        [
            ["Invoice number", "External reference", "Customer number", "Invoice date", "Item"],
            ["", "WEB-1", "10000", "2025-01-27", "A"],
            ["", "WEB-2", "10000", "2025-01-27", "A"],
            ["", "WEB-1", "10000", "2025-01-27", "B"],
        ],
    )
    records = list(preview_records(check(src, registry.get("customer_invoice"))))
    assert [(r["key"], r["rows"]) for r in records] == [("WEB-1", [2, 4]), ("WEB-2", [3])]
    assert "referenceNumber" not in records[0]["body"]
    assert records[0]["body"]["externalReference"] == {"value": "WEB-1"}


def test_document_id_groups_and_is_sent_only_as_the_searchable_reference(
    tmp_path: Path, registry: Registry
) -> None:
    src = write_csv(
        tmp_path / "in.csv",
        [
            ["Document ID", "Supplier", "Date", "Item", "Order quantity"],
            ["A", "50000", "2025-01-27", "X1", "1"],
            ["A", "50000", "2025-01-27", "X2", "2"],
        ],
    )
    [record] = preview_records(check(src, registry.get("purchase_order")))
    assert record["key"] == "A" and len(record["body"]["lines"]) == 2
    assert "documentId" not in json.dumps(record["body"])
    # carried as the supplier's reference the file left empty (x-carry-key)
    assert record["body"]["supplierRef"] == {"value": "A"}


def test_a_one_row_file_without_a_key_column_is_one_document(
    tmp_path: Path, registry: Registry
) -> None:
    src = write_csv(
        tmp_path / "in.csv",
        [["Customer number", "Invoice date", "Item"], ["10000", "2025-01-27", "A"]],
    )
    (doc,) = check(src, registry.get("customer_invoice")).documents
    assert doc.valid and doc.key.startswith("content:")


def test_a_customer_number_twice_is_a_duplicate(tmp_path: Path, registry: Registry) -> None:
    src = write_csv(
        tmp_path / "in.csv",
        [["Customer number", "Name"], ["10000", "A"], ["10001", "B"], ["10000", "C"]],
    )
    prepared = check(src, registry.get("customer"))
    results = {r.row: r for r in validation_report(prepared).results}
    assert [i.code for i in results[4].issues] == ["duplicate-key"]
    assert "already on row 2" in results[4].issues[0].message
    assert [r["key"] for r in preview_records(prepared)] == ["10000", "10001"]


def test_customers_without_numbers_are_keyed_by_what_names_them(
    tmp_path: Path, registry: Registry
) -> None:
    src = write_csv(
        tmp_path / "in.csv",
        [
            ["Name", "Customer class", "Corporate ID", "Postal code"],
            ["Fjord AS", "1", "", "5003"],
            ["Fjell AS", "1", "912345670", ""],
        ],
    )
    records = list(preview_records(check(src, registry.get("customer"))))
    assert [(r["key"], r["rows"]) for r in records] == [
        ("name=Fjord AS; mainAddress.postalCode=5003", [2]),
        ("corporateId=912345670", [3]),
    ]
    assert "number" not in records[0]["body"]


EXTRA_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Inventory item",
    "type": "object",
    "x-dto": "InventoryUpdateDto",
    "x-endpoints": {"create": "POST /v1/inventory"},
    "x-document-key": ["inventoryNumber"],
    "required": ["inventoryNumber"],
    "properties": {
        "inventoryNumber": {"type": "string", "title": "Item number", "x-aliases": ["Varenr"]},
        "description": {"type": "string", "title": "Description", "x-aliases": ["Beskrivelse"]},
    },
    "additionalProperties": False,
}
EXTRA_TEMPLATE = """{
  "inventoryNumber": {"value": {{ doc.inventoryNumber }}},
  "description": {"value": {{ doc.description }}}
}
"""


@pytest.mark.parametrize("how", ["option", "env"])
def test_a_new_type_needs_only_a_schema_and_a_template(tmp_path: Path, how: str) -> None:
    folder = tmp_path / "mytypes"
    (folder / "schemas").mkdir(parents=True)
    (folder / "templates").mkdir()
    (folder / "schemas" / "inventory_item.schema.json").write_text(json.dumps(EXTRA_SCHEMA))
    (folder / "templates" / "inventory_item.json.j2").write_text(EXTRA_TEMPLATE)
    src = write_csv(tmp_path / "items.csv", [["Varenr", "Beskrivelse"], ["0042", "Kaffe"]])
    argv = [sys.executable, "-m", "importer", "preview", str(src), "--type", "inventory_item"]
    env = None
    if how == "option":
        argv += ["--types-dir", str(folder)]
    else:
        import os

        env = {**os.environ, "VNIMPORT_TYPES_PATH": str(folder)}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["path"] == "/v1/inventory"
    assert record["body"] == {
        "inventoryNumber": {"value": "0042"},
        "description": {"value": "Kaffe"},
    }


def test_a_broken_template_stops_the_run_at_start_up(tmp_path: Path) -> None:
    (tmp_path / "x.schema.json").write_text(json.dumps(EXTRA_SCHEMA))
    (tmp_path / "x.json.j2").write_text('{"a": {{ doc.inventoryNumbr }}}')
    src = write_csv(tmp_path / "items.csv", [["Varenr"], ["1"]])
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "importer",
            "validate",
            str(src),
            "-t",
            "x",
            "--types-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "x.json.j2" in proc.stderr and "inventoryNumbr" in proc.stderr


# Any text a cell can hold: every character but surrogates and the control
# characters other than tab and line break (a spreadsheet cell cannot hold
# those; a csv file that has them gets a cell error, tested elsewhere).
_cell_text = (
    st.text(
        alphabet=st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\n"),
        min_size=1,
        max_size=60,
    )
    .map(str.strip)
    .filter(lambda s: s != "")
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_cell_text)
def test_any_text_arrives_unchanged_in_its_field(tmp_path: Path, text: str) -> None:
    registry = Registry()
    for path in _both(tmp_path, [HEADER, ["1", "10000", "2025-01-01", "A", text, 1, 1, text]]):
        [record] = preview_records(check(path, registry.get("customer_invoice")))
        assert record["body"]["invoiceText"] == {"value": text}
        assert record["body"]["invoiceLines"][0]["description"] == {"value": text}
