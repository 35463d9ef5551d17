"""`vnimport watch`: files dropped in real folders, imported into the sandbox
over loopback, unattended and safe to re-run.

The watcher's clock and its waits are the test's where time matters (two
looks at a file ``settle`` seconds apart, expectations, how long done/
keeps files): no test sleeps and hopes. Where a test must kill or stop a
watcher at a given document, it holds the sandbox's own function for that
step (``Hold``, as the undo tests do) until the test lets it go."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import pytest
from conftest import ROOT, write_csv, write_xlsx
from test_api import CUSTOMERS, vnimport
from test_undo import INVOICES, LONG, Hold, invoice

from importer.errors import ConfigError
from importer.jobs import Job, run_job
from importer.sandbox import DEMO_SECRET, Sandbox, SandboxConfig
from importer.sandbox.process import demo_connection
from importer.targets.journal import Journal
from importer.watch.config import watch_settings
from importer.watch.folders import Folder, prune
from importer.watch.lock import WatchLock, state_dir
from importer.watch.outcome import FileOutcome
from importer.watch.pickup import Pickup, refusal
from importer.watch.runner import Watcher

EMPTY = SandboxConfig(company="empty")
NOW = 1_750_000_000.0  # a fixed moment (June 2025) for the watcher's clock


# ------------------------------------------------------------ the harness


class Recorder:
    """Notifications, as the notifier is told them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.files: list[FileOutcome] = []
        self.late: list[tuple[str, float | None]] = []

    def pass_started(self) -> None:
        self.calls.append(("started", None))

    def pass_finished(self, ok: bool, reason: str = "") -> None:
        self.calls.append(("finished", (ok, reason)))

    def file_done(self, outcome: FileOutcome) -> None:
        self.calls.append(("file", outcome.status))
        self.files.append(outcome)

    def overdue(self, folder: str, doctype: str, last: float | None, every: float) -> None:
        self.calls.append(("overdue", folder))
        self.late.append((folder, last))

    def finished(self) -> list[tuple[bool, str]]:
        return [v for k, v in self.calls if k == "finished"]


class Clock:
    """The watcher's wall clock; waits move it on."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def toml_value(value: Any) -> str:
    return json.dumps(str(value) if isinstance(value, Path) else value)


def write_config(
    folder: Path,
    sb: Sandbox,
    folders: dict[str, dict[str, Any]],
    *,
    journal: str = "",
    kind: str = "test",
    **watch: Any,
) -> Path:
    """``vnimport.toml`` in ``folder``: a target ``acme`` on the sandbox,
    with its own journal, and a [watch] of ``folder/drop``."""
    conn = demo_connection(sb.url)
    root = folder / "drop"
    root.mkdir(exist_ok=True)
    lines = [
        "[targets.acme]",
        f'base_url = "{conn.base_url}"',
        f'token_url = "{conn.token_url}"',
        f'client_id = "{conn.client_id}"',
        f'tenant_id = "{conn.tenant_id}"',
        f'client_secret = "{DEMO_SECRET}"',
        f"journal = {toml_value(journal or folder / 'acme.sqlite')}",
        f'kind = "{kind}"',
        "",
        "[watch]",
        f"root = {toml_value(root)}",
        'target = "acme"',
        *(f"{k} = {toml_value(v)}" for k, v in {"settle": 0, **watch}.items()),
    ]
    for name, spec in folders.items():
        lines += ["", f"[watch.folders.{name}]"]
        lines += [f"{k} = {toml_value(v)}" for k, v in spec.items()]
    path = folder / "vnimport.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Drop:
    """A root with its vnimport.toml, and an in-process watcher of it."""

    def __init__(
        self, tmp: Path, sb: Sandbox, folders: dict[str, dict[str, Any]], **settings: Any
    ) -> None:
        self.tmp = tmp
        self.sb = sb
        self.config = write_config(tmp, sb, folders, **settings)
        self.root = tmp / "drop"
        self.notes = Recorder()
        self.clock = Clock(time.time())
        self.state = tmp / "state"
        self.waits: list[float] = []
        self.during_wait: Callable[[], None] = lambda: None

    def folder(self, name: str) -> Folder:
        return Folder(self.root / name)

    def inbox(self, name: str) -> Path:
        inbox = self.folder(name).inbox
        inbox.mkdir(parents=True, exist_ok=True)
        return inbox

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.clock.now += seconds
        self.during_wait()
        return False

    def watcher(self, connection: Any = None, **options: Any) -> Watcher:
        return Watcher(
            watch_settings(self.config, **options),
            notifier=self.notes,
            connection=connection,
            config=self.config,
            state=self.state,
            clock=self.clock,
            wait=self.wait,
        )

    def once(self, watcher: Watcher | None = None) -> int:
        return (watcher or self.watcher()).run(threading.Event(), once=True)

    def runs(self) -> list[Any]:
        if not (self.tmp / "acme.sqlite").exists():
            return []
        journal = Journal(self.tmp / "acme.sqlite", read_only=True)
        try:
            return journal.runs()
        finally:
            journal.close()

    def files(self, name: str, kind: str) -> list[str]:
        """The names in ``done/`` or ``failed/`` (every month) of a folder."""
        base = self.root / name / kind
        return sorted(p.name for p in base.glob("*/*")) if base.exists() else []


def summary(outcome: FileOutcome) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(outcome.reports["json"].read_text(encoding="utf-8"))
    return data


# ------------------------------------------------------------ pickup


@pytest.mark.parametrize(
    "name",
    [
        "~$customers.xlsx",
        ".~lock.customers.xlsx#",
        "~WRL0001.tmp",
        "~customers.csv",
        ".customers.csv",
        "._customers.xlsx",
        "customers.csv.part",
        "customers.xlsx.tmp",
        "customers.csv.partial",
        "customers.xlsx.filepart",
        "customers.xlsx.crdownload",
    ],
)
def test_lock_temporary_hidden_and_partial_names_are_never_taken(name: str) -> None:
    assert refusal(name, (".xlsx", ".csv")) is not None
    # whatever endings the settings allow
    assert refusal(name, (".xlsx", ".csv", ".tmp", ".part", ".partial", ".filepart")) is not None


def test_the_names_taken_end_as_the_settings_say_in_any_case() -> None:
    for name in ("customers.xlsx", "Kunder 2025.CSV", "a.b.csv"):
        assert refusal(name, (".xlsx", ".csv")) is None
    for name in ("customers.csv", "customers.txt", "customers"):
        assert refusal(name, (".xlsx",)) is not None


def test_in_a_real_inbox_only_whole_files_with_allowed_names_are_taken(tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb:
        drop = Drop(tmp_path, sb, {"customers": {"type": "customer"}})
        inbox = drop.inbox("customers")
        good = write_csv(tmp_path / "good.csv", CUSTOMERS).read_bytes()
        names = [
            "~$c.xlsx", ".~lock.c.xlsx#", "~WRL0001.tmp", ".c.csv", "c.csv.part",
            "c.csv.tmp", "c.partial", "c.csv.filepart", "notes.txt",
        ]  # fmt: skip
        for name in names:
            (inbox / name).write_bytes(good)
        (inbox / "empty.csv").write_bytes(b"")
        (inbox / "folder.csv").mkdir()
        assert drop.once() == 0
        assert sorted(os.listdir(inbox)) == sorted([*names, "empty.csv", "folder.csv"])
        assert sb.count("customer") == 0 and drop.runs() == []
        assert drop.notes.files == [] and drop.notes.finished() == [(True, "")]


def test_a_file_written_slowly_in_chunks_is_taken_only_when_complete(tmp_path: Path) -> None:
    rows = [*CUSTOMERS, *([f"1000{n}", f"Kunde {n}", "0"] for n in range(4, 10))]
    whole = write_csv(tmp_path / "whole.csv", rows).read_bytes()
    chunks = [whole[:40], whole[40:90], whole[90:]]
    with Sandbox(EMPTY) as sb:
        drop = Drop(tmp_path, sb, {"customers": {"type": "customer"}}, settle=5)
        target = drop.inbox("customers") / "customers.csv"
        target.write_bytes(chunks.pop(0))

        def write_on() -> None:  # the sender writes while the watcher looks away
            if chunks:
                with target.open("ab") as fh:
                    fh.write(chunks.pop(0))

        drop.during_wait = write_on
        watcher = drop.watcher()
        for _ in range(2):
            assert drop.once(watcher) == 0
            assert target.exists() and sb.count("customer") == 0
        assert chunks == []
        assert drop.once(watcher) == 0  # two looks 5 s apart saw the same file
        assert drop.waits == [5.0, 5.0, 5.0]
        assert not target.exists() and sb.count("customer") == 9
        (outcome,) = drop.notes.files
        assert outcome.status == "imported" and outcome.counts == {"created": 9}


def test_a_workbook_is_taken_once_it_opens_and_given_up_on_when_it_never_does(
    tmp_path: Path,
) -> None:
    whole = write_xlsx(tmp_path / "whole.xlsx", CUSTOMERS).read_bytes()
    with Sandbox(EMPTY) as sb:
        drop = Drop(tmp_path, sb, {"customers": {"type": "customer"}}, broken_after=600)
        inbox = drop.inbox("customers")
        cut = inbox / "customers.xlsx"
        cut.write_bytes(whole[: len(whole) // 2])  # a sender that stalled halfway
        os.utime(cut, (drop.clock.now, drop.clock.now))
        watcher = drop.watcher()
        assert drop.once(watcher) == 0 and cut.exists()  # holds still, but is no workbook yet
        cut.write_bytes(whole)
        assert drop.once(watcher) == 0 and not cut.exists()
        assert sb.count("customer") == 3

        stuck = inbox / "stuck.xlsx"
        stuck.write_bytes(whole[:100])
        os.utime(stuck, (drop.clock.now, drop.clock.now))
        assert drop.once(watcher) == 0 and stuck.exists()
        drop.clock.now += 600
        assert drop.once(watcher) == 1 and not stuck.exists()
        outcome = drop.notes.files[-1]
        assert outcome.status == "refused" and outcome.moved_to is not None
        assert outcome.moved_to.parent.parent == drop.folder("customers").failed
        assert "does not open as a workbook" in summary(outcome)["fatal"]["message"]


# ------------------------------------------------------------ imports, re-drops


def test_a_file_is_imported_into_done_with_its_report_and_said(tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb:
        drop = Drop(tmp_path, sb, {"customers": {"type": "customer"}})
        write_xlsx(drop.inbox("customers") / "customers.xlsx", CUSTOMERS)
        assert drop.once() == 0
        assert sb.count("customer") == 3
    (outcome,) = drop.notes.files
    (run,) = drop.runs()
    assert outcome.status == "imported" and outcome.run_id == run.id
    assert outcome.counts == {"created": 3} and outcome.company == "acme"
    month = time.strftime("%Y-%m", time.localtime(drop.clock.now))
    assert drop.files("customers", "done") == sorted(
        f"customers.{run.id}.{end}" for end in ("xlsx", "report.xlsx", "report.csv", "report.json")
    )
    assert outcome.moved_to == drop.folder("customers").done / month / f"customers.{run.id}.xlsx"
    assert summary(outcome)["counts"] == {"created": 3}
    assert os.listdir(drop.folder("customers").processing / ".reports") == []
    assert [k for k, _ in drop.notes.calls] == ["started", "file", "finished"]
    assert drop.notes.finished() == [(True, "")]


def test_the_same_bytes_dropped_again_send_nothing(tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb:
        drop = Drop(tmp_path, sb, {"customers": {"type": "customer"}})
        source = write_csv(tmp_path / "customers.csv", CUSTOMERS)
        shutil.copy(source, drop.inbox("customers") / "customers.csv")
        assert drop.once() == 0
        (first,) = drop.runs()
        shutil.copy(source, drop.inbox("customers") / "customers.csv")  # dropped again
        assert drop.once() == 0
        assert drop.runs() == [first]  # no run: nothing was sent, nothing looked up
        assert sb.count("customer") == 3
    again = drop.notes.files[-1]
    assert again.status == "duplicate" and again.run_id == first.id
    assert again.message == f"already imported in run {first.id}: nothing sent"
    assert again.moved_to is not None and again.moved_to.parent.parent.name == "done"
    assert summary(again)["already_imported"] == first.id
    assert len([n for n in drop.files("customers", "done") if n.endswith(".csv")]) == 4


def test_a_root_that_goes_away_while_watched_fails_the_pass_and_is_never_made_anew(
    tmp_path: Path,
) -> None:
    with Sandbox(EMPTY) as sb:
        drop = Drop(tmp_path, sb, {"customers": {"type": "customer"}})
        watcher = drop.watcher()
        assert drop.once(watcher) == 0
        drop.root.rename(tmp_path / "unmounted")  # a share that went away
        assert drop.once(watcher) == 2
        assert not drop.root.exists()
    assert "the root is gone" in drop.notes.finished()[-1][1]


def test_the_same_bytes_in_another_mode_are_run_again(tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb:
        drop = Drop(tmp_path, sb, {"customers": {"type": "customer"}})
        source = write_csv(tmp_path / "customers.csv", CUSTOMERS)
        shutil.copy(source, drop.inbox("customers") / "customers.csv")
        assert drop.once() == 0
        other = Drop(tmp_path, sb, {"customers": {"type": "customer", "mode": "upsert"}})
        shutil.copy(source, other.inbox("customers") / "customers.csv")
        assert other.once() == 0
        assert len(other.runs()) == 2  # run, not "already imported": the journal decides
        assert sb.count("customer") == 3
    assert other.notes.files[-1].status == "imported"


def test_a_changed_file_sends_only_what_changed(tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb:
        drop = Drop(tmp_path, sb, {"customers": {"type": "customer", "mode": "upsert"}})
        write_csv(drop.inbox("customers") / "customers.csv", CUSTOMERS)
        assert drop.once() == 0
        changed = [row[:] for row in CUSTOMERS] + [["10004", "Delta AS", "100"]]
        changed[2][1] = "Beta Holding AS"
        write_csv(drop.inbox("customers") / "customers.csv", changed)
        assert drop.once() == 0
        assert sb.count("customer") == 4
        names = {c["number"]: c["name"] for c in sb.documents("customer")}
    assert drop.notes.files[-1].counts == {"created": 1, "updated": 1, "unchanged": 2}
    assert names["10002"] == "Beta Holding AS"


def test_a_failed_file_goes_to_failed_with_its_report_and_fixme_and_a_fixed_redrop_sends_the_rest(
    tmp_path: Path,
) -> None:
    rows = [INVOICES, invoice("F-1"), invoice("F-2", customer="99999"), invoice("F-3")]
    with Sandbox() as sb:
        drop = Drop(tmp_path, sb, {"invoices": {"type": "customer_invoice"}})
        source = write_csv(tmp_path / "invoices.csv", rows)
        shutil.copy(source, drop.inbox("invoices") / "invoices.csv")
        assert drop.once() == 1
        failed = drop.notes.files[-1]
        assert failed.status == "failed" and failed.counts == {"created": 2, "failed": 1}
        assert failed.moved_to is not None
        assert failed.moved_to.parent.parent == drop.folder("invoices").failed
        assert set(failed.reports) == {"xlsx", "csv", "json", "fixme"}
        assert all(p.parent == failed.moved_to.parent for p in failed.reports.values())
        assert failed.problems and "F-2" in failed.problems[0]
        assert drop.notes.finished()[-1][0] is False
        assert "invoices/invoices.csv: failed" in drop.notes.finished()[-1][1]

        # the customer is made in Visma; the same bytes dropped again send what failed
        header = ["Customer number", "Customer name"]
        customer = write_csv(tmp_path / "c.csv", [header, ["99999", "Nye Kunde AS"]])
        run_job(Job(customer, "customer", journal=str(tmp_path / "other.sqlite")),
                connection=demo_connection(sb.url))  # fmt: skip
        shutil.copy(source, drop.inbox("invoices") / "invoices.csv")
        assert drop.once() == 0
        refs = sorted(d["externalReference"] for d in sb.documents("customer_invoice"))
    assert refs == ["F-1", "F-2", "F-3"]
    assert drop.notes.files[-1].counts == {"created": 1, "unchanged": 2}


def test_a_file_that_cannot_be_read_is_refused_with_a_report(tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb:
        drop = Drop(tmp_path, sb, {"customers": {"type": "customer"}})
        write_csv(drop.inbox("customers") / "odd.csv", [["Colour", "Size"], ["red", "L"]])
        assert drop.once() == 1
    (outcome,) = drop.notes.files
    assert outcome.status == "refused" and outcome.message
    assert summary(outcome)["fatal"]["code"] == "column-error"
    assert drop.files("customers", "failed")


def test_visma_out_of_reach_is_a_failure_and_the_file_is_resumed(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing answers on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    with Sandbox(EMPTY) as sb:
        drop = Drop(tmp_path, sb, {"customers": {"type": "customer"}})
        write_csv(drop.inbox("customers") / "a.csv", CUSTOMERS)
        write_csv(drop.inbox("customers") / "b.csv", [CUSTOMERS[0], ["10009", "Z AS", "1"]])
        os.utime(drop.inbox("customers") / "a.csv", (NOW, NOW))
        os.utime(drop.inbox("customers") / "b.csv", (NOW + 10, NOW + 10))  # b after a
        away = replace(demo_connection(sb.url), base_url=dead, token_url=f"{dead}/token")
        assert drop.once(drop.watcher(connection=away)) == 2  # could not run: not "0 imported"
        assert drop.notes.files == []
        ok, reason = drop.notes.finished()[-1]
        assert not ok and "could not run" in reason and "a.csv" in reason
        assert (drop.folder("customers").processing / "a.csv").exists()
        assert (drop.inbox("customers") / "b.csv").exists()  # not taken while Visma is away
        assert drop.once() == 0
        assert sb.count("customer") == 4
    assert [(o.file, o.status) for o in drop.notes.files] == [
        ("a.csv", "imported"), ("b.csv", "imported"),
    ]  # fmt: skip


def test_a_production_company_refuses_a_file_no_test_run_took(tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb:
        drop = Drop(tmp_path, sb, {"customers": {"type": "customer"}}, kind="production")
        write_csv(drop.inbox("customers") / "c.csv", CUSTOMERS)
        assert drop.once() == 1  # nobody is asked: the file is refused, saying how on
        assert sb.count("customer") == 0
    (outcome,) = drop.notes.files
    assert outcome.status == "refused" and "untested_files" in outcome.message
    assert drop.files("customers", "failed")


def test_a_notification_that_fails_never_stops_the_watcher(tmp_path: Path) -> None:
    class Broken(Recorder):
        def file_done(self, outcome: FileOutcome) -> None:
            raise OSError("the mail server is down")

    said: list[str] = []
    with Sandbox(EMPTY) as sb:
        drop = Drop(tmp_path, sb, {"customers": {"type": "customer"}})
        write_csv(drop.inbox("customers") / "a.csv", CUSTOMERS)
        watcher = Watcher(
            watch_settings(drop.config), notifier=Broken(), config=drop.config,
            state=drop.state, say=said.append,
        )  # fmt: skip
        assert watcher.run(threading.Event(), once=True) == 0
        assert sb.count("customer") == 3
    assert drop.files("customers", "done")
    assert any("a notification failed: OSError: the mail server is down" in s for s in said)


# ------------------------------------------------------------ time: expectations, retention


def test_a_folder_without_a_file_in_time_is_said_once_per_wait(tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb:
        drop = Drop(
            tmp_path, sb, {"customers": {"type": "customer", "expect_every": 100}, "suppliers":
                           {"type": "supplier"}},
        )  # fmt: skip
        drop.clock.now = NOW
        assert drop.once() == 0 and drop.notes.late == []  # counted from the first pass
        drop.clock.now = NOW + 99
        assert drop.once() == 0 and drop.notes.late == []
        drop.clock.now = NOW + 100
        assert drop.once() == 0  # overdue is said, and is no failure of the pass
        assert drop.notes.late == [("customers", None)]
        drop.clock.now = NOW + 150
        drop.once(drop.watcher())  # a new process (cron) remembers it was said
        assert len(drop.notes.late) == 1
        drop.clock.now = NOW + 200
        drop.once()
        assert drop.notes.late == [("customers", None)] * 2
        write_csv(drop.inbox("customers") / "c.csv", CUSTOMERS)
        drop.clock.now = NOW + 210
        assert drop.once() == 0 and len(drop.notes.late) == 2
        drop.clock.now = NOW + 310
        drop.once()
    assert drop.notes.late[-1] == ("customers", NOW + 210)


def test_done_keeps_files_as_long_as_configured_and_failed_keeps_them(tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb:
        drop = Drop(tmp_path, sb, {"customers": {"type": "customer"}}, keep_done_days=30)
        drop.clock.now = NOW
        write_csv(drop.inbox("customers") / "good.csv", CUSTOMERS)
        write_csv(drop.inbox("customers") / "bad.csv", [["Colour"], ["red"]])
        drop.once()
        assert len(drop.files("customers", "done")) == 4
        drop.clock.now = NOW + 29 * 86400
        drop.once()
        assert len(drop.files("customers", "done")) == 4
        drop.clock.now = NOW + 31 * 86400
        drop.once()
    assert drop.files("customers", "done") == [] and drop.files("customers", "failed")
    assert list(drop.folder("customers").done.iterdir()) == []  # the empty month went too


def test_prune_with_no_limit_keeps_everything_and_never_touches_a_file_of_someone_else(
    tmp_path: Path,
) -> None:
    (tmp_path / "2020-01").mkdir()
    ours = tmp_path / "2020-01" / "x.20200105-021503-1a2b3c4d.csv"
    notes = tmp_path / "2020-01" / "notes-by-the-operator.txt"
    for path in (ours, notes):
        path.write_text("a")
        os.utime(path, (0, 0))
    assert prune(tmp_path, 0, NOW) == []
    assert prune(tmp_path, 1, NOW) == [ours]
    assert notes.exists()


def test_a_long_dropped_name_gets_names_the_file_system_takes(tmp_path: Path) -> None:
    from importer.watch.folders import finish

    long = "æ" * 200 + ".csv"  # 400 bytes of UTF-8: more than a file name may have
    (tmp_path / "in").mkdir()
    src = tmp_path / "in" / "x.csv"
    src.write_text("a")
    report = tmp_path / "in" / "r.json"
    report.write_text("{}")
    moved, paths = finish(src, {"json": report}, tmp_path, long, "20200105-021503-1a2b3c4d", NOW)
    assert moved.exists() and len(moved.name.encode()) < 200 and moved.name.endswith(".csv")
    assert paths["json"].exists() and moved.name.startswith("æææ")


def test_remembered_looks_take_a_still_file_without_waiting_again(tmp_path: Path) -> None:
    clock = Clock()
    waits: list[float] = []
    pickup = Pickup((".csv",), 5, clock=clock)
    path = write_csv(tmp_path / "a.csv", CUSTOMERS)
    assert pickup.ready([path], lambda s: bool(waits.append(s)) or True) == ([], [])
    clock.now += 60  # the next pass of a watcher that polls
    assert pickup.ready([path], lambda s: bool(waits.append(s))) == ([path], [])
    assert waits == [5.0]


# ------------------------------------------------------------ settings


def test_every_problem_of_the_watch_settings_is_said_at_once(tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb:
        config = write_config(
            tmp_path,
            sb,
            {
                "customers": {"type": "custmer", "mapping": "maps/none.toml"},
                "bills": {"type": "supplier_invoice", "mode": "insert", "expect_evry": 5},
                "orders": {"mode": "create"},
            },
            intervall=5,
            interval=0,
            settle=-1,
            extensions=["xlsx"],
        )
        with pytest.raises(ConfigError) as caught:
            watch_settings(config)
        said = str(caught.value)
        for words in (
            "unknown key 'intervall' (did you mean 'interval'?)",
            "settle must be a number of seconds (0 or more)",
            "[watch]: interval must be a number of seconds above 0",
            "extensions: each is a file name's ending with its dot",
            '[watch.folders.bills]: mode is "create", "update", "upsert", not \'insert\'',
            "[watch.folders.bills]: unknown key 'expect_evry' (did you mean 'expect_every'?)",
            "[watch.folders.orders]: missing type",
        ):
            assert words in said, words
        config.write_text(
            config.read_text().replace("intervall = 5\n", "").replace("interval = 0\n", "")
            .replace("settle = -1", "settle = 0")
            .replace('["xlsx"]', '[".xlsx"]').replace('mode = "insert"\nexpect_evry = 5', "")
            .replace('[watch.folders.orders]\nmode = "create"', "")
            .replace(f"root = {toml_value(tmp_path / 'drop')}", 'root = "nowhere"')
        )  # fmt: skip
        with pytest.raises(ConfigError) as caught:
            watch_settings(config)
        said = str(caught.value)
        assert "root in [watch]" in said and "nowhere is not a folder" in said
        assert "[watch.folders.customers]" in said and "'customer'" in said  # the closest type
        assert "cannot read the mapping file" in said and "none.toml" in said
        with pytest.raises(ConfigError, match="no target 'acne'"):
            watch_settings(config, root=tmp_path, target="acne")
        with pytest.raises(ConfigError, match="--interval must be a number of seconds above 0"):
            watch_settings(config, root=tmp_path, interval=0)


def test_a_watch_table_is_checked_by_every_command(tmp_path: Path) -> None:
    (tmp_path / "vnimport.toml").write_text(
        '[watch]\nroot = 5\n[watch.folders.x]\ntype = "customer"\n'
    )
    write_csv(tmp_path / "c.csv", CUSTOMERS)
    proc = vnimport("run", "c.csv", "--type", "customer", cwd=tmp_path)
    assert proc.returncode == 2 and "[watch]: root must be text" in proc.stderr


def test_the_example_of_the_page_is_what_the_watcher_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = (ROOT / "docs" / "watch.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```toml\n(.*?)```", page, flags=re.S)
    (tmp_path / "vnimport.toml").write_text(example, encoding="utf-8")
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "customers.toml").write_text('[columns]\n"Kundenr" = "number"\n')
    monkeypatch.setenv("ACME_SECRET", "s")
    settings = watch_settings(tmp_path / "vnimport.toml", root=tmp_path)
    customers, invoices = settings.folders
    assert (customers.doctype, customers.mode) == ("customer", "upsert")
    assert customers.mapping == tmp_path / "maps" / "customers.toml"
    assert invoices.release and invoices.expect_every == 86400
    assert settings.target == "acme" and settings.broken_after == 3600


def test_options_beat_the_watch_table(tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb:
        config = write_config(tmp_path, sb, {"c": {"type": "customer"}}, interval=30)
        other = tmp_path / "other"
        other.mkdir()
        settings = watch_settings(config, root=other, interval=5, settle=2)
    assert (settings.root, settings.interval, settings.settle) == (other, 5.0, 2.0)
    assert settings.extensions == (".xlsx", ".csv") and settings.keep_done_days == 90


# ------------------------------------------------------------ processes: locks, kills, stops


def env_for_watch(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNIMPORT_")}
    env["XDG_STATE_HOME"] = str(tmp / "state")
    env["VNIMPORT_JOURNAL"] = str(tmp / "default.sqlite")
    return env


STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_process_left() -> Iterator[None]:
    """Every process a test started ends with it, its pipe closed."""
    yield
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
        proc.wait(LONG)
        if proc.stderr is not None:
            proc.stderr.close()


def start(argv: list[str], tmp: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "importer", *argv],
        cwd=tmp, env=env_for_watch(tmp), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    STARTED.append(proc)
    return proc


def start_watch(tmp: Path, *options: str) -> subprocess.Popen[str]:
    return start(["watch", *options], tmp)


def read_until(stream: IO[str] | None, words: str) -> list[str]:
    """The lines of a process's stderr, up to one that holds ``words``."""
    assert stream is not None
    lines = []
    for line in stream:
        lines.append(line)
        if words in line:
            return lines
    raise AssertionError(f"never said {words!r}: {''.join(lines)}")


@pytest.fixture
def demo() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def test_a_watcher_killed_mid_file_is_resumed_every_document_once(
    tmp_path: Path, demo: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path, demo, {"invoices": {"type": "customer_invoice"}})
    inbox = Folder(tmp_path / "drop" / "invoices").inbox
    inbox.mkdir(parents=True)
    refs = [f"W-{n:03}" for n in range(1, 301)]
    write_csv(inbox / "big.csv", [INVOICES, *(invoice(r) for r in refs)])
    hold = Hold(monkeypatch, "create", n=150)
    proc = start_watch(tmp_path, "--once")
    try:
        assert hold.reached.wait(LONG), "the watcher never came to the 150th invoice"
        proc.send_signal(signal.SIGKILL)
        proc.wait(LONG)
    finally:
        hold.go.set()
    processing = Folder(tmp_path / "drop" / "invoices").processing
    assert (processing / "big.csv").exists()  # where the next start takes it up
    assert 150 <= demo.count("customer_invoice") < 300

    again = vnimport("watch", "--once", cwd=tmp_path, env=env_for_watch(tmp_path))
    assert again.returncode == 0, again.stderr
    assert "resuming big.csv" in again.stderr
    made = sorted(d["externalReference"] for d in demo.documents("customer_invoice"))
    assert made == refs  # every document exactly once
    assert not (processing / "big.csv").exists()
    (report,) = (tmp_path / "drop" / "invoices" / "done").glob("*/big.*.report.json")
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["rows"] == 300 and data["ok"] and sum(data["counts"].values()) == 300
    assert set(data["counts"]) <= {"created", "unchanged", "exists in Visma"}


def test_sigterm_finishes_the_document_in_flight_and_leaves_the_file_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [CUSTOMERS[0], *([f"2{n:04}", f"Kunde {n}", "0"] for n in range(40))]
    with Sandbox(EMPTY) as sb:
        write_config(tmp_path, sb, {"customers": {"type": "customer"}})
        folder = Folder(tmp_path / "drop" / "customers")
        folder.inbox.mkdir(parents=True)
        write_csv(folder.inbox / "c.csv", rows)
        hold = Hold(monkeypatch, "create", n=3)
        proc = start_watch(tmp_path, "--once")
        try:
            assert hold.reached.wait(LONG)
            proc.send_signal(signal.SIGTERM)
            read_until(proc.stderr, "SIGTERM: stopping")
        finally:
            hold.go.set()
        said = "".join(read_until(proc.stderr, "pass done"))
        assert proc.wait(LONG) == 1, said
        assert "stays in processing/" in said
        assert (folder.processing / "c.csv").exists()
        (report,) = folder.reports.glob("*.report.json")
        counts = json.loads(report.read_text(encoding="utf-8"))["counts"]
        assert counts["not sent"] and counts.get("created", 0) == sb.count("customer")

        again = vnimport("watch", "--once", cwd=tmp_path, env=env_for_watch(tmp_path))
        assert again.returncode == 0, again.stderr
        assert sb.count("customer") == 40
        assert not (folder.processing / "c.csv").exists()


def test_a_second_watcher_of_a_root_refuses_to_start(tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb:
        write_config(tmp_path, sb, {"customers": {"type": "customer"}}, interval=3600)
        first = start_watch(tmp_path)
        try:
            read_until(first.stderr, "watching")
            second = vnimport("watch", "--once", cwd=tmp_path, env=env_for_watch(tmp_path))
            assert second.returncode == 2
            assert "another watcher is watching" in second.stderr
            assert f"pid {first.pid}" in second.stderr
            # a second name for the same folder is the same root
            (tmp_path / "alias").symlink_to(tmp_path / "drop")
            third = vnimport("watch", "alias", "--once", cwd=tmp_path, env=env_for_watch(tmp_path))
            assert third.returncode == 2 and "another watcher" in third.stderr
        finally:
            first.send_signal(signal.SIGTERM)
            assert first.wait(LONG) == 0  # stopped between passes: a clean exit
        after = vnimport("watch", "--once", cwd=tmp_path, env=env_for_watch(tmp_path))
        assert after.returncode == 0, after.stderr


def test_the_lock_is_on_the_local_disk_keyed_on_the_real_path(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "root")
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    assert state_dir(tmp_path / "link", env) == state_dir(tmp_path / "root", env)
    assert state_dir(tmp_path / "root", env).is_relative_to(tmp_path / "state" / "vnimport")
    with WatchLock(tmp_path / "root", state_dir(tmp_path / "root", env)):
        with pytest.raises(ConfigError, match="another watcher"):
            WatchLock(tmp_path / "link", state_dir(tmp_path / "link", env)).acquire()
        assert os.listdir(tmp_path / "root") == []  # nothing written in the watched folder
    with WatchLock(tmp_path / "root", state_dir(tmp_path / "root", env)):
        pass  # released: taken again


def test_with_a_journal_in_postgresql_the_root_is_locked_there_too(
    tmp_path: Path, postgres: str
) -> None:
    from postgres import fresh_database

    url = fresh_database(postgres, "watchlock")
    root = tmp_path / "root"
    root.mkdir()
    with WatchLock(root, tmp_path / "machine-a", url):
        # another machine: its own local state, the same journal
        with pytest.raises(ConfigError, match="holds the lock in the journal"):
            WatchLock(root, tmp_path / "machine-b", url, machine=tmp_path / "b").acquire()
        WatchLock(tmp_path, tmp_path / "machine-c", url).release()  # another root: free
        with pytest.raises(ConfigError, match="another user's, or one with another state"):
            WatchLock(root, tmp_path / "user-b", "").acquire()  # this machine, another user
    with WatchLock(root, tmp_path / "machine-b", url, machine=tmp_path / "b"):
        pass


def test_a_watcher_with_its_journal_in_postgresql(tmp_path: Path, postgres: str) -> None:
    from postgres import fresh_database

    url = fresh_database(postgres, "watchjournal")
    with Sandbox(EMPTY) as sb:
        drop = Drop(tmp_path, sb, {"customers": {"type": "customer"}}, journal=url)
        source = write_csv(tmp_path / "customers.csv", CUSTOMERS)
        shutil.copy(source, drop.inbox("customers") / "customers.csv")
        assert drop.once() == 0 and sb.count("customer") == 3
        shutil.copy(source, drop.inbox("customers") / "customers.csv")
        elsewhere = WatchLock(
            drop.root, tmp_path / "another-machine", url, machine=tmp_path / "another-tmp"
        )
        with elsewhere, pytest.raises(ConfigError, match="holds the lock in the journal"):
            drop.once()
        assert drop.once() == 0
    assert [o.status for o in drop.notes.files] == ["imported", "duplicate"]
    ok, reason = drop.notes.finished()[1]
    assert not ok and "could not run: another watcher" in reason


def test_a_manual_run_beside_the_watcher_sends_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Sandbox(EMPTY) as sb:
        write_config(tmp_path, sb, {"customers": {"type": "customer"}})
        folder = Folder(tmp_path / "drop" / "customers")
        folder.inbox.mkdir(parents=True)
        source = write_csv(tmp_path / "customers.csv", CUSTOMERS)
        shutil.copy(source, folder.inbox / "customers.csv")
        hold = Hold(monkeypatch, "create", n=1)
        watcher = start_watch(tmp_path, "--once")
        try:
            assert hold.reached.wait(LONG)
            manual = start(["run", str(source), "--type", "customer", "--target", "acme"], tmp_path)
        finally:
            hold.go.set()
        assert manual.wait(LONG) in (0, 1)
        assert watcher.wait(LONG) in (0, 1)
        assert sorted(c["number"] for c in sb.documents("customer")) == ["10001", "10002", "10003"]


def test_the_notifications_are_told_each_pass_and_each_file(tmp_path: Path) -> None:
    from hostile import Server

    hooks = Server(lambda handler, method, body: (200, {}, {}))
    try:
        with Sandbox(EMPTY) as sb:
            config = write_config(tmp_path, sb, {"customers": {"type": "customer"}})
            with config.open("a", encoding="utf-8") as fh:
                fh.write(
                    f'\n[watch.notify]\nwhen = "always"\nwebhook = "{hooks.url}/hook"\n'
                    f'\n[watch.health]\nstart = "{hooks.url}/start"\n'
                    f'success = "{hooks.url}/ok"\nfail = "{hooks.url}/fail"\n'
                )
            inbox = Folder(tmp_path / "drop" / "customers").inbox
            inbox.mkdir(parents=True)
            env = env_for_watch(tmp_path)
            write_csv(inbox / "good.csv", CUSTOMERS)
            assert vnimport("watch", "--once", cwd=tmp_path, env=env).returncode == 0
            first = [(m, p) for m, p, _ in hooks.requests]
            hooks.requests.clear()
            write_csv(inbox / "bad.csv", [["Customer number", "Customer name"], ["1", ""]])
            assert vnimport("watch", "--once", cwd=tmp_path, env=env).returncode == 1
            second = [(m, p) for m, p, _ in hooks.requests]
    finally:
        hooks.close()
    assert first == [("GET", "/start"), ("POST", "/hook"), ("GET", "/ok")]
    assert second == [("GET", "/start"), ("POST", "/hook"), ("POST", "/fail")]
    fail_body = hooks.requests[-1][2].decode()
    assert "customers/bad.csv: failed" in fail_body


def test_the_watchers_runs_are_listed_like_any_other(tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb:
        write_config(tmp_path, sb, {"customers": {"type": "customer"}})
        folder = Folder(tmp_path / "drop" / "customers")
        folder.inbox.mkdir(parents=True)
        write_csv(folder.inbox / "customers.csv", CUSTOMERS)
        env = env_for_watch(tmp_path)
        done = vnimport("watch", "--once", cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        listed = vnimport("runs", "--target", "acme", "--json", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    (run,) = json.loads(listed.stdout)
    assert run["doctype"] == "customer" and run["counts"] == {"created": 3}
    assert run["file"].endswith("customers.csv") and run["outcome"] == "done"
    assert DEMO_SECRET not in done.stderr + listed.stdout
