"""docs/migration.md, walked: every command of the page, in its order, in a
folder of its own, against two sandboxes standing in for the test company
and production. What a person does by hand (filling the workbooks) is done
where the page says so, from the rows below."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from openpyxl import load_workbook
from test_api import vnimport
from test_template_workbook import _typed

from importer.doctypes import Registry
from importer.sandbox import DEMO_SECRET, Sandbox
from importer.sandbox.process import demo_connection

PAGE = ROOT / "docs" / "migration.md"
BLOCK = re.compile(r"```(sh|toml)\n(.*?)```", re.S)
FILL = re.compile(r"<!-- fill: (\S+) (\S+) -->")

# The old system's customers and open invoices, as the person types them.
ROWS = {
    "customer": [
        ["Legacy ID", "Customer name", "Currency", "Credit terms"],
        ["K-1001", "Fjellbakeriet AS", "NOK", "30"],
        ["K-1002", "Havblikk Kafé AS", "NOK", "14"],
    ],
    "customer_invoice": [
        ["External reference", "Customer number", "Invoice date", "Due date", "Currency",
         "Item number", "Line description", "Quantity", "Unit price", "Account",
         "Subaccount 1", "Subaccount 2", "VAT code"],
        ["OLD-5001", "K-1001", "2025-03-03", "2025-03-17", "NOK", "000123",
         "Kaffe, hele bønner 1 kg", "12", "189.50", "3000", "00", "0100", "3"],
        ["OLD-5001", "K-1001", "2025-03-03", "2025-03-17", "NOK", "000245",
         "Filterpapir nr. 4", "40", "24.90", "3000", "00", "0100", "3"],
        ["OLD-5002", "K-1002", "2025-03-05", "2025-03-19", "NOK", "000123",
         "Kaffe, hele bønner 1 kg", "3", "189.50", "3000", "00", "0100", "3"],
    ],
}  # fmt: skip


def fill(workbook: Path, rows: list[list[str]], doctype: Any) -> None:
    """Type ``rows`` (a header, then values) into the template's columns, as
    a person does: dates as dates, numbers as numbers, a fixed set's words
    from its dropdown, anything else as text (the dropdowns of the
    company's records warn, and take an old number all the same)."""
    book = load_workbook(workbook)
    sheet = book.worksheets[0]
    columns = {doctype.resolve_header(str(c.value)): c.column_letter for c in sheet[1] if c.value}
    names = [doctype.resolve_header(h) for h in rows[0]]
    for number, values in enumerate(rows[1:], start=2):
        for name, text in zip(names, values, strict=True):
            spec = doctype.spec_for(name)
            value = _typed(spec.kind, text, None, doctype, name)
            sheet[f"{columns[name]}{number}"] = value
            if isinstance(value, str):
                sheet[f"{columns[name]}{number}"].data_type = "s"
    book.save(workbook)


def _page() -> list[tuple[str, str]]:
    """The page's steps in order: ("sh", commands), ("toml", a file), ("fill", "file type")."""
    text = PAGE.read_text(encoding="utf-8")
    steps = []
    for m in re.finditer(rf"{BLOCK.pattern}|{FILL.pattern}", text, re.S):
        if m.group(1):
            steps.append((m.group(1), m.group(2)))
        else:
            steps.append(("fill", f"{m.group(3)} {m.group(4)}"))
    return steps


def _config(text: str, test: Sandbox, production: Sandbox) -> str:
    """The page's vnimport.toml, pointed at the two sandboxes."""
    out = []
    for table in re.split(r"(?m)^(?=\[targets\.)", text):
        sb = test if table.startswith("[targets.test]") else production
        conn = demo_connection(sb.url)
        for key in ("base_url", "token_url", "client_id", "tenant_id"):
            table = re.sub(rf'(?m)^{key} = ".*"$', f'{key} = "{getattr(conn, key)}"', table)
        out.append(table)
    return "".join(out)


def test_the_migration_page_runs_as_written(tmp_path: Path) -> None:
    steps = _page()
    assert [k for k, _ in steps].count("sh") >= 6, "the page lost its commands"
    registry = Registry()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNIMPORT_")}
    env["VISMA_SECRET"] = DEMO_SECRET
    ran: dict[str, Any] = {}
    with Sandbox() as test, Sandbox() as production:
        for kind, body in steps:
            if kind == "toml":
                name, _, content = body.partition("\n")
                name = name.removeprefix("# ").strip()
                if name == "vnimport.toml":
                    content = _config(content, test, production)
                (tmp_path / name).write_text(content, encoding="utf-8")
                continue
            if kind == "fill":
                file, doctype_name = body.split()
                fill(tmp_path / file, ROWS[doctype_name], registry.get(doctype_name))
                continue
            for line in body.strip().splitlines():
                argv = shlex.split(line)
                assert argv[0] == "vnimport", line
                proc = vnimport(*argv[1:], env=env, cwd=tmp_path)
                assert proc.returncode == 0, f"{line}\n{proc.stdout}\n{proc.stderr}"
                assert (
                    "Traceback" not in proc.stderr and DEMO_SECRET not in proc.stderr + proc.stdout
                )
                ran[line] = proc

        # What the page says happened, happened.
        numbers = {d["name"]: d["number"] for d in test.documents("customer")}
        assert {"Fjellbakeriet AS", "Havblikk Kafé AS"} <= set(numbers)
        invoices = test.documents("customer_invoice")
        mine = [d for d in invoices if d.get("externalReference") in ("OLD-5001", "OLD-5002")]
        assert sorted(d["customer"]["number"] for d in mine) == sorted(
            [numbers["Fjellbakeriet AS"], numbers["Havblikk Kafé AS"]]
        )  # the old numbers became Visma's through the register
        assert {d["externalReference"]: len(d["invoiceLines"]) for d in mine} == {
            "OLD-5001": 2, "OLD-5002": 1,
        }  # fmt: skip
        assert production.count("customer") == test.count("customer")

    register = load_workbook(tmp_path / "customers-register.xlsx").worksheets[0]
    keys = {r[1].value: r[3].value for r in register.iter_rows(min_row=2)}
    assert keys == {"K-1001": numbers["Fjellbakeriet AS"], "K-1002": numbers["Havblikk Kafé AS"]}
    assert (tmp_path / "reconciliation.xlsx").exists()
    undo = next(p for line, p in ran.items() if line.startswith("vnimport undo"))
    assert "OLD-5001" in undo.stdout + undo.stderr


@pytest.mark.parametrize("step", [s for s in _page() if s[0] == "sh"], ids=lambda s: s[1][:40])
def test_every_command_of_the_page_is_one_vnimport_knows(step: tuple[str, str]) -> None:
    for line in step[1].strip().splitlines():
        argv = shlex.split(line)
        proc = vnimport(*argv[1:2], "--help")
        assert proc.returncode == 0, line
        for option in (a for a in argv[2:] if a.startswith("--")):
            assert option in proc.stdout, f"{line}: {option} is not an option of {argv[1]}"


def test_the_mapping_file_of_the_page_names_columns_of_the_register() -> None:
    from importer.register import REGISTER_COLUMNS

    toml = next(b for k, b in _page() if k == "toml" and b.startswith("# map.toml"))
    named = re.findall(r'(?:from|to) = "(.+)"', toml)
    assert len(named) == 2 and set(named) <= set(REGISTER_COLUMNS)
