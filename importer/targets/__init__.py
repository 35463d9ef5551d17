"""Targets: where documents go, and :func:`send`, which takes them there.

A :class:`Destination` delivers one request at a time and says what became
of it (an :class:`~importer.targets.client.Outcome`). :func:`send` runs a
pool of workers over a checked batch's requests, reports every row, and
stops cleanly: on ``stop`` no new document starts and the requests in flight
finish. Two destinations come with vnimport: Visma.net
(:class:`~importer.targets.visma.VismaDestination`: the client, the journal,
lookups, release) and a JSON-lines file (:class:`JsonLinesDestination`: the
requests a run would send, for a dry run or another program).

The word *target* is kept for a named connection to one Visma.net company.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from importer.codes import message
from importer.errors import AuthError, ConfigError, JournalError, VismaError, VnimportError
from importer.group import Document
from importer.render import Request, render_requests
from importer.report import BatchReport
from importer.targets.client import Outcome
from importer.targets.journal import DONE, Journal

if TYPE_CHECKING:
    from importer.batch import Batch

__all__ = [
    "MODES",
    "Destination",
    "Event",
    "JsonLinesDestination",
    "RunAborted",
    "body_hash",
    "send",
]

MODES = ("create", "update", "upsert")
MAX_WORKERS = 64  # Visma's rate limit binds long before


@dataclass(frozen=True, slots=True)
class Event:
    """Progress of a run, for a terminal bar or a web page.

    ``phase`` is ``estimate`` (before the first document: about ``total``
    calls, taking about ``waiting_s`` seconds at Visma's quota; 0 when this
    window's quota holds them, -1 when the quota is not known yet),
    ``sending`` (a document is done), ``waiting`` (Visma's rate limit holds
    the next call for ``waiting_s`` seconds), ``settling`` (``done``
    documents got no clear answer and are looked up ``waiting_s`` seconds
    after they were sent) or ``done``."""

    phase: str
    done: int
    total: int
    waiting_s: float = 0.0


Progress = Callable[[Event], None]


class Destination(Protocol):
    """Where :func:`send` takes a batch's documents."""

    def describe(self) -> str:
        """Where the documents go, in a few words (a URL and company, a file)."""
        ...

    def open(self, batch: Batch, mode: str, notify: Progress) -> None:
        """Get ready to deliver ``batch``'s documents in ``mode``."""
        ...

    def deliver(self, request: Request) -> Outcome:
        """Deliver one document; called from worker threads."""
        ...

    def close(self, report: BatchReport) -> None:
        """Add what the report should say (calls made ...) and let go."""
        ...

    # Optional: ``settle(stop) -> [(document, outcome)]``, called once every
    # document has been delivered, for outcomes a destination could only
    # decide later (VismaDestination: creates that got no clear answer).


class RunAborted(VnimportError):
    """A fatal error stopped the run; ``report`` says what was done before."""

    def __init__(self, message: str, report: BatchReport, code: str = "auth-error") -> None:
        super().__init__(message)
        self.report = report
        self.code = code  # what stopped it: auth-error, internal-error


def body_hash(text: str) -> str:
    """What the journal compares: the request body as sent."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def send(
    batch: Batch,
    destination: Destination,
    *,
    mode: str = "create",
    workers: int = 4,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> BatchReport:
    """Deliver every valid document of ``batch`` and report every row.

    Documents go out through ``workers`` threads. When ``stop`` is set (a
    front door sets it on Ctrl-C or SIGTERM) no new document starts, the
    ones in flight finish, and every other row ends ``not sent``. A
    :class:`KeyboardInterrupt` while waiting (a second signal) stops at
    once: the documents in flight end ``unknown``. A fatal error (Visma
    refusing the credentials, a bug) stops the run the same way and is
    raised after the report is made, as :class:`RunAborted` with the report.
    """
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ConfigError(
            f"workers must be a whole number from 1 to {MAX_WORKERS}, not {workers!r}"
        )
    stop = stop or threading.Event()
    outcomes: dict[int, Outcome] = {}
    fatal: tuple[str, str] | None = None  # (code, message)
    at_once = False
    done = 0
    total = len(batch.valid_documents)
    quiet = False

    def notify(event: Event) -> None:
        """Progress goes to the caller; a callback that fails (a closed
        terminal) is dropped, never the run."""
        nonlocal quiet
        if progress is None or quiet:
            return
        try:
            progress(event)
        except Exception:
            quiet = True

    requests = render_requests(batch)  # rendered as they are sent: a failure marks its rows
    try:
        destination.open(batch, mode, notify)
    except VnimportError as exc:  # refused credentials, a lookup Visma did not answer ...
        fatal = (exc.code, str(exc))
        stop.set()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vnimport-send")
    pending: dict[Future[Outcome], Document] = {}

    def settle(future: Future[Outcome], doc: Document) -> None:
        nonlocal fatal, done
        try:
            outcomes[id(doc)] = future.result()
        except (AuthError, JournalError, VismaError) as exc:  # refused, lost, out of reach
            fatal = fatal or (exc.code, str(exc))
            stop.set()
        except Exception as exc:  # a bug: this document's fate is not known
            detail = f"{type(exc).__name__}: {exc}"
            outcomes[id(doc)] = Outcome(
                "unknown", code="internal-error", message=message("internal-error", detail=detail)
            )
            fatal = fatal or ("internal-error", f"internal error: {detail}")
            stop.set()
        done += 1

    try:
        while True:
            while len(pending) < workers * 2 and not stop.is_set():
                request = next(requests, None)
                if request is None:
                    break
                pending[pool.submit(destination.deliver, request)] = request.document
            if not pending:
                break
            finished, _ = futures_wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                settle(future, pending.pop(future))
                notify(Event("sending", done, total))
        pool.shutdown(wait=True)
    except KeyboardInterrupt:  # a second signal: stop at once
        stop.set()
        at_once = True
        pool.shutdown(wait=False, cancel_futures=True)
        for future, doc in pending.items():
            if future.done() and not future.cancelled():
                settle(future, doc)
            elif not future.cancelled():  # on its way to Visma: its fate is not known
                outcomes[id(doc)] = Outcome(
                    "unknown", code="outcome-unknown", message=message("unknown-in-flight")
                )
    except BaseException as exc:  # a bug here: the documents in flight finish first
        stop.set()
        for future, doc in pending.items():
            if not future.cancel():
                futures_wait([future])
                settle(future, doc)
        pool.shutdown(wait=True)
        fatal = fatal or ("internal-error", f"internal error: {type(exc).__name__}: {exc}")
    late = getattr(destination, "settle", None)  # creates that got no clear answer
    if late is not None:
        if fatal is not None or at_once:
            stop.set()  # no lookups now: they stay unknown, and the next run looks them up
        try:
            for doc, outcome in late(stop):
                outcomes[id(doc)] = outcome
        except Exception as exc:
            fatal = fatal or ("internal-error", f"internal error: {type(exc).__name__}: {exc}")
    report = _run_report(batch, outcomes, stopped=stop.is_set(), at_once=at_once, fatal=fatal)
    report.extra["mode"] = mode
    report.extra["destination"] = destination.describe()
    report.fatal = fatal
    try:
        destination.close(report)
    except Exception as exc:
        fatal = fatal or ("internal-error", f"internal error: {type(exc).__name__}: {exc}")
        report.fatal = fatal
    notify(Event("done", done, total))
    if fatal is not None:
        raise RunAborted(fatal[1], report, fatal[0])
    return report


def _run_report(
    batch: Batch,
    outcomes: dict[int, Outcome],
    *,
    stopped: bool,
    at_once: bool,
    fatal: tuple[str, str] | None,
) -> BatchReport:
    from importer.batch import validation_report

    report = validation_report(batch)
    by_row: dict[tuple[str, int], Outcome | None] = {}
    for doc in batch.documents:
        outcome = outcomes.get(id(doc))
        for row in doc.rows:
            by_row[(row.sheet, row.number)] = outcome
    for result in report.results:
        if result.status == "invalid":
            continue
        outcome = by_row.get((result.sheet, result.row))
        if outcome is None:  # the run stopped before this document
            result.status = "not sent"
            result.code = "stopped"
            if fatal:
                result.message = message("not-sent-fatal", why=fatal[1])
            else:
                result.message = message("not-sent-at-once" if at_once else "not-sent-stopped")
            continue
        result.status = outcome.status
        result.number = outcome.number
        result.http_status = outcome.http_status
        result.message = outcome.message
        result.code = outcome.code
    report.extra["stopped"] = stopped
    return report


class JsonLinesDestination:
    """Writes each request as one JSON line (DESIGN.md's preview format)
    instead of sending it: ``run --dry-run``, or input for another program.

    With a ``journal`` and the ``target`` (company) it would go to, it only
    reads the journal, claiming nothing: a document already there as the
    file has it is ``unchanged``, one created before and changed since is
    ``skipped`` in create mode, and the rest are written, so a re-run lists
    only what a real run would send."""

    def __init__(
        self,
        out: str | Path | IO[str],
        *,
        journal: Journal | None = None,
        target: str = "",
        name: str = "",
    ) -> None:
        self._out = out
        self._name = name
        self._journal = journal
        self._target = target
        self._lock = threading.Lock()
        self._stream: IO[str] | None = None
        self._own = False
        self._mode = "create"
        self._doctype = ""
        self.written = 0

    @property
    def name(self) -> str:
        """The file the requests go to, as the user named it."""
        if self._name:
            return self._name
        if isinstance(self._out, (str, Path)):
            return str(self._out)
        return str(getattr(self._out, "name", "<stream>"))

    def describe(self) -> str:
        return f"requests file {self.name}"

    def open(self, batch: Batch, mode: str, notify: Progress) -> None:
        self._mode = mode
        self._doctype = batch.doctype.name
        if isinstance(self._out, (str, Path)):
            path = Path(self._out)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = path.open("w", encoding="utf-8")
            self._own = True
        else:
            self._stream = self._out

    def deliver(self, request: Request) -> Outcome:
        note = message("written", path=self.name)
        entry = None
        if self._journal is not None:
            entry = self._journal.get(self._target, self._doctype, request.key)
        if entry is not None and entry.state in DONE:
            if entry.hash == body_hash(request.text):
                return Outcome("unchanged", entry.number, message=message("unchanged"))
            if self._mode == "create":
                return Outcome(
                    "skipped",
                    entry.number,
                    code="already-created",
                    message=message("would-skip", number=entry.number),
                )
            if entry.number:  # an update of the document the journal knows
                method, path = request.document_path("update", entry.number)
                request = replace(request, method=method, path=path)
                note = message("written-update", path=self.name, number=entry.number)
        elif self._mode != "create":
            note = message("written-lookup", path=self.name)
        elif entry is not None and entry.state == "sending":
            note = message("written-interrupted", path=self.name)
        assert self._stream is not None
        with self._lock:
            self._stream.write(request.json_line())
            self._stream.write("\n")
            self.written += 1
        return Outcome("written", entry.number if entry else "", message=note)

    def close(self, report: BatchReport) -> None:
        report.extra["requests_written"] = self.written
        report.extra["requests_file"] = self.name
        if self._stream is not None:
            if self._own:
                self._stream.close()
            else:
                self._stream.flush()
        self._stream = None
