"""What the pages and the API both do, in one place: the companies a user
may use, a new batch from an upload, a batch or run only to those allowed
to see it, starting a run. A batch the user may not see is a 404, as if it
did not exist."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from flask import abort

from importer.doctypes import Registry
from importer.errors import ConfigError
from importer.jobs import MODES
from importer.settings import target_names
from importer.template.workbook import write_template
from importer.web.batches import UploadError, check_upload, save_upload, suggest_type
from importer.web.runs import Progress, Runner
from importer.web.store import BatchRecord, RunRecord, Store, User
from importer.web.users import allowed_targets, can_see

__all__ = ["Service"]


class Service:
    def __init__(
        self, store: Store, runner: Runner, data: Path, config: Path, registry: Registry
    ) -> None:
        self.store = store
        self.runner = runner
        self.data = data
        self.config = config
        self.registry = registry

    def limit_mb(self) -> int:
        from flask import current_app

        return int(current_app.config["MAX_CONTENT_LENGTH"]) // (1024 * 1024) or 1

    def targets_for(self, user: User) -> list[str]:
        try:
            names = target_names(self.config)
        except ConfigError:
            names = []
        return allowed_targets(user, names)

    def check_base(self, batch_id: str) -> Path:
        return self.data / "batches" / batch_id / "check"

    def new_batch(
        self,
        user: User,
        stream: IO[bytes],
        filename: str,
        target: str,
        doctype: str,
        mapping: IO[bytes] | None = None,
    ) -> BatchRecord:
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
        path = self.data / "uploads" / batch.stored
        try:
            save_upload(stream, name, path)
            if mapping is not None:
                self.mapping_path(batch).write_bytes(mapping.read(1 << 20))
            if not doctype:
                doctype = suggest_type(path, self.registry)
                if not doctype:
                    raise UploadError(
                        "unknown-type",
                        "No column of the file names a field of any document type: "
                        "choose the type.",
                    )
            summary = check_upload(
                path, doctype, self.registry, self.check_base(batch.id), self.mapping_of(batch)
            )
        except UploadError:
            path.unlink(missing_ok=True)
            self.mapping_path(batch).unlink(missing_ok=True)
            self.store.delete_batch(batch.id)
            raise
        self.store.update_batch(batch.id, doctype, summary)
        return self._batch(batch.id)

    def mapping_path(self, batch: BatchRecord) -> Path:
        return self.data / "uploads" / f"{batch.id}.mapping.toml"

    def mapping_of(self, batch: BatchRecord) -> Path | None:
        path = self.mapping_path(batch)
        return path if path.is_file() else None

    def recheck(self, batch: BatchRecord, doctype: str) -> None:
        if self.store.run_of_batch(batch.id) is not None:
            raise UploadError("already-run", "This batch was imported: upload the file again.")
        if doctype not in self.registry.names():
            raise UploadError("unknown-type", f"There is no document type {doctype!r}.")
        path = self.data / "uploads" / batch.stored
        summary = check_upload(
            path, doctype, self.registry, self.check_base(batch.id), self.mapping_of(batch)
        )
        self.store.update_batch(batch.id, doctype, summary)

    def visible_batch(self, user: User, batch_id: str) -> BatchRecord:
        batch = self.store.batch(batch_id)
        if batch is None or not batch.summary or not can_see(user, batch):
            abort(404, "There is no such batch, or it is not yours to see.")
        return batch

    def visible_batches(self, user: User) -> list[BatchRecord]:
        return [b for b in self.store.batches() if b.summary and can_see(user, b)]

    def visible_run(self, user: User, run_id: str) -> tuple[RunRecord, BatchRecord]:
        run = self.store.run(run_id)
        batch = self.store.batch(run.batch_id) if run else None
        if run is None or batch is None or not can_see(user, batch):
            abort(404, "There is no such run, or it is not yours to see.")
        return run, batch

    def start_run(self, user: User, batch: BatchRecord, mode: str) -> tuple[RunRecord, bool]:
        if mode not in MODES:
            raise UploadError("bad-mode", f"The mode is one of {', '.join(MODES)}.")
        if batch.target not in self.targets_for(user):
            raise UploadError("target-not-allowed", "You may not import into this company.")
        if not batch.summary.get("valid_documents"):
            raise UploadError("nothing-to-import", "No document of this batch is valid.")
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
