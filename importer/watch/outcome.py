"""What became of one dropped file: the watcher's runner makes a
:class:`FileOutcome` for each file it finishes, and the notifications say
it. It holds counts and the first problems, never a row's cells or a
secret."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# What a file came to: imported (every row fine), failed (some rows or the
# whole file failed: see ``counts`` and ``problems``), refused (the file
# could not be run at all: unreadable, a setting, Visma out of reach), or
# duplicate (the same bytes were imported before: nothing sent).
FILE_STATUSES = ("imported", "failed", "refused", "duplicate")


@dataclass(frozen=True)
class FileOutcome:
    file: str  # the name it was dropped with
    folder: str  # the inbox folder it came through (its type's folder)
    doctype: str
    company: str  # the target's name
    status: str  # one of FILE_STATUSES
    counts: dict[str, int] = field(default_factory=dict)  # rows by status
    problems: list[str] = field(default_factory=list)  # the first few, one line each
    message: str = ""  # one sentence: "already imported in run ...", why refused
    run_id: str = ""
    moved_to: Path | None = None  # where the file is now (done/ or failed/)
    reports: dict[str, Path] = field(default_factory=dict)  # xlsx, csv, json, fixme

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "refused")
