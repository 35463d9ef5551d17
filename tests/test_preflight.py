"""Preflight: a file checked against the company in Visma before anything is
sent, over real sockets against the sandbox's demo company (Bryggen
Kaffehandel AS: customers 11001-11012, suppliers 51000-51010, 12-2024 closed).

Every kind of reference the company lacks is found on its cell, with the
closest values it has; a closed period, a name that is not the number's, and
the documents already in Visma are found before anything is sent; the lists
are read once and kept, and what the preflight costs does not depend on the
number of rows. Files are real csv and xlsx files; nothing is mocked."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from conftest import Api, write_csv, write_xlsx

from importer import VismaDestination, check, load_type, preflight, send
from importer.batch import Batch
from importer.company_checks import PreflightResult, same_name
from importer.errors import DocTypeError, VismaError
from importer.sandbox import DEMO_SECRET, Faults, Sandbox, SandboxConfig
from importer.sandbox.process import demo_connection
from importer.targets.lists import LISTS, cache_beside

ROOT = Path(__file__).resolve().parents[1]
INVOICE = ["External reference", "Customer number", "Invoice date", "Item number",
           "Quantity", "Unit price", "VAT code", "Account"]  # fmt: skip


def good(ref: str, **changes: str) -> list[object]:
    """One invoice line the demo company takes, with ``changes`` by header."""
    row: dict[str, object] = dict(zip(INVOICE, [ref, "11001", "2025-03-10", "000123", 2,
                                                189.5, "31", "3000"], strict=True))  # fmt: skip
    row.update(changes)
    return list(row.values())


def issues(batch: Batch) -> dict[tuple[int, str], tuple[str, str]]:
    """(row, column) -> (code, message) of every issue of the batch."""
    return {(i.row, i.column): (i.code, i.message) for r in batch.rows for i in r.issues}


def checked(path: Path, doctype: str, sb: Sandbox, **options: Any) -> tuple[Batch, PreflightResult]:
    batch = check(path, load_type(doctype))
    return batch, preflight(batch, demo_connection(sb.url), **options)


# ------------------------------------------------------------ references


def test_every_kind_of_reference_the_company_lacks_is_found_on_its_cell(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    header = ["External reference", "Customer number", "Invoice date", "Currency",
              "Credit terms", "Branch", "Project", "VAT zone", "Item number", "Quantity",
              "Unit price", "VAT code", "Account", "Subaccount 1", "Subaccount 2"]  # fmt: skip
    fine = ["11001", "2025-03-10", "NOK", "14", "1", "P1025", "01", "000123", 2, 189.5, "31",
            "3000", "10", "100"]  # fmt: skip
    wrong = {  # row -> (column, value)
        3: ("Customer number", "11090"),
        4: ("Currency", "NKO"),
        5: ("Credit terms", "31"),
        6: ("Branch", "3"),
        7: ("Project", "P1026"),
        8: ("VAT zone", "04"),
        9: ("Item number", "000132"),
        10: ("VAT code", "32"),
        11: ("Account", "3001"),
        12: ("Subaccount 1", "40"),
        13: ("Subaccount 2", "0400"),
    }
    rows: list[list[object]] = [header, [f"T-{2}", *fine]]
    for n, (column, value) in wrong.items():
        row = [f"T-{n}", *fine]
        row[header.index(column)] = value
        rows.append(row)
    line_two = [f"T-{14}", *fine]
    line_two[header.index("Item number")] = "SERVIS"
    rows += [[f"T-{14}", *fine], line_two]  # rows 14 and 15: one invoice, two lines
    path = write_xlsx(tmp_path / "invoices.xlsx", rows)

    batch, result = checked(path, "customer_invoice", sandbox)

    found = issues(batch)
    expected = {(n, column) for n, (column, _) in wrong.items()} | {(15, "Item number")}
    assert {k for k, (code, _) in found.items() if code == "unknown-reference"} == expected
    assert found[(14, "")][0] == "document-invalid"  # the invoice is held back whole
    assert not any(r.issues for r in batch.rows if r.number == 2)
    said = {column: found[(n, column)][1] for n, (column, _) in wrong.items()}
    assert said["Customer number"].startswith(
        "'11090' is not one of the company's customers in Visma; the closest: "
    )
    assert "11009 (Ålesund Jugend Hotell AS)" in said["Customer number"]
    assert "NOK (Norske kroner)" in said["Currency"]
    assert "30 (30 dager netto)" in said["Credit terms"]
    assert "'3' is not one of the company's branches" in said["Branch"]
    assert "P1025 (Ny kaffebar Torgallmenningen)" in said["Project"]
    assert "01 (Innenlands)" in said["VAT zone"]
    assert "000123 (Kaffe, hele bønner 1 kg)" in said["Item number"]
    assert said["VAT code"] == (
        "'32' is not one of the company's VAT codes in Visma; the closest: 31 (Utgående mva, "
        "middels sats 15 %); 33 (Utgående mva, lav sats 12 %); 3 (Utgående mva, høy sats 25 %)"
    )
    assert "3000 (Salgsinntekt, avgiftspliktig)" in said["Account"]
    assert said["Subaccount 1"].startswith(
        "'40' is not a value of segment 1 (Avdeling) of the company's subaccounts"
    )
    assert "0100 (Butikk Bryggen)" in said["Subaccount 2"]
    assert "SERVICE (Service espressomaskin, per time)" in found[(15, "Item number")][1]
    assert result.errors == 12 and result.warnings == 0
    assert [d.key for d in batch.valid_documents] == ["T-2"]


def test_a_supplier_invoice_against_the_supplier_ledger(sandbox: Sandbox, tmp_path: Path) -> None:
    header = ["Supplier reference", "Supplier number", "Supplier name", "Invoice date",
              "Post period", "Line text", "Quantity", "Unit cost", "Account",
              "Project"]  # fmt: skip
    path = write_csv(tmp_path / "bills.csv", [
        header,
        ["F-1", "51001", "Kaffeimport Norge", "2025-01-15", "", "Kaffe", "1", "100", "4300", ""],
        ["F-2", "51099", "", "2025-01-15", "", "Kaffe", "1", "100", "4300", "P1024"],
        ["F-3", "51002", "Papirgrossisten Vest AS", "2025-01-05", "122024", "Papir", "1", "50",
         "6800", "PX"],
    ])  # fmt: skip
    batch, _ = checked(path, "supplier_invoice", sandbox)
    found = issues(batch)
    assert found[(3, "Supplier number")][0] == "unknown-reference"
    assert "51009 (Café do Brasil Exportadora Ltda)" in found[(3, "Supplier number")][1]
    assert found[(4, "Post period")] == (
        "closed-period",
        "Post period 122024 is in the financial period 12-2024, which is closed in the "
        "supplier ledger in Visma; the open periods nearest to it: 11-2024, 01-2025",
    )
    assert found[(4, "Project")][0] == "unknown-reference"
    assert {k[0] for k in found} == {3, 4}


def test_a_closed_period_is_the_period_given_else_the_date_s(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    header = [*INVOICE, "Post period", "Financial period"]
    path = write_csv(tmp_path / "periods.csv", [
        header,
        [*good("P-1", **{"Invoice date": "2024-12-20"}), "", ""],  # the date's period: closed
        [*good("P-2", **{"Invoice date": "2024-12-20"}), "012025", ""],  # posted in January
        [*good("P-3"), "", "202412"],  # the financial period given: closed
        [*good("P-4", **{"Invoice date": "2023-05-02"}), "", ""],  # not set up: Visma's to say
    ])  # fmt: skip
    batch, _ = checked(path, "customer_invoice", sandbox)
    found = issues(batch)
    assert found[(2, "Invoice date")] == (
        "closed-period",
        "Invoice date 2024-12-20 is in the financial period 12-2024, which is closed in the "
        "customer ledger in Visma; the open periods nearest to it: 11-2024, 01-2025",
    )
    assert found[(4, "Financial period")][0] == "closed-period"
    assert set(found) == {(2, "Invoice date"), (4, "Financial period")}


def test_a_name_beside_a_number_must_be_the_name_visma_has_for_it(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    header = [*INVOICE, "Customer name"]
    names = {
        2: ("11001", "fjellbekk   kafe"),  # case, spaces and accents
        3: ("11001", "FJELLBEKK KAFÉ A/S"),  # the legal form written otherwise
        4: ("11010", "Göteborgs Kafferosteri"),  # without its AB
        5: ("11001", "Nordkapp Hotell AS"),  # a wrong number that exists: 11002's name
        6: ("11002", "Fjordfisk AS"),  # a name Visma does not have
        7: ("11090", "Nordkapp Hotell"),  # an unknown number beside a known name
    }
    rows = [header] + [[*good(f"N-{n}", **{"Customer number": num}), name]
                       for n, (num, name) in names.items()]  # fmt: skip
    batch, _ = checked(write_csv(tmp_path / "names.csv", rows), "customer_invoice", sandbox)
    found = issues(batch)
    assert found[(5, "Customer name")] == (
        "name-mismatch",
        "'Nordkapp Hotell AS' is not the name Visma has for customer 11001, 'Fjellbekk Kafé AS', "
        "but the name of customer 11002: check Customer number",
    )
    assert found[(6, "Customer name")] == (
        "name-mismatch",
        "'Fjordfisk AS' is not the name Visma has for customer 11002, 'Nordkapp Hotell AS': "
        "check Customer number",
    )
    assert found[(7, "Customer number")] == (
        "unknown-reference",
        "'11090' is not one of the company's customers in Visma; the name beside it, "
        "'Nordkapp Hotell', is customer 11002 there",
    )
    assert {k[0] for k in found} == {5, 6, 7}


@pytest.mark.parametrize(
    ("given", "known", "same"),
    [
        ("Fjellbekk Kafé AS", "fjellbekk kafe", True),
        ("Bryggen Kaffehandel ASA", "Bryggen  Kaffehandel", True),
        ("Svenska Kaffekoppar AB", "Svenska Kaffekoppar", True),
        ("AB Svenska Kaffekoppar", "Svenska Kaffekoppar AB", True),
        ("Helsingin Kahvi Oy", "Helsingin Kahvi", True),
        ("Kaffe ApS", "Kaffe A/S", True),
        ("Coffee Ltd.", "Coffee Limited", True),
        ("Hamburger Kaffeekontor GmbH", "Hamburger Kaffee-Kontor", True),
        ("Nordkapp Hotell AS", "Nordkapp Hotel AS", False),
        ("Fjellbekk Kafé AS", "Fjellbekk Bakeri AS", False),
        ("AS", "ASA", False),
    ],
)
def test_names_compare_without_case_spacing_accents_or_legal_form(
    given: str, known: str, same: bool
) -> None:
    assert same_name(given, known) is same


# ------------------------------------------------- already in Visma


def test_documents_already_in_visma_are_found_in_bulk_before_anything_is_sent(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "first.csv", [INVOICE, good("E-1"), good("E-2")])
    destination = VismaDestination(demo_connection(sandbox.url), journal=tmp_path / "j.sqlite")
    sent = send(check(first, load_type("customer_invoice")), destination)
    numbers = {r.key: r.number for r in sent.results}
    again = write_csv(tmp_path / "again.csv", [INVOICE, good("E-1"), good("E-3"), good("E-2")])

    batch, result = checked(again, "customer_invoice", sandbox)

    assert result.existing == {"E-1": numbers["E-1"], "E-2": numbers["E-2"]}
    assert result.lookup_calls == 1  # one page of the invoices from the file's first date
    found = issues(batch)
    assert found[(2, "External reference")] == (
        "already-in-visma",
        f"External reference 'E-1' is in Visma already, as {numbers['E-1']}; a run in create "
        "mode does not create it again",
    )
    assert (4, "External reference") in found and len(found) == 2
    assert {r.issues[0].severity for r in batch.rows if r.issues} == {"warning"}
    assert len(batch.valid_documents) == 3  # a warning holds nothing back
    assert sandbox.count("customer_invoice") == 2  # nothing was sent


def test_a_run_takes_what_its_preflight_found_instead_of_looking_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    connection = demo_connection(sandbox.url)
    before = write_csv(tmp_path / "before.csv", [INVOICE, good("R-1")])
    send(check(before, load_type("customer_invoice")),
         VismaDestination(connection, journal=tmp_path / "other.sqlite"))  # fmt: skip
    rows = [INVOICE] + [good(f"R-{n}") for n in range(1, 26)]
    rows[4][INVOICE.index("VAT code")] = "32"  # row 5, R-4
    batch = check(write_csv(tmp_path / "run.csv", rows), load_type("customer_invoice"))
    result = preflight(batch, connection, warn_existing=False)
    assert list(result.existing) == ["R-1"]
    assert [i.code for r in batch.rows for i in r.issues] == ["unknown-reference"]
    report = send(batch, VismaDestination(connection, journal=tmp_path / "j.sqlite",
                                          existing=result.existing))  # fmt: skip
    assert report.counts() == {"created": 23, "exists in Visma": 1, "invalid": 1}
    assert report.extra["lookup_calls"] == 0  # the preflight looked for them
    assert report.extra["calls"] == 23


# ----------------------------------------------------------- the cost


def pages(result: PreflightResult, page: int) -> int:
    """What reading the lists costs: each list's pages, one call for a list
    without paging (the periods among them)."""
    return sum(math.ceil(n / page) if LISTS[name].paged else 1 for name, n in result.lists.items())


def test_the_calls_do_not_depend_on_the_number_of_rows(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(max_page_size=5)) as sb:
        results = []
        for count in (5, 400):
            rows = [INVOICE] + [good(f"C-{n}", **{"Customer number": f"110{n % 12 + 1:02d}"})
                                for n in range(count)]  # fmt: skip
            batch, result = checked(write_csv(tmp_path / f"{count}.csv", rows),
                                    "customer_invoice", sb)  # fmt: skip
            assert not any(r.issues for r in batch.rows)
            results.append(result)
    small, large = results
    assert small.calls == large.calls == pages(small, 5) + 1  # + the invoices from the first date
    assert large.lists == {"account": 37, "customer": 12, "financialPeriod": 36,
                           "inventory": 29, "vat": 11}  # fmt: skip
    assert large.list_calls == 3 + 6 + 1 + 1 + 1  # customers, items, accounts, VAT, periods


def test_a_second_pass_reads_no_list_until_the_kept_lists_are_too_old(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "a.csv", [INVOICE, good("K-1")])
    cache = tmp_path / "lists"
    now = [1_000_000.0]
    options: dict[str, Any] = {"cache": cache, "max_age": 600.0, "clock": lambda: now[0]}
    _, first = checked(path, "customer_invoice", sandbox, **options)
    assert first.list_calls == 5 and first.cached == []
    now[0] += 600.0  # as old as may be used
    _, second = checked(path, "customer_invoice", sandbox, **options)
    assert second.list_calls == 0 and sorted(second.cached) == sorted(first.lists)
    assert second.calls == second.lookup_calls == 1
    now[0] += 1.0  # read 601 s ago: too old
    _, third = checked(path, "customer_invoice", sandbox, **options)
    assert third.list_calls == 5 and third.cached == []
    _, fresh = checked(path, "customer_invoice", sandbox, **{**options, "max_age": 0.0})
    assert fresh.list_calls == 5


def test_a_problem_found_in_a_kept_list_is_checked_against_it_read_afresh(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    cache, clock = tmp_path / "lists", (lambda: 5_000.0)
    first = write_csv(tmp_path / "a.csv", [INVOICE, good("S-1")])
    checked(first, "customer_invoice", sandbox, cache=cache, clock=clock)
    api = Api(sandbox)
    made = api("POST", "/v1/customer", json={"number": {"value": "10000"},
                                             "name": {"value": "Ny Kunde AS"}})  # fmt: skip
    assert made.status_code == 201
    later = write_csv(tmp_path / "b.csv", [INVOICE, good("S-2", **{"Customer number": "10000"})])
    batch, result = checked(later, "customer_invoice", sandbox, cache=cache, clock=clock)
    assert not any(r.issues for r in batch.rows)  # not in the kept list, but in Visma's
    assert result.reread == ["customer"] and result.list_calls == 1


def test_the_lists_are_kept_per_company_and_never_with_the_secret(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "a.csv", [INVOICE, good("K-1")])
    cache = cache_beside(tmp_path / "journal.sqlite")
    assert cache == tmp_path / "journal.lists"
    checked(path, "customer_invoice", sandbox, cache=cache)
    (company,) = cache.iterdir()
    kept = sorted(p.name for p in company.iterdir())
    assert kept == ["account.json", "customer.json", "financialPeriod.json", "inventory.json",
                    "vat.json"]  # fmt: skip
    for file in company.iterdir():
        text = file.read_text(encoding="utf-8")
        assert DEMO_SECRET not in text
        assert json.loads(text)["target"] == f"{sandbox.url}#demo-company"
    periods = json.loads((company / "financialPeriod.json").read_text(encoding="utf-8"))
    december = next(r for r in periods["records"] if r["key"] == "202412")
    assert december == {"key": "202412", "label": "Desember 2024",
                        "closedInCustomerLedger": True, "closedInSupplierLedger": True}  # fmt: skip
    assert cache_beside("postgresql://db/vnimport").parts[-2:] == ("vnimport", "lists")


def test_a_list_the_client_may_not_read_stops_the_preflight(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(faults=Faults(forbid_on="/v1/inventory"))) as sb:
        path = write_csv(tmp_path / "a.csv", [INVOICE, good("F-1")])
        with pytest.raises(VismaError, match=r"reading the company's items \(GET /v1/inventory\)"):
            checked(path, "customer_invoice", sb)


def test_how_long_the_lists_are_kept_is_a_setting(tmp_path: Path) -> None:
    from importer.errors import ConfigError
    from importer.settings import lists_max_age

    toml = tmp_path / "vnimport.toml"
    toml.write_text('lists_max_age = "86400"\n', encoding="utf-8")
    env = {"VNIMPORT_LISTS_MAX_AGE": "600"}
    assert lists_max_age(None, {}, tmp_path / "none.toml") == 3600.0
    assert lists_max_age(None, {}, toml) == 86400.0
    assert lists_max_age(None, env, toml) == 600.0
    assert lists_max_age(0.0, env, toml) == 0.0  # the option beats them all
    with pytest.raises(ConfigError, match="VNIMPORT_LISTS_MAX_AGE: 'an hour' is not a number"):
        lists_max_age(None, {"VNIMPORT_LISTS_MAX_AGE": "an hour"}, toml)


# ------------------------------------------------------- the schemas


@pytest.mark.parametrize(
    ("field", "reference", "says"),
    [
        ("customerNumber", "customers", "names no list of the company"),
        ("customerNumber", "financialPeriod", "needs the ledger and the form"),
        ("customerNumber", "subaccount", "not a pattern property"),
        ("documentDate", "vat", "not plain text"),
        ("hold", "vat", "not plain text"),
        ("documentDate", {"list": "financialPeriod", "ledger": "gl", "form": "date"}, "ledger"),
        ("postPeriod", {"list": "financialPeriod", "ledger": "customer", "form": "date"},
         "the form 'date' on a field that is not a date"),
        ("documentDate", {"list": "financialPeriod", "ledger": "customer"}, "list, ledger and"),
    ],
)  # fmt: skip
def test_a_malformed_reference_stops_the_type_at_load(
    tmp_path: Path, field: str, reference: object, says: str
) -> None:
    schema = json.loads((ROOT / "schemas" / "customer_invoice.schema.json").read_text("utf-8"))
    schema["properties"][field]["x-reference"] = reference
    (tmp_path / "mine.schema.json").write_text(json.dumps(schema), "utf-8")
    template = (ROOT / "templates" / "customer_invoice.json.j2").read_text("utf-8")
    (tmp_path / "mine.json.j2").write_text(template, "utf-8")
    with pytest.raises(DocTypeError, match=f"x-reference of '{field}'") as err:
        load_type("mine", types_dirs=[tmp_path])
    assert says in str(err.value)


def test_a_segment_reference_belongs_on_the_pattern_property(tmp_path: Path) -> None:
    schema = json.loads((ROOT / "schemas" / "customer_invoice.schema.json").read_text("utf-8"))
    [segments] = schema["patternProperties"].values()
    segments["x-reference"] = "account"
    (tmp_path / "mine.schema.json").write_text(json.dumps(schema), "utf-8")
    template = (ROOT / "templates" / "customer_invoice.json.j2").read_text("utf-8")
    (tmp_path / "mine.json.j2").write_text(template, "utf-8")
    with pytest.raises(DocTypeError, match="is on a pattern property"):
        load_type("mine", types_dirs=[tmp_path])


# ------------------------------------------------------ front doors


def vnimport(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "importer", *argv], capture_output=True,
                          text=True, timeout=120, cwd=cwd)  # fmt: skip


def test_validate_preflight_finds_the_vat_code_the_customer_and_the_period(
    tmp_path: Path,
) -> None:
    """The issue's own words: against the sandbox's demo company this finds a
    mistyped VAT code, an unknown customer and a closed period on the right cells."""
    path = write_xlsx(tmp_path / "mine.xlsx", [
        INVOICE,
        good("V-1"),
        good("V-2", **{"VAT code": "32"}),
        good("V-3", **{"Customer number": "11013"}),
        good("V-4", **{"Invoice date": "2024-12-31"}),
    ])  # fmt: skip
    argv = ["validate", str(path), "--type", "customer_invoice", "--preflight", "--target",
            "sandbox", "--report", str(tmp_path / "r")]  # fmt: skip
    proc = vnimport(*argv, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    summary = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    cells = {(i["row"], i["column"], i["code"]) for i in summary["issues"]}
    assert cells == {
        (3, "VAT code", "unknown-reference"),
        (4, "Customer number", "unknown-reference"),
        (5, "Invoice date", "closed-period"),
    }
    assert summary["preflight"]["calls"] == summary["preflight"]["list_calls"] + 1 == 6
    said = r"preflight: 6 call\(s\) to http://127\.0\.0\.1:\d+ \(5 reading 5 list\(s\), 1 looking"
    assert re.search(said + r" for documents already there\): 3 problem", proc.stderr)


def test_run_checks_a_file_of_more_than_20_documents_first(tmp_path: Path) -> None:
    rows = [INVOICE] + [good(f"B-{n}") for n in range(1, 22)]
    rows[2][INVOICE.index("Item number")] = "000999"  # row 3
    path = write_csv(tmp_path / "big.csv", rows)
    common = ["--type", "customer_invoice", "--target", "sandbox", "--report"]
    proc = vnimport("run", str(path), *common, str(tmp_path / "r"), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    summary = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert summary["counts"] == {"created": 20, "invalid": 1}
    assert summary["reasons"][0]["code"] == "unknown-reference"
    assert summary["preflight"]["errors"] == 1 and summary["lookup_calls"] == 0
    # without it, Visma (the sandbox) refuses the document itself
    proc = vnimport("run", str(path), *common, str(tmp_path / "n"), "--no-preflight",
                    cwd=tmp_path)  # fmt: skip
    summary = json.loads((tmp_path / "n.json").read_text(encoding="utf-8"))
    assert summary["counts"] == {"created": 20, "failed": 1} and "preflight" not in summary
    # 20 documents or fewer: none unless asked
    small = write_csv(tmp_path / "small.csv", rows[:21])
    vnimport("run", str(small), *common, str(tmp_path / "s"), cwd=tmp_path)
    assert "preflight" not in json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))


def test_validate_preflight_without_a_connection_says_how_to_set_one_up(tmp_path: Path) -> None:
    import os

    path = write_csv(tmp_path / "a.csv", [INVOICE, good("X-1")])
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNIMPORT_")}
    proc = subprocess.run(
        [sys.executable, "-m", "importer", "validate", str(path), "--type", "customer_invoice",
         "--preflight"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert proc.returncode == 2
    assert (
        "no Visma.net connection is configured" in proc.stderr and "--target sandbox" in proc.stderr
    )


def test_the_api_page_s_preflight_example_runs_as_written(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = page.split("\n## Preflight: ")[1].split("\n## ")[0]
    [example] = re.findall(r"```py\n(.*?)```", section, flags=re.S)
    proc = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "row 3, column 'VAT code': '32' is not one of the company's VAT codes" in proc.stdout


# ------------------------------------------- every message, for test_messages


def preflight_batches(folder: Path) -> Iterable[Batch]:
    """Batches with every problem a preflight finds (tests/test_messages.py
    renders each again from its key)."""
    with Sandbox() as sb:
        connection = demo_connection(sb.url)
        first = write_csv(folder / "pf-sent.csv", [INVOICE, good("M-1")])
        send(check(first, load_type("customer_invoice")),
             VismaDestination(connection, journal=folder / "pf.sqlite"))  # fmt: skip
        header = [*INVOICE, "Customer name", "Subaccount 1", "Subaccount 3"]
        rows = [
            header,
            [*good("M-1"), "Fjellbekk Kafé", "10", ""],  # already in Visma
            [*good("M-2", **{"VAT code": "32"}), "", "", ""],
            [*good("M-3", **{"Customer number": "11090"}), "Nordkapp Hotell", "", ""],
            [*good("M-4", **{"Invoice date": "2024-12-02"}), "Nordkapp Hotell AS", "11", "1"],
            [*good("M-5", **{"Customer number": "11002"}), "Fjordfisk AS", "", ""],
        ]
        batch = check(write_csv(folder / "pf.csv", rows), load_type("customer_invoice"))
        preflight(batch, connection)
        yield batch


def test_every_message_of_a_preflight_is_made(tmp_path: Path) -> None:
    (batch,) = list(preflight_batches(tmp_path))
    keys = {i.key for r in batch.rows for i in r.issues}
    assert keys >= {
        "unknown-reference", "unknown-reference.by-name", "unknown-reference.segment",
        "unknown-reference.no-segment", "closed-period", "name-mismatch",
        "name-mismatch.elsewhere", "already-in-visma",
    }  # fmt: skip
