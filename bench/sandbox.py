"""Benchmark: how many creates per second the sandbox takes.

The sandbox runs as its own process (`vnimport sandbox`, no injected latency);
this process posts 4-line customer invoices from 1 and from 16 client threads,
each with its own keep-alive session, and prints creates per second.

    python bench/sandbox.py [--creates 2000]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import requests

from importer.sandbox.process import SandboxProcess

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--creates", type=int, default=2000)
    args = ap.parse_args()
    with SandboxProcess() as sandbox:
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
