"""Nothing lost on the way in (issue 12): a column that holds values and maps
to no field stops the file; mapping files map headers, skip columns, give
constants and turn old codes into new ones; `vnimport mapping` writes a
starter. Real xlsx and csv files, and the sandbox over real sockets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from conftest import write_csv
from records import preview_records

from importer import VismaDestination, check, load_type, send, validation_report
from importer.errors import ColumnError, ConfigError
from importer.sandbox import Sandbox
from importer.sandbox.process import demo_connection
from importer.targets.client import VismaClient

# An accountant's own workbook: some headers vnimport knows, three it does not.
NORWEGIAN = [
    ["Eksternreferanse", "Kundenummer", "Fakturadato", "Varetekst", "Antall stk",
     "Pris eks. mva", "Kommentar"],
    ["FAK-1", "10000", "2025-03-03", "Kaffe, hele bønner", 12, 189.5, ""],
    ["FAK-1", "10000", "2025-03-03", "Filterpapir", 40, 24.9, ""],
    ["FAK-2", "10000", "2025-03-04", "Te, grønn", 3, 59, ""],
]  # fmt: skip
MAPPING = """
[columns]
"Eksternreferanse" = "External reference"
"Varetekst" = "Line description"
"Antall stk" = "Quantity"
"Pris eks. mva" = "invoiceLines.unitPriceInCurrency"
"""


def workbook(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def vnimport(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "importer", *args], cwd=cwd, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def test_columns_with_values_that_map_to_nothing_stop_the_file(tmp_path: Path) -> None:
    src = workbook(tmp_path / "faktura.xlsx", NORWEGIAN)
    done = vnimport("validate", str(src), "--type", "customer_invoice", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    said = done.stderr
    for header in ("Varetekst", "Antall stk", "Pris eks. mva"):
        assert f"{header!r} holds values and is not a field" in said
    assert "it might be 'Quantity'" in said  # "Antall" is Quantity's Norwegian name
    assert "--mapping FILE" in said and "--skip" in said
    assert "Kommentar" not in said.split("warning")[0]  # an empty column only noted
    assert "Traceback" not in said


def test_the_norwegian_workbook_imports_completely_with_a_mapping_file(tmp_path: Path) -> None:
    src = workbook(tmp_path / "faktura.xlsx", NORWEGIAN)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    batch = check(src, load_type("customer_invoice"), mapping=mapping)
    assert all(d.valid for d in batch.documents) and len(batch.documents) == 2
    with Sandbox() as sb:
        client = VismaClient(demo_connection(sb.url))
        customer = {"number": {"value": "10000"}, "name": {"value": "Kunde AS"}}
        assert client.call("POST", "/v1/customer", json=customer).status_code == 201
        destination = VismaDestination(demo_connection(sb.url), journal=tmp_path / "j.sqlite")
        report = send(batch, destination)
        assert {r.status for r in report.results} == {"created"}
        stored = {d["externalReference"]: d for d in sb.documents("customer_invoice")}
    lines = [
        (line["description"], line["quantity"], line["unitPriceInCurrency"])
        for ref in ("FAK-1", "FAK-2")
        for line in stored[ref]["invoiceLines"]
    ]
    assert lines == [
        ("Kaffe, hele bønner", 12, 189.5),
        ("Filterpapir", 40, 24.9),
        ("Te, grønn", 3, 59),
    ]


def test_a_skipped_column_is_left_out_and_said(tmp_path: Path) -> None:
    rows = [["Customer number", "Name", "Ringeliste"], ["10001", "Fjord AS", "ring etter kl 10"]]
    src = write_csv(tmp_path / "c.csv", rows)
    with pytest.raises(ColumnError, match="'Ringeliste' holds values"):
        check(src, load_type("customer"))
    batch = check(src, load_type("customer"), skip=["ringeliste"])
    said = "column C 'Ringeliste' is left out, as --skip says"
    assert [w.message for w in batch.warnings] == [said]
    (record,) = preview_records(batch)
    assert "ring etter" not in str(record["body"])


def test_values_under_no_header_stop_the_file_unless_skipped_by_letter(tmp_path: Path) -> None:
    rows = [["Customer number", "Name", ""], ["10001", "Fjord AS", "x"]]
    src = write_csv(tmp_path / "c.csv", rows)
    with pytest.raises(ColumnError, match="column C holds values and has no header"):
        check(src, load_type("customer"))
    assert check(src, load_type("customer"), skip=["column C"]).documents


def test_constants_and_value_maps_with_their_counts(tmp_path: Path) -> None:
    rows = [
        ["External reference", "Customer number", "Invoice date", "Line text", "Quantity",
         "Unit price", "VAT code", "Account"],
        ["R-1", "10000", "2025-03-03", "Kaffe", "1", "10", "Høy sats", "3000"],
        ["R-1", "10000", "2025-03-03", "Te", "1", "10", "høy sats ", "3001"],
        ["R-2", "10000", "2025-03-03", "Brød", "1", "10", "Lav sats", "3000"],
    ]  # fmt: skip
    src = write_csv(tmp_path / "i.csv", rows)
    accounts = workbook(tmp_path / "accounts.xlsx", [["Old", "New"], [3000, 3010], [3001, 3011]])
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[constants]\n"Branch" = "1"\n\n'
        '[values."VAT code"]\n"Høy sats" = "3"\n"Lav sats" = "5"\n\n'
        f'[values."Account"]\nfile = "{accounts.name}"\n',
        encoding="utf-8",
    )
    batch = check(src, load_type("customer_invoice"), mapping=mapping)
    records = {r["key"]: r["body"] for r in preview_records(batch)}
    assert records["R-1"]["branchNumber"] == {"value": "1"}
    first, second = records["R-1"]["invoiceLines"]
    assert (first["vatCodeId"], first["accountNumber"]) == ({"value": "3"}, {"value": "3010"})
    assert (second["vatCodeId"], second["accountNumber"]) == ({"value": "3"}, {"value": "3011"})
    assert records["R-2"]["invoiceLines"][0]["vatCodeId"] == {"value": "5"}
    report = validation_report(batch)
    assert report.extra["mapping"] == {
        "file": "m.toml",  # its name: never the folders it is kept in
        "[values.\"VAT code\"] 'Høy sats' = '3'": 2,
        "[values.\"VAT code\"] 'Lav sats' = '5'": 1,
        "[values.\"Account\"] '3000' = '3010'": 2,
        "[values.\"Account\"] '3001' = '3011'": 1,
    }
    # the report, and the fix-me workbook made from it, keep what the user wrote
    assert [r.cells[6] for r in report.results] == ["Høy sats", "høy sats ", "Lav sats"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[columns]\n"Antall stk" = "Kvantum"\n', "'Kvantum', which is not a field"),
        ("[colums]\n", "unknown key 'colums' (did you mean 'columns'?)"),
        ("[columns\n", "is not valid TOML"),
        ('[constants]\n"Customer number" = "1"\n', "holds it too: keep one of them"),
        ('skip = "Notat"\n', "skip is a list of headers"),
    ],
)
def test_a_mapping_file_that_is_wrong_says_where(tmp_path: Path, text: str, says: str) -> None:
    src = write_csv(tmp_path / "c.csv", [["Customer number", "Name"], ["10001", "A"]])
    mapping = tmp_path / "m.toml"
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=None) as caught:
        check(src, load_type("customer"), mapping=mapping)
    assert says in str(caught.value)


def test_vnimport_mapping_writes_a_starter_that_then_works(tmp_path: Path) -> None:
    src = workbook(tmp_path / "faktura.xlsx", NORWEGIAN)
    out = tmp_path / "mapping.toml"
    done = vnimport("mapping", str(src), "--type", "customer_invoice", "--out", str(out),
                    cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert "# 'Kundenummer' is Customer number" in text
    assert '"Antall stk" = "Quantity"  # a guess: check it' in text
    assert "# 'Kommentar' is Note" in text
    assert (
        vnimport(
            "mapping", str(src), "--type", "customer_invoice", "--out", str(out), cwd=tmp_path
        ).returncode
        == 2
    )  # fmt: skip  (never overwritten)
    import tomllib

    assert set(tomllib.loads(text)) == {"skip", "columns", "constants"}  # valid as written


def test_the_fix_me_workbook_marks_the_failing_cells_as_the_report_does(tmp_path: Path) -> None:
    from importer import write_report

    rows = [["Customer number", "Name", "Status"], ["10001", "Fjord AS", "Bogus"],
            ["10002", "Fisk AS", "Aktiv"]]  # fmt: skip
    report = validation_report(check(write_csv(tmp_path / "c.csv", rows), load_type("customer")))
    paths = write_report(report, tmp_path / "r")
    fixme = openpyxl.load_workbook(paths["fixme"]).active
    result = openpyxl.load_workbook(paths["xlsx"])["Result"]
    assert fixme is not None
    assert [c.value for c in fixme[2]] == ["10001", "Fjord AS", "Bogus"]  # as written
    for sheet in (fixme, result):
        cell = sheet["C2"]
        assert cell.fill.fgColor.rgb.endswith("FFC7CE") and cell.comment is not None
        assert "'Bogus' is not allowed" in cell.comment.text
        assert sheet["A2"].comment is None


def test_two_columns_with_one_header_stop_only_when_one_would_be_imported(
    tmp_path: Path,
) -> None:
    twice = [["Customer number", "Name", "Merknad x", "Merknad x"], ["10001", "A", "", ""]]
    batch = check(write_csv(tmp_path / "a.csv", twice), load_type("customer"))
    assert [w.code for w in batch.warnings] == ["unknown-column", "unknown-column"]  # empty
    imported = [["Customer number", "Name", "Name"], ["10001", "A", "B"]]
    with pytest.raises(ColumnError, match="the same column appears twice"):
        check(write_csv(tmp_path / "b.csv", imported), load_type("customer"))


def test_row_warnings_and_a_dotted_number_are_said_in_the_terminal(tmp_path: Path) -> None:
    rows = [["External reference", "Customer number", "Invoice date", "Line text", "Quantity",
             "Unit price"], ["R-1", "11001", "2025-03-03", "Kaffe", "-1", "10"]]  # fmt: skip
    done = vnimport("validate", str(write_csv(tmp_path / "w.csv", rows)), "--type",
                    "customer_invoice", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0
    assert "row 2, Quantity: warning: Quantity is negative" in done.stderr
    rows[1][5] = "1.234"
    done = vnimport("validate", str(write_csv(tmp_path / "d.csv", rows)), "--type",
                    "customer_invoice", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert "decimal point or a thousands separator: with --locale en_GB" in done.stderr


def test_a_mapping_rule_that_matches_no_column_is_said(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", [["Customer number", "Name"], ["10001", "A"]])
    mapping = tmp_path / "m.toml"
    mapping.write_text('skip = ["Kommentarer"]\n[columns]\n"Ukjent" = "Name"\n', "utf-8")
    batch = check(src, load_type("customer"), mapping=mapping, skip=["Nope"])
    assert [w.message for w in batch.warnings] == [
        "skip 'Kommentarer' of m.toml matches no column of this file; check its spelling",
        "skip 'Nope' of m.toml matches no column of this file; check its spelling",
        "[columns] 'Ukjent' of m.toml matches no column of this file; check its spelling",
    ]


def test_the_fix_me_workbook_says_why_visma_refused_a_row(tmp_path: Path) -> None:
    from importer import write_report

    rows = [
        ["External reference", "Customer number", "Invoice date", "Item number", "Quantity"],
        ["R-1", "11001", "2025-03-03", "000999", "1"],
    ]
    batch = check(write_csv(tmp_path / "i.csv", rows), load_type("customer_invoice"))
    with Sandbox() as sb:
        report = send(batch, VismaDestination(demo_connection(sb.url), journal=tmp_path / "j"))
    paths = write_report(report, tmp_path / "r")
    fixme = openpyxl.load_workbook(paths["fixme"]).active
    assert fixme is not None and fixme["A2"].comment is not None
    assert "Item '000999' cannot be found" in fixme["A2"].comment.text
