"""Read stage: rows as they are in the file.

A :class:`Table` is the header row plus a generator of :class:`Row`. Cell
values are what the file holds: text stays text (``0101`` stays ``0101``),
numeric cells are ``int``/``float``, Excel date cells ``date``/``datetime``,
and an empty cell is ``""``. Every row is at least as wide as the header.
Row numbers are the ones the user sees in Excel: the header is row 1.
Blank rows are skipped but never renumber the rows after them.
"""

from __future__ import annotations

import codecs
import collections
import csv
import datetime as dt
import html
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.errors import FileError


class ExcelError(str):
    """A cell that shows one of Excel's error values (``#REF!``, ``#N/A`` ...)."""

    __slots__ = ()


Cell = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None

MAX_UNPACKED = 1 << 30  # bytes a workbook may unpack to (a zip bomb unpacks to far more)
MAX_ROWS = 1_048_576  # Excel's own limit
MAX_CELL = 32_767  # characters in a cell: Excel's own limit

XLSX_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_ZIP_MAGIC = b"PK\x03\x04"
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: encrypted xlsx or legacy .xls
_CSV_DELIMITERS = (",", ";", "\t", "|")
csv.field_size_limit(MAX_CELL)


@dataclass(slots=True)
class Row:
    """One data row: its Excel row number, its sheet and its cells."""

    number: int
    sheet: str
    cells: list[Cell]


@dataclass(slots=True)
class Table:
    """A header row and the data rows below it."""

    path: Path
    sheet: str
    header: list[str]
    rows: Iterator[Row]
    header_row: int = 1
    notes: list[str] = field(default_factory=list)  # how the file was read, when it matters


HeaderTest = Callable[[list[str]], bool]
HEADER_SEARCH = 30  # rows looked at for the header, below any title rows


def read_table(
    path: str | Path, *, sheet: str | None = None, is_header: HeaderTest | None = None
) -> Table:
    """Open ``path`` (xlsx or csv) and return its table.

    Raises :class:`FileError` with a message for the user when the file
    cannot be read whole: missing, empty, corrupt, encrypted or not a
    spreadsheet.
    """
    p = Path(path)
    if not p.exists():
        raise FileError(f"{p}: no such file")
    if p.is_dir():
        raise FileError(f"{p}: is a folder, not a spreadsheet")
    try:
        with p.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise FileError(f"{p}: cannot be opened ({exc.strerror})") from None
    if not head:
        raise FileError(f"{p}: the file is empty")
    if head.startswith(_CFB_MAGIC):
        if _is_encrypted_ooxml(p):
            raise FileError(
                f"{p}: the workbook is password-protected; remove the password in Excel "
                "(File > Info > Protect Workbook) and save it again"
            )
        raise FileError(f"{p}: this is an old Excel 97-2003 .xls file; save it as .xlsx in Excel")
    if head.startswith(_ZIP_MAGIC):
        return _read_xlsx(p, sheet, is_header)
    suffix = p.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        raise FileError(f"{p}: not a valid .xlsx workbook (the file is damaged or not Excel)")
    if suffix in CSV_SUFFIXES or suffix == "":
        if sheet is not None:
            raise FileError(f"{p}: --sheet applies to workbooks, and this is a csv file")
        return _read_csv(p, is_header)
    raise FileError(f"{p}: unsupported file type {suffix!r}; use .xlsx or .csv")


def _is_encrypted_ooxml(p: Path) -> bool:
    # Encrypted OOXML is an OLE2 container with an "EncryptionInfo" stream; its
    # directory entry names are UTF-16LE.
    with p.open("rb") as fh:
        blob = fh.read(1 << 20)
    return "EncryptionInfo".encode("utf-16-le") in blob


# ---------------------------------------------------------------- xlsx


def _read_xlsx(p: Path, sheet: str | None, is_header: HeaderTest | None) -> Table:
    from python_calamine import CalamineWorkbook

    _check_unpacked_size(p)
    try:
        wb = CalamineWorkbook.from_path(str(p))
    except Exception as exc:  # calamine raises its own zoo of errors
        raise FileError(
            f"{p}: the workbook is damaged or incomplete and cannot be opened; "
            f"save it again from Excel (detail: {_short(exc)})"
        ) from None
    names = list(wb.sheet_names)
    if not names:
        raise FileError(f"{p}: the workbook has no sheets")
    if sheet is None:
        name = names[0]
    elif sheet in names:
        name = sheet
    else:
        raise FileError(f"{p}: no sheet named {sheet!r}; the sheets are {', '.join(names)}")
    # The error-cell scan inflates the sheet's XML while calamine parses it:
    # both release the GIL, so the scan costs no time of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        errors = pool.submit(_error_cells, p, name)
        try:
            ws = wb.get_sheet_by_name(name)
            # skip_empty_area=False keeps Excel's own row numbering.
            data: list[list[Any]] = ws.to_python(skip_empty_area=False)
        except Exception as exc:
            raise FileError(f"{p}: sheet {name!r} cannot be read ({_short(exc)})") from None
        found = errors.result()
    _check_rows(p, data)
    for row, col, value in found:
        if row < len(data):
            cells = data[row]
            if col >= len(cells):
                cells.extend([""] * (col + 1 - len(cells)))
            cells[col] = ExcelError(value)
    return _table_from_grid(p, name, data, is_header)


def _check_unpacked_size(p: Path) -> None:
    try:
        with zipfile.ZipFile(p) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileError(
            f"{p}: the workbook is damaged or incomplete and cannot be opened; "
            f"save it again from Excel (detail: {_short(exc)})"
        ) from None
    if unpacked > MAX_UNPACKED:
        raise FileError(
            f"{p}: the workbook unpacks to {unpacked / 2**30:.1f} GB, more than vnimport reads "
            f"({MAX_UNPACKED / 2**30:.0f} GB); it is damaged or not a real workbook"
        )


def _check_rows(p: Path, data: list[Any]) -> None:
    if len(data) > MAX_ROWS:
        raise FileError(
            f"{p}: {len(data):,} rows, more than a spreadsheet holds ({MAX_ROWS:,}); split the file"
        )


_ERROR_CELL = re.compile(
    rb'<c r="([A-Z]+)([0-9]+)"[^>]*?t="e"[^>]*>(?:(?!</c>).)*?<v>([^<]*)</v>', re.S
)


def _error_cells(p: Path, sheet: str) -> list[tuple[int, int, str]]:
    """Calamine reads a cell showing ``#REF!`` as empty: the cells of the
    sheet's XML that hold an error value, as (row index, column index,
    value), looked for only when the XML has any."""
    marker = b't="e"'
    try:
        with zipfile.ZipFile(p) as z:
            part = _sheet_part(z, sheet)
            if part is None:
                return []
            with z.open(part) as fh:  # streamed: most sheets have no error cell
                tail = b""
                while chunk := fh.read(1 << 20):
                    if marker in tail + chunk:
                        break
                    tail = chunk[-len(marker) :]
                else:
                    return []
            xml = z.read(part)
    except (zipfile.BadZipFile, KeyError, OSError):
        return []
    return [
        (
            int(m.group(2)) - 1,
            _column_index(m.group(1).decode()),
            m.group(3).decode("utf-8", "replace"),
        )
        for m in _ERROR_CELL.finditer(xml)
    ]


def _sheet_part(z: zipfile.ZipFile, sheet: str) -> str | None:
    workbook = z.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    for m in re.finditer(r"<sheet\b[^>]*>", workbook):
        tag = m.group(0)
        name = re.search(r'name="([^"]*)"', tag)
        rid = re.search(r'r:id="([^"]*)"', tag)
        if name and rid and html.unescape(name.group(1)) == sheet:
            for rel in re.finditer(r"<Relationship\b[^>]*>", rels):
                if f'Id="{rid.group(1)}"' in rel.group(0):
                    target = re.search(r'Target="([^"]*)"', rel.group(0))
                    if target:
                        t = target.group(1).lstrip("/")
                        return t if t.startswith("xl/") else f"xl/{t}"
    return None


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


def _table_from_grid(
    p: Path, sheet: str, data: list[list[Any]], is_header: HeaderTest | None = None
) -> Table:
    """The header is the first filled row, or, when ``is_header`` is given,
    the first of the leading rows that it accepts (title rows above it are
    skipped, as a person reading the sheet would)."""
    filled: list[int] = []
    for i, r in enumerate(data):
        if not _blank(r):
            filled.append(i)
            if len(filled) == HEADER_SEARCH:
                break
    if not filled:
        where = f"sheet {sheet!r}" if sheet else "the file"
        raise FileError(f"{p}: {where} is empty")
    header_index = filled[0]
    if is_header is not None:
        header_index = next(
            (i for i in filled[:HEADER_SEARCH] if is_header([_header_text(c) for c in data[i]])),
            header_index,
        )
    header = [_header_text(c) for c in data[header_index]]
    while header and not header[-1]:
        header.pop()
    width = len(header)

    def rows() -> Iterator[Row]:
        for i in range(header_index + 1, len(data)):
            cells = data[i]
            if _blank(cells):
                continue  # a blank row: skipped, and the next keeps its number
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            yield Row(i + 1, sheet, cells)

    return Table(p, sheet, header, rows(), header_row=header_index + 1)


def _blank(cells: list[Any]) -> bool:
    if cells.count("") == len(cells):
        return True
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _filled(c: Any) -> bool:
    return c is not None and c != ""


def _header_text(c: Any) -> str:
    if c is None:
        return ""
    if isinstance(c, float) and c.is_integer():
        c = int(c)
    return str(c).strip()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


# ----------------------------------------------------------------- csv


def _read_csv(p: Path, is_header: HeaderTest | None) -> Table:
    raw = p.read_bytes()
    text, encoding = _decode(p, raw)
    if not text.strip():
        raise FileError(f"{p}: the file is empty")
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        grid: list[list[Any]] = list(reader)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise FileError(
                f"{p}: row {reader.line_num} has a cell longer than {MAX_CELL:,} characters, "
                "more than a spreadsheet cell holds"
            ) from None
        raise FileError(f"{p}: not a readable csv file ({exc})") from None
    _check_rows(p, grid)
    table = _table_from_grid(p, "", grid, is_header)
    if encoding in _LEGACY:
        table.notes.append(
            f"the file is not UTF-8; it was read as {_LEGACY[encoding]}: check that letters "
            "such as æ ø å ä ö look right in the result"
        )
    return table


_LEGACY = {"cp1252": "Windows-1252 (cp1252)", "latin-1": "Latin-1 (ISO 8859-1)"}


def _decode(p: Path, raw: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with: UTF-8 (with or without
    BOM), UTF-16 with its BOM (Excel's "Unicode text"), else Windows-1252,
    else Latin-1, the two that older Nordic tools write (which one was used
    is reported: it is a judgement, so it is never silent)."""
    if b"\x00" in raw[:4096] and not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileError(f"{p}: this is not a text (csv) file; it contains binary data")
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            try:
                return raw.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise FileError(f"{p}: not valid {enc} text ({exc.reason})") from None
    for enc in ("utf-8", "cp1252", "latin-1"):  # latin-1 decodes any bytes
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def sniff_delimiter(text: str) -> str:
    """The delimiter among ``, ; tab |`` that splits the first lines into the
    same number of columns most often (title lines above the header, with
    no delimiter in them, do not count)."""
    lines = [line for line in text[:65536].splitlines()[:60] if line.strip()]
    best, best_score = ",", (0, 0)
    for d in _CSV_DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=d)]
        except csv.Error:
            continue
        counts = collections.Counter(w for w in widths if w >= 2)
        if not counts:
            continue
        width, seen = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        if (seen, width) > best_score:
            best, best_score = d, (seen, width)
    return best
