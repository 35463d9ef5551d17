"""Benchmark: the batch runner posting to a sandbox in its own process.

`send` (the work of `vnimport run`) creates N two-line customer invoices
through `VismaClient` against `vnimport sandbox`, started as a subprocess (in
this process it would share the GIL with the client), fresh for every run so
that every document is created:

  latency   the sandbox answers after --latency-ms and its rate limit is the
            default (100,000 calls an hour), for 1, 4 and 16 workers; the
            target is >= 0.8 x workers / latency documents per second, and
            exactly 1.0 call per document when nothing fails
  rate      no latency, a quota scaled down from Visma's (--rate calls per
            --window seconds), 16 workers and --rate-docs documents, started
            at a window's start; the calls Visma accepted in each window are
            counted, and the target is accepted calls / (limit x windows) >=
            95% over the full windows (all but the last, where the documents
            ran out; at least 3) with no 429 at all

Each measure runs --repeat times and the best run counts; the exit status is
1 when a target is not met.

    python bench/post.py [--docs 400] [--latency-ms 50] [--latency-limit N]
                         [--rate 300] [--window 60] [--rate-docs 1100]
"""

from __future__ import annotations

import argparse
import csv
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

from importer import VismaDestination, check, send
from importer.doctypes import Registry
from importer.sandbox.process import SandboxProcess
from importer.targets.client import VismaClient
from importer.targets.journal import Journal

OUT = Path(__file__).resolve().parent / "out"
HEADER = "External reference;Customer number;Invoice date;Due date;Currency;Invoice text;"
HEADER += "Item number;Line description;Quantity;Unit;Unit price;Account;Subaccount 1;VAT code"
LINES = [
    "000123;Kaffe, hele bønner 1 kg;12;STK;189.50;3000;00;3",
    "000245;Filterpapir nr. 4;40;PK;24.90;3000;00;3",
]


def generate(docs: int) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"post-{docs}.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADER + "\n")
        for i in range(1, docs + 1):
            head = f"BENCH-{i:06d};10000;2025-03-03;2025-03-17;NOK;Varer levert"
            f.writelines(f"{head};{line}\n" for line in LINES)
    with path.open(encoding="utf-8") as f:  # a sanity check of the file
        assert sum(1 for _ in csv.reader(f, delimiter=";")) == 2 * docs + 1
    return path


class Sandbox(SandboxProcess):
    """`vnimport sandbox OPTIONS` in its own process, with the customer 10000."""

    def __init__(self, *options: str) -> None:
        super().__init__(*options)
        self.post("/v1/customer", {"number": {"value": "10000"}, "name": {"value": "Kunde AS"}})


def post(sandbox: Sandbox, csv_path: Path, workers: int, align: float = 0.0) -> dict[str, Any]:
    """One run of the runner; ``align`` starts it at a rate window's start."""
    prepared = check(csv_path, Registry().get("customer_invoice"))
    client = VismaClient(sandbox.connection, workers=workers)
    client.token()  # not part of what is measured
    statuses: Counter[int] = Counter()
    windows: Counter[int] = Counter()  # answered calls per rate window
    request, lock = client.session.request, threading.Lock()

    def counted(*args: Any, **kwargs: Any) -> requests.Response:
        sent = time.time()
        reply = request(*args, **kwargs)
        with lock:
            statuses[reply.status_code] += 1
            if align and reply.status_code != 429:
                windows[int(sent // align)] += 1
        return reply

    client.session.request = counted  # type: ignore[method-assign]
    if align:  # the sandbox's windows are aligned on its (and our) clock
        time.sleep(align - time.time() % align + 0.01)
    started = time.perf_counter()
    destination = VismaDestination(client.connection, journal=Journal(":memory:"), client=client)
    report = send(prepared, destination, workers=workers)
    elapsed = time.perf_counter() - started
    created = sum(1 for r in report.results if r.status == "created") // len(LINES)
    return {
        "docs": len(prepared.documents),
        "created": created,
        "seconds": elapsed,
        "docs_s": created / elapsed,
        "calls_per_doc": report.extra["calls_per_document"],
        "calls_s": (client.calls - statuses[429]) / elapsed,  # answered, not refused
        "429": statuses[429],
        "windows": [windows[k] for k in sorted(windows)],
    }


def window_share(r: dict[str, Any], rate: int) -> float:
    """Accepted calls / (limit x windows) over the full windows: all but the
    last (where the documents ran out)."""
    full = r["windows"][:-1] or r["windows"]
    return float(sum(full) / (len(full) * rate))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--docs", type=int, default=400, help="documents of the latency runs")
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--workers", default="1,4,16", help="worker counts of the latency runs")
    ap.add_argument("--latency-limit", type=int, help="the latency runs' sandbox --rate-limit")
    ap.add_argument("--rate", type=int, default=300, help="calls per rate window")
    ap.add_argument("--window", type=float, default=60.0, help="rate window, seconds")
    ap.add_argument("--rate-docs", type=int, default=1100, help="documents of the rate run")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each measure; the best counts")
    args = ap.parse_args()
    ok = True
    latency = args.latency_ms / 1000
    csv_path = generate(args.docs)
    limit = ("--rate-limit", str(args.latency_limit)) if args.latency_limit else ()
    print(f"latency binds: {args.docs} invoices of 2 lines, sandbox latency {args.latency_ms:g} ms")
    print("| workers | seconds | docs/s | target docs/s | calls/doc | 429s | target |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for workers in map(int, args.workers.split(",")):

        def measure(w: int = workers) -> dict[str, Any]:
            with Sandbox("--latency-ms", str(args.latency_ms), *limit) as sb:
                return post(sb, csv_path, w)

        r = max((measure() for _ in range(args.repeat)), key=lambda r: r["docs_s"])
        target = 0.8 * workers / latency
        met = r["docs_s"] >= target and r["calls_per_doc"] == 1.0 and r["created"] == r["docs"]
        ok &= met
        print(
            f"| {workers} | {r['seconds']:.2f} | {r['docs_s']:.1f} | {target:.0f} "
            f"| {r['calls_per_doc']:.3f} | {r['429']} | {'met' if met else 'NOT MET'} |"
        )
    csv_path = generate(args.rate_docs)
    ideal = args.rate / args.window
    print(
        f"\nrate binds: {args.rate_docs} invoices, 16 workers, no latency, "
        f"{args.rate} calls per {args.window:g} s window ({ideal:g} calls/s)"
    )
    print(
        "| seconds | calls/s | calls accepted per window | full windows | share of limit "
        "| calls/doc | 429s | target |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---|")

    def measure_rate() -> dict[str, Any]:
        options = ("--rate-limit", str(args.rate), "--rate-window", str(args.window))
        with Sandbox(*options) as sb:
            return post(sb, csv_path, 16, align=args.window)

    r = max((measure_rate() for _ in range(args.repeat)), key=lambda r: window_share(r, args.rate))
    share = window_share(r, args.rate)
    full = len(r["windows"]) - 1
    met = share >= 0.95 and r["429"] == 0 and full >= 3 and r["created"] == r["docs"]
    ok &= met
    print(
        f"| {r['seconds']:.2f} | {r['calls_s']:.1f} | {' '.join(map(str, r['windows']))} "
        f"| {full} | {share:.1%} | {r['calls_per_doc']:.3f} | {r['429']} "
        f"| {'met' if met else 'NOT MET'} |"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
