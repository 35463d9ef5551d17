"""Check stage: read → map → validate → group, in one call.

:func:`check` takes a source (a path, an uploaded file, a DataFrame or a
:class:`~importer.sources.files.Table`) and a document type and returns a
:class:`Batch`: its documents and every problem of every row.
:func:`validation_report` gives one result per input row. Nothing here
prints, exits or changes process-wide state unless the caller asks.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from importer.doctypes import DocType
from importer.group import (
    Document,
    Grouping,
    group_rows,
    hold_back,
    join_rows,
    split_total_row,
)
from importer.issues import RowIssue
from importer.mapping import ColumnMap, MappedRow, map_table
from importer.mapping.columns import join_column_maps, sheet_fields
from importer.mapping.dates import order_for_locale
from importer.mapping.numbers import decimal_for_locale
from importer.mapping.rules import Rules, load_rules
from importer.report import BatchReport, RowResult
from importer.sources import open_sheet, open_table, sheet_headers_of
from importer.sources.files import Table, hold_native_stderr
from importer.validate import validate_joined, validate_rows

__all__ = ["Batch", "check", "gc_paused", "validation_report"]


@dataclass(slots=True)
class Batch:
    """A checked file: its documents, and every row with its problems."""

    doctype: DocType
    table: Table
    colmap: ColumnMap
    rows: list[MappedRow]
    grouping: Grouping
    started: float
    lines_table: Table | None = None  # the lines sheet, when the header sheet is ``table``
    # Fields the documents carry beyond the file's columns (x-carry-key).
    carried: frozenset[str] = frozenset()
    rules: Rules | None = None  # the user's mapping, with what each rule changed

    @property
    def tables(self) -> list[Table]:
        return [self.table] if self.lines_table is None else [self.table, self.lines_table]

    @property
    def documents(self) -> list[Document]:
        return self.grouping.documents

    @property
    def valid_documents(self) -> list[Document]:
        return [d for d in self.grouping.documents if d.valid]

    @property
    def warnings(self) -> list[RowIssue]:
        return self.colmap.warnings

    @property
    def source(self) -> str:
        """The input's name as the user knows it (a path, an upload's name)."""
        return self.table.name


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run a batch without the cyclic garbage collector, for a process that
    does nothing else (the CLI turns it on; a library caller may).

    A batch allocates a few objects per cell and keeps them all, which makes
    the collector re-scan everything over and over (a third of the run time
    for 100,000 rows), while the pipeline creates no reference cycles to
    collect. At the end the survivors are frozen (moved out of the
    collector's sight) rather than scanned once more when it is re-enabled.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def check(
    source: Any,
    doctype: DocType,
    *,
    sheet: str | None = None,
    locale: str | None = None,
    mapping: Rules | str | Path | None = None,
    skip: Iterable[str] = (),
    encoding: str | None = None,
    pause_gc: bool = False,
    hold_stderr: bool = False,
) -> Batch:
    """Read, map, validate and group ``source`` as documents of ``doctype``.

    ``source`` is a path, a binary file object, a pandas DataFrame or a
    :class:`Table` (see :func:`importer.sources.open_table`). ``locale``
    (``nb_NO``, ``en_GB`` ...) says how numbers and dates are written; without
    it each column's values decide. ``mapping`` is a mapping file (or its
    :class:`~importer.mapping.rules.Rules`): headers to fields, columns to
    skip, constants and value maps; ``skip`` leaves more columns out by
    header (or ``"column H"``). A column that holds values and maps to no
    field stops the file: nothing is dropped. ``encoding`` forces a text
    file's encoding. Row problems are in the batch; a file
    that cannot be used at all raises :class:`~importer.errors.VnimportError`
    (``FileError``, ``ColumnError``). ``pause_gc`` runs without the cyclic
    garbage collector (see :func:`gc_paused`); ``hold_stderr`` keeps the
    native reader's own crash report off the process's stderr (the error
    raised says what happened): both change process-wide state, so they are
    off unless a front door that owns the process turns them on.
    """
    started = time.perf_counter()
    rules = mapping if isinstance(mapping, Rules) else load_rules(mapping, skip)
    if isinstance(mapping, Rules) and skip:
        rules = replace(mapping, skip=[*mapping.skip, *skip])
    decimal = decimal_for_locale(locale) if locale else None
    order = order_for_locale(locale) if locale else None
    with gc_paused() if pause_gc else nullcontext(), hold_native_stderr(hold_stderr):
        table = (
            source
            if isinstance(source, Table)
            else open_table(
                source,
                sheet=sheet if sheet is not None else rules.sheet if rules else None,
                is_header=doctype.looks_like_header,
                encoding=encoding,
                header_row=rules.header_row if rules else None,
            )
        )
        pair = _sheet_pair(table, doctype)
        if pair is not None:
            return _check_joined(
                doctype, *pair, decimal=decimal, order=order, started=started, rules=rules,
                locale=locale,
            )  # fmt: skip
        mapped = map_table(table, doctype, decimal=decimal, order=order, rules=rules, locale=locale)
        rows, total = split_total_row(doctype, mapped.colmap, mapped.rows)
        grouping = group_rows(doctype, mapped.colmap, rows)  # fills header cells down
        validate_rows(doctype, mapped.colmap, rows, grouping)
        if total is not None and total.issues:  # a total that disagrees: on its own row
            grouping.ungrouped.append(total)
            rows = [*rows, total]
        hold_back(grouping)
        carried = _carry_keys(doctype, grouping)
        return Batch(
            doctype,
            table,
            mapped.colmap,
            rows,
            grouping,
            started,
            carried=carried,
            rules=rules,
        )


def _sheet_pair(table: Table, doctype: DocType) -> tuple[Table, Table, str] | None:
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
    headers = sheet_headers_of(table, table.other_sheets, is_header=doctype.looks_like_header)
    for name, header in headers.items():
        others = sheet_fields(header, doctype)
        key = next((k for k in doctype.key_fields if k in fields and k in others), None)
        other_lines = any(doctype.is_line_field(f) for f in others)
        if key is None or other_lines == has_lines:
            continue
        if not has_lines or all(f in others for f in head_missing):
            other = open_sheet(table, name, is_header=doctype.looks_like_header)
            return (table, other, key) if not has_lines else (other, table, key)
    return None


def _check_joined(
    doctype: DocType,
    head_table: Table,
    lines_table: Table,
    key_field: str,
    *,
    decimal: str | None,
    order: str | None,
    started: float,
    rules: Rules | None = None,
    locale: str | None = None,
) -> Batch:
    head, lines = (
        map_table(
            t,
            doctype,
            decimal=decimal,
            order=order,
            check_required=False,
            rules=rules,
            locale=locale,
        )
        for t in (head_table, lines_table)
    )
    colmap = join_column_maps(
        doctype, head_table, head.colmap, lines_table, lines.colmap, key_field
    )
    grouping = join_rows(doctype, colmap, head.rows, lines.rows, key_field)
    validate_joined(doctype, colmap, grouping, head.colmap, key_field)
    hold_back(grouping)
    carried = _carry_keys(doctype, grouping)
    return Batch(
        doctype,
        head_table,
        colmap,
        head.rows + lines.rows,
        grouping,
        started,
        lines_table,
        carried=carried,
        rules=rules,
    )


def _carry_keys(doctype: DocType, grouping: Grouping) -> frozenset[str]:
    """A document grouped by a key Visma knows nothing of (a ``Document
    ID``) carries it in the type's searchable field (``x-carry-key``) when
    the file leaves that empty, so that it can be found again in Visma
    (after an unanswered create, or by a run without the journal)."""
    carry = doctype.carry_key
    if (
        not carry
        or not grouping.key_field
        or grouping.key_field in doctype.schema.get("x-find", {})
        or grouping.key_field == doctype.schema.get("x-number")
    ):
        return frozenset()
    used = False
    for doc in grouping.documents:
        if doc.valid and doc.header.get(carry) in (None, ""):
            doc.rows[0].values[carry] = doc.key
            used = True
    return frozenset({carry}) if used else frozenset()


def validation_report(batch: Batch) -> BatchReport:
    """One result per input row: ``valid`` or ``invalid`` with its issues."""
    results = []
    for doc in batch.documents:
        for row in doc.rows:
            results.append(
                RowResult(row.number, row.sheet, doc.key, _status(row), row.issues, cells=row.cells)
            )
    for row in batch.grouping.ungrouped:
        results.append(
            RowResult(row.number, row.sheet, "", _status(row), row.issues, cells=row.cells)
        )
    results.sort(key=lambda r: (r.sheet, r.row))
    report = BatchReport(
        source=batch.source,
        doctype=batch.doctype.name,
        results=results,
        file_issues=list(batch.warnings),
        documents=len(batch.documents),
        duration_s=time.perf_counter() - batch.started,
        input_headers={t.sheet: list(t.header) for t in batch.tables},
        input_paths=[str(batch.table.path)],
    )
    if batch.rules is not None:  # which mapping rule changed how many cells
        report.extra["mapping"] = {"file": batch.rules.source, **dict(batch.rules.applied)}
    return report


def _status(row: MappedRow) -> str:
    if row.issues and any(i.severity == "error" for i in row.issues):
        return "invalid"
    return "valid"
