"""What an undo did, or would do, to each document of a run: a value, and
its files (``PATH.xlsx``, ``PATH.csv``, ``PATH.json``) beside a run's report."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from importer.register import run_facts
from importer.report import check_report_path, report_paths, safe_cell
from importer.targets.journal import Run

# A document's undo status: what became of it. Taken back (or nothing to
# take back) is fine; the rest leaves something to look at.
DONE = ("deleted", "reversed", "voided", "inactivated", "restored", "nothing to undo")
WOULD = tuple(f"would {verb}" for verb in ("delete", "reverse", "void", "inactivate", "restore"))
TO_LOOK_AT = ("manual", "failed", "not undone")
COLUMNS = (
    "Type", "Key", "Rows", "Visma number", "The run", "Undo", "Status", "Code", "Message",
)  # fmt: skip


@dataclass(frozen=True)
class UndoResult:
    """One document of the run: what the run did to it, what undo does (the
    rule's verb: delete, reverse, void, inactivate, restore; ``by hand``;
    empty when there is nothing to do) and what became of it."""

    doctype: str
    key: str
    rows: str
    number: str
    did: str  # the run's status for it: created, updated, failed ...
    action: str
    status: str  # DONE, WOULD or TO_LOOK_AT
    code: str = ""
    message: str = ""
    earlier: bool = False  # an earlier undo did it: nothing was done now


@dataclass
class UndoReport:
    run: Run
    dry_run: bool
    results: list[UndoResult] = field(default_factory=list)
    calls: int = 0
    fatal: tuple[str, str] | None = None  # (code, message): why the undo stopped

    def counts(self) -> dict[str, int]:
        return dict(Counter(r.status for r in self.results))

    @property
    def exit_code(self) -> int:
        """0 every document taken back (or to be, in a dry run), 1 some left
        to look at, 2 the undo could not go on."""
        if self.fatal:
            return 2
        return 1 if any(r.status in TO_LOOK_AT for r in self.results) else 0

    def summary(self) -> dict[str, Any]:
        return {
            "run": self.run.id,
            "file": self.run.file,
            "type": self.run.doctype,
            "target": self.run.target,
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "calls": self.calls,
            "exit_code": self.exit_code,
            "fatal": dict(zip(("code", "message"), self.fatal, strict=True))
            if self.fatal
            else None,
            "documents": [asdict(r) for r in self.results],
        }

    def rows(self) -> list[tuple[str, ...]]:
        return [
            (r.doctype, r.key, r.rows, r.number, r.did, r.action, r.status, r.code, r.message)
            for r in self.results
        ]


def write_undo_report(report: UndoReport, path: str | Path) -> dict[str, Path]:
    """``PATH.xlsx`` (the documents, and the run on a second sheet),
    ``PATH.csv`` (UTF-8 with a BOM, as Excel opens it) and ``PATH.json``
    (the summary with every document); each written whole or not at all."""
    check_report_path(path)
    paths = report_paths(path)
    paths["json"].parent.mkdir(parents=True, exist_ok=True)
    for kind, write in (("json", _json), ("csv", _csv), ("xlsx", _xlsx)):
        partial = paths[kind].with_name(paths[kind].name + ".partial")
        try:
            write(report, partial)
            partial.replace(paths[kind])
        finally:
            partial.unlink(missing_ok=True)
    return paths


def _json(report: UndoReport, path: Path) -> None:
    text = json.dumps(report.summary(), ensure_ascii=False, indent=2)
    path.write_text(text + "\n", encoding="utf-8")


def _csv(report: UndoReport, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows([safe_cell(v) for v in row] for row in report.rows())


def _xlsx(report: UndoReport, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "Undo"
    ws.append(COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    look = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
    for result, row in zip(report.results, report.rows(), strict=True):
        ws.append([safe_cell(v) for v in row])
        for cell in ws[ws.max_row]:
            cell.data_type = "s"  # text stays text: 0101 is not a number
            if result.status in TO_LOOK_AT:
                cell.fill = look
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHI", (18, 18, 10, 14, 10, 12, 16, 16, 90), strict=True):
        ws.column_dimensions[letter].width = width
    about = wb.create_sheet("Run")
    for name, value in (
        *run_facts(report.run, outcome=False),  # the counts below are the undo's
        ("Undo", "dry run: nothing was done" if report.dry_run else "done"),
        ("Counts", ", ".join(f"{n} {s}" for s, n in report.counts().items())),
        ("Calls", report.calls),
        ("Stopped", report.fatal[1] if report.fatal else ""),
    ):
        about.append((name, safe_cell(value)))
    about.column_dimensions["A"].width = 12
    about.column_dimensions["B"].width = 80
    wb.save(path)
