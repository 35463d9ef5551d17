"""What a Norwegian accountant's first try of the app found: a header under a
title row, server paths in messages and reports, a currency in lower case.
(Whole kroner written ``1 250,-`` are in test_numbers.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import write_csv, write_xlsx
from openpyxl import load_workbook

from importer import Job, Journal, check, load_type, run_job
from importer.batch import validation_report
from importer.mapping.rules import load_rules
from importer.sources import open_table
from importer.sources.rows import table_from_rows

HEADER = ["Kundenr", "Kundenavn", "Org.nr", "Adresse", "Postnr", "Poststed", "E-post"]
CUSTOMERS: list[list[object]] = [
    HEADER,
    ["10001", "Fjord AS", "912345678", "Storgata 1", "0150", "Oslo", "post@fjord.no"],
    ["10002", "Fjell AS", "923456789", "Bakken 2", "5003", "Bergen", "post@fjell.no"],
]
TITLED: list[list[object]] = [["Kundeliste april"], [], *CUSTOMERS]


def _files(folder: Path, rows: list[list[object]]) -> list[Path]:
    return [write_xlsx(folder / "kunder.xlsx", rows), write_csv(folder / "kunder.csv", rows)]


# ------------------------------------------------- a title row above the header


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_header_under_a_title_row_is_found_without_a_type(tmp_path: Path, kind: str) -> None:
    """The web app reads the header before it knows the type (to suggest
    one): the title row was taken for the header, no column named a field."""
    from importer.doctypes import Registry
    from importer.web.batches import suggest_type

    path = {p.suffix: p for p in _files(tmp_path, TITLED)}["." + kind]
    table = open_table(path)
    assert (table.header_row, table.header) == (3, HEADER)
    assert [r.number for r in table.rows] == [4, 5]
    assert suggest_type(path, Registry()) == "customer"


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_customer_list_under_a_title_row_is_read_whole(tmp_path: Path, kind: str) -> None:
    path = {p.suffix: p for p in _files(tmp_path, TITLED)}["." + kind]
    batch = check(path, load_type("customer"))
    assert batch.table.header_row == 3
    assert [(r.values["number"], r.values["name"]) for r in batch.rows] == [
        ("10001", "Fjord AS"),
        ("10002", "Fjell AS"),
    ]
    assert all(i.severity != "error" for r in batch.rows for i in r.issues)


def test_a_header_on_row_1_stays_the_header(tmp_path: Path) -> None:
    for path in _files(tmp_path, CUSTOMERS):
        assert open_table(path).header_row == 1
    # a narrow header over wider rows of values is still the header: the
    # rows below it hold numbers, so they are no header
    narrow: list[list[object]] = [["Kundenr", "Navn"], ["1", "A", "3", "4", "5"], ["2", "B"]]
    for path in _files(tmp_path, narrow):
        assert open_table(path).header_row == 1
    # and a title above a row of numbers is no title: nothing is skipped
    numbers: list[list[object]] = [["Kundenr"], ["1", "2", "3"], ["4", "5", "6"]]
    for path in _files(tmp_path, numbers):
        assert open_table(path).header_row == 1
    # rows given as a header and rows: the first is the header, always
    table = table_from_rows(["Kundenr"], [["Kundenr", "Kundenavn"]])
    assert table.header == ["Kundenr"]


# ------------------------------------------- server paths out of what users read


SKIP_SALES = 'skip = ["Selgerkode"]\n'


def _stored(tmp_path: Path) -> tuple[Path, Path]:
    """A file and its mapping as the web app keeps them: under a folder of
    the server, named by the batch's id."""
    uploads = tmp_path / "srv" / "vnimport" / "uploads"
    uploads.mkdir(parents=True)
    rows = [[*CUSTOMERS[0], "Selgerkode"], *[[*r, "S1"] for r in CUSTOMERS[1:]]]
    src = write_xlsx(uploads / "b7f3.xlsx", rows)
    mapping = uploads / "b7f3.mapping.toml"
    mapping.write_text(SKIP_SALES, encoding="utf-8")
    return src, mapping


def test_a_mapping_file_is_named_by_its_name_not_its_folders(tmp_path: Path) -> None:
    src, mapping = _stored(tmp_path)
    batch = check(src, load_type("customer"), mapping=mapping)
    [said] = [w.message for w in batch.warnings if w.code == "skipped-column"]
    assert said == "column H 'Selgerkode' is left out, as b7f3.mapping.toml says"
    summary = validation_report(batch).summary()
    assert summary["mapping"]["file"] == "b7f3.mapping.toml"
    assert "srv" not in json.dumps(summary["warnings"])

    named = load_rules(mapping, name="kunder-mapping.toml")
    batch = check(src, load_type("customer"), mapping=named)
    [said] = [w.message for w in batch.warnings if w.code == "skipped-column"]
    assert said.endswith("as kunder-mapping.toml says")


def test_a_wrong_mapping_file_is_named_by_its_name(tmp_path: Path) -> None:
    from importer.errors import ConfigError

    src, mapping = _stored(tmp_path)
    mapping.write_text("colums = {}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as wrong:
        check(src, load_type("customer"), mapping=load_rules(mapping, name="mine.toml"))
    assert str(wrong.value).startswith("mine.toml: unknown key 'colums'")
    with pytest.raises(ConfigError) as wrong:
        check(src, load_type("customer"), mapping=mapping)
    assert str(wrong.value).startswith("b7f3.mapping.toml: unknown key")


def test_a_job_names_its_file_as_the_user_knows_it(tmp_path: Path) -> None:
    """The report, the journal's run and the reconciliation workbook say
    the user's file name, never where the server keeps it."""
    from importer.reconciliation.compare import reconcile
    from importer.reconciliation.workbook import write_reconciliation
    from importer.sandbox import Sandbox, SandboxConfig
    from importer.sandbox.process import demo_connection
    from importer.targets.client import VismaClient

    src, mapping = _stored(tmp_path)
    journal = tmp_path / "j.sqlite"
    job = Job(
        src,
        "customer",
        journal=str(journal),
        report=tmp_path / "report",
        mapping=mapping,
        name="Kundeliste april.xlsx",
        mapping_name="kunder.toml",
    )
    with Sandbox(SandboxConfig(company="empty")) as sb:
        conn = demo_connection(sb.url)
        result = run_job(job, connection=conn)
        assert result.exit_code == 0, result.problems()
        kept = Journal(journal)
        client = VismaClient(conn, workers=1)
        try:
            assert kept.runs(limit=1)[0].file == "Kundeliste april.xlsx"
            reconciled = reconcile(kept, "last", client, load_type("customer"))
        finally:
            kept.close()
            client.session.close()
    report = json.loads(result.paths["json"].read_text(encoding="utf-8"))
    assert report["source"] == "Kundeliste april.xlsx"
    assert report["mapping"]["file"] == "kunder.toml"
    assert [w["message"] for w in report["warnings"]] == [
        "column H 'Selgerkode' is left out, as kunder.toml says"
    ]
    for written in result.paths.values():
        if written.suffix in (".json", ".xlsx"):
            assert str(tmp_path) not in _text_of(written), written
    out = write_reconciliation(reconciled, tmp_path / "r.xlsx")
    assert _summary(out)["File"] == "Kundeliste april.xlsx"
    shown = write_reconciliation(reconciled, tmp_path / "r2.xlsx", file="kunder.xlsx")
    assert _summary(shown)["File"] == "kunder.xlsx"


def test_a_job_that_cannot_run_names_its_file_as_the_user_knows_it(tmp_path: Path) -> None:
    from importer.sandbox import Sandbox, SandboxConfig
    from importer.sandbox.process import demo_connection

    stored = tmp_path / "srv" / "uploads" / "b7f3.csv"
    job = Job(stored, "customer", journal=str(tmp_path / "j"), name="kunder.csv")
    gone = run_job(job, connection=None)
    assert gone.fatal is not None and gone.report.source == "kunder.csv"
    assert gone.fatal[1].startswith("kunder.csv: ") and "srv" not in gone.fatal[1]

    stored.parent.mkdir(parents=True, exist_ok=True)
    write_csv(stored, [["Kundenr", "Kundenavn", "Tull"], ["1", "A", "x"]])
    with Sandbox(SandboxConfig(company="empty")) as sb:
        refused = run_job(job, connection=demo_connection(sb.url))
    assert refused.fatal is not None and "srv" not in refused.fatal[1]
    assert refused.fatal[1].startswith("kunder.csv: ") and "Tull" in refused.fatal[1]


def _text_of(path: Path) -> str:
    if path.suffix == ".json":
        return path.read_text(encoding="utf-8")
    wb = load_workbook(path, read_only=True)
    try:
        return "\n".join(
            str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row if v
        )
    finally:
        wb.close()


def _summary(path: Path) -> dict[str, Any]:
    wb = load_workbook(path, read_only=True)
    try:
        return {row[0]: row[1] for row in wb["Summary"].iter_rows(values_only=True)}
    finally:
        wb.close()


# ---------------------------------------------------------- a currency in lower case


def test_a_currency_or_country_code_in_lower_case_is_read_in_capitals(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Kundenr", "Kundenavn", "Valuta", "Land"],
        ["10001", "Fjord AS", "nok", "no"],
        ["10002", "Fjell AS", " Sek ", "se"],
        ["10003", "Dal AS", "kr", "Norge"],
    ]
    batch = check(write_csv(tmp_path / "k.csv", rows), load_type("customer"))
    values = [(r.values["currencyId"], r.values["mainAddress.countryId"]) for r in batch.rows]
    assert values[:2] == [("NOK", "NO"), ("SEK", "SE")]
    assert all(not r.issues for r in batch.rows[:2])
    # not a code at all: refused as before, not guessed
    said = {(i.column, i.message) for i in batch.rows[2].issues}
    assert ("Valuta", "the currency is a three-letter code such as NOK, SEK or EUR") in said
    assert any(column == "Land" for column, _ in said)
