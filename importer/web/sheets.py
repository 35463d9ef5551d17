"""The way into a batch, before and beside its check: the top of the file as
it is (its sheets, where the header is), its columns with sample values and
the field each maps to, and a cell changed by hand in a copy of the file.

Everything chosen here is written where the library reads it, so that the
check, the run and the command line read the file the same way: the sheet,
the header row and the columns go into the batch's mapping file
(:func:`importer.mapping.rules.mapping_text`); an edited cell goes into the
batch's edited copy of the upload (:func:`importer.web.kept.edited_key`),
which the check and the run read from then on.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tomllib
import zipfile
from pathlib import Path
from typing import Any

from importer.doctypes import DocType
from importer.errors import ColumnError, ConfigError, FileError
from importer.mapping.rules import COLUMN_WORD, mapping_text, suggest
from importer.sources import open_table
from importer.sources.files import Preview, column_letter, preview
from importer.sources.text import decode, sniff_dialect
from importer.web.batches import UploadError, cell_text

__all__ = ["SKIP", "cell_text", "columns_of", "edit_cell", "field_choices", "read_mapping"]

SKIP = "__skip__"  # the columns page's choice that leaves a column out
PREVIEW_ROWS = 15
SAMPLES = 3
SAMPLE_ROWS = 500  # rows looked at for a column's sample values


def top_of(path: Path, sheet: str | None) -> Preview:
    """The first rows of the file (of ``sheet``), as they are."""
    try:
        return preview(path, sheet=sheet, rows=PREVIEW_ROWS)
    except (FileError, ConfigError) as exc:
        raise UploadError(exc.code, str(exc).replace(str(path), "the file")) from None


# ----------------------------------------------------------- mapping


def read_mapping(path: Path | None) -> dict[str, Any]:
    """The batch's mapping file as data (empty when it has none)."""
    if path is None or not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError):
        return {}


def write_mapping(path: Path, data: dict[str, Any], doctype: DocType) -> None:
    """Write ``data`` (a mapping file's keys) as a mapping file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = mapping_text(
        sheet=data.get("sheet"),
        header_row=data.get("header_row"),
        skip=[str(s) for s in data.get("skip", [])],
        columns={str(k): str(v) for k, v in data.get("columns", {}).items()},
        constants={str(k): str(v) for k, v in data.get("constants", {}).items()},
        values={
            str(t): {str(k): str(v) for k, v in pairs.items()}
            for t, pairs in data.get("values", {}).items()
            if isinstance(pairs, dict)
        },
        comment=(
            f"vnimport mapping for {doctype.name}, saved in the web app:\n"
            f"vnimport validate FILE --type {doctype.name} --mapping THIS"
        ),
    )
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


# ----------------------------------------------------------- columns


#: How many segments of a segmented field (a subaccount) the columns page offers.
SEGMENTS = 4


def field_choices(doctype: DocType) -> list[tuple[str, str]]:
    """(field, title) of every field a column may map to, in the type's
    order: the fields, a control total said to be one (checked against the
    lines, never sent), then each segment of a segmented field
    (``invoiceLines.subaccount.1`` …), as the command line's mapping file
    may name them."""
    from importer.web.i18n import gettext

    found = []
    for spec in doctype.fields.values():
        control = doctype.declared.control(spec.name)
        if control is not None and control.kind != "line-amount":
            title = gettext("{title} (a control total: checked, not sent)", title=spec.title)
            found.append((spec.name, title))
            continue
        found.append((spec.name, spec.title))
    for pattern in doctype.patterns:
        for n in range(1, SEGMENTS + 1):
            found.append((pattern.column.replace("{n}", str(n)), f"{pattern.title} {n}"))
    return found


def columns_of(path: Path, doctype: DocType, data: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per column of the file, as the mapping ``data`` reads it:
    its header, sample values, the field it maps to now (``chosen``:
    a field, :data:`SKIP` or ""), how (``how``: ``header``, ``mapping``,
    ``skip``, ``none``) and the fields it might be (``suggested``)."""
    from importer.mapping.rules import Rules

    rules = Rules(
        columns={str(k): str(v) for k, v in data.get("columns", {}).items()},
        skip=[str(s) for s in data.get("skip", [])],
    )
    try:
        table = open_table(
            path,
            sheet=data.get("sheet"),
            is_header=doctype.looks_like_header,
            header_row=data.get("header_row"),
        )
        samples: list[list[str]] = []
        filled: set[int] = set()
        for count, row in enumerate(table.rows):
            if count >= SAMPLE_ROWS:
                break
            for index, cell in enumerate(row.cells):
                text = cell_text(cell).strip()
                if not text:
                    continue
                filled.add(index)
                while len(samples) <= index:
                    samples.append([])
                if len(samples[index]) < SAMPLES and text not in samples[index]:
                    samples[index].append(text)
    except (FileError, ColumnError, ConfigError) as exc:
        raise UploadError(exc.code, str(exc).replace(str(path), "the file")) from None
    titles = {title: name for name, title in field_choices(doctype)}
    width = max([len(table.header), *(i + 1 for i in filled)])
    found = []
    for index in range(width):
        header = table.header[index] if index < len(table.header) else ""
        letter = column_letter(index)
        auto = doctype.resolve_header(header) if header else None
        ruled = rules.target_of(header) if header else None
        if rules.skips(header, letter):
            chosen, how = SKIP, "skip"
        elif ruled is not None:
            chosen, how = _field_of(doctype, ruled) or "", "mapping"
        elif auto is not None:
            chosen, how = auto, "header"
        else:
            chosen, how = "", "none"
        guesses = [titles[t] for t in suggest(doctype, header) if t in titles] if header else []
        found.append(
            {
                "index": index,
                "letter": letter,
                "header": header,
                "label": header or f"{COLUMN_WORD}{letter}",
                "samples": samples[index] if index < len(samples) else [],
                "has_values": index in filled,
                "chosen": chosen,
                "how": how,
                "auto": auto or "",
                "suggested": [g for g in guesses if g != chosen],
            }
        )
    return found


def _field_of(doctype: DocType, target: str) -> str | None:
    return target if target in doctype.fields else doctype.resolve_header(target)


def apply_columns(
    doctype: DocType, columns: list[dict[str, Any]], form: dict[str, str], data: dict[str, Any]
) -> dict[str, Any]:
    """The mapping ``data`` with the columns page's choices (``form``:
    ``col-N`` → a field, :data:`SKIP` or ""): a column mapped as its header
    already says needs no line; one mapped otherwise gets a [columns] line,
    one left out a skip. A column mapped to nothing stays so: the check says
    so if it holds values."""
    known = {name for name, _ in field_choices(doctype)}
    mapped: dict[str, str] = {}
    skip: list[str] = []
    for col in columns:
        choice = form.get(f"col-{col['index']}", col["chosen"])
        header = col["header"]
        if choice == SKIP:
            skip.append(header or col["label"])
        elif not choice:
            continue
        elif not header:
            raise UploadError(
                "bad-mapping",
                f"Column {col['letter']} has no header: give it one in the file, or skip it.",
            )
        elif choice not in known and choice != col["auto"]:
            raise UploadError("bad-mapping", f"{choice!r} is not a field of {doctype.title}.")
        elif choice != col["auto"]:
            title = doctype.fields[choice].title if choice in doctype.fields else choice
            mapped[header] = title if doctype.resolve_header(title) == choice else choice
    out = {k: v for k, v in data.items() if k not in ("columns", "skip")}
    out["skip"] = skip
    out["columns"] = mapped
    return out


# -------------------------------------------------------------- edit


def current_value(path: Path, sheet: str, row: int, col: int) -> str:
    """The text of the cell (row from 1, column from 0) as the reader
    gives it now."""
    top = top_of(path, sheet or None) if row <= PREVIEW_ROWS else _grid_to(path, sheet, row)
    if row > len(top.rows):
        return ""
    cells = top.rows[row - 1]
    return cell_text(cells[col]) if col < len(cells) else ""


def _grid_to(path: Path, sheet: str, row: int) -> Preview:
    try:
        return preview(path, sheet=sheet or None, rows=row)
    except (FileError, ConfigError) as exc:
        raise UploadError(exc.code, str(exc).replace(str(path), "the file")) from None


def edit_cell(source: Path, dest: Path, sheet: str, row: int, col: int, old: str, new: str) -> None:
    """Write ``new`` into the cell (row from 1, column from 0) of a copy of
    ``source`` at ``dest``, when the cell still holds ``old``; an xlsx
    keeps its other cells as they were (openpyxl), a csv file is written
    in its own encoding and delimiter. A cell that holds something else
    now (changed in another tab) is refused, never overwritten."""
    _editable(source, new)
    now = current_value(source, sheet, row, col)
    if now != old:
        raise UploadError(
            "stale-edit",
            f"The cell was changed since the page was shown: it holds {now!r} now, not "
            f"{old!r}. Nothing was written; look at it again and edit it anew.",
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    try:
        if source.suffix.lower() == ".csv":
            partial.write_bytes(_csv_with(source, row, col, new))
        else:
            _xlsx_with(source, partial, sheet, row, col, new)
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)


#: Excel's longest cell, in characters.
EXCEL_CELL_MAX = 32_767
#: The most a workbook's sheets may unpack to for an edit in the page: the
#: workbook is loaded whole to write it back (openpyxl, about thirty times
#: the sheets' size in memory), which the reader never does.
EDIT_SHEETS_MAX = 16 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _editable(source: Path, new: str) -> None:
    """Refuse, saying why, a value no workbook can hold, and a workbook too
    large to be written back from the page."""
    if len(new) > EXCEL_CELL_MAX:
        raise UploadError(
            "value-too-long",
            f"A cell holds at most {EXCEL_CELL_MAX} characters; this value has {len(new)}.",
        )
    if _CONTROL.search(new):
        raise UploadError(
            "control-character",
            "The value holds a control character, which no spreadsheet cell can: type it again.",
        )
    if source.suffix.lower() == ".csv":
        return
    with zipfile.ZipFile(source) as book:
        size = sum(i.file_size for i in book.infolist() if i.filename.startswith("xl/worksheets/"))
    if size > EDIT_SHEETS_MAX:
        raise UploadError(
            "too-large-to-edit",
            f"This workbook is too large to be changed in the page (its sheets unpack to "
            f"{size // (1024 * 1024)} MB; the page changes workbooks up to "
            f"{EDIT_SHEETS_MAX // (1024 * 1024)} MB): fix the cell in Excel or in the fix-me "
            "workbook, and upload it again.",
        )


def _xlsx_with(source: Path, out: Path, sheet: str, row: int, col: int, new: str) -> None:
    from openpyxl import load_workbook

    book = load_workbook(source)
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        cell = ws.cell(row=row, column=col + 1)
        cell.value = new if new != "" else None
        if isinstance(cell.value, str):
            cell.data_type = "s"  # text, never a formula, whatever it says
        book.save(out)
    finally:
        book.close()


_ENCODINGS = ("utf-8", "cp1252", "latin-1", "cp1250", "cp1257", "cp1254")
_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _csv_with(source: Path, row: int, col: int, new: str) -> bytes:
    """The csv file's bytes with one cell changed: the same encoding (and
    mark), delimiter and line ends; a file whose bytes no one encoding
    gives back is refused rather than written in another."""
    raw = source.read_bytes()
    try:
        text, _ = decode(source, raw)
    except FileError as exc:
        raise UploadError(exc.code, str(exc).replace(str(source), "the file")) from None
    text = text.removeprefix("\ufeff")
    mark, body, codec = b"", raw, ""
    for bom, name in _MARKS:
        if raw.startswith(bom):
            mark, body, codec = bom, raw[len(bom) :], name
            break
    candidates = (codec,) if codec else _ENCODINGS
    codec = next((c for c in candidates if _decodes(body, c) == text), "")
    if not codec:
        raise UploadError(
            "cannot-edit",
            "This csv file mixes encodings, so it cannot be written back as it was: fix the "
            "cell in the file (or in the fix-me workbook) and upload it again.",
        )
    delimiter, spaced = sniff_dialect(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=spaced)
    grid = list(reader)
    while len(grid) < row:
        grid.append([])
    cells = grid[row - 1]
    cells.extend([""] * (col + 1 - len(cells)))
    cells[col] = new
    ending = "\r\n" if "\r\n" in text else "\n"
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=ending).writerows(grid)
    written = out.getvalue()
    if not text.endswith(("\n", "\r")):
        written = written.removesuffix(ending)
    return mark + written.encode(codec)


def _decodes(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except UnicodeDecodeError:
        return None
