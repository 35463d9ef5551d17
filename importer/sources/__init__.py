"""Sources: whatever holds the rows, read as one :class:`Table`.

The stages after reading see only tables, as sqlite-utils' ``insert_all``
sees only rows, whichever adapter made them::

    open_table(source)            a path           -> files.read_table
                                  a binary file    -> uploads.table_from_upload
                                  a DataFrame      -> frames.table_from_dataframe
    table_from_rows(header, rows)                  -> rows.table_from_rows

:func:`open_sheet` and :func:`sheet_headers_of` read other sheets of the
workbook a table came from, whichever way it was opened.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeAlias

from importer.errors import FileError
from importer.sources.files import HeaderTest, Row, Table, read_table, sheet_headers
from importer.sources.frames import is_dataframe, table_from_dataframe
from importer.sources.rows import table_from_rows
from importer.sources.uploads import Readable, TempCopy, renamed, table_from_upload

__all__ = [
    "HeaderTest",
    "Readable",
    "Row",
    "Source",
    "Table",
    "open_sheet",
    "open_table",
    "sheet_headers_of",
    "table_from_rows",
]

DataFrame: TypeAlias = Any  # a pandas.DataFrame: pandas is optional, so not imported
Source: TypeAlias = "str | os.PathLike[str] | Readable | DataFrame"


def open_table(
    source: Source,
    *,
    sheet: str | None = None,
    is_header: HeaderTest | None = None,
    name: str | None = None,
    encoding: str | None = None,
    header_row: int | None = None,
) -> Table:
    """The table of ``source``: a path to a workbook (xlsx, xlsm, ods) or a
    csv file, a binary file object holding one (an upload, an open file:
    read from its current position, and left open), or a pandas DataFrame.

    ``sheet`` picks a workbook's sheet and ``is_header`` finds its header row
    below any title rows, unless ``header_row`` (from 1) names it;
    ``encoding`` forces a csv file's encoding, which its bytes decide
    otherwise (see :func:`importer.sources.files.read_table`).
    ``name`` is what messages call a file object or DataFrame (by default an
    upload's own file name); a path is called by itself. Raises
    :class:`FileError` when the source cannot be read whole, ConfigError for
    an unknown encoding, and TypeError for an object that is none of these.
    """
    if isinstance(source, (str, os.PathLike)):
        return read_table(
            Path(source), sheet=sheet, is_header=is_header, encoding=encoding, header_row=header_row
        )
    if is_dataframe(source):
        shown = name or "DataFrame"
        if header_row is not None:
            raise FileError(f"{shown}: a header row applies to files, and this is a DataFrame")
        if sheet is not None:
            raise FileError(f"{shown}: a sheet applies to workbooks, and this is a DataFrame")
        if encoding is not None:
            raise FileError(f"{shown}: an encoding applies to csv files, and this is a DataFrame")
        return table_from_dataframe(source, name=shown)
    if isinstance(source, (bytes, bytearray, memoryview)):
        raise TypeError("open_table takes a file object, not its bytes: pass io.BytesIO(data)")
    if callable(getattr(source, "read", None)):
        return table_from_upload(
            source,
            name=name,
            sheet=sheet,
            is_header=is_header,
            encoding=encoding,
            header_row=header_row,
        )
    raise TypeError(
        f"open_table takes a path, a binary file object or a pandas DataFrame, not a "
        f"{type(source).__name__}; for rows of values use table_from_rows(header, rows)"
    )


def open_sheet(
    table: Table,
    sheet: str,
    *,
    is_header: HeaderTest | None = None,
    encoding: str | None = None,
) -> Table:
    """Another sheet of the workbook ``table`` was read from (an upload's
    included: the new table holds its temporary copy too). ``encoding`` is
    :func:`open_table`'s, which a workbook refuses (it says its own)."""
    if isinstance(table.keep, TempCopy):
        with renamed(table.path, table.name):
            other = read_table(table.path, sheet=sheet, is_header=is_header, encoding=encoding)
        other.display_name, other.keep = table.display_name, table.keep
        return other
    if table.display_name is not None:
        raise FileError(f"{table.name}: rows have no sheets (asked for {sheet!r})")
    return read_table(table.path, sheet=sheet, is_header=is_header, encoding=encoding)


def sheet_headers_of(
    table: Table, names: list[str], *, is_header: HeaderTest | None = None
) -> dict[str, list[str]]:
    """The header row of each named sheet of the workbook ``table`` was read
    from (see :func:`importer.sources.files.sheet_headers`)."""
    if not names:
        return {}
    if table.display_name is not None and not isinstance(table.keep, TempCopy):
        raise FileError(f"{table.name}: rows have no sheets")
    with renamed(table.path, table.name):
        return sheet_headers(Path(table.path), names, is_header)
