"""Exactly once, measured: the ways "never a duplicate" used to break.

    python bench/exactly_once.py [--docs 500] [--late-seconds 40] [--skip-late]

Each case runs real `vnimport run` processes (or the library's `send`)
against an embedded sandbox and reads the documents back through the
sandbox's API (paged list calls): duplicates, missing, rows without a final
status, and the exit codes.

- concurrent-sqlite-2/4: 2 and 4 runs of one file started together on one
  SQLite journal
- concurrent-postgresql-3: 3 runs on one PostgreSQL journal (a throwaway
  cluster; skipped without Debian's postgresql package)
- journal-deleted: the journal deleted mid-run (the run must stop, exit 2),
  then a re-run on a new, empty journal
- document-id-drops: invoices keyed only by a Document ID, 20% of answers
  dropped after the commit, then two more runs
- customers-without-numbers: a second file of customers without numbers
  (other customers in the same rows, one corrected address), under create
  and then upsert
- late-commits: creates committed --late-seconds after the client gave up
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the throwaway PostgreSQL cluster of the tests

from importer import VismaDestination, check, load_type, send  # noqa: E402
from importer.sandbox import Faults, Sandbox, SandboxConfig  # noqa: E402
from importer.sandbox.process import demo_connection  # noqa: E402
from importer.targets.client import VismaClient  # noqa: E402

INVOICE = ["External reference", "Customer number", "Invoice date", "Item number", "Quantity"]


def write_csv(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(rows)
    return path


def invoices(path: Path, count: int, prefix: str = "INV", key: str = "External reference") -> Path:
    header = [key, *INVOICE[1:]]
    return write_csv(
        path,
        [header, *([f"{prefix}-{i:05d}", "10000", "2025-03-03", "A", "1"] for i in range(count))],
    )


def read_back(sb: Sandbox, kind: str, field: str) -> collections.Counter[str]:
    """The documents of ``kind`` in the sandbox, read through its API, by ``field``."""
    client = VismaClient(demo_connection(sb.url), workers=1)
    path = {"customer_invoice": "/v1/customerinvoice", "customer": "/v1/customer"}[kind]
    found: collections.Counter[str] = collections.Counter()
    page = 1
    while True:
        records = client.call("GET", path, params={"pageNumber": page, "pageSize": 100}).json()
        for r in records:
            value = r.get(field)
            found[str(value.get("number") if isinstance(value, dict) else value)] += 1
        if len(records) < 100:
            return found
        page += 1


def env_for(sb: Sandbox) -> dict[str, str]:
    conn = demo_connection(sb.url)
    return {
        **os.environ,
        "VNIMPORT_BASE_URL": conn.base_url,
        "VNIMPORT_TOKEN_URL": conn.token_url,
        "VNIMPORT_CLIENT_ID": conn.client_id,
        "VNIMPORT_CLIENT_SECRET": conn.client_secret,
        "VNIMPORT_TENANT_ID": conn.tenant_id,
    }


def cli(sb: Sandbox, file: Path, journal: str, report: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "importer", "run", str(file), "--type", "customer_invoice",
         "--journal", journal, "--report", str(report), *extra],
        env=env_for(sb), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def final_rows(report: Path) -> tuple[int, int]:
    """(rows, rows with a final status) of a report."""
    summary = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))
    from importer.codes import STATUSES

    final = sum(n for s, n in summary["counts"].items() if STATUSES.get(s, None) is not None)
    return summary["rows"], final


def line(case: str, expected: set[str], found: collections.Counter[str], **facts: Any) -> None:
    dupes = sum(n - 1 for n in found.values() if n > 1)
    missing = len(expected - set(found))
    extra = " ".join(f"{k}={v}" for k, v in facts.items())
    print(f"{case:<28} duplicates={dupes:<3} missing={missing:<3} {extra}", flush=True)


def customer(sb: Sandbox) -> None:
    """The customer the invoices name (its answer may be a dropped one: it is stored)."""
    from importer.targets.client import OutcomeUnknown

    with contextlib.suppress(OutcomeUnknown):
        VismaClient(demo_connection(sb.url), workers=1).call(
            "POST", "/v1/customer", json={"number": {"value": "10000"}, "name": {"value": "K"}},
            safe=False,
        )  # fmt: skip


def concurrent(tmp: Path, docs: int, runs: int, journal: str, case: str) -> None:
    with Sandbox(SandboxConfig(company="empty", faults=Faults(latency_ms=5))) as sb:
        customer(sb)
        file = invoices(tmp / f"{case}.csv", docs)
        procs = [cli(sb, file, journal, tmp / f"{case}-{n}") for n in range(runs)]
        codes = [p.wait(timeout=900) for p in procs]
        rows = [final_rows(tmp / f"{case}-{n}") for n in range(runs)]
        found = read_back(sb, "customer_invoice", "externalReference")
        line(case, {f"INV-{i:05d}" for i in range(docs)}, found,
             final=f"{sum(f for _, f in rows)}/{sum(r for r, _ in rows)}", exit=codes)  # fmt: skip


def journal_deleted(tmp: Path, docs: int) -> None:
    with Sandbox(SandboxConfig(company="empty", faults=Faults(latency_ms=10))) as sb:
        customer(sb)
        file = invoices(tmp / "deleted.csv", docs)
        journal = tmp / "deleted.sqlite"
        proc = cli(sb, file, str(journal), tmp / "deleted-1")
        while len(read_back(sb, "customer_invoice", "externalReference")) < docs // 5:
            time.sleep(0.05)
        for p in (journal, Path(f"{journal}-wal"), Path(f"{journal}-shm")):
            p.unlink(missing_ok=True)
        first = proc.wait(timeout=600)
        again = cli(sb, file, str(journal), tmp / "deleted-2").wait(timeout=600)
        rows = [final_rows(tmp / f"deleted-{n}") for n in (1, 2)]
        found = read_back(sb, "customer_invoice", "externalReference")
        line("journal-deleted", {f"INV-{i:05d}" for i in range(docs)}, found,
             final=f"{sum(f for _, f in rows)}/{sum(r for r, _ in rows)}",
             exit=[first, again])  # fmt: skip


def document_id_drops(tmp: Path, docs: int) -> None:
    with Sandbox(
        SandboxConfig(company="empty", faults=Faults(drop_after_commit=0.2, seed=7))
    ) as sb:
        customer(sb)
        file = invoices(tmp / "docid.csv", docs, prefix="DOC", key="Document ID")
        journal = tmp / "docid.sqlite"
        codes = []
        for n in range(3):
            proc = cli(sb, file, str(journal), tmp / f"docid-{n}", "--unknown-grace", "1")
            codes.append(proc.wait(timeout=600))
        rows = [final_rows(tmp / f"docid-{n}") for n in range(3)]
        found = read_back(sb, "customer_invoice", "externalReference")
        line("document-id-drops", {f"DOC-{i:05d}" for i in range(docs)}, found,
             final=f"{sum(f for _, f in rows)}/{sum(r for r, _ in rows)}", exit=codes)  # fmt: skip


def customers_without_numbers(tmp: Path, docs: int) -> None:
    header = ["Customer name", "Corporate ID", "Postal code"]
    first = [[f"Kunde {i} AS", f"9{i:08d}", "0150"] for i in range(docs)]
    second = [[f"Ny kunde {i} AS", f"8{i:08d}", "5003"] for i in range(docs)]
    second[0] = [first[0][0], first[0][1], "0151"]  # a corrected address, in another row
    a = write_csv(tmp / "cust-a.csv", [header, *first])
    b = write_csv(tmp / "cust-b.csv", [header, *reversed(second)])
    with Sandbox(SandboxConfig(company="empty")) as sb:
        journal = tmp / "cust.sqlite"
        statuses: collections.Counter[str] = collections.Counter()
        for path, mode in ((a, "create"), (b, "create"), (b, "upsert")):
            report = send(
                check(path, load_type("customer")),
                VismaDestination(demo_connection(sb.url), journal=journal),
                mode=mode,
            )
            statuses.update({f"{mode}:{s}": n for s, n in report.counts().items()})
        found = read_back(sb, "customer", "corporateId")
        expected = {row[1] for row in first} | {row[1] for row in second}
        line("customers-without-numbers", expected, found, statuses=dict(statuses))


def late_commits(tmp: Path, docs: int, seconds: float) -> None:
    faults = Faults(late_commit=0.1, late_commit_seconds=seconds, seed=5)
    with Sandbox(SandboxConfig(company="empty", faults=faults)) as sb:
        customer(sb)
        file = invoices(tmp / "late-input.csv", docs)
        started = time.perf_counter()
        code = cli(sb, file, str(tmp / "late.sqlite"), tmp / "late",
                   "--unknown-grace", str(seconds + 5)).wait(timeout=900)  # fmt: skip
        rows, final = final_rows(tmp / "late")
        found = read_back(sb, "customer_invoice", "externalReference")
        line(
            "late-commits",
            {f"INV-{i:05d}" for i in range(docs)},
            found,
            final=f"{final}/{rows}",
            exit=[code],
            seconds=round(time.perf_counter() - started),
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--docs", type=int, default=500)
    ap.add_argument("--late-seconds", type=float, default=40.0)
    ap.add_argument("--skip-late", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vnimport-exactly-once-"))
    for runs in (2, 4):
        concurrent(tmp, args.docs, runs, str(tmp / f"c{runs}.sqlite"), f"concurrent-sqlite-{runs}")
    from postgres import cluster, fresh_database, server_bin

    if server_bin() is None:
        print("concurrent-postgresql-3      skipped: PostgreSQL's server programs are missing")
    else:
        with cluster() as url:
            journal = fresh_database(url, "bench")
            concurrent(tmp, args.docs, 3, journal, "concurrent-postgresql-3")
    journal_deleted(tmp, args.docs)
    document_id_drops(tmp, args.docs // 2)
    customers_without_numbers(tmp, args.docs // 5)
    if not args.skip_late:
        late_commits(tmp, args.docs // 5, args.late_seconds)


if __name__ == "__main__":
    main()
