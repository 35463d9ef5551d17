"""An OpenDocument spreadsheet (.ods, LibreOffice's own format), surveyed
before calamine reads it.

calamine holds a sheet's whole area in memory, and an ods file says
"this row, 1,048,576 times" in a few bytes: one pass over ``content.xml``
finds how far each sheet's values reach, with its rows and columns
repeated, so that the same area guard as for xlsx applies. LibreOffice
writes the empty, formatted rest of a sheet that way too (out to column
AMJ or XFD and row 1,048,576); cells without a value do not count, as
calamine keeps none of them. The same pass finds what calamine does not
report: formula errors (calamine reads ``#DIV/0!`` as an empty text),
merged cells and hidden rows and columns.
"""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path

from importer.sources.scan import MAX_COLUMNS, Extent, SheetScan, Survey
from importer.sources.xlsx import ZIP_ERRORS, has_control

MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
MAX_ROWS = 1_048_576  # calamine stops a sheet's repeated rows here

_TOKEN = re.compile(
    rb"<table:table(?=[\s>])([^>]*)>"  # 1: a sheet begins
    rb"|(</table:table>)"  # 2: it ends
    rb"|<table:table-column(?=[\s/>])([^>]*)>"  # 3: columns, before the rows
    rb"|<table:table-row(?=[\s/>])([^>]*)>"  # 4: a row
    rb"|<table:(?:covered-)?table-cell(?=[\s/>])([^>]*)>"  # 5: a cell
)
_NAME = re.compile(rb'\btable:name="([^"]*)"')
_ROWS_REPEATED = re.compile(rb'\btable:number-rows-repeated="([0-9]+)"')
_COLUMNS_REPEATED = re.compile(rb'\btable:number-columns-repeated="([0-9]+)"')
_ROWS_SPANNED = re.compile(rb'\btable:number-rows-spanned="([0-9]+)"')
_COLUMNS_SPANNED = re.compile(rb'\btable:number-columns-spanned="([0-9]+)"')
_HIDDEN = re.compile(rb'\btable:visibility="(?:collapse|filter)"')
_ERROR_TEXT = re.compile(rb"<text:p\b[^>]*>([^<]*)")
_ROW_END = b"</table:table-row>"
_CELL_END = b"</table:table-cell>"


def survey(p: Path) -> dict[str, Survey]:
    """Every sheet of the workbook by name, from one pass over its
    ``content.xml`` (a damaged file gives none: calamine says what is wrong)."""
    state = _State()
    try:
        with zipfile.ZipFile(p) as z, z.open("content.xml") as fh:
            rest = b""
            while chunk := fh.read(1 << 20):
                text = rest + chunk
                cut = text.rfind(_ROW_END) + len(_ROW_END)  # whole rows only
                if cut < len(_ROW_END):
                    rest = text
                    continue
                state.read(text[:cut])
                rest = text[cut:]
            state.read(rest)
    except ZIP_ERRORS:
        return {}
    return state.sheets


class _State:
    """The sheet being read, and where in it."""

    def __init__(self) -> None:
        self.sheets: dict[str, Survey] = {}
        self.sheet: Survey | None = None
        self.control = False
        self.column = 0  # the next column (from 0)
        self.row = 0  # the row being read (from 0)
        self.repeat = 1  # how many times it repeats
        self.hidden = False
        self.noted = False  # a hidden row with a value, already listed

    def read(self, text: bytes) -> None:
        if b"<!--" in text:  # rare: what is commented out is not in the sheet
            text = re.sub(rb"<!--.*?-->", b"", text, flags=re.S)
        if not self.control and has_control(text):
            self.control = True
            for known in self.sheets.values():
                known.control = True
        for m in _TOKEN.finditer(text):
            if m.group(5) is not None:
                self._cell(m.group(5), text, m.end())
            elif m.group(4) is not None:
                self._row(m.group(4))
            elif m.group(3) is not None:
                self._columns(m.group(3))
            elif m.group(1) is not None:
                self._begin(m.group(1))
            else:
                self.sheet = None

    def _begin(self, attrs: bytes) -> None:
        name = _NAME.search(attrs)
        self.sheet = Survey(Extent(), self.control, scan=SheetScan())
        self.sheets[html.unescape(name.group(1).decode("utf-8", "replace")) if name else ""] = (
            self.sheet
        )
        self.column, self.row, self.repeat = 0, 0, 0

    def _columns(self, attrs: bytes) -> None:
        if self.sheet is None or self.sheet.scan is None:
            return
        count = _number(_COLUMNS_REPEATED, attrs)
        if _HIDDEN.search(attrs):
            end = min(self.column + count, MAX_COLUMNS)
            self.sheet.scan.hidden_columns.extend(range(self.column, end))
        self.column = min(self.column + count, MAX_COLUMNS)

    def _row(self, attrs: bytes) -> None:
        self.row = min(self.row + self.repeat, MAX_ROWS)
        self.repeat = min(_number(_ROWS_REPEATED, attrs), MAX_ROWS - self.row)
        self.hidden = _HIDDEN.search(attrs) is not None
        self.column, self.noted = 0, False

    def _cell(self, attrs: bytes, text: bytes, end: int) -> None:
        sheet, column = self.sheet, self.column
        count = min(_number(_COLUMNS_REPEATED, attrs), MAX_COLUMNS - column)
        self.column = column + count
        if sheet is None or sheet.scan is None or count <= 0:
            return
        if b"office:value-type=" not in attrs and b"table:formula=" not in attrs:
            return  # no value: calamine keeps nothing of it
        sheet.extent.add(self.row + self.repeat, column + count - 1)
        scan = sheet.scan
        if self.hidden and not self.noted:
            scan.hidden_rows.extend(range(self.row, self.row + self.repeat))
            self.noted = True
        if b'calcext:value-type="error"' in attrs and not attrs.endswith(b"/"):
            close = text.find(_CELL_END, end)
            shown = _ERROR_TEXT.search(text, end, close if close >= 0 else len(text))
            value = html.unescape(shown.group(1).decode("utf-8", "replace")) if shown else "#N/A"
            for r in range(self.row, self.row + min(self.repeat, 1000)):
                scan.errors.extend((r, c, value) for c in range(column, column + count))
        spanned = _number(_ROWS_SPANNED, attrs)
        if spanned > 1:
            wide = _number(_COLUMNS_SPANNED, attrs)
            scan.merged.append((self.row, column, self.row + spanned - 1, column + wide - 1))


def _number(pattern: re.Pattern[bytes], attrs: bytes) -> int:
    m = pattern.search(attrs)
    return int(m.group(1)) if m else 1
