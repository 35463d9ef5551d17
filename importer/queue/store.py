"""What the queue keeps beside Procrastinate's tables, in the same database:
each job's row (``vnimport_jobs``) and its files (``web_files``, through
:class:`importer.web.files.Files`).

Why a table of our own and not Procrastinate's job attributes: a
Procrastinate job's ``args`` are what it was deferred with, never written
again, and its ``status`` says only todo, doing, succeeded, failed,
cancelled or aborted. A vnimport job needs more, written as it goes and
read by whoever asks, whichever machine ran it: how far it got (queued,
running, done, failed, cancelled), its counts per row status, the id of
its run in the journal (``vnimport runs show``), the keys of its report
files, which worker ran it and how many attempts it took. A job that is
retried by hand is a new Procrastinate job for the same vnimport job, so
the row outlives the Procrastinate job it points to (``procrastinate_id``,
the newest). Procrastinate's status is read beside it (a join) for what
only the queue knows: that a job is waiting for its company, or that its
worker crashed before it could write anything.

The row holds the target's *name*, never its connection or secret: the
worker resolves the name in its own ``vnimport.toml``. ``company`` is the
target's API address and tenant, the key of the company lock; the address
of the queue or of a journal (which may hold a password) is never stored.
"""

from __future__ import annotations

import json
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.web.db import Database, Row
from importer.web.files import Files

__all__ = ["STATES", "QueuedJob", "Store", "file_key"]

STATES = ("queued", "running", "done", "failed", "cancelled")
_SCHEMA_LOCK = 0x766E7175  # "vnqu": the advisory lock of the queue's own table
SCHEMA = """
CREATE TABLE IF NOT EXISTS vnimport_jobs (
    id BIGSERIAL PRIMARY KEY,
    procrastinate_id BIGINT,
    target TEXT NOT NULL,
    company TEXT NOT NULL,
    doctype TEXT NOT NULL,
    mode TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_key TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    mapping_key TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'queued',
    counts TEXT NOT NULL DEFAULT '{}',
    run_id TEXT NOT NULL DEFAULT '',
    exit_code INTEGER,
    message TEXT NOT NULL DEFAULT '',
    reports TEXT NOT NULL DEFAULT '{}',
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT NOT NULL DEFAULT '',
    enqueued_by TEXT NOT NULL DEFAULT '',
    created DOUBLE PRECISION NOT NULL,
    started DOUBLE PRECISION,
    ended DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS vnimport_jobs_procrastinate ON vnimport_jobs (procrastinate_id);
"""
_COLUMNS = (
    "j.id, j.procrastinate_id, j.target, j.company, j.doctype, j.mode, j.file_name, "
    "j.file_key, j.sha256, j.mapping_key, j.options, j.state, j.counts, j.run_id, "
    "j.exit_code, j.message, j.reports, j.attempts, j.worker, j.enqueued_by, j.created, "
    "j.started, j.ended"
)


@dataclass(frozen=True)
class QueuedJob:
    """A job as the queue knows it (see the module). ``queue_status`` is
    Procrastinate's (todo, doing, succeeded, failed, cancelled, aborted;
    empty: not deferred yet)."""

    id: int
    procrastinate_id: int | None
    target: str
    company: str
    doctype: str
    mode: str
    file_name: str
    file_key: str
    sha256: str
    mapping_key: str
    options: dict[str, Any]
    state: str
    counts: dict[str, int]
    run_id: str
    exit_code: int | None
    message: str
    reports: dict[str, str]
    attempts: int
    worker: str
    enqueued_by: str
    created: float
    started: float | None
    ended: float | None
    queue_status: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def shown_state(self) -> str:
        """The state, with what only the queue knows: a running job whose
        Procrastinate job failed (its task crashed) is failed."""
        if self.state in ("queued", "running") and self.queue_status in ("failed",):
            return "failed"
        if self.state in ("queued", "running") and self.queue_status in ("cancelled", "aborted"):
            return "cancelled"
        if self.state == "running" and self.queue_status == "todo":
            return "queued"  # re-queued by the recovery task or a shutdown
        return self.state

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "extra"}
        out["state"] = self.shown_state
        return out


def file_key(job_id: int, name: str) -> str:
    """The key of a job's file: ``jobs/<id>/<name>``, the name's characters
    that a key cannot hold as ``_``."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip("._-") or "file"
    return f"jobs/{job_id}/{safe[:200]}"


class Store:
    """The queue's rows and files in the database at ``url``; ``local`` the
    folder where this machine keeps its copies of the files."""

    def __init__(self, url: str, local: Path) -> None:
        self.db = Database(url)
        with self.db.transaction() as tx:
            tx.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    tx.execute(statement)
        self.files = Files(self.db, local)

    # ---------------------------------------------------------------- rows

    def add(
        self,
        *,
        target: str,
        company: str,
        doctype: str,
        mode: str,
        file_name: str,
        sha256: str,
        options: dict[str, Any],
    ) -> int:
        """A new job's row; its id (the files are stored under it next)."""
        row = self.db.one(
            "INSERT INTO vnimport_jobs (target, company, doctype, mode, file_name, file_key, "
            "sha256, options, enqueued_by, created) VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?) "
            "RETURNING id",
            (target, company, doctype, mode, file_name, sha256, json.dumps(options),
             socket.gethostname(), time.time()),
        )  # fmt: skip
        assert row is not None
        return int(row[0])

    def update(self, job_id: int, **values: Any) -> None:
        """Set columns of a job's row (dicts as JSON)."""
        if not values:
            return
        names = list(values)
        for name in names:
            if not re.fullmatch(r"[a-z_]+", name):
                raise ValueError(name)
        params = [json.dumps(v) if isinstance(v, dict) else v for v in values.values()]
        sets = ", ".join(f"{n} = ?" for n in names)
        self.db.execute(f"UPDATE vnimport_jobs SET {sets} WHERE id = ?", (*params, job_id))

    def get(self, job_id: int) -> QueuedJob | None:
        rows = self._select("WHERE j.id = ?", (job_id,), 1)
        return rows[0] if rows else None

    def by_procrastinate_id(self, procrastinate_id: int) -> QueuedJob | None:
        rows = self._select("WHERE j.procrastinate_id = ?", (procrastinate_id,), 1)
        return rows[0] if rows else None

    def listing(self, limit: int = 100) -> list[QueuedJob]:
        return self._select("", (), limit)

    def _select(self, where: str, params: tuple[Any, ...], limit: int) -> list[QueuedJob]:
        sql = (
            f"SELECT {_COLUMNS}, COALESCE(p.status::text, '') AS queue_status "
            "FROM vnimport_jobs j LEFT JOIN procrastinate_jobs p ON p.id = j.procrastinate_id "
            f"{where} ORDER BY j.id DESC LIMIT ?"
        )
        return [_job(r) for r in self.db.query(sql, (*params, limit))]


def _job(row: Row) -> QueuedJob:
    values = [row[i] for i in range(24)]
    for at in (10, 12, 16):  # options, counts, reports
        values[at] = json.loads(values[at] or "{}")
    return QueuedJob(*values)
