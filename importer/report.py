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
    paths = report_paths(path)
    paths["xlsx"].parent.mkdir(parents=True, exist_ok=True)
    write_xlsx(report, paths["xlsx"])
    write_csv(report, paths["csv"])
    write_json(report, paths["json"])
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


def write_xlsx(report: BatchReport, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Result")
    bold = Font(bold=True)
    head = []
    for c in COLUMNS:
        cell = WriteOnlyCell(ws, value=c)
        cell.font = bold
        head.append(cell)
    ws.append(head)
    for rec in _records(report):
        row = []
        for c in COLUMNS:
            cell = WriteOnlyCell(ws, value=rec[c])
            if isinstance(rec[c], str):
                cell.data_type = "s"  # never a formula, whatever the text says
            row.append(cell)
        ws.append(row)
    if report.file_issues:
        ws2 = wb.create_sheet("Warnings")
        ws2.append(["row", "column", "code", "message"])
        for i in report.file_issues:
            cells = []
            for v in (i.row, i.column, i.code, i.message):
                cell = WriteOnlyCell(ws2, value=v)
                if isinstance(v, str):
                    cell.data_type = "s"
                cells.append(cell)
            ws2.append(cells)
    wb.save(path)


def write_json(report: BatchReport, path: Path) -> None:
    path.write_text(
        json.dumps(report.summary(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
