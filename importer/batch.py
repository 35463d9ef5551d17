"""The runner joins the stages: read → map → validate → group → render.

:func:`prepare` does everything up to the documents; :func:`preview_records`
renders them as the requests that would be sent; :func:`validation_report`
gives one result per input row; :mod:`importer.targets.visma` sends the documents.
Nothing here prints or exits.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any

from importer.doctypes import DocType
from importer.errors import FileError
from importer.group import Document, Grouping, group_rows, hold_back, join_rows
from importer.issues import RowIssue
from importer.mapping.columns import (
    ColumnMap,
    MappedRow,
    build_column_map,
    decide_date_orders,
    decide_number_formats,
    join_column_maps,
    map_rows,
    sheet_fields,
    warn_bare_codes,
)
from importer.mapping.dates import order_for_locale
from importer.mapping.numbers import decimal_for_locale
from importer.report import BatchReport, RowResult
from importer.sources.files import Row, Table, read_table, sheet_headers
from importer.validate import RowValidator


@dataclass(slots=True)
class Prepared:
    doctype: DocType
    table: Table
    colmap: ColumnMap
    rows: list[MappedRow]
    grouping: Grouping
    started: float
    lines_table: Table | None = None  # the lines sheet, when the header sheet is ``table``

    @property
    def tables(self) -> list[Table]:
        return [self.table] if self.lines_table is None else [self.table, self.lines_table]

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
    it each number column's values decide (see :mod:`importer.mapping.numbers`)."""
    started = time.perf_counter()
    decimal = decimal_for_locale(locale) if locale else None
    order = order_for_locale(locale) if locale else None
    with gc_paused():
        table = read_table(path, sheet=sheet, is_header=doctype.looks_like_header)
        pair = _sheet_pair(path, table, doctype)
        if pair is not None:
            return _prepare_joined(doctype, *pair, decimal=decimal, order=order, started=started)
        colmap = build_column_map(table, doctype)
        raw = _settled_rows(table, colmap, decimal, order)
        return prepare_rows(doctype, table, colmap, raw, started=started)


def _settled_rows(
    table: Table, colmap: ColumnMap, decimal: str | None, order: str | None
) -> list[Row]:
    """The table's rows, once its number and date columns know their formats."""
    raw = list(table.rows)
    decide_number_formats(raw, colmap, decimal)
    decide_date_orders(raw, colmap, order)
    return raw


def _no_rows(table: Table) -> FileError:
    where = f"sheet {table.sheet!r} of {table.path}" if table.sheet else str(table.path)
    return FileError(f"{where}: there are no data rows below the header")


def _sheet_pair(
    path: str | Path, table: Table, doctype: DocType
) -> tuple[Table, Table, str] | None:
    """(header sheet, lines sheet, key field) when the document type's
    header and lines are on two sheets of the workbook: ``table`` lacks the
    line columns (or the header's required columns) and another visible
    sheet has them, with a key column on both."""
    if doctype.lines is None or not table.other_sheets:
        return None
    fields = sheet_fields(table.header, doctype)
    has_lines = any(doctype.is_line_field(f) for f in fields)
    head_missing = [f for f in doctype.required if f not in fields]
    if has_lines and not head_missing:
        return None  # one sheet holds it all
    headers = sheet_headers(path, table.other_sheets, doctype.looks_like_header)
    for name, header in headers.items():
        others = sheet_fields(header, doctype)
        key = next((k for k in doctype.key_fields if k in fields and k in others), None)
        other_lines = any(doctype.is_line_field(f) for f in others)
        if key is None or other_lines == has_lines:
            continue
        if not has_lines or all(f in others for f in head_missing):
            other = read_table(path, sheet=name, is_header=doctype.looks_like_header)
            return (table, other, key) if not has_lines else (other, table, key)
    return None


def _prepare_joined(
    doctype: DocType,
    head_table: Table,
    lines_table: Table,
    key_field: str,
    *,
    decimal: str | None,
    order: str | None,
    started: float,
) -> Prepared:
    head_map = build_column_map(head_table, doctype, check_required=False)
    lines_map = build_column_map(lines_table, doctype, check_required=False)
    colmap = join_column_maps(doctype, head_table, head_map, lines_table, lines_map, key_field)
    parts: list[list[MappedRow]] = []
    for table, part in ((head_table, head_map), (lines_table, lines_map)):
        rows = list(map_rows(_settled_rows(table, part, decimal, order), part))
        if not rows:
            raise _no_rows(table)
        warn_bare_codes(rows, part, doctype)
        parts.append(rows)
    head_rows, line_rows = parts
    grouping = join_rows(doctype, colmap, head_rows, line_rows, key_field)
    validator = RowValidator(doctype, colmap)
    on_head = set(head_map.by_field) - {key_field}
    for doc in grouping.documents:
        head = doc.rows[0]
        if len(doc.rows) == 1:  # no lines (an error already): check the header's own cells
            validator.validate(head)
            head.issues[:] = [i for i in head.issues if not doctype.is_line_field(i.field)]
        for line in doc.rows[1:]:
            validator.validate(line)
            _move_issues(line, head, on_head, head_map)
    hold_back(grouping)
    return Prepared(
        doctype, head_table, colmap, head_rows + line_rows, grouping, started, lines_table
    )


def _move_issues(line: MappedRow, head: MappedRow, fields: set[str], head_map: ColumnMap) -> None:
    """A line row is validated with its document's header values; a problem
    with one of those belongs to the header sheet's row, said once."""
    moved = [i for i in line.issues if i.field in fields]
    if not moved:
        return
    line.issues[:] = [i for i in line.issues if i.field not in fields]
    known = {i.field for i in head.issues}
    for issue in moved:
        if issue.field not in known:
            known.add(issue.field)
            head.issues.append(
                replace(
                    issue,
                    row=head.number,
                    sheet=head.sheet,
                    column=head_map.header_for(issue.field),
                )
            )


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
        raise _no_rows(table)
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
        input_headers={t.sheet: list(t.header) for t in prepared.tables},
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
