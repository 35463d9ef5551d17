"""What the pages and the API both do, in one place: the companies a user
may use, a new batch from an upload, a batch or run only to those allowed
to see it, starting a run. A batch the user may not see is a 404, as if it
did not exist."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from flask import abort

from importer.doctypes import DocType, Registry
from importer.errors import ConfigError
from importer.jobs import MODES
from importer.settings import target_names
from importer.template.workbook import write_template
from importer.web.batches import (
    Company,
    UploadError,
    check_upload,
    save_upload,
    source_path,
    suggest_type,
)
from importer.web.files import Files
from importer.web.i18n import gettext
from importer.web.kept import (
    check_key,
    edited_key,
    keep,
    keep_file,
    mapping_key,
    upload_key,
    work,
)
from importer.web.limits import check_rows
from importer.web.runs import Progress, Runner
from importer.web.store import BatchRecord, EditStore, RunRecord, Store, User
from importer.web.users import allowed_targets, can_see

__all__ = ["Service"]

MAPPING_MAX = 1024 * 1024  # bytes of a mapping file sent with an upload


class Service:
    def __init__(
        self, store: Store, runner: Runner, data: Path, config: Path, registry: Registry
    ) -> None:
        self.store = store
        self.runner = runner
        self.files: Files = runner.files
        self.data = data
        self.config = config
        self.registry = registry
        self.edits = EditStore(store)

    def limit_mb(self) -> int:
        from flask import current_app

        return int(current_app.config["MAX_CONTENT_LENGTH"]) // (1024 * 1024) or 1

    def targets_for(self, user: User) -> list[str]:
        try:
            names = target_names(self.config)
        except ConfigError:
            names = []
        return allowed_targets(user, names)

    def check(
        self,
        batch: BatchRecord,
        path: Path,
        doctype: str,
        company: Company | None = None,
    ) -> dict[str, Any]:
        """:func:`check_upload` of ``path`` (the batch's file), its report
        and fix-me workbook kept (``batches/ID/check.*``)."""
        with work(self.files) as folder:
            summary = check_upload(
                path,
                doctype,
                self.registry,
                folder / "check",
                self.mapping_of(batch),
                company,
                name=batch.filename,
            )
            keep(self.files, folder / "check", check_key(batch.id))
        if batch.summary.get("mapping_from"):  # still said on the page, checked again
            summary["mapping_from"] = batch.summary["mapping_from"]
        return summary

    def new_batch(
        self,
        user: User,
        stream: IO[bytes],
        filename: str,
        target: str,
        doctype: str,
        mapping: IO[bytes] | None = None,
        *,
        keep_unchecked: bool = False,
    ) -> BatchRecord:
        """A new batch of the upload, checked. A file that is a spreadsheet
        but cannot be checked as it is (no type found, a column that maps
        to nothing, a header elsewhere) is refused, unless
        ``keep_unchecked`` (the pages): it is then kept, with the reason,
        for its sheet, header row and columns to be chosen."""
        allowed = self.targets_for(user)
        if not target and len(allowed) == 1:
            target = allowed[0]
        if target not in allowed:
            known = ", ".join(allowed) or "none: ask an administrator"
            raise UploadError("target-not-allowed", f"Choose a company you may use ({known}).")
        if doctype and doctype not in self.registry.names():
            raise UploadError("unknown-type", f"There is no document type {doctype!r}.")
        name = Path(filename).name
        suffix = Path(name).suffix.lower()
        batch = self.store.add_batch(user.name, target, doctype, name, suffix)
        try:
            with work(self.files) as folder:
                received = folder / batch.stored
                save_upload(stream, name, received)
                check_rows(received)  # [serve] max_rows (importer.web.limits)
                carried: BatchRecord | None = None
                if mapping is not None:
                    text = mapping.read(MAPPING_MAX + 1)
                    if len(text) > MAPPING_MAX:
                        raise UploadError(
                            "mapping-too-large",
                            gettext(
                                "The mapping file is larger than {mb} MB: no mapping file is.",
                                mb=MAPPING_MAX // (1024 * 1024),
                            ),
                        )
                    self.files.put(mapping_key(batch), text)
                else:  # read before it is kept (keeping moves it)
                    carried = self._carry_mapping(user, name, received, batch)
                keep_file(self.files, received, upload_key(batch))
        except UploadError:
            self._forget(batch)
            raise
        path = self.source(batch)
        try:
            if not doctype:
                doctype = suggest_type(path, self.registry)
                if not doctype:
                    raise UploadError(
                        "unknown-type",
                        "No column of the file names a field of any document type: "
                        "choose the type.",
                    )
            summary = self.check(batch, path, doctype)
        except UploadError as exc:
            if not keep_unchecked or not self._readable(path):
                self._forget(batch)
                raise
            summary = _unchecked(doctype, exc)
        if carried is not None:  # said on the page: never a silent choice
            summary["mapping_from"] = {"batch": carried.id, "file": carried.filename}
        self.store.update_batch(batch.id, doctype, summary)
        return self._batch(batch.id)

    def _carry_mapping(
        self, user: User, name: str, received: Path, batch: BatchRecord
    ) -> BatchRecord | None:
        """The fix-me workbook of an earlier batch, uploaded again: that
        batch's mapping file, kept for this one, and the batch it came
        from; None when ``name`` is no fix-me workbook of a batch of this
        user's with a mapping. The fix-me is known by its name (the one its
        download gave it, ``STEM.fixme.xlsx``) and by its header: the first
        row of each of its sheets is the header the earlier check read.
        Its header is on row 1, whatever row the mapping said, and a sheet
        is kept only when the workbook has one of that name."""
        from importer.web.sheets import read_mapping, write_mapping

        if not name.lower().endswith(".fixme.xlsx"):
            return None
        stem = name[: -len(".fixme.xlsx")]
        headers = _first_rows(received)
        if not headers:
            return None
        for earlier in self.visible_batches(user):
            if earlier.id == batch.id or Path(earlier.filename).stem != stem:
                continue
            path = self.mapping_of(earlier)
            data = read_mapping(path) if path is not None else {}
            if not data or not earlier.doctype:
                continue
            theirs = {
                (sheet or "Rows")[:31]: _trimmed(header)
                for sheet, header in earlier.summary.get("headers", {}).items()
            }
            if not theirs or any(headers.get(sheet) != header for sheet, header in theirs.items()):
                continue
            data = dict(data)
            data.pop("header_row", None)  # the fix-me's header is on row 1
            if data.get("sheet") is not None and str(data["sheet"])[:31] not in headers:
                data.pop("sheet")
            elif data.get("sheet") is not None:
                data["sheet"] = str(data["sheet"])[:31]
            with work(self.files) as folder:
                written = folder / "mapping.toml"
                write_mapping(written, data, self.registry.get(earlier.doctype))
                keep_file(self.files, written, mapping_key(batch))
            return earlier
        return None

    def _forget(self, batch: BatchRecord) -> None:
        """A refused upload: its files and its record."""
        self.files.delete_prefix(f"uploads/{batch.id}.")
        self.files.delete_prefix(f"batches/{batch.id}/")
        self.store.delete_batch(batch.id)

    def _readable(self, path: Path) -> bool:
        from importer.web.sheets import top_of

        try:
            top_of(path, None)
        except UploadError:
            return False
        return True

    def mapping_of(self, batch: BatchRecord) -> Path | None:
        """This machine's copy of the batch's mapping file; None when it has none."""
        return self.files.local_path(mapping_key(batch))

    def write_mapping(self, batch: BatchRecord, data: dict[str, Any], doctype: DocType) -> None:
        """Write the batch's mapping file (a mapping file's keys ``data``) and keep it."""
        from importer.web.sheets import write_mapping

        with work(self.files) as folder:
            written = folder / "mapping.toml"
            write_mapping(written, data, doctype)
            keep_file(self.files, written, mapping_key(batch))

    def recheck(self, batch: BatchRecord, doctype: str) -> None:
        if self.store.run_of_batch(batch.id) is not None:
            raise UploadError("already-run", "This batch was imported: upload the file again.")
        if doctype not in self.registry.names():
            raise UploadError("unknown-type", f"There is no document type {doctype!r}.")
        summary = self.check(batch, self.source(batch), doctype)
        self.store.update_batch(batch.id, doctype, summary)

    # ------------------------------------ the way in (importer.web.inbound)

    def source(self, batch: BatchRecord) -> Path:
        """The file the batch's check and run read (the edited copy once a
        cell was edited in the page)."""
        return source_path(self.files, batch)

    def not_run(self, batch: BatchRecord) -> None:
        if self.store.run_of_batch(batch.id) is not None:
            raise UploadError(
                "already-run",
                gettext("This batch was imported: it cannot be changed. Upload the file again."),
            )

    def company(self, batch: BatchRecord) -> Company | str:
        """The company a batch is checked against (its target), or why it
        cannot be."""
        from dataclasses import replace

        from importer.settings import (
            configured_scopes,
            lists_max_age,
            load_target,
        )
        from importer.targets.lists import cache_beside
        from importer.web.actions import journal_of

        try:
            target = load_target(batch.target, config=self.config)
            connection = target.connection
            scope = configured_scopes(config=self.config)
            if scope:
                connection = replace(connection, scope=scope)
            cache = cache_beside(journal_of(target, self.config))
            return Company(target.name, connection, cache, lists_max_age(None, config=self.config))
        except ConfigError as exc:
            return str(exc)

    def check_again(
        self, batch: BatchRecord, doctype: str | None = None, *, company: bool | None = None
    ) -> dict[str, Any]:
        """Check the batch again (as ``doctype``; against its company when
        ``company``, or, when ``None``, when the last check was) and keep
        the result; a file that cannot be checked keeps the reason."""
        doctype = batch.doctype if doctype is None else doctype
        if doctype and doctype not in self.registry.names():
            raise UploadError("unknown-type", f"There is no document type {doctype!r}.")
        if company is None:
            company = "preflight" in batch.summary
        against: Company | None = None
        if company:
            found = self.company(batch)
            if isinstance(found, str):
                summary = self._check_or_reason(batch, doctype, None)
                summary["preflight"] = {
                    "target": batch.target,
                    "error": {"code": "config-error", "message": found},
                }
                self.store.update_batch(batch.id, doctype, summary)
                return summary
            against = found
        summary = self._check_or_reason(batch, doctype, against)
        self.store.update_batch(batch.id, doctype, summary)
        return summary

    def _check_or_reason(
        self, batch: BatchRecord, doctype: str, company: Company | None
    ) -> dict[str, Any]:
        if not doctype:
            return _unchecked("", UploadError("unknown-type", gettext("Choose the document type.")))
        try:
            return self.check(batch, self.source(batch), doctype, company)
        except UploadError as exc:
            return _unchecked(doctype, exc)

    def edit(
        self,
        user: User,
        batch: BatchRecord,
        sheet: str,
        row: int,
        col: int,
        old: str,
        new: str,
    ) -> None:
        """Write ``new`` into one cell of the batch's edited copy (made
        from the upload at the first edit), record who changed it from
        what, and check the batch again."""
        from importer.sources.files import column_letter
        from importer.web.sheets import edit_cell

        self.not_run(batch)
        headers = batch.summary.get("headers", {})
        header = headers.get(sheet) if isinstance(headers, dict) else None
        if header is None or row < 1 or not 0 <= col < len(header) + 64:
            raise UploadError("bad-cell", gettext("There is no such cell in this batch."))
        name = header[col] if col < len(header) else f"column {column_letter(col)}"
        # read, changed and recorded as one: a second edit of the batch at
        # the same moment waits, then starts from this one's copy
        with self.store.batch_lock(batch.id), work(self.files) as folder:
            # again under the lock: an Import pressed meanwhile has claimed
            # the run, and the run reads the file as it was (start_run)
            self.not_run(batch)
            edited = folder / f"edited{Path(batch.stored).suffix}"
            edit_cell(self.source(batch), edited, sheet, row, col, old, new)
            keep_file(self.files, edited, edited_key(batch))
            self.edits.add(batch.id, user.name, sheet, row, col, name, old, new)
        self.check_again(batch)

    # -------------------------------------------------------------------

    def visible_batch(self, user: User, batch_id: str) -> BatchRecord:
        batch = self.store.batch(batch_id)
        if batch is None or not batch.summary or not can_see(user, batch):
            abort(404, gettext("There is no such batch, or it is not yours to see."))
        return batch

    def visible_batches(self, user: User) -> list[BatchRecord]:
        return [b for b in self.store.batches() if b.summary and can_see(user, b)]

    def visible_run(self, user: User, run_id: str) -> tuple[RunRecord, BatchRecord]:
        run = self.store.run(run_id)
        batch = self.store.batch(run.batch_id) if run else None
        if run is None or batch is None or not can_see(user, batch):
            abort(404, gettext("There is no such run, or it is not yours to see."))
        return run, batch

    def start_run(self, user: User, batch: BatchRecord, mode: str) -> tuple[RunRecord, bool]:
        if mode not in MODES:
            raise UploadError("bad-mode", f"The mode is one of {', '.join(MODES)}.")
        if batch.target not in self.targets_for(user):
            raise UploadError("target-not-allowed", "You may not import into this company.")
        if not batch.summary.get("valid_documents"):
            raise UploadError("nothing-to-import", "No document of this batch is valid.")
        # claimed under the batch's lock: an edit being saved ends first and
        # is in what the run reads; one saved after is refused (edit)
        with self.store.batch_lock(batch.id):
            return self.runner.start(batch, user.name, mode)

    def progress(self, run: RunRecord) -> Progress:
        return self.runner.progress(run.id) or Progress(phase=run.status)

    def template(self, doctype: str, lang: str) -> Path:
        lang = lang if lang in ("en", "nb", "sv") else "en"
        path = self.data / "templates" / f"{doctype}.{lang}.xlsx"
        if not path.exists():
            write_template(self.registry.get(doctype), path, lang=lang)
        return path

    def batch_json(self, batch: BatchRecord) -> dict[str, Any]:
        s = batch.summary
        run = self.store.run_of_batch(batch.id)
        status = "ready" if s.get("valid_documents") else "invalid"
        return {
            "id": batch.id,
            "status": run.status if run else status,
            "type": batch.doctype,
            "target": batch.target,
            "file": batch.filename,
            "rows": s.get("rows", 0),
            "documents": s.get("documents", 0),
            "valid_documents": s.get("valid_documents", 0),
            "counts": s.get("counts", {}),
            "reasons": s.get("reasons", []),
            "issues": s.get("issues", []),
            "run": run.id if run else None,
        }

    def run_json(self, run: RunRecord) -> dict[str, Any]:
        s = run.summary
        return {
            "id": run.id,
            "batch": run.batch_id,
            "status": run.status,
            "mode": run.mode,
            "journal_run": run.journal_run or None,
            "progress": self.progress(run).as_dict(),
            "counts": s.get("counts", {}),
            "document_counts": s.get("document_counts", {}),
            "ok": s.get("ok"),
            "exit_code": s.get("exit_code"),
            "fatal": s.get("fatal"),
            "documents": s.get("by_document", []),
        }

    def _batch(self, batch_id: str) -> BatchRecord:
        batch = self.store.batch(batch_id)
        assert batch is not None
        return batch


def _unchecked(doctype: str, exc: UploadError) -> dict[str, Any]:
    """The summary of a batch whose file could not be checked: why."""
    return {
        "type": doctype,
        "rows": 0,
        "documents": 0,
        "valid_documents": 0,
        "counts": {},
        "reasons": [],
        "warnings": [],
        "headers": {},
        "problems": [],
        "problem_rows": 0,
        "issues": [],
        "fixme": False,
        "error": {"code": exc.code, "message": str(exc)},
    }


def _first_rows(path: Path) -> dict[str, list[str]]:
    """The first row of each sheet of a workbook, as text (trailing empty
    cells left out); empty when it cannot be read."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # not a workbook openpyxl reads: nothing is carried over
        return {}
    try:
        found: dict[str, list[str]] = {}
        for ws in book.worksheets:
            row = next(ws.iter_rows(max_row=1, values_only=True), ())
            found[ws.title] = _trimmed(row)
        return found
    finally:
        book.close()


def _trimmed(row: Any) -> list[str]:
    cells = ["" if v is None else str(v) for v in row]
    while cells and cells[-1] == "":
        cells.pop()
    return cells
