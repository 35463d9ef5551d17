"""The JSON API for scripts, under ``/api/v1``: each call sends
``Authorization: Bearer <token>`` (``vnimport users add`` / ``users token``
print one); no cookie is read, so no CSRF token is asked.

- ``POST /api/v1/batches`` (multipart: ``file``, ``type``, ``target``,
  ``mapping``) → the batch, 201
- ``GET /api/v1/batches/{id}`` → the batch
- ``POST /api/v1/batches/{id}/run`` (``mode``) → ``{"run": id}``, 202 (200
  with the same run when the batch was started before)
- ``GET /api/v1/runs/{id}`` → status, progress, counts, Visma's numbers
- ``GET /api/v1/runs/{id}/report.xlsx`` (``.csv``, ``.json``, ``fixme.xlsx``)
- ``GET /api/v1/runs`` → the runs the user may see, newest first
- ``POST /api/v1/runs/{id}/stop`` → 202; 409 when the run has ended
- ``POST /api/v1/runs/{id}/resume`` → 202 (200 when resumed already); 409
  unless stopped or interrupted
- ``POST /api/v1/runs/{id}/reconcile`` (``journal_run``, default the last)
  and ``POST /api/v1/runs/{id}/undo`` (``journal_run``; ``dry_run``, true
  unless false; ``confirm``: the company's name, for a production one) →
  202 ``{"action": id}`` (200 with the one under way)
- ``GET /api/v1/actions/{id}`` → its status and outcome;
  ``GET /api/v1/actions/{id}/report.xlsx`` (``.csv``, ``.json``;
  ``reconcile.xlsx``)
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, request
from werkzeug.wrappers import Response as BaseResponse

from importer.web.batches import UploadError
from importer.web.i18n import gettext
from importer.web.service import Service
from importer.web.store import User
from importer.web.users import user_for_token

__all__ = ["api"]

api = Blueprint("api", __name__, url_prefix="/api/v1")


def _service() -> Service:
    service: Service = current_app.extensions["vnimport"]
    return service


@api.before_request
def bearer() -> Any:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = user_for_token(_service().store, token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        body = {"error": {"code": "unauthorized", "message": "send Authorization: Bearer TOKEN"}}
        return body, 401, {"WWW-Authenticate": 'Bearer realm="vnimport"'}
    g.user = user
    return None


def _user() -> User:
    user: User = g.user
    return user


def _refused(exc: UploadError, status: int = 400) -> tuple[dict[str, Any], int]:
    return {"error": {"code": exc.code, "message": str(exc)}}, status


@api.post("/batches")
def new_batch() -> Any:
    service = _service()
    file = request.files.get("file")
    if file is None or not file.filename:
        return _refused(UploadError("no-file", "send the file as the multipart field 'file'"))
    mapping = request.files.get("mapping")
    try:
        batch = service.new_batch(
            _user(),
            file.stream,
            file.filename,
            request.form.get("target", ""),
            request.form.get("type", ""),
            mapping.stream if mapping is not None and mapping.filename else None,
        )
    except UploadError as exc:
        return _refused(exc, 403 if exc.code == "target-not-allowed" else 400)
    return service.batch_json(batch), 201


@api.get("/batches/<batch_id>")
def get_batch(batch_id: str) -> Any:
    service = _service()
    return service.batch_json(service.visible_batch(_user(), batch_id))


@api.post("/batches/<batch_id>/run")
def run_batch(batch_id: str) -> Any:
    service = _service()
    batch = service.visible_batch(_user(), batch_id)
    mode = request.form.get("mode") or (request.get_json(silent=True) or {}).get("mode", "create")
    try:
        run, made = service.start_run(_user(), batch, str(mode))
    except UploadError as exc:
        return _refused(exc, 403 if exc.code == "target-not-allowed" else 409)
    return {"run": run.id, "status": run.status}, 202 if made else 200


@api.get("/runs/<run_id>")
def get_run(run_id: str) -> Any:
    service = _service()
    run, _ = service.visible_run(_user(), run_id)
    return service.run_json(run)


@api.get("/runs/<run_id>/<name>")
def run_file(run_id: str, name: str) -> BaseResponse:
    from importer.web.app import _download
    from importer.web.kept import report_key

    service = _service()
    run, batch = service.visible_run(_user(), run_id)
    if run.status in ("queued", "running"):
        abort(409, gettext("the run has not ended yet: its report is written at its end"))
    return _download(service, report_key(run.id), name, batch.filename)


# ----------------------------------------------- stop, resume, history, actions


def _params() -> dict[str, Any]:
    given = request.get_json(silent=True)
    params: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
    params.update(request.form.to_dict())
    return params


def _action_refused(exc: Exception) -> tuple[dict[str, Any], int]:
    from importer.web.actions import ActionRefused

    assert isinstance(exc, ActionRefused)
    return {"error": {"code": exc.code, "message": str(exc)}}, exc.status


@api.get("/runs")
def list_runs() -> Any:
    from importer.web.history import verdict
    from importer.web.users import can_see

    service = _service()
    user = _user()
    return {
        "runs": [
            {
                "id": run.id,
                "batch": batch.id,
                "file": batch.filename,
                "target": batch.target,
                "type": batch.doctype,
                "mode": run.mode,
                "status": run.status,
                "verdict": verdict(run)[0],
                "ok": run.summary.get("ok"),
                "document_counts": run.summary.get("document_counts", {}),
                "owner": run.owner,
                "created": run.created,
                "journal_run": run.journal_run or None,
            }
            for run, batch in service.store.runs_with_batches()
            if can_see(user, batch)
        ]
    }


@api.post("/runs/<run_id>/stop")
def stop(run_id: str) -> Any:
    from importer.web.actions import ActionRefused
    from importer.web.history import stop_run

    service = _service()
    run, _ = service.visible_run(_user(), run_id)
    try:
        stop_run(service, run)
    except ActionRefused as exc:
        return _action_refused(exc)
    return {"run": run.id, "status": run.status, "stopping": True}, 202


@api.post("/runs/<run_id>/resume")
def resume(run_id: str) -> Any:
    from importer.web.actions import ActionRefused
    from importer.web.history import resume_run

    service = _service()
    run, batch = service.visible_run(_user(), run_id)
    try:
        current, made = resume_run(service, _user(), run, batch)
    except ActionRefused as exc:
        return _action_refused(exc)
    return {"run": current.id, "status": current.status}, 202 if made else 200


def _start_action(run_id: str, kind: str) -> Any:
    from importer.web.actions import ActionRefused
    from importer.web.history import actions_of

    service = _service()
    run, batch = service.visible_run(_user(), run_id)
    actions = actions_of(service)
    params = _params()
    journal_run = str(params.get("journal_run") or "")
    if not journal_run:
        known = actions.journal_runs(batch)
        journal_run = known[-1].id if known else ""
    if kind == "undo" and str(params.get("dry_run", "true")).lower() not in ("false", "0", "no"):
        kind = "undo-preview"
    try:
        action, made = actions.start(
            _user(), run, batch, kind, journal_run, confirm=str(params.get("confirm") or "")
        )
    except ActionRefused as exc:
        return _action_refused(exc)
    return {"action": action.id, "kind": action.kind, "status": action.status}, (
        202 if made else 200
    )


@api.post("/runs/<run_id>/reconcile")
def reconcile(run_id: str) -> Any:
    return _start_action(run_id, "reconcile")


@api.post("/runs/<run_id>/undo")
def undo(run_id: str) -> Any:
    return _start_action(run_id, "undo")


def _visible_action(action_id: str) -> Any:
    from importer.web.history import visible_action

    service = _service()
    action = service.store.action(action_id)
    if action is None:
        abort(404, gettext("There is no such action, or it is not yours to see."))
    return visible_action(service, _user(), action.run_id, action.id)


@api.get("/actions/<action_id>")
def get_action(action_id: str) -> Any:
    action, run, _ = _visible_action(action_id)
    return {
        "id": action.id,
        "run": run.id,
        "journal_run": action.journal_run,
        "kind": action.kind,
        "status": action.status,
        "owner": action.owner,
        "created": action.created,
        "result": action.summary,
    }


@api.get("/actions/<action_id>/<name>")
def action_file(action_id: str, name: str) -> BaseResponse:
    from importer.web.history import action_download, actions_of

    action, _, batch = _visible_action(action_id)
    if action.status in ("queued", "running"):
        abort(409, gettext("the action has not ended yet: its report is written at its end"))
    return action_download(actions_of(_service()), action, batch, name)
