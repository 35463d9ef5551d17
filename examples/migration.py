"""A migration script: customers and their open invoices from an old system,
as pandas DataFrames, into Visma.net through vnimport's library API.

    python examples/migration.py [OUT_DIR]

It checks each DataFrame against the document type, sends the valid
documents to an embedded sandbox (a real migration passes
``load_connection()`` instead), writes a report per type in OUT_DIR
(default ``migration-out``), then runs again to show that a re-run sends
nothing: the journal knows what is in Visma. Exit code 0 when every row is
in Visma, 1 when some rows need a look (see the reports).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from importer import (
    BatchReport,
    Journal,
    VismaDestination,
    check,
    load_type,
    send,
    write_report,
)
from importer.sandbox import Sandbox
from importer.sandbox.process import demo_connection


def old_customers() -> pd.DataFrame:
    """The old system's customer table. Customer numbers are text: their
    leading zeros are part of the number."""
    return pd.DataFrame(
        {
            "Customer number": ["020001", "020002", "020003"],
            "Customer name": ["Fjord Fisk AS", "Nordlys Bakeri AS", "Sørlandet Sykkel AS"],
            "Organisation number": ["934567892", "945678903", "956789014"],
            "Postal code": ["5003", "9008", "4610"],
            "City": ["Bergen", "Tromsø", "Kristiansand"],
            "Country": ["NO", "NO", "NO"],
        },
        dtype="string",
    )


def old_invoices() -> pd.DataFrame:
    """Open invoices, one row per line, keyed by the old system's order id."""
    rows = [
        ("OLD-1001", "020001", "2025-02-03", "Laks, fersk 5 kg", 4, 899.0),
        ("OLD-1001", "020001", "2025-02-03", "Frakt", 1, 250.0),
        ("OLD-1002", "020002", "2025-02-05", "Rugbrød", 40, 42.5),
        ("OLD-1003", "020003", "2025-02-07", "Service, sykkel", 2, 650.0),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "External reference",
            "Customer number",
            "Invoice date",
            "Line description",
            "Quantity",
            "Unit price",
        ],
    )
    frame["Invoice date"] = pd.to_datetime(frame["Invoice date"])
    frame["Customer number"] = frame["Customer number"].astype("string")
    frame["Account"] = "3000"
    frame["VAT code"] = "3"
    return frame


def migrate(out: Path, destination: VismaDestination) -> list[BatchReport]:
    reports = []
    for name, frame in (("customer", old_customers()), ("customer_invoice", old_invoices())):
        batch = check(frame, load_type(name))
        report = send(batch, destination, mode="create", workers=4)
        write_report(report, out / name)
        counts = ", ".join(f"{n} {status}" for status, n in report.counts().items())
        print(f"{name}: {report.documents} documents, {len(report.results)} rows: {counts}")
        for code, title, n in report.reasons():
            print(f"  {n} row(s): {title} [{code}]")
        reports.append(report)
    return reports


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    journal = Journal(out / "journal.sqlite")
    try:
        with Sandbox() as sandbox:
            connection = demo_connection(sandbox.url)  # a real migration: load_connection()
            destination = VismaDestination(connection, journal=journal)
            print("first run:")
            first = migrate(out, destination)
            print("again (nothing is sent twice):")
            again = migrate(out / "again", destination)
    finally:
        journal.close()
    return max(report.exit_code for report in [*first, *again])


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("migration-out")))
