"""Reading real files (issue 12): each case found in the public test corpora
of other spreadsheet libraries, written here as a real file by the test.

A file is read as the user meant it, or refused with a message that says
what it holds and what to do; never a guess, never a silent loss."""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from conftest import write_csv, write_xlsx
from records import preview_records

from importer.batch import check, validation_report
from importer.doctypes import Registry
from importer.errors import ColumnError, ConfigError, FileError
from importer.mapping.numbers import AmbiguousColumn, column_decimal
from importer.sources import open_sheet, open_table
from importer.sources.files import Table, read_table

INVOICE = ["Invoice number", "Customer number", "Invoice date", "Item number", "Quantity"]
LINE = ["1", "010104", "2025-03-03", "000123", 2]


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def _zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def _shared_texts(parts: dict[str, bytes]) -> dict[str, bytes]:
    """The workbook's texts in a shared table, as Excel saves them (openpyxl
    writes them into the cells)."""
    texts: list[bytes] = []

    def share(m: re.Match[bytes]) -> bytes:
        texts.append(m.group(2))
        return m.group(1) + b' t="s"><v>%d</v></c>' % (len(texts) - 1)

    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(
        rb'(<c r="[A-Z]+[0-9]+")[^>]*t="inlineStr"[^>]*><is><t>(.*?)</t></is></c>',
        share,
        parts[sheet],
    )
    parts["xl/sharedStrings.xml"] = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'count="%d" uniqueCount="%d">'
        % (len(texts), len(texts))
        + b"".join(b"<si><t>%s</t></si>" % t for t in texts)
        + b"</sst>"
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    return parts


def _invoices(path: Path, rows: list[list[object]] | None = None) -> Path:
    return write_xlsx(path, rows or [INVOICE, LINE], sheet="Fakturaer")


# ----------------------------------------- 1. sheets inflated by formats


def _inflate(path: Path, *, value: tuple[str, str] | None = None) -> Path:
    """The workbook as LibreOffice saves it: every row carries empty
    formatted cells out to column AMJ (1,024 columns), and formatted empty
    rows go down to row 1,048,576; ``value`` puts a real value in a cell."""
    parts = _parts(path)
    sheet = parts["xl/worksheets/sheet1.xml"]
    sheet = re.sub(
        rb'(<row r="([0-9]+)"[^>]*>)(.*?)</row>', rb'\1\3<c r="AMJ\2" s="0"/></row>', sheet
    )
    rows = {
        r: b'<row r="%d" customFormat="true"><c r="A%d" s="0"/><c r="AMJ%d" s="0"/></row>'
        % (r, r, r)
        for r in (40, 1_048_576)
    }
    if value is not None:
        ref, text = value
        row = int(re.sub("[A-Z]", "", ref))
        rows[row] = b'<row r="%d"><c r="%s" t="inlineStr"><is><t>%s</t></is></c></row>' % (
            row,
            ref.encode(),
            text.encode(),
        )
    tail = b"".join(rows[r] for r in sorted(rows))
    sheet = sheet.replace(b"</sheetData>", tail + b"</sheetData>")
    parts["xl/worksheets/sheet1.xml"] = re.sub(
        rb'<dimension ref="[^"]*"', b'<dimension ref="A1:AMJ1048576"', sheet
    )
    return _zip(path, parts)


def test_a_sheet_formatted_out_to_amj_and_row_1048576_is_read_by_its_data(
    tmp_path: Path,
) -> None:
    path = _inflate(_invoices(tmp_path / "libreoffice.xlsx", [INVOICE, LINE, ["2", *LINE[1:]]]))
    table = read_table(path)
    assert table.header == INVOICE
    assert [(r.number, r.cells[0]) for r in table.rows] == [(2, "1"), (3, "2")]
    batch = check(path, Registry().get("customer_invoice"))
    assert [r["key"] for r in preview_records(batch)] == ["1", "2"]
    assert batch.warnings == []


def test_a_real_value_far_to_the_right_is_read_where_it_is(tmp_path: Path) -> None:
    # The reader used to refuse this file as reaching "row 99,999"; now the
    # value is read in its column, for the mapping stage to report.
    path = _inflate(_invoices(tmp_path / "stray.xlsx"), value=("AMJ3", "oops"))
    table = read_table(path)
    assert table.header == INVOICE
    rows = list(table.rows)
    assert [(r.number, r.cells[0]) for r in rows] == [(2, "1"), (3, "")]
    assert (len(rows[1].cells), rows[1].cells[-1]) == (1024, "oops")


@pytest.mark.parametrize("ref", ["AMJ70000", "A2000000", "XFD1048576"])
def test_a_value_too_far_away_is_refused_with_its_cell(tmp_path: Path, ref: str) -> None:
    path = _inflate(_invoices(tmp_path / "far.xlsx"), value=(ref, "x"))
    with pytest.raises(FileError) as caught:
        read_table(path)
    message = str(caught.value)
    assert f"sheet 'Fakturaer' has values as far as cell {ref}" in message
    assert "99,999" not in message and "more than vnimport reads" in message


# --------------------------------------- 2. macro, chart and dialog sheets

_NS = (
    'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SHEET_KINDS = {
    "chart": (
        "chartsheets/sheet1.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.chartsheet+xml",
        f"{_OFFICE}/chartsheet",
        f'<chartsheet {_NS}><sheetViews><sheetView workbookViewId="0"/></sheetViews></chartsheet>',
    ),
    "macro": (
        "macrosheets/sheet1.xml",
        "application/vnd.ms-excel.macrosheet+xml",
        "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet",
        '<xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" '
        f'{_NS}><sheetData><row r="1"><c r="A1" t="str"><f>HALT()</f><v>TRUE</v></c></row>'
        "</sheetData></xm:macrosheet>",
    ),
    "dialog": (
        "dialogsheets/sheet1.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.dialogsheet+xml",
        f"{_OFFICE}/dialogsheet",
        f'<dialogsheet {_NS}><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
        "</dialogsheet>",
    ),
}


def _with_sheet(path: Path, kind: str, name: str, *, first: bool) -> Path:
    """The workbook with a sheet of ``kind`` added, first or last."""
    part, content_type, relation, xml = _SHEET_KINDS[kind]
    parts = _parts(path)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        f'<Override PartName="/xl/{part}" ContentType="{content_type}"/></Types>'.encode(),
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        f'<Relationship Id="rId{kind}" Type="{relation}" Target="{part}"/>'
        "</Relationships>".encode(),
    )
    tag = f'<sheet name="{name}" sheetId="9" r:id="rId{kind}"/>'.encode()
    workbook = parts["xl/workbook.xml"]
    parts["xl/workbook.xml"] = (
        workbook.replace(b"<sheets>", b"<sheets>" + tag)
        if first
        else workbook.replace(b"</sheets>", tag + b"</sheets>")
    )
    parts["xl/" + part] = xml.encode()
    return _zip(path, parts)


@pytest.mark.parametrize("kind", ["chart", "macro", "dialog"])
@pytest.mark.parametrize("first", [True, False])
def test_the_worksheets_of_a_workbook_with_other_sheets_are_read(
    tmp_path: Path, kind: str, first: bool
) -> None:
    path = _with_sheet(_invoices(tmp_path / f"{kind}.xlsx"), kind, "Diagram", first=first)
    batch = check(path, Registry().get("customer_invoice"))
    assert batch.table.sheet == "Fakturaer" and batch.table.other_sheets == []
    assert [r["key"] for r in preview_records(batch)] == ["1"]


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        ("chart", "a chart sheet"),
        ("macro", "an Excel 4.0 macro sheet"),
        ("dialog", "a dialog sheet"),
    ],
)
def test_naming_a_sheet_without_rows_says_what_it_is_and_where_the_data_is(
    tmp_path: Path, kind: str, what: str
) -> None:
    path = _with_sheet(_invoices(tmp_path / f"{kind}.xlsx"), kind, "Makro", first=True)
    with pytest.raises(FileError) as caught:
        read_table(path, sheet="Makro")
    message = str(caught.value)
    assert f"sheet 'Makro' is {what}, which holds no rows to import" in message
    assert "the sheets with data are 'Fakturaer'" in message and "damaged" not in message


def test_a_workbook_of_charts_only_says_what_it_holds(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Tom"
    wb.save(tmp_path / "charts.xlsx")
    path = _with_sheet(tmp_path / "charts.xlsx", "chart", "Diagram", first=True)
    with pytest.raises(FileError, match=r"sheet 'Tom' is empty$"):
        read_table(path)
    parts = _parts(path)  # without its one worksheet
    parts["xl/workbook.xml"] = re.sub(rb'<sheet name="Tom"[^>]*/>', b"", parts["xl/workbook.xml"])
    with pytest.raises(FileError, match="no worksheet to read rows from; it holds a chart sheet"):
        read_table(_zip(tmp_path / "only-chart.xlsx", parts))


# ---------------------------------------------------------- 3. ods, xlsb

_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"'
)


def _ods_cell(value: object) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, (int, float)):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        '<table:table-cell office:value-type="string">'
        f"<text:p>{escape(str(value))}</text:p></table:table-cell>"
    )


def ods_table(name: str, rows: list[list[object]], extra: str = "", style: str = "") -> str:
    body = "".join(
        "<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>"
        for row in rows
    )
    styled = f' table:style-name="{style}"' if style else ""
    return f'<table:table table:name="{escape(name)}"{styled}>{body}{extra}</table:table>'


def write_ods(path: Path, *tables: str, styles: str = "") -> Path:
    """A minimal OpenDocument spreadsheet, as the format asks: the mimetype
    first and stored, then content.xml and the manifest."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} '
        f'office:version="1.2"><office:automatic-styles>{styles}</office:automatic-styles>'
        f"<office:body><office:spreadsheet>{''.join(tables)}</office:spreadsheet>"
        "</office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )  # a ZipInfo of its own: stored, not compressed
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", manifest)
    return path


# What LibreOffice writes below and beside the data: the empty, formatted
# rest of the sheet, out to column AMJ and row 1,048,576, in two elements.
_LIBREOFFICE_REST = (
    '<table:table-row table:number-rows-repeated="1048570">'
    '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
)


def test_an_ods_file_is_read_like_a_workbook(tmp_path: Path) -> None:
    rest = (  # a row of values and the empty, formatted cells beside them
        "<table:table-row>"
        + "".join(_ods_cell(v) for v in ["2", "010102", "2025-03-04", "000245", 3])
        + '<table:table-cell table:number-columns-repeated="1019"/></table:table-row>'
    )
    hidden = (
        '<style:style style:name="ta2" style:family="table">'
        '<style:table-properties table:display="false"/></style:style>'
    )
    path = write_ods(
        tmp_path / "fakturaer.ods",
        ods_table("Gammel", [INVOICE, ["9", *LINE[1:]]], style="ta2"),
        ods_table("Fakturaer", [INVOICE, LINE], rest + _LIBREOFFICE_REST),
        ods_table("Notater", [["Sendt av Kari"]]),
        styles=hidden,
    )
    batch = check(path, Registry().get("customer_invoice"))
    assert batch.table.sheet == "Fakturaer" and batch.table.other_sheets == ["Notater"]
    records = preview_records(batch)
    assert [(r["key"], r["body"]["customerNumber"]["value"]) for r in records] == [
        ("1", "010104"),
        ("2", "010102"),
    ]
    assert [line["quantity"]["value"] for r in records for line in r["body"]["invoiceLines"]] == [
        2,
        3,
    ]
    assert [(w.code, w.message) for w in batch.warnings] == [
        ("hidden-sheet", "the workbook has hidden sheets ('Gammel'); they were not read")
    ]
    with path.open("rb") as fh:  # an upload without a name: told from its bytes
        assert open_table(fh).header == INVOICE
    assert open_table(io.BytesIO(path.read_bytes())).header == INVOICE


def test_an_ods_file_keeps_errors_merged_and_hidden_cells(tmp_path: Path) -> None:
    error = (
        '<table:table-cell table:formula="of:=1/0" office:value-type="string" '
        'office:string-value="" calcext:value-type="error"><text:p>#DIV/0!</text:p>'
        "</table:table-cell>"
    )
    merged = (
        '<table:table-cell office:value-type="string" table:number-rows-spanned="2">'
        "<text:p>7</text:p></table:table-cell>"
    )
    rows = (
        f"<table:table-row>{merged}{''.join(_ods_cell(v) for v in LINE[1:4])}{error}"
        "</table:table-row>"
        '<table:table-row table:visibility="collapse"><table:covered-table-cell/>'
        f"{''.join(_ods_cell(v) for v in [*LINE[1:4], 4])}</table:table-row>"
    )
    path = write_ods(tmp_path / "features.ods", ods_table("Fakturaer", [INVOICE], rows))
    batch = check(path, Registry().get("customer_invoice"))
    report = validation_report(batch)
    issues = {r.row: {(i.column, i.code) for i in r.issues} for r in report.results}
    assert issues == {2: {("Quantity", "excel-error")}, 3: {("", "document-invalid")}}
    assert "#DIV/0!" in report.results[0].issues[0].message
    assert {r.number: r.cells[0] for r in batch.rows} == {2: "7", 3: "7"}  # merged down
    assert [w.code for w in batch.warnings] == ["hidden-row"]


@pytest.mark.parametrize("far", ["rows", "columns"])
def test_an_ods_value_repeated_far_away_is_refused_with_its_cell(tmp_path: Path, far: str) -> None:
    # ods says "this value, 1,000,000 times" in a few bytes.
    if far == "rows":
        repeated = (
            '<table:table-row table:number-rows-repeated="1000000">'
            + "".join(_ods_cell("x") for _ in range(60))
            + "</table:table-row>"
        )
        where = "cell BH1000001"
    else:
        repeated = (
            '<table:table-row table:number-rows-repeated="60000"><table:table-cell '
            'table:number-columns-repeated="1000" office:value-type="string"><text:p>x</text:p>'
            "</table:table-cell></table:table-row>"
        )
        where = "cell ALL60001"
    path = write_ods(tmp_path / "far.ods", ods_table("Ark1", [INVOICE], repeated))
    with pytest.raises(FileError, match=f"sheet 'Ark1' has values as far as {where}"):
        read_table(path)


def test_an_xlsb_workbook_is_refused_with_what_to_do(tmp_path: Path) -> None:
    parts = _parts(_invoices(tmp_path / "base.xlsx"))
    parts["xl/workbook.bin"] = parts.pop("xl/workbook.xml")  # what marks an .xlsb
    path = _zip(tmp_path / "binary.xlsb", parts)
    with pytest.raises(FileError, match=r"Excel binary workbook \(\.xlsb\).*save it in Excel as"):
        read_table(path)
    with pytest.raises(FileError, match=r"not a valid \.ods workbook"):
        open_table(io.BytesIO(b"a;b\n1;2\n"), name="fake.ods")


# ------------------------------ 4. the sheet the user chose, and no other


def _two_sheets(path: Path, third: str) -> Path:
    """An invoice on two sheets (header and lines), and a third sheet that
    cannot be read: a value too far away, or its XML cut in half."""
    from openpyxl import Workbook

    wb = Workbook()
    head = wb.active
    head.title = "Fakturaer"
    for row in (
        ["Invoice number", "Customer number", "Invoice date"],
        ["1", "010104", "2025-03-03"],
    ):
        head.append(row)
    lines = wb.create_sheet("Linjer")
    for row in (["Invoice number", "Item number", "Quantity"], ["1", "000123", 2]):
        lines.append(row)
    wb.create_sheet("Rot").append(["x"])
    wb.save(path)
    parts = _parts(path)
    rot = "xl/worksheets/sheet3.xml"
    if third == "far":
        parts[rot] = parts[rot].replace(
            b"</sheetData>", b'<row r="90000"><c r="ZZ90000"><v>1</v></c></row></sheetData>'
        )
    elif third == "damaged":
        parts[rot] = parts[rot][: len(parts[rot]) // 2]
    return _zip(path, parts)


@pytest.mark.parametrize("third", ["far", "damaged"])
def test_a_sheet_no_one_chose_never_replaces_the_answer(tmp_path: Path, third: str) -> None:
    path = _two_sheets(tmp_path / "tre ark.xlsx", third)
    with pytest.raises(FileError):
        read_table(path, sheet="Rot")  # the sheet is bad indeed
    batch = check(path, Registry().get("customer_invoice"))
    assert (batch.table.sheet, batch.lines_table and batch.lines_table.sheet) == (
        "Fakturaer",
        "Linjer",
    )
    assert [r["key"] for r in preview_records(batch)] == ["1"]
    assert open_sheet(batch.table, "Linjer").header == ["Invoice number", "Item number", "Quantity"]


def test_an_empty_first_sheet_names_the_sheets_with_data(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Forside"
    wb.create_sheet("Fakturaer").append(INVOICE)
    wb.create_sheet("Tom")
    wb.save(tmp_path / "forside.xlsx")
    path = _with_sheet(tmp_path / "forside.xlsx", "chart", "Diagram", first=True)
    with pytest.raises(FileError) as caught:
        read_table(path)
    assert str(caught.value).endswith(
        "sheet 'Forside' is empty; the sheets with data are 'Fakturaer': name one with --sheet"
    )


# ----------------------------------------------------------- 5. encodings

CUSTOMERS = "Customer number;Name\n"


def _names(table: Table) -> list[object]:
    return [r.cells[1] for r in table.rows]


def _customers(path: Path, names: list[str], encoding: str) -> Path:
    text = CUSTOMERS + "".join(f"{10001 + i};{n}\n" for i, n in enumerate(names))
    path.write_bytes(text.encode(encoding))
    return path


GREEK = ["Παπαδόπουλος Α.Ε.", "Γεωργίου Ελένη", "Νικολάου και Υιοί ΟΕ", "Αθηναϊκή Ζυθοποιία"]  # noqa: RUF001
CYRILLIC = ["Иванов и партнёры", "ООО Ромашка", "Петрова Анна Сергеевна", "Северная звезда"]  # noqa: RUF001
CENTRAL = ["Dvořák s.r.o.", "Łódź Handel Sp. z o.o.", "Kovács Géza", "Nováková Jiřina"]
SCRIPTS = [
    (GREEK, "cp1253"),
    (GREEK, "iso-8859-7"),
    (CYRILLIC, "cp1251"),
    (CYRILLIC, "koi8-r"),
    (CENTRAL, "cp1250"),
    (CENTRAL, "iso-8859-2"),
]


@pytest.mark.parametrize(("names", "encoding"), SCRIPTS)
@pytest.mark.parametrize("count", [1, 2, 4, 12])
def test_a_legacy_encoding_is_read_right_or_asked_for_never_garbled(
    tmp_path: Path, names: list[str], encoding: str, count: int
) -> None:
    wanted = (names * 3)[:count]
    path = _customers(tmp_path / "kunder.csv", wanted, encoding)
    try:
        table = read_table(path)
    except FileError as exc:  # asking is always a fair answer
        assert "not UTF-8" in str(exc) and "--encoding" in str(exc)
    else:
        assert _names(table) == wanted
        assert [key for key, _ in table.notes] == ["encoding"]
    assert _names(read_table(path, encoding=encoding)) == wanted


@pytest.mark.parametrize(("names", "encoding"), SCRIPTS)
def test_a_short_file_in_another_alphabet_or_central_european_asks(
    tmp_path: Path, names: list[str], encoding: str
) -> None:
    path = _customers(tmp_path / "kunder.csv", names[:1], encoding)
    with pytest.raises(FileError, match=r"is not UTF-8, and .*; give it with --encoding"):
        read_table(path)


@pytest.mark.parametrize(
    ("names", "encoding", "named"),
    [
        (GREEK, "cp1253", "Windows-1253 (Greek)"),
        (CYRILLIC, "cp1251", "Windows-1251 (Cyrillic)"),
        (CYRILLIC, "koi8-r", "KOI8-R (Cyrillic)"),
    ],
)
def test_greek_and_cyrillic_files_of_a_few_rows_are_recognised(
    tmp_path: Path, names: list[str], encoding: str, named: str
) -> None:
    path = _customers(tmp_path / "kunder.csv", names * 3, encoding)
    batch = check(path, Registry().get("customer"))
    assert [r.values["name"] for r in batch.rows] == names * 3
    [note] = [w for w in batch.warnings if w.code == "encoding"]
    assert named in note.message


NORWEGIAN = [
    "Ærlig Kaffe Øst",
    "Bølgen Rørlegger AS",
    "Blåbær Design AS",
    "Sørlandets Trelast",
    "Håkonsen & Sønn Elektro",
    "Kåre Ørstavik",
]


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
@pytest.mark.parametrize(
    "names",
    [
        ["Blåbær AS"],
        ["Ærlig Kaffe Øst", "Göteborgs Målare", "Müller GmbH", "Café Løvenskiold"],
        [*NORWEGIAN, "José García", "Hernández"],
    ],
)
def test_short_nordic_files_in_windows_1252_and_latin_1_stay_read(
    tmp_path: Path, encoding: str, names: list[str]
) -> None:
    table = read_table(_customers(tmp_path / "kunder.csv", names, encoding))
    assert _names(table) == names
    assert table.notes == [("encoding", {"encoding": "Windows-1252 (cp1252)"})]


def test_a_few_nordic_names_beside_letters_central_european_text_shares_ask(
    tmp_path: Path,
) -> None:
    # "Bjørn" and "José" in Windows-1252, or "Bjořn" and "José" in Windows-1250?
    path = _customers(tmp_path / "kunder.csv", ["Bjørn Hansen", "José García"], "cp1252")
    with pytest.raises(FileError, match="give it with --encoding"):
        read_table(path)
    assert _names(read_table(path, encoding="cp1252")) == ["Bjørn Hansen", "José García"]


def test_a_utf8_file_with_a_windows_1252_line_pasted_in_is_read_right(tmp_path: Path) -> None:
    path = tmp_path / "blandet.csv"
    path.write_bytes(
        (CUSTOMERS + "10001;Bølgen AS\n").encode() + "10002;Blåbær AS\n".encode("cp1252")
    )
    table = read_table(path)
    assert _names(table) == ["Bølgen AS", "Blåbær AS"]
    assert table.notes == [
        ("encoding", {"encoding": "UTF-8, except line 3 in Windows-1252 (cp1252)"})
    ]


@pytest.mark.parametrize("bom", [codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE])
def test_utf32_with_its_mark_is_read(tmp_path: Path, bom: bytes) -> None:
    path = tmp_path / "utf32.csv"
    order = "utf-32-le" if bom == codecs.BOM_UTF32_LE else "utf-32-be"
    path.write_bytes(bom + (CUSTOMERS + "10001;Ærlig Kaffe\n").encode(order))
    table = read_table(path)
    assert (_names(table), table.notes) == (["Ærlig Kaffe"], [])


@pytest.mark.parametrize("order", ["utf-16-le", "utf-16-be"])
def test_utf16_without_its_mark_is_refused_with_the_encoding_to_give(
    tmp_path: Path, order: str
) -> None:
    path = tmp_path / "unicode.txt"
    path.write_bytes((CUSTOMERS + "10001;Ærlig Kaffe\n").encode(order))
    with pytest.raises(FileError, match=f"UTF-16 text .* --encoding {order}$"):
        read_table(path)
    assert _names(read_table(path, encoding=order)) == ["Ærlig Kaffe"]


def test_the_encoding_parameter(tmp_path: Path) -> None:
    path = _customers(tmp_path / "kunder.csv", ["Blåbær AS"], "cp1252")
    with pytest.raises(ConfigError, match="unknown encoding 'klingon'"):
        read_table(path, encoding="klingon")
    with pytest.raises(ConfigError, match="unknown encoding 'rot13'"):
        read_table(path, encoding="rot13")  # a codec, not a text encoding
    with pytest.raises(FileError, match=r"line 2 is not utf-8 text \(byte 0xE5\)"):
        read_table(path, encoding="utf-8")
    with pytest.raises(FileError, match="--encoding applies to csv and text files"):
        read_table(_invoices(tmp_path / "x.xlsx"), encoding="cp1252")
    upload = open_table(io.BytesIO(path.read_bytes()), name="kunder.csv", encoding="cp1252")
    assert (_names(upload), upload.notes) == (["Blåbær AS"], [])  # given, not judged
    bom = tmp_path / "bom.csv"
    bom.write_bytes(codecs.BOM_UTF8 + (CUSTOMERS + "10001;Å\n").encode())
    assert read_table(bom, encoding="utf-8").header == ["Customer number", "Name"]


# ------------------------------------------------------------- 6. NUL bytes


@pytest.mark.parametrize(
    ("row", "column", "where"),
    [(0, 0, "row 1, column A"), (1, 1, "row 2, column B"), (300, 1, "row 301, column B")],
)
def test_a_nul_byte_in_a_csv_refuses_the_file_wherever_it_is(
    tmp_path: Path, row: int, column: int, where: str
) -> None:
    rows: list[list[object]] = [["Customer number", "Name"]] + [
        [str(10001 + i), f"Kunde {i}"] for i in range(400)
    ]
    rows[row][column] = str(rows[row][column])[:3] + "\x00" + str(rows[row][column])[3:]
    path = write_csv(tmp_path / "nul.csv", rows)
    with pytest.raises(FileError, match=f"{where} holds a NUL character.*binary data"):
        read_table(path)


@pytest.mark.parametrize(
    ("ref", "nul", "inline"),
    [("A1", b"_x0000_", False), ("B2", b"\x00", False), ("B2", b"_x0000_", True)],
)
def test_a_nul_in_a_workbook_cell_refuses_it_the_same_way(
    tmp_path: Path, ref: str, nul: bytes, inline: bool
) -> None:
    """A NUL in the header or a value, in the shared texts or in the cell,
    written as Excel escapes it (_x0000_) or as the byte itself."""
    path = write_xlsx(tmp_path / "base.xlsx", [["Customer number", "Name"], ["10001", "Fjord"]])
    parts = _parts(path) if inline else _shared_texts(_parts(path))
    if inline:
        parts["xl/worksheets/sheet1.xml"] = re.sub(
            rb'<c r="B2"[^>]*>.*?</c>',
            b'<c r="B2" t="inlineStr"><is><t>Fj' + nul + b"ord</t></is></c>",
            parts["xl/worksheets/sheet1.xml"],
        )
    else:
        text = {"A1": b"Customer number", "B2": b"Fjord"}[ref]
        parts["xl/sharedStrings.xml"] = parts["xl/sharedStrings.xml"].replace(
            text, text[:2] + nul + text[2:]
        )
    with pytest.raises(FileError, match=f"sheet 'Sheet1', cell {ref} holds a NUL character"):
        read_table(_zip(tmp_path / "nul.xlsx", parts))


def test_a_nul_in_an_ods_cell_refuses_it_and_other_controls_are_row_errors(
    tmp_path: Path,
) -> None:
    path = write_ods(
        tmp_path / "nul.ods",
        ods_table("Ark1", [["Customer number", "Name"], ["10001", "Fj\x00ord"]]),
    )
    with pytest.raises(FileError, match="sheet 'Ark1', cell B2 holds a NUL character"):
        read_table(path)
    for made in (
        write_ods(
            tmp_path / "ctl.ods",
            ods_table("Ark1", [["Customer number", "Name"], ["10001", "Fj\x01ord"]]),
        ),
        write_csv(tmp_path / "ctl.csv", [["Customer number", "Name"], ["10001", "Fj\x01ord"]]),
        write_xlsx(tmp_path / "ctl.xlsx", [["Customer number", "Name"], ["10001", "Fj_x0001_ord"]]),
    ):
        report = validation_report(check(made, Registry().get("customer")))
        assert [(i.column, i.code) for r in report.results for i in r.issues] == [
            ("Name", "control-character")
        ], made.name


def test_binary_data_named_csv_is_refused_as_such(tmp_path: Path) -> None:
    path = tmp_path / "image.csv"
    path.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(FileError, match=r"row 1, column A holds a NUL character.*binary data"):
        read_table(path)


# ------------------------------------------------- 7. numbers and dates

DATED = [
    "Invoice number",
    "Customer number",
    "Invoice date",
    "Item number",
    "Quantity",
    "Unit price",
]


def _lines(tmp_path: Path, rows: list[list[object]], **kw: str) -> list[dict[str, object]]:
    path = write_csv(tmp_path / "in.csv", [DATED, *rows])
    return preview_records(check(path, Registry().get("customer_invoice"), **kw))


def test_day_first_dates_with_hyphens_are_read(tmp_path: Path) -> None:
    records = _lines(
        tmp_path,
        [
            ["1", "010104", "30-10-2019", "A", "1", "10"],
            ["2", "010104", "01-11-2019", "A", "1", "10"],
        ],
    )
    assert [r["body"]["documentDate"]["value"][:10] for r in records] == [
        "2019-10-30",
        "2019-11-01",
    ]
    with pytest.raises(ColumnError, match="reads as day/month or as month/day"):
        _lines(tmp_path, [["1", "010104", "01-11-2019", "A", "1", "10"]])
    path = write_csv(tmp_path / "short.csv", [DATED, ["1", "010104", "19-10-30", "A", "1", "10"]])
    report = validation_report(check(path, Registry().get("customer_invoice")))
    assert [i.code for r in report.results for i in r.issues] == ["invalid-date"]  # year first?


@pytest.mark.parametrize(
    ("prices", "wanted"),
    [
        (["1.5E+3", "2.5e-2"], [1500, 0.025]),
        (["2,5E-2", "12,5", "1 234,50"], [0.025, 12.5, 1234.5]),
    ],
)
def test_numbers_in_exponent_form_are_read(
    tmp_path: Path, prices: list[str], wanted: list[float]
) -> None:
    records = _lines(
        tmp_path, [[str(i), "010104", "2025-03-03", "A", "1", p] for i, p in enumerate(prices, 1)]
    )
    got = [
        line["unitPriceInCurrency"]["value"] for r in records for line in r["body"]["invoiceLines"]
    ]
    assert got == wanted


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('"Customer number", "Name"\n10001, "Fjord, Fisk AS"\n', "Fjord, Fisk AS"),
        ('Customer number; Name\n10001; "Fjord; Fisk AS"\n', "Fjord; Fisk AS"),
        ('Customer number;Name\n10001;  "Fjord AS"\n', "Fjord AS"),
    ],
)
def test_quoted_cells_after_a_space_lose_their_quotes(tmp_path: Path, text: str, name: str) -> None:
    path = tmp_path / "spaced.csv"
    path.write_text(text, encoding="utf-8")
    table = read_table(path)
    assert table.header == ["Customer number", "Name"]
    assert [r.cells for r in table.rows] == [["10001", name]]


def _column(tmp_path: Path, prices: list[str]) -> list[str]:
    rows = [["Item number", "Unit price"], *([f"A{i}", p] for i, p in enumerate(prices))]
    return [str(r.cells[1]) for r in read_table(write_csv(tmp_path / "prices.csv", rows)).rows]


def test_a_locale_never_settles_a_value_it_does_not_write(tmp_path: Path) -> None:
    # nb_NO writes 1 234,50: a 1.234 alone could be 1234 or 1.234.
    with pytest.raises(AmbiguousColumn) as asked:
        column_decimal(_column(tmp_path, ["1.234", "500"]), locale="nb_NO")
    assert (asked.value.example, asked.value.locale) == ("1.234", "nb_NO")
    with pytest.raises(AmbiguousColumn) as contradicted:
        column_decimal(_column(tmp_path, ["1.5", "500"]), locale="nb_NO")
    assert contradicted.value.mixed == "1.5"
    # the column's other values settle it: a decimal comma, or thousands points
    assert column_decimal(_column(tmp_path, ["1.234", "12,50"]), locale="nb_NO") == ","
    assert column_decimal(_column(tmp_path, ["1.234", "2.345.678"]), locale="nb_NO") == ","
    # what the locale writes itself, it settles
    assert column_decimal(_column(tmp_path, ["1,234"]), locale="nb_NO") == ","
    assert column_decimal(_column(tmp_path, ["1.234"]), locale="de_DE") == ","
    assert column_decimal(_column(tmp_path, ["1,234"]), locale="en_GB") == "."


def test_check_with_nb_no_asks_about_a_lone_1_234(tmp_path: Path) -> None:
    with pytest.raises(ColumnError, match=r"1\.234"):
        _lines(tmp_path, [["1", "010104", "2025-03-03", "A", "1", "1.234"]], locale="nb_NO")
