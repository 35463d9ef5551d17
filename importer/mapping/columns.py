"""Map stage: headers become canonical fields, cell text becomes typed values.

The column map is built once per file from its header row; unknown columns
are warnings (never silently dropped), a missing required column or two
columns meaning the same field stop the file. Each row then becomes a
:class:`MappedRow`: ``values`` holds only the cells that are filled, typed as
the schema asks, ready for JSON Schema validation.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from operator import itemgetter
from typing import Any

from importer.codes import render
from importer.doctypes import DocType, normalize_header
from importer.errors import ColumnError, ConfigError
from importer.issues import RowIssue, Severity
from importer.mapping.dates import AmbiguousDates, DateError, column_order, from_serial, parse_date
from importer.mapping.numbers import AmbiguousColumn, NumberError, column_decimal, parse_number
from importer.mapping.rules import COLUMN_WORD, Rules, resolve_target, suggest
from importer.sources.files import Cell, ControlText, ExcelError, Row, Table, column_letter


class ConversionError(ValueError):
    """A cell that cannot be read as its field's type: the message ``key``
    (importer.codes.MESSAGES) with ``params``; ``code`` goes to the report."""

    def __init__(self, key: str, **params: object) -> None:
        self.message = render(key, params)
        super().__init__(self.message)
        self.key = key
        self.code = key.partition(".")[0]
        self.params = params


Converter = Callable[[Cell], Any]


@dataclass(frozen=True, slots=True)
class Column:
    index: int
    header: str  # as the user typed it
    field: str  # canonical
    convert: Converter


@dataclass(slots=True)
class ColumnMap:
    columns: list[Column]
    by_field: dict[str, Column]
    warnings: list[RowIssue] = field(default_factory=list)
    width: int = 0  # named columns end here; values right of them are reported
    unnamed: list[int] = field(default_factory=list)
    sheets: dict[str, ColumnMap] = field(default_factory=dict)  # joined sheets: each one's map
    unknown: list[tuple[int, str]] = field(default_factory=list)  # (index, header): no field
    skipped: set[int] = field(default_factory=set)  # columns the mapping rules leave out
    constants: dict[str, Any] = field(default_factory=dict)  # field -> value on every row

    @property
    def columns_set(self) -> frozenset[str]:
        """The fields the file gives: its columns', and the mapping's constants."""
        return frozenset(self.by_field).union(self.constants)

    def header_for(self, canonical: str) -> str:
        col = self.by_field.get(canonical)
        return col.header if col else canonical

    def header_in(self, sheet: str, canonical: str) -> str:
        """The header of ``canonical`` as typed on ``sheet`` (joined sheets
        may name the key column each in its own way)."""
        part = self.sheets.get(sheet)
        return (part or self).header_for(canonical)

    def issue(
        self, row: MappedRow, name: str, key: str, params: Mapping[str, object],
        severity: Severity = "error",
    ) -> RowIssue:  # fmt: skip
        """A problem on the cell of field ``name`` in ``row``: message ``key``
        (importer.codes.MESSAGES) with ``params``."""
        header = self.header_in(row.sheet, name)
        return RowIssue.from_key(row.number, header, key, params, severity, row.sheet, name)


@dataclass(slots=True)
class MappedRow:
    number: int
    sheet: str
    values: dict[str, Any]
    issues: list[RowIssue]
    cells: list[Cell]


# ---------------------------------------------------------- column map

MAX_NAMED = 5  # columns a message names one by one


def build_column_map(
    table: Table, doctype: DocType, *, check_required: bool = True, rules: Rules | None = None
) -> ColumnMap:
    """The fields of ``table``'s columns: by their headers, or as the
    mapping ``rules`` say. A column that maps to no field is kept in
    :attr:`ColumnMap.unknown` (whether it holds values decides, in
    :func:`refuse_unknown`, if it stops the file); one the rules skip is noted."""
    columns: list[Column] = []
    by_field: dict[str, Column] = {}
    warnings: list[RowIssue] = []
    seen_headers: dict[str, str] = {}
    unnamed: list[int] = []
    unknown: list[tuple[int, str]] = []
    skipped: set[int] = set()
    duplicates: list[str] = []
    for header, named in (rules.columns if rules is not None else {}).items():
        assert rules is not None  # every rule is checked, whether or not this file uses it
        resolve_target(doctype, named, rules, f"[columns] {header!r}")
    for index, header in enumerate(table.header):
        letter = column_letter(index)
        if rules is not None and rules.skips(header, letter):
            params = {"letter": letter, "header": header or letter, "source": rules.source}
            warnings.append(_warn(table, header, "skipped-column", params))
            skipped.add(index)
            continue
        if not header:
            unnamed.append(index)
            continue
        n = normalize_header(header)
        if n in seen_headers:
            unmapped = doctype.resolve_header(header) is None and (
                rules is None or rules.target_of(header) is None
            )
            if unmapped:  # neither would be imported: only its values decide (refuse_unknown)
                unknown.append((index, header))
            else:
                duplicates.append(f"{seen_headers[n]!r} and {header!r} (column {letter})")
            continue
        seen_headers[n] = header
        target = rules.target_of(header) if rules is not None else None
        if target is not None and rules is not None:
            canonical: str | None = resolve_target(doctype, target, rules, f"[columns] {header!r}")
        else:
            canonical = doctype.resolve_header(header)
        if canonical is None:
            unknown.append((index, header))
            continue
        if canonical in by_field:
            first = by_field[canonical].header
            duplicates.append(f"{first!r} and {header!r} (both mean {canonical})")
            continue
        spec = doctype.spec_for(canonical)
        assert spec is not None
        col = Column(index, header, canonical, converter_for(doctype, canonical, spec.kind))
        columns.append(col)
        by_field[canonical] = col
    if duplicates:
        raise ColumnError(
            f"{_where(table)}: the same column appears twice: {'; '.join(duplicates)}"
        )
    if rules is not None:  # a rule that matches nothing may be a typo: say so
        names = {normalize_header(h) for h in table.header if h}
        for skip in rules.skip:
            n = normalize_header(skip)
            if n not in names and not skip.lower().startswith(COLUMN_WORD):
                params = {"rule": f"skip {skip!r}", "source": rules.source}
                warnings.append(_warn(table, "", "mapping-unused", params))
        for header in rules.columns:
            if normalize_header(header) not in names:
                params = {"rule": f"[columns] {header!r}", "source": rules.source}
                warnings.append(_warn(table, "", "mapping-unused", params))
    constants = _constants(doctype, rules, by_field, _where(table))
    if check_required:
        _require(_where(table), doctype, {**by_field, **constants})
    for key, notes in table.notes:
        warnings.append(_warn(table, "", key, notes))
    colmap = ColumnMap(columns, by_field, warnings, len(table.header), unnamed)
    colmap.unknown = unknown
    colmap.constants = constants
    colmap.skipped = skipped
    return colmap


def _constants(
    doctype: DocType, rules: Rules | None, by_field: Mapping[str, Column], where: str
) -> dict[str, Any]:
    """The mapping rules' constants, by field, read as their fields' types."""
    if rules is None:
        return {}
    found: dict[str, Any] = {}
    for target, text in rules.constants.items():
        name = resolve_target(doctype, target, rules, f"[constants] {target!r}")
        if name in by_field:
            raise ConfigError(
                f"{rules.source}: [constants] gives {target!r} a value, and column "
                f"{by_field[name].header!r} of {where} holds it too: keep one of them"
            )
        spec = doctype.spec_for(name)
        assert spec is not None
        try:
            found[name] = converter_for(doctype, name, spec.kind)(text)
        except ConversionError as exc:
            raise ConfigError(f"{rules.source}: [constants] {target!r}: {exc.message}") from None
    return found


def refuse_unknown(
    table: Table, rows: list[Row], colmap: ColumnMap, doctype: DocType, rules: Rules | None
) -> None:
    """Stop the file when a column that maps to no field holds values: its
    values would be lost. The message names the column, the fields it might
    be, and the two ways on (map it, or skip it). Empty ones are only noted."""
    watched = [i for i, _ in colmap.unknown] + list(colmap.unnamed)
    width = colmap.width
    filled: set[int] = set()
    for row in rows:  # only the columns that map to nothing, and right of the header
        cells = row.cells
        for index in watched:
            cell = cells[index] if index < len(cells) else None
            if cell is not None and cell != "":
                filled.add(index)
        for index in range(width, len(cells)):
            if cells[index] is not None and cells[index] != "":
                filled.add(index)
    if rules is not None:  # right of the header: skipped by letter ("column H")
        for index in sorted(filled - colmap.skipped):
            letter = column_letter(index)
            if index >= colmap.width and rules.skips("", letter):
                colmap.skipped.add(index)
                params = {"letter": letter, "header": letter, "source": rules.source}
                colmap.warnings.append(_warn(table, "", "skipped-column", params))
    lost = [(i, h) for i, h in colmap.unknown if i in filled]
    lost += [
        (i, "")
        for i in sorted(filled)
        if (i in colmap.unnamed or i >= colmap.width) and i not in colmap.skipped
    ]
    for index, header in colmap.unknown:
        if index not in filled:
            params = {"letter": column_letter(index), "header": header, "doctype": doctype.title}
            colmap.warnings.append(_warn(table, header, "unknown-column.empty", params))
    if not lost:
        return
    lines = []
    for index, header in lost[:MAX_NAMED]:
        letter = column_letter(index)
        if header:
            close = suggest(doctype, header)
            might = f"; it might be {' or '.join(repr(c) for c in close)}" if close else ""
            lines.append(f"column {letter} {header!r} holds values and is not a field{might}")
        else:
            lines.append(f"column {letter} holds values and has no header")
    if len(lost) > MAX_NAMED:
        lines.append(f"and {len(lost) - MAX_NAMED} more such columns")
    index, header = lost[0]
    name = header or f"column {column_letter(index)}"
    if header:
        target = suggest(doctype, header, 1)
        example = f'[columns] "{name}" = "{target[0] if target else "Field"}"'
        mapped = f"map it in a mapping file (--mapping FILE, with {example}; "
        mapped += "`vnimport mapping` writes one)"
    else:
        mapped = "give it a header in the file (a field's name, or map it in a mapping file)"
    raise ColumnError(
        f"{_where(table)}: {'; '.join(lines)}. Its values would not be imported, so nothing "
        f'is: {mapped}, or leave it out (--skip "{name}", or skip = ["{name}"] in the '
        "mapping file)"
    )


def with_value_maps(colmap: ColumnMap, doctype: DocType, rules: Rules | None) -> None:
    """Columns whose old codes the rules turn into new ones read through the
    map (case and outer spaces aside); each rule counts the cells it changed.
    The row's cells keep what the user wrote."""
    if rules is None:
        return
    for target, pairs in rules.values.items():
        name = resolve_target(doctype, target, rules, f'[values."{target}"]')
        col = colmap.by_field.get(name)
        if col is None:
            continue  # a column this file does not have
        table = {k.strip().casefold(): (k, v) for k, v in pairs.items()}
        strict = rules.strict.get(target, "")
        column = Column(
            col.index,
            col.header,
            col.field,
            partial(_mapped, col.convert, table, rules, target, strict),
        )
        colmap.columns[colmap.columns.index(col)] = column
        colmap.by_field[name] = column


def _mapped(
    convert: Converter,
    table: dict[str, tuple[str, str]],
    rules: Rules,
    target: str,
    strict: str,
    cell: Cell,
) -> Any:
    text = str(int(cell)) if isinstance(cell, float) and cell.is_integer() else str(cell)
    hit = table.get(text.strip().casefold())
    if hit is None:
        if strict:  # a register that lacks it: the value is not guessed to be Visma's
            raise ConversionError("unmapped", value=text.strip(), file=strict, target=target)
        return convert(cell)
    old, new = hit
    rules.applied[f'[values."{target}"] {old!r} = {new!r}'] += 1
    return convert(new)


def _require(where: str, doctype: DocType, present: Mapping[str, object]) -> None:
    missing = [f for f in doctype.required if f not in present]
    if missing:
        names = ", ".join(_describe(doctype, f) for f in missing)
        raise ColumnError(f"{where}: required column missing: {names}")


def sheet_fields(header: list[str], doctype: DocType) -> set[str]:
    """The fields a header row names."""
    return {c for h in header if (c := doctype.resolve_header(h)) is not None}


def join_column_maps(
    doctype: DocType,
    head_table: Table,
    head: ColumnMap,
    lines_table: Table,
    lines: ColumnMap,
    key_field: str,
) -> ColumnMap:
    """One map for a document type read from two sheets: header fields from
    ``head``, line fields from ``lines``, the key from both. A column on the
    wrong sheet is not read, and the user is told."""

    def keep(part: ColumnMap, table: Table, other: Table, lines_here: bool) -> None:
        """Drop from ``part`` the columns that belong on ``other``."""
        for col in list(part.columns):
            if col.field == key_field or doctype.is_line_field(col.field) == lines_here:
                continue
            part.columns.remove(col)
            del part.by_field[col.field]
            part.warnings.append(
                _warn(
                    table,
                    col.header,
                    "other-sheet.header" if lines_here else "other-sheet.line",
                    {
                        "letter": column_letter(col.index),
                        "header": col.header,
                        "sheet": table.sheet,
                        "other": other.sheet,
                    },
                )
            )

    keep(head, head_table, lines_table, lines_here=False)
    keep(lines, lines_table, head_table, lines_here=True)
    by_field = {**lines.by_field, **head.by_field}
    _require(
        f"{head_table.path}, sheets {head_table.sheet!r} and {lines_table.sheet!r}",
        doctype,
        by_field,
    )
    return ColumnMap(
        [*head.columns, *lines.columns],
        by_field,
        [*head.warnings, *lines.warnings],
        sheets={head_table.sheet: head, lines_table.sheet: lines},
    )


def _describe(doctype: DocType, canonical: str) -> str:
    spec = doctype.fields[canonical]
    return f"{spec.title!r} ({canonical})" if spec.title != canonical else repr(canonical)


def _where(table: Table) -> str:
    return f"{table.name}" + (f", sheet {table.sheet!r}" if table.sheet else "")


def _warn(table: Table, header: str, key: str, params: Mapping[str, object]) -> RowIssue:
    return RowIssue.from_key(table.header_row, header, key, params, "warning", table.sheet)


def decide_date_orders(rows: list[Row], colmap: ColumnMap, order: str | None) -> None:
    """Give each date column the order of its slash dates (``31/01/2025`` or
    ``01/31/2025``): the locale's, else what its values settle; a column they
    cannot settle stops the file."""

    def choose(col: Column, texts: Iterator[str]) -> str | None:
        try:
            return column_order(texts)
        except AmbiguousDates as exc:
            if exc.other is not None:
                raise ColumnError(
                    f"column {col.header!r} has day-first ({exc.example!r}) and "
                    f"month-first ({exc.other!r}) dates; write them one way"
                ) from None
            raise ColumnError(
                f"column {col.header!r}: a date such as {exc.example!r} reads as day/month "
                "or as month/day; say which with --locale (nb_NO, sv_SE, en_GB: day "
                "first; en_US: month first), or write dates as 2025-01-31"
            ) from None

    _settle_columns(rows, colmap, (to_date,), "order", "dmy", order, choose)


def decide_number_formats(
    rows: list[Row], colmap: ColumnMap, decimal: str | None, locale: str | None = None
) -> None:
    """Give each number column of the file its decimal separator: the one
    its text values agree on, within what ``locale`` (or ``decimal``) says.
    A column that cannot be decided stops the file (ColumnError), as
    guessing would put a wrong amount in Visma: with ``nb_NO`` a lone
    ``1.234`` is asked about, not read as 1234."""

    def choose(col: Column, texts: Iterator[str]) -> str | None:
        try:
            return column_decimal(texts, locale=locale)
        except AmbiguousColumn as exc:
            if locale is not None and exc.mixed is not None:
                raise ColumnError(
                    f"column {col.header!r} has {exc.mixed!r}, which {locale} does not write "
                    "(its decimal separator is the other one): write the column the "
                    "locale's way, or check --locale"
                ) from None
            if locale is not None:
                raise ColumnError(
                    f"column {col.header!r}: {exc.example!r} could be a thousands separator "
                    f"or a decimal point under {locale}, and no other value of the column "
                    "says which: write 1234 or 1 234 for a whole number, or 1,234 for a "
                    "decimal"
                ) from None
            if exc.mixed is not None:
                raise ColumnError(
                    f"column {col.header!r} mixes number formats ({exc.example!r} and "
                    f"{exc.mixed!r}); write them one way, or say which with --locale"
                ) from None
            if "," in exc.example:
                raise ColumnError(
                    f"column {col.header!r}: a value such as {exc.example!r} could have a "
                    "decimal comma or a thousands separator; say which with --locale "
                    "(nb_NO, sv_SE, da_DK: 1 234,50; en_GB, en_US: 1,234.50)"
                ) from None
            raise ColumnError(
                f"column {col.header!r}: a value such as {exc.example!r} could have a "
                "decimal point or a thousands separator: with --locale en_GB (or en_US) "
                "it is a decimal point; for a whole number write it without the dot "
                "(1234 or 1 234)"
            ) from None

    given = None if locale is not None else decimal  # a locale: the column is asked too
    _settle_columns(rows, colmap, (to_number, to_integer), "decimal", ".", given, choose)


def _settle_columns(
    rows: list[Row],
    colmap: ColumnMap,
    converters: tuple[Converter, ...],
    keyword: str,
    usual: str,
    given: str | None,
    choose: Callable[[Column, Iterator[str]], str | None],
) -> None:
    """For each column read by one of ``converters``: the ``keyword`` it is
    read with, ``given`` (from the locale) or what ``choose`` makes of the
    column's text values; a column that needs other than ``usual`` gets a
    converter of its own."""
    for i, col in enumerate(colmap.columns):
        if col.convert not in converters:
            continue
        texts = (c for r in rows if type(c := r.cells[col.index]) is str)
        chosen = given if given is not None else choose(col, texts)
        if chosen is not None and chosen != usual:
            column = Column(
                col.index, col.header, col.field, partial(col.convert, **{keyword: chosen})
            )
            colmap.columns[i] = column
            colmap.by_field[col.field] = column


# ------------------------------------------------------------- mapping


def map_rows(rows: Iterable[Row], colmap: ColumnMap) -> Iterator[MappedRow]:
    # The innermost loop of the pipeline: plain tuples, and the cell type a
    # column mostly holds (text in text columns, floats in number columns,
    # dates in date columns) converted inline rather than through a call.
    spec = [(c.index, c.field, c.convert, _FAST.get(c.convert)) for c in colmap.columns]
    for row in rows:  # a column under no header holds no values (refuse_unknown)
        cells = row.cells
        values: dict[str, Any] = {}
        issues: list[RowIssue] = []
        for index, name, convert, fast in spec:
            cell = cells[index]
            if cell == "" or cell is None:
                continue
            value: Any
            if fast == _INLINE_TEXT and type(cell) is str:
                value = cell.strip() or None
            elif fast == _INLINE_FLOAT and type(cell) is float and -_EXACT < cell < _EXACT:
                value = int(cell) if cell.is_integer() else cell  # NaN, inf fail the range
            elif fast == _INLINE_DATE and type(cell) is dt.date:
                value = cell.isoformat()
            else:
                try:
                    if type(cell) is ExcelError:
                        raise ConversionError("excel-error", error=str(cell))
                    if type(cell) is ControlText:
                        raise ConversionError("control-character")
                    value = convert(cell)
                except ConversionError as exc:
                    header = colmap.by_field[name].header
                    issues.append(
                        RowIssue.from_key(
                            row.number, header, exc.key, exc.params, sheet=row.sheet, field=name
                        )
                    )
                    continue
            if value is not None:
                values[name] = value
        yield MappedRow(row.number, row.sheet, values, issues, cells)


def warn_bare_codes(rows: list[MappedRow], colmap: ColumnMap, doctype: DocType) -> None:
    """A code (customer, item, account number, postal code ...) that came
    from a number cell has lost any leading zero it had. Where the column
    says it may have had one (other values start with 0, or have more
    digits), the row gets a warning naming what the code may have been."""
    codes = [c for c in colmap.columns if getattr(doctype.spec_for(c.field), "code", False)]
    if not codes:
        return
    # The usual answer (no number cell in any code column) in one pass in C;
    # the first index twice makes itemgetter give a tuple even for one column.
    indices = [c.index for c in codes]
    cells = map(itemgetter(*indices, indices[0]), (r.cells for r in rows))
    kinds = set(map(type, chain.from_iterable(cells)))
    if int not in kinds and float not in kinds:
        return
    for col in codes:
        i = col.index
        numbers = [r for r in rows if type(r.cells[i]) in (int, float)]
        if not numbers:
            continue
        zero_led = next(
            (c for r in rows if type(c := r.cells[i]) is str and _ZERO_LED.match(c.strip())), None
        )
        longest = max(len(_digits(r.cells[i])) for r in rows)
        for row in numbers:
            digits = _digits(row.cells[i])
            if not digits or (zero_led is None and len(digits) >= longest):
                continue
            example = zero_led.strip() if zero_led else digits.zfill(longest)
            row.issues.append(
                RowIssue.from_key(
                    row.number,
                    col.header,
                    "number-code",
                    {
                        "header": col.header,
                        "digits": digits,
                        "example": example,
                        "padded": "0" * max(1, longest - len(digits)) + digits,
                    },
                    "warning",
                    row.sheet,
                    field=col.field,
                )
            )


_ZERO_LED = re.compile(r"0[0-9]")


def _digits(cell: Cell) -> str:
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return str(int(cell)) if cell >= 0 and float(cell).is_integer() else ""
    if isinstance(cell, str) and cell.strip().isdigit():
        return cell.strip()
    return ""


# ---------------------------------------------------------- converters


def to_string(cell: Cell) -> str | None:
    if isinstance(cell, str):
        s = cell.strip()
        return s or None
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float):
        if cell.is_integer():
            return str(int(cell))
        return repr(cell)
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat() if cell.time() == dt.time() else cell.isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell)


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def to_number(cell: Cell, decimal: str = ".") -> int | float | None:
    """A number cell as it is; text as written, with ``decimal`` as its
    decimal separator (decided for the whole column: decide_number_formats)."""
    if isinstance(cell, bool):
        raise ConversionError("type.number-bool", value=cell)
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        return _tidy(cell)
    if isinstance(cell, str):
        s = cell.strip()
        if not s:
            return None
        if decimal == "." and _NUMBER.fullmatch(s):  # the plain case, fast
            return _tidy(float(s))
        try:
            return _tidy(parse_number(s, decimal))
        except NumberError as exc:
            raise ConversionError(exc.key, **exc.params) from None
        except ValueError:
            raise ConversionError("type.number", text=s) from None
    raise ConversionError("type.number-cell", kind=type(cell).__name__)


# A code of upper-case letters only (a currency, ^[A-Z]{3}$; a country,
# ^[A-Z]{2}$), as Visma writes them: ``nok`` can only mean NOK.
_UPPER_CODE = re.compile(r"\^\[A-Z\]\{\d+(,\d+)?\}\$")
_LETTERS = re.compile(r"[A-Za-z]+")


def converter_for(doctype: DocType, name: str, kind: str) -> Converter:
    """How field ``name`` of ``doctype`` reads a cell: as its type, and a
    code that the schema writes in upper-case letters only (``pattern``
    ``^[A-Z]{3}$``) upper-cased, as an enum's words are read whatever
    their case: ``nok`` is NOK, not an error."""
    prop = doctype.schema.get("properties", {}).get(name)
    pattern = str(prop.get("pattern", "")) if isinstance(prop, dict) else ""
    if kind == "string" and _UPPER_CODE.fullmatch(pattern):
        return to_upper_code
    return CONVERTERS[kind]


def to_upper_code(cell: Cell) -> str | None:
    """A code of letters in upper case (``nok`` → ``NOK``); anything else as
    written, for the schema to refuse."""
    s = to_string(cell)
    return s.upper() if s is not None and _LETTERS.fullmatch(s) else s


def _tidy(x: float) -> int | float:
    if math.isnan(x) or math.isinf(x):
        raise ConversionError("type.number-infinite")
    return int(x) if x.is_integer() and abs(x) < _EXACT else x


def to_integer(cell: Cell, decimal: str = ".") -> int | None:
    n = to_number(cell, decimal)
    if n is None:
        return None
    if isinstance(n, float):
        raise ConversionError("type.whole", value=n)
    return n


_TRUE = {"true", "yes", "y", "1", "x", "ja", "j", "sann", "sant"}
_FALSE = {"false", "no", "n", "0", "nei", "nej", "usann", "falskt", "falsk"}


def to_boolean(cell: Cell) -> bool | None:
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, (int, float)) and cell in (0, 1):
        return bool(cell)
    if isinstance(cell, str):
        s = cell.strip().casefold()
        if not s:
            return None
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise ConversionError("type.boolean", text=cell.strip())
    if isinstance(cell, (int, float)):
        raise ConversionError("type.boolean-number", value=cell)
    raise ConversionError("type.boolean-cell", kind=type(cell).__name__)


def to_date(cell: Cell, order: str = "dmy") -> str | None:
    """An Excel date cell, an Excel date number, or a text date (slash dates
    in ``order``, decided for the whole column: decide_date_orders)."""
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    try:
        if isinstance(cell, (int, float)) and not isinstance(cell, bool):
            return from_serial(cell).isoformat()  # a date typed into a number cell
        if isinstance(cell, str):
            s = cell.strip()
            return parse_date(s, order).isoformat() if s else None
    except DateError as exc:
        raise ConversionError(exc.key, **exc.params) from None
    if isinstance(cell, (int, float)):  # True or False: a boolean cell
        raise ConversionError("invalid-date.number", value=cell)
    raise ConversionError("invalid-date.cell", kind=type(cell).__name__)


_EXACT = 2.0**53  # beyond this a float no longer holds every whole number

CONVERTERS: dict[str, Converter] = {
    "string": to_string,
    "number": to_number,
    "integer": to_integer,
    "boolean": to_boolean,
    "date": to_date,
}

# The cell type each converter mostly meets, handled inline by map_rows: text
# in text columns, floats in number columns (NaN and infinity fail the range
# test and take the checked path), date cells (not datetimes) in date columns.
_INLINE_TEXT, _INLINE_FLOAT, _INLINE_DATE = 1, 2, 3
_FAST: dict[Converter, int] = {
    to_string: _INLINE_TEXT,
    to_number: _INLINE_FLOAT,
    to_date: _INLINE_DATE,
}
