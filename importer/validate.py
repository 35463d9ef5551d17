"""Validate stage: every error of a row against the type's JSON Schema,
and the checks the type declares beyond it.

jsonschema-rs does the checking (draft 2020-12, formats on). A valid row
costs one ``is_valid`` call; only invalid rows are walked for their errors,
each turned into a :class:`RowIssue` on the column the user typed, with a
message in the words of the spreadsheet rather than of JSON Schema.

Before that, a row's values are put in Visma's words: an enum cell typed in
Norwegian or Swedish (``Aktiv``) becomes Visma's value (``Active``), and
several e-mail addresses in one cell are joined by ``;``. After it, the
checks of :mod:`importer.checks` (control totals, dates, signs, e-mail
addresses) add their issues on the cell they concern; a document's total
is checked against its lines once every row is validated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from decimal import Decimal
from typing import Any

import jsonschema_rs

from importer.checks import (
    CENT,
    LINE_KINDS,
    Check,
    Control,
    Formula,
    decimal,
    line_sum,
    message_fields,
    money,
)
from importer.doctypes import DocType, normalize_header
from importer.group import Document, Grouping
from importer.issues import RowIssue, Severity
from importer.mapping.columns import ColumnMap, MappedRow
from importer.sources.files import MAX_CELL


class RowValidator:
    def __init__(self, doctype: DocType, colmap: ColumnMap) -> None:
        self.doctype = doctype
        self.colmap = colmap
        declared = doctype.declared
        present = colmap.by_field
        self._emails = [c for c in declared.checks if c.rule == "emails" and c.field in present]
        # Unknown columns never reach the instance, so additionalProperties in
        # the schema concerns only the file's own mapped fields.
        self._validator = jsonschema_rs.Draft202012Validator(
            _for_rows(doctype.schema, {c.field for c in self._emails}), validate_formats=True
        )
        self._enums = [
            (name, words, frozenset(words.values()))
            for name, words in declared.enum_words.items()
            if name in present
        ]
        self._checks = [
            c
            for c in declared.checks
            if c.rule != "emails" and c.field in present and (not c.than or c.than in present)
        ]
        # (check, the fields it reads): a check is skipped when one has an issue
        self._controls = [
            (c, frozenset({c.field, c.amount, *_members(c.formula)}) - {""})
            for c in declared.controls
            if c.kind in LINE_KINDS and c.formula is not None and c.field in present
        ]
        # Discount percent and amount given together must agree, control column or not.
        formulas = {c.formula for c in declared.controls if c.formula is not None}
        self._discounts = [
            (f, frozenset(_members(f)))
            for f in sorted(formulas, key=lambda f: f.discount_amount)
            if f.discount_percent in present and f.discount_amount in present
        ]
        self._any_check = bool(self._emails or self._checks or self._controls or self._discounts)

    def prepare(self, row: MappedRow) -> None:
        """Put the row's values in Visma's words, in place (the request is
        rendered from them): an enum's word in another language becomes
        Visma's (x-enum-aliases), several e-mail addresses are joined by ``;``."""
        values = row.values
        for name, words, canonical in self._enums:
            value = values.get(name)
            if isinstance(value, str) and value not in canonical:
                values[name] = words.get(normalize_header(value), value)
        for check in self._emails:
            value = values.get(check.field)
            if isinstance(value, str) and _SEPARATOR.search(value):
                parts = addresses(value)
                if parts and check.several and all(map(_EMAIL.is_valid, parts)):
                    values[check.field] = ";".join(parts)

    def validate(self, row: MappedRow) -> None:
        """Append the row's schema errors and the issues of the type's
        declared checks to ``row.issues``."""
        self.prepare(row)
        found: list[RowIssue] = []
        if not self._validator.is_valid(row.values):
            already = {i.field for i in row.issues}
            for err in self._validator.iter_errors(row.values):
                issue = self._issue(row, err)
                if issue.field and issue.field in already:
                    continue  # the cell could not be read at all; that is said once
                found.append(issue)
        if self._any_check:
            known: AbstractSet[str] = (
                {i.field for i in row.issues} | {i.field for i in found}
                if row.issues or found
                else _NONE
            )
            found += self._declared_issues(row, known)
        if found:
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

    # ------------------------------------------------- declared checks

    def _declared_issues(self, row: MappedRow, known: AbstractSet[str]) -> list[RowIssue]:
        """The issues of the type's declared checks (importer.checks); a
        check is skipped when a cell it reads already has an issue. Each
        check first asks the one question most rows answer no to."""
        found: list[RowIssue] = []
        values = row.values
        for control, reads in self._controls:
            if values.get(control.field) is not None and known.isdisjoint(reads):
                found += self._control(row, control)
        for formula, reads in self._discounts:
            if values.get(formula.discount_amount) is not None and known.isdisjoint(reads):
                found += self._discount(row, formula)
        for check in self._checks:
            value = values.get(check.field)
            if value is None or check.field in known or check.than in known:
                continue
            if check.rule == "not-before":
                limit = values.get(check.than)
                if isinstance(value, str) and isinstance(limit, str) and value < limit:
                    params: dict[str, object] = {"than": self._title(check.than), "limit": limit}
                    found.append(self._broken(row, check, value, params))
            elif check.rule == "not-negative" and type(value) in (int, float) and value < 0:
                found.append(self._broken(row, check, value, {}))
        for check in self._emails:
            value = values.get(check.field)
            if isinstance(value, str) and check.field not in known:
                if _SEPARATOR.search(value) is None and _EMAIL.is_valid(value):
                    continue  # one good address: the usual answer
                found += self._addresses(row, check, value)
        return found

    def _flag(
        self,
        row: MappedRow,
        name: str,
        key: str,
        params: dict[str, object],
        level: Severity = "error",
    ) -> RowIssue:
        return self.colmap.issue(row, name, key, params, level)

    def _broken(
        self, row: MappedRow, check: Check, value: object, more: dict[str, object]
    ) -> RowIssue:
        """The issue of a rule of x-checks, with the parameters its message names."""
        params = {"title": self._title(check.field), "value": value, **more}
        wanted = message_fields(check.key)
        params = {k: v for k, v in params.items() if k in wanted}
        return self._flag(row, check.field, check.key, params, check.level)

    def _title(self, name: str) -> str:
        spec = self.doctype.fields.get(name)
        return spec.title if spec else name

    def _control(self, row: MappedRow, control: Control) -> list[RowIssue]:
        values = row.values
        name, formula = control.field, control.formula
        value = decimal(values.get(name))
        if value is None or formula is None:
            return []
        params: dict[str, object] = {"title": self._title(name), "value": values[name]}
        amount = decimal(values.get(control.amount)) if control.amount else None
        if amount is not None:  # the line's own amount is what Visma books
            if abs(value - amount) <= CENT:
                return []
            params |= {"amount": self._title(control.amount), "given": values[control.amount]}
            return [self._flag(row, name, "control-total.amount", params)]
        computed = line_sum(formula, values)
        if computed is not None:
            if abs(value - computed.net) <= CENT:
                return []
            params |= {"formula": computed.text, "expected": money(computed.net)}
            return [self._flag(row, name, "control-total.line", params)]
        if control.kind != "line-total":
            return []  # the line's amount itself: nothing to check it against
        if formula.quantity in values:  # Visma takes the item's price: the total is unsure
            params["price"] = self._title(formula.price)
            return [self._flag(row, name, "control-total.unchecked", params, "warning")]
        missing = [f for f in (formula.quantity, formula.price) if f not in values]
        params["missing"] = " and ".join(self._title(f) for f in missing)
        if control.amount:
            params["amount"] = self._title(control.amount)
            return [self._flag(row, name, "control-total.no-basis", params)]
        return [self._flag(row, name, "control-total.no-basis-plain", params)]

    def _discount(self, row: MappedRow, formula: Formula) -> list[RowIssue]:
        values = row.values
        given = decimal(values.get(formula.discount_amount))
        computed = line_sum(formula, values)
        if (
            given is None
            or computed is None
            or computed.percent_discount is None
            or abs(given - computed.percent_discount) <= CENT
        ):
            return []
        params: dict[str, object] = {
            "title": self._title(formula.discount_amount),
            "value": values[formula.discount_amount],
            "percent": values[formula.discount_percent],
            "gross": money(computed.gross),
            "expected": money(computed.percent_discount),
        }
        return [self._flag(row, formula.discount_amount, "control-total.discount", params)]

    def _addresses(self, row: MappedRow, check: Check, value: str) -> list[RowIssue]:
        """E-mail addresses, one or several as the field allows, each checked
        as the schema's ``email`` format would check one."""
        parts = addresses(value)
        if len(parts) > 1 and not check.several:
            return [self._broken(row, check, value, {"count": len(parts)})]
        return [
            self._flag(row, check.field, "format", {"value": part, "format": "email"})
            for part in parts or [value]
            if not _EMAIL.is_valid(part)
        ]


_NONE: frozenset[str] = frozenset()
_SEPARATOR = re.compile(r"[;,]")
_EMAIL = jsonschema_rs.Draft202012Validator(
    {"type": "string", "format": "email"}, validate_formats=True
)


def addresses(text: str) -> list[str]:
    """The e-mail addresses of a cell, separated by ``;`` or ``,``."""
    return [p.strip() for p in _SEPARATOR.split(text) if p.strip()]


def _members(formula: Formula) -> tuple[str, ...]:
    return tuple(
        f
        for f in (
            formula.quantity,
            formula.price,
            formula.discount_percent,
            formula.discount_amount,
        )
        if f
    )


def _for_rows(schema: dict[str, Any], emails: set[str]) -> dict[str, Any]:
    """The schema as rows are checked against it: no text field longer than
    a spreadsheet cell can be (a longer one comes from a broken or hostile
    file, not from a person), and no ``email`` format on the fields an
    ``emails`` check reads address by address."""
    limited = dict(schema)
    for key in ("properties", "patternProperties"):
        if key in schema:
            props = {}
            for name, prop in schema[key].items():
                if prop.get("type", "string") == "string" and "maxLength" not in prop:
                    prop = {**prop, "maxLength": MAX_CELL}
                if name in emails and prop.get("format") == "email":
                    prop = {k: v for k, v in prop.items() if k != "format"}
                props[name] = prop
            limited[key] = props
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


def validate_rows(
    doctype: DocType,
    colmap: ColumnMap,
    rows: list[MappedRow],
    grouping: Grouping | None = None,
) -> None:
    """The stage in one call: every row's schema errors and declared checks
    on the row; with the ``grouping`` the rows were grouped by, each
    document's total against its lines too (:func:`check_documents`)."""
    validator = RowValidator(doctype, colmap)
    for row in rows:
        validator.validate(row)
    if grouping is not None:
        check_documents(doctype, colmap, grouping.documents)


def check_documents(doctype: DocType, colmap: ColumnMap, documents: Iterable[Document]) -> None:
    """A document total (``x-control`` of kind document-total) against the
    sum of the document's lines: an error on the total's cell of the
    document's first row when they disagree by more than 0.01 a line; a
    warning when a line's amount cannot be known (Visma takes its price
    from the item)."""
    declared = doctype.declared
    totals = [
        c for c in declared.controls if c.kind == "document-total" and c.field in colmap.by_field
    ]
    for doc in documents if totals else ():
        head, lines = doc.rows[0], doc.rows[doc.lines_from :]
        for control in totals:
            line = declared.control(control.of)
            assert line is not None and line.formula is not None  # checked at load
            issue = _document_total(doctype, colmap, control, line, head, lines)
            if issue is not None:
                head.issues.append(issue)


def _document_total(
    doctype: DocType,
    colmap: ColumnMap,
    control: Control,
    line: Control,
    head: MappedRow,
    lines: Sequence[MappedRow],
) -> RowIssue | None:
    name = control.field
    value = decimal(head.values.get(name))
    if value is None or not lines or any(i.field == name for i in head.issues):
        return None
    title = doctype.fields[name].title
    column = colmap.header_in(head.sheet, name)
    params: dict[str, object] = {"title": title, "value": head.values[name]}
    own = [f for f in (line.amount, line.field) if f]  # the line's amount as typed
    assert line.formula is not None
    total = Decimal(0)
    for row in lines:
        amount = next((d for f in own if (d := decimal(row.values.get(f))) is not None), None)
        if amount is None:
            computed = line_sum(line.formula, row.values)
            amount = computed.net if computed is not None else None
        if amount is None:  # the item's price, which only Visma knows
            params |= {
                "row": row.number,
                "quantity": doctype.fields[line.formula.quantity].title,
                "price": doctype.fields[line.formula.price].title,
            }
            key = "control-total.document-unchecked"
            return RowIssue.from_key(head.number, column, key, params, "warning", head.sheet, name)
        total += amount
    if abs(value - total) <= CENT * len(lines):
        return None
    params |= {"count": len(lines), "expected": money(total)}
    key = "control-total.document"
    return RowIssue.from_key(head.number, column, key, params, sheet=head.sheet, field=name)


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
        else:  # checked on its lines, with whose values it is sent
            validator.prepare(head)
        for line in doc.rows[1:]:
            validator.validate(line)
            _move_issues(line, head, on_head, head_map)
    check_documents(doctype, colmap, grouping.documents)


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
