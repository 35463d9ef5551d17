"""Uploads are not kept for ever: a batch's uploaded file, its mapping
file, its edited copy and its check's files (``uploads/ID.*`` and
``batches/ID/`` in :class:`~importer.web.files.Files`) are deleted
once the batch is older than ``keep_uploads_days`` (``[serve]``), unless
its run is queued or running. The batch stays listed, its counts kept and
marked ``deleted`` in its summary (the rows with problems, which hold the
file's cells, go with the file); its page says the file was deleted and an
import of it is refused. Run reports (``runs/ID/``) stay.

:meth:`Cleanup.sweep` is one pass, at the time it is given (tests call it
with their own clock); the server runs it at start-up and then every
``interval`` seconds in a daemon thread (:meth:`Cleanup.start`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from importer.web.files import Files
from importer.web.store import BatchRecord, Store

__all__ = ["Cleanup", "is_deleted"]

log = logging.getLogger("vnimport.web")
INTERVAL = 3600.0  # seconds between two passes of the server's thread
ACTIVE = ("queued", "running")


def is_deleted(batch: BatchRecord) -> bool:
    """Whether the batch's files were deleted by the clean-up."""
    return bool(batch.summary.get("deleted"))


@dataclass
class Cleanup:
    store: Store
    files: Files
    keep: float  # seconds; 0: kept for ever
    clock: Callable[[], float]
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def sweep(self, now: float | None = None) -> list[str]:
        """Delete what is older than ``keep``; the ids of the batches whose
        files were deleted."""
        if self.keep <= 0:
            return []
        now = self.clock() if now is None else now
        cutoff = now - self.keep
        done = []
        for batch in self.store.batches_before(cutoff):
            run = self.store.run_of_batch(batch.id)
            if run is not None and run.status in ACTIVE:
                continue  # its file is being read: the next pass takes it
            summary = dict(batch.summary)
            summary.update(deleted=now, problems=[], issues=[], fixme=False)
            # marked first: an import asked for from now on is refused
            self.store.update_batch(batch.id, batch.doctype, summary)
            self._delete_files(batch.id)
            done.append(batch.id)
        self._orphans(cutoff)
        if done:
            log.info("deleted the files of %d batches older than the time kept", len(done))
        return done

    def _delete_files(self, batch_id: str) -> None:
        self.files.delete_prefix(f"uploads/{batch_id}.")
        self.files.delete_prefix(f"batches/{batch_id}/")

    def _orphans(self, cutoff: float) -> None:
        """Files of no batch (an upload cut short, a crash) once as old;
        then this machine's copies of files deleted (here or by another
        server)."""
        known = self.store.batch_ids()
        for prefix in ("uploads/", "batches/"):
            for info in self.files.listing(prefix):
                owner = info.key.removeprefix(prefix).split("/", 1)[0].split(".", 1)[0]
                if owner not in known and info.created < cutoff:
                    self.files.delete(info.key)
        self.files.prune_local()

    def start(self, interval: float = INTERVAL) -> threading.Thread:
        """A pass now and then one every ``interval`` seconds, in a daemon
        thread, until :meth:`stop`."""

        def loop() -> None:
            while True:
                try:
                    self.sweep()
                except Exception:  # a pass that failed is tried again next time
                    log.exception("the clean-up of old uploads failed")
                if self._stop.wait(interval):
                    return

        thread = threading.Thread(target=loop, name="vnimport-web-cleanup", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
