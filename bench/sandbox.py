"""Benchmark: how many creates per second the sandbox takes, and how a
filtered list call (a look-up by reference) scales with the stored documents.

The sandbox runs as its own process (`vnimport sandbox`, no injected latency,
a quota that never binds); this process posts 4-line customer invoices from 1
and from 16 client threads, each with its own keep-alive session, and prints
creates per second.

With --lookups, two SQLite files are filled through the sandbox's Store
directly (--small and --large customer invoices, each with its own
externalReference and customerRefNumber), each served by a sandbox process,
and --calls filtered list calls (`GET /v1/customerinvoice?externalReference=..`
or `?customerRefNumber=..`, half of them for a reference that is not there,
pageSize 100 as the client asks) are timed against each, interleaved over
--rounds rounds. It prints the best round's milliseconds per call at each size
and their ratio.

    python bench/sandbox.py [--creates 2000]
    python bench/sandbox.py --lookups [--small 200 --large 20000 --calls 200 --rounds 5]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import requests

from importer.sandbox import documents
from importer.sandbox.config import DEMO_TENANT
from importer.sandbox.process import SandboxProcess
from importer.sandbox.store import Store

UNBOUND = ("--rate-limit", "1000000000")  # the server is measured, not the quota

BODY = {
    "customerNumber": {"value": "10000"},
    "documentDate": {"value": "2025-03-03T00:00:00"},
    "currencyId": {"value": "NOK"},
    "invoiceText": {"value": "Varer levert"},
    "invoiceLines": [
        {
            "operation": "Insert",
            "inventoryNumber": {"value": f"00012{i}"},
            "description": {"value": "Kaffe, hele bønner 1 kg"},
            "quantity": {"value": 12},
            "unitPriceInCurrency": {"value": 189.5},
            "accountNumber": {"value": "3000"},
            "subaccount": [{"segmentId": 1, "segmentValue": "00"}],
            "vatCodeId": {"value": "3"},
        }
        for i in range(4)
    ],
}


def token(base: str) -> str:
    reply = requests.post(
        f"{base}/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "demo",
            "client_secret": "demo-secret",
            "tenant_id": "demo-company",
        },
        timeout=10,
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])


def run(base: str, bearer: str, creates: int, threads: int) -> float:
    per_thread = creates // threads
    failures: list[str] = []

    def work() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {bearer}"
        for _ in range(per_thread):
            reply = session.post(f"{base}/v2/customerinvoice", json=BODY, timeout=30)
            if reply.status_code != 201:
                failures.append(reply.text)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        sys.exit(f"{len(failures)} creates failed: {failures[0]}")
    return per_thread * threads / elapsed


def fill(path: Path, invoices: int) -> None:
    """A sandbox state file with ``invoices`` customer invoices, stored directly."""
    store = Store(str(path))
    now = datetime(2025, 3, 3, 12, 0, 0)
    customer = documents.create(
        documents.KINDS["customer"],
        {"name": {"value": "Kunde AS"}},
        number="10000",
        now=now,
        lookup=lambda kind, number: None,
    )
    kind = documents.KINDS["customer_invoice"]
    base = documents.create(kind, BODY, number="0", now=now, lookup=lambda kind, number: customer)
    with store.transaction() as db:
        store.put(db, DEMO_TENANT, "customer", "10000", customer)
        for i in range(invoices):
            number = str(100001 + i)
            doc = {
                **base,
                "referenceNumber": number,
                "externalReference": f"WEB-{i:06d}",
                "customerRefNumber": f"PO-{i:06d}",
            }
            store.put(db, DEMO_TENANT, kind.name, number, doc)
    store.close()


def lookups(base: str, bearer: str, invoices: int, calls: int, seed: int) -> float:
    """Seconds per filtered list call, over ``calls`` calls."""
    rng = random.Random(seed)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {bearer}"
    started = time.perf_counter()
    for i in range(calls):
        field, prefix = ("externalReference", "WEB") if i % 2 else ("customerRefNumber", "PO")
        wanted = rng.randrange(invoices) if i % 4 < 2 else invoices + rng.randrange(invoices)
        reply = session.get(
            f"{base}/v1/customerinvoice",
            params={field: f"{prefix}-{wanted:06d}", "pageNumber": 1, "pageSize": 100},
            timeout=60,
        )
        found = reply.json()
        if reply.status_code != 200 or len(found) != (wanted < invoices):
            sys.exit(f"a look-up went wrong: {reply.status_code} {reply.text[:200]}")
    return (time.perf_counter() - started) / calls


def measure_lookups(small: int, large: int, calls: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="vnimport-bench-") as tmp:
        sizes = (small, large)
        for n in sizes:
            fill(Path(tmp) / f"{n}.db", n)
        procs = [SandboxProcess("--db", str(Path(tmp) / f"{n}.db"), *UNBOUND) for n in sizes]
        try:
            bearers = [token(p.url) for p in procs]
            for p, b, n in zip(procs, bearers, sizes, strict=True):
                lookups(p.url, b, n, 20, seed=0)  # warm up
            best = [float("inf")] * len(sizes)
            for r in range(rounds):
                order = range(len(sizes)) if r % 2 == 0 else reversed(range(len(sizes)))
                for k in order:
                    seconds = lookups(procs[k].url, bearers[k], sizes[k], calls, seed=r)
                    best[k] = min(best[k], seconds)
        finally:
            for p in procs:
                p.stop()
    for n, seconds in zip(sizes, best, strict=True):
        print(f"{n:>6} stored invoices: {seconds * 1000:7.2f} ms per filtered list call")
    print(
        f"ratio {large} / {small}: {best[1] / best[0]:.2f} "
        f"(best of {rounds} rounds of {calls} calls each)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--creates", type=int, default=2000)
    ap.add_argument("--lookups", action="store_true", help="measure filtered list calls instead")
    ap.add_argument("--small", type=int, default=200, help="invoices in the small store")
    ap.add_argument("--large", type=int, default=20_000, help="invoices in the large store")
    ap.add_argument("--calls", type=int, default=200, help="look-ups per round and size")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if args.lookups:
        measure_lookups(args.small, args.large, args.calls, args.rounds)
        return
    with SandboxProcess(*UNBOUND) as sandbox:
        base = sandbox.url
        sandbox.post("/v1/customer", {"number": {"value": "10000"}, "name": {"value": "Kunde AS"}})
        bearer = token(base)
        run(base, bearer, 200, 4)  # warm up
        for threads in (1, 16):
            rate = run(base, bearer, args.creates, threads)
            print(
                f"{threads:>2} client thread(s): {rate:7.0f} creates/s "
                f"({args.creates} customer invoices of 4 lines)"
            )


if __name__ == "__main__":
    main()
