"""Run history and the cross-reference register: `vnimport runs`, `runs show
RUN [--out]`, and a later file that names customers by their old numbers,
through a mapping file that reads the register. Over real sockets, against
the sandbox, through the command a user types."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from conftest import write_csv
from openpyxl import load_workbook
from test_api import env_for, vnimport

from importer.sandbox import Sandbox, SandboxConfig

EMPTY = SandboxConfig(company="empty")

# Customers from an old system: Visma numbers them, the old number is the key.
OLD_CUSTOMERS = [
    ["Legacy ID", "Customer name", "Currency"],
    ["K-17", "Alfa AS", "NOK"],
    ["K-18", "Beta AS", "NOK"],
    ["K-20", "=Gamma AS", "NOK"],
]


def test_runs_show_lists_each_document_of_a_run_and_exports_the_register(
    tmp_path: Path,
) -> None:
    src = write_csv(tmp_path / "customers.csv", OLD_CUSTOMERS)
    journal = tmp_path / "journal.sqlite"
    with Sandbox(EMPTY) as sb:
        env = {**env_for(sb), "VNIMPORT_JOURNAL": str(journal)}
        first = vnimport("run", str(src), "--type", "customer", env=env, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        numbers = sorted(d["number"] for d in sb.documents("customer"))
        assert len(numbers) == 3
        again = vnimport("run", str(src), "--type", "customer", env=env, cwd=tmp_path)
        assert again.returncode == 0, again.stderr  # nothing new: every document unchanged

        listed = vnimport("runs", "--json", env=env)
        runs = json.loads(listed.stdout)
        assert [r["counts"] for r in runs] == [{"unchanged": 3}, {"created": 3}]

        shown = vnimport("runs", "show", runs[1]["id"], env=env)
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        assert runs[1]["id"] in lines[0] and "customers.csv" in lines[0]
        created = {line.split()[0]: line.split() for line in lines[3:]}
        assert set(created) == {"K-17", "K-18", "K-20"}
        assert sorted(row[2] for row in created.values()) == numbers
        assert all(row[1] in ("2", "3", "4") and row[3] == "created" for row in created.values())

        last = vnimport("runs", "show", "last", "--json", env=env)
        assert {d["status"] for d in json.loads(last.stdout)["documents"]} == {"unchanged"}
        assert "body" not in last.stdout  # the register, not what was sent

        xlsx = vnimport(
            "runs", "show", runs[1]["id"][:17], "--out", str(tmp_path / "reg.xlsx"), env=env
        )
        assert xlsx.returncode == 0, xlsx.stderr
        assert "3 documents" in xlsx.stdout
        sheet = load_workbook(tmp_path / "reg.xlsx").worksheets[0]
        rows = [[c.value for c in r] for r in sheet.iter_rows()]
        assert rows[0] == ["Type", "Key", "Rows", "Visma number", "Status", "Code", "Message"]
        assert {r[1]: r[3] for r in rows[1:]} == {
            d["key"]: d["number"] for d in json.loads(
                vnimport("runs", "show", runs[1]["id"], "--json", env=env).stdout
            )["documents"]
        }  # fmt: skip

        as_csv = vnimport("runs", "show", "last", "--out", str(tmp_path / "reg.csv"), env=env)
        assert as_csv.returncode == 0, as_csv.stderr
        with (tmp_path / "reg.csv").open(encoding="utf-8-sig") as fh:
            assert len(list(csv.DictReader(fh))) == 3


def test_a_later_file_names_customers_by_their_old_numbers_through_the_register(
    tmp_path: Path,
) -> None:
    src = write_csv(tmp_path / "customers.csv", OLD_CUSTOMERS)
    journal = tmp_path / "journal.sqlite"
    with Sandbox(EMPTY) as sb:
        env = {**env_for(sb), "VNIMPORT_JOURNAL": str(journal)}
        assert vnimport("run", str(src), "--type", "customer", env=env).returncode == 0
        by_name = {d["name"]: d["number"] for d in sb.documents("customer")}
        out = tmp_path / "customers-register.xlsx"
        assert vnimport("runs", "show", "last", "--out", str(out), env=env).returncode == 0

    (tmp_path / "map.toml").write_text(
        '[values."Customer number"]\nfile = "customers-register.xlsx"\n'
        'from = "Key"\nto = "Visma number"\n',
        encoding="utf-8",
    )
    invoices = write_csv(
        tmp_path / "invoices.csv",
        [
            ["External reference", "Customer number", "Invoice date", "Currency",
             "Line description", "Quantity", "Unit price", "Account", "VAT code"],
            ["ORD-1", "K-17", "2025-03-03", "NOK", "Kaffe", "2", "100", "3000", "3"],
            ["ORD-2", "K-20", "2025-03-04", "NOK", "Te", "1", "50", "3000", "3"],
        ],
    )  # fmt: skip
    preview = vnimport(
        "preview", str(invoices), "--type", "customer_invoice",
        "--mapping", str(tmp_path / "map.toml"), "--report", str(tmp_path / "p"),
    )  # fmt: skip
    assert preview.returncode == 0, preview.stderr
    bodies = {
        json.loads(line)["key"]: json.loads(line)["body"] for line in preview.stdout.splitlines()
    }
    assert bodies["ORD-1"]["customerNumber"] == {"value": by_name["Alfa AS"]}
    assert bodies["ORD-2"]["customerNumber"] == {"value": by_name["=Gamma AS"]}


def test_a_register_mapping_names_a_column_the_file_lacks_clearly(tmp_path: Path) -> None:
    write_csv(tmp_path / "reg.csv", [["Key", "Visma number"], ["K-1", "10001"]], delimiter=",")
    (tmp_path / "map.toml").write_text(
        '[values."Customer number"]\nfile = "reg.csv"\nfrom = "Old key"\nto = "Visma number"\n',
        encoding="utf-8",
    )
    invoices = write_csv(
        tmp_path / "i.csv",
        [["External reference", "Customer number", "Invoice date"], ["A", "K-1", "2025-03-03"]],
    )
    proc = vnimport(
        "validate", str(invoices), "--type", "customer_invoice",
        "--mapping", str(tmp_path / "map.toml"),
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no column 'Old key'" in proc.stderr and "Key, Visma number" in proc.stderr
