"""Broken and hostile files: a clear error or a row issue, never a crash or a hang."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from conftest import write_csv, write_xlsx

from importer.batch import check, validation_report
from importer.doctypes import Registry
from importer.errors import FileError
from importer.sources import files as read
from importer.sources.files import read_table

HEADER = [
    "Invoice number",
    "Customer number",
    "Invoice date",
    "Item number",
    "Quantity",
    "Invoice text",
]


def test_a_workbook_that_unpacks_to_too_much_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read, "MAX_UNPACKED", 10 << 20)  # the same check, at 10 MB
    path = write_xlsx(tmp_path / "bomb.xlsx", [HEADER, ["1", "10000", "2025-01-01", "A", 1, "x"]])
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/zeros.bin", b"\0" * (20 << 20))  # compresses to ~20 kB
    with pytest.raises(FileError, match=r"unpacks to 0\.0 GB, more than vnimport reads"):
        read_table(path)


def test_too_many_rows_is_a_file_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read, "MAX_ROWS", 5)
    path = write_csv(
        tmp_path / "many.csv", [HEADER] + [["1", "10000", "2025-01-01", "A", 1, "x"]] * 10
    )
    with pytest.raises(FileError, match="more than a spreadsheet holds"):
        read_table(path)


def test_a_10_mb_csv_cell_is_a_clear_error_quickly(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(
        ";".join(HEADER) + "\n1;10000;2025-01-01;A;1;" + "x" * (10 << 20) + "\n", encoding="utf-8"
    )
    started = time.perf_counter()
    with pytest.raises(FileError, match=r"row 2 has a cell longer than 32,767 characters"):
        check(path, Registry().get("customer_invoice"))
    assert time.perf_counter() - started < 5


def _with_sheet(tmp_path: Path, name: str, sheet_xml: bytes) -> Path:
    """A real workbook whose first sheet is replaced by ``sheet_xml``."""
    base = write_xlsx(tmp_path / "base.xlsx", [HEADER])
    path = tmp_path / name
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            is_sheet = item.filename == "xl/worksheets/sheet1.xml"
            dst.writestr(item, sheet_xml if is_sheet else src.read(item))
    return path


def _inline_row(number: int, values: list[str]) -> bytes:
    cells = b"".join(
        b'<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>' % (bytes([65 + i]), number, v.encode())
        for i, v in enumerate(values)
    )
    return b'<row r="%d">%s</row>' % (number, cells)


def test_an_over_long_workbook_cell_is_a_row_issue(tmp_path: Path) -> None:
    # Excel and openpyxl stop at 32,767 characters; a made-up file need not.
    xml = (
        b'<?xml version="1.0"?><worksheet '
        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + _inline_row(1, HEADER)
        + _inline_row(2, ["1", "10000", "2025-01-01", "A", "1", "x" * 40_000])
        + _inline_row(3, ["2", "10000", "2025-01-01", "A", "1", "kort"])
        + b"</sheetData></worksheet>"
    )
    path = _with_sheet(tmp_path, "long.xlsx", xml)
    results = validation_report(check(path, Registry().get("customer_invoice"))).results
    assert [(i.column, i.code) for i in results[0].issues] == [("Invoice text", "too-long")]
    assert results[1].status == "valid"


def test_excel_error_values_are_cell_issues(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["1", "10000", "2025-01-01", "A", None, "ok"])
    ws.append(["2", "10000", "2025-01-01", None, None, "ok"])
    for cell, value in (("E2", "#DIV/0!"), ("D3", "#REF!"), ("E3", "#N/A")):
        ws[cell] = value
        ws[cell].data_type = "e"
    wb.save(tmp_path / "errors.xlsx")
    results = validation_report(
        check(tmp_path / "errors.xlsx", Registry().get("customer_invoice"))
    ).results
    issues = {
        (r.row, i.column, i.code, i.message.split(",")[0])
        for r in results
        for i in r.issues
        if i.code == "excel-error"
    }
    assert issues == {
        (2, "Quantity", "excel-error", "the cell shows #DIV/0!"),
        (3, "Item number", "excel-error", "the cell shows #REF!"),
        (3, "Quantity", "excel-error", "the cell shows #N/A"),
    }


def test_an_xml_entity_attack_neither_hangs_nor_expands(tmp_path: Path) -> None:
    entities = b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i else b"&lol;") * 10)
        for i in range(1, 10)
    )
    xml = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' + entities + b"]>"
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    evil = _with_sheet(tmp_path, "evil.xlsx", xml)
    started = time.perf_counter()
    try:
        table = read_table(evil)
        assert all(len(h) < 10_000 for h in table.header)  # not expanded
    except FileError:
        pass
    assert time.perf_counter() - started < 5


def test_a_workbook_named_csv_is_read_as_a_workbook(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "real.xlsx", [HEADER, ["1", "10000", "2025-01-01", "A", 1, "x"]])
    renamed = tmp_path / "export.csv"
    renamed.write_bytes(path.read_bytes())
    assert read_table(renamed).header == HEADER


def test_a_nul_byte_inside_a_csv_refuses_the_file_naming_its_place(tmp_path: Path) -> None:
    lines = [";".join(HEADER)] + [f"{i};10000;2025-01-01;A;1;ok" for i in range(1, 400)]
    lines.append("400;100\x0000;2025-01-01;A;1;ok")  # far past the binary-file check
    path = tmp_path / "nul.csv"
    path.write_bytes("\n".join(lines).encode())
    with pytest.raises(FileError, match="row 401, column B holds a NUL character"):
        check(path, Registry().get("customer_invoice"))
