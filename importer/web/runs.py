"""Runs in background threads of the server: a batch's :class:`~importer.Job`
given to :func:`~importer.run_job`, its progress kept for the pages, its
end written to the store. The batch is claimed in the store before a
thread starts (:meth:`Store.claim_run`), so one batch is one run however
often Import is pressed; the journal keeps each document sent once across
runs, as for the CLI.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importer.jobs import Job, run_job
from importer.web.store import BatchRecord, RunRecord, Store

__all__ = ["Progress", "Runner"]

Spawn = Callable[[Callable[[], None]], None]


@dataclass
class Progress:
    phase: str = "queued"
    done: int = 0
    total: int = 0
    waiting_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "done": self.done,
            "total": self.total,
            "waiting_s": round(self.waiting_s, 1),
        }


def _thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="vnimport-web-run", daemon=True).start()


class Runner:
    """Starts and follows runs. ``spawn`` runs a callable in the background
    (a new thread; tests may hold it to press Import twice first)."""

    def __init__(
        self, store: Store, data: Path, config: Path | None, spawn: Spawn | None = None
    ) -> None:
        self.store = store
        self.data = data
        self.config = config
        self.spawn = spawn or _thread
        self._progress: dict[str, Progress] = {}
        self._lock = threading.Lock()
        self._finished: dict[str, threading.Event] = {}

    def report_base(self, run_id: str) -> Path:
        return self.data / "runs" / run_id / "report"

    def start(self, batch: BatchRecord, user: str, mode: str) -> tuple[RunRecord, bool]:
        run, made = self.store.claim_run(batch.id, user, mode)
        if made:
            with self._lock:
                self._progress[run.id] = Progress()
                self._finished[run.id] = threading.Event()
            self.spawn(lambda: self._work(batch, run))
        return run, made

    def progress(self, run_id: str) -> Progress | None:
        with self._lock:
            return self._progress.get(run_id)

    def wait(self, run_id: str) -> None:
        """Until the run has ended (for tests and scripts in this process)."""
        with self._lock:
            event = self._finished.get(run_id)
        if event is not None:
            event.wait()

    def _work(self, batch: BatchRecord, run: RunRecord) -> None:
        progress = self._progress[run.id]

        def seen(event: Any) -> None:
            progress.phase = event.phase
            progress.done, progress.total = event.done, event.total
            progress.waiting_s = event.waiting_s

        try:
            self.store.set_run(run.id, "running")
            job = Job(
                self.data / "uploads" / batch.stored,
                batch.doctype,
                target=batch.target,
                mode=run.mode,
                report=self.report_base(run.id),
                mapping=_existing(self.data / "uploads" / f"{batch.id}.mapping.toml"),
            )
            result = run_job(job, progress=seen, config=self.config)
            summary = result.report.summary()
            summary["by_document"] = _by_document(result.report.results)
            summary["files"] = sorted(result.paths)
            status = "failed" if result.fatal else "finished"
            self.store.set_run(run.id, status, journal_run=result.run_id, summary=summary)
        except Exception as exc:  # a bug: the run ends failed and says so
            self.store.set_run(
                run.id,
                "failed",
                summary={"fatal": {"code": "internal-error", "message": type(exc).__name__}},
            )
        finally:
            progress.phase = "done"
            self._finished[run.id].set()


def _by_document(results: list[Any]) -> list[dict[str, Any]]:
    """One line per document: its key, rows, status and Visma's number."""
    docs: dict[str, dict[str, Any]] = {}
    for r in results:
        key = r.key or f"row {r.row}"
        doc = docs.setdefault(key, {"key": key, "rows": [], "status": r.status, "number": ""})
        doc["rows"].append(r.row)
        doc["number"] = doc["number"] or r.number
        if r.status != doc["status"] and r.status not in ("created", "updated", "unchanged"):
            doc["status"] = r.status
    return list(docs.values())


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None
