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
import os
import re
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.errors import FileError


class ExcelError(str):
    """A cell that shows one of Excel's error values (``#REF!``, ``#N/A`` ...)."""

    __slots__ = ()


class ControlText(str):
    """A csv cell holding a control character (NUL ...) that no spreadsheet
    cell can hold: the file was damaged or written by a broken export."""

    __slots__ = ()


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


Cell = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None

MAX_UNPACKED = 1 << 30  # bytes a workbook may unpack to (a zip bomb unpacks to far more)
MAX_ROWS = 1_048_576  # Excel's own limit
MAX_CELL = 32_767  # characters in a cell: Excel's own limit

XLSX_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_ZIP_MAGIC = b"PK\x03\x04"
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: encrypted xlsx or legacy .xls
_CSV_DELIMITERS = (",", ";", "\t", "|")
# What reading a damaged zip part may raise (calamine's own read then says what is wrong).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    KeyError,
    OSError,
    ValueError,
    RuntimeError,
    EOFError,
    zlib.error,
)
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
    # How the file was read, when the user should know: (message key, its
    # parameters), a key of importer.codes.MESSAGES that starts with the code.
    notes: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    other_sheets: list[str] = field(default_factory=list)  # the workbook's other visible sheets
    # What messages call the source, when ``path`` is not it: an upload's own
    # name (``path`` is then a temporary copy), or the name given to rows.
    display_name: str | None = None
    # Whatever must live as long as the table: an upload's temporary copy,
    # deleted once no table holds it (see importer.sources.uploads).
    keep: object = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The source as the user knows it: for messages and reports."""
        return self.display_name if self.display_name is not None else str(self.path)


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


def _open_workbook(p: Path) -> Any:
    """Calamine's workbook, after the checks that keep a crafted file from
    making calamine allocate without bound (its allocation failures abort
    the process, and cannot be caught)."""
    from python_calamine import CalamineWorkbook

    _check_unpacked_size(p)
    _check_shared_strings(p)
    with _calamine_errors(
        p,
        "the workbook is damaged or incomplete and cannot be opened; "
        "save it again from Excel (detail: DETAIL)",
    ):
        return CalamineWorkbook.from_path(str(p))


@contextmanager
def _calamine_errors(p: Path, message: str) -> Iterator[None]:
    """Calamine's errors, and its panics (pyo3's PanicException is a
    BaseException), as a FileError: ``message`` with DETAIL replaced. A
    panic also writes Rust's report to the process's stderr; that is held
    back when the caller asked for it (:func:`hold_native_stderr`), as the
    FileError says what happened in one line."""
    held = _hold_stderr() if _HOLD_STDERR.get() else None
    panicked = False
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit, FileError):
        raise
    except BaseException as exc:
        panicked = True
        raise FileError(f"{p}: " + message.replace("DETAIL", _short(exc))) from None
    finally:
        _release_stderr(held, show=not panicked)


_HOLD_STDERR: ContextVar[bool] = ContextVar("hold_native_stderr", default=False)


@contextmanager
def hold_native_stderr(on: bool = True) -> Iterator[None]:
    """While reading, keep calamine's own crash report (Rust writes it to
    file descriptor 2) off the process's stderr. That redirects descriptor 2
    for the whole process during each read, so only a caller that owns the
    process (the CLI) turns it on."""
    token = _HOLD_STDERR.set(on)
    try:
        yield
    finally:
        _HOLD_STDERR.reset(token)


def _hold_stderr() -> tuple[int, Any] | None:
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        return None  # no stderr to speak of
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed in _release_stderr
    os.dup2(spool.fileno(), 2)
    return saved, spool


def _release_stderr(held: tuple[int, Any] | None, *, show: bool) -> None:
    if held is None:
        return
    saved, spool = held
    os.dup2(saved, 2)
    os.close(saved)
    with spool:
        spool.seek(0)
        text = spool.read()
    if show and text:
        os.write(2, text)


def _load_sheet(p: Path, wb: Any, name: str) -> Any:
    _check_sheet(p, name)
    with _calamine_errors(p, f"sheet {name!r} cannot be read (DETAIL)"):
        return wb.get_sheet_by_name(name)


def _read_xlsx(p: Path, sheet: str | None, is_header: HeaderTest | None) -> Table:
    wb = _open_workbook(p)
    try:
        sheets = [(m.name, _visible(m)) for m in wb.sheets_metadata]
    except Exception:  # metadata is a nicety; the names are what matter
        sheets = [(n, True) for n in wb.sheet_names]
    names = [n for n, _ in sheets]
    visible = [n for n, shown in sheets if shown]
    if not names:
        raise FileError(f"{p}: the workbook has no sheets")
    notes: list[tuple[str, dict[str, object]]] = []
    if sheet is None:
        name = visible[0] if visible else names[0]  # the sheet the user sees first
    elif sheet in names:
        name = sheet
    else:
        raise FileError(f"{p}: no sheet named {sheet!r}; the sheets are {', '.join(names)}")
    if name not in visible:
        notes.append(("hidden-sheet", {"sheet": name}))
    hidden = [n for n in names if n not in visible and n != name]
    if hidden:
        notes.append(("hidden-sheet.others", {"sheets": ", ".join(repr(n) for n in hidden)}))
    # One pass over the sheet's XML bounds its area and says whether it holds
    # what calamine does not report (error cells, display formats, hidden and
    # merged cells); if it does, those are read while calamine parses.
    marked = _check_sheet(p, name)
    with ThreadPoolExecutor(max_workers=1) as pool:
        scan = pool.submit(_scan_sheet, p, name) if marked else None
        with _calamine_errors(p, f"sheet {name!r} cannot be read (DETAIL)"):
            ws = wb.get_sheet_by_name(name)
            # skip_empty_area=False keeps Excel's own row numbering.
            data: list[list[Any]] = ws.to_python(skip_empty_area=False)
        found = scan.result() if scan is not None else SheetScan()
    _check_rows(p, data)
    found.apply(data)
    table = _table_from_grid(p, name, data, is_header)
    table.notes.extend(notes)
    table.notes.extend(found.notes(table))
    table.other_sheets = [n for n in visible if n != name]
    return table


PARTNER_SEARCH = 50  # other sheets looked at for a lines (or header) sheet


def sheet_headers(
    path: str | Path, names: list[str], is_header: HeaderTest | None = None
) -> dict[str, list[str]]:
    """The header row of each named sheet of a workbook (at most
    PARTNER_SEARCH of them), from one opening of it; sheets without one are
    left out."""
    p = Path(path)
    wb = _open_workbook(p)
    found: dict[str, list[str]] = {}
    for name in names[:PARTNER_SEARCH]:
        ws = _load_sheet(p, wb, name)
        with _calamine_errors(p, f"sheet {name!r} cannot be read (DETAIL)"):
            top = [list(r) for _, r in zip(range(HEADER_SEARCH * 2), ws.iter_rows(), strict=False)]
        try:
            found[name] = _table_from_grid(p, name, top, is_header).header
        except FileError:
            continue  # an empty sheet
    return found


def _visible(meta: Any) -> bool:
    return str(getattr(meta, "visible", "Visible")).rsplit(".", 1)[-1] == "Visible"


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


MAX_AREA = 50_000_000  # cells a sheet may span (calamine holds them all, 32 bytes each)
# Cell references beyond column Z or row 99,999: rare, so finding them is cheap.
_BIG_REF = re.compile(rb'<c r="(?:([A-Z]{2,})([0-9]+)|([A-Z])([0-9]{6,}))"')


def _check_sheet(p: Path, sheet: str) -> bool:
    """Refuse a sheet whose cells span more than MAX_AREA cells (one value
    in cell XFD1048576 would have calamine allocate 512 GB), read from the
    cell references before calamine reads the sheet; and say whether the
    sheet holds anything :func:`_scan_sheet` looks for."""
    rows, cols = 99_999, 26  # the bounds of the references _BIG_REF passes over
    marked = False

    def bound(text: bytes) -> None:
        nonlocal rows, cols
        for m in _BIG_REF.finditer(text):
            letters, digits = (m.group(1), m.group(2)) if m.group(1) else m.group(3, 4)
            rows = max(rows, int(digits))
            cols = max(cols, _column_index(letters.decode()) + 1)

    try:
        with zipfile.ZipFile(p) as z:
            part = _sheet_part(z, sheet)
            if part is None:
                return False
            markers = _markers(z)
            with z.open(part) as fh:
                tail = b""
                while chunk := fh.read(1 << 20):
                    window = tail + chunk
                    if b"<!--" in window:  # rare: what is commented out does not count
                        bound(_COMMENT.sub(b"", z.read(part)))
                        marked = True
                        break
                    bound(window)
                    marked = marked or any(m in window for m in markers)
                    tail = chunk[-32:]
    except _ZIP_ERRORS:
        return False  # a damaged part: calamine's own read says so
    if rows * cols > MAX_AREA:
        raise FileError(
            f"{p}: sheet {sheet!r} reaches row {rows:,} and column {column_letter(cols - 1)} "
            f"({rows * cols:,} cells), more than vnimport reads ({MAX_AREA:,}); is there a "
            "value far below or to the right of the data? Delete those rows and columns "
            "in Excel, or split the file"
        )
    return marked


def _markers(z: zipfile.ZipFile) -> list[bytes]:
    """Texts in a sheet's XML that :func:`_scan_sheet` must look into."""
    markers = [b't="e"', b'hidden="1"', b'hidden="true"', b"<mergeCell "]
    return markers + [b' s="%d"' % s for s in _padded_styles(z)]


def _check_shared_strings(p: Path) -> None:
    """A shared-strings table that claims more strings than its bytes can
    hold is crafted: calamine would reserve room for all of them."""
    try:
        with zipfile.ZipFile(p) as z:
            for info in z.infolist():
                if not info.filename.lower().endswith("sharedstrings.xml"):
                    continue
                with z.open(info) as fh:
                    head = fh.read(4096)
                m = re.search(rb'uniqueCount="([0-9]+)"', head)
                if m and int(m.group(1)) > info.file_size // 4:
                    raise FileError(
                        f"{p}: the workbook's text table claims {int(m.group(1)):,} texts in "
                        f"{info.file_size:,} bytes; the file is damaged or not a real workbook"
                    )
    except _ZIP_ERRORS:
        return


def _check_rows(p: Path, data: list[Any]) -> None:
    if len(data) > MAX_ROWS:
        raise FileError(
            f"{p}: {len(data):,} rows, more than a spreadsheet holds ({MAX_ROWS:,}); split the file"
        )


_ERROR_CELL = re.compile(
    rb'<c r="([A-Z]+)([0-9]+)"[^>]*?t="e"[^>]*>(?:(?!</c>).)*?<v>([^<]*)</v>', re.S
)
_CELL_TAG = re.compile(rb'<c r="([A-Z]+)([0-9]+)"([^>]*)>')
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_HIDDEN_ROW = re.compile(rb'<row\b[^>]*?\br="([0-9]+)"[^>]*>')
_COL = re.compile(rb"<col\b[^>]*>")
_MERGED = re.compile(rb'<mergeCell\b[^>]*?ref="([A-Z]+)([0-9]+):([A-Z]+)([0-9]+)"')
_STYLE = re.compile(rb'\bs="([0-9]+)"')
_TYPE = re.compile(rb'\bt="([a-zA-Z]+)"')
_ZEROS = re.compile(r"0{2,}")
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_MAX_COLUMNS = 16_384  # Excel's own limit


@dataclass(slots=True)
class SheetScan:
    """What the sheet's XML says that calamine does not: (row, column)
    indices from 0."""

    errors: list[tuple[int, int, str]] = field(default_factory=list)  # #REF! and such
    padded: list[tuple[int, int, int]] = field(default_factory=list)  # format 0000: width
    hidden_rows: list[int] = field(default_factory=list)
    hidden_columns: list[int] = field(default_factory=list)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2

    def apply(self, data: list[list[Any]]) -> None:
        """Put into the grid what the user sees in Excel: error values,
        numbers as their zero-padded display (``0101``), and a merged
        cell's value on every row it spans."""
        for row, col, value in self.errors:
            if row < len(data) and col < _MAX_COLUMNS:
                _put(data[row], col, ExcelError(value))
        for row, col, width in self.padded:
            if row < len(data) and col < len(data[row]):
                v = data[row][col]
                if type(v) in (int, float) and v >= 0 and float(v).is_integer():
                    data[row][col] = f"{int(v):0{width}d}"
        for r1, c1, r2, _ in self.merged:
            if r1 >= len(data) or c1 >= len(data[r1]) or not _filled(data[r1][c1]):
                continue
            value = data[r1][c1]
            for r in range(r1 + 1, min(r2 + 1, len(data))):  # rows of the data only
                _put(data[r], c1, value)

    def notes(self, table: Table) -> list[tuple[str, dict[str, object]]]:
        found: list[tuple[str, dict[str, object]]] = []
        columns = [
            f"{column_letter(c)} ({table.header[c]!r})"
            for c in self.hidden_columns
            if c < len(table.header) and table.header[c]
        ]
        if columns:
            key = "hidden-column.many" if len(columns) > 1 else "hidden-column"
            found.append((key, {"columns": ", ".join(columns)}))
        rows = [r + 1 for r in self.hidden_rows if r + 1 > table.header_row]
        if rows:
            listed = ", ".join(map(str, rows[:10])) + (" ..." if len(rows) > 10 else "")
            key = "hidden-row.many" if len(rows) > 1 else "hidden-row"
            found.append((key, {"count": len(rows), "rows": listed}))
        return found


def _put(cells: list[Any], col: int, value: Any) -> None:
    if col >= len(cells):
        cells.extend([""] * (col + 1 - len(cells)))
    cells[col] = value


def _scan_sheet(p: Path, sheet: str) -> SheetScan:
    """What the sheet's XML says that calamine does not (called only for
    the sheets that hold some of it: see :func:`_check_sheet`)."""
    scan = SheetScan()
    try:
        with zipfile.ZipFile(p) as z:
            part = _sheet_part(z, sheet)
            if part is None:
                return scan
            padded = _padded_styles(z)
            xml = z.read(part)
    except _ZIP_ERRORS:
        return scan  # calamine's own read says what is wrong with the file
    if b"<!--" in xml:  # what is commented out is not in the sheet
        xml = _COMMENT.sub(b"", xml)
    scan.errors = [
        (
            int(m.group(2)) - 1,
            _column_index(m.group(1).decode()),
            m.group(3).decode("utf-8", "replace"),
        )
        for m in _ERROR_CELL.finditer(xml)
    ]
    if padded:
        for m in _CELL_TAG.finditer(xml):
            style = _STYLE.search(m.group(3))
            kind = _TYPE.search(m.group(3))
            if style and int(style.group(1)) in padded and (not kind or kind.group(1) == b"n"):
                row, col = int(m.group(2)) - 1, _column_index(m.group(1).decode())
                scan.padded.append((row, col, padded[int(style.group(1))]))
    head = xml[: xml.find(b"<sheetData")] if b"<sheetData" in xml else b""
    for m in _COL.finditer(head):
        tag = m.group(0)
        lo, hi = re.search(rb'\bmin="([0-9]+)"', tag), re.search(rb'\bmax="([0-9]+)"', tag)
        if _HIDDEN.search(tag) and lo and hi:
            first, last = int(lo.group(1)) - 1, min(int(hi.group(1)), 16_384)
            scan.hidden_columns.extend(range(first, last))
    scan.hidden_rows = [
        int(m.group(1)) - 1 for m in _HIDDEN_ROW.finditer(xml) if _HIDDEN.search(m.group(0))
    ]
    for m in _MERGED.finditer(xml):
        r1, r2 = int(m.group(2)) - 1, int(m.group(4)) - 1
        c1, c2 = _column_index(m.group(1).decode()), _column_index(m.group(3).decode())
        scan.merged.append((r1, c1, r2, c2))
    return scan


def _padded_styles(z: zipfile.ZipFile) -> dict[int, int]:
    """Cell styles whose number format pads with zeros (``0000``): style
    index → the width shown."""
    try:
        styles = z.read("xl/styles.xml").decode("utf-8", "replace")
    except KeyError:
        return {}
    formats: dict[int, int] = {}
    for m in re.finditer(r"<numFmt\b[^>]*>", styles):
        fid = re.search(r'numFmtId="([0-9]+)"', m.group(0))
        code = re.search(r'formatCode="([^"]*)"', m.group(0))
        if fid and code:
            first = html.unescape(code.group(1)).split(";")[0].replace('"', "").replace("\\", "")
            if _ZEROS.fullmatch(first) and len(first) <= 64:
                formats[int(fid.group(1))] = len(first)
    if not formats:
        return {}
    xfs = re.search(r"<cellXfs\b[^>]*>(.*?)</cellXfs>", styles, re.S)
    padded: dict[int, int] = {}
    for index, xf in enumerate(re.finditer(r"<xf\b[^>]*>", xfs.group(1) if xfs else "")):
        fid = re.search(r'numFmtId="([0-9]+)"', xf.group(0))
        if fid and int(fid.group(1)) in formats:
            padded[index] = formats[int(fid.group(1))]
    return padded


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


def column_letter(index: int) -> str:
    """``0`` → ``A``, ``26`` → ``AA``: the column's name in Excel."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


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
    if _CONTROL.search(text):  # rare: one scan of the text says whether to look
        for cells in grid:
            for i, c in enumerate(cells):
                if _CONTROL.search(c):
                    cells[i] = ControlText(c)
    table = _table_from_grid(p, "", grid, is_header)
    if encoding in _LEGACY:
        table.notes.append(("encoding", {"encoding": _LEGACY[encoding]}))
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
