"""Benchmark: a preflight (`vnimport validate --preflight`, `run --preflight`)
of a large file against a large company: the calls it uses and its seconds.

The sandbox runs as its own process (`vnimport sandbox --company large`: the
demo company with 5,000 customers and 2,000 items, its default page size of
100 and a quota that never binds). Two files of one-line customer invoices
are written, --large and --small of them (20,000 and 2,000), each naming
customers (with their names beside, as a file exported from another system
has them) and items spread over the whole company, VAT codes, accounts,
subaccount segments and dates in open periods; each is checked (`check`,
timed apart) and preflighted three ways, --rounds times, best round:

  cold    the lists read from Visma (nothing kept)
  kept    the lists taken from the kept copy a cold pass wrote
          (`lists_max_age`): no list is read again

For each it prints the calls (reading the lists, and finding the invoices
already in Visma) and the seconds. The targets: every file clean (no
problem found); the calls the same for both files; and the calls of a cold
pass at most the lists' pages (records / page size, one call for a list
without paging, the periods among them) plus the pages of the lookup of
existing invoices. The exit status is 1 when one is not met.

    python bench/preflight.py [--large 20000] [--small 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from importer import check, load_type, preflight
from importer.company_checks import PreflightResult
from importer.sandbox import company
from importer.sandbox.process import SandboxProcess
from importer.targets.client import VismaClient
from importer.targets.lists import LISTS

OUT = Path(__file__).resolve().parent / "out"
PAGE = 100  # the sandbox's maxPageSize, as Visma's metadata says it
UNBOUND = ("--rate-limit", "1000000000")  # the preflight is measured, not the quota
HEADER = ("External reference;Customer number;Customer name;Invoice date;Item number;"
          "Quantity;Unit price;VAT code;Account;Subaccount 1;Subaccount 2")  # fmt: skip
SEGMENTS = [("00", "0100"), ("10", "100"), ("10", "200"), ("20", "300"), ("30", "100")]


def generate(invoices: int) -> Path:
    """``invoices`` one-line customer invoices over the large company."""
    customers = [(c["number"], c["name"]) for c in company.customer_bodies()]
    customers += [(c["number"], c["name"]) for c in company.large_customer_bodies()]
    items = [r["inventoryNumber"] for r in company.large_records()["inventory"]]
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"preflight-{invoices}.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADER + "\n")
        for i in range(invoices):
            number, name = customers[i * 7 % len(customers)]
            item = items[i * 13 % len(items)]
            day = f"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d}"
            one, two = SEGMENTS[i % len(SEGMENTS)]
            vat, account = ("31", "3000") if i % 3 else ("3", "3100")
            f.write(f"PF-{i + 1:06d};{number};{name};{day};{item};{i % 9 + 1};"
                    f"{(i % 400) + 19.5};{vat};{account};{one};{two}\n")  # fmt: skip
    return path


def bound(result: PreflightResult) -> int:
    """The lists' pages (one call for a list without paging) and the lookup's."""
    pages = sum(math.ceil(n / PAGE) if LISTS[k].paged else 1 for k, n in result.lists.items())
    return pages + result.lookup_calls


def measure(sandbox: SandboxProcess, path: Path, rounds: int) -> dict[str, Any]:
    doctype = load_type("customer_invoice")
    found: dict[str, Any] = {"check": float("inf"), "cold": float("inf"), "kept": float("inf")}
    for _ in range(rounds):
        started = time.perf_counter()
        batch = check(path, doctype)
        found["check"] = min(found["check"], time.perf_counter() - started)
        found["rows"] = len(batch.rows)
        with tempfile.TemporaryDirectory(prefix="vnimport-bench-") as tmp:
            for how in ("cold", "kept"):
                batch = check(path, doctype)
                client = VismaClient(sandbox.connection)
                client.token()  # not part of what is measured
                try:
                    result = preflight(batch, client, cache=Path(tmp))
                finally:
                    client.session.close()
                found[how] = min(found[how], result.seconds)
                found[f"{how}_result"] = result
                found["clean"] = found.get("clean", True) and not any(r.issues for r in batch.rows)
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--large", type=int, default=20_000, help="invoices in the large file")
    ap.add_argument("--small", type=int, default=2_000, help="invoices in the small file")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    files = {n: generate(n) for n in (args.small, args.large)}
    with SandboxProcess("--company", "large", *UNBOUND) as sandbox:
        measured = {n: measure(sandbox, path, args.rounds) for n, path in files.items()}
    print("| invoices | rows | check s | preflight | calls (lists + lookup) | bound | seconds |")
    print("|---:|---:|---:|---|---:|---:|---:|")
    ok = True
    for n, m in measured.items():
        for how in ("cold", "kept"):
            r: PreflightResult = m[f"{how}_result"]
            print(
                f"| {n:,} | {m['rows']:,} | {m['check']:.2f} | {how} | {r.calls} "
                f"({r.list_calls} + {r.lookup_calls}) | {bound(r) if how == 'cold' else '-'} "
                f"| {m[how]:.2f} |"
            )
        ok = ok and m["clean"]
    lists = measured[args.large]["cold_result"].lists
    print("lists read: " + ", ".join(f"{k} {v:,}" for k, v in lists.items()))
    small, large = (measured[n]["cold_result"] for n in (args.small, args.large))
    same = small.calls == large.calls
    within = large.calls <= bound(large)
    kept = measured[args.large]["kept_result"].list_calls == 0
    print(f"every file clean: {'met' if ok else 'NOT MET'}")
    print(f"the same calls for {args.small:,} and {args.large:,}: {'met' if same else 'NOT MET'}")
    print(f"calls within the lists' pages + the lookup's: {'met' if within else 'NOT MET'}")
    print(f"a second pass reads no list: {'met' if kept else 'NOT MET'}")
    return 0 if ok and same and within and kept else 1


if __name__ == "__main__":
    sys.exit(main())
