"""The runner joins the stages: read → map → validate → group → render.

:func:`prepare` does everything up to the documents; :func:`preview_records`
renders them as the requests that would be sent; :func:`validation_report`
gives one result per input row. Nothing here prints or exits.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importer.doctypes import DocType
from importer.errors import FileError
from importer.group import Document, Grouping, all_rows, group_rows
from importer.issues import RowIssue
from importer.mapping import ColumnMap, MappedRow, build_column_map, map_rows
from importer.read import Table, read_table
from importer.render import Body, render_body
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


def prepare(path: str | Path, doctype: DocType, *, sheet: str | None = None) -> Prepared:
    """Read, map, validate and group a file. Raises only :class:`VnimportError`."""
    started = time.perf_counter()
    table = read_table(path, sheet=sheet)
    colmap = build_column_map(table, doctype)
    validator = RowValidator(doctype, colmap)
    rows: list[MappedRow] = []
    for row in map_rows(table.rows, colmap):
        validator.validate(row)
        rows.append(row)
    if not rows:
        where = f"sheet {table.sheet!r} of {table.path}" if table.sheet else str(table.path)
        raise FileError(f"{where}: there are no data rows below the header")
    grouping = group_rows(doctype, colmap, rows)
    return Prepared(doctype, table, colmap, rows, grouping, started)


def render_document(doctype: DocType, doc: Document) -> Body:
    fields = doctype.build_fields(doc.header, doc.lines)
    return render_body(doctype.template, {"doc": fields}, name=str(doctype.template_path))


def preview_record(doctype: DocType, doc: Document) -> dict[str, Any]:
    method, path = doctype.endpoint("create")
    return {
        "type": doctype.name,
        "key": doc.key,
        "rows": doc.row_numbers,
        "method": method,
        "path": path,
        "body": render_document(doctype, doc),
    }


def preview_records(prepared: Prepared) -> Iterator[dict[str, Any]]:
    """The request for every document whose rows are all valid, in file order."""
    for doc in prepared.documents:
        if doc.valid:
            yield preview_record(prepared.doctype, doc)


def validation_report(prepared: Prepared) -> BatchReport:
    key_of: dict[int, str] = {}
    for doc in prepared.documents:
        for r in doc.rows:
            key_of[id(r)] = doc.key
    results = []
    for row in all_rows(prepared.grouping):
        bad = any(i.severity == "error" for i in row.issues)
        results.append(
            RowResult(
                row.number,
                row.sheet,
                key_of.get(id(row), ""),
                "invalid" if bad else "valid",
                list(row.issues),
            )
        )
    results.sort(key=lambda r: (r.sheet, r.row))
    return BatchReport(
        source=str(prepared.table.path),
        doctype=prepared.doctype.name,
        results=results,
        file_issues=list(prepared.warnings),
        documents=len(prepared.documents),
        duration_s=time.perf_counter() - prepared.started,
    )
