"""Runs in background threads of the server: a batch's :class:`~importer.Job`
given to :func:`~importer.run_job`, its progress kept for the pages, its
end written to the store. The batch is claimed in the store before a
thread starts (:meth:`Store.claim_run`), so one batch is one run however
often Import is pressed; the journal keeps each document sent once across
runs, as for the CLI.

A run can be stopped (the ``stop`` event given to :func:`run_job`: no new
document starts, the ones on their way finish, the rest end ``not sent``)
and, once stopped or interrupted by a server that went down, resumed: the
same run record goes back to the queue (claimed in the store, so two
presses of Resume are one run) and the same job runs again. The journal
skips what was sent (``unchanged``) and never sends again a document whose
answer was lost: it is looked up, or left ``unknown`` to be checked.

Progress keeps an estimate of the time left (from the documents done, the
total and the time since sending began, on an injectable clock) and, while
Visma's rate limit holds the run, the clock time it waits until.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from importer.documents import IN_VISMA, by_document
from importer.errors import VnimportError
from importer.jobs import Job, file_sha256, run_job
from importer.targets.client import clock_time
from importer.web.files import Files
from importer.web.kept import keep, mapping_key, mapping_name, report_key, work
from importer.web.store import BatchRecord, RunRecord, Store

__all__ = ["Progress", "Runner", "outcome_of"]

Spawn = Callable[[Callable[[], None]], None]
Clock = Callable[[], float]


@dataclass
class Progress:
    phase: str = "queued"
    done: int = 0
    total: int = 0
    waiting_s: float = 0.0
    settling: int = 0  # documents with no clear answer, looked up at the end
    eta_s: float | None = None  # seconds left, from the pace so far
    waiting_until: float | None = None  # the epoch time a rate-limit wait ends
    waiting_clock: str = ""  # the same as local HH:MM (with the date when not today)
    stopping: bool = False
    sending_since: float | None = None

    def as_dict(self) -> dict[str, Any]:
        until = None
        if self.waiting_until is not None and self.phase == "waiting":
            local = datetime.fromtimestamp(self.waiting_until).astimezone()
            until = local.isoformat(timespec="seconds")
        return {
            "phase": self.phase,
            "done": self.done,
            "total": self.total,
            "waiting_s": round(self.waiting_s, 1),
            "eta_s": None if self.eta_s is None else round(self.eta_s),
            "waiting_until": until,
            "stopping": self.stopping,
        }

    @property
    def eta_text(self) -> str:
        """The time left in words a person reads at a glance: ``3 min``."""
        if self.eta_s is None:
            return ""
        seconds = max(0, round(self.eta_s))
        if seconds < 60:
            return f"{seconds} s"
        minutes = round(seconds / 60)
        if minutes < 120:
            return f"{minutes} min"
        return f"{minutes // 60} h {minutes % 60} min"


def _thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="vnimport-web-run", daemon=True).start()


class Runner:
    """Starts, follows, stops and resumes runs. ``spawn`` runs a callable
    in the background (a new thread; tests may hold it to press Import
    twice first); ``clock`` gives the time for estimates (tests set it)."""

    def __init__(
        self,
        store: Store,
        files: Files,
        config: Path | None,
        spawn: Spawn | None = None,
        clock: Clock = time.time,
        poll_s: float = 2.0,
    ) -> None:
        self.store = store
        self.files = files
        self.config = config
        self.spawn = spawn or _thread
        self.clock = clock
        #: how often a run queued for the workers is looked at (tests: short)
        self.poll_s = poll_s
        #: told of each progress event of each run (logging, tests)
        self.listener: Callable[[str, Any], None] | None = None
        self._progress: dict[str, Progress] = {}
        self._lock = threading.Lock()
        self._finished: dict[str, threading.Event] = {}
        self._stops: dict[str, threading.Event] = {}

    def start(self, batch: BatchRecord, user: str, mode: str) -> tuple[RunRecord, bool]:
        run, made = self.store.claim_run(batch.id, user, mode)
        if made:
            self._launch(batch, run)
        return run, made

    def resume(self, batch: BatchRecord, run: RunRecord) -> tuple[RunRecord, bool]:
        """The run back in the queue, and whether this call put it there (a
        second press, or a run that is not stopped or interrupted: no)."""
        if not self.store.claim_resume(run.id):
            current = self.store.run(run.id)
            return current or run, False
        current = self.store.run(run.id)
        assert current is not None
        self._launch(batch, current, earlier=run)
        return current, True

    def stop(self, run_id: str) -> bool:
        """Ask the run to stop; False when it is not under way in this server."""
        with self._lock:
            event = self._stops.get(run_id)
            progress = self._progress.get(run_id)
            finished = self._finished.get(run_id)
        if event is None or finished is None or finished.is_set():
            return False
        event.set()
        if progress is not None:
            progress.stopping = True
        return True

    def progress(self, run_id: str) -> Progress | None:
        with self._lock:
            return self._progress.get(run_id)

    def wait(self, run_id: str) -> None:
        """Until the run has ended (for tests and scripts in this process)."""
        with self._lock:
            event = self._finished.get(run_id)
        if event is not None:
            event.wait()

    def observe(self, run_id: str) -> Callable[[Any], None]:
        """The progress callback given to :func:`run_job` for ``run_id``."""
        with self._lock:
            progress = self._progress.setdefault(run_id, Progress())

        def seen(event: Any) -> None:
            now = self.clock()
            phase = str(event.phase)
            if phase == "waiting":  # Visma's rate limit: done and total are not given
                progress.waiting_s = float(event.waiting_s)
                progress.waiting_until = now + float(event.waiting_s)
                progress.waiting_clock = clock_time(progress.waiting_until, now)
            elif phase == "settling":
                progress.settling = max(int(event.done), 0)
                progress.waiting_s = float(event.waiting_s)
            elif phase == "estimate":  # its total counts calls, not documents
                progress.sending_since = now
            else:
                progress.done, progress.total = int(event.done), int(event.total)
                held = progress.waiting_until is not None and progress.waiting_until > now
                if held and phase == "sending":
                    # another worker's document came back while a wait
                    # still holds the rest: the run is waiting for Visma
                    phase = "waiting"
                else:
                    progress.waiting_s = 0.0
                    progress.waiting_until = None
                    progress.waiting_clock = ""
                if progress.sending_since is None:
                    progress.sending_since = now
                progress.eta_s = _eta(progress, now)
            progress.phase = phase
            if self.listener is not None:
                self.listener(run_id, event)

        return seen

    def _note_input(self, batch: BatchRecord, source: Path) -> None:
        """What the run reads, by its SHA-256, kept with the batch: the
        journal knows the run by the user's file name and these bytes, so
        the run's page finds every attempt in it (one killed before it was
        recorded here too). The file no longer changes once a run exists:
        edits are refused then."""
        sha = file_sha256(source)
        current = self.store.batch(batch.id)
        if current is not None and current.summary.get("input_sha256") != sha:
            self.store.update_batch(
                batch.id, current.doctype, {**current.summary, "input_sha256": sha}
            )

    def _queue(self) -> str:
        """The queue's address when one is configured (``VNIMPORT_QUEUE``,
        ``[queue] url``): runs go to its workers; empty: run here."""
        from importer.queue.config import queue_url

        return queue_url(config=self.config)

    def _queued(
        self, job: Job, queue: str, run: RunRecord, progress: Progress, stop: threading.Event
    ) -> tuple[str, str, dict[str, Any]]:
        """Queue ``job`` for the workers and follow it to its end (Stop
        cancels it: a job not started is never run, a running one stops
        after the document in flight); its reports are kept as a run made
        here keeps them. The run's status, journal run and summary."""
        from importer.queue import cancel_job, enqueue, job_status, report_files

        job_id = enqueue(job, queue, config=self.config, origin=f"web-run:{run.id}")
        self.store.set_run(run.id, "running", summary={"queued_job": job_id})
        cancelled = False
        while True:
            try:
                state = job_status(job_id, queue, config=self.config)
            except VnimportError:  # the queue out of reach a moment: the job goes on
                stop.wait(self.poll_s)
                continue
            shown = state.shown_state
            if shown in ("done", "failed", "cancelled"):
                break
            progress.phase = "queued" if shown == "queued" else "sending"
            if stop.is_set() and not cancelled:
                cancelled = True
                # a job that ended as Stop was pressed is not cancelled: its end is shown
                with contextlib.suppress(VnimportError):
                    cancel_job(job_id, queue, config=self.config)
            stop.wait(self.poll_s)
        fetched = report_files(job_id, queue, config=self.config)
        documents = json.loads(fetched.get("documents", b"{}") or b"{}")
        with work(self.files) as folder:
            for kind, name in _REPORT_NAMES.items():
                if kind in fetched:
                    (folder / name).write_bytes(fetched[kind])
            keep(self.files, folder / "report", report_key(run.id))
        summary: dict[str, Any] = dict(documents.get("summary") or {})
        summary["by_document"] = documents.get("by_document", [])
        summary["files"] = sorted(k for k in fetched if k in _REPORT_NAMES)
        summary["queued_job"] = job_id
        if shown == "cancelled":
            return "stopped", state.run_id, summary
        if not summary.get("counts") and shown == "failed":  # it ended before a report
            message = state.message or f"job {job_id} failed"
            summary["fatal"] = {"code": "job-failed", "message": message}
        return ("failed" if summary.get("fatal") else "finished"), state.run_id, summary

    def _launch(self, batch: BatchRecord, run: RunRecord, earlier: RunRecord | None = None) -> None:
        progress, finished, stop = Progress(), threading.Event(), threading.Event()
        with self._lock:
            self._progress[run.id] = progress
            self._finished[run.id] = finished
            self._stops[run.id] = stop
        self.spawn(lambda: self._work(batch, run, progress, finished, stop, earlier))

    def _work(
        self,
        batch: BatchRecord,
        run: RunRecord,
        progress: Progress,
        finished: threading.Event,
        stop: threading.Event,
        earlier: RunRecord | None,
    ) -> None:
        attempts = _attempts(earlier)
        try:
            if stop.is_set():  # stopped before it began: nothing more was sent
                if earlier is not None:  # as it was, with what its attempts sent
                    self.store.set_run_status(run.id, "stopped")
                else:
                    self.store.set_run(run.id, "stopped", summary={"not_started": True})
                return
            self.store.set_run_status(run.id, "running")
            from importer.web.batches import run_input  # the file as edited, and its edits

            source, edits = run_input(self.files, self.store, batch)
            self._note_input(batch, source)
            queue = self._queue()
            if queue:  # the workers run it, on whichever machine
                job = Job(
                    source,
                    batch.doctype,
                    target=batch.target,
                    mode=run.mode,
                    mapping=self.files.local_path(mapping_key(batch)),
                    edits=edits,
                    preflight=True,
                    # the user's names in the report, the journal and messages
                    name=batch.filename,
                    mapping_name=mapping_name(batch.filename),
                    by=run.owner,
                )
                status, journal_run, summary = self._queued(job, queue, run, progress, stop)
                if attempts:
                    summary["attempts"] = attempts
                self.store.set_run(run.id, status, journal_run=journal_run, summary=summary)
                return
            with work(self.files) as folder:
                job = Job(
                    source,
                    batch.doctype,
                    target=batch.target,
                    mode=run.mode,
                    report=folder / "report",
                    mapping=self.files.local_path(mapping_key(batch)),
                    edits=edits,
                    # always checked against the company first, whatever the
                    # batch's size: what the check page flagged is not sent
                    preflight=True,
                    # the user's names in the report, the journal and messages
                    name=batch.filename,
                    mapping_name=mapping_name(batch.filename),
                    by=run.owner,
                )
                result = run_job(job, progress=self.observe(run.id), stop=stop, config=self.config)
                keep(self.files, folder / "report", report_key(run.id))
            summary = result.report.summary()
            summary["by_document"] = by_document(result.report.results)
            summary["files"] = sorted(result.paths)
            if attempts:
                summary["attempts"] = attempts
            if result.fatal:
                status = "failed"
            elif stop.is_set() and result.report.extra.get("stopped"):
                status = "stopped"
            else:
                status = "finished"
            self.store.set_run(run.id, status, journal_run=result.run_id, summary=summary)
        except Exception as exc:  # a bug: the run ends failed and says so
            self.store.set_run(
                run.id,
                "failed",
                summary={"fatal": {"code": "internal-error", "message": type(exc).__name__}},
            )
        finally:
            progress.phase = "done"
            finished.set()


# the names a queued job's report files get here, by their kind there
_REPORT_NAMES = {
    "json": "report.json",
    "csv": "report.csv",
    "xlsx": "report.xlsx",
    "fixme": "report.fixme.xlsx",
}


def _eta(progress: Progress, now: float) -> float | None:
    if progress.sending_since is None or progress.done <= 0 or progress.total <= 0:
        return None
    left = progress.total - progress.done
    if left <= 0:
        return 0.0
    return (now - progress.sending_since) / progress.done * left


def _attempts(earlier: RunRecord | None) -> list[dict[str, Any]]:
    """What the earlier attempts of a resumed run ended as, oldest first."""
    if earlier is None:
        return []
    s = earlier.summary
    before: list[dict[str, Any]] = list(s.get("attempts", []))
    before.append(
        {
            "status": earlier.status,
            "journal_run": earlier.journal_run,
            "document_counts": s.get("document_counts", {}),
        }
    )
    return before


def outcome_of(summary: dict[str, Any]) -> dict[str, int]:
    """Documents in Visma, not sent, in doubt (sent, no answer) and to look at."""
    counts: dict[str, int] = summary.get("document_counts", {})
    in_visma = sum(counts.get(s, 0) for s in IN_VISMA)
    not_sent = counts.get("not sent", 0)
    in_doubt = counts.get("unknown", 0)
    problems = sum(n for s, n in counts.items() if s not in (*IN_VISMA, "not sent", "unknown"))
    return {"in_visma": in_visma, "not_sent": not_sent, "in_doubt": in_doubt, "other": problems}
