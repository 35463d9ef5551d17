"""A corpus of real-world and hostile input files, generated on demand.

Every case is a function that writes one file into a folder and returns its
path; :data:`CASES` names them and :data:`EXPECTED` says what ``vnimport
preview FILE --type customer_invoice`` must do with it:

``"ok"``
    the file is read; every row previews or is reported (exit 0 or 1)
``"file-error"``
    the file is refused with a one-line message (exit 2), never a traceback
``"clean"``
    either of the two, where both are fair answers (a stray value in the
    last cell of a sheet: read it, or refuse the sheet), but never a crash,
    a traceback or a hang

Nothing here is committed as a file: the tests build the corpus in a
temporary folder. To look at the files, write them out with::

    python tests/corpus.py OUTDIR

The module needs vnimport (installed), openpyxl and, for the one really
encrypted workbook, msoffcrypto-tool.
"""

from __future__ import annotations

import codecs
import io
import random
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

from importer.sources.files import column_letter

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"

Outcome = Literal["ok", "file-error", "clean"]
Maker = Callable[[Path], Path]

CASES: dict[str, Maker] = {}
EXPECTED: dict[str, Outcome] = {}
NOTES: dict[str, str] = {}


def case(name: str, expected: Outcome, note: str = "") -> Callable[[Maker], Maker]:
    """Register a maker under ``name`` with the outcome it must have."""

    def register(make: Maker) -> Maker:
        if name in CASES:
            raise ValueError(f"two corpus cases are named {name!r}")
        CASES[name] = make
        EXPECTED[name] = expected
        NOTES[name] = note or (make.__doc__ or "").strip().splitlines()[0]
        return make

    return register


# ------------------------------------------------------------------ content

HEADER = [
    "Invoice number",
    "Customer number",
    "Invoice date",
    "Due date",
    "Item number",
    "Line description",
    "Quantity",
    "Unit price",
    "Discount %",
]
# The same columns under the Norwegian names the type knows.
HEADER_NB = [
    "Fakturanummer",
    "Kundenummer",
    "Fakturadato",
    "Forfallsdato",
    "Varenummer",
    "Beskrivelse",
    "Antall",
    "Enhetspris",
    "Rabatt %",
]
ROWS = [
    [
        "1001",
        "010104",
        "2025-03-03",
        "2025-03-17",
        "000123",
        "Kaffe, hele bønner",
        "12",
        "189.50",
        "",
    ],
    [
        "1001",
        "010104",
        "2025-03-03",
        "2025-03-17",
        "000245",
        "Filterpapir nr. 4",
        "40",
        "24.90",
        "5",
    ],
    ["1002", "010102", "2025-03-04", "2025-04-03", "", "Service, 2 timer", "2", "1250", ""],
    [
        "1003",
        "010106",
        "2025-03-05",
        "2025-04-04",
        "000990",
        "Kaffekvern, industri",
        "1",
        "1240",
        "7.5",
    ],
]
NORDIC = "Ærlig Kaffe Øst Å/S, Göteborgs Målare, blåbær og ærter, Ä Ö"


def _lines(rows: Iterable[Sequence[str]], delimiter: str) -> str:
    """Rows joined with ``delimiter``, quoting as Excel does."""
    out = []
    for row in rows:
        cells = []
        for cell in row:
            if any(ch in cell for ch in (delimiter, '"', "\n", "\r")):
                cell = '"' + cell.replace('"', '""') + '"'
            cells.append(cell)
        out.append(delimiter.join(cells))
    return "\r\n".join(out) + "\r\n"


def _csv(
    folder: Path,
    name: str,
    rows: Sequence[Sequence[str]],
    *,
    delimiter: str = ";",
    encoding: str = "utf-8",
    header: Sequence[str] = HEADER,
) -> Path:
    path = folder / name
    path.write_bytes(_lines([header, *rows], delimiter).encode(encoding))
    return path


def _bytes(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _with(rows: Sequence[Sequence[str]], column: str, values: Sequence[str]) -> list[list[str]]:
    """``rows`` with ``column``'s cells replaced by ``values``, one row each."""
    i = HEADER.index(column)
    out = []
    for n, value in enumerate(values):
        row = list(rows[n % len(rows)])
        row[0] = str(2001 + n)  # one document per row
        row[i] = value
        out.append(row)
    return out


# ---------------------------------------------------------------- raw xlsx


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula cell with the value Excel cached when it last calculated."""

    formula: str
    cached: str
    kind: Literal["n", "str", "e", "b"] = "n"


@dataclass(frozen=True, slots=True)
class Serial:
    """A number cell formatted as a date (``styled``) or a bare number;
    ``value`` is written as it is (``"nan"`` too)."""

    value: float | str
    styled: bool = True


RawCell = str | int | float | Formula | Serial | None


_col = column_letter


def _cell_xml(ref: str, value: RawCell) -> str:
    if value is None:
        return ""
    if isinstance(value, Formula):
        t = "" if value.kind == "n" else f' t="{value.kind}"'
        return f'<c r="{ref}"{t}><f>{escape(value.formula)}</f><v>{escape(value.cached)}</v></c>'
    if isinstance(value, Serial):
        style = ' s="1"' if value.styled else ""
        shown = value.value if isinstance(value.value, str) else repr(value.value)
        return f'<c r="{ref}"{style}><v>{shown}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'


def sheet_xml(rows: Sequence[Sequence[RawCell]], *, prolog: str = "", first: int = 1) -> bytes:
    """A worksheet part with inline strings (no shared-strings part needed)."""
    body = []
    for r, row in enumerate(rows, start=first):
        cells = "".join(_cell_xml(f"{_col(c)}{r}", v) for c, v in enumerate(row))
        body.append(f'<row r="{r}">{cells}</row>')
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        + prolog
        + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData>" + "".join(body) + "</sheetData></worksheet>"
    ).encode()


_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" '
    b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Default Extension="bin" ContentType="application/octet-stream"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/styles.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    b"</Types>"
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="Fakturaer" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    b'Target="worksheets/sheet1.xml"/>'
    b'<Relationship Id="rId2" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    b'Target="styles.xml"/></Relationships>'
)
# Style 1 is Excel's built-in short date (numFmtId 14).
_STYLES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    b'<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    b'<borders count="1"><border/></borders>'
    b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    b'<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    b'<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    b"</cellXfs></styleSheet>"
)


def workbook_parts(sheet: bytes) -> dict[str, bytes]:
    """The parts of a one-sheet workbook (sheet "Fakturaer") around ``sheet``."""
    return {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": _RELS,
        "xl/workbook.xml": _WORKBOOK,
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS,
        "xl/styles.xml": _STYLES,
        "xl/worksheets/sheet1.xml": sheet,
    }


def sheets_parts(sheets: Sequence[tuple[str, bytes]]) -> dict[str, bytes]:
    """The parts of a workbook with the given (name, sheet XML) sheets, in order."""
    names = "".join(
        f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
        for i, (name, _) in enumerate(sheets, start=1)
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(2, len(sheets) + 1)
    )
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES.replace(
            b"</Types>", overrides.encode() + b"</Types>"
        ),
        "_rels/.rels": _RELS,
        "xl/workbook.xml": _WORKBOOK.replace(
            b'<sheet name="Fakturaer" sheetId="1" r:id="rId1"/>', names.encode()
        ),
        "xl/_rels/workbook.xml.rels": (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + rels.encode()
            + b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/styles" Target="styles.xml"/></Relationships>'
        ),
        "xl/styles.xml": _STYLES,
    }
    for i, (_, xml) in enumerate(sheets, start=1):
        parts[f"xl/worksheets/sheet{i}.xml"] = xml
    return parts


def write_parts(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def raw_xlsx(folder: Path, name: str, sheet: bytes) -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for part, data in workbook_parts(sheet).items():
            z.writestr(part, data)
    return path


def openpyxl_xlsx(folder: Path, name: str, rows: Sequence[Sequence[object]]) -> Path:
    """A workbook as openpyxl (and so, nearly, Excel) saves it: shared strings,
    text cells stay text."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Ark1"
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            if value is None or value == "":
                continue
            cell = ws.cell(r, c, value)
            if isinstance(value, str):
                cell.data_type = "s"
    path = folder / name
    wb.save(path)
    return path


# ------------------------------------------------------- a zip written raw


@dataclass(frozen=True, slots=True)
class RawEntry:
    """A zip entry written as given: deflated ``data`` that the headers say
    unpacks to ``size`` bytes with checksum ``crc`` (true or not)."""

    name: str
    data: bytes
    crc: int
    size: int


def deflated(data: bytes) -> RawEntry:
    """An honest entry for ``data`` (name filled in by :func:`named`)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return RawEntry("", c.compress(data) + c.flush(), zlib.crc32(data), len(data))


def named(name: str, entry: RawEntry) -> RawEntry:
    return RawEntry(name, entry.data, entry.crc, entry.size)


def repeated(head: bytes, chunk: bytes, times: int, tail: bytes) -> RawEntry:
    """``head + chunk * times + tail`` deflated without deflating it all:
    each piece is compressed once and ended with a full flush (byte-aligned,
    no reference to earlier data), so the compressed chunk can be repeated
    as it is. Only the checksum runs over the whole (a fraction of a second
    per GB)."""

    def flushed(data: bytes) -> bytes:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)

    ending = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = flushed(head) + flushed(chunk) * times + ending.compress(tail) + ending.flush()
    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    return RawEntry("", data, crc, len(head) + len(chunk) * times + len(tail))


def write_raw_zip(path: Path, entries: Iterable[RawEntry]) -> Path:
    """A plain (not zip64) zip of deflated entries, headers as given."""
    dos_date = (45 << 9) | (1 << 5) | 1  # 2025-01-01
    version, deflate = 20, 8
    central = []
    with path.open("wb") as fh:
        for e in entries:
            name = e.name.encode()
            offset = fh.tell()
            # version, flags, method, time, date | crc, sizes | name and extra lengths
            sizes = (e.crc, len(e.data), e.size)
            local = (version, 0, deflate, 0, dos_date, *sizes, len(name), 0)
            fh.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", *local) + name + e.data)
            # made by, then as above, then comment, disk, attributes, offset
            entry = (version, *local[:-1], 0, 0, 0, 0, 0, offset)
            central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", *entry) + name)
        start = fh.tell()
        directory = b"".join(central)
        n = len(central)
        fh.write(directory)
        fh.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(directory), start, 0))
    return path


def _valid_parts() -> list[RawEntry]:
    sheet = sheet_xml([HEADER, *ROWS])
    return [named(n, deflated(d)) for n, d in workbook_parts(sheet).items()]


# =================================================================== cases
# ------------------------------------------------------------ csv: encodings


@case("csv-utf8", "ok")
def csv_utf8(folder: Path) -> Path:
    """UTF-8 without BOM, semicolons, CRLF, Nordic letters."""
    rows = [*ROWS, ["1004", "010107", "2025-03-06", "", "", NORDIC, "1", "10", ""]]
    return _csv(folder, "utf8.csv", rows)


@case("csv-utf8-bom", "ok")
def csv_utf8_bom(folder: Path) -> Path:
    """UTF-8 with BOM, as Excel's "CSV UTF-8" saves it, Norwegian headers."""
    rows = [*ROWS, ["1004", "010107", "03.03.2025", "", "", NORDIC, "1", "10", ""]]
    return _csv(folder, "utf8-bom.csv", rows, encoding="utf-8-sig", header=HEADER_NB)


@case("csv-utf16le-tab", "ok")
def csv_utf16le_tab(folder: Path) -> Path:
    """UTF-16 LE with BOM, tab-delimited: Excel's "Unicode text" (.txt)."""
    rows = [*ROWS, ["1004", "010107", "2025-03-06", "", "", NORDIC, "1", "10", ""]]
    text = _lines([HEADER_NB, *rows], "\t")
    return _bytes(folder, "unicode-text.txt", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))


@case("csv-utf16be-bom", "ok")
def csv_utf16be(folder: Path) -> Path:
    """UTF-16 BE with BOM, semicolons."""
    text = _lines([HEADER, *ROWS], ";")
    return _bytes(folder, "utf16be.csv", codecs.BOM_UTF16_BE + text.encode("utf-16-be"))


@case("csv-utf16le-no-bom", "file-error")
def csv_utf16_no_bom(folder: Path) -> Path:
    """UTF-16 LE without a BOM: NUL bytes everywhere, refused as binary."""
    return _bytes(folder, "utf16-nobom.csv", _lines([HEADER, *ROWS], ";").encode("utf-16-le"))


@case("csv-cp1252", "ok")
def csv_cp1252(folder: Path) -> Path:
    """Windows-1252 with æøåÆØÅäö, the euro sign and an en dash (cp1252-only)."""
    rows = [
        *ROWS,
        ["1004", "010107", "2025-03-06", "", "", NORDIC + " \u2013 5 \u20ac", "1", "10", ""],
    ]
    return _csv(folder, "cp1252.csv", rows, encoding="cp1252", header=HEADER_NB)


@case("csv-latin1", "ok")
def csv_latin1(folder: Path) -> Path:
    """ISO 8859-1 with æøåÆØÅäö and a byte (0x81) cp1252 does not define."""
    rows = [*ROWS, ["1004", "010107", "2025-03-06", "", "", NORDIC + " \x81", "1", "10", ""]]
    return _csv(folder, "latin1.csv", rows, encoding="latin-1", header=HEADER_NB)


@case("csv-mixed-encoding", "ok")
def csv_mixed(folder: Path) -> Path:
    """Mostly UTF-8 with one cp1252 line pasted in (read as cp1252, with a note)."""
    good = _lines([HEADER, *ROWS], ";").encode("utf-8")
    bad = _lines([["1009", "010104", "2025-03-03", "", "", "Blåbær", "1", "1", ""]], ";")
    return _bytes(folder, "mixed.csv", good + bad.encode("cp1252"))


# ----------------------------------------------------------- csv: delimiters


@case("csv-comma", "ok")
def csv_comma(folder: Path) -> Path:
    """Comma-delimited; descriptions with commas are quoted."""
    return _csv(folder, "comma.csv", ROWS, delimiter=",")


@case("csv-semicolon", "ok")
def csv_semicolon(folder: Path) -> Path:
    """Semicolon-delimited, as Nordic Excel saves csv."""
    return _csv(folder, "semicolon.csv", ROWS, delimiter=";")


@case("csv-tab", "ok")
def csv_tab(folder: Path) -> Path:
    """Tab-delimited UTF-8 (.tsv)."""
    path = _csv(folder, "tab.tsv", ROWS, delimiter="\t")
    return path


@case("csv-pipe", "ok")
def csv_pipe(folder: Path) -> Path:
    """Pipe-delimited, commas and semicolons inside cells unquoted."""
    rows = _with(ROWS, "Line description", ["Kaffe, te; og kakao", "a;b;c", "x,y", "z"])
    return _csv(folder, "pipe.csv", rows, delimiter="|")


@case("csv-quoted-delimiters-and-newlines", "ok")
def csv_quoted(folder: Path) -> Path:
    """Quoted cells holding the delimiter, quotes, LF and CRLF line breaks."""
    rows = _with(
        ROWS,
        "Line description",
        ['Kaffe; "Gull" 1 kg', "Linje 1\nLinje 2", "Linje 1\r\nLinje 2\r\n", ";;;\n;;;"],
    )
    return _csv(folder, "quoted.csv", rows, delimiter=";")


@case("csv-unterminated-quote", "ok")
def csv_unterminated(folder: Path) -> Path:
    """A quote opened and never closed: the rest of the file is one cell."""
    text = _lines([HEADER, *ROWS], ";") + '1005;010104;2025-03-03;;;"Kaffe;1;1;\r\n1006;0\r\n'
    return _bytes(folder, "unterminated.csv", text.encode())


@case("csv-ragged-and-trailing-delimiters", "file-error")
def csv_ragged(folder: Path) -> Path:
    """Rows shorter and longer than the header, trailing delimiters, blank lines."""
    text = (
        ";".join(HEADER)
        + ";;\r\n"
        + "1001;010104;2025-03-03\r\n"
        + "1002;010104;2025-03-03;2025-03-17;000123;Kaffe;1;10;;extra;more;\r\n"
        + ";;;;;;;;\r\n\r\n"
        + "1003;010104;2025-03-03;;;Kaffe;1;10;\r\n"
    )
    return _bytes(folder, "ragged.csv", text.encode())


@case("csv-cr-only", "ok")
def csv_cr_only(folder: Path) -> Path:
    """Old Mac line endings (CR only)."""
    return _bytes(folder, "cr.csv", _lines([HEADER, *ROWS], ";").replace("\r\n", "\r").encode())


@case("csv-single-column", "file-error")
def csv_single_column(folder: Path) -> Path:
    """No delimiter at all: one column, so the required columns are missing."""
    text = "Invoice number\r\n1001\r\n1002\r\n"
    return _bytes(folder, "one-column.csv", text.encode())


# ------------------------------------------------------- csv: spaces, numbers


@case("csv-spaces", "ok")
def csv_spaces(folder: Path) -> Path:
    """Leading and trailing spaces in the header and in every cell."""
    header = [f"  {h} " for h in HEADER]
    rows = [[f" {c}  " if c else "   " for c in row] for row in ROWS]
    return _csv(folder, "spaces.csv", rows, header=header)


@case("csv-decimal-comma-space-thousands", "ok")
def csv_decimal_space(folder: Path) -> Path:
    """Decimal commas, thousands separated by a space; negatives -1, 1-, (1)."""
    rows = _with(ROWS, "Unit price", ["1 234,50", "-1 234,50", "1 234,50-", "(1 234,50)"])
    rows = _with(rows, "Quantity", ["1", "-1", "1-", "(1)"])
    return _csv(folder, "decimal-space.csv", rows)


@case("csv-decimal-comma-nbsp-thousands", "ok")
def csv_decimal_nbsp(folder: Path) -> Path:
    """Decimal commas, thousands separated by no-break spaces (U+00A0, U+202F)."""
    rows = _with(
        ROWS, "Unit price", ["1\u00a0234,50", "12\u00a0345\u00a0678,9", "1\u202f000,00", "0,5"]
    )
    return _csv(folder, "decimal-nbsp.csv", rows, encoding="utf-8-sig")


@case("csv-decimal-comma-dot-thousands", "ok")
def csv_decimal_dot(folder: Path) -> Path:
    """Decimal commas, thousands separated by dots (1.234,50); negatives."""
    rows = _with(ROWS, "Unit price", ["1.234,50", "-1.234.567,00", "12,5-", "(0,75)"])
    rows = _with(rows, "Discount %", ["2,5", "", "10", "0,25"])
    return _csv(folder, "decimal-dot.csv", rows)


@case("csv-decimal-ambiguous", "file-error")
def csv_decimal_ambiguous(folder: Path) -> Path:
    """Only values like 1,234 in a column: undecidable, the file asks for --locale."""
    rows = _with(ROWS, "Unit price", ["1,234", "2,345", "3,456", "4,567"])
    return _csv(folder, "decimal-ambiguous.csv", rows)


@case("csv-junk-numbers", "ok")
def csv_junk_numbers(folder: Path) -> Path:
    """Numbers that are not: 1e999, NaN, --1, 1,2,3, ((1)), currency signs."""
    rows = _with(
        ROWS,
        "Quantity",
        ["1e999", "NaN", "--1", "1,2,3", "((1))", "kr 100", "-", "∞", "\uff11\uff12"],
    )
    return _csv(folder, "junk-numbers.csv", rows)


# ------------------------------------------------------------------ dates


@case("csv-dates-dotted", "ok")
def csv_dates_dotted(folder: Path) -> Path:
    """Dates as dd.mm.yyyy."""
    rows = _with(ROWS, "Invoice date", ["03.03.2025", "31.12.2025", "01.01.2026", "29.02.2024"])
    return _csv(folder, "dates-dotted.csv", rows)


@case("csv-dates-short", "ok")
def csv_dates_short(folder: Path) -> Path:
    """Dates as d.m.yy."""
    rows = _with(ROWS, "Invoice date", ["3.3.25", "31.12.25", "1.1.26", "9.7.99"])
    return _csv(folder, "dates-short.csv", rows)


@case("csv-dates-iso", "ok")
def csv_dates_iso(folder: Path) -> Path:
    """Dates as yyyy-mm-dd, with and without a midnight time."""
    rows = _with(
        ROWS, "Invoice date", ["2025-03-03", "2025-3-4", "2025-03-05 00:00:00", "2025-03-06T00:00"]
    )
    return _csv(folder, "dates-iso.csv", rows)


@case("csv-dates-serial", "ok")
def csv_dates_serial(folder: Path) -> Path:
    """Excel date numbers written as text into a csv."""
    rows = _with(ROWS, "Invoice date", ["45719", "45720.0", "1", "2958465"])
    return _csv(folder, "dates-serial.csv", rows)


@case("csv-dates-bad", "ok")
def csv_dates_bad(folder: Path) -> Path:
    """Dates that are not: 31.02.2025, 0000-00-00, 2025-13-01, 99999999, a time, words."""
    rows = _with(
        ROWS,
        "Invoice date",
        ["31.02.2025", "0000-00-00", "2025-13-01", "99999999", "31.12.2025 12:00", "i går", "2025"],
    )
    return _csv(folder, "dates-bad.csv", rows)


@case("csv-dates-slash-impossible", "ok")
def csv_dates_slash_impossible(folder: Path) -> Path:
    """One slash date that is no date either way (32/13/2025) among dotted dates."""
    rows = _with(ROWS, "Invoice date", ["03.03.2025", "32/13/2025", "05.03.2025"])
    return _csv(folder, "dates-slash-impossible.csv", rows)


@case("csv-dates-slash-mixed", "file-error")
def csv_dates_slash_mixed(folder: Path) -> Path:
    """Slash dates day first (13/01/2025) and month first (01/13/2025) in one column."""
    rows = _with(ROWS, "Invoice date", ["13/01/2025", "01/13/2025"])
    return _csv(folder, "dates-slash-mixed.csv", rows)


@case("csv-dates-slash-ambiguous", "file-error")
def csv_dates_slash_ambiguous(folder: Path) -> Path:
    """Slash dates that all read both ways (01/02/2025): the file asks for --locale."""
    rows = _with(ROWS, "Invoice date", ["01/02/2025", "03/04/2025"])
    return _csv(folder, "dates-slash-ambiguous.csv", rows)


@case("xlsx-dates-serial", "ok")
def xlsx_dates_serial(folder: Path) -> Path:
    """Date cells (serials with a date format), bare serial numbers, and out-of-range serials."""
    rows: list[list[RawCell]] = [list(HEADER)]
    for n, (date, due) in enumerate(
        [
            (Serial(45719), Serial(45733)),
            (Serial(45720, styled=False), Serial(45750.5, styled=False)),
            (Serial(45721.75), None),
            (Serial(-1), Serial(3e9, styled=False)),
            (Serial(0), Serial(2958466)),
        ]
    ):
        rows.append([str(3001 + n), "010104", date, due, "000123", "Kaffe", 1, 10.5, None])
    return raw_xlsx(folder, "dates-serial.xlsx", sheet_xml(rows))


@case("xlsx-date-cell-far-past", "file-error")
def xlsx_date_far_past(folder: Path) -> Path:
    """A date-formatted cell holding -1e20 (Excel shows ####): calamine's date conversion
    panics on it, so the sheet cannot be read: one clear line, no Rust report."""
    rows: list[Sequence[RawCell]] = [
        HEADER,
        ["1001", "010104", Serial(45719), None, "000123", "Kaffe", 1, 10, None],
        ["1002", "010104", Serial(-1e20), None, "000123", "Kaffe", 1, 10, None],
    ]
    return raw_xlsx(folder, "date-far-past.xlsx", sheet_xml(rows))


@case("xlsx-date-cell-nan", "ok")
def xlsx_date_nan(folder: Path) -> Path:
    """A date-formatted cell whose value is the text NaN (not a number Excel writes)."""
    rows: list[Sequence[RawCell]] = [
        HEADER,
        ["1001", "010104", Serial(45719), None, "000123", "Kaffe", 1, 10, None],
        ["1002", "010104", Serial("NaN"), None, "000123", "Kaffe", 1, 10, None],
    ]
    return raw_xlsx(folder, "date-nan.xlsx", sheet_xml(rows))


# -------------------------------------------------------------- title rows


@case("csv-title-rows", "ok")
def csv_title_rows(folder: Path) -> Path:
    """Report title lines and a blank line above the header."""
    text = "Fakturagrunnlag mars 2025\r\nEksportert fra Regnskap 4.2;;Side 1\r\n\r\n" + _lines(
        [HEADER_NB, *ROWS], ";"
    )
    return _bytes(folder, "title-rows.csv", text.encode("utf-8-sig"))


@case("xlsx-title-rows", "ok")
def xlsx_title_rows(folder: Path) -> Path:
    """Title rows and a blank row above the header of a workbook."""
    rows: list[Sequence[object]] = [
        ["Fakturagrunnlag mars 2025"],
        ["Eksportert fra Regnskap 4.2", None, "Side 1"],
        [],
        HEADER_NB,
        *ROWS,
    ]
    return openpyxl_xlsx(folder, "title-rows.xlsx", rows)


@case("xlsx-openpyxl", "ok")
def xlsx_openpyxl(folder: Path) -> Path:
    """A plain workbook with shared strings, numbers as numbers."""
    rows: list[Sequence[object]] = [HEADER]
    for row in ROWS:
        rows.append([*row[:6], int(row[6]), float(row[7]), float(row[8]) if row[8] else None])
    return openpyxl_xlsx(folder, "plain.xlsx", rows)


_PADDED_STYLES = (
    _STYLES.replace(
        b"<fonts",
        b'<numFmts count="1"><numFmt numFmtId="164" formatCode="000000"/></numFmts><fonts',
    )
    .replace(b'<cellXfs count="2">', b'<cellXfs count="3">')
    .replace(
        b"</cellXfs>",
        b'<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        b"</cellXfs>",
    )
)


def excel_features_parts() -> dict[str, bytes]:
    """The parts of a workbook using what Excel users use: customer numbers
    as numbers shown 000000, an invoice number merged down over its lines,
    a hidden row and column, an error cell."""
    d = Serial(45719)
    rows: list[Sequence[RawCell]] = [
        HEADER,
        ["1001", 10104, d, None, "000123", "Kaffe", 12, 189.5, None],
        [None, 10104, d, None, "000245", "Filterpapir", 40, 24.9, 5],
        ["1002", 10102, d, None, _err("#N/A", "#N/A"), "Service", 2, 1250, None],
        ["1003", 10106, d, None, "000990", "Kaffekvern", 1, 1240, 7.5],
    ]
    sheet = re.sub(rb'<c r="(B[2-9])">', rb'<c r="\1" s="2">', sheet_xml(rows))
    sheet = sheet.replace(b'<row r="4">', b'<row r="4" hidden="1">')
    sheet = sheet.replace(
        b"<sheetData>", b'<cols><col min="9" max="9" width="0" hidden="1"/></cols><sheetData>'
    )
    sheet = sheet.replace(
        b"</sheetData>",
        b'</sheetData><mergeCells count="1"><mergeCell ref="A2:A3"/></mergeCells>',
    )
    parts = workbook_parts(sheet)
    parts["xl/styles.xml"] = _PADDED_STYLES
    return parts


@case("xlsx-excel-features", "ok")
def xlsx_excel_features(folder: Path) -> Path:
    """Zero-padded number format, a merged key cell, a hidden row and column, an #N/A."""
    path = folder / "excel-features.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in excel_features_parts().items():
            z.writestr(name, data)
    return path


_HEAD_SHEET = ["Invoice number", "Customer number", "Invoice date", "Due date", "Invoice text"]
_LINE_SHEET = ["Invoice number", "Item number", "Line description", "Quantity", "Unit price"]


def _head_and_lines() -> tuple[bytes, bytes]:
    head = sheet_xml(
        [
            _HEAD_SHEET,
            ["1001", "010104", "2025-03-03", "2025-03-17", "Varer levert"],
            ["1002", "010102", "2025-03-04", "2025-04-03", "Service"],
        ]
    )
    lines = sheet_xml(
        [
            _LINE_SHEET,
            ["1001", "000123", "Kaffe", 12, 189.5],
            ["1001", "000245", "Filterpapir", 40, 24.9],
            ["1002", "", "Service, 2 timer", 2, 1250],
        ]
    )
    return head, lines


@case("xlsx-head-and-lines-sheets", "ok")
def xlsx_head_and_lines(folder: Path) -> Path:
    """Invoice heads on one sheet, their lines on another, joined by invoice number."""
    head, lines = _head_and_lines()
    parts = sheets_parts([("Fakturaer", head), ("Linjer", lines)])
    return write_parts(folder / "head-and-lines.xlsx", parts)


@case("xlsx-head-sheet-and-2000-others", "ok")
def xlsx_many_sheets(folder: Path) -> Path:
    """A head sheet, 2,000 sheets of notes, and the lines sheet last (700 KB)."""
    head, lines = _head_and_lines()
    notes = sheet_xml([["Notat"], ["Ingenting her"]])
    sheets = [("Fakturaer", head), *((f"Notat {i}", notes) for i in range(2000)), ("Linjer", lines)]
    return write_parts(folder / "many-sheets.xlsx", sheets_parts(sheets))


@case("xlsx-sample-renamed-xlsm", "ok")
def xlsx_xlsm(folder: Path) -> Path:
    """The bundled sample saved as .xlsm."""
    return _bytes(folder, "sample.xlsm", (SAMPLES / "customer_invoice.xlsx").read_bytes())


# ------------------------------------------------------- formulas and errors


@case("xlsx-formulas-cached", "ok")
def xlsx_formulas(folder: Path) -> Path:
    """Formula cells with the values Excel cached: numbers, text, dates, booleans."""
    rows: list[list[RawCell]] = [
        list(HEADER),
        [
            Formula('"10"&"01"', "1001", "str"),
            "010104",
            Formula("DATE(2025,3,3)", "45719"),
            Formula("C2+14", "45733"),
            "000123",
            Formula('CONCATENATE("Kaffe"," ","1 kg")', "Kaffe 1 kg", "str"),
            Formula("3*4", "12"),
            Formula("379/2", "189.5"),
            Formula("TRUE()", "1", "b"),
        ],
        ["1002", "010102", Serial(45720), None, None, "Service", Formula("1+1", "2"), 1250, None],
    ]
    return raw_xlsx(folder, "formulas.xlsx", sheet_xml(rows))


def _err(formula: str, shown: str) -> Formula:
    return Formula(formula, shown, "e")


@case("xlsx-formula-errors", "ok")
def xlsx_formula_errors(folder: Path) -> Path:
    """Formulas whose cached values are #REF!, #DIV/0!, #N/A, #VALUE!, #NAME?, #NUM!, #NULL!."""
    d = Serial(45719)
    rows: list[Sequence[RawCell]] = [
        HEADER,
        ["1001", "010104", d, None, _err("#REF!", "#REF!"), "Kaffe", 1, 10, None],
        ["1002", "010104", d, None, "000123", "Te", _err("1/0", "#DIV/0!"), 10, None],
        ["1003", _err("VLOOKUP(A4,X:Y,2,0)", "#N/A"), d, None, "1", "x", 1, 1, None],
        [
            "1004",
            "010104",
            _err('"x"+1', "#VALUE!"),
            None,
            "1",
            "x",
            1,
            _err("f()", "#NAME?"),
            None,
        ],
        [
            "1005",
            "010104",
            d,
            None,
            "1",
            _err("A1 B1", "#NULL!"),
            1,
            _err("SQRT(-1)", "#NUM!"),
            None,
        ],
        ["1006", "010104", d, None, "1", "fine", 1, 1, None],
    ]
    return raw_xlsx(folder, "formula-errors.xlsx", sheet_xml(rows))


@case("xlsx-formula-error-spill", "ok")
def xlsx_formula_error_spill(folder: Path) -> Path:
    """A dynamic-array formula (Excel 365) whose cell shows #SPILL!, in one data cell."""
    d = Serial(45719)
    rows: list[Sequence[RawCell]] = [
        HEADER,
        ["1001", "010104", d, None, "000123", "Kaffe", 1, 10, None],
        ["1002", "010104", d, None, "1", _err("SEQUENCE(3)", "#SPILL!"), 1, 1, None],
    ]
    return raw_xlsx(folder, "formula-error-spill.xlsx", sheet_xml(rows))


@case("xlsx-error-in-header", "file-error")
def xlsx_error_header(folder: Path) -> Path:
    """A header cell that shows #REF!: the required 'Customer number' is gone."""
    header: list[RawCell] = list(HEADER)
    header[1] = _err("#REF!", "#REF!")
    rows: list[Sequence[RawCell]] = [header, *ROWS]
    return raw_xlsx(folder, "error-header.xlsx", sheet_xml(rows))


# --------------------------------------------------------- hostile workbooks


@case("xlsx-zip-bomb", "file-error")
def xlsx_zip_bomb(folder: Path) -> Path:
    """A workbook with 65 parts of 16 MiB of zeros: 1 GiB+ unpacked, 1 MB on disk."""
    zeros = deflated(bytes(16 << 20))  # compressed once, written 65 times
    bomb = [named(f"xl/media/image{i}.bin", zeros) for i in range(65)]
    return write_raw_zip(folder / "zip-bomb.xlsx", [*_valid_parts(), *bomb])


@case("xlsx-zip-bomb-sheet", "file-error")
def xlsx_zip_bomb_sheet(folder: Path) -> Path:
    """The sheet part itself unpacks to 1.1 GiB (rows padded with whitespace)."""
    sheet = sheet_xml([HEADER, *ROWS])
    head, tail = sheet.split(b"</sheetData>")
    part = repeated(head, b" " * (16 << 20), 70, b"</sheetData>" + tail)
    parts = [e for e in _valid_parts() if e.name != "xl/worksheets/sheet1.xml"]
    return write_raw_zip(
        folder / "zip-bomb-sheet.xlsx", [*parts, named("xl/worksheets/sheet1.xml", part)]
    )


@case("xlsx-zip-bomb-lying-size", "file-error")
def xlsx_zip_bomb_lying(folder: Path) -> Path:
    """The sheet part says it unpacks to 1 KB but inflates to 1.1 GiB."""
    sheet = sheet_xml([HEADER, *ROWS])
    head, tail = sheet.split(b"</sheetData>")
    part = repeated(head, b" " * (16 << 20), 70, b"</sheetData>" + tail)
    lie = RawEntry("xl/worksheets/sheet1.xml", part.data, zlib.crc32(b"x"), 1024)
    parts = [e for e in _valid_parts() if e.name != lie.name]
    return write_raw_zip(folder / "zip-bomb-lying.xlsx", [*parts, lie])


def _laughs(depth: int = 9) -> str:
    entities = "".join(
        f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i else "&lol;") * 10}">'
        for i in range(1, depth + 1)
    )
    return f'<!DOCTYPE lolz [<!ENTITY lol "lol">{entities}]>'


@case("xlsx-billion-laughs", "file-error")
def xlsx_billion_laughs(folder: Path) -> Path:
    """Nested XML entities in the sheet (10^9 "lol"s if expanded) used in a data cell."""
    rows: list[Sequence[RawCell]] = [HEADER, *ROWS]
    xml = sheet_xml(rows, prolog=_laughs())
    cell = b'<t xml:space="preserve">Kaffe, hele b\xc3\xb8nner</t>'
    xml = xml.replace(cell, b"<t>&lol9;</t>", 1)
    assert b"&lol9;" in xml
    return raw_xlsx(folder, "billion-laughs.xlsx", xml)


@case("xlsx-billion-laughs-header", "file-error")
def xlsx_billion_laughs_header(folder: Path) -> Path:
    """Nested XML entities as the only header cell: nothing usable in the sheet."""
    xml = (
        '<?xml version="1.0"?>' + _laughs() + '<worksheet xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;'
        "</t></is></c></row></sheetData></worksheet>"
    ).encode()
    return raw_xlsx(folder, "billion-laughs-header.xlsx", xml)


@case("xlsx-external-entity", "file-error")
def xlsx_xxe(folder: Path) -> Path:
    """An external entity (XXE) pointing at /etc/passwd in a data cell: never read."""
    xml = sheet_xml(
        [HEADER, *ROWS], prolog='<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    )
    cell = b'<t xml:space="preserve">Service, 2 timer</t>'
    return raw_xlsx(folder, "xxe.xlsx", xml.replace(cell, b"<t>&xxe;</t>", 1))


@case("xlsx-truncated", "file-error")
def xlsx_truncated(folder: Path) -> Path:
    """The first half of the bundled sample workbook (a download cut short)."""
    data = (SAMPLES / "customer_invoice.xlsx").read_bytes()
    return _bytes(folder, "truncated.xlsx", data[: len(data) // 2])


@case("xlsx-truncated-tail", "file-error")
def xlsx_truncated_tail(folder: Path) -> Path:
    """The sample workbook missing only its last 10 bytes (end of the central directory)."""
    return _bytes(
        folder, "truncated-tail.xlsx", (SAMPLES / "customer_invoice.xlsx").read_bytes()[:-10]
    )


@case("xlsx-corrupt", "file-error")
def xlsx_corrupt(folder: Path) -> Path:
    """A valid zip local-file header followed by 64 KB of random bytes."""
    rng = random.Random(1234)
    return _bytes(folder, "corrupt.xlsx", b"PK\x03\x04" + rng.randbytes(64 << 10))


@case("xlsx-corrupt-sheet", "file-error")
def xlsx_corrupt_sheet(folder: Path) -> Path:
    """A well-formed zip whose sheet part's compressed bytes are garbage."""
    rng = random.Random(99)
    entries = [
        RawEntry(e.name, rng.randbytes(len(e.data)), e.crc, e.size)
        if e.name == "xl/worksheets/sheet1.xml"
        else e
        for e in _valid_parts()
    ]
    return write_raw_zip(folder / "corrupt-sheet.xlsx", entries)


@case("xlsx-bad-crc", "file-error")
def xlsx_bad_crc(folder: Path) -> Path:
    """A workbook whose sheet part has the wrong checksum."""
    entries = [
        RawEntry(e.name, e.data, e.crc ^ 0xFFFF, e.size) if e.name.endswith("sheet1.xml") else e
        for e in _valid_parts()
    ]
    return write_raw_zip(folder / "bad-crc.xlsx", entries)


@case("xlsx-not-xml-sheet", "file-error")
def xlsx_not_xml(folder: Path) -> Path:
    """A zip with the workbook's parts, but the sheet part is not XML."""
    return raw_xlsx(folder, "not-xml.xlsx", b"\x00\x01 this is not <xml")


@case("xlsx-no-workbook", "file-error")
def xlsx_plain_zip(folder: Path) -> Path:
    """A zip archive with no workbook in it (a .docx-like or any .zip renamed)."""
    path = folder / "plain-zip.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    return path


@case("xlsx-empty-zip", "file-error")
def xlsx_empty_zip(folder: Path) -> Path:
    """An empty zip archive (only the end-of-directory record)."""
    return _bytes(folder, "empty-zip.xlsx", b"PK\x05\x06" + bytes(18))


@case("xlsx-empty-sheet", "file-error")
def xlsx_empty_sheet(folder: Path) -> Path:
    """A valid workbook whose only sheet has no cells."""
    return raw_xlsx(folder, "empty-sheet.xlsx", sheet_xml([]))


@case("xlsx-renamed-csv", "ok")
def xlsx_renamed_csv(folder: Path) -> Path:
    """A real workbook saved with a .csv name."""
    return _bytes(folder, "workbook.csv", (SAMPLES / "customer_invoice.xlsx").read_bytes())


@case("csv-renamed-xlsx", "file-error")
def csv_renamed_xlsx(folder: Path) -> Path:
    """A csv file saved with an .xlsx name."""
    return _bytes(folder, "text.xlsx", (SAMPLES / "customer_invoice.csv").read_bytes())


@case("ole2-encrypted", "file-error")
def ole2_encrypted(folder: Path) -> Path:
    """An OLE2 container naming an EncryptionInfo stream (a password-protected workbook)."""
    rng = random.Random(7)
    data = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + rng.randbytes(1000)
        + "EncryptionInfo".encode("utf-16-le")
        + rng.randbytes(4000)
    )
    return _bytes(folder, "locked.xlsx", data)


@case("ole2-encrypted-real", "file-error")
def ole2_encrypted_real(folder: Path) -> Path:
    """The sample workbook encrypted with a password by msoffcrypto-tool."""
    from msoffcrypto.format.ooxml import OOXMLFile  # type: ignore[import-untyped]

    buf = io.BytesIO()
    with (SAMPLES / "customer_invoice.xlsx").open("rb") as fh:
        OOXMLFile(fh).encrypt("hemmelig", buf)
    return _bytes(folder, "locked-real.xlsx", buf.getvalue())


@case("legacy-xls", "file-error")
def legacy_xls(folder: Path) -> Path:
    """An OLE2 file without EncryptionInfo: an Excel 97-2003 .xls."""
    rng = random.Random(8)
    data = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + rng.randbytes(4096) + "Workbook".encode("utf-16-le")
    )
    return _bytes(folder, "old.xls", data)


@case("legacy-xls-named-xlsx", "file-error")
def legacy_xls_as_xlsx(folder: Path) -> Path:
    """An Excel 97-2003 file saved with an .xlsx name."""
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096) + "Workbook".encode("utf-16-le")
    return _bytes(folder, "old-renamed.xlsx", data)


@case("xlsx-far-cell", "clean")
def xlsx_far_cell(folder: Path) -> Path:
    """One stray value in the last cell of a sheet (XFD1048576): a used area of 17 billion cells."""
    rows: list[Sequence[RawCell]] = [HEADER, *ROWS]
    xml = sheet_xml(rows).replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    )
    return raw_xlsx(folder, "far-cell.xlsx", xml)


@case("xlsx-far-cell-70m", "clean")
def xlsx_far_cell_70m(folder: Path) -> Path:
    """A stray value in cell AAA100000: a used area of 70 million cells, in a 2 KB file."""
    rows: list[Sequence[RawCell]] = [HEADER, *ROWS]
    xml = sheet_xml(rows).replace(
        b"</sheetData>", b'<row r="100000"><c r="AAA100000"><v>1</v></c></row></sheetData>'
    )
    return raw_xlsx(folder, "far-cell-70m.xlsx", xml)


@case("xlsx-merged-to-last-row", "ok")
def xlsx_merged_to_last_row(folder: Path) -> Path:
    """A data cell merged down to the sheet's last row (A5:A1048576)."""
    rows: list[Sequence[RawCell]] = [HEADER, *ROWS]
    merge = b'<mergeCells count="1"><mergeCell ref="A5:A1048576"/></mergeCells>'
    xml = sheet_xml(rows).replace(b"</sheetData>", b"</sheetData>" + merge)
    return raw_xlsx(folder, "merged-to-last-row.xlsx", xml)


@case("xlsx-shared-strings-huge-count", "clean")
def xlsx_shared_strings_huge_count(folder: Path) -> Path:
    """A shared-strings part that claims 4,294,967,295 unique strings and holds one."""
    sst = (
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main" count="4294967295" uniqueCount="4294967295">'
        b"<si><t>Kaffe</t></si></sst>"
    )
    rows: list[Sequence[RawCell]] = [HEADER, *ROWS]
    parts = workbook_parts(sheet_xml(rows))
    parts["xl/sharedStrings.xml"] = sst
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    path = folder / "shared-strings-huge-count.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


@case("xlsx-padded-format-huge", "ok")
def xlsx_padded_format_huge(folder: Path) -> Path:
    """A number format of 1,048,576 zeros (Excel allows 255 characters) on 3,000 cells: 80 KB."""
    zeros = b"0" * (1 << 20)
    styles = _STYLES.replace(
        b"<fonts",
        b'<numFmts count="1"><numFmt numFmtId="164" formatCode="' + zeros + b'"/></numFmts><fonts',
    ).replace(
        b"</cellXfs>",
        b'<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" '
        b'applyNumberFormat="1"/></cellXfs>',
    )
    styles = styles.replace(b'<cellXfs count="2">', b'<cellXfs count="3">')
    rows: list[Sequence[RawCell]] = [HEADER]
    rows += [[str(5000 + i), 10104, Serial(45719), None, "1", "x", 1, 1, None] for i in range(3000)]
    # the customer numbers (number cells) shown as 0000...010104
    sheet = re.sub(rb'<c r="(B[0-9]+)">', rb'<c r="\1" s="2">', sheet_xml(rows))
    parts = workbook_parts(sheet)
    parts["xl/styles.xml"] = styles
    path = folder / "padded-format-huge.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


@case("xlsx-comment-fake-error-cell", "ok")
def xlsx_comment_fake_error_cell(folder: Path) -> Path:
    """An XML comment in the sheet that looks like an error cell far to the right."""
    rows: list[Sequence[RawCell]] = [HEADER, *ROWS]
    comment = b'<!-- <c r="ZZZZZZZZZ2" t="e"><v>#REF!</v></c> -->'
    xml = sheet_xml(rows).replace(b"</sheetData>", b"</sheetData>" + comment)
    return raw_xlsx(folder, "comment-fake-error-cell.xlsx", xml)


# -------------------------------------------------------------- hostile csv


@case("csv-binary", "file-error")
def csv_binary(folder: Path) -> Path:
    """Random binary data (an image, say) named .csv."""
    return _bytes(folder, "image.csv", random.Random(3).randbytes(20_000))


@case("csv-nul-early", "file-error")
def csv_nul_early(folder: Path) -> Path:
    """A NUL byte in the first row of a csv."""
    text = _lines([HEADER, *ROWS], ";").replace("Kaffe", "Kaf\x00fe", 1)
    return _bytes(folder, "nul-early.csv", text.encode())


@case("csv-nul-late", "file-error")
def csv_nul_late(folder: Path) -> Path:
    """NUL bytes in a cell past the first 4 KB of an otherwise fine csv: one
    rule for a NUL wherever it is (the file is refused, naming the place)."""
    rows = _with(ROWS, "Line description", [f"Linje {n}" for n in range(100)])
    rows.append(["1999", "010104", "2025-03-03", "", "", "Kaf\x00\x00fe", "1", "1", ""])
    return _csv(folder, "nul-late.csv", rows)


@case("csv-control-character-late", "ok")
def csv_control_late(folder: Path) -> Path:
    """Another control character in a cell past the first 4 KB: an error on its cell."""
    rows = _with(ROWS, "Line description", [f"Linje {n}" for n in range(100)])
    rows.append(["1999", "010104", "2025-03-03", "", "", "Kaf\x01fe", "1", "1", ""])
    return _csv(folder, "control-late.csv", rows)


@case("csv-10mb-cell", "file-error")
def csv_10mb_cell(folder: Path) -> Path:
    """A 10 MB cell in a csv (more than a spreadsheet cell holds)."""
    rows = _with(ROWS, "Line description", ["x" * (10 << 20), "y"])
    return _csv(folder, "10mb-cell.csv", rows)


@case("csv-10mb-line-no-delimiter", "file-error")
def csv_10mb_line(folder: Path) -> Path:
    """A 10 MB line without any delimiter or quote below the header."""
    text = _lines([HEADER, *ROWS], ";") + "z" * (10 << 20) + "\r\n"
    return _bytes(folder, "10mb-line.csv", text.encode())


@case("xlsx-10mb-cell", "ok")
def xlsx_10mb_cell(folder: Path) -> Path:
    """A 10 MB inline-string cell in a workbook: a too-long row issue."""
    rows = _with(ROWS, "Line description", ["x" * (10 << 20), "y"])
    return raw_xlsx(folder, "10mb-cell.xlsx", sheet_xml([HEADER, *rows]))


@case("csv-many-columns", "file-error")
def csv_many_columns(folder: Path) -> Path:
    """20,000 unnamed columns after the real ones."""
    rows = [[*row, *(["v"] * 20_000)] for row in ROWS]
    return _csv(folder, "wide.csv", rows, header=[*HEADER, *([""] * 20_000)])


@case("csv-formula-injection", "ok")
def csv_formula_injection(folder: Path) -> Path:
    """Cells that spreadsheets would run as formulas (=, +, -, @): kept as text."""
    rows = _with(
        ROWS,
        "Line description",
        ["=cmd|' /C calc'!A0", "+SUM(1,2)", "@SUM(A1)", '=HYPERLINK("http://x","y")'],
    )
    return _csv(folder, "injection.csv", rows)


@case("csv-odd-unicode", "ok")
def csv_odd_unicode(folder: Path) -> Path:
    """Emoji, right-to-left override, zero-width characters, combining marks, U+FFFD."""
    rows = _with(
        ROWS,
        "Line description",
        ["☕ Kaffe 🇳🇴", "\u202etxet\u202c", "zero\u200bwidth\ufeff", "A\u030a og \ufffd"],
    )
    rows = _with(
        rows,
        "Customer number",
        ["010104", "\u200b010104", "\uff10\uff11\uff10\uff11\uff10\uff14", "010104\u00a0"],
    )
    return _csv(folder, "odd-unicode.csv", rows)


# ---------------------------------------------------------- empty and headers


@case("csv-empty", "file-error")
def csv_empty(folder: Path) -> Path:
    """A csv of zero bytes."""
    return _bytes(folder, "empty.csv", b"")


@case("csv-whitespace-only", "file-error")
def csv_whitespace(folder: Path) -> Path:
    """A csv of blank lines and spaces (and a UTF-8 BOM)."""
    return _bytes(folder, "blank.csv", codecs.BOM_UTF8 + b"  \r\n\r\n\t\r\n")


@case("csv-delimiters-only", "file-error")
def csv_delimiters_only(folder: Path) -> Path:
    """A csv of empty cells only (Excel's export of an empty range)."""
    return _bytes(folder, "delims.csv", b";;;;\r\n;;;;\r\n")


@case("xlsx-empty-file", "file-error")
def xlsx_empty(folder: Path) -> Path:
    """An .xlsx of zero bytes."""
    return _bytes(folder, "empty.xlsx", b"")


@case("csv-header-only", "file-error")
def csv_header_only(folder: Path) -> Path:
    """The header and nothing below it."""
    return _csv(folder, "header-only.csv", [])


@case("xlsx-header-only", "file-error")
def xlsx_header_only(folder: Path) -> Path:
    """A workbook with only the header row."""
    return openpyxl_xlsx(folder, "header-only.xlsx", [HEADER])


@case("csv-no-header", "file-error")
def csv_no_header(folder: Path) -> Path:
    """Data rows without any header row."""
    return _bytes(folder, "no-header.csv", _lines(ROWS, ";").encode())


@case("csv-duplicate-headers", "file-error")
def csv_duplicate_headers(folder: Path) -> Path:
    """The same header twice ('Quantity' and 'Quantity')."""
    header = [*HEADER, "Quantity"]
    return _csv(folder, "dup-headers.csv", [[*r, "3"] for r in ROWS], header=header)


@case("csv-duplicate-alias-headers", "file-error")
def csv_duplicate_alias_headers(folder: Path) -> Path:
    """Two headers that mean the same field ('Quantity' and 'Antall')."""
    header = [*HEADER, "Antall"]
    return _csv(folder, "dup-alias.csv", [[*r, "3"] for r in ROWS], header=header)


@case("xlsx-duplicate-headers", "file-error")
def xlsx_duplicate_headers(folder: Path) -> Path:
    """A workbook with 'Invoice date' twice, spelt differently."""
    header = [*HEADER, " invoice DATE "]
    return openpyxl_xlsx(folder, "dup-headers.xlsx", [header, *[[*r, "x"] for r in ROWS]])


@case("csv-unknown-and-blank-headers", "file-error")
def csv_unknown_headers(folder: Path) -> Path:
    """Extra columns the type does not know, and a blank header with values under it."""
    header = [*HEADER, "Colour", "", "Notes"]
    return _csv(
        folder, "unknown-headers.csv", [[*r, "red", "orphan", "n"] for r in ROWS], header=header
    )


# ------------------------------------------------------------------- driver


def write_all(folder: Path) -> dict[str, Path]:
    """Every case written into ``folder``: name → path."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: make(folder) for name, make in CASES.items()}


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python tests/corpus.py OUTDIR", file=sys.stderr)
        return 2
    paths = write_all(Path(argv[0]))
    width = max(map(len, paths))
    for name, path in paths.items():
        size = path.stat().st_size
        print(f"{name:<{width}}  {EXPECTED[name]:<10}  {size:>10,}  {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
