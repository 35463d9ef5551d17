"""What can be done to a run after it ended, from its page or the API:
reconcile one of its journal runs (read back what it created or updated and
compare it with the file; a workbook) and undo it (first a dry run that
says what would be done, then the undo itself). Each is an action in the
store, claimed there (one of a kind at a time for a journal run: a second
press gets the first) and run in the background by the runner's spawn; its
outcome and report stay beside the run's own report.

A web run is one or more journal runs: each attempt (the first, and each
resume) starts one. They are read from the target's journal (the runs whose
file is the batch's upload), so an attempt the server was killed in is
found too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importer.errors import VnimportError
from importer.settings import Target, default_journal, load_target
from importer.targets.journal import DONE, Journal, Run, open_journal
from importer.web.kept import action_key, keep, work
from importer.web.runs import Runner
from importer.web.store import ActionRecord, BatchRecord, RunRecord, Store, User

__all__ = ["ActionRefused", "Actions", "JournalRun", "batch_id_of", "input_of"]

KINDS = ("reconcile", "undo-preview", "undo")
#: Roles that may undo any run they can see (others: their own runs only).
UNDO_ROLES = ("company", "admin")


class ActionRefused(Exception):
    """An action that may not be done (now): ``code`` for the API, the
    message for a person."""

    def __init__(self, code: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class JournalRun:
    """One journal run of a web run, as its page lists it."""

    id: str
    started: float
    ended: float | None
    outcome: str  # done, stopped, a fatal code; "" while running or when killed
    counts: dict[str, int]
    created: int  # documents it created or updated: what undo and reconcile act on


class Actions:
    def __init__(self, store: Store, runner: Runner, config: Path | None) -> None:
        self.store = store
        self.runner = runner
        self.config = config

    # ------------------------------------------------------------ journal

    def target(self, batch: BatchRecord) -> Target:
        return load_target(batch.target, config=self.config)

    def _journal(self, target: Target, *, read_only: bool) -> Journal | None:
        path = journal_of(target, self.config)
        if "://" not in path and not Path(path).exists():
            return None  # no run has used it yet
        return open_journal(path, read_only=read_only)

    def journal_runs(self, batch: BatchRecord) -> list[JournalRun]:
        """The journal runs of ``batch``'s upload, oldest first; empty when
        the journal cannot be read."""
        try:
            target = self.target(batch)
            journal = self._journal(target, read_only=True)
        except VnimportError:
            return []
        if journal is None:
            return []
        try:
            runs = journal.runs(target=target.connection.target, limit=10_000)
            web_run = self.store.run_of_batch(batch.id)
            mine = [r for r in runs if _is_upload(r, batch, web_run)]
            return [_journal_run(journal, r) for r in reversed(mine)]
        finally:
            journal.close()

    def journal_listing(self, target_name: str, limit: int = 200) -> list[Run]:
        """Every run of a target's journal, newest first."""
        target = load_target(target_name, config=self.config)
        journal = self._journal(target, read_only=True)
        if journal is None:
            return []
        try:
            return journal.runs(target=target.connection.target, limit=limit)
        finally:
            journal.close()

    def register(self, target_name: str, run_id: str) -> tuple[Run, list[Any]] | None:
        """A journal run and what it did to each document, or None."""
        target = load_target(target_name, config=self.config)
        journal = self._journal(target, read_only=True)
        if journal is None:
            return None
        try:
            found = journal.find_run(run_id, target=target.connection.target)
            if found is None or found.id != run_id:
                return None
            return found, journal.run_documents(found.id)
        finally:
            journal.close()

    # ------------------------------------------------------------ actions

    @staticmethod
    def may_undo(user: User, run: RunRecord) -> bool:
        return run.owner == user.name or user.role in UNDO_ROLES

    def start(
        self,
        user: User,
        run: RunRecord,
        batch: BatchRecord,
        kind: str,
        journal_run: str,
        *,
        confirm: str | None = None,
    ) -> tuple[ActionRecord, bool]:
        """Claim and start ``kind`` on ``journal_run`` of ``run``. ``confirm``:
        for an undo in a production company, its name typed by the user."""
        if kind not in KINDS:
            raise ActionRefused("unknown-action", f"There is no action {kind!r}.", 404)
        if run.status in ("queued", "running"):
            raise ActionRefused(
                "run-not-ended", "The run has not ended yet: wait for it, or stop it first."
            )
        if kind != "reconcile" and not self.may_undo(user, run):
            raise ActionRefused(
                "not-allowed",
                "Only the user who ran the import, or a company or admin user, may undo it.",
                403,
            )
        known = {j.id for j in self.journal_runs(batch)}
        if journal_run not in known:
            raise ActionRefused(
                "no-journal-run", "This run has no such run in the journal (nothing was sent).", 404
            )
        if kind == "undo":
            try:
                production = self.target(batch).kind == "production"
            except VnimportError as exc:
                raise ActionRefused("config-error", str(exc)) from None
            if production and (confirm or "").strip() != batch.target:
                raise ActionRefused(
                    "confirm-company",
                    f"{batch.target} is a production company: type its name to confirm the undo.",
                    400,
                )
        action, made = self.store.claim_action(run.id, journal_run, kind, user.name)
        if made:
            self.runner.spawn(lambda: self._work(action, batch))
        return action, made

    def _work(self, action: ActionRecord, batch: BatchRecord) -> None:
        self.store.set_action(action.id, "running")
        try:
            if action.kind == "reconcile":
                status, summary = self._reconcile(action, batch)
            else:
                status, summary = self._undo(action, batch, dry_run=action.kind == "undo-preview")
        except VnimportError as exc:
            status, summary = "failed", {"fatal": {"code": exc.code, "message": str(exc)}}
        except Exception as exc:  # a bug: the action ends failed and says so
            status = "failed"
            summary = {"fatal": {"code": "internal-error", "message": type(exc).__name__}}
        self.store.set_action(action.id, status, summary)

    def _reconcile(self, action: ActionRecord, batch: BatchRecord) -> tuple[str, dict[str, Any]]:
        from importer.reconciliation.compare import reconcile
        from importer.reconciliation.workbook import write_reconciliation
        from importer.targets.client import VismaClient, scopes

        target = self.target(batch)
        journal = self._journal(target, read_only=True)
        if journal is None:
            return "failed", {"fatal": {"code": "no-journal", "message": "No journal yet."}}
        connection = target.connection
        try:
            client = VismaClient(connection, workers=1, scope=connection.scope or scopes("read"))
            try:
                result = reconcile(journal, action.journal_run, client)
            finally:
                client.session.close()
        finally:
            journal.close()
        with work(self.runner.files) as folder:
            path = write_reconciliation(result, folder / "reconcile.xlsx")
            written = path.is_file()
            keep(self.runner.files, folder / "reconcile", action_key(action))
        summary = result.summary()
        summary["differences_listed"] = [d.describe() for d in result.differences[:100]]
        summary["files"] = ["xlsx"] if written else []
        return "finished", summary

    def _undo(
        self, action: ActionRecord, batch: BatchRecord, *, dry_run: bool
    ) -> tuple[str, dict[str, Any]]:
        from importer.undo.report import write_undo_report
        from importer.undo.run import undo_run

        target = self.target(batch)
        journal = self._journal(target, read_only=dry_run)
        if journal is None:
            return "failed", {"fatal": {"code": "no-journal", "message": "No journal yet."}}
        try:
            report = undo_run(journal, action.journal_run, target.connection, dry_run=dry_run)
        finally:
            journal.close()
        with work(self.runner.files) as folder:
            paths = write_undo_report(report, folder / "undo")
            keep(self.runner.files, folder / "undo", action_key(action))
        summary = report.summary()
        summary["files"] = sorted(paths)
        return ("failed" if report.fatal else "finished"), summary


def batch_id_of(run: Run) -> str:
    """The web batch a journal run read, when the journal names the stored
    file (``ID.xlsx``, ``ID.edited.xlsx``: runs recorded before the journal
    took the user's file name)."""
    return Path(run.file).name.split(".")[0]


def input_of(run: Run) -> tuple[str, str]:
    """What a journal run read as the web app knows it: the user's file
    name and the bytes' SHA-256 (``input_sha256`` of the batch)."""
    return Path(run.file).name, run.sha256


def _is_upload(run: Run, batch: BatchRecord, web_run: RunRecord | None) -> bool:
    """Whether the journal run ``run`` is an attempt of the batch's web run:
    the same file name and bytes, recorded as run by the user who pressed
    Import, since then. The same export uploaded by another user, or run
    from the command line, is never taken for it (nor undone from here)."""
    if batch_id_of(run) == batch.id:
        return True
    if web_run is None or run.user != web_run.owner or run.started < web_run.created:
        return False
    return input_of(run) == (batch.filename, batch.summary.get("input_sha256"))


def _journal_run(journal: Journal, run: Run) -> JournalRun:
    documents = journal.run_documents(run.id)
    counts = dict(run.counts)
    if run.ended is None:  # killed: its counts were never written; its documents were
        counts = {}
        for d in documents:
            counts[d.status] = counts.get(d.status, 0) + 1
    created = sum(1 for d in documents if d.status in DONE)
    return JournalRun(run.id, run.started, run.ended, run.outcome, counts, created)


def journal_of(target: Target, config: Path | None) -> str:
    """The journal ``target``'s runs from this app are in: with a queue
    configured, the workers' (:func:`importer.register.queue_journal`),
    else the target's own or the default one."""
    from importer.queue.config import queue_url

    queue = queue_url(config=config)
    if queue:
        from importer.register import queue_journal

        return queue_journal(target.journal, queue)
    return target.journal or default_journal()
