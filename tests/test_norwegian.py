"""The acceptance of real-world spreadsheets: a Norwegian accountant's
workbook (Norwegian headers, decimal commas, dd.mm.yyyy, title rows, a
header sheet and a lines sheet) and its cp1252 csv twin preview to the
same requests as the English canonical sample."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import TYPES
from records import preview_records
from test_two_sheets import split, write_workbook

from importer.batch import check, validation_report
from importer.doctypes import DocType, FieldSpec, PatternField, Registry

ROOT = Path(__file__).resolve().parents[1]
NBSP = "\u00a0"


def _english(name: str) -> list[list[str]]:
    with (ROOT / "samples" / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh, delimiter=";"))


def _norwegian_number(text: str) -> str:
    """``1240.50`` → ``1 240,50`` (no-break space), ``-7.5`` → ``-7,5``."""
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, decimals = text.partition(".")
    groups = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    whole = NBSP.join([whole, *groups])
    return sign + whole + ("," + decimals if decimals else "")


def norwegian(doctype: DocType, rows: list[list[str]]) -> list[list[str]]:
    """The same rows as a Norwegian export writes them: the first Norwegian
    (nb) alias of each column, dates as dd.mm.yyyy, decimal commas."""
    fields = [doctype.resolve_header(h) for h in rows[0]]
    specs = [doctype.spec_for(f) if f else None for f in fields]
    header = []
    for h, spec in zip(rows[0], specs, strict=True):
        assert spec is not None, h
        nb = _nb_aliases(doctype, spec)
        assert nb, f"{h} has no Norwegian alias"
        n = "2" if "2" in h else "1"
        header.append(nb[0].replace("{n}", n))
    out = [header]
    for row in rows[1:]:
        cells = []
        for value, spec in zip(row, specs, strict=True):
            assert spec is not None
            if value and spec.kind == "date":
                y, m, d = value.split("-")
                value = f"{d}.{m}.{y}"
            elif value and spec.kind == "number":
                value = _norwegian_number(value)
            cells.append(value)
        out.append(cells)
    return out


def _nb_aliases(doctype: DocType, spec: FieldSpec | PatternField) -> list[str]:
    if isinstance(spec, FieldSpec):
        prop = doctype.schema["properties"][spec.name]
    else:
        props = doctype.schema["patternProperties"].values()
        prop = next(p for p in props if p["x-column"] == spec.column)
    aliases = prop.get("x-aliases", {})
    return list(aliases.get("nb", [])) if isinstance(aliases, dict) else []


def _bodies(path: Path, doctype: DocType) -> list[tuple[str, object]]:
    prepared = check(path, doctype)
    report = validation_report(prepared)
    assert [i for r in report.results for i in r.issues if i.severity == "error"] == []
    return [(r["key"], r["body"]) for r in preview_records(prepared)]


TITLE = [["Fakturajournal mars 2025"], ["Eksportert fra Visma Global 05.04.2025"], []]


@pytest.mark.parametrize("name", TYPES)
def test_a_norwegian_workbook_and_its_cp1252_twin_preview_as_the_english_sample(
    name: str, tmp_path: Path
) -> None:
    doctype = Registry().get(name)
    english = _english(name)
    expected = _bodies(ROOT / "samples" / f"{name}.csv", doctype)
    assert expected

    rows = norwegian(doctype, english)
    if doctype.lines:
        key_header = next(h for h in rows[0] if doctype.resolve_header(h) in doctype.key_fields)
        heads, lines = split(doctype, rows, key_header)
        sheets = {"Fakturaer": TITLE + heads, "Linjer": TITLE[:1] + lines}
    else:
        sheets = {"Register": TITLE + rows}
    workbook = write_workbook(tmp_path / f"{name}.xlsx", sheets)
    assert _bodies(workbook, doctype) == expected

    twin = tmp_path / f"{name}.csv"
    with twin.open("w", encoding="cp1252", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(TITLE[:2] + rows)
    raw = twin.read_bytes()
    if max(raw) > 127:  # Nordic letters as cp1252 bytes, not UTF-8
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    assert _bodies(twin, doctype) == expected
