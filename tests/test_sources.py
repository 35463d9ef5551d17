"""Sources: an upload, rows and a DataFrame read as the same file would be."""

from __future__ import annotations

import datetime as dt
import gc
import io
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import write_csv, write_xlsx
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

import importer.sources.uploads as uploads
from importer.doctypes import Registry
from importer.errors import ColumnError, FileError
from importer.mapping.columns import build_column_map, decide_number_formats, map_rows
from importer.sources import (
    Table,
    open_sheet,
    open_table,
    sheet_headers_of,
    table_from_rows,
)

ROWS: list[list[object]] = [
    ["Kundenummer", "Navn", "Fakturadato", "Beløp"],
    ["0101", "Fjord, Fisk & Sønn AS", dt.date(2025, 1, 31), 12.5],
    [None, None, None, None],
    ["000050", "Bryggen Kaffe", dt.date(2025, 2, 28), 3],
]


def rows_of(table: Table) -> list[tuple[int, str, list[Any]]]:
    return [(r.number, r.sheet, r.cells) for r in table.rows]


def leftover_copies() -> list[Path]:
    return sorted(Path(tempfile.gettempdir()).glob("vnimport-*"))


@pytest.fixture(params=["xlsx", "csv"])
def batch(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "xlsx":
        return write_xlsx(tmp_path / "batch.xlsx", ROWS, sheet="Fakturaer")
    return write_csv(tmp_path / "batch.csv", ROWS)


# ------------------------------------------------------------- uploads


def test_an_upload_reads_as_the_file_on_disk(batch: Path) -> None:
    expected = open_table(batch)
    want = (expected.sheet, expected.header, expected.header_row, rows_of(expected))
    assert [r[0] for r in want[3]] == [2, 4]  # the blank row 3 keeps its number
    with batch.open("rb") as fh:
        from_file = open_table(fh)
    named = open_table(io.BytesIO(batch.read_bytes()), name=batch.name)
    unnamed = open_table(io.BytesIO(batch.read_bytes()))  # its type told from its bytes
    for table in (from_file, named, unnamed):
        assert (table.sheet, table.header, table.header_row, rows_of(table)) == want
    assert from_file.name == str(batch)  # an open file is called by its own path
    assert named.name == batch.name and unnamed.name == "upload"
    assert named.path != batch and named.path.suffix == batch.suffix  # a private copy


def test_an_upload_is_read_from_where_the_file_object_stands(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "in.csv", ROWS).read_bytes()
    stream = io.BytesIO(b"garbage before the upload" + data)
    stream.seek(len(b"garbage before the upload"))
    assert open_table(stream).header == ["Kundenummer", "Navn", "Fakturadato", "Beløp"]
    assert stream.read() == b""  # read, and left open for its owner to close


def test_a_web_framework_upload_is_called_by_its_filename(tmp_path: Path) -> None:
    class FileStorage:  # Werkzeug's: .name is the form field, .filename the file
        def __init__(self, data: bytes) -> None:
            self.name, self.filename, self._data = "file", "januar.xlsx", io.BytesIO(data)

        def read(self, size: int = -1, /) -> bytes:
            return self._data.read(size)

    good = write_xlsx(tmp_path / "x.xlsx", ROWS).read_bytes()
    assert open_table(FileStorage(good)).name == "januar.xlsx"
    with pytest.raises(FileError, match=r"^januar\.xlsx: the workbook is damaged"):
        open_table(FileStorage(good[: len(good) // 2]))


def test_a_spooled_upload_without_a_name_takes_the_one_given(batch: Path) -> None:
    with tempfile.SpooledTemporaryFile(max_size=1 << 20) as spool:
        spool.write(batch.read_bytes())
        spool.seek(0)
        table = open_table(spool, name="Faktura mars" + batch.suffix)
    assert table.name == "Faktura mars" + batch.suffix
    assert [r.cells[0] for r in table.rows] == ["0101", "000050"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "batch.xlsx: the file is empty"),
        (b"PK\x03\x04 not really a workbook", "batch.xlsx: the workbook is damaged"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "batch.xlsx: this is an old Excel"),
        (b"just text", "batch.xlsx: not a valid .xlsx workbook"),
    ],
)
def test_errors_name_the_upload_never_its_copy(data: bytes, message: str) -> None:
    before = leftover_copies()
    with pytest.raises(FileError) as caught:
        open_table(io.BytesIO(data), name="batch.xlsx")
    assert str(caught.value).startswith(message)
    assert "vnimport-" not in str(caught.value) and tempfile.gettempdir() not in str(caught.value)
    assert leftover_copies() == before  # a refused upload leaves no copy behind


def test_an_upload_of_an_unknown_type_is_refused_by_its_name() -> None:
    with pytest.raises(FileError, match=r"^rapport\.pdf: unsupported file type '\.pdf'"):
        open_table(io.BytesIO(b"%PDF-1.7"), name="rapport.pdf")


def test_an_upload_at_its_end_says_to_seek_back(tmp_path: Path) -> None:
    stream = io.BytesIO(write_csv(tmp_path / "in.csv", ROWS).read_bytes())
    stream.read()
    with pytest.raises(FileError, match=r"seek\(0\)"):
        open_table(stream, name="in.csv")


def test_a_text_mode_file_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", ROWS)
    with path.open(encoding="utf-8") as fh, pytest.raises(FileError, match="binary mode"):
        open_table(fh)
    with pytest.raises(FileError, match=r"^notes\.csv: .*binary mode"):
        open_table(io.StringIO("a;b\n1;2\n"), name="notes.csv")
    with pytest.raises(TypeError, match="BytesIO"):
        open_table(path.read_bytes())  # type: ignore[arg-type]


def test_an_upload_is_copied_in_chunks_and_refused_past_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[int] = []

    class Stream(io.RawIOBase):  # an endless upload
        def readable(self) -> bool:
            return True

        def read(self, size: int = -1, /) -> bytes:
            asked.append(size)
            assert size > 0, "an upload is never read whole"
            return b"x;" * (size // 2)

    monkeypatch.setattr(uploads, "MAX_UPLOAD", 5 * uploads.CHUNK)
    before = leftover_copies()
    with pytest.raises(FileError, match=r"^huge\.csv: the file is larger than"):
        open_table(Stream(), name="huge.csv")
    assert set(asked) == {uploads.CHUNK} and len(asked) == 6
    assert leftover_copies() == before


def two_sheet_workbook(path: Path) -> Path:
    wb = Workbook()
    head = wb.active
    head.title = "Hode"
    for row in [["Fakturanummer", "Kundenummer"], ["F1", "0101"]]:
        head.append(row)
    lines = wb.create_sheet("Linjer")
    for row in [["Fakturanummer", "Antall"], ["F1", 2], ["F1", 3]]:
        lines.append(row)
    wb.save(path)
    return path


def test_other_sheets_of_an_upload_are_read_from_its_copy_while_a_table_holds_it(
    tmp_path: Path,
) -> None:
    data = two_sheet_workbook(tmp_path / "to ark.xlsx").read_bytes()
    table = open_table(io.BytesIO(data), name="to ark.xlsx")
    copy = table.path
    assert table.other_sheets == ["Linjer"]
    assert sheet_headers_of(table, table.other_sheets) == {"Linjer": ["Fakturanummer", "Antall"]}
    lines = open_sheet(table, "Linjer")
    assert (lines.name, lines.sheet) == ("to ark.xlsx", "Linjer")
    with pytest.raises(FileError, match=r"^to ark\.xlsx: no sheet named 'Ordre'"):
        open_sheet(table, "Ordre")
    del table
    gc.collect()
    assert copy.exists()  # the lines table still holds it
    assert [r.cells for r in open_sheet(lines, "Hode").rows] == [["F1", "0101"]]
    del lines
    gc.collect()
    assert not copy.exists()


def test_other_sheets_of_a_file_on_disk(tmp_path: Path) -> None:
    path = two_sheet_workbook(tmp_path / "to ark.xlsx")
    table = open_table(path)
    assert table.name == str(path) and table.keep is None
    assert [r.cells for r in open_sheet(table, "Linjer").rows] == [["F1", 2], ["F1", 3]]


# ----------------------------------------------------------------- rows


def test_rows_read_like_a_file() -> None:
    table = table_from_rows(
        ["Kundenummer", "Navn", " Beløp "],
        [
            ["0101", "Fjord AS", 12.5],
            ("0102",),  # short: padded
            [],
            [None, "  ", ""],  # blank: skipped, the next keeps its number
            ["0103", "Bryggen", 3, "extra"],  # long: the mapping stage reports the cell
        ],
        name="api",
    )
    assert (table.name, table.sheet, table.header, table.header_row) == (
        "api",
        "",
        ["Kundenummer", "Navn", "Beløp"],
        1,
    )
    assert rows_of(table) == [
        (2, "", ["0101", "Fjord AS", 12.5]),
        (3, "", ["0102", "", ""]),
        (6, "", ["0103", "Bryggen", 3, "extra"]),
    ]


def test_row_values_become_what_a_spreadsheet_cell_holds() -> None:
    when = dt.datetime(2025, 1, 31, 10, 30)
    cells = [
        "0101",
        7,
        True,
        dt.date(2025, 1, 31),
        when,
        None,
        float("nan"),
        Decimal("12.50"),
        Decimal("100"),
        Decimal("12345678901234567.891"),
        Decimal("NaN"),
    ]
    [row] = table_from_rows([f"c{i}" for i in range(len(cells))], [cells]).rows
    assert row.cells == [
        "0101",
        7,
        True,
        dt.date(2025, 1, 31),
        when,
        "",
        "",
        12.5,
        100,
        "12345678901234567.891",  # more digits than a float holds: its exact text
        "",
    ]
    assert [type(c) for c in row.cells[7:9]] == [float, int]


def test_a_value_no_cell_holds_is_refused_with_its_row_and_column() -> None:
    with pytest.raises(FileError, match=r"^api: row 3, column B \('Navn'\) holds a value of type"):
        table_from_rows(
            ["Kundenummer", "Navn"], [["0101", "Fjord"], ["0102", ["a", "list"]]], name="api"
        )
    with pytest.raises(FileError, match="the header has no column names"):
        table_from_rows(["", None], [["0101"]])
    with pytest.raises(TypeError, match="row 2 is a str"):
        table_from_rows(["Kundenummer"], ["0101"])  # type: ignore[list-item]


@given(st.text(), st.text())
def test_any_text_in_rows_comes_back_unchanged(key: str, text: str) -> None:
    [row] = table_from_rows(["key", "text"], [["k" + key, text]]).rows
    assert row.cells == ["k" + key, text]
    assert all(isinstance(c, str) for c in row.cells)


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_a_decimal_keeps_its_exact_value(value: Decimal) -> None:
    [row] = table_from_rows(["k", "amount"], [["k", value]]).rows
    cell = row.cells[1]
    assert Decimal(cell if isinstance(cell, str) else repr(cell)) == value


# ----------------------------------------------------------- DataFrames


def test_a_dataframe_keeps_text_numbers_and_dates() -> None:
    frame = pd.DataFrame(
        {
            "Kundenummer": pd.Series(["0101", None, "000050"], dtype=str),
            "Antall": [1, 2, 3],
            "Beløp": [12.5, float("nan"), 3.0],
            "Fakturadato": pd.to_datetime(
                ["2025-01-31", None, "2025-02-28 10:30"], format="ISO8601"
            ),
            "Rabatt": pd.Series([5, None, 0], dtype="Int64"),
            "Aktiv": [True, False, True],
        }
    )
    table = open_table(frame)
    assert (table.name, table.sheet, table.header) == ("DataFrame", "", list(frame.columns))
    assert rows_of(table) == [
        (2, "", ["0101", 1, 12.5, dt.date(2025, 1, 31), 5, True]),
        (3, "", ["", 2, "", "", "", False]),
        (4, "", ["000050", 3, 3.0, dt.datetime(2025, 2, 28, 10, 30), 0, True]),
    ]
    # Plain Python values, as a file gives: no numpy int64, no pandas Timestamp.
    types = {type(c) for r in open_table(frame).rows for c in r.cells}
    assert types == {str, int, float, bool, dt.date, dt.datetime}


def test_a_dataframe_read_from_excel_with_dtype_str_keeps_leading_zeros(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "in.xlsx", ROWS)
    frame = pd.read_excel(path, dtype={"Kundenummer": str}, engine="openpyxl")
    table = open_table(frame, name="in.xlsx")
    # pandas keeps the blank row 3 as a row of NaN: skipped, so the rows keep
    # the numbers the workbook shows.
    assert [(r.number, r.cells[0]) for r in table.rows] == [(2, "0101"), (4, "000050")]


def test_a_dataframe_index_is_data_only_when_named() -> None:
    frame = pd.DataFrame({"Kundenummer": ["0101", "0102"], "Navn": ["A", "B"]})
    assert open_table(frame.iloc[::-1]).header == ["Kundenummer", "Navn"]
    indexed = open_table(frame.set_index("Kundenummer"))
    assert indexed.header == ["Kundenummer", "Navn"]
    assert [r.cells for r in indexed.rows] == [["0101", "A"], ["0102", "B"]]


def test_a_dataframe_header_must_be_one_row_of_names() -> None:
    frame = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")]))
    with pytest.raises(FileError, match=r"^DataFrame: the header has 2 levels"):
        open_table(frame)
    with pytest.raises(FileError, match="has no columns"):
        open_table(pd.DataFrame())
    with pytest.raises(FileError, match="applies to workbooks"):
        open_table(pd.DataFrame({"a": [1]}), sheet="Ark1")
    assert open_table(pd.DataFrame([[1, 2]], columns=[0, 1.0])).header == ["0", "1"]


def test_a_dataframe_with_a_column_twice_stops_at_the_column_map(registry: Registry) -> None:
    frame = pd.DataFrame([["0101", "2025-01-31", "A"]], columns=["Kundenummer", "Dato", "Navn"])
    frame.columns = ["Kundenummer", "Fakturadato", "Kundenummer"]
    table = open_table(frame, name="fakturaer")
    assert table.header == ["Kundenummer", "Fakturadato", "Kundenummer"]
    with pytest.raises(ColumnError, match=r"^fakturaer: the same column appears twice"):
        build_column_map(table, registry.get("customer_invoice"))


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_any_text_in_a_dataframe_comes_back_unchanged(texts: list[str]) -> None:
    frame = pd.DataFrame({"key": ["k"] * len(texts), "text": texts}, dtype=str)
    assert [r.cells[1] for r in open_table(frame).rows] == texts


def test_a_dataframe_maps_like_a_file(registry: Registry) -> None:
    frame = pd.DataFrame(
        {
            "Customer number": pd.Series(["0101", "0101"], dtype=str),
            "Invoice date": pd.to_datetime(["2025-03-03", "2025-03-03"]),
            "Quantity": [2, 3],
            "Unit price": [Decimal("1.234"), Decimal("189.50")],  # not read as 1234
        }
    )
    table = open_table(frame)
    colmap = build_column_map(table, registry.get("customer_invoice"))
    rows = list(table.rows)
    decide_number_formats(rows, colmap, None)
    mapped = list(map_rows(rows, colmap))
    assert [m.issues for m in mapped] == [[], []]
    assert [m.values for m in mapped] == [
        {
            "customerNumber": "0101",
            "documentDate": "2025-03-03",
            "invoiceLines.quantity": quantity,
            "invoiceLines.unitPriceInCurrency": price,
        }
        for quantity, price in ((2, 1.234), (3, 189.5))
    ]
