"""Group stage: rows become documents.

Rows are grouped by the document key the type declares (``x-document-key``,
in order of preference; the first key column that the file has and fills is
used for the whole file). Header fields must agree on every row of a
document: two different values are a ``conflicting-header`` issue on the row
that disagrees; an optional header cell left blank on an extra row is taken
as "same as above". A document with any invalid row is not rendered, and
each of its other rows says which row holds it back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from importer.doctypes import DocType
from importer.errors import ColumnError
from importer.issues import RowIssue
from importer.mapping import ColumnMap, MappedRow


@dataclass(slots=True)
class Document:
    """One document to send: its key, its rows (in file order), its fields."""

    key: str
    key_field: str
    rows: list[MappedRow]
    header: dict[str, Any] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def row_numbers(self) -> list[int]:
        return [r.number for r in self.rows]

    @property
    def valid(self) -> bool:
        return not any(_has_error(r) for r in self.rows)


@dataclass(slots=True)
class Grouping:
    documents: list[Document]
    ungrouped: list[MappedRow]  # rows without a key: invalid on their own
    key_field: str


def _has_error(row: MappedRow) -> bool:
    return any(i.severity == "error" for i in row.issues)


def choose_key_field(doctype: DocType, colmap: ColumnMap, rows: list[MappedRow]) -> str:
    """The first declared key column that is present and filled somewhere."""
    for name in doctype.key_fields:
        if name in colmap.by_field and any(name in r.values for r in rows):
            return name
    return ""


def group_rows(doctype: DocType, colmap: ColumnMap, rows: list[MappedRow]) -> Grouping:
    key_field = choose_key_field(doctype, colmap, rows)
    if not key_field and doctype.lines is not None:
        names = ", ".join(repr(doctype.fields[k].title) for k in doctype.key_fields)
        raise ColumnError(
            f"no column says which {doctype.title.lower()} each row belongs to; "
            f"add one of {names} and fill it on every row"
        )
    documents: dict[str, Document] = {}
    ungrouped: list[MappedRow] = []
    line_fields = doctype.is_line_field
    for row in rows:
        if key_field:
            key_value = row.values.get(key_field)
            if key_value is None:
                _missing_key(doctype, colmap, row, key_field)
                ungrouped.append(row)
                continue
            key = str(key_value)
        else:
            key = f"row {row.number}"  # one row, one document, numbered by Visma
        header = {k: v for k, v in row.values.items() if not line_fields(k)}
        doc = documents.get(key)
        if doc is None:
            doc = documents[key] = Document(key, key_field, [row], header)
        elif doctype.lines is None:
            first = doc.rows[0].number
            row.issues.append(
                RowIssue(
                    row.number,
                    colmap.header_for(key_field),
                    "duplicate-key",
                    f"{key_field and doctype.fields[key_field].title} {key!r} is already on row "
                    f"{first}; each {doctype.title.lower()} must appear once",
                    sheet=row.sheet,
                    field=key_field,
                )
            )
            ungrouped.append(row)
            continue
        else:
            _merge_header(doctype, colmap, doc, row, header)
            doc.rows.append(row)
        if doctype.lines is not None:
            doc.lines.append({k: v for k, v in row.values.items() if line_fields(k)})
    docs = list(documents.values())
    for doc in docs:
        _hold_back(doctype, doc)
    return Grouping(docs, ungrouped, key_field)


def _missing_key(doctype: DocType, colmap: ColumnMap, row: MappedRow, key_field: str) -> None:
    title = doctype.fields[key_field].title
    row.issues.append(
        RowIssue(
            row.number,
            colmap.header_for(key_field),
            "missing-key",
            f"{title} is empty; it says which document this row belongs to",
            sheet=row.sheet,
            field=key_field,
        )
    )


def _merge_header(
    doctype: DocType, colmap: ColumnMap, doc: Document, row: MappedRow, header: dict[str, Any]
) -> None:
    first = doc.rows[0]
    for name, value in header.items():
        known = doc.header.get(name)
        if known is None:
            doc.header[name] = value
        elif known != value:
            title = doctype.fields[name].title if name in doctype.fields else name
            row.issues.append(
                RowIssue(
                    row.number,
                    colmap.header_for(name),
                    "conflicting-header",
                    f"{title} is {value!r} here but {known!r} on row {first.number} "
                    f"of the same document {doc.key!r}",
                    sheet=row.sheet,
                    field=name,
                )
            )


def _hold_back(doctype: DocType, doc: Document) -> None:
    bad = [r.number for r in doc.rows if _has_error(r)]
    if not bad:
        return
    listed = ("row " if len(bad) == 1 else "rows ") + ", ".join(str(n) for n in bad[:10])
    listed += " ..." if len(bad) > 10 else ""
    for row in doc.rows:
        if not _has_error(row):
            row.issues.append(
                RowIssue(
                    row.number,
                    "",
                    "document-invalid",
                    f"not imported: {listed} of the same document {doc.key!r} has errors",
                    sheet=row.sheet,
                )
            )


def all_rows(grouping: Grouping) -> Iterable[MappedRow]:
    for doc in grouping.documents:
        yield from doc.rows
    yield from grouping.ungrouped
