"""Rows from anywhere (a database, an API, a DataFrame) as a :class:`Table`.

The cells become what the file readers give, so every later stage treats
them alike: text stays text (``0101`` stays ``0101``), ``int``/``float``/
``bool``/``date``/``datetime`` stay as they are, and a missing value (``None``,
NaN, pandas' ``NA`` and ``NaT``) is the empty cell ``""``. Only what the
readers never give is converted:

- a ``Decimal`` becomes the ``int`` or ``float`` that holds its value exactly,
  else the text of its exact value: a number as text would have its decimal
  separator guessed by the mapping stage (``1.234`` could be 1234);
- numpy and pandas scalars become the Python value they hold; a pandas
  ``Timestamp`` at midnight is a ``date`` (pandas has no date type);
- a subclass of ``str``, ``int``, ``datetime`` ... becomes its plain value.

Any other value (a list, bytes, an object) stops the table with a
:class:`FileError` naming its row and column. Row numbers are those the rows
would have in a spreadsheet: the header is row 1, the first row 2.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from importer.errors import FileError
from importer.sources.cells import CONTROL, Cell, ControlText, ExcelError, column_letter
from importer.sources.files import Table, _header_text, _table_from_grid


def table_from_rows(
    header: Sequence[object], rows: Iterable[Sequence[object]], *, name: str = "rows"
) -> Table:
    """A table of ``header`` and ``rows`` (lists or tuples of cell values).

    ``name`` stands for the source in messages (``Table.name``). Rows
    shorter than the header are padded with empty cells; longer ones keep
    their extra cells, which the mapping stage reports. Blank rows are
    skipped, and the rows after them keep their numbers, as in a file.
    """
    if isinstance(header, (str, bytes)):
        raise TypeError("header must be a sequence of column names, not a string")
    head = [_header_text(h) for h in header]
    grid: list[list[Any]] = [head]
    for position, row in enumerate(rows):
        if isinstance(row, (str, bytes, dict)):
            raise TypeError(
                f"row {position + 2} is a {type(row).__name__}; each row must be a list or "
                "tuple of cell values in the order of the header"
            )
        values = row if isinstance(row, (list, tuple)) else list(row)
        try:
            grid.append([_cell(v) for v in values])
        except _Unsupported:
            grid.append(_cells_or_error(values, position + 2, head, name))
    return _table(name, grid)


def _table(name: str, grid: list[list[Any]]) -> Table:
    """The table of ``grid``, whose first row is the header and whose cells
    are already converted."""
    if not any(grid[0]):
        raise FileError(f"{name}: the header has no column names")
    table = _table_from_grid(Path(name), "", grid, titles=False)
    table.display_name = name
    return table


def _cells_or_error(row: Iterable[object], number: int, header: list[str], name: str) -> list[Cell]:
    cells: list[Cell] = []
    for index, value in enumerate(row):
        try:
            cells.append(_cell(value))
        except _Unsupported:
            raise FileError(unsupported(name, number, index, header, value)) from None
    return cells


def unsupported(name: str, number: int, index: int, header: list[str], value: object) -> str:
    """The message for a value no spreadsheet cell holds."""
    column = column_letter(index)
    if index < len(header) and header[index]:
        column += f" ({header[index]!r})"
    return (
        f"{name}: row {number}, column {column} holds a value of type "
        f"{type(value).__name__}, which no spreadsheet cell holds; give text, a number, "
        "a date or a boolean"
    )


class _Unsupported(Exception):
    """A value that is not a cell value (the caller says where it was)."""


def _cell(v: object) -> Cell:
    t = type(v)
    if t is str:
        assert isinstance(v, str)
        return ControlText(v) if CONTROL.search(v) else v
    if t is float:
        assert isinstance(v, float)
        return "" if v != v else v  # NaN: a missing value
    if t is int or t is bool or t is dt.date or t is dt.datetime:
        return cast(Cell, v)
    if v is None:
        return ""
    return _other(v)


def _other(v: object) -> Cell:
    """The cell value of anything but the plain types :func:`_cell` passes."""
    if type(v) is ExcelError or type(v) is ControlText:
        return cast(Cell, v)  # the cells of another table, kept as read
    pandas = sys.modules.get("pandas")
    if pandas is not None:
        if v is pandas.NA or v is pandas.NaT:
            return ""
        if isinstance(v, pandas.Timestamp):
            return _datetime(v, date_at_midnight=True)
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(v, numpy.generic):
        return _numpy(v, numpy)
    if isinstance(v, Decimal):
        return _decimal(v)
    if isinstance(v, str):
        return _cell(str.__str__(v))
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return _cell(float(v))
    if isinstance(v, dt.datetime):
        return _datetime(v, date_at_midnight=False)
    if isinstance(v, dt.date):
        return dt.date(v.year, v.month, v.day)
    if isinstance(v, dt.time):
        return dt.time(v.hour, v.minute, v.second, v.microsecond, v.tzinfo, fold=v.fold)
    if isinstance(v, dt.timedelta):
        return dt.timedelta(days=v.days, seconds=v.seconds, microseconds=v.microseconds)
    raise _Unsupported


def _datetime(v: dt.datetime, *, date_at_midnight: bool) -> dt.date | dt.datetime:
    # Built from its fields: pandas' own conversion warns when it drops
    # nanoseconds, which no cell holds.
    if date_at_midnight and (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0):
        return dt.date(v.year, v.month, v.day)
    return dt.datetime(
        v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, v.tzinfo, fold=v.fold
    )


def _numpy(v: Any, numpy: Any) -> Cell:
    if isinstance(v, (numpy.datetime64, numpy.timedelta64)):
        if numpy.isnat(v):
            return ""
        if isinstance(v, numpy.datetime64):
            value = v.astype("datetime64[us]").item()
            return _datetime(value, date_at_midnight=True)
        return _cell(v.astype("timedelta64[us]").item())
    if isinstance(v, numpy.floating) and v.itemsize < 8:
        # float32 0.1 is 0.10000000149011612 as a Python float; its own
        # shortest text is the number that was meant.
        return _cell(float(str(v)))
    return _cell(v.item())


def _decimal(d: Decimal) -> Cell:
    if d.is_nan():
        return ""
    if d.is_infinite():
        return float(d)
    if d == d.to_integral_value():
        return int(d)
    f = float(d)
    return f if Decimal(repr(f)) == d else format(d, "f")
