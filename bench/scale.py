"""Scale-out, measured: documents per second through the queue (issue 16)
with 1, 2 and 4 worker processes and 1 to 8 companies, each company held
to a scaled-down quota of its own.

    python bench/scale.py [--workers 1,2,4] [--companies 1,2,4,8] [--docs 600]
                          [--quota 200] [--window 2] [--concurrency 1]
    python bench/scale.py --quick            # 1 worker, 1 and 2 companies, 20 documents

For each cell (W workers, C companies) of the matrix: a new database in a
throwaway PostgreSQL cluster (tests/postgres.py) holds the queue and the
journal (the targets name no journal: the queue's database is it); an
embedded sandbox serves company-1 ... company-8, each with its own quota of
--quota calls per --window seconds (`rate_limit`, `rate_window`), so that
one company alone is held to about --quota / calls-per-document documents
per second; a vnimport.toml names one target per company. W worker
processes (`python -m importer worker --concurrency 1` each: one Python
process per worker, as one per machine or container, so that the workers
are not one interpreter's GIL) are started and seen registered before the
clock starts. One file of --docs two-line customer invoices per company is
enqueued (one job per company); the time is from the first enqueue to the
last job's end (its `ended`; the bench polls the queue's tables on one
connection every 0.1 s).

Beside documents per second the table shows the quota-bound ideal
(min(W x concurrency, C) companies at once x the quota's documents per second, the
calls per document measured in the sandbox's record) and the CPU used in the
interval, in cores (of the machine's `os.cpu_count()`): the workers, the
PostgreSQL cluster (its postmaster and backends, from /proc), this process
(the sandbox, the enqueues, the polling), and the machine as a whole
(/proc/stat, other users included).

Each cell's documents are read back from the sandbox, per tenant: the exit
status is 1 when any document is missing or was created twice, or a job did
not end done.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the throwaway PostgreSQL cluster of the tests

from postgres import cluster, fresh_database, server_bin  # noqa: E402

from importer.sandbox import Sandbox, SandboxConfig  # noqa: E402
from importer.sandbox.config import DEMO_CLIENT, DEMO_SECRET  # noqa: E402

HEADER = [
    "referenceNumber", "customerNumber", "documentDate", "invoiceText",
    "invoiceLines.inventoryNumber", "invoiceLines.quantity", "invoiceLines.unitPriceInCurrency",
]  # fmt: skip
SECRET_ENV = "VNIMPORT_BENCH_SCALE_SECRET"
MAX_COMPANIES = 8
TICK = os.sysconf("SC_CLK_TCK")
WORKER = [sys.executable, "-m", "importer", "worker", "--poll", "0.5"]
DEADLINE = 900.0  # seconds a cell may take before the bench gives up on it


# ------------------------------------------------------------------ CPU


def _proc_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and its reaped children (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # after the name: state ppid ... utime(12) stime(13) cutime(14) cstime(15)
    return sum(int(f) for f in fields[11:15]) / TICK


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append(int(entry.name))
    return found


def _postmaster(port: int) -> int | None:
    """The pid of the PostgreSQL server listening on ``port`` (ours)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"postgres") and f"-p {port}".encode() in b" ".join(argv):
            return int(entry.name)
    return None


def _postgres_cpu(postmaster: int | None) -> float:
    """The cluster's CPU seconds: the postmaster (with its reaped backends)
    and its live children."""
    if postmaster is None:
        return 0.0
    return _proc_cpu(postmaster) + sum(_proc_cpu(p) for p in _children(postmaster))


def _machine() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(v) for v in first[:8]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / TICK, sum(ticks) / TICK


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Cpu:
    workers: float
    postgres: float
    bench: float
    machine_busy: float
    machine_total: float

    @classmethod
    def now(cls, workers: list[int], postmaster: int | None) -> Cpu:
        busy, total = _machine()
        return cls(
            workers=sum(_proc_cpu(p) for p in workers),
            postgres=_postgres_cpu(postmaster),
            bench=_self_cpu(),
            machine_busy=busy,
            machine_total=total,
        )

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.workers - other.workers,
            self.postgres - other.postgres,
            self.bench - other.bench,
            self.machine_busy - other.machine_busy,
            self.machine_total - other.machine_total,
        )


# ------------------------------------------------------------------ setup


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(rows)
    return path


def invoices(path: Path, prefix: str, count: int) -> Path:
    rows: list[list[object]] = [HEADER]
    for i in range(count):
        for j, item in enumerate(("000123", "000245")):
            rows.append([f"{prefix}-{i:05d}", "10000", "2025-03-03", "Mars", item, j + 1, 10])
    return write_csv(path, rows)


def customer(sb: Sandbox, tenant: str) -> None:
    """The customer the invoices name, in ``tenant`` (a call outside any job)."""
    import requests

    token = requests.post(
        sb.token_url,
        data={"grant_type": "client_credentials", "client_id": DEMO_CLIENT,
              "client_secret": DEMO_SECRET, "tenant_id": tenant},
        timeout=10,
    ).json()["access_token"]  # fmt: skip
    reply = requests.post(
        f"{sb.url}/v1/customer",
        json={"number": {"value": "10000"}, "name": {"value": "Kunde AS"}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    if reply.status_code != 201:
        raise SystemExit(f"the bench's customer in {tenant} was refused: {reply.text}")


def config_file(folder: Path, sb: Sandbox, companies: int) -> Path:
    """A vnimport.toml with one target per company (c1 ... cN); the secret in
    the environment, no journal (the queue's database is the journal)."""
    lines = []
    for i in range(1, companies + 1):
        lines += [
            f"[targets.c{i}]",
            f'base_url = "{sb.url}"',
            f'token_url = "{sb.token_url}"',
            f'client_id = "{DEMO_CLIENT}"',
            f'client_secret_env = "{SECRET_ENV}"',
            f'tenant_id = "company-{i}"',
            'kind = "test"',
            "",
        ]
    path = folder / "vnimport.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def worker_env(folder: Path, queue: str, machine: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNIMPORT_")}
    env.update(
        VNIMPORT_QUEUE=queue,
        XDG_CACHE_HOME=str(folder / machine / "cache"),
        XDG_STATE_HOME=str(folder / machine / "state"),
        PYTHONUNBUFFERED="1",
    )
    env[SECRET_ENV] = DEMO_SECRET
    return env


def sql(url: str, statement: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        return db.execute(statement).fetchall()


# ------------------------------------------------------------------ a cell


def wait_for_end(queue: str, ids: list[int]) -> None:
    """Poll until every job in ``ids`` has ended (done, failed or cancelled),
    on one connection (importer.queue.list_jobs opens new ones each time:
    polled every 0.1 s, their backends' start-up would be counted as the
    cluster's work)."""
    import psycopg

    ended = ("done", "failed", "cancelled")
    deadline = time.monotonic() + DEADLINE
    with psycopg.connect(queue, autocommit=True) as db:
        while time.monotonic() < deadline:
            rows = db.execute(
                "SELECT j.state, p.status FROM vnimport_jobs j LEFT JOIN procrastinate_jobs p "
                "ON p.id = j.procrastinate_id WHERE j.id = ANY(%s)",
                (ids,),
            ).fetchall()
            if len(rows) == len(ids) and all(
                state in ended or status in ("failed", "cancelled", "aborted")
                for state, status in rows
            ):
                return
            time.sleep(0.1)


@dataclass
class Cell:
    workers: int
    companies: int
    docs: int
    seconds: float
    ideal: float
    calls_per_doc: float
    at_once: int  # the most jobs sending at one moment (the sandbox's record)
    cpu: Cpu
    cpu_wall: float  # seconds the CPU was measured over (to the poll that saw the end)
    duplicates: int
    missing: int
    not_done: int

    @property
    def rate(self) -> float:
        return self.companies * self.docs / self.seconds

    @property
    def ok(self) -> bool:
        return self.duplicates == 0 and self.missing == 0 and self.not_done == 0


def run_cell(
    cluster_url: str,
    postmaster: int | None,
    tmp: Path,
    workers: int,
    companies: int,
    args: argparse.Namespace,
) -> Cell:
    from importer.jobs import Job
    from importer.queue import enqueue, list_jobs
    from importer.queue.app import ensure_schema

    folder = tmp / f"w{workers}-c{companies}"
    folder.mkdir()
    queue = fresh_database(cluster_url, f"scale_w{workers}_c{companies}")
    ensure_schema(queue)
    config = SandboxConfig(companies=MAX_COMPANIES, rate_limit=args.quota, rate_window=args.window)
    with Sandbox(config) as sb:
        tenants = [f"company-{i}" for i in range(1, companies + 1)]
        for tenant in tenants:
            customer(sb, tenant)
        path = config_file(folder, sb, companies)
        files = [
            invoices(folder / f"c{i}.csv", f"C{i}", args.docs) for i in range(1, companies + 1)
        ]
        procs = []
        for n in range(1, workers + 1):
            with (folder / f"worker-{n}.log").open("w", encoding="utf-8") as log:
                procs.append(
                    subprocess.Popen(
                        [*WORKER, "--concurrency", str(args.concurrency)],
                        cwd=folder,
                        env=worker_env(folder, queue, f"worker-{n}"),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        try:
            # Each process runs two Procrastinate workers (jobs, recovery).
            deadline = time.monotonic() + 120
            while sql(queue, "SELECT count(*) FROM procrastinate_workers")[0][0] < 2 * workers:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise SystemExit(f"the workers did not start; see {folder}/worker-*.log")
                time.sleep(0.1)
            # Start at a quota window's start (the sandbox's windows are aligned
            # on the wall clock), as every cell does: each job begins with a full one.
            time.sleep(args.window - time.time() % args.window + 0.01)
            pids = [p.pid for p in procs]
            before = Cpu.now(pids, postmaster)
            started = time.time()
            ids = [
                enqueue(Job(file=f, doctype="customer_invoice", target=f"c{i}"), queue, config=path)
                for i, f in enumerate(files, 1)
            ]
            wait_for_end(queue, ids)
            after = Cpu.now(pids, postmaster)
            cpu_wall = time.time() - started
            jobs = {j.id: j for j in list_jobs(queue, limit=1000) if j.id in ids}
            ended = [j.ended for j in jobs.values() if j.ended]
            seconds = (max(ended) if ended else time.time()) - started
            not_done = len(ids) - sum(j.shown_state == "done" for j in jobs.values())
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

        duplicates = missing = 0
        calls = 0
        spans: dict[str, list[float]] = {}
        for i, tenant in enumerate(tenants, 1):
            refs = collections.Counter(
                d.get("referenceNumber") for d in sb.documents("customer_invoice", tenant)
            )
            expected = {f"C{i}-{n:05d}" for n in range(args.docs)}
            duplicates += sum(n - 1 for n in refs.values() if n > 1)
            missing += len(expected - set(refs))
            for call in sb.calls(tenant):
                if call.job:  # not the bench's own setup
                    calls += 1
                    span = spans.setdefault(call.job, [call.start, call.end])
                    span[0], span[1] = min(span[0], call.start), max(span[1], call.end)
        for tenant in config.company_tenants[companies:]:
            duplicates += sb.count("customer_invoice", tenant)  # foreign: none expected
    calls_per_doc = calls / (companies * args.docs)
    edges = sorted([(a, 1) for a, _ in spans.values()] + [(b, -1) for _, b in spans.values()])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    at_once = min(workers * args.concurrency, companies)
    ideal = at_once * args.quota / args.window / calls_per_doc
    if not_done:
        print(f"  {not_done} job(s) not done; see {folder}/worker-*.log", file=sys.stderr)
    return Cell(workers, companies, args.docs, seconds, ideal, calls_per_doc, most,
                after - before, cpu_wall, duplicates, missing, not_done)  # fmt: skip


# ------------------------------------------------------------------ output


COLUMNS = (
    "workers", "companies", "docs", "seconds", "docs/s", "vs 1 company", "ideal", "of ideal",
    "at once",
    "calls/doc", "cpu workers", "cpu postgres", "cpu bench", "cpu ours", "machine", "dup", "miss",
)  # fmt: skip


def row(cell: Cell, alone: Cell | None) -> list[str]:
    """The table's row of ``cell``; ``alone``: the cell with as many workers
    and 1 company (the ratio is of two figures of one run)."""
    s = cell.cpu_wall
    ours = (cell.cpu.workers + cell.cpu.postgres + cell.cpu.bench) / s
    machine = cell.cpu.machine_busy / cell.cpu.machine_total * (os.cpu_count() or 1)
    return [
        str(cell.workers),
        str(cell.companies),
        str(cell.companies * cell.docs),
        f"{cell.seconds:.1f}",
        f"{cell.rate:.1f}",
        f"{cell.rate / alone.rate:.2f}x" if alone else "",
        f"{cell.ideal:.1f}",
        f"{cell.rate / cell.ideal:.0%}",
        str(cell.at_once),
        f"{cell.calls_per_doc:.2f}",
        f"{cell.cpu.workers / s:.2f}",
        f"{cell.cpu.postgres / s:.2f}",
        f"{cell.cpu.bench / s:.2f}",
        f"{ours:.2f}",
        f"{machine:.2f}",
        str(cell.duplicates),
        str(cell.missing),
    ]


def print_row(values: list[str]) -> None:
    print("| " + " | ".join(values) + " |", flush=True)


def numbers(text: str) -> list[int]:
    found = [int(v) for v in text.split(",") if v.strip()]
    if not found or min(found) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: whole numbers, 1 or more, with commas")
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--workers", type=numbers, default=[1, 2, 4], help="worker processes")
    ap.add_argument("--companies", type=numbers, default=[1, 2, 4, 8], help="companies, 1 to 8")
    ap.add_argument("--docs", type=int, default=600, help="invoices per company (one file each)")
    ap.add_argument("--quota", type=int, default=200, help="calls per window, per company")
    ap.add_argument("--window", type=float, default=2.0, help="the quota's window, seconds")
    ap.add_argument("--concurrency", type=int, default=1, help="jobs per worker process")
    ap.add_argument("--quick", action="store_true", help="1 worker, 1 and 2 companies, 20 docs")
    args = ap.parse_args()
    if args.quick:
        args.workers, args.companies, args.docs = [1], [1, 2], 20
    if max(args.companies) > MAX_COMPANIES:
        ap.error(f"--companies: at most {MAX_COMPANIES}")
    if server_bin() is None:
        print("PostgreSQL's server programs (initdb, pg_ctl) are not installed", file=sys.stderr)
        return 2
    print(
        f"# {args.docs} two-line invoices per company; quota {args.quota} calls per "
        f"{args.window:g} s per company; --concurrency {args.concurrency} per worker process; "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    print_row(list(COLUMNS))
    print_row(["---:"] * len(COLUMNS))
    cells = []
    tmp = Path(tempfile.mkdtemp(prefix="vnimport-scale-"))
    with cluster() as url:
        port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
        postmaster = _postmaster(port)
        for workers in args.workers:
            for companies in args.companies:
                cell = run_cell(url, postmaster, tmp, workers, companies, args)
                cells.append(cell)
                alone = next((c for c in cells if (c.workers, c.companies) == (workers, 1)), None)
                print_row(row(cell, alone))
    bad = [c for c in cells if not c.ok]
    summary = {
        "cells": len(cells),
        "duplicates": sum(c.duplicates for c in cells),
        "missing": sum(c.missing for c in cells),
        "jobs not done": sum(c.not_done for c in cells),
    }
    print(json.dumps(summary))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
