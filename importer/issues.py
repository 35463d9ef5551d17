"""Problems found in rows, as data (never exceptions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One problem with one cell or row.

    ``row`` is the row number the user sees in Excel (header = 1); 0 means the
    issue concerns the whole file. ``column`` is the header as the user typed
    it (empty when the issue concerns the whole row). ``code`` is a stable
    kebab-case identifier (``required``, ``type``, ``conflicting-header`` ...).
    """

    row: int
    column: str
    code: str
    message: str
    severity: Severity = "error"
    sheet: str = ""
    field: str = ""

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.message} [{self.code}]"
