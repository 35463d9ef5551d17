"""The reconciliation workbook: a :class:`~importer.reconciliation.Reconciliation` as xlsx.

Sheets, in this order: ``Summary`` (the verdict, counts, totals file against
Visma, the read calls), ``Differences`` (by document, in the order the run
came to them: key, rows, number, field, the file's value, Visma's),
``Documents`` (every document read back, with what Visma works out itself,
shown), the totals per customer or supplier (with Visma's balance beside)
and per currency. Text is written as text: a value starting with ``=``
never becomes a formula.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from importer.errors import ConfigError
from importer.reconciliation.compare import Reconciliation, Totals
from importer.report import _atomically, _bold_row, _cell


def write_reconciliation(
    result: Reconciliation, path: str | Path, *, file: str | None = None
) -> Path:
    """Write the workbook to ``path`` (``.xlsx`` added when it has another
    ending); whole or not at all. The path written. ``file`` is what its
    File row calls the run's file (an upload's own name), when the run's
    record names where the file was kept."""
    from openpyxl import Workbook

    out = Path(path)
    if out.suffix.lower() != ".xlsx":
        out = out.with_name(out.name + ".xlsx")
    if out.is_dir():
        raise ConfigError(f"{out} is a folder; name the workbook to write")
    out.parent.mkdir(parents=True, exist_ok=True)

    def write(partial: Path) -> None:
        wb = Workbook(write_only=True)
        _summary(wb.create_sheet("Summary"), result, file)
        _differences(wb.create_sheet("Differences"), result)
        _documents(wb.create_sheet("Documents"), result)
        if result.party_title:
            _totals(wb.create_sheet(f"By {result.party_title.lower()}"), result, party=True)
        if result.currencies:
            _totals(wb.create_sheet("By currency"), result, party=False)
        wb.save(partial)

    _atomically(out, write)
    return out


def _summary(ws: Any, result: Reconciliation, file: str | None = None) -> None:
    s = result.summary()
    run = result.run
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started))
    ws.append(_bold_row(ws, ["Verdict", s["verdict"]]))
    rows: list[tuple[str, Any]] = [
        ("Run", run.id),
        ("Started", when),
        ("File", run.file if file is None else file),
        ("Type", f"{result.title} ({result.doctype})"),
        ("Target", run.target),
        ("Reconciled", time.strftime("%Y-%m-%d %H:%M")),
        ("Documents read back (created or updated by the run)", s["documents"]),
        ("Documents that differ", s["documents_differing"]),
        ("Documents not in Visma", s["documents_not_in_visma"]),
        ("Differences", s["differences"]),
    ]
    for status, count in sorted(s["not_read"].items()):
        rows.append((f"Documents of the run not read back: {status}", count))
    if result.has_lines:
        rows += [("Lines in the file", s["lines_file"]), ("Lines in Visma", s["lines_visma"])]
    if result.currencies:
        rows += [
            ("Total in the file, excluding VAT (all currencies)", s["total_file"]),
            ("Total in Visma, excluding VAT (all currencies)", s["total_visma"]),
        ]
        for t in result.currencies:
            rows.append((f"Total {t.name or '(no currency)'}: file / Visma", _pair(t)))
    rows += [
        ("Tolerance", "0.01 per amount; totals 0.01 per document"),
        ("Read calls", s["calls"]["total"]),
        ("  list pages", s["calls"]["list_pages"]),
        ("  documents read alone", s["calls"]["documents"]),
        ("  balance calls", s["calls"]["balances"]),
        ("Seconds", s["seconds"]),
        (
            "Not judged",
            "what Visma works out itself (VAT, rounding, totals with VAT) and the "
            "balances of customers and suppliers (they hold their other documents too) "
            "are shown, not judged",
        ),
    ]
    for label, value in rows:
        ws.append([_cell(ws, label), _cell(ws, _plain(value))])


def _differences(ws: Any, result: Reconciliation) -> None:
    ws.append(_bold_row(ws, ["key", "rows", "number", "field", "file", "Visma", "note"]))
    for d in result.differences:
        values = (d.key, d.rows, d.number, d.field, d.file, d.visma, d.note)
        ws.append([_cell(ws, _plain(v)) for v in values])


def _documents(ws: Any, result: Reconciliation) -> None:
    shown = list(result.shown_fields)
    head = ["key", "rows", "number", "run", "in Visma", "status in Visma", "read by"]
    if result.party_title:
        head += [result.party_title.lower(), "name"]
    if result.currencies:
        head += ["currency"]
    if result.has_lines:
        head += ["lines (file)", "lines (Visma)"]
    if result.currencies:
        head += ["total (file)", "total (Visma)"]
    head += [f"{name} (shown)" for name in shown] + ["differences"]
    ws.append(_bold_row(ws, head))
    for d in result.documents:
        row: list[Any] = [
            d.key,
            d.rows,
            d.number,
            d.status,
            "yes" if d.found else "no",
            d.visma_status,
            {"list": "list page", "alone": "read alone"}.get(d.read, ""),
        ]
        if result.party_title:
            row += [d.party, d.party_name]
        if result.currencies:
            row += [d.currency]
        if result.has_lines:
            row += [d.lines_file, d.lines_visma]
        if result.currencies:
            row += [d.total_file, d.total_visma]
        row += [d.shown.get(name) for name in shown] + [len(d.differences)]
        ws.append([_cell(ws, _plain(v)) for v in row])


def _totals(ws: Any, result: Reconciliation, *, party: bool) -> None:
    items = result.parties if party else result.currencies
    fields = list(result.balance_fields) if party else []
    name = result.party_title.lower() if party else "currency"
    head = [name] + (["name"] if party else [])
    head += ["documents", "total (file)", "total (Visma)", "difference", "verdict"]
    head += [f"{f} (Visma, shown)" for f in fields] + (["note"] if party else [])
    ws.append(_bold_row(ws, head))
    for t in items:
        verdict = "differs" if t.differs else "same"
        if t.unjudged:
            verdict += f" ({t.unjudged} document(s) without a total in the file)"
        row: list[Any] = [t.name or "(not known)"] + ([t.title] if party else [])
        row += [t.documents, t.file, t.visma, t.visma - t.file, verdict]
        row += [t.shown.get(f) for f in fields] + ([t.note] if party else [])
        ws.append([_cell(ws, _plain(v)) for v in row])


def _pair(t: Totals) -> str:
    return f"{t.file:.2f} / {t.visma:.2f}" + ("  DIFFERS" if t.differs else "")


def _plain(value: Any) -> Any:
    """A value a cell takes: numbers as numbers, anything else as text."""
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)
