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

from importer.register import REGISTER_COLUMNS
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

        # the run by the start of its id: the shortest start no other run has
        # (two runs in one second may share the first characters after it)
        mine, others = runs[1]["id"], [r["id"] for r in runs if r["id"] != runs[1]["id"]]
        start = next(
            mine[:n]
            for n in range(17, len(mine) + 1)
            if not any(o.startswith(mine[:n]) for o in others)
        )
        xlsx = vnimport("runs", "show", start, "--out", str(tmp_path / "reg.xlsx"), env=env)
        assert xlsx.returncode == 0, xlsx.stderr
        assert "3 documents" in xlsx.stdout
        sheet = load_workbook(tmp_path / "reg.xlsx").worksheets[0]
        rows = [[c.value for c in r] for r in sheet.iter_rows()]
        assert rows[0] == list(REGISTER_COLUMNS)
        assert rows[0][:4] == ["Type", "Key", "Rows", "Visma number"]
        assert {r[1]: r[3] for r in rows[1:]} == {
            d["key"]: d["number"] for d in json.loads(
                vnimport("runs", "show", runs[1]["id"], "--json", env=env).stdout
            )["documents"]
        }  # fmt: skip

        again = vnimport("runs", "show", "last", "--out", str(tmp_path / "reg.xlsx"), env=env)
        assert again.returncode == 0, again.stderr  # an earlier register is replaced
        before = src.read_bytes()  # a file of the user's never is
        mine = vnimport("runs", "show", "last", "--out", str(src), env=env)
        assert mine.returncode == 2 and "exists and is not a register" in mine.stderr
        assert src.read_bytes() == before
        for out, says in (("r.csv", "name it FILE.xlsx"), ("customers.csv", "name it FILE.xlsx")):
            proc = vnimport("reconcile", "last", "--out", str(tmp_path / out), env=env)
            assert proc.returncode == 2 and says in proc.stderr, proc.stderr
        (tmp_path / "mine.xlsx").write_bytes((tmp_path / "reg.xlsx").read_bytes())
        proc = vnimport("reconcile", "last", "--out", str(tmp_path / "mine.xlsx"), env=env)
        assert proc.returncode == 2 and "not a reconciliation workbook" in proc.stderr
        assert not (tmp_path / "r.csv.xlsx").exists()

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

    # an old number the register lacks is never sent as if it were Visma's
    write_csv(
        tmp_path / "invoices.csv",
        [
            ["External reference", "Customer number", "Invoice date", "Line description"],
            ["ORD-3", "K-17", "2025-03-05", "Kaffe"],
            ["ORD-4", "K-99", "2025-03-05", "Te"],
        ],
    )
    checked = vnimport(
        "validate", str(invoices), "--type", "customer_invoice",
        "--mapping", str(tmp_path / "map.toml"), "--report", str(tmp_path / "v"),
    )  # fmt: skip
    assert checked.returncode == 1, checked.stderr
    with (tmp_path / "v.csv").open(encoding="utf-8-sig") as fh:
        rows = {r["key"]: r for r in csv.DictReader(fh)}
    assert rows["ORD-3"]["status"] == "valid"
    assert rows["ORD-4"]["status"] == "invalid" and rows["ORD-4"]["codes"] == "unmapped"
    assert "'K-99' is not in customers-register.xlsx" in rows["ORD-4"]["message"]


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


def test_customers_keyed_on_their_legacy_id_are_found_in_visma_by_a_new_journal(
    tmp_path: Path,
) -> None:
    """The Legacy ID is never sent, so Visma cannot be asked for it: what
    names the customer there (its organisation number, or its name and
    postal code) finds it, and a run with another journal creates nothing."""
    src = write_csv(
        tmp_path / "customers.csv",
        [
            ["Legacy ID", "Customer name", "Organisation number", "Postal code"],
            ["K-17", "Alfa AS", "912345670", "0150"],
            ["K-18", "Beta AS", "", "5003"],
        ],
    )
    with Sandbox(EMPTY) as sb:
        env = env_for(sb)
        common = ["run", str(src), "--type", "customer", "--journal"]
        first = vnimport(*common, str(tmp_path / "a.sqlite"), env=env)
        assert first.returncode == 0, first.stderr
        lost = vnimport(
            *common, str(tmp_path / "b.sqlite"), "--report", str(tmp_path / "b"), env=env
        )
        assert lost.returncode == 0, lost.stderr
        assert sb.count("customer") == 2
    summary = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert summary["counts"] == {"exists in Visma": 2}


def test_the_register_lists_the_documents_a_run_held_back_too(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "customers.csv", [*OLD_CUSTOMERS, ["K-21", "", "NOK"]])
    with Sandbox(EMPTY) as sb:
        env = {**env_for(sb), "VNIMPORT_JOURNAL": str(tmp_path / "journal.sqlite")}
        assert vnimport("run", str(src), "--type", "customer", env=env).returncode == 1
        shown = json.loads(vnimport("runs", "show", "last", "--json", env=env).stdout)
    states = {d["key"]: (d["status"], d["rows"]) for d in shown["documents"]}
    assert states["K-21"] == ("invalid", "5") and len(states) == 4
    held = next(d for d in shown["documents"] if d["key"] == "K-21")
    assert held["code"] == "required" and "Customer name" in held["message"]
