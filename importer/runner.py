"""The runner joins the stages: read → map → validate → group → render.

:func:`prepare` does everything up to the documents; :func:`preview_records`
renders them as the requests that would be sent; :func:`validation_report`
gives one result per input row; :mod:`importer.batch` sends the documents.
Nothing here prints or exits.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any

from importer.dates import order_for_locale
from importer.doctypes import DocType
from importer.errors import FileError
from importer.group import Document, Grouping, group_rows, hold_back
from importer.issues import RowIssue
from importer.mapping import (
    ColumnMap,
    MappedRow,
    build_column_map,
    decide_date_orders,
    decide_number_formats,
    map_rows,
    warn_bare_codes,
)
from importer.numbers import decimal_for_locale
from importer.read import Row, Table, read_table
from importer.report import BatchReport, RowResult
from importer.validate import RowValidator


@dataclass(slots=True)
class Prepared:
    doctype: DocType
    table: Table
    colmap: ColumnMap
    rows: list[MappedRow]
    grouping: Grouping
    started: float

    @property
    def documents(self) -> list[Document]:
        return self.grouping.documents

    @property
    def warnings(self) -> list[RowIssue]:
        return self.colmap.warnings


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run a batch without the cyclic garbage collector.

    A batch allocates a few objects per cell and keeps them all, which makes
    the collector re-scan everything over and over (a third of the run time
    for 100,000 rows), while the pipeline creates no reference cycles to
    collect (measured: a few hundred objects for a whole file). Reference
    counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def prepare(
    path: str | Path, doctype: DocType, *, sheet: str | None = None, locale: str | None = None
) -> Prepared:
    """Read, map, validate and group a file. Raises only :class:`VnimportError`.

    ``locale`` (``nb_NO``, ``en_GB`` ...) says how numbers are written; without
    it each number column's values decide (see :mod:`importer.numbers`)."""
    started = time.perf_counter()
    decimal = decimal_for_locale(locale) if locale else None
    order = order_for_locale(locale) if locale else None
    with gc_paused():
        table = read_table(path, sheet=sheet, is_header=doctype.looks_like_header)
        colmap = build_column_map(table, doctype)
        raw = list(table.rows)
        decide_number_formats(raw, colmap, decimal)
        decide_date_orders(raw, colmap, order)
        return prepare_rows(doctype, table, colmap, raw, started=started)


def prepare_rows(
    doctype: DocType,
    table: Table,
    colmap: ColumnMap,
    raw_rows: Iterable[Row],
    *,
    started: float,
    key_field: str | None = None,
) -> Prepared:
    """Map, group and validate rows already read (all of a file's, or a
    part of them with the file's ``key_field``)."""
    rows: list[MappedRow] = list(map_rows(raw_rows, colmap))
    if not rows and key_field is None:
        where = f"sheet {table.sheet!r} of {table.path}" if table.sheet else str(table.path)
        raise FileError(f"{where}: there are no data rows below the header")
    if table.sheet:  # a workbook: csv cells are all text
        warn_bare_codes(rows, colmap, doctype)
    grouping = group_rows(doctype, colmap, rows, key_field)  # fills header cells down first
    validator = RowValidator(doctype, colmap)
    for row in rows:
        validator.validate(row)
    hold_back(grouping)
    return Prepared(doctype, table, colmap, rows, grouping, started)


def render_text(prepared: Prepared, doc: Document) -> str:
    """The document's request body as compact JSON text."""
    render = prepared.doctype.renderer(prepared.colmap.columns_set)
    return render(doc.header, doc.lines)


def preview_pairs(prepared: Prepared) -> Iterator[tuple[int, str]]:
    """``(first row, JSON line)`` per valid document, in file order, in
    DESIGN.md's preview format, built around the rendered body text without
    parsing it again."""
    doctype = prepared.doctype
    method, path = doctype.endpoint("create")
    head = '{"type":' + json.dumps(doctype.name) + ',"key":'
    tail = ',"method":' + json.dumps(method) + ',"path":' + json.dumps(path) + ',"body":'
    render = doctype.renderer(prepared.colmap.columns_set)
    for doc in prepared.documents:
        if doc.valid:
            body = render(doc.header, doc.lines)
            key = encode_basestring(doc.key)
            rows = ",".join(map(str, doc.row_numbers))
            yield doc.rows[0].number, f'{head}{key},"rows":[{rows}]{tail}{body}}}'


def preview_lines(prepared: Prepared) -> Iterator[str]:
    for _, line in preview_pairs(prepared):
        yield line


def preview_records(prepared: Prepared) -> Iterator[dict[str, Any]]:
    """The request for every document whose rows are all valid, as values."""
    for line in preview_lines(prepared):
        yield json.loads(line)


def validation_report(prepared: Prepared) -> BatchReport:
    results = []
    for doc in prepared.documents:
        for row in doc.rows:
            results.append(
                RowResult(row.number, row.sheet, doc.key, _status(row), row.issues, cells=row.cells)
            )
    for row in prepared.grouping.ungrouped:
        results.append(
            RowResult(row.number, row.sheet, "", _status(row), row.issues, cells=row.cells)
        )
    results.sort(key=lambda r: (r.sheet, r.row))
    return BatchReport(
        source=str(prepared.table.path),
        doctype=prepared.doctype.name,
        results=results,
        file_issues=list(prepared.warnings),
        documents=len(prepared.documents),
        duration_s=time.perf_counter() - prepared.started,
        input_header=list(prepared.table.header),
    )


def _status(row: MappedRow) -> str:
    if row.issues and any(i.severity == "error" for i in row.issues):
        return "invalid"
    return "valid"


def preview_file(
    path: str | Path,
    doctype: DocType,
    out: IO[str],
    *,
    sheet: str | None = None,
    locale: str | None = None,
) -> tuple[BatchReport, int]:
    """``vnimport preview``: write one request per valid document to ``out``;
    return the row report and the number of requests written."""
    with gc_paused():
        prepared = prepare(path, doctype, sheet=sheet, locale=locale)
        written = 0
        for line in preview_lines(prepared):
            out.write(line)
            out.write("\n")
            written += 1
        return validation_report(prepared), written
