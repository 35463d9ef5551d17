"""Queued jobs on PostgreSQL, run by workers on any number of machines.

A job (:class:`importer.jobs.Job`: a file for one target, type and mode,
with its options and mapping) is queued with :func:`enqueue`: its file and
mapping are stored in the queue's database (``jobs/<id>/...``, the web
app's file table), its row in ``vnimport_jobs`` (:mod:`importer.queue.store`),
and a Procrastinate job deferred with the company's lock. ``vnimport
worker`` (:func:`importer.queue.app.run_worker`) runs them, one job per
company at a time across every worker, with :func:`importer.jobs.run_job`.

The job carries the target's name, never a secret: each worker resolves
the name in its own ``vnimport.toml``. The folder watcher and the web app
queue their jobs through :func:`enqueue` and follow them with
:func:`job_status` (and :func:`report_file`) when a queue is configured
(:func:`importer.queue.config.queue_url`). See docs/scale-out.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer.errors import ConfigError, JournalError, VnimportError
from importer.queue.config import QueueSettings, queue_settings, queue_url

if TYPE_CHECKING:
    from importer.queue.store import QueuedJob, Store


def __getattr__(name: str) -> Any:
    """``QueuedJob`` on first use: importing the package (the command line
    does, for its commands) loads no database driver or HTTP client."""
    if name == "QueuedJob":
        from importer.queue.store import QueuedJob

        return QueuedJob
    raise AttributeError(name)


__all__ = [
    "QueueSettings",
    "QueuedJob",
    "cancel_job",
    "enqueue",
    "find_job",
    "job_status",
    "list_jobs",
    "queue_settings",
    "queue_url",
    "report_file",
    "report_files",
    "retry_job",
    "target_company",
]


class JobNotFound(ConfigError):
    code = "no-such-job"


def target_company(name: str, config: Path | None = None) -> str:
    """The company (API address # tenant, the lock's key) of the target
    ``name`` of ``vnimport.toml``, read without its secret (the machine
    that queues may not hold it)."""
    from importer.settings import CONFIG_FILE, Connection, _targets, load_target, read_config

    path = config or Path(CONFIG_FILE)
    read_config(path)
    table = _targets(path).get(name)
    if table is None or not table.get("base_url") or not table.get("tenant_id"):
        load_target(name, config=config)  # says what is missing, and how to write it
        raise ConfigError(f"the target {name!r} of {path} has no base_url or tenant_id")
    return Connection(
        base_url=str(table["base_url"]),
        token_url="",
        client_id="",
        client_secret="",
        tenant_id=str(table["tenant_id"]),
    ).target


@contextlib.contextmanager
def _opened(url: str) -> Iterator[tuple[Any, Store]]:
    """The Procrastinate app (opened synchronously) and the store, on ``url``."""
    from importer.queue.app import ensure_schema, local_folder, make_app

    try:
        ensure_schema(url, apply=False)
        from importer.queue.store import Store

        store = Store(url, local_folder(url))
        app = make_app(QueueSettings(url=url))
        app.open()
    except VnimportError:
        raise
    except Exception as exc:  # the driver's, the connector's: the queue out of reach
        from importer.targets.postgres import safe_url

        raise JournalError(f"the queue at {safe_url(url)} is out of reach: {_first(exc)}") from None
    try:
        yield app, store
    finally:
        app.close()


def _first(exc: BaseException) -> str:
    from importer.targets.postgres import safe_url

    lines = str(exc).strip().splitlines()
    return safe_url(lines[0]) if lines else type(exc).__name__


def _url(given: str | None, config: Path | None) -> str:
    return given or queue_settings(config=config).url


def enqueue(
    job: Any, queue: str | None = None, *, config: Path | None = None, origin: str = ""
) -> int:
    """Queue ``job`` (a :class:`importer.jobs.Job` with a target name);
    its id. ``queue``: the queue's address (default: ``VNIMPORT_QUEUE``,
    else ``[queue] url``). A file queued already for the same company, type
    and mode and not started yet is not queued twice: its job's id.
    ``origin``: who queued it, in words of its own (the folder watcher's
    token for one file), kept with the job for :func:`find_job`."""
    from procrastinate.exceptions import AlreadyEnqueued

    from importer.jobs import file_sha256
    from importer.queue.app import RUN_TASK, company_lock_name

    if not job.target:
        raise ConfigError(
            "a queued job names its target (--target NAME, a [targets.NAME] of vnimport.toml): "
            "the worker finds the company's connection under that name in its own vnimport.toml"
        )
    if job.journal:
        raise ConfigError(
            "a queued job uses the worker's journal (its target's journal, else the queue's "
            "database), not one given with the job"
        )
    url = _url(queue, config)
    company = target_company(job.target, config)
    sha = file_sha256(job.file)
    data = Path(job.file).read_bytes()
    mapping = Path(job.mapping).read_bytes() if job.mapping else None
    if mapping is not None and _reads_value_files(mapping):
        raise ConfigError(
            f"the mapping {Path(job.mapping).name} reads value maps from files beside it "
            "([values.X] file = ...), which a worker on another machine does not have: "
            "write the values into the mapping file, or run the file with vnimport run"
        )
    options = {
        "sheet": job.sheet,
        "release": job.release,
        "preflight": job.preflight,
        "yes": job.yes,
        "workers": job.workers,
    }
    if job.by:  # who queued it, as the journal is to say
        options["by"] = job.by
    if job.name or job.mapping_name:  # what the user calls the file and the mapping
        options["name"], options["mapping_name"] = job.name, job.mapping_name
    if job.edits:  # cells changed in the web app's page: they go into the job's report
        options["edits"] = [dict(e) for e in job.edits]
    if origin:
        options["origin"] = origin
    with _opened(url) as (app, store):
        job_id = store.add(
            target=job.target,
            company=company,
            doctype=job.doctype,
            mode=job.mode,
            file_name=Path(job.file).name,
            sha256=sha,
            options=options,
        )
        from importer.queue.store import file_key

        key = file_key(job_id, Path(job.file).name)
        store.files.put(key, data, name=Path(job.file).name)
        values: dict[str, Any] = {"file_key": key}
        if mapping is not None:
            values["mapping_key"] = file_key(job_id, "mapping.toml")
            store.files.put(values["mapping_key"], mapping, name=Path(job.mapping).name)
        store.update(job_id, **values)
        # the same file waiting for the same company is queued once: the same
        # bytes read the same way (mapping and options too), else a new job
        how = hashlib.sha256(
            (mapping or b"") + json.dumps(options, sort_keys=True, default=str).encode()
        ).hexdigest()[:16]
        queueing = f"vnimport-file:{company}:{job.doctype}:{job.mode}:{sha}:{how}"
        try:
            deferred = app.configure_task(
                RUN_TASK, lock=company_lock_name(company), queueing_lock=queueing
            ).defer(job_id=job_id)
        except AlreadyEnqueued:
            store.files.delete_prefix(f"jobs/{job_id}/")
            store.db.execute("DELETE FROM vnimport_jobs WHERE id = ?", (job_id,))
            found = store.db.one(
                "SELECT j.id FROM vnimport_jobs j JOIN procrastinate_jobs p "
                "ON p.id = j.procrastinate_id WHERE p.queueing_lock = ? AND p.status = 'todo'",
                (queueing,),
            )
            if found is None:
                raise
            return int(found[0])
        store.update(job_id, procrastinate_id=int(deferred))
    return job_id


def job_status(job_id: int, queue: str | None = None, *, config: Path | None = None) -> QueuedJob:
    """The job ``job_id`` as the queue knows it now (state, counts, run id,
    report keys); :class:`ConfigError` when there is none."""
    with _opened(_url(queue, config)) as (_, store):
        found = store.get(job_id)
    if found is None:
        raise JobNotFound(f"no job {job_id} in the queue")
    return found


def _reads_value_files(mapping: bytes) -> bool:
    """Whether a mapping file reads a value map from a file of its own."""
    import tomllib

    try:
        data = tomllib.loads(mapping.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError):
        return False  # the worker says what is wrong with it, on the job
    values = data.get("values", {})
    return isinstance(values, dict) and any(
        isinstance(v, dict) and "file" in v for v in values.values()
    )


def find_job(
    origin: str, queue: str | None = None, *, config: Path | None = None
) -> QueuedJob | None:
    """The newest job queued with ``origin`` (:func:`enqueue`); ``None``
    when there is none (a queuer that died between deciding to queue and
    remembering the id asks this before queueing again)."""
    with _opened(_url(queue, config)) as (_, store):
        row = store.db.one(
            # a row never deferred (its queuer died in between) is no job
            "SELECT id FROM vnimport_jobs WHERE options::jsonb ->> 'origin' = ? "
            "AND procrastinate_id IS NOT NULL ORDER BY id DESC LIMIT 1",
            (origin,),
        )
        return store.get(int(row[0])) if row is not None else None


def list_jobs(
    queue: str | None = None, *, config: Path | None = None, limit: int = 100
) -> list[QueuedJob]:
    """The newest jobs first."""
    with _opened(_url(queue, config)) as (_, store):
        return store.listing(limit)


def report_file(
    job_id: int, kind: str, queue: str | None = None, *, config: Path | None = None
) -> bytes | None:
    """A finished job's report file (``json``, ``csv``, ``xlsx``, ``fixme``),
    whichever machine ran it; ``None`` when it has none."""
    with _opened(_url(queue, config)) as (_, store):
        found = store.get(job_id)
        if found is None or kind not in found.reports:
            return None
        stored = store.files.get(found.reports[kind])
    return stored.data if stored is not None else None


def report_files(
    job_id: int, queue: str | None = None, *, config: Path | None = None
) -> dict[str, bytes]:
    """Every report file of a finished job (kind: ``json``, ``csv``,
    ``xlsx``, ``fixme``), in one visit to the queue's database."""
    out: dict[str, bytes] = {}
    with _opened(_url(queue, config)) as (_, store):
        found = store.get(job_id)
        for kind, key in (found.reports if found is not None else {}).items():
            stored = store.files.get(key)
            if stored is not None:
                out[kind] = stored.data
    return out


def cancel_job(job_id: int, queue: str | None = None, *, config: Path | None = None) -> str:
    """Cancel a job: a queued one is never run; a running one stops after
    the document in flight. What was done, in words."""
    with _opened(_url(queue, config)) as (app, store):
        found = store.get(job_id)
        if found is None:
            raise JobNotFound(f"no job {job_id} in the queue")
        status = found.queue_status
        if found.procrastinate_id is None or status not in ("todo", "doing"):
            raise ConfigError(f"job {job_id} is {found.shown_state}: only a queued or running job "
                              "can be cancelled")  # fmt: skip
        manager = app.job_manager
        if manager.cancel_job_by_id(found.procrastinate_id):
            store.update(job_id, state="cancelled", message="cancelled before it ran")
            return f"job {job_id} cancelled: it will not run"
        if manager.cancel_job_by_id(found.procrastinate_id, abort=True):
            return f"job {job_id} is running: it stops after the document in flight"
    raise ConfigError(f"job {job_id} has just ended: nothing to cancel")


def retry_job(job_id: int, queue: str | None = None, *, config: Path | None = None) -> str:
    """Queue a failed, cancelled or finished job again (the journal keeps
    what it sent: only what is not in Visma yet is sent). What was done."""
    from importer.queue.app import RUN_TASK, company_lock_name

    with _opened(_url(queue, config)) as (app, store):
        found = store.get(job_id)
        if found is None:
            raise JobNotFound(f"no job {job_id} in the queue")
        if found.queue_status in ("todo", "doing"):
            state = "queued" if found.queue_status == "todo" else "running"
            raise ConfigError(
                f"job {job_id} is {state}: nothing to retry (a job whose worker died is "
                "re-queued by the recovery task once its heartbeats stop)"
            )
        deferred = app.configure_task(RUN_TASK, lock=company_lock_name(found.company)).defer(
            job_id=job_id
        )
        store.update(
            job_id,
            procrastinate_id=int(deferred),
            state="queued",
            message="queued again by hand",
            ended=None,
        )
    return f"job {job_id} queued again"
