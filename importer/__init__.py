"""vnimport: declarative spreadsheet import into Visma.net Financials.

The library API every front door calls (the CLI, the demo, the web app,
the folder watcher, scripts)::

    from importer import load_type, check, send, write_report, VismaDestination

    doctype = load_type("customer_invoice")
    batch = check("batch.xlsx", doctype)          # a path, an upload, a DataFrame
    report = send(batch, VismaDestination(connection, journal="journal.sqlite"))
    write_report(report, "out/result")

See docs/api.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The names load on first use, so that a command which needs one stage
# (``vnimport preview`` never sends) does not import the HTTP client.
_WHERE = {
    "Batch": "importer.batch",
    "check": "importer.batch",
    "validation_report": "importer.batch",
    "CODES": "importer.codes",
    "STATUSES": "importer.codes",
    "Code": "importer.codes",
    "Status": "importer.codes",
    "DocType": "importer.doctypes",
    "Registry": "importer.doctypes",
    "load_type": "importer.doctypes",
    "AuthError": "importer.errors",
    "ColumnError": "importer.errors",
    "ConfigError": "importer.errors",
    "DocTypeError": "importer.errors",
    "FileError": "importer.errors",
    "JournalError": "importer.errors",
    "VnimportError": "importer.errors",
    "RowIssue": "importer.issues",
    "PreflightResult": "importer.company_checks",
    "preflight": "importer.company_checks",
    "Reconciliation": "importer.reconciliation.compare",
    "reconcile": "importer.reconciliation.compare",
    "write_reconciliation": "importer.reconciliation.workbook",
    "Request": "importer.render",
    "render_requests": "importer.render",
    "BatchReport": "importer.report",
    "RowResult": "importer.report",
    "write_report": "importer.report",
    "Connection": "importer.settings",
    "load_connection": "importer.settings",
    "open_table": "importer.sources",
    "table_from_rows": "importer.sources",
    "Table": "importer.sources.files",
    "write_template": "importer.template.workbook",
    "Job": "importer.jobs",
    "JobResult": "importer.jobs",
    "run_job": "importer.jobs",
    "FileOutcome": "importer.watch.outcome",
    "WatchSettings": "importer.watch.config",
    "watch_settings": "importer.watch.config",
    "Watcher": "importer.watch.runner",
    "watch_root": "importer.watch.runner",
    "Destination": "importer.targets",
    "Event": "importer.targets",
    "JsonLinesDestination": "importer.targets",
    "RunAborted": "importer.targets",
    "send": "importer.targets",
    "Journal": "importer.targets.journal",
    "VismaDestination": "importer.targets.visma",
    "undo_run": "importer.undo.run",
    "UndoReport": "importer.undo.report",
    "UndoResult": "importer.undo.report",
    "write_undo_report": "importer.undo.report",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'importer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


if TYPE_CHECKING:
    from importer.batch import Batch, check, validation_report
    from importer.codes import CODES, STATUSES, Code, Status
    from importer.company_checks import PreflightResult, preflight
    from importer.doctypes import DocType, Registry, load_type
    from importer.errors import (
        AuthError,
        ColumnError,
        ConfigError,
        DocTypeError,
        FileError,
        JournalError,
        VnimportError,
    )
    from importer.issues import RowIssue
    from importer.jobs import Job, JobResult, run_job
    from importer.reconciliation.compare import Reconciliation, reconcile
    from importer.reconciliation.workbook import write_reconciliation
    from importer.render import Request, render_requests
    from importer.report import BatchReport, RowResult, write_report
    from importer.settings import Connection, load_connection
    from importer.sources import open_table, table_from_rows
    from importer.sources.files import Table
    from importer.targets import Destination, Event, JsonLinesDestination, RunAborted, send
    from importer.targets.journal import Journal
    from importer.targets.visma import VismaDestination
    from importer.template.workbook import write_template
    from importer.undo.report import UndoReport, UndoResult, write_undo_report
    from importer.undo.run import undo_run
    from importer.watch.config import WatchSettings, watch_settings
    from importer.watch.outcome import FileOutcome
    from importer.watch.runner import Watcher, watch_root

__version__ = "0.1.0"

__all__ = [
    "CODES",
    "STATUSES",
    "AuthError",
    "Batch",
    "BatchReport",
    "Code",
    "ColumnError",
    "ConfigError",
    "Connection",
    "Destination",
    "DocType",
    "DocTypeError",
    "Event",
    "FileError",
    "FileOutcome",
    "Job",
    "JobResult",
    "Journal",
    "JournalError",
    "JsonLinesDestination",
    "PreflightResult",
    "Reconciliation",
    "Registry",
    "Request",
    "RowIssue",
    "RowResult",
    "RunAborted",
    "Status",
    "Table",
    "UndoReport",
    "UndoResult",
    "VismaDestination",
    "VnimportError",
    "WatchSettings",
    "Watcher",
    "check",
    "load_connection",
    "load_type",
    "open_table",
    "preflight",
    "reconcile",
    "render_requests",
    "run_job",
    "send",
    "table_from_rows",
    "undo_run",
    "validation_report",
    "watch_root",
    "watch_settings",
    "write_reconciliation",
    "write_report",
    "write_template",
    "write_undo_report",
]
