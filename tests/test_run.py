"""The batch runner against the sandbox, over real sockets: exactly once."""

from __future__ import annotations

import collections
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import write_csv
from records import send_with

from importer.batch import check
from importer.doctypes import Registry
from importer.sandbox import DEMO_CLIENT, DEMO_SECRET, DEMO_TENANT, Faults, Sandbox, SandboxConfig
from importer.sandbox.config import DEMO_CUSTOMER_TENANT, Client
from importer.settings import Connection
from importer.targets import RunAborted
from importer.targets.client import VismaClient
from importer.targets.journal import Journal

HEADER = [
    "External reference",
    "Customer number",
    "Invoice date",
    "Invoice text",
    "Item number",
    "Quantity",
    "Unit price",
]


def vnimport(*argv: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run the command as a user does, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "importer", *argv], capture_output=True, text=True, **kw
    )


def connection(sb: Sandbox, **overrides: str) -> Connection:
    values = {
        "base_url": sb.url,
        "token_url": sb.token_url,
        "client_id": DEMO_CLIENT,
        "client_secret": DEMO_SECRET,
        "tenant_id": DEMO_TENANT,
        **overrides,
    }
    return Connection(**values)


def customer(sb: Sandbox, number: str = "10000") -> None:
    token = requests.post(
        sb.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT,
            "client_secret": DEMO_SECRET,
            "tenant_id": DEMO_TENANT,
        },
        timeout=10,
    ).json()
    for _ in range(50):  # the sandbox may be injecting faults
        reply = requests.post(
            f"{sb.url}/v1/customer",
            json={"number": {"value": number}, "name": {"value": "Kunde AS"}},
            headers={"Authorization": f"Bearer {token['access_token']}"},
            timeout=10,
        )
        if reply.status_code in (201, 400):
            return


ITEMS = ("000123", "000245", "000555", "000871")  # items of the sandbox's demo company


def invoices(path: Path, count: int, lines: int = 2, text: str = "Mars") -> Path:
    rows: list[list[object]] = [HEADER]
    for i in range(count):
        for j in range(lines):
            rows.append([f"WEB-{i:05d}", "10000", "2025-03-03", text, ITEMS[j], j + 1, 10])
    return write_csv(path, rows)


def run(
    sb: Sandbox,
    file: Path,
    journal: Journal,
    *,
    mode: str = "create",
    workers: int = 4,
    client: VismaClient | None = None,
    **client_args: Any,
) -> tuple[Any, VismaClient]:
    client = client or VismaClient(connection(sb), workers=workers, **client_args)
    prepared = check(file, Registry().get("customer_invoice"))
    return send_with(prepared, client, journal, mode=mode, workers=workers), client


def references(sb: Sandbox) -> collections.Counter[str]:
    return collections.Counter(d.get("externalReference") for d in sb.documents("customer_invoice"))


# ----------------------------------------------------------- the modes


def test_create_then_a_rerun_posts_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    customer(sandbox)
    file = invoices(tmp_path / "inv.csv", 12)
    journal = Journal(tmp_path / "journal.sqlite")
    report, client = run(sandbox, file, journal)
    assert report.counts() == {"created": 24}
    # one page of the list, to see what is in Visma already, then one call each
    assert report.extra["lookup_calls"] == 1 and client.calls == 1 + 12
    numbers = {r.number for r in report.results}
    assert len(numbers) == 12 and all(numbers)
    again, client = run(sandbox, file, journal)
    assert again.counts() == {"unchanged": 24} and client.calls == 0
    assert {r.number for r in again.results} == numbers
    assert sandbox.count("customer_invoice") == 12


def test_create_mode_never_duplicates_a_changed_document(sandbox: Sandbox, tmp_path: Path) -> None:
    customer(sandbox)
    journal = Journal(tmp_path / "journal.sqlite")
    run(sandbox, invoices(tmp_path / "a.csv", 3), journal)
    report, _ = run(sandbox, invoices(tmp_path / "b.csv", 3, text="April"), journal)
    assert report.counts() == {"skipped": 6}
    assert "already created as" in report.results[0].message
    assert sandbox.count("customer_invoice") == 3
    assert not report.ok


def test_update_replaces_header_and_lines(sandbox: Sandbox, tmp_path: Path) -> None:
    customer(sandbox)
    journal = Journal(tmp_path / "journal.sqlite")
    first, _ = run(sandbox, invoices(tmp_path / "a.csv", 2, lines=3), journal)
    report, _ = run(
        sandbox, invoices(tmp_path / "b.csv", 2, lines=2, text="April"), journal, mode="update"
    )
    assert report.counts() == {"updated": 4}
    doc = sandbox.documents("customer_invoice")[0]
    assert doc["invoiceText"] == "April"
    assert [line["inventoryNumber"] for line in doc["invoiceLines"]] == list(ITEMS[:2])
    again, client = run(
        sandbox, invoices(tmp_path / "c.csv", 2, lines=2, text="April"), journal, mode="update"
    )
    assert again.counts() == {"unchanged": 4} and client.calls == 0
    assert {r.number for r in report.results} == {r.number for r in first.results}


def test_update_finds_documents_it_did_not_create(sandbox: Sandbox, tmp_path: Path) -> None:
    customer(sandbox)
    run(sandbox, invoices(tmp_path / "a.csv", 2), Journal(tmp_path / "one.sqlite"))
    report, _ = run(
        sandbox,
        invoices(tmp_path / "b.csv", 2, text="April"),
        Journal(tmp_path / "other.sqlite"),
        mode="update",
    )
    assert report.counts() == {"updated": 4}
    missing, _ = run(sandbox, invoices(tmp_path / "c.csv", 3), Journal(":memory:"), mode="update")
    assert missing.counts()["failed"] == 2 and "not in Visma" in missing.results[-1].message


def test_upsert_creates_the_new_and_updates_the_rest(sandbox: Sandbox, tmp_path: Path) -> None:
    customer(sandbox)
    journal = Journal(tmp_path / "journal.sqlite")
    run(sandbox, invoices(tmp_path / "a.csv", 2), journal)
    report, _ = run(sandbox, invoices(tmp_path / "b.csv", 3, text="April"), journal, mode="upsert")
    assert report.counts() == {"updated": 4, "created": 2}
    assert sandbox.count("customer_invoice") == 3


def test_a_number_already_in_visma_is_reported_not_duplicated(tmp_path: Path) -> None:
    file = write_csv(
        tmp_path / "c.csv", [["Customer number", "Name"], ["10000", "A"], ["10001", "B"]]
    )
    with Sandbox(SandboxConfig(company="empty")) as sandbox:  # its customers: the test's own
        customer(sandbox, "10000")  # created by someone else
        prepared = check(file, Registry().get("customer"))
        report = send_with(prepared, VismaClient(connection(sandbox)), Journal(":memory:"))
        by_key = {r.key: r for r in report.results}
        assert by_key["10001"].status == "created"
        # found by the lookup before the run: reported, not sent (Visma would refuse it)
        assert (by_key["10000"].status, by_key["10000"].number) == ("exists in Visma", "10000")
        assert report.exit_code == 0
        assert sandbox.count("customer") == 2


# ---------------------------------------------------------- trouble


def test_a_token_that_expires_mid_run_is_renewed(tmp_path: Path) -> None:
    config = SandboxConfig(token_lifetime=1.0, faults=Faults(latency_ms=30))
    with Sandbox(config) as sb:
        customer(sb)
        report, _ = run(sb, invoices(tmp_path / "a.csv", 60), Journal(":memory:"), workers=2)
        assert report.counts() == {"created": 120}


def test_429_answers_are_waited_out(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(faults=Faults(throttle_429=0.3, seed=3))) as sb:
        customer(sb)
        report, client = run(sb, invoices(tmp_path / "a.csv", 20), Journal(":memory:"))
        assert report.counts() == {"created": 40}
        assert client.calls > 20
        assert set(references(sb).values()) == {1}


def test_a_document_changed_in_visma_since_it_was_read_is_not_overwritten(
    tmp_path: Path,
) -> None:
    file = write_csv(tmp_path / "s.csv", [["Supplier number", "Name"], ["50000", "Lev AS"]])
    doctype = Registry().get("supplier")
    journal = Journal(":memory:")

    class Meddling(VismaClient):
        """Someone edits the supplier in Visma between our read and our write."""

        def call(self, method: str, path: str, **kw: Any) -> requests.Response:
            if method == "PUT":
                super().call("PUT", path, json={"name": {"value": "Changed in Visma"}})
            return super().call(method, path, **kw)

    with Sandbox(SandboxConfig(company="empty")) as sandbox:  # its one supplier: the test's
        send_with(check(file, doctype), VismaClient(connection(sandbox)), journal)
        changed = write_csv(tmp_path / "s2.csv", [["Supplier number", "Name"], ["50000", "Ny AS"]])
        report = send_with(
            check(changed, doctype), Meddling(connection(sandbox)), journal, mode="update"
        )
        [result] = report.results
        assert (result.status, result.http_status) == ("failed", 412)
        assert "changed in Visma since it was read" in result.message
        assert sandbox.documents("supplier")[0]["name"] == "Changed in Visma"


def test_reliability_every_row_final_and_every_document_once(tmp_path: Path) -> None:
    faults = Faults(
        error_500=0.05,
        throttle_429=0.05,
        drop_after_commit=0.02,
        slow=0.01,
        slow_seconds=1.5,
        seed=11,
    )
    with Sandbox(SandboxConfig(faults=faults)) as sb:
        customer(sb)
        file = invoices(tmp_path / "a.csv", 200)
        report, _ = run(
            sb, file, Journal(tmp_path / "j.sqlite"), workers=8, timeout=1.0, backoff=0.05
        )
        assert len(report.results) == 400
        by_status = collections.defaultdict(set)
        for r in report.results:
            by_status[r.status].add(r.key)
        # Every row final: created; failed (Visma gave the same 500 twice); or
        # unknown (no clear answer twice: check in Visma).
        assert set(by_status) <= {"created", "failed", "unknown"}
        counts = references(sb)
        assert max(counts.values()) == 1  # no duplicates
        in_visma = set(counts)
        assert by_status["created"] <= in_visma  # what the report says was created, was
        assert not by_status["failed"] & in_visma  # what it says failed, is not there
        assert in_visma <= by_status["created"] | by_status["unknown"]
        assert len(by_status["created"]) >= 190  # the faults are rare


# ------------------------------------------------------- the process


def _env(sb: Sandbox) -> dict[str, str]:
    return {
        **os.environ,
        "VNIMPORT_BASE_URL": sb.url,
        "VNIMPORT_TOKEN_URL": sb.token_url,
        "VNIMPORT_CLIENT_ID": DEMO_CLIENT,
        "VNIMPORT_CLIENT_SECRET": DEMO_SECRET,
        "VNIMPORT_TENANT_ID": DEMO_TENANT,
    }


def _start(sb: Sandbox, tmp_path: Path, file: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "importer",
            "run",
            str(file),
            "--type",
            "customer_invoice",
            "--journal",
            str(tmp_path / "journal.sqlite"),
            "--report",
            str(tmp_path / "r"),
        ],
        env=_env(sb),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(sb: Sandbox, created: int) -> None:
    deadline = time.monotonic() + 60
    while sb.count("customer_invoice") < created:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_kill_9_mid_run_and_a_rerun_leaves_every_document_once(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(faults=Faults(latency_ms=40))) as sb:
        customer(sb)
        file = invoices(tmp_path / "a.csv", 150)
        proc = _start(sb, tmp_path, file)
        _wait_for(sb, 20)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        assert sb.count("customer_invoice") < 150
        again = _start(sb, tmp_path, file)
        _, err = again.communicate(timeout=120)
        assert again.returncode == 0, err
        counts = references(sb)
        assert len(counts) == 150 and max(counts.values()) == 1


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_stops_cleanly_with_a_complete_report_and_the_rest_follows_on_a_rerun(
    tmp_path: Path, sig: signal.Signals
) -> None:
    with Sandbox(SandboxConfig(faults=Faults(latency_ms=40))) as sb:
        customer(sb)
        file = invoices(tmp_path / "a.csv", 150)
        proc = _start(sb, tmp_path, file)
        _wait_for(sb, 20)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 1, err
        assert "Traceback" not in err and "no new document starts" in err
        summary = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
        assert summary["rows"] == 300 and summary["stopped"] is True
        # Every row has a final status: created, or not sent because of the stop.
        assert set(summary["counts"]) == {"created", "not sent"}
        assert summary["counts"]["created"] == 2 * sb.count("customer_invoice")
        with (tmp_path / "r.csv").open(encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == 300
        stopped = [r for r in rows if r["status"] == "not sent"]
        assert stopped and all("stopped" in r["message"] and r["codes"] for r in stopped)
        again = _start(sb, tmp_path, file)
        again.communicate(timeout=120)
        counts = references(sb)
        assert len(counts) == 150 and max(counts.values()) == 1


# --------------------------------------------------------------- fatal


def test_run_without_a_connection_says_how_to_configure(tmp_path: Path, samples_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNIMPORT_")}
    proc = vnimport(
        "run",
        str(samples_dir / "customer.csv"),
        "--type",
        "customer",
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "VNIMPORT_CLIENT_SECRET" in proc.stderr and "--target sandbox" in proc.stderr


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"tenant_id": DEMO_CUSTOMER_TENANT}, "company's tenant"),
    ],
)
def test_refused_credentials_are_fatal_with_advice(
    sandbox: Sandbox, tmp_path: Path, override: dict[str, str], says: str
) -> None:
    customer(sandbox)
    client = VismaClient(connection(sandbox, **override))
    with pytest.raises(RunAborted, match=says) as caught:
        run(sandbox, invoices(tmp_path / "a.csv", 5), Journal(":memory:"), client=client)
    assert {r.status for r in caught.value.report.results} == {"not sent"}
    assert "wrong" not in str(caught.value)  # never the secret


def test_run_target_sandbox_from_the_command_line(tmp_path: Path, samples_dir: Path) -> None:
    proc = vnimport(
        "run",
        str(samples_dir / "customer.xlsx"),
        "--type",
        "customer",
        "--target",
        "sandbox",
        "--report",
        str(tmp_path / "r"),
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert set(summary["counts"]) == {"created"}
    assert summary["calls_per_document"] == 1.0
    assert DEMO_SECRET not in proc.stderr + (tmp_path / "r.csv").read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("mode", ["update", "upsert"])
def test_every_type_is_created_then_updated_or_upserted(
    tmp_path: Path, samples_dir: Path, mode: str
) -> None:
    import sqlite3

    from conftest import TYPES

    from importer.demo import create_references

    registry = Registry()
    prepared = {name: check(samples_dir / f"{name}.csv", registry.get(name)) for name in TYPES}
    journal_path = tmp_path / "journal.sqlite"
    with Sandbox() as sb:
        conn = connection(sb)
        journal = Journal(journal_path)
        for name in TYPES:
            if name == "customer_invoice":
                create_references(conn, registry, prepared)
            report = send_with(prepared[name], VismaClient(conn), journal)
            assert set(report.counts()) == {"created"}, (name, report.summary()["issues"])
        counts = {name: sb.count(name) for name in TYPES}
        # Every document as if the file had changed since: all are sent again.
        with sqlite3.connect(journal_path) as db:
            db.execute("UPDATE entries SET hash = 'changed'")
        for name in TYPES:
            report = send_with(prepared[name], VismaClient(conn), journal, mode=mode)
            assert set(report.counts()) == {"updated"}, (name, report.summary()["issues"])
            assert sb.count(name) == counts[name]
            again = send_with(prepared[name], VismaClient(conn), journal, mode=mode)
            assert set(again.counts()) == {"unchanged"}
        # Without the journal, a document is found again by its number or reference,
        # or by the Document ID its request carried (x-carry-key); one grouped by a
        # Document ID its type cannot carry cannot be, and the row says so.
        fresh = Journal(":memory:")
        for name in TYPES:
            report = send_with(prepared[name], VismaClient(conn), fresh, mode="update")
            doctype = registry.get(name)
            if prepared[name].grouping.key_field == "documentId" and not doctype.carry_key:
                assert set(report.counts()) == {"failed"}
                assert "cannot be found in Visma by its Document ID" in report.results[0].message
            else:
                assert set(report.counts()) == {"updated"}, (name, report.summary()["issues"])
            assert sb.count(name) == counts[name]


def test_release_after_create_reports_the_status(sandbox: Sandbox, tmp_path: Path) -> None:
    customer(sandbox)
    prepared = check(invoices(tmp_path / "a.csv", 3), Registry().get("customer_invoice"))
    report = send_with(
        prepared, VismaClient(connection(sandbox)), Journal(":memory:"), release=True
    )
    assert {r.message for r in report.results} == {"released: status Open"}
    assert {d["status"] for d in sandbox.documents("customer_invoice")} == {"Open"}


def test_no_secret_in_the_journal_or_the_reports(tmp_path: Path) -> None:
    secret = "s3cr3t-for-this-test"
    config = SandboxConfig(clients=(Client("app", secret, {"acme": "company"}),))
    with Sandbox(config) as sb:
        customer_for = Connection(sb.url, sb.token_url, "app", secret, "acme")
        client = VismaClient(customer_for)
        client.call(
            "POST",
            "/v1/customer",
            json={"number": {"value": "10000"}, "name": {"value": "K"}},
            safe=True,
        )
        env = {
            **_env(sb),
            "VNIMPORT_CLIENT_ID": "app",
            "VNIMPORT_CLIENT_SECRET": secret,
            "VNIMPORT_TENANT_ID": "acme",
        }
        file = invoices(tmp_path / "a.csv", 3)
        proc = vnimport(
            "run",
            str(file),
            "--type",
            "customer_invoice",
            "--journal",
            str(tmp_path / "j.sqlite"),
            "--report",
            str(tmp_path / "r"),
            env=env,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert repr(customer_for).count(secret) == 0
    for path in tmp_path.iterdir():
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in proc.stdout + proc.stderr


def test_after_fixing_the_failed_rows_a_rerun_posts_only_those(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    customer(sandbox, "10000")
    rows: list[list[object]] = [HEADER]
    rows += [[f"WEB-{i}", "10000", "2025-03-03", "Mars", "000123", 1, 10] for i in range(4)]
    rows += [["WEB-9", "10099", "2025-03-03", "Mars", "000123", 1, 10]]  # no such customer yet
    file = write_csv(tmp_path / "a.csv", rows)
    journal = Journal(tmp_path / "journal.sqlite")
    first, _ = run(sandbox, file, journal)
    assert first.counts() == {"created": 4, "failed": 1}
    assert "10099" in first.results[-1].message
    customer(sandbox, "10099")  # the fix: the customer now exists
    second, client = run(sandbox, file, journal)
    assert second.counts() == {"unchanged": 4, "created": 1}
    assert client.calls == 1
    assert sandbox.count("customer_invoice") == 5


def test_refused_credentials_exit_2_with_visma_s_message(sandbox: Sandbox, tmp_path: Path) -> None:
    env = {**_env(sandbox), "VNIMPORT_CLIENT_SECRET": "not-the-secret"}
    proc = vnimport(
        "run",
        str(invoices(tmp_path / "a.csv", 2)),
        "--type",
        "customer_invoice",
        "--journal",
        str(tmp_path / "j.sqlite"),
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "invalid_client" in proc.stderr and "Traceback" not in proc.stderr
    assert "not-the-secret" not in proc.stderr


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise() -> None:
    import io

    from importer.cli import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    bar = Terminal()
    progress = Progress(bar)
    for done in range(1, 11):
        progress.update(done, 10)
    progress.close()
    assert bar.getvalue().startswith("\r[") and "10/10 documents" in bar.getvalue()
    assert "/s, 0 s left" in bar.getvalue() and bar.getvalue().endswith("\n")

    log = io.StringIO()
    progress = Progress(log, every=3600)
    for done in range(1, 11):
        progress.update(done, 10)
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("1/10 documents") and lines[-1].startswith("10/10 documents")
    assert len(lines) == 2  # the first, then only the end within the interval


def test_without_the_first_journal_check_existing_keeps_references_single(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    customer(sandbox)
    file = invoices(tmp_path / "a.csv", 4)
    run(sandbox, file, Journal(tmp_path / "first.sqlite"))
    elsewhere = Journal(tmp_path / "second.sqlite")  # another machine, another folder
    prepared = check(file, Registry().get("customer_invoice"))
    report = send_with(prepared, VismaClient(connection(sandbox)), elsewhere, check_existing=True)
    assert report.counts() == {"exists in Visma": 8}
    assert "found by its number or reference" in report.results[0].message
    assert sandbox.count("customer_invoice") == 4
    again, client = run(sandbox, file, elsewhere)  # now known: nothing to do, no call
    assert again.counts() == {"unchanged": 8} and client.calls == 0


def test_connection_settings_from_the_environment_or_vnimport_toml(tmp_path: Path) -> None:
    from importer.errors import ConfigError
    from importer.settings import default_journal_path, load_connection

    none = tmp_path / "none.toml"
    assert load_connection({}, none) is None
    env = {
        "VNIMPORT_BASE_URL": "https://api.finance.visma.net",
        "VNIMPORT_TOKEN_URL": "https://connect.visma.com/connect/token",
        "VNIMPORT_CLIENT_ID": "app",
        "VNIMPORT_CLIENT_SECRET": "hemmelig",
        "VNIMPORT_TENANT_ID": "company-1",
    }
    conn = load_connection(env, none)
    assert conn is not None and conn.target == "https://api.finance.visma.net#company-1"
    assert "hemmelig" not in repr(conn)
    toml = tmp_path / "vnimport.toml"
    toml.write_text(
        'base_url = "https://api.finance.visma.net"\n'
        'token_url = "https://connect.visma.com/connect/token"\n'
        'client_id = "app"\nclient_secret = "x"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="VNIMPORT_TENANT_ID"):
        load_connection({}, toml)
    conn = load_connection({"VNIMPORT_TENANT_ID": "company-2"}, toml)
    assert conn is not None and conn.tenant_id == "company-2"
    toml.write_text("base_url = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_connection({}, toml)
    assert default_journal_path({"VNIMPORT_JOURNAL": "/x/j.sqlite"}) == Path("/x/j.sqlite")
    assert default_journal_path({"XDG_STATE_HOME": "/s"}) == Path("/s/vnimport/journal.sqlite")


def test_a_refused_release_is_a_problem_on_the_row(sandbox: Sandbox, tmp_path: Path) -> None:
    customer(sandbox)
    rows = [
        [*HEADER, "On hold"],
        ["R-1", "10000", "2025-01-31", "Text", "000123", "1", "10", "false"],
        ["R-2", "10000", "2025-01-31", "Text", "000123", "1", "10", "true"],
    ]
    batch = check(write_csv(tmp_path / "h.csv", rows), Registry().get("customer_invoice"))
    report = send_with(batch, VismaClient(connection(sandbox)), Journal(":memory:"), release=True)
    by_key = {r.key: r for r in report.results}
    assert by_key["R-1"].message == "released: status Open" and not by_key["R-1"].code
    held = by_key["R-2"]
    assert (held.status, held.code) == ("created", "release-refused")
    assert "on hold" in held.message and "release it in Visma" in held.message
    assert report.exit_code == 1
