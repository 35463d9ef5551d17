"""What the watcher remembers between passes and restarts, in its state
folder on the local disk (:func:`importer.watch.lock.state_dir`): when each
folder was first watched, when it last got a file, and when it was last
said to be overdue. A cron job or a timer starts a new process for every
pass; expectations ("a file every 24 h") need this to be kept.

It is a small JSON file, written beside itself and renamed into place.
What cannot be read is started afresh (an expectation then counts from
now): it only ever decides when to say that a file is late.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FolderState", "WatchState"]

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


class WatchState:
    def __init__(self, folder: Path) -> None:
        self.path = folder / STATE_FILE
        self.folders: dict[str, FolderState] = {}
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
            for name, item in dict(data.get("folders", {})).items():
                self.folders[name] = FolderState(
                    float(item["since"]),
                    _number(item.get("last")),
                    _number(item.get("said")),
                )
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self.folders = {}

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
            }
        }
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(partial, self.path)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
