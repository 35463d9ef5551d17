"""The queue: jobs in PostgreSQL (Procrastinate), run by worker processes
(``python -m importer worker``), one job per company at a time, a killed
worker's job recovered and finished with every document exactly once.

Real PostgreSQL (tests/postgres.py), a real sandbox holding several
companies (its record of calls per tenant and job), real worker processes.
Every interval is a parameter; nothing assumes a speed: the tests poll with
generous deadlines.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import write_csv

from importer.jobs import Job
from importer.sandbox import Faults, Sandbox, SandboxConfig
from importer.sandbox.config import DEMO_CLIENT, DEMO_SECRET

HEADER = [
    "referenceNumber", "customerNumber", "documentDate", "invoiceText",
    "invoiceLines.inventoryNumber", "invoiceLines.quantity", "invoiceLines.unitPriceInCurrency",
]  # fmt: skip
SECRET_ENV = "VNIMPORT_TEST_QUEUE_SECRET"
# Seconds: generous, for a slow machine; nothing waits for it when all is well.
DEADLINE = float(os.environ.get("VNIMPORT_TEST_DEADLINE", "240"))
# a worker is taken for dead after 15 missed heartbeats: a live one on a loaded
# machine is never; the test that kills one waits that long, not more
FAST = ["--heartbeat", "1", "--stalled-after", "15", "--recover-every", "1", "--poll", "0.5"]


@pytest.fixture(name="queue")
def queue_fixture(postgres: str) -> str:
    """A new, empty database for the queue (and the journal: the targets name none)."""
    from postgres import fresh_database

    return fresh_database(postgres, f"q{uuid.uuid4().hex[:12]}")


def _customer(sb: Sandbox, tenant: str) -> None:
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
    assert reply.status_code == 201, reply.text


def _invoices(path: Path, prefix: str, count: int) -> Path:
    rows: list[list[object]] = [HEADER]
    for i in range(count):
        for j, item in enumerate(("000123", "000245")):
            rows.append([f"{prefix}-{i:03d}", "10000", "2025-03-03", "Mars", item, j + 1, 10])
    return write_csv(path, rows)


def _config(folder: Path, sandboxes: dict[str, tuple[Sandbox, str]]) -> Path:
    """A vnimport.toml with one target per company; the secret in the
    environment (SECRET_ENV), never in the file."""
    lines = []
    for name, (sb, tenant) in sandboxes.items():
        lines += [
            f"[targets.{name}]",
            f'base_url = "{sb.url}"',
            f'token_url = "{sb.token_url}"',
            f'client_id = "{DEMO_CLIENT}"',
            f'client_secret_env = "{SECRET_ENV}"',
            f'tenant_id = "{tenant}"',
            'kind = "test"',
            "",
        ]
    path = folder / "vnimport.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _env(folder: Path, queue: str, machine: str) -> dict[str, str]:
    """A worker's environment: its own state and cache folders (another machine)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNIMPORT_")}
    env.update(
        VNIMPORT_QUEUE=queue,
        XDG_CACHE_HOME=str(folder / machine / "cache"),
        XDG_STATE_HOME=str(folder / machine / "state"),
        PYTHONUNBUFFERED="1",
    )
    env[SECRET_ENV] = DEMO_SECRET
    return env


class Workers:
    """Worker processes started in ``folder`` (where vnimport.toml is)."""

    def __init__(self, folder: Path, queue: str) -> None:
        self.folder = folder
        self.queue = queue
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, *options: str, machine: str = "") -> subprocess.Popen[str]:
        machine = machine or f"machine-{len(self.procs) + 1}"
        with (self.folder / f"{machine}.log").open("w", encoding="utf-8") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "importer", "worker", *FAST, *options],
                cwd=self.folder,
                env=_env(self.folder, self.queue, machine),
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def logs(self) -> str:
        return "\n".join(p.read_text(encoding="utf-8") for p in self.folder.glob("*.log"))


@pytest.fixture(name="workers")
def workers_fixture(tmp_path: Path, queue: str) -> Iterator[Workers]:
    found = Workers(tmp_path, queue)
    yield found
    found.stop()


def _vnimport(folder: Path, queue: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "importer", *argv],
        cwd=folder,
        env=_env(folder, queue, "cli"),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _until(what: str, check: Callable[[], Any], workers: Workers | None = None) -> Any:
    """Poll ``check`` until it gives something true; fail after DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    logs = workers.logs()[-4000:] if workers else ""
    pytest.fail(f"not within {DEADLINE:.0f} s: {what}\n{logs}")


def _states(queue: str) -> dict[int, str]:
    from importer.queue import list_jobs

    return {j.id: j.shown_state for j in list_jobs(queue, limit=1000)}


def _sql(queue: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(queue, autocommit=True) as db:
        cursor = db.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def _intervals(sb: Sandbox, tenant: str) -> list[tuple[float, float, str]]:
    """Each job's [first call, last call] on ``tenant``, from the sandbox's record."""
    spans: dict[str, list[float]] = {}
    for call in sb.calls(tenant):
        if not call.job:  # the test's own setup
            continue
        span = spans.setdefault(call.job, [call.start, call.end])
        span[0], span[1] = min(span[0], call.start), max(span[1], call.end)
    return sorted((a, b, job) for job, (a, b) in spans.items())


# ------------------------------------------------------------------ tests


def test_three_workers_five_companies_ten_files_each_document_once_one_job_per_company(
    tmp_path: Path, queue: str, workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    companies = 5
    # Each call takes a while, so that without the lock a company's two jobs would meet.
    with Sandbox(SandboxConfig(companies=companies, faults=Faults(latency_ms=20))) as sb:
        tenants = [f"company-{i}" for i in range(1, companies + 1)]
        for tenant in tenants:
            _customer(sb, tenant)
        # Two names for company-1: they share its lock.
        targets = {f"c{i}": (sb, t) for i, t in enumerate(tenants, 1)}
        targets["alias1"] = (sb, tenants[0])
        config = _config(tmp_path, targets)
        monkeypatch.chdir(tmp_path)
        from importer.queue import enqueue
        from importer.queue.app import ensure_schema

        assert ensure_schema(queue) == "applied"  # as a first worker would

        expected: dict[str, set[str]] = collections.defaultdict(set)
        ids = []
        for n in range(10):
            name = "alias1" if n == 5 else f"c{n % companies + 1}"
            tenant = targets[name][1]
            file = _invoices(tmp_path / f"f{n}.csv", f"F{n}", 6)
            expected[tenant] |= {f"F{n}-{i:03d}" for i in range(6)}
            ids.append(enqueue(Job(file=file, doctype="customer_invoice", target=name), queue,
                               config=config))  # fmt: skip
        for _ in range(3):
            workers.start("--concurrency", "2")
        _until("every job done", lambda: set(_states(queue).values()) == {"done"}, workers)

        for tenant in tenants:
            refs = collections.Counter(
                d.get("referenceNumber") for d in sb.documents("customer_invoice", tenant)
            )
            assert set(refs) == expected[tenant], tenant  # none missing, none foreign
            assert max(refs.values()) == 1, tenant  # none twice
            spans = _intervals(sb, tenant)
            assert len(spans) == 2 and {job for _, _, job in spans} <= {str(i) for i in ids}
            for (_, end, job), (start, _, other) in itertools.pairwise(spans):
                assert end <= start, f"{tenant}: jobs {job} and {other} overlap"
        # Two names for company-1 (c1 and alias1): its jobs still one after the other.
        assert {job for _, _, job in _intervals(sb, tenants[0])} == {str(ids[0]), str(ids[5])}
        rows = _sql(queue, "SELECT run_id, counts FROM vnimport_jobs")
        assert all(run for run, _ in rows)
        assert sorted(json.loads(c)["created"] for _, c in rows) == [12] * 10


def test_a_worker_killed_mid_job_is_recovered_and_its_job_finished_once(
    tmp_path: Path, queue: str, workers: Workers
) -> None:
    window = 600.0  # the quota's window: the first worker waits in it for Visma
    shift = [0.0]
    config = SandboxConfig(
        companies=1, quota="test", rate_limit=16, rate_window=window,
        clock=lambda: time.time() + shift[0],
    )  # fmt: skip
    with Sandbox(config) as sb:
        tenant = "company-1"
        _customer(sb, tenant)
        _config(tmp_path, {"acme": (sb, tenant)})
        file = _invoices(tmp_path / "held.csv", "H", 20)  # not over PREFLIGHT_FROM
        from importer.queue.app import ensure_schema

        ensure_schema(queue)
        enqueued = _vnimport(tmp_path, queue, "enqueue", str(file), "--type", "customer_invoice",
                             "--target", "acme")  # fmt: skip
        assert enqueued.returncode == 0, enqueued.stderr
        job_id = int(enqueued.stdout.strip())
        first = workers.start("--concurrency", "1", machine="doomed")
        # The quota (16 calls, the test's own one of them) runs out mid-job:
        # the worker waits for the next window, holding its company.
        _until("the job holds its company, waiting for Visma",
               lambda: len(sb.calls(tenant)) == 16, workers)  # fmt: skip
        sent = sb.count("customer_invoice", tenant)
        assert 0 < sent < 20 and _states(queue)[job_id] == "running"

        # A manual run on the same company, journal shared, is refused and told who holds it.
        manual = _vnimport(tmp_path, queue, "run", str(file), "--type", "customer_invoice",
                           "--target", "acme", "--journal", queue, "--company-wait", "0",
                           "--report", str(tmp_path / "manual"))  # fmt: skip
        assert manual.returncode == 2
        assert f"is busy: vnimport job {job_id} (pid {first.pid}" in manual.stderr
        assert sb.count("customer_invoice", tenant) == sent and len(sb.calls(tenant)) == 16

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        # Its documents waiting for the quota are "sending" in the journal
        # (never sent); and say it had sent one more and died before it
        # could record Visma's answer: that one is "sending" too.
        [(key,)] = _sql(queue, "SELECT key FROM entries WHERE state = 'created' "
                        "ORDER BY key DESC LIMIT 1")  # fmt: skip
        _sql(queue, "UPDATE entries SET state = 'sending', number = '', http_status = NULL "
             "WHERE key = %s", (key,))  # fmt: skip
        shift[0] += window  # the next window: the quota is back
        workers.start("--concurrency", "1", machine="rescuer")
        _until("the job done by the second worker", lambda: _states(queue)[job_id] == "done",
               workers)  # fmt: skip

        refs = collections.Counter(
            d.get("referenceNumber") for d in sb.documents("customer_invoice", tenant)
        )
        assert refs == {f"H-{i:03d}": 1 for i in range(20)}  # each exactly once
        creates = [c for c in sb.calls(tenant, job=str(job_id)) if c.method == "POST"]
        assert len(creates) == 20  # the one in doubt was looked up, never sent again
        from importer.queue import job_status

        job = job_status(job_id, queue)
        assert job.attempts == 2 and "rescuer" not in job.worker  # a pid and a host
        assert job.counts.get("failed", 0) == 0
        assert "re-queued" in workers.logs()
        locks = _sql(queue, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'")
        assert locks == [(0,)]


def test_enqueue_list_cancel_retry_and_no_secret_in_the_queue(
    tmp_path: Path, queue: str, workers: Workers
) -> None:
    with Sandbox(SandboxConfig(companies=1)) as sb:
        _customer(sb, "company-1")
        _config(tmp_path, {"acme": (sb, "company-1")})
        file = _invoices(tmp_path / "a b.csv", "A", 3)

        def vn(*argv: str) -> subprocess.CompletedProcess[str]:
            return _vnimport(tmp_path, queue, *argv)

        # No schema yet: enqueue says what to do.
        missing = vn("enqueue", str(file), "--type", "customer_invoice", "--target", "acme")
        assert missing.returncode == 2 and "schema is missing" in missing.stderr
        once = workers.start("--once", "--check-schema")
        assert once.wait(timeout=120) == 2
        assert "schema is missing" in workers.logs()
        assert workers.start("--once").wait(timeout=120) == 0  # applies it; nothing to run

        made = vn("enqueue", str(file), "--type", "customer_invoice", "--target", "acme")
        assert made.returncode == 0, made.stderr
        job_id = int(made.stdout)
        again = vn("enqueue", str(file), "--type", "customer_invoice", "--target", "acme")
        assert int(again.stdout) == job_id  # the same file, still queued: not queued twice
        listed = json.loads(vn("jobs", "list", "--json").stdout)
        assert [(j["id"], j["state"], j["target"]) for j in listed] == [(job_id, "queued", "acme")]
        assert vn("jobs", "cancel", str(job_id)).stdout.strip().endswith("it will not run")
        assert json.loads(vn("jobs", "show", str(job_id), "--json").stdout)["state"] == "cancelled"
        refused = vn("jobs", "cancel", str(job_id))
        assert refused.returncode == 2 and "is cancelled" in refused.stderr
        assert vn("jobs", "retry", str(job_id)).returncode == 0
        assert workers.start("--once").wait(timeout=DEADLINE) == 0
        shown = json.loads(vn("jobs", "show", str(job_id), "--json").stdout)
        assert (shown["state"], shown["counts"]) == ("done", {"created": 6})
        assert set(shown["reports"]) >= {"json", "csv", "xlsx"}
        from importer.queue import report_file

        report = json.loads(report_file(job_id, "json", queue) or b"{}")
        assert report["counts"] == {"created": 6}
        # Again: the journal knows the documents; nothing is sent twice.
        assert vn("jobs", "retry", str(job_id)).returncode == 0
        assert workers.start("--once").wait(timeout=DEADLINE) == 0
        shown = json.loads(vn("jobs", "show", str(job_id), "--json").stdout)
        assert shown["counts"] == {"unchanged": 6}
        assert sb.count("customer_invoice", "company-1") == 3
        assert vn("jobs", "retry", "999").returncode == 2
        assert "no job 999" in vn("jobs", "show", "999").stderr

        # A job carries the target's name, never a secret: not in its rows, not in its args.
        dump = json.dumps(
            [_sql(queue, "SELECT * FROM vnimport_jobs"),
             _sql(queue, "SELECT args, lock, queueing_lock FROM procrastinate_jobs")],
            default=str,
        )  # fmt: skip
        assert DEMO_SECRET not in dump and "acme" in dump


def test_the_queue_settings_are_checked(tmp_path: Path) -> None:
    from importer.errors import ConfigError
    from importer.queue.config import queue_settings
    from importer.settings import read_config

    path = tmp_path / "vnimport.toml"
    path.write_text('[queue]\nurl = "postgresql://u@h/d"\nconcurrency = 2\nheartbeat = 3\n')
    settings = queue_settings(env={}, config=path)
    assert (settings.concurrency, settings.heartbeat, settings.stalled_after) == (2, 3.0, 60.0)
    assert queue_settings(env={}, config=path, concurrency=7).concurrency == 7
    path.write_text('[queue]\nurl = "mysql://x"\nconcurency = 2\nheartbeat = 0\n')
    with pytest.raises(ConfigError) as caught:
        read_config(path)
    text = str(caught.value)
    assert "PostgreSQL address" in text and "did you mean 'concurrency'" in text
    assert "heartbeat is a number of seconds above 0" in text
    with pytest.raises(ConfigError, match="no queue is configured: set VNIMPORT_QUEUE"):
        queue_settings(env={}, config=tmp_path / "none.toml")
    path.write_text("[queue]\nheartbeat = 30\nstalled_after = 10\n")
    with pytest.raises(ConfigError, match="must be longer than heartbeat"):
        queue_settings(env={"VNIMPORT_QUEUE": "postgresql://u:pw@h/d"}, config=path)
    assert "pw" not in repr(queue_settings(env={"VNIMPORT_QUEUE": "postgresql://u:pw@h/d"},
                                           config=tmp_path / "none.toml"))  # fmt: skip


def test_an_unreachable_queue_is_said_plainly(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://vn:hunter2@127.0.0.1:{port}/q"
    done = _vnimport(tmp_path, url, "worker", "--once")
    assert done.returncode == 2
    assert "the queue's database postgresql://vn:***@127.0.0.1" in done.stderr
    assert "out of reach" in done.stderr and "hunter2" not in done.stderr
