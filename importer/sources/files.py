"""Read stage: rows as they are in the file.

A :class:`Table` is the header row plus a generator of :class:`Row`. Cell
values are what the file holds: text stays text (``0101`` stays ``0101``),
numeric cells are ``int``/``float``, date cells ``date``/``datetime``,
and an empty cell is ``""``. Every row is at least as wide as the header.
Row numbers are the ones the user sees in Excel: the header is row 1.
Blank rows are skipped but never renumber the rows after them.

Workbooks (xlsx and xlsm, and ods: LibreOffice's own) are read by calamine,
after checks that keep a damaged or crafted file from making it allocate
without bound (:mod:`importer.sources.xlsx`, :mod:`importer.sources.ods`);
csv and text files by the standard library, in the encoding their bytes
show (:mod:`importer.sources.text`).
"""

from __future__ import annotations

import csv
import io
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.errors import FileError
from importer.sources import ods, xlsx
from importer.sources.cells import CONTROL, Cell, ControlText, ExcelError, column_letter
from importer.sources.scan import Extent, SheetScan, Survey
from importer.sources.text import check_encoding, decode, sniff_dialect

__all__ = [
    "HEADER_SEARCH",
    "MAX_AREA",
    "MAX_CELL",
    "MAX_ROWS",
    "MAX_UNPACKED",
    "PARTNER_SEARCH",
    "Cell",
    "ControlText",
    "ExcelError",
    "HeaderTest",
    "Preview",
    "Row",
    "Table",
    "column_letter",
    "hold_native_stderr",
    "preview",
    "read_table",
    "sheet_headers",
]

MAX_UNPACKED = 1 << 30  # bytes a workbook may unpack to (a zip bomb unpacks to far more)
MAX_ROWS = 1_048_576  # Excel's own limit
MAX_CELL = 32_767  # characters in a cell: Excel's own limit
MAX_AREA = 50_000_000  # cells a sheet may span (calamine holds them all, 32 bytes each)

# A workbook's type by its contents, and the names calamine opens it by.
_SUFFIXES = {"xlsx": (".xlsx", ".xlsm"), "ods": (".ods",)}
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".ods", ".xlsb"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_ZIP_MAGIC = b"PK\x03\x04"
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: encrypted xlsx or legacy .xls
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
    path: str | Path,
    *,
    sheet: str | None = None,
    is_header: HeaderTest | None = None,
    encoding: str | None = None,
    header_row: int | None = None,
) -> Table:
    """Open ``path`` (a workbook: xlsx, xlsm, ods; or a csv or text file)
    and return its table.

    ``header_row`` (1 = the file's first row, as Excel numbers it) is the
    row that holds the header, whatever ``is_header`` would find; the rows
    above it are left out. ``encoding`` forces a csv file's encoding (``cp1250``, ``utf-16-le``):
    without it the file's bytes decide, and a file they do not settle is
    refused with a message that asks for it. Raises :class:`FileError` with
    a message for the user when the file cannot be read whole: missing,
    empty, corrupt, encrypted or not a spreadsheet; and ConfigError for an
    encoding Python does not know.
    """
    if encoding is not None:
        check_encoding(encoding)
    if header_row is not None and not (isinstance(header_row, int) and 1 <= header_row <= MAX_ROWS):
        raise FileError(f"{path}: the header row is a row number from 1, not {header_row!r}")
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
        if encoding is not None:
            raise FileError(
                f"{p}: --encoding applies to csv and text files, and this is a workbook "
                "(a workbook says its own encoding)"
            )
        return _read_workbook(p, sheet, is_header, header_row)
    suffix = p.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        raise FileError(
            f"{p}: not a valid {suffix} workbook (the file is damaged or not a spreadsheet)"
        )
    if suffix in CSV_SUFFIXES or suffix == "":
        if sheet is not None:
            raise FileError(f"{p}: --sheet applies to workbooks, and this is a csv file")
        return _read_csv(p, is_header, encoding, header_row)
    raise FileError(f"{p}: unsupported file type {suffix!r}; use .xlsx, .ods or .csv")


def _is_encrypted_ooxml(p: Path) -> bool:
    # Encrypted OOXML is an OLE2 container with an "EncryptionInfo" stream; its
    # directory entry names are UTF-16LE.
    with p.open("rb") as fh:
        blob = fh.read(1 << 20)
    return "EncryptionInfo".encode("utf-16-le") in blob


# ----------------------------------------------------------- workbooks


@dataclass(frozen=True, slots=True)
class _Sheet:
    name: str
    visible: bool
    kind: str  # "" for a worksheet, else what it is ("a chart sheet"): it holds no rows


# calamine's sheet types, as a message names them.
_KINDS = {
    "ChartSheet": "a chart sheet",
    "DialogSheet": "a dialog sheet",
    "MacroSheet": "an Excel 4.0 macro sheet",
    "Vba": "a macro module",
}


class Workbook:
    """A workbook opened by calamine, after the checks that keep a crafted
    file from making calamine allocate without bound (its allocation
    failures abort the process, and cannot be caught); its sheets, and
    what kind each is."""

    def __init__(self, p: Path) -> None:
        self.path = p
        self.kind = _workbook_kind(p)
        _check_unpacked_size(p)
        self.control = self.kind == "xlsx" and xlsx.check_shared_strings(p)
        self.parts: dict[str, xlsx.Part] = {}
        if self.kind == "xlsx":
            try:
                with zipfile.ZipFile(p) as z:
                    self.parts = xlsx.sheet_parts(z)
            except xlsx.ZIP_ERRORS:
                pass  # calamine's own read says what is wrong
        macro = {n for n, part in self.parts.items() if part.kind in xlsx.MACRO_SHEETS}
        program = "LibreOffice" if self.kind == "ods" else "Excel"
        with _calamine_errors(
            p,
            "the workbook is damaged or incomplete and cannot be opened; "
            f"save it again from {program} (detail: DETAIL)",
        ):
            self.book = _calamine(p, self.kind, bool(macro))
        try:
            meta = [(m.name, _visible(m), _kind(m)) for m in self.book.sheets_metadata]
        except Exception:  # metadata is a nicety; the names are what matter
            meta = [(n, True, "") for n in self.book.sheet_names]
        self.sheets = [
            _Sheet(n, shown, _KINDS["MacroSheet"] if n in macro else k) for n, shown, k in meta
        ]
        self._ods: dict[str, Survey] | None = None

    def choose(self, sheet: str | None) -> tuple[str, list[tuple[str, dict[str, object]]]]:
        """The sheet to read (the first visible worksheet, or ``sheet``),
        and the notes the choice earns."""
        p = self.path
        if not self.sheets:
            raise FileError(f"{p}: the workbook has no sheets")
        worksheets = [s for s in self.sheets if not s.kind]
        if sheet is None:
            if not worksheets:
                held = ", ".join(f"{s.kind} {s.name!r}" for s in self.sheets)
                raise FileError(
                    f"{p}: the workbook has no worksheet to read rows from; it holds {held}"
                )
            chosen = next((s for s in worksheets if s.visible), worksheets[0])
        else:
            found = next((s for s in self.sheets if s.name == sheet), None)
            if found is None:
                names = ", ".join(s.name for s in self.sheets)
                raise FileError(f"{p}: no sheet named {sheet!r}; the sheets are {names}")
            if found.kind:
                raise FileError(
                    f"{p}: sheet {sheet!r} is {found.kind}, which holds no rows to import"
                    + self.with_data(sheet)
                )
            chosen = found
        notes: list[tuple[str, dict[str, object]]] = []
        if not chosen.visible:
            notes.append(("hidden-sheet", {"sheet": chosen.name}))
        hidden = [s.name for s in worksheets if not s.visible and s is not chosen]
        if hidden:
            notes.append(("hidden-sheet.others", {"sheets": ", ".join(map(repr, hidden))}))
        return chosen.name, notes

    def others(self, name: str) -> list[str]:
        """The other visible worksheets."""
        return [s.name for s in self.sheets if s.visible and not s.kind and s.name != name]

    def survey(self, name: str) -> Survey:
        if self.kind == "ods":
            if self._ods is None:
                self._ods = ods.survey(self.path)
            return self._ods.get(name) or Survey(Extent())
        part = self.parts.get(name)
        return xlsx.survey_sheet(self.path, part.path) if part else Survey(Extent())

    def read(self, name: str) -> tuple[list[list[Any]], SheetScan]:
        """The sheet's cells, as the user sees them in the workbook's
        program, and what its XML said beside them."""
        p = self.path
        survey = self.survey(name)
        _check_area(p, name, survey.extent)
        with ThreadPoolExecutor(max_workers=1) as pool:
            part = self.parts.get(name)
            scan = pool.submit(xlsx.scan_sheet, p, part.path) if part and survey.marked else None
            with _calamine_errors(p, f"sheet {name!r} cannot be read (DETAIL)"):
                ws = self.book.get_sheet_by_name(name)
                # skip_empty_area=False keeps Excel's own row numbering.
                data: list[list[Any]] = ws.to_python(skip_empty_area=False)
            found = scan.result() if scan is not None else survey.scan or SheetScan()
        _check_rows(p, data)
        found.apply(data)
        if survey.control or self.control:
            _mark_control(p, name, data)
        return data, found

    def headers(self, names: list[str], is_header: HeaderTest | None) -> dict[str, list[str]]:
        """The header row of each named worksheet (at most PARTNER_SEARCH of
        them); those without one, and those that cannot be read, are left
        out: a problem of a sheet no one asked for is no answer about the
        one asked for."""
        kinds = {s.name: s.kind for s in self.sheets}
        found: dict[str, list[str]] = {}
        for name in names[:PARTNER_SEARCH]:
            if kinds.get(name, ""):
                continue
            try:
                _check_area(self.path, name, self.survey(name).extent)
                with _calamine_errors(self.path, f"sheet {name!r} cannot be read (DETAIL)"):
                    ws = self.book.get_sheet_by_name(name)
                    top = [
                        list(r)
                        for _, r in zip(range(HEADER_SEARCH * 2), ws.iter_rows(), strict=False)
                    ]
                found[name] = _table_from_grid(self.path, name, top, is_header).header
            except FileError:
                continue
        return found

    def with_data(self, name: str, is_header: HeaderTest | None = None) -> str:
        """For a message about sheet ``name``: the other sheets that hold data."""
        others = [s.name for s in self.sheets if not s.kind and s.name != name]
        found = list(self.headers(others, is_header))
        if found:
            return (
                f"; the sheets with data are {', '.join(map(repr, found))}: name one with --sheet"
            )
        return "; the workbook's other sheets are empty too" if others else ""


def _workbook_kind(p: Path) -> str:
    """``xlsx`` or ``ods``, by what the zip holds; other zips are refused."""
    try:
        with zipfile.ZipFile(p) as z:
            names = set(z.namelist())
            mimetype = z.read("mimetype")[:100].strip() if "mimetype" in names else b""
    except xlsx.ZIP_ERRORS:
        return "xlsx"  # damaged: the checks and calamine say what is wrong
    if mimetype == ods.MIMETYPE or (not mimetype and "content.xml" in names):
        return "ods"
    if mimetype.startswith(b"application/vnd.oasis.opendocument."):
        kind = mimetype.rsplit(b".", 1)[-1].decode("ascii", "replace")
        raise FileError(f"{p}: this is an OpenDocument {kind} document, not a spreadsheet")
    if "xl/workbook.bin" in names:
        raise FileError(
            f"{p}: this is an Excel binary workbook (.xlsb), which vnimport does not read; "
            "save it in Excel as an Excel Workbook (.xlsx) and import that"
        )
    return "xlsx"


def _calamine(p: Path, kind: str, macro: bool) -> Any:
    from python_calamine import CalamineWorkbook

    if macro:
        return CalamineWorkbook.from_filelike(io.BytesIO(xlsx.without_macro_sheets(p)))
    if p.suffix.lower() in _SUFFIXES[kind]:
        return CalamineWorkbook.from_path(str(p))
    # calamine tells the type by the name: a workbook named otherwise is given as bytes
    return CalamineWorkbook.from_filelike(io.BytesIO(p.read_bytes()))


def _visible(meta: Any) -> bool:
    return str(getattr(meta, "visible", "Visible")).rsplit(".", 1)[-1] == "Visible"


def _kind(meta: Any) -> str:
    return _KINDS.get(str(getattr(meta, "typ", "WorkSheet")).rsplit(".", 1)[-1], "")


def _read_workbook(
    p: Path, sheet: str | None, is_header: HeaderTest | None, header_row: int | None = None
) -> Table:
    wb = Workbook(p)
    name, notes = wb.choose(sheet)
    data, found = wb.read(name)
    try:
        table = _table_from_grid(p, name, data, is_header, header_row)
    except _Empty:
        raise FileError(f"{p}: sheet {name!r} is empty" + wb.with_data(name, is_header)) from None
    table.notes.extend(notes)
    table.notes.extend(found.notes(table))
    table.other_sheets = wb.others(name)
    return table


PARTNER_SEARCH = 50  # other sheets looked at for a lines (or header) sheet


def sheet_headers(
    path: str | Path, names: list[str], is_header: HeaderTest | None = None
) -> dict[str, list[str]]:
    """The header row of each named sheet of a workbook (at most
    PARTNER_SEARCH of them), from one opening of it; sheets without one,
    and sheets that cannot be read, are left out."""
    return Workbook(Path(path)).headers(names, is_header)


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


def _check_area(p: Path, sheet: str, extent: Extent) -> None:
    """Refuse a sheet whose values span more than MAX_AREA cells, before
    calamine reads it (and holds every cell of the area)."""
    area = extent.area(narrow=xlsx.NARROW)
    if area > MAX_AREA:
        raise FileError(
            f"{p}: sheet {sheet!r} has values as far as {extent.cells()}: an area of about "
            f"{area:,} cells from A1, more than vnimport reads ({MAX_AREA:,}); is a value "
            "there by mistake? Delete what is below or to the right of the data (select "
            "those rows or columns and delete them), or split the file"
        )


def _check_rows(p: Path, data: list[Any]) -> None:
    if len(data) > MAX_ROWS:
        raise FileError(
            f"{p}: {len(data):,} rows, more than a spreadsheet holds ({MAX_ROWS:,}); split the file"
        )


def _mark_control(p: Path, sheet: str, grid: list[list[Any]]) -> None:
    """One rule for control characters, in csv files and workbooks alike:
    a NUL, which no text holds, stops the file and says where it is (the
    file is damaged, binary, or read in the wrong encoding, and nothing is
    sent from a file that was not read whole); a cell with another control
    character is :class:`ControlText`, an issue on its row."""
    for i, cells in enumerate(grid):
        for j, c in enumerate(cells):
            if type(c) is str and CONTROL.search(c):
                if "\x00" in c:
                    where = (
                        f"sheet {sheet!r}, cell {column_letter(j)}{i + 1}"
                        if sheet
                        else f"row {i + 1}, column {column_letter(j)}"
                    )
                    raise FileError(
                        f"{p}: {where} holds a NUL character (a zero byte, which is not text): "
                        "the file is damaged, is binary data, or is read in another encoding "
                        "than it was saved in; correct the cell and save the file again (a csv "
                        "file as CSV UTF-8, or give its encoding with --encoding)"
                    )
                cells[j] = ControlText(c)


# ----------------------------------------------------- native stderr


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


# --------------------------------------------------------------- grids


class _Empty(FileError):
    """A sheet or file without a filled row."""


def _table_from_grid(
    p: Path,
    sheet: str,
    data: list[list[Any]],
    is_header: HeaderTest | None = None,
    header_row: int | None = None,
    *,
    titles: bool = True,
) -> Table:
    """The header is the first of the leading rows that ``is_header``
    accepts, else the first filled row below any title rows (skipped, as a
    person reading the sheet would: :func:`_below_titles`; not when
    ``titles`` is false: rows given as header and rows); ``header_row``
    (from 1) names it instead."""
    if header_row is not None:
        return _table_at(p, sheet, data, header_row - 1)
    filled: list[int] = []
    for i, r in enumerate(data):
        if not _blank(r):
            filled.append(i)
            if len(filled) == HEADER_SEARCH:
                break
    if not filled:
        where = f"sheet {sheet!r}" if sheet else "the file"
        raise _Empty(f"{p}: {where} is empty")
    header_index = _below_titles(data, filled) if titles else filled[0]
    if is_header is not None:
        header_index = next(
            (i for i in filled[:HEADER_SEARCH] if is_header([_header_text(c) for c in data[i]])),
            header_index,
        )
    return _table_at(p, sheet, data, header_index)


def _below_titles(data: list[list[Any]], filled: list[int]) -> int:
    """The header row when no document type says which (or none of the
    rows names its columns): the first filled row, unless title rows are
    above it. A title row is narrow, a cell or two (``Kundeliste april``,
    ``Eksportert fra Regnskap;;Side 1``) where the rows below it fill at
    least twice as many; the row under the titles is the header only when
    it reads as one: two names or more, and no numbers or dates."""
    counts = [_filled_count(data[i]) for i in filled]
    widest = max(counts)
    for k, i in enumerate(filled):
        if counts[k] * 2 >= widest:
            if k and counts[k] >= 2 and all(_is_name(c) for c in data[i] if _filled(c)):
                return i
            break
    return filled[0]


def _filled_count(cells: list[Any]) -> int:
    return sum(1 for c in cells if _filled(c))


def _filled(c: Any) -> bool:
    return c is not None and not (isinstance(c, str) and not c.strip())


_NUMBER_LIKE = re.compile(r"[\d\s.,:/+\-()%]+")


def _is_name(c: Any) -> bool:
    """A cell a header could hold: text that is not a number or a date."""
    return isinstance(c, str) and not _NUMBER_LIKE.fullmatch(c.strip())


def _table_at(p: Path, sheet: str, data: list[list[Any]], header_index: int) -> Table:
    """The table whose header is the row ``header_index`` (from 0) of ``data``."""
    where = f"sheet {sheet!r}" if sheet else "the file"
    if header_index >= len(data) or _blank(data[header_index]):
        raise FileError(
            f"{p}: row {header_index + 1} of {where} is empty, so it is no header row "
            f"({where} has {len(data)} rows)"
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


def _read_csv(
    p: Path, is_header: HeaderTest | None, encoding: str | None, header_row: int | None = None
) -> Table:
    raw = p.read_bytes()
    text, read_as = decode(p, raw, encoding)
    if not text.strip():
        raise FileError(f"{p}: the file is empty")
    delimiter, spaced = sniff_dialect(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=spaced)
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
    if CONTROL.search(text):  # rare: one scan of the text says whether to look
        _mark_control(p, "", grid)
    table = _table_from_grid(p, "", grid, is_header, header_row)
    if read_as is not None:
        table.notes.append(("encoding", {"encoding": read_as}))
    return table


# ------------------------------------------------------------- preview


@dataclass(slots=True)
class Preview:
    """The top of a file as it is, before any header is looked for: the
    workbook's worksheets (empty for a csv file), the one shown, and its
    first rows (cells as the reader gives them; rows numbered from 1)."""

    sheets: list[str]
    sheet: str
    rows: list[list[Any]]
    total: int  # rows in the sheet or file, blank ones included


def preview(
    path: str | Path, *, sheet: str | None = None, rows: int = 20, encoding: str | None = None
) -> Preview:
    """The first ``rows`` rows of ``path`` (of its ``sheet``, default the
    first visible worksheet), for a person to see where the header is.
    Raises :class:`FileError` as :func:`read_table` does."""
    p = Path(path)
    with p.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(_ZIP_MAGIC):
        wb = Workbook(p)
        name, _ = wb.choose(sheet)
        data, _ = wb.read(name)
        names = [s.name for s in wb.sheets if not s.kind]
        return Preview(names, name, [list(r) for r in data[:rows]], len(data))
    if sheet:
        raise FileError(f"{p}: a sheet applies to workbooks, and this is a csv file")
    raw = p.read_bytes()
    text, _ = decode(p, raw, encoding)
    delimiter, spaced = sniff_dialect(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=spaced)
    grid: list[list[Any]] = []
    total = 0
    try:
        for record in reader:
            total += 1
            if len(grid) < rows:
                grid.append(record)
    except csv.Error as exc:
        raise FileError(f"{p}: not a readable csv file ({exc})") from None
    return Preview([], "", grid, total)
