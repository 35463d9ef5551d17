"""What the watcher remembers between passes and restarts, in its state
folder on the local disk (:func:`importer.watch.lock.state_dir`): when each
folder was first watched, when it last got a file, and when it was last
said to be overdue. A cron job or a timer starts a new process for every
pass; expectations ("a file every 24 h") need this to be kept.

With a queue (:mod:`importer.queue`), it also remembers the job of each
file it queued (:class:`QueuedFile`, by ``folder/name`` in
``processing/``): the job's id once queued, and before that the token the
job is queued with, so that a watcher killed between queueing and
remembering finds its job again (:func:`importer.queue.find_job`) rather
than queueing the file twice.

It is a small JSON file, written beside itself and renamed into place.
What cannot be read is started afresh (an expectation then counts from
now; a queued file's job is found again by its token, or, its token lost
too, the queue's own lock keeps a file still waiting from being queued
twice).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FolderState", "QueuedFile", "WatchState"]

STATE_FILE = "state.json"


@dataclass
class FolderState:
    since: float  # when the watcher first watched the folder
    last: float | None = None  # when a file last arrived in its inbox
    said: float | None = None  # when it was last said to be overdue

    def overdue(self, every: float, now: float) -> bool:
        """Late now, and not said yet for this wait (or said ``every`` ago)."""
        start = self.last if self.last is not None else self.since
        if now - start < every:
            return False
        return self.said is None or self.said < start or now - self.said >= every


@dataclass
class QueuedFile:
    """A file of ``processing/`` handed to the queue: its bytes' SHA-256,
    the token it is queued with, the job's id (``None``: not known yet),
    and whether the job is to run again (it could not run: Visma, its
    credentials or the journal out of reach)."""

    sha256: str
    origin: str
    job: int | None = None
    again: bool = False


class WatchState:
    def __init__(self, folder: Path) -> None:
        self.path = folder / STATE_FILE
        self.folders: dict[str, FolderState] = {}
        self.queued: dict[str, QueuedFile] = {}  # "folder/name" in processing/ -> its job
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
            for name, item in dict(data.get("folders", {})).items():
                self.folders[name] = FolderState(
                    float(item["since"]),
                    _number(item.get("last")),
                    _number(item.get("said")),
                )
            for key, item in dict(data.get("queued", {})).items():
                job = item.get("job")
                self.queued[str(key)] = QueuedFile(
                    str(item["sha256"]),
                    str(item["origin"]),
                    None if job is None else int(job),
                    bool(item.get("again", False)),
                )
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self.folders = {}
            self.queued = {}

    def folder(self, name: str, now: float) -> FolderState:
        if name not in self.folders:
            self.folders[name] = FolderState(since=now)
        return self.folders[name]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "folders": {
                name: {"since": f.since, "last": f.last, "said": f.said}
                for name, f in self.folders.items()
            },
            "queued": {
                key: {"sha256": q.sha256, "origin": q.origin, "job": q.job, "again": q.again}
                for key, q in self.queued.items()
            },
        }
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(partial, self.path)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
