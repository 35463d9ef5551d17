"""Reading files as the user sees them: row numbers, text, dates, delimiters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import write_xlsx

from importer.errors import FileError
from importer.read import read_table


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_csv_delimiter_and_bom_are_detected(tmp_path: Path, delimiter: str, bom: bytes) -> None:
    text = delimiter.join(["Kundenummer", "Navn", "Postnr"]) + "\n"
    text += delimiter.join(["0101", '"Fjord, Fisk & Sønn AS"', "0150"]) + "\n"
    path = tmp_path / "in.csv"
    path.write_bytes(bom + text.encode("utf-8"))
    table = read_table(path)
    assert table.header == ["Kundenummer", "Navn", "Postnr"]
    [row] = list(table.rows)
    assert row.cells == ["0101", "Fjord, Fisk & Sønn AS", "0150"]


def test_blank_lines_are_skipped_without_renumbering(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text('A;B\n1;"two\nlines"\n\n;\n3;4\n', encoding="utf-8")
    rows = list(read_table(path).rows)
    assert [(r.number, r.cells) for r in rows] == [(2, ["1", "two\nlines"]), (5, ["3", "4"])]


def test_xlsx_rows_keep_excel_numbers_text_and_dates(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "in.xlsx",
        [
            [None],  # a blank first row: the header is row 2
            ["Kundenummer", "Dato", "Beløp"],
            ["0101", dt.date(2025, 1, 31), 12.5],
            [None, None, None],
            ["000050", dt.date(2025, 2, 28), 3],
        ],
        sheet="Fakturaer",
    )
    table = read_table(path)
    assert (table.sheet, table.header_row, table.header) == (
        "Fakturaer",
        2,
        ["Kundenummer", "Dato", "Beløp"],
    )
    rows = list(table.rows)
    assert [r.number for r in rows] == [3, 5]
    assert rows[0].cells[0] == "0101" and rows[1].cells[0] == "000050"
    assert rows[0].cells[1] in (dt.date(2025, 1, 31), dt.datetime(2025, 1, 31))
    assert rows[0].sheet == "Fakturaer"


def test_sheet_by_name(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Forside"
    wb.active.append(["Dette er en forside"])
    lines = wb.create_sheet("Linjer")
    lines.append(["Varenr"])
    lines.append(["0042"])
    wb.save(tmp_path / "in.xlsx")
    assert read_table(tmp_path / "in.xlsx").sheet == "Forside"
    table = read_table(tmp_path / "in.xlsx", sheet="Linjer")
    assert [r.cells for r in table.rows] == [["0042"]]
    with pytest.raises(FileError, match="no sheet named 'Ark3'; the sheets are Forside, Linjer"):
        read_table(tmp_path / "in.xlsx", sheet="Ark3")


def test_non_utf8_csv_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes("Navn\nSøren\n".encode("cp1252"))
    with pytest.raises(FileError, match="line 2 is not UTF-8 text; save the file as 'CSV UTF-8'"):
        read_table(path)
