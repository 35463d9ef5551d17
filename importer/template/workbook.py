"""A workbook ready to fill for one document type (``vnimport template``).

The data sheet comes first, as it is the sheet vnimport reads by default.
Its row 1 holds every column of the type: the columns of the type's sample
first, in the sample's order, then the others, the document's before the
lines'. Each header is the first word the type knows for the column in the
chosen language (``x-aliases``), else its title, else its canonical name:
whichever the type reads back as that column, so that a filled template
needs no mapping file. A required column is bold and its header ends in
`` *``; headers are compared ignoring punctuation, so the mark is read away.

Each header carries a note: what the column means, its format and rules, an
example (from the type's sample, else one made from its kind) and the other
headers that mean it. A column with a fixed set of values has a dropdown:
an enum's words in the language (``x-enum-aliases``, else Visma's own),
yes and no for a yes/no column, and for any column given in ``choices``
the company's own values (read from Visma.net by the caller). Dates,
numbers and codes are formatted as such (a code column is text, so that
``0101`` keeps its zero). An instructions sheet follows, and the lists the
dropdowns take their values from.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from importer.doctypes import DocType, PatternField, normalize_header
from importer.errors import ConfigError, DocTypeError, VnimportError
from importer.template.texts import LANGUAGES, text

__all__ = ["LANGUAGES", "TemplateColumn", "company_choices", "template_columns", "write_template"]

SEGMENTS = 2  # columns given to each family of numbered columns (subaccount segments 1 and 2)
REQUIRED_MARK = " *"
LAST_ROW = 1_048_576  # a dropdown reaches every row Excel has
_DOCUMENT_FILL = "DDEBF7"  # blue: a document's own columns
_LINE_FILL = "E2EFDA"  # green: a line's own columns
_FORMATS = {"date": "yyyy-mm-dd", "number": "#,##0.00##", "integer": "0"}
_TEXT_FORMAT = "@"  # Excel keeps what is typed as text: 0101 stays 0101
_EXAMPLES = {"date": "2025-01-31", "number": "1234.50", "integer": "1"}
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
_LISTED = 12  # enum values a note names one by one


@dataclass(frozen=True, slots=True)
class TemplateColumn:
    """One column of a template, as written."""

    field: str  # canonical name: invoiceLines.quantity
    header: str  # as written in row 1, with the required mark
    kind: str  # string | number | integer | boolean | date
    required: bool
    line: bool  # a line's own column (types with lines)
    code: bool  # text that may start with 0
    format: str  # the format in words, in the template's language
    example: str  # "" when there is none
    meaning: str  # the schema's description, else in English the column's title
    values: tuple[str, ...] = ()  # the dropdown; () for none
    company: bool = False  # the dropdown holds the company's values (``choices``)
    note: str = ""  # the header's note


def template_columns(
    doctype: DocType,
    *,
    lang: str = "en",
    choices: Mapping[str, Sequence[str]] | None = None,
) -> list[TemplateColumn]:
    """The columns of ``doctype``'s template in ``lang`` (``en``, ``nb``,
    ``sv``), in order. ``choices`` maps a column's canonical name to the
    values the company allows in it (:func:`company_choices` reads them);
    they become its dropdown, and a member of a family of numbered columns
    (``invoiceLines.subaccount.3``) becomes a column. Raises
    :class:`ConfigError` for an unknown language, or for choices of a
    column the type does not have."""
    if lang not in LANGUAGES:
        raise ConfigError(
            f"there is no template language {lang!r}; the languages are {', '.join(LANGUAGES)}"
        )
    order, examples = _sample(doctype)
    given = _choices(doctype, choices or {})
    names = _column_names(doctype, [*order, *given])
    columns = []
    for name in names:
        spec = doctype.spec_for(name)
        assert spec is not None  # every name is one of the type's
        prop = _prop(doctype, spec)
        header = _header(doctype, name, spec, prop, lang)
        required = name in doctype.fields and doctype.fields[name].required
        company = name in given
        values = given.get(name) or _enum_words(doctype, name, prop, lang)
        if not values and spec.kind == "boolean":
            values = (text(lang, "yes"), text(lang, "no"))
        example = _example(doctype, name, spec.kind, examples.get(name, ""), values)
        column = TemplateColumn(
            field=name,
            header=header + REQUIRED_MARK if required else header,
            kind=spec.kind,
            required=required,
            line=doctype.is_line_field(name),
            code=spec.code,
            format=_format(spec.kind, spec.code, prop, lang),
            example=example,
            # a schema's descriptions and titles are English: a title says no
            # more than an English header does
            meaning=str(prop.get("description") or (spec.title if lang == "en" else "")),
            values=values,
            company=company,
        )
        aliases = _language_words(prop, lang, name, spec)
        columns.append(replace(column, note=_note(doctype, column, aliases, header, lang)))
    return columns


def write_template(
    doctype: DocType,
    path: str | os.PathLike[str],
    *,
    lang: str = "en",
    choices: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Write ``doctype``'s template to ``path`` (an ``.xlsx`` file, replaced
    whole if it exists; its folder is made) and return the path. ``lang``
    is the language of the headers, notes and instructions; ``choices``
    maps canonical column names to the company's values, for dropdowns.
    Raises :class:`ConfigError` when the path cannot be written."""
    p = Path(path)
    if p.suffix.lower() != ".xlsx":
        raise ConfigError(f"{p}: a template is an Excel workbook; name it .xlsx")
    columns = template_columns(doctype, lang=lang, choices=choices)
    book = _workbook(doctype, columns, lang, p.name)
    partial = p.with_name(p.name + ".partial")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        book.save(partial)
        partial.replace(p)
    except OSError as exc:
        raise ConfigError(f"cannot write {p}: {exc.strerror or exc}") from None
    finally:
        with suppress(OSError):  # a folder that is a file has no partial file either
            partial.unlink(missing_ok=True)
    return p


class CompanyLists(Protocol):
    """Where the company's lists are read: a
    :class:`importer.targets.lists.ListReader`, or anything with its ``get``."""

    def get(self, name: str) -> Any: ...


def company_choices(doctype: DocType, lists: CompanyLists) -> dict[str, list[str]]:
    """The company's values for each column of ``doctype`` that names a
    record of one of its lists (``x-reference``: VAT codes, currencies,
    branches, accounts, items, customers ...), read through ``lists`` (a
    ``ListReader``: each list once), for :func:`write_template`'s
    ``choices``. A family of subaccount segment columns gets one column for
    each segment the company has, with that segment's values. Financial
    periods are left out: a date is no pick from a list."""
    choices: dict[str, list[str]] = {}
    for ref in doctype.declared.references:
        if ref.list == "financialPeriod":
            continue
        records = lists.get(ref.list).records
        if not ref.pattern:
            choices[ref.field] = list(dict.fromkeys(str(r["key"]) for r in records))
            continue
        segments: dict[int, dict[str, None]] = {}
        for record in records:
            for segment in record.get("segments") or ():
                if isinstance(segment, dict) and "segmentId" in segment:
                    values = segments.setdefault(int(segment["segmentId"]), {})
                    values[str(segment.get("segmentValue") or "")] = None
        for number, values in sorted(segments.items()):
            values.pop("", None)
            choices[ref.field.replace("{n}", str(number))] = list(values)
    return choices


# ------------------------------------------------------------ the columns


def _sample(doctype: DocType) -> tuple[list[str], dict[str, str]]:
    """The canonical columns of the type's sample csv in its order, and the
    first value of each; nothing when the type has no readable sample."""
    from importer.sources.files import read_table

    folder = doctype.schema_path.parent
    places = [folder.parent / "samples"] if folder.name == "schemas" else []
    for place in [*places, folder]:
        path = place / f"{doctype.name}.csv"
        if not path.is_file():
            continue
        try:
            table = read_table(path)
            fields = [doctype.resolve_header(h) for h in table.header]
            examples: dict[str, str] = {}
            for row in table.rows:
                for name, cell in zip(fields, row.cells, strict=False):
                    if name is not None and name not in examples and str(cell).strip():
                        examples[name] = str(cell).strip()
        except VnimportError:
            return [], {}
        return [f for f in fields if f is not None], examples
    return [], {}


def _column_names(doctype: DocType, first: list[str]) -> list[str]:
    """Every column: the sample's in its order (then those given choices),
    then the others in the schema's; the document's before the lines'."""
    names = list(doctype.fields)
    for p in doctype.patterns:
        names += [p.column.replace("{n}", str(n)) for n in range(1, SEGMENTS + 1)]
    names += [n for n in dict.fromkeys(first) if n not in names]  # a segment beyond SEGMENTS
    rank = {n: i for i, n in enumerate(dict.fromkeys(first))}
    place = {n: rank.get(n, len(rank) + i) for i, n in enumerate(names)}
    return sorted(names, key=lambda n: (doctype.is_line_field(n), place[n]))


def _choices(doctype: DocType, choices: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """The values given for each column, checked: a field of the type, or a
    member of one of its families of numbered columns (segment 3)."""
    found: dict[str, tuple[str, ...]] = {}
    for name, values in choices.items():
        spec = doctype.spec_for(name)
        member = isinstance(spec, PatternField) and spec.match(normalize_header(name)) == name
        if name not in doctype.fields and not member:
            raise ConfigError(
                f"a list of values is given for {name!r}, which is not a column of the "
                f"{doctype.name} template"
            )
        if isinstance(values, str):
            raise ConfigError(f"the values for {name!r} must be a list of texts, not one text")
        kept = tuple(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))
        if kept:
            found[name] = kept
    return found


def _prop(doctype: DocType, spec: Any) -> dict[str, Any]:
    """The schema's own description of a column."""
    if isinstance(spec, PatternField):
        patterns = doctype.schema.get("patternProperties", {})
        return next((p for p in patterns.values() if p.get("x-column") == spec.column), {})
    prop: dict[str, Any] = doctype.schema.get("properties", {}).get(spec.name, {})
    return prop


def _language_words(prop: dict[str, Any], lang: str, name: str, spec: Any) -> list[str]:
    """The headers ``prop`` gives in ``lang``, with a numbered column's number."""
    given = prop.get("x-aliases")
    words = given.get(lang, []) if isinstance(given, dict) else []
    number = name.rsplit(".", 1)[-1] if isinstance(spec, PatternField) else ""
    return [w.replace("{n}", number) for w in words if isinstance(w, str)]


def _header(doctype: DocType, name: str, spec: Any, prop: dict[str, Any], lang: str) -> str:
    """The first of the language's first word, the title and the canonical
    name that the type reads as this column."""
    words = _language_words(prop, lang, name, spec)[:1]
    title = [] if isinstance(spec, PatternField) else [spec.title]
    for candidate in [*words, *title, name]:
        if doctype.resolve_header(candidate) == name:
            return str(candidate)
    raise DocTypeError(f"{doctype.schema_path}: no header of column {name!r} reads as it")


def _enum_words(doctype: DocType, name: str, prop: dict[str, Any], lang: str) -> tuple[str, ...]:
    """An enum's values in ``lang``: the first word the type gives for each,
    else Visma's own."""
    values = prop.get("enum")
    if not isinstance(values, list):
        return ()
    given = prop.get("x-enum-aliases")
    words = given.get(lang, {}) if isinstance(given, dict) else {}
    found = []
    for value in values:
        mine = [w for w, v in words.items() if v == value and doctype.enum_value(name, w) == value]
        found.append(mine[0] if mine else str(value))
    return tuple(found)


def _example(doctype: DocType, name: str, kind: str, sample: str, values: tuple[str, ...]) -> str:
    """The sample's value, in the dropdown's words when the column has one."""
    if sample and values and kind == "boolean":
        from importer.mapping.columns import ConversionError, to_boolean

        try:
            return values[0] if to_boolean(sample) else values[1]
        except ConversionError:
            return sample
    if sample and values:
        meant = doctype.enum_value(name, sample)
        return next((w for w in values if doctype.enum_value(name, w) == meant), sample)
    return sample or (values[0] if values else _EXAMPLES.get(kind, ""))


def _format(kind: str, code: bool, prop: dict[str, Any], lang: str) -> str:
    parts = [text(lang, "kind.code" if code and kind == "string" else f"kind.{kind}")]
    for keyword, key in (
        ("maxLength", "max-length"),
        ("minimum", "minimum"),
        ("maximum", "maximum"),
        ("exclusiveMinimum", "above"),
        ("exclusiveMaximum", "below"),
    ):
        if isinstance(prop.get(keyword), int | float):
            parts.append(text(lang, key, n=prop[keyword]))
    said = ", ".join(parts)
    rule = prop.get("x-message")
    return f"{said}; {rule}" if isinstance(rule, str) and rule else said


def _note(
    doctype: DocType, column: TemplateColumn, aliases: list[str], header: str, lang: str
) -> str:
    lines = [header]
    if column.required:
        lines.append(text(lang, "required"))
    if column.meaning and column.meaning != header:
        lines.append(column.meaning)
    lines.append(text(lang, "format", format=column.format))
    if column.values and column.kind != "boolean":
        if len(column.values) <= _LISTED:
            lines.append(text(lang, "one-of", values=", ".join(column.values)))
        else:
            lines.append(text(lang, "one-of-many", n=len(column.values)))
        if column.company:
            lines.append(text(lang, "company-list"))
    if column.example:
        lines.append(text(lang, "example", example=column.example))
    if doctype.lines is not None:
        lines.append(text(lang, "line-column" if column.line else "document-column"))
    lines.append(text(lang, "field", field=column.field))
    others = [a for a in aliases if a != header]
    if others:
        lines.append(text(lang, "aliases", aliases=", ".join(others)))
    return "\n".join(lines)


# ------------------------------------------------------------ the workbook


def _workbook(doctype: DocType, columns: list[TemplateColumn], lang: str, file: str) -> Any:
    from openpyxl import Workbook

    book = Workbook()
    data = book.active
    data.title = _NOT_IN_SHEET_NAMES.sub(" ", doctype.title).strip()[:31] or doctype.name[:31]
    instructions = book.create_sheet(text(lang, "instructions"))
    listed = [c for c in columns if c.values and (c.company or c.kind != "boolean")]
    lists = book.create_sheet(text(lang, "lists")) if listed else None
    _data_sheet(data, columns, lists, lang)
    _instructions_sheet(instructions, doctype, columns, lang, file, data.title, lists)
    book.active = 0
    return book


def _data_sheet(data: Any, columns: list[TemplateColumn], lists: Any, lang: str) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    listed = 0
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cell = data.cell(1, index)
        _put_text(cell, column.header)
        cell.font = Font(bold=column.required)
        cell.fill = PatternFill("solid", fgColor=_LINE_FILL if column.line else _DOCUMENT_FILL)
        width = 42 * 7  # pixels: about 42 characters a line
        lines = sum(max(1, math.ceil(len(x) / 42)) for x in column.note.splitlines())
        cell.comment = Comment(column.note, "vnimport", width=width, height=18 * lines + 12)
        dimension = data.column_dimensions[letter]
        dimension.width = min(40, max(12, len(column.header) + 4, len(column.example) + 2))
        dimension.number_format = _FORMATS.get(column.kind, _TEXT_FORMAT)
        if not column.values:
            continue
        if lists is not None and (column.company or column.kind != "boolean"):
            listed += 1
            where = _list_column(lists, listed, column, lang)
        else:
            where = '"' + ",".join(column.values) + '"'
        check = DataValidation(
            type="list",
            formula1=where,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle=text(lang, "not-listed-title"),
            error=text(lang, "not-listed"),
        )
        check.add(f"{letter}2:{letter}{LAST_ROW}")
        data.add_data_validation(check)
    data.freeze_panes = "A2"


def _list_column(lists: Any, index: int, column: TemplateColumn, lang: str) -> str:
    """Write ``column``'s values in column ``index`` of the lists sheet and
    return the range a dropdown takes them from. Its header is the column's
    with a word added, so that vnimport never takes the sheet for data."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(index)
    plain = column.header.removesuffix(REQUIRED_MARK)
    head = lists.cell(1, index)
    _put_text(head, f"{plain} ({text(lang, 'list')})")
    head.font = Font(bold=True)
    for row, value in enumerate(column.values, start=2):
        _put_text(lists.cell(row, index), value)
    longest = max(len(str(head.value)), *(len(v) for v in column.values))
    lists.column_dimensions[letter].width = min(50, longest + 2)
    lists.column_dimensions[letter].number_format = _TEXT_FORMAT
    sheet = "'" + lists.title.replace("'", "''") + "'"
    return f"{sheet}!${letter}$2:${letter}${len(column.values) + 1}"


def _instructions_sheet(
    sheet: Any,
    doctype: DocType,
    columns: list[TemplateColumn],
    lang: str,
    file: str,
    data: str,
    lists: Any,
) -> None:
    from openpyxl.styles import Font

    headers = {c.field: c.header.removesuffix(REQUIRED_MARK) for c in columns}
    either = text(lang, "or")
    keys = either.join(headers[k] for k in doctype.key_fields if k in headers) or "-"
    name = f'"{file}"' if re.search(r"\s", file) else file
    paragraphs = [text(lang, "intro", type=doctype.name, title=doctype.title)]
    if doctype.lines is not None:
        paragraphs += [text(lang, "rows.lines", sheet=data, keys=keys), text(lang, "colours")]
    else:
        paragraphs.append(text(lang, "rows.single", sheet=data, keys=keys))
    required = [headers[c.field] for c in columns if c.required]
    if required:
        paragraphs.append(text(lang, "required-columns", columns=", ".join(required)))
    paragraphs.append(text(lang, "notes"))
    if any(c.values for c in columns):
        paragraphs.append(text(lang, "dropdowns"))
    if lists is not None:
        paragraphs.append(text(lang, "lists-sheet", sheet=lists.title))
    company = [headers[c.field] for c in columns if c.company]
    if company:
        paragraphs.append(text(lang, "company-lists", columns=", ".join(company)))
    paragraphs += [
        text(lang, "formats"),
        text(lang, "headers", type=doctype.name),
        text(lang, "check", file=name, type=doctype.name),
    ]
    row = 1
    for paragraph in paragraphs:
        _put_text(sheet.cell(row, 1), paragraph)
        row += 1
    sheet.cell(1, 1).font = Font(bold=True, size=13)
    row += 1
    table = ("column", "required", "format", "example", "meaning")
    for index, key in enumerate(table, start=1):
        cell = sheet.cell(row, index)
        _put_text(cell, text(lang, f"table.{key}"))
        cell.font = Font(bold=True)
    yes = text(lang, "yes")
    for column in columns:
        row += 1
        meaning = "" if column.meaning == headers[column.field] else column.meaning
        cells = [column.header, yes if column.required else "", column.format, column.example]
        cells.append(meaning)
        if doctype.looks_like_header(cells):  # an example that is a header too: a reader
            # looking for the type's header row below a title must not stop here
            cells[1:] = ["" if doctype.resolve_header(c) else c for c in cells[1:]]
        for index, value in enumerate(cells, start=1):
            if value:
                _put_text(sheet.cell(row, index), value)
    for letter, width in zip("ABCDE", (34, 13, 48, 22, 80), strict=True):
        sheet.column_dimensions[letter].width = width


def _put_text(cell: Any, value: str) -> None:
    """A text cell, never a formula (a value may start with ``=``)."""
    cell.value = value
    cell.data_type = "s"
