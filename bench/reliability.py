"""Benchmark: the reliability run, 2,000 documents through a faulty sandbox.

The sandbox (its own process) answers 5% of calls 500, 5% 429, drops the
connection after storing 2% of creates, and answers 1% of calls only after
the client's timeout. The runner imports 2,000 customer invoices with 8
workers; then this script checks that every row ended with one final status
and that the sandbox holds each document exactly once.

    python bench/reliability.py [--docs 2000] [--workers 8] [--seed 1]
    python bench/reliability.py --cases [--docs 500] [--skip-late]

``--cases`` runs the exactly-once cases instead (bench/exactly_once.py).
"""

from __future__ import annotations

import argparse
import collections
import csv
import sys
import time
from pathlib import Path

from importer import VismaDestination, check, send
from importer.doctypes import Registry
from importer.sandbox.process import SandboxProcess
from importer.targets.client import VismaClient
from importer.targets.journal import Journal

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--cases",
        action="store_true",
        help="instead: the exactly-once cases of bench/exactly_once.py (runs side by side, "
        "a lost journal, Document IDs, customers without numbers, late commits)",
    )
    args, rest = ap.parse_known_args()
    if args.cases:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import exactly_once

        sys.argv = [sys.argv[0], *rest]
        exactly_once.main()
        return
    OUT.mkdir(parents=True, exist_ok=True)
    file = OUT / f"reliability-{args.docs}.csv"
    with file.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(
            [
                "External reference",
                "Customer number",
                "Invoice date",
                "Item number",
                "Quantity",
                "Unit price",
            ]
        )
        for i in range(args.docs):
            for j in range(2):
                w.writerow([f"REL-{i:05d}", "10000", "2025-03-03", f"V{j}", j + 1, 10])
    faults = [
        "--fail-500",
        "0.05",
        "--throttle-429",
        "0.05",
        "--drop-after-commit",
        "0.02",
        "--slow",
        "0.01",
        "--slow-seconds",
        "3",
        "--seed",
        str(args.seed),
    ]
    with SandboxProcess("--company", "empty", *faults) as sandbox:  # its own items
        sandbox.post("/v1/customer", {"number": {"value": "10000"}, "name": {"value": "Kunde AS"}})
        client = VismaClient(sandbox.connection, workers=args.workers, timeout=2.0, backoff=0.1)
        client.calls = 0
        started = time.perf_counter()
        destination = VismaDestination(
            client.connection, journal=Journal(":memory:"), client=client
        )
        report = send(
            check(file, Registry().get("customer_invoice")), destination, workers=args.workers
        )
        elapsed = time.perf_counter() - started
        found: collections.Counter[str] = collections.Counter()
        page = 1
        while True:
            records = client.call(
                "GET", "/v1/customerinvoice", params={"pageNumber": page, "pageSize": 100}
            ).json()
            found.update(r["externalReference"] for r in records)
            if len(records) < 100:
                break
            page += 1
        final = sum(1 for r in report.results if r.status in ("created", "failed"))
        print(
            f"{args.docs} documents, {len(report.results)} rows in {elapsed:.1f} s "
            f"({args.docs / elapsed:.1f} documents/s), {client.calls} calls"
        )
        print(f"row statuses: {report.counts()}")
        print(f"rows with a final status: {final} of {len(report.results)}")
        print(
            f"documents in the sandbox: {len(found)} distinct, duplicates: "
            f"{sum(n - 1 for n in found.values())}, missing: {args.docs - len(found)}"
        )


if __name__ == "__main__":
    main()
