"""`vnimport undo RUN [--dry-run]` against the sandbox over real sockets, run
as a user runs it, on real csv and xlsx files: each document taken back the
way the API allows (deleted, reversed, voided, set inactive, put back from
the journal's copy), what cannot be listed with what to do by hand, nothing
touched that changed since the run; a dry run that changes nothing, a
second undo that does nothing, an undo killed midway that the next finishes.

Where a test must stop the sandbox at a given step (to kill vnimport while
Visma works on a request, or to keep a background step from finishing), it
holds the sandbox's own function for that step until the test lets it go:
never a sleep that a slow machine would make too short."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, Api, write_csv, write_xlsx
from openapi import spec
from test_api import env_for, vnimport

from importer.doctypes import Registry
from importer.errors import DocTypeError
from importer.report import report_paths
from importer.sandbox import DEMO_SECRET, Faults, Sandbox, SandboxConfig
from importer.sandbox import documents as D
from importer.targets.journal import Journal
from importer.undo.rules import undo_rules

LONG = 60.0  # seconds: a bound no test waits for unless something is broken
INVOICES = ["External reference", "Customer number", "Invoice date", "Item number"]
INVOICES += ["Quantity", "Unit price", "VAT code", "Account"]
SUPPLIER_INVOICES = ["Supplier invoice number", "Document type", "Supplier number"]
SUPPLIER_INVOICES += ["Invoice date", "Item number", "Quantity", "Unit cost", "Account"]


def invoice(ref: str, customer: str = "11001", qty: int = 10) -> list[object]:
    return [ref, customer, "2025-03-10", "000123", qty, "189.50", "31", "3000"]


def supplier_invoice(ref: str) -> list[object]:
    return [ref, "Invoice", "51001", "2025-03-10", "000123", 5, 100, "4300"]


# ------------------------------------------------------------ the harness


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(release_seconds=0.05)) as sandbox:
        yield sandbox


class User:
    """vnimport as a user runs it against one sandbox, with one journal."""

    def __init__(self, sb: Sandbox, folder: Path) -> None:
        self.sb = sb
        self.folder = folder
        self.journal = folder / "journal.sqlite"
        self.env = env_for(sb)
        self.reports = 0

    def file(self, name: str, header: list[str], *rows: list[object]) -> Path:
        path = self.folder / name
        if name.endswith(".xlsx"):
            return write_xlsx(path, [header, *rows])
        return write_csv(path, [header, *rows])

    def run(self, path: Path, doctype: str, *options: str, code: int = 0) -> str:
        """``vnimport run``; the run's id."""
        proc = vnimport(
            "run", str(path), "--type", doctype, "--journal", str(self.journal), *options,
            env=self.env,
        )  # fmt: skip
        assert proc.returncode == code, proc.stderr
        return self.runs()[0]

    def runs(self) -> list[str]:
        journal = Journal(self.journal, read_only=True)
        try:
            return [r.id for r in journal.runs()]
        finally:
            journal.close()

    def undo(self, run: str, *options: str, code: int = 0) -> dict[str, Any]:
        """``vnimport undo RUN --report ...``: the report's summary, with
        ``status`` (key -> status) and ``codes`` (key -> code) beside."""
        self.reports += 1
        report = self.folder / f"undo-{self.reports}"
        proc = self.undo_proc(run, "--report", str(report), *options)
        said = proc.stdout + proc.stderr
        assert proc.returncode == code, said
        assert "Traceback" not in said and DEMO_SECRET not in said, said
        summary: dict[str, Any] = json.loads(report_paths(report)["json"].read_text("utf-8"))
        docs = summary["documents"]
        summary["status"] = {d["key"]: d["status"] for d in docs}
        summary["codes"] = {d["key"]: d["code"] for d in docs}
        summary["messages"] = {d["key"]: d["message"] for d in docs}
        summary["said"] = said
        assert report_paths(report)["xlsx"].exists() and report_paths(report)["csv"].exists()
        return summary

    def undo_proc(self, run: str, *options: str) -> subprocess.CompletedProcess[str]:
        result: subprocess.CompletedProcess[str] = vnimport(
            "undo", run, "--journal", str(self.journal), *options, env=self.env
        )
        return result

    def start_undo(self, run: str, *options: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "importer", "undo", run, "--journal", str(self.journal),
             *options],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip

    def newest_first(self, run: str) -> list[str]:
        """The run's documents, the last it came to first (its workers send
        several at once: not always the file's order)."""
        journal = Journal(self.journal, read_only=True)
        try:
            return [d.key for d in sorted(journal.run_documents(run), key=lambda d: -d.seq)]
        finally:
            journal.close()

    def undo_states(self, run: str) -> dict[str, str]:
        journal = Journal(self.journal, read_only=True)
        try:
            return {d.key: d.undo_state for d in journal.run_documents(run)}
        finally:
            journal.close()

    def journal_sql(self, sql: str, *params: object) -> None:
        """Change the journal as another vnimport, or a run killed at a
        given moment, would have left it."""
        db = sqlite3.connect(self.journal)
        try:
            db.execute(sql, params)
            db.commit()
        finally:
            db.close()

    def visma(self) -> dict[str, list[dict[str, Any]]]:
        """Every document of every kind in the sandbox, as stored."""
        return {kind: self.sb.documents(kind) for kind in D.KINDS}

    def doc(self, kind: str, number: str) -> dict[str, Any] | None:
        assert self.sb.server is not None
        return self.sb.server.store.get("demo-company", kind, number)


@pytest.fixture
def user(sb: Sandbox, tmp_path: Path) -> User:
    return User(sb, tmp_path)


class Hold:
    """A function of the sandbox held on its ``n``-th call until the test
    lets it go: ``reached`` is set when it is held."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str, n: int = 1) -> None:
        self.reached = threading.Event()
        self.go = threading.Event()
        self.fail = False  # let go: fail instead of doing the work
        self.calls = 0
        real = getattr(D, name)

        def held(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == n:
                self.reached.set()
                assert self.go.wait(LONG), "never let go"
                if self.fail:
                    raise RuntimeError("the sandbox fails this request")
            return real(*args, **kwargs)

        monkeypatch.setattr(D, name, held)


def held_background(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Keep the sandbox's background work (releases, voids) from being done
    until the function returned is called."""
    assert sb.server is not None
    held: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
    monkeypatch.setattr(sb.server, "later", lambda seconds, work, *args: held.append((work, args)))

    def finish() -> None:
        for work, args in held:
            work(*args)
        held.clear()

    return finish


# ------------------------------------------------------------ the type facts


def _operation(method: str, path: str) -> dict[str, Any] | None:
    want = ["{}" if s.startswith("{") else s.lower() for s in path.strip("/").split("/")]
    for p, ops in spec()["paths"].items():
        have = ["{}" if s.startswith("{") else s.lower() for s in p.strip("/").split("/")]
        if have == want and method.lower() in ops:
            return ops[method.lower()]  # type: ignore[no-any-return]
    return None


@pytest.mark.parametrize("name", Registry().names())
def test_every_undo_call_is_one_the_spec_has(name: str) -> None:
    doctype = Registry().get(name)
    rules = undo_rules(doctype.schema)
    assert rules is not None, f"{name} says nothing of how it is undone"
    assert rules.by_hand, name
    for rule in (*rules.created, *rules.updated):
        if rule.call:
            assert _operation(rule.method, rule.path) is not None, rule.call
        if rule.note_type:
            assert Registry().get(rule.note_type).releasable
    # What the API can delete, the schema deletes, and the sandbox serves: the spec's
    # DELETE on the type's documents (user-needs.md §2.1).
    where = doctype.endpoint("get")[1]
    deletes = [r for r in rules.created if r.do == "delete"]
    assert bool(deletes) == (_operation("DELETE", where) is not None), name
    assert bool(deletes) == D.KINDS[name].deletable, name
    # Customers and suppliers have no DELETE: the run's are set inactive.
    inactivates = [r for r in rules.created if r.do == "inactivate"]
    assert bool(inactivates) == (doctype.lines is None), name


# ------------------------------------------------------------ each type


def _snapshot_unchanged(user: User, run: str, work: Callable[[], Any]) -> Any:
    """``work`` (a dry run) changes nothing: in Visma, or in the journal."""
    before, states = user.visma(), user.undo_states(run)
    result = work()
    assert user.visma() == before
    assert user.undo_states(run) == states
    return result


def test_created_customers_are_set_inactive(user: User) -> None:
    path = user.file(
        "customers.csv",
        ["Customer number", "Customer name", "Status"],
        ["90001", "Ny Kunde AS", "Active"],
        ["90002", "Sovende Kunde AS", "Inactive"],
    )
    run = user.run(path, "customer")
    dry = _snapshot_unchanged(user, run, lambda: user.undo(run, "--dry-run"))
    assert dry["status"] == {"90001": "would inactivate", "90002": "nothing to undo"}
    assert dry["messages"]["90001"] == "would set it inactive (the API cannot delete a customer)"
    assert dry["messages"]["90002"] == "it is Inactive already"
    assert list(dry["status"]) == user.newest_first(run)
    done = user.undo("last")
    assert done["status"] == {"90001": "inactivated", "90002": "nothing to undo"}
    assert done["messages"]["90001"] == "set inactive (the API cannot delete a customer)"
    assert {c["number"]: c["status"] for c in user.sb.documents("customer")}["90001"] == "Inactive"
    _undone_twice(user, run, done)


def _undone_twice(user: User, run: str, first: dict[str, Any]) -> None:
    """A second undo does nothing: no call, nothing changed, each document as before."""
    before = user.visma()
    again = user.undo(run, code=1 if "manual" in first["status"].values() else 0)
    assert again["calls"] == 0
    assert again["status"] == first["status"]
    assert all(d["earlier"] for d in again["documents"])
    assert all(
        m.endswith("(by an earlier undo; nothing done now)") for m in again["messages"].values()
    )
    assert user.visma() == before


def test_an_updated_customer_is_put_back_as_it_was(user: User) -> None:
    seed = user.doc("customer", "11002")
    assert seed is not None
    path = user.file(
        "rename.xlsx",
        ["Customer number", "Customer name", "City"],
        ["11002", "Nytt Navn AS", "Os"],
    )
    run = user.run(path, "customer", "--mode", "update")
    changed = user.doc("customer", "11002")
    assert changed is not None and changed["name"] == "Nytt Navn AS"
    dry = _snapshot_unchanged(user, run, lambda: user.undo(run, "--dry-run"))
    assert dry["status"] == {"11002": "would restore"}
    assert dry["messages"]["11002"] == (
        "would put back name, mainAddress as Visma showed them before the run"
    )
    done = user.undo(run)
    assert done["status"] == {"11002": "restored"}
    # overrideNumberSeries is an instruction Visma does not show: it cannot be put back
    assert "overrideNumberSeries: Visma does not show it" in done["messages"]["11002"]
    now = user.doc("customer", "11002")
    assert now is not None
    volatile = ("lastModifiedDateTime", "timeStamp")
    assert {k: v for k, v in now.items() if k not in volatile} == {
        k: v for k, v in seed.items() if k not in volatile
    }
    _undone_twice(user, run, done)
    # the journal no longer says it is in Visma as the file had it: a run sends it again
    again = vnimport(
        "run", str(path), "--type", "customer", "--mode", "update", "--journal", str(user.journal),
        env=user.env,
    )  # fmt: skip
    assert again.returncode == 0 and "1 updated" in again.stderr, again.stderr


def test_an_update_whose_copy_cannot_be_put_back_whole_is_listed(user: User) -> None:
    """A phone number the customer did not have before: Visma (as the
    sandbox) keeps a nested field that an update sends empty, so it stays;
    undo says which field differs from the copy, rather than claim it restored."""
    seed = user.doc("customer", "11003")
    assert seed is not None and "phone1" not in seed.get("mainContact", {})
    path = user.file(
        "phone.csv",
        ["Customer number", "Customer name", "Phone"],
        ["11003", seed["name"], "+47 55 00 00 00"],
    )
    run = user.run(path, "customer", "--mode", "update")
    done = user.undo(run, code=1)
    assert done["status"] == {"11003": "manual"} and done["codes"]["11003"] == "undo-partial"
    assert "mainContact.phone1 still differ" in done["messages"]["11003"]


def test_unreleased_invoices_are_deleted_newest_first(user: User) -> None:
    path = user.file("invoices.csv", INVOICES, invoice("T-1"), invoice("T-2", "11002"))
    run = user.run(path, "customer_invoice")
    dry = _snapshot_unchanged(user, run, lambda: user.undo(run, "--dry-run"))
    assert list(dry["status"]) == user.newest_first(run)
    assert set(dry["status"].values()) == {"would delete"}
    assert dry["calls"] == 2  # one read each
    done = user.undo(run)
    assert done["status"] == {"T-2": "deleted", "T-1": "deleted"}
    assert user.sb.documents("customer_invoice") == []
    _undone_twice(user, run, done)
    # taken back: the same file imports again (the journal no longer has them as sent)
    again = user.run(path, "customer_invoice")
    assert len(user.sb.documents("customer_invoice")) == 2 and again != run


def test_a_released_invoice_is_reversed_by_a_released_credit_note(user: User) -> None:
    path = user.file("released.xlsx", INVOICES, invoice("R-1"))
    run = user.run(path, "customer_invoice", "--release")
    (made,) = user.sb.documents("customer_invoice")
    assert made["status"] == "Open"
    dry = _snapshot_unchanged(user, run, lambda: user.undo(run, "--dry-run"))
    assert dry["status"] == {"R-1": "would reverse"}
    assert dry["messages"]["R-1"] == (
        "would reverse it with a customer credit note, and release that"
    )
    done = user.undo(run)
    (note,) = user.sb.documents("customer_credit_note")
    assert done["status"] == {"R-1": "reversed"}
    assert done["messages"]["R-1"] == (
        f"reversed by customer credit note {note['referenceNumber']}, released"
    )
    (invoice_now,) = user.sb.documents("customer_invoice")
    assert (invoice_now["status"], invoice_now["balance"]) == ("Closed", 0.0)
    assert (note["status"], note["amount"]) == ("Closed", made["amount"])
    _undone_twice(user, run, done)


def test_credit_notes_and_supplier_invoices_are_deleted_or_voided(user: User) -> None:
    notes = user.file(
        "notes.csv",
        ["External reference", "Customer number", "Credit note date", "Item number", "Quantity"],
        ["C-1", "11001", "2025-03-10", "000123", 1],
    )
    bills = user.file("bills.csv", SUPPLIER_INVOICES, supplier_invoice("S-1"))
    released = user.file("released-bills.xlsx", SUPPLIER_INVOICES, supplier_invoice("S-2"))
    runs = [
        user.run(notes, "customer_credit_note"),
        user.run(bills, "supplier_invoice"),
        user.run(released, "supplier_invoice", "--release"),
    ]
    expected = [("C-1", "delete"), ("S-1", "delete"), ("S-2", "void")]
    for run, (key, verb) in zip(runs, expected, strict=True):
        dry = _snapshot_unchanged(user, run, lambda run=run: user.undo(run, "--dry-run"))
        assert dry["status"] == {key: f"would {verb}"}
        done = user.undo(run)
        assert done["status"] == {key: {"delete": "deleted", "void": "voided"}[verb]}
        _undone_twice(user, run, done)
    assert user.sb.documents("customer_credit_note") == []
    (voided,) = user.sb.documents("supplier_invoice")
    assert (voided["supplierReference"], voided["status"], voided["balance"]) == (
        "S-2", "Voided", 0.0,
    )  # fmt: skip


def test_what_the_api_cannot_take_back_is_listed_with_what_to_do(user: User) -> None:
    debit = user.file(
        "debit.csv",
        ["External reference", "Customer number", "Debit note date", "Item number", "Quantity"],
        ["D-1", "11001", "2025-03-10", "000123", 1],
    )
    orders = user.file(
        "orders.xlsx",
        [
            *("Document ID", "Supplier number", "Order date", "Line type", "Item number"),
            *("Order quantity", "Unit cost"),
        ],
        ["P-1", "51001", "2025-03-10", "GoodsForInventory", "000123", 5, 100],
    )
    for path, doctype, key, says in (
        (debit, "customer_debit_note", "D-1", "Customer ledger > Debit notes"),
        (orders, "purchase_order", "P-1", "Purchases > Purchase orders"),
    ):
        run = user.run(path, doctype)
        before = user.visma()
        for dry in (True, False):
            found = user.undo(run, *(["--dry-run"] if dry else []), code=1)
            assert found["status"] == {key: "manual"}, found
            assert found["codes"] == {key: "undo-by-hand"}
            assert found["documents"][0]["action"] == "by hand"
            assert found["messages"][key].startswith("status ")
            assert "the API cannot take it back" in found["messages"][key]
            assert says in found["messages"][key]
        assert user.visma() == before
        _undone_twice(user, run, found)


def test_an_updated_invoice_gets_its_lines_back(user: User) -> None:
    first = user.file(
        "two-lines.csv", INVOICES, invoice("U-1", qty=10), ["U-1", "11001", "2025-03-10",
                                                           "000245", 2, 20, "31", "3000"],
    )  # fmt: skip
    user.run(first, "customer_invoice")
    (before,) = user.sb.documents("customer_invoice")
    changed = user.file(
        "one-line.csv", [*INVOICES, "Invoice text"], [*invoice("U-1", qty=3), "Changed"]
    )
    run = user.run(changed, "customer_invoice", "--mode", "update")
    (middle,) = user.sb.documents("customer_invoice")
    assert len(middle["invoiceLines"]) == 1 and middle["invoiceText"] == "Changed"
    done = user.undo(run)
    assert done["status"] == {"U-1": "restored"}
    assert done["messages"]["U-1"] == "put back as Visma showed it before the run"
    (after,) = user.sb.documents("customer_invoice")
    volatile = ("lastModifiedDateTime", "timeStamp")
    assert {k: v for k, v in after.items() if k not in volatile} == {
        k: v for k, v in before.items() if k not in volatile
    }


# ------------------------------------------------------------ never touched


def test_a_document_changed_behind_vnimports_back_is_left_alone(user: User) -> None:
    path = user.file("invoices.csv", INVOICES, invoice("T-1"), invoice("T-2"))
    run = user.run(path, "customer_invoice")
    numbers = {
        d["externalReference"]: d["referenceNumber"] for d in user.sb.documents("customer_invoice")
    }
    api = Api(user.sb)
    reply = api(
        "PUT",
        f"/v1/customerinvoice/{numbers['T-1']}",
        json={"invoiceText": {"value": "Fixed by hand"}},
    )
    assert reply.status_code == 204, reply.text
    dry = user.undo(run, "--dry-run", code=1)
    assert dry["status"] == {"T-2": "would delete", "T-1": "manual"}
    done = user.undo(run, code=1)
    assert done["status"] == {"T-2": "deleted", "T-1": "manual"}
    assert done["codes"]["T-1"] == "undo-changed"
    assert done["messages"]["T-1"].startswith("changed in Visma since the run")
    assert "Customer ledger > Customer invoices" in done["messages"]["T-1"]
    (kept,) = user.sb.documents("customer_invoice")
    assert (kept["externalReference"], kept["invoiceText"]) == ("T-1", "Fixed by hand")
    _undone_twice(user, run, done)


def test_a_paid_invoice_is_left_alone(user: User) -> None:
    path = user.file("paid.csv", INVOICES, invoice("P-1"))
    run = user.run(path, "customer_invoice", "--release")
    (doc,) = user.sb.documents("customer_invoice")
    assert user.sb.server is not None
    store = user.sb.server.store
    with store.transaction() as db:  # a payment of 500, as Visma's payments screen makes one
        paid = {**doc, "balance": doc["balance"] - 500, "balanceInCurrency": doc["balance"] - 500}
        store.put(db, "demo-company", "customer_invoice", doc["referenceNumber"], paid)
    done = user.undo(run, code=1)
    assert done["status"] == {"P-1": "manual"} and done["codes"]["P-1"] == "undo-paid"
    assert done["messages"]["P-1"].startswith(f"paid since the run (balance {paid['balance']} of")
    assert user.sb.documents("customer_credit_note") == []


def test_what_vnimport_cannot_be_sure_of_is_left_alone(user: User) -> None:
    """A document whose ETag the journal lacks, one the run got no answer
    for, an update without the copy from before it, a run that changed
    nothing, a document deleted since, a release the run left queued."""
    path = user.file("many.csv", INVOICES, invoice("E-1"), invoice("E-2"), invoice("E-3"))
    run = user.run(path, "customer_invoice")
    numbers = {
        d["externalReference"]: d["referenceNumber"] for d in user.sb.documents("customer_invoice")
    }
    user.journal_sql("UPDATE run_documents SET etag='' WHERE key='E-1'")  # Visma gave none
    user.journal_sql("UPDATE run_documents SET status='unknown' WHERE key='E-2'")  # no answer
    done = user.undo(run, code=1)
    assert done["codes"] == {"E-3": "", "E-2": "undo-unknown", "E-1": "undo-no-etag"}
    assert done["status"] == {"E-3": "deleted", "E-2": "manual", "E-1": "manual"}
    assert done["messages"]["E-2"].startswith("the run sent it and got no answer")
    assert done["messages"]["E-1"].startswith("Visma gave no ETag for it to the run")
    left = {d["referenceNumber"] for d in user.sb.documents("customer_invoice")}
    assert left == {numbers["E-1"], numbers["E-2"]}
    # the file again: E-3 is sent again (it was taken back), the others are as sent
    same = user.run(path, "customer_invoice")
    nothing = user.undo(same)
    assert nothing["status"] == {
        "E-3": "deleted",
        "E-2": "nothing to undo",
        "E-1": "nothing to undo",
    }
    assert nothing["messages"]["E-1"] == "the run left it unchanged"


def test_documents_gone_since_the_run_or_without_a_copy(user: User) -> None:
    path = user.file("two.csv", INVOICES, invoice("G-1"), invoice("G-2"))
    user.run(path, "customer_invoice")
    created = user.runs()[0]
    numbers = {
        d["externalReference"]: d["referenceNumber"] for d in user.sb.documents("customer_invoice")
    }
    changed = user.file("two-changed.csv", INVOICES, invoice("G-1", qty=3), invoice("G-2", qty=3))
    updated = user.run(changed, "customer_invoice", "--mode", "update")
    user.journal_sql("UPDATE run_documents SET pre_image='' WHERE key='G-2' AND run_id=?", updated)
    assert user.sb.server is not None
    with user.sb.server.store.transaction() as db:  # deleted in Visma's screens since
        user.sb.server.store.delete(db, "demo-company", "customer_invoice", numbers["G-1"])
    done = user.undo(updated, code=1)
    assert done["codes"] == {"G-2": "undo-no-copy", "G-1": "undo-not-found"}
    assert done["status"] == {"G-2": "manual", "G-1": "manual"}
    first = user.undo(created, code=1)  # G-2 was changed by the later run
    assert first["status"] == {"G-2": "manual", "G-1": "nothing to undo"}
    assert first["codes"] == {"G-2": "undo-changed", "G-1": "undo-gone"}
    assert first["messages"]["G-1"] == "it is not in Visma any more"


def test_a_type_vnimport_cannot_find_is_left_for_a_person(user: User, tmp_path: Path) -> None:
    types = tmp_path / "types"
    types.mkdir()
    schema = json.loads((ROOT / "schemas" / "customer.schema.json").read_text("utf-8"))
    del schema["x-undo"]
    (types / "kunde.schema.json").write_text(json.dumps(schema), "utf-8")
    shutil.copy(ROOT / "templates" / "customer.json.j2", types / "kunde.json.j2")
    path = user.file("kunder.csv", ["Customer number", "Customer name"], ["90011", "Egen Type AS"])
    run = user.run(path, "kunde", "--types-dir", str(types))
    for options in ((), ("--types-dir", str(types))):
        found = user.undo_proc(run, "--dry-run", *options)
        assert found.returncode == 1, found.stderr
        assert "vnimport knows no way to take back a kunde" in found.stderr


def test_a_release_the_run_left_queued_may_be_the_change(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    finish = held_background(user.sb, monkeypatch)
    path = user.file("queued.csv", INVOICES, invoice("Q-1"))
    run = user.run(path, "customer_invoice", "--release", "--release-wait", "0", code=1)
    finish()  # Visma releases it after the run went on
    done = user.undo(run, code=1)
    assert done["codes"] == {"Q-1": "undo-changed"}
    assert "perhaps only by the release the run left queued" in done["messages"]["Q-1"]


# ------------------------------------------------------------ killed, stopped, pending


@pytest.mark.parametrize("deleted", [True, False], ids=["done-by-visma", "not-done"])
def test_an_undo_killed_midway_is_finished_by_the_next(
    user: User, monkeypatch: pytest.MonkeyPatch, deleted: bool
) -> None:
    path = user.file("three.csv", INVOICES, invoice("K-1"), invoice("K-2"), invoice("K-3"))
    run = user.run(path, "customer_invoice")
    hold = Hold(monkeypatch, "delete", n=2)  # the second DELETE: K-2's
    proc = user.start_undo(run)
    try:
        assert hold.reached.wait(LONG), "the undo never came to K-2"
        proc.send_signal(signal.SIGKILL)
        proc.wait(LONG)
    finally:
        hold.fail = not deleted
        hold.go.set()
    first, second, third = user.newest_first(run)
    assert user.undo_states(run) == {first: "deleted", second: "deleting", third: ""}
    done = user.undo(run)
    assert done["status"] == {first: "deleted", second: "deleted", third: "deleted"}
    assert [d["earlier"] for d in done["documents"]] == [True, False, False]
    assert user.sb.documents("customer_invoice") == []


def test_a_stopped_undo_says_what_it_did_not_undo(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = user.file("three.csv", INVOICES, invoice("S-1"), invoice("S-2"), invoice("S-3"))
    run = user.run(path, "customer_invoice")
    hold = Hold(monkeypatch, "delete", n=1)
    report = user.folder / "stopped"
    proc = user.start_undo(run, "--report", str(report))
    try:
        assert hold.reached.wait(LONG)
        proc.send_signal(signal.SIGINT)  # Ctrl-C: the step in flight finishes, no new one starts
    finally:
        hold.go.set()
    assert proc.wait(LONG) == 1
    summary = json.loads(report_paths(report)["json"].read_text("utf-8"))
    first, second, third = user.newest_first(run)
    assert [(d["key"], d["status"]) for d in summary["documents"]] == [
        (first, "deleted"), (second, "not undone"), (third, "not undone"),
    ]  # fmt: skip
    assert summary["documents"][1]["message"] == "not undone: undo was stopped before it"
    done = user.undo(run)
    assert set(done["status"].values()) == {"deleted"}


def test_a_reverse_killed_before_its_answer_is_left_in_doubt(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = user.file("released.csv", INVOICES, invoice("R-1"))
    run = user.run(path, "customer_invoice", "--release")
    hold = Hold(monkeypatch, "reverse")
    proc = user.start_undo(run)
    try:
        assert hold.reached.wait(LONG)
        proc.send_signal(signal.SIGKILL)
        proc.wait(LONG)
    finally:
        hold.go.set()
    # Visma may have made the credit note (here it did): reversing again would make two
    done = user.undo(run, code=1)
    assert done["codes"] == {"R-1": "undo-in-doubt"}
    assert "look in Visma for a customer credit note that reverses it" in done["messages"]["R-1"]
    assert len(user.sb.documents("customer_credit_note")) == 1


def test_steps_visma_has_not_finished_are_finished_by_the_next_undo(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    bill = user.file("bill.csv", SUPPLIER_INVOICES, supplier_invoice("S-9"))
    void_run = user.run(bill, "supplier_invoice", "--release")
    sale = user.file("sale.csv", INVOICES, invoice("R-9"))
    reverse_run = user.run(sale, "customer_invoice", "--release")
    finish = held_background(user.sb, monkeypatch)
    for run, key in ((void_run, "S-9"), (reverse_run, "R-9")):
        waiting = user.undo(run, "--wait", "0", code=1)
        assert waiting["codes"] == {key: "undo-pending"}
        assert waiting["messages"][key].startswith("Visma had not finished the ")
        assert "run undo again to see it done" in waiting["messages"][key]
    (note,) = user.sb.documents("customer_credit_note")
    dry = user.undo(reverse_run, "--dry-run")
    assert dry["messages"]["R-9"] == (
        f"would release customer credit note {note['referenceNumber']}, which an earlier "
        "undo made to reverse it"
    )
    finish()
    assert user.undo(void_run)["status"] == {"S-9": "voided"}
    assert user.undo(reverse_run)["status"] == {"R-9": "reversed"}
    assert len(user.sb.documents("customer_credit_note")) == 1  # not reversed twice


def test_a_credit_note_visma_will_not_release_is_said(tmp_path: Path) -> None:
    config = SandboxConfig(release_seconds=0.05, faults=Faults(release_fail_on="CreditNote"))
    with Sandbox(config) as sb:
        user = User(sb, tmp_path)
        run = user.run(
            user.file("r.csv", INVOICES, invoice("F-1")), "customer_invoice", "--release"
        )
        done = user.undo(run, code=1)
        (note,) = sb.documents("customer_credit_note")
        assert done["codes"] == {"F-1": "release-refused"}
        assert done["messages"]["F-1"].startswith(
            f"reversed by customer credit note {note['referenceNumber']}, but its release failed"
        )
        assert user.undo_states(run) == {"F-1": f"releasing {note['referenceNumber']}"}


# ------------------------------------------------------------ scopes and refusals


def test_the_delete_scope_is_asked_for_only_when_a_step_needs_it(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert user.sb.server is not None
    asked: list[set[str]] = []
    issue = user.sb.server.issue_token

    def spy(client: Any, tenant: str, scopes: frozenset[str]) -> tuple[str, float]:
        asked.append({s.rsplit(":", 1)[-1] for s in scopes})
        return issue(client, tenant, scopes)

    monkeypatch.setattr(user.sb.server, "issue_token", spy)
    customers = user.run(
        user.file("c.csv", ["Customer number", "Customer name"], ["90021", "A AS"]), "customer"
    )
    invoices = user.run(user.file("i.csv", INVOICES, invoice("I-1")), "customer_invoice")
    asked.clear()
    user.undo(invoices, "--dry-run")
    user.undo(customers)
    assert asked == [{"read"}, {"read"}, {"read", "update"}]
    asked.clear()
    refused = user.undo(invoices, "--scopes", "read create update", code=1)
    assert refused["codes"] == {"I-1": "http-4xx"}
    assert refused["messages"]["I-1"].startswith("Visma refused to delete it: 403")
    assert asked == [{"read", "create", "update"}]
    asked.clear()
    assert user.undo(invoices)["status"] == {"I-1": "deleted"}
    assert asked == [{"read"}, {"read", "delete"}]


def test_undo_says_plainly_what_it_cannot_do(user: User) -> None:
    path = user.file("c.csv", ["Customer number", "Customer name"], ["90031", "B AS"])
    run = user.run(path, "customer")
    for options, says in (
        (("nosuchrun",), "no run 'nosuchrun' in the journal"),
        ((run, "--target", "sandbox"), "--target sandbox starts a new, empty sandbox"),
        ((run, "--journal", str(user.folder / "none.sqlite")), "there is no journal at"),
    ):
        journal = () if "--journal" in options else ("--journal", str(user.journal))
        proc = vnimport("undo", *options, *journal, env=user.env)
        assert proc.returncode == 2, proc.stderr
        assert says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    # a run against another company is not undone with this one's connection
    with Sandbox() as other:
        for spec, says in (
            (run, f"run {run} was made against {user.sb.url}"),
            ("last", "has no runs"),
        ):
            proc = vnimport("undo", spec, "--journal", str(user.journal), env=env_for(other))
            assert proc.returncode == 2 and says in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("undo", "says"),
    [
        ({"created": [{"do": "erase"}]}, "do must be one of delete, reverse, void"),
        ({"created": [{"do": "delete"}]}, "'delete' takes a call such as"),
        ({"created": [{"do": "delete", "call": "GET /v1/x/{number}"}]}, "takes a call such as"),
        ({"updated": [{"do": "restore", "call": "PUT /v1/x/{number}"}]}, "'restore' takes no call"),
        ({"created": [{"do": "void", "call": "POST /v1/x", "unpaid": ["a"]}]}, "unpaid names two"),
        (
            {"created": [{"do": "delete", "call": "DELETE /v1/x", "release": {}}]},
            "goes with reverse",
        ),
        ({"bogus": 1}, "x-undo must be an object with"),
    ],
)
def test_a_type_whose_undo_is_wrong_stops_at_load(
    tmp_path: Path, undo: dict[str, Any], says: str
) -> None:
    schema = json.loads((ROOT / "schemas" / "customer.schema.json").read_text("utf-8"))
    schema["x-undo"] = undo
    (tmp_path / "broken.schema.json").write_text(json.dumps(schema), "utf-8")
    shutil.copy(ROOT / "templates" / "customer.json.j2", tmp_path / "broken.json.j2")
    with pytest.raises(DocTypeError, match="x-undo") as found:
        Registry([tmp_path]).get("broken")
    assert says in str(found.value)
