"""Report stage: one result per input row, as a value and as files.

:class:`BatchReport` is what the tests check; the writers turn the same
object into xlsx, csv and a JSON summary. A cell that starts with ``=``,
``+``, ``-`` or ``@`` is written as text so that a spreadsheet never runs a
value from the input as a formula.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.issues import RowIssue

STATUSES = ("valid", "invalid", "created", "updated", "unchanged", "failed", "skipped")
COLUMNS = ("row", "sheet", "key", "status", "number", "http_status", "columns", "codes", "message")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(slots=True)
class RowResult:
    row: int
    sheet: str
    key: str
    status: str
    issues: list[RowIssue] = field(default_factory=list)
    number: str = ""
    http_status: int | None = None
    message: str = ""
    cells: list[Any] = field(default_factory=list)  # the input row as read

    @property
    def errors(self) -> list[RowIssue]:
        return [i for i in self.issues if i.severity == "error"]

    def as_record(self) -> dict[str, Any]:
        issues = self.issues
        text = self.message or "; ".join(
            (f"{i.column}: " if i.column else "") + i.message for i in issues
        )
        return {
            "row": self.row,
            "sheet": self.sheet,
            "key": self.key,
            "status": self.status,
            "number": self.number,
            "http_status": self.http_status if self.http_status is not None else "",
            "columns": "; ".join(dict.fromkeys(i.column for i in issues if i.column)),
            "codes": "; ".join(dict.fromkeys(i.code for i in issues)),
            "message": text,
        }


@dataclass(slots=True)
class BatchReport:
    source: str
    doctype: str
    results: list[RowResult]
    file_issues: list[RowIssue] = field(default_factory=list)
    documents: int = 0
    duration_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    # The input's own columns, per sheet ("" for a csv file); two sheets when
    # a document type was read from a header sheet and a lines sheet.
    input_headers: dict[str, list[str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        c = Counter(r.status for r in self.results)
        return {s: c[s] for s in STATUSES if c[s]}

    @property
    def ok(self) -> bool:
        """Every row is as the user wanted it: valid, or in Visma."""
        return all(r.status in ("valid", "created", "updated", "unchanged") for r in self.results)

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "type": self.doctype,
            "rows": len(self.results),
            "documents": self.documents,
            "counts": self.counts(),
            "ok": self.ok,
            "duration_s": round(self.duration_s, 3),
            "warnings": [_issue_dict(i) for i in self.file_issues],
            "issues": [
                {"row": r.row, "sheet": r.sheet, "key": r.key, **_issue_dict(i)}
                for r in self.results
                for i in r.issues
            ],
            **self.extra,
        }


def _issue_dict(i: RowIssue) -> dict[str, Any]:
    return {
        "column": i.column,
        "field": i.field,
        "code": i.code,
        "message": i.message,
        "severity": i.severity,
    }


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would take for a formula, made inert."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def report_paths(path: str | Path) -> dict[str, Path]:
    """``out/report.xlsx`` → the xlsx, csv and json files written beside it."""
    p = Path(path)
    stem = p.with_suffix("") if p.suffix.lower() in (".xlsx", ".csv", ".json") else p
    return {ext: stem.with_name(stem.name + f".{ext}") for ext in ("xlsx", "csv", "json")}


def write_report(report: BatchReport, path: str | Path) -> dict[str, Path]:
    """The xlsx, csv and json reports; and, when some documents failed or
    were invalid, the fix-me workbook (``PATH.fixme.xlsx``)."""
    paths = report_paths(path)
    paths["xlsx"].parent.mkdir(parents=True, exist_ok=True)
    write_xlsx(report, paths["xlsx"])
    write_csv(report, paths["csv"])
    write_json(report, paths["json"])
    fixme = paths["xlsx"].with_name(paths["xlsx"].name.replace(".xlsx", ".fixme.xlsx"))
    if write_fixme(report, fixme):
        paths["fixme"] = fixme
    else:
        fixme.unlink(missing_ok=True)  # an old one would ask to fix what is fixed
    return paths


def _records(report: BatchReport) -> Iterable[dict[str, Any]]:
    for r in sorted(report.results, key=lambda r: (r.sheet, r.row)):
        yield r.as_record()


def write_csv(report: BatchReport, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for rec in _records(report):
            w.writerow([safe_cell(rec[c]) for c in COLUMNS])


RESULT_COLUMNS = ("row", "status", "Visma number", "HTTP status", "message")
_NOT_DONE = ("failed", "invalid")


def write_xlsx(report: BatchReport, path: Path) -> None:
    """The input's own columns first, then the result; cells with a problem
    filled and commented with it. Text is always written as text."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    headers = report.input_headers
    if not headers:
        ws = wb.create_sheet("Result")
        ws.append(_bold_row(ws, list(COLUMNS)))
        for rec in _records(report):
            ws.append([_cell(ws, rec[c]) for c in COLUMNS])
    for sheet, header in headers.items():
        title = "Result" if len(headers) == 1 else f"{sheet[:24]} result"
        _write_results(wb.create_sheet(title), report, sheet, header)
    if report.file_issues:
        ws2 = wb.create_sheet("Warnings")
        ws2.append(_bold_row(ws2, ["sheet", "row", "column", "code", "message"]))
        for i in report.file_issues:
            ws2.append([_cell(ws2, v) for v in (i.sheet, i.row, i.column, i.code, i.message)])
    wb.save(path)


def _write_results(ws: Any, report: BatchReport, sheet: str, header: list[str]) -> None:
    ws.append(_bold_row(ws, [*header, *RESULT_COLUMNS]))
    for result in sorted(report.results, key=lambda r: r.row):
        if result.sheet != sheet:
            continue
        flagged: dict[str, list[str]] = {}
        for issue in result.issues:
            if issue.column:
                flagged.setdefault(issue.column, []).append(issue.message)
        cells = [_cell(ws, v) for v in _padded(result.cells, len(header))]
        for index, column in enumerate(header):
            if column in flagged:
                _flag(cells[index], flagged[column])
        rec = result.as_record()
        cells += [
            _cell(ws, v)
            for v in (result.row, result.status, result.number, rec["http_status"], rec["message"])
        ]
        ws.append(cells)


def write_fixme(report: BatchReport, path: Path) -> bool:
    """The rows of every document that failed or was invalid, in the input's
    own layout, to correct and import again. False when there are none."""
    from openpyxl import Workbook

    bad_keys = {r.key for r in report.results if r.status in _NOT_DONE and r.key}
    rows = [
        r
        for r in sorted(report.results, key=lambda r: (r.sheet, r.row))
        if r.status in _NOT_DONE or (r.key and r.key in bad_keys)
    ]
    if not rows or not report.input_headers:
        return False
    wb = Workbook(write_only=True)
    for sheet, header in report.input_headers.items():  # sheets as in the input
        ws = wb.create_sheet((sheet or "Rows")[:31])
        ws.append(_bold_row(ws, header))
        for result in rows:
            if result.sheet == sheet:
                ws.append([_cell(ws, v) for v in _padded(result.cells, len(header))])
    wb.save(path)
    return True


def _padded(cells: list[Any], width: int) -> list[Any]:
    values = [None if c == "" else c for c in cells[:width]]
    return values + [None] * (width - len(values))


def _cell(ws: Any, value: Any) -> Any:
    import datetime as dt

    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text says
    elif isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def _bold_row(ws: Any, values: list[str]) -> list[Any]:
    from openpyxl.styles import Font

    cells = [_cell(ws, v) for v in values]
    for cell in cells:
        cell.font = Font(bold=True)
    return cells


def _flag(cell: Any, messages: list[str]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    cell.fill = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
    cell.comment = Comment("\n".join(messages), "vnimport")


def write_json(report: BatchReport, path: Path) -> None:
    path.write_text(
        json.dumps(report.summary(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
