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
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, request
from werkzeug.wrappers import Response as BaseResponse

from importer.web.batches import UploadError
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

    service = _service()
    run, batch = service.visible_run(_user(), run_id)
    if run.status in ("queued", "running"):
        abort(409, "the run has not ended yet: its report is written at its end")
    return _download(service.runner.report_base(run.id), name, batch.filename)
