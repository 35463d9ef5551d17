"""The watcher: passes over the folders of one root, each file a
:class:`~importer.jobs.Job` run in this process.

A pass, folder by folder:

1. **Resume**: a file left in ``processing/`` (a crash, a reboot, a stop)
   is run again first. The journal's claims and lookups make that safe:
   what the earlier run sent is not sent again.
2. **Pick up**: the inbox's files that are complete
   (:mod:`importer.watch.pickup`) move to ``processing/``, one at a time.
3. **The same bytes again**: a file whose exact content (SHA-256) was
   imported before, as the same type into the same company, by a run that
   ended with every row final and fine, goes to ``done/`` with "already
   imported in run N"; nothing is sent. Otherwise the file is run, and the
   journal decides what to send (only what is new or changed).
4. **Finish**: the file and its report (and fix-me workbook) go to
   ``done/YYYY-MM/`` when every row is fine, else to ``failed/YYYY-MM/``.
   A file that could not be run because Visma, its credentials or the
   journal could not be used stays in ``processing/`` and the pass stops
   there ("could not run": exit 2, never "0 imported"). A stop (SIGTERM)
   lets the document in flight finish, writes the report, and leaves the
   file in ``processing/`` for the next start.
5. ``done/`` keeps files ``keep_done_days``; each folder's expectation
   ("a file every 24 h") is checked.

With a queue configured (``VNIMPORT_QUEUE``, or ``[queue] url``), a file
is not run here: step 3 queues it (:func:`importer.queue.enqueue`, its job
named in the watcher's state, :class:`~importer.watch.state.QueuedFile`)
and it waits in ``processing/``. Step 1 then collects: a file whose job
ended has its report fetched from the queue (whichever machine ran it) and
is finished as in step 4, by the same code (:class:`JobEnd`, one way to
file a job that ended, wherever it ran). A job that could not run (Visma,
credentials, the journal) is run again at the next pass, as a file here
would be; one that failed to start or was cancelled goes to ``failed/``,
with a report that says so.

The notifications (:mod:`importer.watch.notify`) are told at each step:
a pass started, each file finished, the pass finished (ok, or why not), a
folder overdue. A notification that fails never stops the watcher.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from importer.codes import STATUSES
from importer.errors import ConfigError, VnimportError
from importer.jobs import EXIT_FATAL, Job, file_sha256, run_job
from importer.report import BatchReport, write_report
from importer.watch.config import WatchFolder, WatchSettings
from importer.watch.folders import Folder, finish, prune, tag_for
from importer.watch.lock import WatchLock, state_dir
from importer.watch.outcome import FileOutcome, JobEnd
from importer.watch.pickup import Pickup
from importer.watch.state import QueuedFile, WatchState

if TYPE_CHECKING:
    from importer.doctypes import Registry
    from importer.queue import QueuedJob
    from importer.settings import Connection
    from importer.targets.journal import Run

__all__ = ["Notifications", "PassResult", "Watcher", "notifier_for", "watch_root"]

# A job that ends with one of these could not be run at all: the file is
# not at fault, so it stays where the next pass takes it up again.
COULD_NOT_RUN = frozenset({"auth-error", "visma-error", "journal-error"})
# What undo leaves on a document a run sent: the run no longer stands.
UNDONE = ("deleting", "deleted", "reversed", "voided", "inactivated", "restored")
MOST_RUNS = 100_000  # runs of one company looked through for the same bytes


class Notifications(Protocol):
    """What the watcher tells (:class:`importer.watch.notify.Notifier`)."""

    def pass_started(self) -> None: ...

    def pass_finished(self, ok: bool, reason: str = "") -> None: ...

    def file_done(self, outcome: FileOutcome) -> None: ...

    def overdue(self, folder: str, doctype: str, last: float | None, every: float) -> None: ...


class Quiet:
    """Notifications that tell nobody (the log still says everything)."""

    def pass_started(self) -> None:
        return None

    def pass_finished(self, ok: bool, reason: str = "") -> None:
        return None

    def file_done(self, outcome: FileOutcome) -> None:
        return None

    def overdue(self, folder: str, doctype: str, last: float | None, every: float) -> None:
        return None


def notifier_for(
    settings: WatchSettings,
    *,
    env: Mapping[str, str] | None = None,
    say: Callable[[str], None] | None = None,
) -> Notifications:
    """The notifications ``[watch.notify]`` and ``[watch.health]`` ask for
    (a :class:`ConfigError` naming the key when they are wrong)."""
    try:
        module = importlib.import_module("importer.watch.notify")
    except ImportError as exc:
        if exc.name != "importer.watch.notify":
            raise
        if say is not None and any(k in settings.table for k in ("notify", "health")):
            say("notifications are not available in this vnimport: nothing is sent")
        return Quiet()
    found = module.NotifySettings.from_config(
        settings.table, settings.where, os.environ if env is None else env
    )
    return cast(Notifications, module.Notifier(found, say=say))


@dataclass
class PassResult:
    """What one pass did: a :class:`FileOutcome` per file finished; why
    the pass could not run (``fatal``), or the file a stop left in
    ``processing/`` (``stopped``); the folders said to be overdue; with a
    queue, the files whose jobs are queued or running (``queued``,
    ``folder/name``: each is finished by a later pass)."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    fatal: str = ""
    stopped: str = ""
    overdue: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)

    @property
    def halted(self) -> bool:
        return bool(self.fatal or self.stopped)

    @property
    def ok(self) -> bool:
        return not self.halted and not any(o.failed for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0 every file fine, 1 some rows or files failed (or a stop left a
        file half done), 2 the pass could not run."""
        if self.fatal:
            return EXIT_FATAL
        return 0 if self.ok else 1

    def reason(self) -> str:
        """Why the pass is not ok, in one line (empty when it is)."""
        if self.fatal:
            return f"could not run: {self.fatal}"
        failed = [o for o in self.outcomes if o.failed]
        parts = [f"{o.folder}/{o.file}: {o.status}" for o in failed[:5]]
        if len(failed) > 5:
            parts.append(f"and {len(failed) - 5} more")
        if self.stopped:
            parts.append(f"stopped: {self.stopped} left in processing/ for the next start")
        return "; ".join(parts)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        files = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no file"
        if self.queued:
            files += f"; {len(self.queued)} in the queue"
        return f"pass done: {files}" + (f"; {self.reason()}" if not self.ok else "")


class Watcher:
    """The watcher of one root (:class:`WatchSettings`).

    ``connection`` replaces the target's (an embedded sandbox's, in tests);
    ``config`` is the ``vnimport.toml`` the target is read from; ``state``
    the local folder of its lock and memory (default: :func:`state_dir`).
    ``clock`` is the wall clock; ``wait(seconds)`` waits, returning true
    when the watcher is to stop (default: the stop event's own wait).
    ``queue``: the queue's address, whose workers run the files (default:
    ``VNIMPORT_QUEUE``, else ``[queue] url``; empty: run here)."""

    def __init__(
        self,
        settings: WatchSettings,
        *,
        notifier: Notifications | None = None,
        registry: Registry | None = None,
        connection: Connection | None = None,
        config: Path | None = None,
        state: Path | None = None,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        wait: Callable[[float], bool] | None = None,
        say: Callable[[str], None] | None = None,
        queue: str | None = None,
    ) -> None:
        from importer.doctypes import Registry
        from importer.queue.config import queue_url
        from importer.settings import (
            default_journal,
            how_to_configure,
            is_url,
            load_connection,
            load_target,
        )

        self.settings = settings
        self.notifier = notifier or Quiet()
        self.registry = registry or Registry()
        self.connection = connection
        self.config = config
        target = load_target(settings.target, env, config) if settings.target else None
        found = connection or (target.connection if target else load_connection(env, config))
        if found is None:
            raise ConfigError(how_to_configure())
        self.company_key = found.target  # what the journal keys runs on
        self.company = settings.target or found.target
        self.journal = (target.journal if target else "") or default_journal(env)
        self.queue = queue_url(env, config) if queue is None else queue
        if self.queue:
            if target is None:
                raise ConfigError(
                    "a watcher whose files go to the queue names its company: target = "
                    '"NAME" in [watch] (a [targets.NAME] of vnimport.toml, the name the '
                    "workers know it by)"
                )
            if target.journal and not is_url(target.journal):
                raise ConfigError(
                    f"the target {target.name!r} keeps its journal in a file ({target.journal}); "
                    "files that go to the queue need the journal every worker shares: a "
                    "postgresql:// address (or none: the queue's database)"
                )
            from importer.register import queue_journal

            # the workers' journal: the same bytes are looked up there
            self.journal = queue_journal(target.journal, self.queue, default_journal(env))
        self.state_folder = state or state_dir(settings.root, env)
        self.clock = clock
        self._wait_for = wait
        self.say = say or (lambda text: None)
        self.pickup = Pickup(
            settings.extensions,
            settings.settle,
            broken_after=settings.broken_after,
            clock=clock,
        )

    # ------------------------------------------------------------ the loop

    def run(self, stop: threading.Event, *, once: bool = False) -> int:
        """Hold the root's lock and make passes: one (``once``: its exit
        code), or one every ``interval`` until ``stop`` is set (then 0). A
        second watcher of the root raises :class:`ConfigError`."""
        lock = WatchLock(self.settings.root, self.state_folder, self.journal)
        try:
            lock.acquire()
        except VnimportError as exc:
            why = f"could not run: {exc}"
            self._tell(lambda: self.notifier.pass_finished(False, why))
            raise
        try:
            folders = ", ".join(f"{f.name} ({f.doctype})" for f in self.settings.folders)
            self.say(f"watching {self.settings.root} for {self.company}: {folders}")
            if self.queue:
                from importer.targets.postgres import safe_url

                self.say(f"the files go to the queue {safe_url(self.queue)}, run by its workers")
            while True:
                result = self.run_pass(stop)
                self.say(result.summary())
                if once:
                    return result.exit_code
                if stop.is_set() or self._wait(stop, self.settings.interval):
                    return 0
        finally:
            lock.release()

    def _wait(self, stop: threading.Event, seconds: float) -> bool:
        if stop.is_set():
            return True
        if self._wait_for is not None:
            return self._wait_for(seconds) or stop.is_set()
        return stop.wait(seconds)

    # ------------------------------------------------------------ a pass

    def run_pass(self, stop: threading.Event) -> PassResult:
        """One pass over every folder (the lock held by the caller)."""
        result = PassResult()
        self._tell(self.notifier.pass_started)
        state = WatchState(self.state_folder)
        try:
            if not self.settings.root.is_dir():  # unmounted, moved: never made anew
                raise FileNotFoundError(
                    2, "the root is gone (unmounted or moved?); it is not made anew",
                    str(self.settings.root),
                )  # fmt: skip
            places = [(f, Folder(self.settings.root / f.name)) for f in self.settings.folders]
            for spec, place in places:
                place.ensure()
                state.folder(spec.name, self.clock())
            present = {_key(s, p) for s, place in places for p in place.in_processing()}
            for left in [k for k in state.queued if k not in present]:
                del state.queued[left]  # finished (a crash before it was forgotten), or taken away
            for spec, place in places:
                for path in place.in_processing():
                    if stop.is_set() or result.halted:
                        break
                    if self.queue:  # its job's end collected, or the file queued (again)
                        self._follow(spec, place, path, state, stop, result)
                        continue
                    self.say(f"{spec.name}: resuming {path.name}, left in processing/")
                    state.folder(spec.name, self.clock()).last = self.clock()  # it came
                    self._import(spec, place, path, stop, result, state)
            if not (stop.is_set() or result.halted):
                self._pick_up(places, state, stop, result)
            for _, place in places:
                for gone in prune(place.done, self.settings.keep_done_days, self.clock()):
                    self.say(f"deleted {gone}: kept {self.settings.keep_done_days:g} days")
        except OSError as exc:  # a folder that cannot be read or written
            where = f"{exc.filename}: " if exc.filename else ""
            result.fatal = f"{where}{exc.strerror or exc}"
            self.say(f"the pass could not go on: {result.fatal}")
        self._expectations(state, result)
        try:
            state.save()
        except OSError as exc:
            self.say(f"the watcher's state could not be kept in {state.path}: {exc.strerror}")
        self._tell(lambda: self.notifier.pass_finished(result.ok, result.reason()))
        return result

    def _pick_up(
        self,
        places: list[tuple[WatchFolder, Folder]],
        state: WatchState,
        stop: threading.Event,
        result: PassResult,
    ) -> None:
        where: dict[Path, tuple[WatchFolder, Folder]] = {}
        for spec, place in places:
            for path in self.pickup.candidates(place.inbox):
                where[path] = (spec, place)
        taken, broken = self.pickup.ready(list(where), lambda s: self._wait(stop, s))
        for path, why in broken:
            spec, place = where[path]
            state.folder(spec.name, self.clock()).last = self.clock()
            self._give_up(spec, place, path, why, result)
        for path in taken:
            if stop.is_set() or result.halted:
                return
            spec, place = where[path]
            moved = place.processing / path.name
            if moved.exists():  # the same name is still being resumed: next pass
                self.say(f"{spec.name}: {path.name} waits: a file of that name is in processing/")
                continue
            os.replace(path, moved)
            state.folder(spec.name, self.clock()).last = self.clock()
            self._import(spec, place, moved, stop, result, state)

    def _import(
        self,
        spec: WatchFolder,
        place: Folder,
        path: Path,
        stop: threading.Event,
        result: PassResult,
        state: WatchState,
    ) -> None:
        """Run the file ``path`` (in ``processing/``) and finish it, unless
        it could not run or a stop came first: then it stays. With a queue,
        queue it: it stays until its job ends (:meth:`_follow`)."""
        name = path.name
        try:
            sha = file_sha256(path)
        except OSError as exc:  # taken away meanwhile
            self.say(f"{spec.name}: {name} cannot be read: {exc.strerror or exc}")
            return
        try:
            earlier = self._earlier(sha, spec.doctype, spec.mode)
        except VnimportError as exc:
            result.fatal = f"{spec.name}/{name}: {exc}"
            self.say(f"{spec.name}: {name} stays in processing/: {exc}")
            return
        if earlier is not None:
            self._duplicate(spec, place, path, sha, earlier, result)
            return
        if self.queue:
            self._enqueue(spec, path, sha, state, result)
            return
        job = self._job(spec, path, journal=self.journal, report=place.report_path(name))
        self.say(f"{spec.name}: importing {name} ({spec.doctype}, {spec.mode})")
        try:
            with _linked(stop) as job_stop:
                done = run_job(
                    job,
                    registry=self.registry,
                    stop=job_stop,
                    connection=self.connection,
                    config=self.config,
                )
        except Exception as exc:  # a bug, or a report that cannot be written
            result.fatal = f"{spec.name}/{name}: {type(exc).__name__}: {exc}"
            self.say(f"{spec.name}: {name} stays in processing/: {result.fatal}")
            return
        self._ended(spec, place, path, JobEnd.from_result(done), result, stop)

    def _ended(
        self,
        spec: WatchFolder,
        place: Folder,
        path: Path,
        end: JobEnd,
        result: PassResult,
        stop: threading.Event | None = None,
    ) -> bool:
        """A file's job ended (here, or on a queue's worker): finish the
        file into ``done/`` or ``failed/`` with its report; true when it
        was. It stays in ``processing/`` when the job could not run (the
        pass fails: the next one runs it again), or when ``stop`` (a job
        run here) left rows of it unsent."""
        name = path.name
        fatal = end.fatal
        if fatal is not None and fatal[0] in COULD_NOT_RUN:
            result.fatal = f"{spec.name}/{name}: {fatal[1]}"
            self.say(f"{spec.name}: {name} stays in processing/ for the next pass: {fatal[1]}")
            return False
        if stop is not None and stop.is_set() and fatal is None and end.unfinished:
            result.stopped = f"{spec.name}/{name}"  # the next start finishes it
            self.say(
                f"{spec.name}: stopped: {name} stays in processing/ and is resumed at the "
                f"next start; its report so far: {end.reports.get('xlsx', '')}"
            )
            return False
        self._finish(
            spec,
            place,
            path,
            end.status,
            end.reports,
            counts=end.counts,
            problems=end.problems,
            message=fatal[1] if fatal else "",
            run_id=end.run_id,
            result=result,
        )
        return True

    # ------------------------------------------------------------ the queue

    def _job(self, spec: Any, path: Path, **where: Any) -> Job:
        """The job of a file of ``spec``'s folder, run here (``where``: its
        journal and report) or queued (the workers' journal)."""
        return Job(
            path,
            spec.doctype,
            target=self.settings.target,
            mode=spec.mode,
            mapping=spec.mapping,
            sheet=spec.sheet,
            release=spec.release,
            **where,
        )

    def _enqueue(
        self, spec: WatchFolder, path: Path, sha: str, state: WatchState, result: PassResult
    ) -> None:
        """Queue the file ``path`` (in ``processing/``): its job's id kept in
        the state. The token it is queued with is kept first, so that a
        watcher killed in between finds the job (:func:`find_job`) rather
        than queueing the file again."""
        from importer.queue import enqueue, find_job

        key = _key(spec, path)
        entry = state.queued.get(key)
        if entry is None or entry.sha256 != sha:
            entry = state.queued[key] = QueuedFile(sha, uuid.uuid4().hex)
            state.save()
        try:
            found = find_job(entry.origin, self.queue, config=self.config)
            if found is not None:
                job_id = found.id
            else:
                job = self._job(spec, path)
                job_id = enqueue(job, self.queue, config=self.config, origin=entry.origin)
        except VnimportError as exc:
            result.fatal = f"{spec.name}/{path.name}: {exc}"
            self.say(f"{spec.name}: {path.name} stays in processing/, not queued: {exc}")
            return
        entry.job = job_id
        state.save()
        result.queued.append(key)
        self.say(f"{spec.name}: {path.name} queued as job {job_id} ({spec.doctype}, {spec.mode})")

    def _follow(
        self,
        spec: WatchFolder,
        place: Folder,
        path: Path,
        state: WatchState,
        stop: threading.Event,
        result: PassResult,
    ) -> None:
        """A file in ``processing/`` with a queue: finish it when its job
        ended, queue it again when its job could not run, leave it while
        its job waits or runs, queue it when it has no job (a crash before
        it was queued, or a file left by a watcher without a queue)."""
        from importer.queue import JobNotFound, find_job, job_status, retry_job

        key = _key(spec, path)
        entry = state.queued.get(key)
        try:
            if entry is not None and entry.job is None:  # killed between queueing and noting
                found = find_job(entry.origin, self.queue, config=self.config)
                if found is not None and file_sha256(path) == entry.sha256:
                    entry.job = found.id
                    state.save()
        except VnimportError as exc:
            result.fatal = f"{spec.name}/{path.name}: {exc}"
            self.say(f"{spec.name}: {path.name} stays in processing/: {exc}")
            return
        if entry is None or entry.job is None:
            self.say(f"{spec.name}: {path.name}, left in processing/, goes to the queue")
            self._import(spec, place, path, stop, result, state)
            return
        try:
            if entry.again:  # it could not run: again, as a file run here would be
                try:
                    said = retry_job(entry.job, self.queue, config=self.config)
                    self.say(f"{spec.name}: {path.name}: {said}, as it could not run before")
                except JobNotFound:
                    raise
                except ConfigError as exc:  # queued or running already
                    self.say(f"{spec.name}: {path.name}: {exc}")
                entry.again = False
                state.save()
                result.queued.append(key)
                return
            job = job_status(entry.job, self.queue, config=self.config)
        except JobNotFound as exc:
            job = None
            gone = f"{exc}: it was taken out of the queue; drop the file again"
        except VnimportError as exc:
            result.fatal = f"{spec.name}/{path.name}: {exc}"
            self.say(f"{spec.name}: {path.name} stays in processing/: {exc}")
            return
        if job is not None and job.shown_state in ("queued", "running"):
            result.queued.append(key)
            return
        end = self._job_end(place, path, job, gone if job is None else "")
        if self._ended(spec, place, path, end, result):
            del state.queued[key]
        else:
            entry.again = True
        state.save()

    def _job_end(self, place: Folder, path: Path, job: QueuedJob | None, gone: str) -> JobEnd:
        """How a queued job ended, from its report files (fetched from the
        queue into ``processing/.reports/``, where a job run here writes
        them). A job that failed to start, crashed, was cancelled or is no
        longer in the queue gets a report of the watcher's that says so."""
        from importer.queue import report_files

        base = place.report_path(path.name)
        wanted = {
            "json": base.with_name(base.name + ".json"),
            "csv": base.with_name(base.name + ".csv"),
            "xlsx": base.with_name(base.name + ".xlsx"),
            "fixme": base.with_name(base.name + ".fixme.xlsx"),
        }
        fetched = report_files(job.id, self.queue, config=self.config) if job else {}
        paths: dict[str, Path] = {}
        if "json" in fetched:
            base.parent.mkdir(parents=True, exist_ok=True)
            for kind, target in wanted.items():
                if kind in fetched:
                    partial = target.with_name(target.name + ".partial")
                    partial.write_bytes(fetched[kind])
                    os.replace(partial, target)
                    paths[kind] = target
                else:
                    target.unlink(missing_ok=True)  # an old one would say what is not so
        cancelled = job is not None and job.shown_state == "cancelled"
        if job is None or not paths:
            if job is None:
                code, message = "job-gone", f"{path.name}: {gone}"
            elif cancelled:
                code, message = "cancelled", f"{path.name}: job {job.id} was cancelled"
            else:
                code, message = "job-failed", f"{path.name}: job {job.id} failed on its worker"
            said = job.message if job is not None and job.message else ""
            report = BatchReport(
                source=path.name, doctype=job.doctype if job else "", results=[],
                input_paths=[str(path)],
            )  # fmt: skip
            report.fatal = (code, f"{message}: {said}" if said else message)
            if job is not None:
                report.extra.update({"job": job.id, "run": job.run_id})
            paths = write_report(report, base)
        end = JobEnd.from_reports(paths, job.run_id if job else "")
        if cancelled and end.fatal is None:  # what it did is in its report: never "imported"
            why = f"{path.name}: job {job.id if job else ''} was cancelled"
            end = JobEnd(2, ("cancelled", why), end.counts, [why], end.run_id, end.reports)
        return end

    def _earlier(self, sha: str, doctype: str, mode: str) -> Run | None:
        """The run that imported these bytes before, as this type into this
        company, every row final and fine; ``None`` when the newest run of
        them did not, or none did (the file is then run)."""
        from importer.targets.journal import open_journal

        journal = open_journal(self.journal)
        try:
            for run in journal.runs(target=self.company_key, limit=MOST_RUNS):
                if run.sha256 != sha or run.doctype != doctype or run.ended is None:
                    continue
                fine = run.counts and all(
                    s in STATUSES and STATUSES[s].final and STATUSES[s].exit_code == 0
                    for s in run.counts
                )
                if run.outcome != "done" or not fine or run.mode != mode:
                    return None  # the journal decides what a run of it sends
                if any(d.undo_state in UNDONE for d in journal.run_documents(run.id)):
                    return None  # taken back by undo since: a run sends them again
                return run
            return None
        finally:
            journal.close()

    def _duplicate(
        self,
        spec: WatchFolder,
        place: Folder,
        path: Path,
        sha: str,
        earlier: Run,
        result: PassResult,
    ) -> None:
        message = f"already imported in run {earlier.id}: nothing sent"
        report = BatchReport(
            source=path.name, doctype=spec.doctype, results=[], input_paths=[str(path)]
        )
        report.extra.update({"already_imported": earlier.id, "message": message, "sha256": sha})
        paths = write_report(report, place.report_path(path.name))
        self._finish(
            spec, place, path, "duplicate", paths, message=message, run_id=earlier.id,
            result=result, tag="",
        )  # fmt: skip

    def _give_up(
        self, spec: WatchFolder, place: Folder, path: Path, why: str, result: PassResult
    ) -> None:
        """A file that stayed unusable in the inbox: failed, with a report."""
        waited = self.settings.broken_after
        message = (
            f"{path.name}: {why}; it did not change for {waited:g} s, so it is not "
            "taken: drop the whole file again"
        )
        report = BatchReport(
            source=path.name, doctype=spec.doctype, results=[], input_paths=[str(path)]
        )
        report.fatal = ("file-error", message)
        paths = write_report(report, place.report_path(path.name))
        self._finish(
            spec, place, path, "refused", paths, problems=[message], message=message,
            result=result,
        )  # fmt: skip

    def _finish(
        self,
        spec: WatchFolder,
        place: Folder,
        path: Path,
        status: str,
        reports: dict[str, Path],
        *,
        result: PassResult,
        counts: dict[str, int] | None = None,
        problems: list[str] | None = None,
        message: str = "",
        run_id: str = "",
        tag: str | None = None,
    ) -> None:
        when = self.clock()
        kept = place.done if status in ("imported", "duplicate") else place.failed
        into = place.month(kept, when)
        name = path.name
        unique = tag_for(run_id if tag is None else tag, when)
        moved, paths = finish(path, reports, into, name, unique, when)
        outcome = FileOutcome(
            file=name,
            folder=spec.name,
            doctype=spec.doctype,
            company=self.company,
            status=status,
            counts=counts or {},
            problems=problems or [],
            message=message,
            run_id=run_id,
            moved_to=moved,
            reports=paths,
        )
        result.outcomes.append(outcome)
        self.say(describe(outcome, self.settings.root))
        self._tell(lambda: self.notifier.file_done(outcome))

    def _expectations(self, state: WatchState, result: PassResult) -> None:
        now = self.clock()
        for spec in self.settings.folders:
            every = spec.expect_every
            folder = state.folder(spec.name, now)
            if every is None or not folder.overdue(every, now):
                continue
            folder.said = now
            result.overdue.append(spec.name)
            last = folder.last
            when = "never" if last is None else _when(last)
            self.say(f"{spec.name}: overdue: a file is expected every {every:g} s; last: {when}")
            self._tell(partial(self.notifier.overdue, spec.name, spec.doctype, last, every))

    def _tell(self, call: Callable[[], Any]) -> None:
        """A notification; one that fails is said, never raised."""
        try:
            call()
        except Exception as exc:
            self.say(f"a notification failed: {type(exc).__name__}: {exc}")


def _key(spec: WatchFolder, path: Path) -> str:
    """A file of ``processing/`` in the watcher's state: ``folder/name``."""
    return f"{spec.name}/{path.name}"


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(moment))


def describe(outcome: FileOutcome, root: Path) -> str:
    """One line of the log for a finished file."""
    counts = ", ".join(f"{n} {s}" for s, n in outcome.counts.items())
    where = outcome.moved_to
    shown = where.relative_to(root) if where is not None and where.is_relative_to(root) else where
    run = f" (run {outcome.run_id})" if outcome.run_id and outcome.status != "duplicate" else ""
    said = outcome.message or counts or "no rows"
    text = f"{outcome.folder}: {outcome.file} {outcome.status}{run}: {said}"
    if outcome.status == "failed" and outcome.problems:
        text += f"; first: {outcome.problems[0]}"
    return f"{text} -> {shown}"


class _JobStop(threading.Event):
    """A job's own stop event, set whenever the watcher's is. A run sets
    its stop event itself when it cannot go on (refused credentials): that
    must end the job, not the watcher."""

    def __init__(self, outer: threading.Event) -> None:
        super().__init__()
        self.outer = outer

    def is_set(self) -> bool:
        return super().is_set() or self.outer.is_set()


@contextmanager
def _linked(stop: threading.Event) -> Iterator[threading.Event]:
    """A :class:`_JobStop` of ``stop``, with a thread that wakes whoever
    waits on it when ``stop`` is set."""
    child = _JobStop(stop)
    over = threading.Event()

    def follow() -> None:
        while not over.is_set():
            if stop.wait(0.2):
                child.set()
                return

    follower = threading.Thread(target=follow, name="vnimport-watch-stop", daemon=True)
    follower.start()
    try:
        yield child
    finally:
        over.set()
        follower.join()


def watch_root(
    settings: WatchSettings,
    *,
    once: bool = False,
    stop: threading.Event | None = None,
    registry: Registry | None = None,
    connection: Connection | None = None,
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
    say: Callable[[str], None] | None = None,
) -> int:
    """``vnimport watch``: the notifications set up, the root locked, one
    pass (``once``) or passes until ``stop``; the exit code (0, 1, or 2)."""
    notifier = notifier_for(settings, env=env, say=say)
    watcher = Watcher(
        settings,
        notifier=notifier,
        registry=registry,
        connection=connection,
        config=config,
        env=env,
        say=say,
    )
    return watcher.run(stop or threading.Event(), once=once)
