"""Problems found in rows, as data (never exceptions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from importer.codes import render

Severity = Literal["error", "warning"]
Params = tuple[tuple[str, object], ...]


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One problem with one cell or row.

    ``row`` is the row number the user sees in Excel (header = 1); 0 means the
    issue concerns the whole file. ``column`` is the header as the user typed
    it (empty when the issue concerns the whole row). ``code`` is a stable
    kebab-case identifier (``required``, ``type``, ``conflicting-header`` ...).
    ``message`` is in English; ``key`` and ``params`` say it again as an entry
    of :data:`importer.codes.MESSAGES` and its parameters, for
    :func:`importer.codes.render_issue` to put in another language (an empty
    ``key``: the message came from elsewhere, such as Visma, and is as it is).
    """

    row: int
    column: str
    code: str
    message: str
    severity: Severity = "error"
    sheet: str = ""
    field: str = ""
    key: str = ""
    params: Params = ()

    @classmethod
    def from_key(
        cls,
        row: int,
        column: str,
        key: str,
        params: Mapping[str, object],
        severity: Severity = "error",
        sheet: str = "",
        field: str = "",
        *,
        code: str = "",
    ) -> RowIssue:
        """The issue whose message is ``key`` with ``params``; its code is
        ``code``, else the key up to its first dot (``type.whole`` → ``type``)."""
        return cls(
            row,
            column,
            code or key.partition(".")[0],
            render(key, params),
            severity,
            sheet,
            field,
            key,
            tuple(params.items()),
        )

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.message} [{self.code}]"
