"""`vnimport template`: a workbook ready to fill, filled as a user would in
Excel with a sample's values, validates with no mapping file and previews to
the sample's own requests (and a golden case to Visma's example)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import TYPES
from openpyxl import load_workbook
from records import preview_records
from test_golden import ADDED, GOLDEN, same

from importer import write_template
from importer.batch import check
from importer.cli import main
from importer.doctypes import Registry
from importer.errors import ConfigError
from importer.mapping.columns import build_column_map, to_boolean
from importer.sources.files import read_table
from importer.template.workbook import REQUIRED_MARK, template_columns

LANGS = ("en", "nb", "sv")


def _dropdowns(book: Any, sheet: Any) -> dict[str, list[str]]:
    """Column letter -> the values its dropdown offers, read from the
    workbook as Excel reads it (an inline list, or a range of another sheet)."""
    found: dict[str, list[str]] = {}
    for check_ in sheet.data_validations.dataValidation:
        formula = check_.formula1
        if formula.startswith('"'):
            values = formula.strip('"').split(",")
        else:
            where, _, cells = formula.rpartition("!")
            source = book[where.strip("'").replace("''", "'")]
            values = [str(c.value) for (c,) in source[cells.replace("$", "")] if c.value]
        for ref in str(check_.sqref).split():
            letter = "".join(ch for ch in ref.split(":")[0] if ch.isalpha())
            found[letter] = values
    return found


def _typed(kind: str, text: str, words: list[str] | None, doctype: Any, name: str) -> Any:
    """A csv cell as a person enters it in Excel: a date, a number, a word
    picked from the dropdown, else the text."""
    if kind == "date":
        return dt.date.fromisoformat(text)
    if kind in ("number", "integer"):
        number = Decimal(text)
        return int(number) if kind == "integer" else float(number)
    if kind == "boolean":
        assert words is not None, name
        return words[0] if to_boolean(text) else words[1]
    if words is not None:
        meant = doctype.enum_value(name, text)
        picked = [w for w in words if doctype.enum_value(name, w) == meant]
        assert picked, (name, text, words)
        return picked[0]
    return text


def fill(template: Path, source: Path, doctype: Any, out: Path) -> Path:
    """The template with ``source``'s rows typed into its columns."""
    book = load_workbook(template)
    sheet = book.worksheets[0]
    columns = {doctype.resolve_header(str(c.value)): c.column_letter for c in sheet[1] if c.value}
    lists = _dropdowns(book, sheet)
    table = read_table(source)
    names = [doctype.resolve_header(h) for h in table.header]
    for row in table.rows:
        for name, cell in zip(names, row.cells, strict=True):
            if not str(cell).strip():
                continue
            assert name in columns, f"{name} is not a column of the template"
            letter = columns[name]
            spec = doctype.spec_for(name)
            value = _typed(spec.kind, str(cell), lists.get(letter), doctype, name)
            sheet[f"{letter}{row.number}"] = value
            if isinstance(value, str):
                sheet[f"{letter}{row.number}"].data_type = "s"
    book.save(out)
    return out


def _preview(path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> list[Any]:
    capsys.readouterr()
    assert main(["preview", str(path), "--type", name]) == 0, capsys.readouterr().err
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize("name", TYPES)
def test_a_template_is_ready_to_fill(name: str, registry: Registry, tmp_path: Path) -> None:
    doctype = registry.get(name)
    path = write_template(doctype, tmp_path / f"{name}.xlsx")
    book = load_workbook(path)
    assert book.sheetnames[:2] == [doctype.title, "Instructions"]
    sheet = book.worksheets[0]
    headers = [str(c.value) for c in sheet[1]]
    table = read_table(path)
    assert table.sheet == doctype.title and table.header == headers
    colmap = build_column_map(table, doctype)  # no mapping file, every required column found
    assert colmap.unknown == [] and len(colmap.by_field) == len(headers)
    for cell in sheet[1]:
        field = doctype.resolve_header(str(cell.value))
        required = field in doctype.required
        assert required == str(cell.value).endswith(REQUIRED_MARK) == bool(cell.font.b)
        assert cell.comment is not None and f": {field}" in cell.comment.text
        kind = doctype.spec_for(field).kind
        style = sheet.column_dimensions[cell.column_letter].number_format
        assert style == {"date": "yyyy-mm-dd", "number": "#,##0.00##", "integer": "0"}.get(
            kind, "@"
        )
    assert set(doctype.required) <= set(colmap.by_field)
    enums = [f for f, p in doctype.schema["properties"].items() if "enum" in p]
    flags = [f for f, spec in doctype.fields.items() if spec.kind == "boolean"]
    lists = _dropdowns(book, sheet)
    for field in enums + flags:
        values = lists[sheet.cell(1, colmap.by_field[field].index + 1).column_letter]
        allowed = doctype.schema["properties"][field].get("enum")
        if allowed is None:  # yes and no
            assert [to_boolean(v) for v in values] == [True, False], (field, values)
        else:  # a word for each of Visma's values, read back as it
            assert [doctype.enum_value(field, v) for v in values] == allowed, (field, values)
    instructions = book["Instructions"]
    said = " ".join(str(c.value) for (c,) in instructions.iter_rows(max_col=1) if c.value)
    assert f"vnimport validate {name}.xlsx --type {name}" in said
    if doctype.lines:
        assert "one row per line" in said


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", TYPES)
def test_a_template_filled_with_the_sample_validates_and_previews_to_its_requests(
    name: str,
    lang: str,
    registry: Registry,
    samples_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    doctype = registry.get(name)
    template = tmp_path / f"template-{lang}.xlsx"
    assert main(["template", name, "--out", str(template), "--lang", lang]) == 0
    sample = samples_dir / f"{name}.csv"
    filled = fill(template, sample, doctype, tmp_path / f"filled-{lang}.xlsx")
    report = tmp_path / "result"
    assert main(["validate", str(filled), "--type", name, "--report", str(report)]) == 0
    summary = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))
    assert summary["ok"], summary
    batch = check(filled, doctype)
    assert batch.warnings == [] and all(not r.issues for r in batch.rows)
    book = load_workbook(template, read_only=True)
    for extra in book.sheetnames[1:]:  # no other sheet could be read as the type's rows
        other = read_table(template, sheet=extra, is_header=doctype.looks_like_header)
        assert not doctype.looks_like_header(other.header), extra
    book.close()
    assert _preview(filled, name, capsys) == _preview(sample, name, capsys)


@pytest.mark.parametrize("name", TYPES)
def test_a_template_filled_with_a_golden_case_gives_vismas_example(
    name: str, registry: Registry, tmp_path: Path
) -> None:
    doctype = registry.get(name)
    template = write_template(doctype, tmp_path / "template.xlsx", lang="nb")
    filled = fill(template, GOLDEN / f"{name}.csv", doctype, tmp_path / "filled.xlsx")
    [record] = preview_records(check(filled, doctype))
    expected = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    assert same({**expected, **ADDED.get(name, {})}, record["body"]) == []


def test_a_type_of_ones_own_without_a_sample(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    folder = tmp_path / "types"
    folder.mkdir()
    schema = (root / "schemas" / "customer.schema.json").read_text(encoding="utf-8")
    (folder / "member.schema.json").write_text(schema, encoding="utf-8")
    template = (root / "templates" / "customer.json.j2").read_text(encoding="utf-8")
    (folder / "member.json.j2").write_text(template, encoding="utf-8")
    doctype = Registry([folder]).get("member")
    columns = template_columns(doctype)
    assert [c.field for c in columns] == list(doctype.fields)  # the schema's order
    assert {c.kind: c.example for c in columns if c.kind != "string"} == {
        "number": "1234.50",
        "integer": "1",
        "boolean": "Yes",
    }
    path = write_template(doctype, tmp_path / "out" / "member.xlsx")  # its folder is made
    assert build_column_map(read_table(path), doctype).unknown == []


def test_headers_notes_and_dropdowns_speak_the_language(registry: Registry) -> None:
    customer = registry.get("customer")
    nb = {c.field: c for c in template_columns(customer, lang="nb")}
    sv = {c.field: c for c in template_columns(customer, lang="sv")}
    assert nb["number"].header == "Kundenummer" and sv["number"].header == "Kundnummer"
    assert nb["name"].header == "Kundenavn *" and nb["name"].required
    assert nb["status"].values[:2] == ("Aktiv", "På vent") and nb["status"].example == "Aktiv"
    assert "Påkrevd." in nb["name"].note and "Eksempel: 010100" in nb["number"].note
    assert "tekst; en kode" in nb["number"].format
    flag = next(f for f, spec in customer.fields.items() if spec.kind == "boolean")
    assert nb[flag].values == ("Ja", "Nei") and sv[flag].values == ("Ja", "Nej")


def test_the_company_lists_become_dropdowns(registry: Registry, tmp_path: Path) -> None:
    doctype = registry.get("customer_invoice")
    vat = "invoiceLines.vatCodeId"
    choices = {vat: ["3", "31", "33", "5"], "currencyId": ["NOK", "SEK", "EUR"]}
    path = write_template(doctype, tmp_path / "t.xlsx", lang="sv", choices=choices)
    book = load_workbook(path)
    sheet = book.worksheets[0]
    assert book.sheetnames == [doctype.title, "Instruktioner", "Listor"]
    lists = _dropdowns(book, sheet)
    letters = {doctype.resolve_header(str(c.value)): c.column_letter for c in sheet[1]}
    assert lists[letters[vat]] == ["3", "31", "33", "5"]
    assert lists[letters["currencyId"]] == ["NOK", "SEK", "EUR"]
    assert book["Listor"]["A2"].data_type == "s"  # a code stays text
    with pytest.raises(ConfigError, match="not a column"):
        write_template(doctype, tmp_path / "u.xlsx", choices={"vatCode": ["3"]})


def test_preflight_fills_the_dropdowns_from_the_company(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.xlsx"
    argv = ["template", "purchase_order", "--out", str(path), "--preflight", "--target", "sandbox"]
    assert main(argv) == 0
    assert "preflight: " in capsys.readouterr().err
    doctype = registry.get("purchase_order")
    book = load_workbook(path)
    sheet = book.worksheets[0]
    letters = {doctype.resolve_header(str(c.value)): c.column_letter for c in sheet[1]}
    lists = _dropdowns(book, sheet)
    # the embedded sandbox's company (docs/sandbox.md, The company)
    assert {"51000", "51010"} <= set(lists[letters["supplier"]])
    assert {"000123", "FRAKT"} <= set(lists[letters["lines.inventory"]])
    assert "NOK" in lists[letters["currency"]] and "3000" in lists[letters["lines.account"]]
    assert lists[letters["lines.sub.1"]] == ["00", "10", "20", "30"]
    assert lists[letters["orderType"]][0] == "Regular"  # an enum keeps its words
    said = " ".join(str(c.value) for (c,) in book["Instructions"].iter_rows(max_col=1) if c.value)
    assert "are your company's" in said


def test_a_segment_beyond_the_first_two_is_a_column_of_its_own(registry: Registry) -> None:
    doctype = registry.get("customer_invoice")
    choices = {"invoiceLines.subaccount.3": ["X1", "X2"]}
    columns = {c.field: c for c in template_columns(doctype, lang="nb", choices=choices)}
    third = columns["invoiceLines.subaccount.3"]
    assert third.header == "Underkonto 3" and third.values == ("X1", "X2") and third.company
    assert "invoiceLines.subaccount.2" in columns
    for name in ("invoiceLines.subaccount.{n}", "Underkonto 3", "invoiceLines.subaccount.03"):
        with pytest.raises(ConfigError, match="not a column"):
            template_columns(doctype, choices={name: ["X1"]})


def test_a_bad_type_language_or_path_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(*argv: str) -> str:
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse refuses an option's value
            code = int(str(exc.code))
        assert code == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        return err

    assert "customer_invoice" in fails(
        "template", "customer_invoce", "--out", str(tmp_path / "a.xlsx")
    )
    assert "invalid choice: 'de'" in fails(
        "template", "customer", "--out", str(tmp_path / "a.xlsx"), "--lang", "de"
    )
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert "cannot write" in fails("template", "customer", "--out", str(blocker / "a.xlsx"))
    assert "name it .xlsx" in fails("template", "customer", "--out", str(tmp_path / "a.csv"))
    assert "exists" in fails("template", "customer", "--out", str(blocker))
    assert "folder" in fails("template", "customer", "--out", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no vnimport.toml, and no connection in the environment
    for name in ("BASE_URL", "TOKEN_URL", "CLIENT_ID", "CLIENT_SECRET", "TENANT_ID"):
        monkeypatch.delenv(f"VNIMPORT_{name}", raising=False)
    said = fails("template", "customer", "--out", str(tmp_path / "a.xlsx"), "--preflight")
    assert "--preflight reads the company's lists from Visma" in said
    assert not (tmp_path / "a.xlsx").exists()
