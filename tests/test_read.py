"""Reading files as the user sees them: row numbers, text, dates, delimiters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import write_xlsx

from importer.errors import FileError
from importer.sources.files import read_table


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


@pytest.mark.parametrize(
    ("encoding", "named"),
    [
        ("utf-8", None),
        ("utf-8-sig", None),
        ("utf-16", None),
        ("cp1252", "Windows-1252"),
        ("latin-1", "Latin-1"),
    ],
)
def test_text_encodings_keep_nordic_letters_and_say_how_they_were_read(
    tmp_path: Path, encoding: str, named: str | None
) -> None:
    from importer.doctypes import Registry
    from importer.mapping.columns import build_column_map

    path = tmp_path / "in.csv"
    text = "Kundenummer\tNavn\n0101\tÆrlig Kaffe Øst Å/S\n0102\tGöteborgs Målerí\n"
    raw = text.encode(encoding)
    if encoding == "latin-1":
        raw = raw.replace("í".encode("latin-1"), b"\x81")  # not a cp1252 character
        text = text.replace("í", "\x81")
    path.write_bytes(raw)
    table = read_table(path)
    assert [r.cells for r in table.rows] == [
        ["0101", "Ærlig Kaffe Øst Å/S"],
        ["0102", text.split("\t")[-1].strip()],
    ]
    notes = build_column_map(read_table(path), Registry().get("customer")).warnings
    encodings = [w for w in notes if w.code == "encoding"]
    if named is None:
        assert encodings == []
    else:
        assert len(encodings) == 1 and named in encodings[0].message


def test_pipe_delimited_csv(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("Kundenummer|Navn\n0101|Fjord, Fisk; og Sønn\n", encoding="utf-8")
    assert [r.cells for r in read_table(path).rows] == [["0101", "Fjord, Fisk; og Sønn"]]


def test_title_rows_above_the_header_are_skipped(tmp_path: Path) -> None:
    from records import preview_records

    from importer.batch import check
    from importer.doctypes import Registry

    rows: list[list[object]] = [
        ["Fakturagrunnlag mars 2025"],
        ["Eksportert fra Regnskap 4.2", None, "Side 1"],
        [],
        ["Fakturanummer", "Kundenummer", "Fakturadato", "Varenummer", "Antall"],
        ["1001", "010104", "2025-03-03", "000123", "12"],
    ]
    for path in (write_xlsx(tmp_path / "t.xlsx", rows), tmp_path / "t.csv"):
        if path.suffix == ".csv":
            path.write_text(
                "Fakturagrunnlag mars 2025\nEksportert fra Regnskap 4.2;;Side 1\n\n"
                "Fakturanummer;Kundenummer;Fakturadato;Varenummer;Antall\n"
                "1001;010104;2025-03-03;000123;12\n",
                encoding="utf-8",
            )
        prepared = check(path, Registry().get("customer_invoice"))
        assert prepared.table.header_row == 4
        assert [r.number for r in prepared.rows] == [5]
        [record] = preview_records(prepared)
        assert record["body"]["customerNumber"] == {"value": "010104"}
        assert prepared.warnings == []
