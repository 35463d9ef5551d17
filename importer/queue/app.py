"""The Procrastinate app: the task that runs one job, the recovery task,
the queue's schema and the worker.

- ``vnimport.run`` (queue ``vnimport``) runs one job with
  :func:`importer.jobs.run_job`, deferred with ``lock=`` the company (its
  API address and tenant, :func:`company_lock_name`): Procrastinate never
  lets two jobs with one lock be ``doing`` at once (a unique index on the
  lock where the status is ``doing``), whichever worker, whichever machine.
  The run also holds the company's advisory lock in the journal, the one a
  manual ``vnimport run`` takes.
- ``vnimport.recover`` (queue ``vnimport-recovery``, periodic) finds the
  ``doing`` jobs of workers whose heartbeats stopped
  (``JobManager.get_stalled_jobs``) and puts them back to ``todo``
  (``retry_job``): that frees the company, whose lock *is* the job row's
  ``doing`` status. The retried job runs again from the start; the
  journal's claims make it send each document exactly once (a document the
  dead worker claimed is taken over, one it had sent without recording
  the answer is looked up in Visma first).
- The worker runs two Procrastinate workers in one process: the jobs (as
  many at once as ``concurrency``) and the recovery task on a lane of its
  own, so that a worker busy with long jobs still recovers dead ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importer.errors import ConfigError, JournalError, VnimportError
from importer.queue.config import QueueSettings
from importer.queue.store import Store

__all__ = [
    "QUEUE",
    "RECOVERY_QUEUE",
    "RECOVER_TASK",
    "RUN_TASK",
    "company_lock_name",
    "ensure_schema",
    "make_app",
    "run_worker",
]

QUEUE = "vnimport"
RECOVERY_QUEUE = "vnimport-recovery"
RUN_TASK = "vnimport.run"
RECOVER_TASK = "vnimport.recover"
_SCHEMA_LOCK = 0x766E7073  # "vnps": one worker applies Procrastinate's schema at a time

log = logging.getLogger("vnimport.queue")


def company_lock_name(company: str) -> str:
    """Procrastinate's lock of a company (``Connection.target``: API # tenant)."""
    return f"vnimport-company:{company}"


def local_folder(url: str, env: dict[str, str] | None = None) -> Path:
    """Where this machine keeps its copies of the jobs' files of the queue
    at ``url``: a folder of its own per queue (job ids start at 1 in each,
    so a test queue's and a production queue's copies never meet)."""
    import hashlib

    env = dict(os.environ) if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    which = hashlib.sha256(url.encode()).hexdigest()[:12]
    return Path(base) / "vnimport" / "queue" / which


# ------------------------------------------------------------------ schema


def ensure_schema(url: str, *, apply: bool = True) -> str:
    """Make sure Procrastinate's schema is in the queue's database: applied
    when it is missing (``apply``), under an advisory lock (workers that
    start together apply it once). What was done: "found" or "applied".
    A database out of reach, or a schema missing that cannot be applied, is
    a :class:`ConfigError` that says what to do."""
    import psycopg
    from procrastinate.schema import SchemaManager

    from importer.targets.postgres import _first_line, safe_url

    where = safe_url(url)
    try:
        db = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise ConfigError(
            f"the queue's database {where} is out of reach: {_first_line(exc)}"
        ) from None
    try:
        with db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            found = db.execute(
                "SELECT to_regclass('procrastinate_jobs') IS NOT NULL, "
                "to_regclass('procrastinate_workers') IS NOT NULL, "
                "to_regprocedure('procrastinate_retry_job_v2(bigint, timestamp with time "
                "zone, integer, character varying, character varying)') IS NOT NULL"
            ).fetchone()
            assert found is not None
            if all(found):
                return "found"
            if found[0]:
                raise ConfigError(
                    f"the queue's schema in {where} is from an older Procrastinate: apply "
                    "its migrations (see docs/scale-out.md), then start the worker again"
                )
            if not apply:
                raise ConfigError(
                    f"the queue's schema is missing in {where}: start `vnimport worker` once "
                    "without --check-schema, or have it applied by a role that may create tables"
                )
            db.execute(SchemaManager.get_schema())
            return "applied"
    except psycopg.Error as exc:
        raise ConfigError(
            f"the queue's schema is missing in {where} and cannot be applied: "
            f"{_first_line(exc)} (a role that may create tables must apply it once: "
            "`vnimport worker`, see docs/scale-out.md)"
        ) from None
    finally:
        db.close()


# ------------------------------------------------------------------ the app


class WorkerShutdown(Exception):
    """The worker was asked to stop while the job ran: the job goes back to
    the queue (its documents sent so far are in the journal)."""


class JobFailed(Exception):
    """The job could not run (its report says why): Procrastinate's status
    ``failed``, so that ``vnimport jobs retry`` may run it again."""


@dataclass
class WorkerContext:
    """What the tasks of this process need: the settings, the
    ``vnimport.toml`` the targets are resolved in, where the files are
    copied, and the stop event a shutdown sets."""

    settings: QueueSettings
    config: Path | None
    local: Path
    stop: threading.Event
    say: Callable[[str], None]
    _store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings.url, self.local)
        return self._store


_context: WorkerContext | None = None


def make_app(settings: QueueSettings, *, pool_size: int = 2) -> Any:
    """The Procrastinate app on the queue's database, with vnimport's tasks."""
    from procrastinate import App, PsycopgConnector, RetryStrategy

    connector = PsycopgConnector(
        conninfo=settings.url,
        min_size=1,
        max_size=max(2, pool_size),
        kwargs={"connect_timeout": 10, "application_name": "vnimport worker"},
    )
    app = App(connector=connector)
    app.task(
        name=RUN_TASK,
        queue=QUEUE,
        pass_context=True,
        retry=RetryStrategy(retry_exceptions=[WorkerShutdown], max_attempts=1000),
    )(_run_task)
    recover = app.task(
        name=RECOVER_TASK,
        queue=RECOVERY_QUEUE,
        pass_context=True,
        queueing_lock="vnimport-recover",
    )(_recover_task)
    app.periodic(cron=_cron(settings.recover_every), periodic_id="recover")(recover)
    return app


def _cron(seconds: float) -> str:
    """A cron line for "every ``seconds``": whole seconds below a minute
    (Procrastinate's sixth column), whole minutes above."""
    if seconds < 60:
        return f"* * * * * */{max(1, round(seconds))}"
    return f"*/{max(1, round(seconds / 60))} * * * *"


def _run_task(context: Any, job_id: int) -> None:
    """Run the vnimport job ``job_id`` (Procrastinate's task ``vnimport.run``)."""
    from procrastinate.exceptions import JobAborted

    worker = _context
    if worker is None:
        raise RuntimeError("the vnimport task runs in `vnimport worker`")
    store = worker.store
    queued = store.get(job_id)
    if queued is None:
        raise JobFailed(f"job {job_id} has no row in vnimport_jobs")
    attempt = queued.attempts + 1
    where = f"pid {os.getpid()} on {socket.gethostname()}"
    store.update(job_id, state="running", attempts=attempt, worker=where, started=time.time())
    worker.say(
        f"job {job_id}: {queued.doctype} {queued.mode} into {queued.target} "
        f"({queued.file_name}), attempt {attempt}"
    )
    stop = threading.Event()
    aborted = threading.Event()
    done = threading.Event()

    def watch() -> None:  # a cancel (abort) or the worker's shutdown stops the run
        while not done.wait(0.5):
            if context.should_abort():
                aborted.set()
                stop.set()
            if worker.stop.is_set():
                stop.set()

    watcher = threading.Thread(target=watch, name=f"vnimport-job-{job_id}", daemon=True)
    watcher.start()
    try:
        result = _run(worker, queued, stop)
    finally:
        done.set()
        watcher.join()
    if aborted.is_set():
        message = "cancelled while it ran: " + (result.message or "stopped")
        store.update(job_id, state="cancelled", ended=time.time(), message=message)
        raise JobAborted(f"job {job_id} cancelled")
    if worker.stop.is_set() and result.state != "done":
        store.update(job_id, state="queued", message="the worker stopped: back in the queue")
        raise WorkerShutdown(f"job {job_id}: the worker stopped")
    worker.say(f"job {job_id}: {result.state}: {result.summary}")
    if result.state == "failed" and result.exit_code == 2:
        raise JobFailed(result.message)


@dataclass
class _Outcome:
    state: str
    exit_code: int
    message: str
    summary: str


def _run(worker: WorkerContext, queued: Any, stop: threading.Event) -> _Outcome:
    """Fetch the job's files, resolve its target here, run it, store its
    report; what came of it."""
    from dataclasses import replace

    from importer.documents import by_document
    from importer.jobs import Job, run_job
    from importer.register import queue_journal
    from importer.settings import is_url, load_target

    store = worker.store
    job_id = int(queued.id)
    folder = worker.local / "jobs" / str(job_id)
    try:
        target = load_target(queued.target, config=worker.config)
        if target.connection.target != queued.company:
            raise ConfigError(
                f"the target {queued.target!r} of this worker's vnimport.toml is the company "
                f"{target.connection.target}, but the job was queued for {queued.company}: "
                "every machine must name the same company the same way"
            )
        if target.journal and not is_url(target.journal):
            raise ConfigError(
                f"the target {queued.target!r} keeps its journal in a file ({target.journal}); "
                "a queued job needs the journal every worker shares: a postgresql:// address "
                "(or none: the queue's database)"
            )
        journal = queue_journal(target.journal, worker.settings.url)
        file = store.files.local_path(queued.file_key)
        if file is None:
            raise ConfigError(f"job {job_id}: its file {queued.file_key} is no longer stored")
        mapping = store.files.local_path(queued.mapping_key) if queued.mapping_key else None
        options = queued.options
        job = Job(
            file=file,
            doctype=queued.doctype,
            target=queued.target,
            mode=queued.mode,
            mapping=mapping,
            sheet=options.get("sheet"),
            release=bool(options.get("release", False)),
            preflight=options.get("preflight"),
            yes=bool(options.get("yes", False)),
            workers=int(options.get("workers", 4)),
            edits=tuple(options.get("edits", ())),
            name=str(options.get("name", "")),
            mapping_name=str(options.get("mapping_name", "")),
            by=str(options.get("by", "")),
            journal=journal,
            report=folder / "report",
        )
    except (VnimportError, OSError) as exc:
        message = str(exc)
        store.update(job_id, state="failed", exit_code=2, message=message, ended=time.time())
        return _Outcome("failed", 2, message, message)
    result = run_job(
        replace(job),
        stop=stop,
        config=worker.config,
        job_id=str(job_id),
        company_wait=None,
    )
    reports: dict[str, str] = {}
    for kind, path in result.paths.items():
        key = f"jobs/{job_id}/{path.name}"
        store.files.put_path(key, path)
        reports[kind] = key
    # the summary and one line per document, as the web app shows a run
    # it ran itself: the page of a queued run reads them from here
    documents = {
        "summary": result.report.summary(),
        "by_document": by_document(result.report.results),
    }
    key = f"jobs/{job_id}/documents.json"
    store.files.put(key, json.dumps(documents, ensure_ascii=False).encode(), name="documents.json")
    reports["documents"] = key
    counts = result.counts
    fatal = result.fatal
    state = "failed" if fatal or result.exit_code else "done"
    stopped = bool(fatal and fatal[0] == "stopped")
    message = fatal[1] if fatal else "; ".join(result.problems(3))
    store.update(
        job_id,
        state="queued" if stopped and worker.stop.is_set() else state,
        counts=counts,
        run_id=result.run_id,
        exit_code=result.exit_code,
        message=message[:2000],
        reports=reports,
        ended=time.time(),
    )
    summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or message
    return _Outcome(state, result.exit_code, message, summary)


async def _recover_task(context: Any, timestamp: int) -> None:
    """Put the jobs of dead workers (no heartbeat for ``stalled_after``)
    back in the queue: their company's lock is freed with them."""
    worker = _context
    if worker is None:
        return
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(
        task_name=RUN_TASK, seconds_since_heartbeat=worker.settings.stalled_after
    )
    for job in stalled:
        try:
            await manager.retry_job(job)
        except Exception as exc:  # finished or retried meanwhile
            log.info("job %s not re-queued: %s", job.id, exc)
            continue
        job_id = int(job.task_kwargs.get("job_id", 0))
        message = (
            f"re-queued: its worker stopped sending heartbeats for "
            f"{worker.settings.stalled_after:g} s (killed, or its machine lost)"
        )
        await asyncio.to_thread(worker.store.update, job_id, state="queued", message=message)
        worker.say(f"job {job_id}: {message}")


# ------------------------------------------------------------------ worker


def run_worker(
    settings: QueueSettings,
    *,
    config: Path | None = None,
    wait: bool = True,
    say: Callable[[str], None] = lambda text: None,
) -> int:
    """Run jobs until SIGTERM or Ctrl-C (``wait``), or until the queue is
    empty. A stop lets the jobs running stop after their document in
    flight, and puts them back in the queue."""
    global _context
    store = Store(settings.url, local_folder(settings.url))  # the tables, before any job
    stop = threading.Event()
    _context = WorkerContext(settings, config, local_folder(settings.url), stop, say, store)
    app = make_app(settings, pool_size=settings.concurrency + 4)
    logging.getLogger("procrastinate").setLevel(logging.WARNING)

    common: dict[str, Any] = {
        "wait": wait,
        "install_signal_handlers": False,
        "update_heartbeat_interval": settings.heartbeat,
        "stalled_worker_timeout": settings.stalled_after,
        "fetch_job_polling_interval": settings.poll,
        "abort_job_polling_interval": min(settings.poll, 1.0),
        "delete_jobs": "never",
    }

    async def main() -> None:
        async with app.open_async():
            tasks = [
                asyncio.create_task(
                    app.run_worker_async(
                        queues=[QUEUE],
                        concurrency=settings.concurrency,
                        name=f"vnimport-{socket.gethostname()}-{os.getpid()}",
                        **common,
                    )
                ),
                asyncio.create_task(
                    app.run_worker_async(
                        queues=[RECOVERY_QUEUE],
                        concurrency=1,
                        name=f"vnimport-recovery-{os.getpid()}",
                        **common,
                    )
                ),
            ]
            loop = asyncio.get_running_loop()

            def on_signal() -> None:
                if not stop.is_set():
                    say("stopping: the jobs running stop after the document in flight")
                stop.set()
                for task in tasks:
                    task.cancel()

            for name in ("SIGINT", "SIGTERM"):
                with contextlib.suppress(NotImplementedError, AttributeError):
                    loop.add_signal_handler(getattr(signal, name), on_signal)
            if wait:
                await asyncio.gather(*tasks, return_exceptions=True)
            else:
                # --once: the jobs' lane decides; the recovery lane goes with it
                await asyncio.gather(tasks[0], return_exceptions=True)
                tasks[1].cancel()
                await asyncio.gather(tasks[1], return_exceptions=True)

    try:
        asyncio.run(main())
    except OSError as exc:
        raise JournalError(f"the worker lost its database: {exc}") from None
    finally:
        _context = None
    return 0


def log_line(text: str) -> None:
    """A line of the worker's log on stderr, with the time."""
    with contextlib.suppress(OSError, ValueError):
        print(time.strftime("%Y-%m-%d %H:%M:%S ") + text, file=sys.stderr, flush=True)
