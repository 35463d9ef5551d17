"""Benchmark: `vnimport reconcile`'s read calls and seconds for N documents.

For each --docs count, a fresh `vnimport sandbox` in its own process (the
demo company, answering after --latency-ms) gets N two-line customer
invoices of its twelve customers (`send`, 16 workers; not measured); then
the run is reconciled (`importer.reconciliation.compare`, the work of `vnimport
reconcile RUN`), and, as the baseline, the same documents are read back one
GET per document. The calls are counted by the client; a call that is not a
list page, a document read alone or a balance would show as a difference
between the two counts.

The target: the calls grow with the list's pages (100 documents a page),
not with the documents: pages + the parties' balances, no document read
alone when nothing differs. Exit status 1 when it is not met.

    python bench/reconcile.py [--docs 200,2000] [--latency-ms 0,20]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from importer import VismaDestination, check, load_type, send
from importer.reconciliation.compare import reconcile
from importer.sandbox.process import SandboxProcess
from importer.targets.client import VismaClient
from importer.targets.journal import Journal

OUT = Path(__file__).resolve().parent / "out"
HEADER = "External reference;Customer number;Invoice date;Due date;Invoice text;"
HEADER += "Item number;Line description;Quantity;Unit;Unit price;Account;VAT code"
LINES = [
    "000123;Kaffe, hele bønner 1 kg;12;STK;189.50;3000;3",
    "000245;Filterpapir nr. 4;40;PK;24.90;3000;3",
]
CUSTOMERS = [f"{n}" for n in range(11001, 11013)]  # the demo company's twelve


def generate(docs: int) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"reconcile-{docs}.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADER + "\n")
        for i in range(docs):
            customer = CUSTOMERS[i % len(CUSTOMERS)]
            head = f"REC-{i:06d};{customer};2025-03-03;2025-03-17;Varer levert"
            f.writelines(f"{head};{line}\n" for line in LINES)
    return path


def measure(docs: int, latency_ms: float) -> dict[str, Any]:
    doctype = load_type("customer_invoice")
    batch = check(generate(docs), doctype)
    with SandboxProcess("--latency-ms", str(latency_ms)) as sb:
        journal = Journal(":memory:")
        report = send(batch, VismaDestination(sb.connection, journal=journal), workers=16)
        assert report.exit_code == 0, report.counts()
        client = VismaClient(sb.connection, workers=1)
        client.token()  # not part of what is measured
        started = time.perf_counter()
        result = reconcile(journal, "last", client, doctype)
        seconds = time.perf_counter() - started
        assert result.ok, result.verdict()
        calls = client.calls
        numbers = [d.number for d in result.documents]
        started = time.perf_counter()
        for number in numbers:  # the baseline: one GET per document
            reply = client.call("GET", f"/v1/customerinvoice/{quote(number, safe='')}")
            assert reply.status_code == 200
        naive_seconds = time.perf_counter() - started
        naive_calls = client.calls - calls
        client.session.close()
        journal.close()
    return {
        "docs": len(result.documents),
        "pages": result.calls.list_pages,
        "alone": result.calls.documents,
        "balances": result.calls.balances,
        "calls": calls,
        "reported": result.calls.total,
        "seconds": seconds,
        "naive_calls": naive_calls,
        "naive_seconds": naive_seconds,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--docs", default="200,2000", help="document counts, comma-separated")
    ap.add_argument("--latency-ms", default="0,20", help="sandbox latencies, comma-separated")
    args = ap.parse_args()
    ok = True
    print(
        "| latency | documents | list pages | read alone | balance calls | calls | seconds "
        "| one GET per document: calls | seconds | target |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for latency in map(float, args.latency_ms.split(",")):
        for docs in map(int, args.docs.split(",")):
            r = measure(docs, latency)
            # the twelve customers' balances come from one page of the list of all
            expected = math.ceil(docs / 100) + 1
            met = r["calls"] == r["reported"] == expected and r["alone"] == 0
            ok &= met
            print(
                f"| {latency:g} ms | {r['docs']:,} | {r['pages']} | {r['alone']} | {r['balances']} "
                f"| {r['calls']} | {r['seconds']:.2f} | {r['naive_calls']:,} "
                f"| {r['naive_seconds']:.2f} | {'met' if met else 'NOT MET'} |"
            )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
