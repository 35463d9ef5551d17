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

from importer.codes import STATUSES, exit_code, title
from importer.errors import ConfigError
from importer.issues import RowIssue

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
    code: str = ""  # why it was not sent as asked (importer.codes), beside the issues' own

    @property
    def errors(self) -> list[RowIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def codes(self) -> list[str]:
        """The row's problem codes: its errors', then the sending outcome's."""
        found = dict.fromkeys(i.code for i in self.errors if i.code != "document-invalid")
        if self.code:
            found[self.code] = None
        if not found and any(i.code == "document-invalid" for i in self.issues):
            found["document-invalid"] = None
        return list(found)

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
            "codes": "; ".join(
                dict.fromkeys(
                    [*(i.code for i in issues), self.code]
                    if self.code
                    else [i.code for i in issues]
                )
            ),
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
    # The files the run read: a report is never written over one of them.
    input_paths: list[str] = field(default_factory=list)
    # What stopped the whole run, when something did: (code, message).
    fatal: tuple[str, str] | None = None

    def counts(self) -> dict[str, int]:
        c = Counter(r.status for r in self.results)
        known = {s: c[s] for s in STATUSES if c[s]}
        return {**known, **{s: n for s, n in c.items() if s not in known}}

    def document_counts(self) -> dict[str, int]:
        """Documents by status: a document counts once, with its worst row's
        status (rows that belong to no document count as documents of their own)."""
        worst: dict[tuple[str, str, int], str] = {}
        order = list(STATUSES)
        for r in self.results:
            if not r.key and r.issues and all(i.code == "total-row" for i in r.issues):
                continue  # a sheet's total row is no document
            key = ("", r.key, 0) if r.key else (r.sheet, "", r.row)
            rank = order.index(r.status) if r.status in order else len(order)
            old = worst.get(key)
            if old is None or rank > (order.index(old) if old in order else len(order)):
                worst[key] = r.status
        c = Counter(worst.values())
        return {s: c[s] for s in [*order, *c] if c.get(s)}

    def reasons(self) -> list[tuple[str, str, int]]:
        """(code, title, rows) for every problem, most frequent first."""
        c: Counter[str] = Counter()
        for r in self.results:
            if STATUSES.get(r.status) is None or STATUSES[r.status].exit_code:
                c.update(r.codes)
        return [(code, title(code), n) for code, n in c.most_common()]

    @property
    def ok(self) -> bool:
        """Every row is as the user wanted it: valid, or in Visma."""
        return self.fatal is None and self.exit_code == 0

    @property
    def exit_code(self) -> int:
        """0 every row fine, 1 some rows to look at, 2 the run could not be done."""
        if self.fatal is not None:
            return 2
        code = exit_code({r.status for r in self.results})
        # A row done as asked, with a problem beside (a release refused): look at it.
        return max(code, 1 if any(r.code for r in self.results) else 0)

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "type": self.doctype,
            "rows": len(self.results),
            "documents": self.documents,
            "counts": self.counts(),
            "document_counts": self.document_counts(),
            "ok": self.ok,
            "exit_code": self.exit_code,
            "fatal": {"code": self.fatal[0], "message": self.fatal[1]} if self.fatal else None,
            "reasons": [{"code": c, "title": t, "rows": n} for c, t, n in self.reasons()],
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


def check_report_path(path: str | Path) -> None:
    """Raise :class:`ConfigError` unless the report files can be written at
    ``path``: it names files (``out/result``), not a folder, and its folder
    exists or can be made and is writable. Made sure of before a run, so
    that a bad path never costs the report of a run that sent documents."""
    import os

    p = Path(path)
    if p.name in ("", ".", "..") or p.is_dir():
        raise ConfigError(
            f"{path} is a folder; the report path names its files, e.g. {p / 'result'} "
            "(for result.xlsx, result.csv and result.json)"
        )
    folder = p.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"the report cannot be written in {folder}: {exc.strerror or exc}"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"the report cannot be written in {folder}: permission denied")
    for out in report_paths(p).values():
        if out.is_dir():
            raise ConfigError(f"the report file {out} is a folder")


def refuse_foreign(path: Path, what: str, *, sheet: str = "", header: Iterable[str] = ()) -> None:
    """Raise :class:`ConfigError` when ``path`` exists and is not a
    ``what`` vnimport wrote (an xlsx whose first sheet is ``sheet``, a csv
    whose first line is ``header``): an earlier one is replaced, a file of
    the user's never."""
    if not path.exists():
        return
    ours = False
    try:
        if path.suffix.lower() == ".xlsx" and sheet:
            from openpyxl import load_workbook

            book = load_workbook(path, read_only=True)
            ours = book.sheetnames[:1] == [sheet]
            book.close()
        elif path.suffix.lower() == ".csv" and header:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                ours = next(csv.reader(fh), []) == list(header)
    except Exception:  # unreadable, not a workbook: not one of ours
        ours = False
    if not ours:
        raise ConfigError(
            f"{path} exists and is not a {what} vnimport wrote: vnimport does not overwrite "
            "it; remove it or name another file"
        )


def refuse_inputs(outputs: Iterable[str | Path], inputs: Iterable[str | Path]) -> None:
    """Raise :class:`ConfigError` when an output file would be one the run
    reads: a report or a requests file must never overwrite the input."""
    read = [Path(p) for p in inputs if p]
    for out in outputs:
        o = Path(out)
        for i in read:
            same = o.resolve() == i.resolve()
            if not same and o.exists() and i.exists():
                same = o.samefile(i)
            if same:
                raise ConfigError(
                    f"{o} is the file being imported; choose another path for the output "
                    "(it would overwrite the input)"
                )


def write_report(report: BatchReport, path: str | Path) -> dict[str, Path]:
    """The xlsx, csv and json reports; and, when some documents failed or
    were invalid, the fix-me workbook (``PATH.fixme.xlsx``). A path that
    would overwrite a file the run read is refused (:class:`ConfigError`)."""
    paths = report_paths(path)
    fixme = paths["xlsx"].with_name(paths["xlsx"].name.removesuffix(".xlsx") + ".fixme.xlsx")
    refuse_inputs([*paths.values(), fixme], report.input_paths)
    paths["xlsx"].parent.mkdir(parents=True, exist_ok=True)
    # The summary first (it is quick), and each file written beside itself
    # and renamed into place: a report is whole or the earlier one stays.
    for key, writer in (("json", write_json), ("csv", write_csv), ("xlsx", write_xlsx)):
        _atomically(paths[key], lambda out, w=writer: w(report, out))
    if _atomically(fixme, lambda out: write_fixme(report, out)):
        paths["fixme"] = fixme
    else:
        fixme.unlink(missing_ok=True)  # an old one would ask to fix what is fixed
    return paths


def _atomically(path: Path, write: Any) -> Any:
    partial = path.with_name(path.name + ".partial")
    try:
        result = write(partial)
        if partial.exists():
            partial.replace(path)
        return result
    finally:
        partial.unlink(missing_ok=True)


def _records(report: BatchReport) -> Iterable[dict[str, Any]]:
    for r in sorted(report.results, key=lambda r: (r.sheet, r.row)):
        yield r.as_record()


def write_csv(report: BatchReport, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for rec in _records(report):
            w.writerow([safe_cell(rec[c]) for c in COLUMNS])


EDIT_COLUMNS = ("who", "sheet", "row", "column", "old", "new", "when")
RESULT_COLUMNS = ("row", "status", "Visma number", "HTTP status", "message")
_NOT_DONE = ("failed", "invalid", "not sent")  # not "unknown": it may be in Visma


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
    edits = report.extra.get("edits")
    if edits:  # cells changed by hand before the run (a Job's edits)
        ws3 = wb.create_sheet("Edits")
        ws3.append(_bold_row(ws3, list(EDIT_COLUMNS)))
        for edit in edits:
            ws3.append([_cell(ws3, edit.get(c, "")) for c in EDIT_COLUMNS])
    wb.save(path)


def _write_results(ws: Any, report: BatchReport, sheet: str, header: list[str]) -> None:
    ws.append(_bold_row(ws, [*header, *RESULT_COLUMNS]))
    for result in sorted(report.results, key=lambda r: r.row):
        if result.sheet != sheet:
            continue
        cells = _flagged_cells(ws, result, header)
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
            if result.sheet == sheet:  # the user's own values, the problems marked on them
                cells = _flagged_cells(ws, result, header)
                if result.message and not any(i.column for i in result.issues) and cells:
                    _flag(cells[0], [result.message])  # Visma's words, on the row's first cell
                ws.append(cells)
    wb.save(path)
    return True


def _flagged_cells(ws: Any, result: RowResult, header: list[str]) -> list[Any]:
    """A row's cells as the user wrote them, each cell with a problem
    filled and commented with it (the same in the report and the fix-me
    workbook)."""
    flagged: dict[str, list[str]] = {}
    for issue in result.issues:
        if issue.column:
            flagged.setdefault(issue.column, []).append(issue.message)
    cells = [_cell(ws, v) for v in _padded(result.cells, len(header))]
    for index, column in enumerate(header):
        if column in flagged:
            _flag(cells[index], flagged[column])
    return cells


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
