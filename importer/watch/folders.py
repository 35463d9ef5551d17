"""The folders of one document type under the watcher's root, and the
moves between them::

    ROOT/<folder>/inbox/                  where files arrive
    ROOT/<folder>/processing/             the file being imported (one, by name)
    ROOT/<folder>/processing/.reports/    its report, while it is written
    ROOT/<folder>/done/YYYY-MM/           imported files, each with its report
    ROOT/<folder>/failed/YYYY-MM/         files with rows or a whole file to fix

Every move is a rename within the folder (atomic on one file system). A
finished file gets a name of its own, with its run's id
(``customers.20250310-021500-1a2b3c4d.xlsx``), and its report beside it
(``....report.xlsx``, ``.csv``, ``.json``; ``....fixme.xlsx`` when rows
failed). The report moves first and the file last: a file still in
``processing/`` is one not finished, which the next pass resumes.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Folder", "finish", "prune", "tag_for"]

INBOX, PROCESSING, DONE, FAILED, REPORTS = "inbox", "processing", "done", "failed", ".reports"
DAY = 86400.0
MONTH = re.compile(r"\d{4}-\d{2}")  # done/YYYY-MM
# a name vnimport gave a finished file or its report: the tag of tag_for
OURS = re.compile(r"\.\d{8}-\d{6}-[0-9a-f]{8}(-\d+)?(\.|$)")


@dataclass(frozen=True)
class Folder:
    """``ROOT/<name>`` and its subfolders."""

    path: Path

    @property
    def inbox(self) -> Path:
        return self.path / INBOX

    @property
    def processing(self) -> Path:
        return self.path / PROCESSING

    @property
    def reports(self) -> Path:
        return self.path / PROCESSING / REPORTS

    @property
    def done(self) -> Path:
        return self.path / DONE

    @property
    def failed(self) -> Path:
        return self.path / FAILED

    def ensure(self) -> None:
        for folder in (self.inbox, self.processing, self.done, self.failed):
            folder.mkdir(parents=True, exist_ok=True)

    def month(self, finished: Path, when: float) -> Path:
        """``done/YYYY-MM`` (or ``failed/...``) for a file finished at ``when``."""
        folder = finished / time.strftime("%Y-%m", time.localtime(when))
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def in_processing(self) -> list[Path]:
        """The files a pass left in ``processing/`` (not its reports)."""
        try:
            names = sorted(os.listdir(self.processing))
        except FileNotFoundError:
            return []
        return [
            self.processing / n
            for n in names
            if not n.startswith(".") and (self.processing / n).is_file()
        ]

    def report_path(self, name: str) -> Path:
        """Where the report of the file ``name`` is written while it is imported."""
        return self.reports / (short(name.replace(".", "_")) + ".report")


def tag_for(run_id: str, when: float) -> str:
    """What makes a finished file's name its own: its run's id, else the time."""
    if run_id:
        return run_id
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(when)) + "-" + uuid.uuid4().hex[:8]


STEM_BYTES = 120  # of a file's own name in the names vnimport gives: the rest is room for
# the run's id and ".report.xlsx" within the 255 bytes a file system allows


def short(stem: str, most: int = STEM_BYTES) -> str:
    """``stem`` cut to ``most`` bytes of UTF-8 (never inside a letter), so
    that a long dropped name, or one of many Norwegian letters, still makes
    names the file system takes."""
    data = stem.encode("utf-8")
    if len(data) <= most:
        return stem
    return data[:most].decode("utf-8", "ignore").rstrip() + "~"


def _names(name: str, tag: str) -> dict[str, str]:
    stem, dot, ending = name.rpartition(".")
    if not dot or not stem:
        stem, ending = name, ""
    base = f"{short(stem)}.{tag}"
    ending = short(ending, 16)
    return {
        "file": f"{base}.{ending}" if ending else base,
        "xlsx": f"{base}.report.xlsx",
        "csv": f"{base}.report.csv",
        "json": f"{base}.report.json",
        "fixme": f"{base}.fixme.xlsx",
    }


def finish(
    file: Path, reports: dict[str, Path], into: Path, name: str, tag: str, when: float
) -> tuple[Path, dict[str, Path]]:
    """Move ``file`` (dropped as ``name``) and its ``reports`` into the
    folder ``into`` under names of their own; where they are now. Each is
    given the time it was finished (``when``): ``done/`` keeps a file by it."""
    for n in range(1, 1000):
        names = _names(name, tag if n == 1 else f"{tag}-{n}")
        if not any((into / v).exists() for v in names.values()):
            break
    moved: dict[str, Path] = {}
    for key, path in reports.items():
        if key in names and path.exists():
            moved[key] = _move(path, into / names[key], when)
    return _move(file, into / names["file"], when), moved


def _move(src: Path, dst: Path, when: float) -> Path:
    os.replace(src, dst)  # never over a file: the names above are free
    os.utime(dst, (when, when))
    return dst


def prune(done: Path, keep_days: float, now: float) -> list[Path]:
    """Delete what ``done/`` has kept longer than ``keep_days`` (0: keep
    everything), and the month folders left empty; what was deleted."""
    if keep_days <= 0 or not done.is_dir():
        return []
    limit = now - keep_days * DAY
    gone: list[Path] = []
    for month in sorted(p for p in done.iterdir() if p.is_dir() and MONTH.fullmatch(p.name)):
        for path in sorted(month.iterdir()):
            try:
                if not OURS.search(path.name):
                    continue  # not a name vnimport gave: someone else's, left
                if path.is_file() and path.stat().st_mtime < limit:
                    path.unlink()
                    gone.append(path)
            except OSError:
                continue  # taken away meanwhile, or not ours to delete: left
        with suppress(OSError):
            month.rmdir()  # only when empty
    return gone
