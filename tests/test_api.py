"""The library API as a script, the web app or the watcher calls it, and
the CLI over it: dry runs, failing templates, stops, refused tokens."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, write_csv, write_xlsx

import importer
from importer import (
    Batch,
    BatchReport,
    Event,
    JsonLinesDestination,
    Request,
    RunAborted,
    VismaDestination,
    check,
    load_type,
    render_requests,
    send,
    validation_report,
    write_report,
)
from importer.cli import Progress, main, print_summary
from importer.codes import CODES, STATUSES
from importer.errors import ConfigError, DocTypeError
from importer.sandbox import DEMO_SECRET, Sandbox, SandboxConfig
from importer.sandbox.process import demo_connection
from importer.targets.client import Outcome
from importer.targets.journal import Journal

# The sandboxes here count the customers a run made: a company without any of its own.
EMPTY = SandboxConfig(company="empty")

CUSTOMERS = [
    ["Customer number", "Customer name", "Credit limit"],
    ["10001", "Alfa AS", "1000"],
    ["10002", "Beta AS", "0"],
    ["10003", "Gamma AS", "500"],
]


def env_for(sb: Sandbox, secret: str = DEMO_SECRET) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNIMPORT_")}
    conn = demo_connection(sb.url)
    env.update(
        VNIMPORT_BASE_URL=conn.base_url,
        VNIMPORT_TOKEN_URL=conn.token_url,
        VNIMPORT_CLIENT_ID=conn.client_id,
        VNIMPORT_CLIENT_SECRET=secret,
        VNIMPORT_TENANT_ID=conn.tenant_id,
    )
    return env


def vnimport(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "importer", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


def test_the_public_api_is_exported_typed_and_lazy() -> None:
    for name in importer.__all__:
        assert getattr(importer, name) is not None, name
    # `vnimport preview` never sends: importing the package loads no HTTP client.
    code = "import sys, importer, importer.cli; print('requests' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_module_of_the_package_hides_a_public_name() -> None:
    """Importing a submodule binds its name on the package: a module named
    like a public function (``importer.reconcile``) would replace it."""
    code = (
        "import importlib, pkgutil, importer\n"
        "for m in pkgutil.walk_packages(importer.__path__, 'importer.'):\n"
        "    if not m.name.endswith('__main__'): importlib.import_module(m.name)\n"
        "bad = [n for n in importer.__all__ if type(getattr(importer, n)).__name__ == 'module']\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_migration_example_checks_a_dataframe_sends_it_and_reports(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "migration.py"), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    first = json.loads((tmp_path / "out" / "customer_invoice.json").read_text(encoding="utf-8"))
    assert first["counts"] == {"created": 4} and first["documents"] == 3
    again = json.loads(
        (tmp_path / "out" / "again" / "customer_invoice.json").read_text(encoding="utf-8")
    )
    assert again["counts"] == {"unchanged": 4}  # the journal knows: nothing sent twice
    with (tmp_path / "out" / "customer.csv").open(encoding="utf-8-sig") as fh:
        assert [r["key"] for r in csv.DictReader(fh)] == ["020001", "020002", "020003"]
    assert "Traceback" not in proc.stderr


def test_a_dataframe_an_upload_and_a_file_check_to_the_same_requests(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    doctype = load_type("customer")
    path = write_xlsx(tmp_path / "c.xlsx", CUSTOMERS)
    frame = pd.DataFrame(CUSTOMERS[1:], columns=CUSTOMERS[0], dtype="string")
    upload = io.BytesIO(path.read_bytes())
    upload.name = "upload.xlsx"
    bodies = [
        [r.record() for r in render_requests(check(source, doctype))]
        for source in (path, frame, upload)
    ]
    assert bodies[0] == bodies[1] == bodies[2] and len(bodies[0]) == 3
    upload.seek(0)
    assert check(upload, doctype).source == "upload.xlsx"


def _types_with_a_fragile_template(tmp_path: Path) -> Path:
    """The customer type, with a template that divides by the credit limit."""
    folder = tmp_path / "types"
    (folder / "schemas").mkdir(parents=True)
    (folder / "templates").mkdir()
    shutil.copy(ROOT / "schemas" / "customer.schema.json", folder / "schemas")
    text = (ROOT / "templates" / "customer.json.j2").read_text(encoding="utf-8")
    line = '"creditLimit": {"value": {{ doc.creditLimit }}},'
    assert line in text
    fragile = (
        '"creditLimit": {"value": {{ (100 / doc.creditLimit) '
        "if doc.creditLimit is not none else none }}},"
    )
    (folder / "templates" / "customer.json.j2").write_text(
        text.replace(line, fragile), encoding="utf-8"
    )
    return folder


def test_a_template_failing_on_one_document_leaves_the_others_and_the_report(
    tmp_path: Path,
) -> None:
    types = _types_with_a_fragile_template(tmp_path)
    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    out = tmp_path / "requests.jsonl"
    proc = vnimport(
        "--types-dir", str(types), "preview", str(src), "--type", "customer",
        "--out", str(out), "--report", str(tmp_path / "r"),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    keys = [json.loads(line)["key"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert keys == ["10001", "10003"]
    with (tmp_path / "r.csv").open(encoding="utf-8-sig") as fh:
        rows = {r["key"]: r for r in csv.DictReader(fh)}
    assert rows["10002"]["status"] == "invalid" and rows["10002"]["codes"] == "template-error"
    assert "ZeroDivisionError" in rows["10002"]["message"]
    assert {rows["10001"]["status"], rows["10003"]["status"]} == {"valid"}

    with Sandbox(EMPTY) as sb:  # a run sends the others, and says why not the one
        proc = vnimport(
            "--types-dir", str(types), "run", str(src), "--type", "customer",
            "--report", str(tmp_path / "run"), env=env_for(sb), cwd=tmp_path,
        )  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        assert sb.count("customer") == 2
    summary = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert summary["counts"] == {"created": 2, "invalid": 1}
    assert summary["reasons"][0]["code"] == "template-error"


def test_dry_run_writes_every_request_and_a_rerun_lists_only_what_changed(
    tmp_path: Path,
) -> None:
    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    journal = tmp_path / "journal.sqlite"
    with Sandbox(EMPTY) as sb:
        env = env_for(sb)
        common = ["--type", "customer", "--journal", str(journal)]
        dry = vnimport(
            "run", str(src), *common, "--dry-run", "--report", str(tmp_path / "d"), env=env
        )
        assert dry.returncode == 0, dry.stderr
        assert sb.count("customer") == 0 and not journal.exists()  # nothing sent, nothing claimed
        written = (tmp_path / "d.requests.jsonl").read_text(encoding="utf-8").splitlines()
        assert [json.loads(line)["key"] for line in written] == ["10001", "10002", "10003"]
        assert json.loads(written[0])["body"]["name"] == {"value": "Alfa AS"}

        real = vnimport("run", str(src), *common, env=env)
        assert real.returncode == 0, real.stderr
        assert sb.count("customer") == 3
        changed = write_csv(
            tmp_path / "c2.csv",
            [
                *CUSTOMERS[:2],
                ["10002", "Beta Holding AS", "0"],
                *CUSTOMERS[3:],
                ["10004", "D", "1"],
            ],
        )
        out = tmp_path / "again.jsonl"
        again = vnimport(
            "run", str(changed), *common, "--mode", "upsert", "--dry-run", "--out", str(out),
            "--report", str(tmp_path / "again"), env=env,
        )  # fmt: skip
        assert again.returncode == 0, again.stderr
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        # the changed one, as the update a run makes, and the new one only
        assert [(r["key"], r["method"], r["path"]) for r in records] == [
            ("10002", "PUT", "/v1/customer/10002"),
            ("10004", "POST", "/v1/customer"),
        ]
        assert sb.count("customer") == 3
    summary = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
    assert summary["counts"] == {"written": 2, "unchanged": 2}


def test_a_refused_token_still_leaves_a_complete_report(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    with Sandbox(EMPTY) as sb:
        proc = vnimport(
            "run", str(src), "--type", "customer", "--journal", str(tmp_path / "j.sqlite"),
            "--report", str(tmp_path / "r"), env=env_for(sb, secret="not-the-secret"),
        )  # fmt: skip
        assert sb.count("customer") == 0
    assert proc.returncode == 2 and "invalid_client" in proc.stderr
    summary = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert summary["fatal"]["code"] == "auth-error" and summary["exit_code"] == 2
    assert summary["counts"] == {"not sent": 3}
    for name in ("r.json", "r.csv"):
        assert "not-the-secret" not in (tmp_path / name).read_text(encoding="utf-8-sig")
    assert "not-the-secret" not in proc.stderr


def test_a_file_that_cannot_be_read_still_leaves_a_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    proc = vnimport("validate", str(bad), "--type", "customer", "--report", str(tmp_path / "r"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    summary = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert summary["fatal"]["code"] == "file-error" and summary["rows"] == 0


def test_a_report_or_requests_file_never_overwrites_the_input(tmp_path: Path) -> None:
    src = write_xlsx(tmp_path / "batch.xlsx", CUSTOMERS)
    before = src.read_bytes()
    for argv in (
        ["validate", str(src), "--type", "customer", "--report", str(src)],
        ["validate", str(src), "--type", "customer", "--report", str(tmp_path / "batch")],
        ["preview", str(src), "--type", "customer", "--out", str(src)],
        ["run", str(src), "--type", "customer", "--dry-run", "--out", str(src)],
    ):
        proc = vnimport(*argv, cwd=tmp_path)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert "overwrite the input" in proc.stderr, argv
        assert src.read_bytes() == before
    report = validation_report(check(src, load_type("customer")))
    with pytest.raises(ConfigError):
        write_report(report, src.with_suffix(""))


class Flaky:
    """A destination that fails with a bug on its second document."""

    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.lock = threading.Lock()

    def describe(self) -> str:
        return "a flaky destination"

    def open(self, batch: Batch, mode: str, notify: Any) -> None:
        pass

    def deliver(self, request: Request) -> Outcome:
        with self.lock:
            self.delivered.append(request.key)
            if len(self.delivered) == 2:
                raise RuntimeError("boom")
        return Outcome("created", request.key)

    def close(self, report: BatchReport) -> None:
        report.extra["closed"] = True


def test_a_bug_in_a_destination_stops_the_run_with_a_report(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", [CUSTOMERS[0], *([f"{n:05}", "X", "1"] for n in range(20))])
    batch = check(src, load_type("customer"))
    with pytest.raises(RunAborted) as caught:
        send(batch, Flaky(), workers=1)
    report = caught.value.report
    assert caught.value.code == "internal-error" and report.extra["closed"] is True
    assert report.fatal is not None and report.fatal[0] == "internal-error"
    assert report.exit_code == 2
    statuses = [r.status for r in report.results]
    assert statuses[:2] == ["created", "unknown"]  # the bug's document: check in Visma
    assert set(statuses[2:]) <= {"created", "not sent"} and "not sent" in statuses
    assert all(s in STATUSES and STATUSES[s].final for s in statuses)


def test_send_reports_progress_and_stops_when_asked(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", [CUSTOMERS[0], *([f"{n:05}", "X", "1"] for n in range(30))])
    batch = check(src, load_type("customer"))
    stop = threading.Event()
    events: list[Event] = []

    def progress(event: Event) -> None:
        events.append(event)
        if event.phase == "sending" and event.done == 5:
            stop.set()

    out = io.StringIO()
    report = send(batch, JsonLinesDestination(out), workers=1, progress=progress, stop=stop)
    assert [e.done for e in events if e.phase == "sending"][:5] == [1, 2, 3, 4, 5]
    assert events[-1].phase == "done" and events[-1].total == 30
    counts = report.counts()
    assert counts["written"] == len(out.getvalue().splitlines()) >= 5
    assert counts["written"] + counts["not sent"] == 30
    assert report.exit_code == 1


def test_send_to_visma_through_the_api(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    with Sandbox(EMPTY) as sb:
        journal = Journal(tmp_path / "j.sqlite")
        try:
            destination = VismaDestination(demo_connection(sb.url), journal=journal)
            report = send(check(src, load_type("customer")), destination, workers=2)
            again = send(check(src, load_type("customer")), destination)
        finally:
            journal.close()
        assert sb.count("customer") == 3
    assert report.counts() == {"created": 3} and report.exit_code == 0
    assert again.counts() == {"unchanged": 3} and again.extra["calls"] == 0


def test_every_code_and_status_has_a_title_and_codes_are_kebab_case() -> None:
    for code in CODES.values():
        assert code.title and code.code == code.code.lower() and " " not in code.code
    for status in STATUSES.values():
        assert status.title and status.exit_code in (0, 1)


def test_an_unknown_type_suggests_the_closest(tmp_path: Path) -> None:
    with pytest.raises(DocTypeError, match="did you mean 'customer_invoice'"):
        load_type("customer_invoce")
    proc = vnimport("validate", "x.csv", "--type", "custmer", cwd=tmp_path)
    assert proc.returncode == 2 and "did you mean 'customer'" in proc.stderr


def test_the_summary_counts_documents_and_rows_apart_with_the_top_reasons(
    tmp_path: Path,
) -> None:
    rows = [
        ["Invoice number", "Customer number", "Invoice date", "Item number", "Quantity"],
        ["1", "10000", "2025-01-31", "A", "1"],
        ["1", "10000", "2025-01-31", "B", "many"],
        ["2", "10000", "31.02.2025", "A", "1"],
        ["3", "10000", "2025-01-31", "A", "2"],
    ]
    batch = check(write_csv(tmp_path / "i.csv", rows), load_type("customer_invoice"))
    out = io.StringIO()
    print_summary(validation_report(batch), out)
    text = out.getvalue()
    assert "3 documents (1 valid, 2 invalid); 4 rows (1 valid, 3 invalid)" in text
    assert "[type]" in text and "[invalid-date]" in text and "reasons:" in text


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise_on_any_clock() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for start in (0.0, 10.0**9):  # a machine booted a minute ago, or long ago
        now = [start]

        def clock(now: list[float] = now) -> float:
            return now[0]

        bar = Terminal()
        progress = Progress(bar, clock=clock)
        for done in range(1, 11):
            now[0] += 1.0
            progress.update(done, 10)
        progress.close()
        assert bar.getvalue().startswith("\r[") and "10/10 documents, 1.0/s" in bar.getvalue()
        assert bar.getvalue().endswith("\n")

        log = io.StringIO()
        progress = Progress(log, every=5.0, clock=clock)
        for done in range(1, 11):
            now[0] += 1.0
            progress.update(done, 10)
        lines = log.getvalue().splitlines()
        # the first line, then one every 5 s of the clock, and always the end
        assert [line.split()[0] for line in lines] == ["1/10", "6/10", "10/10"]


def test_progress_says_until_when_it_waits_and_about_how_long_a_run_takes() -> None:
    from importer.targets import Event

    noon = time.mktime((2026, 11, 30, 12, 0, 0, 0, 0, -1))  # local time
    log = io.StringIO()
    progress = Progress(log, every=0.0, clock=lambda: 0.0, wall=lambda: noon)
    progress.event(Event("estimate", 0, 1200, 2 * 3600 + 20 * 60))
    progress.event(Event("estimate", 0, 40, 0.0))  # a small run: nothing said
    progress.event(Event("estimate", 0, 500, 0.0))
    progress.event(Event("estimate", 0, 500, -1.0))
    progress.event(Event("waiting", -1, -1, 90 * 60))
    assert log.getvalue().splitlines() == [
        "about 1200 calls to Visma; at Visma's quota, about 2 h 20 min",
        "about 500 calls to Visma; within the quota left in this window",
        "about 500 calls to Visma; how long it takes is known after the first answer",
        "waiting 5400 s for Visma's rate limit, until 13:30",
    ]


def test_main_returns_the_report_exit_code(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "c.csv", CUSTOMERS)
    assert main(["validate", str(good), "--type", "customer"]) == 0
    bad = write_csv(tmp_path / "b.csv", [CUSTOMERS[0], ["", "No number", "x"]])
    assert main(["validate", str(bad), "--type", "customer"]) == 1


def test_outputs_are_checked_before_anything_is_sent(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    journal = tmp_path / "journal.sqlite"
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    with Sandbox(EMPTY) as sb:
        env = env_for(sb)
        run = ["run", str(src), "--type", "customer", "--journal", str(journal)]
        vnimport(*run, env=env)  # the journal now knows the three customers
        assert sb.count("customer") == 3
        kept = journal.read_bytes()
        for extra, says in (
            (["--dry-run", "--out", str(journal)], "overwrite the input"),
            (["--report", str(journal.with_suffix(""))], ""),  # journal.sqlite is not a report
            (["--report", "."], "is a folder"),
            (["--report", str(tmp_path / "afile" / "r")], "cannot be written"),
            (["--out", str(tmp_path / "x.jsonl")], "add --dry-run"),
        ):
            proc = vnimport(*run, *extra, env=env, cwd=tmp_path)
            if not says:
                assert proc.returncode == 0, proc.stderr
                continue
            assert proc.returncode == 2, (extra, proc.stderr)
            assert says in proc.stderr and "Traceback" not in proc.stderr, extra
        assert journal.read_bytes()[:100] == kept[:100] and sb.count("customer") == 3
        again = vnimport(*run, env=env)
        assert again.returncode == 0 and "3 unchanged" in again.stderr


def test_a_closed_terminal_does_not_cost_the_report_or_the_exit_code(tmp_path: Path) -> None:
    rows = [CUSTOMERS[0], *([f"{n:05}", "X", "1"] for n in range(60))]
    src = write_csv(tmp_path / "c.csv", rows)
    with Sandbox(EMPTY) as sb:
        proc = subprocess.Popen(
            [sys.executable, "-m", "importer", "run", str(src), "--type", "customer",
             "--journal", str(tmp_path / "j.sqlite"), "--report", str(tmp_path / "r")],
            env=env_for(sb), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stderr is not None
        proc.stderr.close()  # `vnimport run ... 2>&1 | head -1`: nobody reads stderr
        assert proc.wait(timeout=120) == 0
        assert sb.count("customer") == 60
    summary = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert summary["counts"] == {"created": 60}
