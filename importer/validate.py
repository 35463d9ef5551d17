"""Validate stage: every error of a row against the type's JSON Schema.

jsonschema-rs does the checking (draft 2020-12, formats on). A valid row
costs one ``is_valid`` call; only invalid rows are walked for their errors,
each turned into a :class:`RowIssue` on the column the user typed, with a
message in the words of the spreadsheet rather than of JSON Schema.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import jsonschema_rs

from importer.doctypes import DocType
from importer.group import Grouping
from importer.issues import RowIssue
from importer.mapping.columns import ColumnMap, MappedRow
from importer.sources.files import MAX_CELL


class RowValidator:
    def __init__(self, doctype: DocType, colmap: ColumnMap) -> None:
        self.doctype = doctype
        self.colmap = colmap
        # Unknown columns never reach the instance, so additionalProperties in
        # the schema concerns only the file's own mapped fields.
        self._validator = jsonschema_rs.Draft202012Validator(
            _with_cell_limit(doctype.schema), validate_formats=True
        )

    def validate(self, row: MappedRow) -> None:
        """Append the row's schema errors to ``row.issues``."""
        if self._validator.is_valid(row.values):
            return
        already = {i.field for i in row.issues}
        found: list[RowIssue] = []
        for err in self._validator.iter_errors(row.values):
            issue = self._issue(row, err)
            if issue.field and issue.field in already:
                continue  # the cell could not be read at all; that is said once
            found.append(issue)
        row.issues.extend(found)
        row.issues.sort(key=lambda i: (self._column_order(i.field), i.code))

    def _column_order(self, canonical: str) -> int:
        col = self.colmap.by_field.get(canonical)
        return col.index if col else -1

    def _issue(self, row: MappedRow, err: Any) -> RowIssue:
        path = list(err.instance_path)
        schema_path = list(err.schema_path)
        kind = type(err.kind).__name__
        canonical = str(path[0]) if path else ""
        key, params = _describe(kind, err, row.values.get(canonical))
        code = key.partition(".")[0]
        if kind == "Required":
            canonical = str(getattr(err.kind, "property", "")) or canonical
            spec = self.doctype.fields.get(canonical)
            params = {"title": spec.title if spec else canonical}
        custom = self._custom_message(schema_path)
        if custom:
            key, params = "x-message", {"text": custom}
        if not canonical and kind in ("AnyOf", "OneOfNotValid"):
            canonical = self._first_named(schema_path)
        column = self.colmap.header_in(row.sheet, canonical) if canonical else ""
        return RowIssue.from_key(
            row.number, column, key, params, sheet=row.sheet, field=canonical, code=code
        )

    def _subschema(self, schema_path: list[Any]) -> Any:
        node: Any = self.doctype.schema
        for part in schema_path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def _custom_message(self, schema_path: list[Any]) -> str | None:
        # The keyword that failed sits in a subschema; its x-message, or its
        # parent's, says in words what the rule wants.
        for cut in (len(schema_path) - 1, len(schema_path)):
            node = self._subschema(schema_path[:cut])
            if isinstance(node, dict) and "x-message" in node:
                return str(node["x-message"])
        return None

    def _first_named(self, schema_path: list[Any]) -> str:
        node = self._subschema(schema_path)
        if isinstance(node, list):
            for alt in node:
                for name in alt.get("required", []) if isinstance(alt, dict) else []:
                    if name in self.colmap.by_field:
                        return str(name)
        return ""


def _with_cell_limit(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema, with no text field longer than a spreadsheet cell can be
    (a longer one comes from a broken or hostile file, not from a person)."""
    limited = dict(schema)
    for key in ("properties", "patternProperties"):
        if key in schema:
            limited[key] = {
                name: (
                    {**prop, "maxLength": MAX_CELL}
                    if prop.get("type", "string") == "string" and "maxLength" not in prop
                    else prop
                )
                for name, prop in schema[key].items()
            }
    return limited


def _describe(kind: str, err: Any, value: Any) -> tuple[str, dict[str, object]]:
    """The message key and parameters of a schema error, in the words of
    the spreadsheet (``kind`` is the name of jsonschema-rs's error kind)."""
    k = err.kind
    if kind == "Required":
        return "required", {}  # the caller names the field
    if kind == "Type":
        types = " or ".join(str(t) for t in getattr(k, "types", None) or [])
        return "type", {"types": types or "another type", "value": value}
    if kind == "Enum":
        options = getattr(k, "options", None)
        allowed = ", ".join(str(o) for o in options) if isinstance(options, list) else ""
        return "enum", {"value": value, "allowed": allowed}
    if kind == "Format":
        return "format", {"value": value, "format": getattr(k, "format", "")}
    if kind == "Pattern":
        return "pattern", {"value": value}
    if kind in ("MaxLength", "MinLength"):  # the text may be long: not in the message
        return _LIMITS[kind], {"limit": getattr(k, "limit", "?")}
    if kind in _LIMITS:
        return _LIMITS[kind], {"value": value, "limit": getattr(k, "limit", "?")}
    if kind in ("AnyOf", "OneOfNotValid"):
        return "incomplete", {}
    if kind == "Constant":
        return "const", {"value": value, "expected": getattr(k, "expected_value", None)}
    if kind == "MultipleOf":
        return "multiple-of", {"value": value, "step": getattr(k, "multiple_of", "?")}
    if kind == "Not":
        return "not", {"value": value}
    return "schema", {"detail": str(err.message)}


_LIMITS = {
    "MaxLength": "too-long",
    "MinLength": "too-short",
    "Minimum": "too-small",
    "ExclusiveMinimum": "too-small",
    "Maximum": "too-large",
    "ExclusiveMaximum": "too-large",
}


def validate_rows(doctype: DocType, colmap: ColumnMap, rows: list[MappedRow]) -> None:
    """The stage in one call: every row's schema errors on the row."""
    validator = RowValidator(doctype, colmap)
    for row in rows:
        validator.validate(row)


def validate_joined(
    doctype: DocType,
    colmap: ColumnMap,
    grouping: Grouping,
    head_map: ColumnMap,
    key_field: str,
) -> None:
    """Validate documents read from a header sheet and a lines sheet. A line
    row is validated with its document's header values; a problem with one
    of those belongs to the header sheet's row, said once."""
    validator = RowValidator(doctype, colmap)
    on_head = set(head_map.by_field) - {key_field}
    for doc in grouping.documents:
        head = doc.rows[0]
        if len(doc.rows) == 1:  # no lines (an error already): check the header's own cells
            validator.validate(head)
            head.issues[:] = [i for i in head.issues if not doctype.is_line_field(i.field)]
        for line in doc.rows[1:]:
            validator.validate(line)
            _move_issues(line, head, on_head, head_map)


def _move_issues(line: MappedRow, head: MappedRow, fields: set[str], head_map: ColumnMap) -> None:
    moved = [i for i in line.issues if i.field in fields]
    if not moved:
        return
    line.issues[:] = [i for i in line.issues if i.field not in fields]
    known = {i.field for i in head.issues}
    for issue in moved:
        if issue.field not in known:
            known.add(issue.field)
            head.issues.append(
                replace(
                    issue,
                    row=head.number,
                    sheet=head.sheet,
                    column=head_map.header_for(issue.field),
                )
            )
