"""Workbooks as accountants make them: display formats, hidden and merged
cells, codes typed into number cells."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from records import preview_records

from importer.batch import check, validation_report
from importer.doctypes import Registry
from importer.sources.files import read_table

HEADER = ["Invoice number", "Customer number", "Invoice date", "Item number", "Quantity"]


def _workbook(path: Path, rows: list[list[object]]) -> tuple[Workbook, Path]:
    wb = Workbook()
    ws = wb.active
    ws.title = "Invoices"
    for r in rows:
        ws.append(r)
    return wb, path


def test_a_number_cell_formatted_0000_is_read_as_it_is_shown(tmp_path: Path) -> None:
    wb, path = _workbook(tmp_path / "padded.xlsx", [HEADER, ["1", 10104, "2025-03-03", 123, 2]])
    ws = wb.active
    ws["B2"].number_format = "000000"  # Excel shows 010104
    ws["D2"].number_format = '"000000"'  # quoted, as some exports write it
    wb.save(path)
    [record] = preview_records(check(path, Registry().get("customer_invoice")))
    assert record["body"]["customerNumber"]["value"] == "010104"
    assert record["body"]["invoiceLines"][0]["inventoryNumber"]["value"] == "000123"


def test_a_code_that_arrived_as_a_bare_number_is_warned_on_its_row(tmp_path: Path) -> None:
    wb, path = _workbook(
        tmp_path / "bare.xlsx",
        [
            HEADER,
            ["1", "010104", "2025-03-03", "000123", 1],  # text cells: zeros kept
            ["2", 10102, "2025-03-03", "000123", 1],  # a number cell: 010102 became 10102
            ["3", "010106", "2025-03-03", 990, 1],
        ],
    )
    wb.save(path)
    report = validation_report(check(path, Registry().get("customer_invoice")))
    warned = {
        (r.row, i.column, i.code, i.severity)
        for r in report.results
        for i in r.issues
        if i.code == "number-code"
    }
    assert warned == {
        (3, "Customer number", "number-code", "warning"),
        (4, "Item number", "number-code", "warning"),
    }
    message = next(i.message for r in report.results for i in r.issues if i.row == 3)
    assert "10102" in message and "010102" in message and "Text" in message
    assert all(r.status == "valid" for r in report.results)  # a warning, not an error


def test_numbers_in_a_code_column_of_one_length_are_not_warned(tmp_path: Path) -> None:
    wb, path = _workbook(
        tmp_path / "plain.xlsx",
        [HEADER, ["1", 10104, "2025-03-03", "A1", 1], ["2", 10102, "2025-03-03", "A1", 1]],
    )
    wb.save(path)
    report = validation_report(check(path, Registry().get("customer_invoice")))
    assert not [i for r in report.results for i in r.issues]


def test_hidden_sheets_columns_and_rows_are_reported(tmp_path: Path) -> None:
    wb = Workbook()
    old = wb.active
    old.title = "Old invoices"
    old.sheet_state = "hidden"  # the first sheet, but not the one the user sees
    old.append(HEADER)
    old.append(["9", "010199", "2020-01-01", "000001", 1])
    ws = wb.create_sheet("Invoices")
    for r in (
        HEADER,
        ["1", "010104", "2025-03-03", "000123", 1],
        ["2", "010104", "2025-03-03", "000245", 1],
        ["3", "010104", "2025-03-03", "000246", 1],
    ):
        ws.append(r)
    ws.column_dimensions["D"].hidden = True
    ws.row_dimensions[3].hidden = True  # filtered out in Excel
    path = tmp_path / "hidden.xlsx"
    wb.save(path)
    prepared = check(path, Registry().get("customer_invoice"))
    assert prepared.table.sheet == "Invoices"
    warnings = {w.code: w.message for w in prepared.warnings}
    assert "'Old invoices'" in warnings["hidden-sheet"] and "not read" in warnings["hidden-sheet"]
    assert "D ('Item number')" in warnings["hidden-column"]
    assert "(3)" in warnings["hidden-row"] and "imported" in warnings["hidden-row"]
    assert [r["key"] for r in preview_records(prepared)] == ["1", "2", "3"]
    # a hidden sheet named with --sheet is read, and says so
    hidden = check(path, Registry().get("customer_invoice"), sheet="Old invoices")
    assert [w.code for w in hidden.warnings] == ["hidden-sheet"]
    assert [r["key"] for r in preview_records(hidden)] == ["9"]


def test_a_merged_cell_counts_on_every_row_it_spans(tmp_path: Path) -> None:
    wb, path = _workbook(
        tmp_path / "merged.xlsx",
        [
            ["Invoices March", None, None, None, None],
            HEADER,
            ["1", "010104", "2025-03-03", "000123", 1],
            [None, None, None, "000245", 2],
            [None, None, None, "000246", 3],
            ["2", "010102", "2025-03-04", "000123", 4],
        ],
    )
    ws = wb.active
    ws.merge_cells("A1:E1")  # a title across the columns
    for col in "ABC":  # one invoice's header cells merged down over its lines
        ws.merge_cells(f"{col}3:{col}5")
    wb.save(path)
    table = read_table(path, is_header=Registry().get("customer_invoice").looks_like_header)
    assert [r.cells[:3] for r in table.rows][:3] == [["1", "010104", "2025-03-03"]] * 3
    records = list(preview_records(check(path, Registry().get("customer_invoice"))))
    assert [(r["key"], r["rows"]) for r in records] == [("1", [3, 4, 5]), ("2", [6])]
    assert [line["quantity"]["value"] for line in records[0]["body"]["invoiceLines"]] == [1, 2, 3]


def test_formulas_are_read_as_the_values_excel_last_calculated(tmp_path: Path) -> None:
    import zipfile

    wb, base = _workbook(tmp_path / "base.xlsx", [HEADER])
    wb.save(base)

    def cell(ref: str, inner: str, kind: str = "") -> str:
        return f'<c r="{ref}"{kind}>{inner}</c>'

    row = "".join(
        (
            cell("A2", "<is><t>1</t></is>", ' t="inlineStr"'),
            cell("B2", '<f>TEXT(10104,"000000")</f><v>010104</v>', ' t="str"'),  # text result
            cell("C2", "<f>DATE(2025,3,3)</f><v>45719</v>", ' s="0"'),
            cell("D2", '<f>"000"&amp;"123"</f><v>000123</v>', ' t="str"'),
            cell("E2", "<f>2*3</f><v>6</v>"),  # a number result
        )
    )
    header = "".join(
        cell(f"{chr(65 + i)}1", f"<is><t>{h}</t></is>", ' t="inlineStr"')
        for i, h in enumerate(HEADER)
    )
    xml = (
        '<?xml version="1.0"?><worksheet '
        'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        f'<row r="1">{header}</row><row r="2">{row}</row></sheetData></worksheet>'
    ).encode()
    path = tmp_path / "formulas.xlsx"
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            is_sheet = item.filename == "xl/worksheets/sheet1.xml"
            dst.writestr(item, xml if is_sheet else src.read(item))
    [record] = preview_records(check(path, Registry().get("customer_invoice")))
    body = record["body"]
    assert body["customerNumber"]["value"] == "010104"
    assert body["documentDate"]["value"].startswith("2025-03-03")  # a date number, date column
    line = body["invoiceLines"][0]
    assert (line["inventoryNumber"]["value"], line["quantity"]["value"]) == ("000123", 6)
