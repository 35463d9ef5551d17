"""The journal: claims under concurrency, leases, lost journals, upgrades, runs."""

from __future__ import annotations

import collections
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from conftest import write_csv
from test_run import _env, connection, customer, invoices, references

from importer import (
    JournalError,
    RunAborted,
    VismaDestination,
    check,
    load_type,
    send,
    validation_report,
)
from importer.sandbox import Faults, Sandbox, SandboxConfig
from importer.targets.journal import VERSION, Journal, open_journal


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_at(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new journal's location: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "journal.sqlite")
    from postgres import fresh_database

    return fresh_database(request.getfixturevalue("postgres"), f"j{uuid.uuid4().hex[:12]}")


def _sql(journal_at: str, statement: str, params: tuple[object, ...] = ()) -> None:
    """Change a journal behind vnimport's back, as another program would."""
    if journal_at.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(journal_at, autocommit=True) as db:
            db.execute(statement.replace("?", "%s"), params)
        return
    with sqlite3.connect(journal_at) as db:
        db.execute(statement, params)


def _run_cli(sb: Sandbox, file: Path, journal: Path | str, report: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "importer", "run", str(file), "--type", "customer_invoice",
         "--journal", str(journal), "--report", str(report), "--workers", "4"],
        env=_env(sb), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.parametrize("runs", [2, 4])
def test_runs_of_one_file_at_once_on_one_journal_create_each_document_once(
    tmp_path: Path, runs: int, journal_at: str
) -> None:
    with Sandbox(SandboxConfig(faults=Faults(latency_ms=15))) as sb:
        customer(sb)
        file = invoices(tmp_path / "a.csv", 80)
        journal = journal_at
        # The runs open the new journal together, as runners on several machines may.
        procs = [_run_cli(sb, file, journal, tmp_path / f"r{n}") for n in range(runs)]
        for p in procs:
            p.communicate(timeout=300)
        codes = [p.returncode for p in procs]
        counts = references(sb)
        assert len(counts) == 80 and max(counts.values()) == 1  # none twice, none missing
        created: collections.Counter[str] = collections.Counter()
        for n in range(runs):
            summary = json.loads((tmp_path / f"r{n}.json").read_text(encoding="utf-8"))
            assert summary["rows"] == 160
            # every row final: created here, or in progress in another run
            assert set(summary["counts"]) <= {"created", "skipped", "unchanged"}
            busy = summary["counts"].get("skipped", 0)
            assert codes[n] == (1 if busy else 0)  # the exit code tells the truth
            created["rows"] += summary["counts"].get("created", 0)
            for issue in summary["issues"]:
                assert issue["code"] == "in-progress"
        assert created["rows"] == 160  # each document created by exactly one run
        again = _run_cli(sb, file, journal, tmp_path / "again")
        again.communicate(timeout=300)
        assert again.returncode == 0
        summary = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
        assert summary["counts"] == {"unchanged": 160}
        assert max(references(sb).values()) == 1


def test_a_live_claim_is_left_alone_and_a_dead_or_expired_one_taken_over(
    journal_at: str,
) -> None:
    path = journal_at
    first, second = open_journal(path), open_journal(path)
    assert first.claim("t", "customer", "1", "run-a").busy == ""
    found = second.claim("t", "customer", "1", "run-b")
    assert found.busy == "run-a"  # this process is alive and the lease runs
    first.write("t", "customer", "1", hash="h", state="sending", run_id="run-a")
    # A process that has ended, on this host: its claim is taken over at once.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    _sql(path, "UPDATE entries SET pid=? WHERE key='1'", (int(dead.stdout),))
    taken = second.claim("t", "customer", "1", "run-b")
    assert (taken.busy, taken.taken_over) == ("", "run-a")
    assert taken.entry is not None and taken.entry.state == "sending"  # look it up first
    # Another host's claim lives until its lease runs out, by the database's clock.
    second.write("t", "customer", "2", hash="h", state="sending", run_id="run-b")
    _sql(path, "UPDATE entries SET host='elsewhere' WHERE key='2'")
    assert first.claim("t", "customer", "2", "run-c").busy == "run-b"
    _sql(path, "UPDATE entries SET lease_until=0 WHERE key='2'")
    assert first.claim("t", "customer", "2", "run-c").taken_over == "run-b"
    # A claim that came to nothing leaves nothing behind.
    first.claim("t", "customer", "3", "run-c")
    first.release("t", "customer", "3", "run-c")
    assert first.get("t", "customer", "3") is None
    first.close()
    second.close()


def test_a_journal_deleted_mid_run_stops_the_run_before_its_next_request(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite"
    with Sandbox() as sb:
        customer(sb)
        batch = check(invoices(tmp_path / "a.csv", 60), load_type("customer_invoice"))
        destination = VismaDestination(connection(sb), journal=path, workers=1)

        def progress(event: object) -> None:
            if getattr(event, "done", 0) == 10 and path.exists():
                for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    p.unlink(missing_ok=True)

        with pytest.raises(RunAborted) as caught:
            send(batch, destination, workers=1, progress=progress)
        report = caught.value.report
        assert caught.value.code == "journal-error" and report.exit_code == 2
        assert "was deleted" in str(caught.value) and "nothing more was sent" in str(caught.value)
        counts = report.counts()
        assert counts["created"] // 2 == sb.count("customer_invoice") <= 12  # nothing more sent
        assert counts["created"] + counts["not sent"] == 120


def test_a_version_1_journal_is_upgraded_in_place_and_a_newer_one_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:  # as vnimport 0.1 wrote it
        db.execute(
            "CREATE TABLE entries (target TEXT NOT NULL, doctype TEXT NOT NULL, "
            "key TEXT NOT NULL, hash TEXT NOT NULL, state TEXT NOT NULL, "
            "number TEXT NOT NULL DEFAULT '', http_status INTEGER, "
            "message TEXT NOT NULL DEFAULT '', updated REAL NOT NULL, "
            "PRIMARY KEY (target, doctype, key))"
        )
        db.execute("INSERT INTO entries VALUES ('t', 'customer', '1', 'h', 'created', '1', "
                   "201, '', 0)")  # fmt: skip
    journal = Journal(path)
    assert journal.version == VERSION
    entry = journal.get("t", "customer", "1")
    assert entry is not None and (entry.state, entry.number) == ("created", "1")
    assert journal.claim("t", "customer", "2", "run").busy == ""
    journal.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key='upgraded_from'").fetchone() == ("1",)
        db.execute("UPDATE meta SET value=? WHERE key='version'", (str(VERSION + 1),))
    with pytest.raises(JournalError, match="newer vnimport"):
        Journal(path)


def test_each_run_is_recorded_and_listed(tmp_path: Path, journal_at: str) -> None:
    path = journal_at
    with Sandbox() as sb:
        customer(sb)
        file = invoices(tmp_path / "a.csv", 3)
        destination = VismaDestination(connection(sb), journal=path)
        report = send(check(file, load_type("customer_invoice")), destination)
    proc = subprocess.run(
        [sys.executable, "-m", "importer", "runs", "--journal", str(path), "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    [run] = json.loads(proc.stdout)
    assert run["id"] == report.extra["run"] and run["outcome"] == "done"
    assert run["counts"] == {"created": 6} and run["doctype"] == "customer_invoice"
    assert run["file"] == str(file) and len(run["sha256"]) == 64 and run["ended"]
    assert run["host"] and run["pid"] == os.getpid() and run["mode"] == "create"


def test_an_unanswered_create_without_a_reference_is_kept_unknown(tmp_path: Path) -> None:
    # A customer grouped by a Document ID: Visma numbers it, and the type has
    # no reference field to carry the key in.
    rows = [["Document ID", "Customer name"], ["D1", "Alfa AS"]]
    batch = check(write_csv(tmp_path / "d.csv", rows), load_type("customer"))
    path = tmp_path / "j.sqlite"
    with Sandbox(SandboxConfig(company="empty")) as sb:  # its customers: the test's own
        customer(sb)
        target = connection(sb).target
        journal = Journal(path)  # an earlier run sent it and heard nothing
        journal.write(target, "customer", "D1", hash="h", state="sending")
        journal.close()
        report = send(batch, VismaDestination(connection(sb), journal=path))
        [row] = report.results
        assert (row.status, row.code) == ("unknown", "outcome-unknown")
        assert "--resend-unknown" in row.message and sb.count("customer") == 1  # 10000 only
        again = send(batch, VismaDestination(connection(sb), journal=path))
        assert again.results[0].status == "unknown"  # the next run keeps it unknown
        resent = send(batch, VismaDestination(connection(sb), journal=path, resend_unknown=True))
        assert resent.results[0].status == "created" and sb.count("customer") == 2


def test_a_sqlite_journal_copied_into_postgresql_knows_what_was_sent(
    tmp_path: Path, postgres: str
) -> None:
    from postgres import fresh_database

    sqlite_path = tmp_path / "j.sqlite"
    with Sandbox() as sb:
        customer(sb)
        file = invoices(tmp_path / "a.csv", 5)
        send(check(file, load_type("customer_invoice")),
             VismaDestination(connection(sb), journal=sqlite_path))  # fmt: skip
        url = fresh_database(postgres, "copied")
        proc = subprocess.run(
            [sys.executable, "-m", "importer", "journal", "copy", str(sqlite_path), url],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "copied 5 entries and 1 runs" in proc.stdout
        again = send(check(file, load_type("customer_invoice")),
                     VismaDestination(connection(sb), journal=url))  # fmt: skip
        assert again.counts() == {"unchanged": 10} and again.extra["calls"] == 0
        again_copy = subprocess.run(
            [sys.executable, "-m", "importer", "journal", "copy", str(sqlite_path), url],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert again_copy.returncode == 2 and "not empty" in again_copy.stderr
        assert sb.count("customer_invoice") == 5


def test_a_create_committed_after_the_client_gave_up_is_found_not_sent_again(
    tmp_path: Path,
) -> None:
    faults = Faults(late_commit=0.5, late_commit_seconds=1.0, seed=3)
    with Sandbox(SandboxConfig(faults=faults)) as sb:
        customer(sb)
        batch = check(invoices(tmp_path / "a.csv", 12), load_type("customer_invoice"))
        destination = VismaDestination(
            connection(sb), journal=tmp_path / "j.sqlite", unknown_grace=2.0
        )
        report = send(batch, destination, workers=4)
        counts = references(sb)
        assert len(counts) == 12 and max(counts.values()) == 1
        assert report.counts() == {"created": 24}
        late = [r for r in report.results if "answered late" in r.message]
        assert late  # some were committed late, found by the lookup at the end


def test_the_same_500_twice_is_a_refusal_with_vismas_words(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(faults=Faults(error_500_on="Kaputt"))) as sb:
        customer(sb)
        rows = invoices(tmp_path / "a.csv", 3)
        text = rows.read_text(encoding="utf-8").replace(
            "WEB-00001;10000;2025-03-03;Mars", "WEB-00001;10000;2025-03-03;Kaputt"
        )
        rows.write_text(text, encoding="utf-8")
        batch = check(rows, load_type("customer_invoice"))
        report = send(batch, VismaDestination(
            connection(sb), journal=tmp_path / "j.sqlite", unknown_grace=0.1))  # fmt: skip
        by_key = {r.key: r for r in report.results}
        bad = by_key["WEB-00001"]
        assert (bad.status, bad.http_status, bad.code) == ("failed", 500, "http-5xx")
        assert "refused it twice with the same error: VismaId: " in bad.message
        assert bad.message.endswith("An error has occurred.")  # Visma's own words
        assert sb.count("customer_invoice") == 2 and report.exit_code == 1


def test_document_id_invoices_carry_their_key_and_are_found_after_dropped_answers(
    tmp_path: Path,
) -> None:
    header = ["Document ID", "Customer number", "Invoice date", "Item number", "Quantity"]
    rows = [header, *([f"D{i:03}", "10000", "2025-03-03", "000123", "1"] for i in range(60))]
    file = write_csv(tmp_path / "d.csv", rows)
    journal = tmp_path / "j.sqlite"
    with Sandbox(SandboxConfig(faults=Faults(drop_after_commit=0.2, seed=5))) as sb:
        customer(sb)
        for run in range(3):
            batch = check(file, load_type("customer_invoice"))
            destination = VismaDestination(connection(sb), journal=journal, unknown_grace=0.1)
            report = send(batch, destination, workers=4)
            refs = collections.Counter(d.get("externalReference") for d in sb.documents(
                "customer_invoice"))  # fmt: skip
            assert max(refs.values()) == 1, run  # never twice
            expected = {"created": 60} if run == 0 else {"unchanged": 60}
            assert report.counts() == expected, (run, report.counts())
            if run == 0:  # answers were dropped, and the documents found by their key
                assert any("found by a lookup" in r.message for r in report.results)
        assert set(refs) == {f"D{i:03}" for i in range(60)}  # each Document ID, once
        dropped = [r for r in report.results if "answered late" in r.message]
        assert not dropped  # the last run had nothing to look up


def test_a_fresh_journal_finds_what_is_in_visma_in_one_narrowed_pass(tmp_path: Path) -> None:
    with Sandbox() as sb:
        customer(sb)
        older = invoices(tmp_path / "older.csv", 120, lines=1)  # last year's: not in the pass
        text = older.read_text(encoding="utf-8").replace("2025-03-03", "2024-03-03")
        older.write_text(text.replace("WEB-", "OLD-"), encoding="utf-8")
        file = invoices(tmp_path / "a.csv", 250, lines=1)
        for source in (older, file):
            send(check(source, load_type("customer_invoice")),
                 VismaDestination(connection(sb), journal=tmp_path / "first.sqlite"))  # fmt: skip
        assert sb.count("customer_invoice") == 370
        fresh = VismaDestination(connection(sb), journal=tmp_path / "fresh.sqlite")
        report = send(check(file, load_type("customer_invoice")), fresh)
        assert sb.count("customer_invoice") == 370  # no POST
        assert report.counts() == {"exists in Visma": 250} and report.exit_code == 0
        assert all(r.number for r in report.results)
        # 250 invoices of the batch's dates: three pages of 100, and no other call
        assert report.extra["lookup_calls"] == 3 and report.extra["calls"] == 3


def test_customers_without_numbers_are_keyed_by_what_names_them_never_by_row(
    tmp_path: Path,
) -> None:
    header = ["Customer name", "Corporate ID", "Postal code"]
    first = write_csv(tmp_path / "a.csv", [header, ["Alfa AS", "911111111", "0150"],
                                            ["Beta AS", "", "5003"]])  # fmt: skip
    # Other customers in the same rows, and Beta's corrected address.
    second = write_csv(tmp_path / "b.csv", [header, ["Gamma AS", "933333333", "4610"],
                                             ["beta as", "", "5003"],
                                             ["Alfa AS", "911111111", "0151"]])  # fmt: skip
    journal = tmp_path / "j.sqlite"
    with Sandbox(SandboxConfig(company="empty")) as sb:  # its customers: the test's own

        def run(path: Path, mode: str, where: Path = journal) -> dict[str, str]:
            report = send(check(path, load_type("customer")),
                          VismaDestination(connection(sb), journal=where), mode=mode)  # fmt: skip
            return {r.key: r.status for r in report.results}

        assert run(first, "create") == {
            "corporateId=911111111": "created",
            "name=Beta AS; mainAddress.postalCode=5003": "created",
        }
        # create: Gamma is new; Beta is Beta (its name in other case), Alfa is Alfa
        assert run(second, "create") == {
            "corporateId=933333333": "created",
            "name=beta as; mainAddress.postalCode=5003": "exists in Visma",
            "corporateId=911111111": "skipped",  # created before, changed since
        }
        assert sb.count("customer") == 3
        assert run(second, "upsert")["corporateId=911111111"] == "updated"
        by_org = {d.get("corporateId"): d for d in sb.documents("customer")}
        assert by_org["911111111"]["mainAddress"]["postalCode"] == "0151"
        # Without the journal: each is found by what names it; none is made twice.
        fresh = run(second, "create", tmp_path / "fresh.sqlite")
        assert set(fresh.values()) == {"exists in Visma"}
        assert sb.count("customer") == 3


def test_a_customer_without_number_or_anything_naming_it_is_an_error(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", [["Customer name", "City"], ["Alfa AS", "Oslo"]])
    [row] = validation_report(check(src, load_type("customer"))).results
    assert row.status == "invalid" and row.issues[0].code == "missing-key"
    assert "never created twice" in row.issues[0].message


def test_a_number_from_the_file_is_asked_for_and_checked(tmp_path: Path) -> None:
    rows = [["Invoice number", "Customer number", "Invoice date", "Item number", "Quantity"],
            ["700001", "10000", "2025-03-03", "000123", "1"]]  # fmt: skip
    src = write_csv(tmp_path / "n.csv", rows)
    batch = check(src, load_type("customer_invoice"))
    [request] = [r.body for r in __import__("importer").render_requests(batch)]
    assert request["overrideNumberSeries"] == {"value": True}  # the template says so
    # A type whose template does not ask: Visma's number series numbers it.
    types = tmp_path / "types"
    (types / "schemas").mkdir(parents=True)
    (types / "templates").mkdir()
    root = Path(__file__).resolve().parents[1]
    (types / "schemas" / "customer_invoice.schema.json").write_bytes(
        (root / "schemas" / "customer_invoice.schema.json").read_bytes()
    )
    text = (root / "templates" / "customer_invoice.json.j2").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if '"overrideNumberSeries"' in x)
    (types / "templates" / "customer_invoice.json.j2").write_text(
        text.replace(line + "\n", ""), encoding="utf-8"
    )
    with Sandbox() as sb:
        customer(sb)
        asked = send(check(src, load_type("customer_invoice")),
                     VismaDestination(connection(sb), journal=tmp_path / "a.sqlite"))  # fmt: skip
        assert [(r.status, r.number, r.code) for r in asked.results] == [("created", "700001", "")]
        src2 = write_csv(tmp_path / "n2.csv", [rows[0], ["700002", *rows[1][1:]]])
        unasked = send(check(src2, load_type("customer_invoice", types_dirs=[types])),
                       VismaDestination(connection(sb), journal=tmp_path / "b.sqlite"))  # fmt: skip
        [row] = unasked.results
        assert row.status == "created" and row.number != "700002"
        assert row.code == "number-assigned" and "not as 700002" in row.message
        assert unasked.exit_code == 1


def test_an_update_keeps_what_the_document_was_in_visma(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    header = ["Customer number", "Name"]
    with Sandbox() as sb:
        for name, mode in (("Alfa AS", "create"), ("Alfa Holding AS", "update")):
            src = write_csv(tmp_path / f"{mode}.csv", [header, ["10001", name]])
            send(check(src, load_type("customer")), VismaDestination(connection(sb), journal=path),
                 mode=mode)  # fmt: skip
        journal = Journal(path)
        before = journal.pre_image(connection(sb).target, "customer", "10001")
        journal.close()
    assert before["name"] == "Alfa AS"  # as it was in Visma before the update, for an undo


@pytest.mark.parametrize("how", ["emptied", "replaced"])
def test_a_journal_emptied_or_replaced_mid_run_refuses_the_next_claim(
    tmp_path: Path, how: str
) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    assert journal.claim("t", "customer", "1", "run").busy == ""
    if how == "emptied":
        path.write_bytes(b"")
    else:
        other = Journal(tmp_path / "other.sqlite")
        other.close()
        os.replace(tmp_path / "other.sqlite", path)
    with pytest.raises(JournalError, match=f"was {how}"):
        journal.claim("t", "customer", "2", "run")
    journal.close()
