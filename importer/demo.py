"""``vnimport demo``: the bundled samples, imported into an embedded sandbox.

:func:`run_demo` starts a sandbox in this process, imports the sample of
every document type in dependency order (customers and suppliers before the
documents that name them), creates the customers and suppliers the document
samples refer to but the customer and supplier samples do not have, and
writes a report per type. Nothing here prints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from importer.batch import Batch, check
from importer.doctypes import Registry, samples_dir
from importer.report import BatchReport, write_report
from importer.settings import Connection
from importer.targets import send
from importer.targets.client import OutcomeUnknown, VismaClient, number_from_location, visma_message
from importer.targets.journal import Journal
from importer.targets.visma import VismaDestination

#: The order the samples are imported in: parties before their documents.
DEMO_TYPES = (
    "customer",
    "supplier",
    "customer_invoice",
    "customer_credit_note",
    "customer_debit_note",
    "supplier_invoice",
    "purchase_order",
)

#: Document type -> (the party type it refers to, the header field naming it).
REFERENCES = {
    "customer_invoice": ("customer", "customerNumber"),
    "customer_credit_note": ("customer", "customerNumber"),
    "customer_debit_note": ("customer", "customerNumber"),
    "supplier_invoice": ("supplier", "supplierNumber"),
    "purchase_order": ("supplier", "supplier"),
}


@dataclass(slots=True)
class TypeResult:
    """One document type's sample, imported."""

    doctype: str
    report: BatchReport
    paths: dict[str, Path]

    @property
    def documents(self) -> int:
        return self.report.documents

    @property
    def rows(self) -> int:
        return len(self.report.results)

    @property
    def created(self) -> int:
        return self.report.counts().get("created", 0)

    @property
    def failed(self) -> int:
        """Rows not created: failed, invalid, skipped or anything else."""
        return self.rows - self.created

    @property
    def calls(self) -> int:
        return int(self.report.extra.get("calls", 0))

    @property
    def ok(self) -> bool:
        return all(r.status == "created" for r in self.report.results)


@dataclass(slots=True)
class Reference:
    """A customer or supplier a document sample refers to, created for the demo."""

    kind: str  # "customer" | "supplier"
    number: str
    created: bool
    message: str = ""


@dataclass(slots=True)
class DemoRun:
    target: str
    out: Path
    results: list[TypeResult] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every sample row is in the sandbox, and so is every reference."""
        return all(r.ok for r in self.results) and all(ref.created for ref in self.references)


def run_demo(
    out: Path,
    workers: int = 4,
    *,
    registry: Registry | None = None,
    samples: Path | None = None,
) -> DemoRun:
    """Import every sample into a fresh embedded sandbox; write the reports
    to ``out/<type>.xlsx|.csv|.json``."""
    from importer.sandbox import Sandbox
    from importer.sandbox.process import demo_connection

    registry = registry or Registry()
    folder = samples or samples_dir()
    prepared: dict[str, Batch] = {}
    reading: dict[str, float] = {}  # seconds each file took to read and check
    for name in DEMO_TYPES:
        prepared[name] = check(folder / f"{name}.xlsx", registry.get(name))
        reading[name] = time.perf_counter() - prepared[name].started
    with Sandbox() as sb:
        connection = demo_connection(sb.url)
        run = DemoRun(target=sb.url, out=out)
        journal = Journal(":memory:")
        try:
            for name in DEMO_TYPES:
                if name == DEMO_TYPES[2]:  # the parties are in: add the ones still missing
                    run.references = create_references(connection, registry, prepared)
                # A client per type: the calls in its report are that type's own.
                client = VismaClient(connection, workers=workers)
                # The report's duration: reading the file, then sending it (not
                # the time spent on the types before it).
                batch = replace(prepared[name], started=time.perf_counter() - reading[name])
                try:
                    destination = VismaDestination(connection, journal=journal, client=client)
                    report = send(batch, destination, mode="create", workers=workers)
                finally:
                    client.session.close()
                run.results.append(TypeResult(name, report, write_report(report, out / name)))
        finally:
            journal.close()
    return run


def referenced_numbers(prepared: dict[str, Batch]) -> dict[str, list[str]]:
    """The customer and supplier numbers the document samples name, by kind,
    in the order they first appear."""
    wanted: dict[str, dict[str, None]] = {"customer": {}, "supplier": {}}
    for name, (kind, header_field) in REFERENCES.items():
        if name not in prepared:
            continue
        for doc in prepared[name].documents:
            value = doc.header.get(header_field)
            if doc.valid and value not in (None, ""):
                wanted[kind][str(value)] = None
    return {kind: list(numbers) for kind, numbers in wanted.items()}


def create_references(
    connection: Connection, registry: Registry, prepared: dict[str, Batch]
) -> list[Reference]:
    """POST every referenced customer and supplier the sandbox does not have."""
    made: list[Reference] = []
    client = VismaClient(connection, workers=1)
    try:
        for kind, numbers in referenced_numbers(prepared).items():
            doctype = registry.get(kind)
            get_path = doctype.endpoint("get")[1]
            create_path = doctype.endpoint("create")[1]
            for number in numbers:
                reply = client.call("GET", get_path.replace("{number}", quote(number, safe="")))
                if reply.status_code == 200:
                    continue
                body = {"number": {"value": number}, "name": {"value": f"Demo {kind} {number}"}}
                try:
                    reply = client.call("POST", create_path, json=body, safe=False)
                except OutcomeUnknown as exc:
                    made.append(Reference(kind, number, False, str(exc)))
                    continue
                if reply.status_code == 201:
                    got = number_from_location(reply.headers.get("Location", "")) or number
                    made.append(Reference(kind, got, True))
                else:
                    message = f"{reply.status_code} {visma_message(reply)}"
                    made.append(Reference(kind, number, False, message))
    finally:
        client.session.close()
    return made
