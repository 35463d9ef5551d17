"""Map stage: a table's headers become fields, its cells typed values.

:func:`map_table` is the stage in one call: the column map (aliases,
unknown and duplicate columns), the number and date formats each column
uses, every row converted, and the warnings the file earned. The helpers it
is made of live in :mod:`importer.mapping.columns`, the number and date
readers in :mod:`importer.mapping.numbers` and :mod:`importer.mapping.dates`.
"""

from __future__ import annotations

from dataclasses import dataclass

from importer.doctypes import DocType
from importer.errors import FileError
from importer.mapping.columns import (
    ColumnMap,
    MappedRow,
    build_column_map,
    decide_date_orders,
    decide_number_formats,
    map_rows,
    refuse_unknown,
    warn_bare_codes,
    with_value_maps,
)
from importer.mapping.rules import Rules, load_rules
from importer.sources.files import Table

__all__ = ["ColumnMap", "MappedRow", "MappedTable", "Rules", "load_rules", "map_table"]


@dataclass(slots=True)
class MappedTable:
    """A table's rows as fields and typed values, with the map that made them."""

    table: Table
    colmap: ColumnMap
    rows: list[MappedRow]


def map_table(
    table: Table,
    doctype: DocType,
    *,
    decimal: str | None = None,
    order: str | None = None,
    check_required: bool = True,
    allow_empty: bool = False,
    rules: Rules | None = None,
    locale: str | None = None,
) -> MappedTable:
    """Map every row of ``table``. ``decimal`` and ``order`` fix the number
    and date formats (from ``--locale``); without them each column's values
    decide. ``rules`` are the user's mapping (:mod:`importer.mapping.rules`).
    Raises :class:`ColumnError` when the header cannot be used (a column
    with values that maps to no field is one) and :class:`FileError` when
    there are no data rows."""
    colmap = build_column_map(table, doctype, check_required=check_required, rules=rules)
    raw = list(table.rows)
    refuse_unknown(table, raw, colmap, doctype, rules)
    decide_number_formats(raw, colmap, decimal, locale)
    decide_date_orders(raw, colmap, order)
    with_value_maps(colmap, doctype, rules)
    rows = list(map_rows(raw, colmap))
    if colmap.constants:
        for row in rows:
            row.values.update(colmap.constants)
    if not rows and not allow_empty:
        where = f"sheet {table.sheet!r} of {table.path}" if table.sheet else str(table.path)
        raise FileError(f"{where}: there are no data rows below the header")
    if table.sheet:  # a workbook: csv cells are all text
        warn_bare_codes(rows, colmap, doctype)
    return MappedTable(table, colmap, rows)
