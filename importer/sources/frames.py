"""A pandas DataFrame as a :class:`Table`, with pandas optional.

Nothing here imports pandas: a DataFrame can only exist once the caller has
imported it, so ``sys.modules`` says whether an object can be one.

The columns are the header and each row a data row, numbered as in a
spreadsheet (the header is row 1, the DataFrame's first row is row 2,
whatever its index). Named index levels (``set_index("customerNumber")``,
a ``groupby`` result) are columns in front, as ``to_excel`` writes them;
an unnamed index (0, 1, 2 ... or what a filter left of it) is not data and
is left out. Cells are converted as :mod:`importer.sources.rows` says: text
stays text, and NaN, ``None``, ``NA`` and ``NaT`` are empty cells.
"""

from __future__ import annotations

import sys
from typing import Any

from importer.errors import FileError
from importer.sources.files import Cell, Table, _header_text
from importer.sources.rows import _cell, _table, _Unsupported, unsupported


def is_dataframe(source: object) -> bool:
    """Whether ``source`` is a pandas DataFrame (without importing pandas)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(source, pandas.DataFrame)


def table_from_dataframe(frame: Any, *, name: str = "DataFrame") -> Table:
    """The table of a pandas DataFrame; ``name`` stands for it in messages."""
    pandas = sys.modules["pandas"]
    if isinstance(frame.columns, pandas.MultiIndex):
        raise FileError(
            f"{name}: the header has {frame.columns.nlevels} levels (MultiIndex columns); "
            "give the DataFrame one row of column names, e.g. "
            "frame.columns = [' '.join(map(str, c)) for c in frame.columns]"
        )
    labels: list[object] = []
    columns: list[list[Any]] = []
    for level, label in enumerate(frame.index.names):
        if label is not None:
            labels.append(label)
            columns.append(_values(frame.index.get_level_values(level)))
    for position, label in enumerate(frame.columns):
        labels.append(label)
        columns.append(_values(frame.iloc[:, position]))
    if not labels:
        raise FileError(f"{name}: the DataFrame has no columns")
    header = [_header_text(label) for label in labels]
    cells = [_cells(values, index, header, name) for index, values in enumerate(columns)]
    return _table(name, [header, *map(list, zip(*cells, strict=True))])


def _values(column: Any) -> list[Any]:
    """The cells of a Series or an Index: Python values where pandas gives
    them (``tolist``), else numpy scalars, to be converted by :func:`_cells`
    unless the column cannot hold anything but plain values."""
    dtype = column.dtype
    numpy = sys.modules["numpy"]
    if isinstance(dtype, numpy.dtype) and dtype.kind in "iub":
        return _Plain(column.tolist())  # Python ints and bools, never missing
    if isinstance(dtype, numpy.dtype) and dtype.kind == "f" and dtype.itemsize == 8:
        return _Plain(["" if v != v else v for v in column.tolist()])  # NaN: missing
    if getattr(dtype, "kind", "") == "f" and getattr(dtype, "itemsize", 8) < 8:
        return list(column.to_numpy())  # float32: converted from its own shortest text
    values: list[Any] = column.tolist()
    return values


class _Plain(list[Any]):
    """Cells that need no conversion."""

    __slots__ = ()


def _cells(values: list[Any], index: int, header: list[str], name: str) -> list[Cell]:
    if type(values) is _Plain:
        return values
    cells: list[Cell] = []
    for position, value in enumerate(values):
        try:
            cells.append(_cell(value))
        except _Unsupported:
            raise FileError(unsupported(name, position + 2, index, header, value)) from None
    return cells
