"""What became of one dropped file: the watcher's runner makes a
:class:`FileOutcome` for each file it finishes, and the notifications say
it. It holds counts and the first problems, never a row's cells or a
secret. :class:`JobEnd` is how the file's job ended, whether it ran in the
watcher's process or on a queue's worker: one way to file both."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


# The row statuses a job's problems are told from (as JobResult.problems).
PROBLEM_STATUSES = ("invalid", "failed", "unknown", "not sent", "skipped")


@dataclass(frozen=True)
class JobEnd:
    """How a file's job ended, wherever it ran: in this process
    (:meth:`from_result`) or on a queue's worker, told by its report files
    (:meth:`from_reports`). The runner files both the same way."""

    exit_code: int  # 0 every row fine, 1 some rows not, 2 the job could not run
    fatal: tuple[str, str] | None = None  # what stopped it: a code and a message
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    run_id: str = ""
    reports: dict[str, Path] = field(default_factory=dict)  # xlsx, csv, json, fixme

    @classmethod
    def from_result(cls, result: Any) -> JobEnd:
        """Of an :class:`importer.jobs.JobResult` (a job run here)."""
        return cls(
            exit_code=result.exit_code,
            fatal=result.fatal,
            counts=result.counts,
            problems=result.problems(),
            run_id=result.run_id,
            reports=dict(result.paths),
        )

    @classmethod
    def from_reports(cls, reports: dict[str, Path], run_id: str = "", most: int = 5) -> JobEnd:
        """Of the report files a job wrote (its summary, ``json``, and its
        rows, ``csv``), wherever it ran."""
        summary: dict[str, Any] = json.loads(reports["json"].read_text(encoding="utf-8"))
        fatal = summary.get("fatal")
        problems: list[str] = []
        if fatal:
            problems = [str(fatal.get("message", ""))]
        elif "csv" in reports:
            with reports["csv"].open(encoding="utf-8-sig", newline="") as fh:
                for row in csv.DictReader(fh):
                    if len(problems) >= most:
                        break
                    if row.get("status") in PROBLEM_STATUSES:
                        line = f"row {row['row']} ({row['key']}): {row['status']}: {row['message']}"
                        problems.append(line[:300])
        return cls(
            exit_code=int(summary.get("exit_code", 2)),
            fatal=(str(fatal.get("code", "")), str(fatal.get("message", ""))) if fatal else None,
            counts={str(k): int(v) for k, v in dict(summary.get("counts") or {}).items()},
            problems=problems,
            run_id=run_id or str(summary.get("run", "")),
            reports=dict(reports),
        )

    @property
    def unfinished(self) -> int:
        """Rows neither sent nor known (a stop left them)."""
        return self.counts.get("not sent", 0) + self.counts.get("unknown", 0)

    @property
    def status(self) -> str:
        """What the file came to (:data:`FILE_STATUSES`)."""
        return "imported" if self.exit_code == 0 else "refused" if self.fatal else "failed"
