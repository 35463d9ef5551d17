"""Which files of an inbox are taken, and when.

A file is taken only when all of these hold:

- its name ends with one of the allowed endings (``.xlsx``, ``.csv``);
- it is not what an editor or an upload leaves while it works: an Office
  or LibreOffice lock or temporary file (``~$name.xlsx``,
  ``.~lock.name.xlsx#``, ``~WRL0001.tmp``, any name starting with ``~``),
  a hidden file (a leading dot, or Windows' hidden attribute), or a
  partial upload (``.part``, ``.tmp``, ``.partial``, ``.filepart``,
  ``.crdownload``);
- it has something in it, and its size, modification time and identity
  are the same at two looks ``settle`` seconds apart (the second look may
  be the next pass's: the looks are remembered);
- a workbook (``.xlsx``) opens as a zip: an upload cut short lacks the
  zip's directory, which is written last.

Polling works on network shares and synced folders, where change events
do not arrive. A file that stays unusable (empty, or a workbook that is no
zip) and unchanged for ``broken_after`` seconds is given up on: the runner
fails it with a report, so that it is not left in the inbox unseen.
"""

from __future__ import annotations

import os
import stat
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Look", "Pickup", "look", "refusal", "usable"]

LOCK_PREFIXES = ("~", ".~lock")  # ~$name.xlsx, ~WRL0001.tmp; LibreOffice's .~lock.name#
PARTIAL_ENDINGS = (".part", ".tmp", ".partial", ".filepart", ".crdownload")
ZIP_ENDINGS = (".xlsx", ".xlsm")


def refusal(name: str, extensions: Iterable[str]) -> str | None:
    """Why a file of this name is never taken; ``None`` when it may be."""
    lower = name.lower()
    if name.startswith(LOCK_PREFIXES):
        return "an Office or LibreOffice lock or temporary file"
    if name.startswith("."):
        return "a hidden file"
    if lower.endswith(PARTIAL_ENDINGS) or lower.endswith("#"):
        return "a partial upload or a temporary file"
    if not lower.endswith(tuple(e.lower() for e in extensions)):
        return "not one of the endings taken"
    return None


@dataclass(frozen=True)
class Look:
    """What one look at a file saw."""

    size: int
    mtime_ns: int
    inode: int


def look(path: Path) -> Look | None:
    """A look at ``path``: ``None`` when it is gone, or is no plain file
    (a folder, a link), or is hidden by Windows' attribute."""
    try:
        st = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    if getattr(st, "st_file_attributes", 0) & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0):
        return None
    return Look(st.st_size, st.st_mtime_ns, st.st_ino)


def usable(path: Path, seen: Look) -> str | None:
    """Why a file that holds still is not taken yet; ``None`` when it can be."""
    if seen.size == 0:
        return "it is empty"
    if path.name.lower().endswith(ZIP_ENDINGS):
        try:
            with zipfile.ZipFile(path):
                pass
        except (zipfile.BadZipFile, OSError):
            return "it does not open as a workbook (an upload cut short?)"
    return None


class Pickup:
    """The files of some inboxes that are ready to take. It remembers what
    it saw, so that a watcher that polls takes a file that held still since
    the last pass without waiting again. ``clock`` is the wall clock (a
    file's modification time is compared with it)."""

    def __init__(
        self,
        extensions: Iterable[str],
        settle: float,
        *,
        broken_after: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.extensions = tuple(extensions)
        self.settle = settle
        self.broken_after = broken_after
        self.clock = clock
        self._seen: dict[Path, tuple[Look, float]] = {}  # path -> (look, when first seen so)

    def candidates(self, inbox: Path) -> list[Path]:
        """The files of ``inbox`` whose names may be taken, oldest first."""
        try:
            names = os.listdir(inbox)
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            if refusal(name, self.extensions) is None:
                path = inbox / name
                seen = look(path)
                if seen is not None:
                    found.append((seen.mtime_ns, name, path))
        return [path for _, _, path in sorted(found)]

    def ready(
        self, paths: list[Path], wait: Callable[[float], bool]
    ) -> tuple[list[Path], list[tuple[Path, str]]]:
        """Of ``paths``, those ready to take, in their order; and those given
        up on, with why. ``wait(seconds)`` waits between the two looks (it
        returns true when the watcher is asked to stop: then only what was
        ready at once is taken)."""
        now = self.clock()
        present = set(paths)
        for gone in [p for p in self._seen if p not in present]:
            del self._seen[gone]
        ready: list[Path] = []
        pending: list[Path] = []
        longest = 0.0
        for path in paths:
            seen = look(path)
            if seen is None:
                continue
            before = self._seen.get(path)
            if before is not None and before[0] == seen and now - before[1] >= self.settle:
                ready.append(path)
                continue
            if before is None or before[0] != seen:
                self._seen[path] = (seen, now)
            since = self._seen[path][1]
            pending.append(path)
            longest = max(longest, self.settle - (now - since))
        if pending and not wait(max(longest, 0.0)):
            for path in pending:
                seen = look(path)
                before = self._seen.get(path)
                if seen is not None and before is not None and before[0] == seen:
                    ready.append(path)
                elif seen is not None:
                    self._seen[path] = (seen, self.clock())
        taken: list[Path] = []
        broken: list[tuple[Path, str]] = []
        chosen = set(ready)
        for path in [p for p in paths if p in chosen]:
            seen = self._seen.get(path, (look(path), now))[0]
            if seen is None:
                continue
            why = usable(path, seen)
            if why is None:
                taken.append(path)
                self._seen.pop(path, None)
            elif self.clock() - seen.mtime_ns / 1e9 >= self.broken_after:
                broken.append((path, why))
                self._seen.pop(path, None)
        return taken, broken
