"""Mapping rules: the user's own words for a file that is not in vnimport's.

A mapping file (``--mapping FILE``, TOML) says what the file's columns mean
when their headers are not names vnimport knows, which columns to leave out,
values to give every row, and old codes to new ones, and where in the
file the rows are when that is not where vnimport looks::

    sheet = "Ordrer"                      # the sheet to read (default: the first)
    header_row = 3                        # the header's row (default: found)
    skip = ["Kommentar", "column H"]      # left out, and only noted

    [columns]                             # a header to a field (its column
    "Antall stk" = "Quantity"             # name, any alias, or the field)
    "Pris eks. mva" = "Unit price"

    [constants]                           # the same value on every row
    "Branch" = "1"

    [values."VAT code"]                   # old code to new, for one field
    "Høy sats" = "3"
    "Lav sats" = "5"

    [values."Account"]
    file = "accounts.csv"                 # a two-column csv or xlsx: old, new

    [values."Customer number"]            # two columns of a wider file: a
    file = "customers-register.xlsx"      # run's register (vnimport runs
    from = "Key"                          # show RUN --out), old key to the
    to = "Visma number"                   # number Visma gave; a value it
                                          # lacks is an error on its cell
                                          # (unmapped = "keep": sent as is)

``--skip HEADER`` skips one more column. :func:`starter` writes a mapping
file for a file as it is: what matched, what might be meant, what is not
known. Every rule counts the cells it changed; the report says so, and the
cells the user wrote stay as they were in the report and the fix-me
workbook.
"""

from __future__ import annotations

import difflib
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.doctypes import DocType, normalize_header
from importer.errors import ConfigError

COLUMN_WORD = "column "  # "column H": a column by its letter (one without a header)


@dataclass(slots=True)
class Rules:
    """What a mapping file (and ``--skip``) say, not yet tied to a type."""

    columns: dict[str, str] = field(default_factory=dict)  # header as written -> target
    skip: list[str] = field(default_factory=list)
    constants: dict[str, str] = field(default_factory=dict)  # target -> text
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # target -> old -> new
    # target -> the file of a map that must know every value (a register):
    # a value it lacks is an error on its cell, never passed on as it is
    strict: dict[str, str] = field(default_factory=dict)
    sheet: str | None = None  # the sheet to read, when not the first
    header_row: int | None = None  # the header's row (from 1), when not the one found
    source: str = ""  # the mapping file, for messages
    applied: Counter[str] = field(default_factory=Counter)  # rule -> cells it changed

    def skips(self, header: str, letter: str) -> bool:
        """Whether the column ``letter`` with ``header`` is left out: by its
        header, or as "column H"."""
        wanted = {normalize_header(s) for s in self.skip}
        return (bool(header) and normalize_header(header) in wanted) or (
            normalize_header(COLUMN_WORD + letter) in wanted
        )

    def target_of(self, header: str) -> str | None:
        n = normalize_header(header)
        return next((t for h, t in self.columns.items() if normalize_header(h) == n), None)


def load_rules(
    path: str | Path | None, skip: Iterable[str] = (), *, name: str | None = None
) -> Rules | None:
    """The rules of the mapping file ``path`` and the ``skip`` headers;
    ``None`` when there are none. A file that is not what the format above
    says is a :class:`ConfigError` naming the key. Messages name the file
    ``name`` (an upload's own name, when ``path`` is where it is kept),
    else the file name of ``path``: never the folders it is in."""
    extra = [s for s in skip if s.strip()]
    if path is None:
        return Rules(skip=extra, source="--skip") if extra else None
    p = Path(path)
    label = name or p.name
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ConfigError(f"cannot read the mapping file {name or p}: {exc.strerror}") from None
    except RecursionError:  # tables in tables thousands deep: no mapping file is
        raise ConfigError(f"the mapping file {label} nests its tables too deep to read") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"the mapping file {label} is not valid TOML: {exc} (headers and values go in "
            'quotes: "Antall stk" = "Quantity")'
        ) from None
    known = ("sheet", "header_row", "skip", "columns", "constants", "values")
    for key in data:
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ConfigError(
                f"{label}: unknown key {key!r}{hint}; a mapping file has {', '.join(known)}"
            )
    rules = Rules(source=label)  # its name, not where it is kept: for messages
    sheet = data.get("sheet")
    if sheet is not None and (not isinstance(sheet, str) or not sheet.strip()):
        raise ConfigError(f'{label}: sheet is the name of a sheet, e.g. sheet = "Orders"')
    rules.sheet = sheet
    header_row = data.get("header_row")
    if header_row is not None and (
        isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1
    ):
        raise ConfigError(f"{label}: header_row is a row number from 1, e.g. header_row = 3")
    rules.header_row = header_row
    rules.skip = [*_texts(data.get("skip", []), label, "skip"), *extra]
    rules.columns = _table(data.get("columns", {}), label, "columns")
    rules.constants = _table(data.get("constants", {}), label, "constants")
    values = data.get("values", {})
    if not isinstance(values, dict):
        raise ConfigError(f'{label}: values are tables: [values."Field"] with "old" = "new"')
    for target, table in values.items():
        if not isinstance(table, dict):
            raise ConfigError(f'{label}: [values."{target}"] is a table of "old" = "new"')
        if "file" in table:
            columns = (str(table.get("from", "")), str(table.get("to", "")))
            rules.values[target] = _value_file(
                p.parent / str(table["file"]), label, target, columns, str(table["file"])
            )
            unmapped = table.get("unmapped", "error" if any(columns) else "keep")
            if unmapped not in ("error", "keep"):
                raise ConfigError(
                    f'{label}: [values."{target}"] unmapped is "error" (a value the file '
                    f'lacks is an error) or "keep" (it is sent as it is), not {unmapped!r}'
                )
            if unmapped == "error":
                rules.strict[target] = str(table["file"])
        else:
            rules.values[target] = _table(table, label, f'values."{target}"')
    return rules


def _texts(value: Any, label: str, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{label}: {key} is a list of headers, e.g. {key} = ["Kommentar"]')
    return list(value)


def _table(value: Any, label: str, key: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f'{label}: [{key}] is a table of "text" = "text"')
    out = {}
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise ConfigError(f'{label}: [{key}] {k!r} must be text, e.g. "{k}" = "..."')
        out[str(k)] = str(v)
    return out


def _value_file(
    path: Path, label: str, target: str, columns: tuple[str, str] = ("", ""), written: str = ""
) -> dict[str, str]:
    """Old and new values from a two-column csv or xlsx (a header row is
    allowed: it is what the first row is when it maps nothing), or, with
    ``from`` and ``to``, from those two columns of a wider one (a run's
    register: ``from = "Key"``, ``to = "Visma number"``)."""
    from importer.sources import open_table

    shown = written or path.name  # as the mapping file names it, not where it is kept
    where = f'{label}: [values."{target}"] file {shown}'
    try:
        table = open_table(path)
    except Exception as exc:  # the reader's own clear message
        raise ConfigError(f"{where}: {str(exc).replace(str(path), shown)}") from None
    if any(columns):
        return _value_columns(table, where, columns)
    pairs: dict[str, str] = {}
    for row in table.rows:
        cells = [_text(c) for c in row.cells]
        filled = [c for c in cells if c]
        if not filled:
            continue
        if len(cells) < 2 or not cells[0] or not cells[1] or len(filled) > 2:
            raise ConfigError(
                f'{label}: [values."{target}"] file {shown}, row {row.number}: two columns, '
                "the old value and the new one"
            )
        pairs[cells[0]] = cells[1]
    return pairs


def _value_columns(table: Any, where: str, columns: tuple[str, str]) -> dict[str, str]:
    """The pairs of two named columns; a row without a new value (a
    document the run did not create) maps nothing, so it is not guessed."""
    old_name, new_name = columns
    if not old_name or not new_name:
        raise ConfigError(f'{where}: give both from = "old column" and to = "new column"')
    names = [normalize_header(_text(c)) for c in table.header]
    at = []
    for name in columns:
        if normalize_header(name) not in names:
            found = ", ".join(_text(c) for c in table.header if _text(c))
            raise ConfigError(f"{where}: no column {name!r} in its header ({found or 'empty'})")
        at.append(names.index(normalize_header(name)))
    pairs: dict[str, str] = {}
    for row in table.rows:
        cells = [_text(c) for c in row.cells]
        old, new = (cells[i] if i < len(cells) else "" for i in at)
        if not old or not new:
            continue
        if pairs.get(old, new) != new:
            raise ConfigError(
                f"{where}, row {row.number}: {old!r} is paired with {pairs[old]!r} and {new!r}"
            )
        pairs[old] = new
    return pairs


def _text(cell: object) -> str:
    """A cell as the text it shows (a whole number without ``.0``)."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def resolve_target(doctype: DocType, target: str, rules: Rules, where: str) -> str:
    """The canonical field a rule names: the field itself, its column name,
    or any alias; a :class:`ConfigError` with the closest names otherwise."""
    if target in doctype.fields:
        return target
    found = doctype.resolve_header(target)
    if found is not None:
        return found
    close = suggest(doctype, target)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ConfigError(
        f"{rules.source}: {where} names {target!r}, which is not a field of "
        f"{doctype.title}{hint} (vnimport types {doctype.name} lists them)"
    )


def suggest(doctype: DocType, header: str, n: int = 3) -> list[str]:
    """The fields ``header`` might mean, closest first: by similarity to
    every name of every field, in every language, and by shared words."""
    names: dict[str, str] = {}  # normalized name -> field title
    words: dict[str, set[str]] = {}  # word -> titles of fields with it
    for spec in doctype.fields.values():
        control = doctype.declared.control(spec.name)
        if control is not None and control.kind != "line-amount":
            continue  # a control total, never sent: no guess for a column to import
        for name in (spec.title, spec.name.rsplit(".", 1)[-1], *spec.aliases):
            names.setdefault(normalize_header(name), spec.title)
            for word in name.replace(".", " ").split():
                if len(word) > 2:
                    words.setdefault(normalize_header(word), set()).add(spec.title)
    found: list[str] = []
    for word in header.split():  # a name the header holds as a word first ("Pris eks. mva")
        for title in sorted(words.get(normalize_header(word), ())):
            found.append(title)
    for hit in difflib.get_close_matches(normalize_header(header), list(names), n=10, cutoff=0.6):
        found.append(names[hit])
    return list(dict.fromkeys(found))[:n]


def mapping_starter(
    source: Any, doctype: DocType, *, sheet: str | None = None, encoding: str | None = None
) -> str:
    """:func:`starter` for the file ``source`` (a path or an upload)."""
    from importer.sources import open_table

    table = open_table(source, sheet=sheet, is_header=doctype.looks_like_header, encoding=encoding)
    rows = list(table.rows)
    width = max([len(table.header), *(len(r.cells) for r in rows)])
    header = [*table.header, *[""] * (width - len(table.header))]
    filled = [False] * width
    for row in rows:
        for index, cell in enumerate(row.cells):
            if cell is not None and cell != "":
                filled[index] = True
    return starter(doctype, header, filled)


def starter(doctype: DocType, header: list[str], has_values: list[bool]) -> str:
    """A mapping file for a file with ``header``: what vnimport matched (as
    comments), what it might be (a line to keep or change), and what it does
    not know (a line to fill in, or a skip)."""
    from importer.sources.files import column_letter

    matched, guessed, unknown, empty = [], [], [], []
    for index, name in enumerate(header):
        letter = column_letter(index)
        label = name or f"{COLUMN_WORD}{letter}"
        if not name:
            if has_values[index]:
                unknown.append(f"# {label} has values and no header: name it, or skip it")
            continue
        field_ = doctype.resolve_header(name)
        if field_ is not None:
            title = doctype.fields[field_].title if field_ in doctype.fields else field_
            matched.append(f"# {name!r} is {title}")
        elif not has_values[index]:
            empty.append(label)
        else:
            close = suggest(doctype, name, 1)
            if close:
                guessed.append(f'"{name}" = "{close[0]}"  # a guess: check it')
            else:
                unknown.append(f'# "{name}" = ""  # what is it? or add it to skip')
    lines = [
        f"# vnimport mapping for {doctype.name}: `vnimport validate FILE --type "
        f"{doctype.name} --mapping THIS`",
        "# Columns vnimport knows by their header:",
        *matched,
        "",
        f"skip = [{', '.join(repr(e).replace(chr(39), chr(34)) for e in empty)}]  # empty columns",
        "",
        "[columns]",
        *guessed,
        *unknown,
        "",
        "[constants]",
        '# "Branch" = "1"',
        "",
        '# [values."VAT code"]',
        '# "Høy sats" = "3"',
        "",
    ]
    return "\n".join(lines)


def mapping_text(
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    skip: Iterable[str] = (),
    columns: dict[str, str] | None = None,
    constants: dict[str, str] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    comment: str = "",
) -> str:
    """A mapping file (the format above) with these rules, as
    :func:`load_rules` reads it back: what a program that made the choices
    with the user (the web app's columns page) saves for next time."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    if sheet is not None:
        lines.append(f"sheet = {_quoted(sheet)}")
    if header_row is not None:
        lines.append(f"header_row = {int(header_row)}")
    lines.append(f"skip = [{', '.join(_quoted(s) for s in skip)}]")
    for name, table in (("columns", columns), ("constants", constants)):
        lines += ["", f"[{name}]"]
        lines += [f"{_quoted(k)} = {_quoted(v)}" for k, v in (table or {}).items()]
    for target, pairs in (values or {}).items():
        lines += ["", f"[values.{_quoted(target)}]"]
        lines += [f"{_quoted(k)} = {_quoted(v)}" for k, v in pairs.items()]
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's; DEL, which JSON
    leaves as it is and TOML refuses, is escaped too."""
    import json

    out = json.dumps(str(text), ensure_ascii=False)
    return "".join(c if ord(c) >= 0x20 and c != "\x7f" else f"\\u{ord(c):04x}" for c in out)
