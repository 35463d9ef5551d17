"""An upload, checked: the bytes kept under a generated name outside the web
root, the document type suggested from the headers, and what
:func:`importer.check` found, kept as a summary the pages and the API show
(counts by problem, and the rows with problems, each cell with its
messages) beside the check's own report and fix-me workbook.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from importer.batch import check, validation_report
from importer.codes import render_issue, title
from importer.doctypes import Registry
from importer.errors import AuthError, ColumnError, ConfigError, FileError, VismaError
from importer.issues import RowIssue
from importer.report import write_report
from importer.settings import Connection
from importer.sources import open_table
from importer.web.files import Files
from importer.web.i18n import LANGUAGES
from importer.web.store import BatchRecord, EditStore, Store

__all__ = [
    "SUFFIXES",
    "Company",
    "cell_text",
    "check_upload",
    "looks_like",
    "run_input",
    "source_path",
    "suggest_type",
]

SUFFIXES = (".xlsx", ".csv")
SHOWN_ROWS = 500  # rows with problems kept for the page; the fix-me workbook has them all
_ZIP = b"PK\x03\x04"


class UploadError(Exception):
    """A file the app will not take: said on the page and in the API."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def looks_like(name: str, head: bytes) -> str:
    """The upload's suffix when its name and first bytes agree on a
    spreadsheet; else :class:`UploadError`. The Content-Type is not asked."""
    suffix = Path(name).suffix.lower()
    if suffix in (".xls", ".xlsm", ".xlsb", ".ods"):
        raise UploadError(
            "not-a-spreadsheet",
            f"{name} is not an .xlsx workbook: open it in Excel, save it as .xlsx "
            "(Excel Workbook) and upload it again",
        )
    if suffix not in SUFFIXES:
        raise UploadError(
            "not-a-spreadsheet",
            f"{name or 'the file'} is not an .xlsx workbook or a .csv file",
        )
    if suffix == ".xlsx" and not head.startswith(_ZIP):
        raise UploadError("not-a-spreadsheet", f"{name} is not an Excel workbook (.xlsx) inside")
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if suffix == ".csv" and b"\x00" in head[:8192] and not utf16:
        raise UploadError("not-a-spreadsheet", f"{name} is not a text (.csv) file inside")
    return suffix


def save_upload(stream: IO[bytes], name: str, dest: Path) -> None:
    """Copy the upload to ``dest`` (its generated name), checking what it is."""
    head = stream.read(8192)
    looks_like(name, head)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as out:
        out.write(head)
        shutil.copyfileobj(stream, out)


def suggest_type(path: Path, registry: Registry) -> str:
    """The type whose columns the file's headers name most (then the one with
    most of its required columns there); empty when no header is known."""
    try:
        headers = open_table(path).header
    except (FileError, ColumnError, OSError):
        return ""
    best: tuple[int, int, str] = (0, 0, "")
    for name in registry.names():
        doctype = registry.get(name)
        fields = {f for h in headers if (f := doctype.resolve_header(str(h)))}
        score = (len(fields), len(fields & set(doctype.required)), name)
        if score[:2] > best[:2]:
            best = score
    return best[2]


def source_path(files: Files, batch: BatchRecord) -> Path:
    """This machine's copy of the file the batch's check and run read: the
    edited copy once a cell was edited, else the upload (a path that is
    not there when the clean-up deleted it)."""
    from importer.web.kept import edited_key, upload_key

    return (
        files.local_path(edited_key(batch))
        or files.local_path(upload_key(batch))
        or files.local / upload_key(batch)
    )


def run_input(
    files: Files, store: Store, batch: BatchRecord
) -> tuple[Path, tuple[dict[str, Any], ...]]:
    """What a run of ``batch`` reads, and the edits that go with it into its report."""
    return source_path(files, batch), tuple(EditStore(store).of_batch(batch.id))


@dataclass(frozen=True)
class Company:
    """The company a check is also made against (the preflight): the
    target's name, its connection, and where its lists are kept."""

    name: str
    connection: Connection
    cache: Path | None
    max_age: float


def check_upload(
    path: Path,
    doctype_name: str,
    registry: Registry,
    out: Path,
    mapping: Path | None = None,
    company: Company | None = None,
    *,
    name: str = "",
) -> dict[str, Any]:
    """Check the stored file as ``doctype_name``, and against ``company``
    when given (``vnimport validate --preflight``); write the check's report
    (``out``.xlsx/.csv/.json and .fixme.xlsx) and return the summary kept
    with the batch. ``name``: the file as the user knows it, for the report
    and the messages (never where it is kept). A file that cannot be
    checked at all raises :class:`UploadError`."""
    from importer.mapping.rules import load_rules
    from importer.web.kept import mapping_name

    try:
        doctype = registry.get(doctype_name)
        shown = mapping_name(name) if name else None
        rules = load_rules(mapping, name=shown) if mapping is not None else None
        batch = check(path, doctype, mapping=rules)
        if name:
            batch.table.display_name = name
    except (FileError, ColumnError, ConfigError) as exc:
        raise UploadError(exc.code, str(exc).replace(str(path), "the file")) from None
    against: dict[str, Any] | None = None
    if company is not None:
        against = _preflight(batch, company)
    report = validation_report(batch)
    if against is not None and "calls" in against:
        report.extra["preflight"] = against
    paths = write_report(report, out)
    headers = report.input_headers
    problems: list[dict[str, Any]] = []
    shown_rows = [r for r in report.results if r.status != "valid" or r.issues]
    bad_rows = [r for r in shown_rows if r.status != "valid" or r.errors]
    for r in shown_rows[:SHOWN_ROWS]:
        header = headers.get(r.sheet) or next(iter(headers.values()), [])
        marks: dict[int, list[dict[str, str]]] = {}
        other: list[dict[str, str]] = []
        for issue in r.issues:
            where = _column_index(header, issue.column)
            if where is None:
                other.append(said(issue, f"{issue.column}: " if issue.column else ""))
            else:
                marks.setdefault(where, []).append(said(issue))
        width = max(len(header), len(r.cells))
        cells = [
            {
                "value": _text(r.cells[i] if i < len(r.cells) else ""),
                "messages": marks.get(i, []),
                # only an error asks for a new value; a warning or a note is read
                "error": any(m["severity"] == "error" for m in marks.get(i, [])),
            }
            for i in range(width)
        ]
        problems.append(
            {
                "row": r.row,
                "sheet": r.sheet,
                "key": r.key,
                "status": r.status,
                "cells": cells,
                "other": other,
                "error": r.status != "valid" or bool(r.errors),
            }
        )
    summary = report.summary()
    return {
        "type": doctype.name,
        "rows": len(report.results),
        "documents": report.documents,
        "valid_documents": len(batch.valid_documents),
        "counts": report.counts(),
        "reasons": [
            {**r, "titles": {lang: title(r["code"], lang) for lang in LANGUAGES}}
            for r in summary["reasons"]
        ],
        "warnings": [said(i) for i in report.file_issues],
        "headers": headers,
        "problems": problems,
        "problem_rows": len(bad_rows),
        "issues": summary["issues"][:20],
        "fixme": "fixme" in paths,
        "read": {"sheet": batch.table.sheet, "header_row": batch.table.header_row},
        **({"preflight": against} if against is not None else {}),
    }


#: Issues that are information, not a problem: said as such, never to edit.
NOTES = ("already-in-visma",)


def said(issue: RowIssue, prefix: str = "") -> dict[str, str]:
    """An issue's message in each language of the pages, for the page to
    show in its reader's (:func:`importer.web.i18n.said`), with its
    ``severity`` (``error``, ``warning``, or ``note``: information, such as
    a document already in Visma, which is not sent again), its ``code``
    and, for a document in Visma, its ``number`` there."""
    severity = "note" if issue.code in NOTES else issue.severity
    found: dict[str, str] = {lang: prefix + render_issue(issue, lang) for lang in LANGUAGES}
    found.update(severity=severity, code=issue.code)
    if issue.code == "already-in-visma":
        found["number"] = str(dict(issue.params).get("number", ""))
    return found


def _preflight(batch: Any, company: Company) -> dict[str, Any]:
    """The batch checked against the company, its problems added to the
    rows; what it did, or why it could not (``error``: Visma not reached,
    the credentials refused, a target not set up)."""
    from importer.company_checks import preflight

    try:
        result = preflight(
            batch,
            company.connection,
            cache=company.cache,
            max_age=company.max_age,
            existing=True,
            journal=None,
            warn_existing=True,
        )
    except (VismaError, AuthError, ConfigError) as exc:
        return {"target": company.name, "error": {"code": exc.code, "message": str(exc)}}
    return {**result.summary(), "target": company.name}


def _column_index(header: list[str], column: str) -> int | None:
    if column in header:
        return header.index(column)
    if column.startswith("column ") and column[7:].isalpha():  # "column H"
        index = 0
        for ch in column[7:].upper():
            index = index * 26 + ord(ch) - 64
        return index - 1
    return None


def cell_text(value: Any) -> str:
    """A cell as the pages show it (and as an edit must find it): a whole
    number without ``.0``, a date without a time of midnight."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return str(value)


_text = cell_text
