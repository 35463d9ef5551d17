"""The pages about runs beyond the import itself: Stop and Resume, the run
history, reconcile and undo of a run (:mod:`importer.web.actions`), and the
journal's runs of a company for company and admin users.

Registered by :func:`routes` from :func:`importer.web.app.create_app`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask import Flask, abort, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from importer.errors import VnimportError
from importer.web.actions import ActionRefused, Actions, batch_id_of, input_of
from importer.web.i18n import gettext
from importer.web.kept import action_key, download
from importer.web.runs import outcome_of
from importer.web.service import Service
from importer.web.store import ActionRecord, BatchRecord, RunRecord, User
from importer.web.users import can_see

__all__ = ["actions_of", "resume_run", "routes", "stop_run", "visible_action"]

ACTIVE = ("queued", "running")
RESUMABLE = ("interrupted", "stopped")
#: An action's files: the name asked for → the suffix written beside its base.
ACTION_FILES = {
    "undo-preview": {"report.xlsx": ".xlsx", "report.csv": ".csv", "report.json": ".json"},
    "undo": {"report.xlsx": ".xlsx", "report.csv": ".csv", "report.json": ".json"},
    "reconcile": {"reconcile.xlsx": ".xlsx"},
}


def actions_of(service: Service) -> Actions:
    """The app's actions (made once, kept with the service)."""
    found = getattr(service, "_actions", None)
    if found is None:
        found = Actions(service.store, service.runner, service.config)
        service._actions = found  # type: ignore[attr-defined]
    return found


def stop_run(service: Service, run: RunRecord) -> None:
    """Stop ``run``; :class:`ActionRefused` when it is not under way."""
    if run.status not in ACTIVE:
        raise ActionRefused(
            "not-running",
            gettext("This run has ended ({status}): there is nothing to stop.", status=run.status),
        )
    if not service.runner.stop(run.id):
        raise ActionRefused("not-running", gettext("This run is not under way in this server."))


def resume_run(
    service: Service, user: User, run: RunRecord, batch: BatchRecord
) -> tuple[RunRecord, bool]:
    """Resume ``run`` (the same record, the same job); whether this call
    did. A run under way already (a second press) is returned as it is."""
    if run.status not in (*RESUMABLE, *ACTIVE):
        raise ActionRefused(
            "not-resumable",
            gettext(
                "Only a stopped or interrupted run can be resumed; this one is {status}.",
                status=run.status,
            ),
        )
    if batch.target not in service.targets_for(user):
        raise ActionRefused(
            "target-not-allowed", gettext("You may not import into this company."), 403
        )
    return service.runner.resume(batch, run)


def visible_action(
    service: Service, user: User, run_id: str, action_id: str
) -> tuple[ActionRecord, RunRecord, BatchRecord]:
    run, batch = service.visible_run(user, run_id)
    action = service.store.action(action_id)
    if action is None or action.run_id != run.id:
        abort(404, gettext("There is no such action of this run."))
    return action, run, batch


def verdict(run: RunRecord) -> tuple[str, str]:
    """The run's state in a few words, and its class (ok, problem, or
    empty while under way): a run with failures is never a success."""
    s = run.summary
    if run.status in ACTIVE:
        return (gettext("Under way") if run.status == "running" else gettext("Queued")), ""
    if run.status == "interrupted":
        return gettext("Interrupted"), "problem"
    if run.status == "stopped":
        return gettext("Stopped"), "problem"
    if run.status == "failed" or s.get("fatal"):
        return gettext("Failed"), "problem"
    if s.get("ok"):
        return gettext("Done"), "ok"
    return gettext("Finished with problems"), "problem"


def when(epoch: float | None) -> str:
    if not epoch:
        return ""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))


def routes(app: Flask, service: Service) -> None:
    from importer.web.app import _user, login_required, poll_ended

    actions = actions_of(service)
    app.jinja_env.globals["when"] = when

    @app.template_global()
    def run_extras(run: RunRecord, batch: BatchRecord) -> dict[str, Any]:
        """What the run page shows beside the run itself."""
        user: User | None = g.get("user")
        ended = run.status not in ACTIVE
        journal_runs = actions.journal_runs(batch) if ended else []
        return {
            "verdict": verdict(run),
            "outcome": outcome_of(run.summary),
            "journal_runs": journal_runs,
            "actions": service.store.actions_of(run.id),
            "may_resume": run.status in RESUMABLE
            and user is not None
            and batch.target in service.targets_for(user),
            "may_undo": user is not None
            and batch.target in service.targets_for(user)
            and actions.may_undo(user, run),
            "may_reconcile": user is not None and batch.target in service.targets_for(user),
        }

    def run_page(run: RunRecord, batch: BatchRecord, notice: str, status: int) -> Any:
        return render_template(
            "run.html",
            run=run,
            batch=batch,
            s=run.summary,
            progress=service.progress(run),
            active=run.status in ACTIVE,
            notice=notice,
        ), status

    @app.post("/runs/<run_id>/stop")
    @login_required
    def run_stop(run_id: str) -> Any:
        run, batch = service.visible_run(_user(), run_id)
        try:
            stop_run(service, run)
        except ActionRefused as exc:
            return run_page(run, batch, str(exc), exc.status)
        return redirect(url_for("run_page", run_id=run.id), 303)

    @app.post("/runs/<run_id>/resume")
    @login_required
    def run_resume(run_id: str) -> Any:
        run, batch = service.visible_run(_user(), run_id)
        try:
            resume_run(service, _user(), run, batch)
        except ActionRefused as exc:
            return run_page(run, batch, str(exc), exc.status)
        return redirect(url_for("run_page", run_id=run.id), 303)

    @app.get("/runs")
    @login_required
    def run_history() -> Any:
        user = _user()
        rows = [
            (run, batch, verdict(run))
            for run, batch in service.store.runs_with_batches()
            if can_see(user, batch)
        ]
        return render_template(
            "runs.html",
            rows=rows,
            journal=user.role in ("company", "admin"),
            jobs=queued_jobs(user),
        )

    def queued_jobs(user: User) -> list[Any]:
        """With a queue configured, its jobs for the companies of a company
        or admin user, whoever queued them (the watcher, the command line,
        this app) and whichever machine runs them: their state and counts."""
        from importer.queue.config import queue_url

        url = queue_url(config=service.config)
        if not url or user.role not in ("company", "admin"):
            return []
        from importer.queue import list_jobs

        mine = set(service.targets_for(user))
        try:
            found = list_jobs(url, config=service.config)
        except VnimportError:
            return []  # the queue out of reach: the runs above still show
        return [j for j in found if j.target in mine]

    def start_action(run_id: str, kind: str, journal_run: str, confirm: str | None) -> Any:
        run, batch = service.visible_run(_user(), run_id)
        try:
            action, _ = actions.start(_user(), run, batch, kind, journal_run, confirm=confirm)
        except ActionRefused as exc:
            return run_page(run, batch, str(exc), exc.status)
        return redirect(url_for("action_page", run_id=run.id, action_id=action.id), 303)

    @app.post("/runs/<run_id>/reconcile")
    @login_required
    def run_reconcile(run_id: str) -> Any:
        return start_action(run_id, "reconcile", request.form.get("journal_run", ""), None)

    @app.post("/runs/<run_id>/undo")
    @login_required
    def run_undo_preview(run_id: str) -> Any:
        return start_action(run_id, "undo-preview", request.form.get("journal_run", ""), None)

    @app.post("/runs/<run_id>/actions/<action_id>/confirm")
    @login_required
    def action_confirm(run_id: str, action_id: str) -> Any:
        preview, run, batch = visible_action(service, _user(), run_id, action_id)
        if preview.kind != "undo-preview" or preview.status != "finished":
            return run_page(
                run, batch, gettext("Confirm the undo from a finished dry run of it."), 409
            )
        return start_action(run_id, "undo", preview.journal_run, request.form.get("confirm", ""))

    @app.get("/runs/<run_id>/actions/<action_id>")
    @login_required
    def action_page(run_id: str, action_id: str) -> Any:
        action, run, batch = visible_action(service, _user(), run_id, action_id)
        production = False
        if action.kind == "undo-preview":
            try:
                production = actions.target(batch).kind == "production"
            except VnimportError:
                production = False
        return render_template(
            "action.html",
            action=action,
            run=run,
            batch=batch,
            a=action.summary,
            active=action.status in ACTIVE,
            production=production,
            may_undo=batch.target in service.targets_for(_user())
            and actions.may_undo(_user(), run),
        )

    @app.get("/runs/<run_id>/actions/<action_id>/status")
    @login_required
    def action_status(run_id: str, action_id: str) -> Any:
        action, run, _ = visible_action(service, _user(), run_id, action_id)
        if action.status not in ACTIVE:
            return poll_ended(url_for("action_page", run_id=run.id, action_id=action.id))
        return render_template("action_status.html", action=action, run=run)

    @app.get("/runs/<run_id>/actions/<action_id>/<name>")
    @login_required
    def action_file(run_id: str, action_id: str, name: str) -> BaseResponse:
        action, _, batch = visible_action(service, _user(), run_id, action_id)
        return action_download(actions, action, batch, name)

    @app.get("/journal")
    @login_required
    def journal_runs() -> Any:
        user = _user()
        if user.role not in ("company", "admin"):
            abort(404)
        web_runs = service.store.runs_with_batches(10_000)
        uploads = {b.id: (r, b) for r, b in web_runs}
        inputs = {(b.filename, b.summary.get("input_sha256")): (r, b) for r, b in web_runs}
        companies = []
        for name in service.targets_for(user):
            try:
                listed = actions.journal_listing(name)
                error = ""
            except VnimportError as exc:
                listed, error = [], str(exc)
            rows = []
            for r in listed:
                web = uploads.get(batch_id_of(r))
                found = inputs.get(input_of(r))
                if web is None and found is not None and found[0].owner == r.user:
                    web = found
                rows.append((r, web, _documents_of(web[0], r.id) if web else {}))
            companies.append((name, rows, error))
        return render_template("journal.html", companies=companies)

    @app.get("/journal/<target>/<journal_run>")
    @login_required
    def journal_run(target: str, journal_run: str) -> Any:
        user = _user()
        if user.role not in ("company", "admin") or target not in service.targets_for(user):
            abort(404)
        found = actions.register(target, journal_run)
        if found is None:
            abort(404, gettext("There is no such run in this company's journal."))
        run, documents = found
        return render_template("journal_run.html", target=target, run=run, documents=documents)


def _documents_of(run: RunRecord, journal_run: str) -> dict[str, int]:
    """The documents by result of the web run's attempt that is
    ``journal_run`` in the journal (the journal keeps rows only)."""
    s = run.summary
    if run.journal_run == journal_run:
        return dict(s.get("document_counts", {}))
    for attempt in s.get("attempts", []):
        if attempt.get("journal_run") == journal_run:
            return dict(attempt.get("document_counts", {}))
    return {}


def action_download(
    actions: Actions, action: ActionRecord, batch: BatchRecord, name: str
) -> BaseResponse:
    """One of an action's files; the name is looked up in a fixed set."""
    suffix = ACTION_FILES.get(action.kind, {}).get(name)
    if suffix is None:
        abort(404)
    stem = Path(batch.filename).stem or "batch"
    label = "reconcile" if action.kind == "reconcile" else action.kind
    return download(
        actions.runner.files,
        action_key(action) + suffix,
        f"{stem}.{label}{suffix}",
        gettext("There is no such file for this action (not written yet)."),
    )
