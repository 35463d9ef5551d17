"""The way in, between the upload and the import: the file as it is (its
sheets, the header row, the first rows), its columns (the field each maps
to, or skip: saved as the batch's mapping file, a download for next time),
the check against the company (the preflight), and a bad cell fixed in the
page (written into a copy of the upload, recorded, and checked again).

Every form works without JavaScript; registered by :func:`routes` from
:func:`importer.web.app.create_app`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, redirect, render_template, request, url_for

from importer.sources.files import column_letter
from importer.web.batches import UploadError, cell_text
from importer.web.i18n import gettext
from importer.web.kept import download, mapping_key
from importer.web.service import Service
from importer.web.sheets import (
    SKIP,
    apply_columns,
    columns_of,
    field_choices,
    read_mapping,
    top_of,
)
from importer.web.store import BatchRecord

__all__ = ["render_batch", "routes"]


def render_batch(service: Service, batch: BatchRecord, error: str = "", status: int = 200) -> Any:
    """The check page of ``batch`` (``error``: why the last change was refused)."""
    run = service.store.run_of_batch(batch.id)
    return render_template(
        "batch.html",
        batch=batch,
        s=batch.summary,
        run=run,
        types=service.registry.names(),
        edits=service.edits.of_batch(batch.id),
        mapping=service.mapping_of(batch) is not None,
        error=error,
    ), status


def routes(app: Flask, service: Service) -> None:
    from importer.web.app import _user, login_required

    def batch_of(batch_id: str) -> BatchRecord:
        return service.visible_batch(_user(), batch_id)

    def refused(batch: BatchRecord, exc: UploadError) -> Any:
        status = 409 if exc.code in ("already-run", "stale-edit") else 400
        fresh = service.store.batch(batch.id) or batch
        return render_batch(service, fresh, str(exc), status)

    # ------------------------------------------------ sheet and header row

    @app.get("/batches/<batch_id>/file")
    @login_required
    def batch_file(batch_id: str) -> Any:
        batch = batch_of(batch_id)
        data = read_mapping(service.mapping_of(batch))
        sheet = request.args.get("sheet") or data.get("sheet")
        try:
            top = top_of(service.source(batch), sheet)
        except UploadError as exc:
            if not sheet:
                return render_batch(service, batch, str(exc), 400)
            top = top_of(service.source(batch), None)
        read = batch.summary.get("read", {})
        found = read.get("header_row") if read.get("sheet", "") == top.sheet else None
        if found is None:
            found = _found_row(service, batch, batch.doctype, {"sheet": top.sheet or None})
        width = max([len(r) for r in top.rows] or [0])
        return render_template(
            "sheet.html",
            batch=batch,
            s=batch.summary,
            run=service.store.run_of_batch(batch.id),
            types=service.registry.names(),
            top=top,
            width=width,
            letters=[column_letter(i) for i in range(width)],
            cell=cell_text,
            header_row=data.get("header_row") or found or "",
            found=found,
            chosen_header=data.get("header_row"),
        )

    @app.post("/batches/<batch_id>/file")
    @login_required
    def batch_file_post(batch_id: str) -> Any:
        batch = batch_of(batch_id)
        try:
            service.not_run(batch)
            doctype = request.form.get("type", batch.doctype)
            if doctype not in service.registry.names():
                raise UploadError("unknown-type", gettext("Choose the document type."))
            data = read_mapping(service.mapping_of(batch))
            sheet = request.form.get("sheet", "")
            default = top_of(service.source(batch), None).sheet
            chosen = top_of(service.source(batch), sheet or None).sheet
            data.pop("sheet", None)
            if chosen and chosen != default:
                data["sheet"] = chosen
            row = request.form.get("header_row", "").strip()
            data.pop("header_row", None)
            if row:
                if not row.isdigit() or int(row) < 1:
                    raise UploadError(
                        "bad-header-row",
                        gettext("The header row is a row number: 1, 2, 3 ..."),
                    )
                data["header_row"] = int(row)
            if data.get("header_row") == _found_row(service, batch, doctype, data):
                data.pop("header_row")  # where vnimport finds it anyway
            service.write_mapping(batch, data, service.registry.get(doctype))
        except UploadError as exc:
            return refused(batch, exc)
        summary = service.check_again(batch, doctype)
        if summary.get("error"):
            return redirect(url_for("batch_columns", batch_id=batch.id), 303)
        return redirect(url_for("batch_page", batch_id=batch.id), 303)

    # ------------------------------------------------------------ columns

    @app.get("/batches/<batch_id>/columns")
    @login_required
    def batch_columns(batch_id: str) -> Any:
        batch = batch_of(batch_id)
        if not batch.doctype:
            return redirect(url_for("batch_file", batch_id=batch.id), 303)
        doctype = service.registry.get(batch.doctype)
        data = read_mapping(service.mapping_of(batch))
        try:
            columns = columns_of(service.source(batch), doctype, data)
        except UploadError as exc:
            return render_batch(service, batch, str(exc), 400)
        return render_template(
            "columns.html",
            batch=batch,
            s=batch.summary,
            run=service.store.run_of_batch(batch.id),
            doctype=doctype,
            columns=columns,
            fields=field_choices(doctype),
            titles=dict(field_choices(doctype)),
            skip=SKIP,
            mapping=service.mapping_of(batch) is not None,
        )

    @app.post("/batches/<batch_id>/columns")
    @login_required
    def batch_columns_post(batch_id: str) -> Any:
        batch = batch_of(batch_id)
        try:
            service.not_run(batch)
            doctype = service.registry.get(batch.doctype)
            data = read_mapping(service.mapping_of(batch))
            columns = columns_of(service.source(batch), doctype, data)
            form = {k: str(v) for k, v in request.form.items() if k.startswith("col-")}
            service.write_mapping(batch, apply_columns(doctype, columns, form, data), doctype)
        except UploadError as exc:
            return refused(batch, exc)
        service.check_again(batch)
        return redirect(url_for("batch_page", batch_id=batch.id), 303)

    @app.get("/batches/<batch_id>/mapping.toml")
    @login_required
    def batch_mapping(batch_id: str) -> Any:
        batch = batch_of(batch_id)
        stem = (batch.filename.rsplit(".", 1)[0] or "batch")[:100]
        return download(
            service.files,
            mapping_key(batch),
            f"{stem}.mapping.toml",
            gettext("This batch has no mapping file: its columns map as they are."),
            mimetype="text/plain",
        )

    # -------------------------------------------------------- the company

    @app.post("/batches/<batch_id>/preflight")
    @login_required
    def batch_preflight(batch_id: str) -> Any:
        batch = batch_of(batch_id)
        try:
            service.not_run(batch)
            if batch.target not in service.targets_for(_user()):
                raise UploadError("target-not-allowed", gettext("You may not use this company."))
        except UploadError as exc:
            return refused(batch, exc)
        service.check_again(batch, company=True)
        return redirect(url_for("batch_page", batch_id=batch.id, _anchor="problems"), 303)

    # ------------------------------------------------------- a cell fixed

    @app.post("/batches/<batch_id>/cells")
    @login_required
    def batch_cell(batch_id: str) -> Any:
        batch = batch_of(batch_id)
        form = request.form
        try:
            row, col = int(form.get("row", "")), int(form.get("col", ""))
        except ValueError:
            abort(400, gettext("There is no such cell in this batch."))
        try:
            service.edit(
                _user(),
                batch,
                form.get("sheet", ""),
                row,
                col,
                form.get("old", ""),
                form.get("new", "").strip(),
            )
        except UploadError as exc:
            return refused(batch, exc)
        return redirect(url_for("batch_page", batch_id=batch.id, _anchor="problems"), 303)


def _found_row(service: Service, batch: BatchRecord, doctype: str, data: dict[str, Any]) -> int:
    """The header row vnimport finds itself on the chosen sheet (0: none)."""
    from importer.sources import open_table

    try:
        table = open_table(
            service.source(batch),
            sheet=data.get("sheet"),
            is_header=service.registry.get(doctype).looks_like_header if doctype else None,
        )
    except Exception:  # the check says what is wrong with it
        return 0
    return table.header_row
