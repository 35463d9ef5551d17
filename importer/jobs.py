"""Jobs: one file imported into one company, unattended.

A :class:`Job` says everything a run needs that a person would otherwise
type: the file, its document type, the company (a named target of
``vnimport.toml``, with its own journal), the mode, the mapping file.
:func:`run_job` runs it in this process through the library API (the
same steps as ``vnimport run``: check, test-then-production, preflight,
send through the journal, report) and always comes back with a
:class:`JobResult` and a written report, whatever ended it. The folder
watcher, the web app and the queue's workers are front doors over these
two names.

Nobody is at a terminal for a job: a production target refuses a file
that no test run took unless the job says ``yes`` (or the target allows
untested files), and nothing is asked.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer.errors import ConfigError, VnimportError
from importer.report import BatchReport, write_report

if TYPE_CHECKING:
    from importer.doctypes import Registry
    from importer.settings import Connection
    from importer.targets import Event

__all__ = ["PREFLIGHT_FROM", "Job", "JobResult", "jobs_exit_code", "lock_holder", "run_job"]

PREFLIGHT_FROM = 20  # documents: a run with more is checked against the company first
EXIT_FATAL = 2  # the job could not run (the CLI's exit code 2)
MODES = ("create", "update", "upsert")


@dataclass(frozen=True)
class Job:
    """One file to import into one company.

    ``target`` names a ``[targets.NAME]`` of ``vnimport.toml`` (empty: the
    top-level connection); ``journal`` overrides the target's. ``report``
    is where the report goes (default: beside the file, ``FILE.report``).
    ``preflight``: check against the company first (``None``: when the
    file has more than :data:`PREFLIGHT_FROM` documents). ``yes``: a
    production target may take a file no test target took. ``edits``:
    cells changed in the file by hand before the run (who, sheet, row,
    column, old and new value, when: the web app's check page), kept in
    its report (``edits`` in the JSON, an Edits sheet in the workbook).
    ``name``: the file as the user knows it, when ``file`` is where it is
    kept (an upload's own name): what the report, the journal's run and
    its messages call it (default: ``file`` as given); ``mapping_name`` the
    same for the mapping file (default: its file name)."""

    file: Path
    doctype: str
    target: str = ""
    mode: str = "create"
    mapping: Path | None = None
    sheet: str | None = None
    release: bool = False
    preflight: bool | None = None
    yes: bool = False
    journal: str = ""
    report: Path | None = None
    workers: int = 4
    edits: tuple[dict[str, Any], ...] = ()
    name: str = ""
    mapping_name: str = ""
    #: who the journal says ran it (the web app's user); empty: this process's user
    by: str = ""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"a job's mode is one of {', '.join(MODES)}, not {self.mode!r}")

    @property
    def report_path(self) -> Path:
        return self.report or self.file.with_name(self.file.name + ".report")


@dataclass
class JobResult:
    """What became of a job: its report (always written: ``paths``), the
    run's id in the journal (empty when nothing was sent), and, when the
    job could not run to the end, why (``fatal``: a code and a message)."""

    job: Job
    report: BatchReport
    paths: dict[str, Path] = field(default_factory=dict)
    run_id: str = ""
    sha256: str = ""
    company: str = ""  # the target's name, else the API and tenant
    preflight: dict[str, Any] | None = None

    @property
    def fatal(self) -> tuple[str, str] | None:
        return self.report.fatal

    @property
    def exit_code(self) -> int:
        """0 every row fine, 1 some rows not, 2 the job could not run."""
        return EXIT_FATAL if self.report.fatal else self.report.exit_code

    @property
    def counts(self) -> dict[str, int]:
        return self.report.counts()

    def problems(self, most: int = 5) -> list[str]:
        """The first problems, one line each (row, column, message): never a
        whole row of cells."""
        if self.report.fatal:
            return [self.report.fatal[1]]
        out: list[str] = []
        for r in self.report.results:
            if len(out) >= most:
                break
            if r.status in ("invalid", "failed", "unknown", "not sent", "skipped"):
                text = r.message or "; ".join(
                    (f"{i.column}: " if i.column else "") + i.message for i in r.errors
                )
                out.append(f"row {r.row} ({r.key}): {r.status}: {text}"[:300])
        return out


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_job(
    job: Job,
    *,
    registry: Registry | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[Event], None] | None = None,
    connection: Connection | None = None,
    config: Path | None = None,
    job_id: str = "",
    company_wait: float | None = None,
) -> JobResult:
    """Run ``job`` to its end and write its report. Never raises for
    anything a file, a setting or Visma can cause: the result's report
    says what ended it (``fatal``). ``connection`` replaces the target's
    (an embedded sandbox's, in tests and demos); ``config`` is the
    ``vnimport.toml`` to read (default: the one in the working folder).

    ``job_id`` names the queued job the run is (sent to Visma as
    ``X-Vnimport-Job``, and the name others see on the company's lock).
    With a journal in PostgreSQL the run holds the company's advisory lock
    (:func:`importer.targets.postgres.company_lock`) while it sends, so
    that no other run, queued or manual, on any machine, works on the same
    company at the same time; ``company_wait`` is how long it waits for it
    (``None``: until it is free, or ``stop``)."""
    from importer.doctypes import Registry

    registry = registry or Registry()
    sha = ""
    result: JobResult | None = None
    try:
        sha = file_sha256(job.file)
        result = _run(job, registry, stop, progress, connection, config, sha, job_id, company_wait)
    except VnimportError as exc:
        report = getattr(exc, "report", None) or BatchReport(
            source=_shown(job), doctype=job.doctype, results=[], input_paths=[str(job.file)]
        )
        report.fatal = (exc.code, _named(job, str(exc)))
        result = JobResult(job, report, sha256=sha, run_id=str(report.extra.get("run", "")))
    except OSError as exc:  # the file went away, a folder cannot be read
        report = BatchReport(
            source=_shown(job), doctype=job.doctype, results=[], input_paths=[str(job.file)]
        )
        report.fatal = ("file-error", f"{_shown(job)}: {exc.strerror or exc}")
        result = JobResult(job, report, sha256=sha)
    if job.edits:
        result.report.extra["edits"] = [dict(e) for e in job.edits]
    result.paths = write_report(result.report, job.report_path)
    return result


def _shown(job: Job) -> str:
    """The job's file as its report and messages call it."""
    return job.name or str(job.file)


def _named(job: Job, message: str) -> str:
    """``message`` with the job's file called by its name, not where it is kept."""
    return message.replace(str(job.file), job.name) if job.name else message


def _run(
    job: Job,
    registry: Registry,
    stop: threading.Event | None,
    progress: Callable[[Event], None] | None,
    given: Connection | None,
    config: Path | None,
    sha: str,
    job_id: str = "",
    company_wait: float | None = None,
) -> JobResult:
    from importer.batch import check
    from importer.mapping.rules import load_rules
    from importer.register import check_tested
    from importer.settings import default_journal, load_connection, load_target, load_targets
    from importer.targets import send
    from importer.targets.journal import open_journal
    from importer.targets.visma import VismaDestination

    target = load_target(job.target, config=config) if job.target else None
    connection = given or (target.connection if target else load_connection(config=config))
    if connection is None:
        from importer.settings import how_to_configure

        raise ConfigError(how_to_configure())
    if job_id:
        from dataclasses import replace

        connection = replace(connection, job=job_id)
    company = target.name if target else connection.target
    journal_path = job.journal or (target.journal if target else "") or default_journal()
    doctype = registry.get(job.doctype)
    rules = load_rules(job.mapping, name=job.mapping_name or None) if job.mapping else None
    batch = check(job.file, doctype, sheet=job.sheet, mapping=rules)
    if job.name:  # what the report and the journal's run call the file
        for table in batch.tables:
            table.display_name = job.name
    if target is not None:
        tests = [t for t in load_targets(config) if t.kind == "test"]
        # a worker's job names the journal its runs go to (the queue's): the
        # test runs it looks for are there, not in this machine's default
        check_tested(
            target,
            sha,
            doctype.name,
            tests,
            default_journal=job.journal or default_journal(),
            yes=job.yes,
        )
    with ExitStack() as stack:
        if journal_path.startswith(("postgresql://", "postgres://")):
            from importer.targets.postgres import company_lock

            stack.enter_context(
                company_lock(
                    journal_path,
                    connection.target,
                    lock_holder(job_id),
                    wait=company_wait,
                    stop=stop,
                )
            )
        journal = open_journal(journal_path)
        stack.callback(journal.close)
        checked = None
        wanted = job.preflight
        if wanted is None:
            wanted = len(batch.documents) > PREFLIGHT_FROM
        if wanted:
            from importer.company_checks import preflight
            from importer.settings import lists_max_age
            from importer.targets.lists import cache_beside

            checked = preflight(
                batch,
                connection,
                cache=cache_beside(journal_path),
                max_age=lists_max_age(None),
                existing=job.mode == "create",
                journal=journal,
                warn_existing=False,
            )
        destination = VismaDestination(
            connection,
            journal=journal,
            by=job.by,
            release=job.release,
            workers=job.workers,
            existing=checked.existing if checked is not None else None,
        )
        report = send(batch, destination, mode=job.mode, workers=job.workers, progress=progress,
                      stop=stop)  # fmt: skip
    summary = checked.summary() if checked is not None else None
    if summary is not None:
        report.extra["preflight"] = summary
    run_id = str(report.extra.get("run", ""))
    return JobResult(job, report, run_id=run_id, sha256=sha, company=company, preflight=summary)


def lock_holder(job_id: str = "") -> str:
    """What a run calls itself on the company's lock (others are told it):
    the queued job, else this process, with where it runs."""
    import getpass
    import os
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = ""
    where = f"pid {os.getpid()} on {socket.gethostname()}"
    if job_id:
        return f"vnimport job {job_id} ({where})"
    return f"a vnimport run ({user + ', ' if user else ''}{where})"


def jobs_exit_code(results: list[JobResult]) -> int:
    """One exit code for several jobs: the worst of theirs (0 for none)."""
    return max((r.exit_code for r in results), default=0)
