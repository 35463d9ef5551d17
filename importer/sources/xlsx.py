"""An xlsx workbook's parts, read before and beside calamine.

The sheets and what kind each is (:func:`sheet_parts`), a survey of a
sheet's XML before calamine reads it (:func:`survey_sheet`: how far its
values reach, whether it holds control characters or anything
:func:`scan_sheet` looks for), and a copy that calamine can open when the
workbook has an Excel 4.0 macro sheet (:func:`without_macro_sheets`).
Reading a part that turns out damaged gives nothing here: calamine's own
read then says what is wrong with the file.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from importer.errors import FileError
from importer.sources.cells import column_index
from importer.sources.scan import MAX_COLUMNS, Extent, SheetScan, Survey

# What reading a damaged zip part may raise.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    KeyError,
    OSError,
    ValueError,
    RuntimeError,
    EOFError,
    zlib.error,
)

WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
# The relationship types of Excel 4.0 macro sheets (international ones too):
# calamine knows no such sheet and refuses the whole workbook.
MACRO_SHEETS = ("xlMacrosheet", "xlIntlMacrosheet")
_DIALOG_SHEET = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/dialogsheet"


@dataclass(frozen=True, slots=True)
class Part:
    """A sheet of the workbook: its name, its part in the zip, and its
    kind, the last word of its relationship's type (``worksheet``,
    ``chartsheet``, ``dialogsheet``, ``xlMacrosheet`` ...)."""

    name: str
    path: str
    kind: str


def sheet_parts(z: zipfile.ZipFile) -> dict[str, Part]:
    """The workbook's sheets by name, in the workbook's order."""
    try:
        workbook = z.read(WORKBOOK).decode("utf-8", "replace")
        rels = z.read(WORKBOOK_RELS).decode("utf-8", "replace")
    except ZIP_ERRORS:
        return {}
    targets: dict[str, tuple[str, str]] = {}
    for rel in re.finditer(r"<Relationship\b[^>]*>", rels):
        rid = re.search(r'\bId="([^"]*)"', rel.group(0))
        target = re.search(r'\bTarget="([^"]*)"', rel.group(0))
        typ = re.search(r'\bType="([^"]*)"', rel.group(0))
        if rid and target:
            t = html.unescape(target.group(1)).lstrip("/")
            path = t if t.startswith("xl/") else f"xl/{t}"
            targets[rid.group(1)] = (path, typ.group(1).rsplit("/", 1)[-1] if typ else "")
    parts: dict[str, Part] = {}
    for m in re.finditer(r"<sheet\b[^>]*>", workbook):
        name = re.search(r'\bname="([^"]*)"', m.group(0))
        rid = re.search(r'\br:id="([^"]*)"', m.group(0))
        if name and rid and rid.group(1) in targets:
            path, kind = targets[rid.group(1)]
            parts[html.unescape(name.group(1))] = Part(html.unescape(name.group(1)), path, kind)
    return parts


def without_macro_sheets(p: Path) -> bytes:
    """The workbook, with its macro sheets' relationships typed as dialog
    sheets, which calamine lists and passes over (it refuses a workbook with
    a macro sheet outright). Only for such workbooks: it copies the file."""
    pattern = re.compile(rb'Type="[^"]*/(?:' + "|".join(MACRO_SHEETS).encode() + rb')"')
    out = io.BytesIO()
    with (
        zipfile.ZipFile(p) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename == WORKBOOK_RELS:
                data = pattern.sub(b'Type="' + _DIALOG_SHEET + b'"', data)
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return out.getvalue()


# A cell with a value beyond column Z or row 99,999 (rare, so finding them
# is cheap). A cell without one (<c r="AMJ1" s="3"/>, <c r="B2"></c>) only
# carries a format: calamine keeps none of those.
_FAR_VALUE = re.compile(rb'<c r="([A-Z]{2,}|[A-Z](?=[0-9]{6}))([0-9]+)"[^>]*?(?<!/)>(?!</c>)')
_REF = re.compile(rb'<c r="([A-Z]+)([0-9]+)"')
# The bytes of control characters, and everything else (bytes.translate
# finds the first in an XML part at the speed of memory).
_CONTROL_BYTES = bytes([*range(9), 11, 12, *range(14, 32), 127])
_OTHER_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_ESCAPE = re.compile(rb"_x([0-9A-Fa-f]{4})_|&#x([0-9A-Fa-f]+);|&#([0-9]+);")
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
NARROW = 26  # columns a sheet may have without any of them being surveyed (A to Z)


def has_control(xml: bytes) -> bool:
    """Whether a cell's text in ``xml`` may hold a control character: raw,
    as Excel's escape (``_x0001_``) or as a character reference. Rare; where
    one is, each cell is looked at."""
    if xml.translate(None, _OTHER_BYTES):
        return True
    if b"_x" not in xml and b"&#" not in xml:
        return False
    for m in _ESCAPE.finditer(xml):
        code = int(m.group(1) or m.group(2), 16) if m.group(3) is None else int(m.group(3))
        if code < 256 and bytes([code]) in _CONTROL_BYTES:
            return True
    return False


def survey_sheet(p: Path, part: str) -> Survey:
    """One pass over the sheet's XML, before calamine reads it: how far its
    values reach (one value in cell XFD1048576 would have calamine allocate
    512 GB), whether it may hold a control character, and whether it holds
    anything :func:`scan_sheet` looks for."""
    extent = Extent()
    marked = control = False

    def bound(text: bytes) -> None:
        for m in _FAR_VALUE.finditer(text):
            extent.add(int(m.group(2)), column_index(m.group(1).decode()))
        # The rows come in order: the last value of the text is on its last row.
        last = max(text.rfind(b"</v>"), text.rfind(b"</is>"))
        start = text.rfind(b'<c r="', 0, last) if last > 0 else -1
        ref = _REF.match(text, start) if start >= 0 else None
        if ref:
            extent.add(int(ref.group(2)), column_index(ref.group(1).decode()))

    try:
        with zipfile.ZipFile(p) as z:
            markers = _markers(z)
            with z.open(part) as fh:
                tail = b""
                while chunk := fh.read(1 << 20):
                    window = tail + chunk
                    if b"<!--" in window:  # rare: what is commented out does not count
                        text = _COMMENT.sub(b"", z.read(part))
                        bound(text)
                        return Survey(extent, has_control(text), True)
                    bound(window)
                    marked = marked or any(m in window for m in markers)
                    control = control or has_control(window)
                    tail = chunk[-32:]
    except ZIP_ERRORS:
        return Survey(Extent())
    return Survey(extent, control, marked)


def _markers(z: zipfile.ZipFile) -> list[bytes]:
    """Texts in a sheet's XML that :func:`scan_sheet` must look into."""
    markers = [b't="e"', b'hidden="1"', b'hidden="true"', b"<mergeCell "]
    return markers + [b' s="%d"' % s for s in _padded_styles(z)]


def check_shared_strings(p: Path) -> bool:
    """Refuse a shared-strings table that claims more strings than its bytes
    can hold (it is crafted: calamine would reserve room for all of them);
    and say whether one of its strings may hold a control character."""
    control = False
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
                            f"{p}: the workbook's text table claims {int(m.group(1)):,} texts "
                            f"in {info.file_size:,} bytes; the file is damaged or not a real "
                            "workbook"
                        )
                    tail, chunk = b"", head
                    while chunk and not control:
                        control = has_control(tail + chunk)
                        tail, chunk = chunk[-16:], fh.read(1 << 20)
    except ZIP_ERRORS:
        return control
    return control


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


def scan_sheet(p: Path, part: str) -> SheetScan:
    """What the sheet's XML says that calamine does not (called only for
    the sheets that hold some of it: see :func:`survey_sheet`)."""
    scan = SheetScan()
    try:
        with zipfile.ZipFile(p) as z:
            padded = _padded_styles(z)
            xml = z.read(part)
    except ZIP_ERRORS:
        return scan
    if b"<!--" in xml:  # what is commented out is not in the sheet
        xml = _COMMENT.sub(b"", xml)
    scan.errors = [
        (
            int(m.group(2)) - 1,
            column_index(m.group(1).decode()),
            m.group(3).decode("utf-8", "replace"),
        )
        for m in _ERROR_CELL.finditer(xml)
    ]
    if padded:
        for m in _CELL_TAG.finditer(xml):
            if m.group(3).endswith(b"/"):
                continue  # an empty cell with only a format
            style = _STYLE.search(m.group(3))
            kind = _TYPE.search(m.group(3))
            if style and int(style.group(1)) in padded and (not kind or kind.group(1) == b"n"):
                row, col = int(m.group(2)) - 1, column_index(m.group(1).decode())
                scan.padded.append((row, col, padded[int(style.group(1))]))
    head = xml[: xml.find(b"<sheetData")] if b"<sheetData" in xml else b""
    for m in _COL.finditer(head):
        tag = m.group(0)
        lo, hi = re.search(rb'\bmin="([0-9]+)"', tag), re.search(rb'\bmax="([0-9]+)"', tag)
        if _HIDDEN.search(tag) and lo and hi:
            first, last = int(lo.group(1)) - 1, min(int(hi.group(1)), MAX_COLUMNS)
            scan.hidden_columns.extend(range(first, last))
    scan.hidden_rows = [
        int(m.group(1)) - 1 for m in _HIDDEN_ROW.finditer(xml) if _HIDDEN.search(m.group(0))
    ]
    for m in _MERGED.finditer(xml):
        r1, r2 = int(m.group(2)) - 1, int(m.group(4)) - 1
        c1, c2 = column_index(m.group(1).decode()), column_index(m.group(3).decode())
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
