"""Group stage: rows become documents.

Rows are grouped by the document key the type declares (``x-document-key``,
in order of preference). For a whole file one key column is used: the first
that is filled on every row, else the first filled on any row. Types without
lines (customers, suppliers) are one row per document; a row without a key
there is a document Visma numbers itself.

Header fields must agree on every row of a document. A header cell left
blank on an extra row means "same as above" and is filled in before the
rows are validated; two different values are a ``conflicting-header`` issue
on the row that disagrees. After validation, a document with any invalid row
is held back whole, and each of its other rows says which row holds it back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from importer.doctypes import DocType, normalize_header
from importer.issues import RowIssue
from importer.mapping.columns import ColumnMap, MappedRow

_MISSING: Any = object()


@dataclass(slots=True)
class Document:
    """One document to send: its key and its rows, in file order. The first
    row's values hold the document's header fields."""

    key: str
    key_field: str
    rows: list[MappedRow]
    lines_from: int = 0  # 1 when rows[0] is a header sheet's row and holds no line

    @property
    def row_numbers(self) -> list[int]:
        """The rows of the document's lines (of the lines sheet, when the
        header is on a sheet of its own)."""
        return [r.number for r in self.rows[self.lines_from :]]

    @property
    def header(self) -> dict[str, Any]:
        return self.rows[0].values

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [r.values for r in self.rows[self.lines_from :]]

    @property
    def valid(self) -> bool:
        return not any(_has_error(r) for r in self.rows)


@dataclass(slots=True)
class Grouping:
    documents: list[Document]
    ungrouped: list[MappedRow]  # rows that belong to no document: invalid on their own
    key_field: str


def _has_error(row: MappedRow) -> bool:
    return bool(row.issues) and any(i.severity == "error" for i in row.issues)


def pick_key_field(
    doctype: DocType, colmap: ColumnMap, filled: Callable[[str], Sequence[bool]]
) -> str:
    """The first key column filled on every row, else the first filled on
    any; ``filled(name)`` tells, row by row, whether the column has a value."""
    present = [k for k in doctype.key_fields if k in colmap.by_field]
    seen = {name: filled(name) for name in present}
    for name in present:
        if all(seen[name]):
            return name
    for name in present:
        if any(seen[name]):
            return name
    return ""


def group_rows(
    doctype: DocType, colmap: ColumnMap, rows: list[MappedRow], key_field: str | None = None
) -> Grouping:
    """Group ``rows``; ``key_field`` is chosen from them unless given (it is
    when a file is processed in parts, so that every part agrees)."""
    if key_field is None:
        key_field = pick_key_field(doctype, colmap, lambda name: [name in r.values for r in rows])
    has_lines = doctype.lines is not None
    header_fields = [f for f in colmap.by_field if not doctype.is_line_field(f)]
    if not key_field and has_lines:
        return _group_blocks(doctype, colmap, rows, header_fields)
    documents: dict[str, Document] = {}
    ungrouped: list[MappedRow] = []
    above: Document | None = None  # the document of the row above
    for row in rows:
        key_value = row.values.get(key_field) if key_field else None
        doc_key_field = key_field
        if key_value is None:
            if has_lines:
                if above is None:
                    _missing_key(doctype, colmap, row, key_field)
                    ungrouped.append(row)
                    continue
                _continue(doctype, colmap, above, row, key_field, header_fields)
                continue
            natural = natural_key(doctype, row.values)
            if natural is not None:  # Visma numbers it; these fields name it
                doc_key_field, key = natural
            elif doctype.natural_keys:
                params: dict[str, object] = {
                    "doctype": doctype.title.lower(),
                    "fields": _alternatives(doctype),
                }
                first = key_field or doctype.key_fields[0]
                _flag(row, colmap, first, "missing-key.natural", params)
                ungrouped.append(row)
                continue
            else:
                key = f"row {row.number}"  # a type that declares nothing better
        else:
            key = str(key_value)
        doc = documents.get(key)
        if doc is None:
            documents[key] = above = Document(key, doc_key_field, [row])
        elif not has_lines:
            named = natural_fields(doc_key_field) or (key_field,)
            _flag(
                row,
                colmap,
                named[0],
                "duplicate-key",
                {
                    "title": " and ".join(doctype.fields[f].title for f in named),
                    "value": key,
                    "first": doc.rows[0].number,
                    "doctype": doctype.title.lower(),
                },
            )
            ungrouped.append(row)
        else:
            twin = _twin_line(doctype, doc, row) if above is not doc else None
            if twin is not None:  # apart from its document, a line it has: exported twice?
                _flag(row, colmap, key_field, "duplicate-key.apart", {
                    "title": doctype.fields[key_field].title, "value": key,
                    "rows": row_ranges([r.number for r in doc.rows]), "twin": twin,
                    "doctype": doctype.title.lower(),
                })  # fmt: skip
            _merge_header(doctype, colmap, doc, row, header_fields)
            doc.rows.append(row)
            above = doc
    return Grouping(list(documents.values()), ungrouped, key_field)


def _twin_line(doctype: DocType, doc: Document, row: MappedRow) -> int | None:
    """The row of ``doc`` whose line is the same as ``row``'s, when ``row``
    comes apart from the document (other documents' rows between). Lines
    of one document may be spread over a sorted export; the same line again,
    further down, is more likely the document exported twice."""
    line = {k: v for k, v in row.values.items() if doctype.is_line_field(k)}
    for earlier in doc.rows:
        if line and {k: v for k, v in earlier.values.items() if doctype.is_line_field(k)} == line:
            return earlier.number
    return None


def row_ranges(numbers: list[int]) -> str:
    """Row numbers as a person writes them: ``2-4, 7``."""
    spans: list[list[int]] = []
    for n in sorted(set(numbers)):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def split_total_row(
    doctype: DocType, colmap: ColumnMap, rows: list[MappedRow]
) -> tuple[list[MappedRow], MappedRow | None]:
    """The rows, and the total row at the bottom of the sheet if there is
    one: a label the type declares (``x-total-row``: ``Totalt``, ``Sum`` ...)
    and only amounts. It is never imported. Each of its amounts is checked
    against the sum of its column above (a misread number shows up here):
    one that disagrees is an error on its cell; when all agree it is only
    noted."""
    labels = {normalize_header(x) for x in doctype.schema.get("x-total-row", {}).get("labels", ())}
    if not labels or len(rows) < 2:
        return rows, None
    last = rows[-1]
    label = next(
        (c for c in last.cells if isinstance(c, str) and normalize_header(c) in labels), None
    )
    numbers = {
        name: value
        for name, value in last.values.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }
    others = [v for v in last.values.values() if v != (label or "").strip()]
    if label is None or not numbers or len(others) != len(numbers):
        return rows, None
    body = rows[:-1]
    last.issues.clear()  # a label in a date column is no date error: the row is a total
    for name, total in numbers.items():
        column = [r.values.get(name) for r in body]
        found = sum(
            Decimal(str(v))
            for v in column
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        )
        if abs(Decimal(str(total)) - found) > Decimal("0.01"):
            _flag(
                last,
                colmap,
                name,
                "total-row",
                {"title": colmap.header_in(last.sheet, name), "value": total, "sum": found},
            )
    if not last.issues:
        colmap.warnings.append(
            RowIssue.from_key(
                last.number,
                "",
                "total-row.agrees",
                {"label": label.strip(), "row": last.number},
                "warning",
                last.sheet,
            )
        )  # fmt: skip
    return body, last


def _group_blocks(
    doctype: DocType, colmap: ColumnMap, rows: list[MappedRow], header_fields: list[str]
) -> Grouping:
    """A file without a key column: a row with header values starts a
    document, and the rows below it with none continue it (a one-row file is
    one document). Such a document is known by what it holds (a digest of its
    values, ``content:...``), never by its position in the file, so the
    journal finds it again whatever rows come before it."""
    blocks: list[list[MappedRow]] = []
    for row in rows:
        if not blocks or any(f in row.values for f in header_fields):
            blocks.append([row])
        else:
            blocks[-1].append(row)
    documents: dict[str, Document] = {}
    ungrouped: list[MappedRow] = []
    for block in blocks:
        first = block[0].values
        for row in block[1:]:  # validated as the document will be sent
            for name in header_fields:
                if name in first and name not in row.values:
                    row.values[name] = first[name]
        text = json.dumps([r.values for r in block], sort_keys=True, default=str)
        key = "content:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        if key in documents:  # the same document twice
            _flag(
                block[0],
                colmap,
                header_fields[0] if header_fields else "",
                "duplicate-key.content",
                {"first": documents[key].rows[0].number, "doctype": doctype.title.lower()},
            )
            ungrouped.extend(block)
            continue
        documents[key] = Document(key, "", block)
    return Grouping(list(documents.values()), ungrouped, "")


def _continue(
    doctype: DocType,
    colmap: ColumnMap,
    above: Document,
    row: MappedRow,
    key_field: str,
    header_fields: list[str],
) -> None:
    """A row without a key continues the document above, as Odoo and
    Frappe read such files: its line is one more line of that document. It
    must leave every header cell empty; one it fills is an error on that
    cell (a sorted or filtered sheet must not attach a line to the wrong
    document), and the document above is then not sent with fewer lines."""
    filled = [f for f in header_fields if f != key_field and f in row.values]
    if filled:
        title = doctype.fields[key_field].title
        for name in filled:
            _flag(
                row,
                colmap,
                name,
                "continuation-header",
                {
                    "title": title,
                    "field": colmap.header_in(row.sheet, name),
                    "document": above.key,
                    "doctype": doctype.title.lower(),
                },
            )
    first = above.rows[0].values
    for name in header_fields:  # validated as the document will be sent
        if name in first and name not in row.values:
            row.values[name] = first[name]
    above.rows.append(row)


def join_rows(
    doctype: DocType,
    colmap: ColumnMap,
    head_rows: list[MappedRow],
    line_rows: list[MappedRow],
    key_field: str,
) -> Grouping:
    """Documents from two sheets: one row per document on the header
    sheet, its lines on the lines sheet, joined by ``key_field``. A line
    row gets its document's header values (to be validated as it will be
    sent); every problem stays on the row of the sheet it is about."""
    title = doctype.fields[key_field].title
    documents: dict[str, Document] = {}
    ungrouped: list[MappedRow] = []
    for row in head_rows:
        key_value = row.values.get(key_field)
        if key_value is None:
            _missing_key(doctype, colmap, row, key_field)
            ungrouped.append(row)
        elif (doc := documents.get(str(key_value))) is not None:
            _flag(
                row,
                colmap,
                key_field,
                "duplicate-key.sheet",
                {
                    "title": title,
                    "value": key_value,
                    "first": doc.rows[0].number,
                    "sheet": doc.rows[0].sheet,
                    "doctype": doctype.title.lower(),
                },
            )
            ungrouped.append(row)
        else:
            documents[str(key_value)] = Document(str(key_value), key_field, [row], lines_from=1)
    head_sheet = head_rows[0].sheet if head_rows else ""
    for row in line_rows:
        key_value = row.values.get(key_field)
        doc = documents.get(str(key_value)) if key_value is not None else None
        if key_value is None:
            _missing_key(doctype, colmap, row, key_field)
        elif doc is None:
            _flag(
                row,
                colmap,
                key_field,
                "unknown-key",
                {"title": title, "value": key_value, "sheet": head_sheet},
            )
        else:
            for name, value in doc.rows[0].values.items():
                row.values.setdefault(name, value)
            doc.rows.append(row)
            continue
        ungrouped.append(row)
    lines_sheet = line_rows[0].sheet if line_rows else ""
    for doc in documents.values():
        if len(doc.rows) == 1:
            _flag(
                doc.rows[0],
                colmap,
                key_field,
                "no-lines",
                {
                    "sheet": lines_sheet,
                    "title": title,
                    "value": doc.key,
                    "doctype": doctype.title.lower(),
                },
            )
    return Grouping(list(documents.values()), ungrouped, key_field)


NATURAL = "natural:"  # a Document.key_field made of x-natural-key fields: natural:name+...


def natural_key(doctype: DocType, values: dict[str, Any]) -> tuple[str, str] | None:
    """(key field, key) of a row without its number: the first of the type's
    natural keys whose fields are all filled, never the row's position."""
    for fields, _ in doctype.natural_keys:
        if all(values.get(f) not in (None, "") for f in fields):
            key = "; ".join(f"{f}={values[f]}" for f in fields)
            return NATURAL + "+".join(fields), key
    return None


def natural_fields(key_field: str) -> tuple[str, ...]:
    """The fields of a natural key field (``natural:a+b`` → ``(a, b)``), else ``()``."""
    if not key_field.startswith(NATURAL):
        return ()
    return tuple(key_field[len(NATURAL) :].split("+"))


def _alternatives(doctype: DocType) -> str:
    names = [" and ".join(doctype.fields[f].title for f in fields) for fields, _ in
             doctype.natural_keys]  # fmt: skip
    return ", or ".join(names)


def _missing_key(doctype: DocType, colmap: ColumnMap, row: MappedRow, key_field: str) -> None:
    _flag(row, colmap, key_field, "missing-key", {"title": doctype.fields[key_field].title})


def _flag(
    row: MappedRow, colmap: ColumnMap, name: str, key: str, params: dict[str, object]
) -> None:
    """An error on the cell of field ``name`` in ``row`` (:meth:`ColumnMap.issue`)."""
    row.issues.append(colmap.issue(row, name, key, params))


def _merge_header(
    doctype: DocType, colmap: ColumnMap, doc: Document, row: MappedRow, header_fields: list[str]
) -> None:
    first = doc.rows[0].values
    values = row.values
    for name in header_fields:
        known = first.get(name, _MISSING)
        value = values.get(name, _MISSING)
        if known is value or known == value:
            continue
        if value is _MISSING:
            values[name] = known  # blank here: same as above
        elif known is _MISSING:
            for earlier in doc.rows:  # first given here: it holds for the rows above too
                earlier.values[name] = value
        else:
            _flag(
                row,
                colmap,
                name,
                "conflicting-header",
                {
                    "title": doctype.fields[name].title,
                    "value": value,
                    "known": known,
                    "first": doc.rows[0].number,
                    "document": doc.key,
                },
            )
            values[name] = known  # validate the row as the document will be sent


def hold_back(grouping: Grouping) -> None:
    """After validation: a document with an invalid row is not sent at all."""
    for doc in grouping.documents:
        bad = [r.number for r in doc.rows if _has_error(r)]
        if not bad:
            continue
        key = "document-invalid" if len(bad) == 1 else "document-invalid.many"
        listed = ", ".join(str(n) for n in bad[:10]) + (" ..." if len(bad) > 10 else "")
        params: dict[str, object] = {"rows": listed, "document": doc.key}
        for row in doc.rows:
            if not _has_error(row):
                row.issues.append(RowIssue.from_key(row.number, "", key, params, sheet=row.sheet))
