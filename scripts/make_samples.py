"""Build samples/<type>.xlsx from samples/<type>.csv, typed as a person would.

The csv is the source; the workbook gets the same rows with text cells for
text fields (so ``0101`` keeps its zero), number cells for numbers, real date
cells for dates and TRUE/FALSE for yes/no fields. Run after editing a sample:

    python scripts/make_samples.py [TYPE ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from importer.doctypes import Registry
from importer.mapping.columns import CONVERTERS, ConversionError
from importer.sources.files import read_table

ROOT = Path(__file__).resolve().parents[1]


def build(name: str, registry: Registry) -> Path:
    doctype = registry.get(name)
    src = ROOT / "samples" / f"{name}.csv"
    table = read_table(src)
    kinds = []
    for header in table.header:
        canonical = doctype.resolve_header(header)
        spec = doctype.spec_for(canonical) if canonical else None
        kinds.append(spec.kind if spec else "string")
    wb = Workbook()
    ws = wb.active
    ws.title = doctype.title[:31]
    ws.append(table.header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        out = []
        for kind, value in zip(kinds, row.cells, strict=True):
            if value is None or kind == "string":
                out.append(value)
                continue
            try:
                typed = CONVERTERS[kind](value)
            except ConversionError:
                typed = value
            if kind == "date" and isinstance(typed, str):
                import datetime as dt

                typed = dt.date.fromisoformat(typed)
            out.append(typed)
        ws.append(out)
    for col, kind in enumerate(kinds, start=1):
        letter = ws.cell(1, col).column_letter
        ws.column_dimensions[letter].width = max(12, len(str(ws.cell(1, col).value)) + 2)
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            if kind == "date":
                cell.number_format = "yyyy-mm-dd"
            elif kind == "string" and isinstance(cell.value, str):
                cell.data_type = "s"
                cell.number_format = "@"
    ws.freeze_panes = "A2"
    dst = src.with_suffix(".xlsx")
    wb.save(dst)
    return dst


def main(argv: list[str]) -> int:
    registry = Registry()
    names = argv or [p.stem for p in sorted((ROOT / "samples").glob("*.csv"))]
    for name in names:
        print(build(name, registry))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
