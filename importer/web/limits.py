"""Limits beyond the request's size: the rows a file may have (``max_rows``
in ``[serve]``), and the failed sign-ins a name may have in a while.

The reader's own guards (a workbook that unpacks to more than 1 GB, a sheet
whose used area is too large, more rows than a spreadsheet holds, a cell
longer than Excel's) apply to an upload as to a file on the command line:
the same reader reads it, and its refusal is the page's message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from importer.errors import ColumnError, ConfigError, FileError
from importer.sources import open_table
from importer.web.batches import UploadError
from importer.web.i18n import gettext

__all__ = ["SignInLimiter", "check_rows"]

MAX_ROWS_KEY = "vnimport.max_rows"  # app.config: the most data rows a file may have


def check_rows(path: Path, max_rows: int | None = None) -> None:
    """Refuse a stored upload with more data rows than ``max_rows`` (by
    default the app's ``[serve] max_rows``), counting no further than one
    past it. A file the reader refuses is left to the check, which says
    why."""
    if max_rows is None:
        from flask import current_app

        max_rows = int(current_app.config.get(MAX_ROWS_KEY) or 0)
    if not max_rows:
        return
    try:
        table = open_table(path)
        count = 0
        for _ in table.rows:
            count += 1
            if count > max_rows:
                break
    except (FileError, ColumnError, ConfigError, OSError):
        return
    if count > max_rows:
        raise UploadError(
            "too-many-rows",
            gettext(
                "The file has more than {limit} rows: this server takes files of up to "
                "{limit} rows. Split it into smaller files.",
                limit=f"{max_rows:,}",
            ),
        )


class SignInLimiter:
    """At most ``attempts`` failed sign-ins per name in ``window`` seconds;
    then the name is refused, its password not even checked, until the
    oldest failure is ``window`` old. Kept in memory (one server process);
    a restart forgets it."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        attempts: int = 5,
        window: float = 15 * 60,
        names: int = 10_000,
    ) -> None:
        self.clock = clock
        self.attempts = attempts
        self.window = window
        self.names = names  # names remembered at most: many made-up names cannot fill memory
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def blocked_until(self, name: str) -> float | None:
        """When ``name`` may try again, if it may not now."""
        now = self.clock()
        with self._lock:
            recent = self._recent(name, now)
            if len(recent) < self.attempts:
                return None
            return recent[-self.attempts] + self.window

    def failed(self, name: str) -> None:
        now = self.clock()
        with self._lock:
            recent = self._recent(name, now)
            recent.append(now)
            self._failures[name] = recent[-self.attempts :]
            if len(self._failures) > self.names:
                for old in sorted(self._failures, key=lambda n: self._failures[n][-1])[
                    : len(self._failures) - self.names
                ]:
                    del self._failures[old]

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name, None)

    def _recent(self, name: str, now: float) -> list[float]:
        recent = [t for t in self._failures.get(name, []) if t > now - self.window]
        if recent:
            self._failures[name] = recent
        else:
            self._failures.pop(name, None)
        return recent
