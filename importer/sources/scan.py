"""What a workbook's own XML says that calamine does not.

Before calamine reads a sheet, a pass over the sheet's XML (xlsx:
:mod:`importer.sources.xlsx`; ods: :mod:`importer.sources.ods`) says how
far its values reach (:class:`Extent`: calamine holds the whole area in
memory, so a stray value in the last cell must be refused first), whether
it holds control characters, and what the user sees that calamine does not
report (:class:`SheetScan`: error values, cells shown with leading zeros,
hidden rows and columns, merged cells).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from importer.sources.cells import ExcelError, column_letter

if TYPE_CHECKING:
    from importer.sources.files import Table

MAX_COLUMNS = 16_384  # Excel's own limit


@dataclass(slots=True)
class Extent:
    """How far a sheet's values reach: the last row that holds one and the
    rightmost column that does, and a cell that reaches each. Empty cells
    that only carry a format (LibreOffice writes them out to column AMJ and
    row 1,048,576) do not count: calamine keeps none of them."""

    rows: int = 0  # the last row with a value (1 = the first row)
    columns: int = 0  # the rightmost column with a value (1 = column A), when known
    lowest: tuple[int, int] = (0, 0)  # (row from 1, column from 0) of a cell on that row
    rightmost: tuple[int, int] = (0, 0)  # ... and of one in that column

    def add(self, row: int, column: int) -> None:
        """A value in ``row`` (from 1) and ``column`` (from 0)."""
        if row > self.rows:
            self.rows, self.lowest = row, (row, column)
        if column + 1 > self.columns:
            self.columns, self.rightmost = column + 1, (row, column)

    def area(self, narrow: int = 0) -> int:
        """The cells calamine would hold; ``narrow`` is the width to assume
        when no column was seen (a survey that only notes wide columns)."""
        return self.rows * max(self.columns, narrow if self.rows else 0)

    def cells(self) -> str:
        """The farthest cells, for a message: ``cell AMJ5`` or ``cells AMJ5 and A2000000``."""
        far = [self.rightmost] if self.rightmost[0] == self.rows else [self.rightmost, self.lowest]
        named = [f"{column_letter(c)}{r}" for r, c in far]
        return ("cells " if len(named) > 1 else "cell ") + " and ".join(named)


@dataclass(slots=True)
class SheetScan:
    """What the sheet's XML says that calamine does not: (row, column)
    indices from 0."""

    errors: list[tuple[int, int, str]] = field(default_factory=list)  # #REF! and such
    padded: list[tuple[int, int, int]] = field(default_factory=list)  # format 0000: width
    hidden_rows: list[int] = field(default_factory=list)
    hidden_columns: list[int] = field(default_factory=list)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2

    def apply(self, data: list[list[Any]]) -> None:
        """Put into the grid what the user sees in Excel: error values,
        numbers as their zero-padded display (``0101``), and a merged
        cell's value on every row it spans."""
        for row, col, value in self.errors:
            if row < len(data) and col < MAX_COLUMNS:
                _put(data[row], col, ExcelError(value))
        for row, col, width in self.padded:
            if row < len(data) and col < len(data[row]):
                v = data[row][col]
                if type(v) in (int, float) and v >= 0 and float(v).is_integer():
                    data[row][col] = f"{int(v):0{width}d}"
        for r1, c1, r2, _ in self.merged:
            if r1 >= len(data) or c1 >= len(data[r1]) or not _filled(data[r1][c1]):
                continue
            value = data[r1][c1]
            for r in range(r1 + 1, min(r2 + 1, len(data))):  # rows of the data only
                _put(data[r], c1, value)

    def notes(self, table: Table) -> list[tuple[str, dict[str, object]]]:
        found: list[tuple[str, dict[str, object]]] = []
        columns = [
            f"{column_letter(c)} ({table.header[c]!r})"
            for c in self.hidden_columns
            if c < len(table.header) and table.header[c]
        ]
        if columns:
            key = "hidden-column.many" if len(columns) > 1 else "hidden-column"
            found.append((key, {"columns": ", ".join(columns)}))
        rows = [r + 1 for r in self.hidden_rows if r + 1 > table.header_row]
        if rows:
            listed = ", ".join(map(str, rows[:10])) + (" ..." if len(rows) > 10 else "")
            key = "hidden-row.many" if len(rows) > 1 else "hidden-row"
            found.append((key, {"count": len(rows), "rows": listed}))
        return found


@dataclass(slots=True)
class Survey:
    """One sheet, before calamine reads it: its extent, whether a control
    character may be in it, and what to put into calamine's grid: ``scan``
    when it is known already (ods), else ``marked`` says whether the xlsx
    scan must run to find it."""

    extent: Extent
    control: bool = False
    marked: bool = False
    scan: SheetScan | None = None


def _put(cells: list[Any], col: int, value: Any) -> None:
    if col >= len(cells):
        cells.extend([""] * (col + 1 - len(cells)))
    cells[col] = value


def _filled(c: Any) -> bool:
    return c is not None and c != ""
